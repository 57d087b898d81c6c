// Package envelope seals and opens the gateway's JOSE envelopes (DESIGN.md
// section 5, SECURITY.md "JOSE") and signs and verifies delivery receipts.
//
// A JSON authority's message is a compact JWS, signed with the sender's key,
// whose payload is the authority's own document, unchanged, and whose
// protected header carries the message metadata:
//
//	alg  ES256 (P-256 key) or PS256 (RSA key): one algorithm per key
//	typ  the message kind: psykosocial-registration+jws, psykosocial-withdrawal+jws
//	cty  the document format, e.g. application/vnd.psykosocial.region+json
//	kid  the signing key's id (RFC 7638 thumbprint unless configured)
//	iss  the sender's authority id, e.g. region:1081
//	aud  exactly one recipient authority id, as a string
//	iat  issued at (integer seconds)
//	exp  expires at; exp - iat is at most MaxLifetime
//	jti  the message id, a lower-case UUID
//
// and, on the gateway's outbound messages only, the provenance parameters
// orig_iss, orig_jti and orig_digest (the original sender, its message id and
// the SHA-256 of its signed bytes). The JWS is then the plaintext of a
// compact JWE (ECDH-ES+A256KW to a P-256 key or RSA-OAEP-256 to an RSA key;
// content A256GCM) whose protected header repeats iss and aud and has
// cty "JOSE" (RFC 7515 section 9.2: a compact JWS or JWE) to say that the
// plaintext is itself a JOSE object. There is no separate claims payload.
//
// An XML authority's document carries its own XML-DSig signature, so it is
// sealed in a JWE directly (SealXML, OpenXML) with iss, aud, iat, exp and jti
// in the JWE protected header; the signed XML header is authoritative and the
// caller cross-checks the two.
//
// Open applies the checks of SECURITY.md in order and reports the first that
// fails as an *OpenError naming the check. Keys come only from the caller:
// the recipient's own decryption keys and the sender's pinned verification
// keys, looked up by the sender that mTLS authenticated; a kid in a message
// only selects among them, and a key inside a message is refused.
//
// Receipts (SignReceipt, VerifyReceipt) are compact JWS whose payload is a
// canonical JSON object with a frozen member order; they answer an intake
// (the gateway's 202) and acknowledge a delivery (the recipient's receipt).
package envelope
