package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/psykosocial/exchange/certs"
	"github.com/psykosocial/exchange/internal/envelope"
	"github.com/psykosocial/exchange/internal/fault"
	"github.com/psykosocial/exchange/internal/pipeline"
	"github.com/psykosocial/exchange/internal/record"
)

// The handler tests run against the real pipeline (harness_test.go).

func TestHealthReadinessAndJWKSNeedNoClientCertificate(t *testing.T) {
	h := start(t)
	anon := h.client("", "")
	if a := h.do(anon, "GET", "/healthz", "", nil); a.status != 200 || !strings.Contains(string(a.body), `"ok"`) {
		t.Fatalf("healthz: %d %s", a.status, a.body)
	}
	a := h.do(anon, "GET", "/readyz", "", nil)
	var ready readyAnswer
	if err := json.Unmarshal(a.body, &ready); err != nil || a.status != 200 || ready.Status != "ready" {
		t.Fatalf("readyz: %d %s", a.status, a.body)
	}
	// The national directory without Region Østdanmark's code: the gap is
	// reported in words, and readiness holds.
	if len(ready.Gaps) != 1 || !strings.Contains(ready.Gaps[0], "Østdanmark") {
		t.Fatalf("gaps %q", ready.Gaps)
	}
	a = h.do(anon, "GET", "/.well-known/jwks.json", "", nil)
	if a.status != 200 || a.header.Get("Content-Type") != "application/jwk-set+json" {
		t.Fatalf("jwks: %d %v", a.status, a.header)
	}
	sig, enc, err := envelope.ParseJWKS(a.body)
	if err != nil || len(sig) != 1 || len(enc) != 1 {
		t.Fatalf("jwks: %d sig, %d enc, %v: %s", len(sig), len(enc), err, a.body)
	}
	// The database goes away: unready, 503 problem+json with Retry-After,
	// the gaps still named; a submission is 503 too, with Retry-After.
	if err := h.backend.Close(); err != nil {
		t.Fatal(err)
	}
	a = h.do(anon, "GET", "/readyz", "", nil)
	p := problem(t, a, 503, "not-ready")
	if a.header.Get("Retry-After") == "" || p.Detail != "the database does not answer" || !strings.Contains(string(a.body), "Østdanmark") {
		t.Fatalf("unready: %v %s", a.header, a.body)
	}
	_, _, body := h.regionMessage()
	a = h.submit(regionSender, body)
	problem(t, a, 503, "store-unavailable")
	if a.header.Get("Retry-After") != "5" {
		t.Errorf("Retry-After %q", a.header.Get("Retry-After"))
	}
}

func TestV1RoutesNeedARegisteredClientCertificate(t *testing.T) {
	h := start(t)
	for _, path := range []string{"/v1/mailbox", "/v1/messages", "/v1/mailbox/abc/ack"} {
		method := "GET"
		if path != "/v1/mailbox" {
			method = "POST"
		}
		problem(t, h.do(h.client("", ""), method, path, mediaJOSE, []byte("x")), 401, "client-certificate-required")
		// A DPO certificate of the authority is not one of its TLS certificates.
		p := problem(t, h.do(h.client("municipality:0851", "dpo"), method, path, mediaJOSE, []byte("x")), 401, "client-certificate-rejected")
		if !strings.Contains(p.Detail, "not registered") {
			t.Errorf("detail %q", p.Detail)
		}
	}
	// Revoked: the municipality's TLS certificate on the CRL.
	// (Revoking changes the shared PKI; this test uses an authority no other test uses.)
	const revoked = "municipality:0860"
	b, err := os.ReadFile(h.devFile(revoked, "tls-*.cert.pem"))
	must(t, err)
	cs, err := certs.ParsePEMCertificates(b)
	must(t, err)
	must(t, h.ca.Revoke(cs[0].SerialNumber, 1))
	must(t, h.trust.Reload())
	p := problem(t, h.do(h.as(revoked), "GET", "/v1/mailbox", "", nil), 401, "client-certificate-rejected")
	if !strings.Contains(p.Detail, "revoked") {
		t.Errorf("detail %q", p.Detail)
	}
	if v := h.requests("pull", 401); v != 3 {
		t.Errorf("401 pulls counted %v", v)
	}
}

func TestPullIsTheCallersOwnMailbox(t *testing.T) {
	h := start(t)
	rid, _, body := h.regionMessage()
	submitted(t, h.submit(regionSender, body), 202)
	// Another municipality pulls its own mailbox, which is empty, and
	// cannot name another's: the only parameters are max and wait.
	if rs := h.pull("municipality:0851", ""); len(rs) != 0 {
		t.Fatalf("municipality:0851 got %d messages of another", len(rs))
	}
	for _, q := range []string{"recipient=" + aarhus, "mailbox=" + aarhus, "authority=" + aarhus} {
		problem(t, h.do(h.as("municipality:0851"), "GET", "/v1/mailbox?"+q, "", nil), 400, "invalid-parameter")
	}
	// The sender's mailbox does not hold what it sent.
	if rs := h.pull(regionSender, ""); len(rs) != 0 {
		t.Fatalf("the sender got %d messages", len(rs))
	}
	// The residence municipality gets it, leased, once.
	rs := h.pull(aarhus, "?max=5&wait=2")
	if len(rs) != 1 {
		t.Fatalf("%d messages", len(rs))
	}
	if d := rs[0]; d.RecordID != rid || d.Version != 1 || d.Kind != "registration" || d.Deliveries != 1 || !d.LeaseUntil.Equal(now.Add(5*time.Minute)) {
		t.Fatalf("delivery %+v", d.Delivery)
	}
	if again := h.pull(aarhus, ""); len(again) != 0 {
		t.Fatalf("a leased message was delivered again at once")
	}
	c := h.as(aarhus)
	for _, q := range []string{"max=0", "max=101", "wait=31", "wait=-1", "max=x", "max=1&max=2", "other=1", "max=" + strings.Repeat("9", 300)} {
		p := problem(t, h.do(c, "GET", "/v1/mailbox?"+q, "", nil), 400, "invalid-parameter")
		if strings.Contains(p.Detail, "999") {
			t.Errorf("%s: detail echoes the input: %q", q, p.Detail)
		}
	}
	// Acknowledged: never delivered again, not even after the lease.
	if a := h.ack(aarhus, rs[0].MailboxID, h.receipt(aarhus, rs[0])); a.status != 204 || len(a.body) != 0 {
		t.Fatalf("ack: %d %s", a.status, a.body)
	}
	h.clock.Advance(6 * time.Minute)
	if after := h.pull(aarhus, ""); len(after) != 0 {
		t.Fatalf("an acknowledged message was delivered again")
	}
}

// TestLongPollWaitsForACommitOrItsBound: a long-poll of an empty mailbox
// answers when a commit for the caller arrives, or, with nothing, once
// its wait has passed on the gateway's clock (and not before); max bounds
// the messages of one answer.
func TestLongPollWaitsForACommitOrItsBound(t *testing.T) {
	h := start(t)
	c := h.as(aarhus)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	poll := func(q string) <-chan answer_ {
		ch := make(chan answer_, 1)
		base := h.clock.Pending()
		go func() {
			a, err := h.try(c, "GET", "/v1/mailbox"+q, "", nil)
			if err != nil {
				a.status, a.body = -1, []byte(err.Error())
			}
			ch <- a
		}()
		if !h.clock.WaitPending(ctx.Done(), base+1) {
			t.Fatal("the long-poll never waited")
		}
		return ch
	}
	answered := func(ch <-chan answer_) answer_ {
		t.Helper()
		select {
		case a := <-ch:
			return a
		case <-ctx.Done():
			t.Fatal("the long-poll did not answer")
		}
		return answer_{}
	}

	// Nothing waiting: no answer until the clock passes the wait.
	ch := poll("?wait=2")
	select {
	case a := <-ch:
		t.Fatalf("answered before its wait: %d %s", a.status, a.body)
	case <-time.After(200 * time.Millisecond):
	}
	h.clock.Advance(2 * time.Second)
	if rs := h.pulled(aarhus, answered(ch)); len(rs) != 0 {
		t.Fatalf("%d messages from an empty mailbox", len(rs))
	}

	// A commit for the caller wakes its long-poll at once.
	ch = poll("?wait=30")
	rid, _, body := h.regionMessage()
	submitted(t, h.submit(regionSender, body), 202)
	rs := h.pulled(aarhus, answered(ch))
	if len(rs) != 1 || rs[0].RecordID != rid {
		t.Fatalf("woken long-poll: %+v", rs)
	}

	// max bounds one answer.
	for range 2 {
		_, _, body := h.regionMessage()
		submitted(t, h.submit(regionSender, body), 202)
	}
	if rs := h.pull(aarhus, "?max=1"); len(rs) != 1 {
		t.Fatalf("max=1 gave %d", len(rs))
	}
	if rs := h.pull(aarhus, "?max=5"); len(rs) != 1 {
		t.Fatalf("the rest: %d", len(rs))
	}
}

func TestSubmitAnswersWithTheReceipt(t *testing.T) {
	h := start(t)
	rid, mid, body := h.regionMessage()
	r := submitted(t, h.submit(regionSender, body), 202)
	if r.Status != pipeline.StatusAccepted || r.MessageID != mid || len(r.Items) != 1 ||
		r.Items[0].RecordID != rid || r.Items[0].Status != pipeline.ItemAccepted {
		t.Fatalf("answer %+v", r)
	}
	if rc := h.verifyReceipt(r.Receipt); rc.MessageID != mid || rc.PayloadDigest.String() != r.PayloadDigest || rc.Items[0].RecordID != rid {
		t.Fatalf("receipt %+v", rc)
	}
	again := submitted(t, h.submit(regionSender, body), 200)
	if again.Status != pipeline.StatusAlreadyReceived || again.Receipt != r.Receipt {
		t.Fatalf("already received: %+v", again)
	}
	if v := counterValue(t, h.reg, "gateway_records_received_total", map[string]string{"sender_kind": "region"}); v != 2 {
		t.Errorf("received %v", v)
	}
	c := h.as(regionSender)
	problem(t, h.do(c, "POST", "/v1/messages", "application/json", body), 415, "unsupported-media-type")
	problem(t, h.do(c, "POST", "/v1/messages", "", body), 415, "unsupported-media-type")
	problem(t, h.do(c, "POST", "/v1/messages", "application/jose", nil), 400, "malformed-request")
	problem(t, h.do(c, "POST", "/v1/messages", "application/jose", []byte("other")), 400, "bad-envelope")
	big := bytes.Repeat([]byte("a"), MaxSubmitBytes+1)
	problem(t, h.do(c, "POST", "/v1/messages", "application/jose", big), 413, "body-too-large")
	for reason, want := range map[string]float64{"unsupported-media-type": 2, "malformed-request": 1, "bad-envelope": 1, "body-too-large": 1} {
		if v := h.rejected("region", reason); v != want {
			t.Errorf("rejected %s: %v, want %v", reason, v, want)
		}
	}
}

// serveError answers one request on a route whose work fails with err,
// through the route boundary (wrap): the one place errors become answers.
func (h *harness) serveError(err error) answer_ {
	rec := httptest.NewRecorder()
	rt := route{name: "ack", serve: func(*Server, http.ResponseWriter, *http.Request, certs.Authenticated) error {
		if err == nil {
			panic("boom")
		}
		return err
	}}
	h.srv.wrap(rt).ServeHTTP(rec, httptest.NewRequest("POST", "/v1/mailbox/m-1/ack", nil))
	return answer_{rec.Code, rec.Header(), rec.Body.Bytes()}
}

// TestEveryFaultKindHasItsStatus sends an error of every kind through the
// one mapping and checks status, type, Retry-After and bounded output. The
// errors are made here, on a route of their own: the pipeline returns
// hostile details of every kind on no input; the kinds it does return are
// checked over HTTP in intake_test.go.
func TestEveryFaultKindHasItsStatus(t *testing.T) {
	h := start(t)
	hostile := strings.Repeat("<script>\x00", 10000)
	for _, k := range kindStatus {
		a := h.serveError(&fault.Error{Kind: k.kind, Type: "no-such-type-in-the-catalogue", Detail: hostile,
			Problems: record.Problems{{Pointer: hostile, Rule: "r", Message: hostile}}, Err: errors.New("cause")})
		p := problem(t, a, k.status, k.generic)
		if len(p.Detail) > maxDetailBytes || len(p.Problems[0].Pointer) > maxProblemFieldBytes || strings.ContainsRune(p.Detail, 0) {
			t.Errorf("%v: unbounded detail (%d bytes)", k.kind, len(p.Detail))
		}
		if strings.Contains(string(a.body), "cause") {
			t.Errorf("%v: the cause reached the client", k.kind)
		}
		if (k.status == 503 || k.status == 429) != (a.header.Get("Retry-After") != "") {
			t.Errorf("%v: Retry-After %q", k.kind, a.header.Get("Retry-After"))
		}
	}
	// A catalogued type of the right status is kept; RetryAfter is honoured.
	a := h.serveError(&fault.Error{Kind: fault.ErrUnavailable, Type: "timeout", RetryAfter: 1500 * time.Millisecond})
	problem(t, a, 503, "timeout")
	if a.header.Get("Retry-After") != "2" {
		t.Errorf("Retry-After %q", a.header.Get("Retry-After"))
	}
	// A plain error is ours: 500, no detail.
	a = h.serveError(errors.New("secret internals"))
	if p := problem(t, a, 500, "internal-error"); strings.Contains(string(a.body), "secret") || p.Detail != "" {
		t.Errorf("500 leaks: %s", a.body)
	}
	// A panic is a 500 and a counted alert, not a crash.
	problem(t, h.serveError(nil), 500, "internal-error")
	if v := counterValue(t, h.reg, "gateway_http_panics_total", nil); v != 1 {
		t.Errorf("panics %v", v)
	}
	if !strings.Contains(h.logs.String(), `"handler panic"`) {
		t.Errorf("the panic is not logged")
	}
}

// TestAckPathAndBodyAreBounded: the mailbox id of the path and the body of
// an ack are bounded before the pipeline sees them.
func TestAckPathAndBodyAreBounded(t *testing.T) {
	h := start(t)
	c := h.as(policeSender)
	problem(t, h.do(c, "POST", "/v1/mailbox/"+strings.Repeat("a", 200)+"/ack", mediaJOSE, []byte("r")), 404, "not-found")
	problem(t, h.do(c, "POST", "/v1/mailbox/a%20b/ack", mediaJOSE, []byte("r")), 404, "not-found")
	problem(t, h.do(c, "POST", "/v1/mailbox/m/ack", mediaJOSE, bytes.Repeat([]byte("a"), MaxAckBytes+1)), 413, "body-too-large")
	problem(t, h.do(c, "POST", "/v1/mailbox/m/ack", "text/plain", []byte("r")), 415, "unsupported-media-type")
	if v := h.requests("ack", 404); v != 2 {
		t.Errorf("404 acks counted %v", v)
	}
}

func TestUnknownRoutesAndMethods(t *testing.T) {
	e := start(t)
	c := e.client("", "")
	problem(t, e.do(c, "GET", "/nope", "", nil), 404, "not-found")
	a := e.do(c, "DELETE", "/healthz", "", nil)
	problem(t, a, 405, "method-not-allowed")
	if a.header.Get("Allow") != "GET, HEAD" {
		t.Errorf("Allow %q", a.header.Get("Allow"))
	}
	a = e.do(c, "GET", "/v1/messages", "", nil)
	problem(t, a, 405, "method-not-allowed")
	if a.header.Get("Allow") != "POST" {
		t.Errorf("Allow %q", a.header.Get("Allow"))
	}
}

func TestMetricsOnTheOperatorListener(t *testing.T) {
	e := start(t)
	e.do(e.client("", ""), "GET", "/healthz", "", nil)
	e.do(e.client("", ""), "GET", "/v1/mailbox", "", nil)
	resp, err := http.Get(e.operator + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`gateway_http_requests_total{code="200",route="healthz"} 1`,
		`gateway_http_requests_total{code="401",route="pull"} 1`,
		`gateway_http_request_duration_seconds_bucket{route="healthz",le="0.001"} 1`,
		`gateway_config_gaps{state="upcoming"} 1`,
		`gateway_config_gaps{state="in_force"} 0`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	for _, kind := range []string{"region", "municipality", "police"} {
		for _, want := range []string{`gateway_mailbox_depth{recipient_kind="` + kind + `"} 0`, `gateway_mailbox_oldest_age_seconds{recipient_kind="` + kind + `"} 0`} {
			if !strings.Contains(string(b), want) {
				t.Errorf("metrics of empty mailboxes lack %s", want)
			}
		}
	}
	// Not on the public listener.
	problem(t, e.do(e.client("", ""), "GET", "/metrics", "", nil), 404, "not-found")
}

// TestMailboxGauges: the mailbox depth and the oldest message's age per
// recipient kind follow what waits: a registration queued for Aarhus
// Kommune and a region, 90 seconds later; the municipality's ack empties
// its mailbox while the region's message still waits.
func TestMailboxGauges(t *testing.T) {
	e := start(t)
	submitted(t, e.submit(regionSender, e.sealJSON(regionSender, envelope.KindRegistration, e.regionDoc(newUUID(t), nil), newUUID(t))), 202)
	e.clock.Advance(90 * time.Second)
	scrape := func() string {
		resp, err := http.Get(e.operator + "/metrics")
		must(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		must(t, err)
		return string(b)
	}
	m := scrape()
	for _, want := range []string{
		`gateway_mailbox_depth{recipient_kind="municipality"} 1`,
		`gateway_mailbox_oldest_age_seconds{recipient_kind="municipality"} 90`,
		`gateway_mailbox_depth{recipient_kind="region"} 1`,
		`gateway_mailbox_oldest_age_seconds{recipient_kind="region"} 90`,
		`gateway_mailbox_depth{recipient_kind="police"} 0`,
		`gateway_mailbox_oldest_age_seconds{recipient_kind="police"} 0`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	rs := e.pull(aarhus, "")
	if len(rs) != 1 {
		t.Fatalf("%s pulls %d, want 1", aarhus, len(rs))
	}
	if a := e.ack(aarhus, rs[0].MailboxID, e.receipt(aarhus, rs[0])); a.status != http.StatusNoContent {
		t.Fatalf("ack: %d %s", a.status, a.body)
	}
	m = scrape()
	for _, want := range []string{`gateway_mailbox_depth{recipient_kind="municipality"} 0`, `gateway_mailbox_oldest_age_seconds{recipient_kind="municipality"} 0`,
		`gateway_mailbox_depth{recipient_kind="region"} 1`} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics after the ack lack %s", want)
		}
	}
}

func TestClip(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"short", "short"},
		{"abcdefghij", "abcdefghij"},
		{"abcdefghijk", "abcdefg…"},
		{"a\x00b", "a\uFFFDb"},
		{"æøåæøå", "æøå…"},
	} {
		if got := clip(c.in, 10); got != c.want || len(got) > 10 {
			t.Errorf("clip(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestCatalogueIsConsistent: every kind's generic type is catalogued with
// the kind's status, and a name appears at most once per status.
func TestCatalogueIsConsistent(t *testing.T) {
	seen := map[string]bool{}
	for _, p := range catalogue {
		key := fmt.Sprint(p.Name, p.Status)
		if seen[key] || p.Title == "" || p.Name == "" {
			t.Errorf("catalogue entry %+v repeated or incomplete", p)
		}
		seen[key] = true
	}
	for _, k := range kindStatus {
		if _, ok := lookupType(k.generic, k.status); !ok {
			t.Errorf("%v: generic type %s not catalogued with %d", k.kind, k.generic, k.status)
		}
	}
	// The pipeline's two-status type keeps its name under both kinds.
	for _, c := range []struct {
		kind   error
		status int
	}{{fault.ErrForbidden, 403}, {fault.ErrInvalid, 422}} {
		if pt, _ := answer(fault.New(c.kind, "bad-receipt", "", "")); pt.Name != "bad-receipt" || pt.Status != c.status {
			t.Errorf("bad-receipt as %v: %+v", c.kind, pt)
		}
	}
}
