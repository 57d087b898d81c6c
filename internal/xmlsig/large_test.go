package xmlsig

import (
	"crypto/x509"
	"errors"
	"strings"
	"testing"

	"github.com/psykosocial/exchange/internal/clock"
	"github.com/psykosocial/exchange/internal/xmlsafe"
)

// docWithElements is a signable document of exactly n elements.
func docWithElements(n int) []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<Doc xmlns="urn:test:xmlsig" ID="d1">`)
	for i := 1; i < n; i++ {
		b.WriteString("\n  <Item>x</Item>")
	}
	b.WriteString("\n</Doc>\n")
	return []byte(b.String())
}

// TestLargeDocumentsVerify: goxmldsig walks at most 1,000 elements while it
// looks for the signature; with the signature as the root's first child a
// document far larger than that (the size of a police list of 2,000 full
// persons) signs and verifies, for both key types. Only the caller's parse
// limits bound it: one element past MaxElements is refused as malformed
// before anything is verified.
func TestLargeDocumentsVerify(t *testing.T) {
	pk := testPKI(t)
	const n = 200_000
	lim := xmlsafe.Limits{MaxBytes: 16 << 20, MaxElements: n + 14, MaxDepth: 8}
	v, err := NewVerifier(VerifierConfig{Clock: clock.Fixed(testNow), Limits: lim})
	if err != nil {
		t.Fatal(err)
	}
	doc := docWithElements(n)
	for name, k := range map[string]*authority{"rsa": pk.rsa, "ec": pk.ec} {
		out, err := SignDocument(doc, k.key, k.cert)
		if err != nil {
			t.Fatalf("%s: signing %d elements: %v", name, n, err)
		}
		got, err := v.Verify(out, []*x509.Certificate{k.cert})
		if err != nil {
			t.Fatalf("%s: a document of %d elements does not verify: %v", name, n, err)
		}
		if kids := len(got.Element.ChildElements()); kids != n-1 {
			t.Fatalf("%s: verified element has %d children, want %d", name, kids, n-1)
		}
	}
	tight := lim
	tight.MaxElements = n + 13
	v2, err := NewVerifier(VerifierConfig{Clock: clock.Fixed(testNow), Limits: tight})
	if err != nil {
		t.Fatal(err)
	}
	out, err := SignDocument(doc, pk.ec.key, pk.ec.cert)
	if err != nil {
		t.Fatal(err)
	}
	_, err = v2.Verify(out, []*x509.Certificate{pk.ec.cert})
	var ve *VerifyError
	if !errors.As(err, &ve) || ve.Check != CheckParse || !errors.Is(err, ErrMalformed) {
		t.Fatalf("one element past the limit: %v, want a parse refusal", err)
	}
}

// TestSignatureComesFirst: Sign puts the signature before the root's first
// child element (after the indentation that precedes it), and a signature
// moved to the end of the root, however valid otherwise, is refused as
// misplaced before goxmldsig sees it.
func TestSignatureComesFirst(t *testing.T) {
	pk := testPKI(t)
	out, err := SignDocument(docWithElements(5), pk.ec.key, pk.ec.cert)
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	sigAt, itemAt := strings.Index(s, "<ds:Signature"), strings.Index(s, "<Item>")
	if sigAt < 0 || itemAt < 0 || sigAt > itemAt {
		t.Fatalf("the signature is not the root's first child:\n%s", s)
	}
	end := strings.Index(s, "</ds:Signature>") + len("</ds:Signature>")
	moved := s[:sigAt] + s[end:]
	moved = strings.Replace(moved, "</Doc>", s[sigAt:end]+"</Doc>", 1)
	_, err = testVerifier(t, testNow).Verify([]byte(moved), []*x509.Certificate{pk.ec.cert})
	var ve *VerifyError
	if !errors.As(err, &ve) || !errors.Is(err, ErrSignaturePlacement) {
		t.Fatalf("a signature at the end: %v, want ErrSignaturePlacement", err)
	}
}
