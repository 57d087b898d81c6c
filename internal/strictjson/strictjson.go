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
	"io"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Limits bound the shape of a document before any of it is decoded.
type Limits struct {
	// MaxBytes is the largest document accepted; 0 means 1 MiB.
	MaxBytes int
	// MaxDepth is the deepest nesting of objects and arrays; 0 means 32.
	MaxDepth int
	// MaxArray is the longest array accepted anywhere; 0 means 10,000.
	MaxArray int
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
// checking that the document is a single JSON value within limits, that no
// object repeats a key, and that every object key names a field of the Go
// type exactly (json tag, same case). Types that implement json.Unmarshaler
// or encoding.TextUnmarshaler decode themselves and are only checked for
// duplicate keys. The returned error is an *Error.
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
	w := walker{dec: json.NewDecoder(bytes.NewReader(data)), lim: lim}
	w.dec.UseNumber()
	if err := w.value(rv.Type().Elem(), "", 0); err != nil {
		return err
	}
	if _, err := w.dec.Token(); !errors.Is(err, io.EOF) {
		return &Error{Rule: "json.syntax", Offset: w.dec.InputOffset(), Message: "unexpected data after the top-level value"}
	}
	if err := json.Unmarshal(data, v); err != nil {
		return convert(err)
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
	// Errors from custom unmarshalers (dates, times) carry their own sentence.
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

type walker struct {
	dec *json.Decoder
	lim Limits
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

func selfDecoding(t reflect.Type) bool {
	if t == nil {
		return true
	}
	p := reflect.PointerTo(t)
	return t.Implements(jsonUnmarshaler) || p.Implements(jsonUnmarshaler) ||
		t.Implements(textUnmarshaler) || p.Implements(textUnmarshaler)
}

func (w *walker) fail(ptr, rule, msg string) error {
	return &Error{Pointer: ptr, Rule: rule, Message: msg, Offset: w.dec.InputOffset()}
}

// value reads one JSON value whose Go destination type is t (nil: unknown,
// only duplicates are checked).
func (w *walker) value(t reflect.Type, ptr string, depth int) error {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t != nil && selfDecoding(t) {
		// Types that decode themselves (times, dates) are decoded here once,
		// so that their error carries the member's pointer.
		var raw json.RawMessage
		if err := w.dec.Decode(&raw); err != nil {
			return w.fail(ptr, "json.syntax", "malformed JSON: "+err.Error())
		}
		if err := json.Unmarshal(raw, reflect.New(t).Interface()); err != nil {
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) {
				return w.fail(ptr, "json.type", fmt.Sprintf("expected %s, found a JSON %s", describe(te.Type), te.Value))
			}
			if t == reflect.TypeFor[time.Time]() {
				return w.fail(ptr, "json.value", "not an RFC 3339 date-time with a time zone (such as 2026-11-25T14:30:00+01:00)")
			}
			return w.fail(ptr, "json.value", err.Error())
		}
		return nil
	}
	if t != nil && t.Kind() == reflect.Interface {
		t = nil
	}
	tok, err := w.dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return w.fail(ptr, "json.syntax", "the document ends too early")
		}
		return w.fail(ptr, "json.syntax", "malformed JSON: "+err.Error())
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return nil // scalars are type-checked by encoding/json
	}
	if depth+1 > w.lim.MaxDepth {
		return w.fail(ptr, "json.limit", fmt.Sprintf("nesting deeper than %d levels", w.lim.MaxDepth))
	}
	switch d {
	case '{':
		return w.object(t, ptr, depth+1)
	case '[':
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		n := 0
		for w.dec.More() {
			if n >= w.lim.MaxArray {
				return w.fail(ptr, "json.limit", fmt.Sprintf("array longer than %d items", w.lim.MaxArray))
			}
			if err := w.value(elem, ptr+"/"+strconv.Itoa(n), depth+1); err != nil {
				return err
			}
			n++
		}
		_, err := w.dec.Token()
		return err
	}
	return w.fail(ptr, "json.syntax", "unexpected "+d.String())
}

func (w *walker) object(t reflect.Type, ptr string, depth int) error {
	var fields map[string]reflect.Type
	var elem reflect.Type
	checkNames := false
	if t != nil {
		switch t.Kind() {
		case reflect.Struct:
			fields = fieldsOf(t)
			checkNames = true
		case reflect.Map:
			elem = t.Elem()
		}
	}
	seen := make(map[string]struct{}, 8)
	for w.dec.More() {
		tok, err := w.dec.Token()
		if err != nil {
			return w.fail(ptr, "json.syntax", "malformed JSON: "+err.Error())
		}
		key, ok := tok.(string)
		if !ok {
			return w.fail(ptr, "json.syntax", "object key is not a string")
		}
		child := ptr + "/" + escape(key)
		if _, dup := seen[key]; dup {
			return w.fail(child, "json.duplicate_key", fmt.Sprintf("member %q appears more than once", key))
		}
		seen[key] = struct{}{}
		ft := elem
		if checkNames {
			var known bool
			ft, known = fields[key]
			if !known {
				return w.fail(child, "json.unknown_field", fmt.Sprintf("unknown member %q", key))
			}
		}
		if err := w.value(ft, child, depth); err != nil {
			return err
		}
	}
	_, err := w.dec.Token()
	return err
}

var fieldCache sync.Map // reflect.Type -> map[string]reflect.Type; a cache of immutable type facts

// fieldsOf returns the exact JSON member names of a struct type, following
// embedded structs the way encoding/json does for the simple cases we use.
func fieldsOf(t reflect.Type) map[string]reflect.Type {
	if m, ok := fieldCache.Load(t); ok {
		return m.(map[string]reflect.Type)
	}
	m := make(map[string]reflect.Type)
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
					m[k] = v
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
		m[name] = f.Type
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
