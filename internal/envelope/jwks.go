package envelope

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/go-jose/go-jose/v4"
	"github.com/psykosocial/exchange/internal/strictjson"
)

// KeyRing is the gateway's own message keys at one moment of a rotation.
//
// Signing keys rotate in three steps, each a new KeyRing: (1) the new key
// is published as NextSigning while Signing still signs, so that every
// recipient can pin it before it is used; (2) it becomes Signing and the
// old one moves to PreviousSigning, where messages it signed still verify;
// (3) the old one is retired by dropping it, and from then on nothing it
// signed verifies. Encryption keys rotate in two: a new key is published
// as Decryption[0] (the gateway decrypts with it from that moment) with
// the old one after it, and the old one is dropped once no message
// encrypted to it can still be in flight.
type KeyRing struct {
	// Signing is the key that signs everything the gateway sends.
	Signing *SigningKey
	// NextSigning is published before it is used; nil when no rotation is under way.
	NextSigning *SigningKey
	// PreviousSigning are keys no longer used that still verify until retired.
	PreviousSigning []*SigningKey
	// Decryption are the keys senders encrypt to: the current first, then
	// previous ones still within rollover.
	Decryption []DecryptionKey
}

// Validate reports whether r is complete and its kids are distinct.
func (r *KeyRing) Validate() error {
	if r.Signing == nil || len(r.Decryption) == 0 {
		return errors.New("envelope: a KeyRing needs a signing key and a decryption key")
	}
	if len(r.PreviousSigning)+2 > maxSenderKeys || len(r.Decryption) > maxDecryptionKeys {
		return errors.New("envelope: too many keys in the KeyRing")
	}
	seen := map[string]bool{}
	for _, k := range r.signingKeys() {
		if k == nil || seen[k.kid] {
			return errors.New("envelope: KeyRing signing keys must be set and have distinct kids")
		}
		seen[k.kid] = true
	}
	for _, k := range r.Decryption {
		if k.key == nil || seen[k.kid] {
			return errors.New("envelope: KeyRing decryption keys must come from NewDecryptionKey and have kids distinct from every other key")
		}
		seen[k.kid] = true
	}
	return nil
}

func (r *KeyRing) signingKeys() []*SigningKey {
	keys := []*SigningKey{r.Signing}
	if r.NextSigning != nil {
		keys = append(keys, r.NextSigning)
	}
	return append(keys, r.PreviousSigning...)
}

// VerificationKeys returns the keys that verify the gateway's signatures
// now: Signing, NextSigning and PreviousSigning.
func (r *KeyRing) VerificationKeys() []VerificationKey {
	var out []VerificationKey
	for _, k := range r.signingKeys() {
		out = append(out, k.VerificationKey())
	}
	return out
}

// JWKS returns the JWK Set (RFC 7517) of r's public keys, in this order:
// Signing, NextSigning, PreviousSigning (use "sig", alg ES256 or PS256),
// then Decryption (use "enc", alg ECDH-ES+A256KW or RSA-OAEP-256), each
// with its kid. No private parameter is ever written.
func (r *KeyRing) JWKS() ([]byte, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	var set jose.JSONWebKeySet
	for _, k := range r.signingKeys() {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.pub, KeyID: k.kid, Algorithm: string(k.alg), Use: "sig"})
	}
	for _, k := range r.Decryption {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.pub, KeyID: k.kid, Algorithm: string(k.alg), Use: "enc"})
	}
	for _, k := range set.Keys {
		if !k.IsPublic() {
			return nil, errors.New("envelope: a private key reached the JWKS")
		}
	}
	out, err := json.Marshal(set)
	if err != nil {
		return nil, fmt.Errorf("envelope: JWKS: %w", err)
	}
	return out, nil
}

// jwkJSON is every member a public JWK of ours may have; private members
// (d, p, q, dp, dq, qi, oth, k) are refused as unknown.
type jwkJSON struct {
	Kty string `json:"kty"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
	N   string `json:"n"`
	E   string `json:"e"`
}

// ParseJWKS reads a JWK Set as JWKS writes it: public P-256 or RSA keys,
// each with use "sig" (and alg ES256 or PS256) or "enc" (and alg
// ECDH-ES+A256KW or RSA-OAEP-256) and a kid. It returns the signing keys as
// verification keys and the others as encryption keys, in document order.
// Anything else, including a private member, refuses the whole document.
func ParseJWKS(data []byte) ([]VerificationKey, []EncryptionKey, error) {
	var doc struct {
		Keys []jwkJSON `json:"keys"`
	}
	lim := strictjson.Limits{MaxBytes: maxJWKSBytes, MaxDepth: 3, MaxArray: maxJWKSKeys, RejectEmptyStrings: true}
	if err := strictjson.Unmarshal(data, &doc, lim); err != nil {
		return nil, nil, fmt.Errorf("envelope: JWKS: %w", err)
	}
	var raw struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &raw); err != nil || len(raw.Keys) != len(doc.Keys) {
		return nil, nil, errors.New("envelope: JWKS: malformed")
	}
	var sig []VerificationKey
	var enc []EncryptionKey
	for i, j := range doc.Keys {
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON(raw.Keys[i]); err != nil || !k.IsPublic() {
			return nil, nil, fmt.Errorf("envelope: JWKS key %d: not a public key", i)
		}
		if j.Kid == "" {
			return nil, nil, fmt.Errorf("envelope: JWKS key %d: no kid", i)
		}
		switch j.Use {
		case "sig":
			v, err := NewVerificationKey(k.Key, j.Kid)
			if err != nil || string(v.Algorithm) != j.Alg {
				return nil, nil, fmt.Errorf("envelope: JWKS key %d: a signing key must be P-256 with ES256 or RSA with PS256", i)
			}
			sig = append(sig, v)
		case "enc":
			e, err := NewEncryptionKey(k.Key, j.Kid)
			if err != nil || string(e.Algorithm) != j.Alg {
				return nil, nil, fmt.Errorf("envelope: JWKS key %d: an encryption key must be P-256 with ECDH-ES+A256KW or RSA with RSA-OAEP-256", i)
			}
			enc = append(enc, e)
		default:
			return nil, nil, fmt.Errorf("envelope: JWKS key %d: use must be sig or enc", i)
		}
	}
	return sig, enc, nil
}
