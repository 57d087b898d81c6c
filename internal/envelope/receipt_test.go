package envelope

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

// goldenReceipt and its bytes pin the canonical receipt encoding. THE
// BYTES NEVER CHANGE: receipts signed today are verified for years. The
// digest was computed independently of this package with
//
//	printf %s eyJhbGciOiJFUzI1NiJ9.e30.c2ln | openssl dgst -sha256 -binary | basenc --base64url
var goldenReceipt = Receipt{
	MessageID:     "7c1e0b2a-4f3d-4a8e-9b61-2d5f0c9e8a10",
	PayloadDigest: DigestOf([]byte("eyJhbGciOiJFUzI1NiJ9.e30.c2ln")),
	Sender:        "region:1081",
	Recipient:     "gateway",
	Time:          time.Date(2026, 11, 25, 13, 30, 5, 0, time.UTC),
	Outcome:       OutcomeAccepted,
}

const goldenReceiptBytes = `{"v":1,"message_id":"7c1e0b2a-4f3d-4a8e-9b61-2d5f0c9e8a10","payload_digest":"E2ttONh1sD1zwHXFE8fH21SGQ5my65IRYl87KWSpu9o","sender":"region:1081","recipient":"gateway","time":"2026-11-25T13:30:05Z","outcome":"accepted"}`

const goldenRejectedBytes = `{"v":1,"message_id":"7c1e0b2a-4f3d-4a8e-9b61-2d5f0c9e8a10","payload_digest":"E2ttONh1sD1zwHXFE8fH21SGQ5my65IRYl87KWSpu9o","sender":"region:1081","recipient":"gateway","time":"2026-11-25T13:30:05Z","outcome":"rejected","reason":"schema.invalid"}`

func TestReceiptCanonicalGolden(t *testing.T) {
	got, err := goldenReceipt.MarshalCanonical()
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != goldenReceiptBytes {
		t.Errorf("canonical receipt changed:\n got %s\nwant %s", got, goldenReceiptBytes)
	}
	rej := goldenReceipt
	rej.Outcome, rej.Reason = OutcomeRejected, "schema.invalid"
	if got, err = rej.MarshalCanonical(); err != nil || string(got) != goldenRejectedBytes {
		t.Errorf("canonical rejection changed (%v):\n got %s\nwant %s", err, got, goldenRejectedBytes)
	}
	// Another zone is the same instant, so the same bytes.
	cph := goldenReceipt
	cph.Time = cph.Time.In(time.FixedZone("CET", 3600))
	if got, _ := cph.MarshalCanonical(); string(got) != goldenReceiptBytes {
		t.Errorf("a receipt in CET encodes as %s", got)
	}
	for _, b := range []string{goldenReceiptBytes, goldenRejectedBytes} {
		r, err := parseReceipt([]byte(b))
		if err != nil {
			t.Fatalf("parse golden: %v", err)
		}
		again, _ := r.MarshalCanonical()
		if string(again) != b {
			t.Errorf("round trip changed %s", b)
		}
	}
}

func TestReceiptRefusesNonCanonicalPayloads(t *testing.T) {
	g := goldenReceiptBytes
	cases := map[string]string{
		"white space":          strings.Replace(g, `,"sender"`, `, "sender"`, 1),
		"members reordered":    strings.Replace(g, `"sender":"region:1081","recipient":"gateway"`, `"recipient":"gateway","sender":"region:1081"`, 1),
		"unknown member":       strings.Replace(g, `}`, `,"note":"x"}`, 1),
		"duplicate member":     strings.Replace(g, `}`, `,"outcome":"rejected"}`, 1),
		"case variant":         strings.Replace(g, `"sender"`, `"Sender"`, 1),
		"reason on acceptance": strings.Replace(g, `}`, `,"reason":"x"}`, 1),
		"rejection w/o reason": strings.Replace(g, `accepted`, `rejected`, 1),
		"version 2":            strings.Replace(g, `"v":1`, `"v":2`, 1),
		"fractional time":      strings.Replace(g, `13:30:05Z`, `13:30:05.5Z`, 1),
		"offset time":          strings.Replace(g, `13:30:05Z`, `14:30:05+01:00`, 1),
		"unknown outcome":      strings.Replace(g, `accepted`, `delivered`, 1),
		"escaped character":    strings.Replace(g, `gateway`, `gatew\u0061y`, 1),
		"padded digest":        strings.Replace(g, `u9o"`, `u9o="`, 1),
		"CVR as sender":        strings.Replace(g, `region:1081`, `29190623`, 1),
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			if b == g {
				t.Fatal("the case did not change the payload")
			}
			if _, err := parseReceipt([]byte(b)); err == nil {
				t.Errorf("accepted %s", b)
			}
		})
	}
}

func TestSignVerifyReceipt(t *testing.T) {
	for _, s := range suites(t) {
		t.Run(s.name, func(t *testing.T) {
			w := newWorld(t, s)
			// The gateway answers region:1081's message with a signed 202.
			gw, err := NewSealer(SealerConfig{Issuer: GatewayID, Key: w.gateway, Clock: w.clock})
			if err != nil {
				t.Fatal(err)
			}
			sealed := w.seal(KindRegistration)
			opened, err := w.opener.Open(context.Background(), sealed.Envelope, w.expect)
			if err != nil {
				t.Fatal(err)
			}
			token, r, err := gw.SignReceipt(context.Background(), Receipt{
				MessageID: opened.Header.ID, PayloadDigest: opened.Digest, Sender: opened.Sender, Recipient: GatewayID, Outcome: OutcomeAccepted,
			})
			if err != nil {
				t.Fatal(err)
			}
			if !r.Time.Equal(t0) {
				t.Errorf("receipt time %v", r.Time)
			}
			// region:1081 verifies it with the gateway's pinned key.
			got, err := w.opener.VerifyReceipt(context.Background(), token, GatewayID)
			if err != nil {
				t.Fatal(err)
			}
			if *got != r || got.PayloadDigest != sealed.Digest || got.MessageID != sealed.Header.ID {
				t.Errorf("verified %+v, signed %+v", got, r)
			}

			// The region's own acknowledgement of something, signed with its RSA or EC key.
			ack, _, err := w.sealer.SignReceipt(context.Background(), Receipt{
				MessageID: uuid(t), PayloadDigest: sealed.Digest, Sender: GatewayID, Recipient: sender,
				Outcome: OutcomeRejected, Reason: "schema.invalid",
			})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.opener.VerifyReceipt(context.Background(), ack, sender); err != nil {
				t.Fatal(err)
			}
			if _, err := w.opener.VerifyReceipt(context.Background(), ack, stranger); !errors.Is(err, ErrUnknownKey) {
				t.Errorf("verified as another signer's: %v", err)
			}
		})
	}
}

func TestVerifyReceiptRefusesHostileReceipts(t *testing.T) {
	w := newWorld(t, ecSuite(t))
	key := gatewaySigner(t, w)
	hdr := func() members {
		return members{
			{"alg", `"ES256"`}, {"kid", js(w.gateway.KeyID())}, {"typ", js(TypReceipt)}, {"cty", js(ContentTypeReceipt)},
			{"iss", js(GatewayID)}, {"aud", js(sender)}, {"iat", strconv.FormatInt(goldenReceipt.Time.Unix(), 10)}, {"jti", js(uuid(t))},
		}
	}
	cases := []struct {
		name   string
		token  string
		signer string
		check  Check
		err    error
	}{
		{"baseline", signRaw(t, key, hdr().json(), []byte(goldenReceiptBytes)), GatewayID, "", nil},
		{"alg none", signRaw(t, nil, hdr().set("alg", `"none"`).json(), []byte(goldenReceiptBytes)), GatewayID, CheckAlgorithm, ErrAlgorithm},
		{"signed by the sender, not the gateway", signRaw(t, w.s.sender, hdr().json(), []byte(goldenReceiptBytes)), GatewayID, CheckSignature, ErrSignature},
		{"typ of a registration", signRaw(t, key, hdr().set("typ", js(TypRegistration)).json(), []byte(goldenReceiptBytes)), GatewayID, CheckTyp, ErrTyp},
		{"wrong cty", signRaw(t, key, hdr().set("cty", js(ContentTypeRegion)).json(), []byte(goldenReceiptBytes)), GatewayID, CheckHeader, ErrContentType},
		{"with exp", signRaw(t, key, hdr().set("exp", strconv.FormatInt(goldenReceipt.Time.Unix()+60, 10)).json(), []byte(goldenReceiptBytes)), GatewayID, CheckHeader, ErrHeader},
		{"jwk", signRaw(t, key, hdr().set("jwk", `{"kty":"EC"}`).json(), []byte(goldenReceiptBytes)), GatewayID, CheckHeader, ErrEmbeddedKey},
		{"iss is not the signer", signRaw(t, key, hdr().set("iss", js(stranger)).json(), []byte(goldenReceiptBytes)), GatewayID, CheckIssuer, ErrIssuer},
		{"aud is not the receipt's sender", signRaw(t, key, hdr().set("aud", js(stranger)).json(), []byte(goldenReceiptBytes)), GatewayID, CheckAudience, ErrAudience},
		{"iat differs from time", signRaw(t, key, hdr().set("iat", strconv.FormatInt(goldenReceipt.Time.Unix()-1, 10)).json(), []byte(goldenReceiptBytes)), GatewayID, CheckPayload, ErrReceipt},
		{"iat in the future", signRaw(t, key, hdr().set("iat", strconv.FormatInt(t0.Unix()+3600, 10)).json(), []byte(goldenReceiptBytes)), GatewayID, CheckIssuedAt, ErrNotYetValid},
		{"non-canonical payload", signRaw(t, key, hdr().json(), []byte(strings.Replace(goldenReceiptBytes, `,"sender"`, `, "sender"`, 1))), GatewayID, CheckPayload, ErrReceipt},
		{"oversized", strings.Repeat("A", maxReceiptBytes+1), GatewayID, CheckSize, ErrTooLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := w.opener.VerifyReceipt(context.Background(), []byte(c.token), c.signer)
			if c.err == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var oe *OpenError
			if !errors.As(err, &oe) || oe.Check != c.check || !errors.Is(err, c.err) {
				t.Errorf("VerifyReceipt: %v, want check %q with %v", err, c.check, c.err)
			}
		})
	}
}

func TestSignReceiptRefusesBadReceipts(t *testing.T) {
	w := newWorld(t, ecSuite(t))
	good := Receipt{MessageID: uuid(t), PayloadDigest: DigestOf([]byte("x")), Sender: GatewayID, Recipient: sender, Outcome: OutcomeReceived}
	cases := map[string]func(r *Receipt){
		"signed for another recipient": func(r *Receipt) { r.Recipient = stranger },
		"no digest":                    func(r *Receipt) { r.PayloadDigest = Digest{} },
		"bad message id":               func(r *Receipt) { r.MessageID = "x" },
		"sub-second time":              func(r *Receipt) { r.Time = t0.Add(time.Millisecond) },
		"reason on a received":         func(r *Receipt) { r.Reason = "x" },
		"rejected without reason":      func(r *Receipt) { r.Outcome = OutcomeRejected },
		"reason with a quote":          func(r *Receipt) { r.Outcome, r.Reason = OutcomeRejected, `a"b` },
		"unknown outcome":              func(r *Receipt) { r.Outcome = "delivered" },
	}
	for name, edit := range cases {
		t.Run(name, func(t *testing.T) {
			r := good
			edit(&r)
			if _, _, err := w.sealer.SignReceipt(context.Background(), r); err == nil {
				t.Error("signed")
			}
		})
	}
}
