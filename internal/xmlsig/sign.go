package xmlsig

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/psykosocial/exchange/internal/xmlsafe"
)

// Sign returns a copy of root with an enveloped XML-DSig signature of the
// gateway's profile inserted as its first child: one Reference to "#" + the
// root's ID attribute, enveloped-signature and exclusive C14N transforms,
// SHA-256 digest, RSA-SHA256 or ECDSA-SHA256 (r||s) by the type of key, and
// cert alone in KeyInfo. root itself is not modified.
//
// root must be a document's root element or a detached element (namespace
// declarations of ancestors are not looked up), carry exactly one
// unprefixed ID attribute matching the profile's pattern, hold no element
// named Signature, and no other element may repeat its ID. key must be RSA
// (2048 to 8192 bits) or ECDSA (P-256, P-384, P-521) and cert must be its
// certificate; an ECDSA key must return ASN.1 DER signatures, as
// crypto.Signer implementations do.
//
// To turn the result into bytes, write it with etree and
// etree.WriteSettings{CanonicalText: true, CanonicalAttrVal: true}, as
// SignDocument does: the default settings leave a carriage return in text
// and a tab or line break in an attribute unescaped, a parser normalises
// them, and the digest no longer matches.
func Sign(root *etree.Element, key crypto.Signer, cert *x509.Certificate) (*etree.Element, error) {
	if root == nil {
		return nil, fmt.Errorf("xmlsig: sign: %w: no element", ErrNotSignable)
	}
	if p := root.Parent(); p != nil && p.Tag != "" {
		return nil, fmt.Errorf("xmlsig: sign: %w: not a root element", ErrNotSignable)
	}
	id, problem := rootID(root)
	if problem != "" {
		return nil, fmt.Errorf("xmlsig: sign: %w: %s", ErrNotSignable, problem)
	}
	if err := checkSignable(root, id); err != nil {
		return nil, fmt.Errorf("xmlsig: sign: %w", err)
	}
	signer, err := newSigner(key, cert)
	if err != nil {
		return nil, fmt.Errorf("xmlsig: sign: %w", err)
	}
	ctx, err := dsig.NewSigningContext(signer, [][]byte{cert.Raw})
	if err != nil {
		return nil, fmt.Errorf("xmlsig: sign: %w", err)
	}
	ctx.Hash = crypto.SHA256
	ctx.IdAttribute = idAttr
	ctx.Prefix = dsig.DefaultPrefix
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")

	// goxmldsig canonicalises the element it digests in place, so it gets a
	// copy; the signature goes onto a second, untouched copy. A verifier
	// removes the signature and canonicalises, which yields the same bytes.
	sig, err := ctx.ConstructSignature(root.Copy(), true)
	if err != nil {
		return nil, fmt.Errorf("xmlsig: sign: %w", err)
	}
	out := root.Copy()
	out.InsertChildAt(firstChildIndex(out), sig)
	return out, nil
}

// SignDocument parses doc with internal/xmlsafe (so the gateway never signs
// what its peers must refuse), signs its root with Sign and returns the
// document written by etree. The XML declaration, if any, is kept. Text and
// attribute values are written with XML's canonical escapes, so that
// characters a parser would normalise (a carriage return, a tab in an
// attribute) survive the trip and the digest still matches.
func SignDocument(doc []byte, key crypto.Signer, cert *x509.Certificate) ([]byte, error) {
	d, err := xmlsafe.Parse(doc, signLimits())
	if err != nil {
		var xe *xmlsafe.Error
		rule := "xml"
		if errors.As(err, &xe) {
			rule = xe.Rule
		}
		return nil, fmt.Errorf("xmlsig: sign: %w", &detail{sentinel: ErrMalformed, msg: rule, cause: err})
	}
	signed, err := Sign(d.Doc.Root(), key, cert)
	if err != nil {
		return nil, err
	}
	d.Doc.SetRoot(signed)
	d.Doc.WriteSettings = etree.WriteSettings{CanonicalText: true, CanonicalAttrVal: true}
	out, err := d.Doc.WriteToBytes()
	if err != nil {
		return nil, fmt.Errorf("xmlsig: sign: %w", err)
	}
	return out, nil
}

// newSigner checks key and cert and returns the crypto.Signer goxmldsig
// uses: key itself for RSA, key wrapped to emit r||s for ECDSA.
func newSigner(key crypto.Signer, cert *x509.Certificate) (crypto.Signer, error) {
	if key == nil {
		return nil, fmt.Errorf("%w: no key", ErrUnsupportedKey)
	}
	if cert == nil || len(cert.Raw) == 0 {
		return nil, fmt.Errorf("%w: no certificate", ErrKeyMismatch)
	}
	pub := key.Public()
	ki, err := describeKey(pub)
	if err != nil {
		return nil, err
	}
	eq, ok := pub.(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !eq.Equal(cert.PublicKey) {
		return nil, ErrKeyMismatch
	}
	if ki.family == x509.ECDSA {
		return rawECDSASigner{Signer: key, half: ki.size / 2}, nil
	}
	return key, nil
}

// checkSignable refuses a root that already holds a Signature element or
// whose ID is repeated by another element.
func checkSignable(root *etree.Element, id string) error {
	var problem error
	walk(root, func(e *etree.Element) {
		if problem != nil {
			return
		}
		if e.Tag == dsig.SignatureTag {
			problem = fmt.Errorf("%w: the element already holds a Signature", ErrNotSignable)
			return
		}
		if e != root && hasIDValue(e, id) {
			problem = fmt.Errorf("%w: another element repeats the root's ID", ErrNotSignable)
		}
	})
	return problem
}

// walk calls f for e and every element below it, in document order.
func walk(e *etree.Element, f func(*etree.Element)) {
	f(e)
	for _, c := range e.ChildElements() {
		walk(c, f)
	}
}

// hasIDValue reports whether e has an attribute whose local name is "id" in
// any case and any namespace (ID, Id, id, xml:id, wsu:Id) with value id:
// whatever some XML-DSig implementation might resolve "#" + id to.
func hasIDValue(e *etree.Element, id string) bool {
	for _, a := range e.Attr {
		if strings.EqualFold(a.Key, "id") && a.Value == id {
			return true
		}
	}
	return false
}

// firstChildIndex is the token index before root's first child element:
// the signature goes there, after any text (indentation) that precedes it,
// so that it is the first child element.
func firstChildIndex(root *etree.Element) int {
	if kids := root.ChildElements(); len(kids) > 0 {
		return kids[0].Index()
	}
	return len(root.Child)
}
