package journal

import "time"

// Limits of the journal. Every input is bounded here; a missing limit is a bug.
// MaxTxEntries is the most entries one append inside the caller's
// transaction (PrepareAppend) takes: the entries of one whole message,
// which the service commits with the message itself. A police list of
// 2,000 persons yields about 30,000 (one received, routed per candidate,
// withheld per refused purpose, queued per recipient); the bound leaves
// room for the fullest consent and keeps one batch's tree work and memory
// (about 1 KiB an entry) bounded. The service refuses a message that would
// yield more before it commits anything (internal/pipeline).
const MaxTxEntries = 100_000

const (
	// maxIDBytes bounds record, message and incident ids: UUIDs and JWT ids
	// are far shorter; the bound keeps a hostile id from bloating every leaf.
	maxIDBytes = 128
	// maxAuthorityBytes bounds an authority id ("municipality:0101",
	// "police:nordjylland"); the longest real one is about 30 bytes.
	maxAuthorityBytes = 64
	// maxConsentBytes bounds the consent rule id, policy version and clause.
	maxConsentBytes = 128
	// maxReasonBytes bounds the free-text reason of an entry.
	maxReasonBytes = 512
	// maxFields bounds the field paths disclosed by one step: the common
	// record has about 40 members.
	maxFields = 128
	// maxClauses bounds the consent clause pointers of one decision: the
	// consent package names two (role and purpose).
	maxClauses = 16
	// maxFieldPathBytes bounds one JSON Pointer (field path or clause).
	maxFieldPathBytes = 128
	// maxLeafBytes bounds the encoded leaf; with the limits above a leaf
	// never exceeds about 18 KiB, so anything larger is not ours.
	maxLeafBytes = 32 << 10
	// maxExportLineBytes bounds one line of an export: a leaf, its hash and
	// an inclusion proof of at most 64 hashes.
	maxExportLineBytes = 64 << 10
	// maxNoteBytes bounds a signed checkpoint note: a few short lines and
	// signatures (the note package's own limit is 1 MiB, far above ours).
	maxNoteBytes = 8 << 10
	// maxOriginBytes bounds the checkpoint origin (also the note key name).
	maxOriginBytes = 255
	// maxBatchEntries bounds the entries of one Append call and of one
	// group-commit transaction of the journal's own writer.
	maxBatchEntries = 10_000
	// maxPageSize bounds one page of query results.
	maxPageSize = 1000
	// maxSubjectsPerQuery bounds the subject references of one query: one
	// per HMAC key ever used, so a handful.
	maxSubjectsPerQuery = 16
	// maxScopePerQuery bounds the authorities of Filter.Scope.
	maxScopePerQuery = 16
	// maxEventsPerQuery bounds the event types of one query.
	maxEventsPerQuery = 32
	// maxTreeSize bounds the tree: leaf indices must stay below 2^62 so that
	// they fit a signed 64-bit database column.
	maxTreeSize = 1 << 62
	// exportChunk is how many leaves Export reads from storage at a time.
	exportChunk = 5000
	// batchLines and batchBytes bound the run of export lines that Verify
	// hands to one worker: large enough to amortise the hand-over, small
	// enough to keep memory flat.
	batchLines = 512
	batchBytes = 1 << 20
	// maxVerifyWorkers bounds the goroutines that check export lines.
	maxVerifyWorkers = 8
	// minSubjectSecretBytes is the shortest HMAC secret accepted: the full
	// 256-bit strength of HMAC-SHA-256.
	minSubjectSecretBytes = 32
	// maxSubjectSecretBytes is the longest HMAC secret accepted (longer
	// secrets are hashed by HMAC anyway).
	maxSubjectSecretBytes = 1024
	// maxSubjectNameBytes bounds the name that a subject reference is
	// computed from.
	maxSubjectNameBytes = 1024
)

// Defaults of Config, applied by Config.withDefaults.
const (
	// defaultCheckpointEvery signs a checkpoint at every multiple of 1,000
	// entries.
	defaultCheckpointEvery = 1000
	// defaultCheckpointInterval signs a checkpoint at least every 10 seconds
	// while entries arrive.
	defaultCheckpointInterval = 10 * time.Second
	// defaultMaxUnsigned stops appends (fail closed) when 250,000 entries
	// wait for a checkpoint: the signer has been failing for a long time.
	// It is well above MaxTxEntries, so that the largest message fits
	// while a checkpoint or two are still being signed.
	defaultMaxUnsigned = 250_000
	// defaultMaxBatch is the largest group-commit transaction.
	defaultMaxBatch = 2000
	// defaultQueueEntries bounds the entries waiting for the writer; beyond
	// it Append fails fast with ErrUnavailable (backpressure).
	defaultQueueEntries = 50_000
	// defaultWriteTimeout bounds one append transaction.
	defaultWriteTimeout = 10 * time.Second
	// defaultSignTimeout bounds one checkpoint signature and its storage.
	defaultSignTimeout = 10 * time.Second
	// defaultPageSize is the page size of a query that names none.
	defaultPageSize = 100
)
