package xmlsig_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"time"

	"github.com/psykosocial/exchange/internal/clock"
	"github.com/psykosocial/exchange/internal/xmlsig"
)

// A municipality signs its document; the gateway verifies it against the
// municipality's pinned certificate and uses only what Verify returned.
func Example() {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "Aalborg Kommune - example"},
		NotBefore:    time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:     time.Date(2029, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	cert, _ := x509.ParseCertificate(der)

	doc := []byte(`<Doc xmlns="urn:example" ID="m-1"><Sender>municipality:0851</Sender></Doc>`)
	signed, err := xmlsig.SignDocument(doc, key, cert)
	if err != nil {
		fmt.Println(err)
		return
	}

	v, err := xmlsig.NewVerifier(xmlsig.VerifierConfig{Clock: clock.Fixed(time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC))})
	if err != nil {
		fmt.Println(err)
		return
	}
	got, err := v.Verify(signed, []*x509.Certificate{cert})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(got.Element.Tag, got.Element.SelectAttrValue("ID", ""), got.Element.SelectElement("Sender").Text())
	fmt.Println(got.Certificate.Subject.CommonName)

	late, _ := xmlsig.NewVerifier(xmlsig.VerifierConfig{Clock: clock.Fixed(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))})
	_, err = late.Verify(signed, []*x509.Certificate{cert})
	fmt.Println(err)
	// Output:
	// Doc m-1 municipality:0851
	// Aalborg Kommune - example
	// xmlsig: certificate: certificate expired: the signer's certificate expired at 2029-01-01T00:00:00Z
}
