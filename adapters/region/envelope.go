package region

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/psykosocial/exchange/adapters"
	"github.com/psykosocial/exchange/internal/record"
)

// span is one record (or notice) of a document: its bytes, where they start
// in the document, and the JSON Pointer of the member that holds it.
type span struct {
	raw     []byte
	off     int
	pointer string
}

// envelope is the top level of a document.
type envelope struct {
	typ        string
	records    []span
	withdrawal *span
}

// envelopeReader reads the top-level object by hand: it finds the bytes of
// each record without decoding them, so that each record is then decoded
// strictly on its own (a problem in one record refuses only that record)
// and the document is not scanned more often than needed. The syntax inside
// a record is checked when the record is decoded; a syntax error there
// still refuses the whole document (see Adapter.Decode).
type envelopeReader struct {
	src  *source
	data []byte
	pos  int
	ps   record.Problems
}

func (r *envelopeReader) add(ptr string, off int, rule, format string, args ...any) {
	r.ps = append(r.ps, record.Problem{Pointer: ptr, Line: r.src.line(off), Rule: rule, Message: fmt.Sprintf(format, args...)})
}

// malformed reports a syntax error. encoding/json describes the first one
// in the document; the reader's own position is the fallback.
func (r *envelopeReader) malformed(ptr string) record.Problems {
	return record.Problems{syntaxProblem(r.src, ptr, r.pos)}
}

// syntaxProblem describes the first syntax error of the document.
func syntaxProblem(src *source, ptr string, fallback int) record.Problem {
	data := src.data
	off, msg := fallback, "malformed JSON"
	dec := json.NewDecoder(bytes.NewReader(data))
	var raw json.RawMessage
	err := dec.Decode(&raw)
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		off, msg = int(se.Offset), "malformed JSON: "+se.Error()
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		off, msg = len(data), "the document ends too early"
	}
	return record.Problem{Pointer: ptr, Line: src.line(off), Rule: "json.syntax", Message: msg}
}

func (r *envelopeReader) ws() {
	for r.pos < len(r.data) {
		switch r.data[r.pos] {
		case ' ', '\t', '\n', '\r':
			r.pos++
		default:
			return
		}
	}
}

// str reads a string at r.pos and returns it unescaped.
func (r *envelopeReader) str() (string, bool) {
	s := scanner{b: r.data, i: r.pos}
	raw, escaped, ok := s.str()
	if !ok {
		return "", false
	}
	start := r.pos
	r.pos = s.i
	if !escaped {
		return string(raw), true
	}
	var out string
	if err := json.Unmarshal(r.data[start:r.pos], &out); err != nil {
		return "", false
	}
	return out, true
}

// skip passes over one value at r.pos without checking what is inside it.
func (r *envelopeReader) skip() bool {
	if r.pos >= len(r.data) {
		return false
	}
	switch r.data[r.pos] {
	case '{', '[':
		s := scanner{b: r.data, i: r.pos}
		ok := s.skip()
		r.pos = s.i
		return ok
	case '"':
		_, ok := r.str()
		return ok
	}
	start := r.pos
	for r.pos < len(r.data) && strings.IndexByte("+-.0123456789Eaeflnrstu", r.data[r.pos]) >= 0 {
		r.pos++
	}
	return r.pos > start
}

// value reads one value as a span.
func (r *envelopeReader) value(ptr string) (span, bool) {
	start := r.pos
	if !r.skip() {
		return span{}, false
	}
	return span{raw: r.data[start:r.pos], off: start, pointer: ptr}, true
}

// readEnvelope checks the top level of data. It returns problems (and no
// envelope) when the document as a whole is malformed.
func readEnvelope(src *source) (*envelope, record.Problems) {
	data := src.data
	r := &envelopeReader{src: src, data: data}
	r.ws()
	if r.pos >= len(data) {
		return nil, r.malformed("")
	}
	if data[r.pos] != '{' {
		if json.Valid(data) {
			r.add("", r.pos, "json.type", "the document must be a JSON object")
			return nil, r.ps
		}
		return nil, r.malformed("")
	}
	r.pos++
	env := &envelope{}
	var seen [4]bool // memberType, memberRecord, memberRecords, memberWithdrawal
	var offs [4]int
	for first := true; ; first = false {
		r.ws()
		if r.pos < len(data) && data[r.pos] == '}' && first {
			r.pos++
			break
		}
		if r.pos >= len(data) || data[r.pos] != '"' {
			return nil, r.malformed("")
		}
		keyOff := r.pos
		key, ok := r.str()
		if !ok {
			return nil, r.malformed("")
		}
		ptr := "/" + escapePointer(key)
		r.ws()
		if r.pos >= len(data) || data[r.pos] != ':' {
			return nil, r.malformed(ptr)
		}
		r.pos++
		r.ws()
		idx := slicesIndex(key)
		if idx >= 0 {
			if seen[idx] {
				r.add(ptr, keyOff, "json.duplicate_key", "member %q appears more than once", key)
				return nil, r.ps
			}
			seen[idx], offs[idx] = true, keyOff
		}
		switch key {
		case memberType:
			if r.pos < len(data) && data[r.pos] == '"' {
				s, ok := r.str()
				if !ok {
					return nil, r.malformed(ptr)
				}
				env.typ = s
			} else {
				if !r.skip() {
					return nil, r.malformed(ptr)
				}
				r.add(ptr, keyOff, "json.type", "must be a string")
			}
		case memberRecord:
			sp, ok := r.value(ptr)
			if !ok {
				return nil, r.malformed(ptr)
			}
			env.records = append(env.records, sp)
		case memberRecords:
			if ps := r.list(ptr, keyOff, env); ps != nil {
				return nil, ps
			}
		case memberWithdrawal:
			sp, ok := r.value(ptr)
			if !ok {
				return nil, r.malformed(ptr)
			}
			env.withdrawal = &sp
		default:
			if known := knownMember(key); known != "" {
				r.add(ptr, keyOff, "json.unknown_field", "unknown member %q (did you mean %q? member names are case-sensitive)", adapters.Clip(key), known)
			} else {
				r.add(ptr, keyOff, "json.unknown_field", "unknown member %q", adapters.Clip(key))
			}
			if len(r.ps) >= maxProblems {
				return nil, r.ps
			}
			if !r.skip() {
				return nil, r.malformed(ptr)
			}
		}
		r.ws()
		if r.pos < len(data) && data[r.pos] == ',' {
			r.pos++
			continue
		}
		if r.pos < len(data) && data[r.pos] == '}' {
			r.pos++
			break
		}
		return nil, r.malformed("")
	}
	r.ws()
	if r.pos != len(data) {
		r.add("", r.pos, "json.syntax", "unexpected data after the top-level object")
		return nil, r.ps
	}
	if len(r.ps) > 0 {
		return nil, r.ps
	}
	haveType, haveRecord, haveRecords := seen[0], seen[1], seen[2]
	switch {
	case !haveType:
		r.add("/"+memberType, 0, "schema.required", "is required: %s or %s", TypeRegistration, TypeWithdrawal)
	case env.typ == TypeRegistration:
		switch {
		case haveRecord && haveRecords:
			r.add("/"+memberRecords, offs[2], "schema.forbidden", "must be absent: the document already has %q (one record) and holds either one record or a list", memberRecord)
		case !haveRecord && !haveRecords:
			r.add("/"+memberRecord, 0, "schema.required", "is required (or %q, a list of records) in a registration", memberRecords)
		}
		if env.withdrawal != nil {
			r.add("/"+memberWithdrawal, offs[3], "schema.forbidden", "must be absent: the document is a registration (%s)", TypeRegistration)
		}
	case env.typ == TypeWithdrawal:
		if haveRecord {
			r.add("/"+memberRecord, offs[1], "schema.forbidden", "must be absent: the document is a withdrawal notice (%s)", TypeWithdrawal)
		}
		if haveRecords {
			r.add("/"+memberRecords, offs[2], "schema.forbidden", "must be absent: the document is a withdrawal notice (%s)", TypeWithdrawal)
		}
		if env.withdrawal == nil {
			r.add("/"+memberWithdrawal, 0, "schema.required", "is required in a withdrawal notice")
		}
	default:
		r.add("/"+memberType, offs[0], "schema.enum", "must be %s or %s", TypeRegistration, TypeWithdrawal)
	}
	if len(r.ps) > 0 {
		return nil, r.ps
	}
	return env, nil
}

// slicesIndex is the index of a top-level member name in the seen array.
func slicesIndex(key string) int {
	switch key {
	case memberType:
		return 0
	case memberRecord:
		return 1
	case memberRecords:
		return 2
	case memberWithdrawal:
		return 3
	}
	return -1
}

// list reads the array of records.
func (r *envelopeReader) list(ptr string, keyOff int, env *envelope) record.Problems {
	if r.pos >= len(r.data) || r.data[r.pos] != '[' {
		if !r.skip() {
			return r.malformed(ptr)
		}
		r.add(ptr, keyOff, "json.type", "must be an array of records")
		return r.ps
	}
	r.pos++
	r.ws()
	if r.pos < len(r.data) && r.data[r.pos] == ']' {
		r.pos++
		r.add(ptr, keyOff, "schema.min_items", "must hold at least one record")
		return r.ps
	}
	for {
		r.ws()
		if len(env.records) >= MaxRecords {
			r.add(ptr, r.pos, "json.limit", "holds more than %d records", MaxRecords)
			return r.ps
		}
		sp, ok := r.value(ptr + "/" + strconv.Itoa(len(env.records)))
		if !ok {
			return r.malformed(ptr)
		}
		env.records = append(env.records, sp)
		r.ws()
		if r.pos < len(r.data) && r.data[r.pos] == ',' {
			r.pos++
			continue
		}
		if r.pos < len(r.data) && r.data[r.pos] == ']' {
			r.pos++
			return nil
		}
		return r.malformed(ptr)
	}
}

// knownMember returns the top-level member that key matches only
// case-insensitively, or "".
func knownMember(key string) string {
	for _, m := range []string{memberType, memberRecord, memberRecords, memberWithdrawal} {
		if strings.EqualFold(key, m) {
			return m
		}
	}
	return ""
}
