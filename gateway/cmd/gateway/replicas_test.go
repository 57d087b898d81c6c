package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/psykosocial/exchange/adapters"
	"github.com/psykosocial/exchange/adapters/region"
	"github.com/psykosocial/exchange/certs"
	"github.com/psykosocial/exchange/gateway/client"
	"github.com/psykosocial/exchange/internal/clock"
	"github.com/psykosocial/exchange/internal/envelope"
	"github.com/psykosocial/exchange/internal/journal"
	"github.com/psykosocial/exchange/internal/keys"
	"github.com/psykosocial/exchange/internal/record"
	"github.com/psykosocial/exchange/internal/refdata"
	"github.com/psykosocial/exchange/internal/testenv"
	"github.com/psykosocial/exchange/schemas"
)

// replicasBound bounds TestTwoServeProcesses as a whole (the build included).
const replicasBound = 4 * time.Minute

// testSchema is a PostgreSQL schema of the test's own on the test server
// (GATEWAY_TEST_DATABASE_URL), dropped when the test ends; the server is
// shared by parallel test packages. It skips (fails under CI=true) when
// the server is unreachable.
func testSchema(t *testing.T) (pool *pgxpool.Pool, url, schema string) {
	t.Helper()
	url = testenv.DatabaseURL()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	pool, err := pgxpool.New(ctx, url)
	if err == nil {
		err = pool.Ping(ctx)
	}
	if err != nil {
		if pool != nil {
			pool.Close()
		}
		testenv.Missing(t, fmt.Sprintf("PostgreSQL at %s (set GATEWAY_TEST_DATABASE_URL) is unreachable: %v", url, err))
	}
	var b [6]byte
	rand.Read(b[:])
	schema = "gateway_replicas_" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := pool.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
		pool.Close()
	})
	return pool, url, schema
}

// writeDevReplicaConfig writes a production-style configuration file
// (serve -config) that serves the development PKI of data from the
// PostgreSQL schema: the dev CA's files as trust anchors, the gateway's
// dev TLS certificate (chained to the issuing CA) as the server
// certificate, the files key provider on the dev key set.
func writeDevReplicaConfig(t *testing.T, data, schema string) string {
	t.Helper()
	p := certs.Paths{DataDir: data}
	dir := t.TempDir()
	var chain []byte
	for _, f := range []string{filepath.Join(p.Gateway(), keys.FileTLSCertificate), p.IssuingCert()} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		chain = append(chain, b...)
	}
	chainFile := filepath.Join(dir, "server.chain.pem")
	if err := os.WriteFile(chainFile, chain, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := map[string]any{
		"data_dir":        data,
		"listen":          "127.0.0.1:0",
		"operator_listen": "127.0.0.1:0",
		"directory":       p.Directory(),
		"store":           map[string]any{"driver": "postgres", "postgres_schema": schema},
		"keys":            map[string]any{"provider": "files", "dir": p.Gateway()},
		"tls":             map[string]any{"cert_file": chainFile, "key_file": filepath.Join(p.Gateway(), keys.FileTLSKey)},
		"trust": map[string]any{"roots": []string{p.RootCert()}, "intermediates": []string{p.IssuingCert()},
			"certificates_dir": p.CertificatesDir(), "crl_dir": p.CRLDir(), "require_crl": true},
		// Checkpoints every second: the two replicas' checkpointers
		// contend for the journal's lock all the time.
		"journal": map[string]any{"checkpoint_interval": "1s"},
		"log":     map[string]any{"format": "text"},
	}
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "gateway.json")
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// devClient is authority's client of the gateway at base, from the
// development PKI in data.
func devClient(t *testing.T, ctx context.Context, data, authority, base string) *client.Client {
	t.Helper()
	roots, err := client.DevRootCAs(data)
	if err != nil {
		t.Fatal(err)
	}
	jwks, err := client.FetchJWKS(ctx, base, roots)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := client.DevConfig(data, authority, base, jwks)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Clock = clock.System()
	c, err := client.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// regionDocs makes Region Hovedstaden's registrations of an Aarhus
// resident (the residence municipality is Aarhus, municipality:0751),
// each under a fresh record id.
type regionDocs struct {
	ad  adapters.Adapter
	rec *record.Record
}

func newRegionDocs(t *testing.T) *regionDocs {
	t.Helper()
	ref, err := refdata.Load(refdata.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ra, err := region.New(record.NewValidator(ref, clock.System()))
	if err != nil {
		t.Fatal(err)
	}
	b, err := schemas.FS.ReadFile("examples/region/valid/aarhus-resident-hurt-in-copenhagen-fire.json")
	if err != nil {
		t.Fatal(err)
	}
	m, err := ra.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	return &regionDocs{ad: ra, rec: m.Records()[0]}
}

// submit sends one new record through c and returns its record id.
func (d *regionDocs) submit(t *testing.T, ctx context.Context, c *client.Client) string {
	t.Helper()
	r := *d.rec
	var err error
	if r.RecordID, err = envelope.NewMessageID(rand.Reader); err != nil {
		t.Fatal(err)
	}
	doc, err := d.ad.Encode(&adapters.Message{Kind: adapters.KindRegistration, Items: []adapters.Item{{Record: &r}}})
	if err != nil {
		t.Fatal(err)
	}
	ans, err := c.Submit(ctx, client.Document{Kind: client.KindRegistration, Payload: doc})
	if err != nil {
		t.Fatalf("submit: %v", err)
	}
	if ans.HTTPStatus != http.StatusAccepted || len(ans.Items) != 1 || ans.Items[0].Status != client.ItemAccepted {
		t.Fatalf("submit: %+v", ans)
	}
	return r.RecordID
}

// pull leases up to max messages with no wait, failing the test on an error.
func pull(t *testing.T, ctx context.Context, c *client.Client, max int) []client.Delivery {
	t.Helper()
	ds, err := c.Pull(ctx, max, 0)
	if err != nil {
		t.Fatalf("pull: %v", err)
	}
	return ds
}

// openAck opens d with opener and acknowledges it through acker (the same
// authority, perhaps connected to another replica).
func openAck(t *testing.T, ctx context.Context, opener, acker *client.Client, d client.Delivery) {
	t.Helper()
	o, err := opener.Open(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	if err := acker.Ack(ctx, o); err != nil {
		t.Fatalf("ack of %s: %v", d.MailboxID, err)
	}
}

func mailboxIDs(ds []client.Delivery) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.MailboxID)
	}
	return out
}

// TestTwoServeProcesses runs two gateway processes on one PostgreSQL
// schema with one development PKI, as replicas behind a load balancer: A
// is "serve --dev -store postgres", B is "serve -config FILE" with the
// PostgreSQL store (the production path). A record submitted to one is
// delivered by the other; a lease taken through one holds in the other;
// an ack through either ends delivery everywhere; concurrent pullers of
// both never hold one mailbox message at the same time; and after both
// stop, the one journal they wrote verifies offline.
func TestTwoServeProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs two gateways on PostgreSQL")
	}
	pool, pgURL, schema := testSchema(t)
	ctx, cancel := context.WithTimeout(context.Background(), replicasBound)
	defer cancel()
	bin := buildGateway(t, ctx)
	data := filepath.Join(t.TempDir(), "data")
	environ := []string{"GATEWAY_POSTGRES_URL=" + pgURL}

	a := startProc(t, bin, environ, "serve", "--dev", "-data", data, "-store", "postgres", "-postgres-schema", schema,
		"-port", "0", "-operator-port", "0")
	t.Cleanup(func() { a.cmd.Process.Kill() })
	if !strings.Contains(a.out.String(), "PostgreSQL GATEWAY_POSTGRES_URL, schema "+schema) {
		t.Errorf("A's banner does not name the PostgreSQL store:\n%s", a.out)
	}
	b := startProc(t, bin, environ, "serve", "-config", writeDevReplicaConfig(t, data, schema))
	t.Cleanup(func() { b.cmd.Process.Kill() })
	if a.base == b.base {
		t.Fatalf("both listen on %s", a.base)
	}

	// B (serve -config with PostgreSQL) is ready and publishes A's keys.
	roots, err := client.DevRootCAs(data)
	if err != nil {
		t.Fatal(err)
	}
	anon := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	defer anon.CloseIdleConnections()
	for _, p := range []*gatewayProc{a, b} {
		resp, err := anon.Get(p.base + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"ready"`) {
			t.Fatalf("%s/readyz: %d %s", p.base, resp.StatusCode, body)
		}
	}
	jwksA, errA := client.FetchJWKS(ctx, a.base, roots)
	jwksB, errB := client.FetchJWKS(ctx, b.base, roots)
	if errA != nil || errB != nil || !bytes.Equal(jwksA, jwksB) {
		t.Fatalf("the replicas publish different key sets: %v %v\n%s\n%s", errA, errB, jwksA, jwksB)
	}

	const sender, recipient = "region:1084", "municipality:0751"
	regA, regB := devClient(t, ctx, data, sender, a.base), devClient(t, ctx, data, sender, b.base)
	munA, munB := devClient(t, ctx, data, recipient, a.base), devClient(t, ctx, data, recipient, b.base)
	docs := newRegionDocs(t)
	var submitted []string
	acked := map[string]bool{} // mailbox ids
	ack := func(opener, acker *client.Client, d client.Delivery) {
		t.Helper()
		openAck(t, ctx, opener, acker, d)
		acked[d.MailboxID] = true
	}

	// A long-poll on B gets what is submitted to A (B's poll of the store
	// finds the other replica's commit).
	got := make(chan []client.Delivery, 1)
	go func() {
		ds, err := munB.Pull(ctx, 10, 30*time.Second)
		if err != nil {
			t.Errorf("long-poll on B: %v", err)
		}
		got <- ds
	}()
	r0 := docs.submit(t, ctx, regA)
	submitted = append(submitted, r0)
	ds := <-got
	if len(ds) != 1 || ds[0].RecordID != r0 || ds[0].Deliveries != 1 {
		t.Fatalf("B's long-poll after a submission to A: %+v", ds)
	}
	ack(munB, munB, ds[0])

	// Leases across the replicas: three records submitted to A.
	three := []string{docs.submit(t, ctx, regA), docs.submit(t, ctx, regA), docs.submit(t, ctx, regA)}
	submitted = append(submitted, three...)
	d1 := pull(t, ctx, munB, 1)
	if len(d1) != 1 {
		t.Fatalf("B delivers %d of A's three records", len(d1))
	}
	ack(munB, munB, d1[0])
	d2 := pull(t, ctx, munA, 1) // leased through A, not acknowledged
	if len(d2) != 1 || d2[0].MailboxID == d1[0].MailboxID {
		t.Fatalf("A after B's ack: %v", mailboxIDs(d2))
	}
	d3 := pull(t, ctx, munB, 10) // B does not deliver what A's lease holds
	if len(d3) != 1 || d3[0].MailboxID == d2[0].MailboxID || d3[0].MailboxID == d1[0].MailboxID {
		t.Fatalf("B while A holds %s: %v", d2[0].MailboxID, mailboxIDs(d3))
	}
	var recs []string
	for _, d := range [][]client.Delivery{d1, d2, d3} {
		recs = append(recs, d[0].RecordID)
		if d[0].Deliveries != 1 {
			t.Errorf("%s delivered %d times", d[0].MailboxID, d[0].Deliveries)
		}
	}
	if slices.Sort(recs); !slices.Equal(recs, slices.Sorted(slices.Values(three))) {
		t.Fatalf("delivered records %v, submitted %v", recs, three)
	}
	// A's delivery acknowledged through B: A never delivers it again (and
	// holds nothing else: B's lease on the third).
	ack(munA, munB, d2[0])
	if ds := pull(t, ctx, munA, 10); len(ds) != 0 {
		t.Fatalf("A after the ack through B: %v", mailboxIDs(ds))
	}
	ack(munA, munA, d3[0]) // B's delivery acknowledged through A
	for _, c := range []*client.Client{munA, munB} {
		if ds := pull(t, ctx, c, 10); len(ds) != 0 {
			t.Fatalf("%s after every ack: %v", c.Authority(), mailboxIDs(ds))
		}
	}

	// Concurrent pullers through both replicas, of records submitted
	// through both: every mailbox message is leased to exactly one of them.
	const n = 24
	for i := range n {
		submitted = append(submitted, docs.submit(t, ctx, []*client.Client{regA, regB}[i%2]))
	}
	type leased struct {
		d  client.Delivery
		by *client.Client
	}
	var (
		mu   sync.Mutex
		held []leased
		wg   sync.WaitGroup
	)
	for _, c := range []*client.Client{munA, munB, munA, munB} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				ds, err := c.Pull(ctx, 3, 0)
				if err != nil {
					t.Errorf("concurrent pull: %v", err)
					return
				}
				if len(ds) == 0 {
					return
				}
				mu.Lock()
				for _, d := range ds {
					held = append(held, leased{d, c})
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	// A puller stops at its first empty answer, which SKIP LOCKED may give
	// while another's transaction holds rows it then does not lease (a
	// retried transaction): what is left is swept up through A.
	for {
		ds := pull(t, ctx, munA, 10)
		if len(ds) == 0 {
			break
		}
		for _, d := range ds {
			held = append(held, leased{d, munA})
		}
	}
	seen := map[string]int{}
	byA := 0
	for _, l := range held {
		seen[l.d.MailboxID]++
		if l.by == munA {
			byA++
		}
	}
	if len(held) != n || len(seen) != n {
		t.Fatalf("the pullers leased %d messages, %d distinct; want %d, each once", len(held), len(seen), n)
	}
	t.Logf("%d of %d concurrent leases through A, %d through B", byA, n, n-byA)
	for _, l := range held { // each acknowledged through the other replica
		other := munA
		if l.by == munA {
			other = munB
		}
		ack(l.by, other, l.d)
	}
	for _, c := range []*client.Client{munA, munB} {
		if ds := pull(t, ctx, c, 10); len(ds) != 0 {
			t.Fatalf("after acknowledging the concurrent leases: %v", mailboxIDs(ds))
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	// The README's recipe: gateway demo through the second replica, its
	// journal read from the shared schema.
	demoStart := time.Now()
	var demoOut bytes.Buffer
	de := &env{stdin: strings.NewReader(""), stdout: &demoOut, stderr: &demoOut, clock: clock.System(),
		getenv: func(k string) string { return map[string]string{"GATEWAY_POSTGRES_URL": pgURL}[k] }}
	if code := run(ctx, de, []string{"demo", "-target", b.base, "-data", data, "-store", "postgres", "-postgres-schema", schema}); code != exitOK ||
		!strings.Contains(demoOut.String(), "JOURNAL VERIFIED OFFLINE") {
		t.Fatalf("demo through B: exit %d\n%s", code, demoOut.String())
	}
	t.Logf("the demo through B took %v", time.Since(demoStart).Round(time.Millisecond))

	// Both stop (SIGINT) at once; each signs its last checkpoint, one at a
	// time under the journal's advisory lock.
	for _, p := range []*gatewayProc{a, b} {
		if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
			t.Fatal(err)
		}
	}
	a.wait(t)
	b.wait(t)

	var undelivered int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{schema, "store_mailbox"}.Sanitize()+
		` WHERE recipient = $1 AND state <> 'delivered'`, recipient).Scan(&undelivered); err != nil {
		t.Fatal(err)
	}
	if undelivered != 0 {
		t.Errorf("%d of %s's mailbox messages are not delivered", undelivered, recipient)
	}

	// The operator commands reach the same store with serve --dev's flags.
	var out, errs bytes.Buffer
	e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errs, clock: clock.System(),
		getenv: func(k string) string { return map[string]string{"GATEWAY_POSTGRES_URL": pgURL}[k] }}
	if code := run(ctx, e, []string{"admin", "parked", "-data", data, "-store", "postgres", "-postgres-schema", schema, "-json"}); code != exitOK ||
		out.Len() != 0 || !strings.Contains(errs.String(), "0 parked mailbox messages") {
		t.Errorf("admin parked on the replicas' store: exit %d: %s %s", code, out.String(), errs.String())
	}

	// One journal, verified offline: every checkpoint either replica
	// signed is consistent with the entries before it (no fork), and every
	// entry is covered by one.
	rep := exportAndVerifyReport(t, devJournalVerifierKey(t, certs.Paths{DataDir: data}), "-postgres", pgURL, "-schema", schema)
	if rep.checkpoints == 0 || !strings.Contains(rep.verify, "full export") {
		t.Fatalf("the journal: %d checkpoints; %s", rep.checkpoints, rep.verify)
	}
	queued := map[string]int{}    // record id -> entries
	delivered := map[string]int{} // mailbox id -> entries
	for _, e := range rep.entries {
		switch {
		case e.Event == string(journal.EventQueued) && e.Counterpart == recipient:
			queued[e.RecordID]++
		case e.Event == string(journal.EventDelivered) && e.Actor == recipient:
			delivered[e.MessageID]++
		}
	}
	for _, rid := range submitted {
		if queued[rid] != 1 {
			t.Errorf("record %s: queued %d times to %s in the journal, want once", rid, queued[rid], recipient)
		}
	}
	for mid := range acked {
		if delivered[mid] != 1 {
			t.Errorf("mailbox message %s: %d delivered entries in the journal, want one", mid, delivered[mid])
		}
	}
	if len(acked) != len(submitted) {
		t.Errorf("%d records submitted, %d mailbox messages acknowledged", len(submitted), len(acked))
	}
	t.Logf("%d entries, %d checkpoints: %s", len(rep.entries), rep.checkpoints, strings.TrimSpace(rep.verify))
}
