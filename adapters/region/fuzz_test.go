package region_test

import (
	"errors"
	"testing"

	"github.com/psykosocial/exchange/adapters"
	"github.com/psykosocial/exchange/internal/record"
)

// FuzzDecode checks, for any input: Decode never panics; it returns an
// error (record.Problems) or a message, never both or neither; every item
// has a record or problems, never both; and every valid record survives
// Encode then Decode unchanged (canonical JSON).
func FuzzDecode(f *testing.F) {
	for _, dir := range []string{validDir, invalidDir} {
		for _, ex := range examples(f, dir) {
			f.Add(ex.data)
		}
	}
	f.Add([]byte(`{"meddelelsestype":"epc-registrering/v1","registreringer":[null,{},[],"",1]}`))
	a := newAdapter(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := a.Decode(data)
		if (m == nil) == (err == nil) {
			t.Fatalf("Decode = %v, %v: want exactly one of message and error", m, err)
		}
		if err != nil {
			var ps record.Problems
			if !errors.As(err, &ps) || len(ps) == 0 {
				t.Fatalf("error %T %v is not a non-empty record.Problems", err, err)
			}
			return
		}
		if m.Header != nil {
			t.Fatal("a regional message has no header")
		}
		if m.Withdrawal != nil {
			out, err := a.Encode(m)
			if err != nil {
				t.Fatalf("Encode of a decoded withdrawal: %v", err)
			}
			back, err := a.Decode(out)
			if err != nil {
				t.Fatalf("Decode of the encoding: %v\n%s", err, out)
			}
			x, _ := record.MarshalCanonicalWithdrawal(m.Withdrawal)
			y, _ := record.MarshalCanonicalWithdrawal(back.Withdrawal)
			if string(x) != string(y) {
				t.Fatalf("withdrawal changed:\n%s\n%s", x, y)
			}
			return
		}
		for i, it := range m.Items {
			if it.Index != i {
				t.Fatalf("item %d has index %d", i, it.Index)
			}
			if (it.Record == nil) == (len(it.Problems) == 0) {
				t.Fatalf("item %d: record %v, problems %v", i, it.Record != nil, it.Problems)
			}
			if it.Record == nil {
				continue
			}
			one := *m
			one.Items = []adapters.Item{it}
			out, err := a.Encode(&one)
			if err != nil {
				t.Fatalf("Encode of a decoded record: %v", err)
			}
			back, err := a.Decode(out)
			if err != nil {
				t.Fatalf("Decode of the encoding: %v\n%s", err, out)
			}
			if len(back.Items) != 1 || back.Items[0].Record == nil {
				t.Fatalf("the encoding decodes to %+v\n%s", back.Items, out)
			}
			if x, y := canonical(t, it.Record), canonical(t, back.Items[0].Record); x != y {
				t.Fatalf("record changed:\n%s\n%s", x, y)
			}
		}
	})
}
