package municipality

import (
	"errors"
	"testing"

	"github.com/psykosocial/exchange/adapters"
	"github.com/psykosocial/exchange/internal/record"
)

// FuzzDecode checks, for any input: Decode never panics; it returns an
// error (record.Problems) or a message, never both; every item has a record
// or problems, never both; and every valid record (and withdrawal) comes back
// unchanged through Encode and Decode.
func FuzzDecode(f *testing.F) {
	for _, dir := range []string{validDir, invalidDir} {
		for _, p := range exampleFiles(f, dir, ".xml") {
			f.Add(readFile(f, p))
		}
	}
	a := newAdapter(f)
	for _, p := range exampleFiles(f, commonExamplesDir, ".json") {
		r, err := record.Decode(readFile(f, p))
		if err != nil {
			f.Fatal(err)
		}
		out, err := a.Encode(&adapters.Message{Kind: adapters.KindRegistration, Header: testHeader(), Items: []adapters.Item{{Record: r}}})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(out)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := a.Decode(data)
		if (m == nil) == (err == nil) {
			t.Fatalf("Decode returned message %v and error %v", m, err)
		}
		if err != nil {
			var ps record.Problems
			if !errors.As(err, &ps) || len(ps) == 0 {
				t.Fatalf("error is not a non-empty record.Problems: %T %v", err, err)
			}
			return
		}
		if m.Header == nil {
			t.Fatalf("message without header")
		}
		again := &adapters.Message{Kind: m.Kind, Header: m.Header, Withdrawal: m.Withdrawal}
		for i, it := range m.Items {
			if it.Index != i || (it.Record == nil) == (len(it.Problems) == 0) {
				t.Fatalf("item %d: index %d, record %v, problems %v", i, it.Index, it.Record != nil, it.Problems)
			}
			if it.Record != nil {
				again.Items = append(again.Items, adapters.Item{Index: len(again.Items), Record: it.Record})
			}
		}
		if m.Kind == adapters.KindRegistration && len(again.Items) == 0 {
			return
		}
		out, err := a.Encode(again)
		if err != nil {
			t.Fatalf("Encode of decoded valid records: %v", err)
		}
		back, err := a.Decode(out)
		if err != nil {
			t.Fatalf("Decode(Encode): %v\n%s", err, out)
		}
		if len(back.Items) != len(again.Items) {
			t.Fatalf("%d items came back, %d went out", len(back.Items), len(again.Items))
		}
		for i, it := range again.Items {
			if back.Items[i].Record == nil {
				t.Fatalf("item %d refused after round trip: %v", i, back.Items[i].Problems)
			}
			if w, g := canonical(t, it.Record), canonical(t, back.Items[i].Record); w != g {
				t.Fatalf("item %d changed:\n%s\n%s", i, w, g)
			}
		}
		if m.Withdrawal != nil {
			w, _ := record.MarshalCanonicalWithdrawal(m.Withdrawal)
			g, _ := record.MarshalCanonicalWithdrawal(back.Withdrawal)
			if string(w) != string(g) {
				t.Fatalf("withdrawal changed:\n%s\n%s", w, g)
			}
		}
	})
}
