package envelope

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/psykosocial/exchange/internal/strictjson"
)

// Header is the metadata of a message. Open returns it from the signed JWS
// header (trusted); OpenXML from the JWE header (to be cross-checked
// against the signed XML header by the caller).
type Header struct {
	// Kind is the message kind (from typ); empty for XML.
	Kind Kind
	// ContentType is the payload's format (the JWS cty, or the JWE cty of XML).
	ContentType string
	// KeyID is the kid of the signing key that verified; empty for XML.
	KeyID string
	// Issuer is the sender's authority id (iss).
	Issuer string
	// Audience is the recipient's authority id (aud).
	Audience string
	// IssuedAt is iat.
	IssuedAt time.Time
	// Expires is exp.
	Expires time.Time
	// ID is the message id (jti), a lower-case UUID.
	ID string
	// Provenance names the original message of a gateway's outbound one;
	// nil otherwise.
	Provenance *Provenance
	// MailboxID is the stable id of the mailbox message a gateway's
	// delivery carries (the mailbox_id parameter of its signed header):
	// every delivery of one mailbox message has its own ID and the same
	// MailboxID, so the recipient files it once. Empty otherwise.
	MailboxID string
}

// Provenance is the original message a gateway's outbound message derives
// from (DESIGN.md section 5). It travels as the protected JWS header
// parameters orig_iss, orig_jti and orig_digest, all three or none. They
// are not listed in crit: go-jose, like most JOSE libraries, refuses every
// crit name it does not itself implement, so a crit list would make our
// own messages unverifiable. Every receiver of ours decodes headers
// strictly and so refuses a message whose parameters it does not know,
// which is what crit would have bought.
type Provenance struct {
	// Issuer is the original sender's authority id (orig_iss).
	Issuer string
	// ID is the original message id (orig_jti).
	ID string
	// Digest is the SHA-256 of the original signed bytes (orig_digest): the
	// compact JWS, or the signed XML document.
	Digest Digest
}

// check reports whether p is complete and well-formed.
func (p *Provenance) check() error {
	if !ValidAuthorityID(p.Issuer) || !ValidMessageID(p.ID) || p.Digest.IsZero() {
		return ErrProvenance
	}
	return nil
}

// Header parameter names that this package writes beyond the registered ones.
const (
	paramOrigIssuer = "orig_iss"
	paramOrigID     = "orig_jti"
	paramOrigDigest = "orig_digest"
	paramMailboxID  = "mailbox_id"
)

// jwsHeader is every parameter a message or receipt JWS may have. Decoded
// with strictjson, anything else, a duplicate or a case variant is refused.
type jwsHeader struct {
	Alg        string `json:"alg"`
	Kid        string `json:"kid"`
	Typ        string `json:"typ"`
	Cty        string `json:"cty"`
	Iss        string `json:"iss"`
	Aud        string `json:"aud"`
	Iat        *int64 `json:"iat"`
	Exp        *int64 `json:"exp"`
	Jti        string `json:"jti"`
	OrigIss    string `json:"orig_iss"`
	OrigJti    string `json:"orig_jti"`
	OrigDigest string `json:"orig_digest"`
	MailboxID  string `json:"mailbox_id"`
}

// jweHeader is every parameter an envelope JWE may have. iat, exp and jti
// belong to XML envelopes only; epk, apu and apv to ECDH-ES only.
type jweHeader struct {
	Alg string          `json:"alg"`
	Enc string          `json:"enc"`
	Epk json.RawMessage `json:"epk"`
	Apu string          `json:"apu"`
	Apv string          `json:"apv"`
	Kid string          `json:"kid"`
	Cty string          `json:"cty"`
	Iss string          `json:"iss"`
	Aud string          `json:"aud"`
	Iat *int64          `json:"iat"`
	Exp *int64          `json:"exp"`
	Jti string          `json:"jti"`
}

// headerLimits bound a protected header before it is decoded.
var headerLimits = strictjson.Limits{
	MaxBytes:           maxHeaderBytes,
	MaxDepth:           maxHeaderDepth,
	MaxArray:           maxHeaderArray,
	RejectEmptyStrings: true,
}

// keyParams are the parameters that carry or point at a key. go-jose would
// let a message verify with its own embedded key; they are refused.
var keyParams = map[string]bool{"jwk": true, "jku": true, "x5u": true, "x5c": true, "x5t": true, "x5t#S256": true}

// decodeHeader decodes one base64url protected header segment strictly into v.
func decodeHeader(segment string, v any) *OpenError {
	if base64.RawURLEncoding.DecodedLen(len(segment)) > maxHeaderBytes {
		return refusef(CheckHeader, ErrTooLarge, "protected header too large")
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(segment)
	if err != nil {
		return refusef(CheckFormat, ErrMalformed, "protected header is not unpadded base64url")
	}
	err = strictjson.Unmarshal(raw, v, headerLimits)
	if err == nil {
		return nil
	}
	var se *strictjson.Error
	if !errors.As(err, &se) {
		return refusef(CheckHeader, ErrHeader, "undecodable")
	}
	name := strings.NewReplacer("~1", "/", "~0", "~").Replace(strings.TrimPrefix(se.Pointer, "/"))
	switch se.Rule {
	case "json.unknown_field":
		switch {
		case keyParams[name]:
			return refusef(CheckHeader, ErrEmbeddedKey, "parameter "+quote(name)+": keys come only from the trust store")
		case name == "zip":
			return refusef(CheckHeader, ErrCompressed, "zip is refused")
		case name == "crit":
			return refusef(CheckHeader, ErrCritical, "crit is refused: no extension is understood")
		}
		return refusef(CheckHeader, ErrHeader, "unknown parameter "+quote(name))
	case "json.duplicate_key":
		return refusef(CheckHeader, ErrHeader, "duplicate parameter "+quote(name))
	case "json.type":
		if name == "aud" {
			return refusef(CheckAudience, ErrAudience, "aud must be a single authority id")
		}
		return refusef(CheckHeader, ErrHeader, "parameter "+quote(name)+" has the wrong type")
	case "json.empty":
		return refusef(CheckHeader, ErrHeader, "parameter "+quote(name)+" is empty")
	case "json.limit":
		return refusef(CheckHeader, ErrHeader, "protected header exceeds a limit")
	}
	return refusef(CheckHeader, ErrHeader, "malformed protected header")
}

// numericDate checks a required NumericDate parameter.
func numericDate(v *int64, name string) (time.Time, *OpenError) {
	if v == nil {
		return time.Time{}, refusef(CheckHeader, ErrHeader, "missing parameter "+name)
	}
	if *v < 0 || *v > maxNumericDate {
		return time.Time{}, refusef(CheckHeader, ErrHeader, "parameter "+name+" is out of range")
	}
	return time.Unix(*v, 0).UTC(), nil
}

// checkTimes applies the iat and exp rules at now with leeway.
func checkTimes(iat, exp, now time.Time, leeway time.Duration) *OpenError {
	if iat.After(now.Add(leeway)) {
		return refusef(CheckIssuedAt, ErrNotYetValid, "iat is later than now plus the leeway")
	}
	if !exp.After(now.Add(-leeway)) {
		return refusef(CheckExpiry, ErrExpired, "exp has passed")
	}
	if !exp.After(iat) || exp.Sub(iat) > MaxLifetime {
		return refusef(CheckExpiry, ErrLifetime, "exp - iat must be positive and at most "+MaxLifetime.String())
	}
	return nil
}

// missing returns the name of the first empty required string, or "".
func missing(pairs ...string) string {
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			return pairs[i]
		}
	}
	return ""
}

// splitCompact splits a compact serialization into exactly n parts.
func splitCompact(s string, n int) ([]string, bool) {
	if strings.Count(s, ".") != n-1 {
		return nil, false
	}
	return strings.Split(s, "."), true
}
