package region_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/psykosocial/exchange/adapters"
	"github.com/psykosocial/exchange/internal/record"
	"github.com/psykosocial/exchange/schemas"
)

// schemaFile is the format's JSON Schema in package schemas.
const schemaFile = "region-registration.v1.schema.json"

func compileSchema(t testing.TB) *jsonschema.Schema {
	t.Helper()
	b, err := fs.ReadFile(schemas.FS, schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	const id = "https://schemas.psykosocial.example/" + schemaFile
	if err := c.AddResource(id, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(id)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// validateSchema validates data against s; an error says why it is refused.
func validateSchema(s *jsonschema.Schema, data []byte) error {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return err
	}
	return s.Validate(inst)
}

func TestSchemaAcceptsValidExamplesAndEncodings(t *testing.T) {
	s := compileSchema(t)
	a := newAdapter(t)
	for _, ex := range examples(t, validDir) {
		t.Run(ex.name, func(t *testing.T) {
			if err := validateSchema(s, ex.data); err != nil {
				t.Errorf("example: %v", err)
			}
			m, err := a.Decode(ex.data)
			if err != nil {
				t.Fatal(err)
			}
			out, err := a.Encode(m)
			if err != nil {
				t.Fatal(err)
			}
			if err := validateSchema(s, out); err != nil {
				t.Errorf("encoding: %v\n%s", err, out)
			}
		})
	}
	// Every common example record, encoded alone and all in one list.
	m := &adapters.Message{Kind: adapters.KindRegistration}
	for _, ex := range examples(t, commonDir) {
		r, err := record.Decode(ex.data)
		if err != nil {
			t.Fatal(err)
		}
		it := adapters.Item{Index: len(m.Items), Record: r}
		m.Items = append(m.Items, it)
		out, err := a.Encode(&adapters.Message{Kind: adapters.KindRegistration, Items: []adapters.Item{it}})
		if err != nil {
			t.Fatal(err)
		}
		if err := validateSchema(s, out); err != nil {
			t.Errorf("%s encoded: %v\n%s", ex.name, err, out)
		}
	}
	out, err := a.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := validateSchema(s, out); err != nil {
		t.Errorf("list of the common examples: %v", err)
	}
}

// TestSchemaOnInvalidExamples checks that the schema refuses every invalid
// example whose rule it can express, and accepts those whose rule only Go
// checks (schema_refuses false in expect.json), so that the flag stays true.
func TestSchemaOnInvalidExamples(t *testing.T) {
	s := compileSchema(t)
	exp := loadExpectations(t)
	for _, ex := range examples(t, invalidDir) {
		t.Run(ex.name, func(t *testing.T) {
			e, ok := exp[ex.name]
			if !ok {
				t.Fatal("no entry in expect.json")
			}
			err := validateSchema(s, ex.data)
			if e.SchemaRefuses && err == nil {
				t.Error("the schema accepts it")
			}
			if !e.SchemaRefuses && err != nil {
				t.Errorf("the schema refuses it, but expect.json says only Go does: %v", err)
			}
		})
	}
}

// TestSchemaDescribesEveryProperty checks the schema's own conventions:
// every property has a description and every object with properties
// refuses additional ones.
func TestSchemaDescribesEveryProperty(t *testing.T) {
	b, err := fs.ReadFile(schemas.FS, schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	var walk func(v any, ptr string, inCondition bool)
	walk = func(v any, ptr string, inCondition bool) {
		switch x := v.(type) {
		case map[string]any:
			if props, ok := x["properties"].(map[string]any); ok && !inCondition {
				if x["additionalProperties"] != false {
					t.Errorf("%s: properties without additionalProperties: false", ptr)
				}
				for name, p := range props {
					pm, ok := p.(map[string]any)
					if !ok || pm["description"] == nil {
						t.Errorf("%s/properties/%s has no description", ptr, name)
					}
				}
			}
			for k, c := range x {
				walk(c, ptr+"/"+k, inCondition || k == "if" || k == "then" || k == "else")
			}
		case []any:
			for _, c := range x {
				walk(c, ptr+"/*", inCondition)
			}
		}
	}
	walk(doc, "", false)
}

func TestSchemaRefusesWhatDecodeRefusesWhole(t *testing.T) {
	s := compileSchema(t)
	a := newAdapter(t)
	tests := map[string]string{
		"null record":        `{"meddelelsestype":"epc-registrering/v1","registrering":null}`,
		"null type":          `{"meddelelsestype":null,"registrering":{}}`,
		"withdrawal as list": `{"meddelelsestype":"epc-tilbagetraekning/v1","tilbagetraekning":[]}`,
	}
	for name, doc := range tests {
		t.Run(name, func(t *testing.T) {
			if validateSchema(s, []byte(doc)) == nil {
				t.Error("the schema accepts it")
			}
			m, err := a.Decode([]byte(doc))
			var ps record.Problems
			if err == nil {
				for _, it := range m.Items {
					ps = append(ps, it.Problems...)
				}
				if len(ps) == 0 {
					t.Error("Decode accepts it")
				}
			} else if !errors.As(err, &ps) {
				t.Errorf("Decode error %T, want record.Problems", err)
			}
		})
	}
}
