package pipeline_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/psykosocial/exchange/adapters"
	"github.com/psykosocial/exchange/certs"
	"github.com/psykosocial/exchange/internal/clock"
	"github.com/psykosocial/exchange/internal/consent"
	"github.com/psykosocial/exchange/internal/directory"
	"github.com/psykosocial/exchange/internal/envelope"
	"github.com/psykosocial/exchange/internal/fault"
	"github.com/psykosocial/exchange/internal/journal"
	"github.com/psykosocial/exchange/internal/keys"
	"github.com/psykosocial/exchange/internal/pipeline"
	"github.com/psykosocial/exchange/internal/record"
	"github.com/psykosocial/exchange/internal/refdata"
	"github.com/psykosocial/exchange/internal/routing"
)

// mergerRecord submits, as Region Midtjylland at the clock's time, a
// record of an incident in København (Region Hovedstaden's) of a person
// living in Roskilde (Region Sjælland's): both regions get it.
func (e *env) mergerRecord(sender string) string {
	e.t.Helper()
	rid := newUUID(e.t)
	now := e.clock.Now()
	doc := e.regionDoc(rid, 1, func(r *record.Record) {
		occurred, registered := now.Add(-30*time.Minute), now.Add(-10*time.Minute)
		r.Incident.OccurredAt, r.Incident.MunicipalityCode, r.Incident.RegionCode = &occurred, "0101", ""
		r.Registered.At, r.Registered.ByAuthority = &registered, sender
		r.Consent.Obtained.At, r.Consent.Obtained.By.Authority = &registered, sender
		r.Person.Address = &record.Address{Street: "Algade 1", PostalCode: "4000", City: "Roskilde", MunicipalityCode: "0265"}
		r.Consent.FollowUp.ExpiresAt = nil
	})
	res, err := e.submit(sender, e.sealJSON(sender, envelope.KindRegistration, doc, newUUID(e.t)))
	if err != nil {
		e.t.Fatal(err)
	}
	if res.Items[0].Status != pipeline.ItemAccepted {
		e.t.Fatalf("registration: %+v", res.Items[0])
	}
	return rid
}

// entries reads the journal entries of events about record rid.
func (e *env) entries(rid string, events ...journal.EventType) []journal.Entry {
	e.t.Helper()
	page, err := e.journal.Query(e.ctx, journal.Query{Filter: journal.Filter{RecordID: rid, Events: events}, Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []journal.Entry
	for _, r := range page.Results {
		out = append(out, r.Entry)
	}
	return out
}

// TestMailboxPassesToTheSuccessorAtMidnight drives the 2027 merger across
// midnight on both backends. On New Year's Eve Region Hovedstaden pulls two
// records and acknowledges one; a third arrives after its pull; Region
// Sjælland pulls nothing. After midnight Region Østdanmark's pull moves
// what waited for both (the leased one, the queued ones), each journaled
// transferred from whom to whom, and gets them sealed to its own
// encryption certificate; Region Hovedstaden's pull is refused naming its
// successor, but it still acknowledges the delivery it pulled before
// midnight, which Østdanmark's later ack does not journal again. The
// delivered entries carry the record id and version. The ticker's
// TransferCeased then finds nothing left and journals nothing.
func TestMailboxPassesToTheSuccessorAtMidnight(t *testing.T) {
	east := "region:" + refdata.TestEastRegionCode
	const sender, hovedstaden, sjaelland = "region:1082", "region:1084", "region:1085"
	for _, b := range []struct {
		name string
		open backendFunc
	}{{"sqlite", sqliteBackend}, {"postgres", postgresBackend}} {
		t.Run(b.name, func(t *testing.T) {
			// The development CRL lives 30 days from t0; only the merger is under test.
			e := newEnvWith(t, b.open, func(c *certs.Config) { c.RequireCRL = false })
			e.clock.Set(time.Date(2026, 12, 31, 23, 40, 0, 0, clock.Danish()))
			r1, r2 := e.mergerRecord(sender), e.mergerRecord(sender)
			e.clock.Advance(5 * time.Minute)
			before := e.pull(hovedstaden, 0)
			if len(before) != 2 {
				t.Fatalf("%s pulls %d before midnight, want 2", hovedstaden, len(before))
			}
			pulled := map[string]received{}
			for _, r := range before {
				pulled[r.d.RecordID] = r
			}
			if err := e.p.Ack(e.ctx, hovedstaden, pulled[r1].d.MailboxID, e.receipt(hovedstaden, pulled[r1])); err != nil {
				t.Fatal(err)
			}
			e.clock.Advance(5 * time.Minute)
			r3 := e.mergerRecord(sender) // queued, not pulled
			if moved := e.p.TransferCeased(e.ctx); len(moved) != 0 {
				t.Fatalf("TransferCeased before midnight: %+v", moved)
			}

			// Across midnight.
			e.clock.Set(time.Date(2027, 1, 1, 0, 0, 30, 0, clock.Danish()))
			_, err := e.p.Pull(e.ctx, hovedstaden, 10, 0)
			if fe, ok := fault.As(err); !ok || !errors.Is(err, fault.ErrForbidden) || fe.Type != pipeline.TypeCeasedAuthority ||
				!strings.Contains(fe.Detail, hovedstaden+" ceased at 2027-01-01 00:00 CET") || !strings.Contains(fe.Detail, "successor "+east+" (Region Østdanmark) holds its records and its mailbox") {
				t.Fatalf("%s's pull after midnight: %v, want ceased-authority naming %s", hovedstaden, err, east)
			}
			got := e.pull(east, 0)
			want := map[string]int{r2: 2, r3: 2, r1: 1} // from both regions; r1 of Hovedstaden was acknowledged
			have := map[string]int{}
			for _, r := range got {
				have[r.d.RecordID]++
				if r.opened.Header.MailboxID != r.d.MailboxID || r.d.Deliveries != 1 {
					t.Fatalf("%s's delivery %+v", east, r.d)
				}
			}
			if len(got) != 5 || have[r1] != want[r1] || have[r2] != want[r2] || have[r3] != want[r3] {
				t.Fatalf("%s pulls %v, want %v", east, have, want)
			}
			for _, rid := range []string{r1, r2, r3} {
				from := map[string]bool{}
				for _, en := range e.entries(rid, journal.EventTransferred) {
					if en.Counterpart != east || en.Actor != "gateway" || en.RecordVersion != 1 ||
						!strings.Contains(en.Reason, "which ceased at 2027-01-01 00:00 CET; passed to its successor") {
						t.Fatalf("transferred entry %+v", en)
					}
					from[strings.Fields(en.Reason)[2]] = true
				}
				if !from[sjaelland+","] || from[hovedstaden+","] != (rid != r1) {
					t.Fatalf("record %s transferred from %v", rid, from)
				}
			}

			// Hovedstaden acknowledges the delivery it pulled before midnight.
			if err := e.p.Ack(e.ctx, hovedstaden, pulled[r2].d.MailboxID, e.receipt(hovedstaden, pulled[r2])); err != nil {
				t.Fatalf("%s's ack of a delivery it pulled before midnight: %v", hovedstaden, err)
			}
			for _, r := range got {
				if err := e.p.Ack(e.ctx, east, r.d.MailboxID, e.receipt(east, r)); err != nil {
					t.Fatalf("%s's ack: %v", east, err)
				}
			}
			for rid, n := range map[string]int{r1: 2, r2: 2, r3: 2} {
				ds := e.entries(rid, journal.EventDelivered)
				if len(ds) != n {
					t.Fatalf("record %s: %d delivered entries, want %d: %+v", rid, len(ds), n, ds)
				}
				for _, d := range ds {
					if d.RecordID != rid || d.RecordVersion != 1 || d.MessageID == "" {
						t.Fatalf("delivered entry %+v names no record", d)
					}
					if rid == r2 && d.Actor == hovedstaden && !strings.Contains(d.Reason, "which ceased, of a delivery it pulled before; its mailbox passed to "+east) {
						t.Fatalf("the ceased authority's ack is not said: %+v", d)
					}
				}
			}
			if rs := e.pull(east, 0); len(rs) != 0 {
				t.Fatalf("%s pulls %d more", east, len(rs))
			}
			// The sender's status: every region's copy delivered; those that
			// passed to the successor say so.
			for _, rid := range []string{r1, r2, r3} {
				st, err := e.p.Status(e.ctx, sender, rid)
				if err != nil {
					t.Fatal(err)
				}
				for _, rs := range st.Versions[0].Recipients {
					if rs.Recipient != hovedstaden && rs.Recipient != sjaelland || rs.State == pipeline.StateWithheld {
						continue
					}
					wantMoved := east
					if rid == r1 && rs.Recipient == hovedstaden {
						wantMoved = ""
					}
					if rs.State != pipeline.StateDelivered || rs.DeliveredAt == nil || rs.TransferredTo != wantMoved {
						t.Fatalf("status of %s for %s: %+v, want delivered (transferred to %q)", rid, rs.Recipient, rs, wantMoved)
					}
				}
			}
			size, err := e.backend.JournalStore().Size(e.ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, tr := range e.p.TransferCeased(e.ctx) {
				if tr.Moved != 0 || tr.Err != nil || (tr.From == hovedstaden || tr.From == sjaelland) && tr.To != east {
					t.Fatalf("TransferCeased after the move: %+v", tr)
				}
			}
			if n, _ := e.backend.JournalStore().Size(e.ctx); n != size {
				t.Fatalf("an idle TransferCeased journaled: %d entries, want %d", n, size)
			}
		})
	}
}

// TestTransferWithoutSuccessorConfigured: when Region Østdanmark's code is
// not configured, what waits for Region Hovedstaden after midnight stays
// in its mailbox (pending), its pull is refused naming the successor by
// name, and nothing is journaled transferred.
func TestTransferWithoutSuccessorConfigured(t *testing.T) {
	e := newEnvWith(t, sqliteBackend, func(c *certs.Config) { c.RequireCRL = false })
	e.clock.Set(time.Date(2026, 12, 31, 23, 40, 0, 0, clock.Danish()))
	rid := e.mergerRecord("region:1082")
	// A pipeline on the same store whose reference data lack the code.
	p := e.pipelineWith(t, refdata.Config{})
	e.clock.Set(time.Date(2027, 1, 2, 12, 0, 0, 0, clock.Danish()))
	for _, tr := range p.TransferCeased(e.ctx) {
		if tr.To != "" || tr.Moved != 0 || tr.Err != nil || tr.SuccessorName != "Region Østdanmark" {
			t.Fatalf("TransferCeased without the successor's code: %+v", tr)
		}
	}
	_, err := p.Pull(e.ctx, "region:1084", 10, 0)
	if fe, ok := fault.As(err); !ok || fe.Type != pipeline.TypeCeasedAuthority || !strings.Contains(fe.Detail, "successor Region Østdanmark holds its records, and receives its mailbox once that region's code is configured") {
		t.Fatalf("pull of the ceased region: %v", err)
	}
	if es := e.entries(rid, journal.EventTransferred); len(es) != 0 {
		t.Fatalf("transferred without a successor: %+v", es)
	}
	ws, err := e.store.Waiting(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range ws {
		if w.Recipient == "region:1084" && w.Count == 1 {
			return
		}
	}
	t.Fatalf("the message left region:1084's mailbox: %+v", ws)
}

// pipelineWith is another pipeline on e's store, journal, trust store and
// directory whose reference data (and so routing) are made from cfg.
func (e *env) pipelineWith(t *testing.T, cfg refdata.Config) *pipeline.Pipeline {
	t.Helper()
	ref, err := refdata.Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	router, err := routing.New(ref, e.dir)
	if err != nil {
		t.Fatal(err)
	}
	gwKeys, err := keys.NewFileProvider(keys.FileConfig{Dir: e.paths.Gateway()})
	if err != nil {
		t.Fatal(err)
	}
	secret, err := gwKeys.HMACSecret(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	sk, err := journal.NewSubjectKey(secret)
	if err != nil {
		t.Fatal(err)
	}
	subjects, err := journal.NewSubjectKeys(sk)
	if err != nil {
		t.Fatal(err)
	}
	policy, err := consent.Default()
	if err != nil {
		t.Fatal(err)
	}
	p, err := pipeline.New(pipeline.Config{Clock: e.clock, Certs: e.certs, Directory: e.dir, Ref: ref, Keys: gwKeys,
		Adapters: e.reg, Validator: record.NewValidator(ref, e.clock), Router: router, Policy: policy, Store: e.store,
		Journal: e.journal, Subjects: subjects})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCeasedSender: Region Hovedstaden sends after it ceased. Ten minutes
// after midnight, a record it registered before midnight is accepted and
// journaled as received on behalf of Region Østdanmark; one it registered
// after midnight is refused with the ceased authority and its successor
// named. After the grace period its messages are refused whole
// (ceased-authority, naming both), and the refusal is journaled.
func TestCeasedSender(t *testing.T) {
	east := "region:" + refdata.TestEastRegionCode
	const ceased = "region:1084"
	for _, b := range []struct {
		name string
		open backendFunc
	}{{"sqlite", sqliteBackend}, {"postgres", postgresBackend}} {
		t.Run(b.name, func(t *testing.T) {
			e := newEnvWith(t, b.open, func(c *certs.Config) { c.RequireCRL = false })
			merger := time.Date(2027, 1, 1, 0, 0, 0, 0, clock.Danish())
			e.clock.Set(merger.Add(10 * time.Minute))
			send := func(registered time.Time) (string, pipeline.SubmitResult, error) {
				rid := newUUID(t)
				doc := e.regionDoc(rid, 1, func(r *record.Record) {
					occurred := registered.Add(-20 * time.Minute)
					r.Incident.OccurredAt, r.Incident.MunicipalityCode, r.Incident.RegionCode = &occurred, "0101", ""
					r.Registered.At, r.Registered.ByAuthority = &registered, ceased
					r.Consent.Obtained.At, r.Consent.Obtained.By.Authority = &registered, ceased
					r.Consent.FollowUp.ExpiresAt = nil
				})
				res, err := e.submit(ceased, e.sealJSON(ceased, envelope.KindRegistration, doc, newUUID(t)))
				return rid, res, err
			}

			// Registered before midnight, sent after: accepted on behalf of the successor.
			rid, res, err := send(merger.Add(-10 * time.Minute))
			if err != nil || res.Items[0].Status != pipeline.ItemAccepted {
				t.Fatalf("a record registered before midnight: %+v, %v", res, err)
			}
			recv := e.entries(rid, journal.EventReceived)
			if len(recv) != 1 || recv[0].Actor != ceased || recv[0].Counterpart != east ||
				recv[0].Reason != "sent by a ceased authority on behalf of its successor "+east {
				t.Fatalf("received entry %+v, want one on behalf of %s", recv, east)
			}

			// Registered after midnight: refused, naming both.
			_, res, err = send(merger.Add(5 * time.Minute))
			if err != nil || res.Items[0].Status != pipeline.ItemRejected || len(res.Items[0].Problems) == 0 {
				t.Fatalf("a record registered after midnight: %+v, %v", res.Items, err)
			}
			for _, pr := range res.Items[0].Problems {
				if pr.Rule != "authority.ceased" || !strings.Contains(pr.Message, ceased+" (Region Hovedstaden), which had ceased") ||
					!strings.Contains(pr.Message, "its successor "+east+" (Region Østdanmark) holds its records") {
					t.Fatalf("the refusal: %+v", pr)
				}
			}

			// After the grace period: nothing.
			e.clock.Set(merger.Add(directory.DefaultCeasedGrace))
			_, _, err = send(merger.Add(-10 * time.Minute))
			fe, ok := fault.As(err)
			if !ok || !errors.Is(err, fault.ErrForbidden) || fe.Type != pipeline.TypeCeasedAuthority ||
				!strings.Contains(fe.Detail, ceased+" ceased at 2027-01-01 00:00 CET, and the period in which it may still send") ||
				!strings.Contains(fe.Detail, "its successor "+east+" (Region Østdanmark)") {
				t.Fatalf("a message after the grace period: %v, want ceased-authority naming %s and %s", err, ceased, east)
			}
			page, err := e.journal.Query(e.ctx, journal.Query{Filter: journal.Filter{Authority: ceased, Events: []journal.EventType{journal.EventRejected}}, Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			if n := len(page.Results); n != 2 || page.Results[1].Entry.Reason != pipeline.TypeCeasedAuthority {
				t.Fatalf("rejected entries of %s: %+v", ceased, page.Results)
			}
		})
	}
}

// TestDeliveredEntryNamesTheRecord: the delivered entry of an ack carries
// the record id and version of the mailbox message acknowledged, beside
// its mailbox id and the acknowledged delivery's digest, so that a query
// by record finds the acknowledgement.
func TestDeliveredEntryNamesTheRecord(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		rid := newUUID(t)
		if _, err := e.submit(regionSender, e.sealJSON(regionSender, envelope.KindRegistration, e.regionDoc(rid, 1, nil), newUUID(t))); err != nil {
			t.Fatal(err)
		}
		const aarhus = "municipality:0751"
		rs := e.pull(aarhus, 0)
		if len(rs) != 1 {
			t.Fatalf("%s pulls %d", aarhus, len(rs))
		}
		if err := e.p.Ack(e.ctx, aarhus, rs[0].d.MailboxID, e.receipt(aarhus, rs[0])); err != nil {
			t.Fatal(err)
		}
		ds := e.entries(rid, journal.EventDelivered)
		if len(ds) != 1 {
			t.Fatalf("delivered entries of the record: %+v, want 1", ds)
		}
		d := ds[0]
		if d.RecordID != rid || d.RecordVersion != 1 || d.MessageID != rs[0].d.MailboxID || d.Actor != aarhus ||
			d.PayloadDigest != [32]byte(rs[0].opened.Digest) || d.Reason != "" {
			t.Fatalf("delivered entry %+v", d)
		}
		// The delivery names the person (pseudonymously) and the incident as
		// the received entry does, so a DPO's search by CPR number finds it.
		recv := e.entries(rid, journal.EventReceived)
		if len(recv) != 1 || recv[0].Subject == (journal.Subject{}) || d.Subject != recv[0].Subject || d.IncidentID != recv[0].IncidentID {
			t.Fatalf("delivered entry subject %+v incident %q, want the received entry's %+v", d.Subject, d.IncidentID, recv)
		}
	})
}

// TestPendingWithdrawalWaitsForTheSuccessor: a record delivered to Region
// Hovedstaden and Region Sjælland on New Year's Eve is withdrawn a week
// after the merger while Region Østdanmark's code is not configured. The
// withdrawal notices cannot be addressed to anyone who exists, but they
// must reach whoever holds the data: they are queued in the ceased
// regions' mailboxes (journaled withdrawn with the reason), and once a
// pipeline with the successor configured runs the succession step they
// pass to Region Østdanmark, which pulls them with what else waited.
func TestPendingWithdrawalWaitsForTheSuccessor(t *testing.T) {
	e := newEnvWith(t, sqliteBackend, func(c *certs.Config) { c.RequireCRL = false })
	const sender = "region:1082"
	east := "region:" + refdata.TestEastRegionCode
	e.clock.Set(time.Date(2026, 12, 31, 23, 40, 0, 0, clock.Danish()))
	rid := e.mergerRecord(sender)
	unconfigured := e.pipelineWith(t, refdata.Config{})
	e.clock.Set(time.Date(2027, 1, 7, 12, 0, 0, 0, clock.Danish()))
	at := e.clock.Now().Add(-time.Minute).UTC()
	wd, err := e.region.Encode(&adapters.Message{Kind: adapters.KindWithdrawal, Withdrawal: &record.Withdrawal{
		Schema: record.WithdrawalSchemaV1, RecordID: rid, Version: 1, Reason: record.ReasonRegisteredInError, WithdrawnAt: &at}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := unconfigured.Submit(e.ctx, pipeline.Submission{Sender: certs.Authenticated{AuthorityID: sender, Use: directory.UseTLS},
		Body: e.sealJSON(sender, envelope.KindWithdrawal, wd, newUUID(t))}); err != nil {
		t.Fatal(err)
	}
	pending := map[string]bool{}
	for _, en := range e.entries(rid, journal.EventWithdrawn) {
		if strings.Contains(en.Reason, "pending: waits in the mailbox of "+en.Counterpart) {
			pending[en.Counterpart] = true
		}
	}
	if !pending["region:1084"] || !pending["region:1085"] {
		t.Fatalf("pending withdrawal notices: %v, want region:1084 and region:1085", pending)
	}
	for _, tr := range unconfigured.TransferCeased(e.ctx) {
		if tr.Moved != 0 {
			t.Fatalf("moved without a successor: %+v", tr)
		}
	}
	// The successor is configured (e.p's reference data have its code).
	moved := 0
	for _, tr := range e.p.TransferCeased(e.ctx) {
		if tr.Err != nil || (tr.Moved > 0 && tr.To != east) {
			t.Fatalf("transfer: %+v", tr)
		}
		moved += tr.Moved
	}
	var withdrawals int
	for _, r := range e.pull(east, 0) {
		if r.d.RecordID != rid {
			t.Fatalf("%s gets record %s", east, r.d.RecordID)
		}
		if r.d.Kind == "withdrawal" {
			withdrawals++
		}
		if err := e.p.Ack(e.ctx, east, r.d.MailboxID, e.receipt(east, r)); err != nil {
			t.Fatal(err)
		}
	}
	if withdrawals != 2 || moved != 4 {
		t.Fatalf("%s got %d withdrawal notices of %d messages moved, want 2 of 4 (two registrations, two notices)", east, withdrawals, moved)
	}
}

// TestPredecessors: the authorities whose rows a DPO of Region Østdanmark
// also sees (the audit API's scope) are the two regions it succeeds, from
// the instant they ceased, not a second before; another region succeeds
// no one; and while Region Østdanmark's code is not configured no one is
// its predecessor (there is no authority to act for).
func TestPredecessors(t *testing.T) {
	e := newEnvWith(t, sqliteBackend, func(c *certs.Config) { c.RequireCRL = false })
	east := "region:" + refdata.TestEastRegionCode
	merger := time.Date(2027, 1, 1, 0, 0, 0, 0, clock.Danish())
	if got := e.p.Predecessors(east, merger.Add(-time.Second)); len(got) != 0 {
		t.Errorf("predecessors before midnight: %v", got)
	}
	got := e.p.Predecessors(east, merger)
	if strings.Join(got, " ") != "region:1084 region:1085" {
		t.Errorf("predecessors at midnight: %v, want region:1084 region:1085", got)
	}
	if got := e.p.Predecessors("region:1082", merger.AddDate(0, 1, 0)); len(got) != 0 {
		t.Errorf("Region Midtjylland's predecessors: %v", got)
	}
	if got := e.pipelineWith(t, refdata.Config{}).Predecessors(east, merger); len(got) != 0 {
		t.Errorf("predecessors of an unconfigured successor: %v", got)
	}
}
