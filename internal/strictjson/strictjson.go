// Package strictjson decodes security-relevant JSON documents strictly.
//
// Go's encoding/json accepts three things a signed or journaled document must
// not contain: duplicate object keys (the last one wins), keys that match a
// struct field only case-insensitively, and (unless asked) unknown fields.
// Unmarshal refuses all three before it lets encoding/json fill the value,
// and reports every refusal with an RFC 6901 JSON Pointer to the offending
// member, so that an adapter can name the field that is wrong.
package strictjson

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Limits bound the shape of a document before any of it is decoded.
type Limits struct {
	// MaxBytes is the largest document accepted; 0 means 1 MiB.
	MaxBytes int
	// MaxDepth is the deepest nesting of objects and arrays; 0 means 32.
	MaxDepth int
	// MaxArray is the longest array accepted anywhere; 0 means 10,000.
	MaxArray int
	// RejectEmptyStrings refuses "" as a member value: in documents where
	// every string means something, an empty one is omitted, not sent.
	RejectEmptyStrings bool
	// RejectNull refuses null as a value: encoding/json treats it as an
	// absent member, but the schemas do not allow it.
	RejectNull bool
}

func (l Limits) withDefaults() Limits {
	if l.MaxBytes == 0 {
		l.MaxBytes = 1 << 20
	}
	if l.MaxDepth == 0 {
		l.MaxDepth = 32
	}
	if l.MaxArray == 0 {
		l.MaxArray = 10_000
	}
	return l
}

// Error is a refusal of one member of the document.
type Error struct {
	// Pointer is the RFC 6901 JSON Pointer of the member ("" is the whole document).
	Pointer string
	// Rule is a stable machine-readable name of the broken rule, such as
	// "json.duplicate_key", "json.unknown_field", "json.type", "json.syntax", "json.limit".
	Rule string
	// Message is a human sentence that names the problem.
	Message string
	// Offset is the byte offset in the input where the problem was seen, or -1.
	Offset int64
}

// Error implements error.
func (e *Error) Error() string {
	if e.Pointer == "" {
		return e.Message
	}
	return e.Pointer + ": " + e.Message
}

// Unmarshal decodes data into v (a pointer to a struct, slice or map) after
// checking that the document is a single JSON value within limits, that
// every string is valid UTF-8, that no object repeats a key, and that every
// object key names a field of the Go type exactly (json tag, same case).
// Types that implement json.Unmarshaler or encoding.TextUnmarshaler (times,
// dates) are decoded once here so that their error names the member.
// The returned error is an *Error.
func Unmarshal(data []byte, v any, lim Limits) error {
	lim = lim.withDefaults()
	if len(data) > lim.MaxBytes {
		return &Error{Rule: "json.limit", Offset: -1,
			Message: fmt.Sprintf("document is %d bytes, the limit is %d", len(data), lim.MaxBytes)}
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return &Error{Rule: "json.type", Offset: -1, Message: "strictjson: Unmarshal needs a non-nil pointer"}
	}
	s := scanner{data: data, lim: lim}
	s.ws()
	if err := s.value(rv.Type().Elem(), rv.Elem(), 0); err != nil {
		return err
	}
	s.ws()
	if s.pos != len(s.data) {
		return s.fail("json.syntax", "unexpected data after the top-level value")
	}
	return nil
}

func convert(err error) *Error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		p := ""
		if te.Field != "" {
			for _, part := range strings.Split(te.Field, ".") {
				p += "/" + escape(part)
			}
		}
		return &Error{Pointer: p, Rule: "json.type", Offset: te.Offset,
			Message: fmt.Sprintf("expected %s, found a JSON %s", describe(te.Type), te.Value)}
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return &Error{Rule: "json.syntax", Offset: se.Offset, Message: "malformed JSON: " + se.Error()}
	}
	return &Error{Rule: "json.value", Offset: -1, Message: err.Error()}
}

func describe(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return t.String()
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
	timeType        = reflect.TypeFor[time.Time]()
)

func selfDecoding(t reflect.Type) bool {
	p := reflect.PointerTo(t)
	return t.Implements(jsonUnmarshaler) || p.Implements(jsonUnmarshaler) ||
		t.Implements(textUnmarshaler) || p.Implements(textUnmarshaler)
}

// scanner checks a JSON document byte by byte against a Go type. It keeps
// the path as a stack of segments and builds a pointer only on failure.
type scanner struct {
	data []byte
	pos  int
	lim  Limits
	path []string
}

func (s *scanner) pointer() string {
	var b strings.Builder
	for _, p := range s.path {
		b.WriteByte('/')
		b.WriteString(escape(p))
	}
	return b.String()
}

func (s *scanner) fail(rule, msg string) error {
	return &Error{Pointer: s.pointer(), Rule: rule, Message: msg, Offset: int64(s.pos)}
}

func (s *scanner) ws() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// value checks one JSON value whose Go destination type is t (nil: any
// value; only syntax, strings and duplicate keys are checked) and, when dst
// is valid (settable, of type t), stores it there as encoding/json would.
func (s *scanner) value(t reflect.Type, dst reflect.Value, depth int) error {
	if s.pos >= len(s.data) {
		return s.fail("json.syntax", "the document ends too early")
	}
	if t != nil && t.Kind() == reflect.Pointer {
		if s.data[s.pos] == 'n' {
			if err := s.null(); err != nil {
				return err
			}
			if dst.IsValid() {
				dst.SetZero()
			}
			return nil
		}
		if dst.IsValid() {
			if dst.IsNil() {
				dst.Set(reflect.New(t.Elem()))
			}
			dst = dst.Elem()
		}
		return s.value(t.Elem(), dst, depth)
	}
	if t != nil && (t.Kind() == reflect.Interface || selfDecodingCached(t) || t.Kind() == reflect.Array ||
		(t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8)) {
		// Decoded by encoding/json from the checked bytes: interfaces,
		// byte slices (base64) and types that decode themselves.
		start := s.pos
		if err := s.value(nil, reflect.Value{}, depth); err != nil {
			return err
		}
		return s.delegate(t, dst, s.data[start:s.pos])
	}
	switch c := s.data[s.pos]; {
	case c == '{':
		if depth+1 > s.lim.MaxDepth {
			return s.fail("json.limit", fmt.Sprintf("nesting deeper than %d levels", s.lim.MaxDepth))
		}
		if t != nil && t.Kind() != reflect.Struct && t.Kind() != reflect.Map {
			return s.typeError(t, "object")
		}
		return s.object(t, dst, depth+1)
	case c == '[':
		if depth+1 > s.lim.MaxDepth {
			return s.fail("json.limit", fmt.Sprintf("nesting deeper than %d levels", s.lim.MaxDepth))
		}
		if t != nil && t.Kind() != reflect.Slice {
			return s.typeError(t, "array")
		}
		return s.array(t, dst, depth+1)
	case c == '"':
		start := s.pos
		str, err := s.str()
		if err != nil {
			return err
		}
		if len(str) == 0 && s.lim.RejectEmptyStrings {
			return s.fail("json.empty", "must not be empty: omit the member instead")
		}
		if t == nil {
			return nil
		}
		if t.Kind() != reflect.String {
			return s.typeError(t, "string")
		}
		if dst.IsValid() {
			if bytes.IndexByte(str, '\\') < 0 {
				dst.SetString(string(str))
			} else {
				var u string
				if err := json.Unmarshal(s.data[start:s.pos], &u); err != nil {
					return s.fail("json.syntax", "malformed JSON: bad string")
				}
				dst.SetString(u)
			}
		}
		return nil
	case c == 't', c == 'f':
		word := "true"
		if c == 'f' {
			word = "false"
		}
		if err := s.literal(word); err != nil {
			return err
		}
		if t == nil {
			return nil
		}
		if t.Kind() != reflect.Bool {
			return s.typeError(t, "bool")
		}
		if dst.IsValid() {
			dst.SetBool(c == 't')
		}
		return nil
	case c == 'n':
		// null leaves a non-pointer value as it is, as encoding/json does.
		return s.null()
	case c == '-' || (c >= '0' && c <= '9'):
		start := s.pos
		if err := s.number(); err != nil {
			return err
		}
		if t == nil {
			return nil
		}
		return s.setNumber(t, dst, string(s.data[start:s.pos]))
	}
	return s.fail("json.syntax", "malformed JSON: expected a value")
}

func (s *scanner) null() error {
	if err := s.literal("null"); err != nil {
		return err
	}
	if s.lim.RejectNull {
		return s.fail("json.null", "must not be null: omit the member instead")
	}
	return nil
}

func (s *scanner) typeError(t reflect.Type, found string) error {
	return s.fail("json.type", fmt.Sprintf("expected %s, found a JSON %s", describe(t), found))
}

// setNumber stores a JSON number literal into an integer or float value.
func (s *scanner) setNumber(t reflect.Type, dst reflect.Value, lit string) error {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(lit, 10, t.Bits())
		if err != nil {
			return s.fail("json.type", fmt.Sprintf("expected %s, found the JSON number %s", describe(t), short(lit)))
		}
		if dst.IsValid() {
			dst.SetInt(n)
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, err := strconv.ParseUint(lit, 10, t.Bits())
		if err != nil {
			return s.fail("json.type", fmt.Sprintf("expected %s, found the JSON number %s", describe(t), short(lit)))
		}
		if dst.IsValid() {
			dst.SetUint(n)
		}
	case reflect.Float32, reflect.Float64:
		f, err := strconv.ParseFloat(lit, t.Bits())
		if err != nil {
			return s.fail("json.type", fmt.Sprintf("expected %s, found the JSON number %s", describe(t), short(lit)))
		}
		if dst.IsValid() {
			dst.SetFloat(f)
		}
	default:
		return s.typeError(t, "number")
	}
	return nil
}

// delegate decodes raw (already checked) with encoding/json into dst.
func (s *scanner) delegate(t reflect.Type, dst reflect.Value, raw []byte) error {
	if t == timeType {
		var tm time.Time
		if !isRFC3339(raw) || tm.UnmarshalJSON(raw) != nil {
			return s.fail("json.value", "not an RFC 3339 date-time with a time zone (such as 2026-11-25T14:30:00+01:00)")
		}
		// A time that cannot be written back (its UTC year outside 0000-9999)
		// is refused here, so that every decoded value can be encoded again.
		if y := tm.UTC().Year(); y < 0 || y > 9999 {
			return s.fail("json.value", "a date-time whose UTC year lies outside 0000-9999")
		}
		if dst.IsValid() {
			dst.Set(reflect.ValueOf(tm))
		}
		return nil
	}
	target := reflect.New(t)
	if dst.IsValid() && dst.CanAddr() {
		target = dst.Addr()
	}
	if err := json.Unmarshal(raw, target.Interface()); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return s.fail("json.type", fmt.Sprintf("expected %s, found a JSON %s", describe(te.Type), te.Value))
		}
		return s.fail("json.value", err.Error())
	}
	if dst.IsValid() && !dst.CanAddr() {
		dst.Set(target.Elem())
	}
	return nil
}

// isRFC3339 checks the exact RFC 3339 date-time grammar of a JSON string
// (time.Parse also accepts one-digit hours, which the schemas refuse):
// "YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)".
func isRFC3339(raw []byte) bool {
	if len(raw) < 22 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return false
	}
	b := raw[1 : len(raw)-1]
	digits := func(from, to int) bool {
		for i := from; i < to; i++ {
			if b[i] < '0' || b[i] > '9' {
				return false
			}
		}
		return true
	}
	if !digits(0, 4) || b[4] != '-' || !digits(5, 7) || b[7] != '-' || !digits(8, 10) ||
		(b[10] != 'T' && b[10] != 't') || !digits(11, 13) || b[13] != ':' || !digits(14, 16) || b[16] != ':' || !digits(17, 19) {
		return false
	}
	rest := b[19:]
	if len(rest) > 0 && rest[0] == '.' {
		n := 1
		for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
			n++
		}
		if n == 1 {
			return false
		}
		rest = rest[n:]
	}
	switch {
	case len(rest) == 1 && (rest[0] == 'Z' || rest[0] == 'z'):
		return true
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		return rest[1] >= '0' && rest[1] <= '9' && rest[2] >= '0' && rest[2] <= '9' &&
			rest[4] >= '0' && rest[4] <= '9' && rest[5] >= '0' && rest[5] <= '9'
	}
	return false
}

// short bounds a name quoted in a message: member names come from the
// document and may be long.
func short(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func (s *scanner) literal(word string) error {
	if !bytes.HasPrefix(s.data[s.pos:], []byte(word)) {
		return s.fail("json.syntax", "malformed JSON: expected a value")
	}
	s.pos += len(word)
	return nil
}

func (s *scanner) number() error {
	d, i := s.data, s.pos
	if i < len(d) && d[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
			n++
		}
		return n
	}
	first := i
	if n := digits(); n == 0 || (n > 1 && d[first] == '0') {
		return s.fail("json.syntax", "malformed JSON: bad number")
	}
	if i < len(d) && d[i] == '.' {
		i++
		if digits() == 0 {
			return s.fail("json.syntax", "malformed JSON: bad number")
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if digits() == 0 {
			return s.fail("json.syntax", "malformed JSON: bad number")
		}
	}
	s.pos = i
	return nil
}

// str reads a string at s.pos and returns its raw bytes between the quotes
// (escapes not resolved) after checking escapes, control characters and UTF-8.
func (s *scanner) str() ([]byte, error) {
	d := s.data
	i := s.pos + 1
	start := i
	for i < len(d) {
		c := d[i]
		switch {
		case c == '"':
			s.pos = i + 1
			return d[start:i], nil
		case c == '\\':
			if i+1 >= len(d) {
				return nil, s.fail("json.syntax", "malformed JSON: unterminated string")
			}
			switch d[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(d) || !isHex(d[i+2:i+6]) {
					return nil, s.fail("json.syntax", "malformed JSON: bad \\u escape")
				}
				i += 6
			default:
				return nil, s.fail("json.syntax", "malformed JSON: bad escape in string")
			}
		case c < 0x20:
			return nil, s.fail("json.syntax", "malformed JSON: control character in string")
		case c < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRune(d[i:])
			if r == utf8.RuneError && size <= 1 {
				return nil, s.fail("json.utf8", "string is not valid UTF-8")
			}
			i += size
		}
	}
	return nil, s.fail("json.syntax", "malformed JSON: unterminated string")
}

func isHex(b []byte) bool {
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// key returns the object key at s.pos, unescaped.
func (s *scanner) key() (string, error) {
	if s.pos >= len(s.data) || s.data[s.pos] != '"' {
		return "", s.fail("json.syntax", "malformed JSON: object key is not a string")
	}
	raw, err := s.str()
	if err != nil {
		return "", err
	}
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw), nil
	}
	var k string
	quoted := s.data[s.pos-len(raw)-2 : s.pos]
	if err := json.Unmarshal(quoted, &k); err != nil {
		return "", s.fail("json.syntax", "malformed JSON: bad object key")
	}
	return k, nil
}

func (s *scanner) expect(c byte, what string) error {
	s.ws()
	if s.pos >= len(s.data) || s.data[s.pos] != c {
		return s.fail("json.syntax", "malformed JSON: expected "+what)
	}
	s.pos++
	return nil
}

func (s *scanner) array(t reflect.Type, dst reflect.Value, depth int) error {
	var elem reflect.Type
	if t != nil {
		elem = t.Elem()
	}
	if dst.IsValid() {
		dst.SetLen(0)
		if dst.IsNil() {
			dst.Set(reflect.MakeSlice(t, 0, 0))
		}
	}
	s.pos++ // [
	s.ws()
	if s.pos < len(s.data) && s.data[s.pos] == ']' {
		s.pos++
		return nil
	}
	for n := 0; ; n++ {
		if n >= s.lim.MaxArray {
			return s.fail("json.limit", fmt.Sprintf("array longer than %d items", s.lim.MaxArray))
		}
		s.path = append(s.path, strconv.Itoa(n))
		s.ws()
		var item reflect.Value
		if dst.IsValid() {
			dst.Set(reflect.Append(dst, reflect.Zero(elem)))
			item = dst.Index(n)
		}
		if err := s.value(elem, item, depth); err != nil {
			return err
		}
		s.path = s.path[:len(s.path)-1]
		s.ws()
		if s.pos < len(s.data) && s.data[s.pos] == ']' {
			s.pos++
			return nil
		}
		if err := s.expect(',', "',' or ']' in array"); err != nil {
			return err
		}
	}
}

func (s *scanner) object(t reflect.Type, dst reflect.Value, depth int) error {
	var fields map[string]field
	var elem reflect.Type
	isStruct := t != nil && t.Kind() == reflect.Struct
	switch {
	case isStruct:
		fields = fieldsOf(t)
	case t != nil:
		if t.Key().Kind() != reflect.String {
			return s.typeError(t, "object")
		}
		elem = t.Elem()
		if dst.IsValid() && dst.IsNil() {
			dst.Set(reflect.MakeMap(t))
		}
	}
	s.pos++ // {
	s.ws()
	if s.pos < len(s.data) && s.data[s.pos] == '}' {
		s.pos++
		return nil
	}
	var seen []string
	for {
		s.ws()
		k, err := s.key()
		if err != nil {
			return err
		}
		s.path = append(s.path, k)
		for _, prev := range seen {
			if prev == k {
				return s.fail("json.duplicate_key", fmt.Sprintf("member %q appears more than once", short(k)))
			}
		}
		seen = append(seen, k)
		ft := elem
		var member reflect.Value
		switch {
		case isStruct:
			f, known := fields[k]
			if !known {
				return s.fail("json.unknown_field", fmt.Sprintf("unknown member %q", short(k)))
			}
			ft = f.typ
			if dst.IsValid() {
				member = fieldByIndex(dst, f.index)
			}
		case dst.IsValid():
			member = reflect.New(elem).Elem()
		}
		if err := s.expect(':', "':' after an object key"); err != nil {
			return err
		}
		s.ws()
		if err := s.value(ft, member, depth); err != nil {
			return err
		}
		if dst.IsValid() && !isStruct {
			dst.SetMapIndex(reflect.ValueOf(k).Convert(t.Key()), member)
		}
		s.path = s.path[:len(s.path)-1]
		s.ws()
		if s.pos < len(s.data) && s.data[s.pos] == '}' {
			s.pos++
			return nil
		}
		if err := s.expect(',', "',' or '}' in object"); err != nil {
			return err
		}
	}
}

// fieldByIndex is reflect.Value.FieldByIndex that allocates nil embedded
// struct pointers on the way.
func fieldByIndex(v reflect.Value, index []int) reflect.Value {
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v
}

var selfCache sync.Map // reflect.Type -> bool; a cache of immutable type facts

func selfDecodingCached(t reflect.Type) bool {
	if v, ok := selfCache.Load(t); ok {
		return v.(bool)
	}
	b := selfDecoding(t)
	selfCache.Store(t, b)
	return b
}

// field is one JSON member of a struct type.
type field struct {
	typ   reflect.Type
	index []int
}

var fieldCache sync.Map // reflect.Type -> map[string]field; a cache of immutable type facts

// fieldsOf returns the exact JSON member names of a struct type, following
// embedded structs the way encoding/json does for the simple cases we use.
func fieldsOf(t reflect.Type) map[string]field {
	if m, ok := fieldCache.Load(t); ok {
		return m.(map[string]field)
	}
	m := make(map[string]field)
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, v := range fieldsOf(ft) {
					if _, shadowed := m[k]; !shadowed {
						m[k] = field{typ: v.typ, index: append([]int{i}, v.index...)}
					}
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		m[name] = field{typ: f.Type, index: []int{i}}
	}
	fieldCache.Store(t, m)
	return m
}

func escape(s string) string {
	if !strings.ContainsAny(s, "~/") {
		return s
	}
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(s)
}
