package envelope

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"regexp"

	"github.com/psykosocial/exchange/internal/record"
)

// Kind is the kind of a message; it decides the JWS typ.
type Kind string

// The message kinds.
const (
	// KindRegistration is a new record or a corrected version.
	KindRegistration Kind = "registration"
	// KindWithdrawal is a withdrawal notice: the recipient must delete.
	KindWithdrawal Kind = "withdrawal"
	// KindReceipt is a signed receipt (SignReceipt); it is never sealed.
	KindReceipt Kind = "receipt"
)

// The typ header parameter of each kind (RFC 8725 section 3.11: explicit
// typing, so that one kind of signed object is never taken for another).
const (
	// TypRegistration is the typ of a registration.
	TypRegistration = "psykosocial-registration+jws"
	// TypWithdrawal is the typ of a withdrawal notice.
	TypWithdrawal = "psykosocial-withdrawal+jws"
	// TypReceipt is the typ of a receipt.
	TypReceipt = "psykosocial-receipt+jws"
)

// Typ returns the typ header parameter of k, or "" for an unknown kind.
func (k Kind) Typ() string {
	switch k {
	case KindRegistration:
		return TypRegistration
	case KindWithdrawal:
		return TypWithdrawal
	case KindReceipt:
		return TypReceipt
	}
	return ""
}

// kindOfTyp is the inverse of Kind.Typ.
func kindOfTyp(typ string) (Kind, bool) {
	switch typ {
	case TypRegistration:
		return KindRegistration, true
	case TypWithdrawal:
		return KindWithdrawal, true
	case TypReceipt:
		return KindReceipt, true
	}
	return "", false
}

// Content types: the cty of a JWS names the format of its payload; the cty
// of a JWE names the format of its plaintext.
const (
	// ContentTypeJOSE is the cty of a JWE whose plaintext is a compact JWS
	// (RFC 7515 section 9.2.1, "application/jose" with its prefix omitted).
	ContentTypeJOSE = "JOSE"
	// ContentTypeRegion is the regions' JSON format.
	ContentTypeRegion = "application/vnd.psykosocial.region+json"
	// ContentTypeCommon is the common record (schema registration/v1) as JSON.
	ContentTypeCommon = "application/vnd.psykosocial.common+json"
	// ContentTypeMunicipality is the municipalities' XML format.
	ContentTypeMunicipality = "application/vnd.psykosocial.municipality+xml"
	// ContentTypePolice is the police districts' XML format.
	ContentTypePolice = "application/vnd.psykosocial.police+xml"
	// ContentTypeReceipt is the canonical receipt (Receipt).
	ContentTypeReceipt = "application/vnd.psykosocial.receipt+json"
)

var (
	// reJSONType and reXMLType are the forms of a document content type.
	reJSONType = regexp.MustCompile(`^application/vnd\.psykosocial\.[a-z][a-z0-9-]{0,31}\+json$`)
	reXMLType  = regexp.MustCompile(`^application/vnd\.psykosocial\.[a-z][a-z0-9-]{0,31}\+xml$`)
	// reAuthority is the form of an authority id (DESIGN.md section 4).
	reAuthority = regexp.MustCompile(record.AuthorityIDPattern)
	// reUUID is a lower-case UUID as every message and record id is written.
	reUUID = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
)

// GatewayID is the authority id of the gateway; only it may send provenance.
const GatewayID = "gateway"

// ValidAuthorityID reports whether id has the form of an authority id:
// municipality:0851, region:1081, police:nordjylland or gateway.
func ValidAuthorityID(id string) bool { return reAuthority.MatchString(id) }

// ValidMessageID reports whether id is a lower-case UUID.
func ValidMessageID(id string) bool { return reUUID.MatchString(id) }

// NewMessageID returns a random (version 4) lower-case UUID read from r.
func NewMessageID(r io.Reader) (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", fmt.Errorf("envelope: message id: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}

// Digest is a SHA-256 digest of signed bytes: of a compact JWS, or of a
// signed XML document. It is written as unpadded base64url (43 characters),
// as JOSE writes thumbprints.
type Digest [sha256.Size]byte

// DigestOf returns the SHA-256 digest of b.
func DigestOf(b []byte) Digest { return sha256.Sum256(b) }

// String returns d as unpadded base64url.
func (d Digest) String() string { return base64.RawURLEncoding.EncodeToString(d[:]) }

// IsZero reports whether d is all zeros (unset).
func (d Digest) IsZero() bool { return d == Digest{} }

// ParseDigest parses the unpadded base64url form of a digest.
func ParseDigest(s string) (Digest, error) {
	var d Digest
	if len(s) != base64.RawURLEncoding.EncodedLen(len(d)) {
		return d, fmt.Errorf("envelope: a digest is %d base64url characters", base64.RawURLEncoding.EncodedLen(len(d)))
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil || len(b) != len(d) {
		return d, fmt.Errorf("envelope: a digest is unpadded base64url of 32 bytes")
	}
	copy(d[:], b)
	return d, nil
}
