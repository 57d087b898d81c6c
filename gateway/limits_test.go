package gateway

import (
	"bytes"
	"net/http"
	"testing"
	"time"

	"github.com/psykosocial/exchange/adapters/police"
	"github.com/psykosocial/exchange/adapters/region"
	"github.com/psykosocial/exchange/internal/directory"
	"github.com/psykosocial/exchange/internal/envelope"
	"github.com/psykosocial/exchange/internal/journal"
	"github.com/psykosocial/exchange/internal/pipeline"
)

// TestLimitsChain: the limits of the layers a submission passes agree, so
// that nothing one layer admits is refused by the next for its size:
// request body ≥ envelope ≥ payload ≥ each adapter's document (which is
// also what the XML-DSig verifier is given), and the largest payload,
// sealed as the senders seal it (JSON: JWS in JWE; XML: in JWE), fits the
// envelope limit.
func TestLimitsChain(t *testing.T) {
	if MaxSubmitBytes < envelope.MaxEnvelopeBytes {
		t.Errorf("the body limit %d is below the envelope limit %d", MaxSubmitBytes, envelope.MaxEnvelopeBytes)
	}
	h := start(t)
	for name, n := range map[string]int{
		"police":       h.police.Limits().MaxBytes,
		"municipality": h.muni.Limits().MaxBytes,
		"region":       region.MaxDocumentBytes,
	} {
		if n <= 0 || n > envelope.MaxPayloadBytes {
			t.Errorf("the %s adapter admits %d bytes, the envelope carries at most %d", name, n, envelope.MaxPayloadBytes)
		}
	}
	// The largest payload, sealed both ways, is opened by the envelope layer.
	payload := bytes.Repeat([]byte("x"), envelope.MaxPayloadBytes)
	copy(payload, `{"a":"`)
	copy(payload[len(payload)-2:], `"}`)
	sk, err := envelope.NewSigningKey(h.key(regionSender, directory.UseSigning), "")
	must(t, err)
	js, err := envelope.NewSealer(envelope.SealerConfig{Issuer: regionSender, Key: sk, Clock: h.clock})
	must(t, err)
	sealed, err := js.Seal(h.ctx, envelope.Message{Kind: envelope.KindRegistration, ContentType: envelope.ContentTypeRegion,
		Recipient: directory.GatewayID, To: h.gwEnc, Payload: payload, ID: newUUID(t)})
	if err != nil {
		t.Fatalf("sealing the largest JSON payload: %v", err)
	}
	if n := len(sealed.Envelope); n > envelope.MaxEnvelopeBytes || n > MaxSubmitBytes {
		t.Errorf("the largest JSON payload seals to %d bytes, above the limits", n)
	}
	xs, err := envelope.NewSealer(envelope.SealerConfig{Issuer: policeSender, Clock: h.clock})
	must(t, err)
	xml := bytes.Repeat([]byte("x"), envelope.MaxPayloadBytes)
	copy(xml, "<a>")
	copy(xml[len(xml)-4:], "</a>")
	sx, err := xs.SealXML(h.ctx, envelope.Message{ContentType: envelope.ContentTypePolice, Recipient: directory.GatewayID,
		To: h.gwEnc, Payload: xml, ID: newUUID(t)})
	if err != nil {
		t.Fatalf("sealing the largest XML payload: %v", err)
	}
	if n := len(sx.Envelope); n > envelope.MaxEnvelopeBytes {
		t.Errorf("the largest XML payload seals to %d bytes, above the limit", n)
	}
}

// TestLargestPoliceListOverHTTP sends the largest list the chain admits,
// police.MaxPersons persons in one signed message, through the HTTP intake:
// its body passes the body limit, its signature verifies (goxmldsig finds
// the signature at the start of the root, whatever the length), every
// person is accepted with the receipt naming each, the whole message's
// journal entries commit in the one transaction that stores it (within
// journal.MaxTxEntries, with room for persons with more recipients), and
// the residence authorities' mailboxes hold the records.
func TestLargestPoliceListOverHTTP(t *testing.T) {
	if testing.Short() {
		t.Skip("the largest list takes some seconds; -short skips it")
	}
	h := start(t)
	n := police.MaxPersons
	if raceEnabled {
		// The race detector makes the work some ten times slower: the list
		// would outlast SubmitTimeout. The full list runs without it.
		n = police.MaxPersons / 8
	}
	id := newUUID(t)
	doc := h.policeList(id, n)
	body := h.sealXML(policeSender, envelope.ContentTypePolice, doc, id)
	t.Logf("a list of %d persons: %d bytes signed, %d bytes sealed", n, len(doc), len(body))
	// A fresh gateway's journal is empty: no checkpoint yet means size 0.
	before, _ := h.journal.Checkpoint(h.ctx)
	began := time.Now()
	r := submitted(t, h.submit(policeSender, body), http.StatusAccepted)
	t.Logf("the intake answered in %v", time.Since(began).Round(time.Millisecond))
	if len(r.Items) != n {
		t.Fatalf("%d items, want %d", len(r.Items), n)
	}
	for i, it := range r.Items {
		if it.Status != pipeline.ItemAccepted {
			t.Fatalf("item %d: %+v", i, it)
		}
	}
	if rc := h.verifyReceipt(r.Receipt); len(rc.Items) != n {
		t.Fatalf("the receipt names %d items", len(rc.Items))
	}
	after, err := h.journal.Checkpoint(h.ctx)
	must(t, err)
	entries := int(after.Size - before.Size)
	perPerson := float64(entries) / float64(n)
	t.Logf("%d journal entries (%.1f a person) in one transaction", entries, perPerson)
	if entries > journal.MaxTxEntries/2 {
		t.Errorf("%d entries leave less than half of journal.MaxTxEntries (%d) for persons with more recipients", entries, journal.MaxTxEntries)
	}
	// The first record's residence authorities have it in their mailboxes.
	h.deliverAll(r.Items[0].RecordID)
}
