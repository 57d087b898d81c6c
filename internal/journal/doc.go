// Package journal is the gateway's audit journal: an append-only,
// tamper-evident record of every step of every exchange, which a
// data-protection officer (DPO) can query and verify offline.
//
// # Entries
//
// An [Entry] records one step: its event type (received, routed, queued,
// delivered, withdrawn, ...), the acting authority and its counterpart, the
// recipient role and purpose, the record, message and incident it concerns,
// the consent decision that allowed or withheld it, the field paths
// disclosed, the SHA-256 digest of the signed payload, and the outcome. It
// never holds personal data in clear: the person is named by a
// [Subject], a keyed HMAC-SHA-256 of the CPR number (or of the normalised
// name and birth date), computed by [SubjectKeys].
//
// Each entry is encoded once, at append, into its leaf bytes: a frozen,
// versioned, canonical JSON object (see [MarshalLeaf] and README.md) that an
// independent tool can recompute from the fields and hash.
//
// # Tamper evidence
//
// The leaves form an RFC 9162 Merkle tree (hashed with
// github.com/transparency-dev/merkle). The [Journal] signs checkpoints of the
// tree in the C2SP tlog-checkpoint format inside a C2SP signed note, with a
// dedicated Ed25519 key (the standard note signature of
// golang.org/x/mod/sumdb/note), at every multiple of a configured number of
// entries and whenever a configured interval passes with unsigned entries.
// Every checkpoint is kept. [Reader.InclusionProof] and
// [Reader.ConsistencyProof] prove an entry's inclusion in a checkpoint and
// one checkpoint's consistency with a later one.
//
// # Fail closed
//
// [Journal.Append] returns only once the entries are durable (committed),
// or with an error that matches [ErrUnavailable] when they could not be
// written: the caller must then not perform the step, and may retry. Appends
// are grouped into one transaction per batch (group commit).
//
// # Storage
//
// The journal keeps its rows in the service's own database through the
// small interfaces of this package ([Appender], [TreeReader],
// [CheckpointStore], [EntryReader]); package journal/sqlite implements them
// on SQLite and package journal/postgres on PostgreSQL, where several
// gateway processes can append to one journal and the sequence stays total
// and gap-free.
//
// # Export and offline verification
//
// [Reader.Export] writes a journal (or a query's result) as JSON Lines together
// with its signed checkpoints; [Verify] checks such an export against the
// journal's public key without any access to the gateway: every leaf hash,
// the tree, every checkpoint signature, and the consistency of consecutive
// checkpoints. It names the first entry or checkpoint that does not verify.
package journal
