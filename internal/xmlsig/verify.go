package xmlsig

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/psykosocial/exchange/internal/clock"
	"github.com/psykosocial/exchange/internal/xmlsafe"
)

// VerifierConfig configures a Verifier.
type VerifierConfig struct {
	// Clock is the time the signer's certificate must be valid at; it is
	// also the clock goxmldsig's own validation context is given. Required:
	// NewVerifier refuses a nil Clock.
	Clock clock.Clock
	// Limits bound the document before it is parsed (internal/xmlsafe).
	// Zero fields take xmlsafe's defaults, except MaxBytes, which defaults
	// to DefaultMaxBytes. Callers that know the sender's format pass its
	// limits (a police list needs more elements than xmlsafe's default).
	Limits xmlsafe.Limits
}

// Verifier verifies the signatures of XML authorities' documents. Make one
// with NewVerifier; it is safe for concurrent use.
type Verifier struct {
	clock  clock.Clock
	limits xmlsafe.Limits
}

// errNoVerifier is returned by Verify on a Verifier not made by NewVerifier.
var errNoVerifier = errors.New("xmlsig: the Verifier was not made by NewVerifier")

// NewVerifier validates cfg and returns a Verifier.
func NewVerifier(cfg VerifierConfig) (*Verifier, error) {
	if cfg.Clock == nil {
		return nil, errors.New("xmlsig: VerifierConfig.Clock is nil")
	}
	v := &Verifier{clock: cfg.Clock, limits: cfg.Limits}
	if v.limits.MaxBytes == 0 {
		v.limits.MaxBytes = DefaultMaxBytes
	}
	return v, nil
}

// Verified is a document whose signature verified.
type Verified struct {
	// Element is the root element exactly as goxmldsig's Validate returned
	// it: rebuilt from the canonical bytes that were digested, without the
	// ds:Signature. It is the only part of the input a caller may use.
	Element *etree.Element
	// Certificate is the pinned certificate (one of those passed to Verify)
	// that verified the signature.
	Certificate *x509.Certificate
	// SignatureMethod is the SignatureMethod URI of the signature.
	SignatureMethod string
}

// Bytes writes Element as a standalone document with etree, escaping the
// characters a parser would otherwise normalise (a carriage return in text,
// a tab or line break in an attribute), so that parsing the bytes again
// yields exactly the verified content. Adapters that decode from bytes take
// these, never the bytes Verify was given.
func (v *Verified) Bytes() ([]byte, error) {
	d := etree.NewDocument()
	d.SetRoot(v.Element.Copy())
	d.WriteSettings = etree.WriteSettings{CanonicalText: true, CanonicalAttrVal: true}
	out, err := d.WriteToBytes()
	if err != nil {
		return nil, fmt.Errorf("xmlsig: writing the verified element: %w", err)
	}
	return out, nil
}

// Verify checks the enveloped signature of data against the sender's own
// pinned certificates (one, or two during a rollover; at most MaxPinned),
// in the order of the package comment, and returns the signed element. A
// refusal is a *VerifyError naming the check that failed and wrapping one
// of the sentinel errors; a nil error always comes with a non-nil
// *Verified whose Element and Certificate are set. A Verifier not made by
// NewVerifier (nil, or the zero value) verifies nothing: it returns an
// error that is not a *VerifyError.
func (v *Verifier) Verify(data []byte, pinned []*x509.Certificate) (*Verified, error) {
	if v == nil || v.clock == nil {
		return nil, errNoVerifier
	}
	lim := v.limits
	if len(data) == 0 {
		return nil, refuse(CheckParse, ErrMalformed, "empty document")
	}
	if len(data) > lim.MaxBytes {
		return nil, refuse(CheckSize, ErrTooLarge, fmt.Sprintf("document is larger than %d bytes", lim.MaxBytes))
	}
	if len(pinned) == 0 || len(pinned) > MaxPinned {
		return nil, refuse(CheckCertificate, ErrNoPinnedCertificate, fmt.Sprintf("%d certificates pinned for the sender (1 to %d)", len(pinned), MaxPinned))
	}
	for _, c := range pinned {
		if c == nil || len(c.Raw) == 0 {
			return nil, refuse(CheckCertificate, ErrNoPinnedCertificate, "a pinned certificate is empty")
		}
	}

	doc, err := xmlsafe.Parse(data, lim)
	if err != nil {
		msg := "not acceptable XML"
		var xe *xmlsafe.Error
		if errors.As(err, &xe) {
			msg = fmt.Sprintf("%s (line %d)", xe.Rule, xe.Line)
		}
		return nil, refuseCause(CheckParse, ErrMalformed, msg, err)
	}
	root := doc.Doc.Root()
	p, verr := checkProfile(root)
	if verr != nil {
		return nil, verr
	}
	cert, verr := p.pinnedCertificate(pinned)
	if verr != nil {
		return nil, verr
	}
	now := v.clock.Now()
	if now.Before(cert.NotBefore) {
		return nil, refuse(CheckCertificate, ErrCertificateNotYetValid, "the signer's certificate is valid from "+cert.NotBefore.UTC().Format(time.RFC3339))
	}
	if now.After(cert.NotAfter) {
		return nil, refuse(CheckCertificate, ErrCertificateExpired, "the signer's certificate expired at "+cert.NotAfter.UTC().Format(time.RFC3339))
	}
	if verr := p.prepareSignatureValue(); verr != nil {
		return nil, verr
	}

	ctx := &dsig.ValidationContext{
		CertificateStore: &dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{cert}},
		IdAttribute:      idAttr,
		// goxmldsig judges at our clock's instant, never its own.
		Clock: dsig.NewFakeClockAt(now),
	}
	el, err := ctx.Validate(root)
	// From here on, only el is read: root and doc are never used again.
	if err != nil {
		return nil, refuseCause(CheckSignature, ErrBadSignature, "the signature or the digest does not match", err)
	}
	if el == nil || el.Tag != p.rootTag || el.NamespaceURI() != p.rootSpace || el.SelectAttrValue(idAttr, "") != p.id {
		return nil, refuse(CheckSignature, ErrBadSignature, "the validator returned an element other than the signed root")
	}
	for _, c := range el.ChildElements() {
		if c.Tag == dsig.SignatureTag {
			return nil, refuse(CheckSignature, ErrBadSignature, "the validator returned the element with its signature")
		}
	}
	return &Verified{Element: el, Certificate: cert, SignatureMethod: p.method}, nil
}

// pinnedCertificate returns the pinned certificate equal (DER) to the one in
// KeyInfo, after checking that its key fits the signature method, and
// records the key in p.key.
func (p *profile) pinnedCertificate(pinned []*x509.Certificate) (*x509.Certificate, *VerifyError) {
	var cert *x509.Certificate
	for _, c := range pinned {
		if bytes.Equal(c.Raw, p.certDER) {
			cert = c
			break
		}
	}
	if cert == nil {
		return nil, refuse(CheckCertificate, ErrUntrustedCertificate, "the certificate in KeyInfo is not pinned for the sender")
	}
	ki, err := describeKey(cert.PublicKey)
	if err != nil {
		return nil, refuseCause(CheckCertificate, ErrAlgorithm, "the signer's key is not allowed", err)
	}
	if ki.family != p.family {
		return nil, refuse(CheckCertificate, ErrAlgorithm, "the SignatureMethod does not fit the signer's key")
	}
	p.key = ki
	return cert, nil
}

// prepareSignatureValue checks the length of the SignatureValue against the
// signer's key and rewrites its text as goxmldsig reads it: an ECDSA r||s
// re-encoded as ASN.1 DER, and base64 without line breaks. SignatureValue is
// outside SignedInfo and is removed by the enveloped transform, so neither
// what is signed nor what is digested changes.
func (p *profile) prepareSignatureValue() *VerifyError {
	value := p.value
	if len(value) != p.key.size {
		return refuse(CheckSignature, ErrBadSignature, fmt.Sprintf("the SignatureValue is %d bytes, the signer's key makes %d", len(value), p.key.size))
	}
	if p.key.family == x509.ECDSA {
		der, err := rawToDER(value, p.key.size/2)
		if err != nil {
			return refuseCause(CheckSignature, ErrBadSignature, "the ECDSA SignatureValue is not r||s", err)
		}
		value = der
	}
	sv := p.signatureValue
	for len(sv.Child) > 0 {
		sv.RemoveChildAt(0)
	}
	sv.SetText(base64.StdEncoding.EncodeToString(value))
	return nil
}
