// Package adapters holds what every authority format adapter shares: the
// decoded message, its items and the Adapter interface the gateway consumes.
//
// Each format lives in its own package (adapters/region, adapters/municipality,
// adapters/police, adapters/common) and is registered explicitly by the
// binary in a Registry; nothing registers itself.
package adapters

import (
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/psykosocial/exchange/internal/record"
)

// MessageKind is what a message asks of its recipient.
type MessageKind string

// Message kinds carried by every format.
const (
	// KindRegistration carries one or more records (new, or a corrected version).
	KindRegistration MessageKind = "registration"
	// KindWithdrawal carries a withdrawal notice: the recipient must delete the record.
	KindWithdrawal MessageKind = "withdrawal"
)

// Header is the message metadata that the XML formats carry in their signed
// header. JSON formats carry it in the JWS protected header instead, and
// their decoded Message has no Header.
type Header struct {
	// MessageID is the sender's unique id of the message (lower-case UUID).
	MessageID string
	// Sender is the authority id of the sender.
	Sender string
	// Recipient is the authority id of the intended recipient.
	Recipient string
	// IssuedAt is when the message was made.
	IssuedAt time.Time
	// ExpiresAt is when the message stops being valid.
	ExpiresAt time.Time
	// SenderReference is the sender's own reference (case number), when the format carries one.
	SenderReference string
}

// Item is the result for one record of a message: a valid record, or the
// problems that kept it out. A batch (a police list) gives one item per
// person, so that valid persons proceed while invalid ones are rejected
// individually.
type Item struct {
	// Index is the 0-based position of the record in the document.
	Index int
	// Record is the decoded, validated record; nil when Problems is not empty.
	Record *record.Record
	// Problems says why the record was refused, each with its path in the
	// source document (and line where known).
	Problems record.Problems
	// Warnings note lossy mappings that did not refuse the record.
	Warnings []string
}

// Message is a decoded document.
type Message struct {
	// Format is the adapter's format name.
	Format string
	// Kind is registration or withdrawal.
	Kind MessageKind
	// Header is the signed metadata of XML formats; nil for JSON formats.
	Header *Header
	// Items are the records of a registration, in document order.
	Items []Item
	// Withdrawal is the notice of a withdrawal message.
	Withdrawal *record.Withdrawal
}

// Records returns the valid records of m.
func (m *Message) Records() []*record.Record {
	var out []*record.Record
	for _, it := range m.Items {
		if it.Record != nil {
			out = append(out, it.Record)
		}
	}
	return out
}

// Adapter converts one authority format to and from the common record.
//
// Decode returns a Message whose items carry per-record problems; it returns
// an error only when the document as a whole is malformed (and then no
// Message), as record.Problems naming the path and line. Encode writes m in
// the format; records in m must be valid (possibly minimised) records.
type Adapter interface {
	// Format is the adapter's name as the authority directory uses it.
	Format() string
	// Detect reports whether data looks like this format (a cheap sniff of the root).
	Detect(data []byte) bool
	// Decode turns the authority's bytes into common records.
	Decode(data []byte) (*Message, error)
	// Encode turns common records (or a withdrawal) into the authority's bytes.
	Encode(m *Message) ([]byte, error)
}

// ErrUnknownFormat is returned when no registered adapter recognises a document.
var ErrUnknownFormat = errors.New("the document is in no known format")

// Registry is an explicit set of adapters.
type Registry struct {
	list []Adapter
}

// NewRegistry returns a registry of the given adapters, tried in order by Detect.
func NewRegistry(as ...Adapter) (*Registry, error) {
	seen := map[string]bool{}
	for _, a := range as {
		if seen[a.Format()] {
			return nil, fmt.Errorf("adapter %q registered twice", a.Format())
		}
		seen[a.Format()] = true
	}
	return &Registry{list: as}, nil
}

// ByFormat returns the adapter of a format name.
func (r *Registry) ByFormat(format string) (Adapter, bool) {
	for _, a := range r.list {
		if a.Format() == format {
			return a, true
		}
	}
	return nil, false
}

// Detect returns the first adapter that recognises data.
func (r *Registry) Detect(data []byte) (Adapter, error) {
	for _, a := range r.list {
		if a.Detect(data) {
			return a, nil
		}
	}
	return nil, ErrUnknownFormat
}

// Formats lists the registered format names in order.
func (r *Registry) Formats() []string {
	out := make([]string, len(r.list))
	for i, a := range r.list {
		out[i] = a.Format()
	}
	return out
}

// MaxEcho is the most bytes of a sender's own input (an element or member
// name, a namespace, a value, a path built from them) that a problem or an
// error repeats: problems reach the sender's error response and the logs,
// and a hostile document must not make them large.
const MaxEcho = 160

// maxProblemMessage is the longest problem message ClipProblems lets
// through: a sentence that quotes a few clipped names.
const maxProblemMessage = 3 * MaxEcho

// Clip shortens s to at most MaxEcho bytes, cut on a rune boundary and
// marked with "…". Every adapter clips echoed input with it.
func Clip(s string) string { return clipTo(s, MaxEcho) }

// ClipProblems clips the pointer of every problem in ps to MaxEcho bytes
// and its message to three times that, in place, and returns ps. Adapters
// apply it to every problem they return, so that no path or message built
// from a hostile name grows beyond the bound, whichever part built it.
func ClipProblems(ps record.Problems) record.Problems {
	for i := range ps {
		ps[i].Pointer = clipTo(ps[i].Pointer, MaxEcho)
		ps[i].Message = clipTo(ps[i].Message, maxProblemMessage)
	}
	return ps
}

// clipTo shortens s to at most n bytes on a rune boundary, marked with "…".
func clipTo(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// Clipped applies ClipProblems to err, when it is record.Problems, and to
// the problems of every item of m, and returns both. Each adapter's Decode
// returns through it.
func Clipped(m *Message, err error) (*Message, error) {
	var ps record.Problems
	if errors.As(err, &ps) {
		ClipProblems(ps)
	}
	if m != nil {
		for i := range m.Items {
			ClipProblems(m.Items[i].Problems)
		}
	}
	return m, err
}

// ErrInvalidOptions is wrapped by the errors of every adapter's New: a
// missing validator or an option that does not hold.
var ErrInvalidOptions = errors.New("invalid adapter options")

// RuleDuplicateRecord is the rule of a message that holds two records with
// the same record id: which one a recipient keeps would be undefined, so
// the message is malformed and refused whole, in every format.
const RuleDuplicateRecord = "message.duplicate_record"

// maxDuplicateProblems bounds the problems DuplicateRecords lists: a
// hostile list of one record repeated a thousand times earns few.
const maxDuplicateProblems = 20

// DuplicateRecords returns the problems of a message whose records repeat
// a record id, or nil. ids are the record ids in document order ("" where
// a record's id could not be read; never a repeat); where gives the
// pointer and line of record i's id in the document. Each repeat gives a
// problem at the first record with that id and one at the repeat, so that
// both positions are named; at most maxDuplicateProblems are listed.
func DuplicateRecords(ids []string, where func(i int) (pointer string, line int)) record.Problems {
	first := make(map[string]int, len(ids))
	reported := map[int]bool{}
	var ps record.Problems
	for i, id := range ids {
		if id == "" {
			continue
		}
		j, dup := first[id]
		if !dup {
			first[id] = i
			continue
		}
		if len(ps) >= maxDuplicateProblems {
			ps = append(ps, record.Problem{Rule: RuleDuplicateRecord,
				Message: fmt.Sprintf("more records repeat a record id; only the first %d problems are listed", maxDuplicateProblems)})
			break
		}
		if !reported[j] {
			reported[j] = true
			ptr, line := where(j)
			ps = append(ps, record.Problem{Pointer: ptr, Line: line, Rule: RuleDuplicateRecord,
				Message: fmt.Sprintf("record %d has the same record id as record %d: a message holds each record once", j+1, i+1)})
		}
		ptr, line := where(i)
		ps = append(ps, record.Problem{Pointer: ptr, Line: line, Rule: RuleDuplicateRecord,
			Message: fmt.Sprintf("record %d repeats the record id of record %d: a message holds each record once", i+1, j+1)})
	}
	return ps
}
