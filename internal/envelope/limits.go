package envelope

import "time"

// Limits of this package. Each bounds attacker-controlled work or size; the
// reason is on the line.
const (
	// MaxEnvelopeBytes bounds an inbound envelope: a MaxPayloadBytes document,
	// base64url-encoded twice (JWS, then JWE: 16/9 of it, 14.2 MiB), plus
	// headers fits below it. The HTTP layer uses it as the request body
	// limit of envelope routes. The chain body ≥ envelope ≥ payload ≥ each
	// adapter's document limit is checked by gateway's TestLimitsChain.
	MaxEnvelopeBytes = 16 << 20

	// MaxPayloadBytes bounds the document Seal and SealXML accept: the
	// largest document any adapter admits, a police list of 2,000 persons
	// at 4 KiB each (8,192,000 bytes; adapters/police), so that a list of
	// 1,000 persons fits whatever they hold (the fullest person is about
	// 7 KiB).
	MaxPayloadBytes = 8 << 20

	// MaxLifetime bounds exp - iat: a message is made to be sent now, and a
	// short window keeps the replay cache small.
	MaxLifetime = 5 * time.Minute

	// DefaultLeeway is the clock skew tolerated between authorities.
	DefaultLeeway = 60 * time.Second

	// maxLeeway bounds a configured leeway: more would make exp meaningless.
	maxLeeway = 5 * time.Minute

	// defaultLifetime is exp - iat of what Seal makes unless configured:
	// enough for a retry or two over a slow link.
	defaultLifetime = 2 * time.Minute

	// maxHeaderBytes bounds a decoded protected header: ours, with an EC epk,
	// are under 1 KiB.
	maxHeaderBytes = 8 << 10

	// maxHeaderDepth bounds nesting in a protected header: epk is the only
	// object, one level down.
	maxHeaderDepth = 3

	// maxHeaderArray bounds arrays in a protected header: none are expected;
	// an aud array is refused after it is read, so keep it short.
	maxHeaderArray = 8

	// maxKeyIDBytes bounds a kid: a thumbprint is 43 characters.
	maxKeyIDBytes = 128

	// maxDecryptionKeys bounds the keys Open tries when a JWE names no kid:
	// a current key and a few previous ones during rollover.
	maxDecryptionKeys = 8

	// maxSenderKeys bounds the pinned keys of one sender: current, next and
	// previous signing keys with room for overlap.
	maxSenderKeys = 16

	// minRSABits is the smallest RSA modulus accepted for any use (RFC 7518
	// requires 2048 for RS/PS and RSA-OAEP).
	minRSABits = 2048

	// maxRSABits bounds RSA key size: larger moduli make verification a
	// CPU sink and no authority uses them.
	maxRSABits = 8192

	// maxReceiptBytes bounds a compact receipt JWS: header, canonical
	// payload and an RSA-8192 signature fit well under it.
	maxReceiptBytes = 8 << 10

	// maxReceiptV2Bytes bounds a compact version 2 receipt: 5,000 items
	// (the store's records per message) of about 110 bytes, base64url-encoded.
	maxReceiptV2Bytes = 1 << 20

	// maxReceiptItems bounds the items of a version 2 receipt: the store
	// takes at most 5,000 records per message.
	maxReceiptItems = 5000

	// maxReceiptVersion bounds a record version in a receipt item.
	maxReceiptVersion = 1 << 30

	// maxReasonBytes bounds a receipt's reason code.
	maxReasonBytes = 64

	// maxJWKSBytes bounds a JWKS document ParseJWKS reads.
	maxJWKSBytes = 256 << 10

	// maxJWKSKeys bounds the keys of one JWKS document.
	maxJWKSKeys = 64

	// maxNumericDate is 9999-12-31T23:59:59Z: an iat or exp beyond it (or
	// before 1970) is malformed, which also keeps exp - iat from overflowing.
	maxNumericDate = 253402300799

	// maxQuotedBytes bounds how much of an attacker's string an error
	// message quotes.
	maxQuotedBytes = 32

	// defaultReplayMaxEntries bounds the in-memory replay cache: at 3,000
	// messages/s and a 7-minute window it holds about 1.3 million ids.
	defaultReplayMaxEntries = 2 << 20

	// defaultReplayMaxPerIssuer bounds one issuer's share of the replay
	// cache, so that one noisy sender cannot lock out the others.
	defaultReplayMaxPerIssuer = 512 << 10
)
