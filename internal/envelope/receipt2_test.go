package envelope

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// goldenReceiptV2 and its bytes pin the canonical version 2 encoding. THE
// BYTES NEVER CHANGE: receipts signed today are verified for years.
var goldenReceiptV2 = ReceiptV2{
	MessageID:     goldenReceipt.MessageID,
	PayloadDigest: goldenReceipt.PayloadDigest,
	Sender:        "police:nordjylland",
	Recipient:     "gateway",
	Time:          goldenReceipt.Time,
	Outcome:       OutcomeAccepted,
	Items: []ReceiptItem{
		{Index: 0, RecordID: "0b6f2c1e-8d2a-4c3e-9f10-1a2b3c4d5e6f", Version: 1, Status: ItemAccepted},
		{Index: 1, Status: ItemRejected},
		{Index: 2, RecordID: "1c7f3d2f-9e3b-4d4f-8a21-2b3c4d5e6f70", Version: 2, Status: ItemAlreadyReceived, AlreadyIn: "2d8a4e3a-0f4c-4e5a-9b32-3c4d5e6f7081"},
	},
}

const goldenReceiptV2Bytes = `{"v":2,"message_id":"7c1e0b2a-4f3d-4a8e-9b61-2d5f0c9e8a10","payload_digest":"E2ttONh1sD1zwHXFE8fH21SGQ5my65IRYl87KWSpu9o","sender":"police:nordjylland","recipient":"gateway","time":"2026-11-25T13:30:05Z","outcome":"accepted","items":[{"index":0,"record_id":"0b6f2c1e-8d2a-4c3e-9f10-1a2b3c4d5e6f","version":1,"status":"accepted"},{"index":1,"status":"rejected"},{"index":2,"record_id":"1c7f3d2f-9e3b-4d4f-8a21-2b3c4d5e6f70","version":2,"status":"already_received","already_in":"2d8a4e3a-0f4c-4e5a-9b32-3c4d5e6f7081"}]}`

func TestReceiptV2CanonicalGolden(t *testing.T) {
	got, err := goldenReceiptV2.MarshalCanonical()
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != goldenReceiptV2Bytes {
		t.Errorf("canonical v2 receipt changed:\n got %s\nwant %s", got, goldenReceiptV2Bytes)
	}
	r, err := parseReceiptV2(got)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := r.MarshalCanonical()
	if string(again) != goldenReceiptV2Bytes {
		t.Errorf("round trip changed %s", again)
	}
	// Version 1 stays as it is, and neither parser takes the other's.
	if _, err := parseReceipt(got); err == nil {
		t.Error("the v1 parser took a v2 receipt")
	}
	if _, err := parseReceiptV2([]byte(goldenReceiptBytes)); err == nil {
		t.Error("the v2 parser took a v1 receipt")
	}
	g := goldenReceiptV2Bytes
	for name, b := range map[string]string{
		"white space":          strings.Replace(g, `,"items"`, `, "items"`, 1),
		"index out of order":   strings.Replace(g, `"index":1`, `"index":5`, 1),
		"already_in alone":     strings.Replace(g, `"status":"rejected"`, `"status":"rejected","already_in":"2d8a4e3a-0f4c-4e5a-9b32-3c4d5e6f7081"`, 1),
		"accepted without id":  strings.Replace(g, `{"index":1,"status":"rejected"}`, `{"index":1,"status":"accepted"}`, 1),
		"unknown item member":  strings.Replace(g, `"status":"rejected"}`, `"status":"rejected","why":"x"}`, 1),
		"rejected outcome":     strings.Replace(g, `"outcome":"accepted"`, `"outcome":"rejected"`, 1),
		"version as string":    strings.Replace(g, `"version":1`, `"version":"1"`, 1),
		"leading zero version": strings.Replace(g, `"version":1`, `"version":01`, 1),
	} {
		if b == g {
			t.Fatalf("%s: the case did not change the payload", name)
		}
		if _, err := parseReceiptV2([]byte(b)); err == nil {
			t.Errorf("%s: accepted %s", name, b)
		}
	}
}

func TestSignVerifyReceiptV2(t *testing.T) {
	w := newWorld(t, ecSuite(t))
	gw, err := NewSealer(SealerConfig{Issuer: GatewayID, Key: w.gateway, Clock: w.clock})
	if err != nil {
		t.Fatal(err)
	}
	r := goldenReceiptV2
	r.Sender, r.Time = sender, t0
	token, signed, err := gw.SignReceiptV2(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	got, err := w.opener.VerifyReceiptV2(context.Background(), token, GatewayID)
	if err != nil {
		t.Fatal(err)
	}
	if got.MessageID != signed.MessageID || len(got.Items) != 3 || got.Items[2] != r.Items[2] {
		t.Errorf("verified %+v, signed %+v", got, signed)
	}
	if _, err := w.opener.VerifyReceipt(context.Background(), token, GatewayID); !errors.Is(err, ErrReceipt) {
		t.Errorf("VerifyReceipt took a v2 receipt: %v", err)
	}
	if _, err := w.opener.VerifyReceiptV2(context.Background(), token, stranger); err == nil {
		t.Error("verified as another signer's")
	}
}

func TestReplayByCaller(t *testing.T) {
	w := newWorld(t, ecSuite(t))
	if _, err := NewOpener(OpenerConfig{DecryptionKeys: []DecryptionKey{w.dec}, Senders: w.trust, Replay: w.replay, ReplayByCaller: true, Clock: w.clock}); err == nil {
		t.Error("an Opener with both a replay cache and ReplayByCaller")
	}
	o, err := NewOpener(OpenerConfig{DecryptionKeys: []DecryptionKey{w.dec}, Senders: w.trust, ReplayByCaller: true, Clock: w.clock})
	if err != nil {
		t.Fatal(err)
	}
	sealed := w.seal(KindRegistration)
	for i := 0; i < 2; i++ {
		if _, err := o.Open(context.Background(), sealed.Envelope, w.expect); err != nil {
			t.Fatalf("open %d: %v (the caller remembers the id, the Opener records nothing)", i, err)
		}
	}
}

func TestMailboxIDAndXMLDelivery(t *testing.T) {
	w := newWorld(t, ecSuite(t))
	gw, err := NewSealer(SealerConfig{Issuer: GatewayID, Key: w.gateway, Clock: w.clock})
	if err != nil {
		t.Fatal(err)
	}
	enc, err := NewEncryptionKey(publicOf(w.s.recipient), "")
	if err != nil {
		t.Fatal(err)
	}
	box := uuid(t)
	sealed, err := gw.Seal(context.Background(), Message{Kind: KindRegistration, ContentType: ContentTypeMunicipality,
		Recipient: recipient, To: enc, Payload: []byte("<KommuneMeddelelse/>"), MailboxID: box})
	if err != nil {
		t.Fatal(err)
	}
	o, err := NewOpener(OpenerConfig{DecryptionKeys: []DecryptionKey{w.dec}, Senders: w.trust, Replay: w.replay, Clock: w.clock})
	if err != nil {
		t.Fatal(err)
	}
	got, err := o.Open(context.Background(), sealed.Envelope, Expect{Sender: GatewayID, Recipient: recipient,
		Kinds: []Kind{KindRegistration}, ContentType: ContentTypeMunicipality})
	if err != nil {
		t.Fatal(err)
	}
	if got.Header.MailboxID != box || got.Header.ID == box {
		t.Errorf("mailbox id %q, message id %q", got.Header.MailboxID, got.Header.ID)
	}
	// Only the gateway signs XML payloads or mailbox ids.
	if _, err := w.sealer.Seal(context.Background(), Message{Kind: KindRegistration, ContentType: ContentTypeRegion,
		Recipient: recipient, To: enc, Payload: []byte(payload), MailboxID: box}); err == nil {
		t.Error("a region sealed a mailbox id")
	}
	if _, err := w.sealer.Seal(context.Background(), Message{Kind: KindRegistration, ContentType: ContentTypeMunicipality,
		Recipient: recipient, To: enc, Payload: []byte(payload)}); err == nil {
		t.Error("a region signed an XML payload")
	}
}
