package store

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/psykosocial/exchange/internal/journal"
)

// Retention is how long the store keeps personal data before Store.Purge
// deletes it. The zero value of a field takes its default
// (DefaultRetention); each duration lies between MinRetention and
// MaxRetention.
//
// The gateway carries records between authorities; it is not their
// record-keeping system. The sender and the recipient keep the record
// under their own rules (journaliseringspligt, the archive and health
// legislation); what the gateway holds is a transport copy and the
// evidence of its own part (GDPR art. 5(1)(e) storage limitation, 5(2)
// accountability), and part of it is health data (art. 9: the assessment
// notes). The defaults follow from that:
//
//   - Delivered, 30 days after the signed acknowledgement: the recipient
//     holds the view; the copy only serves to look into a delivery the
//     recipient reports as faulty (a case system that filed or imported
//     it wrongly), which comes to light within days or weeks; 30 days
//     cover a monthly reconciliation.
//   - Undelivered, 90 days after queueing: a view never acknowledged in
//     three months has lost its purpose (psychosocial follow-up is
//     offered in the first weeks and months after an incident). The
//     operator has seen it parked long before (after 10 deliveries,
//     gateway admin parked), and the sender sees it purged undelivered in
//     the record's status and can send it again.
//   - Records, 180 days after receipt, and longer while any mailbox
//     message of the record is still stored: the record's body and the
//     sender's signed original (evidence) with its receipt stay for the
//     follow-up period of an incident, beyond the undelivered views, to
//     answer what was received and forwarded (a complaint, a person's
//     access request, a dispute between authorities). After that the
//     journal, which keeps its pseudonymous trail with every digest, and
//     the signed receipts the parties hold prove what passed; the
//     sender's own copy can be matched against the digests.
//
// A purged record version and message keep their row without the
// personal data: ids, owner, times and digests. So ownership stays, a
// withdrawal or correction of a purged record is still propagated (the
// notices need no body), and the identical version sent again is
// recognised as already received.
type Retention struct {
	// Delivered is how long an acknowledged mailbox message (its view or
	// notice, and the digests of its deliveries) is kept after the
	// acknowledgement. 0 means DefaultDeliveredRetention (30 days).
	Delivered time.Duration
	// Undelivered is how long a mailbox message that was never
	// acknowledged (queued, parked, or leased with the lease run out) is
	// kept after it was queued. 0 means DefaultUndeliveredRetention (90
	// days).
	Undelivered time.Duration
	// Records is how long a record version's body, and a message's
	// evidence and receipt, are kept after receipt; a record version is
	// kept beyond that while a mailbox message of the record (any version)
	// is stored, and a message while one of its record versions is. 0
	// means DefaultRecordRetention (180 days).
	Records time.Duration
	// BatchSize bounds the rows, and so the journal entries, of one purge
	// transaction. 0 means 500; at most 5000.
	BatchSize int
}

// DefaultRetention is the retention of the zero Retention.
func DefaultRetention() Retention {
	return Retention{Delivered: DefaultDeliveredRetention, Undelivered: DefaultUndeliveredRetention,
		Records: DefaultRecordRetention, BatchSize: defaultPurgeBatch}
}

// withDefaults fills the zero fields and checks the rest.
func (r Retention) withDefaults() (Retention, error) {
	d := DefaultRetention()
	if r.Delivered == 0 {
		r.Delivered = d.Delivered
	}
	if r.Undelivered == 0 {
		r.Undelivered = d.Undelivered
	}
	if r.Records == 0 {
		r.Records = d.Records
	}
	if r.BatchSize == 0 {
		r.BatchSize = d.BatchSize
	}
	return r, r.Check()
}

// Check reports the first field outside its bounds as an *InputError
// naming it (retention.delivered, retention.undelivered,
// retention.records, retention.batch_size). Zero fields are refused: use
// DefaultRetention, or let Store.Purge fill them.
func (r Retention) Check() error {
	for _, f := range []struct {
		name string
		d    time.Duration
	}{{"retention.delivered", r.Delivered}, {"retention.undelivered", r.Undelivered}, {"retention.records", r.Records}} {
		if f.d < MinRetention || f.d > MaxRetention {
			return &InputError{Field: f.name, Reason: fmt.Sprintf("give %s to %s", MinRetention, MaxRetention)}
		}
	}
	if r.BatchSize < 1 || r.BatchSize > maxPurgeBatch {
		return &InputError{Field: "retention.batch_size", Reason: fmt.Sprintf("give 1 to %d", maxPurgeBatch)}
	}
	return nil
}

// PurgeActor is the actor of the purged journal entries.
const PurgeActor = "gateway"

// Reasons of the purged journal entries: which retention purged what.
const (
	// ReasonPurgedDelivered: an acknowledged mailbox message (Counterpart
	// its recipient, MessageID its mailbox id, PayloadDigest its view's
	// content digest, as in its queued entry).
	ReasonPurgedDelivered = "retention.delivered"
	// ReasonPurgedUndelivered prefixes the state of a mailbox message
	// purged without acknowledgement ("retention.undelivered.parked").
	ReasonPurgedUndelivered = "retention.undelivered"
	// ReasonPurgedRecord: a record version's body (Counterpart its owner,
	// MessageID the message that brought it, PayloadDigest the SHA-256 of
	// the canonical record).
	ReasonPurgedRecord = "retention.record"
	// ReasonPurgedMessage: a message's evidence and receipt (Counterpart
	// its sender, PayloadDigest its payload digest, as in its received
	// entry).
	ReasonPurgedMessage = "retention.message"
)

// PurgeReport says what one Purge deleted.
type PurgeReport struct {
	// Delivered counts the acknowledged mailbox messages deleted.
	Delivered int
	// Undelivered counts the mailbox messages deleted without
	// acknowledgement.
	Undelivered int
	// Deliveries counts the delivery digests deleted with them.
	Deliveries int64
	// Records counts the record versions whose body was purged.
	Records int
	// Messages counts the messages whose evidence and receipt were purged.
	Messages int
	// JournalEntries counts the purged entries journaled: one per mailbox
	// message, record version and message.
	JournalEntries int
	// More is set when the purge stopped at its bound of transactions
	// with more due: the next Purge goes on.
	More bool
}

// Purge deletes the personal data whose retention r has passed and
// journals a purged entry for each mailbox message, record version and
// message, with its pseudonymous subject reference, ids and the digest of
// what was purged, in the same transaction as the delete. It works in
// transactions of at most r.BatchSize rows, in this order: acknowledged
// mailbox messages (with their delivery digests), mailbox messages never
// acknowledged, record bodies, then evidence and receipts; so what the
// first steps free is purged in the same call. A mailbox message under a
// running lease is left for the next call.
//
// Purge is idempotent and safe to run on several replicas at once: each
// transaction takes rows no other holds (FOR UPDATE SKIP LOCKED on
// PostgreSQL, the one writer on SQLite), and a row purged is never
// purged, nor journaled, again. On an error the transactions committed
// before it stay, and the report counts them.
func (s *Store) Purge(ctx context.Context, r Retention) (PurgeReport, error) {
	r, err := r.withDefaults()
	if err != nil {
		return PurgeReport{}, err
	}
	if r.Records < s.cfg.MaxLifetime {
		return PurgeReport{}, &InputError{Field: "retention.records", Reason: fmt.Sprintf("must not be shorter than the store's MaxLifetime (%s): an identical resubmission gets its original receipt until then", s.cfg.MaxLifetime)}
	}
	now := s.cfg.Clock.Now().UTC().Truncate(time.Microsecond)
	var rep PurgeReport
	steps := []func(tx Tx) ([]journal.Entry, error){
		func(tx Tx) ([]journal.Entry, error) {
			rows, n, err := tx.PurgeDelivered(ctx, now.Add(-r.Delivered), r.BatchSize)
			rep.Delivered += len(rows)
			rep.Deliveries += n
			return mailboxEntries(rows), err
		},
		func(tx Tx) ([]journal.Entry, error) {
			rows, n, err := tx.PurgeUndelivered(ctx, now.Add(-r.Undelivered), now, r.BatchSize)
			rep.Undelivered += len(rows)
			rep.Deliveries += n
			return mailboxEntries(rows), err
		},
		func(tx Tx) ([]journal.Entry, error) {
			rows, err := tx.PurgeRecords(ctx, now.Add(-r.Records), now, r.BatchSize)
			rep.Records += len(rows)
			es := make([]journal.Entry, 0, len(rows))
			for _, x := range rows {
				es = append(es, journal.Entry{Event: journal.EventPurged, Actor: PurgeActor, Counterpart: x.Owner,
					RecordID: x.ID, RecordVersion: x.Version, MessageID: x.MessageID, IncidentID: x.IncidentID, Subject: x.Subject,
					PayloadDigest: digestOf(x.ContentDigest), Outcome: journal.OutcomeOK, Reason: ReasonPurgedRecord})
			}
			return es, err
		},
		func(tx Tx) ([]journal.Entry, error) {
			rows, err := tx.PurgeMessages(ctx, now.Add(-r.Records), now, r.BatchSize)
			rep.Messages += len(rows)
			es := make([]journal.Entry, 0, len(rows))
			for _, x := range rows {
				es = append(es, journal.Entry{Event: journal.EventPurged, Actor: PurgeActor, Counterpart: x.Sender,
					MessageID: x.ID, PayloadDigest: digestOf(x.Digest), Outcome: journal.OutcomeOK, Reason: ReasonPurgedMessage})
			}
			return es, err
		},
	}
	for _, step := range steps {
		done := false
		for range maxPurgeBatches {
			n, err := s.purgeBatch(ctx, step, &rep)
			if err != nil {
				s.log.Error("retention purge failed; the transactions before stay committed", "err", err)
				return rep, err
			}
			if n < r.BatchSize {
				done = true
				break
			}
		}
		if !done {
			rep.More = true
		}
	}
	if rep.JournalEntries > 0 {
		if err := s.b.Scrub(ctx); err != nil {
			// The rows are gone from the database; only their traces in
			// the backend's files wait for the next scrub.
			s.log.Warn("retention purge: the database files could not be scrubbed", "err", err)
		}
		s.log.Info("retention purge", "delivered", rep.Delivered, "undelivered", rep.Undelivered,
			"records", rep.Records, "messages", rep.Messages, "more", rep.More)
	}
	return rep, nil
}

// purgeBatch runs one step of a purge in one transaction with its journal
// entries and returns how many rows it purged; the counts of rep grow only
// by a committed transaction's.
func (s *Store) purgeBatch(ctx context.Context, step func(Tx) ([]journal.Entry, error), rep *PurgeReport) (int, error) {
	var entries []journal.Entry
	var ta *journal.TxAppend
	before := *rep
	err := s.b.Write(ctx, func(tx Tx) error {
		*rep, ta = before, nil // a retried transaction counts afresh
		var err error
		if entries, err = step(tx); err != nil || len(entries) == 0 {
			return err
		}
		if ta, err = s.cfg.Journal.PrepareAppend(entries...); err != nil {
			if errors.Is(err, journal.ErrInvalidEntry) {
				return fmt.Errorf("%w: %w", ErrCorrupt, err)
			}
			return err
		}
		return tx.AppendJournal(ctx, ta.Build)
	})
	if err != nil {
		*rep = before
		return 0, unavailable("purge", err)
	}
	if ta != nil {
		if err := ta.Committed(); err != nil {
			return 0, err
		}
	}
	rep.JournalEntries += len(entries)
	return len(entries), nil
}

// mailboxEntries are the purged entries of deleted mailbox messages.
func mailboxEntries(rows []PurgedMailbox) []journal.Entry {
	es := make([]journal.Entry, 0, len(rows))
	for _, m := range rows {
		reason := ReasonPurgedDelivered
		if m.State != StateDelivered {
			reason = ReasonPurgedUndelivered + "." + string(m.State)
		}
		es = append(es, journal.Entry{Event: journal.EventPurged, Actor: PurgeActor, Counterpart: m.Recipient,
			RecordID: m.RecordID, RecordVersion: m.RecordVersion, MessageID: m.ID, IncidentID: m.IncidentID, Subject: m.Subject,
			PayloadDigest: digestOf(m.ContentDigest), Outcome: journal.OutcomeOK, Reason: reason})
	}
	return es
}

// digestOf is a stored digest as the journal's array (zero if malformed).
func digestOf(b []byte) [sha256.Size]byte {
	var d [sha256.Size]byte
	if len(b) == sha256.Size {
		copy(d[:], b)
	}
	return d
}
