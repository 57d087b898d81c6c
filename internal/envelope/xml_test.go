package envelope

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"testing"
)

const xmlDoc = `<?xml version="1.0" encoding="UTF-8"?><Registration xmlns="urn:psykosocial:municipality:v1" ID="m1"><Header/></Registration>`

// xmlWorld is a municipality (municipality:0851) sending XML to the gateway.
func xmlWorld(t *testing.T, s *suite) (*world, *Sealer, Expect) {
	t.Helper()
	w := newWorld(t, s)
	sealer, err := NewSealer(SealerConfig{Issuer: bystander, Clock: w.clock})
	if err != nil {
		t.Fatal(err)
	}
	return w, sealer, Expect{Sender: bystander, Recipient: recipient, ContentType: ContentTypeMunicipality}
}

func TestSealXMLOpenXML(t *testing.T) {
	for _, s := range suites(t) {
		t.Run(s.name, func(t *testing.T) {
			w, sealer, exp := xmlWorld(t, s)
			sealed, err := sealer.SealXML(context.Background(), Message{ContentType: ContentTypeMunicipality, Recipient: recipient, To: w.dec.EncryptionKey(), Payload: []byte(xmlDoc)})
			if err != nil {
				t.Fatal(err)
			}
			if sealed.Signed != "" || sealed.Digest != DigestOf([]byte(xmlDoc)) {
				t.Error("SealXML: a JWS layer or the wrong digest")
			}
			got, err := w.opener.OpenXML(context.Background(), sealed.Envelope, exp)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Payload, []byte(xmlDoc)) || got.Digest != DigestOf([]byte(xmlDoc)) {
				t.Error("payload or digest changed")
			}
			if got.Header != sealed.Header || got.Header.Issuer != bystander || got.Header.Audience != recipient {
				t.Errorf("header %+v, sealed %+v", got.Header, sealed.Header)
			}
			if _, err := w.opener.OpenXML(context.Background(), sealed.Envelope, exp); !errors.Is(err, ErrReplay) {
				t.Errorf("second OpenXML: %v, want a replay", err)
			}
			// A JSON envelope is not an XML one, and the other way round.
			if _, err := w.opener.Open(context.Background(), sealed.Envelope, w.expect); err == nil {
				t.Error("Open took an XML envelope")
			}
			if _, err := w.opener.OpenXML(context.Background(), w.seal(KindRegistration).Envelope, Expect{Sender: sender, Recipient: recipient, ContentType: ContentTypeMunicipality}); err == nil {
				t.Error("OpenXML took a JSON envelope")
			}
		})
	}
}

func TestOpenXMLRefusesHostileEnvelopes(t *testing.T) {
	for _, s := range suites(t) {
		w, _, exp := xmlWorld(t, s)
		now := w.clock.Now().Unix()
		good := func() members {
			return members{
				{"cty", js(ContentTypeMunicipality)}, {"kid", js(w.dec.KeyID())},
				{"iss", js(bystander)}, {"aud", js(recipient)},
				{"iat", strconv.FormatInt(now, 10)}, {"exp", strconv.FormatInt(now+120, 10)}, {"jti", js(uuid(t))},
			}
		}
		cases := []struct {
			name  string
			h     members
			check Check
			err   error
		}{
			{"baseline", good(), "", nil},
			{"cty of another format", good().set("cty", js(ContentTypePolice)), CheckHeader, ErrContentType},
			{"cty JOSE", good().set("cty", `"JOSE"`), CheckHeader, ErrContentType},
			{"iss is not the authenticated sender", good().set("iss", js(sender)), CheckIssuer, ErrIssuer},
			{"aud is another authority", good().set("aud", js(sender)), CheckAudience, ErrAudience},
			{"several audiences", good().set("aud", js([]string{recipient, sender})), CheckAudience, ErrAudience},
			{"without jti", good().without("jti"), CheckHeader, ErrHeader},
			{"without exp", good().without("exp"), CheckHeader, ErrHeader},
			{"expired", good().set("iat", strconv.FormatInt(now-400, 10)).set("exp", strconv.FormatInt(now-100, 10)), CheckExpiry, ErrExpired},
			{"exp - iat too long", good().set("exp", strconv.FormatInt(now+600, 10)), CheckExpiry, ErrLifetime},
			{"iat in the future", good().set("iat", strconv.FormatInt(now+100, 10)).set("exp", strconv.FormatInt(now+200, 10)), CheckIssuedAt, ErrNotYetValid},
			{"jti not a UUID", good().set("jti", `"m1"`), CheckID, ErrMessageID},
			{"duplicate iss", good().plus("iss", js(bystander)), CheckHeader, ErrHeader},
			{"x5c", good().set("x5c", `["MIIB"]`), CheckHeader, ErrEmbeddedKey},
			{"typ", good().set("typ", `"JWT"`), CheckHeader, ErrHeader},
		}
		for _, c := range cases {
			t.Run(s.name+"/"+c.name, func(t *testing.T) {
				_, err := w.opener.OpenXML(context.Background(), encryptRaw(t, w.dec.EncryptionKey(), c.h, []byte(xmlDoc)), exp)
				if c.err == nil {
					if err != nil {
						t.Fatal(err)
					}
					return
				}
				var oe *OpenError
				if !errors.As(err, &oe) || oe.Check != c.check || !errors.Is(err, c.err) {
					t.Errorf("OpenXML: %v, want check %q with %v", err, c.check, c.err)
				}
			})
		}
	}
}

func TestSealRefusesBadMessages(t *testing.T) {
	w := newWorld(t, ecSuite(t))
	good := Message{Kind: KindRegistration, ContentType: ContentTypeRegion, Recipient: recipient, To: w.dec.EncryptionKey(), Payload: []byte(payload)}
	cases := []struct {
		name string
		edit func(m *Message)
		xml  bool
	}{
		{"receipt kind", func(m *Message) { m.Kind = KindReceipt }, false},
		{"no kind", func(m *Message) { m.Kind = "" }, false},
		{"XML content type", func(m *Message) { m.ContentType = ContentTypeMunicipality }, false},
		{"CVR as recipient", func(m *Message) { m.Recipient = "29190623" }, false},
		{"empty payload", func(m *Message) { m.Payload = nil }, false},
		{"oversized payload", func(m *Message) { m.Payload = make([]byte, MaxPayloadBytes+1) }, false},
		{"upper-case id", func(m *Message) { m.ID = "7C1E0B2A-4F3D-4A8E-9B61-2D5F0C9E8A10" }, false},
		{"no encryption key", func(m *Message) { m.To = EncryptionKey{} }, false},
		{"encryption key of the wrong algorithm", func(m *Message) { m.To.Algorithm = "RSA-OAEP-256" }, false},
		{"XML with a kind", func(m *Message) { m.ContentType = ContentTypeMunicipality }, true},
		{"XML with a JSON type", func(m *Message) { m.Kind = "" }, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := good
			c.edit(&m)
			var err error
			if c.xml {
				_, err = w.sealer.SealXML(context.Background(), m)
			} else {
				_, err = w.sealer.Seal(context.Background(), m)
			}
			if err == nil {
				t.Error("sealed")
			}
		})
	}
	m := good
	m.ID = "7c1e0b2a-4f3d-4a8e-9b61-2d5f0c9e8a10"
	sealed, err := w.sealer.Seal(context.Background(), m)
	if err != nil || sealed.Header.ID != m.ID {
		t.Errorf("a given message id: %v", err)
	}
}
