package xmlsig

import (
	"bytes"
	"context"
	"crypto/x509"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/psykosocial/exchange/internal/testenv"
	"github.com/psykosocial/exchange/schemas"
)

// xmlsec1 runs the xmlsec1 command line tool (INTEROP.md) in a temporary
// directory holding the given files, and returns its combined output and
// whether it exited 0.
func xmlsec1(t *testing.T, files map[string][]byte, args ...string) (string, bool) {
	t.Helper()
	bin := testenv.RequireTool(t, "xmlsec1", "apt-get install xmlsec1")
	dir := t.TempDir()
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		if _, isExit := err.(*exec.ExitError); !isExit {
			t.Fatalf("xmlsec1: %v", err)
		}
	}
	return string(out), err == nil
}

// The arguments that make xmlsec1 find the root's ID and check the
// certificate at the tests' time against the test CA.
var xmlsecVerifyArgs = []string{
	"--verify", "--trusted-pem", "ca.pem",
	"--id-attr:ID", testNS + ":Doc",
	"--verification-gmt-time", testNow.Format("2006-01-02 15:04:05"),
	"--enabled-reference-uris", "same-doc",
	"doc.xml",
}

// TestXmlsec1VerifiesOurSignatures: documents signed by Sign verify with
// xmlsec1, an independent implementation (RSA-3072 and P-256, so the r||s
// encoding is checked too), and a tampered one does not.
func TestXmlsec1VerifiesOurSignatures(t *testing.T) {
	pk := testPKI(t)
	for _, a := range []*authority{pk.rsa, pk.ec} {
		t.Run(a.name, func(t *testing.T) {
			doc := signed(t, a)
			if out, ok := xmlsec1(t, map[string][]byte{"ca.pem": pk.caPEM, "doc.xml": doc}, xmlsecVerifyArgs...); !ok {
				t.Fatalf("xmlsec1 refuses a document signed by Sign:\n%s\n%s", out, doc)
			}
			tampered := bytes.Replace(doc, []byte("Sofie"), []byte("Sonja"), 1)
			if out, ok := xmlsec1(t, map[string][]byte{"ca.pem": pk.caPEM, "doc.xml": tampered}, xmlsecVerifyArgs...); ok {
				t.Fatalf("xmlsec1 accepts a tampered document, so the check above proves nothing:\n%s", out)
			}
		})
	}
	t.Run("goxmldsig's own DER encoding of ECDSA", func(t *testing.T) {
		doc := signRaw(t, pk.ec, sampleDoc("d1"), nil)
		if out, ok := xmlsec1(t, map[string][]byte{"ca.pem": pk.caPEM, "doc.xml": doc}, xmlsecVerifyArgs...); ok {
			t.Fatalf("xmlsec1 accepts a DER ECDSA SignatureValue; the r||s conversion may no longer be needed:\n%s", out)
		}
	})
}

// xmlsecTemplate is a document with an empty signature, as the root's first
// child, for xmlsec1 --sign.
// The ECDSA one declares the XML-DSig namespace as the default namespace
// of the signature, as many templates do, to check that Verify does not
// depend on the "ds" prefix.
func xmlsecTemplate(t *testing.T, method string, defaultNS bool) []byte {
	t.Helper()
	doc := string(sampleDoc("d1"))
	sig := `<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#">` +
		`<ds:SignedInfo>` +
		`<ds:CanonicalizationMethod Algorithm="` + algExcC14N + `"/>` +
		`<ds:SignatureMethod Algorithm="` + method + `"/>` +
		`<ds:Reference URI="#d1"><ds:Transforms>` +
		`<ds:Transform Algorithm="` + algEnveloped + `"/>` +
		`<ds:Transform Algorithm="` + algExcC14N + `"/>` +
		`</ds:Transforms>` +
		`<ds:DigestMethod Algorithm="` + algSHA256 + `"/><ds:DigestValue/>` +
		`</ds:Reference></ds:SignedInfo>` +
		`<ds:SignatureValue/><ds:KeyInfo><ds:X509Data/></ds:KeyInfo></ds:Signature>`
	if defaultNS {
		sig = strings.ReplaceAll(sig, "ds:", "")
		sig = strings.Replace(sig, "xmlns:ds=", "xmlns=", 1)
	}
	// The profile's place: the root's first child, right after its start tag.
	i := strings.Index(doc, `ID="d1">`) + len(`ID="d1">`)
	return []byte(doc[:i] + sig + doc[i:])
}

// TestVerifyAcceptsXmlsec1Signatures: documents signed by xmlsec1 from a
// template (RSA-3072 and P-256) pass Verify, and Verify returns the same
// content the template held.
func TestVerifyAcceptsXmlsec1Signatures(t *testing.T) {
	pk := testPKI(t)
	for _, tc := range []struct {
		a         *authority
		method    string
		defaultNS bool
	}{
		{pk.rsa, dsig.RSASHA256SignatureMethod, false},
		{pk.ec, dsig.ECDSASHA256SignatureMethod, true},
	} {
		t.Run(tc.a.name, func(t *testing.T) {
			doc := xmlsecSign(t, tc.a, xmlsecTemplate(t, tc.method, tc.defaultNS))
			v := testVerifier(t, testNow)
			got, err := v.Verify(doc, []*x509.Certificate{tc.a.cert})
			if err != nil {
				t.Fatalf("Verify refuses a document signed by xmlsec1: %v\n%s", err, doc)
			}
			if got.Certificate != tc.a.cert || got.SignatureMethod != tc.method {
				t.Errorf("Verify returned certificate %v, method %q", got.Certificate.Subject, got.SignatureMethod)
			}
			if got.Element.SelectElement("Signature") != nil || got.Element.SelectElement("Registration") == nil {
				t.Errorf("Verify did not return the signed content without the signature")
			}
			// And the same document, tampered, does not pass.
			tampered := bytes.Replace(doc, []byte("Sofie"), []byte("Sonja"), 1)
			if _, err := v.Verify(tampered, []*x509.Certificate{tc.a.cert}); err == nil {
				t.Errorf("Verify accepts a tampered xmlsec1 document")
			}
		})
	}
}

// xmlsecSign signs template with xmlsec1 as a and returns the document.
func xmlsecSign(t *testing.T, a *authority, template []byte) []byte {
	t.Helper()
	bin := testenv.RequireTool(t, "xmlsec1", "apt-get install xmlsec1")
	dir := t.TempDir()
	for name, data := range map[string][]byte{"key.pem": a.keyPEM, "cert.pem": a.certPEM, "template.xml": template} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--sign", "--privkey-pem", "key.pem,cert.pem",
		"--id-attr:ID", testNS+":Doc", "--output", "signed.xml", "template.xml")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("xmlsec1 --sign: %v\n%s", err, out)
	}
	doc, err := os.ReadFile(filepath.Join(dir, "signed.xml"))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestSignatureMatchesTheProfileXSD validates the ds:Signature that Sign
// writes against schemas/xmldsig-profile.xsd with xmllint, so that the code
// and the contract describe the same shape.
func TestSignatureMatchesTheProfileXSD(t *testing.T) {
	xmllint := testenv.RequireTool(t, "xmllint", "apt-get install libxml2-utils")
	xsd, err := schemas.FS.ReadFile("xmldsig-profile.xsd")
	if err != nil {
		t.Fatal(err)
	}
	pk := testPKI(t)
	for _, a := range []*authority{pk.rsa, pk.ec} {
		t.Run(a.name, func(t *testing.T) {
			d := etree.NewDocument()
			if err := d.ReadFromBytes(signed(t, a)); err != nil {
				t.Fatal(err)
			}
			sig := d.Root().SelectElement("Signature")
			sd := etree.NewDocument()
			sd.SetRoot(sig.Copy())
			sigXML, err := sd.WriteToBytes()
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			for name, data := range map[string][]byte{"profile.xsd": xsd, "sig.xml": sigXML} {
				if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, xmllint, "--noout", "--nonet", "--schema", "profile.xsd", "sig.xml")
			cmd.Dir = dir
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("the signature does not match the profile XSD: %v\n%s\n%s", err, out, sigXML)
			}
		})
	}
}
