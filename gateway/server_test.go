package gateway

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/psykosocial/exchange/certs"
	"github.com/psykosocial/exchange/internal/clock"
	"github.com/psykosocial/exchange/internal/directory"
	"github.com/psykosocial/exchange/internal/envelope"
	"github.com/psykosocial/exchange/internal/fault"
	"github.com/psykosocial/exchange/internal/keys"
	"github.com/psykosocial/exchange/internal/pipeline"
	"github.com/psykosocial/exchange/internal/record"
	"github.com/psykosocial/exchange/internal/refdata"
)

// now is the instant every test runs at: before the 2027 merger, so the
// Region Østdanmark gap is upcoming.
var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// pki is the development PKI shared by the tests of this package (created
// once: it takes a few seconds).
var pki struct {
	once  sync.Once
	err   error
	dir   string
	ca    *certs.DevCA
	store *certs.Store
	ref   *refdata.Data
	ring  *envelope.KeyRing
	tls   tls.Certificate
}

func TestMain(m *testing.M) {
	code := m.Run()
	if pki.dir != "" {
		os.RemoveAll(pki.dir)
	}
	os.Exit(code)
}

func devPKI(t *testing.T) {
	t.Helper()
	pki.once.Do(func() {
		pki.err = func() error {
			clk := clock.Fixed(now)
			ref, err := refdata.Load(refdata.Config{})
			if err != nil {
				return err
			}
			dir, err := os.MkdirTemp("", "gateway-test-")
			if err != nil {
				return err
			}
			pki.dir, pki.ref = dir, ref
			if _, err := certs.InitDevPKI(certs.InitOptions{DataDir: dir, Ref: ref, Clock: clk}); err != nil {
				return err
			}
			ca, _, err := certs.OpenDevCA(dir, clk)
			if err != nil {
				return err
			}
			pki.ca = ca
			d, err := directory.Load(ca.Paths().Directory(), ref)
			if err != nil {
				return err
			}
			if pki.store, err = certs.NewStore(ca.StoreConfig(), d); err != nil {
				return err
			}
			kp, err := keys.NewFileProvider(keys.FileConfig{Dir: ca.Paths().Gateway()})
			if err != nil {
				return err
			}
			ctx := context.Background()
			sig, err := kp.Signer(ctx, keys.PurposeMessageSigning)
			if err != nil {
				return err
			}
			sk, err := envelope.NewSigningKey(sig, "")
			if err != nil {
				return err
			}
			decs, err := kp.Decrypters(ctx)
			if err != nil {
				return err
			}
			ring := &envelope.KeyRing{Signing: sk}
			for _, d := range decs {
				dk, err := envelope.NewDecryptionKey(d, "")
				if err != nil {
					return err
				}
				ring.Decryption = append(ring.Decryption, dk)
			}
			pki.ring = ring
			if pki.tls, err = kp.TLSCertificate(ctx); err != nil {
				return err
			}
			pki.tls.Certificate = append(pki.tls.Certificate, ca.Issuing().Raw)
			return nil
		}()
	})
	if pki.err != nil {
		t.Fatal(pki.err)
	}
}

// fakePipeline stands in for internal/pipeline, which another change
// implements: a struct of funcs.
type fakePipeline struct {
	submit func(context.Context, pipeline.Submission) (pipeline.SubmitResult, error)
	pull   func(ctx context.Context, recipient string, max int, wait time.Duration) ([]pipeline.Delivery, error)
	ack    func(ctx context.Context, recipient, mailboxID string, receipt []byte) error
	ready  func(context.Context) error
}

func (f *fakePipeline) Submit(ctx context.Context, s pipeline.Submission) (pipeline.SubmitResult, error) {
	return f.submit(ctx, s)
}
func (f *fakePipeline) Pull(ctx context.Context, r string, max int, wait time.Duration) ([]pipeline.Delivery, error) {
	return f.pull(ctx, r, max, wait)
}
func (f *fakePipeline) Ack(ctx context.Context, r, id string, receipt []byte) error {
	return f.ack(ctx, r, id, receipt)
}
func (f *fakePipeline) Ready(ctx context.Context) error { return f.ready(ctx) }

// env is one running gateway on loopback.
type env struct {
	t        *testing.T
	base     string
	operator string
	reg      *prometheus.Registry
	pipe     *fakePipeline
}

func start(t *testing.T) *env {
	t.Helper()
	devPKI(t)
	e := &env{t: t, reg: prometheus.NewRegistry(), pipe: &fakePipeline{
		submit: func(context.Context, pipeline.Submission) (pipeline.SubmitResult, error) {
			return pipeline.SubmitResult{}, errors.New("unexpected submit")
		},
		pull:  func(context.Context, string, int, time.Duration) ([]pipeline.Delivery, error) { return nil, nil },
		ack:   func(context.Context, string, string, []byte) error { return nil },
		ready: func(context.Context) error { return nil },
	}}
	srv, err := New(Config{Pipeline: e.pipe, Trust: pki.store, Keys: pki.ring, Gaps: pki.ref,
		Registry: e.reg, Clock: clock.Fixed(now)})
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(pki.ca.Root())
	pool.AddCert(pki.ca.Issuing())
	cert := pki.tls
	hs := HTTPServer(srv.Handler(), TLSConfig(func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return &cert, nil }, pool), nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go hs.ServeTLS(ln, "", "")
	ops := HTTPServer(srv.OperatorHandler(), nil, nil)
	oln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go ops.Serve(oln)
	t.Cleanup(func() { hs.Close(); ops.Close() })
	e.base = "https://" + ln.Addr().String()
	e.operator = "http://" + oln.Addr().String()
	return e
}

// client returns an HTTPS client that trusts the dev root and presents the
// authority's certificate of use (none for "").
func (e *env) client(authorityID, use string) *http.Client {
	e.t.Helper()
	roots := x509.NewCertPool()
	roots.AddCert(pki.ca.Root())
	cfg := &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	if authorityID != "" {
		dir := pki.ca.Paths().Private(authorityID)
		certs, _ := filepath.Glob(filepath.Join(dir, use+"-*.cert.pem"))
		ks, _ := filepath.Glob(filepath.Join(dir, use+"-*.key.pem"))
		if len(certs) != 1 || len(ks) != 1 {
			e.t.Fatalf("%s %s: %v %v", authorityID, use, certs, ks)
		}
		c, err := tls.LoadX509KeyPair(certs[0], ks[0])
		if err != nil {
			e.t.Fatal(err)
		}
		cfg.Certificates = []tls.Certificate{c}
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: cfg, ForceAttemptHTTP2: true}, Timeout: 20 * time.Second}
}

type answer_ struct {
	status int
	header http.Header
	body   []byte
}

func (e *env) do(c *http.Client, method, path, ctype string, body []byte) answer_ {
	e.t.Helper()
	req, err := http.NewRequest(method, e.base+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return answer_{resp.StatusCode, resp.Header, b}
}

// problem decodes a problem+json answer and checks its shape.
func problem(t *testing.T, a answer_, status int, typ string) problemBody {
	t.Helper()
	if a.status != status {
		t.Fatalf("status %d, want %d: %s", a.status, status, a.body)
	}
	if ct := a.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type %q: %s", ct, a.body)
	}
	var p problemBody
	if err := json.Unmarshal(a.body, &p); err != nil {
		t.Fatal(err)
	}
	if p.Type != ProblemBase+typ || p.Status != status || p.Title == "" {
		t.Fatalf("problem %+v, want type %s status %d", p, typ, status)
	}
	return p
}

func TestHealthReadinessAndJWKSNeedNoClientCertificate(t *testing.T) {
	e := start(t)
	anon := e.client("", "")
	if a := e.do(anon, "GET", "/healthz", "", nil); a.status != 200 || !strings.Contains(string(a.body), `"ok"`) {
		t.Fatalf("healthz: %d %s", a.status, a.body)
	}
	a := e.do(anon, "GET", "/readyz", "", nil)
	var ready readyAnswer
	if err := json.Unmarshal(a.body, &ready); err != nil || a.status != 200 || ready.Status != "ready" {
		t.Fatalf("readyz: %d %s", a.status, a.body)
	}
	// The national directory without Region Østdanmark's code: the gap is
	// reported in words, and readiness holds.
	if len(ready.Gaps) != 1 || !strings.Contains(ready.Gaps[0], "Østdanmark") {
		t.Fatalf("gaps %q", ready.Gaps)
	}
	a = e.do(anon, "GET", "/.well-known/jwks.json", "", nil)
	if a.status != 200 || a.header.Get("Content-Type") != "application/jwk-set+json" {
		t.Fatalf("jwks: %d %v", a.status, a.header)
	}
	sig, enc, err := envelope.ParseJWKS(a.body)
	if err != nil || len(sig) != 1 || len(enc) != 1 {
		t.Fatalf("jwks: %d sig, %d enc, %v: %s", len(sig), len(enc), err, a.body)
	}
	// Unready: 503 problem+json with Retry-After, the gaps still named.
	e.pipe.ready = func(context.Context) error {
		return fault.New(fault.ErrUnavailable, "unavailable", "", "the database is unreachable")
	}
	a = e.do(anon, "GET", "/readyz", "", nil)
	p := problem(t, a, 503, "not-ready")
	if a.header.Get("Retry-After") == "" || p.Detail != "the database is unreachable" || !strings.Contains(string(a.body), "Østdanmark") {
		t.Fatalf("unready: %v %s", a.header, a.body)
	}
}

func TestV1RoutesNeedARegisteredClientCertificate(t *testing.T) {
	e := start(t)
	for _, path := range []string{"/v1/mailbox", "/v1/messages", "/v1/mailbox/abc/ack"} {
		method := "GET"
		if path != "/v1/mailbox" {
			method = "POST"
		}
		problem(t, e.do(e.client("", ""), method, path, mediaJOSE, []byte("x")), 401, "client-certificate-required")
		// A DPO certificate of the authority is not one of its TLS certificates.
		p := problem(t, e.do(e.client("municipality:0851", "dpo"), method, path, mediaJOSE, []byte("x")), 401, "client-certificate-rejected")
		if !strings.Contains(p.Detail, "not registered") {
			t.Errorf("detail %q", p.Detail)
		}
	}
	// Revoked: the municipality's TLS certificate on the CRL.
	// (Revoking changes the shared PKI; this test uses an authority no other test uses.)
	const revoked = "municipality:0860"
	certFiles, _ := filepath.Glob(filepath.Join(pki.ca.Paths().Private(revoked), "tls-*.cert.pem"))
	b, _ := os.ReadFile(certFiles[0])
	cs, _ := certs.ParsePEMCertificates(b)
	if err := pki.ca.Revoke(cs[0].SerialNumber, 1); err != nil {
		t.Fatal(err)
	}
	if err := pki.store.Reload(); err != nil {
		t.Fatal(err)
	}
	p := problem(t, e.do(e.client(revoked, "tls"), "GET", "/v1/mailbox", "", nil), 401, "client-certificate-rejected")
	if !strings.Contains(p.Detail, "revoked") {
		t.Errorf("detail %q", p.Detail)
	}
}

func TestPullIsTheCallersOwnMailbox(t *testing.T) {
	e := start(t)
	type call struct {
		recipient string
		max       int
		wait      time.Duration
	}
	var got []call
	var mu sync.Mutex
	e.pipe.pull = func(_ context.Context, r string, max int, wait time.Duration) ([]pipeline.Delivery, error) {
		mu.Lock()
		got = append(got, call{r, max, wait})
		mu.Unlock()
		return []pipeline.Delivery{{MailboxID: "m-1", RecordID: "r", Version: 1, Kind: "registration", Deliveries: 1,
			LeaseUntil: now.Add(time.Minute), Body: []byte("a.b.c.d.e")}}, nil
	}
	c := e.client("municipality:0851", "tls")
	a := e.do(c, "GET", "/v1/mailbox?max=5&wait=2", "", nil)
	var out struct {
		Messages []map[string]any `json:"messages"`
	}
	if err := json.Unmarshal(a.body, &out); err != nil || a.status != 200 || len(out.Messages) != 1 {
		t.Fatalf("%d %s", a.status, a.body)
	}
	if m := out.Messages[0]; m["mailbox_id"] != "m-1" || m["message"] != "a.b.c.d.e" || m["version"] != 1.0 {
		t.Fatalf("message %v", m)
	}
	e.do(c, "GET", "/v1/mailbox", "", nil)
	want := []call{{"municipality:0851", 5, 2 * time.Second}, {"municipality:0851", DefaultPull, 0}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("calls %v, want %v", got, want)
	}
	for _, q := range []string{"max=0", "max=101", "wait=31", "wait=-1", "max=x", "max=1&max=2", "other=1", "max=" + strings.Repeat("9", 300)} {
		p := problem(t, e.do(c, "GET", "/v1/mailbox?"+q, "", nil), 400, "invalid-parameter")
		if strings.Contains(p.Detail, "999") {
			t.Errorf("%s: detail echoes the input: %q", q, p.Detail)
		}
	}
}

func TestSubmitAnswersWithTheReceipt(t *testing.T) {
	e := start(t)
	var sender string
	res := pipeline.SubmitResult{Status: pipeline.StatusAccepted, MessageID: "3f0c8c1e-7c0e-4b7a-9d3a-1e2f3a4b5c6d",
		PayloadDigest: strings.Repeat("ab", 32), Receipt: []byte("h.p.s"),
		Items: []pipeline.ItemResult{{Index: 0, RecordID: "r1", Version: 1, Status: pipeline.ItemAccepted},
			{Index: 1, Status: pipeline.ItemRejected, Problems: record.Problems{{Pointer: "/x", Rule: "cpr.date", Message: "bad"}}}}}
	e.pipe.submit = func(_ context.Context, s pipeline.Submission) (pipeline.SubmitResult, error) {
		sender = s.Sender.AuthorityID
		if string(s.Body) != "jwe" {
			return pipeline.SubmitResult{}, fault.New(fault.ErrMalformed, "malformed-request", "", "not a JWE")
		}
		return res, nil
	}
	c := e.client("region:1084", "tls")
	a := e.do(c, "POST", "/v1/messages", "application/jose", []byte("jwe"))
	if a.status != 202 || sender != "region:1084" {
		t.Fatalf("%d %s (sender %q)", a.status, a.body, sender)
	}
	var got map[string]any
	if err := json.Unmarshal(a.body, &got); err != nil {
		t.Fatal(err)
	}
	if got["receipt"] != "h.p.s" || got["status"] != "accepted" || got["message_id"] != res.MessageID || len(got["items"].([]any)) != 2 {
		t.Fatalf("answer %s", a.body)
	}
	res.Status = pipeline.StatusAlreadyReceived
	if a := e.do(c, "POST", "/v1/messages", "application/jose", []byte("jwe")); a.status != 200 || !strings.Contains(string(a.body), `"already_received"`) {
		t.Fatalf("already received: %d %s", a.status, a.body)
	}
	if v := counterValue(t, e.reg, "gateway_records_received_total", map[string]string{"sender_kind": "region"}); v != 2 {
		t.Errorf("received %v", v)
	}
	if v := counterValue(t, e.reg, "gateway_records_rejected_total", map[string]string{"sender_kind": "region", "reason": "cpr.date"}); v != 2 {
		t.Errorf("rejected %v", v)
	}
	problem(t, e.do(c, "POST", "/v1/messages", "application/json", []byte("jwe")), 415, "unsupported-media-type")
	problem(t, e.do(c, "POST", "/v1/messages", "", []byte("jwe")), 415, "unsupported-media-type")
	problem(t, e.do(c, "POST", "/v1/messages", "application/jose", nil), 400, "malformed-request")
	problem(t, e.do(c, "POST", "/v1/messages", "application/jose", []byte("other")), 400, "malformed-request")
	big := bytes.Repeat([]byte("a"), MaxSubmitBytes+1)
	problem(t, e.do(c, "POST", "/v1/messages", "application/jose", big), 413, "body-too-large")
	if v := counterValue(t, e.reg, "gateway_records_rejected_total", map[string]string{"sender_kind": "region", "reason": "body-too-large"}); v != 1 {
		t.Errorf("rejected too large %v", v)
	}
}

// TestEveryFaultKindHasItsStatus sends an error of every kind through the
// one mapping and checks status, type, Retry-After and bounded output.
func TestEveryFaultKindHasItsStatus(t *testing.T) {
	e := start(t)
	c := e.client("police:nordjylland", "tls")
	hostile := strings.Repeat("<script>\x00", 10000)
	for _, k := range kindStatus {
		e.pipe.ack = func(context.Context, string, string, []byte) error {
			return &fault.Error{Kind: k.kind, Type: "no-such-type-in-the-catalogue", Detail: hostile,
				Problems: record.Problems{{Pointer: hostile, Rule: "r", Message: hostile}}, Err: errors.New("cause")}
		}
		a := e.do(c, "POST", "/v1/mailbox/m-1/ack", mediaJOSE, []byte("receipt"))
		p := problem(t, a, k.status, k.generic)
		if len(p.Detail) > maxDetailBytes || len(p.Problems[0].Pointer) > maxProblemFieldBytes || strings.ContainsRune(p.Detail, 0) {
			t.Errorf("%v: unbounded detail (%d bytes)", k.kind, len(p.Detail))
		}
		if strings.Contains(string(a.body), "cause") {
			t.Errorf("%v: the cause reached the client", k.kind)
		}
		if (k.status == 503) != (a.header.Get("Retry-After") != "") {
			t.Errorf("%v: Retry-After %q", k.kind, a.header.Get("Retry-After"))
		}
	}
	// A catalogued type of the right status is kept; RetryAfter is honoured.
	e.pipe.ack = func(context.Context, string, string, []byte) error {
		return &fault.Error{Kind: fault.ErrUnavailable, Type: "timeout", RetryAfter: 1500 * time.Millisecond}
	}
	if a := e.do(c, "POST", "/v1/mailbox/m-1/ack", mediaJOSE, []byte("r")); a.header.Get("Retry-After") != "2" {
		t.Errorf("Retry-After %q", a.header.Get("Retry-After"))
	} else {
		problem(t, a, 503, "timeout")
	}
	// A plain error is ours: 500, no detail.
	e.pipe.ack = func(context.Context, string, string, []byte) error { return errors.New("secret internals") }
	a := e.do(c, "POST", "/v1/mailbox/m-1/ack", mediaJOSE, []byte("r"))
	if p := problem(t, a, 500, "internal-error"); strings.Contains(string(a.body), "secret") || p.Detail != "" {
		t.Errorf("500 leaks: %s", a.body)
	}
	// A panic is a 500 and a counted alert, not a crash.
	e.pipe.ack = func(context.Context, string, string, []byte) error { panic("boom") }
	problem(t, e.do(c, "POST", "/v1/mailbox/m-1/ack", mediaJOSE, []byte("r")), 500, "internal-error")
	if v := counterValue(t, e.reg, "gateway_http_panics_total", nil); v != 1 {
		t.Errorf("panics %v", v)
	}
	// The ack reaches the pipeline with the caller and the id; success is 204.
	var gotRecipient, gotID string
	e.pipe.ack = func(_ context.Context, r, id string, b []byte) error { gotRecipient, gotID = r, id; return nil }
	if a := e.do(c, "POST", "/v1/mailbox/6b1f-2/ack", mediaJOSE, []byte("r")); a.status != 204 || gotRecipient != "police:nordjylland" || gotID != "6b1f-2" {
		t.Errorf("ack: %d %q %q", a.status, gotRecipient, gotID)
	}
	problem(t, e.do(c, "POST", "/v1/mailbox/"+strings.Repeat("a", 200)+"/ack", mediaJOSE, []byte("r")), 404, "not-found")
	problem(t, e.do(c, "POST", "/v1/mailbox/a%20b/ack", mediaJOSE, []byte("r")), 404, "not-found")
	problem(t, e.do(c, "POST", "/v1/mailbox/m/ack", mediaJOSE, bytes.Repeat([]byte("a"), MaxAckBytes+1)), 413, "body-too-large")
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
	// Not on the public listener.
	problem(t, e.do(e.client("", ""), "GET", "/metrics", "", nil), 404, "not-found")
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

// counterValue is the value of the counter name with labels (a subset of
// its labels) in g's current gathering, 0 when absent.
func counterValue(t *testing.T, g prometheus.Gatherer, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			got := map[string]string{}
			for _, l := range m.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			for k, v := range labels {
				if got[k] != v {
					continue next
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
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
