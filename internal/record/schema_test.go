package record_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"

	"github.com/psykosocial/exchange/internal/record"
	"github.com/psykosocial/exchange/internal/refdata"
	"github.com/psykosocial/exchange/schemas"
)

// compileSchema compiles a schema of the schemas package with format
// assertions switched on, resolving references among its files.
func compileSchema(t testing.TB, name string) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	for _, f := range []string{schemas.RegistrationV1, schemas.WithdrawalV1} {
		b, err := fs.ReadFile(schemas.FS, f)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if err := c.AddResource("https://schemas.psykosocial.example/"+f, doc); err != nil {
			t.Fatal(err)
		}
	}
	s, err := c.Compile("https://schemas.psykosocial.example/" + name)
	if err != nil {
		t.Fatalf("compile %s: %v", name, err)
	}
	return s
}

// schemaPointers validates data against s and returns the JSON Pointers of
// the members it refuses. A missing required member and an unexpected
// member are located at the member itself (not at its parent object) so
// that they compare with the Go validator's pointers.
func schemaPointers(s *jsonschema.Schema, data []byte) []string {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return []string{""}
	}
	err = s.Validate(inst)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return []string{"?" + err.Error()}
	}
	set := map[string]bool{}
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) > 0 {
			for _, c := range e.Causes {
				walk(c)
			}
			return
		}
		base := pointer(e.InstanceLocation)
		switch k := e.ErrorKind.(type) {
		case *kind.Required:
			for _, m := range k.Missing {
				set[base+"/"+escape(m)] = true
			}
		case *kind.AdditionalProperties:
			for _, m := range k.Properties {
				set[base+"/"+escape(m)] = true
			}
		default:
			set[base] = true
		}
	}
	walk(ve)
	return sorted(set)
}

func pointer(loc []string) string {
	var b strings.Builder
	for _, p := range loc {
		b.WriteString("/")
		b.WriteString(escape(p))
	}
	return b.String()
}

func escape(s string) string { return strings.NewReplacer("~", "~0", "/", "~1").Replace(s) }

func sorted(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// goPointers decodes and validates data with the Go implementation.
func goPointers(t *testing.T, v *record.Validator, data []byte) []string {
	t.Helper()
	r, err := record.Decode(data)
	var ps record.Problems
	if err != nil {
		if !errors.As(err, &ps) {
			t.Fatalf("Decode returned %T, want record.Problems: %v", err, err)
		}
		if r != nil {
			t.Fatal("Decode returned both a record and an error")
		}
	} else {
		ps = v.Validate(r)
	}
	set := map[string]bool{}
	for _, p := range ps {
		if p.Message == "" || p.Rule == "" {
			t.Errorf("problem %+v lacks a message or rule", p)
		}
		set[p.Pointer] = true
	}
	return sorted(set)
}

type expectation struct {
	// Now is the example's pinned clock, for an example meant to lie in
	// the future; empty means the tests' clock.
	Now        string   `json:"now"`
	Go         []string `json:"go"`
	Schema     []string `json:"schema"`
	GoOnlyRule string   `json:"go_only_rule"`
}

// TestSchemaAndGoAgree runs every example through the JSON Schema (with
// format assertions) and through Decode+Validate. Valid examples pass both;
// each invalid example is refused at exactly the expected pointers by each,
// and a rule the schema cannot express is refused by Go alone.
func TestSchemaAndGoAgree(t *testing.T) {
	sch := compileSchema(t, schemas.RegistrationV1)
	v := newValidator(t)
	valid, err := fs.Glob(schemas.FS, "examples/registration/valid/*.json")
	if err != nil || len(valid) < 8 {
		t.Fatalf("want at least 8 valid examples, found %d (%v)", len(valid), err)
	}
	for _, f := range valid {
		t.Run(path.Base(f), func(t *testing.T) {
			data, _ := fs.ReadFile(schemas.FS, f)
			if got := schemaPointers(sch, data); len(got) > 0 {
				t.Errorf("schema refuses a valid example at %v", got)
			}
			if got := goPointers(t, v, data); len(got) > 0 {
				t.Errorf("Go refuses a valid example at %v", got)
			}
		})
	}
	raw, err := fs.ReadFile(schemas.FS, "examples/registration/invalid/expect.json")
	if err != nil {
		t.Fatal(err)
	}
	var expect map[string]expectation
	if err := json.Unmarshal(raw, &expect); err != nil {
		t.Fatal(err)
	}
	invalid, _ := fs.Glob(schemas.FS, "examples/registration/invalid/*.json")
	for _, f := range invalid {
		name := path.Base(f)
		if name == "expect.json" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			e, ok := expect[name]
			if !ok {
				t.Fatalf("%s has no entry in expect.json", name)
			}
			data, _ := fs.ReadFile(schemas.FS, f)
			want := slices.Sorted(slices.Values(e.Go))
			v := v
			if e.Now != "" {
				at, err := time.Parse(time.RFC3339, e.Now)
				if err != nil {
					t.Fatalf("now %q: %v", e.Now, err)
				}
				v = newValidatorAt(t, at, refdata.Config{})
			}
			if got := goPointers(t, v, data); !cmp.Equal(got, want) {
				t.Errorf("Go pointers = %v, want %v", got, want)
			}
			wantSchema := slices.Sorted(slices.Values(e.Schema))
			if got := schemaPointers(sch, data); !cmp.Equal(got, wantSchema, cmp.Comparer(func(a, b []string) bool { return len(a) == 0 && len(b) == 0 || slices.Equal(a, b) })) {
				t.Errorf("schema pointers = %v, want %v", got, wantSchema)
			}
			if len(e.Schema) == 0 && e.GoOnlyRule == "" {
				t.Error("an example the schema accepts must name its Go-only rule")
			}
		})
	}
	for name := range expect {
		if !slices.Contains(invalid, "examples/registration/invalid/"+name) {
			t.Errorf("expect.json names %s, which does not exist", name)
		}
	}
}
