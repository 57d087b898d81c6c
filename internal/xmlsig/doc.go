// Package xmlsig signs and verifies the enveloped XML-DSig signatures of the
// XML authorities (municipalities and police).
//
// Every document carries one signature over its root: the root has an ID
// attribute, the signature's single Reference points at it ("#" + ID), the
// transforms are exactly enveloped-signature then exclusive C14N without
// comments, the digest is SHA-256, the signature method is RSA-SHA256 or
// ECDSA-SHA256 (chosen from the key), and ds:KeyInfo holds the signer's
// certificate and nothing else. The ds:Signature is the root's first child
// (see "The signature comes first" below).
// schemas/xmldsig-profile.xsd describes the same shape. The XML-DSig work
// itself (canonicalisation, digests, signature values) is done by
// github.com/russellhaering/goxmldsig; this package decides what goes in
// and what is accepted.
//
// # Signing
//
// Sign and SignDocument take a crypto.Signer and its certificate, so that a
// key held elsewhere (a Vault transit key) can sign. The output is always
// produced by etree, never by joining strings. The caller's element is never
// modified: the signature is computed over a copy, and inserted as the first
// child of another copy that keeps the root's own namespace declarations.
//
// # The signature comes first
//
// goxmldsig looks for the signature by walking the document in document
// order under a traversal budget of 1,000 elements (a denial-of-service
// guard of its etreeutils package), and stops walking once it has found the
// signature over the root. A signature at the end of a police list of 1,000
// persons lies some 40,000 elements deep into that walk, beyond the budget,
// and goxmldsig then fails as if the signature did not match. As the
// root's first child it is found after two elements, whatever the size of
// the document (SAML places its signature early for the same reason). The
// size of a document is bounded by the parse limits instead: the caller's
// Limits, which the service takes from the format's adapter.
//
// # ECDSA signatures are raw r||s
//
// XML-DSig encodes an ECDSA SignatureValue as the two integers r and s,
// each left-padded to the size of the curve, concatenated (RFC 4050, to
// which the ecdsa-sha256 URI of RFC 4051 and RFC 6931 refers, and the ECDSA
// section of XML Signature 1.1); xmlsec1 does the same. goxmldsig, like crypto.Signer, uses ASN.1 DER instead. The
// gateway speaks the standard, and converts at the boundary with goxmldsig:
//
//   - when signing, the crypto.Signer is wrapped so that the DER signature it
//     returns is re-encoded as r||s before goxmldsig writes it;
//   - when verifying, the SignatureValue must be exactly twice the
//     coordinate size of the pinned certificate's curve; it is re-encoded as
//     DER in the parsed tree just before goxmldsig's Validate runs.
//     SignatureValue is outside SignedInfo and is removed by the enveloped
//     transform, so rewriting it changes neither what is signed nor what is
//     digested. A DER SignatureValue (what goxmldsig alone would produce) is
//     refused as a bad signature.
//
// Every SignatureValue is rewritten there as plain base64: XML allows
// white space inside base64 text (xmlsec1 wraps it at 64 columns), and
// goxmldsig's decoder skips line breaks but not spaces or tabs.
//
// # KeyInfo is required
//
// goxmldsig verifies a signature without KeyInfo when exactly one
// certificate is trusted. Verify refuses that: KeyInfo must hold exactly
// one X509Data with exactly one X509Certificate, byte-equal (DER) to one of
// the sender's pinned certificates. The key still comes only from the pinned
// set; requiring KeyInfo makes the stored signed message name the
// certificate that signed it (evidence that survives a rollover), selects
// that certificate without trying each pinned one in turn, and follows
// SECURITY.md, which lists a missing KeyInfo among what we refuse. The
// profile XSD still marks KeyInfo optional (minOccurs="0"); Sign always
// writes it.
//
// # Verification
//
// Verifier.Verify applies, in this order, and refuses with a *VerifyError
// naming the check and wrapping a sentinel error (match with errors.Is):
//
//  1. size: at most Limits.MaxBytes;
//  2. parse: internal/xmlsafe refuses DOCTYPE and other directives,
//     processing instructions, comments, duplicate attributes, undeclared
//     prefixes, non-UTF-8 and documents beyond the depth, element, attribute
//     and text limits;
//  3. profile: exactly one element named Signature in the whole document (in
//     any namespace), in the XML-DSig namespace, the first child element of
//     the root, and no other XML-DSig element outside it; the root has
//     exactly one ID attribute, no other element carries an id-like
//     attribute with the same value; every element of the signature is the
//     one the profile names, with no other attributes, children or text
//     (no ds:Object, no Manifest, no KeyValue); one Reference whose URI is
//     "#" + the root's ID; transforms exactly enveloped-signature then
//     exclusive C14N, without parameters; CanonicalizationMethod exclusive
//     C14N without comments; SignatureMethod and DigestMethod SHA-256 or
//     stronger (never SHA-1);
//  4. certificate: the KeyInfo certificate is one of the pinned ones, its
//     key fits the signature method and is strong enough, and it is valid
//     at the injected clock's time;
//  5. signature: goxmldsig's ValidationContext.Validate, given only that
//     pinned certificate, checks the SignatureValue over the canonical
//     SignedInfo and the digest of the root without the signature.
//
// SECURITY.md lists Validate before the profile checks. They run first
// here: both judge the same parsed tree (of which only the SignatureValue
// text is rewritten, see above), so a document passes Verify exactly when
// it passes both; but checking the profile first means that goxmldsig only
// ever sees the one signature shape we allow (left alone it picks the first
// Reference that matches, canonicalises with whatever SignedInfo names, and
// takes the certificate from KeyInfo), the reported check is the precise
// one, and hostile shapes cost no canonicalisation or public-key work.
//
// Verify returns only the element that Validate returned: the root rebuilt
// from the exact canonical bytes that were digested, without the
// ds:Signature. The parsed input is never read after Validate. Callers keep
// the input bytes as evidence only; an adapter that decodes bytes gets them
// from Verified.Bytes.
package xmlsig
