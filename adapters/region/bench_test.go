package region_test

import (
	"fmt"
	"io/fs"
	"testing"

	"github.com/psykosocial/exchange/adapters"
	"github.com/psykosocial/exchange/adapters/region"
	"github.com/psykosocial/exchange/schemas"
)

// typical is a fully filled record as a regional system writes it (with
// its quirks: CPR with hyphen, municipality codes as numbers, 8-digit phone).
const typical = validDir + "/aarhus-resident-hurt-in-copenhagen-fire.json"

// listOf returns a registration of n copies of the typical record, each with
// its own record id, and the message it decodes to.
func listOf(b *testing.B, a *region.Adapter, n int) ([]byte, *adapters.Message) {
	b.Helper()
	data, err := fs.ReadFile(schemas.FS, typical)
	if err != nil {
		b.Fatal(err)
	}
	m, err := a.Decode(data)
	if err != nil || m.Items[0].Record == nil {
		b.Fatal(err, m.Items[0].Problems)
	}
	if n == 1 {
		return data, m
	}
	list := &adapters.Message{Kind: adapters.KindRegistration}
	for i := range n {
		r := m.Items[0].Record.Clone()
		r.RecordID = fmt.Sprintf("5a1e7c2b-3d4f-4a6b-9c8d-%012x", i)
		list.Items = append(list.Items, adapters.Item{Index: i, Record: r})
	}
	out, err := a.Encode(list)
	if err != nil {
		b.Fatal(err)
	}
	return out, list
}

func BenchmarkDecode(b *testing.B) {
	for _, n := range []int{1, 500} {
		b.Run(fmt.Sprintf("records=%d", n), func(b *testing.B) {
			a := newAdapter(b)
			data, _ := listOf(b, a, n)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				m, err := a.Decode(data)
				if err != nil || len(m.Records()) != n {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
		})
	}
}

func BenchmarkEncode(b *testing.B) {
	for _, n := range []int{1, 500} {
		b.Run(fmt.Sprintf("records=%d", n), func(b *testing.B) {
			a := newAdapter(b)
			_, m := listOf(b, a, n)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := a.Encode(m); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
		})
	}
}
