package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/psykosocial/exchange/adapters"
	"github.com/psykosocial/exchange/adapters/municipality"
	"github.com/psykosocial/exchange/adapters/police"
	"github.com/psykosocial/exchange/adapters/region"
	"github.com/psykosocial/exchange/certs"
	"github.com/psykosocial/exchange/gateway/client"
	"github.com/psykosocial/exchange/internal/clock"
	"github.com/psykosocial/exchange/internal/directory"
	"github.com/psykosocial/exchange/internal/envelope"
	"github.com/psykosocial/exchange/internal/record"
	"github.com/psykosocial/exchange/internal/refdata"
	"github.com/psykosocial/exchange/internal/testenv"
)

// TestServeDevFullExchangeLogsAndMetrics runs serve --dev in this process
// with JSON logs at Debug (GATEWAY_LOG_FORMAT, GATEWAY_LOG_LEVEL) through a
// full exchange as real clients over mutual TLS (a region's registration,
// a municipal crisis team's XML-DSig registration of three persons, a
// police list with an invalid person, an identical resubmission, a message
// id conflict and a record refused for a CPR number that does not match
// the birth date; every mailbox drained and acknowledged). Then:
//
//   - no CPR number (10 digits, with or without the hyphen) and no name of
//     any person sent appears in the logs;
//   - promtool check metrics passes on the operator listener's /metrics,
//     which shows every mailbox drained (gateway_mailbox_depth 0).
func TestServeDevFullExchangeLogsAndMetrics(t *testing.T) {
	if testing.Short() {
		t.Skip("creates a development PKI")
	}
	data := t.TempDir()
	s := startDevEnv(t, data, map[string]string{"GATEWAY_LOG_FORMAT": "json", "GATEWAY_LOG_LEVEL": "debug"})
	x := newExchange(t, data, s.base)

	// A region's registration of the Aarhus resident of the Copenhagen fire.
	regionDoc := x.regionDoc(nil)
	x.submit("region:1084", client.Document{Kind: client.KindRegistration, Payload: regionDoc}, 202)
	// The same person with a CPR number that does not match the birth
	// date: the record is refused (202, its item rejected).
	badCPR := x.regionDoc(func(r *record.Record) { r.Person.CPR = "3112994321" })
	x.submit("region:1084", client.Document{Kind: client.KindRegistration, Payload: badCPR}, 202)
	// A crisis team's XML-DSig registration of three persons.
	mid := x.uuid()
	x.submit("municipality:0630", client.Document{Payload: x.muniDoc(mid), MessageID: mid}, 202)
	// Another document under the used message id: 409.
	x.submit("municipality:0630", client.Document{Payload: x.muniDoc(mid), MessageID: mid}, 409)
	// A police list of five, the third person invalid.
	pid := x.uuid()
	x.submit("police:nordjylland", client.Document{Payload: x.policeList(pid, 5, 2), MessageID: pid}, 202)
	// The identical bytes again (a dropped connection): 200.
	c := x.client("region:1084")
	sealed, err := c.Seal(x.ctx, client.Document{Kind: client.KindRegistration, Payload: x.regionDoc(nil)})
	must(t, err)
	for _, want := range []int{202, 200} {
		a, err := c.SubmitSealed(x.ctx, sealed)
		if err != nil || a.HTTPStatus != want {
			t.Fatalf("sealed submission: %v %+v, want %d", err, a, want)
		}
	}
	if delivered := x.drainAll(); delivered < 5 {
		t.Fatalf("only %d deliveries", delivered)
	}

	t.Run("no CPR number or name in the logs", func(t *testing.T) {
		logs := s.stderr.String()
		lines := 0
		sc := bufio.NewScanner(strings.NewReader(logs))
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var rec map[string]any
			if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
				t.Fatalf("a log line is not JSON: %q", sc.Text())
			}
			lines++
		}
		// The log is not silent: the exchange is in it, pseudonymously.
		for _, want := range []string{`"msg":"message committed"`, `"msg":"request refused"`, `"msg":"request"`} {
			if !strings.Contains(logs, want) {
				t.Errorf("the logs lack %s (%d lines)", want, lines)
			}
		}
		if len(x.cprs) < 3 || len(x.names) < 3 {
			t.Fatalf("the exchange sent too few CPR numbers (%d) or names (%d)", len(x.cprs), len(x.names))
		}
		t.Logf("%d log lines searched for %d CPR numbers and %d names", lines, len(x.cprs), len(x.names))
		for _, cpr := range x.cprs {
			for _, form := range []string{cpr, cpr[:6] + "-" + cpr[6:]} {
				if strings.Contains(logs, form) {
					t.Errorf("the logs carry the CPR number %s", form)
				}
			}
		}
		for _, name := range x.names {
			if strings.Contains(logs, name) {
				t.Errorf("the logs carry the name %q", name)
			}
		}
		for _, m := range cprPattern.FindAllStringSubmatch(logs, -1) {
			if plausibleCPR(m[1] + m[2]) {
				t.Errorf("the logs carry something shaped like a CPR number: %q", m[0])
			}
		}
	})

	t.Run("promtool check metrics", func(t *testing.T) {
		promtool := testenv.RequireTool(t, "promtool", "apt-get install prometheus")
		resp, err := http.Get(s.metrics)
		must(t, err)
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		must(t, err)
		if resp.StatusCode != 200 {
			t.Fatalf("metrics: %d\n%s", resp.StatusCode, b)
		}
		for _, name := range []string{"gateway_records_received_total{", "gateway_records_rejected_total{",
			`gateway_mailbox_depth{recipient_kind="municipality"} 0`, `gateway_mailbox_oldest_age_seconds{recipient_kind="region"} 0`,
			`gateway_mailbox_depth{recipient_kind="police"} 0`} {
			if !bytes.Contains(b, []byte(name)) {
				t.Fatalf("metrics lack %s:\n%s", name, b)
			}
		}
		cmd := exec.Command(promtool, "check", "metrics")
		cmd.Stdin = bytes.NewReader(b)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("promtool check metrics: %v\n%s", err, out)
		}
	})
}

// cprPattern finds 10 digits, with or without a hyphen after the sixth,
// standing alone (not inside a longer number, a hex digest or an id).
var cprPattern = regexp.MustCompile(`(?:^|[^0-9A-Za-z_.-])(\d{6})-?(\d{4})(?:[^0-9A-Za-z_]|$)`)

// plausibleCPR reports whether ten digits begin with a day and month, as a
// CPR number does (DDMMYY).
func plausibleCPR(s string) bool {
	day, month := (s[0]-'0')*10+s[1]-'0', (s[2]-'0')*10+s[3]-'0'
	return day >= 1 && day <= 31 && month >= 1 && month <= 12
}

// TestCPRDetector: the log check finds CPR numbers in every form a log
// line could carry them, and not the numbers a log line has anyway.
func TestCPRDetector(t *testing.T) {
	found := func(s string) bool {
		for _, m := range cprPattern.FindAllStringSubmatch(s, -1) {
			if plausibleCPR(m[1] + m[2]) {
				return true
			}
		}
		return false
	}
	for _, s := range []string{`{"cpr":"0707861234"}`, `{"x":"070786-1234"}`, `{"n":0707861234}`, `cpr=070786-1234 name=x`,
		`"detail":"person 0707861234 refused"`, "0707861234"} {
		if !found(s) {
			t.Errorf("missed in %s", s)
		}
	}
	for _, s := range []string{`{"time":"2026-12-04T02:50:31.123456789Z"}`, `{"digest":"0707861234abcdef"}`,
		`{"id":"3f0c8c1e-7c0e-4b7a-9d3a-070786123456"}`, `{"took":1234567890}`, `{"port":"127.0.0.1:43215"}`,
		`{"n":12345678901}`} {
		if found(s) {
			t.Errorf("false alarm in %s", s)
		}
	}
}

// exchange is a full exchange's clients and the personal data they sent.
type exchange struct {
	t       *testing.T
	ctx     context.Context
	data    string
	base    string
	jwks    []byte
	clk     clock.Clock
	dir     *directory.Directory
	region  *region.Adapter
	muni    *municipality.Adapter
	police  *police.Adapter
	clients map[string]*client.Client
	// cprs and names are every CPR number and name the exchange sent.
	cprs, names []string
}

func newExchange(t *testing.T, data, base string) *exchange {
	t.Helper()
	x := &exchange{t: t, ctx: context.Background(), data: data, base: base, clk: clock.System(), clients: map[string]*client.Client{}}
	roots, err := client.DevRootCAs(data)
	must(t, err)
	x.jwks, err = client.FetchJWKS(x.ctx, base, roots)
	must(t, err)
	ref, err := refdata.Load(refdata.Config{})
	must(t, err)
	x.dir, err = directory.Load(certs.Paths{DataDir: data}.Directory(), ref)
	must(t, err)
	v := record.NewValidator(ref, x.clk)
	x.region, err = region.New(v)
	must(t, err)
	x.muni, err = municipality.New(v)
	must(t, err)
	x.police, err = police.New(v, police.WithOfficerRole(police.OfficerRoles()[0]))
	must(t, err)
	return x
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (x *exchange) uuid() string {
	id, err := envelope.NewMessageID(rand.Reader)
	must(x.t, err)
	return id
}

// client is the authority's client from the development PKI.
func (x *exchange) client(id string) *client.Client {
	x.t.Helper()
	if c, ok := x.clients[id]; ok {
		return c
	}
	cfg, err := client.DevConfig(x.data, id, x.base, x.jwks)
	must(x.t, err)
	cfg.Clock = x.clk
	c, err := client.New(cfg)
	must(x.t, err)
	x.t.Cleanup(c.Close)
	x.clients[id] = c
	return c
}

// submit sends doc as sender; want is the HTTP status.
func (x *exchange) submit(sender string, doc client.Document, want int) {
	x.t.Helper()
	a, err := x.client(sender).Submit(x.ctx, doc)
	var p *client.Problem
	switch {
	case err == nil && a.HTTPStatus == want:
	case errors.As(err, &p) && p.Status == want:
	default:
		x.t.Fatalf("%s submits: %+v %v, want %d", sender, a, err, want)
	}
}

// remember notes the persons of records as sent.
func (x *exchange) remember(rs ...*record.Record) {
	for _, r := range rs {
		b, err := record.MarshalCanonical(r)
		must(x.t, err)
		var doc any
		must(x.t, json.Unmarshal(b, &doc))
		x.walk(doc, "")
	}
}

func (x *exchange) walk(v any, key string) {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			x.walk(e, k)
		}
	case []any:
		for _, e := range v {
			x.walk(e, key)
		}
	case string:
		switch key {
		case "cpr":
			x.cprs = append(x.cprs, strings.ReplaceAll(v, "-", ""))
		case "name":
			x.names = append(x.names, v)
		}
	}
}

// regionDoc is the Aarhus resident of the Copenhagen fire as region:1084
// writes it, a fresh record id.
func (x *exchange) regionDoc(edit func(*record.Record)) []byte {
	x.t.Helper()
	b, err := os.ReadFile("../../../schemas/examples/region/valid/aarhus-resident-hurt-in-copenhagen-fire.json")
	must(x.t, err)
	m, err := x.region.Decode(b)
	must(x.t, err)
	r := m.Records()[0]
	r.RecordID = x.uuid()
	if edit != nil {
		edit(r)
	}
	x.remember(r)
	doc, err := x.region.Encode(&adapters.Message{Kind: adapters.KindRegistration, Items: []adapters.Item{{Record: r}}})
	must(x.t, err)
	return doc
}

// muniDoc is Vejle's crisis team's unsigned registration of three persons.
func (x *exchange) muniDoc(id string) []byte {
	x.t.Helper()
	const sender = "municipality:0630"
	b, err := os.ReadFile("../../../schemas/examples/municipality/valid/kriseteam-aalborg-busulykke-tre-personer.xml")
	must(x.t, err)
	in, err := x.muni.Decode(b)
	must(x.t, err)
	now := x.clk.Now()
	in.Header.MessageID, in.Header.Sender, in.Header.Recipient = id, sender, directory.GatewayID
	in.Header.IssuedAt, in.Header.ExpiresAt = now.Add(-time.Minute), now.Add(time.Hour)
	for i := range in.Items {
		r := in.Items[i].Record
		r.RecordID = x.uuid()
		r.Registered.ByAuthority, r.Consent.Obtained.By.Authority = sender, sender
		x.remember(r)
	}
	doc, err := x.muni.Encode(in)
	must(x.t, err)
	return doc
}

// policeList is the Nordjylland police's unsigned list of n persons, the
// persons at the indexes bad invalid (a birth date in the future).
func (x *exchange) policeList(id string, n int, bad ...int) []byte {
	x.t.Helper()
	b, err := os.ReadFile("../../../schemas/examples/police/valid/brand-aalborg-nordjylland.xml")
	must(x.t, err)
	in, err := x.police.Decode(b)
	must(x.t, err)
	now := x.clk.Now()
	in.Header.MessageID, in.Header.IssuedAt, in.Header.ExpiresAt = id, now.Add(-time.Minute), now.Add(time.Hour)
	first := in.Items[0].Record
	var items []adapters.Item
	for i := 0; i < n; i++ {
		r := first.Clone()
		r.RecordID = x.uuid()
		items = append(items, adapters.Item{Index: i, Record: r})
		x.remember(r)
	}
	in.Items = items
	doc, err := x.police.Encode(in)
	must(x.t, err)
	const birth = "<Foedselsdato>1986-07-07</Foedselsdato>"
	parts := strings.Split(string(doc), birth)
	if len(parts) != n+1 {
		x.t.Fatalf("the list has %d birth dates, want %d", len(parts)-1, n)
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
	return []byte(sb.String())
}

// drainAll has every authority with a mailbox pull, open and acknowledge
// everything waiting, and returns the number of deliveries.
func (x *exchange) drainAll() int {
	x.t.Helper()
	n := 0
	for _, a := range x.dir.Authorities {
		if !a.Mailbox || a.Kind == directory.KindGateway {
			continue
		}
		c := x.client(a.ID)
		for {
			ds, err := c.Pull(x.ctx, 100, 0)
			must(x.t, err)
			if len(ds) == 0 {
				break
			}
			for _, d := range ds {
				o, err := c.Open(x.ctx, d)
				must(x.t, err)
				must(x.t, c.Ack(x.ctx, o))
				n++
			}
		}
	}
	return n
}
