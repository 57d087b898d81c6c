package xmlsig

import (
	"github.com/psykosocial/exchange/internal/xmlsafe"
)

// Limits of this package. Each bounds attacker-controlled work or size, or
// keeps weak keys out; the reason is on the line.
const (
	// DefaultMaxBytes bounds a document Verify reads when
	// VerifierConfig.Limits sets no MaxBytes: the largest XML payload an envelope carries
	// (envelope.MaxPayloadBytes).
	DefaultMaxBytes = 8 << 20

	// MaxPinned bounds the certificates pinned for one sender: the current
	// one and the next during a rollover, with room for overlap.
	MaxPinned = 8

	// maxIDBytes bounds the root's ID: the profile XSD's pattern allows a
	// first character and 127 more.
	maxIDBytes = 128

	// minRSABits is the smallest RSA modulus accepted (OCES3 keys are 3072;
	// nothing below 2048 is allowed anywhere in the gateway).
	minRSABits = 2048

	// maxRSABits bounds RSA key size: larger moduli make verification a CPU
	// sink and no authority uses them.
	maxRSABits = 8192

	// maxQuotedBytes bounds how much of an attacker's string an error
	// message quotes.
	maxQuotedBytes = 32
)

// signLimits are the limits SignDocument parses with. The document is the
// gateway's own, so they are generous, but a bug upstream must not make the
// signer walk an unbounded tree.
func signLimits() xmlsafe.Limits {
	return xmlsafe.Limits{
		// A police list of 2,000 persons at 4 KiB each (adapters/police), doubled.
		MaxBytes: 16 << 20,
		// Our formats nest 6 deep; twice that with the signature and room to spare.
		MaxDepth: 32,
		// 2,000 persons of up to 50 elements, with room to spare.
		MaxElements: 250_000,
		// Our elements carry an ID and a few namespace declarations.
		MaxAttrs: 16,
		// Our longest text is a certificate in base64 (a few KiB).
		MaxText: 64 << 10,
	}
}
