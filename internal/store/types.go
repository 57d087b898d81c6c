package store

import (
	"context"
	"crypto/sha256"
	"time"

	"github.com/psykosocial/exchange/internal/journal"
)

// Intake is one submitted message and everything it causes, committed whole.
type Intake struct {
	// Message is the submitted message.
	Message Message
	// Records are the message's records (one, or a batch's valid ones).
	Records []Record
	// Journal are the message's own entries (received, rejected items,
	// ...); each record's entries travel with the record.
	Journal []journal.Entry
	// Withdrawals are the record versions the message withdraws (a
	// withdrawal notice), with the notices queued to their holders.
	Withdrawals []Withdrawal
}

// JournalEntries is the number of journal entries the intake commits at
// most: its own, its records' and its withdrawals'.
func (in Intake) JournalEntries() int {
	n := len(in.Journal)
	for _, r := range in.Records {
		n += len(r.Journal)
	}
	for _, w := range in.Withdrawals {
		n += len(w.Journal)
	}
	return n
}

// Withdrawal is a stored record version that a message withdraws, and the
// withdrawal notices to the authorities that hold it. Only the record's
// owner (or an authority Config.Owners admits) withdraws it; a record
// version that is not stored is refused (ErrNotFound).
type Withdrawal struct {
	// RecordID and Version name the stored version withdrawn.
	RecordID string
	// Version is the stored version the notices name.
	Version int
	// Deliveries are the withdrawal notices, encoded by each recipient's
	// adapter, one per holder.
	Deliveries []Delivery
	// Journal are the withdrawal's entries (withdrawn, queued, ...).
	Journal []journal.Entry
}

// Message is a submitted message as the sender signed it.
type Message struct {
	// Sender is the authority that signed it (the TLS client).
	Sender string
	// ID is the message id (JWS jti or the XML header's id).
	ID string
	// Digest is the payload digest: SHA-256 of the sender's signed bytes.
	Digest [sha256.Size]byte
	// Evidence are the sender's signed bytes (compact JWS, or signed XML),
	// kept as evidence; stored encrypted.
	Evidence []byte
	// ExpiresAt is the message's signed expiry: the replay row is kept
	// until then. It must lie in the future, at most Config.MaxLifetime away.
	ExpiresAt time.Time
	// Receipt is the signed receipt answered to the sender, returned again
	// to an identical resubmission; stored encrypted.
	Receipt []byte
}

// Record is one record of a message and its mailbox messages.
type Record struct {
	// ID is the record id.
	ID string
	// Version is the record version (1 or more).
	Version int
	// Body is the canonical record (common record JSON); stored encrypted.
	Body []byte
	// Deliveries are the mailbox messages of the record, one per allowed
	// recipient.
	Deliveries []Delivery
	// Journal are the record's entries (routed, withheld, queued, ...):
	// committed with the record, dropped with its deliveries when the
	// record was already received.
	Journal []journal.Entry
	// Subject is the pseudonymous reference of the record's person (as
	// its journal entries carry it), zero when there is none; IncidentID
	// is the incident's id. Both are stored in clear beside the sealed
	// body, so that the purge of the record and its mailbox messages is
	// journaled under the person's reference (Store.Purge).
	Subject journal.Subject
	// IncidentID is the record's incident id, "" when unknown.
	IncidentID string
	// Gaps are the recipient roles routing could not fill because the
	// recipient is not configured (recipient_not_configured): each is
	// kept as an open Gap until the record version is routed again
	// (Reroute), or a later version or a withdrawal of the record closes it.
	Gaps []string
}

// Priority orders a mailbox: acute messages are pulled first.
type Priority int

// Priorities.
const (
	// PriorityNormal is the default.
	PriorityNormal Priority = 0
	// PriorityAcute is pulled before every normal message.
	PriorityAcute Priority = 1
)

// Delivery is one mailbox message to be queued.
type Delivery struct {
	// ID is the mailbox message's stable id, carried in every delivery's
	// signed metadata so that the recipient files it once.
	ID string
	// Recipient is the authority whose mailbox it is.
	Recipient string
	// View is the recipient's view encoded by the recipient's adapter;
	// stored encrypted. Its SHA-256 is the content digest.
	View []byte
	// Priority orders the mailbox.
	Priority Priority
}

// State is where a mailbox message is in its life.
type State string

// States.
const (
	// StateQueued waits for the recipient's pull.
	StateQueued State = "queued"
	// StateLeased was pulled; it is delivered again when the lease ends.
	StateLeased State = "leased"
	// StateDelivered was acknowledged; it is never delivered again.
	StateDelivered State = "delivered"
	// StateParked was delivered Config.MaxDeliveries times without ack and
	// waits for the operator.
	StateParked State = "parked"
)

// Outcome is the result of one intake of a Commit.
type Outcome struct {
	// Err is nil when the intake was committed; otherwise it matches
	// ErrDuplicate (an *AlreadyReceivedError with the original receipt),
	// ErrConflict, ErrExpired, ErrInvalid or ErrNotFound (a withdrawal of a
	// record version that is not stored), and nothing of the intake was
	// written.
	Err error
	// AlreadyStored lists the records that were stored before with the same
	// content, by an earlier message: they were not queued again.
	AlreadyStored []AlreadyStored
	// JournalFirst is the sequence number of the intake's first journal
	// entry (the others follow in order: the message's, then each queued
	// record's), valid when JournalEntries > 0.
	JournalFirst uint64
	// JournalEntries is how many entries were journaled for the intake.
	JournalEntries int
}

// AlreadyStored names a record id and version stored before with the same
// content: "already received in message MessageID".
type AlreadyStored struct {
	// RecordID and Version name the record.
	RecordID string
	Version  int
	// Sender and MessageID name the message that brought it first.
	Sender, MessageID string
}

// MailboxMessage is a leased mailbox message, as Pull returns it.
type MailboxMessage struct {
	// ID is the stable mailbox message id.
	ID string
	// Recipient is the mailbox's authority.
	Recipient string
	// RecordID and RecordVersion name the record the view is of.
	RecordID      string
	RecordVersion int
	// View is the decrypted view.
	View []byte
	// ContentDigest is SHA-256 of View.
	ContentDigest [sha256.Size]byte
	// Priority is the message's priority.
	Priority Priority
	// Deliveries counts the deliveries, this one included (more than 1 is a
	// redelivery).
	Deliveries int
	// LeaseUntil is when the message is offered again unless acknowledged.
	LeaseUntil time.Time
	// QueuedAt is when the message was committed.
	QueuedAt time.Time
	// Origin names the submitted message that brought the record version,
	// with its digest and (unless purged) its evidence; nil if it is not
	// stored.
	Origin *Origin
	// DeliveryDigest is the digest of this delivery, as the Pull's
	// DeliverFunc returned it and the store recorded it for the ack.
	DeliveryDigest [sha256.Size]byte
}

// Origin is the submitted message a mailbox message's record version came
// in: the provenance of its deliveries.
type Origin struct {
	// Sender and MessageID name the message.
	Sender, MessageID string
	// Digest is the message's payload digest (SHA-256 of the sender's
	// signed bytes), kept after the evidence is purged.
	Digest [sha256.Size]byte
	// Evidence are the sender's signed bytes, decrypted; nil once purged
	// by retention (Store.Purge).
	Evidence []byte
}

// DeliverFunc makes the delivery of a leased mailbox message inside the
// Pull's transaction (sealing it to the recipient) and returns its digest,
// which the store records with the lease: the digest an acknowledgement
// must name. An error rolls the whole pull back. It may be called again
// for the same message if the backend retries the transaction; only the
// digests of the committed attempt count.
type DeliverFunc func(ctx context.Context, m MailboxMessage) (digest [sha256.Size]byte, err error)

// PullResult is what one Pull leased and parked.
type PullResult struct {
	// Messages are leased to the caller, acute first, then oldest.
	Messages []MailboxMessage
	// Parked are the ids of messages that reached Config.MaxDeliveries
	// without ack and were parked by this pull.
	Parked []string
}

// StoredRecord is a stored record version, decrypted.
type StoredRecord struct {
	// ID and Version name the record.
	ID      string
	Version int
	// Owner is the authority the record belongs to.
	Owner string
	// Sender and MessageID name the message that brought this version.
	Sender, MessageID string
	// Body is the canonical record; nil once purged by retention.
	Body []byte
	// ContentDigest is the SHA-256 of the canonical record, kept after
	// the body is purged.
	ContentDigest [sha256.Size]byte
	// StoredAt is when it was committed.
	StoredAt time.Time
	// PurgedAt is when retention purged the body (Store.Purge); zero
	// while it is stored.
	PurgedAt time.Time
}

// ParkedMessage is a parked mailbox message as the operator sees it: where
// it waits and what it is of, never the view (no personal data).
type ParkedMessage struct {
	// ID is the stable mailbox message id.
	ID string
	// Recipient is the mailbox's authority.
	Recipient string
	// RecordID and RecordVersion name the record the message is of.
	RecordID      string
	RecordVersion int
	// Priority is the message's priority.
	Priority Priority
	// Deliveries counts the deliveries made without acknowledgement.
	Deliveries int
	// QueuedAt is when the message was committed; ParkedAt when it was
	// parked.
	QueuedAt, ParkedAt time.Time
}
