package police

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/google/go-cmp/cmp"

	"github.com/psykosocial/exchange/adapters"
	"github.com/psykosocial/exchange/adapters/adaptertest"
	"github.com/psykosocial/exchange/internal/clock"
	"github.com/psykosocial/exchange/internal/record"
	"github.com/psykosocial/exchange/internal/refdata"
	"github.com/psykosocial/exchange/internal/xmlsafe"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/*.json and the invalid examples' expect.json from the current output")

// Where the examples live, relative to this package.
const (
	validDir       = "../../schemas/examples/police/valid"
	invalidDir     = "../../schemas/examples/police/invalid"
	commonValidDir = "../../schemas/examples/registration/valid"
	schemaFile     = "../../schemas/police-personlist.v1.xsd"
)

// testNow is the fixed clock of every test.
var testNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func newValidator(tb testing.TB) *record.Validator {
	tb.Helper()
	ref, err := refdata.Load(refdata.Config{})
	if err != nil {
		tb.Fatalf("refdata.Load: %v", err)
	}
	return record.NewValidator(ref, clock.Fixed(testNow))
}

func newAdapter(tb testing.TB) *Adapter {
	tb.Helper()
	return mustNew(tb, newValidator(tb), WithOfficerRole(RoleIncidentCommander))
}

// newAdapterAt is an adapter whose validator's clock stands at the
// example's pinned clock now (expect.json), or the tests' clock.
func newAdapterAt(tb testing.TB, now string) *Adapter {
	tb.Helper()
	if now == "" {
		return newAdapter(tb)
	}
	at, err := time.Parse(time.RFC3339, now)
	if err != nil {
		tb.Fatalf("expect.json now %q: %v", now, err)
	}
	ref, err := refdata.Load(refdata.Config{})
	if err != nil {
		tb.Fatalf("refdata.Load: %v", err)
	}
	return mustNew(tb, record.NewValidator(ref, clock.Fixed(at)), WithOfficerRole(RoleIncidentCommander))
}

// mustNew is New, failing tb on an error.
func mustNew(tb testing.TB, v *record.Validator, opts ...Option) *Adapter {
	tb.Helper()
	a, err := New(v, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

func examples(tb testing.TB, dir string) []string {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.xml"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no examples in %s (%v)", dir, err)
	}
	return files
}

func readFile(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func canonical(tb testing.TB, r *record.Record) string {
	tb.Helper()
	b, err := record.MarshalCanonical(r)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// harness is the police format in the shared adapter harness.
func harness(tb testing.TB) adaptertest.Format {
	tb.Helper()
	return adaptertest.Format{Adapter: newAdapter(tb), Examples: filepath.Join(validDir, "*.xml"),
		Golden: filepath.Join("testdata", "golden"), Header: true}
}

// TestGolden decodes every valid example and compares it with its golden
// file (testdata/golden; -update rewrites them), and sends the records
// back through Encode and Decode.
func TestGolden(t *testing.T) {
	adaptertest.Golden(t, harness(t), *update)
}

// expectation is one entry of the invalid examples' expect.json.
type expectation struct {
	// Now is the example's pinned clock, for an example meant to lie in
	// the future; empty means the tests' clock.
	Now string `json:"now,omitempty"`
	// Whole is true when the document is refused whole.
	Whole bool `json:"whole"`
	// Xmllint says whether the XSD alone refuses the file ("refuses") or
	// accepts it ("accepts": a rule only the adapter checks).
	Xmllint  string            `json:"xmllint"`
	Problems []expectedProblem `json:"problems"`
}

type expectedProblem struct {
	// Index is the person's 0-based index; absent for a whole refusal.
	Index *int   `json:"index,omitempty"`
	Path  string `json:"path"`
	Line  int    `json:"line,omitempty"`
	Rule  string `json:"rule"`
}

func loadExpect(tb testing.TB) map[string]expectation {
	tb.Helper()
	var exp map[string]expectation
	dec := json.NewDecoder(bytes.NewReader(readFile(tb, filepath.Join(invalidDir, "expect.json"))))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&exp); err != nil {
		tb.Fatalf("expect.json: %v", err)
	}
	return exp
}

// outcome decodes data and lists its problems as expect.json writes them.
func outcome(tb testing.TB, a *Adapter, data []byte) (whole bool, got []expectedProblem) {
	tb.Helper()
	m, err := a.Decode(data)
	if err != nil {
		if m != nil {
			tb.Fatal("Decode returned both a message and an error")
		}
		var ps record.Problems
		if !errors.As(err, &ps) {
			tb.Fatalf("Decode error is not record.Problems: %v", err)
		}
		for _, p := range ps {
			got = append(got, expectedProblem{Path: p.Pointer, Line: p.Line, Rule: p.Rule})
		}
		return true, got
	}
	for _, it := range m.Items {
		for _, p := range it.Problems {
			i := it.Index
			got = append(got, expectedProblem{Index: &i, Path: p.Pointer, Line: p.Line, Rule: p.Rule})
		}
	}
	return false, got
}

// TestInvalidExamples runs every invalid example and checks the exact
// outcome in expect.json: whole refusal or not, and every problem's person
// index, path, line and rule. Persons without listed problems must be valid.
func TestInvalidExamples(t *testing.T) {
	exp := loadExpect(t)
	files := examples(t, invalidDir)
	updated := map[string]expectation{}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			data := readFile(t, f)
			want, ok := exp[name]
			whole, got := outcome(t, newAdapterAt(t, want.Now), data)
			if len(got) == 0 {
				t.Fatal("the invalid example decodes without problems")
			}
			updated[name] = expectation{Now: want.Now, Whole: whole, Xmllint: want.Xmllint, Problems: got}
			if !ok {
				t.Fatalf("%s has no entry in expect.json", name)
			}
			if whole != want.Whole {
				t.Errorf("whole = %v, want %v (%v)", whole, want.Whole, got)
			}
			if diff := cmp.Diff(want.Problems, got); diff != "" {
				t.Errorf("problems differ (-want +got):\n%s", diff)
			}
		})
	}
	for name := range exp {
		if !slices.ContainsFunc(files, func(f string) bool { return filepath.Base(f) == name }) {
			t.Errorf("expect.json names %s, which does not exist", name)
		}
	}
	if *update {
		b, err := json.MarshalIndent(updated, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(invalidDir, "expect.json"), append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestProblemMessagesDoNotEchoInput checks that no problem message repeats
// a long value from the document.
func TestProblemMessagesDoNotEchoInput(t *testing.T) {
	a := newAdapter(t)
	long := strings.Repeat("Å", 300)
	data := bytes.Replace(readFile(t, filepath.Join(validDir, "brand-aalborg-nordjylland.xml")),
		[]byte("<Type>vidne</Type>"), []byte("<Type>"+long+"</Type>"), 1)
	data = bytes.Replace(data, []byte("<Sprog>de</Sprog>"), []byte("<"+long+">x</"+long+">"), 1)
	m, err := a.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, it := range m.Items {
		for _, p := range it.Problems {
			n++
			if strings.Contains(p.Message, strings.Repeat("Å", adapters.MaxEcho/2+1)) || strings.Contains(p.Pointer, strings.Repeat("Å", adapters.MaxEcho/2+1)) {
				t.Errorf("problem echoes the input: %v", p)
			}
		}
	}
	if n != 2 {
		t.Errorf("got %d problems, want 2", n)
	}
}

// TestPathsAgreeWithXmlsafe checks that the decoder names every element of
// the examples exactly as xmlsafe.Path does.
func TestPathsAgreeWithXmlsafe(t *testing.T) {
	a := newAdapter(t)
	for _, f := range append(examples(t, validDir), filepath.Join(invalidDir, "bad-cpr-date-person-7.xml")) {
		doc, err := xmlsafe.Parse(readFile(t, f), parseLimits)
		if err != nil {
			t.Fatal(err)
		}
		root := doc.Doc.Root()
		d := &decoder{a: a, root: root}
		for _, el := range root.FindElements("//*") {
			if got, want := d.path(el), xmlsafe.Path(el); got != want {
				t.Errorf("%s: path %q, xmlsafe %q", filepath.Base(f), got, want)
			}
		}
		// Inside a person, with the person's path computed from its index.
		if ps := root.FindElements("./Personer/Person"); len(ps) > 0 {
			d.personsEl, d.personCount = root.SelectElement("Personer"), len(ps)
			for i, p := range ps {
				d.person, d.personIndex = p, i
				for _, el := range append([]*etree.Element{p}, p.FindElements(".//*")...) {
					if got, want := d.path(el), xmlsafe.Path(el); got != want {
						t.Errorf("%s: path %q, xmlsafe %q", filepath.Base(f), got, want)
					}
				}
			}
		}
	}
}

// TestBatchLimit builds a list of MaxPersons persons (accepted) and one of
// MaxPersons+1 (refused whole, with one problem).
func TestBatchLimit(t *testing.T) {
	a := newAdapter(t)
	for _, tc := range []struct {
		n     int
		whole bool
	}{{MaxPersons, false}, {MaxPersons + 1, true}} {
		t.Run(fmt.Sprint(tc.n), func(t *testing.T) {
			data := bigList(t, a, tc.n)
			m, err := a.Decode(data)
			if tc.whole {
				var ps record.Problems
				if !errors.As(err, &ps) || len(ps) != 1 || ps[0].Rule != "xml.limit" || ps[0].Pointer != "/Personliste/Personer" {
					t.Fatalf("Decode error = %v, want one xml.limit at /Personliste/Personer", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Records()) != tc.n {
				t.Fatalf("%d valid records, want %d", len(m.Records()), tc.n)
			}
		})
	}
}

// bigList encodes n persons of one incident (copies of the first person of
// the Aalborg example, the fullest, with fresh record ids).
func bigList(tb testing.TB, a *Adapter, n int) []byte {
	tb.Helper()
	return bigListOf(tb, a, n, 0)
}

// bigListOf is bigList with copies of the example's person base.
func bigListOf(tb testing.TB, a *Adapter, n, base int) []byte {
	tb.Helper()
	m, err := a.Decode(readFile(tb, filepath.Join(validDir, "brand-aalborg-nordjylland.xml")))
	if err != nil {
		tb.Fatal(err)
	}
	person := m.Items[base].Record
	items := make([]adapters.Item, n)
	for i := range items {
		r := person.Clone()
		r.RecordID = fmt.Sprintf("0b6f7d9e-2c4a-4b1d-9e8f-%012x", i)
		items[i] = adapters.Item{Index: i, Record: r}
	}
	// Encode refuses more than MaxPersons; build a larger list by hand.
	if n > MaxPersons {
		one, err := a.Encode(&adapters.Message{Kind: adapters.KindRegistration, Header: m.Header, Items: items[:MaxPersons]})
		if err != nil {
			tb.Fatal(err)
		}
		i := bytes.LastIndex(one, []byte("    <Person>"))
		j := bytes.LastIndex(one, []byte("  </Personer>"))
		extra := bytes.Repeat(one[i:j], n-MaxPersons)
		return slices.Concat(one[:j], extra, one[j:])
	}
	out, err := a.Encode(&adapters.Message{Kind: adapters.KindRegistration, Header: m.Header, Items: items})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// TestMaxBytes refuses a document above the size limit before parsing.
func TestMaxBytes(t *testing.T) {
	a := newAdapter(t)
	data := make([]byte, parseLimits.MaxBytes+1)
	_, err := a.Decode(data)
	var ps record.Problems
	if !errors.As(err, &ps) || ps[0].Rule != "xml.limit" {
		t.Fatalf("Decode = %v, want xml.limit", err)
	}
}

// TestDecodeElement decodes the root element handed over on its own, as the
// signature verifier does: a copy of the root, without the signature and
// without line numbers.
func TestDecodeElement(t *testing.T) {
	a := newAdapter(t)
	data := readFile(t, filepath.Join(validDir, "skyderi-koebenhavn-signeret.xml"))
	doc, err := xmlsafe.Parse(data, parseLimits)
	if err != nil {
		t.Fatal(err)
	}
	want, err := a.DecodeElement(doc.Doc.Root(), doc.Line)
	if err != nil {
		t.Fatal(err)
	}
	root := doc.Doc.Root().Copy()
	root.RemoveChild(root.SelectElement("Signature"))
	got, err := a.DecodeElement(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(render(t, want)), string(render(t, got))); diff != "" {
		t.Errorf("DecodeElement of the copy differs (-want +got):\n%s", diff)
	}
	if _, err := a.DecodeElement(nil, nil); err == nil {
		t.Error("DecodeElement(nil) succeeded")
	}
}

// TestDetect sniffs the root without parsing the document.
func TestDetect(t *testing.T) {
	a := newAdapter(t)
	for _, tc := range []struct {
		name string
		data string
		want bool
	}{
		{"list", `<?xml version="1.0"?><Personliste xmlns="` + Namespace + `" ID="x">`, true},
		{"withdrawal", `<Tilbagetraekning xmlns="` + Namespace + `">`, true},
		{"prefixed", `<p:Personliste xmlns:p="` + Namespace + `">`, true},
		{"other namespace", `<Personliste xmlns="urn:other">`, false},
		{"other root", `<KommuneMeddelelse xmlns="` + Namespace + `">`, false},
		{"doctype", `<!DOCTYPE x><Personliste xmlns="` + Namespace + `">`, false},
		{"json", `{"schema":"registration/v1"}`, false},
		{"empty", ``, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := a.Detect([]byte(tc.data)); got != tc.want {
				t.Errorf("Detect = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestElementLimits: the element limit per person is what the content
// models allow at most, so that no schema-valid list is refused by size.
func TestElementLimits(t *testing.T) {
	nested := map[string][]child{
		"Registreret": registeredShape[:], "Adresse": addressShape[:], "Tilknytning": relationShape[:],
		"BeroertPerson": affectedShape[:], "Samtykke": consentShape[:], "Vaerge": guardianShape[:],
		"Indhentet": obtainedShape[:], "Opfoelgning": followUpShape[:], "Tilladelse": grantShape[:],
	}
	var count func(shape []child) int
	count = func(shape []child) int {
		n := 0
		for _, c := range shape {
			n += c.max * (1 + count(nested[c.name]))
		}
		return n
	}
	if got := 1 + count(personShape[:]); got != maxElementsPerPerson {
		t.Errorf("a full Person has %d elements, maxElementsPerPerson is %d", got, maxElementsPerPerson)
	}
}

// TestHostileShapesStayCheap: documents that repeat an element tens of
// thousands of times (where the schema allows a few) are decoded in linear
// time and report at most maxProblems problems plus one saying so.
func TestHostileShapesStayCheap(t *testing.T) {
	a := newAdapter(t)
	base := string(readFile(t, filepath.Join(validDir, "brand-aalborg-nordjylland.xml")))
	const n = 40_000
	for _, tc := range []struct {
		name, old, new string
		whole          bool
	}{
		{"unknown elements in the root", "  <Personer>", strings.Repeat("<X/>", n) + "<Personer>", true},
		{"unknown elements in a person", "<Sprog>de</Sprog>", strings.Repeat("<X/>", n), false},
		{"a long list of channels", "<Kanal>telefon</Kanal>", strings.Repeat("<Kanal>telefon</Kanal>", n), false},
		{"many attributes' worth of elements", "<Titel>", strings.Repeat("<Titel>x</Titel>", n) + "<Titel>", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := []byte(strings.Replace(base, tc.old, tc.new, 1))
			start := time.Now()
			whole, got := outcome(t, a, data)
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("Decode took %v", d)
			}
			if whole != tc.whole {
				t.Errorf("whole = %v, want %v", whole, tc.whole)
			}
			if len(got) != maxProblems+1 || got[maxProblems].Rule != "xml.too_many_problems" {
				t.Errorf("%d problems, the last %v; want %d ending in xml.too_many_problems", len(got), got[len(got)-1], maxProblems+1)
			}
		})
	}
}

// render is the golden rendering of m (adaptertest.Render).
func render(tb testing.TB, m *adapters.Message) []byte {
	tb.Helper()
	b, err := adaptertest.Render(m)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// TestGrantProblemPaths: a problem inside the n-th grant names that
// Tilladelse and, inside it, the m-th Formaal or Kanal.
func TestGrantProblemPaths(t *testing.T) {
	a := newAdapter(t)
	base := string(readFile(t, filepath.Join(validDir, "brand-aalborg-nordjylland.xml")))
	second := `<Modtager>bopaelsregion</Modtager>
            <Formaal>psykosocial_opfoelgning</Formaal>
            <Kanal>telefon</Kanal>
            <Kanal>digital_post</Kanal>`
	const grant = "/Personliste/Personer/Person[1]/Samtykke/Opfoelgning/Tilladelse[2]"
	for _, tc := range []struct {
		name, new, path, rule string
	}{
		{"repeated channel", `<Modtager>bopaelsregion</Modtager>
            <Formaal>psykosocial_opfoelgning</Formaal>
            <Kanal>digital_post</Kanal>
            <Kanal>digital_post</Kanal>`, grant + "/Kanal[2]", "schema.unique_items"},
		{"health purpose second", `<Modtager>bopaelsregion</Modtager>
            <Formaal>psykosocial_opfoelgning</Formaal>
            <Formaal>psykiatrisk_opfoelgning</Formaal>
            <Kanal>telefon</Kanal>`, "", ""},
		{"health purpose to the incident municipality", `<Modtager>haendelseskommune</Modtager>
            <Formaal>psykosocial_opfoelgning</Formaal>
            <Formaal>psykiatrisk_opfoelgning</Formaal>
            <Kanal>telefon</Kanal>`, grant + "/Formaal[2]", "consent.health_purpose_not_region"},
		{"unknown purpose", `<Modtager>bopaelsregion</Modtager>
            <Formaal>psykosocial_opfoelgning</Formaal>
            <Formaal>hjemmebesoeg</Formaal>
            <Kanal>telefon</Kanal>`, grant + "/Formaal[2]", "schema.enum"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(base, second) {
				t.Fatal("the example's second grant changed")
			}
			_, got := outcome(t, a, []byte(strings.Replace(base, second, tc.new, 1)))
			var want []expectedProblem
			if tc.path != "" {
				i := 0
				want = []expectedProblem{{Index: &i, Path: tc.path, Rule: tc.rule}}
			}
			for i := range got {
				got[i].Line = 0
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
