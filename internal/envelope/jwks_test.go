package envelope

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
)

func TestJWKS(t *testing.T) {
	rs := rsaSuite(t)
	cur, _ := NewSigningKey(mustEC(t), "")
	next, _ := NewSigningKey(rs.sender, "")
	prev, _ := NewSigningKey(mustEC(t), "sig-2025")
	encCur, _ := NewDecryptionKey(mustEC(t), "")
	encPrev, _ := NewDecryptionKey(rs.recipient, "enc-2025")
	ring := &KeyRing{Signing: cur, NextSigning: next, PreviousSigning: []*SigningKey{prev}, Decryption: []DecryptionKey{encCur, encPrev}}
	doc, err := ring.JWKS()
	if err != nil {
		t.Fatal(err)
	}
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(doc, &set); err != nil {
		t.Fatal(err)
	}
	want := []struct{ kid, use, alg, kty string }{
		{cur.KeyID(), "sig", "ES256", "EC"},
		{next.KeyID(), "sig", "PS256", "RSA"},
		{"sig-2025", "sig", "ES256", "EC"},
		{encCur.KeyID(), "enc", "ECDH-ES+A256KW", "EC"},
		{"enc-2025", "enc", "RSA-OAEP-256", "RSA"},
	}
	if len(set.Keys) != len(want) {
		t.Fatalf("%d keys, want %d", len(set.Keys), len(want))
	}
	for i, w := range want {
		k := set.Keys[i]
		if k["kid"] != w.kid || k["use"] != w.use || k["alg"] != w.alg || k["kty"] != w.kty {
			t.Errorf("key %d: %v, want %+v", i, k, w)
		}
		for _, private := range []string{"d", "p", "q", "dp", "dq", "qi", "k"} {
			if _, ok := k[private]; ok {
				t.Errorf("key %d carries the private member %q", i, private)
			}
		}
	}

	sig, enc, err := ParseJWKS(doc)
	if err != nil {
		t.Fatal(err)
	}
	if len(sig) != 3 || len(enc) != 2 {
		t.Fatalf("ParseJWKS: %d signing and %d encryption keys", len(sig), len(enc))
	}
	for i, v := range ring.VerificationKeys() {
		if sig[i].KeyID != v.KeyID || sig[i].Algorithm != v.Algorithm {
			t.Errorf("signing key %d: %+v, want %+v", i, sig[i], v)
		}
	}
	if enc[0].KeyID != encCur.KeyID() || enc[0].Algorithm != jose.ECDH_ES_A256KW || enc[1].Algorithm != jose.RSA_OAEP_256 {
		t.Errorf("encryption keys %+v", enc)
	}
}

func TestParseJWKSRefuses(t *testing.T) {
	k := mustEC(t)
	pub, _ := (&jose.JSONWebKey{Key: &k.PublicKey, KeyID: "a", Use: "sig", Algorithm: "ES256"}).MarshalJSON()
	priv, _ := (&jose.JSONWebKey{Key: k, KeyID: "a", Use: "sig", Algorithm: "ES256"}).MarshalJSON()
	set := func(keys ...string) []byte { return []byte(`{"keys":[` + strings.Join(keys, ",") + `]}`) }
	edit := func(old, new string) string { return strings.Replace(string(pub), old, new, 1) }
	if _, _, err := ParseJWKS(set(string(pub))); err != nil {
		t.Fatalf("the good key: %v", err)
	}
	cases := map[string][]byte{
		"private key":            set(string(priv)),
		"symmetric key":          set(`{"kty":"oct","kid":"h","use":"sig","alg":"HS256","k":"c2VjcmV0"}`),
		"no kid":                 set(edit(`"kid":"a",`, ``)),
		"no use":                 set(edit(`"use":"sig",`, ``)),
		"use enc with ES256":     set(edit(`"use":"sig"`, `"use":"enc"`)),
		"alg PS256 on an EC key": set(edit(`"alg":"ES256"`, `"alg":"PS256"`)),
		"duplicate member":       set(edit(`"kid":"a"`, `"kid":"a","kid":"b"`)),
		"x5u":                    set(edit(`"kid":"a"`, `"kid":"a","x5u":"https://attacker.example/"`)),
		"case variant":           set(edit(`"kid":"a"`, `"KID":"a"`)),
		"not a key set":          []byte(`[]`),
	}
	for name, doc := range cases {
		t.Run(name, func(t *testing.T) {
			if _, _, err := ParseJWKS(doc); err == nil {
				t.Errorf("accepted %s", doc)
			}
		})
	}
}

func TestKeyRingValidate(t *testing.T) {
	a, _ := NewSigningKey(mustEC(t), "same")
	b, _ := NewSigningKey(mustEC(t), "same")
	d, _ := NewDecryptionKey(mustEC(t), "")
	cases := map[string]*KeyRing{
		"no signing key":        {Decryption: []DecryptionKey{d}},
		"no decryption key":     {Signing: a},
		"duplicate kid":         {Signing: a, NextSigning: b, Decryption: []DecryptionKey{d}},
		"unconstructed dec key": {Signing: a, Decryption: []DecryptionKey{{}}},
	}
	for name, r := range cases {
		t.Run(name, func(t *testing.T) {
			if r.Validate() == nil {
				t.Error("valid")
			}
			if _, err := r.JWKS(); err == nil {
				t.Error("published")
			}
		})
	}
}

// TestSigningKeyRotation follows the gateway's signing key rotation as a
// municipality sees it through the gateway's JWKS: the new key is published
// before use, messages signed with the previous key verify until it is
// retired, and not after.
func TestSigningKeyRotation(t *testing.T) {
	clock := newClock()
	old, _ := NewSigningKey(mustEC(t), "")
	fresh, _ := NewSigningKey(mustEC(t), "")
	gwDec, _ := NewDecryptionKey(mustEC(t), "")
	munDec, _ := NewDecryptionKey(mustEC(t), "")
	replay, _ := NewMemoryReplayCache(MemoryReplayCacheConfig{Clock: clock})
	exp := Expect{Sender: GatewayID, Recipient: bystander, Kinds: []Kind{KindRegistration}, ContentType: ContentTypeCommon}

	seal := func(k *SigningKey) []byte {
		s, err := NewSealer(SealerConfig{Issuer: GatewayID, Key: k, Clock: clock})
		if err != nil {
			t.Fatal(err)
		}
		sealed, err := s.Seal(context.Background(), Message{Kind: KindRegistration, ContentType: ContentTypeCommon, Recipient: bystander, To: munDec.EncryptionKey(), Payload: []byte(payload)})
		if err != nil {
			t.Fatal(err)
		}
		return sealed.Envelope
	}
	// municipality fetches the JWKS of ring and opens env with the
	// gateway keys it has learned from it.
	open := func(ring *KeyRing, env []byte) error {
		doc, err := ring.JWKS()
		if err != nil {
			t.Fatal(err)
		}
		sig, _, err := ParseJWKS(doc)
		if err != nil {
			t.Fatal(err)
		}
		o, err := NewOpener(OpenerConfig{DecryptionKeys: []DecryptionKey{munDec}, Senders: trustStore{GatewayID: sig}, Replay: replay, Clock: clock})
		if err != nil {
			t.Fatal(err)
		}
		_, err = o.Open(context.Background(), env, exp)
		return err
	}

	before := &KeyRing{Signing: old, Decryption: []DecryptionKey{gwDec}}
	publish := &KeyRing{Signing: old, NextSigning: fresh, Decryption: []DecryptionKey{gwDec}}
	switched := &KeyRing{Signing: fresh, PreviousSigning: []*SigningKey{old}, Decryption: []DecryptionKey{gwDec}}
	retired := &KeyRing{Signing: fresh, Decryption: []DecryptionKey{gwDec}}

	steps := []struct {
		name    string
		learned *KeyRing // the JWKS the municipality last fetched
		signer  *SigningKey
		err     error
	}{
		{"a new key not yet published does not verify", before, fresh, ErrUnknownKey},
		{"step 1: the new key is published while the old one signs", publish, old, nil},
		{"a municipality that fetched step 1 verifies the new key's first message", publish, fresh, nil},
		{"step 2: the new key signs; the previous one still verifies", switched, old, nil},
		{"step 2: the new key verifies", switched, fresh, nil},
		{"step 3: the previous key is retired and no longer verifies", retired, old, ErrUnknownKey},
		{"step 3: the new key verifies", retired, fresh, nil},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			err := open(s.learned, seal(s.signer))
			if s.err == nil && err != nil || !errors.Is(err, s.err) {
				t.Errorf("Open: %v, want %v", err, s.err)
			}
		})
	}
}
