package police

import "github.com/psykosocial/exchange/internal/xmlsafe"

// MaxPersons is the most persons one list may carry: the largest incidents
// (a stadium, a festival) register a few thousand people, sent in batches.
const MaxPersons = 2000

// maxElementsPerPerson is the most elements a schema-valid Person can hold:
// every optional element present and every list full (TestElementLimits
// counts it from the content models).
const maxElementsPerPerson = 99

// parseLimits bound one police document before anything is decoded.
var parseLimits = xmlsafe.Limits{
	// 2,000 persons at 4 KiB each on average: a full person with consent
	// and two grants is about 2 KiB. A person with every element present and
	// every text at its longest is about 7 KiB; a list of 2,000 of those is
	// refused by size, not by the schema, and must be sent in two batches.
	MaxBytes: MaxPersons * 4 << 10,
	// The schema nests 7 deep (Personliste/Personer/Person/Samtykke/Opfoelgning/Tilladelse/Kanal),
	// the signature 6 (Personliste/Signature/SignedInfo/Reference/Transforms/Transform).
	MaxDepth: 7,
	// Every person full, plus header, incident, registrant and signature.
	MaxElements: MaxPersons*maxElementsPerPerson + 64,
	// The root has ID and two namespace declarations; signature elements have one or two.
	MaxAttrs: 4,
	// The longest text is the signer's certificate in ds:KeyInfo (a few KiB);
	// the longest record text is 200 characters (at most 800 bytes of UTF-8).
	MaxText: 8 << 10,
}

// maxProblems is the most problems reported for one person or one document:
// enough to fix a document, bounded so that a hostile one costs little.
const maxProblems = 100

// Limits returns the parse limits of a police document: Decode parses
// with them, and the service gives them to the XML-DSig verifier so that
// a signed document is bounded the same way before it is verified.
func (a *Adapter) Limits() xmlsafe.Limits { return parseLimits }
