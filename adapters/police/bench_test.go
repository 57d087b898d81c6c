package police

import (
	"path/filepath"
	"testing"

	"github.com/psykosocial/exchange/adapters"
	"github.com/psykosocial/exchange/internal/xmlsafe"
)

// benchDocs returns a single-person list and a 500-person list of a full
// person (identity, contact, address, consent with follow-up: 37 elements).
func benchDocs(b *testing.B, a *Adapter) (single, list []byte) {
	b.Helper()
	m, err := a.Decode(readFile(b, filepath.Join(validDir, "brand-aalborg-nordjylland.xml")))
	if err != nil {
		b.Fatal(err)
	}
	single, err = a.Encode(&adapters.Message{Kind: adapters.KindRegistration, Header: m.Header, Items: m.Items[:1]})
	if err != nil {
		b.Fatal(err)
	}
	return single, bigList(b, a, 500)
}

func benchDecode(b *testing.B, data []byte, n int) {
	a := newAdapter(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		m, err := a.Decode(data)
		if err != nil || len(m.Records()) != n {
			b.Fatalf("Decode: %v", err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
}

func benchEncode(b *testing.B, data []byte, n int) {
	a := newAdapter(b)
	m, err := a.Decode(data)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := a.Encode(m); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
}

// BenchmarkDecode measures Decode (hardened parse, decode, validation).
func BenchmarkDecode(b *testing.B) {
	single, list := benchDocs(b, newAdapter(b))
	b.Run("single", func(b *testing.B) { benchDecode(b, single, 1) })
	b.Run("list500", func(b *testing.B) { benchDecode(b, list, 500) })
	// The common case of a police list: a person without a consent block (19 elements).
	b.Run("list500-without-consent", func(b *testing.B) { benchDecode(b, bigListOf(b, newAdapter(b), 500, 1), 500) })
	// The hardened parse alone (xmlsafe.Parse), to tell its share from the adapter's.
	b.Run("list500-xmlsafe-only", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := xmlsafe.Parse(list, parseLimits); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*500), "ns/record")
	})
}

// BenchmarkEncode measures Encode of the same documents.
func BenchmarkEncode(b *testing.B) {
	single, list := benchDocs(b, newAdapter(b))
	b.Run("single", func(b *testing.B) { benchEncode(b, single, 1) })
	b.Run("list500", func(b *testing.B) { benchEncode(b, list, 500) })
}
