package storetest

import (
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

// ceased and successor are the authorities of the transfer checks: Region
// Hovedstaden and the test code of Region Østdanmark.
const (
	ceased    = "region:1084"
	successor = "region:1099"
)

// TransferEntry is the journal entry the suite writes for a transferred
// mailbox message.
func TransferEntry(m store.TransferredMessage) journal.Entry {
	return journal.Entry{Event: journal.EventTransferred, Actor: "gateway", Counterpart: m.To,
		RecordID: m.RecordID, RecordVersion: m.RecordVersion, MessageID: m.ID, PayloadDigest: m.ContentDigest,
		Outcome: journal.OutcomeOK, Reason: fmt.Sprintf("from %s, which ceased; it was %s", m.From, m.State)}
}

// successorDigest is the digest of the nth delivery of id to the
// successor, unlike any delivery to the ceased authority.
func successorDigest(id string, n int) [sha256.Size]byte {
	return sha256.Sum256([]byte(fmt.Sprintf("delivery %d of %s to the successor", n, id)))
}

func deliverToSuccessor(_ context.Context, m store.MailboxMessage) ([sha256.Size]byte, error) {
	return successorDigest(m.ID, m.Deliveries), nil
}

// CheckTransfer: Transfer moves a ceased authority's waiting mailbox
// messages (queued, leased but not acknowledged, parked) to its
// successor's mailbox, each journaled in the same transaction; delivered
// messages and other mailboxes stay; a second transfer moves nothing. The
// successor pulls the queued and leased ones afresh (parked stay parked,
// for the operator); the ceased authority acknowledges a delivery it was
// sent before the move, but not one sent to the successor, and its own
// mailbox is empty. Bad input and a bad entry move nothing.
func CheckTransfer(t *testing.T, newDB NewDB) {
	ctx := context.Background()
	e := NewEnv(t, newDB(t), func(c *store.Config) { c.MaxDeliveries = 1 })
	e.MustCommit(t, Intake(police, "m1", exp, []string{"r1", "r2", "r3", "r4"}, ceased))
	e.MustCommit(t, Intake(police, "m2", exp, []string{"r5"}, muniA))
	id := func(r string) string { return "mb-m1-" + r + "-" + ceased }
	pull(t, e, ceased, 1, time.Minute) // r1, delivery 1
	e.Clock.Advance(time.Minute)
	if res := pull(t, e, ceased, 2, time.Hour); fmt.Sprint(res.Parked) != fmt.Sprint([]string{id("r1")}) ||
		fmt.Sprint(ids(res.Messages)) != fmt.Sprint([]string{id("r2"), id("r3")}) {
		t.Fatalf("second pull: %+v", res)
	}
	if err := e.Store.Ack(ctx, ceased, id("r3"), DeliveryDigest(id("r3"), 1)); err != nil {
		t.Fatal(err)
	}

	size := e.JournalSize(t)
	for name, c := range map[string]struct {
		from, to string
		entry    func(store.TransferredMessage) journal.Entry
	}{
		"to itself":        {ceased, ceased, TransferEntry},
		"no entry":         {ceased, successor, nil},
		"a bad entry":      {ceased, successor, func(store.TransferredMessage) journal.Entry { return journal.Entry{Event: "transfer"} }},
		"a bad from":       {"Region 1084", successor, TransferEntry},
		"an empty to":      {ceased, "", TransferEntry},
		"an overlong from": {string(make([]byte, 65)), successor, TransferEntry},
	} {
		if moved, err := e.Store.Transfer(ctx, c.from, c.to, c.entry); !errors.Is(err, store.ErrInvalid) || len(moved) != 0 {
			t.Errorf("transfer %s: %v, %d moved; want ErrInvalid and none", name, err, len(moved))
		}
	}
	if got := e.JournalSize(t); got != size {
		t.Fatalf("refused transfers journaled: size %d, want %d", got, size)
	}

	e.Clock.Advance(time.Minute)
	at := e.Clock.Now().UTC()
	moved, err := e.Store.Transfer(ctx, ceased, successor, TransferEntry)
	if err != nil {
		t.Fatalf("Transfer: %v", err)
	}
	want := []struct {
		id         string
		state      store.State
		deliveries int
	}{{id("r1"), store.StateParked, 1}, {id("r2"), store.StateLeased, 1}, {id("r4"), store.StateQueued, 0}}
	if len(moved) != len(want) {
		t.Fatalf("moved %+v, want %d", moved, len(want))
	}
	for i, w := range want {
		m := moved[i]
		if m.ID != w.id || m.State != w.state || m.Deliveries != w.deliveries || m.From != ceased || m.To != successor ||
			!m.TransferredAt.Equal(at) || !m.QueuedAt.Equal(T0) || m.ContentDigest != sha256.Sum256(View(int(m.RecordID[1]-'1'), ceased)) {
			t.Fatalf("moved %d: %+v, want %+v", i, m, w)
		}
	}
	if n := e.JournalSize(t); n != size+3 {
		t.Fatalf("journal size %d after moving three, want %d", n, size+3)
	}
	leaves, err := e.Backend.JournalStore().Leaves(ctx, size, 3)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range leaves {
		en, err := journal.ParseLeaf(l.Leaf)
		if err != nil {
			t.Fatal(err)
		}
		if en.Event != journal.EventTransferred || en.MessageID != moved[i].ID || en.Counterpart != successor || en.RecordID != moved[i].RecordID {
			t.Fatalf("journal entry %d: %+v", l.Seq, en)
		}
	}
	if again, err := e.Store.Transfer(ctx, ceased, successor, TransferEntry); err != nil || len(again) != 0 {
		t.Fatalf("second transfer: %+v, %v; want nothing moved", again, err)
	}
	if n := e.JournalSize(t); n != size+3 {
		t.Fatalf("a second transfer journaled: size %d, want %d", n, size+3)
	}

	// The ceased authority's mailbox is empty; the successor's holds them.
	e.Clock.Advance(2 * time.Hour) // past every lease
	if res := pull(t, e, ceased, 10, time.Minute); len(res.Messages)+len(res.Parked) != 0 {
		t.Fatalf("the ceased authority still gets %+v", res)
	}
	res, err := e.Store.Pull(ctx, successor, 10, time.Minute, deliverToSuccessor)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(ids(res.Messages)) != fmt.Sprint([]string{id("r2"), id("r4")}) || res.Messages[0].Deliveries != 1 || res.Messages[0].Recipient != successor {
		t.Fatalf("the successor pulls %+v, want r2 and r4 delivered afresh", res.Messages)
	}
	if ps, _, err := e.Store.Parked(ctx, 10); err != nil || len(ps) != 1 || ps[0].ID != id("r1") || ps[0].Recipient != successor {
		t.Fatalf("parked after the transfer: %+v, %v; want r1 parked for %s", ps, err, successor)
	}

	// Acknowledgements: the ceased authority's of its own delivery, not of
	// the successor's; the successor's of its own.
	if err := e.Store.Ack(ctx, ceased, id("r2"), successorDigest(id("r2"), 1)); !errors.Is(err, store.ErrOtherDelivery) {
		t.Fatalf("the ceased authority acknowledges the successor's delivery: %v, want ErrOtherDelivery", err)
	}
	if err := e.Store.Ack(ctx, ceased, id("r4"), successorDigest(id("r4"), 1)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the ceased authority acknowledges a message it was never sent: %v, want ErrNotFound", err)
	}
	if err := e.Store.Ack(ctx, ceased, "mb-m2-r5-"+muniA, DeliveryDigest("mb-m2-r5-"+muniA, 1)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("ack of another's message: %v, want ErrNotFound", err)
	}
	size = e.JournalSize(t)
	var acked store.Acked
	if err := e.Store.AckWith(ctx, ceased, id("r2"), DeliveryDigest(id("r2"), 1), func(a store.Acked) []journal.Entry {
		acked = a
		return []journal.Entry{{Event: journal.EventDelivered, Actor: a.By, Counterpart: "gateway", RecordID: a.RecordID,
			RecordVersion: a.RecordVersion, MessageID: a.ID, Outcome: journal.OutcomeOK}}
	}); err != nil {
		t.Fatalf("the ceased authority acknowledges the delivery it was sent: %v", err)
	}
	// The record's person and incident come with it, for the delivered entry.
	if acked.Subject == (journal.Subject{}) {
		t.Fatalf("acked %+v names no subject", acked)
	}
	if want := (store.Acked{ID: id("r2"), By: ceased, Recipient: successor, TransferredFrom: ceased, RecordID: "r2", RecordVersion: 1,
		Subject: acked.Subject, IncidentID: "inc-1"}); acked != want {
		t.Fatalf("acked %+v, want %+v", acked, want)
	}
	if err := e.Store.Ack(ctx, successor, id("r2"), successorDigest(id("r2"), 1)); !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("the successor's ack after the ceased authority's: %v, want ErrDuplicate", err)
	}
	if err := e.Store.Ack(ctx, successor, id("r4"), successorDigest(id("r4"), 1)); err != nil {
		t.Fatalf("the successor's ack: %v", err)
	}
	if n := e.JournalSize(t); n != size+1 {
		t.Fatalf("journal size %d, want %d (one delivered entry)", n, size+1)
	}
	e.VerifyJournal(t)
}

// CheckConcurrentTransfer: two replicas transfer the same mailbox of more
// messages than one transaction moves, at the same time and again: each
// message moves once, with one journal entry, and all of them move.
func CheckConcurrentTransfer(t *testing.T, newDB NewDB) {
	ctx := context.Background()
	e := NewEnv(t, newDB(t), nil)
	const n = 1100
	var rids []string
	for i := range n {
		rids = append(rids, fmt.Sprintf("r%d", i))
	}
	e.MustCommit(t, Intake(police, "m1", exp, rids, ceased))
	size := e.JournalSize(t)
	r := e.Replica(t, nil)
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for _, s := range []*store.Store{e.Store, r.Store, e.Store, r.Store} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			moved, err := s.Transfer(ctx, ceased, successor, TransferEntry)
			if err != nil {
				t.Errorf("Transfer: %v", err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			for _, m := range moved {
				seen[m.ID]++
			}
		}()
	}
	wg.Wait()
	if len(seen) != n {
		t.Fatalf("moved %d distinct messages, want %d", len(seen), n)
	}
	for id, k := range seen {
		if k != 1 {
			t.Errorf("%s moved %d times", id, k)
		}
	}
	if got := e.JournalSize(t); got != size+n {
		t.Fatalf("journal size %d, want %d (one entry per message)", got, size+n)
	}
	if res := pull(t, e, ceased, 10, time.Minute); len(res.Messages) != 0 {
		t.Fatalf("the ceased authority still gets %d", len(res.Messages))
	}
	if res := pull(t, r, successor, 500, time.Minute); len(res.Messages) != 500 {
		t.Fatalf("the successor pulls %d, want 500", len(res.Messages))
	}
	e.VerifyJournal(t)
}

// CheckWaiting: Waiting counts each recipient's messages that are not
// delivered (queued, leased, parked) and when the oldest was queued;
// acknowledged ones do not count.
func CheckWaiting(t *testing.T, newDB NewDB) {
	ctx := context.Background()
	e := NewEnv(t, newDB(t), func(c *store.Config) { c.MaxDeliveries = 1 })
	if ws, err := e.Store.Waiting(ctx); err != nil || len(ws) != 0 {
		t.Fatalf("Waiting of an empty store: %+v, %v", ws, err)
	}
	e.MustCommit(t, Intake(region, "m1", exp, []string{"r1"}, muniA))
	e.Clock.Advance(time.Minute)
	e.MustCommit(t, Intake(region, "m2", exp, []string{"r2"}, muniA))
	e.Clock.Advance(time.Minute)
	e.MustCommit(t, Intake(region, "m3", exp, []string{"r3", "r4"}, muniB))
	a1 := "mb-m1-r1-" + muniA
	pull(t, e, muniA, 1, time.Minute) // r1
	if err := e.Store.Ack(ctx, muniA, a1, DeliveryDigest(a1, 1)); err != nil {
		t.Fatal(err)
	}
	pull(t, e, muniB, 1, time.Minute) // r3 leased
	e.Clock.Advance(time.Hour)
	if res := pull(t, e, muniB, 1, time.Minute); len(res.Parked) != 1 { // r3 parked, r4 leased
		t.Fatalf("pull: %+v, want one parked", res)
	}
	ws, err := e.Store.Waiting(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.Waiting{{Recipient: muniA, Count: 1, OldestQueuedAt: T0.Add(time.Minute)},
		{Recipient: muniB, Count: 2, OldestQueuedAt: T0.Add(2 * time.Minute)}}
	if fmt.Sprint(ws) != fmt.Sprint(want) {
		t.Fatalf("Waiting = %+v, want %+v", ws, want)
	}
}
