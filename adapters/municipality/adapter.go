package municipality

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"regexp"

	"github.com/beevik/etree"

	"github.com/psykosocial/exchange/adapters"
	"github.com/psykosocial/exchange/internal/record"
	"github.com/psykosocial/exchange/internal/xmlsafe"
)

// The names that identify the format.
const (
	// FormatName is the adapter's name in the authority directory.
	FormatName = "municipality"
	// Namespace is the XML namespace of version 1 of the format. A future
	// incompatible version gets a new namespace (…:registrering:2).
	Namespace = "urn:psykosocial:kommune:registrering:1"
	// RootElement is the local name of the root element.
	RootElement = "KommuneMeddelelse"
	// SchemaFile is the file name of the format's XSD in package schemas.
	SchemaFile = "municipality-registration.v1.xsd"
	// IDPrefix starts the root's ID attribute that Encode writes ("m-" and
	// the message id); the signature references the root as "#m-…".
	IDPrefix = "m-"

	dsNamespace = "http://www.w3.org/2000/09/xmldsig#"
)

// Option configures an Adapter in New.
type Option func(*Adapter)

// WithClassification sets the KLE case classification Encode writes for a
// recipient that has none of its own (WithRecipientClassification).
// Without it Encode writes DefaultClassification().
func WithClassification(c Classification) Option {
	return func(a *Adapter) { a.classification = c }
}

// WithRecipientClassification sets the classification Encode writes for
// messages to the recipient authority id ("municipality:0851"): the one
// its journal plan files psychosocial registrations under. A later option
// for the same recipient replaces an earlier one.
func WithRecipientClassification(recipient string, c Classification) Option {
	return func(a *Adapter) {
		if a.byRecipient == nil {
			a.byRecipient = map[string]Classification{}
		}
		a.byRecipient[recipient] = c
	}
}

// Adapter converts the municipal case-system format to and from the common
// record. It is immutable after New and safe for concurrent use.
type Adapter struct {
	v              *record.Validator
	classification Classification
	byRecipient    map[string]Classification
}

var _ adapters.Adapter = (*Adapter)(nil)

var reAuthority = regexp.MustCompile(record.AuthorityIDPattern)

// New returns an adapter that validates decoded records with v and writes
// the case classifications of opts. It checks v and opts once, here; its
// errors wrap adapters.ErrInvalidOptions.
func New(v *record.Validator, opts ...Option) (*Adapter, error) {
	if v == nil {
		return nil, fmt.Errorf("%w: municipality: a validator is required", adapters.ErrInvalidOptions)
	}
	a := &Adapter{v: v}
	for _, o := range opts {
		o(a)
	}
	if a.classification.IsZero() {
		a.classification = DefaultClassification()
	}
	if err := a.classification.Check(); err != nil {
		return nil, fmt.Errorf("%w: municipality: classification: %w", adapters.ErrInvalidOptions, err)
	}
	for recipient, c := range a.byRecipient {
		if !reAuthority.MatchString(recipient) {
			return nil, fmt.Errorf("%w: municipality: recipient %q is not an authority id such as municipality:0851", adapters.ErrInvalidOptions, adapters.Clip(recipient))
		}
		if err := c.Check(); err != nil {
			return nil, fmt.Errorf("%w: municipality: classification of %s: %w", adapters.ErrInvalidOptions, recipient, err)
		}
	}
	return a, nil
}

// Format returns FormatName.
func (a *Adapter) Format() string { return FormatName }

// ClassificationFor returns the classification Encode writes for messages
// to the recipient authority id.
func (a *Adapter) ClassificationFor(recipient string) Classification {
	if c, ok := a.byRecipient[recipient]; ok {
		return c
	}
	return a.classification
}

// Detect reports whether data starts like a municipal message: its root
// element is KommuneMeddelelse in Namespace. It reads at most the first
// 4 KiB and checks nothing else.
func (a *Adapter) Detect(data []byte) bool {
	if len(data) > sniffBytes {
		data = data[:sniffBytes]
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return t.Name.Local == RootElement && t.Name.Space == Namespace
		case xml.CharData:
			if !isXMLSpace(string(t)) {
				return false
			}
		}
	}
}

// Decode parses data with the hardened parser and decodes the message. A
// document that is malformed as a whole (syntax, size, hardening refusals,
// wrong root, header problems, a misplaced signature, an invalid withdrawal
// notice, two registrations with the same RegistreringsID, whatever their
// versions: adapters.RuleDuplicateRecord, naming both) gives nil and
// record.Problems; otherwise every Registrering gives
// one item, with a validated record or with its problems.
func (a *Adapter) Decode(data []byte) (*adapters.Message, error) {
	doc, err := xmlsafe.Parse(data, parseLimits())
	if err != nil {
		var xe *xmlsafe.Error
		if errors.As(err, &xe) {
			return adapters.Clipped(nil, record.Problems{{Pointer: xe.Path, Line: xe.Line, Rule: xe.Rule, Message: xe.Message}})
		}
		return nil, record.Problems{{Rule: "xml.syntax", Message: "the document could not be parsed"}}
	}
	return a.DecodeElement(doc.Doc.Root(), doc.Line)
}

// DecodeElement decodes a message from its root element, as Decode does
// after parsing. The signature verifier calls it with the element that
// XML-DSig validation returned (after the enveloped-signature transform,
// so usually without ds:Signature); lines gives the source line of an
// element for problems and may be nil.
func (a *Adapter) DecodeElement(root *etree.Element, lines func(*etree.Element) int) (*adapters.Message, error) {
	return adapters.Clipped(a.decodeElement(root, lines))
}

func (a *Adapter) decodeElement(root *etree.Element, lines func(*etree.Element) int) (*adapters.Message, error) {
	d := &decoder{lines: lines}
	if root == nil {
		return nil, record.Problems{{Rule: "xml.root", Message: "the document has no root element"}}
	}
	if root.Tag != RootElement || root.NamespaceURI() != Namespace {
		d.add(root, "xml.root", "the root element must be %s in namespace %s", RootElement, Namespace)
		return nil, d.ps
	}
	d.rootAttributes(root)
	parts := d.rootChildren(root)
	if len(d.ps) > 0 {
		return nil, d.ps
	}
	h := d.header(parts.header)
	if len(d.ps) > 0 {
		return nil, d.ps
	}
	msg := &adapters.Message{Format: FormatName, Header: h}
	if parts.withdrawal != nil {
		msg.Kind = adapters.KindWithdrawal
		w := d.withdrawal(parts.withdrawal)
		ps := d.mapProblems(parts.withdrawal, withdrawalPaths, d.ps, a.v.ValidateWithdrawal(w))
		if len(d.fatal) > 0 {
			return nil, d.fatal
		}
		if len(ps) > 0 {
			return nil, ps
		}
		msg.Withdrawal = w
		return msg, nil
	}
	msg.Kind = adapters.KindRegistration
	msg.Items = make([]adapters.Item, len(parts.registrations))
	ids := make([]string, len(parts.registrations))
	for i, el := range parts.registrations {
		d.ps, d.unsure = nil, nil
		d.noAttributes(el)
		r := d.registration(el)
		ids[i] = r.RecordID
		ps := d.mapProblems(el, recordPaths, d.ps, a.v.Validate(r))
		if len(ps) > 0 {
			msg.Items[i] = adapters.Item{Index: i, Problems: ps}
		} else {
			msg.Items[i] = adapters.Item{Index: i, Record: r}
		}
	}
	if len(d.fatal) > 0 {
		return nil, d.fatal
	}
	if ps := adapters.DuplicateRecords(ids, func(i int) (string, int) {
		el := parts.registrations[i]
		if id := nthChild(el, "RegistreringsID", 0); id != nil {
			el = id
		}
		return xmlsafe.Path(el), d.line(el)
	}); ps != nil {
		return nil, ps
	}
	return msg, nil
}
