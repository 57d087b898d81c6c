package xmlsig

import (
	"crypto/x509"
	"errors"
	"testing"

	"github.com/psykosocial/exchange/internal/xmlsafe"
)

// sentinels are the errors a refusal of Verify may wrap.
var sentinels = []error{
	ErrTooLarge, ErrMalformed, ErrNoSignature, ErrSignatureCount, ErrSignaturePlacement,
	ErrSignatureShape, ErrReference, ErrAlgorithm, ErrKeyInfo, ErrUntrustedCertificate,
	ErrNoPinnedCertificate, ErrCertificateExpired, ErrCertificateNotYetValid, ErrBadSignature,
}

// FuzzVerify feeds Verify mutations of valid signed documents and of every
// hostile shape of TestVerify. Properties:
//   - Verify never panics;
//   - a nil error comes with an element and one of the pinned certificates,
//     and the element's content is exactly the content that was signed
//     (nothing the fuzzer invents can pass as signed);
//   - an error is a *VerifyError wrapping one of the sentinels, with no
//     result and a short message.
//
// The test PKI is deterministic, so the seeds made by the fuzzing
// coordinator verify in every worker.
func FuzzVerify(f *testing.F) {
	pk := testPKI(f)
	for _, tc := range verifyCases(f) {
		if len(tc.doc) <= 64<<10 {
			f.Add(tc.doc)
		}
	}
	signedContent, err := xmlsafe.Parse(sampleDoc("d1"), xmlsafe.Limits{})
	if err != nil {
		f.Fatal(err)
	}
	pinned := []*x509.Certificate{pk.rsa.cert, pk.ec.cert, pk.ecNext.cert}
	v := testVerifier(f, testNow)

	f.Fuzz(func(t *testing.T, doc []byte) {
		got, err := v.Verify(doc, pinned)
		if err == nil {
			if got == nil || got.Element == nil || got.Certificate == nil {
				t.Fatalf("nil error with an incomplete result %+v", got)
			}
			known := false
			for _, c := range pinned {
				known = known || got.Certificate == c
			}
			if !known {
				t.Fatalf("the result names a certificate that was not pinned")
			}
			if !sameContent(t, signedContent.Doc.Root(), got.Element) {
				t.Fatalf("accepted content that was never signed:\n%s", canonicalBytes(t, got.Element))
			}
			return
		}
		if got != nil {
			t.Fatalf("error %v with a result", err)
		}
		var ve *VerifyError
		if !errors.As(err, &ve) {
			t.Fatalf("error %v is not a *VerifyError", err)
		}
		matched := false
		for _, s := range sentinels {
			matched = matched || errors.Is(err, s)
		}
		if !matched {
			t.Fatalf("error %v wraps no sentinel", err)
		}
		if n := len(err.Error()); n > 400 {
			t.Fatalf("error message of %d bytes: %s", n, err)
		}
	})
}
