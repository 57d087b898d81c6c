package journal

import (
	"errors"
	"fmt"
)

// Errors of the journal. Match them with errors.Is; the typed errors below
// carry the details and match the sentinel of their kind.
var (
	// ErrUnavailable means the journal could not record the step now: the
	// database failed or timed out, the queue is full, checkpoints are too
	// far behind, or the journal is closing. The step must not happen; the
	// caller may retry later (HTTP 503 with Retry-After).
	ErrUnavailable = errors.New("journal: unavailable, retry later")
	// ErrClosed means the journal has been closed. It also matches ErrUnavailable.
	ErrClosed = errors.New("journal: closed")
	// ErrInvalidEntry means an entry breaks the entry rules: a caller bug,
	// not retryable.
	ErrInvalidEntry = errors.New("journal: invalid entry")
	// ErrMalformedLeaf means bytes are not a canonical leaf of a known version.
	ErrMalformedLeaf = errors.New("journal: malformed leaf")
	// ErrInvalidQuery means a query or its cursor is not acceptable.
	ErrInvalidQuery = errors.New("journal: invalid query")
	// ErrNoCheckpoint means no checkpoint covers what was asked for yet.
	ErrNoCheckpoint = errors.New("journal: no checkpoint yet")
	// ErrInvalidCheckpoint means a checkpoint note does not parse or does
	// not carry a valid signature of the expected key.
	ErrInvalidCheckpoint = errors.New("journal: invalid checkpoint")
	// ErrInvalidKey means a key or secret is not of the required kind or size.
	ErrInvalidKey = errors.New("journal: invalid key")
	// ErrCorrupt means storage returned data that contradicts the tree
	// (a missing node, a hash of the wrong size): an operator must look.
	ErrCorrupt = errors.New("journal: storage is inconsistent")
	// ErrVerify means an export did not verify; the error is a *VerifyError.
	ErrVerify = errors.New("journal: export does not verify")
)

// UnavailableError is a retryable failure to record entries; it matches
// ErrUnavailable (and ErrClosed when the journal was closed).
type UnavailableError struct {
	// Op is what failed ("append", "checkpoint lag", "queue full", ...).
	Op string
	// Err is the cause.
	Err error
}

// Error implements error.
func (e *UnavailableError) Error() string {
	if e.Err == nil {
		return "journal: unavailable (" + e.Op + "), retry later"
	}
	return "journal: unavailable (" + e.Op + "), retry later: " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *UnavailableError) Unwrap() error { return e.Err }

// Is makes the error match ErrUnavailable.
func (e *UnavailableError) Is(target error) bool { return target == ErrUnavailable }

// EntryError names the entry and field that break the entry rules; it
// matches ErrInvalidEntry.
type EntryError struct {
	// Index is the entry's position in the Append call.
	Index int
	// Field is the leaf member name of the offending field ("actor", "fields", ...).
	Field string
	// Reason says what is wrong, without repeating the value.
	Reason string
}

// Error implements error.
func (e *EntryError) Error() string {
	return fmt.Sprintf("journal: entry %d: %s: %s", e.Index, e.Field, e.Reason)
}

// Is makes the error match ErrInvalidEntry.
func (e *EntryError) Is(target error) bool { return target == ErrInvalidEntry }

// LeafError says where bytes stop being a canonical leaf; it matches ErrMalformedLeaf.
type LeafError struct {
	// Offset is the byte offset in the leaf where the problem was seen.
	Offset int
	// Reason says what was expected.
	Reason string
}

// Error implements error.
func (e *LeafError) Error() string {
	return fmt.Sprintf("journal: malformed leaf at byte %d: %s", e.Offset, e.Reason)
}

// Is makes the error match ErrMalformedLeaf.
func (e *LeafError) Is(target error) bool { return target == ErrMalformedLeaf }

// VerifyError says where an export stops verifying; it matches ErrVerify.
type VerifyError struct {
	// Line is the 1-based line of the export where the problem was found
	// (0 when it was found at the end of the export).
	Line int
	// LeafIndex is the index (sequence number) of the first entry that does
	// not verify, or -1 when the problem is not one entry's.
	LeafIndex int64
	// Range, when set, is the half-open range of leaf indices [Range[0],
	// Range[1]) among which an entry was changed together with its hash;
	// the signed root of the checkpoint at Range[1] does not match them.
	Range *[2]uint64
	// Reason says what does not verify.
	Reason string
	// Err is the underlying cause, if any.
	Err error
}

// Error implements error.
func (e *VerifyError) Error() string {
	s := "journal: export does not verify"
	if e.Line > 0 {
		s += fmt.Sprintf(": line %d", e.Line)
	} else {
		s += ": at the end"
	}
	if e.LeafIndex >= 0 {
		s += fmt.Sprintf(": entry %d", e.LeafIndex)
	}
	s += ": " + e.Reason
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *VerifyError) Unwrap() error { return e.Err }

// Is makes the error match ErrVerify.
func (e *VerifyError) Is(target error) bool { return target == ErrVerify }
