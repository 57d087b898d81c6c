package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/psykosocial/exchange/internal/journal"
	"github.com/psykosocial/exchange/internal/store"
)

// RequeueEntry is the journal entry an operator's requeue of m writes.
func RequeueEntry(m store.ParkedMessage) journal.Entry {
	return journal.Entry{Event: journal.EventRequeued, Actor: "gateway:operator", Counterpart: m.Recipient,
		RecordID: m.RecordID, RecordVersion: m.RecordVersion, MessageID: m.ID, Outcome: journal.OutcomeOK,
		Reason: fmt.Sprintf("requeued after %d deliveries without acknowledgement", m.Deliveries)}
}

// CheckParkedAndRequeue: the operator lists parked messages of every
// recipient (ids and times, when they were parked) and requeues them, each
// requeue journaled in the same transaction; a requeue naming one message
// that is not parked changes nothing; a requeued message is delivered
// again, MaxDeliveries more times before it is parked again.
func CheckParkedAndRequeue(t *testing.T, newDB NewDB) {
	ctx := context.Background()
	e := NewEnv(t, newDB(t), func(c *store.Config) { c.MaxDeliveries = 2 })
	e.MustCommit(t, Intake(region, "m1", exp, []string{"r1", "r2"}, muniA))
	e.MustCommit(t, Intake(police, "m2", exp, []string{"r3"}, muniB))
	a1, a2, b3 := "mb-m1-r1-"+muniA, "mb-m1-r2-"+muniA, "mb-m2-r3-"+muniB

	if ms, more, err := e.Store.Parked(ctx, 10); err != nil || len(ms) != 0 || more {
		t.Fatalf("Parked before any parking = %v, %v, %v", ms, more, err)
	}
	for range 2 {
		pull(t, e, muniA, 10, time.Minute)
		e.Clock.Advance(time.Minute)
	}
	parkedAt := e.Clock.Now().UTC()
	if res := pull(t, e, muniA, 10, time.Minute); len(res.Parked) != 2 {
		t.Fatalf("third pull %+v, want two parked", res)
	}
	pull(t, e, muniB, 10, time.Minute) // leased, not parked
	e.Clock.Advance(time.Hour)

	ms, more, err := e.Store.Parked(ctx, 10)
	if err != nil || more || len(ms) != 2 {
		t.Fatalf("Parked = %+v, %v, %v", ms, more, err)
	}
	for i, m := range ms {
		want := store.ParkedMessage{ID: []string{a1, a2}[i], Recipient: muniA, RecordID: fmt.Sprintf("r%d", i+1), RecordVersion: 1,
			Deliveries: 2, QueuedAt: T0, ParkedAt: parkedAt}
		if m != want {
			t.Fatalf("parked %d: %+v, want %+v", i, m, want)
		}
	}
	if ms, more, err := e.Store.Parked(ctx, 1); err != nil || !more || len(ms) != 1 || ms[0].ID != a1 {
		t.Fatalf("Parked(1) = %+v, %v, %v", ms, more, err)
	}
	if _, _, err := e.Store.Parked(ctx, 0); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("Parked(0): %v, want ErrInvalid", err)
	}

	size := e.JournalSize(t)
	for name, c := range map[string]struct {
		ids   []string
		entry func(store.ParkedMessage) journal.Entry
		kind  error
	}{
		"an unknown id":       {[]string{a1, "no-such-id"}, RequeueEntry, store.ErrNotFound},
		"a leased message":    {[]string{a1, b3}, RequeueEntry, store.ErrNotFound},
		"the same id twice":   {[]string{a1, a1}, RequeueEntry, store.ErrInvalid},
		"no ids":              {nil, RequeueEntry, store.ErrInvalid},
		"no journal entry":    {[]string{a1}, nil, store.ErrInvalid},
		"a bad journal entry": {[]string{a1}, func(store.ParkedMessage) journal.Entry { return journal.Entry{Event: "requeue"} }, store.ErrInvalid},
		"an id that is no id": {[]string{"with space"}, RequeueEntry, store.ErrInvalid},
		"an empty id":         {[]string{""}, RequeueEntry, store.ErrInvalid},
	} {
		if _, err := e.Store.Requeue(ctx, c.ids, c.entry); !errors.Is(err, c.kind) {
			t.Errorf("requeue of %s: %v, want %v", name, err, c.kind)
		}
	}
	if got := e.JournalSize(t); got != size {
		t.Fatalf("refused requeues journaled: size %d, want %d", got, size)
	}
	if ms, _, _ := e.Store.Parked(ctx, 10); len(ms) != 2 {
		t.Fatalf("a refused requeue requeued: %d parked, want 2", len(ms))
	}

	got, err := e.Store.Requeue(ctx, []string{a2, a1}, RequeueEntry)
	if err != nil || len(got) != 2 || got[0].ID != a2 || got[1].ID != a1 || got[0].Deliveries != 2 {
		t.Fatalf("Requeue = %+v, %v", got, err)
	}
	if n := e.JournalSize(t); n != size+2 {
		t.Fatalf("journal size %d after requeueing two, want %d", n, size+2)
	}
	leaves, err := e.Backend.JournalStore().Leaves(ctx, size, 2)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range leaves {
		en, err := journal.ParseLeaf(l.Leaf)
		if err != nil {
			t.Fatal(err)
		}
		if en.Event != journal.EventRequeued || en.MessageID != got[i].ID || en.Counterpart != muniA || en.RecordID != got[i].RecordID {
			t.Fatalf("journal entry %d: %+v", l.Seq, en)
		}
	}
	if ms, more, err := e.Store.Parked(ctx, 10); err != nil || len(ms) != 0 || more {
		t.Fatalf("Parked after the requeue = %+v, %v, %v", ms, more, err)
	}
	if _, err := e.Store.Requeue(ctx, []string{a1}, RequeueEntry); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second requeue: %v, want ErrNotFound", err)
	}

	// Delivered again, from the first delivery; an ack ends one, the other
	// is parked again after MaxDeliveries more.
	res := pull(t, e, muniA, 10, time.Minute)
	if fmt.Sprint(ids(res.Messages)) != fmt.Sprint([]string{a1, a2}) || res.Messages[0].Deliveries != 1 {
		t.Fatalf("pull after the requeue: %+v", res.Messages)
	}
	if err := e.Store.Ack(ctx, muniA, a1, DeliveryDigest(a1, 1)); err != nil {
		t.Fatal(err)
	}
	e.Clock.Advance(time.Minute)
	if res := pull(t, e, muniA, 10, time.Minute); fmt.Sprint(ids(res.Messages)) != fmt.Sprint([]string{a2}) || res.Messages[0].Deliveries != 2 {
		t.Fatalf("second pull after the requeue: %+v", res.Messages)
	}
	e.Clock.Advance(time.Minute)
	if res := pull(t, e, muniA, 10, time.Minute); len(res.Messages) != 0 || fmt.Sprint(res.Parked) != fmt.Sprint([]string{a2}) {
		t.Fatalf("third pull after the requeue: %+v, want %s parked again", res, a2)
	}
	e.VerifyJournal(t)
}
