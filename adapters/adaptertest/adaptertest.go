// Package adaptertest is the one test harness of the authority format
// adapters: the same golden files and the same decoding properties for
// every format. It is imported only by the adapters' tests.
//
// Like testing/fstest it does not import package testing (the conventions
// keep that out of non-test packages): Golden takes the *testing.T through
// the small T interface, and CheckDecode reports a broken property as an
// error for a fuzz target to fail with.
//
// A golden file pins what an adapter makes of one valid example of its
// format: the message kind, the header, every item's canonical common
// record (record.MarshalCanonical), problems and warnings, and the
// withdrawal notice. Run a package's tests with -update to rewrite its
// golden files from the current output, and review the diff.
package adaptertest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-cmp/cmp"

	"github.com/psykosocial/exchange/adapters"
	"github.com/psykosocial/exchange/internal/record"
)

// Format is one adapter under test.
type Format struct {
	// Adapter is the adapter under test, its validator on a fixed clock.
	Adapter adapters.Adapter
	// Examples is the glob of the format's valid examples
	// ("../../schemas/examples/region/valid/*.json").
	Examples string
	// Golden is the directory of the golden files, one per valid example,
	// named after it with the extension .json ("testdata/golden").
	Golden string
	// Header says whether the format's messages carry an adapters.Header
	// (the XML formats) or never do (the JSON format: the JWS carries it).
	Header bool
}

// T is what Golden needs of a *testing.T; Self is *testing.T.
type T[Self any] interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Run(name string, f func(Self)) bool
}

// Golden runs one subtest per valid example of f: the example decodes
// without error and with every item valid; its rendering (Render) equals
// its golden file, which update rewrites first; and the decoded records
// (or withdrawal) come back unchanged through Encode and Decode, which
// pins the encoding direction too. It fails t as well when an example has
// no golden file or a golden file no example.
func Golden[Self T[Self]](t Self, f Format, update bool) {
	t.Helper()
	files, err := filepath.Glob(f.Examples)
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples match %s (%v)", f.Examples, err)
	}
	if update {
		if err := os.MkdirAll(f.Golden, 0o755); err != nil {
			t.Fatalf("%v", err)
		}
	}
	want := map[string]bool{}
	for _, file := range files {
		name := filepath.Base(file)
		golden := filepath.Join(f.Golden, strings.TrimSuffix(name, filepath.Ext(name))+".json")
		want[filepath.Base(golden)] = true
		t.Run(name, func(t Self) {
			t.Helper()
			if err := f.checkExample(file, golden, update); err != nil {
				t.Errorf("%v", err)
			}
		})
	}
	have, err := filepath.Glob(filepath.Join(f.Golden, "*.json"))
	if err != nil {
		t.Fatalf("%v", err)
	}
	for _, g := range have {
		if !want[filepath.Base(g)] {
			t.Errorf("golden file %s has no example in %s: remove it", g, f.Examples)
		}
	}
}

// checkExample is Golden for one example.
func (f Format) checkExample(file, golden string, update bool) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	if !f.Adapter.Detect(data) {
		return errors.New("Detect = false")
	}
	m, err := f.Adapter.Decode(data)
	if err != nil {
		return fmt.Errorf("Decode: %w", err)
	}
	if m.Format != f.Adapter.Format() {
		return fmt.Errorf("Format = %q, want %q", m.Format, f.Adapter.Format())
	}
	for _, it := range m.Items {
		if it.Record == nil {
			return fmt.Errorf("a valid example's item %d is refused: %v", it.Index, it.Problems)
		}
	}
	got, err := Render(m)
	if err != nil {
		return err
	}
	if update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			return err
		}
	}
	wantBytes, err := os.ReadFile(golden)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("no golden file %s (run go test -update and review it)", golden)
	}
	if err != nil {
		return err
	}
	if diff := cmp.Diff(string(wantBytes), string(got)); diff != "" {
		return fmt.Errorf("the decoded message differs from %s (-want +got):\n%s", golden, diff)
	}
	return f.roundTrip(m)
}

// golden is the rendering of a decoded message in a golden file. Its shape
// is fixed: changing it rewrites every golden file.
type golden struct {
	Kind       adapters.MessageKind `json:"kind"`
	Header     *adapters.Header     `json:"header,omitempty"`
	Items      []goldenItem         `json:"items,omitempty"`
	Withdrawal json.RawMessage      `json:"withdrawal,omitempty"`
}

type goldenItem struct {
	Index    int             `json:"index"`
	Record   json.RawMessage `json:"record,omitempty"`
	Problems record.Problems `json:"problems,omitempty"`
	Warnings []string        `json:"warnings,omitempty"`
}

// Render returns the golden rendering of m: indented JSON of its kind, its
// header (times in UTC), every item's canonical record, problems and
// warnings, and its canonical withdrawal notice, with a final newline.
func Render(m *adapters.Message) ([]byte, error) {
	g := golden{Kind: m.Kind}
	if m.Header != nil {
		h := *m.Header
		h.IssuedAt, h.ExpiresAt = h.IssuedAt.UTC(), h.ExpiresAt.UTC()
		g.Header = &h
	}
	for _, it := range m.Items {
		gi := goldenItem{Index: it.Index, Problems: it.Problems, Warnings: it.Warnings}
		if it.Record != nil {
			b, err := record.MarshalCanonical(it.Record)
			if err != nil {
				return nil, fmt.Errorf("item %d: %w", it.Index, err)
			}
			gi.Record = b
		}
		g.Items = append(g.Items, gi)
	}
	if m.Withdrawal != nil {
		b, err := record.MarshalCanonicalWithdrawal(m.Withdrawal)
		if err != nil {
			return nil, fmt.Errorf("withdrawal: %w", err)
		}
		g.Withdrawal = b
	}
	out, err := json.MarshalIndent(g, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

// CheckDecode checks the properties every adapter keeps for any input
// data, and returns the first one broken, or nil:
//
//   - Decode returns a message or an error, never both or neither, and
//     the error is a non-empty record.Problems;
//   - the message carries a header exactly when the format has one;
//   - every item has its index and either a record or problems;
//   - a withdrawal message carries its notice and no item;
//   - the valid records (or the withdrawal) come back unchanged, as
//     canonical common records, through Encode and Decode.
func (f Format) CheckDecode(data []byte) error {
	m, err := f.Adapter.Decode(data)
	if (m == nil) == (err == nil) {
		return fmt.Errorf("Decode returned message %v and error %v: want exactly one", m != nil, err)
	}
	if err != nil {
		var ps record.Problems
		if !errors.As(err, &ps) || len(ps) == 0 {
			return fmt.Errorf("the error %T is not a non-empty record.Problems: %v", err, err)
		}
		return nil
	}
	if (m.Header != nil) != f.Header {
		return fmt.Errorf("message header %v, want a header: %v", m.Header, f.Header)
	}
	valid := &adapters.Message{Format: m.Format, Kind: m.Kind, Header: m.Header, Withdrawal: m.Withdrawal}
	for i, it := range m.Items {
		if it.Index != i || (it.Record == nil) == (len(it.Problems) == 0) {
			return fmt.Errorf("item %d: index %d, record %v, problems %v", i, it.Index, it.Record != nil, it.Problems)
		}
		if it.Record != nil {
			valid.Items = append(valid.Items, adapters.Item{Index: len(valid.Items), Record: it.Record})
		}
	}
	switch m.Kind {
	case adapters.KindWithdrawal:
		if m.Withdrawal == nil || len(m.Items) > 0 {
			return fmt.Errorf("a withdrawal message with notice %v and %d items", m.Withdrawal != nil, len(m.Items))
		}
	case adapters.KindRegistration:
		if m.Withdrawal != nil {
			return errors.New("a registration message carries a withdrawal notice")
		}
		if len(valid.Items) == 0 {
			return nil
		}
	default:
		return fmt.Errorf("unknown message kind %q", m.Kind)
	}
	return f.roundTrip(valid)
}

// roundTrip encodes m (valid records only, or a withdrawal) and decodes
// the result, which must render the same records or withdrawal.
func (f Format) roundTrip(m *adapters.Message) error {
	out, err := f.Adapter.Encode(m)
	if err != nil {
		return fmt.Errorf("Encode of the decoded message: %w", err)
	}
	back, err := f.Adapter.Decode(out)
	if err != nil {
		return fmt.Errorf("Decode of the encoding: %w\n%s", err, out)
	}
	if len(back.Items) != len(m.Items) {
		return fmt.Errorf("%d items came back, %d went out\n%s", len(back.Items), len(m.Items), out)
	}
	strip := func(m *adapters.Message) *adapters.Message {
		c := &adapters.Message{Kind: m.Kind, Withdrawal: m.Withdrawal}
		for _, it := range m.Items {
			c.Items = append(c.Items, adapters.Item{Index: it.Index, Record: it.Record, Problems: it.Problems})
		}
		return c
	}
	want, err := Render(strip(m))
	if err != nil {
		return err
	}
	got, err := Render(strip(back))
	if err != nil {
		return err
	}
	if !bytes.Equal(want, got) {
		return fmt.Errorf("Encode then Decode changed the message (-before +after):\n%s\nencoding:\n%s", cmp.Diff(string(want), string(got)), out)
	}
	return nil
}

// Seeds returns the contents of the files that match the globs, for a
// fuzz target's seed corpus (the valid and invalid examples).
func Seeds(globs ...string) ([][]byte, error) {
	var out [][]byte
	for _, g := range globs {
		files, err := filepath.Glob(g)
		if err != nil {
			return nil, err
		}
		if len(files) == 0 {
			return nil, fmt.Errorf("no files match %s", g)
		}
		for _, f := range files {
			if filepath.Base(f) == "expect.json" {
				continue
			}
			b, err := os.ReadFile(f)
			if err != nil {
				return nil, err
			}
			out = append(out, b)
		}
	}
	return out, nil
}
