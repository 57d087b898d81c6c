package pipeline

import (
	"errors"

	"github.com/psykosocial/exchange/internal/envelope"
	"github.com/psykosocial/exchange/internal/fault"
	"github.com/psykosocial/exchange/internal/record"
)

// Problem types the pipeline returns (the last path segment of the problem
// type URI; the catalogue in schemas/openapi.yaml lists them), with their
// kind:
//
//	bad-envelope        ErrMalformed  the JWE or JWS cannot be opened or verified
//	malformed-document  ErrMalformed  the document as a whole cannot be read (no item is judged)
//	too-large           ErrTooLarge   the envelope exceeds its limit
//	signer-mismatch     ErrForbidden  the signer is not the TLS-authenticated authority
//	unknown-authority   ErrForbidden  the sender is not in the directory, or has no format
//	ceased-authority    ErrForbidden  the sender has ceased and its grace period is over
//	replayed-message    ErrInvalid    (reserved: the store answers a used id as below)
//	expired-message     ErrInvalid    the message's signed expiry has passed (or its lifetime is too long)
//	invalid-record      ErrInvalid    a single-record message whose record is invalid
//	message-conflict    ErrConflict   another document under a used message id
//	record-conflict     ErrConflict   a record id and version stored with other content
//	not-owner           ErrConflict   a record that belongs to another authority
//	unknown-record      ErrNotFound   a withdrawal of a record that is not stored
//	mailbox-forbidden   ErrForbidden  a mailbox that is not the caller's own
//	unknown-message     ErrNotFound   a mailbox message id the caller has not got
//	bad-receipt         ErrInvalid / ErrForbidden  an ack whose receipt does not verify, or names another delivery
//	bad-request         ErrInvalid    the caller's parameters are out of range
//	store-unavailable   ErrUnavailable  the database, key provider or journal cannot work now
const (
	TypeBadEnvelope       = "bad-envelope"
	TypeMalformedDocument = "malformed-document"
	TypeTooLarge          = "too-large"
	TypeSignerMismatch    = "signer-mismatch"
	TypeUnknownAuthority  = "unknown-authority"
	TypeCeasedAuthority   = "ceased-authority"
	TypeReplayedMessage   = "replayed-message"
	TypeExpiredMessage    = "expired-message"
	TypeInvalidRecord     = "invalid-record"
	TypeMessageConflict   = "message-conflict"
	TypeRecordConflict    = "record-conflict"
	TypeNotOwner          = "not-owner"
	TypeUnknownRecord     = "unknown-record"
	TypeMailboxForbidden  = "mailbox-forbidden"
	TypeUnknownMessage    = "unknown-message"
	TypeBadReceipt        = "bad-receipt"
	TypeBadRequest        = "bad-request"
	TypeStoreUnavailable  = "store-unavailable"
)

// retryAfter is the wait a client is told when a dependency is down.
const retryAfter = 5

func unavailable(detail string, cause error) *fault.Error {
	e := fault.Wrap(fault.ErrUnavailable, TypeStoreUnavailable, "Temporarily unavailable", detail, cause)
	e.RetryAfter = retryAfter * 1e9
	return e
}

// openFault maps an envelope refusal to a fault.
func openFault(err error) *fault.Error {
	switch {
	case errors.Is(err, envelope.ErrUnavailable):
		return unavailable("the trust store could not be read", err)
	case errors.Is(err, envelope.ErrTooLarge):
		return fault.Wrap(fault.ErrTooLarge, TypeTooLarge, "Too large", "the envelope exceeds its size limit", err)
	case errors.Is(err, envelope.ErrExpired), errors.Is(err, envelope.ErrNotYetValid), errors.Is(err, envelope.ErrLifetime):
		return fault.Wrap(fault.ErrInvalid, TypeExpiredMessage, "Expired message", "the message is outside its validity period", err)
	case errors.Is(err, envelope.ErrIssuer):
		return fault.Wrap(fault.ErrForbidden, TypeSignerMismatch, "Signer mismatch", "the message's issuer is not the authenticated sender", err)
	case errors.Is(err, envelope.ErrUnknownKey), errors.Is(err, envelope.ErrSignature):
		return fault.Wrap(fault.ErrForbidden, TypeSignerMismatch, "Signer mismatch", "no pinned key of the authenticated sender verifies the signature", err)
	}
	var oe *envelope.OpenError
	detail := "the envelope could not be opened"
	if errors.As(err, &oe) {
		detail = "the envelope failed the " + string(oe.Check) + " check"
	}
	return fault.Wrap(fault.ErrMalformed, TypeBadEnvelope, "Bad envelope", detail, err)
}

// malformed is a document refused whole, with its problems.
func malformed(ps record.Problems, cause error) *fault.Error {
	e := fault.Wrap(fault.ErrMalformed, TypeMalformedDocument, "Malformed document", "the document cannot be read as a whole", cause)
	if len(ps) > maxProblems {
		ps = ps[:maxProblems]
	}
	e.Problems = ps
	return e
}

// maxProblems bounds the problems of one error (the adapters bound theirs too).
const maxProblems = 100
