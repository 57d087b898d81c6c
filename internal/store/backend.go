package store

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/psykosocial/exchange/internal/journal"
)

// Backend is a database that a Store runs on: package store/sqlite or
// store/postgres. Its tables are migrated when it is opened.
type Backend interface {
	// Write runs f in one write transaction and commits it durably; an
	// error from f, or from the commit, rolls everything back. f may be
	// called again if the backend retries a serialization failure.
	Write(ctx context.Context, f func(Tx) error) error
	// Read runs f in a read-only transaction.
	Read(ctx context.Context, f func(Tx) error) error
	// JournalStore is the journal's storage in the same database, for
	// journal.New.
	JournalStore() journal.Store
	// Scrub makes deleted data unrecoverable from the database's own
	// files where the backend can, after a purge: SQLite (which zeroes
	// freed pages, secure_delete) checkpoints its write-ahead log and
	// truncates it; PostgreSQL leaves dead rows to VACUUM and does nothing.
	Scrub(ctx context.Context) error
	// Close closes what the backend opened.
	Close() error
}

// Tx is a transaction of a Backend: the statements the Store is made of.
// Sealed values ([]byte fields named so) are opaque to the backend.
type Tx interface {
	// Savepoint starts a savepoint; RollbackToSavepoint undoes what was
	// written since; ReleaseSavepoint keeps it. One level is enough.
	Savepoint(ctx context.Context) error
	RollbackToSavepoint(ctx context.Context) error
	ReleaseSavepoint(ctx context.Context) error

	// PutDataKey stores a wrapped data key under id, unless it is there.
	PutDataKey(ctx context.Context, id []byte, wrapped []byte, created time.Time) error
	// DataKey returns the wrapped data key of id (ErrCorrupt if missing).
	DataKey(ctx context.Context, id []byte) ([]byte, error)

	// InsertReplay inserts r unless a row of (r.Sender, r.MessageID)
	// exists; then it returns that row and inserted == false. On PostgreSQL
	// a concurrent insert of the same key waits for the other transaction.
	InsertReplay(ctx context.Context, r ReplayRow) (existing ReplayRow, inserted bool, err error)
	// PurgeReplay deletes the replay rows whose expiry is at or before now.
	PurgeReplay(ctx context.Context, now time.Time) (int64, error)
	// InsertMessage stores a submitted message.
	InsertMessage(ctx context.Context, m MessageRow) error
	// Message returns a stored message, or found == false.
	Message(ctx context.Context, sender, id string) (m MessageRow, found bool, err error)

	// ClaimRecord makes owner the owner of recordID unless the record has
	// one, and returns the owner either way.
	ClaimRecord(ctx context.Context, recordID, owner string, at time.Time) (string, error)
	// InsertRecord inserts r unless (r.ID, r.Version) exists; then it
	// returns that row and inserted == false.
	InsertRecord(ctx context.Context, r RecordRow) (existing RecordRow, inserted bool, err error)
	// Record returns a stored record version, or found == false.
	Record(ctx context.Context, id string, version int) (r RecordRow, found bool, err error)

	// InsertMailbox queues mailbox messages (state queued, no deliveries).
	InsertMailbox(ctx context.Context, rows []MailboxRow) error
	// ParkExhausted parks the recipient's leased messages whose lease ended
	// at or before now after maxDeliveries deliveries, noting now as the
	// time they were parked, and returns their ids.
	ParkExhausted(ctx context.Context, recipient string, now time.Time, maxDeliveries int) ([]string, error)
	// Parked returns up to limit parked messages of every recipient in
	// queueing order, without their views (SealedView is nil).
	Parked(ctx context.Context, limit int) ([]MailboxRow, error)
	// Requeue puts the parked message id back in its recipient's queue:
	// state queued, no deliveries, no lease. It returns the row as it was
	// (parked, with its deliveries and ParkedAt), or found == false when
	// no parked message has the id; on PostgreSQL the row stays locked
	// until the transaction ends.
	Requeue(ctx context.Context, id string, now time.Time) (was MailboxRow, found bool, err error)
	// Lease leases up to limit of the recipient's messages that are queued
	// or whose lease ended at or before now, acute first and then by
	// queueing order, skipping rows another transaction holds: their state
	// becomes leased until until and their delivery count grows by one. It
	// returns the updated rows in that order.
	Lease(ctx context.Context, recipient string, now, until time.Time, limit int) ([]MailboxRow, error)
	// RecordDelivery remembers that a delivery with digest was sent at
	// for the mailbox message id, and forgets all but the newest keep
	// deliveries of the message (newest by sent time).
	RecordDelivery(ctx context.Context, id string, digest []byte, at time.Time, keep int) error
	// Ack marks the recipient's message id delivered at now if digest is
	// one of its recorded deliveries and it is not delivered already. It
	// returns what it found: no such message of the recipient, no
	// delivery recorded, another delivery's digest, or the state it was
	// in (delivered: nothing changed). A message transferred from the
	// recipient (Transfer) is still the recipient's to acknowledge, for
	// the deliveries recorded before it was transferred only.
	Ack(ctx context.Context, recipient, id string, digest []byte, now time.Time) (AckResult, error)
	// Transfer moves up to limit of from's mailbox messages that are not
	// delivered (queued, leased or parked), in queueing order, to to's
	// mailbox, noting from and now: a queued or leased message becomes
	// queued for to with no deliveries and no lease, a parked one stays
	// parked. It returns the rows as they were before the move (without
	// their views). On PostgreSQL the rows are locked (waiting for another
	// transaction that holds them) and a row another transaction moved
	// meanwhile is no longer from's, so every row moves once.
	Transfer(ctx context.Context, from, to string, now time.Time, limit int) ([]MailboxRow, error)
	// Waiting returns, per recipient with any, how many mailbox messages
	// are not delivered (queued, leased or parked) and when the oldest of
	// them was queued; at most limit recipients.
	Waiting(ctx context.Context, limit int) ([]WaitingRow, error)

	// PurgeDelivered deletes up to limit acknowledged mailbox messages
	// delivered at or before before (oldest acknowledgement first), with
	// their recorded deliveries, skipping rows another transaction holds.
	// It returns what it deleted and how many delivery rows went with them.
	PurgeDelivered(ctx context.Context, before time.Time, limit int) ([]PurgedMailbox, int64, error)
	// PurgeUndelivered deletes up to limit mailbox messages never
	// acknowledged (queued, parked, or leased with the lease ended at or
	// before now) that were queued at or before before (oldest first),
	// with their recorded deliveries, skipping rows another transaction
	// holds; a message under a running lease is left alone.
	PurgeUndelivered(ctx context.Context, before, now time.Time, limit int) ([]PurgedMailbox, int64, error)
	// PurgeRecords empties the body of up to limit record versions stored
	// at or before before whose record (any version) has no mailbox
	// message left, and notes now as their PurgedAt; the row stays (ids,
	// owner, digest, times), so that ownership, withdrawals and "already
	// received" still work. Rows purged before, or held by another
	// transaction, are skipped. It returns the rows (SealedBody nil).
	PurgeRecords(ctx context.Context, before, now time.Time, limit int) ([]RecordRow, error)
	// PurgeMessages empties the evidence and receipt of up to limit
	// messages received at or before before none of whose record versions
	// still has its body, and notes now as their PurgedAt; the row stays
	// (ids, digest, times). It returns the rows (sealed values nil).
	PurgeMessages(ctx context.Context, before, now time.Time, limit int) ([]MessageRow, error)
	// InsertGaps notes open gaps of a record version (rows already there
	// stay as they are).
	InsertGaps(ctx context.Context, rows []GapRow) error
	// CloseGaps closes, as closedAs at now, the open gaps of recordID whose
	// version is below beforeVersion (every version when beforeVersion is
	// 0), and returns how many it closed.
	CloseGaps(ctx context.Context, recordID string, beforeVersion int, now time.Time, closedAs string) (int64, error)
	// CloseGap closes one gap if it is open and reports whether it did;
	// on PostgreSQL a concurrent close of the same gap waits for the other
	// transaction and then finds it closed.
	CloseGap(ctx context.Context, g GapRow, now time.Time, closedAs string) (bool, error)
	// OpenGaps returns up to limit open gaps ordered by record id, version
	// and role, after the key of after.
	OpenGaps(ctx context.Context, after GapRow, limit int) ([]GapRow, error)

	// AppendJournal appends journal entries in this transaction (the
	// journal storage's AppendTx).
	AppendJournal(ctx context.Context, build func(journal.Head) (*journal.Batch, error)) error
}

// AckResult is what Tx.Ack found.
type AckResult struct {
	// Found is false when the recipient has no mailbox message of the id.
	Found bool
	// Sent is false when digest is not among the message's recorded
	// deliveries; Known then says whether any delivery is recorded.
	Sent, Known bool
	// Prev is the state the message was in (when Found and Sent).
	Prev State
	// RecordID and RecordVersion name the record of the message (when
	// Found).
	RecordID      string
	RecordVersion int
	// Recipient is whose mailbox the message is in now; TransferredFrom is
	// the authority it was transferred from ("" if none). When Recipient
	// is not the acknowledging authority, that authority acknowledged as
	// the one the message was transferred from.
	Recipient, TransferredFrom string
}

// WaitingRow is one recipient's mailbox messages that are not delivered.
type WaitingRow struct {
	// Recipient is the mailbox's authority.
	Recipient string
	// Count is how many messages are queued, leased or parked.
	Count int64
	// OldestQueuedAt is when the oldest of them was queued.
	OldestQueuedAt time.Time
}

// ReplayRow remembers one message id until the message's signed expiry.
type ReplayRow struct {
	// Sender and MessageID are the key.
	Sender, MessageID string
	// Digest is the payload digest.
	Digest []byte
	// ExpiresAt is the signed expiry.
	ExpiresAt time.Time
}

// MessageRow is a stored submitted message.
type MessageRow struct {
	// Sender and ID name the message.
	Sender, ID string
	// Digest is the payload digest.
	Digest []byte
	// ReceivedAt is the commit time; ExpiresAt the signed expiry.
	ReceivedAt, ExpiresAt time.Time
	// SealedEvidence and SealedReceipt are the encrypted signed bytes and
	// receipt; empty once purged.
	SealedEvidence, SealedReceipt []byte
	// PurgedAt is when retention purged the evidence and receipt; zero
	// while they are stored.
	PurgedAt time.Time
}

// RecordRow is a stored record version.
type RecordRow struct {
	// ID and Version name the record.
	ID      string
	Version int
	// Owner is the owning authority at the time of storing.
	Owner string
	// Sender and MessageID name the message that brought it.
	Sender, MessageID string
	// ContentDigest is SHA-256 of the canonical record bytes.
	ContentDigest []byte
	// SealedBody is the encrypted canonical record; empty once purged.
	SealedBody []byte
	// StoredAt is the commit time.
	StoredAt time.Time
	// Subject is the person's pseudonymous reference (zero: none), and
	// IncidentID the incident's id, both stored in clear.
	Subject journal.Subject
	// IncidentID is the incident's id ("" when unknown).
	IncidentID string
	// PurgedAt is when retention purged the body; zero while stored.
	PurgedAt time.Time
}

// PurgedMailbox is a mailbox message a purge deleted: what its journal
// entry names.
type PurgedMailbox struct {
	// ID is the stable mailbox message id.
	ID string
	// Recipient is the mailbox's authority.
	Recipient string
	// RecordID and RecordVersion name the record.
	RecordID      string
	RecordVersion int
	// ContentDigest is SHA-256 of the view deleted.
	ContentDigest []byte
	// State is the state it was in (delivered, queued, leased, parked).
	State State
	// Subject and IncidentID are the record version's (RecordRow).
	Subject journal.Subject
	// IncidentID is the record version's incident id.
	IncidentID string
}

// MailboxRow is a stored mailbox message.
type MailboxRow struct {
	// Seq orders the mailbox (assigned by the backend).
	Seq int64
	// ID is the stable mailbox message id.
	ID string
	// Recipient is the mailbox's authority.
	Recipient string
	// RecordID and RecordVersion name the record.
	RecordID      string
	RecordVersion int
	// SealedView is the encrypted view; ContentDigest SHA-256 of the view.
	SealedView, ContentDigest []byte
	// Priority orders the mailbox.
	Priority Priority
	// State, LeaseUntil and Deliveries are the delivery state.
	State      State
	LeaseUntil time.Time
	Deliveries int
	// QueuedAt is the commit time.
	QueuedAt time.Time
	// ParkedAt is when the message was parked (state parked only; for a
	// message parked before schema version 3, the end of its last lease).
	ParkedAt time.Time
	// TransferredFrom is the authority whose mailbox the message was
	// moved from (an authority that ceased), "" if none; TransferredAt
	// when (Transfer only).
	TransferredFrom string
	TransferredAt   time.Time
}

// SortMailbox orders leased rows as a pull returns them: acute first, then
// by queueing order. Backends whose UPDATE ... RETURNING has no order call it.
func SortMailbox(rows []MailboxRow) {
	slices.SortFunc(rows, func(a, b MailboxRow) int {
		if a.Priority != b.Priority {
			return cmp.Compare(b.Priority, a.Priority)
		}
		return cmp.Compare(a.Seq, b.Seq)
	})
}
