package pipeline_test

import (
	"errors"
	"os"
	"testing"
	"time"

	"github.com/psykosocial/exchange/adapters"
	"github.com/psykosocial/exchange/internal/envelope"
	"github.com/psykosocial/exchange/internal/fault"
	"github.com/psykosocial/exchange/internal/pipeline"
	"github.com/psykosocial/exchange/internal/record"
)

const regionSender = "region:1084"

// regionDoc is the Aarhus resident of the Copenhagen fire, registered by
// region:1084, as the region encodes it, with its record id and version.
func (e *env) regionDoc(recordID string, version int, edit func(*record.Record)) []byte {
	e.t.Helper()
	b, err := os.ReadFile("../../schemas/examples/region/valid/aarhus-resident-hurt-in-copenhagen-fire.json")
	if err != nil {
		e.t.Fatal(err)
	}
	m, err := e.region.Decode(b)
	if err != nil {
		e.t.Fatal(err)
	}
	r := m.Records()[0]
	r.RecordID, r.Version = recordID, version
	if edit != nil {
		edit(r)
	}
	doc, err := e.region.Encode(&adapters.Message{Kind: adapters.KindRegistration, Items: []adapters.Item{{Record: r}}})
	if err != nil {
		e.t.Fatal(err)
	}
	return doc
}

func TestJSONRegistration(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		rid, mid := newUUID(t), newUUID(t)
		body := e.sealJSON(regionSender, envelope.KindRegistration, e.regionDoc(rid, 1, nil), mid)
		res, err := e.submit(regionSender, body)
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != pipeline.StatusAccepted || res.MessageID != mid || len(res.Items) != 1 || res.Items[0].Status != pipeline.ItemAccepted {
			t.Fatalf("result %+v", res)
		}
		// The receipt is a signed version 2 receipt naming the message and the record.
		o, err := envelope.NewOpener(envelope.OpenerConfig{Senders: gatewayKeys{e.gwVer}, ReplayByCaller: true, Clock: e.clock})
		if err != nil {
			t.Fatal(err)
		}
		rc, err := o.VerifyReceiptV2(e.ctx, res.Receipt, "gateway")
		if err != nil {
			t.Fatal(err)
		}
		if rc.MessageID != mid || rc.PayloadDigest.String() != res.PayloadDigest || rc.Items[0].RecordID != rid {
			t.Errorf("receipt %+v", rc)
		}
		// The residence municipality (XML) and region (JSON, RSA) get it; the
		// incident authorities' acute period is over, the sender is never a recipient.
		got := e.queued(rid)
		if len(got) != 2 || got["municipality:0751"] == 0 || got["region:1082"] == 0 {
			t.Fatalf("queued: %v", got)
		}

		// Idempotent retry: the identical bytes get the original receipt.
		again, err := e.submit(regionSender, body)
		if err != nil {
			t.Fatal(err)
		}
		if again.Status != pipeline.StatusAlreadyReceived || string(again.Receipt) != string(res.Receipt) {
			t.Errorf("retry: %+v", again)
		}
		// Another document under the used message id is a conflict.
		other := e.sealJSON(regionSender, envelope.KindRegistration, e.regionDoc(newUUID(t), 1, nil), mid)
		if _, err := e.submit(regionSender, other); !errors.Is(err, fault.ErrConflict) {
			t.Errorf("another document under a used id: %v", err)
		}
		// A new message with the same record: already received in the first message, queued no second time.
		before := e.queued(rid)
		res2, err := e.submit(regionSender, e.sealJSON(regionSender, envelope.KindRegistration, e.regionDoc(rid, 1, nil), newUUID(t)))
		if err != nil {
			t.Fatal(err)
		}
		if it := res2.Items[0]; it.Status != pipeline.ItemAlreadyReceived || it.AlreadyIn != mid {
			t.Errorf("resent record: %+v", it)
		}
		if after := e.queued(rid); len(after) != len(before) || after[firstKey(after)] != before[firstKey(after)] {
			t.Errorf("queued again: %v then %v", before, after)
		}
		// Same record id and version with other content: conflict.
		changed := e.regionDoc(rid, 1, func(r *record.Record) { r.Person.Name = "Mette Kjærgaard Holm" })
		if _, err := e.submit(regionSender, e.sealJSON(regionSender, envelope.KindRegistration, changed, newUUID(t))); !errors.Is(err, fault.ErrConflict) {
			t.Errorf("other content under a stored version: %v", err)
		}
		// A signer other than the TLS client: forbidden.
		if _, err := e.submit("region:1081", e.sealJSON(regionSender, envelope.KindRegistration, e.regionDoc(newUUID(t), 1, nil), newUUID(t))); !errors.Is(err, fault.ErrForbidden) {
			t.Errorf("signer other than the TLS client: %v", err)
		}

		// Every recipient pulls, opens and acknowledges.
		for to := range got {
			rs := e.pull(to, 0)
			if len(rs) != 1 {
				t.Fatalf("%s pulled %d deliveries", to, len(rs))
			}
			r := rs[0]
			if p := r.opened.Header.Provenance; p == nil || p.Issuer != regionSender || p.ID != mid {
				t.Errorf("provenance %+v", p)
			}
			// Not acknowledged: nothing more until the lease ends, then the same mailbox message again.
			if again := e.pull(to, 0); len(again) != 0 {
				t.Errorf("%s got a leased message again", to)
			}
			e.clock.Advance(6 * time.Minute)
			re := e.pull(to, 0)
			if len(re) != 1 || re[0].d.MailboxID != r.d.MailboxID || re[0].d.Deliveries != 2 || re[0].opened.Header.ID == r.opened.Header.ID {
				t.Fatalf("redelivery: %+v", re)
			}
			// Another authority cannot acknowledge it.
			if err := e.p.Ack(e.ctx, "municipality:0101", r.d.MailboxID, e.receipt("municipality:0101", re[0])); err == nil {
				t.Error("a foreign ack was taken")
			}
			// A receipt of another signer is refused.
			if err := e.p.Ack(e.ctx, to, r.d.MailboxID, e.receipt("municipality:0101", re[0])); !errors.Is(err, fault.ErrForbidden) {
				t.Errorf("a receipt signed by another: %v", err)
			}
			if err := e.p.Ack(e.ctx, to, r.d.MailboxID, e.receipt(to, re[0])); err != nil {
				t.Fatalf("ack: %v", err)
			}
			e.clock.Advance(6 * time.Minute)
			if after := e.pull(to, 0); len(after) != 0 {
				t.Errorf("%s got an acknowledged message again", to)
			}
			if err := e.p.Ack(e.ctx, to, newUUID(t), e.receipt(to, re[0])); !errors.Is(err, fault.ErrNotFound) {
				t.Errorf("ack of an unknown id: %v", err)
			}
		}
		if err := e.p.Ready(e.ctx); err != nil {
			t.Errorf("ready: %v", err)
		}
	})
}

func firstKey(m map[string]int) string {
	for k := range m {
		return k
	}
	return ""
}
