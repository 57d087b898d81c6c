package municipality

import (
	"bytes"
	"testing"

	"github.com/psykosocial/exchange/adapters"
	"github.com/psykosocial/exchange/internal/xmlsafe"
)

// benchDocuments returns a typical single-registration document and a list
// of 500 registrations built from it.
func benchDocuments(b *testing.B) (single, list []byte) {
	b.Helper()
	single = readFile(b, validDir+"/gateway-til-roskilde-beskyttet-adresse.xml")
	start := bytes.Index(single, []byte("  <Registrering>"))
	end := bytes.Index(single, []byte("</Registrering>\n")) + len("</Registrering>\n")
	var buf bytes.Buffer
	buf.Write(single[:start])
	for range MaxRegistrations {
		buf.Write(single[start:end])
	}
	buf.Write(single[end:])
	return single, buf.Bytes()
}

func BenchmarkDecode(b *testing.B) {
	a := newAdapter(b)
	single, list := benchDocuments(b)
	for _, bc := range []struct {
		name    string
		data    []byte
		records int
	}{{"single", single, 1}, {"list500", list, MaxRegistrations}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.data)))
			for b.Loop() {
				m, err := a.Decode(bc.data)
				if err != nil || len(m.Items) != bc.records || m.Items[0].Record == nil {
					b.Fatalf("decode: %v", err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(bc.records), "ns/record")
		})
	}
}

func BenchmarkEncode(b *testing.B) {
	a := newAdapter(b)
	single, list := benchDocuments(b)
	for _, bc := range []struct {
		name string
		data []byte
	}{{"single", single}, {"list500", list}} {
		m, err := a.Decode(bc.data)
		if err != nil {
			b.Fatal(err)
		}
		msg := &adapters.Message{Kind: m.Kind, Header: m.Header, Items: m.Items}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := a.Encode(msg); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(msg.Items)), "ns/record")
		})
	}
}

// BenchmarkDecodeSplit separates the two halves of Decode for a typical
// single record: the hardened parse (internal/xmlsafe) and this package's
// walk plus validation of the parsed tree (DecodeElement).
func BenchmarkDecodeSplit(b *testing.B) {
	a := newAdapter(b)
	single, _ := benchDocuments(b)
	b.Run("xmlsafe.Parse", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := xmlsafe.Parse(single, parseLimits()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("DecodeElement", func(b *testing.B) {
		doc, err := xmlsafe.Parse(single, parseLimits())
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			m, err := a.DecodeElement(doc.Doc.Root(), doc.Line)
			if err != nil || m.Items[0].Record == nil {
				b.Fatal(err)
			}
		}
	})
}
