package gateway

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/psykosocial/exchange/adapters"
	"github.com/psykosocial/exchange/adapters/common"
	"github.com/psykosocial/exchange/adapters/municipality"
	"github.com/psykosocial/exchange/adapters/police"
	"github.com/psykosocial/exchange/adapters/region"
	"github.com/psykosocial/exchange/certs"
	"github.com/psykosocial/exchange/internal/clock"
	"github.com/psykosocial/exchange/internal/consent"
	"github.com/psykosocial/exchange/internal/directory"
	"github.com/psykosocial/exchange/internal/envelope"
	"github.com/psykosocial/exchange/internal/journal"
	"github.com/psykosocial/exchange/internal/keys"
	"github.com/psykosocial/exchange/internal/pipeline"
	"github.com/psykosocial/exchange/internal/record"
	"github.com/psykosocial/exchange/internal/refdata"
	"github.com/psykosocial/exchange/internal/routing"
	"github.com/psykosocial/exchange/internal/store"
	"github.com/psykosocial/exchange/internal/store/sqlite"
	"github.com/psykosocial/exchange/internal/xmlsig"
)

// The handler tests run the real service: the real *pipeline.Pipeline over
// the development PKI, a SQLite store and journal in t.TempDir(), the
// Server's handlers on loopback TLS, and real clients over mutual TLS.
// Nothing here stands in for a part that can run.

// now is the instant every test starts at: before the 2027 merger, so the
// Region Østdanmark gap is upcoming. The development certificates are
// issued then and valid for years, so Go's TLS client, which judges the
// server certificate at the wall-clock time, accepts them.
var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// pki is the development PKI shared by the tests of this package, created
// once in a temporary directory (it takes seconds) with a fixed clock.
var pki struct {
	once sync.Once
	err  error
	dir  string
	ref  *refdata.Data
}

func TestMain(m *testing.M) {
	code := m.Run()
	if pki.dir != "" {
		os.RemoveAll(pki.dir)
	}
	os.Exit(code)
}

func devPKI(t *testing.T) string {
	t.Helper()
	pki.once.Do(func() {
		if pki.ref, pki.err = refdata.Load(refdata.Config{}); pki.err != nil {
			return
		}
		if pki.dir, pki.err = os.MkdirTemp("", "gateway-test-"); pki.err != nil {
			return
		}
		_, pki.err = certs.InitDevPKI(certs.InitOptions{DataDir: pki.dir, Ref: pki.ref, Clock: clock.Fixed(now)})
	})
	if pki.err != nil {
		t.Fatal(pki.err)
	}
	return pki.dir
}

// harness is one running gateway on loopback: the real pipeline behind the
// public handler (HTTPS with client certificates) and the operator handler.
type harness struct {
	t        *testing.T
	ctx      context.Context
	clock    *clock.Fake
	ca       *certs.DevCA
	paths    certs.Paths
	trust    *certs.Store
	dir      *directory.Directory
	reg      *prometheus.Registry
	srv      *Server
	pipe     *pipeline.Pipeline
	backend  store.Backend
	journal  *journal.Journal
	reader   *journal.Reader
	subjects *journal.SubjectKeys
	base     string
	operator string
	gwEnc    envelope.EncryptionKey
	gwVer    envelope.VerificationKey

	// The senders' own adapters, to write their documents.
	region *region.Adapter
	muni   *municipality.Adapter
	police *police.Adapter

	logs *syncBuffer
}

// options change how start builds the harness.
type options struct {
	// readTimeout replaces the public server's ReadTimeout (limits.go's
	// 90 s) so that a test of a stalled body ends in seconds.
	readTimeout time.Duration
	// trust edits the trust store's configuration (nil: as the
	// development CA gives it).
	trust func(*certs.Config)
}

// start runs a gateway with the limits of limits.go.
func start(t *testing.T) *harness { return startWith(t, options{}) }

func startWith(t *testing.T, o options) *harness {
	t.Helper()
	data := devPKI(t)
	ctx := context.Background()
	h := &harness{t: t, ctx: ctx, clock: clock.NewFake(now), reg: prometheus.NewRegistry(), logs: &syncBuffer{}}
	ref := pki.ref
	ca, _, err := certs.OpenDevCA(data, h.clock)
	must(t, err)
	h.ca, h.paths = ca, ca.Paths()
	h.dir, err = directory.Load(h.paths.Directory(), ref)
	must(t, err)
	trustCfg := ca.StoreConfig()
	if o.trust != nil {
		o.trust(&trustCfg)
	}
	h.trust, err = certs.NewStore(trustCfg, h.dir)
	must(t, err)
	kp, err := keys.NewFileProvider(keys.FileConfig{Dir: h.paths.Gateway()})
	must(t, err)

	// One SQLite database for the store and the journal.
	b, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "gateway.db"), sqlite.Options{})
	must(t, err)
	h.backend = b
	t.Cleanup(func() { b.Close() })
	jkey, err := kp.Signer(ctx, keys.PurposeJournalCheckpoint)
	must(t, err)
	h.journal, err = journal.New(ctx, b.JournalStore(), jkey, journal.Config{Origin: "test.psykosocial.dk/journal", Clock: h.clock})
	must(t, err)
	t.Cleanup(func() { h.journal.Close(context.Background()) })
	st, err := store.New(store.Config{Backend: b, Journal: h.journal, Keys: kp, Clock: h.clock})
	must(t, err)
	secret, err := kp.HMACSecret(ctx)
	must(t, err)
	sk, err := journal.NewSubjectKey(secret)
	must(t, err)
	subjects, err := journal.NewSubjectKeys(sk)
	must(t, err)

	// The domain parts, registered as the binary registers them.
	v := record.NewValidator(ref, h.clock)
	ra, err := region.New(v)
	must(t, err)
	ma, err := municipality.New(v)
	must(t, err)
	pa, err := police.New(v)
	must(t, err)
	registry, err := adapters.NewRegistry(common.New(v), ra, ma, pa)
	must(t, err)
	router, err := routing.New(ref, h.dir)
	must(t, err)
	policy, err := consent.Default()
	must(t, err)
	logger := newTestLogger(h.logs)
	h.pipe, err = pipeline.New(pipeline.Config{Clock: h.clock, Certs: h.trust, Directory: h.dir, Ref: ref, Keys: kp,
		Adapters: registry, Validator: v, Router: router, Policy: policy, Store: st, Journal: h.journal, Subjects: subjects,
		Logger: logger.With("part", "pipeline")})
	must(t, err)

	// The senders' side: their own adapters (a police district encodes its
	// lists with an officer role).
	h.region, h.muni = ra, ma
	h.police, err = police.New(v, police.WithOfficerRole(police.OfficerRoles()[0]))
	must(t, err)

	// The HTTP layer, as serve wires it.
	ring := &envelope.KeyRing{}
	signer, err := kp.Signer(ctx, keys.PurposeMessageSigning)
	must(t, err)
	ring.Signing, err = envelope.NewSigningKey(signer, "")
	must(t, err)
	decs, err := kp.Decrypters(ctx)
	must(t, err)
	for _, d := range decs {
		dk, err := envelope.NewDecryptionKey(d, "")
		must(t, err)
		ring.Decryption = append(ring.Decryption, dk)
	}
	h.gwVer = ring.Signing.VerificationKey()
	encCert := readCert(t, filepath.Join(h.paths.Gateway(), "encryption.cert.pem"))
	h.gwEnc, err = envelope.NewEncryptionKey(encCert.PublicKey, "")
	must(t, err)
	h.reader = journal.NewReader(b.JournalStore(), h.clock)
	h.subjects = subjects
	h.srv, err = New(Config{Pipeline: h.pipe, Trust: h.trust, Keys: ring, Gaps: ref, Registry: h.reg, Clock: h.clock,
		Audit:  &Audit{Reader: h.reader, Journal: h.journal, Subjects: subjects, Successions: h.pipe, CursorKey: AuditCursorKey(secret)},
		Logger: logger.With("part", "http")})
	must(t, err)
	tlsCert, err := kp.TLSCertificate(ctx)
	must(t, err)
	tlsCert.Certificate = append(tlsCert.Certificate, ca.Issuing().Raw)
	pool := x509.NewCertPool()
	pool.AddCert(ca.Root())
	pool.AddCert(ca.Issuing())
	hs := HTTPServer(h.srv.Handler(), TLSConfig(func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return &tlsCert, nil }, pool), logger)
	if o.readTimeout > 0 {
		hs.ReadTimeout = o.readTimeout
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	go hs.ServeTLS(ln, "", "")
	ops := HTTPServer(h.srv.OperatorHandler(), nil, logger)
	oln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	go ops.Serve(oln)
	t.Cleanup(func() { hs.Close(); ops.Close() })
	h.base = "https://" + ln.Addr().String()
	h.operator = "http://" + oln.Addr().String()
	return h
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(path)
	must(t, err)
	cs, err := certs.ParsePEMCertificates(b)
	must(t, err)
	return cs[0]
}

// devFile is the one file of an authority's private dev PKI directory
// matching pattern.
func (h *harness) devFile(authorityID, pattern string) string {
	h.t.Helper()
	m, _ := filepath.Glob(filepath.Join(h.paths.Private(authorityID), pattern))
	if len(m) != 1 {
		h.t.Fatalf("%s %s: %v", authorityID, pattern, m)
	}
	return m[0]
}

// tlsConfig trusts the dev root and presents the authority's certificate
// of use (none for "").
func (h *harness) tlsConfig(authorityID, use string) *tls.Config {
	h.t.Helper()
	roots := x509.NewCertPool()
	roots.AddCert(h.ca.Root())
	cfg := &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	if authorityID != "" {
		c, err := tls.LoadX509KeyPair(h.devFile(authorityID, use+"-*.cert.pem"), h.devFile(authorityID, use+"-*.key.pem"))
		must(h.t, err)
		cfg.Certificates = []tls.Certificate{c}
	}
	return cfg
}

// client returns an HTTPS client (HTTP/2) that trusts the dev root and
// presents the authority's certificate of use (none for "").
func (h *harness) client(authorityID, use string) *http.Client {
	h.t.Helper()
	return &http.Client{Transport: &http.Transport{TLSClientConfig: h.tlsConfig(authorityID, use), ForceAttemptHTTP2: true},
		Timeout: 20 * time.Second}
}

// as is the TLS client of an authority (its tls certificate).
func (h *harness) as(authorityID string) *http.Client { return h.client(authorityID, directory.UseTLS) }

// key reads an authority's private key of one use.
func (h *harness) key(authorityID, use string) crypto.Signer {
	h.t.Helper()
	k, err := certs.ReadKeyFile(h.devFile(authorityID, use+"-*.key.pem"))
	must(h.t, err)
	return k
}

type answer_ struct {
	status int
	header http.Header
	body   []byte
}

func (h *harness) do(c *http.Client, method, path, ctype string, body []byte) answer_ {
	h.t.Helper()
	a, err := h.try(c, method, path, ctype, bytes.NewReader(body))
	must(h.t, err)
	return a
}

// try is do for any goroutine: it returns the error instead of failing.
func (h *harness) try(c *http.Client, method, path, ctype string, body io.Reader) (answer_, error) {
	req, err := http.NewRequest(method, h.base+path, body)
	if err != nil {
		return answer_{}, err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := c.Do(req)
	if err != nil {
		return answer_{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return answer_{resp.StatusCode, resp.Header, b}, err
}

// submit posts a sealed message as the authority's TLS client.
func (h *harness) submit(sender string, body []byte) answer_ {
	h.t.Helper()
	return h.do(h.as(sender), "POST", "/v1/messages", mediaJOSE, body)
}

// submitted decodes a 202 or 200 answer to a submission.
func submitted(t *testing.T, a answer_, status int) receiptAnswer {
	t.Helper()
	if a.status != status || a.header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d (%s), want %d: %s", a.status, a.header.Get("Content-Type"), status, a.body)
	}
	var r receiptAnswer
	must(t, json.Unmarshal(a.body, &r))
	return r
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
	must(t, json.Unmarshal(a.body, &p))
	if p.Type != ProblemBase+typ || p.Status != status || p.Title == "" {
		t.Fatalf("problem %+v, want type %s status %d", p, typ, status)
	}
	return p
}

// newUUID is a fresh lower-case UUID.
func newUUID(t *testing.T) string {
	id, err := envelope.NewMessageID(rand.Reader)
	must(t, err)
	return id
}

// sealJSON signs (JWS) and seals (JWE) a JSON document of sender to the
// gateway under message id id.
func (h *harness) sealJSON(sender string, kind envelope.Kind, doc []byte, id string) []byte {
	h.t.Helper()
	sk, err := envelope.NewSigningKey(h.key(sender, directory.UseSigning), "")
	must(h.t, err)
	s, err := envelope.NewSealer(envelope.SealerConfig{Issuer: sender, Key: sk, Clock: h.clock})
	must(h.t, err)
	sealed, err := s.Seal(h.ctx, envelope.Message{Kind: kind, ContentType: envelope.ContentTypeRegion, Recipient: directory.GatewayID,
		To: h.gwEnc, Payload: doc, ID: id})
	must(h.t, err)
	return sealed.Envelope
}

// signXML signs an XML document (XML-DSig, enveloped) with signer's key.
func (h *harness) signXML(signer string, unsigned []byte) []byte {
	h.t.Helper()
	cs, err := h.trust.VerificationCertificates(signer)
	must(h.t, err)
	signed, err := xmlsig.SignDocument(unsigned, h.key(signer, directory.UseSigning), cs[0])
	must(h.t, err)
	return signed
}

// sealXML seals a signed XML document to the gateway as issuer.
func (h *harness) sealXML(issuer, ct string, signed []byte, id string) []byte {
	h.t.Helper()
	s, err := envelope.NewSealer(envelope.SealerConfig{Issuer: issuer, Clock: h.clock})
	must(h.t, err)
	sealed, err := s.SealXML(h.ctx, envelope.Message{ContentType: ct, Recipient: directory.GatewayID, To: h.gwEnc, Payload: signed, ID: id})
	must(h.t, err)
	return sealed.Envelope
}

const (
	regionSender = "region:1084"
	muniSender   = "municipality:0630"
	policeSender = "police:nordjylland"
	// aarhus is the residence municipality of the region's example person.
	aarhus = "municipality:0751"
)

// regionDoc is the Aarhus resident of the Copenhagen fire, registered by
// region:1084, under record id recordID.
func (h *harness) regionDoc(recordID string, edit func(*record.Record)) []byte {
	h.t.Helper()
	b, err := os.ReadFile("../schemas/examples/region/valid/aarhus-resident-hurt-in-copenhagen-fire.json")
	must(h.t, err)
	m, err := h.region.Decode(b)
	must(h.t, err)
	r := m.Records()[0]
	r.RecordID = recordID
	if edit != nil {
		edit(r)
	}
	doc, err := h.region.Encode(&adapters.Message{Kind: adapters.KindRegistration, Items: []adapters.Item{{Record: r}}})
	must(h.t, err)
	return doc
}

// regionMessage is a fresh registration of the region's example person,
// sealed by region:1084: its record id and message id are new.
func (h *harness) regionMessage() (recordID, messageID string, body []byte) {
	h.t.Helper()
	recordID, messageID = newUUID(h.t), newUUID(h.t)
	return recordID, messageID, h.sealJSON(regionSender, envelope.KindRegistration, h.regionDoc(recordID, nil), messageID)
}

// muniDoc is Vejle's crisis team's registration of three persons (a bus
// accident in Aalborg), signed with Vejle's key, under message id id.
func (h *harness) muniDoc(id string) []byte {
	h.t.Helper()
	b, err := os.ReadFile("../schemas/examples/municipality/valid/kriseteam-aalborg-busulykke-tre-personer.xml")
	must(h.t, err)
	in, err := h.muni.Decode(b)
	must(h.t, err)
	at := h.clock.Now()
	in.Header.MessageID, in.Header.Sender, in.Header.Recipient = id, muniSender, directory.GatewayID
	in.Header.IssuedAt, in.Header.ExpiresAt = at.Add(-time.Minute), at.Add(2*time.Hour)
	for i := range in.Items {
		in.Items[i].Record.RecordID = newUUID(h.t)
		in.Items[i].Record.Registered.ByAuthority = muniSender
		in.Items[i].Record.Consent.Obtained.By.Authority = muniSender
	}
	unsigned, err := h.muni.Encode(in)
	must(h.t, err)
	return h.signXML(muniSender, unsigned)
}

// policeList is a signed police list of n persons of the Nordjylland
// police, the persons at the indexes bad invalid (a birth date in the future).
func (h *harness) policeList(id string, n int, bad ...int) []byte {
	h.t.Helper()
	b, err := os.ReadFile("../schemas/examples/police/valid/brand-aalborg-nordjylland.xml")
	must(h.t, err)
	in, err := h.police.Decode(b)
	must(h.t, err)
	at := h.clock.Now()
	in.Header.MessageID, in.Header.IssuedAt, in.Header.ExpiresAt = id, at.Add(-time.Minute), at.Add(time.Hour)
	first := in.Items[0].Record
	var items []adapters.Item
	for i := 0; i < n; i++ {
		r := first.Clone()
		r.RecordID = newUUID(h.t)
		items = append(items, adapters.Item{Index: i, Record: r})
	}
	in.Items = items
	unsigned, err := h.police.Encode(in)
	must(h.t, err)
	const birth = "<Foedselsdato>1986-07-07</Foedselsdato>"
	parts := strings.Split(string(unsigned), birth)
	if len(parts) != n+1 {
		h.t.Fatalf("the list has %d birth dates, want %d", len(parts)-1, n)
	}
	var sb strings.Builder
	for i, p := range parts {
		sb.WriteString(p)
		if i == n {
			break
		}
		date := birth
		for _, j := range bad {
			if i == j {
				date = "<Foedselsdato>2099-07-07</Foedselsdato>"
			}
		}
		sb.WriteString(date)
	}
	return h.signXML(policeSender, []byte(sb.String()))
}

// received is one pulled delivery, opened by its recipient.
type received struct {
	deliveryAnswer
	opened *envelope.Opened
}

// pulled decodes a pull's answer and opens every delivery as recipient
// with its own decryption key, verifying the gateway's signature.
func (h *harness) pulled(recipient string, a answer_) []received {
	h.t.Helper()
	if a.status != http.StatusOK {
		h.t.Fatalf("pull as %s: %d %s", recipient, a.status, a.body)
	}
	var out pullAnswer
	must(h.t, json.Unmarshal(a.body, &out))
	dk, err := envelope.NewDecryptionKey(h.key(recipient, directory.UseEncryption), "")
	must(h.t, err)
	replay, err := envelope.NewMemoryReplayCache(envelope.MemoryReplayCacheConfig{Clock: h.clock})
	must(h.t, err)
	o, err := envelope.NewOpener(envelope.OpenerConfig{DecryptionKeys: []envelope.DecryptionKey{dk},
		Senders: gatewayKeys{h.gwVer}, Replay: replay, Clock: h.clock})
	must(h.t, err)
	a2, _ := h.dir.Lookup(recipient)
	ct := map[string]string{directory.FormatRegion: envelope.ContentTypeRegion, directory.FormatMunicipality: envelope.ContentTypeMunicipality,
		directory.FormatPolice: envelope.ContentTypePolice}[a2.Format]
	var rs []received
	for _, m := range out.Messages {
		op, err := o.Open(h.ctx, []byte(m.Message), envelope.Expect{Sender: directory.GatewayID, Recipient: recipient,
			Kinds: []envelope.Kind{envelope.KindRegistration, envelope.KindWithdrawal}, ContentType: ct})
		if err != nil {
			h.t.Fatalf("%s opens delivery %s: %v", recipient, m.MailboxID, err)
		}
		if op.Header.MailboxID != m.MailboxID {
			h.t.Fatalf("signed mailbox id %q, the answer says %q", op.Header.MailboxID, m.MailboxID)
		}
		rs = append(rs, received{deliveryAnswer: m, opened: op})
	}
	return rs
}

// pull pulls recipient's own mailbox over HTTP with query q and opens
// what arrives.
func (h *harness) pull(recipient, q string) []received {
	h.t.Helper()
	return h.pulled(recipient, h.do(h.as(recipient), "GET", "/v1/mailbox"+q, "", nil))
}

// receipt is signer's signed acknowledgement of a delivery addressed to it.
func (h *harness) receipt(signer string, r received) []byte {
	h.t.Helper()
	sk, err := envelope.NewSigningKey(h.key(signer, directory.UseSigning), "")
	must(h.t, err)
	s, err := envelope.NewSealer(envelope.SealerConfig{Issuer: signer, Key: sk, Clock: h.clock})
	must(h.t, err)
	tok, _, err := s.SignReceipt(h.ctx, envelope.Receipt{MessageID: r.opened.Header.ID, PayloadDigest: r.opened.Digest,
		Sender: directory.GatewayID, Recipient: signer, Outcome: envelope.OutcomeReceived})
	must(h.t, err)
	return tok
}

// ack acknowledges a delivery over HTTP as recipient with receipt.
func (h *harness) ack(recipient, mailboxID string, receipt []byte) answer_ {
	h.t.Helper()
	return h.do(h.as(recipient), "POST", "/v1/mailbox/"+mailboxID+"/ack", mediaJOSE, receipt)
}

// verifyReceipt verifies the gateway's signed receipt of a submission.
func (h *harness) verifyReceipt(token string) *envelope.ReceiptV2 {
	h.t.Helper()
	o, err := envelope.NewOpener(envelope.OpenerConfig{Senders: gatewayKeys{h.gwVer}, ReplayByCaller: true, Clock: h.clock})
	must(h.t, err)
	rc, err := o.VerifyReceiptV2(h.ctx, []byte(token), directory.GatewayID)
	must(h.t, err)
	return rc
}

// gatewayKeys gives a client the gateway's pinned signing key.
type gatewayKeys struct{ key envelope.VerificationKey }

func (g gatewayKeys) VerificationKeys(_ context.Context, id string) ([]envelope.VerificationKey, error) {
	if id != directory.GatewayID {
		return nil, nil
	}
	return []envelope.VerificationKey{g.key}, nil
}

// counterValue is the value of the counter name with labels (a subset of
// its labels) in g's current gathering, 0 when absent.
func counterValue(t *testing.T, g prometheus.Gatherer, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	must(t, err)
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

// requests is gateway_http_requests_total of a route and status code.
func (h *harness) requests(route string, code int) float64 {
	return counterValue(h.t, h.reg, "gateway_http_requests_total", map[string]string{"route": route, "code": statusLabel(code)})
}

// rejected is gateway_records_rejected_total of a sender kind and reason.
func (h *harness) rejected(kind, reason string) float64 {
	return counterValue(h.t, h.reg, "gateway_records_rejected_total", map[string]string{"sender_kind": kind, "reason": reason})
}

// newTestLogger logs JSON at Debug into w: every line the service writes
// can be searched by a test.
func newTestLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// syncBuffer is a buffer safe for the server's goroutines and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
