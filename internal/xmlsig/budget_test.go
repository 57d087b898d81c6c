package xmlsig

import (
	"crypto/x509"
	"errors"
	"strings"
	"testing"
)

// docWithElements is a signable document of exactly n elements.
func docWithElements(n int) []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<Doc xmlns="urn:test:xmlsig" ID="d1">`)
	for i := 1; i < n; i++ {
		b.WriteString("<Item>x</Item>")
	}
	b.WriteString("</Doc>\n")
	return []byte(b.String())
}

// TestSignedElementBudget: the largest document the budget admits signs
// and verifies (goxmldsig's traversal budget holds); one element more is
// refused up front with ErrTooLarge and a sentence that says to split the
// list, both when signing and when verifying, instead of the misleading
// "signature does not match" goxmldsig gives beyond its budget.
func TestSignedElementBudget(t *testing.T) {
	pk := testPKI(t)
	fits := MaxSignedElements - signatureElements
	out, err := SignDocument(docWithElements(fits), pk.ec.key, pk.ec.cert)
	if err != nil {
		t.Fatalf("signing %d elements: %v", fits, err)
	}
	if _, err := testVerifier(t, testNow).Verify(out, []*x509.Certificate{pk.ec.cert}); err != nil {
		t.Fatalf("the largest admitted document does not verify: %v", err)
	}
	_, err = SignDocument(docWithElements(fits+1), pk.ec.key, pk.ec.cert)
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "split the list") {
		t.Fatalf("signing one element more: %v, want ErrTooLarge saying to split the list", err)
	}
	// A larger document (here with its signature moved in by hand) is
	// refused before goxmldsig sees it.
	big := strings.Replace(string(out), "<Item>x</Item>", "<Item>x</Item><Item>x</Item>", 1)
	_, err = testVerifier(t, testNow).Verify([]byte(big), []*x509.Certificate{pk.ec.cert})
	var ve *VerifyError
	if !errors.As(err, &ve) || ve.Check != CheckSize || !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "split the list") {
		t.Fatalf("verifying one element more: %v, want a size refusal", err)
	}
}
