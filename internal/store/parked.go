package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/psykosocial/exchange/internal/journal"
)

// Parked returns up to limit parked mailbox messages of every recipient,
// in queueing order, and whether more are parked. It reads ids and times
// only: no view is decrypted.
func (s *Store) Parked(ctx context.Context, limit int) (msgs []ParkedMessage, more bool, err error) {
	if limit < 1 || limit > maxParkedList {
		return nil, false, &InputError{Field: "limit", Reason: fmt.Sprintf("give 1 to %d", maxParkedList)}
	}
	var rows []MailboxRow
	err = s.b.Read(ctx, func(tx Tx) error {
		var err error
		rows, err = tx.Parked(ctx, limit+1)
		return err
	})
	if err != nil {
		return nil, false, unavailable("list parked", err)
	}
	if len(rows) > limit {
		rows, more = rows[:limit], true
	}
	for _, r := range rows {
		msgs = append(msgs, parkedMessage(r))
	}
	return msgs, more, nil
}

func parkedMessage(r MailboxRow) ParkedMessage {
	return ParkedMessage{ID: r.ID, Recipient: r.Recipient, RecordID: r.RecordID, RecordVersion: r.RecordVersion,
		Priority: r.Priority, Deliveries: r.Deliveries, QueuedAt: r.QueuedAt, ParkedAt: r.ParkedAt}
}

// Requeue puts parked mailbox messages back in their recipients' queues
// and journals, in the same transaction, the entry that entry makes of
// each (as it was while parked: its deliveries, its recipient). A
// requeued message has no deliveries: it is offered again and parked again
// only after Config.MaxDeliveries more deliveries without acknowledgement.
// It is all or nothing: when one of ids is not a parked message (unknown,
// queued, leased or delivered, perhaps acknowledged meanwhile) nothing is
// requeued and the error matches ErrNotFound and names it. It returns the
// messages requeued, in the order of ids.
func (s *Store) Requeue(ctx context.Context, ids []string, entry func(ParkedMessage) journal.Entry) ([]ParkedMessage, error) {
	switch {
	case len(ids) == 0 || len(ids) > maxRequeue:
		return nil, &InputError{Field: "ids", Reason: fmt.Sprintf("give 1 to %d mailbox message ids", maxRequeue)}
	case entry == nil:
		return nil, &InputError{Field: "entry", Reason: "is nil: every requeue is journaled"}
	}
	seen := map[string]bool{}
	for i, id := range ids {
		switch {
		case !isID(id):
			return nil, &InputError{Field: fmt.Sprintf("ids[%d]", i), Reason: "not a mailbox message id"}
		case seen[id]:
			return nil, &InputError{Field: fmt.Sprintf("ids[%d]", i), Reason: "the same mailbox message id twice"}
		}
		seen[id] = true
	}
	now := s.cfg.Clock.Now().UTC().Truncate(time.Microsecond)
	var out []ParkedMessage
	var ta *journal.TxAppend
	err := s.b.Write(ctx, func(tx Tx) error {
		out, ta = nil, nil
		entries := make([]journal.Entry, 0, len(ids))
		for _, id := range ids {
			was, found, err := tx.Requeue(ctx, id, now)
			if err != nil {
				return err
			}
			if !found {
				return fmt.Errorf("%w: %q is not a parked mailbox message; nothing was requeued", ErrNotFound, id)
			}
			m := parkedMessage(was)
			out = append(out, m)
			entries = append(entries, entry(m))
		}
		var err error
		if ta, err = s.cfg.Journal.PrepareAppend(entries...); err != nil {
			if errors.Is(err, journal.ErrInvalidEntry) {
				return fmt.Errorf("%w: %w", ErrInvalid, err)
			}
			return err
		}
		return tx.AppendJournal(ctx, ta.Build)
	})
	if err != nil {
		return nil, unavailable("requeue", err)
	}
	if err := ta.Committed(); err != nil {
		return nil, err
	}
	s.log.Info("parked mailbox messages requeued", "messages", len(out))
	return out, nil
}
