package xmlsig

import (
	"crypto/x509"
	"encoding/base64"
	"strings"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
)

// profile is what the profile checks learnt about a document's signature.
type profile struct {
	// id is the root's ID; the Reference URI is "#" + id.
	id string
	// rootTag and rootSpace name the root (local name, namespace URI).
	rootTag, rootSpace string
	// signatureValue is the ds:SignatureValue element; Verify rewrites its
	// text for goxmldsig.
	signatureValue *etree.Element
	// value is the decoded SignatureValue.
	value []byte
	// method is the SignatureMethod URI and family its key family.
	method string
	family x509.PublicKeyAlgorithm
	// certDER is the decoded X509Certificate of KeyInfo.
	certDER []byte
	// key describes the pinned certificate's key, once it is chosen.
	key keyInfo
}

// checkProfile applies the profile checks of the package comment to a
// parsed document whose root is root. It only reads the tree.
func checkProfile(root *etree.Element) (*profile, *VerifyError) {
	id, problem := rootID(root)
	if problem != "" {
		return nil, bad(ErrReference, problem)
	}
	p := &profile{id: id, rootTag: root.Tag, rootSpace: root.NamespaceURI()}

	var sigs []*etree.Element
	var dsOutside, dupID bool
	var scan func(e *etree.Element, inSig bool)
	scan = func(e *etree.Element, inSig bool) {
		if e.Tag == dsig.SignatureTag {
			sigs = append(sigs, e)
			inSig = true
		} else if !inSig && e.NamespaceURI() == namespaceDSig {
			dsOutside = true
		}
		if e != root && hasIDValue(e, id) {
			dupID = true
		}
		for _, c := range e.ChildElements() {
			scan(c, inSig)
		}
	}
	scan(root, false)

	switch {
	case len(sigs) == 0:
		return nil, bad(ErrNoSignature, "the document has no Signature element")
	case len(sigs) > 1:
		return nil, bad(ErrSignatureCount, "the document has more than one Signature element")
	case dupID:
		return nil, bad(ErrReference, "another element repeats the root's ID")
	}
	sig := sigs[0]
	if sig.Parent() != root {
		return nil, bad(ErrSignaturePlacement, "the Signature is not a child of the root")
	}
	if kids := root.ChildElements(); kids[0] != sig {
		return nil, bad(ErrSignaturePlacement, "the Signature is not the root's first child element")
	}
	if sig.NamespaceURI() != namespaceDSig {
		return nil, bad(ErrSignatureShape, "the Signature is not in the XML-DSig namespace")
	}
	if dsOutside {
		return nil, bad(ErrSignatureShape, "an XML-DSig element appears outside the Signature")
	}
	if verr := p.checkSignature(sig); verr != nil {
		return nil, verr
	}
	return p, nil
}

// rootID returns the root's ID: exactly one attribute named ID, without a
// prefix, matching the profile XSD's pattern [A-Za-z_][A-Za-z0-9._-]{0,127}.
// Otherwise it returns "" and what is wrong.
func rootID(root *etree.Element) (id, problem string) {
	var attr *etree.Attr
	for i, a := range root.Attr {
		if a.Key != idAttr {
			continue
		}
		if a.Space != "" || attr != nil {
			return "", "the root must have exactly one unprefixed ID attribute"
		}
		attr = &root.Attr[i]
	}
	if attr == nil {
		return "", "the root has no ID attribute"
	}
	if !validID(attr.Value) {
		return "", "the root's ID is not an ID of the profile"
	}
	return attr.Value, ""
}

// validID reports whether s matches [A-Za-z_][A-Za-z0-9._-]{0,127}.
func validID(s string) bool {
	if s == "" || len(s) > maxIDBytes {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c == '_':
		case i > 0 && (c >= '0' && c <= '9' || c == '.' || c == '-'):
		default:
			return false
		}
	}
	return true
}

// checkSignature checks ds:Signature and everything in it.
func (p *profile) checkSignature(sig *etree.Element) *VerifyError {
	if verr := onlyAttrs(sig, ErrSignatureShape); verr != nil {
		return verr
	}
	kids, verr := dsChildren(sig, ErrSignatureShape)
	if verr != nil {
		return verr
	}
	for _, k := range kids {
		if k.Tag == "Object" {
			return bad(ErrSignatureShape, "ds:Object is not allowed")
		}
	}
	switch {
	case sequence(kids, dsig.SignedInfoTag, dsig.SignatureValueTag, dsig.KeyInfoTag):
	case sequence(kids, dsig.SignedInfoTag, dsig.SignatureValueTag):
		return bad(ErrKeyInfo, "KeyInfo with the signer's certificate is required")
	default:
		return bad(ErrSignatureShape, "the Signature must hold SignedInfo, SignatureValue and KeyInfo, in that order")
	}
	if verr := p.checkSignedInfo(kids[0]); verr != nil {
		return verr
	}
	if verr := p.checkSignatureValue(kids[1]); verr != nil {
		return verr
	}
	return p.checkKeyInfo(kids[2])
}

// checkSignedInfo checks ds:SignedInfo: the canonicalisation and signature
// methods and the one Reference.
func (p *profile) checkSignedInfo(si *etree.Element) *VerifyError {
	if verr := onlyAttrs(si, ErrSignatureShape); verr != nil {
		return verr
	}
	kids, verr := dsChildren(si, ErrSignatureShape)
	if verr != nil {
		return verr
	}
	refs := 0
	for _, k := range kids {
		if k.Tag == dsig.ReferenceTag {
			refs++
		}
	}
	if refs != 1 {
		return bad(ErrReference, "SignedInfo must hold exactly one Reference")
	}
	if !sequence(kids, dsig.CanonicalizationMethodTag, dsig.SignatureMethodTag, dsig.ReferenceTag) {
		return bad(ErrSignatureShape, "SignedInfo must hold CanonicalizationMethod, SignatureMethod and Reference, in that order")
	}

	c14n, verr := algorithm(kids[0])
	if verr != nil {
		return verr
	}
	if c14n != algExcC14N {
		return bad(ErrAlgorithm, "CanonicalizationMethod must be exclusive C14N without comments, not "+quote(c14n))
	}

	method, verr := algorithm(kids[1])
	if verr != nil {
		return verr
	}
	family, _, ok := signatureMethod(method)
	if !ok {
		return bad(ErrAlgorithm, "SignatureMethod must be RSA or ECDSA with SHA-256 or stronger, not "+quote(method))
	}
	p.method, p.family = method, family

	return p.checkReference(kids[2])
}

// checkReference checks the one ds:Reference: its URI, transforms and digest.
func (p *profile) checkReference(ref *etree.Element) *VerifyError {
	if verr := onlyAttrs(ref, ErrReference, dsig.URIAttr); verr != nil {
		return verr
	}
	uri := ref.SelectAttr(dsig.URIAttr)
	if uri == nil {
		return bad(ErrReference, "the Reference has no URI")
	}
	if uri.Value != "#"+p.id {
		return bad(ErrReference, "the Reference URI must be \"#\" followed by the root's ID, not "+quote(uri.Value))
	}
	kids, verr := dsChildren(ref, ErrSignatureShape)
	if verr != nil {
		return verr
	}
	if !sequence(kids, dsig.TransformsTag, dsig.DigestMethodTag, dsig.DigestValueTag) {
		return bad(ErrSignatureShape, "the Reference must hold Transforms, DigestMethod and DigestValue, in that order")
	}

	if verr := onlyAttrs(kids[0], ErrSignatureShape); verr != nil {
		return verr
	}
	transforms, verr := dsChildren(kids[0], ErrSignatureShape)
	if verr != nil {
		return verr
	}
	const wantTransforms = "the transforms must be exactly enveloped-signature, then exclusive C14N without comments"
	if len(transforms) != 2 || !sequence(transforms, dsig.TransformTag, dsig.TransformTag) {
		return bad(ErrAlgorithm, wantTransforms)
	}
	for i, want := range []string{algEnveloped, algExcC14N} {
		got, verr := algorithm(transforms[i])
		if verr != nil {
			return verr
		}
		if got != want {
			return bad(ErrAlgorithm, wantTransforms)
		}
	}

	dm, verr := algorithm(kids[1])
	if verr != nil {
		return verr
	}
	hash, ok := digestMethod(dm)
	if !ok {
		return bad(ErrAlgorithm, "DigestMethod must be SHA-256 or stronger, not "+quote(dm))
	}

	value, verr := base64Text(kids[2], ErrSignatureShape)
	if verr != nil {
		return verr
	}
	if len(value) != hash.Size() {
		return bad(ErrSignatureShape, "the DigestValue is not a digest of the DigestMethod")
	}
	return nil
}

// checkSignatureValue checks ds:SignatureValue and keeps its value.
func (p *profile) checkSignatureValue(sv *etree.Element) *VerifyError {
	value, verr := base64Text(sv, ErrSignatureShape)
	if verr != nil {
		return verr
	}
	if len(value) == 0 {
		return bad(ErrSignatureShape, "the SignatureValue is empty")
	}
	p.signatureValue, p.value = sv, value
	return nil
}

// checkKeyInfo checks that ds:KeyInfo holds one X509Data with one
// X509Certificate and nothing else, and keeps the certificate.
func (p *profile) checkKeyInfo(ki *etree.Element) *VerifyError {
	if verr := onlyAttrs(ki, ErrKeyInfo); verr != nil {
		return verr
	}
	kids, verr := dsChildren(ki, ErrKeyInfo)
	if verr != nil {
		return verr
	}
	if !sequence(kids, dsig.X509DataTag) {
		return bad(ErrKeyInfo, "KeyInfo must hold exactly one X509Data")
	}
	if verr := onlyAttrs(kids[0], ErrKeyInfo); verr != nil {
		return verr
	}
	data, verr := dsChildren(kids[0], ErrKeyInfo)
	if verr != nil {
		return verr
	}
	if !sequence(data, dsig.X509CertificateTag) {
		return bad(ErrKeyInfo, "X509Data must hold exactly one X509Certificate")
	}
	der, verr := base64Text(data[0], ErrKeyInfo)
	if verr != nil {
		return verr
	}
	if len(der) == 0 {
		return bad(ErrKeyInfo, "the X509Certificate is empty")
	}
	p.certDER = der
	return nil
}

// algorithm returns the Algorithm of a method or transform element, which
// must have no other attribute, no child element and no text.
func algorithm(e *etree.Element) (string, *VerifyError) {
	if verr := onlyAttrs(e, ErrAlgorithm, dsig.AlgorithmAttr); verr != nil {
		return "", verr
	}
	for _, t := range e.Child {
		switch t := t.(type) {
		case *etree.CharData:
			if stripSpace(t.Data) != "" {
				return "", bad(ErrSignatureShape, "ds:"+e.Tag+" holds text")
			}
		default: // XPath, InclusiveNamespaces, HMACOutputLength, ...
			return "", bad(ErrAlgorithm, "ds:"+e.Tag+" takes no parameters")
		}
	}
	a := e.SelectAttr(dsig.AlgorithmAttr)
	if a == nil {
		return "", bad(ErrAlgorithm, "ds:"+e.Tag+" has no Algorithm")
	}
	return a.Value, nil
}

// base64Text decodes the text of a leaf element (no attributes, no child
// elements), ignoring XML white space.
func base64Text(e *etree.Element, sentinel error) ([]byte, *VerifyError) {
	if verr := onlyAttrs(e, sentinel); verr != nil {
		return nil, verr
	}
	var text strings.Builder
	for _, t := range e.Child {
		cd, ok := t.(*etree.CharData)
		if !ok {
			return nil, bad(sentinel, "ds:"+e.Tag+" must hold only base64 text")
		}
		text.WriteString(cd.Data)
	}
	value, err := base64.StdEncoding.DecodeString(stripSpace(text.String()))
	if err != nil {
		return nil, bad(sentinel, "ds:"+e.Tag+" is not base64")
	}
	return value, nil
}

// stripSpace removes XML white space (space, tab, CR, LF) from s.
func stripSpace(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n':
			return -1
		}
		return r
	}, s)
}

// onlyAttrs refuses attributes of e other than namespace declarations and
// the unprefixed names in allowed.
func onlyAttrs(e *etree.Element, sentinel error, allowed ...string) *VerifyError {
	for _, a := range e.Attr {
		if a.Space == "xmlns" || (a.Space == "" && a.Key == "xmlns") {
			continue
		}
		ok := false
		if a.Space == "" {
			for _, name := range allowed {
				ok = ok || a.Key == name
			}
		}
		if !ok {
			return bad(sentinel, "ds:"+e.Tag+" has an attribute the profile does not allow: "+quote(a.FullKey()))
		}
	}
	return nil
}

// dsChildren returns the child elements of e, refusing any that is outside
// the XML-DSig namespace, text other than white space, and any other token.
func dsChildren(e *etree.Element, sentinel error) ([]*etree.Element, *VerifyError) {
	var kids []*etree.Element
	for _, t := range e.Child {
		switch t := t.(type) {
		case *etree.Element:
			if t.NamespaceURI() != namespaceDSig {
				return nil, bad(sentinel, "ds:"+e.Tag+" holds an element outside the XML-DSig namespace")
			}
			kids = append(kids, t)
		case *etree.CharData:
			if stripSpace(t.Data) != "" {
				return nil, bad(sentinel, "ds:"+e.Tag+" holds text")
			}
		default:
			return nil, bad(sentinel, "ds:"+e.Tag+" holds a token the profile does not allow")
		}
	}
	return kids, nil
}

// sequence reports whether kids are exactly the elements named tags, in
// that order.
func sequence(kids []*etree.Element, tags ...string) bool {
	if len(kids) != len(tags) {
		return false
	}
	for i, k := range kids {
		if k.Tag != tags[i] {
			return false
		}
	}
	return true
}
