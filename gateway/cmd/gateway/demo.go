package main

import (
	"bytes"
	"cmp"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/psykosocial/exchange/adapters"
	"github.com/psykosocial/exchange/adapters/police"
	"github.com/psykosocial/exchange/certs"
	"github.com/psykosocial/exchange/gateway/client"
	"github.com/psykosocial/exchange/internal/directory"
	"github.com/psykosocial/exchange/internal/envelope"
	"github.com/psykosocial/exchange/internal/journal"
	"github.com/psykosocial/exchange/internal/record"
	"github.com/psykosocial/exchange/internal/refdata"
	"github.com/psykosocial/exchange/internal/store/storeconfig"
)

// demoCheckpointWait bounds the wait for a journal checkpoint that covers
// the demo's last entries (the journal signs one at least every 10 s).
const demoCheckpointWait = 45 * time.Second

// runDemo is "gateway demo": a fire with 40 people at an EPC, a police
// list, a crisis team's registrations, one correction and one withdrawal,
// driven through a running gateway (serve --dev on the same data
// directory) as real clients over mutual TLS.
func runDemo(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	target := fs.String("target", "https://127.0.0.1:8443", "the gateway's `URL` (serve --dev listens on https://127.0.0.1:8443)")
	data := fs.String("data", defaultDataDir, "the data `DIR` of serve --dev: its development PKI (client certificates and keys) and its SQLite journal")
	storeDriver := fs.String("store", storeconfig.DriverSQLite, "the store of serve --dev, where the journal is read: sqlite (DIR/gateway.db) or postgres (GATEWAY_POSTGRES_URL)")
	pgSchema := fs.String("postgres-schema", "", "the PostgreSQL schema of serve --dev -store postgres")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		fmt.Fprintln(e.stderr, "usage: gateway demo [-target URL] [-data DIR] [-store sqlite|postgres] [-postgres-schema NAME]")
		return exitUsage
	}
	st := storeSettings{Driver: *storeDriver, PostgresSchema: *pgSchema}
	switch st.Driver {
	case storeconfig.DriverSQLite:
	case storeconfig.DriverPostgres:
		if st.PostgresURL = e.getenvOrEmpty("GATEWAY_POSTGRES_URL"); st.PostgresURL == "" {
			fmt.Fprintln(e.stderr, "gateway demo: -store postgres: give the database as GATEWAY_POSTGRES_URL")
			return exitUsage
		}
	default:
		fmt.Fprintf(e.stderr, "gateway demo: -store %q is not sqlite or postgres\n", st.Driver)
		return exitUsage
	}
	if _, err := demo(ctx, e, *target, *data, st); err != nil {
		fmt.Fprintln(e.stderr, "gateway demo:", err)
		return exitFailure
	}
	return exitOK
}

// demoReceived is one delivery a recipient opened and acknowledged.
type demoReceived struct {
	recordID string
	version  int
	kind     string
	// groups are the field groups of the view ("identity", "contact",
	// "address", "incident", "relation", "assessment", "notes").
	groups []string
}

// demoReport is what a demo run did, for its test.
type demoReport struct {
	scenario demoScenario
	// items are the gateway's answers per record id.
	items map[string]client.Item
	// rejected lists the rejected items per sender, by their position in
	// the sender's whole list (a rejected record may have no readable id).
	rejected map[string][]int
	// received lists each recipient's opened and acknowledged deliveries.
	received map[string][]demoReceived
	// corrected and withdrawn are the record ids of the correction and the withdrawal.
	corrected, withdrawn string
	// leftOver counts messages found in a mailbox after the last acks.
	leftOver int
	// journal is the offline verification of the full export.
	journal *journal.VerifyReport
}

// demoRun is one run's state.
type demoRun struct {
	e      *env
	out    io.Writer
	target string
	data   string
	// store is where the journal is read (serve --dev's store).
	store    storeSettings
	jwks     []byte
	dir      *directory.Directory
	adapters *adapters.Registry
	// policeEnc writes the police district's own lists (with the officer role).
	policeEnc adapters.Adapter
	clients   map[string]*client.Client
	rep       *demoReport
	// ours are the record ids of this run.
	ours map[string]bool
	// others counts deliveries of records not of this run, acknowledged too.
	others int
}

// demo plays the scenario through the gateway at target with the
// development PKI in data, and reads the journal from st (SQLite in data
// when st.Driver is sqlite).
func demo(ctx context.Context, e *env, target, data string, st storeSettings) (*demoReport, error) {
	ref, err := refdata.Load(refdata.Config{})
	if err != nil {
		return nil, err
	}
	paths := certs.Paths{DataDir: data}
	dir, err := directory.Load(paths.Directory(), ref)
	if err != nil {
		return nil, fmt.Errorf("the development directory (start 'gateway serve --dev -data %s' first): %w", data, err)
	}
	roots, err := client.DevRootCAs(data)
	if err != nil {
		return nil, err
	}
	jwks, err := client.FetchJWKS(ctx, target, roots)
	if err != nil {
		return nil, fmt.Errorf("is the gateway running at %s? %w", target, err)
	}
	v := record.NewValidator(ref, e.clock)
	reg, err := newRegistry(v)
	if err != nil {
		return nil, err
	}
	pol, err := police.New(v, police.WithOfficerRole(police.RoleIncidentCommander))
	if err != nil {
		return nil, err
	}
	r := &demoRun{e: e, out: e.stdout, target: target, data: data, store: st, jwks: jwks, dir: dir, adapters: reg, policeEnc: pol,
		clients: map[string]*client.Client{},
		rep: &demoReport{items: map[string]client.Item{}, received: map[string][]demoReceived{},
			rejected: map[string][]int{}}}
	defer func() {
		for _, c := range r.clients {
			c.Close()
		}
	}()
	s := newDemoScenario(e.clock.Now(), func() string {
		id, err := envelope.NewMessageID(rand.Reader)
		if err != nil {
			panic(err)
		}
		return id
	})
	r.rep.scenario = s
	r.ours = map[string]bool{}
	for _, ps := range [][]demoPerson{s.epc, s.police, s.crisis} {
		for _, p := range ps {
			r.ours[p.rec.RecordID] = true
		}
	}
	inc := s.incident
	r.printf("DEMO: %s (%s), %s, incident %s at %s\n", inc.Title, inc.Kind, r.name("municipality:"+inc.MunicipalityCode),
		inc.ID, inc.OccurredAt.Format("2006-01-02 15:04 MST"))
	r.printf("Every step below is a real client over mutual TLS to %s, with the development certificates of %s.\n\n", target, paths.Private("<authority>"))

	// 1. The registrations.
	r.printf("1. REGISTRATIONS\n")
	if err := r.submitRegion(ctx, s.epc, "the EPC (KOP) registers %d people"); err != nil {
		return nil, err
	}
	if err := r.submitXML(ctx, demoPolice, s.police, 0, s.badPolice, s.badCPR,
		fmt.Sprintf("the police list of %d persons, one signed message", len(s.police))); err != nil {
		return nil, err
	}
	if err := r.submitXML(ctx, demoCrisisTeam, s.crisis, 0, -1, "", "the crisis team's hotline registrations"); err != nil {
		return nil, err
	}

	// 2. Every mailbox is pulled and acknowledged.
	r.printf("\n2. DELIVERIES: every authority pulls its own mailbox, opens each message (gateway signature verified, decrypted with its key) and acknowledges it with its signed receipt\n")
	first, err := r.drainAll(ctx)
	if err != nil {
		return nil, err
	}
	r.printDeliveries(first)

	// 3. One correction and one withdrawal.
	r.printf("\n3. A CORRECTION AND A WITHDRAWAL\n")
	corr := s.epc[9].rec.Clone()
	corr.Version = 2
	corr.Person.Phone = "+4529990011"
	corr.Assessment.FollowUpPriority = record.PriorityAcute
	r.rep.corrected = corr.RecordID
	if err := r.submitRegion(ctx, []demoPerson{{rec: corr, label: "correction"}},
		"the EPC corrects %d record (version 2: a new phone number, priority raised to acute)"); err != nil {
		return nil, err
	}
	wd := s.epc[10].rec
	r.rep.withdrawn = wd.RecordID
	if err := r.withdraw(ctx, wd); err != nil {
		return nil, err
	}
	second, err := r.drainAll(ctx)
	if err != nil {
		return nil, err
	}
	r.printDeliveries(second)

	// 4. Every mailbox is empty now.
	left := 0
	for _, id := range r.mailboxes() {
		c, err := r.client(id)
		if err != nil {
			return nil, err
		}
		ds, err := c.Pull(ctx, 100, 0)
		if err != nil {
			return nil, fmt.Errorf("%s pulls: %w", id, err)
		}
		left += len(ds)
	}
	r.rep.leftOver = left
	r.printf("\n4. MAILBOXES: all %d mailboxes pulled again: %d messages left (every delivery was acknowledged)\n", len(r.mailboxes()), left)

	// 5. What was withheld and why, from the journal; the journal verified offline.
	if err := r.journal(ctx); err != nil {
		return nil, err
	}
	return r.rep, nil
}

func (r *demoRun) printf(format string, args ...any) { fmt.Fprintf(r.out, format, args...) }

// name is an authority's display name with its id.
func (r *demoRun) name(id string) string {
	if a, ok := r.dir.Lookup(id); ok {
		return a.Name + " (" + id + ")"
	}
	return id
}

// client is the authority's client, made once.
func (r *demoRun) client(id string) (*client.Client, error) {
	if c, ok := r.clients[id]; ok {
		return c, nil
	}
	cfg, err := client.DevConfig(r.data, id, r.target, r.jwks)
	if err != nil {
		return nil, err
	}
	cfg.Clock = r.e.clock
	c, err := client.New(cfg)
	if err != nil {
		return nil, err
	}
	r.clients[id] = c
	return c, nil
}

// mailboxes are the authorities with a mailbox and a development key pair.
func (r *demoRun) mailboxes() []string {
	var out []string
	for _, a := range r.dir.Authorities {
		if !a.Mailbox {
			continue
		}
		if _, err := os.Stat(certs.Paths{DataDir: r.data}.Private(a.ID)); err == nil {
			out = append(out, a.ID)
		}
	}
	sort.Strings(out)
	return out
}

// submitRegion sends records as one regional document.
func (r *demoRun) submitRegion(ctx context.Context, ps []demoPerson, what string) error {
	m := &adapters.Message{Kind: adapters.KindRegistration}
	for i, p := range ps {
		m.Items = append(m.Items, adapters.Item{Index: i, Record: p.rec})
	}
	a, _ := r.adapters.ByFormat(client.FormatRegion)
	doc, err := a.Encode(m)
	if err != nil {
		return fmt.Errorf("encode the region's document: %w", err)
	}
	return r.submit(ctx, demoRegion, client.Document{Kind: client.KindRegistration, Payload: doc}, ps, 0, fmt.Sprintf(what, len(ps)))
}

// withdraw sends the region's withdrawal notice of rec.
func (r *demoRun) withdraw(ctx context.Context, rec *record.Record) error {
	at := r.e.clock.Now().Add(-time.Second).UTC().Truncate(time.Second)
	a, _ := r.adapters.ByFormat(client.FormatRegion)
	doc, err := a.Encode(&adapters.Message{Kind: adapters.KindWithdrawal, Withdrawal: &record.Withdrawal{
		Schema: record.WithdrawalSchemaV1, RecordID: rec.RecordID, Version: rec.Version, IncidentID: rec.Incident.ID,
		Reason: record.ReasonRegisteredInError, WithdrawnAt: &at}})
	if err != nil {
		return fmt.Errorf("encode the withdrawal: %w", err)
	}
	return r.submit(ctx, demoRegion, client.Document{Kind: client.KindWithdrawal, Payload: doc}, nil, 0,
		"the EPC withdraws one record (registered in error: the person was never at the venue)")
}

// submitXML sends records as one signed XML document of sender; the item
// at bad (offset by first) gets the CPR number badCPR.
func (r *demoRun) submitXML(ctx context.Context, sender string, ps []demoPerson, first, bad int, badCPR, what string) error {
	id, err := envelope.NewMessageID(rand.Reader)
	if err != nil {
		return err
	}
	now := r.e.clock.Now()
	ref := "27.24.00-G01-" + id[:8]
	if sender == demoPolice {
		ref = fmt.Sprintf("5300-80150-%05d-%02d", 100+first, now.Year()%100)
	}
	m := &adapters.Message{Kind: adapters.KindRegistration, Header: &adapters.Header{MessageID: id, Sender: sender,
		Recipient: envelope.GatewayID, IssuedAt: now.Add(-time.Minute).Truncate(time.Second), ExpiresAt: now.Add(time.Hour).Truncate(time.Second),
		SenderReference: ref}}
	for i, p := range ps {
		m.Items = append(m.Items, adapters.Item{Index: i, Record: p.rec})
	}
	a, _ := r.adapters.ByFormat(client.FormatOf(sender))
	if sender == demoPolice {
		a = r.policeEnc
	}
	doc, err := a.Encode(m)
	if err != nil {
		return fmt.Errorf("encode %s's document: %w", sender, err)
	}
	if i := bad - first; i >= 0 && i < len(ps) {
		good := ps[i].rec.Person.CPR
		doc = bytes.Replace(doc, []byte(">"+good+"<"), []byte(">"+badCPR+"<"), 1)
	}
	return r.submit(ctx, sender, client.Document{Payload: doc, MessageID: id}, ps, first, what)
}

// submit sends one document and prints the answer.
func (r *demoRun) submit(ctx context.Context, sender string, doc client.Document, ps []demoPerson, first int, what string) error {
	c, err := r.client(sender)
	if err != nil {
		return err
	}
	ans, err := c.Submit(ctx, doc)
	if err != nil {
		return fmt.Errorf("%s submits: %w", sender, err)
	}
	counts := map[client.ItemStatus]int{}
	for _, it := range ans.Items {
		counts[it.Status]++
		if it.RecordID != "" {
			r.rep.items[it.RecordID] = it
		}
	}
	r.printf("  %s: %s\n", r.name(sender), what)
	r.printf("    -> %d %s, message %s, signed receipt verified", ans.HTTPStatus, ans.Status, ans.MessageID)
	if len(ans.Items) > 0 {
		r.printf(": %d accepted", counts[client.ItemAccepted])
		if n := counts[client.ItemRejected]; n > 0 {
			r.printf(", %d rejected", n)
		}
	}
	r.printf("\n")
	for _, it := range ans.Items {
		if it.Status != client.ItemRejected {
			continue
		}
		r.rep.rejected[sender] = append(r.rep.rejected[sender], first+it.Index)
		label := ""
		if it.Index < len(ps) {
			label = ps[it.Index].label
		}
		r.printf("       person %d (%s) rejected, the others proceed:", first+it.Index+1, label)
		for _, p := range it.Problems {
			r.printf(" %s: %s [%s]", p.Pointer, p.Message, p.Rule)
		}
		r.printf("\n")
	}
	return nil
}

// drainAll empties every mailbox: pull, open, decode, acknowledge.
func (r *demoRun) drainAll(ctx context.Context) (map[string][]demoReceived, error) {
	got := map[string][]demoReceived{}
	for _, id := range r.mailboxes() {
		c, err := r.client(id)
		if err != nil {
			return nil, err
		}
		for {
			ds, err := c.Pull(ctx, 100, 0)
			if err != nil {
				return nil, fmt.Errorf("%s pulls: %w", id, err)
			}
			if len(ds) == 0 {
				break
			}
			for _, d := range ds {
				o, err := c.Open(ctx, d)
				if err != nil {
					return nil, fmt.Errorf("%s opens %s: %w", id, d.MailboxID, err)
				}
				rcv, err := r.view(id, o)
				if err != nil {
					return nil, err
				}
				if err := c.Ack(ctx, o); err != nil {
					return nil, fmt.Errorf("%s acknowledges %s: %w", id, d.MailboxID, err)
				}
				if !r.ours[rcv.recordID] {
					r.others++ // an earlier run's, or another client's: emptied too
					continue
				}
				got[id] = append(got[id], rcv)
				r.rep.received[id] = append(r.rep.received[id], rcv)
			}
		}
	}
	return got, nil
}

// view decodes an opened delivery with the recipient's own adapter and
// says which field groups it carries.
func (r *demoRun) view(id string, o *client.Opened) (demoReceived, error) {
	rcv := demoReceived{recordID: o.Delivery.RecordID, version: o.Delivery.Version, kind: string(o.Kind)}
	a, ok := r.adapters.ByFormat(client.FormatOf(id))
	if !ok {
		return rcv, fmt.Errorf("%s: no adapter", id)
	}
	m, err := a.Decode(o.Payload)
	if err != nil {
		return rcv, fmt.Errorf("%s decodes its delivery %s: %w", id, o.Delivery.MailboxID, err)
	}
	recs := m.Records()
	if m.Kind == adapters.KindWithdrawal || len(recs) == 0 {
		return rcv, nil
	}
	rec := recs[0]
	add := func(ok bool, g string) {
		if ok {
			rcv.groups = append(rcv.groups, g)
		}
	}
	p := rec.Person
	add(p != nil && (p.CPR != "" || p.Name != "" || p.BirthDate != nil), "identity")
	add(p != nil && (p.Phone != "" || p.Email != "") || rec.Consent != nil && rec.Consent.Guardian != nil && rec.Consent.Guardian.Phone != "", "contact")
	add(p != nil && p.Address != nil, "address")
	add(rec.Incident != nil && rec.Incident.Title != "", "incident")
	add(rec.Relation != nil, "relation")
	add(rec.Assessment != nil && rec.Assessment.FollowUpPriority != "", "priority")
	add(rec.Assessment != nil && rec.Assessment.Notes != "", "notes (health data)")
	return rcv, nil
}

// printDeliveries prints who got what in one round.
func (r *demoRun) printDeliveries(got map[string][]demoReceived) {
	ids := make([]string, 0, len(got))
	total := 0
	for id, rs := range got {
		ids = append(ids, id)
		total += len(rs)
	}
	sort.Strings(ids)
	r.printf("  %d messages to %d authorities, each opened and acknowledged:\n", total, len(ids))
	if r.others > 0 {
		r.printf("  (and %d messages of earlier runs or other clients, acknowledged too)\n", r.others)
		r.others = 0
	}
	for _, id := range ids {
		regs, corr, wds := 0, 0, 0
		groups := map[string]int{}
		for _, rc := range got[id] {
			switch {
			case rc.kind == string(envelope.KindWithdrawal):
				wds++
			case rc.version > 1:
				corr++
			default:
				regs++
			}
			for _, g := range rc.groups {
				groups[g]++
			}
		}
		var parts []string
		if regs > 0 {
			parts = append(parts, plural(regs, "registration"))
		}
		if corr > 0 {
			parts = append(parts, plural(corr, "correction"))
		}
		if wds > 0 {
			parts = append(parts, plural(wds, "withdrawal notice")+" (must delete)")
		}
		var gs []string
		for _, g := range []string{"identity", "contact", "address", "incident", "relation", "priority", "notes (health data)"} {
			if n := groups[g]; n > 0 {
				gs = append(gs, fmt.Sprintf("%s %d", g, n))
			}
		}
		line := fmt.Sprintf("  %-48s %s", r.name(id), strings.Join(parts, ", "))
		if len(gs) > 0 {
			line += "; fields: " + strings.Join(gs, ", ")
		}
		r.printf("%s\n", line)
	}
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// demoCheckWords says in words what each consent check means.
var demoCheckWords = map[string]string{
	"registration_refused":      "the person refused registration: only a count is kept, nothing is passed on",
	"registration_not_obtained": "no consent documented (a police list): only what a legal basis allows is passed on",
	"follow_up_not_granted":     "the person did not want follow-up contact",
	"recipient_not_consented":   "the person's consent does not name this recipient",
	"purpose_not_consented":     "the consent names this recipient, but for another purpose",
	"follow_up_refused":         "the person refused follow-up, and the acute rule honours that",
	"consent_withdrawn":         "consent was withdrawn",
	"consent_expired":           "follow-up consent has expired",
	"no_rule":                   "no policy rule lets this kind of recipient receive it",
	"incident_period_ended":     "the acute period of the legal basis has ended",
	"incident_time_unknown":     "the incident time is unknown, so the legal basis cannot be judged",
	"recipient_not_configured":  "the recipient is not configured yet (Region Østdanmark); routed again once it is",
}

// journal exports the journal once a checkpoint covers the demo, explains
// what was withheld, and verifies the export offline.
func (r *demoRun) journal(ctx context.Context) error {
	db := filepath.Join(r.data, "gateway.db")
	source, byHand := db, "-sqlite "+db
	reader, closeStore, err := func() (*journal.Reader, func(), error) {
		if r.store.Driver == storeconfig.DriverPostgres {
			source = "PostgreSQL schema " + cmp.Or(r.store.PostgresSchema, "public")
			byHand = `-postgres "$GATEWAY_POSTGRES_URL" -schema ` + cmp.Or(r.store.PostgresSchema, "public")
			return openJournalReader(ctx, r.e, "", r.store.PostgresURL, r.store.PostgresSchema)
		}
		return openJournalReader(ctx, r.e, db, "", "")
	}()
	if err != nil {
		return fmt.Errorf("the journal in %s: %w", source, err)
	}
	defer closeStore()
	var buf bytes.Buffer
	deadline := r.e.clock.Now().Add(demoCheckpointWait)
	for {
		buf.Reset()
		sum, err := reader.Export(ctx, &buf, journal.ExportOptions{})
		if err == nil && sum.Unsigned == 0 {
			break
		}
		if err != nil && !errors.Is(err, journal.ErrNoCheckpoint) {
			return fmt.Errorf("export the journal: %w", err)
		}
		if r.e.clock.Now().After(deadline) {
			return errors.New("no journal checkpoint covers the demo's entries yet")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-r.e.clock.After(500 * time.Millisecond):
		}
	}

	// What was withheld, and why.
	ours := r.ours
	inc := r.rep.scenario.incident.ID
	type key struct{ check, role string }
	withheld := map[key]map[string]bool{}
	queued := map[string]bool{}
	mailboxMessages := map[string]bool{} // the mailbox message ids the queued entries name
	events := map[journal.EventType]int{}
	sc := bytesLines(buf.Bytes())
	for _, line := range sc {
		var l struct {
			Entry json.RawMessage `json:"entry"`
		}
		if json.Unmarshal(line, &l) != nil || l.Entry == nil {
			continue
		}
		en, err := journal.ParseLeaf(l.Entry)
		if err != nil || !ours[en.RecordID] && en.IncidentID != inc {
			continue
		}
		events[en.Event]++
		switch en.Event {
		case journal.EventQueued:
			queued[en.RecordID+"|"+en.Counterpart] = true
			mailboxMessages[en.MessageID] = true
		case journal.EventWithheld:
			k := key{en.Consent.Check, string(en.RecipientRole)}
			if withheld[k] == nil {
				withheld[k] = map[string]bool{}
			}
			withheld[k][en.RecordID+"|"+en.Counterpart] = true
		}
	}
	r.printf("\n5. WITHHELD, AND WHY (from the audit journal: a recipient that got nothing of a record, by the check that withheld it)\n")
	type row struct {
		k key
		n int
	}
	var rows []row
	for k, pairs := range withheld {
		n := 0
		for p := range pairs {
			if !queued[p] {
				n++
			}
		}
		if n > 0 {
			rows = append(rows, row{k, n})
		}
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].n != rows[j].n {
			return rows[i].n > rows[j].n
		}
		return rows[i].k.check+rows[i].k.role < rows[j].k.check+rows[j].k.role
	})
	for _, rw := range rows {
		words := demoCheckWords[rw.k.check]
		if words == "" {
			words = rw.k.check
		}
		r.printf("  %3d x withheld from the %s: %s [%s]\n", rw.n, strings.ReplaceAll(rw.k.role, "_", " "), words, rw.k.check)
	}
	nobody := 0
	for id := range ours {
		reached := false
		for p := range queued {
			if strings.HasPrefix(p, id+"|") {
				reached = true
				break
			}
		}
		if !reached {
			nobody++
		}
	}
	r.printf("  %d of %d records reached no one (the refusals, and the police list's mistyped person, who was rejected)\n", nobody, len(ours))
	r.printf("  journal entries of this incident: received %d, routed %d, withheld %d, queued %d, corrected %d, withdrawn %d\n",
		events[journal.EventReceived], events[journal.EventRouted], events[journal.EventWithheld], events[journal.EventQueued],
		events[journal.EventCorrected], events[journal.EventWithdrawn])
	r.printf("  (%d queued entries for %d mailbox messages: a recipient that may have a record on two grounds, say as the\n"+
		"  residence and as the incident municipality, gets one message, and each ground is journaled)\n",
		events[journal.EventQueued], len(mailboxMessages))

	// The offline verification, as 'gateway audit verify' does it.
	k, err := certs.ReadKeyFile(filepath.Join(certs.Paths{DataDir: r.data}.Gateway(), "journal.key.pem"))
	if err != nil {
		return fmt.Errorf("the journal key: %w", err)
	}
	pub, ok := k.Public().(ed25519.PublicKey)
	if !ok {
		return errors.New("the journal key is not Ed25519")
	}
	vkey, err := journal.VerifierKey(defaultJournalOrigin, pub)
	if err != nil {
		return err
	}
	rep, err := journal.Verify(bytes.NewReader(buf.Bytes()), journal.VerifyOptions{VerifierKey: vkey, RequireFull: true})
	if err != nil {
		return fmt.Errorf("the journal DOES NOT VERIFY: %w", err)
	}
	r.rep.journal = rep
	r.printf("\n6. JOURNAL VERIFIED OFFLINE: full export of all %d entries of %s, none missing; %d checkpoint signatures verified (latest: size %d, signed at %s)\n",
		rep.Entries, rep.Origin, rep.Checkpoints, rep.Latest.Size, rep.Latest.SignedAt.Format(time.RFC3339))
	r.printf("  verifier key %s\n", vkey)
	r.printf("  by hand: gateway audit export %s -o export.jsonl && gateway audit verify -key '%s' -require-full export.jsonl\n", byHand, vkey)
	return nil
}

// bytesLines splits b into its non-empty lines.
func bytesLines(b []byte) [][]byte {
	var out [][]byte
	for _, l := range bytes.Split(b, []byte("\n")) {
		if len(bytes.TrimSpace(l)) > 0 {
			out = append(out, l)
		}
	}
	return out
}
