package envelope

import (
	"errors"
	"strconv"
	"unicode/utf8"
)

// Check names the step of Open, OpenXML or VerifyReceipt that refused a
// message. The values are stable: the journal records them as the reason.
type Check string

// The checks, in the order Open applies them.
const (
	// CheckSize: the envelope is larger than MaxEnvelopeBytes (or empty).
	CheckSize Check = "size"
	// CheckFormat: not a compact JWE (five base64url parts) or JWS (three).
	CheckFormat Check = "format"
	// CheckAlgorithm: alg or enc is not on the allow-list.
	CheckAlgorithm Check = "algorithm"
	// CheckHeader: a protected header is malformed, has a duplicate, a case
	// variant, an unknown, a missing or a forbidden parameter (zip, crit,
	// jwk, jku, x5u, x5c), or the wrong cty.
	CheckHeader Check = "header"
	// CheckIssuer: iss is not the authenticated sender, or the JWE and JWS
	// disagree about it.
	CheckIssuer Check = "iss"
	// CheckAudience: aud is not exactly the expected recipient, or the JWE
	// and JWS disagree about it.
	CheckAudience Check = "aud"
	// CheckDecrypt: no decryption key fits or the ciphertext does not
	// authenticate.
	CheckDecrypt Check = "decrypt"
	// CheckKeys: the sender's pinned keys could not be had (not the
	// sender's fault when wrapped with ErrUnavailable).
	CheckKeys Check = "keys"
	// CheckSignature: no pinned key of the sender verifies the signature.
	CheckSignature Check = "signature"
	// CheckTyp: typ is not one of the expected message kinds.
	CheckTyp Check = "typ"
	// CheckIssuedAt: iat is in the future beyond the leeway.
	CheckIssuedAt Check = "iat"
	// CheckExpiry: exp has passed, or exp - iat is longer than MaxLifetime.
	CheckExpiry Check = "exp"
	// CheckID: jti is not a lower-case UUID.
	CheckID Check = "jti"
	// CheckReplay: the issuer's jti was seen before (or the replay cache
	// failed, wrapped with ErrUnavailable).
	CheckReplay Check = "replay"
	// CheckPayload: a receipt's payload is not a canonical receipt.
	CheckPayload Check = "payload"
)

// Sentinel errors wrapped by *OpenError; match them with errors.Is.
var (
	// ErrTooLarge: the input is larger than its limit.
	ErrTooLarge = errors.New("too large")
	// ErrMalformed: the input is not the expected compact serialization.
	ErrMalformed = errors.New("malformed compact serialization")
	// ErrAlgorithm: an algorithm that is not on the allow-list.
	ErrAlgorithm = errors.New("algorithm not allowed")
	// ErrHeader: a protected header that is malformed or has a missing,
	// duplicate, case-variant or unknown parameter.
	ErrHeader = errors.New("bad protected header")
	// ErrEmbeddedKey: a header names or carries a key (jwk, jku, x5u, x5c,
	// x5t); keys come only from the trust store.
	ErrEmbeddedKey = errors.New("key in header")
	// ErrCompressed: a JWE with zip; compression is refused.
	ErrCompressed = errors.New("compressed JWE")
	// ErrCritical: a header with crit; no extension is understood.
	ErrCritical = errors.New("critical header parameter")
	// ErrContentType: cty is missing or not the expected one.
	ErrContentType = errors.New("wrong content type")
	// ErrProvenance: provenance parameters that are incomplete, malformed,
	// or sent by anyone but the gateway.
	ErrProvenance = errors.New("bad provenance")
	// ErrDecrypt: the JWE could not be decrypted with the recipient's keys.
	ErrDecrypt = errors.New("cannot decrypt")
	// ErrUnknownKey: a kid that names none of the keys allowed here.
	ErrUnknownKey = errors.New("unknown key id")
	// ErrSignature: the signature does not verify with a pinned key.
	ErrSignature = errors.New("signature does not verify")
	// ErrTyp: typ is not an expected message kind.
	ErrTyp = errors.New("wrong typ")
	// ErrIssuer: iss is not the expected sender.
	ErrIssuer = errors.New("wrong issuer")
	// ErrAudience: aud is not exactly the expected recipient.
	ErrAudience = errors.New("wrong audience")
	// ErrNotYetValid: iat is in the future.
	ErrNotYetValid = errors.New("issued in the future")
	// ErrExpired: exp has passed.
	ErrExpired = errors.New("expired")
	// ErrLifetime: exp - iat is not within (0, MaxLifetime].
	ErrLifetime = errors.New("lifetime too long")
	// ErrMessageID: jti is missing or not a lower-case UUID.
	ErrMessageID = errors.New("bad message id")
	// ErrReplay: the message id was seen before from the same issuer.
	ErrReplay = errors.New("replayed message")
	// ErrReceipt: a receipt's payload is not canonical or contradicts its header.
	ErrReceipt = errors.New("bad receipt")
	// ErrUnavailable: a dependency (trust store, replay cache) failed. The
	// message was not judged; the sender may retry.
	ErrUnavailable = errors.New("dependency unavailable")
)

// OpenError is why Open, OpenXML or VerifyReceipt refused their input. Err
// wraps one of the sentinel errors; its text never quotes more than a few
// bytes of the input.
type OpenError struct {
	// Check is the step that failed.
	Check Check
	// Err says why; errors.Is matches the sentinels.
	Err error
}

// Error implements error.
func (e *OpenError) Error() string {
	return "envelope: " + string(e.Check) + ": " + e.Err.Error()
}

// Unwrap returns Err.
func (e *OpenError) Unwrap() error { return e.Err }

// refuse returns an *OpenError.
func refuse(check Check, err error) *OpenError {
	return &OpenError{Check: check, Err: err}
}

// detail wraps a sentinel with a short explanation that may quote input
// only through quote.
type detail struct {
	sentinel error
	msg      string
}

// Error implements error.
func (d *detail) Error() string { return d.sentinel.Error() + ": " + d.msg }

// Unwrap returns the sentinel.
func (d *detail) Unwrap() error { return d.sentinel }

// refusef returns an *OpenError whose Err is sentinel with a message.
func refusef(check Check, sentinel error, msg string) *OpenError {
	return &OpenError{Check: check, Err: &detail{sentinel: sentinel, msg: msg}}
}

// quote quotes at most maxQuotedBytes of s, for error messages about input.
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
