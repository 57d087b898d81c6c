package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/psykosocial/exchange/internal/clock"
)

// Generate writes a DEVELOPMENT key set into dir for a [FileProvider]:
// every file of the layout that does not exist yet (an existing file is
// never overwritten, so it is safe to run again and keeps certificates a
// development CA issued). Keys are P-256 (signing, decryption, TLS),
// RSA-3072 (RSA signing), Ed25519 (journal); the HMAC secret and the
// key-encryption key are 32 random bytes. The TLS certificate it writes
// when there is none is self-signed for localhost and valid from clk's
// now (less an hour). Files are 0600, the directory 0700. It returns the
// names of the files it wrote. clk is required.
//
// It is for development and tests only ("gateway certs init"): the keys
// lie unencrypted on disk and the TLS certificate is trusted by no one.
// Production keys come from the operator's PKI or from Vault.
func Generate(dir string, clk clock.Clock) ([]string, error) {
	if dir == "" {
		return nil, fmt.Errorf("%w: Generate needs a directory", ErrNotConfigured)
	}
	if clk == nil {
		return nil, fmt.Errorf("%w: Generate needs a clock", ErrNotConfigured)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("keys: generate: %w", err)
	}
	var created []string
	write := func(name string, data []byte) error {
		ok, err := writeNew(filepath.Join(dir, name), data)
		clear(data)
		if err != nil {
			return fmt.Errorf("keys: generate %s: %w", name, err)
		}
		if ok {
			created = append(created, name)
		}
		return nil
	}
	exists := func(name string) bool {
		_, err := os.Lstat(filepath.Join(dir, name))
		return !errors.Is(err, fs.ErrNotExist)
	}

	keyFiles := []struct {
		name string
		gen  func() (crypto.Signer, error)
	}{
		{FileSigningKey, func() (crypto.Signer, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) }},
		{FileSigningRSAKey, func() (crypto.Signer, error) { return rsa.GenerateKey(rand.Reader, devRSABits) }},
		{FileDecryptionKey, func() (crypto.Signer, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) }},
		{FileJournalKey, func() (crypto.Signer, error) {
			_, k, err := ed25519.GenerateKey(rand.Reader)
			return k, err
		}},
	}
	for _, f := range keyFiles {
		if exists(f.name) {
			continue
		}
		k, err := f.gen()
		if err != nil {
			return created, fmt.Errorf("keys: generate %s: %w", f.name, err)
		}
		b, err := marshalPKCS8(k)
		if err != nil {
			return created, fmt.Errorf("keys: generate %s: %w", f.name, err)
		}
		if err := write(f.name, b); err != nil {
			return created, err
		}
	}

	for _, name := range []string{FileHMACSecret, FileKEK} {
		if exists(name) {
			continue
		}
		raw := make([]byte, dataKeyBytes)
		if _, err := rand.Read(raw); err != nil {
			return created, fmt.Errorf("keys: generate %s: %w", name, err)
		}
		b := []byte(base64.StdEncoding.EncodeToString(raw) + "\n")
		clear(raw)
		if err := write(name, b); err != nil {
			return created, err
		}
	}

	// TLS: a key and a self-signed certificate, only when neither exists
	// (a pair made by a development CA is kept).
	if !exists(FileTLSCertificate) && !exists(FileTLSKey) {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return created, fmt.Errorf("keys: generate TLS key: %w", err)
		}
		cert, err := selfSignedTLS(k, clk.Now())
		if err != nil {
			return created, err
		}
		b, err := marshalPKCS8(k)
		if err != nil {
			return created, fmt.Errorf("keys: generate %s: %w", FileTLSKey, err)
		}
		if err := write(FileTLSKey, b); err != nil {
			return created, err
		}
		if err := write(FileTLSCertificate, cert); err != nil {
			return created, err
		}
	}
	return created, nil
}

// marshalPKCS8 encodes a private key as a PEM "PRIVATE KEY" block.
func marshalPKCS8(k crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, err
	}
	b := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	clear(der)
	return b, nil
}

// selfSignedTLS returns a PEM self-signed development certificate for
// localhost, 127.0.0.1 and ::1.
func selfSignedTLS(k *ecdsa.PrivateKey, now time.Time) ([]byte, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("keys: generate TLS certificate: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{Organization: []string{"Psykosocial gateway (udvikling)"}, CommonName: "gateway - tls (DEV, self-signed)"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(devTLSValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Public(), k)
	if err != nil {
		return nil, fmt.Errorf("keys: generate TLS certificate: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}

// writeNew writes data to path with mode 0600 unless path exists: it
// writes a temporary file in the same directory, syncs it and links it
// into place, so that a crash never leaves half a key and a concurrent
// writer never sees its file replaced. It reports whether it wrote.
func writeNew(path string, data []byte) (bool, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return false, err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return false, err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return false, err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return false, err
	}
	if err := tmp.Close(); err != nil {
		return false, err
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return false, nil
		}
		return false, err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return true, nil
}
