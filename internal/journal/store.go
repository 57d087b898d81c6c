package journal

import (
	"context"
	"time"

	"github.com/transparency-dev/merkle/compact"
)

// The journal's storage is declared here, by its consumer, as small
// interfaces. Packages journal/sqlite and journal/postgres implement all of
// them; a reader that only queries needs only EntryReader, TreeReader and
// CheckpointStore.

// Appender writes entries.
type Appender interface {
	// Append runs one transaction that locks the head of the tree (so that
	// appenders, in this process or another, take turns), calls build with
	// the current head, and writes the batch's rows, nodes and new head. It
	// returns nil only once the transaction is durably committed; when it
	// returns an error nothing of the batch was written, or (if the
	// connection was lost during commit) the outcome is unknown. build may
	// be called more than once if the store retries.
	Append(ctx context.Context, build func(Head) (*Batch, error)) error
}

// TreeReader reads the tree.
type TreeReader interface {
	// Size returns the number of entries committed.
	Size(ctx context.Context) (uint64, error)
	// Hashes returns the hash of each node: level 0 are leaf hashes, higher
	// levels internal nodes. A node that is not stored yields a nil hash.
	Hashes(ctx context.Context, ids []compact.NodeID) ([][]byte, error)
}

// CheckpointStore keeps every signed checkpoint.
type CheckpointStore interface {
	// AddCheckpoint stores a signed checkpoint; one of the same size that
	// is already stored (signed by another process) is kept and this one
	// dropped without error.
	AddCheckpoint(ctx context.Context, c SignedCheckpoint) error
	// LatestCheckpoint returns the checkpoint of the largest size, or
	// ok == false when there is none.
	LatestCheckpoint(ctx context.Context) (c SignedCheckpoint, ok bool, err error)
	// Checkpoints returns up to limit checkpoints with a size greater than
	// after, by increasing size.
	Checkpoints(ctx context.Context, after uint64, limit int) ([]SignedCheckpoint, error)
}

// SignerLock is implemented by storage shared by several gateway processes
// (PostgreSQL): it lets one process at a time sign checkpoints, so that the
// signer (a Vault key, say) is not called twice for one tree size. Storage
// used by one process (SQLite) does not implement it.
type SignerLock interface {
	// LockSigner takes the signer lock. Without wait, ok is false, with no
	// error, when another process holds it; with wait, it waits for the
	// lock until ctx ends. unlock releases it.
	LockSigner(ctx context.Context, wait bool) (unlock func(), ok bool, err error)
}

// EntryReader reads entries.
type EntryReader interface {
	// Find returns up to limit entries matching f with a sequence number
	// of at least from, by increasing sequence number.
	Find(ctx context.Context, f Filter, from uint64, limit int) ([]StoredLeaf, error)
	// Leaves returns up to limit entries with a sequence number of at least
	// from, by increasing sequence number.
	Leaves(ctx context.Context, from uint64, limit int) ([]StoredLeaf, error)
}

// Store is everything a Journal needs from storage.
type Store interface {
	Appender
	TreeReader
	CheckpointStore
	EntryReader
}

// StoredLeaf is an entry as storage returns it.
type StoredLeaf struct {
	// Seq is the sequence number (leaf index).
	Seq uint64
	// Leaf is the leaf encoding.
	Leaf []byte
	// LeafHash is the stored leaf hash.
	LeafHash []byte
}

// Filter selects entries. Every set field must match; the zero Filter
// matches every entry.
type Filter struct {
	// Subjects matches entries whose subject reference is any of these
	// (one per subject key: see SubjectKeys.CPRRefs).
	Subjects []string
	// RecordID matches the record.
	RecordID string
	// IncidentID matches the incident.
	IncidentID string
	// Authority matches entries where it is the actor or the counterpart.
	Authority string
	// Scope, when set, matches entries whose actor or counterpart is any
	// of these authorities (a data-protection officer's own authority and
	// those it succeeded). It narrows Authority; it does not widen it.
	Scope []string
	// Events matches any of these event types.
	Events []EventType
	// Since and Until bound the entry time: Since <= Time < Until. A zero
	// value does not bound.
	Since, Until time.Time
}
