package municipality

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/psykosocial/exchange/adapters"
	"github.com/psykosocial/exchange/internal/record"
	"github.com/psykosocial/exchange/internal/testenv"
)

// expectation is one entry of invalid/expect.json.
type expectation struct {
	// Now is the example's pinned clock, for an example meant to lie in
	// the future; empty means the tests' clock.
	Now string `json:"now"`
	// Whole is true when the document is refused as a whole.
	Whole bool `json:"whole"`
	// SchemaValid says whether the file is valid against the XSD: the
	// hardening refusals and the Danish rules lie beyond the schema.
	SchemaValid bool `json:"schema_valid"`
	// Problems are the expected problems in order; Index is the item index
	// (absent for whole-document problems).
	Problems []expectedProblem `json:"problems"`
}

type expectedProblem struct {
	Index int    `json:"index,omitempty"`
	Path  string `json:"path"`
	Rule  string `json:"rule"`
}

func readExpectations(t *testing.T) map[string]expectation {
	t.Helper()
	var exp map[string]expectation
	if err := json.Unmarshal(readFile(t, filepath.Join(invalidDir, "expect.json")), &exp); err != nil {
		t.Fatalf("expect.json: %v", err)
	}
	return exp
}

func TestValidExamples(t *testing.T) {
	a := newAdapter(t)
	for _, f := range exampleFiles(t, validDir, ".xml") {
		t.Run(filepath.Base(f), func(t *testing.T) {
			m, err := a.Decode(readFile(t, f))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if m.Format != FormatName || m.Header == nil {
				t.Fatalf("format %q, header %v", m.Format, m.Header)
			}
			for _, it := range m.Items {
				if it.Record == nil || len(it.Problems) > 0 {
					t.Errorf("item %d: %v", it.Index, it.Problems)
				}
			}
			if (m.Kind == adapters.KindWithdrawal) != (m.Withdrawal != nil) {
				t.Errorf("kind %s with withdrawal %v", m.Kind, m.Withdrawal)
			}
			assertRoundTrip(t, a, m)
		})
	}
}

// assertRoundTrip encodes m, decodes the bytes and checks that the records
// (or the withdrawal) and the header come back unchanged.
func assertRoundTrip(t *testing.T, a *Adapter, m *adapters.Message) []byte {
	t.Helper()
	out, err := a.Encode(m)
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	back, err := a.Decode(out)
	if err != nil {
		t.Fatalf("Decode(Encode): %v\n%s", err, out)
	}
	if back.Kind != m.Kind || len(back.Items) != len(m.Items) {
		t.Fatalf("kind %s/%s, %d/%d items", back.Kind, m.Kind, len(back.Items), len(m.Items))
	}
	for i, it := range m.Items {
		got := back.Items[i]
		if got.Record == nil {
			t.Fatalf("item %d after round trip: %v", i, got.Problems)
		}
		if diff := cmp.Diff(canonical(t, it.Record), canonical(t, got.Record)); diff != "" {
			t.Errorf("item %d changed in the round trip (-want +got):\n%s", i, diff)
		}
	}
	if m.Withdrawal != nil {
		want, _ := record.MarshalCanonicalWithdrawal(m.Withdrawal)
		got, _ := record.MarshalCanonicalWithdrawal(back.Withdrawal)
		if string(want) != string(got) {
			t.Errorf("withdrawal changed: %s != %s", got, want)
		}
	}
	h, g := m.Header, back.Header
	if h.MessageID != g.MessageID || h.Sender != g.Sender || h.Recipient != g.Recipient ||
		!h.IssuedAt.Equal(g.IssuedAt) || !h.ExpiresAt.Equal(g.ExpiresAt) || h.SenderReference != g.SenderReference {
		t.Errorf("header changed: %+v != %+v", g, h)
	}
	return out
}

func TestInvalidExamples(t *testing.T) {
	a := newAdapter(t)
	exp := readExpectations(t)
	files := exampleFiles(t, invalidDir, ".xml")
	if len(files) != len(exp) {
		t.Errorf("%d invalid examples but %d entries in expect.json", len(files), len(exp))
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			want, ok := exp[name]
			if !ok {
				t.Fatalf("no entry in expect.json")
			}
			a := a
			if want.Now != "" {
				at, err := time.Parse(time.RFC3339, want.Now)
				if err != nil {
					t.Fatalf("expect.json now %q: %v", want.Now, err)
				}
				a = newAdapterAt(t, at)
			}
			m, err := a.Decode(readFile(t, f))
			var got []expectedProblem
			switch {
			case err != nil:
				if m != nil {
					t.Fatalf("error and message both returned")
				}
				var ps record.Problems
				if !errors.As(err, &ps) {
					t.Fatalf("error is %T, not record.Problems: %v", err, err)
				}
				if !want.Whole {
					t.Fatalf("refused whole, want per-item problems: %v", err)
				}
				for _, p := range ps {
					got = append(got, expectedProblem{Path: p.Pointer, Rule: p.Rule})
				}
			default:
				if want.Whole {
					t.Fatalf("accepted, want refused whole")
				}
				for _, it := range m.Items {
					if (it.Record == nil) == (len(it.Problems) == 0) {
						t.Fatalf("item %d must have a record or problems, not both or neither", it.Index)
					}
					for _, p := range it.Problems {
						got = append(got, expectedProblem{Index: it.Index, Path: p.Pointer, Rule: p.Rule})
					}
				}
			}
			if diff := cmp.Diff(want.Problems, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s\nfull: %v", diff, err)
			}
		})
	}
}

// TestProblemLines checks that problems name the source line where the
// parser knows it.
func TestProblemLines(t *testing.T) {
	a := newAdapter(t)
	for _, tc := range []struct {
		file string
		line int
	}{
		{"unknown-element.xml", 42},
		{"phone-not-e164.xml", 34},
		{"malformed-unclosed-element.xml", 42},
		{"grant-without-channels.xml", 54},
		{"list-with-one-invalid-person.xml", 92},
	} {
		t.Run(tc.file, func(t *testing.T) {
			m, err := a.Decode(readFile(t, filepath.Join(invalidDir, tc.file)))
			var ps record.Problems
			if err != nil {
				ps = err.(record.Problems)
			} else {
				for _, it := range m.Items {
					ps = append(ps, it.Problems...)
				}
			}
			if len(ps) == 0 || ps[0].Line != tc.line {
				t.Errorf("problems %v, want the first on line %d", ps, tc.line)
			}
		})
	}
}

// TestXMLLint validates every valid example and every encoded example with
// xmllint against the XSD, and checks that xmllint agrees with
// expect.json about which invalid examples the schema refuses.
func TestXMLLint(t *testing.T) {
	xmllint := testenv.RequireTool(t, "xmllint", "apt-get install libxml2-utils")
	a := newAdapter(t)
	dir := t.TempDir()
	var valid []string
	valid = append(valid, exampleFiles(t, validDir, ".xml")...)
	for _, f := range exampleFiles(t, validDir, ".xml") {
		m, err := a.Decode(readFile(t, f))
		if err != nil {
			t.Fatal(err)
		}
		valid = append(valid, writeEncoded(t, a, dir, "encoded-"+filepath.Base(f), m))
	}
	for _, f := range exampleFiles(t, commonExamplesDir, ".json") {
		r, err := record.Decode(readFile(t, f))
		if err != nil {
			t.Fatal(err)
		}
		m := &adapters.Message{Kind: adapters.KindRegistration, Header: testHeader(), Items: []adapters.Item{{Record: r}}}
		valid = append(valid, writeEncoded(t, a, dir, "common-"+strings.TrimSuffix(filepath.Base(f), ".json")+".xml", m))
	}
	exp := readExpectations(t)
	var schemaValid, schemaInvalid []string
	for name, e := range exp {
		if e.SchemaValid {
			schemaValid = append(schemaValid, filepath.Join(invalidDir, name))
		} else {
			schemaInvalid = append(schemaInvalid, filepath.Join(invalidDir, name))
		}
	}
	results := runXMLLint(t, xmllint, append(append(valid, schemaValid...), schemaInvalid...))
	for _, f := range append(valid, schemaValid...) {
		if !results[f] {
			t.Errorf("xmllint refuses %s, which the XSD must accept", f)
		}
	}
	for _, f := range schemaInvalid {
		if results[f] {
			t.Errorf("xmllint accepts %s, which expect.json says the XSD refuses", f)
		}
	}
}

func writeEncoded(t *testing.T, a *Adapter, dir, name string, m *adapters.Message) string {
	t.Helper()
	out, err := a.Encode(m)
	if err != nil {
		t.Fatalf("%s: Encode: %v", name, err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, out, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// runXMLLint validates files in one xmllint call and reports which validate.
func runXMLLint(t *testing.T, xmllint string, files []string) map[string]bool {
	t.Helper()
	args := append([]string{"--noout", "--nonet", "--schema", schemaPath}, files...)
	out, err := exec.Command(xmllint, args...).CombinedOutput()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("xmllint: %v", err)
	}
	results := map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		if f, ok := strings.CutSuffix(line, " validates"); ok {
			results[f] = true
		}
	}
	for _, f := range files {
		if _, ok := results[f]; !ok {
			results[f] = false
		}
	}
	if testing.Verbose() {
		t.Logf("xmllint on %d files:\n%s", len(files), out)
	}
	return results
}

// TestCommonExamplesRoundTrip proves the round trip common → format →
// common lossless for every common example record: the format carries
// every member of the record, so nothing is dropped.
func TestCommonExamplesRoundTrip(t *testing.T) {
	a := newAdapter(t)
	v := newValidator(t)
	for _, f := range exampleFiles(t, commonExamplesDir, ".json") {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r, err := record.Decode(readFile(t, f))
			if err != nil {
				t.Fatalf("record.Decode: %v", err)
			}
			if ps := v.Validate(r); len(ps) > 0 {
				t.Fatalf("common example is not valid: %v", ps)
			}
			m := &adapters.Message{Kind: adapters.KindRegistration, Header: testHeader(), Items: []adapters.Item{{Record: r}}}
			assertRoundTrip(t, a, m)
		})
	}
}

// TestNothingDropped checks the mapping table's claim that every member of
// the common record has an element, except /schema, which the namespace
// implies.
func TestNothingDropped(t *testing.T) {
	for _, table := range [][]fieldPath{recordPaths, withdrawalPaths} {
		for _, fp := range table {
			if fp.source == "" && fp.common != "/schema" {
				t.Errorf("%s has no element", fp.common)
			}
		}
	}
}

// TestGatewayExamplesAreEncodeOutput pins Encode's bytes: the valid
// examples the gateway sends (gateway-*.xml) are exactly what Encode
// writes for what Decode reads from them.
func TestGatewayExamplesAreEncodeOutput(t *testing.T) {
	a := newAdapter(t)
	files, _ := filepath.Glob(filepath.Join(validDir, "gateway-*.xml"))
	if len(files) == 0 {
		t.Fatal("no gateway examples")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			want := readFile(t, f)
			m, err := a.Decode(want)
			if err != nil {
				t.Fatal(err)
			}
			got, err := a.Encode(m)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("Encode output differs from the example (-example +encoded):\n%s", diff)
			}
		})
	}
}
