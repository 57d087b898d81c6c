package keys

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
)

// The file provider's layout: one file per purpose in one directory. The
// names match what the development CA writes for the gateway
// (certs.Paths.Gateway), so its output is a valid key directory.
//
// Private keys are PEM "PRIVATE KEY" blocks (PKCS #8); certificates are PEM
// "CERTIFICATE" blocks, leaf first; secrets are standard base64 (padded)
// on one line. Every file holding a key or a secret must have mode 0600 or
// stricter (no bit in 0o077); certificates may be world-readable.
const (
	// FileTLSCertificate is the TLS certificate chain (leaf first). Optional.
	FileTLSCertificate = "tls.cert.pem"
	// FileTLSKey is the TLS private key (P-256 or RSA). Required with the certificate.
	FileTLSKey = "tls.key.pem"
	// FileSigningKey is the message-signing key (P-256). Optional.
	FileSigningKey = "signing.key.pem"
	// FileSigningRSAKey is the RSA message-signing key, for authorities that
	// only verify RSA (2048 to 8192 bits). Optional.
	FileSigningRSAKey = "signing-rsa.key.pem"
	// FileDecryptionKey is the current message-decryption key (P-256 or
	// RSA): the one senders encrypt to. Optional.
	FileDecryptionKey = "encryption.key.pem"
	// FilePreviousDecryptionKey is the previous message-decryption key,
	// kept during a rollover so that messages in flight still open. Optional.
	FilePreviousDecryptionKey = "encryption.previous.key.pem"
	// FileJournalKey is the journal checkpoint key (Ed25519). Optional.
	FileJournalKey = "journal.key.pem"
	// FileHMACSecret is the journal's HMAC secret: base64 of 32 to 1024
	// random bytes. Optional. Base64 rather than raw bytes, so that it
	// survives editors, copy and paste and secret stores unchanged, and
	// reads the same as the Vault provider's KV value.
	FileHMACSecret = "journal-hmac.secret"
	// FileKEK is the key-encryption key that wraps data keys: base64 of
	// exactly 32 random bytes (AES-256-GCM). Optional.
	FileKEK = "data-kek.secret"
	// FilePreviousKEK is the previous key-encryption key: data keys wrapped
	// under it still unwrap, new ones are wrapped under FileKEK. Optional.
	FilePreviousKEK = "data-kek.previous.secret"
)

// FileConfig configures a [FileProvider]. The zero value of every field
// but Dir is valid.
type FileConfig struct {
	// Dir is the key directory. Required.
	Dir string
	// Logger receives what the provider does (file names, never key
	// material). Nil discards.
	Logger *slog.Logger
	// Rand is the source of data keys and nonces. Nil means crypto/rand.
	Rand io.Reader
}

// withDefaults returns c with every unset field at its default.
func (c FileConfig) withDefaults() FileConfig {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Rand == nil {
		c.Rand = rand.Reader
	}
	return c
}

// FileProvider serves keys from PEM files in one directory (see the File*
// constants for the layout). Every file is optional: a purpose whose file
// is absent answers with an error wrapping ErrNotConfigured. A file that is
// present but insecure or invalid makes NewFileProvider and Reload fail.
// It is safe for concurrent use.
type FileProvider struct {
	cfg FileConfig
	dir keyDir

	mu  sync.RWMutex
	set *fileSet
}

// fileSet is one consistent load of the key directory.
type fileSet struct {
	tls        *tls.Certificate
	signers    map[Purpose]crypto.Signer
	decrypters []crypto.PrivateKey // current first
	hmac       []byte
	keks       []kek // current first
	missing    map[Purpose]error
}

// NewFileProvider loads the key directory cfg.Dir.
func NewFileProvider(cfg FileConfig) (*FileProvider, error) {
	if cfg.Dir == "" {
		return nil, fmt.Errorf("%w: FileConfig.Dir is empty", ErrNotConfigured)
	}
	abs, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("keys: key directory %s: %w", cfg.Dir, err)
	}
	cfg = cfg.withDefaults()
	p := &FileProvider{cfg: cfg, dir: keyDir{dir: abs}}
	if err := p.Reload(context.Background()); err != nil {
		return nil, err
	}
	return p, nil
}

// Reload reads the key directory again and, if every file is valid,
// replaces the keys in use; otherwise it keeps them and returns the
// error. A rollover of the decryption keys is: rename encryption.key.pem
// to encryption.previous.key.pem, write the new encryption.key.pem, Reload.
func (p *FileProvider) Reload(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	set, err := p.load()
	if err != nil {
		return err
	}
	p.mu.Lock()
	if p.set != nil {
		clear(p.set.hmac) // readers copy it under the read lock
	}
	p.set = set
	p.mu.Unlock()
	loaded := make([]string, 0, 7)
	for _, pur := range []Purpose{PurposeTLS, PurposeMessageSigning, PurposeMessageSigningRSA, PurposeMessageDecryption,
		PurposeJournalCheckpoint, PurposeJournalHMAC, PurposeDataKey} {
		if set.missing[pur] == nil {
			loaded = append(loaded, string(pur))
		}
	}
	p.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "keys loaded", slog.String("provider", "file"),
		slog.String("dir", p.dir.dir), slog.Any("purposes", loaded), slog.Int("decryption_keys", len(set.decrypters)))
	return nil
}

// load reads every file of the directory.
func (p *FileProvider) load() (*fileSet, error) {
	s := &fileSet{signers: map[Purpose]crypto.Signer{}, missing: map[Purpose]error{}}
	if fi, err := os.Stat(p.dir.dir); err != nil {
		return nil, &FileError{Path: p.dir.dir, Reason: "key directory", Err: ErrNotConfigured, Cause: err}
	} else if !fi.IsDir() {
		return nil, &FileError{Path: p.dir.dir, Reason: "key directory is not a directory", Err: ErrNotConfigured}
	}

	// TLS: a certificate chain and its key.
	if certPEM, err := p.dir.read(FileTLSCertificate, false); notExist(err) {
		s.missing[PurposeTLS] = err
	} else if err != nil {
		return nil, err
	} else {
		keyPEM, err := p.dir.read(FileTLSKey, true)
		if err != nil {
			return nil, err
		}
		if _, err := p.privateKey(FileTLSKey, keyPEM, PurposeTLS); err != nil {
			return nil, err
		}
		c, err := tls.X509KeyPair(certPEM, keyPEM)
		clear(keyPEM)
		if err != nil {
			return nil, &FileError{Path: p.dir.path(FileTLSCertificate), Reason: "certificate and " + FileTLSKey + " do not form a pair",
				Err: ErrInvalidKey, Cause: err}
		}
		if c.Leaf == nil {
			if c.Leaf, err = x509.ParseCertificate(c.Certificate[0]); err != nil {
				return nil, &FileError{Path: p.dir.path(FileTLSCertificate), Reason: "leaf certificate", Err: ErrInvalidKey, Cause: err}
			}
		}
		s.tls = &c
	}

	// Signing keys.
	for _, f := range []struct {
		name string
		pur  Purpose
	}{{FileSigningKey, PurposeMessageSigning}, {FileSigningRSAKey, PurposeMessageSigningRSA}, {FileJournalKey, PurposeJournalCheckpoint}} {
		b, err := p.dir.read(f.name, true)
		if notExist(err) {
			s.missing[f.pur] = err
			continue
		}
		if err != nil {
			return nil, err
		}
		k, err := p.privateKey(f.name, b, f.pur)
		clear(b)
		if err != nil {
			return nil, err
		}
		s.signers[f.pur] = k
	}

	// Decryption keys: current, then previous. A previous key without a
	// current one is a half-done rollover.
	for _, name := range []string{FileDecryptionKey, FilePreviousDecryptionKey} {
		b, err := p.dir.read(name, true)
		if notExist(err) {
			if name == FileDecryptionKey {
				s.missing[PurposeMessageDecryption] = err
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		if name == FilePreviousDecryptionKey && len(s.decrypters) == 0 {
			return nil, &FileError{Path: p.dir.path(name), Reason: "a previous decryption key without a current one (" + FileDecryptionKey + ")",
				Err: ErrInvalidKey}
		}
		k, err := p.privateKey(name, b, PurposeMessageDecryption)
		clear(b)
		if err != nil {
			return nil, err
		}
		s.decrypters = append(s.decrypters, k)
	}

	// The journal's HMAC secret.
	if b, err := p.dir.read(FileHMACSecret, true); notExist(err) {
		s.missing[PurposeJournalHMAC] = err
	} else if err != nil {
		return nil, err
	} else {
		sec, err := parseSecret(b, minHMACSecretBytes, maxHMACSecretBytes)
		clear(b)
		if err != nil {
			return nil, &FileError{Path: p.dir.path(FileHMACSecret), Reason: "HMAC secret", Err: ErrInvalidKey, Cause: err}
		}
		s.hmac = sec
	}

	// Key-encryption keys: current, then previous.
	for _, name := range []string{FileKEK, FilePreviousKEK} {
		b, err := p.dir.read(name, true)
		if notExist(err) {
			if name == FileKEK {
				s.missing[PurposeDataKey] = err
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		if name == FilePreviousKEK && len(s.keks) == 0 {
			return nil, &FileError{Path: p.dir.path(name), Reason: "a previous key-encryption key without a current one (" + FileKEK + ")",
				Err: ErrInvalidKey}
		}
		raw, err := parseSecret(b, dataKeyBytes, dataKeyBytes)
		clear(b)
		if err != nil {
			return nil, &FileError{Path: p.dir.path(name), Reason: "key-encryption key", Err: ErrInvalidKey, Cause: err}
		}
		k, err := newKEK(raw)
		clear(raw)
		if err != nil {
			return nil, &FileError{Path: p.dir.path(name), Reason: "key-encryption key", Err: ErrInvalidKey, Cause: err}
		}
		s.keks = append(s.keks, k)
	}
	return s, nil
}

// privateKey parses and checks a PKCS #8 key file's contents.
func (p *FileProvider) privateKey(name string, b []byte, pur Purpose) (crypto.Signer, error) {
	k, err := parsePKCS8(b)
	if err != nil {
		return nil, &FileError{Path: p.dir.path(name), Reason: "private key", Err: ErrInvalidKey, Cause: err}
	}
	s, err := checkPrivate(pur, k)
	if err != nil {
		return nil, &FileError{Path: p.dir.path(name), Reason: "private key", Err: ErrInvalidKey, Cause: err}
	}
	return s, nil
}

// current returns the loaded set.
func (p *FileProvider) current() *fileSet {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.set
}

// Signer returns the private key of a signing purpose
// (PurposeMessageSigning, PurposeMessageSigningRSA or
// PurposeJournalCheckpoint) as a crypto.Signer.
func (p *FileProvider) Signer(ctx context.Context, purpose Purpose) (crypto.Signer, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !purpose.signing() {
		return nil, fmt.Errorf("%w: %q is not a signing purpose", ErrUnsupported, purpose)
	}
	s := p.current()
	if k, ok := s.signers[purpose]; ok {
		return k, nil
	}
	return nil, s.missing[purpose]
}

// Decrypters returns the message-decryption private keys, current first,
// then the previous one during a rollover. Each is an *ecdsa.PrivateKey
// (P-256) or an *rsa.PrivateKey.
func (p *FileProvider) Decrypters(ctx context.Context) ([]crypto.PrivateKey, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s := p.current()
	if len(s.decrypters) == 0 {
		return nil, s.missing[PurposeMessageDecryption]
	}
	return slices.Clone(s.decrypters), nil
}

// HMACSecret returns a copy of the journal's HMAC secret.
func (p *FileProvider) HMACSecret(ctx context.Context) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.set.hmac == nil {
		return nil, p.set.missing[PurposeJournalHMAC]
	}
	return slices.Clone(p.set.hmac), nil
}

// TLSCertificate returns the gateway's TLS certificate with its key.
func (p *FileProvider) TLSCertificate(ctx context.Context) (tls.Certificate, error) {
	if err := ctx.Err(); err != nil {
		return tls.Certificate{}, err
	}
	s := p.current()
	if s.tls == nil {
		return tls.Certificate{}, s.missing[PurposeTLS]
	}
	return *s.tls, nil
}

// NewDataKey returns a fresh 256-bit data key and the same key wrapped
// (AES-256-GCM) under the current key-encryption key. Store only the
// wrapped form; clear the plaintext after use.
func (p *FileProvider) NewDataKey(ctx context.Context) (plaintext, wrapped []byte, err error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	s := p.current()
	if len(s.keks) == 0 {
		return nil, nil, s.missing[PurposeDataKey]
	}
	return s.keks[0].wrap(p.cfg.Rand)
}

// UnwrapDataKey returns the data key inside wrapped, or an error wrapping
// ErrDataKeyRejected when it is malformed, tampered with, or wrapped under
// a key-encryption key that is neither the current nor the previous one.
func (p *FileProvider) UnwrapDataKey(ctx context.Context, wrapped []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s := p.current()
	if len(s.keks) == 0 {
		return nil, s.missing[PurposeDataKey]
	}
	return unwrap(s.keks, wrapped)
}
