package envelope

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

func TestSealOpenRoundTrip(t *testing.T) {
	for _, s := range suites(t) {
		for _, kind := range []Kind{KindRegistration, KindWithdrawal} {
			t.Run(s.name+"/"+string(kind), func(t *testing.T) {
				w := newWorld(t, s)
				sealed := w.seal(kind)
				got, err := w.opener.Open(context.Background(), sealed.Envelope, w.expect)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got.Payload, []byte(payload)) {
					t.Errorf("payload changed: %q", got.Payload)
				}
				if got.Sender != sender || got.Header.Issuer != sender || got.Header.Audience != recipient {
					t.Errorf("sender %q, iss %q, aud %q", got.Sender, got.Header.Issuer, got.Header.Audience)
				}
				if got.Header.Kind != kind || got.Header.ContentType != ContentTypeRegion || got.Header.KeyID != w.senderKey.KeyID() {
					t.Errorf("header %+v", got.Header)
				}
				if !got.Header.IssuedAt.Equal(t0) || !got.Header.Expires.Equal(t0.Add(defaultLifetime)) || !ValidMessageID(got.Header.ID) {
					t.Errorf("times or id: %+v", got.Header)
				}
				if got.Header != sealed.Header {
					t.Errorf("opened header %+v, sealed %+v", got.Header, sealed.Header)
				}
				if got.Signed != sealed.Signed || got.Digest != DigestOf([]byte(got.Signed)) || got.Digest != sealed.Digest {
					t.Error("digest is not the SHA-256 of the signed bytes")
				}
				if got.Header.Provenance != nil {
					t.Error("provenance from nowhere")
				}
			})
		}
	}
}

// TestSealedHeaders pins the header parameters Seal writes, so that
// another implementation can be written from the package documentation.
func TestSealedHeaders(t *testing.T) {
	for _, s := range suites(t) {
		t.Run(s.name, func(t *testing.T) {
			w := newWorld(t, s)
			sealed := w.seal(KindRegistration)
			parts := strings.Split(string(sealed.Envelope), ".")
			var jwe map[string]any
			if err := json.Unmarshal(mustB64(t, parts[0]), &jwe); err != nil {
				t.Fatal(err)
			}
			wantJWE := []string{"alg", "aud", "cty", "enc", "iss", "kid"}
			if s.keyAlg == jose.ECDH_ES_A256KW {
				wantJWE = []string{"alg", "aud", "cty", "enc", "epk", "iss", "kid"}
			}
			if got := keysOf(jwe); !equalStrings(got, wantJWE) {
				t.Errorf("JWE header parameters %v, want %v", got, wantJWE)
			}
			if jwe["alg"] != string(s.keyAlg) || jwe["enc"] != "A256GCM" || jwe["cty"] != "JOSE" || jwe["iss"] != sender || jwe["aud"] != recipient || jwe["kid"] != w.dec.KeyID() {
				t.Errorf("JWE header %v", jwe)
			}
			var jws map[string]any
			if err := json.Unmarshal(mustB64(t, strings.Split(sealed.Signed, ".")[0]), &jws); err != nil {
				t.Fatal(err)
			}
			want := map[string]any{
				"alg": string(s.sigAlg), "kid": w.senderKey.KeyID(), "typ": TypRegistration, "cty": ContentTypeRegion,
				"iss": sender, "aud": recipient, "iat": float64(t0.Unix()), "exp": float64(t0.Add(2 * time.Minute).Unix()),
				"jti": sealed.Header.ID,
			}
			if len(jws) != len(want) {
				t.Errorf("JWS header %v, want %v", jws, want)
			}
			for k, v := range want {
				if jws[k] != v {
					t.Errorf("JWS %s = %v, want %v", k, jws[k], v)
				}
			}
			if got := strings.Split(sealed.Signed, ".")[1]; got != b64([]byte(payload)) {
				t.Error("the JWS payload is not the document, unchanged")
			}
		})
	}
}

// attack is one hostile envelope and the check that must refuse it.
type attack struct {
	name   string
	build  func(w *world) []byte
	expect func(e *Expect)
	check  Check
	err    error
}

// attacks are the hostile shapes of SECURITY.md, built for the world's
// key family. Except where the attack says otherwise, each is signed with
// the sender's real key and encrypted to the recipient's real key, so that
// only the named flaw can refuse it.
func attacks() []attack {
	reg := func(w *world) members { return w.jwsHeader() }
	outer := func(w *world) members { return w.jweHeader() }
	jwsWith := func(edit func(w *world, h members) members) func(w *world) []byte {
		return func(w *world) []byte { return w.envelope(edit(w, reg(w)), outer(w)) }
	}
	jweWith := func(edit func(w *world, h members) members) func(w *world) []byte {
		return func(w *world) []byte { return w.envelope(reg(w), edit(w, outer(w))) }
	}
	now := func(w *world) int64 { return w.clock.Now().Unix() }
	num := func(v int64) string { return strconv.FormatInt(v, 10) }
	// wrap encrypts an arbitrary inner JWS to the recipient, correctly.
	wrap := func(w *world, jws string) []byte {
		return encryptRaw(w.t, w.dec.EncryptionKey(), outer(w), []byte(jws))
	}

	list := []attack{
		{name: "baseline: the raw builders make an envelope Open accepts",
			build: func(w *world) []byte { return w.envelope(reg(w), outer(w)) }},

		// Algorithms.
		{name: "alg none", check: CheckAlgorithm, err: ErrAlgorithm,
			build: func(w *world) []byte {
				return wrap(w, signRaw(w.t, nil, reg(w).set("alg", `"none"`).json(), []byte(payload)))
			}},
		{name: "HS256 with the sender's public key as the HMAC secret", check: CheckAlgorithm, err: ErrAlgorithm,
			build: func(w *world) []byte {
				der, err := x509.MarshalPKIXPublicKey(w.s.sender.Public())
				if err != nil {
					w.t.Fatal(err)
				}
				return wrap(w, signRaw(w.t, der, reg(w).set("alg", `"HS256"`).json(), []byte(payload)))
			}},
		{name: "RS256 (not on the allow-list)", check: CheckAlgorithm, err: ErrAlgorithm,
			build: jwsWith(func(w *world, h members) members { return h.set("alg", `"RS256"`) })},
		{name: "the other family's algorithm, signed by an attacker key of that other family", check: CheckAlgorithm, err: ErrAlgorithm,
			build: func(w *world) []byte {
				var key any
				alg := "PS256"
				if w.s.sigAlg == jose.PS256 {
					key, alg = mustEC(w.t), "ES256"
				} else {
					key = rsaSuite(w.t).stranger
				}
				return wrap(w, signRaw(w.t, key, reg(w).set("alg", js(alg)).json(), []byte(payload)))
			}},
		{name: "JWE alg dir", check: CheckAlgorithm, err: ErrAlgorithm,
			build: func(w *world) []byte {
				h := b64([]byte(`{"alg":"dir","enc":"A256GCM","cty":"JOSE","iss":"region:1081","aud":"gateway"}`))
				return []byte(h + "..AAAAAAAAAAAAAAAA.AAAA.AAAAAAAAAAAAAAAAAAAAAA")
			}},
		{name: "JWE key management of the right family but not allowed", check: CheckAlgorithm, err: ErrAlgorithm,
			build: func(w *world) []byte {
				alg := jose.ECDH_ES
				if w.s.keyAlg == jose.RSA_OAEP_256 {
					alg = jose.RSA1_5
				}
				opts := (&jose.EncrypterOptions{}).WithContentType("JOSE").WithHeader("iss", sender).WithHeader("aud", recipient)
				return encryptJose(w.t, alg, jose.A256GCM, publicOf(w.s.recipient), w.dec.KeyID(), opts, []byte(w.seal(KindRegistration).Signed))
			}},
		{name: "JWE enc A128GCM", check: CheckAlgorithm, err: ErrAlgorithm,
			build: func(w *world) []byte {
				opts := (&jose.EncrypterOptions{}).WithContentType("JOSE").WithHeader("iss", sender).WithHeader("aud", recipient)
				return encryptJose(w.t, w.s.keyAlg, jose.A128GCM, publicOf(w.s.recipient), w.dec.KeyID(), opts, []byte(w.seal(KindRegistration).Signed))
			}},
		{name: "JWE enc A256CBC-HS512", check: CheckAlgorithm, err: ErrAlgorithm,
			build: func(w *world) []byte {
				opts := (&jose.EncrypterOptions{}).WithContentType("JOSE").WithHeader("iss", sender).WithHeader("aud", recipient)
				return encryptJose(w.t, w.s.keyAlg, jose.A256CBC_HS512, publicOf(w.s.recipient), w.dec.KeyID(), opts, []byte(w.seal(KindRegistration).Signed))
			}},

		// Keys named or carried by the message.
		{name: "jwk in the JWS header: an attacker's key verifies its own signature", check: CheckHeader, err: ErrEmbeddedKey,
			build: func(w *world) []byte {
				attacker := w.s.stranger
				jwk, err := (&jose.JSONWebKey{Key: attacker.Public()}).MarshalJSON()
				if err != nil {
					w.t.Fatal(err)
				}
				h := reg(w).set("jwk", string(jwk)).without("kid")
				return wrap(w, signRaw(w.t, attacker, h.json(), []byte(payload)))
			}},
		{name: "jku in the JWS header", check: CheckHeader, err: ErrEmbeddedKey,
			build: jwsWith(func(w *world, h members) members { return h.set("jku", `"https://attacker.example/jwks.json"`) })},
		{name: "x5u in the JWS header", check: CheckHeader, err: ErrEmbeddedKey,
			build: jwsWith(func(w *world, h members) members { return h.set("x5u", `"https://attacker.example/cert.pem"`) })},
		{name: "x5c in the JWS header", check: CheckHeader, err: ErrEmbeddedKey,
			build: jwsWith(func(w *world, h members) members { return h.set("x5c", `["MIIBszCCAVmgAwIBAgIUZ"]`) })},
		{name: "jwk in the JWE header", check: CheckHeader, err: ErrEmbeddedKey,
			build: jweWith(func(w *world, h members) members {
				jwk, _ := (&jose.JSONWebKey{Key: w.s.stranger.Public()}).MarshalJSON()
				return h.set("jwk", string(jwk))
			})},
		{name: "jku in the JWE header", check: CheckHeader, err: ErrEmbeddedKey,
			build: jweWith(func(w *world, h members) members { return h.set("jku", `"https://attacker.example/jwks.json"`) })},

		// Signer, issuer, audience.
		{name: "signed by another authority with its own kid", check: CheckSignature, err: ErrUnknownKey,
			build: func(w *world) []byte {
				h := reg(w).set("kid", js(w.strangerK.KeyID()))
				return wrap(w, signRaw(w.t, w.s.stranger, h.json(), []byte(payload)))
			}},
		{name: "signed by another authority under the sender's kid", check: CheckSignature, err: ErrSignature,
			build: func(w *world) []byte { return wrap(w, signRaw(w.t, w.s.stranger, reg(w).json(), []byte(payload))) }},
		{name: "JWE iss is not the authenticated sender", check: CheckIssuer, err: ErrIssuer,
			build: jweWith(func(w *world, h members) members { return h.set("iss", js(stranger)) })},
		{name: "signed iss is not the authenticated sender", check: CheckIssuer, err: ErrIssuer,
			build: jwsWith(func(w *world, h members) members { return h.set("iss", js(stranger)) })},
		{name: "authenticated as another authority than iss", check: CheckIssuer, err: ErrIssuer,
			build:  func(w *world) []byte { return w.envelope(reg(w), outer(w)) },
			expect: func(e *Expect) { e.Sender = stranger }},
		{name: "surreptitious forwarding: a recipient re-encrypts the inner JWS to the gateway", check: CheckAudience, err: ErrAudience,
			build: func(w *world) []byte {
				// region:1081 signed it for municipality:0851, which forwards it
				// as if region:1081 had sent it to the gateway.
				inner := signRaw(w.t, w.s.sender, reg(w).set("aud", js(bystander)).json(), []byte(payload))
				return wrap(w, inner)
			}},
		{name: "surreptitious forwarding: JWE iss is the forwarder, JWS iss the original signer", check: CheckIssuer, err: ErrIssuer,
			build:  jweWith(func(w *world, h members) members { return h.set("iss", js(bystander)) }),
			expect: func(e *Expect) { e.Sender = sender }},
		{name: "JWE aud is not this recipient", check: CheckAudience, err: ErrAudience,
			build: jweWith(func(w *world, h members) members { return h.set("aud", js(bystander)) })},
		{name: "signed aud is another recipient", check: CheckAudience, err: ErrAudience,
			build: jwsWith(func(w *world, h members) members { return h.set("aud", js(bystander)) })},
		{name: "several audiences in the JWS", check: CheckAudience, err: ErrAudience,
			build: jwsWith(func(w *world, h members) members { return h.set("aud", js([]string{recipient, bystander})) })},
		{name: "one audience in an array", check: CheckAudience, err: ErrAudience,
			build: jwsWith(func(w *world, h members) members { return h.set("aud", js([]string{recipient})) })},
		{name: "several audiences in the JWE", check: CheckAudience, err: ErrAudience,
			build: jweWith(func(w *world, h members) members { return h.set("aud", js([]string{recipient, bystander})) })},

		// Header shape.
		{name: "extra JWS parameter", check: CheckHeader, err: ErrHeader,
			build: jwsWith(func(w *world, h members) members { return h.set("nonce", `"abc"`) })},
		{name: "extra JWE parameter", check: CheckHeader, err: ErrHeader,
			build: jweWith(func(w *world, h members) members { return h.set("p2c", `1000000`) })},
		{name: "jti in the JWE of a nested envelope", check: CheckHeader, err: ErrHeader,
			build: jweWith(func(w *world, h members) members { return h.set("jti", js(uuid(w.t))) })},
		{name: "b64 false in the JWS", check: CheckHeader, err: ErrHeader,
			build: jwsWith(func(w *world, h members) members { return h.set("b64", `false`) })},
		{name: "duplicate iss in the JWS (the last would win in encoding/json)", check: CheckHeader, err: ErrHeader,
			build: jwsWith(func(w *world, h members) members { return h.set("iss", js(stranger)).plus("iss", js(sender)) })},
		{name: "duplicate aud in the JWS", check: CheckHeader, err: ErrHeader,
			build: jwsWith(func(w *world, h members) members { return h.plus("aud", js(bystander)) })},
		{name: "duplicate alg in the JWS", check: CheckHeader, err: ErrHeader,
			build: jwsWith(func(w *world, h members) members { return h.plus("alg", `"none"`) })},
		{name: "duplicate aud in the JWE", check: CheckHeader, err: ErrHeader,
			build: jweWith(func(w *world, h members) members { return h.plus("aud", js(bystander)) })},
		{name: "case variant ISS beside iss in the JWS", check: CheckHeader, err: ErrHeader,
			build: jwsWith(func(w *world, h members) members { return h.plus("ISS", js(stranger)) })},
		{name: "case variant Aud instead of aud in the JWS", check: CheckHeader, err: ErrHeader,
			build: jwsWith(func(w *world, h members) members { return h.without("aud").set("Aud", js(recipient)) })},
		{name: "case variant Cty in the JWE", check: CheckHeader, err: ErrHeader,
			build: jweWith(func(w *world, h members) members { return h.plus("Cty", js("JOSE")) })},
		{name: "escaped duplicate key (\\u0069ss)", check: CheckHeader, err: ErrHeader,
			build: jwsWith(func(w *world, h members) members { return h.plus(`\u0069ss`, js(stranger)) })},
		{name: "iat as a string", check: CheckHeader, err: ErrHeader,
			build: jwsWith(func(w *world, h members) members { return h.set("iat", js(num(now(w)))) })},
		{name: "iat with a fraction", check: CheckHeader, err: ErrHeader,
			build: jwsWith(func(w *world, h members) members { return h.set("iat", num(now(w))+".5") })},
		{name: "exp far beyond year 9999", check: CheckHeader, err: ErrHeader,
			build: jwsWith(func(w *world, h members) members { return h.set("exp", "9223372036854775807") })},
		{name: "empty kid", check: CheckHeader, err: ErrHeader,
			build: jwsWith(func(w *world, h members) members { return h.set("kid", `""`) })},
		{name: "unknown crit in the JWS", check: CheckHeader, err: ErrCritical,
			build: jwsWith(func(w *world, h members) members { return h.set("crit", `["exp"]`) })},
		{name: "unknown crit in the JWE", check: CheckHeader, err: ErrCritical,
			build: jweWith(func(w *world, h members) members { return h.set("crit", `["iss"]`).set("x-ext", `1`) })},
		{name: "compressed JWE (zip DEF)", check: CheckHeader, err: ErrCompressed,
			build: func(w *world) []byte {
				opts := &jose.EncrypterOptions{Compression: jose.DEFLATE}
				opts.WithContentType("JOSE").WithHeader("iss", sender).WithHeader("aud", recipient)
				return encryptJose(w.t, w.s.keyAlg, jose.A256GCM, publicOf(w.s.recipient), w.dec.KeyID(), opts, []byte(w.seal(KindRegistration).Signed))
			}},
		{name: "epk in an RSA JWE, or a second epk in an EC JWE", check: CheckHeader, err: ErrHeader,
			build: jweWith(func(w *world, h members) members {
				return h.plus("epk", `{"kty":"EC","crv":"P-256","x":"AAAA","y":"AAAA"}`)
			})},
		{name: "JWE cty is not JOSE", check: CheckHeader, err: ErrContentType,
			build: jweWith(func(w *world, h members) members { return h.set("cty", `"JWT"`) })},
		{name: "JWS cty is not the sender's format", check: CheckHeader, err: ErrContentType,
			build: jwsWith(func(w *world, h members) members { return h.set("cty", js(ContentTypeMunicipality)) })},
		{name: "typ JWT", check: CheckTyp, err: ErrTyp,
			build: jwsWith(func(w *world, h members) members { return h.set("typ", `"JWT"`) })},
		{name: "typ of a receipt", check: CheckTyp, err: ErrTyp,
			build: jwsWith(func(w *world, h members) members { return h.set("typ", js(TypReceipt)) })},
		{name: "a withdrawal where only registrations are taken", check: CheckTyp, err: ErrTyp,
			build:  jwsWith(func(w *world, h members) members { return h.set("typ", js(TypWithdrawal)) }),
			expect: func(e *Expect) { e.Kinds = []Kind{KindRegistration} }},

		// Time and identity.
		{name: "expired", check: CheckExpiry, err: ErrExpired,
			build: jwsWith(func(w *world, h members) members {
				return h.set("iat", num(now(w)-300)).set("exp", num(now(w)-61))
			})},
		{name: "exp - iat longer than 5 minutes", check: CheckExpiry, err: ErrLifetime,
			build: jwsWith(func(w *world, h members) members { return h.set("exp", num(now(w)+301)) })},
		{name: "exp equal to iat", check: CheckExpiry, err: ErrLifetime,
			build: jwsWith(func(w *world, h members) members { return h.set("exp", num(now(w))) })},
		{name: "iat in the future beyond the leeway", check: CheckIssuedAt, err: ErrNotYetValid,
			build: jwsWith(func(w *world, h members) members {
				return h.set("iat", num(now(w)+61)).set("exp", num(now(w)+120))
			})},
		{name: "jti not a UUID", check: CheckID, err: ErrMessageID,
			build: jwsWith(func(w *world, h members) members { return h.set("jti", `"1"`) })},
		{name: "jti an upper-case UUID", check: CheckID, err: ErrMessageID,
			build: jwsWith(func(w *world, h members) members { return h.set("jti", js(strings.ToUpper(uuid(w.t)))) })},
		{name: "provenance from an authority that is not the gateway", check: CheckHeader, err: ErrProvenance,
			build: jwsWith(func(w *world, h members) members {
				return h.set("orig_iss", js(stranger)).set("orig_jti", js(uuid(w.t))).set("orig_digest", js(DigestOf(nil).String()))
			})},

		// Ciphertext and structure.
		{name: "tampered ciphertext", check: CheckDecrypt, err: ErrDecrypt,
			build: func(w *world) []byte { return tamper(w.seal(KindRegistration).Envelope, 3) }},
		{name: "tampered tag", check: CheckDecrypt, err: ErrDecrypt,
			build: func(w *world) []byte { return tamper(w.seal(KindRegistration).Envelope, 4) }},
		{name: "JWE header rewritten after encryption (its AAD)", check: CheckDecrypt, err: ErrDecrypt,
			build: func(w *world) []byte {
				parts := strings.Split(string(w.seal(KindRegistration).Envelope), ".")
				parts[0] = b64(append([]byte("{ "), mustB64(w.t, parts[0])[1:]...))
				return []byte(strings.Join(parts, "."))
			}},
		{name: "encrypted to another key under the recipient's kid", check: CheckDecrypt, err: ErrDecrypt,
			build: func(w *world) []byte {
				other, err := NewDecryptionKey(otherPrivate(w), w.dec.KeyID())
				if err != nil {
					w.t.Fatal(err)
				}
				return encryptRaw(w.t, other.EncryptionKey(), outer(w), []byte(w.seal(KindRegistration).Signed))
			}},
		{name: "JWE kid names no key of the recipient", check: CheckDecrypt, err: ErrUnknownKey,
			build: jweWith(func(w *world, h members) members { return h.set("kid", `"retired-2025"`) })},
		{name: "plaintext is not a JWS", check: CheckFormat, err: ErrMalformed,
			build: func(w *world) []byte { return wrap(w, payload) }},
		{name: "plaintext is a JWS in JSON serialization", check: CheckFormat, err: ErrMalformed,
			build: func(w *world) []byte {
				parts := strings.Split(signRaw(w.t, w.s.sender, reg(w).json(), []byte(payload)), ".")
				return wrap(w, js(map[string]string{"protected": parts[0], "payload": parts[1], "signature": parts[2]}))
			}},
		{name: "JWE in JSON serialization", check: CheckFormat, err: ErrMalformed,
			build: func(w *world) []byte {
				parts := strings.Split(string(w.seal(KindRegistration).Envelope), ".")
				return []byte(js(map[string]string{"protected": parts[0], "encrypted_key": parts[1], "iv": parts[2], "ciphertext": parts[3], "tag": parts[4]}))
			}},
		{name: "JWE header with base64 padding", check: CheckFormat, err: ErrMalformed,
			build: func(w *world) []byte {
				parts := strings.Split(string(w.seal(KindRegistration).Envelope), ".")
				parts[0] += "="
				return []byte(strings.Join(parts, "."))
			}},
		{name: "six parts", check: CheckFormat, err: ErrMalformed,
			build: func(w *world) []byte { return append(w.seal(KindRegistration).Envelope, ".AAAA"...) }},
		{name: "oversized envelope", check: CheckSize, err: ErrTooLarge,
			build: func(w *world) []byte { return bytes.Repeat([]byte("A"), MaxEnvelopeBytes+1) }},
		{name: "empty envelope", check: CheckSize, err: ErrMalformed,
			build: func(w *world) []byte { return nil }},
	}
	for _, p := range []string{"kid", "typ", "cty", "iss", "aud", "iat", "exp", "jti"} {
		list = append(list, attack{name: "JWS without " + p, check: CheckHeader, err: ErrHeader,
			build: jwsWith(func(w *world, h members) members { return h.without(p) })})
	}
	for _, p := range []string{"cty", "iss", "aud"} {
		list = append(list, attack{name: "JWE without " + p, check: CheckHeader, err: ErrHeader,
			build: jweWith(func(w *world, h members) members { return h.without(p) })})
	}
	return list
}

func TestOpenRefusesHostileEnvelopes(t *testing.T) {
	for _, s := range suites(t) {
		for _, a := range attacks() {
			t.Run(s.name+"/"+a.name, func(t *testing.T) {
				w := newWorld(t, s)
				env := a.build(w)
				exp := w.expect
				if a.expect != nil {
					a.expect(&exp)
				}
				got, err := w.opener.Open(context.Background(), env, exp)
				if a.err == nil {
					if err != nil {
						t.Fatalf("Open refused the baseline: %v", err)
					}
					return
				}
				if got != nil {
					t.Error("a refused envelope came with a result")
				}
				var oe *OpenError
				if !errors.As(err, &oe) {
					t.Fatalf("error %v (%T) is not an *OpenError", err, err)
				}
				if oe.Check != a.check || !errors.Is(err, a.err) {
					t.Errorf("refused by %q with %v; want check %q and %v", oe.Check, err, a.check, a.err)
				}
				if len(err.Error()) > 200 {
					t.Errorf("error message of %d bytes", len(err.Error()))
				}
				if w.replay.Len() != 0 {
					t.Error("a refused message reached the replay cache")
				}
			})
		}
	}
}

func TestOpenReplay(t *testing.T) {
	for _, s := range suites(t) {
		t.Run(s.name, func(t *testing.T) {
			w := newWorld(t, s)
			sealed := w.seal(KindRegistration)
			if _, err := w.opener.Open(context.Background(), sealed.Envelope, w.expect); err != nil {
				t.Fatal(err)
			}
			_, err := w.opener.Open(context.Background(), sealed.Envelope, w.expect)
			if !errors.Is(err, ErrReplay) {
				t.Fatalf("second Open: %v, want a replay", err)
			}
			// The same signed message re-encrypted (a fresh JWE) is still a replay.
			again := encryptRaw(t, w.dec.EncryptionKey(), w.jweHeader(), []byte(sealed.Signed))
			if _, err := w.opener.Open(context.Background(), again, w.expect); !errors.Is(err, ErrReplay) {
				t.Fatalf("re-encrypted: %v, want a replay", err)
			}
			// Another issuer's message with the same jti is not.
			h := w.jwsHeader().set("iss", js(stranger)).set("kid", js(w.strangerK.KeyID())).set("jti", js(sealed.Header.ID))
			other := encryptRaw(t, w.dec.EncryptionKey(), w.jweHeader().set("iss", js(stranger)), []byte(signRaw(t, s.stranger, h.json(), []byte(payload))))
			exp := w.expect
			exp.Sender = stranger
			if _, err := w.opener.Open(context.Background(), other, exp); err != nil {
				t.Fatalf("another issuer's jti: %v", err)
			}
		})
	}
}

func TestOpenLeeway(t *testing.T) {
	w := newWorld(t, ecSuite(t))
	cases := []struct {
		name     string
		iat, exp int64 // relative to now, seconds
		ok       bool
	}{
		{"iat at the leeway", 60, 120, true},
		{"iat past the leeway", 61, 120, false},
		{"exp within the leeway", -200, -59, true},
		{"exp at the leeway", -200, -60, false},
		{"lifetime exactly 5 minutes", -10, 290, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			now := w.clock.Now().Unix()
			h := w.jwsHeader().set("iat", strconv.FormatInt(now+c.iat, 10)).set("exp", strconv.FormatInt(now+c.exp, 10))
			_, err := w.opener.Open(context.Background(), w.envelope(h, w.jweHeader()), w.expect)
			if (err == nil) != c.ok {
				t.Errorf("Open: %v, want ok=%v", err, c.ok)
			}
		})
	}
}

func TestOpenExpiresWithTheClock(t *testing.T) {
	w := newWorld(t, ecSuite(t))
	sealed := w.seal(KindRegistration)
	w.clock.Advance(defaultLifetime + DefaultLeeway)
	_, err := w.opener.Open(context.Background(), sealed.Envelope, w.expect)
	if !errors.Is(err, ErrExpired) {
		t.Fatalf("Open after exp + leeway: %v", err)
	}
}

func TestOpenDecryptionKeyRollover(t *testing.T) {
	w := newWorld(t, ecSuite(t))
	previous, err := NewDecryptionKey(mustEC(t), "")
	if err != nil {
		t.Fatal(err)
	}
	retired, err := NewDecryptionKey(mustEC(t), "")
	if err != nil {
		t.Fatal(err)
	}
	opener, err := NewOpener(OpenerConfig{DecryptionKeys: []DecryptionKey{w.dec, previous}, Senders: w.trust, Replay: w.replay, Clock: w.clock})
	if err != nil {
		t.Fatal(err)
	}
	sealTo := func(k EncryptionKey) []byte {
		s, err := w.sealer.Seal(context.Background(), Message{Kind: KindRegistration, ContentType: ContentTypeRegion, Recipient: recipient, To: k, Payload: []byte(payload)})
		if err != nil {
			t.Fatal(err)
		}
		return s.Envelope
	}
	noKid := func(k EncryptionKey) []byte {
		return encryptRaw(t, k, w.jweHeader().without("kid"), []byte(signRaw(t, w.s.sender, w.jwsHeader().json(), []byte(payload))))
	}
	cases := []struct {
		name string
		env  []byte
		err  error
	}{
		{"to the current key", sealTo(w.dec.EncryptionKey()), nil},
		{"to the previous key, by kid", sealTo(previous.EncryptionKey()), nil},
		// A JWE without kid is refused before any key is tried, even one
		// that one of the keys would decrypt.
		{"to the current key, without kid", noKid(w.dec.EncryptionKey()), ErrHeader},
		{"to the previous key, without kid", noKid(previous.EncryptionKey()), ErrHeader},
		{"to a retired key, by kid", sealTo(retired.EncryptionKey()), ErrUnknownKey},
		{"to a retired key, without kid", noKid(retired.EncryptionKey()), ErrHeader},
		// A kid that names a key is tried with that key only.
		{"to the previous key, under the current key's kid", encryptRaw(t, previous.EncryptionKey(),
			w.jweHeader().set("kid", js(w.dec.EncryptionKey().KeyID)), []byte(signRaw(t, w.s.sender, w.jwsHeader().json(), []byte(payload)))), ErrDecrypt},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := opener.Open(context.Background(), c.env, w.expect)
			if !errors.Is(err, c.err) || (c.err == nil && err != nil) {
				t.Errorf("Open: %v, want %v", err, c.err)
			}
		})
	}
}

func TestOpenTrustStoreFailures(t *testing.T) {
	w := newWorld(t, ecSuite(t))
	cases := []struct {
		name  string
		keys  SenderKeys
		check Check
		err   error
	}{
		{"store fails", failingStore{}, CheckKeys, ErrUnavailable},
		{"HMAC key in the store", trustStore{sender: {{KeyID: w.senderKey.KeyID(), Algorithm: jose.HS256, Key: []byte("0123456789abcdef0123456789abcdef")}}}, CheckKeys, ErrUnavailable},
		{"key whose algorithm is not its own", trustStore{sender: {{KeyID: w.senderKey.KeyID(), Algorithm: jose.PS256, Key: w.senderKey.Public()}}}, CheckKeys, ErrUnavailable},
		{"unknown sender", trustStore{}, CheckSignature, ErrUnknownKey},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o, err := NewOpener(OpenerConfig{DecryptionKeys: []DecryptionKey{w.dec}, Senders: c.keys, Replay: w.replay, Clock: w.clock})
			if err != nil {
				t.Fatal(err)
			}
			_, err = o.Open(context.Background(), w.seal(KindRegistration).Envelope, w.expect)
			var oe *OpenError
			if !errors.As(err, &oe) || oe.Check != c.check || !errors.Is(err, c.err) {
				t.Errorf("Open: %v, want check %q with %v", err, c.check, c.err)
			}
		})
	}
}

type failingStore struct{}

func (failingStore) VerificationKeys(context.Context, string) ([]VerificationKey, error) {
	return nil, errors.New("directory not loaded")
}

func TestOpenErrorsDoNotEchoInput(t *testing.T) {
	w := newWorld(t, ecSuite(t))
	long := strings.Repeat("A", 4000)
	envs := [][]byte{
		w.envelope(w.jwsHeader().set(long, `1`), w.jweHeader()),
		w.envelope(w.jwsHeader().set("alg", js(long)), w.jweHeader()),
		w.envelope(w.jwsHeader(), w.jweHeader().set("iss", js(long))),
	}
	for i, env := range envs {
		_, err := w.opener.Open(context.Background(), env, w.expect)
		if err == nil || len(err.Error()) > 200 || strings.Contains(err.Error(), strings.Repeat("A", 40)) {
			t.Errorf("envelope %d: error %q", i, err)
		}
	}
}

func TestProvenance(t *testing.T) {
	gw := newWorld(t, ecSuite(t))
	// The gateway seals for municipality:0851; the municipality opens.
	munDec, err := NewDecryptionKey(mustEC(t), "")
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := NewSealer(SealerConfig{Issuer: GatewayID, Key: gw.gateway, Clock: gw.clock})
	if err != nil {
		t.Fatal(err)
	}
	mun, err := NewOpener(OpenerConfig{DecryptionKeys: []DecryptionKey{munDec}, Senders: gw.trust, Replay: gw.replay, Clock: gw.clock})
	if err != nil {
		t.Fatal(err)
	}
	orig := gw.seal(KindRegistration)
	prov := &Provenance{Issuer: sender, ID: orig.Header.ID, Digest: orig.Digest}
	msg := Message{Kind: KindRegistration, ContentType: ContentTypeCommon, Recipient: bystander, To: munDec.EncryptionKey(), Payload: []byte(payload), Provenance: prov}
	sealed, err := sealer.Seal(context.Background(), msg)
	if err != nil {
		t.Fatal(err)
	}
	exp := Expect{Sender: GatewayID, Recipient: bystander, Kinds: []Kind{KindRegistration}, ContentType: ContentTypeCommon}
	got, err := mun.Open(context.Background(), sealed.Envelope, exp)
	if err != nil {
		t.Fatal(err)
	}
	if got.Header.Provenance == nil || *got.Header.Provenance != *prov {
		t.Fatalf("provenance %+v, want %+v", got.Header.Provenance, prov)
	}

	// Incomplete or malformed provenance from the gateway is refused.
	gwHeader := func() members {
		return gw.jwsHeader().set("kid", js(gw.gateway.KeyID())).set("alg", `"ES256"`).set("iss", js(GatewayID)).
			set("aud", js(bystander)).set("cty", js(ContentTypeCommon))
	}
	jwe := members{{"kid", js(munDec.EncryptionKey().KeyID)}, {"cty", `"JOSE"`}, {"iss", js(GatewayID)}, {"aud", js(bystander)}}
	for name, h := range map[string]members{
		"orig_iss only":      gwHeader().set("orig_iss", js(sender)),
		"malformed digest":   gwHeader().set("orig_iss", js(sender)).set("orig_jti", js(uuid(t))).set("orig_digest", `"abc"`),
		"orig_jti not UUID":  gwHeader().set("orig_iss", js(sender)).set("orig_jti", `"x"`).set("orig_digest", js(orig.Digest.String())),
		"orig_iss not an id": gwHeader().set("orig_iss", js("CVR:29190623")).set("orig_jti", js(uuid(t))).set("orig_digest", js(orig.Digest.String())),
	} {
		t.Run(name, func(t *testing.T) {
			env := encryptRaw(t, munDec.EncryptionKey(), jwe, []byte(signRaw(t, gatewaySigner(t, gw), h.json(), []byte(payload))))
			_, err := mun.Open(context.Background(), env, exp)
			if !errors.Is(err, ErrProvenance) {
				t.Errorf("Open: %v, want ErrProvenance", err)
			}
		})
	}

	// Seal refuses provenance from anyone but the gateway.
	msg.Recipient, msg.To = recipient, gw.dec.EncryptionKey()
	if _, err := gw.sealer.Seal(context.Background(), msg); !errors.Is(err, ErrProvenance) {
		t.Errorf("a region sealed provenance: %v", err)
	}
}

// gatewaySigner returns the private key behind w.gateway (an EC key made
// by newWorld), recovered through the crypto.Signer adapter.
func gatewaySigner(t *testing.T, w *world) any {
	t.Helper()
	cs, ok := w.gateway.signer.(*cryptoSigner)
	if !ok {
		t.Fatal("the gateway key is not a crypto.Signer")
	}
	return cs.s
}

func tamper(env []byte, part int) []byte {
	parts := strings.Split(string(env), ".")
	b := []byte(parts[part])
	if b[0] == 'A' {
		b[0] = 'B'
	} else {
		b[0] = 'A'
	}
	parts[part] = string(b)
	return []byte(strings.Join(parts, "."))
}

// otherPrivate is a fresh private key of the world's family.
func otherPrivate(w *world) any {
	if _, ok := w.s.recipient.(*rsa.PrivateKey); ok {
		return w.s.stranger
	}
	return mustEC(w.t)
}

// TestConstructorsRequireAClock: no part of the envelope falls back to the
// wall clock.
func TestConstructorsRequireAClock(t *testing.T) {
	w := newWorld(t, ecSuite(t))
	if _, err := NewSealer(SealerConfig{Issuer: sender, Key: w.senderKey}); err == nil {
		t.Error("NewSealer accepted a config without a Clock")
	}
	if _, err := NewOpener(OpenerConfig{DecryptionKeys: []DecryptionKey{w.dec}, Senders: w.trust, Replay: w.replay}); err == nil {
		t.Error("NewOpener accepted a config without a Clock")
	}
	if _, err := NewMemoryReplayCache(MemoryReplayCacheConfig{}); err == nil {
		t.Error("NewMemoryReplayCache accepted a config without a Clock")
	}
}
