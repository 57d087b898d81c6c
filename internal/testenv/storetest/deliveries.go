package storetest

import (
	"context"
	"crypto/sha256"
	"errors"
	"testing"
	"time"

	"github.com/psykosocial/exchange/internal/journal"
	"github.com/psykosocial/exchange/internal/store"
)

// CheckDeliveryDigests: a pull records each delivery's digest in its
// transaction; an ack names one of them. Another replica (another Store
// and backend on the same database) accepts the ack; a digest never sent
// for the message is ErrOtherDelivery, a message never delivered
// ErrNotFound, a repeated ack ErrDuplicate; only the newest deliveries of
// a message are kept; a failing DeliverFunc leases nothing.
func CheckDeliveryDigests(t *testing.T, newDB NewDB) {
	ctx := context.Background()
	e := NewEnv(t, newDB(t), func(c *store.Config) { c.MaxDeliveries = 100 })
	e.MustCommit(t, Intake(region, "m1", exp, []string{"r1", "r2", "r3"}, muniA))
	a, b, c := "mb-m1-r1-"+muniA, "mb-m1-r2-"+muniA, "mb-m1-r3-"+muniA

	// A failing delivery rolls the pull back: nothing leased, nothing recorded.
	boom := errors.New("sealing failed")
	if _, err := e.Store.Pull(ctx, muniA, 10, time.Minute, func(context.Context, store.MailboxMessage) ([sha256.Size]byte, error) {
		return [sha256.Size]byte{}, boom
	}); !errors.Is(err, boom) && !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Pull with a failing DeliverFunc: %v", err)
	}
	if err := e.Store.Ack(ctx, muniA, a, DeliveryDigest(a, 1)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("ack of a message never delivered: %v, want ErrNotFound", err)
	}

	res := pull(t, e, muniA, 2, time.Minute)
	if len(res.Messages) != 2 || ids(res.Messages)[0] != a || ids(res.Messages)[1] != b {
		t.Fatalf("pulled %v, want %s and %s (nothing leased by the failed pull)", ids(res.Messages), a, b)
	}
	for _, m := range res.Messages {
		if m.DeliveryDigest != DeliveryDigest(m.ID, 1) {
			t.Fatalf("%s: DeliveryDigest %x, want the DeliverFunc's", m.ID, m.DeliveryDigest)
		}
		if m.Origin == nil || m.Origin.Sender != region || m.Origin.MessageID != "m1" || len(m.Origin.Evidence) == 0 {
			t.Fatalf("%s: Origin %+v, want message m1 of %s with its evidence", m.ID, m.Origin, region)
		}
	}

	// Another replica, as after a restart or on another process.
	r := e.Replica(t, nil)
	size := e.JournalSize(t)
	if err := r.Store.Ack(ctx, muniA, a, DeliveryDigest(a, 2)); !errors.Is(err, store.ErrOtherDelivery) {
		t.Fatalf("ack naming a delivery never sent: %v, want ErrOtherDelivery", err)
	}
	if err := r.Store.Ack(ctx, muniA, a, DeliveryDigest(b, 1)); !errors.Is(err, store.ErrOtherDelivery) {
		t.Fatalf("ack naming another message's delivery: %v, want ErrOtherDelivery", err)
	}
	if err := r.Store.Ack(ctx, muniA, c, DeliveryDigest(c, 1)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("ack of a queued message never delivered: %v, want ErrNotFound", err)
	}
	if err := r.Store.Ack(ctx, muniB, a, DeliveryDigest(a, 1)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("ack of another's message: %v, want ErrNotFound", err)
	}
	if got := e.JournalSize(t); got != size {
		t.Fatalf("refused acks journaled: size %d, want %d", got, size)
	}
	delivered := journal.Entry{Event: journal.EventDelivered, Actor: muniA, Counterpart: "gateway", MessageID: a, Outcome: journal.OutcomeOK}
	if err := r.Store.Ack(ctx, muniA, a, DeliveryDigest(a, 1), delivered); err != nil {
		t.Fatalf("ack on the other replica: %v", err)
	}
	if err := e.Store.Ack(ctx, muniA, a, DeliveryDigest(a, 1), delivered); !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("repeated ack: %v, want ErrDuplicate", err)
	}
	if err := e.Store.Ack(ctx, muniA, a, DeliveryDigest(a, 2)); !errors.Is(err, store.ErrOtherDelivery) {
		t.Fatalf("ack of a delivered message naming a delivery never sent: %v, want ErrOtherDelivery", err)
	}
	if got := e.JournalSize(t); got != size+1 {
		t.Fatalf("journal size %d, want %d (one delivered entry)", got, size+1)
	}

	// b delivered many times: the newest deliveries are kept, the oldest forgotten.
	const n = 12
	for i := 2; i <= n; i++ {
		e.Clock.Advance(time.Minute)
		res := pull(t, e, muniA, 1, time.Minute)
		if len(res.Messages) != 1 || res.Messages[0].ID != b || res.Messages[0].Deliveries != i {
			t.Fatalf("delivery %d: %+v", i, res.Messages)
		}
	}
	if err := e.Store.Ack(ctx, muniA, b, DeliveryDigest(b, 1)); !errors.Is(err, store.ErrOtherDelivery) {
		t.Fatalf("ack of the oldest of %d deliveries: %v, want ErrOtherDelivery (forgotten)", n, err)
	}
	if err := r.Store.Ack(ctx, muniA, b, DeliveryDigest(b, n-5)); err != nil {
		t.Fatalf("ack of a recent delivery: %v", err)
	}
	e.VerifyJournal(t)
}
