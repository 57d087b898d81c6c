package keys

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
)

// parsePKCS8 parses exactly one PEM "PRIVATE KEY" block (PKCS #8); nothing
// but white space may surround it.
func parsePKCS8(b []byte) (crypto.PrivateKey, error) {
	blk, rest := pem.Decode(b)
	if blk == nil {
		return nil, fmt.Errorf("%w: no PEM block", ErrInvalidKey)
	}
	if blk.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("%w: PEM block %q, want \"PRIVATE KEY\" (PKCS #8)", ErrInvalidKey, blk.Type)
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, fmt.Errorf("%w: data after the PEM block", ErrInvalidKey)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidKey, err)
	}
	return k, nil
}

// checkPrivate checks that k is a key of the type its purpose needs and
// returns it as a crypto.Signer.
func checkPrivate(p Purpose, k crypto.PrivateKey) (crypto.Signer, error) {
	switch p {
	case PurposeMessageSigning, PurposeTLS:
		if ek, ok := k.(*ecdsa.PrivateKey); ok && ek.Curve == elliptic.P256() {
			return ek, nil
		}
		if p == PurposeTLS {
			if rk, ok := k.(*rsa.PrivateKey); ok {
				return rk, checkRSASize(rk.N.BitLen())
			}
			return nil, fmt.Errorf("%w: %s wants a P-256 or RSA key, not %s", ErrInvalidKey, p, describeKey(k))
		}
		return nil, fmt.Errorf("%w: %s wants a P-256 key, not %s", ErrInvalidKey, p, describeKey(k))
	case PurposeMessageSigningRSA:
		if rk, ok := k.(*rsa.PrivateKey); ok {
			return rk, checkRSASize(rk.N.BitLen())
		}
		return nil, fmt.Errorf("%w: %s wants an RSA key, not %s", ErrInvalidKey, p, describeKey(k))
	case PurposeMessageDecryption:
		switch kk := k.(type) {
		case *ecdsa.PrivateKey:
			if kk.Curve == elliptic.P256() {
				return kk, nil
			}
		case *rsa.PrivateKey:
			return kk, checkRSASize(kk.N.BitLen())
		}
		return nil, fmt.Errorf("%w: %s wants a P-256 or RSA key, not %s", ErrInvalidKey, p, describeKey(k))
	case PurposeJournalCheckpoint:
		if ek, ok := k.(ed25519.PrivateKey); ok && len(ek) == ed25519.PrivateKeySize {
			return ek, nil
		}
		return nil, fmt.Errorf("%w: %s wants an Ed25519 key, not %s", ErrInvalidKey, p, describeKey(k))
	}
	return nil, fmt.Errorf("%w: %s has no private key", ErrUnsupported, p)
}

// checkRSASize refuses RSA keys outside [minRSABits, maxRSABits].
func checkRSASize(bits int) error {
	if bits < minRSABits || bits > maxRSABits {
		return fmt.Errorf("%w: RSA keys must have %d to %d bits, not %d", ErrInvalidKey, minRSABits, maxRSABits, bits)
	}
	return nil
}

// describeKey names a key's type for error messages (never its value).
func describeKey(k any) string {
	switch kk := k.(type) {
	case *ecdsa.PrivateKey:
		return "ECDSA " + kk.Curve.Params().Name
	case *ecdsa.PublicKey:
		return "ECDSA " + kk.Curve.Params().Name
	case *rsa.PrivateKey:
		return fmt.Sprintf("RSA-%d", kk.N.BitLen())
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA-%d", kk.N.BitLen())
	case ed25519.PrivateKey, ed25519.PublicKey:
		return "Ed25519"
	}
	return fmt.Sprintf("%T", k)
}

// parseSecret decodes a base64 secret (standard alphabet, padded; white
// space around it is ignored) and checks its length.
func parseSecret(b []byte, minLen, maxLen int) ([]byte, error) {
	s := bytes.TrimSpace(b)
	out := make([]byte, base64.StdEncoding.DecodedLen(len(s)))
	n, err := base64.StdEncoding.Decode(out, s)
	if err != nil {
		return nil, fmt.Errorf("%w: not standard base64", ErrInvalidKey)
	}
	out = out[:n]
	if n < minLen || n > maxLen {
		clear(out)
		if minLen == maxLen {
			return nil, fmt.Errorf("%w: %d bytes, want exactly %d", ErrInvalidKey, n, minLen)
		}
		return nil, fmt.Errorf("%w: %d bytes, want %d to %d", ErrInvalidKey, n, minLen, maxLen)
	}
	return out, nil
}
