package region

import (
	"bytes"
	"encoding/json"
	"sort"
	"strconv"
	"strings"
)

// valueKind is what the scanner found at a member.
type valueKind int

const (
	kindOther       valueKind = iota // a number, true, false, a non-empty string, a non-empty object
	kindObject                       // an object (reported before its members)
	kindArray                        // a non-empty array (reported before its items)
	kindNull                         // null
	kindEmptyString                  // ""
	kindEmptyArray                   // []
)

// segment is one step of the path to the current member: an object key
// (as written, still escaped when escaped is set) or an array index.
type segment struct {
	key     []byte
	index   int
	escaped bool
}

// scanner walks a syntactically valid JSON value and reports every member
// with its byte offset, building the JSON Pointer only when asked. It
// allocates nothing on its own, so the decoder can run it over every record
// to find what strict decoding does not refuse (null, "" and []). It never
// panics on invalid input: it stops.
type scanner struct {
	b    []byte
	i    int
	path []segment
	// visit is called for every value: off is the offset of its member key
	// (of the value itself for array items and the root).
	visit func(s *scanner, off int, k valueKind)
}

// scan walks b from its start.
func (s *scanner) scan() {
	s.i = 0
	s.path = s.path[:0]
	s.value(0, 0)
}

// pointer is the JSON Pointer of the current member.
func (s *scanner) pointer() string {
	var b strings.Builder
	for _, seg := range s.path {
		b.WriteByte('/')
		if seg.key == nil {
			b.WriteString(strconv.Itoa(seg.index))
			continue
		}
		key := string(seg.key)
		if seg.escaped {
			var k string
			if err := json.Unmarshal(append(append([]byte{'"'}, seg.key...), '"'), &k); err == nil {
				key = k
			}
		}
		b.WriteString(escapePointer(key))
	}
	return b.String()
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// value scans one value; off is the offset reported for it.
func (s *scanner) value(off, depth int) bool {
	s.ws()
	if s.i >= len(s.b) {
		return false
	}
	switch s.b[s.i] {
	case '{':
		s.visit(s, off, kindObject)
		if depth >= maxScanDepth {
			return s.skip()
		}
		s.i++
		for {
			s.ws()
			if s.i >= len(s.b) {
				return false
			}
			switch s.b[s.i] {
			case '}':
				s.i++
				return true
			case ',':
				s.i++
				continue
			case '"':
			default:
				return false
			}
			keyOff := s.i
			key, escaped, ok := s.str()
			if !ok {
				return false
			}
			s.ws()
			if s.i >= len(s.b) || s.b[s.i] != ':' {
				return false
			}
			s.i++
			s.path = append(s.path, segment{key: key, escaped: escaped})
			ok = s.value(keyOff, depth+1)
			s.path = s.path[:len(s.path)-1]
			if !ok {
				return false
			}
		}
	case '[':
		start := s.i
		s.i++
		s.ws()
		if s.i < len(s.b) && s.b[s.i] == ']' {
			s.i++
			s.visit(s, off, kindEmptyArray)
			return true
		}
		s.i = start
		s.visit(s, off, kindArray)
		if depth >= maxScanDepth {
			return s.skip()
		}
		s.i++
		for n := 0; ; {
			s.ws()
			if s.i >= len(s.b) {
				return false
			}
			switch s.b[s.i] {
			case ']':
				s.i++
				return true
			case ',':
				s.i++
				continue
			}
			s.path = append(s.path, segment{index: n})
			ok := s.value(s.i, depth+1)
			s.path = s.path[:len(s.path)-1]
			if !ok {
				return false
			}
			n++
		}
	case '"':
		str, _, ok := s.str()
		if ok {
			k := kindOther
			if len(str) == 0 {
				k = kindEmptyString
			}
			s.visit(s, off, k)
		}
		return ok
	default:
		start := s.i
		for s.i < len(s.b) && !strings.ContainsRune(",]} \t\r\n", rune(s.b[s.i])) {
			s.i++
		}
		if s.i == start {
			return false
		}
		k := kindOther
		if string(s.b[start:s.i]) == "null" {
			k = kindNull
		}
		s.visit(s, off, k)
		return true
	}
}

// str reads a string at s.i and returns its raw content (without quotes)
// and whether it holds escapes.
func (s *scanner) str() (raw []byte, escaped, ok bool) {
	start := s.i + 1
	for j := start; j < len(s.b); j++ {
		switch s.b[j] {
		case '\\':
			escaped = true
			j++
		case '"':
			s.i = j + 1
			return s.b[start:j], escaped, true
		}
	}
	return nil, false, false
}

// skip passes over one object or array without reporting its members.
func (s *scanner) skip() bool {
	depth := 0
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case '"':
			if _, _, ok := s.str(); !ok {
				return false
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				s.i++
				return true
			}
		}
		s.i++
	}
	return false
}

// escapePointer escapes one JSON Pointer reference token (RFC 6901).
func escapePointer(s string) string {
	if !strings.ContainsAny(s, "~/") {
		return s
	}
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(s)
}

// located is a member found by locate.
type located struct {
	pointer string
	offset  int
}

// emptyMembers returns the members of raw (a valid JSON value) that strict
// decoding lets through but the format refuses: null, "" and [] values.
// It allocates only when it finds one.
func emptyMembers(raw []byte) (nulls, empties []located) {
	if !mayHoldEmpty(raw) {
		return nil, nil
	}
	s := scanner{b: raw, path: make([]segment, 0, 8)}
	s.visit = func(s *scanner, off int, k valueKind) {
		if len(nulls)+len(empties) >= maxProblems {
			return
		}
		switch k {
		case kindNull:
			nulls = append(nulls, located{s.pointer(), off})
		case kindEmptyString, kindEmptyArray:
			empties = append(empties, located{s.pointer(), off})
		}
	}
	s.scan()
	return nulls, empties
}

// mayHoldEmpty is a fast test that raw holds no null, "" or []: it looks
// for the bytes only, so text inside strings can make it say true.
func mayHoldEmpty(raw []byte) bool {
	if bytes.Contains(raw, []byte("null")) || bytes.Contains(raw, []byte(`""`)) {
		return true
	}
	for i := bytes.IndexByte(raw, '['); i >= 0; {
		j := i + 1
		for j < len(raw) && (raw[j] == ' ' || raw[j] == '\t' || raw[j] == '\n' || raw[j] == '\r') {
			j++
		}
		if j < len(raw) && raw[j] == ']' {
			return true
		}
		k := bytes.IndexByte(raw[j:], '[')
		if k < 0 {
			break
		}
		i = j + k
	}
	return false
}

// offsets returns the offset of every member of raw by its JSON Pointer.
func offsets(raw []byte) map[string]int {
	m := make(map[string]int)
	s := scanner{b: raw}
	s.visit = func(s *scanner, off int, _ valueKind) {
		m[s.pointer()] = off
	}
	s.scan()
	return m
}

// source is the document being decoded, with an index of its lines that
// is built the first time a problem needs a line number.
type source struct {
	data     []byte
	newlines []int // offsets of the '\n' bytes, once indexed
	indexed  bool
}

// line is the 1-based line of byte offset off.
func (s *source) line(off int) int {
	if off < 0 {
		return 0
	}
	if !s.indexed {
		s.indexed = true
		for i, ch := range s.data {
			if ch == '\n' {
				s.newlines = append(s.newlines, i)
			}
		}
	}
	return sort.SearchInts(s.newlines, off) + 1
}
