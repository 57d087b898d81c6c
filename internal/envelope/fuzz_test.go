package envelope

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
)

// fixedEC derives a P-256 key from label, so that the coordinator and the
// workers of a fuzzing run (separate processes) share the keys that the
// seed envelopes were made with.
func fixedEC(t testing.TB, label string) *ecdsa.PrivateKey {
	t.Helper()
	d := sha256.Sum256([]byte("envelope fuzz key " + label))
	k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), d[:])
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func fuzzWorld(t testing.TB) *world {
	return newWorld(t, &suite{name: "P-256", sigAlg: jose.ES256, keyAlg: jose.ECDH_ES_A256KW,
		sender: fixedEC(t, "sender"), stranger: fixedEC(t, "stranger"), recipient: fixedEC(t, "recipient")})
}

// FuzzOpen feeds Open valid and hostile envelopes and their mutations.
// Properties: it never panics; an error is an *OpenError, comes without a
// result and has a short message; a nil error comes with the payload, the
// expected sender and the digest of the signed bytes.
func FuzzOpen(f *testing.F) {
	w := fuzzWorld(f)
	f.Add(w.seal(KindRegistration).Envelope)
	f.Add(w.seal(KindWithdrawal).Envelope)
	for _, a := range attacks() {
		if strings.Contains(a.name, "other family") {
			continue // it needs RSA-3072 keys: too slow for every fuzz worker's start
		}
		if env := a.build(w); len(env) < 64<<10 {
			f.Add(env)
		}
	}
	f.Fuzz(func(t *testing.T, env []byte) {
		replay, err := NewMemoryReplayCache(MemoryReplayCacheConfig{Clock: w.clock})
		if err != nil {
			t.Fatal(err)
		}
		o, err := NewOpener(OpenerConfig{DecryptionKeys: []DecryptionKey{w.dec}, Senders: w.trust, Replay: replay, Clock: w.clock})
		if err != nil {
			t.Fatal(err)
		}
		got, err := o.Open(context.Background(), env, w.expect)
		if err != nil {
			var oe *OpenError
			if got != nil || !errors.As(err, &oe) || len(err.Error()) > 300 {
				t.Fatalf("error %v (%T) with result %v", err, err, got != nil)
			}
			return
		}
		if got == nil || len(got.Payload) == 0 || got.Sender != sender || got.Header.Issuer != sender ||
			got.Header.Audience != recipient || got.Digest != DigestOf([]byte(got.Signed)) || !ValidMessageID(got.Header.ID) {
			t.Fatalf("accepted with an incomplete result: %+v", got)
		}
	})
}

// FuzzVerifyReceipt: never panics; an error is an *OpenError without a
// result; a receipt that verifies re-encodes to its own payload.
func FuzzVerifyReceipt(f *testing.F) {
	w := fuzzWorld(f)
	token, _, err := w.sealer.SignReceipt(context.Background(), Receipt{
		MessageID: "7c1e0b2a-4f3d-4a8e-9b61-2d5f0c9e8a10", PayloadDigest: DigestOf([]byte("x")), Sender: GatewayID, Recipient: sender, Outcome: OutcomeAccepted,
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(token)
	f.Add([]byte(signRaw(f, nil, `{"alg":"none"}`, []byte(goldenReceiptBytes))))
	f.Add([]byte(signRaw(f, w.s.sender, `{"alg":"ES256","kid":"x","typ":"psykosocial-receipt+jws","iss":"region:1081","iss":"gateway"}`, []byte(goldenReceiptBytes))))
	f.Fuzz(func(t *testing.T, tok []byte) {
		r, err := w.opener.VerifyReceipt(context.Background(), tok, sender)
		if err != nil {
			var oe *OpenError
			if r != nil || !errors.As(err, &oe) {
				t.Fatalf("error %v (%T) with result %v", err, err, r != nil)
			}
			return
		}
		if _, err := r.MarshalCanonical(); err != nil || r.Recipient != sender {
			t.Fatalf("verified a receipt that does not encode: %+v", r)
		}
	})
}
