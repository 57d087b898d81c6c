package xmlsig

import (
	"errors"
	"strconv"
	"unicode/utf8"
)

// Check names the step of Verify that refused a document. The values are
// stable: the journal records them as the reason.
type Check string

// The checks, in the order Verify applies them.
const (
	// CheckSize: the document is larger than the limit.
	CheckSize Check = "size"
	// CheckParse: the document is not XML that internal/xmlsafe accepts.
	CheckParse Check = "parse"
	// CheckProfile: the signature is missing, misplaced, or not the shape,
	// reference or algorithms of the gateway's XML-DSig profile.
	CheckProfile Check = "profile"
	// CheckCertificate: the signer's certificate is not pinned for the
	// sender, does not fit the signature method, or is not valid now.
	CheckCertificate Check = "certificate"
	// CheckSignature: the signature value or the digest does not verify.
	CheckSignature Check = "signature"
)

// Sentinel errors. Verify wraps them in a *VerifyError; Sign and
// SignDocument wrap them with %w. Match them with errors.Is.
var (
	// ErrTooLarge: the document is larger than its limit.
	ErrTooLarge = errors.New("document too large")
	// ErrMalformed: the document is empty or not acceptable XML. The
	// *xmlsafe.Error that says why is in the chain (errors.As).
	ErrMalformed = errors.New("malformed XML")
	// ErrNoSignature: no ds:Signature in the document.
	ErrNoSignature = errors.New("no signature")
	// ErrSignatureCount: more than one Signature element in the document.
	ErrSignatureCount = errors.New("more than one signature")
	// ErrSignaturePlacement: the signature is not the first child element of
	// the root.
	ErrSignaturePlacement = errors.New("signature not the first child of the root")
	// ErrSignatureShape: the signature has elements, attributes or text the
	// profile does not allow (ds:Object, Manifest, an Id, ...), or an
	// XML-DSig element appears outside it.
	ErrSignatureShape = errors.New("signature shape not allowed")
	// ErrReference: not exactly one Reference, its URI is not "#" + the
	// root's ID, or the root's ID is missing, malformed or not unique.
	ErrReference = errors.New("bad reference")
	// ErrAlgorithm: a canonicalisation, transform, digest or signature
	// method that is not allowed, or a key that does not fit it.
	ErrAlgorithm = errors.New("algorithm not allowed")
	// ErrKeyInfo: KeyInfo is missing or holds anything but one X509Data
	// with one X509Certificate.
	ErrKeyInfo = errors.New("bad KeyInfo")
	// ErrUntrustedCertificate: the certificate in KeyInfo is not one of the
	// sender's pinned certificates.
	ErrUntrustedCertificate = errors.New("certificate not pinned for the sender")
	// ErrNoPinnedCertificate: the caller pinned no certificate (or too many,
	// or a nil one) for the sender; nothing can verify.
	ErrNoPinnedCertificate = errors.New("no pinned certificate")
	// ErrCertificateExpired: the signer's certificate expired before now.
	ErrCertificateExpired = errors.New("certificate expired")
	// ErrCertificateNotYetValid: the signer's certificate is not valid yet.
	ErrCertificateNotYetValid = errors.New("certificate not yet valid")
	// ErrBadSignature: the signature value or the digest does not verify.
	ErrBadSignature = errors.New("signature does not verify")

	// ErrNotSignable: Sign was given no root, a root without a usable ID,
	// or a root that already holds a signature or repeats its ID.
	ErrNotSignable = errors.New("element cannot be signed")
	// ErrUnsupportedKey: Sign was given a key that is not RSA (2048 to 8192
	// bits) or ECDSA (P-256, P-384, P-521), or Verify met such a key in a
	// pinned certificate (wrapped in ErrAlgorithm's check).
	ErrUnsupportedKey = errors.New("unsupported key")
	// ErrKeyMismatch: the certificate given to Sign is not the signer's.
	ErrKeyMismatch = errors.New("certificate does not match the key")
)

// VerifyError is why Verify refused a document. Err wraps one of the
// sentinel errors; its text never quotes more than a few bytes of the
// input.
type VerifyError struct {
	// Check is the step that failed.
	Check Check
	// Err says why; errors.Is matches the sentinels.
	Err error
}

// Error implements error.
func (e *VerifyError) Error() string {
	return "xmlsig: " + string(e.Check) + ": " + e.Err.Error()
}

// Unwrap returns Err.
func (e *VerifyError) Unwrap() error { return e.Err }

// detail is a sentinel with a short explanation and, optionally, the
// underlying error (reachable with errors.As, never printed: its text may
// quote the input at length).
type detail struct {
	sentinel error
	msg      string
	cause    error
}

func (d *detail) Error() string {
	if d.msg == "" {
		return d.sentinel.Error()
	}
	return d.sentinel.Error() + ": " + d.msg
}

func (d *detail) Unwrap() []error {
	if d.cause == nil {
		return []error{d.sentinel}
	}
	return []error{d.sentinel, d.cause}
}

// refuse returns a *VerifyError for check whose Err is sentinel with msg.
func refuse(check Check, sentinel error, msg string) *VerifyError {
	return &VerifyError{Check: check, Err: &detail{sentinel: sentinel, msg: msg}}
}

// refuseCause is refuse with an underlying error kept in the chain.
func refuseCause(check Check, sentinel error, msg string, cause error) *VerifyError {
	return &VerifyError{Check: check, Err: &detail{sentinel: sentinel, msg: msg, cause: cause}}
}

// bad returns a refusal of the profile check.
func bad(sentinel error, msg string) *VerifyError {
	return refuse(CheckProfile, sentinel, msg)
}

// quote quotes at most maxQuotedBytes of s, for messages about input.
func quote(s string) string {
	if len(s) <= maxQuotedBytes {
		return strconv.Quote(s)
	}
	cut := maxQuotedBytes
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + "..."
}
