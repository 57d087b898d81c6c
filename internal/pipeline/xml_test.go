package pipeline_test

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/psykosocial/exchange/adapters"
	"github.com/psykosocial/exchange/internal/directory"
	"github.com/psykosocial/exchange/internal/envelope"
	"github.com/psykosocial/exchange/internal/fault"
	"github.com/psykosocial/exchange/internal/pipeline"
)

const muniSender = "municipality:0630"

// muniDoc is Vejle's crisis team's signed registration of three persons.
func (e *env) muniDoc(id string, expires time.Time) []byte {
	e.t.Helper()
	b, err := os.ReadFile("../../schemas/examples/municipality/valid/kriseteam-aalborg-busulykke-tre-personer.xml")
	if err != nil {
		e.t.Fatal(err)
	}
	in, err := e.muni.Decode(b)
	if err != nil {
		e.t.Fatal(err)
	}
	now := e.clock.Now()
	in.Header.MessageID, in.Header.Sender, in.Header.Recipient = id, muniSender, directory.GatewayID
	in.Header.IssuedAt, in.Header.ExpiresAt = now.Add(-time.Minute), expires
	for i := range in.Items {
		in.Items[i].Record.RecordID = newUUID(e.t)
		in.Items[i].Record.Registered.ByAuthority = muniSender
		in.Items[i].Record.Consent.Obtained.By.Authority = muniSender
	}
	unsigned, err := e.muni.Encode(in)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.signXML(muniSender, unsigned)
}

func TestXMLRegistration(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		id := newUUID(t)
		signed := e.muniDoc(id, e.clock.Now().Add(2*time.Hour))
		res, err := e.submit(muniSender, e.sealXML(muniSender, envelope.ContentTypeMunicipality, signed, id))
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != pipeline.StatusAccepted || len(res.Items) != 3 {
			t.Fatalf("result %+v", res)
		}
		recipients := map[string]bool{}
		for _, it := range res.Items {
			if it.Status != pipeline.ItemAccepted {
				t.Errorf("item %+v", it)
			}
			for to := range e.queued(it.RecordID) {
				recipients[to] = true
			}
		}
		if len(recipients) == 0 {
			t.Fatal("nothing queued")
		}
		// The same signed XML re-sealed in a fresh JWE, while its replay row
		// lives: nothing is committed again; it is the original message.
		replay, err := e.submit(muniSender, e.sealXML(muniSender, envelope.ContentTypeMunicipality, signed, id))
		if err != nil {
			t.Fatal(err)
		}
		if replay.Status != pipeline.StatusAlreadyReceived || string(replay.Receipt) != string(res.Receipt) {
			t.Errorf("re-sealed replay: %+v", replay)
		}
		// After its signed expiry it is refused (the JWE's own times prove nothing).
		e.clock.Advance(3 * time.Hour)
		_, err = e.submit(muniSender, e.sealXML(muniSender, envelope.ContentTypeMunicipality, signed, id))
		if fe, ok := fault.As(err); !ok || fe.Type != pipeline.TypeExpiredMessage {
			t.Errorf("replay after the signed expiry: %v", err)
		}
		// Another authority's TLS identity with Vejle's signed document: forbidden.
		id2 := newUUID(t)
		doc2 := e.muniDoc(id2, e.clock.Now().Add(time.Hour))
		s, _ := envelope.NewSealer(envelope.SealerConfig{Issuer: "municipality:0101", Clock: e.clock})
		forged, err := s.SealXML(e.ctx, envelope.Message{ContentType: envelope.ContentTypeMunicipality, Recipient: directory.GatewayID, To: e.gwEnc, Payload: doc2, ID: id2})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.submit("municipality:0101", forged.Envelope); !errors.Is(err, fault.ErrForbidden) {
			t.Errorf("a signer other than the TLS client: %v", err)
		}
		// A signed lifetime beyond the cap is refused.
		id3 := newUUID(t)
		long := e.muniDoc(id3, e.clock.Now().Add(48*time.Hour))
		if _, err := e.submit(muniSender, e.sealXML(muniSender, envelope.ContentTypeMunicipality, long, id3)); err == nil {
			t.Error("a signed lifetime of two days was accepted")
		}
		// The recipients pull and open what they got; a municipality pulling
		// from another's mailbox sees only its own (the caller is its TLS identity).
		for to := range recipients {
			rs := e.pull(to, 0)
			if len(rs) == 0 {
				t.Errorf("%s got nothing", to)
			}
			for _, r := range rs {
				if err := e.p.Ack(e.ctx, to, r.d.MailboxID, e.receipt(to, r)); err != nil {
					t.Errorf("ack: %v", err)
				}
			}
		}
		if _, err := e.p.Pull(e.ctx, "gateway", 10, 0); !errors.Is(err, fault.ErrForbidden) {
			t.Errorf("the gateway's own id has no mailbox: %v", err)
		}
	})
}

const policeSender = "police:nordjylland"

// policeList is a signed police list of n persons; the persons at the
// indexes bad are invalid (a birth date in the future).
func (e *env) policeList(id string, n int, bad ...int) []byte {
	e.t.Helper()
	return e.signXML(policeSender, e.unsignedPoliceList(id, n, bad...))
}

// unsignedPoliceList is policeList before its signature.
func (e *env) unsignedPoliceList(id string, n int, bad ...int) []byte {
	e.t.Helper()
	b, err := os.ReadFile("../../schemas/examples/police/valid/brand-aalborg-nordjylland.xml")
	if err != nil {
		e.t.Fatal(err)
	}
	in, err := e.police.Decode(b)
	if err != nil {
		e.t.Fatal(err)
	}
	now := e.clock.Now()
	in.Header.MessageID, in.Header.IssuedAt, in.Header.ExpiresAt = id, now.Add(-time.Minute), now.Add(time.Hour)
	first := in.Items[0].Record
	var items []adapters.Item
	for i := 0; i < n; i++ {
		r := first.Clone()
		r.RecordID = newUUID(e.t)
		items = append(items, adapters.Item{Index: i, Record: r})
	}
	in.Items = items
	unsigned, err := e.police.Encode(in)
	if err != nil {
		e.t.Fatal(err)
	}
	doc := string(unsigned)
	birth := "<Foedselsdato>1986-07-07</Foedselsdato>"
	if strings.Count(doc, birth) != n {
		e.t.Fatalf("the list has %d birth dates", strings.Count(doc, birth))
	}
	parts := strings.Split(doc, birth)
	var sb strings.Builder
	for i, p := range parts {
		sb.WriteString(p)
		if i < n {
			if contains(bad, i) {
				sb.WriteString("<Foedselsdato>2099-07-07</Foedselsdato>")
			} else {
				sb.WriteString(birth)
			}
		}
	}
	return []byte(sb.String())
}

func contains(xs []int, x int) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}

// TestPoliceList1000: a list of 1,000 persons, two of them invalid, signed
// by the police district (the signature the root's first child, so that
// goxmldsig's traversal budget is never reached), goes through the pipeline
// in one message on both backends: 998 accepted, 2 rejected, one receipt.
func TestPoliceList1000(t *testing.T) { testPoliceBatch(t, 1000, 17, 998) }

func TestPoliceBatch(t *testing.T) { testPoliceBatch(t, 20, 7, 13) }

func testPoliceBatch(t *testing.T, n, bad1, bad2 int) {
	backends(t, func(t *testing.T, e *env) {
		id := newUUID(t)
		res, err := e.submit(policeSender, e.sealXML(policeSender, envelope.ContentTypePolice, e.policeList(id, n, bad1, bad2), id))
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Items) != n {
			t.Fatalf("%d items", len(res.Items))
		}
		accepted := 0
		for i, it := range res.Items {
			switch {
			case i == bad1 || i == bad2:
				if it.Status != pipeline.ItemRejected || len(it.Problems) == 0 {
					t.Errorf("item %d: %+v", i, it)
				}
			case it.Status == pipeline.ItemAccepted:
				accepted++
			default:
				t.Errorf("item %d: %+v", i, it)
			}
		}
		if accepted != n-2 {
			t.Errorf("%d accepted", accepted)
		}
		o, _ := envelope.NewOpener(envelope.OpenerConfig{Senders: gatewayKeys{e.gwVer}, ReplayByCaller: true, Clock: e.clock})
		rc, err := o.VerifyReceiptV2(e.ctx, res.Receipt, "gateway")
		if err != nil {
			t.Fatal(err)
		}
		if len(rc.Items) != n || rc.Items[bad1].Status != envelope.ItemRejected || rc.Items[bad1+1].Status != envelope.ItemAccepted {
			t.Errorf("receipt items %+v", rc.Items)
		}
		// A malformed document is refused whole.
		id2 := newUUID(t)
		broken := e.signXML(policeSender, []byte(`<?xml version="1.0" encoding="UTF-8"?><Personliste xmlns="urn:psykosocial:politi:personliste:v1" ID="m-`+id2+`"><Hoved/></Personliste>`))
		_, err = e.submit(policeSender, e.sealXML(policeSender, envelope.ContentTypePolice, broken, id2))
		if fe, ok := fault.As(err); !ok || !errors.Is(err, fault.ErrMalformed) {
			t.Errorf("malformed list: %v %+v", err, fe)
		}
	})
}
