package xmlsig

import (
	"crypto/x509"
	"testing"
)

// BenchmarkSign signs a ~2 KB municipal-like document (sampleDoc) with
// SignDocument: parse, canonicalise, digest, sign, write.
func BenchmarkSign(b *testing.B) {
	pk := testPKI(b)
	doc := sampleDoc("d1")
	for _, a := range []*authority{pk.rsa, pk.ec} {
		b.Run(keyName(a), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(doc)))
			for b.Loop() {
				if _, err := SignDocument(doc, a.key, a.cert); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerify verifies the same document signed by Sign, with the
// signer's certificate pinned.
func BenchmarkVerify(b *testing.B) {
	pk := testPKI(b)
	v := testVerifier(b, testNow)
	for _, a := range []*authority{pk.rsa, pk.ec} {
		doc := signed(b, a)
		pinned := []*x509.Certificate{a.cert}
		b.Run(keyName(a), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(doc)))
			for b.Loop() {
				if _, err := v.Verify(doc, pinned); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// keyName names the key type of a for benchmark names.
func keyName(a *authority) string {
	if a.cert.PublicKeyAlgorithm == x509.RSA {
		return "RSA-3072"
	}
	return "P-256"
}
