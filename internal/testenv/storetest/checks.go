package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/psykosocial/exchange/internal/journal"
	"github.com/psykosocial/exchange/internal/store"
)

const (
	region = "region:1084"
	police = "police:nordjylland"
	muniA  = "municipality:0101"
	muniB  = "municipality:0851"
)

// exp is a signed expiry an hour after the clock's start.
var exp = T0.Add(time.Hour)

// CheckMigrations reopens a database: the migrations run again without
// effect and what was committed is still there.
func CheckMigrations(t *testing.T, newDB NewDB) {
	db := newDB(t)
	e := NewEnv(t, db, nil)
	e.MustCommit(t, Intake(region, "m1", exp, []string{"r1"}, muniA))
	size := e.JournalSize(t)
	e.Journal.Close(context.Background())
	if err := e.Backend.Close(); err != nil {
		t.Fatal(err)
	}
	e2 := &Env{DB: db, Clock: e.Clock, Keys: e.Keys}
	e2.open(t, nil)
	if got := e2.JournalSize(t); got != size {
		t.Fatalf("journal size after reopening %d, want %d", got, size)
	}
	r, err := e2.Store.Record(context.Background(), "r1", 1)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(r.Body, Body(0, "")) || r.Owner != region || r.MessageID != "m1" {
		t.Fatalf("record after reopening: %+v", r)
	}
	e2.VerifyJournal(t)
}

// CheckCommitAndRead commits a message with two records for two
// recipients and reads everything back.
func CheckCommitAndRead(t *testing.T, newDB NewDB) {
	ctx := context.Background()
	e := NewEnv(t, newDB(t), nil)
	in := Intake(region, "m1", exp, []string{"r1", "r2"}, muniA, muniB)
	outs := e.MustCommit(t, in)
	if outs[0].JournalEntries != 5 || outs[0].JournalFirst != 0 {
		t.Fatalf("outcome %+v, want 5 entries from 0", outs[0])
	}
	if got := e.JournalSize(t); got != 5 {
		t.Fatalf("journal size %d, want 5", got)
	}
	ev, err := e.Store.Evidence(ctx, region, "m1")
	if err != nil || !bytes.Equal(ev, in.Message.Evidence) {
		t.Fatalf("Evidence = %q, %v", ev, err)
	}
	r, err := e.Store.Record(ctx, "r2", 1)
	if err != nil || !bytes.Equal(r.Body, Body(1, "")) || r.Owner != region || !r.StoredAt.Equal(T0) {
		t.Fatalf("Record = %+v, %v", r, err)
	}
	if _, err := e.Store.Record(ctx, "r3", 1); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Record of a missing record: %v, want ErrNotFound", err)
	}
	res, err := e.Store.Pull(ctx, muniB, 10, time.Minute, Deliver)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Messages) != 2 {
		t.Fatalf("pulled %d messages, want 2", len(res.Messages))
	}
	for i, m := range res.Messages {
		if m.Recipient != muniB || m.RecordID != fmt.Sprintf("r%d", i+1) || !bytes.Equal(m.View, View(i, muniB)) || m.Deliveries != 1 ||
			!m.LeaseUntil.Equal(T0.Add(time.Minute)) || m.ID != "mb-m1-"+m.RecordID+"-"+muniB {
			t.Fatalf("message %d: %+v", i, m)
		}
	}
	e.VerifyJournal(t)
}

// CheckGroupCommit commits several intakes in one transaction, one of
// them refused: the others commit, their entries contiguous.
func CheckGroupCommit(t *testing.T, newDB NewDB) {
	e := NewEnv(t, newDB(t), nil)
	e.MustCommit(t, Intake(region, "m0", exp, []string{"r0"}, muniA)) // 2 entries
	a := Intake(region, "m1", exp, []string{"r1"}, muniA)
	b := Intake(police, "m2", exp, []string{"r0"}, muniA) // r0 is the region's
	c := Intake(police, "m3", exp, []string{"r3", "r4"}, muniA, muniB)
	outs := e.Commit(t, a, b, c)
	if outs[0].Err != nil || outs[2].Err != nil {
		t.Fatalf("outcomes %v, %v", outs[0].Err, outs[2].Err)
	}
	var ce *store.ConflictError
	if !errors.As(outs[1].Err, &ce) || ce.RecordID != "r0" || !errors.Is(outs[1].Err, store.ErrConflict) {
		t.Fatalf("another authority's record: %v, want a ConflictError on r0", outs[1].Err)
	}
	if outs[0].JournalFirst != 2 || outs[0].JournalEntries != 2 || outs[2].JournalFirst != 4 || outs[2].JournalEntries != 5 {
		t.Fatalf("journal positions %+v %+v", outs[0], outs[2])
	}
	if got := e.JournalSize(t); got != 9 {
		t.Fatalf("journal size %d, want 9", got)
	}
	if _, err := e.Store.Evidence(context.Background(), police, "m2"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the refused intake left its message: %v", err)
	}
	// The refused message's id is free: its replay row was rolled back.
	e.MustCommit(t, Intake(police, "m2", exp, []string{"r5"}, muniA))
	e.VerifyJournal(t)
}

// CheckReplay: an identical resubmission gets the original receipt,
// another document under a used id is a conflict, a record already stored
// with the same content is reported and not queued again, other content
// under a stored record version is a conflict, and only the owner (or whom
// Config.Owners admits) stores new versions.
func CheckReplay(t *testing.T, newDB NewDB) {
	ctx := context.Background()
	successor := "region:1085"
	e := NewEnv(t, newDB(t), func(c *store.Config) {
		c.Owners = func(owner, sender, _ string) bool { return owner == region && sender == successor }
	})
	in := Intake(region, "m1", exp, []string{"r1"}, muniA)
	e.MustCommit(t, in)
	size := e.JournalSize(t)

	again := Intake(region, "m1", exp, []string{"r1"}, muniA)
	again.Message.Receipt = []byte("a new receipt")
	out := e.Commit(t, again)[0]
	var dup *store.AlreadyReceivedError
	if !errors.As(out.Err, &dup) || !errors.Is(out.Err, store.ErrDuplicate) || !bytes.Equal(dup.Receipt, in.Message.Receipt) {
		t.Fatalf("identical resubmission: %v, want AlreadyReceivedError with the original receipt", out.Err)
	}
	other := Intake(region, "m1", exp, []string{"r9"}, muniA)
	if out := e.Commit(t, other)[0]; !errors.Is(out.Err, store.ErrConflict) {
		t.Fatalf("another document under a used id: %v, want ErrConflict", out.Err)
	}
	// Another sender may use the same message id.
	e.MustCommit(t, Intake(police, "m1", exp, []string{"p1"}, muniA))
	size += 2
	if got := e.JournalSize(t); got != size {
		t.Fatalf("journal size %d, want %d: refusals journaled nothing", got, size)
	}

	// A new message resending r1 unchanged: already received in m1.
	resend := Intake(region, "m2", exp, []string{"r1", "r2"}, muniA)
	out = e.MustCommit(t, resend)[0]
	if len(out.AlreadyStored) != 1 || out.AlreadyStored[0] != (store.AlreadyStored{RecordID: "r1", Version: 1, Sender: region, MessageID: "m1"}) {
		t.Fatalf("AlreadyStored = %+v", out.AlreadyStored)
	}
	if out.JournalEntries != 2 { // received, and r2's queued; r1's queued dropped
		t.Fatalf("journaled %d entries, want 2", out.JournalEntries)
	}
	res, err := e.Store.Pull(ctx, muniA, 10, time.Minute, Deliver)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Messages) != 3 { // r1 once, p1, r2
		t.Fatalf("pulled %d, want 3 (r1 queued once)", len(res.Messages))
	}
	changed := Intake(region, "m3", exp, []string{"r1"}, muniA)
	changed.Records[0].Body = Body(0, "changed")
	if out := e.Commit(t, changed)[0]; !errors.Is(out.Err, store.ErrConflict) {
		t.Fatalf("other content under a stored version: %v, want ErrConflict", out.Err)
	}

	// Ownership: version 2 by the owner, by a stranger, by the successor.
	v2 := Intake(region, "m4", exp, []string{"r1"}, muniA)
	v2.Records[0].Version, v2.Records[0].Body = 2, Body(0, "v2")
	for i := range v2.Records[0].Journal {
		v2.Records[0].Journal[i].RecordVersion = 2
	}
	v2.Records[0].Deliveries[0].ID = "mb-v2"
	e.MustCommit(t, v2)
	v3 := Intake(muniB, "m5", exp, []string{"r1"}, muniA)
	v3.Records[0].Version, v3.Records[0].Body = 3, Body(0, "v3")
	v3.Records[0].Journal = nil
	v3.Records[0].Deliveries[0].ID = "mb-v3"
	if out := e.Commit(t, v3)[0]; !errors.Is(out.Err, store.ErrConflict) {
		t.Fatalf("a stranger's version: %v, want ErrConflict", out.Err)
	}
	v3.Message.Sender = successor
	e.MustCommit(t, v3)
	r, err := e.Store.Record(ctx, "r1", 3)
	if err != nil || r.Owner != region || r.Sender != successor {
		t.Fatalf("successor's version: %+v, %v", r, err)
	}
	e.VerifyJournal(t)
}

// CheckLifetimeAndExpiry: an expired message and one whose signed
// lifetime exceeds the cap are refused.
func CheckLifetimeAndExpiry(t *testing.T, newDB NewDB) {
	e := NewEnv(t, newDB(t), func(c *store.Config) { c.MaxLifetime = 2 * time.Hour })
	outs := e.Commit(t,
		Intake(region, "old", T0, []string{"r1"}, muniA),
		Intake(region, "long", T0.Add(3*time.Hour), []string{"r2"}, muniA),
		Intake(region, "ok", T0.Add(2*time.Hour), []string{"r3"}, muniA))
	if !errors.Is(outs[0].Err, store.ErrExpired) {
		t.Fatalf("expired: %v", outs[0].Err)
	}
	if !errors.Is(outs[1].Err, store.ErrInvalid) {
		t.Fatalf("beyond the cap: %v", outs[1].Err)
	}
	if outs[2].Err != nil {
		t.Fatalf("at the cap: %v", outs[2].Err)
	}
}

// CheckPurgeReplay: replay rows are forgotten once the signed expiry has
// passed, not before.
func CheckPurgeReplay(t *testing.T, newDB NewDB) {
	ctx := context.Background()
	e := NewEnv(t, newDB(t), nil)
	e.MustCommit(t, Intake(region, "m1", T0.Add(time.Minute), []string{"r1"}, muniA),
		Intake(region, "m2", T0.Add(time.Hour), []string{"r2"}, muniA))
	if n, err := e.Store.PurgeReplay(ctx); err != nil || n != 0 {
		t.Fatalf("purge before expiry: %d, %v", n, err)
	}
	e.Clock.Advance(time.Minute)
	if n, err := e.Store.PurgeReplay(ctx); err != nil || n != 1 {
		t.Fatalf("purge at m1's expiry: %d, %v; want 1", n, err)
	}
	if out := e.Commit(t, Intake(region, "m2", T0.Add(time.Hour), []string{"r2"}, muniA))[0]; !errors.Is(out.Err, store.ErrDuplicate) {
		t.Fatalf("m2 is still remembered: %v", out.Err)
	}
}

// CheckAllOrNothing: when the journal cannot append, nothing of the
// intake is written, and the honest retry later succeeds.
func CheckAllOrNothing(t *testing.T, newDB NewDB) {
	db := newDB(t)
	e := NewEnv(t, db, nil)
	e.MustCommit(t, Intake(region, "m0", exp, []string{"r0"}, muniA))
	e.Journal.Close(context.Background())
	_, err := e.Store.Commit(context.Background(), Intake(region, "m1", exp, []string{"r1"}, muniA))
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("commit with the journal closed: %v, want ErrUnavailable", err)
	}
	// A journal of its own again, the same database: m1 is not a replay.
	e2 := &Env{DB: db, Backend: e.Backend, Clock: e.Clock, Keys: e.Keys}
	j, err := journal.New(context.Background(), e.Backend.JournalStore(), testJournalKey(), journal.Config{Origin: "test.psykosocial.dk/journal", Clock: e.Clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close(context.Background()) })
	e2.Journal = j
	e2.Store, err = store.New(store.Config{Backend: e.Backend, Journal: j, Keys: e.Keys, Clock: e.Clock})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e2.Store.Record(context.Background(), "r1", 1); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the failed commit left its record: %v", err)
	}
	e2.MustCommit(t, Intake(region, "m1", exp, []string{"r1"}, muniA))
	res, err := e2.Store.Pull(context.Background(), muniA, 10, time.Minute, Deliver)
	if err != nil || len(res.Messages) != 2 {
		t.Fatalf("pulled %d, %v; want 2", len(res.Messages), err)
	}
	e2.VerifyJournal(t)
}

// CheckBadInput: malformed intakes are refused with an error naming the
// field, alone in their group.
func CheckBadInput(t *testing.T, newDB NewDB) {
	ctx := context.Background()
	e := NewEnv(t, newDB(t), nil)
	for k, c := range []struct {
		name, field string
		edit        func(in *store.Intake)
	}{
		{"no sender", "message.sender", func(in *store.Intake) { in.Message.Sender = "" }},
		{"upper-case sender", "message.sender", func(in *store.Intake) { in.Message.Sender = "Region:1084" }},
		{"long id", "message.id", func(in *store.Intake) { in.Message.ID = string(bytes.Repeat([]byte{'a'}, 129)) }},
		{"id with space", "message.id", func(in *store.Intake) { in.Message.ID = "a b" }},
		{"wrong digest", "message.digest", func(in *store.Intake) { in.Message.Digest[0] ^= 1 }},
		{"no evidence", "message.evidence", func(in *store.Intake) { in.Message.Evidence = nil }},
		{"no receipt", "message.receipt", func(in *store.Intake) { in.Message.Receipt = nil }},
		{"no expiry", "message.expires_at", func(in *store.Intake) { in.Message.ExpiresAt = time.Time{} }},
		{"version 0", "records[0].version", func(in *store.Intake) { in.Records[0].Version = 0 }},
		{"empty body", "records[0].body", func(in *store.Intake) { in.Records[0].Body = nil }},
		{"record twice", "records[1]", func(in *store.Intake) { in.Records = append(in.Records, in.Records[0]) }},
		{"bad recipient", "records[0].deliveries[0].recipient", func(in *store.Intake) { in.Records[0].Deliveries[0].Recipient = "x y" }},
		{"bad priority", "records[0].deliveries[0].priority", func(in *store.Intake) { in.Records[0].Deliveries[0].Priority = 7 }},
		{"no view", "records[0].deliveries[0].view", func(in *store.Intake) { in.Records[0].Deliveries[0].View = nil }},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := Intake(region, "bad", exp, []string{"r1"}, muniA)
			c.edit(in)
			out := e.Commit(t, in, Intake(region, fmt.Sprintf("good-%d", k), exp, []string{fmt.Sprintf("g-%d", k)}, muniA))
			var ie *store.InputError
			if !errors.As(out[0].Err, &ie) || ie.Field != c.field || !errors.Is(out[0].Err, store.ErrInvalid) {
				t.Fatalf("got %v, want an InputError on %s", out[0].Err, c.field)
			}
			if out[1].Err != nil {
				t.Fatalf("the good intake beside it: %v", out[1].Err)
			}
		})
	}
	t.Run("bad journal entry", func(t *testing.T) {
		in := Intake(region, "bad-entry", exp, []string{"r1"}, muniA)
		in.Journal[0].Actor = ""
		if out := e.Commit(t, in)[0]; !errors.Is(out.Err, store.ErrInvalid) || !errors.Is(out.Err, journal.ErrInvalidEntry) {
			t.Fatalf("got %v, want ErrInvalid and journal.ErrInvalidEntry", out.Err)
		}
	})
	if _, err := e.Store.Commit(ctx); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("no intakes: %v", err)
	}
	for _, c := range []struct {
		recipient string
		max       int
		lease     time.Duration
	}{{"", 1, time.Minute}, {muniA, 0, time.Minute}, {muniA, 10_000, time.Minute}, {muniA, 1, 0}, {muniA, 1, 48 * time.Hour}} {
		if _, err := e.Store.Pull(ctx, c.recipient, c.max, c.lease, Deliver); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("Pull(%q, %d, %s): %v, want ErrInvalid", c.recipient, c.max, c.lease, err)
		}
	}
	if _, err := e.Store.Pull(ctx, muniA, 1, time.Minute, nil); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("Pull without a DeliverFunc: %v, want ErrInvalid", err)
	}
	if err := e.Store.Ack(ctx, muniA, "", DeliveryDigest("", 1)); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("Ack of no id: %v", err)
	}
}

// CheckUnavailable: with the database closed, every operation fails with
// ErrUnavailable.
func CheckUnavailable(t *testing.T, newDB NewDB) {
	ctx := context.Background()
	e := NewEnv(t, newDB(t), nil)
	e.Backend.Close()
	if _, err := e.Store.Commit(ctx, Intake(region, "m1", exp, []string{"r1"}, muniA)); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Commit: %v", err)
	}
	if _, err := e.Store.Pull(ctx, muniA, 1, time.Minute, Deliver); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Pull: %v", err)
	}
	if err := e.Store.Ack(ctx, muniA, "x", DeliveryDigest("x", 1)); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Ack: %v", err)
	}
	if _, err := e.Store.PurgeReplay(ctx); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("PurgeReplay: %v", err)
	}
}

// CheckConcurrentResubmission: the same message committed by many
// goroutines at once (replicas retrying) is stored once; every other
// attempt gets the original receipt.
func CheckConcurrentResubmission(t *testing.T, newDB NewDB) {
	e := NewEnv(t, newDB(t), nil)
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs, err := e.Store.Commit(context.Background(), Intake(region, "m1", exp, []string{"r1"}, muniA))
			if err == nil {
				err = outs[0].Err
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, store.ErrDuplicate):
		default:
			t.Errorf("unexpected: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d commits succeeded, want 1", ok)
	}
	if got := e.JournalSize(t); got != 2 {
		t.Fatalf("journal size %d, want 2", got)
	}
}

// CheckConcurrentCommits: many goroutines commit distinct messages, with
// journal appends of the journal's own beside them; every entry is in one
// sound tree.
func CheckConcurrentCommits(t *testing.T, newDB NewDB) {
	e := NewEnv(t, newDB(t), nil)
	const workers, each = 6, 10
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				id := fmt.Sprintf("m-%d-%d", w, i)
				outs, err := e.Store.Commit(context.Background(), Intake(region, id, exp, []string{"r-" + id}, muniA))
				if err == nil {
					err = outs[0].Err
				}
				if err != nil {
					t.Errorf("%s: %v", id, err)
					return
				}
				if _, err := e.Journal.Append(context.Background(), journal.Entry{Event: journal.EventAuditQuery, Actor: "gateway", Outcome: journal.OutcomeOK}); err != nil {
					t.Errorf("journal append: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if got, want := e.JournalSize(t), uint64(workers*each*3); got != want {
		t.Fatalf("journal size %d, want %d", got, want)
	}
	e.VerifyJournal(t)
}

// CheckEncryptedAtRest: no CPR number or name of the committed records,
// views and evidence is found in the database's raw bytes, while the
// search does find a marker stored in clear.
func CheckEncryptedAtRest(t *testing.T, newDB NewDB) {
	db := newDB(t)
	e := NewEnv(t, db, nil)
	var ids []string
	for i := range 30 {
		ids = append(ids, fmt.Sprintf("rec-%d", i))
	}
	e.MustCommit(t, Intake(region, "marker-message-id", exp, ids, muniA, muniB))
	e.MustCommit(t, Intake(police, "m2", exp, []string{"p1", "p2", "p3"}, muniA))
	res, err := e.Store.Pull(context.Background(), muniA, 5, time.Minute, Deliver)
	if err != nil || len(res.Messages) == 0 {
		t.Fatalf("pulled %d, %v", len(res.Messages), err)
	}
	if err := e.Store.Ack(context.Background(), muniA, res.Messages[0].ID, res.Messages[0].DeliveryDigest); err != nil {
		t.Fatal(err)
	}
	if got := db.Find(t, [][]byte{[]byte("marker-message-id")}); len(got) == 0 {
		t.Fatal("the search does not find the message id stored in clear: it searches nothing")
	}
	var needles [][]byte
	for _, p := range People {
		needles = append(needles, []byte(p.CPR), []byte(p.CPR[:6]+"-"+p.CPR[6:]), []byte(p.Name))
	}
	if got := db.Find(t, needles); len(got) > 0 {
		t.Fatalf("personal data in clear: %v", got)
	}
}
