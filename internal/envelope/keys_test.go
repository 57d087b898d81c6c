package envelope

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"math/big"
	"testing"

	"github.com/go-jose/go-jose/v4"
)

func TestThumbprint(t *testing.T) {
	// RFC 7638 section 3.1: the example RSA key and its thumbprint.
	n, err := base64.RawURLEncoding.DecodeString("0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw")
	if err != nil {
		t.Fatal(err)
	}
	got, err := Thumbprint(&rsa.PublicKey{N: new(big.Int).SetBytes(n), E: 65537})
	if err != nil {
		t.Fatal(err)
	}
	if want := "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"; got != want {
		t.Errorf("RFC 7638 example: %s, want %s", got, want)
	}

	// A P-256 key, computed by hand from the RFC's rule: the required
	// members in lexicographic order, no white space.
	k := mustEC(t)
	raw, err := k.PublicKey.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	doc := `{"crv":"P-256","kty":"EC","x":"` + b64(raw[1:33]) + `","y":"` + b64(raw[33:]) + `"}`
	sum := sha256.Sum256([]byte(doc))
	if got, _ := Thumbprint(&k.PublicKey); got != b64(sum[:]) {
		t.Errorf("P-256 thumbprint %s, want %s", got, b64(sum[:]))
	}
	sk, _ := NewSigningKey(k, "")
	if sk.KeyID() != b64(sum[:]) {
		t.Error("the default kid is not the thumbprint")
	}
}

func TestKeyConstructorsRefuseOtherKeys(t *testing.T) {
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	for name, k := range map[string]crypto.Signer{"P-384": p384, "Ed25519": ed, "RSA-1024": small} {
		t.Run(name, func(t *testing.T) {
			if _, err := NewSigningKey(k, ""); !errors.Is(err, ErrKey) {
				t.Errorf("NewSigningKey: %v", err)
			}
			if _, err := NewVerificationKey(k.Public(), ""); !errors.Is(err, ErrKey) {
				t.Errorf("NewVerificationKey: %v", err)
			}
			if _, err := NewEncryptionKey(k.Public(), ""); !errors.Is(err, ErrKey) {
				t.Errorf("NewEncryptionKey: %v", err)
			}
			if _, err := NewDecryptionKey(k, ""); !errors.Is(err, ErrKey) {
				t.Errorf("NewDecryptionKey: %v", err)
			}
		})
	}
	if _, err := NewDecryptionKey([]byte("secret"), ""); !errors.Is(err, ErrKey) {
		t.Errorf("NewDecryptionKey([]byte): %v", err)
	}
}

func TestOpaqueSignerAdapter(t *testing.T) {
	for _, s := range suites(t) {
		t.Run(s.name, func(t *testing.T) {
			o, err := NewOpaqueSigner(s.sender, "k1")
			if err != nil {
				t.Fatal(err)
			}
			if algs := o.Algs(); len(algs) != 1 || algs[0] != s.sigAlg {
				t.Errorf("Algs %v, want only %s", algs, s.sigAlg)
			}
			if o.Public().KeyID != "k1" || !o.Public().IsPublic() {
				t.Error("Public is not the public key with the given kid")
			}
			msg := []byte("signing input")
			sig, err := o.SignPayload(msg, s.sigAlg)
			if err != nil {
				t.Fatal(err)
			}
			h := sha256.Sum256(msg)
			switch pub := s.sender.Public().(type) {
			case *ecdsa.PublicKey:
				if len(sig) != 64 {
					t.Fatalf("ES256 signature of %d bytes, want raw r||s of 64", len(sig))
				}
				r, ss := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
				if !ecdsa.Verify(pub, h[:], r, ss) {
					t.Error("r||s does not verify")
				}
			case *rsa.PublicKey:
				if err := rsa.VerifyPSS(pub, crypto.SHA256, h[:], sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}); err != nil {
					t.Errorf("PSS with salt = hash length: %v", err)
				}
			}
			other := jose.RS256
			if s.sigAlg == jose.PS256 {
				other = jose.ES256
			}
			if _, err := o.SignPayload(msg, other); err == nil {
				t.Errorf("signed with %s", other)
			}
		})
	}
}

// transitSigner stands in for a Vault transit key with
// marshaling_algorithm=jws: an OpaqueSigner that returns r||s itself.
type transitSigner struct{ k *ecdsa.PrivateKey }

func (v transitSigner) Public() *jose.JSONWebKey {
	return &jose.JSONWebKey{Key: &v.k.PublicKey, KeyID: "vault:transit:gateway-signing:v1"}
}
func (v transitSigner) Algs() []jose.SignatureAlgorithm { return []jose.SignatureAlgorithm{jose.ES256} }
func (v transitSigner) SignPayload(p []byte, _ jose.SignatureAlgorithm) ([]byte, error) {
	h := sha256.Sum256(p)
	der, err := ecdsa.SignASN1(rand.Reader, v.k, h[:])
	if err != nil {
		return nil, err
	}
	return derToRaw(der, 32)
}

func TestOpaqueSigningKeyAndDecrypter(t *testing.T) {
	w := newWorld(t, rsaSuite(t))
	vault, err := NewOpaqueSigningKey(transitSigner{mustEC(t)}, "")
	if err != nil {
		t.Fatal(err)
	}
	if vault.KeyID() != "vault:transit:gateway-signing:v1" || vault.Algorithm() != jose.ES256 {
		t.Errorf("kid %q alg %s", vault.KeyID(), vault.Algorithm())
	}
	// The RSA decryption key behind an opaque crypto.Decrypter (an HSM).
	dec, err := NewDecryptionKey(hsm{w.s.recipient.(*rsa.PrivateKey)}, "")
	if err != nil {
		t.Fatal(err)
	}
	if dec.KeyID() != w.dec.KeyID() {
		t.Error("the same key has another thumbprint behind a crypto.Decrypter")
	}
	w.trust[GatewayID] = []VerificationKey{vault.VerificationKey()}
	sealer, err := NewSealer(SealerConfig{Issuer: GatewayID, Key: vault, Clock: w.clock})
	if err != nil {
		t.Fatal(err)
	}
	opener, err := NewOpener(OpenerConfig{DecryptionKeys: []DecryptionKey{dec}, Senders: w.trust, Replay: w.replay, Clock: w.clock})
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := sealer.Seal(context.Background(), Message{Kind: KindWithdrawal, ContentType: ContentTypeCommon, Recipient: bystander, To: dec.EncryptionKey(), Payload: []byte(payload)})
	if err != nil {
		t.Fatal(err)
	}
	got, err := opener.Open(context.Background(), sealed.Envelope, Expect{Sender: GatewayID, Recipient: bystander, Kinds: []Kind{KindWithdrawal}, ContentType: ContentTypeCommon})
	if err != nil {
		t.Fatal(err)
	}
	if got.Header.KeyID != vault.KeyID() {
		t.Errorf("kid %q", got.Header.KeyID)
	}
}

// hsm hides an *rsa.PrivateKey behind crypto.Decrypter only.
type hsm struct{ k *rsa.PrivateKey }

func (h hsm) Public() crypto.PublicKey { return &h.k.PublicKey }
func (h hsm) Decrypt(r io.Reader, msg []byte, opts crypto.DecrypterOpts) ([]byte, error) {
	return h.k.Decrypt(r, msg, opts)
}
