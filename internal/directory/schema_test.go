package directory

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

const schemaPath = "../../schemas/directory.v1.schema.json"

// compileSchema compiles the directory schema from disk, asserting formats.
func compileSchema(t testing.TB) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	sch, err := c.Compile(schemaPath)
	if err != nil {
		t.Fatalf("compile %s: %v", schemaPath, err)
	}
	return sch
}

// schemaValid reports whether doc validates against sch.
func schemaValid(t testing.TB, sch *jsonschema.Schema, doc []byte) bool {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		t.Fatalf("unmarshal instance: %v", err)
	}
	return sch.Validate(inst) == nil
}

func TestGeneratedValidatesAgainstSchema(t *testing.T) {
	sch := compileSchema(t)
	docs := map[string][]byte{"with certificates": baseDocument(t)}
	for name, east := range map[string]bool{"east configured": true, "east not configured": false} {
		enc, err := Generate(loadRef(t, east), generatedAt).Encode()
		if err != nil {
			t.Fatal(err)
		}
		docs[name] = enc
	}
	for name, doc := range docs {
		t.Run(name, func(t *testing.T) {
			inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
			if err != nil {
				t.Fatal(err)
			}
			if err := sch.Validate(inst); err != nil {
				t.Errorf("schema rejects the generated directory: %v", err)
			}
		})
	}
}

// TestREADMEExample checks that the example in README.md is valid for the schema
// and for Parse.
func TestREADMEExample(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)## Example\n\n```json\n(.*?)```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("no example in README.md")
	}
	if !schemaValid(t, compileSchema(t), m[1]) {
		t.Error("schema rejects the README example")
	}
	d, err := Parse(m[1], loadRef(t, false))
	if err != nil {
		t.Fatalf("Parse rejects the README example: %v", err)
	}
	if len(d.Authorities) != 3 {
		t.Errorf("%d authorities in the example", len(d.Authorities))
	}
}

// TestSchemaHygiene checks that every property has a description and every object
// schema with properties forbids additional ones (except the if/then branches, which
// only narrow properties declared elsewhere).
func TestSchemaHygiene(t *testing.T) {
	raw, err := os.ReadFile(filepath.FromSlash(schemaPath))
	if err != nil {
		t.Fatal(err)
	}
	var root any
	if err := json.Unmarshal(raw, &root); err != nil {
		t.Fatal(err)
	}
	var walk func(path string, v any, inBranch bool)
	walk = func(path string, v any, inBranch bool) {
		switch v := v.(type) {
		case map[string]any:
			if props, ok := v["properties"].(map[string]any); ok {
				if !inBranch && v["additionalProperties"] != false {
					t.Errorf("%s: properties without additionalProperties: false", path)
				}
				names := make([]string, 0, len(props))
				for name := range props {
					names = append(names, name)
				}
				sort.Strings(names)
				for _, name := range names {
					p, _ := props[name].(map[string]any)
					if d, _ := p["description"].(string); d == "" {
						t.Errorf("%s.properties.%s: no description", path, name)
					}
				}
			}
			for k, child := range v {
				walk(path+"."+k, child, inBranch || k == "if" || k == "then" || k == "else")
			}
		case []any:
			for i, child := range v {
				walk(path+"["+strconv.Itoa(i)+"]", child, inBranch)
			}
		}
	}
	walk("$", root, false)
}
