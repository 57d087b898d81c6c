package strictjson_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/psykosocial/exchange/internal/strictjson"
)

type inner struct {
	When  *time.Time `json:"when,omitempty"`
	Names []string   `json:"names,omitempty"`
}

type doc struct {
	ID    string            `json:"id"`
	Count int               `json:"count,omitempty"`
	Ratio float64           `json:"ratio,omitempty"`
	Small uint8             `json:"small,omitempty"`
	OK    *bool             `json:"ok,omitempty"`
	Raw   json.RawMessage   `json:"raw,omitempty"`
	Bytes []byte            `json:"bytes,omitempty"`
	In    *inner            `json:"in,omitempty"`
	Tags  map[string]string `json:"tags,omitempty"`
	Any   any               `json:"any,omitempty"`
}

func TestUnmarshal(t *testing.T) {
	lim := strictjson.Limits{MaxBytes: 1024, MaxDepth: 4, MaxArray: 3, RejectEmptyStrings: true, RejectNull: true}
	tests := []struct {
		name, in, ptr, rule string
	}{
		{"valid", `{"id":"a","count":2,"in":{"when":"2026-11-25T10:00:00+01:00","names":["x","y"]},"tags":{"k":"v"},"any":{"z":[1,2.5e3,true]}}`, "", ""},
		{"escaped key resolves to a known field", `{"\u0069d":"a"}`, "", ""},
		{"duplicate key", `{"id":"a","id":"b"}`, "/id", "json.duplicate_key"},
		{"duplicate key in a map", `{"id":"a","tags":{"k":"1","k":"2"}}`, "/tags/k", "json.duplicate_key"},
		{"duplicate key in an untyped value", `{"id":"a","any":{"q":1,"q":2}}`, "/any/q", "json.duplicate_key"},
		{"case variant", `{"ID":"a"}`, "/ID", "json.unknown_field"},
		{"unknown field", `{"id":"a","extra":1}`, "/extra", "json.unknown_field"},
		{"unknown nested field", `{"id":"a","in":{"whom":"x"}}`, "/in/whom", "json.unknown_field"},
		{"empty string", `{"id":""}`, "/id", "json.empty"},
		{"empty string in array", `{"id":"a","in":{"names":["x",""]}}`, "/in/names/1", "json.empty"},
		{"null", `{"id":"a","in":null}`, "/in", "json.null"},
		{"UTC year before 0000", `{"id":"a","in":{"when":"0000-01-01T00:30:00+01:00"}}`, "/in/when", "json.value"},
		{"one-digit hour", `{"id":"a","in":{"when":"2026-11-25T1:00:00+01:00"}}`, "/in/when", "json.value"},
		{"long unknown name is cut", `{"id":"a","` + strings.Repeat("x", 300) + `":1}`, "", "json.unknown_field"},
		{"bad time names the member", `{"id":"a","in":{"when":"yesterday"}}`, "/in/when", "json.value"},
		{"time without zone", `{"id":"a","in":{"when":"2026-11-25T10:00:00"}}`, "/in/when", "json.value"},
		{"wrong type", `{"id":"a","count":"2"}`, "/count", "json.type"},
		{"too deep", `{"id":"a","any":{"b":{"c":{"d":{"e":1}}}}}`, "/any/b/c/d", "json.limit"},
		{"array too long", `{"id":"a","in":{"names":["a","b","c","d"]}}`, "/in/names", "json.limit"},
		{"too large", `{"id":"` + strings.Repeat("a", 1100) + `"}`, "", "json.limit"},
		{"trailing data", `{"id":"a"} {}`, "", "json.syntax"},
		{"truncated", `{"id":"a",`, "", "json.syntax"},
		{"invalid UTF-8", "{\"id\":\"a\xff\"}", "/id", "json.utf8"},
		{"control character", "{\"id\":\"a\x01\"}", "/id", "json.syntax"},
		{"bad escape", `{"id":"\q"}`, "/id", "json.syntax"},
		{"leading zero", `{"id":"a","count":01}`, "/count", "json.syntax"},
		{"bare word", `{"id":nope}`, "/id", "json.syntax"},
		{"not an object", `[1]`, "", "json.type"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var d doc
			err := strictjson.Unmarshal([]byte(tc.in), &d, lim)
			if tc.rule == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			var se *strictjson.Error
			if !errors.As(err, &se) {
				t.Fatalf("error = %v, want *strictjson.Error", err)
			}
			if se.Rule != tc.rule || (tc.ptr != "" && se.Pointer != tc.ptr) {
				t.Fatalf("got %s at %q (%s), want %s at %q", se.Rule, se.Pointer, se.Message, tc.rule, tc.ptr)
			}
			if se.Message == "" || len(se.Message) > 200 {
				t.Fatalf("message empty or unbounded: %d bytes", len(se.Message))
			}
		})
	}
}

// FuzzUnmarshal: strict decoding never accepts what encoding/json rejects,
// never panics, and returns *Error on refusal.
func FuzzUnmarshal(f *testing.F) {
	for _, s := range []string{`{"id":"a","count":2,"in":{"when":"2026-11-25T10:00:00Z","names":["x"]}}`,
		`{"id":"a","id":"b"}`, `{"\u0069d":"\ud83d\ude00"}`, `[]`, `{"any":[{"a":[{}]}]}`, `{"id":1e5}`,
		`{"id":"x\n\"y","ratio":-1.5e-3,"small":255,"ok":false,"raw":{"a":[1]},"bytes":"aGk=","tags":{"a":"b"},"in":{"names":[]}}`} {
		f.Add([]byte(s))
	}
	lim := strictjson.Limits{MaxBytes: 4096, MaxDepth: 6, MaxArray: 50}
	f.Fuzz(func(t *testing.T, data []byte) {
		var d doc
		err := strictjson.Unmarshal(data, &d, lim)
		if err == nil {
			var plain doc
			if perr := json.Unmarshal(data, &plain); perr != nil {
				t.Fatalf("strict accepted what encoding/json refuses: %v", perr)
			}
			// Strict decoding fills the value itself: it must decode exactly
			// what encoding/json decodes.
			if !reflect.DeepEqual(d, plain) {
				t.Fatalf("strict decoded %+v, encoding/json %+v", d, plain)
			}
			return
		}
		var se *strictjson.Error
		if !errors.As(err, &se) || se.Rule == "" || se.Message == "" {
			t.Fatalf("refusal is not a complete *Error: %#v", err)
		}
	})
}
