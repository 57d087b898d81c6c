package envelope

import (
	"context"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	josecipher "github.com/go-jose/go-jose/v4/cipher"

	"github.com/psykosocial/exchange/internal/clock"
)

// Authority ids of the test world: region:1081 sends to the gateway.
const (
	sender    = "region:1081"
	stranger  = "region:1082"
	recipient = GatewayID
	bystander = "municipality:0851"
)

// t0 is the fake clock's start.
var t0 = time.Date(2026, 11, 25, 13, 30, 0, 0, time.UTC)

// newClock is the injected clock of every test, at t0.
func newClock() *clock.Fake { return clock.NewFake(t0) }

// trustStore is a SenderKeys of fixed keys.
type trustStore map[string][]VerificationKey

func (s trustStore) VerificationKeys(_ context.Context, id string) ([]VerificationKey, error) {
	return s[id], nil
}

// suite is one family of keys: P-256 everywhere, or RSA-3072 everywhere.
type suite struct {
	name      string
	sigAlg    jose.SignatureAlgorithm
	keyAlg    jose.KeyAlgorithm
	sender    crypto.Signer     // region:1081's signing key
	stranger  crypto.Signer     // region:1082's signing key
	recipient crypto.PrivateKey // the gateway's decryption key
}

func mustEC(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func ecSuite(t testing.TB) *suite {
	return &suite{name: "P-256", sigAlg: jose.ES256, keyAlg: jose.ECDH_ES_A256KW,
		sender: mustEC(t), stranger: mustEC(t), recipient: mustEC(t)}
}

// rsaKeys are generated once per test binary: RSA-3072 takes a while.
var rsaKeys = sync.OnceValues(func() ([3]*rsa.PrivateKey, error) {
	var keys [3]*rsa.PrivateKey
	var errs [3]error
	var wg sync.WaitGroup
	for i := range keys {
		wg.Go(func() { keys[i], errs[i] = rsa.GenerateKey(rand.Reader, 3072) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return keys, err
		}
	}
	return keys, nil
})

func rsaSuite(t testing.TB) *suite {
	t.Helper()
	keys, err := rsaKeys()
	if err != nil {
		t.Fatal(err)
	}
	return &suite{name: "RSA-3072", sigAlg: jose.PS256, keyAlg: jose.RSA_OAEP_256,
		sender: keys[0], stranger: keys[1], recipient: keys[2]}
}

func suites(t testing.TB) []*suite { return []*suite{ecSuite(t), rsaSuite(t)} }

// world is a sender (region:1081), a stranger (region:1082), the gateway
// as recipient with its own signing key, a trust store and an Opener.
type world struct {
	t         testing.TB
	s         *suite
	clock     *clock.Fake
	senderKey *SigningKey
	strangerK *SigningKey
	gateway   *SigningKey
	dec       DecryptionKey
	trust     trustStore
	replay    *MemoryReplayCache
	opener    *Opener
	sealer    *Sealer
	expect    Expect
}

func newWorld(t testing.TB, s *suite) *world {
	t.Helper()
	w := &world{t: t, s: s, clock: newClock()}
	var err error
	if w.senderKey, err = NewSigningKey(s.sender, ""); err != nil {
		t.Fatal(err)
	}
	if w.strangerK, err = NewSigningKey(s.stranger, ""); err != nil {
		t.Fatal(err)
	}
	if w.gateway, err = NewSigningKey(mustEC(t), ""); err != nil {
		t.Fatal(err)
	}
	if w.dec, err = NewDecryptionKey(s.recipient, ""); err != nil {
		t.Fatal(err)
	}
	w.trust = trustStore{
		sender:    {w.senderKey.VerificationKey()},
		stranger:  {w.strangerK.VerificationKey()},
		GatewayID: {w.gateway.VerificationKey()},
	}
	if w.replay, err = NewMemoryReplayCache(MemoryReplayCacheConfig{Clock: w.clock}); err != nil {
		t.Fatal(err)
	}
	if w.opener, err = NewOpener(OpenerConfig{DecryptionKeys: []DecryptionKey{w.dec}, Senders: w.trust, Replay: w.replay, Clock: w.clock}); err != nil {
		t.Fatal(err)
	}
	if w.sealer, err = NewSealer(SealerConfig{Issuer: sender, Key: w.senderKey, Clock: w.clock}); err != nil {
		t.Fatal(err)
	}
	w.expect = Expect{Sender: sender, Recipient: recipient, Kinds: []Kind{KindRegistration, KindWithdrawal}, ContentType: ContentTypeRegion}
	return w
}

// payload is a stand-in for a region document.
const payload = `{"schema":"region-registration/v1","records":[{"id":"7c1e0b2a-4f3d-4a8e-9b61-2d5f0c9e8a10"}]}`

func (w *world) seal(kind Kind) *Sealed {
	w.t.Helper()
	sealed, err := w.sealer.Seal(context.Background(), Message{
		Kind: kind, ContentType: ContentTypeRegion, Recipient: recipient,
		To: w.dec.EncryptionKey(), Payload: []byte(payload),
	})
	if err != nil {
		w.t.Fatal(err)
	}
	return sealed
}

// member is one raw protected header parameter; members keep their order
// and may repeat, so that hostile headers can be written exactly.
type member struct{ name, raw string }

type members []member

func (m members) json() string {
	parts := make([]string, len(m))
	for i, p := range m {
		name := strconv.Quote(p.name)
		if strings.Contains(p.name, `\`) {
			name = `"` + p.name + `"` // a name written with JSON escapes, kept as written
		}
		parts[i] = name + ":" + p.raw
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// set replaces the first member called name, or appends it.
func (m members) set(name, raw string) members {
	out := append(members(nil), m...)
	for i := range out {
		if out[i].name == name {
			out[i].raw = raw
			return out
		}
	}
	return append(out, member{name, raw})
}

// plus appends a member even if one of that name exists.
func (m members) plus(name, raw string) members {
	return append(append(members(nil), m...), member{name, raw})
}

func (m members) without(name string) members {
	var out members
	for _, p := range m {
		if p.name != name {
			out = append(out, p)
		}
	}
	return out
}

// js is the JSON of v.
func js(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func uuid(t testing.TB) string {
	id, err := NewMessageID(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// jwsHeaderOf is a valid message JWS header from region:1081 to the gateway.
func (w *world) jwsHeader() members {
	now := w.clock.Now().Unix()
	return members{
		{"alg", js(string(w.s.sigAlg))},
		{"kid", js(w.senderKey.KeyID())},
		{"typ", js(TypRegistration)},
		{"cty", js(ContentTypeRegion)},
		{"iss", js(sender)},
		{"aud", js(recipient)},
		{"iat", strconv.FormatInt(now, 10)},
		{"exp", strconv.FormatInt(now+120, 10)},
		{"jti", js(uuid(w.t))},
	}
}

// jweHeader is the valid JWE parameters besides alg, enc and epk.
func (w *world) jweHeader() members {
	return members{
		{"cty", js(ContentTypeJOSE)},
		{"kid", js(w.dec.KeyID())},
		{"iss", js(sender)},
		{"aud", js(recipient)},
	}
}

// signRaw signs header.payload with the algorithm of key: ES256 for an
// EC key, PS256 for an RSA key, HS256 for a []byte secret, none for nil.
func signRaw(t testing.TB, key any, header string, body []byte) string {
	t.Helper()
	input := b64([]byte(header)) + "." + b64(body)
	digest := sha256.Sum256([]byte(input))
	var sig []byte
	switch k := key.(type) {
	case nil:
	case []byte:
		m := hmac.New(sha256.New, k)
		m.Write([]byte(input))
		sig = m.Sum(nil)
	case *ecdsa.PrivateKey:
		der, err := ecdsa.SignASN1(rand.Reader, k, digest[:])
		if err != nil {
			t.Fatal(err)
		}
		if sig, err = derToRaw(der, 32); err != nil {
			t.Fatal(err)
		}
	case *rsa.PrivateKey:
		var err error
		if sig, err = rsa.SignPSS(rand.Reader, k, crypto.SHA256, digest[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}); err != nil {
			t.Fatal(err)
		}
	default:
		t.Fatalf("signRaw: %T", key)
	}
	return input + "." + b64(sig)
}

// encryptRaw encrypts plaintext to the key `to` as a compact JWE whose
// header is alg, enc (and epk) followed by the members exactly as given.
func encryptRaw(t testing.TB, to EncryptionKey, hdr members, plaintext []byte) []byte {
	t.Helper()
	cek := make([]byte, 32)
	rand.Read(cek)
	var encKey []byte
	var prefix members
	switch to.Algorithm {
	case jose.ECDH_ES_A256KW:
		eph := mustEC(t)
		kek := josecipher.DeriveECDHES(string(jose.ECDH_ES_A256KW), nil, nil, eph, to.Key.(*ecdsa.PublicKey), 32)
		block, err := aes.NewCipher(kek)
		if err != nil {
			t.Fatal(err)
		}
		if encKey, err = josecipher.KeyWrap(block, cek); err != nil {
			t.Fatal(err)
		}
		epk, err := (&jose.JSONWebKey{Key: &eph.PublicKey}).MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		prefix = members{{"alg", js(string(to.Algorithm))}, {"enc", `"A256GCM"`}, {"epk", string(epk)}}
	case jose.RSA_OAEP_256:
		var err error
		if encKey, err = rsa.EncryptOAEP(sha256.New(), rand.Reader, to.Key.(*rsa.PublicKey), cek, nil); err != nil {
			t.Fatal(err)
		}
		prefix = members{{"alg", js(string(to.Algorithm))}, {"enc", `"A256GCM"`}}
	default:
		t.Fatalf("encryptRaw: %s", to.Algorithm)
	}
	h64 := b64([]byte(append(prefix, hdr...).json()))
	block, err := aes.NewCipher(cek)
	if err != nil {
		t.Fatal(err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	iv := make([]byte, gcm.NonceSize())
	rand.Read(iv)
	sealed := gcm.Seal(nil, iv, plaintext, []byte(h64))
	ct, tag := sealed[:len(sealed)-gcm.Overhead()], sealed[len(sealed)-gcm.Overhead():]
	return []byte(strings.Join([]string{h64, b64(encKey), b64(iv), b64(ct), b64(tag)}, "."))
}

// envelope builds an envelope from region:1081 to the gateway, signed with
// the sender's key, with the given JWS and JWE header parameters.
func (w *world) envelope(jws, jwe members) []byte {
	w.t.Helper()
	return encryptRaw(w.t, w.dec.EncryptionKey(), jwe, []byte(signRaw(w.t, w.s.sender, jws.json(), []byte(payload))))
}

// encryptJose encrypts plaintext with go-jose and arbitrary options.
func encryptJose(t testing.TB, alg jose.KeyAlgorithm, enc jose.ContentEncryption, to crypto.PublicKey, kid string, opts *jose.EncrypterOptions, plaintext []byte) []byte {
	t.Helper()
	e, err := jose.NewEncrypter(enc, jose.Recipient{Algorithm: alg, Key: to, KeyID: kid}, opts)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := e.Encrypt(plaintext)
	if err != nil {
		t.Fatal(err)
	}
	s, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return []byte(s)
}

func publicOf(k crypto.PrivateKey) crypto.PublicKey {
	return k.(crypto.Signer).Public()
}

func mustB64(t testing.TB, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func keysOf(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func equalStrings(a, b []string) bool { return slices.Equal(a, b) }
