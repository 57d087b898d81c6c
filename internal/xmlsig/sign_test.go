package xmlsig

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/psykosocial/exchange/internal/xmlsafe"
)

// TestSignProducesTheProfile checks every element and algorithm Sign writes.
func TestSignProducesTheProfile(t *testing.T) {
	pk := testPKI(t)
	for _, tc := range []struct {
		name     string
		signer   *authority
		method   string
		valueLen int
	}{
		{"RSA-3072", pk.rsa, dsig.RSASHA256SignatureMethod, 384},
		{"P-256", pk.ec, dsig.ECDSASHA256SignatureMethod, 64},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := signed(t, tc.signer)
			d := etree.NewDocument()
			if err := d.ReadFromBytes(out); err != nil {
				t.Fatal(err)
			}
			root := d.Root()
			kids := root.ChildElements()
			sig := kids[0]
			if sig.Tag != "Signature" || sig.NamespaceURI() != namespaceDSig {
				t.Fatalf("first child is %s in %q, want ds:Signature", sig.Tag, sig.NamespaceURI())
			}
			want := map[string]string{
				"SignedInfo/CanonicalizationMethod":         algExcC14N,
				"SignedInfo/SignatureMethod":                tc.method,
				"SignedInfo/Reference/Transforms/Transform": algEnveloped,
				"SignedInfo/Reference/DigestMethod":         algSHA256,
			}
			for path, alg := range want {
				if got := find(t, sig, path).SelectAttrValue("Algorithm", ""); got != alg {
					t.Errorf("%s Algorithm = %q, want %q", path, got, alg)
				}
			}
			tr := sig.FindElements("SignedInfo/Reference/Transforms/Transform")
			if len(tr) != 2 || tr[1].SelectAttrValue("Algorithm", "") != algExcC14N {
				t.Errorf("transforms are not exactly enveloped-signature + exclusive C14N")
			}
			if uri := find(t, sig, "SignedInfo/Reference").SelectAttrValue("URI", ""); uri != "#d1" {
				t.Errorf("Reference URI = %q, want #d1", uri)
			}
			certs := sig.FindElements("KeyInfo/X509Data/X509Certificate")
			if len(certs) != 1 {
				t.Fatalf("%d certificates in KeyInfo, want 1", len(certs))
			}
			der, err := base64.StdEncoding.DecodeString(certs[0].Text())
			if err != nil || !bytes.Equal(der, tc.signer.cert.Raw) {
				t.Errorf("KeyInfo does not hold the signer's certificate")
			}
			value, err := base64.StdEncoding.DecodeString(find(t, sig, "SignatureValue").Text())
			if err != nil || len(value) != tc.valueLen {
				t.Errorf("SignatureValue is %d bytes (err %v), want %d", len(value), err, tc.valueLen)
			}
			if !bytes.HasPrefix(out, []byte(`<?xml version="1.0" encoding="UTF-8"?>`)) {
				t.Errorf("the XML declaration was lost")
			}
		})
	}
}

// TestSignDoesNotModifyItsInput checks that Sign works on copies.
func TestSignDoesNotModifyItsInput(t *testing.T) {
	pk := testPKI(t)
	d := etree.NewDocument()
	if err := d.ReadFromBytes(sampleDoc("d1")); err != nil {
		t.Fatal(err)
	}
	before, _ := d.WriteToBytes()
	out, err := Sign(d.Root(), pk.ec.key, pk.ec.cert)
	if err != nil {
		t.Fatal(err)
	}
	after, _ := d.WriteToBytes()
	if !bytes.Equal(before, after) {
		t.Errorf("Sign modified the element it was given")
	}
	if out == d.Root() || out.Parent() != nil {
		t.Errorf("Sign did not return a new, detached element")
	}
}

// TestSignRoundTrip signs documents with awkward content and checks that
// Verify returns the same content.
func TestSignRoundTrip(t *testing.T) {
	pk := testPKI(t)
	v := testVerifier(t, testNow)
	for _, tc := range []struct{ name, doc string }{
		{"sample", string(sampleDoc("d1"))},
		{"no declaration", `<Doc xmlns="urn:test:xmlsig" ID="d1"><A>x</A></Doc>`},
		{"carriage return and tab", `<Doc xmlns="urn:test:xmlsig" ID="d1" note="a&#x9;b&#xA;c"><A>line&#xD;
two</A></Doc>`},
		{"prefixed root, ds already declared", `<t:Doc xmlns:t="urn:test:xmlsig" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" ID="m-1"><t:A>x</t:A></t:Doc>`},
		{"unused namespace declarations", `<Doc xmlns="urn:test:xmlsig" xmlns:u="urn:unused" ID="d1"><A xmlns:w="urn:w">x</A></Doc>`},
		{"ds prefix bound elsewhere", `<ds:Doc xmlns:ds="urn:test:xmlsig" ID="d1"><ds:A>x</ds:A></ds:Doc>`},
		{"empty root", `<Doc xmlns="urn:test:xmlsig" ID="d1"/>`},
	} {
		for _, a := range []*authority{pk.rsa, pk.ec} {
			t.Run(tc.name+"/"+a.name, func(t *testing.T) {
				out, err := SignDocument([]byte(tc.doc), a.key, a.cert)
				if err != nil {
					t.Fatal(err)
				}
				got, err := v.Verify(out, []*x509.Certificate{a.cert})
				if err != nil {
					t.Fatalf("Verify: %v\n%s", err, out)
				}
				orig, err := xmlsafe.Parse([]byte(tc.doc), xmlsafe.Limits{})
				if err != nil {
					t.Fatal(err)
				}
				if !sameContent(t, orig.Doc.Root(), got.Element) {
					t.Errorf("verified content differs from the signed content:\n%s\n%s", canonicalBytes(t, orig.Doc.Root()), canonicalBytes(t, got.Element))
				}
				// Bytes must carry the same content to an adapter.
				b, err := got.Bytes()
				if err != nil {
					t.Fatal(err)
				}
				again, err := xmlsafe.Parse(b, xmlsafe.Limits{})
				if err != nil {
					t.Fatalf("Bytes is not acceptable XML: %v", err)
				}
				if !sameContent(t, orig.Doc.Root(), again.Doc.Root()) {
					t.Errorf("Bytes changed the content:\n%s", b)
				}
			})
		}
	}
}

// sameContent compares two elements by their exclusive C14N forms.
func sameContent(tb testing.TB, a, b *etree.Element) bool {
	tb.Helper()
	c := dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	ca, err := c.Canonicalize(a.Copy())
	if err != nil {
		tb.Fatal(err)
	}
	cb, err := c.Canonicalize(b.Copy())
	if err != nil {
		tb.Fatal(err)
	}
	return bytes.Equal(ca, cb)
}

// TestSignRefuses lists what Sign and SignDocument refuse to sign.
func TestSignRefuses(t *testing.T) {
	pk := testPKI(t)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	p224, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		doc  string
		key  crypto.Signer
		cert *x509.Certificate
		want error
	}{
		{"no ID", `<Doc xmlns="urn:test:xmlsig"/>`, pk.ec.key, pk.ec.cert, ErrNotSignable},
		{"empty ID", `<Doc xmlns="urn:test:xmlsig" ID=""/>`, pk.ec.key, pk.ec.cert, ErrNotSignable},
		{"ID starting with a digit", `<Doc xmlns="urn:test:xmlsig" ID="1d"/>`, pk.ec.key, pk.ec.cert, ErrNotSignable},
		{"ID with a space", `<Doc xmlns="urn:test:xmlsig" ID="d 1"/>`, pk.ec.key, pk.ec.cert, ErrNotSignable},
		{"ID too long", `<Doc xmlns="urn:test:xmlsig" ID="d` + strings.Repeat("x", maxIDBytes) + `"/>`, pk.ec.key, pk.ec.cert, ErrNotSignable},
		{"prefixed ID", `<Doc xmlns="urn:test:xmlsig" xmlns:p="urn:p" p:ID="d1"/>`, pk.ec.key, pk.ec.cert, ErrNotSignable},
		{"ID and prefixed ID", `<Doc xmlns="urn:test:xmlsig" xmlns:p="urn:p" ID="d1" p:ID="d2"/>`, pk.ec.key, pk.ec.cert, ErrNotSignable},
		{"repeated ID", `<Doc xmlns="urn:test:xmlsig" ID="d1"><A Id="d1"/></Doc>`, pk.ec.key, pk.ec.cert, ErrNotSignable},
		{"already signed", string(signed(t, pk.ec)), pk.ec.key, pk.ec.cert, ErrNotSignable},
		{"comment", `<Doc xmlns="urn:test:xmlsig" ID="d1"><!-- x --></Doc>`, pk.ec.key, pk.ec.cert, ErrMalformed},
		{"DOCTYPE", `<!DOCTYPE Doc><Doc xmlns="urn:test:xmlsig" ID="d1"/>`, pk.ec.key, pk.ec.cert, ErrMalformed},
		{"certificate of another key", `<Doc xmlns="urn:test:xmlsig" ID="d1"/>`, pk.ec.key, pk.other.cert, ErrKeyMismatch},
		{"no certificate", `<Doc xmlns="urn:test:xmlsig" ID="d1"/>`, pk.ec.key, nil, ErrKeyMismatch},
		{"no key", `<Doc xmlns="urn:test:xmlsig" ID="d1"/>`, nil, pk.ec.cert, ErrUnsupportedKey},
		{"Ed25519 key", `<Doc xmlns="urn:test:xmlsig" ID="d1"/>`, edKey, pk.ec.cert, ErrUnsupportedKey},
		{"P-224 key", `<Doc xmlns="urn:test:xmlsig" ID="d1"/>`, p224, pk.ec.cert, ErrUnsupportedKey},
		{"RSA-1024 key", `<Doc xmlns="urn:test:xmlsig" ID="d1"/>`, pk.rsaWeak.key, pk.rsaWeak.cert, ErrUnsupportedKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := SignDocument([]byte(tc.doc), tc.key, tc.cert)
			if !errors.Is(err, tc.want) {
				t.Fatalf("SignDocument error = %v, want %v", err, tc.want)
			}
			if out != nil {
				t.Errorf("SignDocument returned output with an error")
			}
		})
	}
	t.Run("nil root", func(t *testing.T) {
		if _, err := Sign(nil, pk.ec.key, pk.ec.cert); !errors.Is(err, ErrNotSignable) {
			t.Errorf("Sign(nil) error = %v, want ErrNotSignable", err)
		}
	})
	t.Run("not a root", func(t *testing.T) {
		d := etree.NewDocument()
		if err := d.ReadFromString(`<Doc><Inner ID="i1"/></Doc>`); err != nil {
			t.Fatal(err)
		}
		if _, err := Sign(d.Root().SelectElement("Inner"), pk.ec.key, pk.ec.cert); !errors.Is(err, ErrNotSignable) {
			t.Errorf("Sign(inner element) error = %v, want ErrNotSignable", err)
		}
	})
}

// derSigner is a crypto.Signer that breaks the ECDSA convention and
// returns raw r||s already (as Vault transit does with marshaling jws).
type derSigner struct{ *ecdsa.PrivateKey }

func (s derSigner) Sign(_ io.Reader, digest []byte, _ crypto.SignerOpts) ([]byte, error) {
	r, ss, err := ecdsa.Sign(rand.Reader, s.PrivateKey, digest)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 64)
	r.FillBytes(out[:32])
	ss.FillBytes(out[32:])
	return out, nil
}

// TestSignRefusesANonDERSigner checks that a signer returning r||s is
// caught instead of being wrapped twice.
func TestSignRefusesANonDERSigner(t *testing.T) {
	pk := testPKI(t)
	_, err := SignDocument(sampleDoc("d1"), derSigner{pk.ec.key.(*ecdsa.PrivateKey)}, pk.ec.cert)
	if err == nil || !strings.Contains(err.Error(), "ASN.1 DER") {
		t.Fatalf("SignDocument with an r||s signer: error = %v, want a DER complaint", err)
	}
}

// TestECDSAConversions checks derToRaw and rawToDER against each other and
// against crypto/ecdsa.
func TestECDSAConversions(t *testing.T) {
	for _, curve := range []elliptic.Curve{elliptic.P256(), elliptic.P384(), elliptic.P521()} {
		t.Run(curve.Params().Name, func(t *testing.T) {
			key, err := ecdsa.GenerateKey(curve, rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			half := coordinateSize(curve)
			digest := make([]byte, 32)
			for i := 0; i < 20; i++ { // some r, s have leading zero bytes
				digest[0] = byte(i)
				der, err := ecdsa.SignASN1(rand.Reader, key, digest)
				if err != nil {
					t.Fatal(err)
				}
				raw, err := derToRaw(der, half)
				if err != nil || len(raw) != 2*half {
					t.Fatalf("derToRaw: %d bytes, %v", len(raw), err)
				}
				back, err := rawToDER(raw, half)
				if err != nil || !ecdsa.VerifyASN1(&key.PublicKey, digest, back) {
					t.Fatalf("rawToDER does not give a verifying signature: %v", err)
				}
			}
			if _, err := rawToDER(make([]byte, 2*half-1), half); err == nil {
				t.Errorf("rawToDER accepted a short value")
			}
			if _, err := derToRaw([]byte{0x30, 0x00}, half); err == nil {
				t.Errorf("derToRaw accepted an empty sequence")
			}
		})
	}
}
