package consent

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/psykosocial/exchange/internal/record"
	"github.com/psykosocial/exchange/internal/strictjson"
)

// Format is the value of the format member of every policy document of
// this version.
const Format = "consent-policy/v1"

// ErrInvalidPolicy is wrapped by every error of Load: the gateway refuses
// to start with a policy that fails any check.
var ErrInvalidPolicy = errors.New("invalid consent policy")

// Basis is what a rule rests on.
type Basis string

// Bases of a rule.
const (
	// BasisConsent: the person's documented follow-up consent must name the
	// recipient role and the purpose, and must be in force.
	BasisConsent Basis = "consent"
	// BasisLegal: a legal basis named in the policy allows the disclosure
	// without consent, for a limited period after the incident.
	BasisLegal Basis = "legal_basis"
)

// Document is a policy file as written: the JSON members of
// consent-policy/v1. POLICY.md explains each for a data-protection officer.
type Document struct {
	// Format is always Format.
	Format string `json:"format"`
	// Version names this edition of the policy; every decision records it.
	Version string `json:"version"`
	// Title says what the policy is, in a line.
	Title string `json:"title"`
	// Purposes declares the purposes rules may name and whether each needs
	// health data.
	Purposes []PurposeSpec `json:"purposes"`
	// LegalBases declares the legal bases rules may name.
	LegalBases []LegalBasis `json:"legal_bases"`
	// Minors says what the policy does with a minor's own contact details
	// when a guardian consented.
	Minors Minors `json:"minors"`
	// Rules lists the rules; at most one per recipient role and purpose.
	Rules []Rule `json:"rules"`
}

// Text is an explanation in Danish and English: the sender's status view
// and the DPO page show the same words.
type Text struct {
	// DA is the Danish text.
	DA string `json:"da"`
	// EN is the English text.
	EN string `json:"en"`
}

// Minors is the policy for persons whose guardian consented: contact goes
// to the guardian's consented channels, and the minor's own phone and
// e-mail are withheld unless OwnContact says otherwise, for Reason.
type Minors struct {
	// OwnContact lets the minor's own phone and e-mail travel with their
	// consented channels, besides the guardian's.
	OwnContact bool `json:"own_contact"`
	// Reason explains the choice in Danish and English, for POLICY.md,
	// the DPO page and the sender's status view; a decision names the
	// safeguard (CheckMinorOwnContact), not the text.
	Reason Text `json:"reason"`
}

// PurposeSpec declares one purpose of the shared vocabulary.
type PurposeSpec struct {
	// Purpose is the purpose (record.Purposes).
	Purpose record.Purpose `json:"purpose"`
	// HealthData is true when the purpose needs the assessment notes
	// (health data, a special category): only then may a rule for it
	// disclose them, and only on explicit consent naming it.
	HealthData bool `json:"health_data,omitempty"`
	// Description says what the purpose is, in plain language.
	Description Text `json:"description"`
}

// LegalBasis is a basis in law for disclosing without consent.
type LegalBasis struct {
	// ID names the basis in rules and decisions, e.g. "acute_care".
	ID string `json:"id"`
	// Title says what the basis is, in a line.
	Title string `json:"title"`
	// Reference cites the law the basis rests on.
	Reference string `json:"reference"`
}

// Rule lets recipients in one role receive records for one purpose, on one
// basis, with the fields of the listed groups.
type Rule struct {
	// ID names the rule in decisions and the journal; unique in the policy.
	ID string `json:"id"`
	// Role is the recipient role the rule applies to.
	Role record.RecipientRole `json:"role"`
	// Purpose is the purpose the recipient receives the record for.
	Purpose record.Purpose `json:"purpose"`
	// Basis is BasisConsent or BasisLegal.
	Basis Basis `json:"basis"`
	// LegalBasis is the id of a declared legal basis; only with BasisLegal.
	LegalBasis string `json:"legal_basis,omitempty"`
	// IncidentPeriodDays is how long after the incident (incident.occurred_at)
	// the legal basis applies; required with BasisLegal, absent otherwise.
	IncidentPeriodDays int `json:"incident_period_days,omitempty"`
	// HonourFollowUpRefusal withholds a legal-basis disclosure when the
	// person has explicitly refused follow-up contact; only with BasisLegal
	// (a consent rule needs follow-up consent anyway).
	HonourFollowUpRefusal bool `json:"honour_follow_up_refusal,omitempty"`
	// Groups are the field groups the recipient may receive.
	Groups []record.FieldGroup `json:"groups"`
	// ContactLegalBasis, for a legal-basis rule with the contact group,
	// names the declared legal basis on which the recipient receives the
	// phone number and e-mail address the person consented to for any
	// recipient (acute contact by the incident authorities): an explicit
	// rule a data-protection officer can see and switch off. Without it a
	// legal-basis rule gives no phone number and no e-mail address (the
	// rest of the contact group, language and interpreter need, still
	// travels). A consent rule gives contact details only for the channels
	// of its own grant and never names one.
	ContactLegalBasis string `json:"contact_legal_basis,omitempty"`
	// HealthNotes lets the rule disclose /assessment/notes (health data).
	// Only a consent rule for a purpose that needs health data, with the
	// assessment group, may set it.
	HealthNotes bool `json:"health_notes,omitempty"`
	// Description says what the rule does, in plain language, in Danish
	// and English.
	Description Text `json:"description"`
}

// Policy is a loaded, checked consent policy. It is immutable and safe for
// concurrent use.
type Policy struct {
	doc    Document
	rules  []compiledRule
	byRole map[record.RecipientRole][]int // role -> indexes in rules, in file order
	health map[record.Purpose]bool        // purposes that need health data
}

// compiledRule is a Rule with its field sets worked out.
type compiledRule struct {
	Rule
	covered fieldSet // every field of the rule's groups
	fields  fieldSet // the fields the rule grants: covered, less the notes unless HealthNotes
}

// Problem is one thing wrong with a policy document.
type Problem struct {
	// Pointer is the JSON Pointer of the offending member ("" for the document).
	Pointer string
	// Message says what is wrong.
	Message string
}

// String formats p as "pointer: message".
func (p Problem) String() string {
	if p.Pointer == "" {
		return p.Message
	}
	return p.Pointer + ": " + p.Message
}

// PolicyError lists every problem of a policy document. It wraps
// ErrInvalidPolicy.
type PolicyError struct {
	// Problems are the problems found, in document order.
	Problems []Problem
}

// Error lists the problems, one per line.
func (e *PolicyError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return "consent policy: " + strings.Join(lines, "\n")
}

// Unwrap returns ErrInvalidPolicy.
func (e *PolicyError) Unwrap() error { return ErrInvalidPolicy }

var (
	reVersion = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	reID      = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,63}$`)
)

// Load strictly decodes a policy document (no unknown, duplicate or
// case-variant members) and checks it. Every problem is reported with the
// JSON Pointer of its member; the error wraps ErrInvalidPolicy.
func Load(data []byte) (*Policy, error) {
	var doc Document
	lim := strictjson.Limits{MaxBytes: MaxPolicyBytes, MaxDepth: maxPolicyDepth, MaxArray: maxPolicyArray, RejectEmptyStrings: true}
	if err := strictjson.Unmarshal(data, &doc, lim); err != nil {
		var se *strictjson.Error
		if errors.As(err, &se) {
			return nil, &PolicyError{Problems: []Problem{{Pointer: se.Pointer, Message: se.Message}}}
		}
		return nil, fmt.Errorf("%w: %w", ErrInvalidPolicy, err)
	}
	return compile(doc)
}

// checker collects the problems of one document.
type checker struct{ ps []Problem }

func (c *checker) add(ptr, format string, args ...any) {
	switch {
	case len(c.ps) < maxReportedProblems:
		c.ps = append(c.ps, Problem{Pointer: ptr, Message: fmt.Sprintf(format, args...)})
	case len(c.ps) == maxReportedProblems:
		c.ps = append(c.ps, Problem{Message: "more problems not shown"})
	}
}

func (c *checker) text(ptr, s string) {
	switch {
	case strings.TrimSpace(s) == "":
		c.add(ptr, "is required and must not be blank")
	case utf8.RuneCountInString(s) > maxTextRunes:
		c.add(ptr, "is longer than %d characters", maxTextRunes)
	}
}

// compile checks doc and builds the Policy.
func compile(doc Document) (*Policy, error) {
	groups, err := groupSets()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidPolicy, err)
	}
	c := &checker{}
	if doc.Format != Format {
		c.add("/format", "must be %q", Format)
	}
	if !reVersion.MatchString(doc.Version) {
		c.add("/version", "must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit")
	}
	c.text("/title", doc.Title)

	p := &Policy{doc: doc, byRole: map[record.RecipientRole][]int{}, health: map[record.Purpose]bool{}}
	declared := map[record.Purpose]bool{}
	if len(doc.Purposes) == 0 {
		c.add("/purposes", "must declare at least one purpose")
	}
	for i, ps := range doc.Purposes {
		ptr := fmt.Sprintf("/purposes/%d", i)
		switch {
		case !slices.Contains(record.Purposes(), ps.Purpose):
			c.add(ptr+"/purpose", "unknown purpose %q: must be one of %s", ps.Purpose, list(record.Purposes()))
		case declared[ps.Purpose]:
			c.add(ptr+"/purpose", "purpose %s is declared twice", ps.Purpose)
		}
		declared[ps.Purpose] = true
		p.health[ps.Purpose] = ps.HealthData
		c.bilingual(ptr+"/description", ps.Description)
	}
	bases := map[string]bool{}
	for i, lb := range doc.LegalBases {
		ptr := fmt.Sprintf("/legal_bases/%d", i)
		switch {
		case !reID.MatchString(lb.ID):
			c.add(ptr+"/id", "must be 1 to 64 lower-case letters, digits, '_' or '-', starting with a letter")
		case bases[lb.ID]:
			c.add(ptr+"/id", "legal basis %s is declared twice", lb.ID)
		}
		bases[lb.ID] = true
		c.text(ptr+"/title", lb.Title)
		c.text(ptr+"/reference", lb.Reference)
	}
	if len(doc.Rules) == 0 {
		c.add("/rules", "must have at least one rule: a policy without rules withholds everything")
	}
	ids := map[string]bool{}
	pairs := map[[2]string]string{}
	for i, r := range doc.Rules {
		ptr := fmt.Sprintf("/rules/%d", i)
		switch {
		case !reID.MatchString(r.ID):
			c.add(ptr+"/id", "must be 1 to 64 lower-case letters, digits, '_' or '-', starting with a letter")
		case ids[r.ID]:
			c.add(ptr+"/id", "rule id %s is used twice", r.ID)
		}
		ids[r.ID] = true
		roleOK := slices.Contains(record.RecipientRoles(), r.Role)
		if !roleOK {
			c.add(ptr+"/role", "unknown recipient role %q: must be one of %s", r.Role, list(record.RecipientRoles()))
		}
		purposeOK := slices.Contains(record.Purposes(), r.Purpose)
		switch {
		case !purposeOK:
			c.add(ptr+"/purpose", "unknown purpose %q: must be one of %s", r.Purpose, list(record.Purposes()))
		case !declared[r.Purpose]:
			c.add(ptr+"/purpose", "purpose %s is not declared in /purposes", r.Purpose)
		}
		if roleOK && purposeOK {
			key := [2]string{string(r.Role), string(r.Purpose)}
			if other, dup := pairs[key]; dup {
				c.add(ptr, "rule %s repeats role %s and purpose %s of rule %s: one rule per role and purpose", r.ID, r.Role, r.Purpose, other)
			}
			pairs[key] = r.ID
		}
		c.basis(ptr, r, bases)
		covered := c.groups(ptr, r, groups)
		c.healthNotes(ptr, r, p.health[r.Purpose])
		c.bilingual(ptr+"/description", r.Description)
		c.contact(ptr, r, bases)
		if p.health[r.Purpose] && roleOK && !record.IsRegionRole(r.Role) {
			c.add(ptr+"/role", "purpose %s needs health data and can be granted to region roles only, not %s", r.Purpose, r.Role)
		}
		granted := covered
		if !r.HealthNotes {
			granted &^= 1 << fNotes
		}
		p.rules = append(p.rules, compiledRule{Rule: r, covered: covered, fields: granted})
		p.byRole[r.Role] = append(p.byRole[r.Role], i)
	}
	c.bilingual("/minors/reason", doc.Minors.Reason)
	if len(c.ps) > 0 {
		return nil, &PolicyError{Problems: c.ps}
	}
	return p, nil
}

// bilingual checks that both languages of t are there.
func (c *checker) bilingual(ptr string, t Text) {
	c.text(ptr+"/da", t.DA)
	c.text(ptr+"/en", t.EN)
}

// contact checks the contact basis of rule r: a legal-basis rule gives
// the phone number and e-mail address only on a contact_legal_basis it
// names explicitly, which must be a declared legal basis.
func (c *checker) contact(ptr string, r Rule, bases map[string]bool) {
	hasContact := slices.Contains(r.Groups, record.GroupContact)
	switch {
	case r.ContactLegalBasis == "":
		// Without one a legal-basis rule gives no phone number or e-mail
		// address: removing it is how a data-protection officer switches
		// acute contact off.
	case r.Basis != BasisLegal:
		c.add(ptr+"/contact_legal_basis", "only a rule with basis legal_basis names one: a consent rule gives the channels of its own grant")
	case !hasContact:
		c.add(ptr+"/contact_legal_basis", "needs the contact group")
	case !bases[r.ContactLegalBasis]:
		c.add(ptr+"/contact_legal_basis", "legal basis %q is not declared in /legal_bases", r.ContactLegalBasis)
	}
}

// basis checks the basis members of rule r.
func (c *checker) basis(ptr string, r Rule, bases map[string]bool) {
	switch r.Basis {
	case BasisConsent:
		if r.LegalBasis != "" {
			c.add(ptr+"/legal_basis", "only a rule with basis legal_basis names a legal basis")
		}
		if r.IncidentPeriodDays != 0 {
			c.add(ptr+"/incident_period_days", "only a rule with basis legal_basis has an incident period: consent runs until it expires or is withdrawn")
		}
		if r.HonourFollowUpRefusal {
			c.add(ptr+"/honour_follow_up_refusal", "only a rule with basis legal_basis can honour a refusal: a consent rule needs follow-up consent anyway")
		}
	case BasisLegal:
		switch {
		case r.LegalBasis == "":
			c.add(ptr+"/legal_basis", "is required with basis legal_basis: name a basis declared in /legal_bases")
		case !bases[r.LegalBasis]:
			c.add(ptr+"/legal_basis", "legal basis %q is not declared in /legal_bases", r.LegalBasis)
		}
		if r.IncidentPeriodDays < 1 || r.IncidentPeriodDays > maxIncidentPeriodDays {
			c.add(ptr+"/incident_period_days", "must be 1 to %d with basis legal_basis: a legal basis tied to an incident ends with the incident period", maxIncidentPeriodDays)
		}
	default:
		c.add(ptr+"/basis", "unknown basis %q: must be consent or legal_basis", r.Basis)
	}
}

// groups checks the field groups of rule r and returns the fields they grant.
func (c *checker) groups(ptr string, r Rule, sets map[record.FieldGroup]fieldSet) fieldSet {
	var fields fieldSet
	if len(r.Groups) == 0 {
		c.add(ptr+"/groups", "must list at least one field group")
	}
	for j, g := range r.Groups {
		gp := fmt.Sprintf("%s/groups/%d", ptr, j)
		s, ok := sets[g]
		switch {
		case !ok:
			c.add(gp, "unknown field group %q: must be one of %s", g, list(record.FieldGroups()))
			continue
		case slices.Index(r.Groups, g) < j:
			c.add(gp, "field group %s is listed twice", g)
		}
		fields |= s
	}
	has := func(g record.FieldGroup) bool { return slices.Contains(r.Groups, g) }
	for _, g := range []record.FieldGroup{record.GroupContact, record.GroupAddress} {
		if has(g) && !has(record.GroupIdentity) {
			c.add(ptr+"/groups", "grants %s without identity: contact details or an address of nobody in particular are not a minimised view (and digital_post needs the CPR number)", g)
		}
	}
	if r.Role == record.RecipientPoliceDistrict {
		for _, g := range []record.FieldGroup{record.GroupContact, record.GroupAssessment} {
			if has(g) {
				c.add(ptr+"/groups", "grants %s to a police district: the police never receive contact preferences or health data", g)
			}
		}
	}
	return fields
}

// healthNotes checks that rule r can disclose health notes only on consent.
func (c *checker) healthNotes(ptr string, r Rule, purposeNeedsHealth bool) {
	if !r.HealthNotes {
		return
	}
	hp := ptr + "/health_notes"
	if r.Basis != BasisConsent {
		c.add(hp, "would leak health data without consent: only a rule with basis consent may disclose assessment notes")
	}
	if !purposeNeedsHealth {
		c.add(hp, "purpose %s is not declared as needing health data (/purposes: health_data)", r.Purpose)
	}
	if !slices.Contains(r.Groups, record.GroupAssessment) {
		c.add(hp, "needs the assessment group")
	}
	if r.Role == record.RecipientPoliceDistrict {
		c.add(hp, "the police never receive health data")
	}
}

func list[T ~string](vs []T) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}

// Version is the policy's version, recorded in every decision.
func (p *Policy) Version() string { return p.doc.Version }

// Document returns a copy of the policy as written.
func (p *Policy) Document() Document {
	d := p.doc
	d.Purposes = slices.Clone(d.Purposes)
	d.LegalBases = slices.Clone(d.LegalBases)
	d.Rules = make([]Rule, len(p.doc.Rules))
	for i, r := range p.doc.Rules {
		r.Groups = slices.Clone(r.Groups)
		d.Rules[i] = r
	}
	return d
}

// Rule returns the rule with the given id.
func (p *Policy) Rule(id string) (Rule, bool) {
	for _, r := range p.rules {
		if r.ID == id {
			out := r.Rule
			out.Groups = slices.Clone(out.Groups)
			return out, true
		}
	}
	return Rule{}, false
}
