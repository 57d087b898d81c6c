package keys

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/psykosocial/exchange/internal/clock"
)

// testNow is the pinned clock of the key tests.
var testNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// devDir is one Generate'd key directory shared by the tests that copy
// it (RSA key generation is the slow part).
var devDir = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "keys-test-")
	if err != nil {
		return "", err
	}
	_, err = Generate(filepath.Join(dir, "keys"), clock.Fixed(testNow))
	return filepath.Join(dir, "keys"), err
})

func TestMain(m *testing.M) {
	code := m.Run()
	if dir, err := devDir(); err == nil {
		os.RemoveAll(filepath.Dir(dir))
	}
	os.Exit(code)
}

// copyDevDir returns a fresh copy of the generated key directory.
func copyDevDir(t *testing.T) string {
	t.Helper()
	src, err := devDir()
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "keys")
	if err := os.Mkdir(dst, 0o700); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dst, e.Name()), b, 0o600)
	}
	return dst
}

func newProvider(t *testing.T, dir string) *FileProvider {
	t.Helper()
	p, err := NewFileProvider(FileConfig{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func writeFile(t *testing.T, path string, data []byte, mode fs.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, data, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // umask
		t.Fatal(err)
	}
}

func pkcs8PEM(t *testing.T, k crypto.PrivateKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func newP256(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestGenerateWritesAPrivateDevelopmentSet(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	created, err := Generate(dir, clock.Fixed(testNow))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{FileSigningKey, FileSigningRSAKey, FileDecryptionKey, FileJournalKey, FileHMACSecret, FileKEK, FileTLSKey, FileTLSCertificate}
	if !slices.Equal(created, want) {
		t.Errorf("created %v, want %v", created, want)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o700 {
		t.Errorf("directory mode %04o, want 0700", perm)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		if perm := info.Mode().Perm(); perm != 0o600 {
			t.Errorf("%s: mode %04o, want 0600", e.Name(), perm)
		}
		if strings.HasPrefix(e.Name(), ".tmp-") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
	if len(entries) != len(want) {
		t.Errorf("%d files in the directory, want %d", len(entries), len(want))
	}
	// The self-signed TLS certificate is dated by the injected clock.
	certPEM, err := os.ReadFile(filepath.Join(dir, FileTLSCertificate))
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(certPEM)
	if blk == nil {
		t.Fatal("no PEM block in the TLS certificate file")
	}
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if !cert.NotBefore.Equal(testNow.Add(-time.Hour)) || !cert.NotAfter.Equal(testNow.Add(devTLSValidity)) {
		t.Errorf("TLS certificate valid %v to %v, want from an hour before %v", cert.NotBefore, cert.NotAfter, testNow)
	}

	// A second run writes nothing and changes nothing.
	before, _ := os.ReadFile(filepath.Join(dir, FileSigningKey))
	again, err := Generate(dir, clock.Fixed(testNow))
	if err != nil {
		t.Fatal(err)
	}
	if len(again) != 0 {
		t.Errorf("second run created %v", again)
	}
	after, _ := os.ReadFile(filepath.Join(dir, FileSigningKey))
	if !bytes.Equal(before, after) {
		t.Error("second run changed signing.key.pem")
	}

	// A deleted file is recreated alone.
	if err := os.Remove(filepath.Join(dir, FileJournalKey)); err != nil {
		t.Fatal(err)
	}
	again, err = Generate(dir, clock.Fixed(testNow))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(again, []string{FileJournalKey}) {
		t.Errorf("recreated %v, want only %s", again, FileJournalKey)
	}

	if _, err := Generate("", clock.Fixed(testNow)); err == nil {
		t.Error("Generate(\"\") succeeded")
	}
	if _, err := Generate(t.TempDir(), nil); !errors.Is(err, ErrNotConfigured) {
		t.Errorf("Generate without a clock: %v, want ErrNotConfigured", err)
	}
}

func TestFileProviderServesEveryPurpose(t *testing.T) {
	ctx := context.Background()
	p := newProvider(t, copyDevDir(t))
	digest := sha256.Sum256([]byte("registration"))

	s, err := p.Signer(ctx, PurposeMessageSigning)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := s.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	pub, ok := s.Public().(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() || !ecdsa.VerifyASN1(pub, digest[:], sig) {
		t.Errorf("message-signing: %T does not verify an ES256 DER signature", s.Public())
	}

	s, err = p.Signer(ctx, PurposeMessageSigningRSA)
	if err != nil {
		t.Fatal(err)
	}
	pss := &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256}
	sig, err = s.Sign(rand.Reader, digest[:], pss)
	if err != nil {
		t.Fatal(err)
	}
	rpub, ok := s.Public().(*rsa.PublicKey)
	if !ok || rpub.N.BitLen() != devRSABits || rsa.VerifyPSS(rpub, crypto.SHA256, digest[:], sig, pss) != nil {
		t.Errorf("message-signing-rsa: not an RSA-%d PS256 signer", devRSABits)
	}

	s, err = p.Signer(ctx, PurposeJournalCheckpoint)
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("gateway.example/journal\n42\nabc=\n")
	sig, err = s.Sign(rand.Reader, msg, crypto.Hash(0))
	if err != nil {
		t.Fatal(err)
	}
	if epub, ok := s.Public().(ed25519.PublicKey); !ok || !ed25519.Verify(epub, msg, sig) {
		t.Error("journal-checkpoint: not an Ed25519 signer")
	}

	if _, err := p.Signer(ctx, PurposeTLS); !errors.Is(err, ErrUnsupported) {
		t.Errorf("Signer(tls) = %v, want ErrUnsupported", err)
	}

	decs, err := p.Decrypters(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(decs) != 1 {
		t.Fatalf("%d decryption keys, want 1", len(decs))
	}
	if _, ok := decs[0].(*ecdsa.PrivateKey); !ok {
		t.Errorf("decryption key is %T, want *ecdsa.PrivateKey", decs[0])
	}

	sec, err := p.HMACSecret(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(sec) != 32 {
		t.Errorf("HMAC secret of %d bytes, want 32", len(sec))
	}
	sec[0] ^= 0xff // the caller's copy; the provider's stays
	sec2, _ := p.HMACSecret(ctx)
	if sec[0] == sec2[0] {
		t.Error("HMACSecret returned the provider's own slice")
	}

	c, err := p.TLSCertificate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c.Leaf == nil || !slices.Contains(c.Leaf.DNSNames, "localhost") {
		t.Error("TLS certificate is not the development localhost certificate")
	}

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := p.Signer(cctx, PurposeMessageSigning); !errors.Is(err, context.Canceled) {
		t.Errorf("Signer with a cancelled context = %v", err)
	}
}

func TestFileProviderRefusesReadableKeyFiles(t *testing.T) {
	files := []string{FileSigningKey, FileSigningRSAKey, FileDecryptionKey, FileJournalKey, FileHMACSecret, FileKEK, FileTLSKey}
	modes := []struct {
		mode fs.FileMode
		ok   bool
	}{
		{0o600, true},
		{0o400, true},
		{0o700, true},
		{0o640, false},
		{0o604, false},
		{0o644, false},
		{0o660, false},
		{0o620, false},
		{0o602, false},
		{0o610, false},
		{0o601, false},
		{0o666, false},
	}
	dir := copyDevDir(t)
	for _, name := range files {
		for _, m := range modes {
			t.Run(fmt.Sprintf("%s/%04o", name, m.mode), func(t *testing.T) {
				path := filepath.Join(dir, name)
				if err := os.Chmod(path, m.mode); err != nil {
					t.Fatal(err)
				}
				defer os.Chmod(path, 0o600)
				_, err := NewFileProvider(FileConfig{Dir: dir})
				if m.ok {
					if err != nil {
						t.Fatalf("refused: %v", err)
					}
					return
				}
				if !errors.Is(err, ErrInsecureFile) {
					t.Fatalf("err = %v, want ErrInsecureFile", err)
				}
				var fe *FileError
				if !errors.As(err, &fe) || fe.Path != path || fe.Mode != m.mode {
					t.Fatalf("err = %#v, want a FileError naming %s and mode %04o", err, path, m.mode)
				}
				for _, want := range []string{name, fmt.Sprintf("%04o", m.mode)} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("message %q does not name %q", err, want)
					}
				}
			})
		}
	}
}

func TestFileProviderAcceptsPublicCertificate(t *testing.T) {
	dir := copyDevDir(t)
	if err := os.Chmod(filepath.Join(dir, FileTLSCertificate), 0o644); err != nil {
		t.Fatal(err)
	}
	newProvider(t, dir)
}

func TestFileProviderSymlinks(t *testing.T) {
	dir := copyDevDir(t)
	outside := t.TempDir()
	signing, err := os.ReadFile(filepath.Join(dir, FileSigningKey))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(outside, "stolen.pem"), signing, 0o600)
	// A sub-directory, as Kubernetes lays secrets out (name -> ..data/name).
	if err := os.Mkdir(filepath.Join(dir, "..data"), 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "..data", "inner.pem"), signing, 0o600)

	relOutside, err := filepath.Rel(dir, filepath.Join(outside, "stolen.pem"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		target string // symlink target for signing.key.pem
		ok     bool
	}{
		{"relative inside", "..data/inner.pem", true},
		{"absolute inside", filepath.Join(dir, "..data", "inner.pem"), true},
		{"absolute outside", filepath.Join(outside, "stolen.pem"), false},
		{"relative outside", relOutside, false},
		{"dangling", "missing.pem", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			link := filepath.Join(dir, FileSigningKey)
			os.Remove(link)
			if err := os.Symlink(tt.target, link); err != nil {
				t.Fatal(err)
			}
			_, err := NewFileProvider(FileConfig{Dir: dir})
			if tt.ok {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if tt.name == "dangling" {
				// A dangling link is a missing file: the purpose is not configured.
				p, err := NewFileProvider(FileConfig{Dir: dir})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := p.Signer(context.Background(), PurposeMessageSigning); !errors.Is(err, ErrNotConfigured) {
					t.Fatalf("Signer = %v, want ErrNotConfigured", err)
				}
				return
			}
			if !errors.Is(err, ErrInsecureFile) || !strings.Contains(err.Error(), "outside the key directory") ||
				!strings.Contains(err.Error(), FileSigningKey) {
				t.Fatalf("err = %v, want ErrInsecureFile naming the file and 'outside the key directory'", err)
			}
		})
	}

	// The key directory itself may be reached through a symlink.
	alias := filepath.Join(t.TempDir(), "alias")
	if err := os.Symlink(dir, alias); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, FileSigningKey))
	writeFile(t, filepath.Join(dir, FileSigningKey), signing, 0o600)
	newProvider(t, alias)

	// Something other than a regular file is refused.
	os.Remove(filepath.Join(dir, FileSigningKey))
	if err := os.Mkdir(filepath.Join(dir, FileSigningKey), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := NewFileProvider(FileConfig{Dir: dir}); !errors.Is(err, ErrInsecureFile) {
		t.Errorf("a directory as key file: err = %v, want ErrInsecureFile", err)
	}
}

func TestFileProviderDecryptionRollover(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a, b := newP256(t), newP256(t)
	writeFile(t, filepath.Join(dir, FileDecryptionKey), pkcs8PEM(t, a), 0o600)
	p := newProvider(t, dir)
	got, err := p.Decrypters(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !a.Equal(got[0]) {
		t.Fatalf("before rollover: %d keys, want [A]", len(got))
	}

	// Rollover: the current key becomes the previous one, a new one is current.
	if err := os.Rename(filepath.Join(dir, FileDecryptionKey), filepath.Join(dir, FilePreviousDecryptionKey)); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, FileDecryptionKey), pkcs8PEM(t, b), 0o600)
	if err := p.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	got, _ = p.Decrypters(ctx)
	if len(got) != 2 || !b.Equal(got[0]) || !a.Equal(got[1]) {
		t.Fatalf("after rollover: %d keys, want [B, A]", len(got))
	}

	// An RSA decryption key is accepted too.
	r, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, FilePreviousDecryptionKey), pkcs8PEM(t, r), 0o600)
	if err := p.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	got, _ = p.Decrypters(ctx)
	if len(got) != 2 || !r.Equal(got[1]) {
		t.Fatal("RSA previous key not served")
	}

	// The end of the rollover: the previous key is removed.
	os.Remove(filepath.Join(dir, FilePreviousDecryptionKey))
	if err := p.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	got, _ = p.Decrypters(ctx)
	if len(got) != 1 || !b.Equal(got[0]) {
		t.Fatal("after removing the previous key: want [B]")
	}

	// A broken reload keeps the keys in use.
	writeFile(t, filepath.Join(dir, FileDecryptionKey), []byte("not a key"), 0o600)
	if err := p.Reload(ctx); !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("Reload of a broken key = %v, want ErrInvalidKey", err)
	}
	got, _ = p.Decrypters(ctx)
	if len(got) != 1 || !b.Equal(got[0]) {
		t.Fatal("a failed reload replaced the keys")
	}

	// A previous key without a current one is a half-done rollover.
	os.Remove(filepath.Join(dir, FileDecryptionKey))
	writeFile(t, filepath.Join(dir, FilePreviousDecryptionKey), pkcs8PEM(t, a), 0o600)
	if err := p.Reload(ctx); !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("previous without current: %v, want ErrInvalidKey", err)
	}
}

func TestFileProviderHMACSecretLength(t *testing.T) {
	ctx := context.Background()
	random := func(n int) []byte {
		b := make([]byte, n)
		rand.Read(b)
		return b
	}
	enc := func(b []byte) []byte { return []byte(base64.StdEncoding.EncodeToString(b)) }
	tests := []struct {
		name    string
		content []byte
		wantLen int // 0: refused
	}{
		{"31 bytes", enc(random(31)), 0},
		{"32 bytes", enc(random(32)), 32},
		{"64 bytes with newline", append(enc(random(64)), '\n'), 64},
		{"1024 bytes", enc(random(1024)), 1024},
		{"1025 bytes", enc(random(1025)), 0},
		{"empty", nil, 0},
		{"raw bytes", random(48), 0},
		{"url alphabet", []byte(base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{0xfb, 0xff}, 24))), 0},
		{"unpadded", []byte(base64.RawStdEncoding.EncodeToString(random(40))), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, FileHMACSecret), tt.content, 0o600)
			p, err := NewFileProvider(FileConfig{Dir: dir})
			if tt.wantLen == 0 {
				if !errors.Is(err, ErrInvalidKey) {
					t.Fatalf("err = %v, want ErrInvalidKey", err)
				}
				if !strings.Contains(err.Error(), FileHMACSecret) {
					t.Errorf("%q does not name the file", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			sec, err := p.HMACSecret(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(sec) != tt.wantLen {
				t.Errorf("%d bytes, want %d", len(sec), tt.wantLen)
			}
		})
	}
}

func TestFileProviderDataKeys(t *testing.T) {
	ctx := context.Background()
	dir := copyDevDir(t)
	p := newProvider(t, dir)

	pt, wrapped, err := p.NewDataKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(pt) != 32 || len(wrapped) != wrappedKeyBytes {
		t.Fatalf("data key %d bytes, wrapped %d; want 32 and %d", len(pt), len(wrapped), wrappedKeyBytes)
	}
	if bytes.Contains(wrapped, pt) {
		t.Fatal("the wrapped key contains the plaintext")
	}
	got, err := p.UnwrapDataKey(ctx, wrapped)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, pt) {
		t.Fatal("unwrapped key differs")
	}
	pt2, wrapped2, _ := p.NewDataKey(ctx)
	if bytes.Equal(pt, pt2) || bytes.Equal(wrapped[9:21], wrapped2[9:21]) {
		t.Fatal("two data keys (or nonces) are equal")
	}

	t.Run("tamper", func(t *testing.T) {
		for i := range wrapped {
			for _, bit := range []byte{0x01, 0x80} {
				bad := bytes.Clone(wrapped)
				bad[i] ^= bit
				if _, err := p.UnwrapDataKey(ctx, bad); !errors.Is(err, ErrDataKeyRejected) {
					t.Fatalf("byte %d flipped: err = %v, want ErrDataKeyRejected", i, err)
				}
			}
		}
		for _, bad := range [][]byte{nil, wrapped[:len(wrapped)-1], append(bytes.Clone(wrapped), 0)} {
			if _, err := p.UnwrapDataKey(ctx, bad); !errors.Is(err, ErrDataKeyRejected) {
				t.Fatalf("%d bytes: err = %v, want ErrDataKeyRejected", len(bad), err)
			}
		}
	})

	t.Run("KEK rollover", func(t *testing.T) {
		if err := os.Rename(filepath.Join(dir, FileKEK), filepath.Join(dir, FilePreviousKEK)); err != nil {
			t.Fatal(err)
		}
		kek := make([]byte, 32)
		rand.Read(kek)
		writeFile(t, filepath.Join(dir, FileKEK), []byte(base64.StdEncoding.EncodeToString(kek)), 0o600)
		if err := p.Reload(ctx); err != nil {
			t.Fatal(err)
		}
		if got, err := p.UnwrapDataKey(ctx, wrapped); err != nil || !bytes.Equal(got, pt) {
			t.Fatalf("a key wrapped under the previous KEK: %v", err)
		}
		_, fresh, _ := p.NewDataKey(ctx)
		if bytes.Equal(fresh[1:9], wrapped[1:9]) {
			t.Fatal("new data keys are still wrapped under the previous KEK")
		}
		os.Remove(filepath.Join(dir, FilePreviousKEK))
		if err := p.Reload(ctx); err != nil {
			t.Fatal(err)
		}
		_, err := p.UnwrapDataKey(ctx, wrapped)
		if !errors.Is(err, ErrDataKeyRejected) || !strings.Contains(err.Error(), "does not hold") {
			t.Fatalf("after the previous KEK is gone: %v", err)
		}
	})

	t.Run("KEK size", func(t *testing.T) {
		d := t.TempDir()
		writeFile(t, filepath.Join(d, FileKEK), []byte(base64.StdEncoding.EncodeToString(make([]byte, 16))), 0o600)
		if _, err := NewFileProvider(FileConfig{Dir: d}); !errors.Is(err, ErrInvalidKey) {
			t.Fatalf("a 16-byte KEK: %v, want ErrInvalidKey", err)
		}
	})
}

func TestFileProviderWrongKeyTypes(t *testing.T) {
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	p256 := newP256(t)
	ecDER, _ := x509.MarshalECPrivateKey(p256)
	tests := []struct {
		file    string
		content []byte
	}{
		{FileSigningKey, pkcs8PEM(t, p384)},
		{FileSigningKey, pkcs8PEM(t, ed)},
		{FileSigningKey, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: ecDER})},
		{FileSigningKey, append(pkcs8PEM(t, p256), pkcs8PEM(t, p256)...)},
		{FileSigningKey, []byte("-----BEGIN " + "PRIVATE KEY-----\nAAAA\n-----END " + "PRIVATE KEY-----\n")},
		{FileSigningRSAKey, pkcs8PEM(t, p256)},
		{FileSigningRSAKey, pkcs8PEM(t, small)},
		{FileJournalKey, pkcs8PEM(t, p256)},
		{FileDecryptionKey, pkcs8PEM(t, ed)},
		{FileDecryptionKey, pkcs8PEM(t, p384)},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprintf("%d-%s", i, tt.file), func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, tt.file), tt.content, 0o600)
			_, err := NewFileProvider(FileConfig{Dir: dir})
			if !errors.Is(err, ErrInvalidKey) || !strings.Contains(err.Error(), tt.file) {
				t.Fatalf("err = %v, want ErrInvalidKey naming %s", err, tt.file)
			}
		})
	}
}

func TestFileProviderMissingFiles(t *testing.T) {
	ctx := context.Background()
	p := newProvider(t, t.TempDir())
	checks := map[string]error{}
	_, checks["signer"] = p.Signer(ctx, PurposeMessageSigning)
	_, checks["rsa signer"] = p.Signer(ctx, PurposeMessageSigningRSA)
	_, checks["journal signer"] = p.Signer(ctx, PurposeJournalCheckpoint)
	_, checks["decrypters"] = p.Decrypters(ctx)
	_, checks["hmac"] = p.HMACSecret(ctx)
	_, checks["tls"] = p.TLSCertificate(ctx)
	_, _, checks["new data key"] = p.NewDataKey(ctx)
	_, checks["unwrap"] = p.UnwrapDataKey(ctx, make([]byte, wrappedKeyBytes))
	for name, err := range checks {
		if !errors.Is(err, ErrNotConfigured) || !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: err = %v, want ErrNotConfigured and fs.ErrNotExist", name, err)
		}
	}

	if _, err := NewFileProvider(FileConfig{}); !errors.Is(err, ErrNotConfigured) {
		t.Errorf("no Dir: %v", err)
	}
	if _, err := NewFileProvider(FileConfig{Dir: filepath.Join(t.TempDir(), "absent")}); !errors.Is(err, ErrNotConfigured) {
		t.Errorf("absent Dir: %v", err)
	}
}

func TestFileProviderTLSPair(t *testing.T) {
	dir := copyDevDir(t)
	// A certificate whose key is another one.
	writeFile(t, filepath.Join(dir, FileTLSKey), pkcs8PEM(t, newP256(t)), 0o600)
	if _, err := NewFileProvider(FileConfig{Dir: dir}); !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("mismatched TLS pair: %v, want ErrInvalidKey", err)
	}
	// A certificate without its key.
	os.Remove(filepath.Join(dir, FileTLSKey))
	if _, err := NewFileProvider(FileConfig{Dir: dir}); !errors.Is(err, ErrNotConfigured) || !strings.Contains(fmt.Sprint(err), FileTLSKey) {
		t.Fatalf("certificate without key: %v", err)
	}
}

func TestFileProviderRefusesOversizedFiles(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, FileHMACSecret), bytes.Repeat([]byte("A"), maxKeyFileBytes+1), 0o600)
	if _, err := NewFileProvider(FileConfig{Dir: dir}); !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("oversized file: %v, want ErrInvalidKey", err)
	}
}

func TestFileProviderConcurrentReload(t *testing.T) {
	ctx := context.Background()
	p := newProvider(t, copyDevDir(t))
	want, _ := p.HMACSecret(ctx)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 50 {
				sec, err := p.HMACSecret(ctx)
				if err != nil || !bytes.Equal(sec, want) {
					t.Errorf("HMACSecret during reload: %x, %v", sec, err)
					return
				}
				pt, w, err := p.NewDataKey(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				if got, err := p.UnwrapDataKey(ctx, w); err != nil || !bytes.Equal(got, pt) {
					t.Errorf("unwrap during reload: %v", err)
					return
				}
			}
		})
	}
	for range 20 {
		if err := p.Reload(ctx); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
}
