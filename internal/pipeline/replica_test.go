package pipeline_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/psykosocial/exchange/internal/envelope"
	"github.com/psykosocial/exchange/internal/fault"
	"github.com/psykosocial/exchange/internal/journal"
	"github.com/psykosocial/exchange/internal/store"
	"github.com/psykosocial/exchange/internal/store/sqlite"
)

// TestAckOnAnotherReplica: the delivery digests are in the store, not in
// the pulling process. One pipeline pulls; a second pipeline over the same
// database (the same PostgreSQL schema while the first runs, the same
// SQLite file after the first has stopped) accepts the ack, and gives the
// same answer when it is repeated, journaling one delivered entry; a
// receipt naming a delivery that was never sent is refused there as
// bad-receipt, and an unknown mailbox message is not found.
func TestAckOnAnotherReplica(t *testing.T) {
	t.Run("postgres", func(t *testing.T) {
		schema := newPostgresSchema(t)
		first := newEnv(t, func(t *testing.T) store.Backend { return postgresSchema(t, schema) })
		ackElsewhere(t, first, func() *env {
			return newEnv(t, func(t *testing.T) store.Backend { return postgresSchema(t, schema) })
		})
	})
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "gateway.db")
		open := func(t *testing.T) store.Backend {
			b, err := sqlite.Open(context.Background(), path, sqlite.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { b.Close() })
			return b
		}
		first := newEnv(t, open)
		ackElsewhere(t, first, func() *env {
			// A restart: the first process stops, another opens the file.
			if err := first.journal.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			if err := first.backend.Close(); err != nil {
				t.Fatal(err)
			}
			return newEnv(t, open)
		})
	})
}

func ackElsewhere(t *testing.T, first *env, second func() *env) {
	const to = "municipality:0751"
	rid := newUUID(t)
	if _, err := first.submit(regionSender, first.sealJSON(regionSender, envelope.KindRegistration, first.regionDoc(rid, 1, nil), newUUID(t))); err != nil {
		t.Fatal(err)
	}
	rs := first.pull(to, 0)
	if len(rs) != 1 {
		t.Fatalf("%s pulled %d deliveries, want 1", to, len(rs))
	}
	r := rs[0]
	forged := *r.opened
	forged.Digest = envelope.DigestOf([]byte("a delivery that was never sent"))
	other := received{d: r.d, opened: &forged}

	e := second()
	before := delivered(t, e, r.d.MailboxID)
	if err := e.p.Ack(e.ctx, to, r.d.MailboxID, e.receipt(to, other)); !errors.Is(err, fault.ErrInvalid) {
		t.Fatalf("ack naming a delivery never sent: %v, want bad-receipt (ErrInvalid)", err)
	}
	if err := e.p.Ack(e.ctx, to, newUUID(t), e.receipt(to, r)); !errors.Is(err, fault.ErrNotFound) {
		t.Fatalf("ack of an unknown mailbox message: %v, want ErrNotFound", err)
	}
	if err := e.p.Ack(e.ctx, to, r.d.MailboxID, e.receipt(to, r)); err != nil {
		t.Fatalf("ack on the second pipeline: %v", err)
	}
	if err := e.p.Ack(e.ctx, to, r.d.MailboxID, e.receipt(to, r)); err != nil {
		t.Fatalf("repeated ack: %v, want the same answer (nil)", err)
	}
	if got := delivered(t, e, r.d.MailboxID); got != before+1 {
		t.Fatalf("%d delivered entries for %s, want %d", got, r.d.MailboxID, before+1)
	}
	e.clock.Advance(time.Hour)
	if again := e.pull(to, 0); len(again) != 0 {
		t.Fatalf("an acknowledged message was delivered again: %d", len(again))
	}
}

// delivered counts the journal's delivered entries naming mailboxID.
func delivered(t *testing.T, e *env, mailboxID string) int {
	t.Helper()
	page, err := e.journal.Query(e.ctx, journal.Query{Filter: journal.Filter{Events: []journal.EventType{journal.EventDelivered}}, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range page.Results {
		if r.Entry.MessageID == mailboxID {
			n++
		}
	}
	return n
}
