// Package fault is the gateway's one error taxonomy: a small set of kinds
// that every layer wraps its errors in and that callers match with
// errors.Is, and the Error type that carries what a client may be told.
// The HTTP layer maps each kind to one status and one problem+json shape
// (RFC 9457) in one place; below it nothing knows about HTTP.
//
// A client never sees its own hostile input echoed back unbounded (Detail
// and the problems' pointers are clipped by the layer that makes them), nor
// another authority's data.
package fault

import (
	"errors"
	"time"

	"github.com/psykosocial/exchange/internal/record"
)

// Kinds. Each maps to one HTTP status (see gateway): the mapping is the
// contract, so a kind is never reused for another meaning.
var (
	// ErrMalformed: the request itself cannot be read (bad JOSE, not
	// UTF-8, a malformed document): 400.
	ErrMalformed = errors.New("malformed request")
	// ErrUnauthenticated: no client certificate, or one the trust store
	// does not accept: 401.
	ErrUnauthenticated = errors.New("unauthenticated")
	// ErrForbidden: an authenticated authority asks for what is not its
	// own (another's mailbox, a signer other than the TLS client, a ceased
	// authority past its grace period, a DPO query from a non-DPO): 403.
	ErrForbidden = errors.New("forbidden")
	// ErrNotFound: no such resource for this caller: 404.
	ErrNotFound = errors.New("not found")
	// ErrConflict: a used message id with another document, a record id
	// and version stored with other content, a record owned by another
	// authority: 409.
	ErrConflict = errors.New("conflict")
	// ErrTooLarge: the body exceeds a limit: 413.
	ErrTooLarge = errors.New("too large")
	// ErrUnsupportedMedia: a content type the route does not take: 415.
	ErrUnsupportedMedia = errors.New("unsupported media type")
	// ErrInvalid: a readable message whose content breaks a rule (a record
	// that fails validation, an expired or replayed message, an unknown
	// recipient): 422, with the problems.
	ErrInvalid = errors.New("invalid content")
	// ErrUnavailable: a dependency is down (database, key provider,
	// journal signer), or the gateway is full; retry later: 503 with
	// Retry-After.
	ErrUnavailable = errors.New("temporarily unavailable")
	// ErrRateLimited: the authority has its share of the gateway's work in
	// progress; retry later: 429 with Retry-After.
	ErrRateLimited = errors.New("rate limited")
)

// Error is an error a client may be told about: its kind, a stable problem
// type from the catalogue (the last path segment of the problem type URI,
// e.g. "signer-mismatch"), a title, a detail sentence, the problems of an
// invalid document, and for ErrUnavailable how long to wait.
type Error struct {
	// Kind is one of the kinds above.
	Kind error
	// Type is the problem type's stable name, e.g. "replayed-message".
	Type string
	// Title is the problem type's short, fixed title.
	Title string
	// Detail says what is wrong with this request; bounded, no other
	// authority's data.
	Detail string
	// Problems lists the problems of an invalid document (pointer, rule,
	// message), each bounded.
	Problems record.Problems
	// RetryAfter is the wait before a retry (ErrUnavailable, ErrRateLimited).
	RetryAfter time.Duration
	// Err is the underlying cause, for logs; never shown to the client.
	Err error
}

// Error returns the kind, type and detail.
func (e *Error) Error() string {
	s := e.Kind.Error() + ": " + e.Type
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap lets errors.Is match the kind and the cause.
func (e *Error) Unwrap() []error {
	if e.Err != nil {
		return []error{e.Kind, e.Err}
	}
	return []error{e.Kind}
}

// New returns an Error of kind with the problem type, title and detail.
func New(kind error, typ, title, detail string) *Error {
	return &Error{Kind: kind, Type: typ, Title: title, Detail: detail}
}

// Wrap returns an Error of kind around cause.
func Wrap(kind error, typ, title, detail string, cause error) *Error {
	return &Error{Kind: kind, Type: typ, Title: title, Detail: detail, Err: cause}
}

// As returns the *Error in err's chain, if there is one.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
