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

func ids(ms []store.MailboxMessage) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.ID)
	}
	return out
}

// DeliveryDigest is the digest of the nth delivery of mailbox message id
// as Deliver makes it.
func DeliveryDigest(id string, n int) [sha256.Size]byte {
	return sha256.Sum256([]byte(fmt.Sprintf("delivery %d of %s", n, id)))
}

// Deliver is the suite's store.DeliverFunc: it seals nothing and names the
// delivery by DeliveryDigest(m.ID, m.Deliveries).
func Deliver(_ context.Context, m store.MailboxMessage) ([sha256.Size]byte, error) {
	return DeliveryDigest(m.ID, m.Deliveries), nil
}

func pull(t testing.TB, e *Env, recipient string, max int, lease time.Duration) store.PullResult {
	t.Helper()
	res, err := e.Store.Pull(context.Background(), recipient, max, lease, Deliver)
	if err != nil {
		t.Fatalf("Pull: %v", err)
	}
	return res
}

// CheckMailboxOrder: acute messages come first, then the oldest.
func CheckMailboxOrder(t *testing.T, newDB NewDB) {
	e := NewEnv(t, newDB(t), nil)
	e.MustCommit(t, Intake(region, "m1", exp, []string{"r1"}, muniA))
	e.Clock.Advance(time.Second)
	acute := Intake(police, "m2", exp, []string{"r2"}, muniA)
	acute.Records[0].Deliveries[0].Priority = store.PriorityAcute
	e.MustCommit(t, acute)
	e.Clock.Advance(time.Second)
	e.MustCommit(t, Intake(region, "m3", exp, []string{"r3"}, muniA, muniB))
	res := pull(t, e, muniA, 2, time.Minute)
	want := []string{"mb-m2-r2-" + muniA, "mb-m1-r1-" + muniA}
	if got := ids(res.Messages); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("first pull %v, want %v", got, want)
	}
	if res.Messages[0].Priority != store.PriorityAcute || !res.Messages[1].QueuedAt.Equal(T0) {
		t.Fatalf("pulled %+v", res.Messages)
	}
	res = pull(t, e, muniA, 10, time.Minute)
	if got := ids(res.Messages); fmt.Sprint(got) != fmt.Sprint([]string{"mb-m3-r3-" + muniA}) {
		t.Fatalf("second pull %v", got)
	}
}

// CheckLeaseAckRedelivery: a leased message is offered to nobody else
// until its lease ends, then again; an acknowledged one never again; an
// ack journals its entry; a foreign or unknown id is not found.
func CheckLeaseAckRedelivery(t *testing.T, newDB NewDB) {
	ctx := context.Background()
	e := NewEnv(t, newDB(t), nil)
	e.MustCommit(t, Intake(region, "m1", exp, []string{"r1", "r2"}, muniA))
	first := pull(t, e, muniA, 10, time.Minute)
	if len(first.Messages) != 2 {
		t.Fatalf("pulled %d, want 2", len(first.Messages))
	}
	if res := pull(t, e, muniA, 10, time.Minute); len(res.Messages) != 0 {
		t.Fatalf("leased messages offered again: %v", ids(res.Messages))
	}
	a, b := first.Messages[0].ID, first.Messages[1].ID
	size := e.JournalSize(t)
	delivered := journal.Entry{Event: journal.EventDelivered, Actor: muniA, Counterpart: "gateway", RecordID: "r1", RecordVersion: 1, MessageID: a, Outcome: journal.OutcomeOK}
	if err := e.Store.Ack(ctx, muniA, a, DeliveryDigest(a, 1), delivered); err != nil {
		t.Fatalf("Ack: %v", err)
	}
	if got := e.JournalSize(t); got != size+1 {
		t.Fatalf("journal size %d after the ack, want %d", got, size+1)
	}
	if err := e.Store.Ack(ctx, muniA, a, DeliveryDigest(a, 1), delivered); !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("second ack: %v, want ErrDuplicate", err)
	}
	if err := e.Store.Ack(ctx, muniB, b, DeliveryDigest(b, 1)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("ack of another's message: %v, want ErrNotFound", err)
	}
	if err := e.Store.Ack(ctx, muniA, "no-such-id", DeliveryDigest("no-such-id", 1)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("ack of an unknown id: %v, want ErrNotFound", err)
	}
	if got := e.JournalSize(t); got != size+1 {
		t.Fatalf("refused acks journaled: size %d, want %d", got, size+1)
	}
	e.Clock.Advance(time.Minute)
	again := pull(t, e, muniA, 10, time.Minute)
	if len(again.Messages) != 1 || again.Messages[0].ID != b || again.Messages[0].Deliveries != 2 {
		t.Fatalf("after the lease: %+v, want %s delivered a second time", again.Messages, b)
	}
	if err := e.Store.Ack(ctx, muniA, b, DeliveryDigest(b, 1)); err != nil { // the first delivery arrived after all
		t.Fatal(err)
	}
	e.Clock.Advance(time.Hour)
	if res := pull(t, e, muniA, 10, time.Minute); len(res.Messages) != 0 {
		t.Fatalf("acknowledged messages delivered again: %v", ids(res.Messages))
	}
	e.VerifyJournal(t)
}

// CheckParking: after Config.MaxDeliveries deliveries without ack a
// message is parked, not delivered again; an ack of a parked message
// (it did arrive) marks it delivered.
func CheckParking(t *testing.T, newDB NewDB) {
	ctx := context.Background()
	e := NewEnv(t, newDB(t), func(c *store.Config) { c.MaxDeliveries = 2 })
	e.MustCommit(t, Intake(region, "m1", exp, []string{"r1"}, muniA))
	id := "mb-m1-r1-" + muniA
	for i := 1; i <= 2; i++ {
		res := pull(t, e, muniA, 10, time.Minute)
		if len(res.Messages) != 1 || res.Messages[0].Deliveries != i || len(res.Parked) != 0 {
			t.Fatalf("delivery %d: %+v", i, res)
		}
		e.Clock.Advance(time.Minute)
	}
	res := pull(t, e, muniA, 10, time.Minute)
	if len(res.Messages) != 0 || fmt.Sprint(res.Parked) != fmt.Sprint([]string{id}) {
		t.Fatalf("third pull %+v, want %s parked", res, id)
	}
	e.Clock.Advance(time.Hour)
	if res := pull(t, e, muniA, 10, time.Minute); len(res.Messages)+len(res.Parked) != 0 {
		t.Fatalf("parked message offered again: %+v", res)
	}
	if err := e.Store.Ack(ctx, muniA, id, DeliveryDigest(id, 2)); err != nil {
		t.Fatalf("ack of a parked message: %v", err)
	}
}

// CheckConcurrentPullers: pullers of one mailbox at once get disjoint
// messages, and together all of them.
func CheckConcurrentPullers(t *testing.T, newDB NewDB) {
	e := NewEnv(t, newDB(t), nil)
	var rids []string
	for i := range 40 {
		rids = append(rids, fmt.Sprintf("r%d", i))
	}
	e.MustCommit(t, Intake(region, "m1", exp, rids, muniA))
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				res, err := e.Store.Pull(context.Background(), muniA, 3, time.Hour, Deliver)
				if err != nil {
					t.Errorf("Pull: %v", err)
					return
				}
				if len(res.Messages) == 0 {
					return
				}
				mu.Lock()
				for _, m := range res.Messages {
					seen[m.ID]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != 40 {
		t.Fatalf("pulled %d distinct messages, want 40", len(seen))
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s leased %d times at once", id, n)
		}
	}
}
