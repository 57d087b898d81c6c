package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/psykosocial/exchange/internal/journal"
	"github.com/psykosocial/exchange/internal/store"
)

const day = 24 * time.Hour

// errRollback rolls back a transaction that only reads sealed values.
var errRollback = errors.New("storetest: roll back")

// piece is a run of a sealed value's ciphertext, to search the raw
// database for.
type piece struct {
	what string
	b    []byte
}

// pieceOf takes 24 bytes of ciphertext after the sealed value's header
// (version, data key id, nonce).
func pieceOf(t testing.TB, what string, sealed []byte) piece {
	t.Helper()
	const header = 1 + 8 + 12
	if len(sealed) < header+24 {
		t.Fatalf("%s: a sealed value of %d bytes", what, len(sealed))
	}
	return piece{what: what, b: bytes.Clone(sealed[header : header+24])}
}

// sealedPieces reads the ciphertexts of the record versions, of the
// messages' evidence and receipts, and of the views a pull of each
// recipient would lease now (in a transaction rolled back).
func (e *Env) sealedPieces(t testing.TB, records []string, messages [][2]string, recipients ...string) []piece {
	t.Helper()
	ctx := context.Background()
	var out []piece
	err := e.Backend.Read(ctx, func(tx store.Tx) error {
		for _, id := range records {
			r, found, err := tx.Record(ctx, id, 1)
			if err != nil || !found {
				return fmt.Errorf("record %s: found %v, %v", id, found, err)
			}
			out = append(out, pieceOf(t, "body of "+id, r.SealedBody))
		}
		for _, m := range messages {
			row, found, err := tx.Message(ctx, m[0], m[1])
			if err != nil || !found {
				return fmt.Errorf("message %s: found %v, %v", m[1], found, err)
			}
			out = append(out, pieceOf(t, "evidence of "+m[1], row.SealedEvidence), pieceOf(t, "receipt of "+m[1], row.SealedReceipt))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	now := e.Clock.Now()
	for _, rc := range recipients {
		err := e.Backend.Write(ctx, func(tx store.Tx) error {
			rows, err := tx.Lease(ctx, rc, now, now.Add(time.Minute), 100)
			if err != nil {
				return err
			}
			for _, r := range rows {
				out = append(out, pieceOf(t, "view "+r.ID, r.SealedView))
			}
			return errRollback
		})
		if !errors.Is(err, errRollback) {
			t.Fatal(err)
		}
	}
	return out
}

// purge runs a purge and fails t unless it succeeds with want.
func purge(t testing.TB, s *store.Store, r store.Retention, want store.PurgeReport) {
	t.Helper()
	got, err := s.Purge(context.Background(), r)
	if err != nil {
		t.Fatalf("Purge: %v", err)
	}
	if got != want {
		t.Fatalf("Purge = %+v, want %+v", got, want)
	}
}

// purgedEntries are the journal's purged entries, by mailbox, record or
// message id (MessageID).
func purgedEntries(t testing.TB, e *Env) map[string][]journal.Entry {
	t.Helper()
	page, err := e.Journal.Query(context.Background(), journal.Query{Filter: journal.Filter{Events: []journal.EventType{journal.EventPurged}}, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]journal.Entry{}
	for _, r := range page.Results {
		out[r.Entry.MessageID] = append(out[r.Entry.MessageID], r.Entry)
	}
	return out
}

// checkEntry fails t unless entries holds one entry like want (Seq and
// Time aside).
func checkEntry(t testing.TB, entries []journal.Entry, want journal.Entry) {
	t.Helper()
	for _, e := range entries {
		e.Seq, e.Time = 0, time.Time{}
		if fmt.Sprint(e) == fmt.Sprint(want) {
			return
		}
	}
	t.Errorf("no purged entry %+v among %+v", want, entries)
}

// version makes in carry version v of its records, with other content, and
// mailbox ids of its own.
func version(in *store.Intake, v int, note string) *store.Intake {
	for i := range in.Records {
		r := &in.Records[i]
		r.Version, r.Body = v, Body(i, note)
		for k := range r.Journal {
			r.Journal[k].RecordVersion = v
		}
		for k := range r.Deliveries {
			r.Deliveries[k].ID = fmt.Sprintf("%s-v%d", r.Deliveries[k].ID, v)
		}
	}
	return in
}

// CheckPurge: with a fake clock, an acknowledged view is deleted 30 days
// after its acknowledgement (with its delivery digests), views never
// acknowledged 90 days after queueing, record bodies and the message's
// evidence and receipt 180 days after receipt; each purge is journaled once
// with the person's reference and the digest of what went, the journal
// verifies, and the ciphertexts are gone from the database's raw bytes.
func CheckPurge(t *testing.T, newDB NewDB) {
	ctx := context.Background()
	db := newDB(t)
	e := NewEnv(t, db, nil)
	in := Intake(region, "m1", exp, []string{"r1", "r2"}, muniA, muniB)
	e.MustCommit(t, in)
	pieces := e.sealedPieces(t, []string{"r1", "r2"}, [][2]string{{region, "m1"}}, muniA, muniB)
	if len(pieces) != 8 {
		t.Fatalf("%d ciphertexts, want 8", len(pieces))
	}
	for _, p := range pieces {
		if got := db.Find(t, [][]byte{p.b}); len(got) == 0 {
			t.Fatalf("%s: the search does not find the stored ciphertext: it searches nothing", p.what)
		}
	}
	a1, a2 := "mb-m1-r1-"+muniA, "mb-m1-r2-"+muniA
	b1, b2 := "mb-m1-r1-"+muniB, "mb-m1-r2-"+muniB
	if res := pull(t, e, muniA, 10, time.Minute); len(res.Messages) != 2 {
		t.Fatalf("pulled %v", ids(res.Messages))
	}
	if err := e.Store.Ack(ctx, muniA, a1, DeliveryDigest(a1, 1), journal.Entry{Event: journal.EventDelivered, Actor: muniA,
		Counterpart: "gateway", MessageID: a1, Outcome: journal.OutcomeOK}); err != nil {
		t.Fatal(err)
	}
	size := e.JournalSize(t)

	// Nothing is due yet.
	purge(t, e.Store, store.Retention{}, store.PurgeReport{})

	// 30 days after the ack: the acknowledged view, with its delivery digest.
	e.Clock.Advance(30 * day)
	purge(t, e.Store, store.Retention{}, store.PurgeReport{Delivered: 1, Deliveries: 1, JournalEntries: 1})
	if err := e.Store.Ack(ctx, muniA, a1, DeliveryDigest(a1, 1)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("ack of a purged message: %v, want ErrNotFound", err)
	}
	entries := purgedEntries(t, e)
	mailboxEntry := func(id, recipient, rid string, person int, reason string) journal.Entry {
		return journal.Entry{Event: journal.EventPurged, Actor: store.PurgeActor, Counterpart: recipient, RecordID: rid, RecordVersion: 1,
			MessageID: id, IncidentID: "inc-1", Subject: Subject(person), PayloadDigest: sha256.Sum256(View(person, recipient)),
			Outcome: journal.OutcomeOK, Reason: reason}
	}
	checkEntry(t, entries[a1], mailboxEntry(a1, muniA, "r1", 0, store.ReasonPurgedDelivered))

	// 90 days after queueing: the views never acknowledged (a2 leased
	// long ago, muniB's queued), with a2's delivery digest.
	e.Clock.Advance(60 * day)
	purge(t, e.Store, store.Retention{}, store.PurgeReport{Undelivered: 3, Deliveries: 1, JournalEntries: 3})
	entries = purgedEntries(t, e)
	checkEntry(t, entries[a2], mailboxEntry(a2, muniA, "r2", 1, store.ReasonPurgedUndelivered+".leased"))
	checkEntry(t, entries[b1], mailboxEntry(b1, muniB, "r1", 0, store.ReasonPurgedUndelivered+".queued"))
	checkEntry(t, entries[b2], mailboxEntry(b2, muniB, "r2", 1, store.ReasonPurgedUndelivered+".queued"))
	if r, err := e.Store.Record(ctx, "r1", 1); err != nil || !bytes.Equal(r.Body, Body(0, "")) || !r.PurgedAt.IsZero() {
		t.Fatalf("the record before its retention: %+v, %v", r, err)
	}

	// 180 days after receipt: the record bodies, then the evidence and receipt.
	e.Clock.Advance(90 * day)
	purge(t, e.Store, store.Retention{}, store.PurgeReport{Records: 2, Messages: 1, JournalEntries: 3})
	for i, rid := range []string{"r1", "r2"} {
		r, err := e.Store.Record(ctx, rid, 1)
		if err != nil || r.Body != nil || !r.PurgedAt.Equal(e.Clock.Now().UTC().Truncate(time.Microsecond)) || r.Owner != region ||
			r.MessageID != "m1" || r.ContentDigest != sha256.Sum256(Body(i, "")) {
			t.Fatalf("purged record %s: %+v, %v", rid, r, err)
		}
	}
	if _, err := e.Store.Evidence(ctx, region, "m1"); !errors.Is(err, store.ErrPurged) {
		t.Fatalf("purged evidence: %v, want ErrPurged", err)
	}
	entries = purgedEntries(t, e)
	checkEntry(t, entries["m1"], journal.Entry{Event: journal.EventPurged, Actor: store.PurgeActor, Counterpart: region,
		RecordID: "r1", RecordVersion: 1, MessageID: "m1", IncidentID: "inc-1", Subject: Subject(0),
		PayloadDigest: sha256.Sum256(Body(0, "")), Outcome: journal.OutcomeOK, Reason: store.ReasonPurgedRecord})
	checkEntry(t, entries["m1"], journal.Entry{Event: journal.EventPurged, Actor: store.PurgeActor, Counterpart: region,
		RecordID: "r2", RecordVersion: 1, MessageID: "m1", IncidentID: "inc-1", Subject: Subject(1),
		PayloadDigest: sha256.Sum256(Body(1, "")), Outcome: journal.OutcomeOK, Reason: store.ReasonPurgedRecord})
	checkEntry(t, entries["m1"], journal.Entry{Event: journal.EventPurged, Actor: store.PurgeActor, Counterpart: region,
		MessageID: "m1", PayloadDigest: in.Message.Digest, Outcome: journal.OutcomeOK, Reason: store.ReasonPurgedMessage})

	// Again, much later: nothing more, nothing journaled twice.
	e.Clock.Advance(365 * day)
	purge(t, e.Store, store.Retention{}, store.PurgeReport{})
	if got := e.JournalSize(t); got != size+7 {
		t.Fatalf("journal size %d, want %d: one purged entry per mailbox message, record version and message", got, size+7)
	}
	e.VerifyJournal(t)
	for _, p := range pieces {
		if got := db.Find(t, [][]byte{p.b}); len(got) > 0 {
			t.Errorf("%s: the purged ciphertext is still stored: %v", p.what, got)
		}
	}
}

// CheckPurgeLeavesWhatIsInRetention: nothing is purged a moment before
// its retention ends, data of a newer message stays while the older's is
// purged, and a view under a running lease waits for the lease to end.
func CheckPurgeLeavesWhatIsInRetention(t *testing.T, newDB NewDB) {
	ctx := context.Background()
	e := NewEnv(t, newDB(t), nil)
	r := store.Retention{Delivered: 2 * day, Undelivered: 5 * day, Records: 10 * day, BatchSize: 1}
	e.MustCommit(t, Intake(region, "m1", exp, []string{"r1"}, muniA, muniB))
	a, b := "mb-m1-r1-"+muniA, "mb-m1-r1-"+muniB
	pull(t, e, muniA, 10, time.Minute)
	if err := e.Store.Ack(ctx, muniA, a, DeliveryDigest(a, 1)); err != nil {
		t.Fatal(err)
	}

	e.Clock.Advance(2*day - time.Second)
	purge(t, e.Store, r, store.PurgeReport{})
	e.Clock.Advance(time.Second)
	purge(t, e.Store, r, store.PurgeReport{Delivered: 1, Deliveries: 1, JournalEntries: 1})

	// b is pulled a minute before its retention ends, with an hour's lease.
	e.Clock.Advance(3*day - time.Minute)
	if res := pull(t, e, muniB, 10, time.Hour); len(res.Messages) != 1 || res.Messages[0].ID != b {
		t.Fatalf("pulled %v", ids(res.Messages))
	}
	e.Clock.Advance(time.Minute)
	purge(t, e.Store, r, store.PurgeReport{})
	e.Clock.Advance(time.Hour)
	purge(t, e.Store, r, store.PurgeReport{Undelivered: 1, Deliveries: 1, JournalEntries: 1})

	// A newer message, committed on day 9, is not due with m1 on day 10.
	e.Clock.Advance(4*day - time.Hour)
	m2 := Intake(region, "m2", e.Clock.Now().Add(time.Hour), []string{"r2"}, muniA)
	e.MustCommit(t, m2)
	e.Clock.Advance(day - time.Second)
	purge(t, e.Store, r, store.PurgeReport{})
	if got, err := e.Store.Record(ctx, "r1", 1); err != nil || !bytes.Equal(got.Body, Body(0, "")) {
		t.Fatalf("r1 a second before its retention: %+v, %v", got, err)
	}
	if ev, err := e.Store.Evidence(ctx, region, "m1"); err != nil || len(ev) == 0 {
		t.Fatalf("m1's evidence a second before its retention: %v", err)
	}
	e.Clock.Advance(time.Second)
	purge(t, e.Store, r, store.PurgeReport{Records: 1, Messages: 1, JournalEntries: 2})
	if got, err := e.Store.Record(ctx, "r2", 1); err != nil || !bytes.Equal(got.Body, Body(0, "")) || !got.PurgedAt.IsZero() {
		t.Fatalf("r2 in retention: %+v, %v", got, err)
	}
	if ev, err := e.Store.Evidence(ctx, region, "m2"); err != nil || !bytes.Equal(ev, m2.Message.Evidence) {
		t.Fatalf("m2's evidence in retention: %v", err)
	}
	if res := pull(t, e, muniA, 10, time.Minute); len(res.Messages) != 1 || res.Messages[0].ID != "mb-m2-r2-"+muniA || !bytes.Equal(res.Messages[0].View, View(0, muniA)) {
		t.Fatalf("m2's view in retention: %v", ids(res.Messages))
	}
	e.VerifyJournal(t)
}

// CheckPurgeKeepsWhatDeliveriesNeed: a record version's body and its
// message's evidence stay while a mailbox message of the record (a newer
// version waiting) is stored; once purged, the record's row still takes a
// withdrawal, whose delivery names the original message by its digest,
// an identical resubmission is already received, and the record still
// belongs to its owner.
func CheckPurgeKeepsWhatDeliveriesNeed(t *testing.T, newDB NewDB) {
	ctx := context.Background()
	e := NewEnv(t, newDB(t), nil)
	e.MustCommit(t, Intake(region, "m1", exp, []string{"r1"}, muniA))
	a := "mb-m1-r1-" + muniA
	pull(t, e, muniA, 10, time.Minute)
	if err := e.Store.Ack(ctx, muniA, a, DeliveryDigest(a, 1)); err != nil {
		t.Fatal(err)
	}
	// Version 2 on day 170, waiting in muniA's mailbox.
	e.Clock.Advance(170 * day)
	v2 := version(Intake(region, "m2", e.Clock.Now().Add(time.Hour), []string{"r1"}, muniA), 2, "v2")
	e.MustCommit(t, v2)

	// Day 180: version 1 is due, but the record has a message in a mailbox.
	e.Clock.Advance(10 * day)
	purge(t, e.Store, store.Retention{}, store.PurgeReport{Delivered: 1, Deliveries: 1, JournalEntries: 1})
	if got, err := e.Store.Record(ctx, "r1", 1); err != nil || !bytes.Equal(got.Body, Body(0, "")) {
		t.Fatalf("version 1 while version 2 waits: %+v, %v", got, err)
	}
	if _, err := e.Store.Evidence(ctx, region, "m1"); err != nil {
		t.Fatalf("m1's evidence while version 2 waits: %v", err)
	}

	// Day 260: version 2's view is purged undelivered, and with it go
	// version 1 and m1; version 2 (stored on day 170) stays.
	e.Clock.Advance(80 * day)
	purge(t, e.Store, store.Retention{}, store.PurgeReport{Undelivered: 1, Records: 1, Messages: 1, JournalEntries: 3})
	if got, err := e.Store.Record(ctx, "r1", 2); err != nil || !bytes.Equal(got.Body, Body(0, "v2")) {
		t.Fatalf("version 2 in retention: %+v, %v", got, err)
	}
	// Day 400: version 2 and m2.
	e.Clock.Advance(140 * day)
	purge(t, e.Store, store.Retention{}, store.PurgeReport{Records: 1, Messages: 1, JournalEntries: 2})

	// A withdrawal of the purged version 2 is queued and delivered.
	wd := Intake(region, "m3", e.Clock.Now().Add(time.Hour), nil)
	notice := []byte(`{"withdrawal":{"record_id":"r1","version":2}}`)
	wd.Withdrawals = []store.Withdrawal{{RecordID: "r1", Version: 2,
		Deliveries: []store.Delivery{{ID: "mb-wd", Recipient: muniA, View: notice}},
		Journal: []journal.Entry{{Event: journal.EventWithdrawn, Actor: "gateway", Counterpart: muniA, RecordID: "r1", RecordVersion: 2,
			MessageID: "mb-wd", PayloadDigest: sha256.Sum256(notice), Outcome: journal.OutcomeOK}}}}
	e.MustCommit(t, wd)
	res := pull(t, e, muniA, 10, time.Minute)
	if len(res.Messages) != 1 || res.Messages[0].ID != "mb-wd" || !bytes.Equal(res.Messages[0].View, notice) {
		t.Fatalf("the withdrawal notice: %v", ids(res.Messages))
	}
	if o := res.Messages[0].Origin; o == nil || o.Sender != region || o.MessageID != "m2" || o.Digest != v2.Message.Digest || o.Evidence != nil {
		t.Fatalf("the notice's origin after the purge: %+v, want m2 by its digest without evidence", o)
	}
	// The identical version 2 again: already received in m2, not queued.
	again := version(Intake(region, "m4", e.Clock.Now().Add(time.Hour), []string{"r1"}, muniA), 2, "v2")
	out := e.MustCommit(t, again)[0]
	if len(out.AlreadyStored) != 1 || out.AlreadyStored[0] != (store.AlreadyStored{RecordID: "r1", Version: 2, Sender: region, MessageID: "m2"}) {
		t.Fatalf("the purged version sent again: %+v", out)
	}
	// The record still belongs to the region.
	stranger := version(Intake(police, "m5", e.Clock.Now().Add(time.Hour), []string{"r1"}, muniA), 3, "v3")
	var ce *store.ConflictError
	if out := e.Commit(t, stranger)[0]; !errors.As(out.Err, &ce) || !ce.NotOwner {
		t.Fatalf("another authority's version of a purged record: %v, want a not-owner conflict", out.Err)
	}
	e.VerifyJournal(t)
}

// CheckConcurrentPurges: purges on two replicas at once, two each, in
// small transactions, purge every row once and journal it once.
func CheckConcurrentPurges(t *testing.T, newDB NewDB) {
	e := NewEnv(t, newDB(t), nil)
	var rids []string
	for i := range 40 {
		rids = append(rids, fmt.Sprintf("r%d", i))
	}
	e.MustCommit(t, Intake(region, "m1", exp, rids, muniA, muniB))
	r := e.Replica(t, nil)
	e.Clock.Advance(181 * day)
	size := e.JournalSize(t)
	var mu sync.Mutex
	var sum store.PurgeReport
	var wg sync.WaitGroup
	for i := range 4 {
		s := e.Store
		if i%2 == 1 {
			s = r.Store
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			rep, err := s.Purge(context.Background(), store.Retention{BatchSize: 7})
			if err != nil {
				t.Errorf("Purge: %v", err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			sum.Undelivered += rep.Undelivered
			sum.Records += rep.Records
			sum.Messages += rep.Messages
			sum.JournalEntries += rep.JournalEntries
		}()
	}
	wg.Wait()
	if want := (store.PurgeReport{Undelivered: 80, Records: 40, Messages: 1, JournalEntries: 121}); sum != want {
		t.Fatalf("together the purges report %+v, want %+v", sum, want)
	}
	if got := e.JournalSize(t); got != size+121 {
		t.Fatalf("journal size %d, want %d", got, size+121)
	}
	for id, es := range purgedEntries(t, e) {
		if id != "m1" && len(es) != 1 {
			t.Errorf("%s purged %d times", id, len(es))
		}
	}
	purge(t, e.Store, store.Retention{}, store.PurgeReport{})
	// The replica's journal stops (it may be signing a checkpoint of its
	// own), so that this one signs one of every entry.
	if err := r.Journal.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.VerifyJournal(t)
}

// CheckPurgeBadRetention: a retention out of bounds is refused with the
// field named, and a closed database is ErrUnavailable.
func CheckPurgeBadRetention(t *testing.T, newDB NewDB) {
	ctx := context.Background()
	if err := store.DefaultRetention().Check(); err != nil {
		t.Fatalf("the default retention: %v", err)
	}
	e := NewEnv(t, newDB(t), func(c *store.Config) { c.MaxLifetime = 48 * time.Hour })
	for _, c := range []struct {
		r     store.Retention
		field string
	}{
		{store.Retention{Delivered: time.Hour}, "retention.delivered"},
		{store.Retention{Undelivered: -day}, "retention.undelivered"},
		{store.Retention{Records: 11 * 365 * day}, "retention.records"},
		{store.Retention{Records: day}, "retention.records"}, // shorter than the MaxLifetime
		{store.Retention{BatchSize: -1}, "retention.batch_size"},
		{store.Retention{BatchSize: 6000}, "retention.batch_size"},
	} {
		_, err := e.Store.Purge(ctx, c.r)
		var ie *store.InputError
		if !errors.As(err, &ie) || ie.Field != c.field || !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%+v: %v, want an InputError on %s", c.r, err, c.field)
		}
	}
	e.Backend.Close()
	if _, err := e.Store.Purge(ctx, store.Retention{}); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Purge with the database closed: %v, want ErrUnavailable", err)
	}
}
