package keys_test

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/psykosocial/exchange/internal/clock"
	"github.com/psykosocial/exchange/internal/keys"
)

// The small interfaces consumers declare (envelope, xmlsig, journal,
// store); both providers must keep satisfying them.
type (
	signerSource interface {
		Signer(ctx context.Context, purpose keys.Purpose) (crypto.Signer, error)
	}
	decrypterSource interface {
		Decrypters(ctx context.Context) ([]crypto.PrivateKey, error)
	}
	hmacSource interface {
		HMACSecret(ctx context.Context) ([]byte, error)
	}
	tlsSource interface {
		TLSCertificate(ctx context.Context) (tls.Certificate, error)
	}
	dataKeySource interface {
		NewDataKey(ctx context.Context) (plaintext, wrapped []byte, err error)
		UnwrapDataKey(ctx context.Context, wrapped []byte) ([]byte, error)
	}
	reloader interface {
		Reload(ctx context.Context) error
	}
)

var (
	_ signerSource    = (*keys.FileProvider)(nil)
	_ decrypterSource = (*keys.FileProvider)(nil)
	_ hmacSource      = (*keys.FileProvider)(nil)
	_ tlsSource       = (*keys.FileProvider)(nil)
	_ dataKeySource   = (*keys.FileProvider)(nil)
	_ reloader        = (*keys.FileProvider)(nil)

	_ signerSource    = (*keys.VaultProvider)(nil)
	_ decrypterSource = (*keys.VaultProvider)(nil)
	_ hmacSource      = (*keys.VaultProvider)(nil)
	_ dataKeySource   = (*keys.VaultProvider)(nil)
	_ reloader        = (*keys.VaultProvider)(nil)

	_ crypto.Signer = (*keys.TransitSigner)(nil)
	_ error         = (*keys.FileError)(nil)
	_ error         = (*keys.VaultError)(nil)
)

// A development key set, loaded and used to sign a journal checkpoint.
func ExampleNewFileProvider() {
	dir, err := os.MkdirTemp("", "keys-example-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	if _, err := keys.Generate(dir, clock.Fixed(time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC))); err != nil {
		panic(err)
	}

	p, err := keys.NewFileProvider(keys.FileConfig{Dir: dir})
	if err != nil {
		panic(err)
	}
	s, err := p.Signer(context.Background(), keys.PurposeJournalCheckpoint)
	if err != nil {
		panic(err)
	}
	note := []byte("psykosocial.example/journal\n1\nAAAA\n")
	sig, err := s.Sign(nil, note, crypto.Hash(0))
	if err != nil {
		panic(err)
	}
	fmt.Println("checkpoint signature verifies:", ed25519.Verify(s.Public().(ed25519.PublicKey), note, sig))

	// A key file that others may read is refused, naming the file and its mode.
	os.Chmod(filepath.Join(dir, keys.FileJournalKey), 0o644)
	_, err = keys.NewFileProvider(keys.FileConfig{Dir: dir})
	var fe *keys.FileError
	fmt.Println(errors.Is(err, keys.ErrInsecureFile), errors.As(err, &fe) && filepath.Base(fe.Path) == keys.FileJournalKey, fe.Mode)
	// Output:
	// checkpoint signature verifies: true
	// true true -rw-r--r--
}
