// Package municipality is the adapter of the municipal case-system format:
// namespaced XML (urn:psykosocial:kommune:registrering:1, schema
// schemas/municipality-registration.v1.xsd) that municipal mailboxes
// receive from the gateway and that municipal crisis teams may submit.
//
// A message (KommuneMeddelelse, with an ID attribute the signature
// references) begins with at most one enveloped ds:Signature as the root's
// first child, then holds a signed header (Hoved: message id, sender,
// recipient, issued-at, expires-at, the sender's reference and the KLE case
// classification a case system files the record under), then either one to
// MaxRegistrations registrations (Registrering) or one withdrawal notice
// (Tilbagetraekning). Element names and vocabulary codes are Danish in ASCII
// (æ → ae, ø → oe, å → aa).
//
// Follow-up consent is a list of grants (Tilladelse), one per recipient
// role with its purposes and channels; the guardian who consented for a
// minor is Samtykke/Vaerge; a relative may name the affected person by CPR
// number or name and birth date (Tilknytning/BeroertPerson) with the
// kinship (Slaegtskab).
//
// The format carries every member of the common record, so the round trip
// common → format → common is lossless; the only thing not carried as an
// element is the record's schema member, which the namespace implies.
// README.md in this directory holds the full mapping table (element →
// common member), the vocabulary codes, what is defaulted and the design
// choices; a test keeps the table identical to the code.
//
// Decode parses with the hardened parser (internal/xmlsafe) under the limits
// in limits.go and walks the tree strictly: unknown elements and attributes,
// elements out of schema order or repeated, text where elements belong,
// wrong types and unknown codes are problems naming the element path and
// line. A document that is malformed as a whole is refused with
// record.Problems; otherwise each Registrering becomes one adapters.Item
// with a validated record or its problems. DecodeElement does the same for
// the element a signature verifier returns.
//
// Encode writes deterministic, indented UTF-8 XML with etree, times in UTC.
// The case classification comes from New's options (per recipient,
// WithRecipientClassification, with a fallback, WithClassification, and
// DefaultClassification()); which KLE number a municipality
// uses is its own configuration.
package municipality
