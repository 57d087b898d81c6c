// Package record defines the common registration record (schema v1) that
// every authority format is mapped to, its canonical JSON encoding, strict
// decoding, and validation against the schema and the Danish rules that a
// JSON Schema cannot express.
//
// The contract is schemas/registration.v1.schema.json; the Go types mirror it
// field by field, and tests keep the two in agreement.
package record

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/psykosocial/exchange/internal/strictjson"
)

// SchemaV1 is the value of the schema member of every v1 record.
const SchemaV1 = "registration/v1"

// WithdrawalSchemaV1 is the value of the schema member of every v1 withdrawal notice.
const WithdrawalSchemaV1 = "withdrawal/v1"

// Record is one registered person in one incident, at one version.
// Optional members are pointers or omitted when empty, so that a minimised
// view (a record with whole field groups removed) is itself a valid record.
type Record struct {
	// Schema is always SchemaV1.
	Schema string `json:"schema,omitempty"`
	// RecordID identifies the registration across versions (lower-case UUID).
	RecordID string `json:"record_id,omitempty"`
	// Version starts at 1 and increments with every correction.
	Version int `json:"version"`
	// Incident is what happened and where.
	Incident *Incident `json:"incident,omitempty"`
	// Registered says who registered the person, when.
	Registered *Registered `json:"registered,omitempty"`
	// Person holds identity, contact and address. Absent when registration was refused.
	Person *Person `json:"person,omitempty"`
	// Relation says how the person is affected.
	Relation *Relation `json:"relation,omitempty"`
	// Assessment is the professional assessment; notes are health data.
	Assessment *Assessment `json:"assessment,omitempty"`
	// Consent travels with every view.
	Consent *Consent `json:"consent,omitempty"`
}

// Incident describes the emergency.
type Incident struct {
	// ID is the incident's identifier, shared by all records of the incident.
	ID string `json:"id"`
	// Title is a short human description.
	Title string `json:"title,omitempty"`
	// Kind is what happened.
	Kind IncidentKind `json:"kind,omitempty"`
	// OccurredAt is when it happened.
	OccurredAt *time.Time `json:"occurred_at,omitempty"`
	// MunicipalityCode is the incident municipality (4 digits).
	MunicipalityCode string `json:"municipality_code,omitempty"`
	// RegionCode is the incident region; it must be the region of MunicipalityCode at OccurredAt.
	RegionCode string `json:"region_code,omitempty"`
	// Site is where the person was registered.
	Site Site `json:"site,omitempty"`
}

// Registered says who made the registration.
type Registered struct {
	// At is when the person was registered.
	At *time.Time `json:"at,omitempty"`
	// ByAuthority is the authority id of the registering authority.
	ByAuthority string `json:"by_authority,omitempty"`
	// ByRole is the role of the registrar.
	ByRole RegistrarRole `json:"by_role,omitempty"`
}

// Person is the registered person.
type Person struct {
	// CPR is the 10-digit Danish personal identification number, no hyphen.
	CPR string `json:"cpr,omitempty"`
	// ECPR is a substitute (eCPR) number for persons without a CPR number.
	ECPR string `json:"ecpr,omitempty"`
	// Name is the full name as the person gave it.
	Name string `json:"name,omitempty"`
	// BirthDate is the date of birth.
	BirthDate *Date `json:"birth_date,omitempty"`
	// Phone is an E.164 number.
	Phone string `json:"phone,omitempty"`
	// Email is an e-mail address.
	Email string `json:"email,omitempty"`
	// Address is the residence.
	Address *Address `json:"address,omitempty"`
	// AddressProtected is set when the person has name and address protection in CPR.
	AddressProtected bool `json:"address_protected,omitempty"`
	// Language is the preferred language (ISO 639-1/-3 code, optional region).
	Language string `json:"language,omitempty"`
	// InterpreterNeeded is set when contact needs an interpreter.
	InterpreterNeeded bool `json:"interpreter_needed,omitempty"`
}

// Address is a residence address.
type Address struct {
	// Street is street name, number, floor and door.
	Street string `json:"street,omitempty"`
	// PostalCode is the postal code.
	PostalCode string `json:"postal_code,omitempty"`
	// City is the postal district name.
	City string `json:"city,omitempty"`
	// Country is the ISO 3166-1 alpha-2 code; absent means DK.
	Country string `json:"country,omitempty"`
	// MunicipalityCode is the residence municipality (4 digits); "0411" is
	// Christiansø, outside the municipal division. Only for Danish addresses.
	MunicipalityCode string `json:"municipality_code,omitempty"`
}

// Relation says how the person relates to the incident.
type Relation struct {
	// Type is the kind of relation.
	Type RelationType `json:"type,omitempty"`
	// RelativeOf is the record id of the affected person this one is a
	// relative of, when the sender knows it.
	RelativeOf string `json:"relative_of,omitempty"`
	// Affected names the affected person of a relative by CPR number, or by
	// name and birth date, when the sender does not know (or there is not
	// yet) a record of that person: the police list names the relative, the
	// region's EPC the injured. The gateway links the records of one
	// incident by subject reference; Affected never leaves the gateway: no
	// view carries it.
	Affected *AffectedPerson `json:"affected,omitempty"`
	// Kinship says how a relative is related to the affected person.
	Kinship Kinship `json:"kinship,omitempty"`
}

// AffectedPerson identifies the affected person a relative belongs to:
// by CPR number, or by name and birth date.
type AffectedPerson struct {
	// CPR is the affected person's CPR number.
	CPR string `json:"cpr,omitempty"`
	// Name is the affected person's full name.
	Name string `json:"name,omitempty"`
	// BirthDate is the affected person's date of birth.
	BirthDate *Date `json:"birth_date,omitempty"`
}

// Assessment is the professional assessment of need for follow-up.
type Assessment struct {
	// FollowUpPriority is the urgency of follow-up.
	FollowUpPriority Priority `json:"follow_up_priority,omitempty"`
	// Notes is free text health data (a special category under GDPR art. 9).
	Notes string `json:"notes,omitempty"`
}

// Consent is the documented consent. It travels with every view.
type Consent struct {
	// Registration is the answer to being registered.
	Registration RegistrationConsent `json:"registration,omitempty"`
	// FollowUp is consent to follow-up contact.
	FollowUp *FollowUp `json:"follow_up,omitempty"`
	// GivenBy is who gave consent.
	GivenBy GivenBy `json:"given_by,omitempty"`
	// Guardian is the guardian who gave consent for a person under 15
	// (required with GivenByGuardian, absent otherwise). Contact about a
	// minor goes to the guardian's consented channels.
	Guardian *Guardian `json:"guardian,omitempty"`
	// Obtained documents how consent was obtained.
	Obtained *Obtained `json:"obtained,omitempty"`
	// WithdrawnAt is set when consent has been withdrawn.
	WithdrawnAt *time.Time `json:"withdrawn_at,omitempty"`
}

// Guardian is the person with parental responsibility who consented for a
// minor.
type Guardian struct {
	// Name is the guardian's full name.
	Name string `json:"name,omitempty"`
	// Relation is how the guardian relates to the minor.
	Relation GuardianRelation `json:"relation,omitempty"`
	// Phone is the guardian's E.164 phone number.
	Phone string `json:"phone,omitempty"`
	// Email is the guardian's e-mail address.
	Email string `json:"email,omitempty"`
}

// FollowUp is consent to follow-up contact: who may make contact, for what
// and how, as a list of grants, one per recipient role.
type FollowUp struct {
	// Granted is whether follow-up contact is consented (required; a pointer
	// so that an absent member is told apart from false).
	Granted *bool `json:"granted,omitempty"`
	// Grants say, per recipient role, the purposes and channels consented:
	// "information only for my municipality, psychiatric follow-up by the
	// region" is two grants.
	Grants []Grant `json:"grants,omitempty"`
	// ExpiresAt is when follow-up consent lapses.
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// Grant is the consent given to one recipient role.
type Grant struct {
	// Recipient is the recipient role consented to.
	Recipient RecipientRole `json:"recipient,omitempty"`
	// Purposes are the purposes that role may contact the person for.
	Purposes []Purpose `json:"purposes,omitempty"`
	// Channels are the channels that role may use.
	Channels []Channel `json:"channels,omitempty"`
}

// IsGranted reports whether f grants follow-up contact.
func (f *FollowUp) IsGranted() bool { return f != nil && f.Granted != nil && *f.Granted }

// GrantFor returns the grant for role and its index in Grants, or -1.
func (f *FollowUp) GrantFor(role RecipientRole) (Grant, int) {
	if f == nil {
		return Grant{}, -1
	}
	for i, g := range f.Grants {
		if g.Recipient == role {
			return g, i
		}
	}
	return Grant{}, -1
}

// AllChannels is the union of the grants' channels, in vocabulary order.
func (f *FollowUp) AllChannels() []Channel {
	if f == nil {
		return nil
	}
	var out []Channel
	for _, ch := range Channels() {
		for _, g := range f.Grants {
			if slices.Contains(g.Channels, ch) {
				out = append(out, ch)
				break
			}
		}
	}
	return out
}

// Obtained documents how consent was obtained.
type Obtained struct {
	// By is who obtained it.
	By *ObtainedBy `json:"by,omitempty"`
	// At is when.
	At *time.Time `json:"at,omitempty"`
	// Method is how it was documented.
	Method ConsentMethod `json:"method,omitempty"`
	// EvidenceRef points at the evidence in the obtaining authority's own system.
	EvidenceRef string `json:"evidence_ref,omitempty"`
}

// ObtainedBy is the authority and role that obtained consent.
type ObtainedBy struct {
	// Authority is an authority id.
	Authority string `json:"authority,omitempty"`
	// Role is the role of the person who obtained consent.
	Role RegistrarRole `json:"role,omitempty"`
}

// Withdrawal is a withdrawal notice: every recipient of the record must delete it.
type Withdrawal struct {
	// Schema is always WithdrawalSchemaV1.
	Schema string `json:"schema,omitempty"`
	// RecordID is the withdrawn record.
	RecordID string `json:"record_id,omitempty"`
	// Version is the latest version of the record at withdrawal.
	Version int `json:"version"`
	// Reason is why.
	Reason WithdrawalReason `json:"reason,omitempty"`
	// WithdrawnAt is when the withdrawal was decided.
	WithdrawnAt *time.Time `json:"withdrawn_at,omitempty"`
	// IncidentID is the incident of the record, when the sender knows it.
	IncidentID string `json:"incident_id,omitempty"`
}

// MaxJSONBytes is the largest JSON record or withdrawal document accepted:
// a full record is about 1.5 KB, notes included.
const MaxJSONBytes = 64 << 10

// Limits on a JSON record document: these bound a hostile one long before
// it costs anything (a record nests 4 levels and has at most 5-item arrays).
var jsonLimits = strictjson.Limits{MaxBytes: MaxJSONBytes, MaxDepth: 8, MaxArray: 16, RejectEmptyStrings: true, RejectNull: true}

// Decode strictly decodes one JSON record (no unknown, duplicate or
// case-variant members). It does not validate the content: call Validate.
func Decode(data []byte) (*Record, error) {
	var r Record
	if err := strictjson.Unmarshal(data, &r, jsonLimits); err != nil {
		return nil, fromStrict(err)
	}
	return &r, nil
}

// DecodeWithdrawal strictly decodes one JSON withdrawal notice.
func DecodeWithdrawal(data []byte) (*Withdrawal, error) {
	var w Withdrawal
	if err := strictjson.Unmarshal(data, &w, jsonLimits); err != nil {
		return nil, fromStrict(err)
	}
	return &w, nil
}

func fromStrict(err error) error {
	if se, ok := err.(*strictjson.Error); ok {
		return Problems{{Pointer: se.Pointer, Rule: se.Rule, Message: se.Message}}
	}
	return fmt.Errorf("decode record: %w", err)
}

// MarshalCanonical returns the canonical JSON encoding of r: members in the
// order of the schema (the struct order above), empty members omitted, times
// in UTC (RFC 3339, fractional seconds only when present), no insignificant
// white space, no HTML escaping. Equal records give equal bytes; signatures
// and digests over records rely on it, so this encoding never changes
// within schema v1.
func MarshalCanonical(r *Record) ([]byte, error) {
	c := r.Clone()
	c.normalizeTimes()
	return marshalCompact(c)
}

// MarshalCanonicalWithdrawal is MarshalCanonical for withdrawal notices.
func MarshalCanonicalWithdrawal(w *Withdrawal) ([]byte, error) {
	c := *w
	c.WithdrawnAt = utc(c.WithdrawnAt)
	return marshalCompact(&c)
}

func marshalCompact(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("canonical encoding: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func (r *Record) normalizeTimes() {
	if r.Incident != nil {
		r.Incident.OccurredAt = utc(r.Incident.OccurredAt)
	}
	if r.Registered != nil {
		r.Registered.At = utc(r.Registered.At)
	}
	if c := r.Consent; c != nil {
		c.WithdrawnAt = utc(c.WithdrawnAt)
		if c.FollowUp != nil {
			c.FollowUp.ExpiresAt = utc(c.FollowUp.ExpiresAt)
		}
		if c.Obtained != nil {
			c.Obtained.At = utc(c.Obtained.At)
		}
	}
}

// Clone returns a deep copy of r.
func (r *Record) Clone() *Record {
	if r == nil {
		return nil
	}
	c := *r
	if r.Incident != nil {
		i := *r.Incident
		i.OccurredAt = cloneTime(i.OccurredAt)
		c.Incident = &i
	}
	if r.Registered != nil {
		g := *r.Registered
		g.At = cloneTime(g.At)
		c.Registered = &g
	}
	if r.Person != nil {
		p := *r.Person
		if p.BirthDate != nil {
			d := *p.BirthDate
			p.BirthDate = &d
		}
		if p.Address != nil {
			a := *p.Address
			p.Address = &a
		}
		c.Person = &p
	}
	if r.Relation != nil {
		rel := *r.Relation
		if rel.Affected != nil {
			a := *rel.Affected
			if a.BirthDate != nil {
				d := *a.BirthDate
				a.BirthDate = &d
			}
			rel.Affected = &a
		}
		c.Relation = &rel
	}
	if r.Assessment != nil {
		a := *r.Assessment
		c.Assessment = &a
	}
	if r.Consent != nil {
		cs := *r.Consent
		cs.WithdrawnAt = cloneTime(cs.WithdrawnAt)
		if cs.FollowUp != nil {
			f := *cs.FollowUp
			if f.Granted != nil {
				g := *f.Granted
				f.Granted = &g
			}
			if f.Grants != nil {
				gs := make([]Grant, len(f.Grants))
				for i, g := range f.Grants {
					gs[i] = Grant{Recipient: g.Recipient, Purposes: slices.Clone(g.Purposes), Channels: slices.Clone(g.Channels)}
				}
				f.Grants = gs
			}
			f.ExpiresAt = cloneTime(f.ExpiresAt)
			cs.FollowUp = &f
		}
		if cs.Guardian != nil {
			g := *cs.Guardian
			cs.Guardian = &g
		}
		if cs.Obtained != nil {
			o := *cs.Obtained
			o.At = cloneTime(o.At)
			if o.By != nil {
				b := *o.By
				o.By = &b
			}
			cs.Obtained = &o
		}
		c.Consent = &cs
	}
	return &c
}

func cloneTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := *t
	return &u
}
