package police

import (
	"bytes"
	"encoding/xml"
	"fmt"

	"github.com/psykosocial/exchange/adapters"
	"github.com/psykosocial/exchange/internal/record"
)

// FormatName is the adapter's format name, as the authority directory uses it.
const FormatName = "police"

// Namespace is the XML namespace of both root elements, Personliste and Tilbagetraekning.
const Namespace = "urn:psykosocial:politi:personliste:v1"

// dsigNamespace is the namespace of the enveloped ds:Signature.
const dsigNamespace = "http://www.w3.org/2000/09/xmldsig#"

// Root element names.
const (
	rootList       = "Personliste"
	rootWithdrawal = "Tilbagetraekning"
)

// Adapter decodes and encodes the police format. It is safe for concurrent use.
type Adapter struct {
	v           *record.Validator
	officerRole OfficerRole
}

// Option configures an Adapter in New.
type Option func(*Adapter)

// WithOfficerRole sets the officer role that Encode writes into lists sent
// by a police district (header sender police:<district>). The common record
// does not carry the specific role, so such lists cannot be encoded without
// it; lists sent by the gateway do not need it. New refuses a role that is
// not one of OfficerRoles.
func WithOfficerRole(r OfficerRole) Option {
	return func(a *Adapter) { a.officerRole = r }
}

// New returns an adapter that validates decoded records with v. It checks
// v and opts once, here; its errors wrap adapters.ErrInvalidOptions.
func New(v *record.Validator, opts ...Option) (*Adapter, error) {
	if v == nil {
		return nil, fmt.Errorf("%w: police: a validator is required", adapters.ErrInvalidOptions)
	}
	a := &Adapter{v: v}
	for _, o := range opts {
		o(a)
	}
	if _, ok := officerRoles.Danish(a.officerRole); a.officerRole != "" && !ok {
		return nil, fmt.Errorf("%w: police: officer role %q is not one of %s", adapters.ErrInvalidOptions, adapters.Clip(string(a.officerRole)), officerRoles.List())
	}
	return a, nil
}

var _ adapters.Adapter = (*Adapter)(nil)

// Format returns FormatName.
func (a *Adapter) Format() string { return FormatName }

// detectWindow is how much of a document Detect reads to find the root.
const detectWindow = 4 << 10

// Detect reports whether data starts with a Personliste or Tilbagetraekning
// root in the police namespace. It reads at most the first 4 KiB and never
// accepts a document that declares a DOCTYPE before its root.
func (a *Adapter) Detect(data []byte) bool {
	if len(data) > detectWindow {
		data = data[:detectWindow]
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	for range 8 {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return t.Name.Space == Namespace && (t.Name.Local == rootList || t.Name.Local == rootWithdrawal)
		case xml.Directive:
			return false
		}
	}
	return false
}
