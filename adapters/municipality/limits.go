package municipality

import "github.com/psykosocial/exchange/internal/xmlsafe"

// The limits of a municipal document, in one place. Each bounds a hostile
// document long before it costs anything; the reason is on the line.
const (
	// MaxRegistrations is the most Registrering elements in one message: an
	// EPC registers a few hundred people at the largest incidents, and the
	// gateway itself sends one record per message.
	MaxRegistrations = 500
	// MaxDocumentBytes is the largest document Decode reads: the fullest
	// registration (a grant to every recipient role) is about 5 KiB
	// indented, a usual one 2 to 3 KiB, so 500 of them fit with room for
	// notes; a sender with more splits the list.
	MaxDocumentBytes = 4 << 20
	// maxDepth is the deepest nesting the schema allows (6 levels):
	// KommuneMeddelelse/Registrering/Samtykke/Indhentet/Af/Myndighed,
	// KommuneMeddelelse/Registrering/Samtykke/TilOpfoelgning/Tilladelse/Kanal and
	// KommuneMeddelelse/ds:Signature/SignedInfo/Reference/Transforms/Transform.
	maxDepth = 6
	// maxGrants is the most Tilladelse elements of one TilOpfoelgning: one
	// per recipient role.
	maxGrants = 5
	// maxPurposes is the most Formaal elements of one Tilladelse: each
	// purpose once.
	maxPurposes = 5
	// maxChannels is the most Kanal elements of one Tilladelse: each
	// channel once.
	maxChannels = 3
	// maxRegistrationElements is the most elements one Registrering can hold
	// under the schema, itself included (every optional element present,
	// a grant to every recipient role, each listing every purpose and
	// channel once).
	maxRegistrationElements = 111
	// maxHeaderElements is the most elements of Hoved, itself included.
	maxHeaderElements = 10
	// maxSignatureElements is the most elements of a ds:Signature under our
	// XML-DSig profile, itself included.
	maxSignatureElements = 14
	// maxElements is the most elements a document the schema allows can
	// have: the root, the header, 500 full registrations and a signature.
	maxElements = 1 + maxHeaderElements + MaxRegistrations*maxRegistrationElements + maxSignatureElements
	// maxAttrs is the most attributes on one element: the root's ID plus
	// namespace declarations (default, ds and one spare prefix).
	maxAttrs = 4
	// maxText is the longest text node: Notat holds 4,000 characters, at
	// most 16,000 bytes of UTF-8; a signer's certificate is far shorter.
	maxText = 16 << 10
	// maxProblems is the most problems listed for one document or one
	// item; a hostile document could otherwise earn one per element.
	maxProblems = 100
	// sniffBytes is how much of a document Detect reads to find the root.
	sniffBytes = 4 << 10
)

// parseLimits are the xmlsafe limits of a municipal document.
func parseLimits() xmlsafe.Limits {
	return xmlsafe.Limits{
		MaxBytes:    MaxDocumentBytes,
		MaxDepth:    maxDepth,
		MaxElements: maxElements,
		MaxAttrs:    maxAttrs,
		MaxText:     maxText,
	}
}

// Limits returns the parse limits of a municipal document: Decode parses
// with them, and the service gives them to the XML-DSig verifier so that
// a signed document is bounded the same way before it is verified.
func (a *Adapter) Limits() xmlsafe.Limits { return parseLimits() }
