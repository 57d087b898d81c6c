package gateway

import (
	"bufio"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/psykosocial/exchange/internal/directory"
	"github.com/psykosocial/exchange/internal/envelope"
	"github.com/psykosocial/exchange/internal/journal"
	"github.com/psykosocial/exchange/internal/pipeline"
	"github.com/psykosocial/exchange/internal/record"
)

// The intake, the mailbox and their refusals end to end over HTTP: real
// clients over mutual TLS, the real pipeline, a SQLite store. Each refusal
// is a problem+json with its status and is counted.

// queuedFor lists the recipients the journal queued a record for.
func (h *harness) queuedFor(recordID string) []string {
	h.t.Helper()
	page, err := h.journal.Query(h.ctx, journal.Query{Filter: journal.Filter{RecordID: recordID,
		Events: []journal.EventType{journal.EventQueued}}, Limit: 100})
	must(h.t, err)
	var out []string
	for _, r := range page.Results {
		out = append(out, r.Entry.Counterpart)
	}
	return out
}

// deliverAll has every recipient of the records pull, open and acknowledge
// what it got, and checks that each record reached each of its recipients.
func (h *harness) deliverAll(recordIDs ...string) {
	h.t.Helper()
	want := map[string]map[string]bool{}
	for _, id := range recordIDs {
		for _, to := range h.queuedFor(id) {
			if want[to] == nil {
				want[to] = map[string]bool{}
			}
			want[to][id] = true
		}
	}
	if len(want) == 0 {
		h.t.Fatal("nothing was queued")
	}
	for to, ids := range want {
		for _, r := range h.pull(to, "?max=100") {
			delete(ids, r.RecordID)
			if a := h.ack(to, r.MailboxID, h.receipt(to, r)); a.status != http.StatusNoContent {
				h.t.Fatalf("%s acks %s: %d %s", to, r.MailboxID, a.status, a.body)
			}
		}
		if len(ids) > 0 {
			h.t.Errorf("%s did not get %v", to, ids)
		}
	}
}

func TestMunicipalCrisisTeamXMLOverHTTP(t *testing.T) {
	h := start(t)
	id := newUUID(t)
	signed := h.muniDoc(id)
	body := h.sealXML(muniSender, envelope.ContentTypeMunicipality, signed, id)
	r := submitted(t, h.submit(muniSender, body), http.StatusAccepted)
	if r.Status != pipeline.StatusAccepted || r.MessageID != id || len(r.Items) != 3 {
		t.Fatalf("answer %+v", r)
	}
	var ids []string
	for _, it := range r.Items {
		if it.Status != pipeline.ItemAccepted {
			t.Errorf("item %+v", it)
		}
		ids = append(ids, it.RecordID)
	}
	if rc := h.verifyReceipt(r.Receipt); rc.MessageID != id || len(rc.Items) != 3 || rc.PayloadDigest.String() != r.PayloadDigest {
		t.Fatalf("receipt %+v", rc)
	}

	// The identical bytes again (the connection dropped): 200, the same receipt.
	again := submitted(t, h.submit(muniSender, body), http.StatusOK)
	if again.Status != pipeline.StatusAlreadyReceived || again.Receipt != r.Receipt || len(again.Items) != 3 {
		t.Fatalf("resubmission: %+v", again)
	}
	// The same signed document in a fresh JWE is the same message.
	resealed := submitted(t, h.submit(muniSender, h.sealXML(muniSender, envelope.ContentTypeMunicipality, signed, id)), http.StatusOK)
	if resealed.Receipt != r.Receipt {
		t.Fatal("a re-sealed resubmission got another receipt")
	}
	// Another document under the used message id: 409.
	other := h.sealXML(muniSender, envelope.ContentTypeMunicipality, h.muniDoc(id), id)
	problem(t, h.submit(muniSender, other), http.StatusConflict, "message-conflict")
	// Vejle's signed document sent by another municipality's TLS client: 403.
	id2 := newUUID(t)
	forged := h.sealXML("municipality:0101", envelope.ContentTypeMunicipality, h.muniDoc(id2), id2)
	p := problem(t, h.submit("municipality:0101", forged), http.StatusForbidden, "signer-mismatch")
	if strings.Contains(p.Detail, "0630") {
		t.Errorf("the detail names the signer: %q", p.Detail)
	}

	h.deliverAll(ids...)
	for _, c := range []struct {
		reason string
		want   float64
	}{{"message-conflict", 1}, {"signer-mismatch", 1}} {
		if v := h.rejected("municipality", c.reason); v != c.want {
			t.Errorf("rejected %s: %v, want %v", c.reason, v, c.want)
		}
	}
	if v := counterValue(t, h.reg, "gateway_records_received_total", map[string]string{"sender_kind": "municipality"}); v != 9 {
		t.Errorf("received %v, want 9 (three answers of three records)", v)
	}
}

func TestPoliceListWithInvalidPersonsOverHTTP(t *testing.T) {
	h := start(t)
	const n, bad1, bad2 = 20, 7, 13
	id := newUUID(t)
	a := h.submit(policeSender, h.sealXML(policeSender, envelope.ContentTypePolice, h.policeList(id, n, bad1, bad2), id))
	r := submitted(t, a, http.StatusAccepted)
	if len(r.Items) != n {
		t.Fatalf("%d items", len(r.Items))
	}
	var ids []string
	for i, it := range r.Items {
		switch {
		case it.Index != i:
			t.Errorf("item %d has index %d", i, it.Index)
		case i == bad1 || i == bad2:
			if it.Status != pipeline.ItemRejected || len(it.Problems) == 0 || it.Problems[0].Rule == "" || it.Problems[0].Pointer == "" {
				t.Errorf("item %d: %+v", i, it)
			}
		case it.Status != pipeline.ItemAccepted:
			t.Errorf("item %d: %+v", i, it)
		default:
			ids = append(ids, it.RecordID)
		}
	}
	// The answer's JSON carries the per-item results as the OpenAPI file says.
	var raw struct {
		Items []map[string]any `json:"items"`
	}
	must(t, json.Unmarshal(a.body, &raw))
	if raw.Items[bad1]["status"] != "rejected" || raw.Items[bad1]["problems"] == nil || raw.Items[0]["status"] != "accepted" {
		t.Errorf("items as sent: %v / %v", raw.Items[bad1], raw.Items[0])
	}
	rc := h.verifyReceipt(r.Receipt)
	if len(rc.Items) != n || rc.Items[bad1].Status != envelope.ItemRejected || rc.Items[bad2].Status != envelope.ItemRejected || rc.Items[0].Status != envelope.ItemAccepted {
		t.Errorf("receipt items %+v", rc.Items)
	}
	rule := r.Items[bad1].Problems[0].Rule
	if v := h.rejected("police", rule); v != 2 {
		t.Errorf("rejected %s: %v, want 2", rule, v)
	}
	if v := counterValue(t, h.reg, "gateway_records_received_total", map[string]string{"sender_kind": "police"}); v != n-2 {
		t.Errorf("received %v, want %d", v, n-2)
	}
	h.deliverAll(ids...)
}

// TestRefusalsOverHTTP: each refusal of the intake and the mailbox is a
// problem+json with its status, and is counted.
func TestRefusalsOverHTTP(t *testing.T) {
	h := start(t)
	rid, mid, body := h.regionMessage()
	submitted(t, h.submit(regionSender, body), http.StatusAccepted)
	region := h.as(regionSender)

	// Another document under the used message id; the record under a new
	// message id with other content; another signer than the TLS client.
	problem(t, h.submit(regionSender, h.sealJSON(regionSender, envelope.KindRegistration, h.regionDoc(newUUID(t), nil), mid)),
		http.StatusConflict, "message-conflict")
	changed := h.regionDoc(rid, func(r *record.Record) { r.Person.Name = "Mette Kjærgaard Holm" })
	problem(t, h.submit(regionSender, h.sealJSON(regionSender, envelope.KindRegistration, changed, newUUID(t))),
		http.StatusConflict, "record-conflict")
	problem(t, h.submit("region:1081", h.sealJSON(regionSender, envelope.KindRegistration, h.regionDoc(newUUID(t), nil), newUUID(t))),
		http.StatusForbidden, "signer-mismatch")
	// Bad JOSE, an oversized body, a wrong content type.
	problem(t, h.do(region, "POST", "/v1/messages", mediaJOSE, []byte("eyJhbGciOiJub25lIn0.e30.")), http.StatusBadRequest, "bad-envelope")
	p := problem(t, h.do(region, "POST", "/v1/messages", mediaJOSE, make([]byte, MaxSubmitBytes+1)), http.StatusRequestEntityTooLarge, "body-too-large")
	if !strings.Contains(p.Detail, fmt.Sprint(MaxSubmitBytes)) {
		t.Errorf("413 detail %q", p.Detail)
	}
	problem(t, h.do(region, "POST", "/v1/messages", "application/xml", body), http.StatusUnsupportedMediaType, "unsupported-media-type")

	// A municipality asking for another's mailbox sees its own only.
	problem(t, h.do(h.as("municipality:0101"), "GET", "/v1/mailbox?recipient="+aarhus, "", nil), http.StatusBadRequest, "invalid-parameter")
	if rs := h.pull("municipality:0101", ""); len(rs) != 0 {
		t.Fatalf("municipality:0101 got %d messages", len(rs))
	}

	// Acks: two deliveries to Aarhus, then receipts that do not fit.
	_, _, body2 := h.regionMessage()
	submitted(t, h.submit(regionSender, body2), http.StatusAccepted)
	rs := h.pull(aarhus, "")
	if len(rs) != 2 {
		t.Fatalf("aarhus got %d", len(rs))
	}
	id := rs[0].MailboxID
	problem(t, h.ack(aarhus, id, h.receipt("municipality:0101", rs[0])), http.StatusForbidden, "bad-receipt")                 // signed by another authority
	problem(t, h.ack(aarhus, id, []byte("not-a-receipt")), http.StatusUnprocessableEntity, "bad-receipt")                     // does not verify
	problem(t, h.ack(aarhus, id, h.receipt(aarhus, rs[1])), http.StatusUnprocessableEntity, "bad-receipt")                    // names another delivery
	problem(t, h.ack("municipality:0101", id, h.receipt("municipality:0101", rs[0])), http.StatusNotFound, "unknown-message") // another's message
	problem(t, h.ack(aarhus, newUUID(t), h.receipt(aarhus, rs[0])), http.StatusNotFound, "unknown-message")                   // no such message
	for _, r := range rs {
		if a := h.ack(aarhus, r.MailboxID, h.receipt(aarhus, r)); a.status != http.StatusNoContent {
			t.Fatalf("ack: %d %s", a.status, a.body)
		}
	}

	for _, c := range []struct {
		reason string
		want   float64
	}{{"message-conflict", 1}, {"record-conflict", 1}, {"signer-mismatch", 1}, {"bad-envelope", 1},
		{"body-too-large", 1}, {"unsupported-media-type", 1}} {
		if v := h.rejected("region", c.reason); v != c.want {
			t.Errorf("rejected %s: %v, want %v", c.reason, v, c.want)
		}
	}
	for _, c := range []struct {
		route string
		code  int
		want  float64
	}{{"submit", 409, 2}, {"submit", 403, 1}, {"submit", 400, 1}, {"submit", 413, 1}, {"submit", 415, 1},
		{"pull", 400, 1}, {"ack", 403, 1}, {"ack", 422, 2}, {"ack", 404, 2}, {"ack", 204, 2}} {
		if v := h.requests(c.route, c.code); v != c.want {
			t.Errorf("%s %d counted %v, want %v", c.route, c.code, v, c.want)
		}
	}
}

// TestStalledBodyIsCutByTheReadTimeout: a body that stops arriving is cut
// by the server's ReadTimeout and answered 408 problem+json, over HTTP/2
// (Go's client) and HTTP/1.1. The harness shortens ReadTimeout to a second;
// TestServerLimits checks the production value.
func TestStalledBodyIsCutByTheReadTimeout(t *testing.T) {
	const timeout = time.Second
	h := startWith(t, options{readTimeout: timeout})

	// HTTP/2: ten bytes of the body, then nothing.
	pr, pw := io.Pipe()
	defer pw.Close()
	go pw.Write([]byte("eyJhbGciOi"))
	began := time.Now()
	a, err := h.try(h.as(regionSender), "POST", "/v1/messages", mediaJOSE, pr)
	must(t, err)
	problem(t, a, http.StatusRequestTimeout, "request-timeout")
	if d := time.Since(began); d < timeout || d > timeout+5*time.Second {
		t.Errorf("cut after %v, want about %v", d, timeout)
	}

	// HTTP/1.1: the headers promise 1,000 bytes, ten arrive.
	cfg := h.tlsConfig(regionSender, directory.UseTLS)
	cfg.NextProtos = []string{"http/1.1"}
	host := strings.TrimPrefix(h.base, "https://")
	conn, err := tls.Dial("tcp", host, cfg)
	must(t, err)
	defer conn.Close()
	must(t, conn.SetDeadline(time.Now().Add(timeout+10*time.Second)))
	_, err = fmt.Fprintf(conn, "POST /v1/messages HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: 1000\r\n\r\neyJhbGciOi", host, mediaJOSE)
	must(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	must(t, err)
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	must(t, err)
	problem(t, answer_{resp.StatusCode, resp.Header, b}, http.StatusRequestTimeout, "request-timeout")

	if v := h.rejected("region", "request-timeout"); v != 2 {
		t.Errorf("rejected request-timeout %v, want 2", v)
	}
	if v := h.requests("submit", http.StatusRequestTimeout); v != 2 {
		t.Errorf("408 counted %v", v)
	}
}

// TestServerLimits: the servers HTTPServer makes carry limits.go's values.
func TestServerLimits(t *testing.T) {
	s := HTTPServer(http.NotFoundHandler(), nil, nil)
	if s.ReadHeaderTimeout != ReadHeaderTimeout || s.ReadTimeout != ReadTimeout || s.WriteTimeout != WriteTimeout ||
		s.IdleTimeout != IdleTimeout || s.MaxHeaderBytes != MaxHeaderBytes {
		t.Errorf("server limits %v %v %v %v %v", s.ReadHeaderTimeout, s.ReadTimeout, s.WriteTimeout, s.IdleTimeout, s.MaxHeaderBytes)
	}
	if WriteTimeout <= ReadTimeout+MaxWait {
		t.Errorf("WriteTimeout %v does not cover a read and a long-poll", WriteTimeout)
	}
}
