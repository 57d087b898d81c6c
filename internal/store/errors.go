package store

import (
	"errors"
	"fmt"
)

// Errors of the store, matched with errors.Is. The typed errors below carry
// the details and match the sentinel of their kind.
var (
	// ErrInvalid means the caller's input breaks the store's rules (a
	// missing field, an id that is too long, a lifetime beyond the cap);
	// the error says which. Not retryable.
	ErrInvalid = errors.New("store: invalid input")
	// ErrExpired means the message's signed expiry has passed.
	ErrExpired = errors.New("store: the message has expired")
	// ErrDuplicate means the thing was done before: the identical message
	// was received already (the error is an *AlreadyReceivedError with the
	// original receipt), or a mailbox message was acknowledged already.
	ErrDuplicate = errors.New("store: already received")
	// ErrConflict means the input contradicts what is stored: another
	// document under a used message id, other content under a stored record
	// id and version, or a record of another authority.
	ErrConflict = errors.New("store: conflict with what is stored")
	// ErrNotFound means there is no such mailbox message for the recipient
	// (whether it does not exist or is another's looks the same).
	ErrNotFound = errors.New("store: not found")
	// ErrOtherDelivery means an acknowledgement names a delivery digest
	// that was never sent for the mailbox message (or no longer is among
	// the deliveries remembered for it). Not retryable.
	ErrOtherDelivery = errors.New("store: the digest names no delivery sent for this mailbox message")
	// ErrUnavailable means the database (or the journal, or the key
	// provider) could not do it now; nothing was written. Retry later.
	ErrUnavailable = errors.New("store: unavailable, retry later")
	// ErrPurged means the personal data asked for was stored but has been
	// purged by retention (Store.Purge): what remains are ids, times and
	// digests.
	ErrPurged = errors.New("store: purged by retention")
	// ErrCorrupt means stored data does not open (a sealed value fails
	// authentication, a data key is missing): an operator must look.
	ErrCorrupt = errors.New("store: stored data is inconsistent")
)

// AlreadyReceivedError answers an identical resubmission: the same sender,
// message id and payload digest were committed before. It matches
// ErrDuplicate.
type AlreadyReceivedError struct {
	// Sender and MessageID name the message.
	Sender, MessageID string
	// Receipt is the receipt committed with the original.
	Receipt []byte
}

// Error implements error.
func (e *AlreadyReceivedError) Error() string {
	return fmt.Sprintf("store: message %q of %s was already received", e.MessageID, e.Sender)
}

// Is makes the error match ErrDuplicate.
func (e *AlreadyReceivedError) Is(target error) bool { return target == ErrDuplicate }

// ConflictError says what a refused intake contradicts; it matches ErrConflict.
type ConflictError struct {
	// MessageID is the intake's message id.
	MessageID string
	// RecordID is the record at fault, or "" for the message id itself.
	RecordID string
	// Reason says what contradicts what, without personal data.
	Reason string
	// NotOwner is set when the record belongs to another authority (the
	// conflict is one of ownership, not of content).
	NotOwner bool
}

// Error implements error.
func (e *ConflictError) Error() string {
	if e.RecordID == "" {
		return fmt.Sprintf("store: message %q: %s", e.MessageID, e.Reason)
	}
	return fmt.Sprintf("store: message %q: record %q: %s", e.MessageID, e.RecordID, e.Reason)
}

// Is makes the error match ErrConflict.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// InputError names the field of the caller's input that breaks a rule; it
// matches ErrInvalid.
type InputError struct {
	// Field is the path of the field ("message.sender", "records[2].body", ...).
	Field string
	// Reason says what is wrong, without repeating the value.
	Reason string
}

// Error implements error.
func (e *InputError) Error() string { return "store: " + e.Field + ": " + e.Reason }

// Is makes the error match ErrInvalid.
func (e *InputError) Is(target error) bool { return target == ErrInvalid }

// UnavailableError is a retryable failure; it matches ErrUnavailable.
type UnavailableError struct {
	// Op is what failed ("commit", "pull", ...).
	Op string
	// Err is the cause.
	Err error
}

// Error implements error.
func (e *UnavailableError) Error() string {
	return "store: unavailable (" + e.Op + "), retry later: " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *UnavailableError) Unwrap() error { return e.Err }

// Is makes the error match ErrUnavailable.
func (e *UnavailableError) Is(target error) bool { return target == ErrUnavailable }

// unavailable wraps err as retryable unless it already is of a kind of ours.
func unavailable(op string, err error) error {
	for _, kind := range []error{ErrInvalid, ErrExpired, ErrDuplicate, ErrConflict, ErrNotFound, ErrOtherDelivery, ErrUnavailable, ErrCorrupt, ErrPurged} {
		if errors.Is(err, kind) {
			return err
		}
	}
	return &UnavailableError{Op: op, Err: err}
}
