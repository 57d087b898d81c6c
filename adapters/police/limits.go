package police

import "github.com/psykosocial/exchange/internal/xmlsafe"

// MaxPersons is the most persons one list may carry: the largest incidents
// (a stadium, a festival) register a few thousand people, sent in batches.
const MaxPersons = 2000

// maxElementsPerPerson is the most elements a schema-valid Person can hold:
// every optional element present and every list full (TestElementLimits
// counts it from the content models).
const maxElementsPerPerson = 50

// parseLimits bound one police document before anything is decoded.
var parseLimits = xmlsafe.Limits{
	// 2,000 persons at up to 4 KiB each; a full person with consent is about 1.5 KiB.
	MaxBytes: MaxPersons * 4 << 10,
	// The schema nests 6 deep (Personliste/Personer/Person/Samtykke/Opfoelgning/Kanal,
	// and Personliste/Signature/SignedInfo/Reference/Transforms/Transform).
	MaxDepth: 6,
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
