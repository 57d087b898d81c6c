package xmlsig

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/psykosocial/exchange/internal/clock"
	"github.com/psykosocial/exchange/internal/xmlsafe"
)

// signRaw signs doc with goxmldsig alone (no profile, no r||s conversion),
// after configure has adjusted the signing context: the way to make
// documents that are validly signed but outside the profile.
func signRaw(tb testing.TB, a *authority, doc []byte, configure func(*dsig.SigningContext)) []byte {
	tb.Helper()
	d := etree.NewDocument()
	if err := d.ReadFromBytes(doc); err != nil {
		tb.Fatal(err)
	}
	ctx, err := dsig.NewSigningContext(a.key, [][]byte{a.cert.Raw})
	if err != nil {
		tb.Fatal(err)
	}
	ctx.IdAttribute = idAttr
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	if configure != nil {
		configure(ctx)
	}
	// goxmldsig's SignEnveloped appends the signature; the profile wants it
	// first, where Sign puts it. The enveloped transform removes it before
	// digesting, so its place changes nothing that is signed.
	sig, err := ctx.ConstructSignature(d.Root().Copy(), true)
	if err != nil {
		tb.Fatal(err)
	}
	root := d.Root().Copy()
	root.InsertChildAt(firstChildIndex(root), sig)
	d.SetRoot(root)
	d.WriteSettings = etree.WriteSettings{CanonicalText: true, CanonicalAttrVal: true}
	out, err := d.WriteToBytes()
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// verifyCase is one row of TestVerify.
type verifyCase struct {
	name   string
	doc    []byte
	pinned []*x509.Certificate // nil: the default signer's certificate
	now    time.Time           // zero: testNow
	limits xmlsafe.Limits
	want   error // nil: must verify
	check  Check // the check that must refuse, when want is not nil
	signer *authority
}

// verifyCases builds the table: the valid shapes, and every hostile shape
// of SECURITY.md plus the profile's own.
func verifyCases(tb testing.TB) []verifyCase {
	pk := testPKI(tb)
	rsaDoc, ecDoc := signed(tb, pk.rsa), signed(tb, pk.ec)
	add := func(parent *etree.Element, xml string) {
		d := etree.NewDocument()
		if err := d.ReadFromString(`<w xmlns:ds="http://www.w3.org/2000/09/xmldsig#" xmlns="urn:test:xmlsig">` + xml + `</w>`); err != nil {
			tb.Fatal(err)
		}
		for _, c := range d.Root().ChildElements() {
			parent.AddChild(c.Copy())
		}
	}
	setAlg := func(path, alg string) func(root, sig *etree.Element) {
		return func(_, sig *etree.Element) { find(tb, sig, path).CreateAttr("Algorithm", alg) }
	}
	setURI := func(uri string) func(root, sig *etree.Element) {
		return func(_, sig *etree.Element) { find(tb, sig, "SignedInfo/Reference").CreateAttr("URI", uri) }
	}
	wrapBase64 := func(path string) func(root, sig *etree.Element) {
		return func(_, sig *etree.Element) {
			e := find(tb, sig, path)
			text := e.Text()
			var b strings.Builder
			b.WriteString("\n")
			for len(text) > 64 {
				b.WriteString(text[:64] + "\n")
				text = text[64:]
			}
			b.WriteString(text + "\n")
			e.SetText(b.String())
		}
	}
	rsaM := func(f func(root, sig *etree.Element)) []byte { return mutate(tb, rsaDoc, f) }
	ecM := func(f func(root, sig *etree.Element)) []byte { return mutate(tb, ecDoc, f) }
	replace := func(doc []byte, old, new string) []byte {
		if !bytes.Contains(doc, []byte(old)) {
			tb.Fatalf("replace: %q not in the document", old)
		}
		return bytes.Replace(doc, []byte(old), []byte(new), 1)
	}
	deep := func() []byte {
		return rsaM(func(root, _ *etree.Element) {
			e := find(tb, root, "Header")
			for i := 0; i < 40; i++ {
				e = e.CreateElement("N")
			}
		})
	}
	both := []*x509.Certificate{pk.ec.cert, pk.ecNext.cert}

	return []verifyCase{
		// Valid shapes.
		{name: "valid RSA-3072", doc: rsaDoc, signer: pk.rsa},
		{name: "valid P-256", doc: ecDoc, signer: pk.ec},
		{name: "rollover: signed with the next key, both pinned", doc: signed(tb, pk.ecNext), pinned: both, signer: pk.ecNext},
		{name: "rollover: signed with the current key, both pinned", doc: ecDoc, pinned: both, signer: pk.ec},
		{name: "line-wrapped base64 (RSA)", doc: rsaM(func(r, s *etree.Element) {
			wrapBase64("SignatureValue")(r, s)
			wrapBase64("KeyInfo/X509Data/X509Certificate")(r, s)
		}), signer: pk.rsa},
		{name: "line-wrapped base64 (P-256)", doc: ecM(wrapBase64("SignatureValue")), signer: pk.ec},
		{name: "valid at the last second of the certificate", doc: ecDoc, now: certNotAfter, signer: pk.ec},
		{name: "valid at the first second of the certificate", doc: ecDoc, now: certNotBefore, signer: pk.ec},

		// Tampering.
		{name: "tampered text", doc: replace(rsaDoc, "Sofie Lindberg", "Sonja Lindberg"), want: ErrBadSignature, check: CheckSignature},
		{name: "tampered text (P-256)", doc: replace(ecDoc, "0265", "0101"), want: ErrBadSignature, check: CheckSignature},
		{name: "tampered attribute", doc: replace(rsaDoc, `priority="days"`, `priority="acute"`), want: ErrBadSignature, check: CheckSignature},
		{name: "added element", doc: rsaM(func(root, _ *etree.Element) { find(tb, root, "Header").CreateElement("Extra") }), want: ErrBadSignature, check: CheckSignature},
		{name: "tampered SignatureValue", doc: rsaM(func(_, sig *etree.Element) {
			sv := find(tb, sig, "SignatureValue")
			v, _ := base64.StdEncoding.DecodeString(sv.Text())
			v[10] ^= 1
			sv.SetText(base64.StdEncoding.EncodeToString(v))
		}), want: ErrBadSignature, check: CheckSignature},
		{name: "tampered DigestValue", doc: rsaM(func(_, sig *etree.Element) {
			find(tb, sig, "SignedInfo/Reference/DigestValue").SetText(base64.StdEncoding.EncodeToString(make([]byte, 32)))
		}), want: ErrBadSignature, check: CheckSignature},
		{name: "ECDSA value in ASN.1 DER (goxmldsig's own encoding)", doc: signRaw(tb, pk.ec, sampleDoc("d1"), nil), want: ErrBadSignature, check: CheckSignature},

		// Certificates.
		{name: "signed by another authority", doc: signed(tb, pk.other), pinned: []*x509.Certificate{pk.ec.cert}, want: ErrUntrustedCertificate, check: CheckCertificate},
		{name: "another authority's certificate in KeyInfo", doc: ecM(func(_, sig *etree.Element) {
			find(tb, sig, "KeyInfo/X509Data/X509Certificate").SetText(base64.StdEncoding.EncodeToString(pk.other.cert.Raw))
		}), want: ErrUntrustedCertificate, check: CheckCertificate},
		{name: "the other pinned certificate in KeyInfo", doc: ecM(func(_, sig *etree.Element) {
			find(tb, sig, "KeyInfo/X509Data/X509Certificate").SetText(base64.StdEncoding.EncodeToString(pk.ecNext.cert.Raw))
		}), pinned: both, want: ErrBadSignature, check: CheckSignature},
		{name: "expired certificate", doc: ecDoc, now: certNotAfter.Add(time.Second), want: ErrCertificateExpired, check: CheckCertificate},
		{name: "certificate not yet valid", doc: ecDoc, now: certNotBefore.Add(-time.Second), want: ErrCertificateNotYetValid, check: CheckCertificate},
		{name: "ECDSA method with an RSA certificate", doc: rsaM(setAlg("SignedInfo/SignatureMethod", dsig.ECDSASHA256SignatureMethod)), signer: pk.rsa, want: ErrAlgorithm, check: CheckCertificate},
		{name: "pinned RSA-1024 certificate", doc: signRaw(tb, pk.rsaWeak, sampleDoc("d1"), nil), pinned: []*x509.Certificate{pk.rsaWeak.cert}, want: ErrAlgorithm, check: CheckCertificate},
		{name: "nothing pinned", doc: ecDoc, pinned: []*x509.Certificate{}, want: ErrNoPinnedCertificate, check: CheckCertificate},
		{name: "nil pinned", doc: ecDoc, pinned: []*x509.Certificate{nil}, want: ErrNoPinnedCertificate, check: CheckCertificate},
		{name: "too many pinned", doc: ecDoc, pinned: make([]*x509.Certificate, MaxPinned+1), want: ErrNoPinnedCertificate, check: CheckCertificate},

		// Number and place of signatures.
		{name: "no signature", doc: ecM(func(root, sig *etree.Element) { root.RemoveChild(sig) }), want: ErrNoSignature, check: CheckProfile},
		{name: "two signatures", doc: ecM(func(root, sig *etree.Element) { root.AddChild(sig.Copy()) }), want: ErrSignatureCount, check: CheckProfile},
		{name: "second signature deeper", doc: ecM(func(root, sig *etree.Element) { find(tb, root, "Header").AddChild(sig.Copy()) }), want: ErrSignatureCount, check: CheckProfile},
		{name: "Signature-named element in another namespace", doc: ecM(func(root, _ *etree.Element) {
			add(find(tb, root, "Incident"), `<Signature xmlns="urn:other"/>`)
		}), want: ErrSignatureCount, check: CheckProfile},
		{name: "signature last, not first", doc: ecM(func(root, sig *etree.Element) {
			root.RemoveChild(sig)
			root.AddChild(sig)
		}), want: ErrSignaturePlacement, check: CheckProfile},
		{name: "element before the signature", doc: ecM(func(root, _ *etree.Element) { root.InsertChildAt(0, etree.NewElement("Before")) }), want: ErrSignaturePlacement, check: CheckProfile},
		{name: "signature nested deeper", doc: ecM(func(root, sig *etree.Element) {
			root.RemoveChild(sig)
			find(tb, root, "Header").AddChild(sig)
		}), want: ErrSignaturePlacement, check: CheckProfile},
		{name: "signature in another namespace", doc: ecM(func(_, sig *etree.Element) {
			sig.Space = "x"
			sig.CreateAttr("xmlns:x", "urn:other")
		}), want: ErrSignatureShape, check: CheckProfile},
		{name: "XML-DSig element outside the signature", doc: ecM(func(root, _ *etree.Element) {
			add(find(tb, root, "Header"), `<ds:SignedInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"/>`)
		}), want: ErrSignatureShape, check: CheckProfile},

		// Signature wrapping.
		{name: "wrapping: signed root moved under an unsigned root", doc: ecM(func(root, _ *etree.Element) {
			orig := root.Copy()
			root.Child = nil
			root.CreateAttr("ID", "evil")
			root.AddChild(orig)
		}), want: ErrSignaturePlacement, check: CheckProfile},
		{name: "wrapping: unsigned root takes the signed ID", doc: ecM(func(root, _ *etree.Element) {
			orig := root.Copy()
			root.Child = nil
			root.CreateElement("Wrapper").AddChild(orig)
		}), want: ErrReference, check: CheckProfile},
		{name: "wrapping: signature moved to a new root, signed content hidden", doc: ecM(func(root, sig *etree.Element) {
			root.RemoveChild(sig)
			hidden := root.Copy()
			hidden.Tag = "Hidden"
			hidden.RemoveAttr("ID")
			root.Child = nil
			add(root, `<Header><Sender>attacker</Sender></Header>`)
			root.InsertChildAt(0, sig)
			root.AddChild(hidden)
		}), want: ErrBadSignature, check: CheckSignature},

		// References and IDs.
		{name: "second Reference", doc: ecM(func(_, sig *etree.Element) {
			ref := find(tb, sig, "SignedInfo/Reference")
			find(tb, sig, "SignedInfo").AddChild(ref.Copy())
		}), want: ErrReference, check: CheckProfile},
		{name: "Reference URI empty", doc: ecM(setURI("")), want: ErrReference, check: CheckProfile},
		{name: "Reference URI without #", doc: ecM(setURI("d1")), want: ErrReference, check: CheckProfile},
		{name: "Reference URI to an external resource", doc: ecM(setURI("http://example.com/d1")), want: ErrReference, check: CheckProfile},
		{name: "Reference URI as XPointer", doc: ecM(setURI("#xpointer(/)")), want: ErrReference, check: CheckProfile},
		{name: "Reference URI to a non-root ID", doc: ecM(func(root, sig *etree.Element) {
			find(tb, root, "Header").CreateAttr("ID", "h1")
			setURI("#h1")(root, sig)
		}), want: ErrReference, check: CheckProfile},
		{name: "Reference without URI", doc: ecM(func(_, sig *etree.Element) { find(tb, sig, "SignedInfo/Reference").RemoveAttr("URI") }), want: ErrReference, check: CheckProfile},
		{name: "Reference with Type", doc: ecM(func(_, sig *etree.Element) {
			find(tb, sig, "SignedInfo/Reference").CreateAttr("Type", "http://www.w3.org/2000/09/xmldsig#Manifest")
		}), want: ErrReference, check: CheckProfile},
		{name: "duplicate ID", doc: ecM(func(root, _ *etree.Element) { find(tb, root, "Header").CreateAttr("ID", "d1") }), want: ErrReference, check: CheckProfile},
		{name: "duplicate ID as Id", doc: ecM(func(root, _ *etree.Element) { find(tb, root, "Incident").CreateAttr("Id", "d1") }), want: ErrReference, check: CheckProfile},
		{name: "duplicate ID as xml:id", doc: ecM(func(root, _ *etree.Element) { find(tb, root, "Incident").CreateAttr("xml:id", "d1") }), want: ErrReference, check: CheckProfile},
		{name: "root without ID", doc: ecM(func(root, _ *etree.Element) { root.RemoveAttr("ID") }), want: ErrReference, check: CheckProfile},
		{name: "root with a second, prefixed ID", doc: ecM(func(root, _ *etree.Element) {
			root.CreateAttr("xmlns:p", "urn:p")
			root.CreateAttr("p:ID", "d1")
		}), want: ErrReference, check: CheckProfile},

		// Algorithms.
		{name: "SHA-1 digest method", doc: ecM(setAlg("SignedInfo/Reference/DigestMethod", "http://www.w3.org/2000/09/xmldsig#sha1")), want: ErrAlgorithm, check: CheckProfile},
		{name: "SHA-1 signature method", doc: rsaM(setAlg("SignedInfo/SignatureMethod", dsig.RSASHA1SignatureMethod)), want: ErrAlgorithm, check: CheckProfile},
		{name: "validly signed with SHA-1", doc: signRaw(tb, pk.rsa, sampleDoc("d1"), func(c *dsig.SigningContext) { c.Hash = crypto.SHA1 }), want: ErrAlgorithm, check: CheckProfile},
		{name: "MD5 digest method", doc: ecM(setAlg("SignedInfo/Reference/DigestMethod", "http://www.w3.org/2001/04/xmldsig-more#md5")), want: ErrAlgorithm, check: CheckProfile},
		{name: "HMAC signature method", doc: ecM(setAlg("SignedInfo/SignatureMethod", "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256")), want: ErrAlgorithm, check: CheckProfile},
		{name: "#WithComments canonicalisation", doc: ecM(setAlg("SignedInfo/CanonicalizationMethod", algExcC14N+"WithComments")), want: ErrAlgorithm, check: CheckProfile},
		{name: "validly signed with #WithComments", doc: signRaw(tb, pk.rsa, sampleDoc("d1"), func(c *dsig.SigningContext) {
			c.Canonicalizer = dsig.MakeC14N10ExclusiveWithCommentsCanonicalizerWithPrefixList("")
		}), want: ErrAlgorithm, check: CheckProfile},
		{name: "validly signed with C14N 1.1", doc: signRaw(tb, pk.rsa, sampleDoc("d1"), func(c *dsig.SigningContext) {
			c.Canonicalizer = dsig.MakeC14N11Canonicalizer()
		}), want: ErrAlgorithm, check: CheckProfile},
		{name: "#WithComments transform", doc: ecM(func(_, sig *etree.Element) {
			sig.FindElements("SignedInfo/Reference/Transforms/Transform")[1].CreateAttr("Algorithm", algExcC14N+"WithComments")
		}), want: ErrAlgorithm, check: CheckProfile},
		{name: "extra XPath transform", doc: ecM(func(_, sig *etree.Element) {
			add(find(tb, sig, "SignedInfo/Reference/Transforms"),
				`<ds:Transform Algorithm="http://www.w3.org/TR/1999/REC-xpath-19991116"><ds:XPath>not(ancestor-or-self::Header)</ds:XPath></ds:Transform>`)
		}), want: ErrAlgorithm, check: CheckProfile},
		{name: "transform with InclusiveNamespaces", doc: ecM(func(_, sig *etree.Element) {
			add(sig.FindElements("SignedInfo/Reference/Transforms/Transform")[1],
				`<ec:InclusiveNamespaces xmlns:ec="http://www.w3.org/2001/10/xml-exc-c14n#" PrefixList="ds"/>`)
		}), want: ErrAlgorithm, check: CheckProfile},
		{name: "transforms reversed", doc: ecM(func(_, sig *etree.Element) {
			tr := sig.FindElements("SignedInfo/Reference/Transforms/Transform")
			tr[0].CreateAttr("Algorithm", algExcC14N)
			tr[1].CreateAttr("Algorithm", algEnveloped)
		}), want: ErrAlgorithm, check: CheckProfile},
		{name: "enveloped transform missing", doc: ecM(func(_, sig *etree.Element) {
			ts := find(tb, sig, "SignedInfo/Reference/Transforms")
			ts.RemoveChild(ts.SelectElement("Transform"))
		}), want: ErrAlgorithm, check: CheckProfile},
		{name: "SignatureMethod with HMACOutputLength", doc: ecM(func(_, sig *etree.Element) {
			add(find(tb, sig, "SignedInfo/SignatureMethod"), `<ds:HMACOutputLength>80</ds:HMACOutputLength>`)
		}), want: ErrAlgorithm, check: CheckProfile},

		// Shape of the signature.
		{name: "ds:Object", doc: ecM(func(_, sig *etree.Element) {
			add(sig, `<ds:Object><Header><Sender>attacker</Sender></Header></ds:Object>`)
		}), want: ErrSignatureShape, check: CheckProfile},
		{name: "Manifest in ds:Object", doc: ecM(func(_, sig *etree.Element) {
			add(sig, `<ds:Object><ds:Manifest><ds:Reference URI="#d1"/></ds:Manifest></ds:Object>`)
		}), want: ErrSignatureShape, check: CheckProfile},
		{name: "Id on Signature", doc: ecM(func(_, sig *etree.Element) { sig.CreateAttr("Id", "s1") }), want: ErrSignatureShape, check: CheckProfile},
		{name: "text in SignedInfo", doc: ecM(func(_, sig *etree.Element) { find(tb, sig, "SignedInfo").CreateText("hello") }), want: ErrSignatureShape, check: CheckProfile},
		{name: "foreign element in SignedInfo", doc: ecM(func(_, sig *etree.Element) { add(find(tb, sig, "SignedInfo"), `<Extra/>`) }), want: ErrSignatureShape, check: CheckProfile},
		{name: "SignatureValue before SignedInfo", doc: ecM(func(_, sig *etree.Element) {
			sv := find(tb, sig, "SignatureValue")
			sig.RemoveChild(sv)
			sig.InsertChildAt(0, sv)
		}), want: ErrSignatureShape, check: CheckProfile},
		{name: "DigestValue of the wrong length", doc: ecM(func(_, sig *etree.Element) {
			find(tb, sig, "SignedInfo/Reference/DigestValue").SetText(base64.StdEncoding.EncodeToString(make([]byte, 20)))
		}), want: ErrSignatureShape, check: CheckProfile},
		{name: "SignatureValue not base64", doc: ecM(func(_, sig *etree.Element) { find(tb, sig, "SignatureValue").SetText("!!!") }), want: ErrSignatureShape, check: CheckProfile},

		// KeyInfo.
		{name: "KeyInfo missing", doc: ecM(func(_, sig *etree.Element) { sig.RemoveChild(sig.SelectElement("KeyInfo")) }), want: ErrKeyInfo, check: CheckProfile},
		{name: "KeyValue in KeyInfo", doc: ecM(func(_, sig *etree.Element) {
			add(find(tb, sig, "KeyInfo"), `<ds:KeyValue><ds:RSAKeyValue><ds:Modulus>AQAB</ds:Modulus><ds:Exponent>AQAB</ds:Exponent></ds:RSAKeyValue></ds:KeyValue>`)
		}), want: ErrKeyInfo, check: CheckProfile},
		{name: "KeyName in KeyInfo", doc: ecM(func(_, sig *etree.Element) { add(find(tb, sig, "KeyInfo"), `<ds:KeyName>k</ds:KeyName>`) }), want: ErrKeyInfo, check: CheckProfile},
		{name: "RetrievalMethod in KeyInfo", doc: ecM(func(_, sig *etree.Element) {
			add(find(tb, sig, "KeyInfo"), `<ds:RetrievalMethod URI="http://example.com/key"/>`)
		}), want: ErrKeyInfo, check: CheckProfile},
		{name: "two certificates in X509Data", doc: ecM(func(_, sig *etree.Element) {
			xd := find(tb, sig, "KeyInfo/X509Data")
			xd.AddChild(xd.SelectElement("X509Certificate").Copy())
		}), want: ErrKeyInfo, check: CheckProfile},
		{name: "X509SubjectName in X509Data", doc: ecM(func(_, sig *etree.Element) {
			add(find(tb, sig, "KeyInfo/X509Data"), `<ds:X509SubjectName>CN=x</ds:X509SubjectName>`)
		}), want: ErrKeyInfo, check: CheckProfile},
		{name: "certificate not base64", doc: ecM(func(_, sig *etree.Element) { find(tb, sig, "KeyInfo/X509Data/X509Certificate").SetText("%%") }), want: ErrKeyInfo, check: CheckProfile},

		// Parsing and size.
		{name: "empty document", doc: []byte{}, want: ErrMalformed, check: CheckParse},
		{name: "DOCTYPE", doc: replace(ecDoc, "<Doc ", `<!DOCTYPE Doc [<!ENTITY who "attacker">]><Doc `), want: ErrMalformed, check: CheckParse},
		{name: "comment inside signed text", doc: replace(ecDoc, "Sofie Lindberg", "Sofie<!-- -->Lindberg"), want: ErrMalformed, check: CheckParse},
		{name: "processing instruction", doc: replace(ecDoc, "<Header>", "<Header><?evil x?>"), want: ErrMalformed, check: CheckParse},
		{name: "duplicate attribute", doc: replace(ecDoc, `ID="d1"`, `ID="d1" ID="d2"`), want: ErrMalformed, check: CheckParse},
		{name: "deep nesting", doc: deep(), want: ErrMalformed, check: CheckParse},
		{name: "not XML", doc: []byte("{\"ID\":\"d1\"}"), want: ErrMalformed, check: CheckParse},
		{name: "oversized", doc: append(bytes.Repeat([]byte(" "), DefaultMaxBytes), ecDoc...), want: ErrTooLarge, check: CheckSize},
		{name: "over the caller's limit", doc: ecDoc, limits: xmlsafe.Limits{MaxBytes: 1024}, want: ErrTooLarge, check: CheckSize},
	}
}

// TestVerify runs every row of verifyCases.
func TestVerify(t *testing.T) {
	pk := testPKI(t)
	for _, tc := range verifyCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			pinned := tc.pinned
			if pinned == nil {
				signer := tc.signer
				if signer == nil {
					signer = pk.rsa
					if bytes.Contains(tc.doc, []byte("ecdsa-sha256")) {
						signer = pk.ec
					}
				}
				pinned = []*x509.Certificate{signer.cert}
			}
			now := tc.now
			if now.IsZero() {
				now = testNow
			}
			v, err := NewVerifier(VerifierConfig{Clock: clock.Fixed(now), Limits: tc.limits})
			if err != nil {
				t.Fatal(err)
			}
			got, err := v.Verify(tc.doc, pinned)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if got == nil || got.Element == nil || got.Certificate != tc.signer.cert {
					t.Fatalf("Verify returned %+v, want the element and the signer's certificate", got)
				}
				if got.Element.SelectElement("Signature") != nil {
					t.Errorf("the returned element still holds the signature")
				}
				if got.Element.SelectAttrValue("ID", "") != "d1" || got.Element.SelectElement("Registration") == nil {
					t.Errorf("the returned element is not the signed root")
				}
				return
			}
			if got != nil {
				t.Errorf("Verify returned a result with an error")
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("Verify error = %v, want %v", err, tc.want)
			}
			var ve *VerifyError
			if !errors.As(err, &ve) || ve.Check != tc.check {
				t.Fatalf("Verify error %v is not a *VerifyError of check %q", err, tc.check)
			}
			if len(err.Error()) > 300 {
				t.Errorf("the error message is %d bytes long: %s", len(err.Error()), err)
			}
		})
	}
}

// TestVerifyParseErrorsKeepTheRule checks that a parse refusal carries the
// xmlsafe rule for the journal.
func TestVerifyParseErrorsKeepTheRule(t *testing.T) {
	pk := testPKI(t)
	doc := bytes.Replace(signed(t, pk.ec), []byte("Sofie"), []byte("<!--x-->Sofie"), 1)
	_, err := testVerifier(t, testNow).Verify(doc, []*x509.Certificate{pk.ec.cert})
	var xe *xmlsafe.Error
	if !errors.As(err, &xe) || xe.Rule != "xml.comment" {
		t.Fatalf("Verify error = %v, want an xmlsafe.Error with rule xml.comment", err)
	}
}

// TestVerifyErrorsDoNotEchoInput checks that a long hostile value is quoted
// only briefly.
func TestVerifyErrorsDoNotEchoInput(t *testing.T) {
	pk := testPKI(t)
	long := strings.Repeat("A", 2000)
	doc := mutate(t, signed(t, pk.ec), func(_, sig *etree.Element) {
		find(t, sig, "SignedInfo/SignatureMethod").CreateAttr("Algorithm", "urn:"+long)
	})
	_, err := testVerifier(t, testNow).Verify(doc, []*x509.Certificate{pk.ec.cert})
	if !errors.Is(err, ErrAlgorithm) {
		t.Fatalf("error = %v, want ErrAlgorithm", err)
	}
	if strings.Contains(err.Error(), strings.Repeat("A", maxQuotedBytes+1)) {
		t.Errorf("the error quotes more than %d bytes of input: %s", maxQuotedBytes, err)
	}
}

// TestVerifyReturnsOnlyTheValidatedElement checks that what Verify returns
// is detached from the parsed input: changing it cannot reach anything
// else, and verifying twice gives equal content.
func TestVerifyReturnsOnlyTheValidatedElement(t *testing.T) {
	pk := testPKI(t)
	doc := signed(t, pk.rsa)
	v := testVerifier(t, testNow)
	a, err := v.Verify(doc, []*x509.Certificate{pk.rsa.cert})
	if err != nil {
		t.Fatal(err)
	}
	b, err := v.Verify(doc, []*x509.Certificate{pk.rsa.cert})
	if err != nil {
		t.Fatal(err)
	}
	if a.Element == b.Element || !bytes.Equal(canonicalBytes(t, a.Element), canonicalBytes(t, b.Element)) {
		t.Errorf("two verifications did not return equal, distinct elements")
	}
	if a.SignatureMethod != dsig.RSASHA256SignatureMethod {
		t.Errorf("SignatureMethod = %q", a.SignatureMethod)
	}
}

// TestGoxmldsigGaps pins the facts of SECURITY.md this package exists for:
// goxmldsig's Validate alone accepts each of these documents, and Verify
// refuses them. If a goxmldsig upgrade starts refusing one, the row fails
// so that SECURITY.md is brought up to date.
func TestGoxmldsigGaps(t *testing.T) {
	pk := testPKI(t)
	rsaDoc := signRaw(t, pk.rsa, sampleDoc("d1"), nil)
	m := func(f func(root, sig *etree.Element)) []byte { return mutate(t, rsaDoc, f) }
	for _, tc := range []struct {
		name string
		doc  []byte
		want error
	}{
		{"SHA-1", signRaw(t, pk.rsa, sampleDoc("d1"), func(c *dsig.SigningContext) { c.Hash = crypto.SHA1 }), ErrAlgorithm},
		{"#WithComments", signRaw(t, pk.rsa, sampleDoc("d1"), func(c *dsig.SigningContext) {
			c.Canonicalizer = dsig.MakeC14N10ExclusiveWithCommentsCanonicalizerWithPrefixList("")
		}), ErrAlgorithm},
		{"empty Reference URI (root without ID)", signRaw(t, pk.rsa, []byte(`<Doc xmlns="urn:test:xmlsig"><A>x</A></Doc>`), nil), ErrReference},
		{"KeyInfo missing, one certificate trusted", m(func(_, sig *etree.Element) { sig.RemoveChild(sig.SelectElement("KeyInfo")) }), ErrKeyInfo},
		{"KeyValue in KeyInfo", m(func(_, sig *etree.Element) { find(t, sig, "KeyInfo").CreateElement("ds:KeyName").SetText("k") }), ErrKeyInfo},
		{"ds:Object", m(func(_, sig *etree.Element) { sig.CreateElement("ds:Object").CreateElement("Evil") }), ErrSignatureShape},
		{"signature nested deeper", m(func(root, sig *etree.Element) {
			root.RemoveChild(sig)
			find(t, root, "Header").AddChild(sig)
		}), ErrSignaturePlacement},
		{"a second signature, over another element, inside the signed content", signRaw(t, pk.rsa, m(func(root, sig *etree.Element) {
			root.RemoveChild(sig)
			find(t, sig, "SignedInfo/Reference").CreateAttr("URI", "#h1")
			find(t, root, "Header").AddChild(sig)
		}), nil), ErrSignatureCount},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := etree.NewDocument()
			if err := d.ReadFromBytes(tc.doc); err != nil {
				t.Fatal(err)
			}
			ctx := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{pk.rsa.cert}})
			ctx.Clock = dsig.NewFakeClockAt(testNow)
			if _, err := ctx.Validate(d.Root()); err != nil {
				t.Errorf("goxmldsig refuses this shape itself now (%v): update SECURITY.md and this table", err)
			}
			_, err := testVerifier(t, testNow).Verify(tc.doc, []*x509.Certificate{pk.rsa.cert})
			if !errors.Is(err, tc.want) {
				t.Fatalf("Verify error = %v, want %v", err, tc.want)
			}
		})
	}
}

// TestVerifierNeedsAClock: a Verifier judges certificates only at an
// injected clock; without one it verifies nothing.
func TestVerifierNeedsAClock(t *testing.T) {
	if _, err := NewVerifier(VerifierConfig{}); err == nil {
		t.Error("NewVerifier accepted a config without a Clock")
	}
	pk := testPKI(t)
	doc := signed(t, pk.ec)
	for name, v := range map[string]*Verifier{"nil": nil, "zero": {}} {
		got, err := v.Verify(doc, []*x509.Certificate{pk.ec.cert})
		var ve *VerifyError
		if err == nil || got != nil || errors.As(err, &ve) {
			t.Errorf("%s Verifier: %+v, %v; want an error that is not a refusal", name, got, err)
		}
	}
	// The same document verifies or not as the clock moves past the
	// certificate's end.
	clk := clock.NewFake(testNow)
	v, err := NewVerifier(VerifierConfig{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(doc, []*x509.Certificate{pk.ec.cert}); err != nil {
		t.Fatalf("at %v: %v", testNow, err)
	}
	clk.Set(pk.ec.cert.NotAfter.Add(time.Second))
	if _, err := v.Verify(doc, []*x509.Certificate{pk.ec.cert}); !errors.Is(err, ErrCertificateExpired) {
		t.Fatalf("after the certificate's end: %v, want ErrCertificateExpired", err)
	}
}
