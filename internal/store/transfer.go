package store

import (
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/psykosocial/exchange/internal/journal"
)

// TransferredMessage is a mailbox message moved from the mailbox of an
// authority that ceased to its successor's, as it was before the move:
// ids, states and times only, never the view.
type TransferredMessage struct {
	// ID is the stable mailbox message id (it stays the same).
	ID string
	// From is the authority whose mailbox it was in; To its successor.
	From, To string
	// RecordID and RecordVersion name the record the message is of.
	RecordID      string
	RecordVersion int
	// ContentDigest is SHA-256 of the view (the queued entry's digest).
	ContentDigest [sha256.Size]byte
	// State is the state it was in: queued, leased (not acknowledged) or
	// parked. A queued or leased message is queued for To with no
	// deliveries; a parked one stays parked for the operator.
	State State
	// Deliveries counts the deliveries made to From.
	Deliveries int
	// QueuedAt is when it was first queued; TransferredAt when it moved.
	QueuedAt, TransferredAt time.Time
}

// Transfer moves every mailbox message of from that is not delivered —
// queued, leased but not acknowledged, or parked — to to's mailbox, and
// journals, in the same transaction, the entry that entry makes of each
// (the pipeline writes transferred, from whom to whom). It is the store's
// half of the succession rule: what waits for an authority that ceased
// passes to its successor. The mailbox message ids stay, so a delivery
// to either names the same message; the views stay as they are, sealed
// to no one (each delivery is sealed at pull time to the puller). from
// can still acknowledge the deliveries it was sent before the move (Ack).
//
// Up to maxTransfer messages move in one transaction with their entries;
// more move in further transactions of the same call. It is idempotent:
// a message moves once, and a second call, or another replica's call at
// the same time, finds nothing more to move. It returns the messages
// moved, in queueing order.
func (s *Store) Transfer(ctx context.Context, from, to string, entry func(TransferredMessage) journal.Entry) ([]TransferredMessage, error) {
	switch {
	case !isAuthority(from):
		return nil, &InputError{Field: "from", Reason: "not an authority id"}
	case !isAuthority(to):
		return nil, &InputError{Field: "to", Reason: "not an authority id"}
	case from == to:
		return nil, &InputError{Field: "to", Reason: "is from: a mailbox is transferred to another authority"}
	case entry == nil:
		return nil, &InputError{Field: "entry", Reason: "is nil: every transfer is journaled"}
	}
	var all []TransferredMessage
	for {
		if err := ctx.Err(); err != nil {
			return all, unavailable("transfer", err)
		}
		batch, err := s.transferBatch(ctx, from, to, entry)
		if err != nil {
			return all, err
		}
		all = append(all, batch...)
		if len(batch) < maxTransfer {
			break
		}
	}
	if len(all) > 0 {
		s.log.Info("mailbox messages transferred to the successor", "from", from, "to", to, "messages", len(all))
	}
	return all, nil
}

// transferBatch moves up to maxTransfer messages in one transaction.
func (s *Store) transferBatch(ctx context.Context, from, to string, entry func(TransferredMessage) journal.Entry) ([]TransferredMessage, error) {
	now := s.cfg.Clock.Now().UTC().Truncate(time.Microsecond)
	var out []TransferredMessage
	var ta *journal.TxAppend
	err := s.b.Write(ctx, func(tx Tx) error {
		out, ta = nil, nil
		rows, err := tx.Transfer(ctx, from, to, now, maxTransfer)
		if err != nil || len(rows) == 0 {
			return err
		}
		slices.SortFunc(rows, func(a, b MailboxRow) int { return cmp.Compare(a.Seq, b.Seq) })
		entries := make([]journal.Entry, 0, len(rows))
		for _, r := range rows {
			m := TransferredMessage{ID: r.ID, From: from, To: to, RecordID: r.RecordID, RecordVersion: r.RecordVersion,
				State: r.State, Deliveries: r.Deliveries, QueuedAt: r.QueuedAt, TransferredAt: now}
			copy(m.ContentDigest[:], r.ContentDigest)
			out = append(out, m)
			entries = append(entries, entry(m))
		}
		if ta, err = s.cfg.Journal.PrepareAppend(entries...); err != nil {
			if errors.Is(err, journal.ErrInvalidEntry) {
				return fmt.Errorf("%w: %w", ErrInvalid, err)
			}
			return err
		}
		return tx.AppendJournal(ctx, ta.Build)
	})
	if err != nil {
		return nil, unavailable("transfer", err)
	}
	if ta != nil {
		if err := ta.Committed(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Waiting is one recipient's mailbox messages that are not delivered.
type Waiting struct {
	// Recipient is the mailbox's authority.
	Recipient string
	// Count is how many messages are queued, leased (not acknowledged) or
	// parked.
	Count int64
	// OldestQueuedAt is when the oldest of them was queued.
	OldestQueuedAt time.Time
}

// Waiting returns, per recipient that has any, how many mailbox messages
// are not delivered yet and when the oldest was queued, in recipient
// order: one aggregate query over the index of waiting messages, for the
// mailbox depth metrics. It reads ids and times only.
func (s *Store) Waiting(ctx context.Context) ([]Waiting, error) {
	var rows []WaitingRow
	err := s.b.Read(ctx, func(tx Tx) error {
		var err error
		rows, err = tx.Waiting(ctx, maxWaitingRecipients)
		return err
	})
	if err != nil {
		return nil, unavailable("count waiting mailbox messages", err)
	}
	out := make([]Waiting, len(rows))
	for i, r := range rows {
		out[i] = Waiting(r)
	}
	return out, nil
}
