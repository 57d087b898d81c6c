package envelope

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"

	"github.com/go-jose/go-jose/v4"
)

// The algorithms this package uses; nothing else is ever accepted.
var (
	// signatureAlgorithms are the JWS algorithms: ES256 for P-256 keys and
	// PS256 for RSA keys.
	signatureAlgorithms = []jose.SignatureAlgorithm{jose.ES256, jose.PS256}
	// keyAlgorithms are the JWE key management algorithms.
	keyAlgorithms = []jose.KeyAlgorithm{jose.ECDH_ES_A256KW, jose.RSA_OAEP_256}
	// contentEncryption is the only JWE content encryption.
	contentEncryption = []jose.ContentEncryption{jose.A256GCM}
)

// ErrKey is wrapped by the errors of the key constructors: a key of a type,
// curve or size this package does not use.
var ErrKey = errors.New("envelope: unsupported key")

// checkPublic returns the JWS and JWE algorithms of a public key: P-256
// gives ES256 and ECDH-ES+A256KW, RSA of 2048 to 8192 bits gives PS256
// and RSA-OAEP-256.
func checkPublic(pub crypto.PublicKey) (jose.SignatureAlgorithm, jose.KeyAlgorithm, error) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if k == nil || k.Curve != elliptic.P256() {
			return "", "", fmt.Errorf("%w: EC keys must be P-256", ErrKey)
		}
		return jose.ES256, jose.ECDH_ES_A256KW, nil
	case *rsa.PublicKey:
		if k == nil || k.N == nil {
			return "", "", fmt.Errorf("%w: nil RSA key", ErrKey)
		}
		if bits := k.N.BitLen(); bits < minRSABits || bits > maxRSABits {
			return "", "", fmt.Errorf("%w: RSA keys must have %d to %d bits, not %d", ErrKey, minRSABits, maxRSABits, bits)
		}
		return jose.PS256, jose.RSA_OAEP_256, nil
	}
	return "", "", fmt.Errorf("%w: %T (want *ecdsa.PublicKey on P-256 or *rsa.PublicKey)", ErrKey, pub)
}

// Thumbprint returns the RFC 7638 JWK thumbprint of pub (SHA-256,
// unpadded base64url): the default kid of every key.
func Thumbprint(pub crypto.PublicKey) (string, error) {
	if _, _, err := checkPublic(pub); err != nil {
		return "", err
	}
	tp, err := (&jose.JSONWebKey{Key: pub}).Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("envelope: thumbprint: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(tp), nil
}

// keyID returns kid, or the thumbprint of pub when kid is empty.
func keyID(pub crypto.PublicKey, kid string) (string, error) {
	if kid == "" {
		return Thumbprint(pub)
	}
	if len(kid) > maxKeyIDBytes {
		return "", fmt.Errorf("%w: kid longer than %d bytes", ErrKey, maxKeyIDBytes)
	}
	return kid, nil
}

// SigningKey is a key that signs messages and receipts with exactly one
// algorithm: ES256 for a P-256 key, PS256 for an RSA key. The private key
// stays behind a crypto.Signer or a jose.OpaqueSigner (a Vault transit key).
type SigningKey struct {
	kid    string
	alg    jose.SignatureAlgorithm
	pub    crypto.PublicKey
	signer jose.OpaqueSigner
}

// NewSigningKey returns a signing key for s; kid "" means the RFC 7638
// thumbprint of its public key.
func NewSigningKey(s crypto.Signer, kid string) (*SigningKey, error) {
	o, err := NewOpaqueSigner(s, kid)
	if err != nil {
		return nil, err
	}
	pub := o.Public()
	return &SigningKey{kid: pub.KeyID, alg: jose.SignatureAlgorithm(pub.Algorithm), pub: pub.Key, signer: o}, nil
}

// NewOpaqueSigningKey returns a signing key for an opaque signer, such as
// a Vault transit key that returns JWS-ready signatures. kid "" means the
// signer's own kid, or else the thumbprint. The signer must support the
// one algorithm its public key implies (ES256 or PS256).
func NewOpaqueSigningKey(o jose.OpaqueSigner, kid string) (*SigningKey, error) {
	if o == nil || o.Public() == nil {
		return nil, fmt.Errorf("%w: opaque signer without a public key", ErrKey)
	}
	pub := o.Public().Key
	alg, _, err := checkPublic(pub)
	if err != nil {
		return nil, err
	}
	supported := false
	for _, a := range o.Algs() {
		supported = supported || a == alg
	}
	if !supported {
		return nil, fmt.Errorf("%w: opaque signer does not offer %s", ErrKey, alg)
	}
	if kid == "" {
		kid = o.Public().KeyID
	}
	if kid, err = keyID(pub, kid); err != nil {
		return nil, err
	}
	jwk := &jose.JSONWebKey{Key: pub, KeyID: kid, Algorithm: string(alg), Use: "sig"}
	return &SigningKey{kid: kid, alg: alg, pub: pub, signer: pinnedSigner{OpaqueSigner: o, jwk: jwk}}, nil
}

// KeyID returns the key's kid.
func (k *SigningKey) KeyID() string { return k.kid }

// Algorithm returns the key's one JWS algorithm.
func (k *SigningKey) Algorithm() jose.SignatureAlgorithm { return k.alg }

// Public returns the public key.
func (k *SigningKey) Public() crypto.PublicKey { return k.pub }

// VerificationKey returns the key that verifies what k signs.
func (k *SigningKey) VerificationKey() VerificationKey {
	return VerificationKey{KeyID: k.kid, Algorithm: k.alg, Key: k.pub}
}

// pinnedSigner makes an opaque signer announce our kid and only our algorithm.
type pinnedSigner struct {
	jose.OpaqueSigner
	jwk *jose.JSONWebKey
}

// Public implements jose.OpaqueSigner with the pinned kid.
func (p pinnedSigner) Public() *jose.JSONWebKey { return p.jwk }

// Algs implements jose.OpaqueSigner with the key's one algorithm.
func (p pinnedSigner) Algs() []jose.SignatureAlgorithm {
	return []jose.SignatureAlgorithm{jose.SignatureAlgorithm(p.jwk.Algorithm)}
}

// NewOpaqueSigner adapts a crypto.Signer to a jose.OpaqueSigner that signs
// with the key's one algorithm: ES256 (the signer's ASN.1 DER signature is
// turned into the raw 64-byte r||s that JWS requires) or PS256 (salt length
// equal to the hash, as RFC 7518 requires). kid "" means the thumbprint.
func NewOpaqueSigner(s crypto.Signer, kid string) (jose.OpaqueSigner, error) {
	if s == nil {
		return nil, fmt.Errorf("%w: nil signer", ErrKey)
	}
	pub := s.Public()
	alg, _, err := checkPublic(pub)
	if err != nil {
		return nil, err
	}
	if kid, err = keyID(pub, kid); err != nil {
		return nil, err
	}
	return &cryptoSigner{s: s, alg: alg, jwk: &jose.JSONWebKey{Key: pub, KeyID: kid, Algorithm: string(alg), Use: "sig"}}, nil
}

// cryptoSigner is the adapter NewOpaqueSigner returns.
type cryptoSigner struct {
	s   crypto.Signer
	alg jose.SignatureAlgorithm
	jwk *jose.JSONWebKey
}

// Public implements jose.OpaqueSigner.
func (c *cryptoSigner) Public() *jose.JSONWebKey { return c.jwk }

// Algs implements jose.OpaqueSigner.
func (c *cryptoSigner) Algs() []jose.SignatureAlgorithm { return []jose.SignatureAlgorithm{c.alg} }

// SignPayload implements jose.OpaqueSigner.
func (c *cryptoSigner) SignPayload(payload []byte, alg jose.SignatureAlgorithm) ([]byte, error) {
	if alg != c.alg {
		return nil, fmt.Errorf("%w: this key signs %s only, not %s", ErrKey, c.alg, alg)
	}
	h := sha256.Sum256(payload)
	switch alg {
	case jose.ES256:
		der, err := c.s.Sign(rand.Reader, h[:], crypto.SHA256)
		if err != nil {
			return nil, fmt.Errorf("envelope: sign: %w", err)
		}
		return derToRaw(der, 32)
	case jose.PS256:
		sig, err := c.s.Sign(rand.Reader, h[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256})
		if err != nil {
			return nil, fmt.Errorf("envelope: sign: %w", err)
		}
		return sig, nil
	}
	return nil, fmt.Errorf("%w: %s", ErrKey, alg)
}

// derToRaw turns an ASN.1 DER ECDSA signature into r||s, each size bytes.
func derToRaw(der []byte, size int) ([]byte, error) {
	var sig struct{ R, S *big.Int }
	rest, err := asn1.Unmarshal(der, &sig)
	if err != nil || len(rest) != 0 || sig.R == nil || sig.S == nil ||
		sig.R.Sign() <= 0 || sig.S.Sign() <= 0 || sig.R.BitLen() > 8*size || sig.S.BitLen() > 8*size {
		return nil, errors.New("envelope: sign: the signer returned a malformed ECDSA signature")
	}
	out := make([]byte, 2*size)
	sig.R.FillBytes(out[:size])
	sig.S.FillBytes(out[size:])
	return out, nil
}

// VerificationKey is a pinned public key of an authority, from the trust
// store. KeyID only selects among an authority's keys; Algorithm is the
// one algorithm the key verifies.
type VerificationKey struct {
	// KeyID is the kid that selects this key.
	KeyID string
	// Algorithm is ES256 or PS256.
	Algorithm jose.SignatureAlgorithm
	// Key is an *ecdsa.PublicKey (P-256) or an *rsa.PublicKey.
	Key crypto.PublicKey
}

// NewVerificationKey returns the verification key of pub with its one
// algorithm; kid "" means the thumbprint.
func NewVerificationKey(pub crypto.PublicKey, kid string) (VerificationKey, error) {
	alg, _, err := checkPublic(pub)
	if err != nil {
		return VerificationKey{}, err
	}
	if kid, err = keyID(pub, kid); err != nil {
		return VerificationKey{}, err
	}
	return VerificationKey{KeyID: kid, Algorithm: alg, Key: pub}, nil
}

// check reports whether k is usable: a typed key of the algorithm it names.
// A key from the trust store is checked again here, so that an HS* or a
// []byte key can never reach go-jose.
func (k VerificationKey) check() error {
	alg, _, err := checkPublic(k.Key)
	if err != nil {
		return err
	}
	if k.Algorithm != alg || k.KeyID == "" || len(k.KeyID) > maxKeyIDBytes {
		return fmt.Errorf("%w: a pinned key must name its key's one algorithm and a kid", ErrKey)
	}
	return nil
}

// EncryptionKey is a recipient's public key that messages are encrypted to.
type EncryptionKey struct {
	// KeyID is the recipient's kid, sent in the JWE header.
	KeyID string
	// Algorithm is ECDH-ES+A256KW (P-256) or RSA-OAEP-256 (RSA).
	Algorithm jose.KeyAlgorithm
	// Key is an *ecdsa.PublicKey (P-256) or an *rsa.PublicKey.
	Key crypto.PublicKey
}

// NewEncryptionKey returns the encryption key of pub with its one
// algorithm; kid "" means the thumbprint.
func NewEncryptionKey(pub crypto.PublicKey, kid string) (EncryptionKey, error) {
	_, alg, err := checkPublic(pub)
	if err != nil {
		return EncryptionKey{}, err
	}
	if kid, err = keyID(pub, kid); err != nil {
		return EncryptionKey{}, err
	}
	return EncryptionKey{KeyID: kid, Algorithm: alg, Key: pub}, nil
}

func (k EncryptionKey) check() error {
	_, alg, err := checkPublic(k.Key)
	if err != nil {
		return err
	}
	if k.Algorithm != alg || k.KeyID == "" || len(k.KeyID) > maxKeyIDBytes {
		return fmt.Errorf("%w: an encryption key must name its key's one algorithm and a kid", ErrKey)
	}
	return nil
}

// DecryptionKey is one of the recipient's own private keys. Open chooses
// among the keys its caller gives it; a key is never taken from a message.
type DecryptionKey struct {
	kid string
	alg jose.KeyAlgorithm
	pub crypto.PublicKey
	// key is *ecdsa.PrivateKey, *rsa.PrivateKey or a jose.OpaqueKeyDecrypter.
	key any
}

// NewDecryptionKey returns a decryption key. priv is an *ecdsa.PrivateKey
// (P-256; ECDH-ES needs the scalar, so Vault keeps these in KV, not
// transit), an *rsa.PrivateKey, or any crypto.Decrypter with an RSA public
// key (an HSM or KMS key, used through RSA-OAEP with SHA-256). kid "" means
// the thumbprint of the public key.
func NewDecryptionKey(priv crypto.PrivateKey, kid string) (DecryptionKey, error) {
	var pub crypto.PublicKey
	var key any
	switch k := priv.(type) {
	case *ecdsa.PrivateKey:
		if k == nil {
			return DecryptionKey{}, fmt.Errorf("%w: nil key", ErrKey)
		}
		pub, key = &k.PublicKey, k
	case *rsa.PrivateKey:
		if k == nil {
			return DecryptionKey{}, fmt.Errorf("%w: nil key", ErrKey)
		}
		pub, key = &k.PublicKey, k
	case crypto.Decrypter:
		if _, ok := k.Public().(*rsa.PublicKey); !ok {
			return DecryptionKey{}, fmt.Errorf("%w: a crypto.Decrypter must hold an RSA key", ErrKey)
		}
		pub, key = k.Public(), oaepDecrypter{k}
	default:
		return DecryptionKey{}, fmt.Errorf("%w: %T", ErrKey, priv)
	}
	_, alg, err := checkPublic(pub)
	if err != nil {
		return DecryptionKey{}, err
	}
	if kid, err = keyID(pub, kid); err != nil {
		return DecryptionKey{}, err
	}
	return DecryptionKey{kid: kid, alg: alg, pub: pub, key: key}, nil
}

// KeyID returns the key's kid.
func (k DecryptionKey) KeyID() string { return k.kid }

// Algorithm returns the key's one JWE key management algorithm.
func (k DecryptionKey) Algorithm() jose.KeyAlgorithm { return k.alg }

// EncryptionKey returns the public key that senders encrypt to.
func (k DecryptionKey) EncryptionKey() EncryptionKey {
	return EncryptionKey{KeyID: k.kid, Algorithm: k.alg, Key: k.pub}
}

// oaepDecrypter adapts an RSA crypto.Decrypter to go-jose for RSA-OAEP-256.
type oaepDecrypter struct{ d crypto.Decrypter }

// DecryptKey implements jose.OpaqueKeyDecrypter.
func (o oaepDecrypter) DecryptKey(encryptedKey []byte, header jose.Header) ([]byte, error) {
	if header.Algorithm != string(jose.RSA_OAEP_256) {
		return nil, fmt.Errorf("%w: this key decrypts RSA-OAEP-256 only", ErrKey)
	}
	return o.d.Decrypt(rand.Reader, encryptedKey, &rsa.OAEPOptions{Hash: crypto.SHA256})
}
