package region_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/psykosocial/exchange/adapters"
	"github.com/psykosocial/exchange/adapters/region"
	"github.com/psykosocial/exchange/internal/clock"
	"github.com/psykosocial/exchange/internal/record"
	"github.com/psykosocial/exchange/internal/refdata"
	"github.com/psykosocial/exchange/schemas"
)

// now is the fixed clock of every test.
func now() time.Time { return time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC) }

func newAdapter(t testing.TB) *region.Adapter {
	t.Helper()
	return newAdapterAt(t, now())
}

// newAdapterAt is an adapter whose validator's clock stands at at.
func newAdapterAt(t testing.TB, at time.Time) *region.Adapter {
	t.Helper()
	ref, err := refdata.Load(refdata.Config{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := region.New(record.NewValidator(ref, clock.Fixed(at)))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// pinned is the example's own clock from expect.json ("now"), or the
// tests' clock.
func pinned(t testing.TB, now string) time.Time {
	t.Helper()
	if now == "" {
		return time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	}
	at, err := time.Parse(time.RFC3339, now)
	if err != nil {
		t.Fatalf("expect.json now %q: %v", now, err)
	}
	return at
}

// example is one file of schemas/examples.
type example struct {
	name string
	data []byte
}

func examples(t testing.TB, dir string) []example {
	t.Helper()
	entries, err := fs.ReadDir(schemas.FS, dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []example
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") || e.Name() == "expect.json" {
			continue
		}
		b, err := fs.ReadFile(schemas.FS, path.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, example{e.Name(), b})
	}
	if len(out) == 0 {
		t.Fatalf("no examples in %s", dir)
	}
	return out
}

const (
	validDir   = "examples/region/valid"
	invalidDir = "examples/region/invalid"
	commonDir  = "examples/registration/valid"
)

func canonical(t testing.TB, r *record.Record) string {
	t.Helper()
	b, err := record.MarshalCanonical(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestValidExamples(t *testing.T) {
	a := newAdapter(t)
	for _, ex := range examples(t, validDir) {
		t.Run(ex.name, func(t *testing.T) {
			if !a.Detect(ex.data) {
				t.Error("Detect = false")
			}
			m, err := a.Decode(ex.data)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if m.Format != region.FormatName || m.Header != nil {
				t.Errorf("Format %q, Header %v; want %q and nil", m.Format, m.Header, region.FormatName)
			}
			for _, it := range m.Items {
				if it.Record == nil || len(it.Problems) > 0 {
					t.Errorf("item %d: %v", it.Index, it.Problems)
				}
			}
			if (m.Kind == adapters.KindWithdrawal) != (m.Withdrawal != nil) {
				t.Errorf("kind %s with withdrawal %v", m.Kind, m.Withdrawal)
			}
			// Decode → Encode → Decode gives the same records.
			out, err := a.Encode(m)
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			again, err := a.Decode(out)
			if err != nil {
				t.Fatalf("Decode of the encoding: %v\n%s", err, out)
			}
			if diff := cmp.Diff(canonicalMessage(t, m), canonicalMessage(t, again)); diff != "" {
				t.Errorf("round trip changed the message (-first +second):\n%s", diff)
			}
		})
	}
}

func canonicalMessage(t testing.TB, m *adapters.Message) []string {
	t.Helper()
	var out []string
	for _, it := range m.Items {
		if it.Record == nil {
			t.Fatalf("item %d has no record: %v", it.Index, it.Problems)
		}
		out = append(out, canonical(t, it.Record))
	}
	if m.Withdrawal != nil {
		b, err := record.MarshalCanonicalWithdrawal(m.Withdrawal)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
	return out
}

// expectation is one entry of examples/region/invalid/expect.json.
type expectation struct {
	// Now is the example's pinned clock, for an example meant to lie in
	// the future; empty means the tests' clock.
	Now           string `json:"now"`
	Whole         bool   `json:"whole"`
	SchemaRefuses bool   `json:"schema_refuses"`
	Problems      []struct {
		Index int    `json:"index"`
		Path  string `json:"path"`
		Rule  string `json:"rule"`
	} `json:"problems"`
}

func loadExpectations(t testing.TB) map[string]expectation {
	t.Helper()
	b, err := fs.ReadFile(schemas.FS, invalidDir+"/expect.json")
	if err != nil {
		t.Fatal(err)
	}
	var exp map[string]expectation
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&exp); err != nil {
		t.Fatal(err)
	}
	return exp
}

type got struct {
	Index int
	Path  string
	Rule  string
}

func TestInvalidExamples(t *testing.T) {
	a := newAdapter(t)
	exp := loadExpectations(t)
	seen := map[string]bool{}
	for _, ex := range examples(t, invalidDir) {
		t.Run(ex.name, func(t *testing.T) {
			seen[ex.name] = true
			e, ok := exp[ex.name]
			if !ok {
				t.Fatal("no entry in expect.json")
			}
			var want []got
			for _, p := range e.Problems {
				want = append(want, got{p.Index, p.Path, p.Rule})
			}
			a := a
			if e.Now != "" {
				a = newAdapterAt(t, pinned(t, e.Now))
			}
			m, err := a.Decode(ex.data)
			var have []got
			switch {
			case e.Whole:
				var ps record.Problems
				if m != nil || !errors.As(err, &ps) {
					t.Fatalf("Decode = %v, %v; want the document refused as a whole", m, err)
				}
				for _, p := range ps {
					have = append(have, got{0, p.Pointer, p.Rule})
					checkProblem(t, p)
				}
			default:
				if err != nil {
					t.Fatalf("Decode refused the whole document: %v", err)
				}
				for _, it := range m.Items {
					for _, p := range it.Problems {
						have = append(have, got{it.Index, p.Pointer, p.Rule})
						checkProblem(t, p)
					}
				}
			}
			if diff := cmp.Diff(want, have); diff != "" {
				t.Errorf("problems (-want +got):\n%s\nall: %v", diff, err)
				if m != nil {
					for _, it := range m.Items {
						t.Logf("item %d: %v", it.Index, it.Problems)
					}
				}
			}
		})
	}
	for name := range exp {
		if !seen[name] {
			t.Errorf("expect.json names %s, which does not exist", name)
		}
	}
}

// checkProblem checks what every problem must have: a rule, a message
// without long echoed input, and a line when it points into the document.
func checkProblem(t *testing.T, p record.Problem) {
	t.Helper()
	if p.Rule == "" || p.Message == "" {
		t.Errorf("problem without rule or message: %+v", p)
	}
	if len(p.Message) > 300 {
		t.Errorf("message of %d bytes: %.80s…", len(p.Message), p.Message)
	}
	if p.Line < 1 {
		t.Errorf("problem without a line: %+v", p)
	}
}

// TestItemsAreIndependent checks that one bad record of a list refuses
// only that record.
func TestItemsAreIndependent(t *testing.T) {
	a := newAdapter(t)
	b, err := fs.ReadFile(schemas.FS, invalidDir+"/list-with-cpr-not-a-real-date.json")
	if err != nil {
		t.Fatal(err)
	}
	m, err := a.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Items) != 5 {
		t.Fatalf("%d items, want 5", len(m.Items))
	}
	for i, it := range m.Items {
		if it.Index != i {
			t.Errorf("item %d has index %d", i, it.Index)
		}
		if bad := i == 2; bad != (it.Record == nil) || bad != (len(it.Problems) > 0) {
			t.Errorf("item %d: record %v, problems %v", i, it.Record != nil, it.Problems)
		}
	}
	if len(m.Records()) != 4 {
		t.Errorf("%d valid records, want 4", len(m.Records()))
	}
	// The problem names the line of the member in the source.
	p := m.Items[2].Problems[0]
	lines := strings.Split(string(b), "\n")
	if p.Line < 1 || p.Line > len(lines) || !strings.Contains(lines[p.Line-1], `"cprNummer"`) {
		t.Errorf("line %d does not hold cprNummer", p.Line)
	}
}

// TestRoundTripCommonExamples maps every common example record to the
// regional format and back. The format carries every member of the common
// record (see the package doc), so nothing may be dropped.
func TestRoundTripCommonExamples(t *testing.T) {
	a := newAdapter(t)
	v := record.NewValidator(mustRef(t), clock.Fixed(now()))
	var all []*record.Record
	for _, ex := range examples(t, commonDir) {
		t.Run(ex.name, func(t *testing.T) {
			r, err := record.Decode(ex.data)
			if err != nil {
				t.Fatalf("record.Decode: %v", err)
			}
			if ps := v.Validate(r); len(ps) > 0 {
				t.Fatalf("common example is not valid: %v", ps)
			}
			all = append(all, r)
			roundTrip(t, a, r)
		})
	}
	// The same records as one list, each record id once (two examples are
	// versions of one record, and a message holds a record once).
	m := &adapters.Message{Kind: adapters.KindRegistration}
	seen := map[string]bool{}
	all = slices.DeleteFunc(all, func(r *record.Record) bool {
		dup := seen[r.RecordID]
		seen[r.RecordID] = true
		return dup
	})
	for i, r := range all {
		m.Items = append(m.Items, adapters.Item{Index: i, Record: r})
	}
	out, err := a.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	back, err := a.Decode(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Items) != len(all) {
		t.Fatalf("%d items back, want %d", len(back.Items), len(all))
	}
	for i, it := range back.Items {
		if it.Record == nil {
			t.Fatalf("item %d: %v", i, it.Problems)
		}
		if canonical(t, it.Record) != canonical(t, all[i]) {
			t.Errorf("item %d changed", i)
		}
	}
}

// dropped lists the members of the common record that the regional format
// does not carry: none.
var dropped []string

func roundTrip(t *testing.T, a *region.Adapter, r *record.Record) {
	t.Helper()
	out, err := a.Encode(&adapters.Message{Kind: adapters.KindRegistration, Items: []adapters.Item{{Record: r}}})
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	m, err := a.Decode(out)
	if err != nil {
		t.Fatalf("Decode: %v\n%s", err, out)
	}
	if len(m.Items) != 1 || m.Items[0].Record == nil {
		t.Fatalf("Decode gave %+v\n%s", m.Items, out)
	}
	want := canonical(t, withoutDropped(r))
	if got := canonical(t, m.Items[0].Record); got != want {
		t.Errorf("round trip changed the record:\n got %s\nwant %s", got, want)
	}
}

// withoutDropped removes the members in dropped from a copy of r.
func withoutDropped(r *record.Record) *record.Record {
	c := r.Clone()
	for _, p := range dropped {
		panic("no member is dropped; teach withoutDropped to remove " + p)
	}
	return c
}

func mustRef(t testing.TB) *refdata.Data {
	t.Helper()
	ref, err := refdata.Load(refdata.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

// TestExamplesCoverEveryMember checks that the round-trip tests exercise
// every member of the common record: each leaf pointer of the mapping
// table is present in some tested record.
func TestExamplesCoverEveryMember(t *testing.T) {
	a := newAdapter(t)
	present := map[string]bool{}
	add := func(r *record.Record) {
		var v any
		if err := json.Unmarshal([]byte(canonical(t, r)), &v); err != nil {
			t.Fatal(err)
		}
		collect(v, "", present)
	}
	for _, ex := range examples(t, commonDir) {
		r, err := record.Decode(ex.data)
		if err != nil {
			t.Fatal(err)
		}
		add(r)
	}
	for _, ex := range examples(t, validDir) {
		m, err := a.Decode(ex.data)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range m.Records() {
			add(r)
		}
	}
	for _, row := range region.MappingTable() {
		if !present[row.Common] && !slices.Contains(dropped, row.Common) {
			t.Errorf("no example carries %s", row.Common)
		}
	}
}

func collect(v any, ptr string, out map[string]bool) {
	out[ptr] = true
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			collect(c, ptr+"/"+k, out)
		}
	case []any:
		for _, c := range x {
			collect(c, ptr, out)
		}
	}
}

// TestMappingTableInDoc checks that the package doc shows every row of the
// mapping table.
func TestMappingTableInDoc(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[[2]string]bool{}
	for _, line := range strings.Split(string(doc), "\n") {
		f := strings.Fields(strings.TrimPrefix(line, "//"))
		if len(f) >= 2 && strings.HasPrefix(f[0], "/") {
			rows[[2]string{f[0], f[1]}] = true
		}
	}
	for _, row := range region.MappingTable() {
		if row.Source == "" {
			continue
		}
		if !rows[[2]string{row.Source, row.Common}] {
			t.Errorf("doc.go has no table row %s  %s", row.Source, row.Common)
		}
	}
}
