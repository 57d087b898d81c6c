package police

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/psykosocial/exchange/adapters"
	"github.com/psykosocial/exchange/internal/record"
)

// FuzzDecode checks, for any input: Decode never panics; it returns a
// message or an error (record.Problems), never both or neither; every item
// has a record or problems, never both or neither; and the valid records
// (or the withdrawal) survive Encode then Decode unchanged.
func FuzzDecode(f *testing.F) {
	for _, dir := range []string{validDir, invalidDir} {
		files, err := filepath.Glob(filepath.Join(dir, "*.xml"))
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range files {
			f.Add(readFile(f, file))
		}
	}
	a := newAdapter(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := a.Decode(data)
		if (m == nil) == (err == nil) {
			t.Fatalf("Decode returned message %v and error %v", m, err)
		}
		if err != nil {
			var ps record.Problems
			if !errors.As(err, &ps) || len(ps) == 0 {
				t.Fatalf("the error is not a non-empty record.Problems: %v", err)
			}
			return
		}
		var valid []adapters.Item
		for i, it := range m.Items {
			if it.Index != i || (it.Record == nil) == (len(it.Problems) == 0) {
				t.Fatalf("item %d: index %d, record %v, problems %v", i, it.Index, it.Record != nil, it.Problems)
			}
			if it.Record != nil {
				valid = append(valid, adapters.Item{Index: len(valid), Record: it.Record})
			}
		}
		switch m.Kind {
		case adapters.KindWithdrawal:
			out, err := a.Encode(m)
			if err != nil {
				t.Fatalf("Encode of a decoded withdrawal: %v", err)
			}
			m2, err := a.Decode(out)
			if err != nil {
				t.Fatalf("Decode of the encoded withdrawal: %v\n%s", err, out)
			}
			if diff := cmp.Diff(m.Withdrawal, m2.Withdrawal); diff != "" {
				t.Fatalf("withdrawal changed (-before +after):\n%s", diff)
			}
		case adapters.KindRegistration:
			if len(valid) == 0 {
				return
			}
			out, err := a.Encode(&adapters.Message{Kind: adapters.KindRegistration, Header: m.Header, Items: valid})
			if err != nil {
				t.Fatalf("Encode of decoded records: %v", err)
			}
			m2, err := a.Decode(out)
			if err != nil {
				t.Fatalf("Decode of the encoded list: %v\n%s", err, out)
			}
			if len(m2.Items) != len(valid) {
				t.Fatalf("%d items after the round trip, want %d", len(m2.Items), len(valid))
			}
			for i, it := range m2.Items {
				if it.Record == nil {
					t.Fatalf("person %d refused after the round trip: %v\n%s", i, it.Problems, out)
				}
				if diff := cmp.Diff(canonical(t, valid[i].Record), canonical(t, it.Record)); diff != "" {
					t.Fatalf("person %d changed (-before +after):\n%s", i, diff)
				}
			}
		default:
			t.Fatalf("unknown kind %q", m.Kind)
		}
	})
}
