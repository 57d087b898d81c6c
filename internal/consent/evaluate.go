package consent

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/psykosocial/exchange/internal/directory"
	"github.com/psykosocial/exchange/internal/record"
	"github.com/psykosocial/exchange/internal/routing"
)

// Errors of Evaluate, ViewOf and Reconcile. None of them is ever a silent
// allow: the caller gets no decision and no view.
var (
	// ErrInvalidConsent: the consent block is missing or contradicts
	// itself (channels but no recipients, follow-up granted without
	// registration consent, an unknown value, ...).
	ErrInvalidConsent = errors.New("invalid consent")
	// ErrUnknownRecipient: a candidate has an unknown recipient role, an
	// authority id of an unknown kind, or a kind that cannot hold its role.
	ErrUnknownRecipient = errors.New("unknown recipient")
	// ErrInvalidInput: a nil record, decisions that do not belong to the
	// record, a view asked of a withheld decision, and the like.
	ErrInvalidInput = errors.New("invalid input")
)

// Outcome is a decision and, when it allows, the minimised view the
// recipient receives.
type Outcome struct {
	// Decision is what the journal records.
	Decision Decision
	// View is the record with every field the decision does not disclose
	// removed; nil when the decision withholds. It is a fresh copy.
	View *record.Record
}

// Pointers of consent members.
const ptrGrants = "/consent/follow_up/grants/"

// Links tells whether a recipient holds a record: a relative's link to the
// affected person (/relation/relative_of) travels only to a recipient that
// also received the affected person's record. The service answers from its
// stored deliveries; nil means no recipient holds any, and only the
// kinship travels.
type Links interface {
	// Holds reports whether recipient received record recordID.
	Holds(recipient, recordID string) bool
}

// Evaluate decides, for every candidate and every rule for its role, allow
// or withhold, and builds the minimised view of each allowed decision. A
// candidate whose role no rule covers gets one withheld decision
// (CheckNoRule). Consent expiry and incident periods are judged at the time
// at. The record should have passed record.Validator; Evaluate checks again
// what it relies on and fails with ErrInvalidConsent or ErrUnknownRecipient
// rather than guess. No recipient is taken to hold another record: a
// relative's link to the affected person is withheld (see EvaluateLinked).
func (p *Policy) Evaluate(rec *record.Record, candidates []routing.Candidate, at time.Time) ([]Outcome, error) {
	return p.EvaluateLinked(rec, candidates, at, nil)
}

// EvaluateLinked is Evaluate with the recipients' holdings: a relative's
// /relation/relative_of travels to a recipient only when links says it
// holds the affected person's record.
func (p *Policy) EvaluateLinked(rec *record.Record, candidates []routing.Candidate, at time.Time, links Links) ([]Outcome, error) {
	if rec == nil {
		return nil, fmt.Errorf("%w: no record", ErrInvalidInput)
	}
	if at.IsZero() {
		return nil, fmt.Errorf("%w: no evaluation time: expiry and incident periods cannot be judged", ErrInvalidInput)
	}
	if err := checkConsent(rec.Consent); err != nil {
		return nil, err
	}
	n := 0
	for _, c := range candidates {
		if err := checkCandidate(c); err != nil {
			return nil, err
		}
		n += max(1, len(p.byRole[c.Role]))
	}
	f := factsOf(rec, at)
	have := present(rec)
	out := make([]Outcome, 0, n)
	for _, c := range candidates {
		idx := p.byRole[c.Role]
		if len(idx) == 0 {
			out = append(out, Outcome{Decision: Decision{
				RecordID: rec.RecordID, Version: rec.Version, Recipient: c.Authority, Role: c.Role,
				Effect: Withhold, PolicyVersion: p.doc.Version, Check: CheckNoRule, At: at,
			}})
			continue
		}
		for _, i := range idx {
			d, keep := p.decide(rec, &f, have, c, &p.rules[i], links)
			o := Outcome{Decision: d}
			if d.Effect == Allow {
				o.View = project(rec, keep, c.Role)
			}
			out = append(out, o)
		}
	}
	return out, nil
}

// EvaluateRoute is EvaluateLinked over a whole routing result: the
// decisions for its candidates, followed by one withheld decision
// (CheckRecipientNotConfigured) for every role routing could not fill
// because the recipient's code is not configured (routing.RegionNotConfigured).
// A record whose residence or incident lies in Region Østdanmark's
// municipalities thus never loses its region recipients without a word:
// the journal records the gap, and the service routes the record again once
// the configuration is complete.
func (p *Policy) EvaluateRoute(rec *record.Record, route routing.Result, at time.Time, links Links) ([]Outcome, error) {
	out, err := p.EvaluateLinked(rec, route.Candidates, at, links)
	if err != nil {
		return nil, err
	}
	for _, o := range route.Omitted {
		if o.Reason.Code != routing.RegionNotConfigured {
			continue
		}
		out = append(out, Outcome{Decision: Decision{
			RecordID: rec.RecordID, Version: rec.Version, RecipientName: o.Reason.RegionName, Role: o.Role,
			Settings: slices.Clone(o.Reason.Settings), Effect: Withhold, PolicyVersion: p.doc.Version,
			Check: CheckRecipientNotConfigured, At: at,
		}})
	}
	return out, nil
}

// facts are what every rule needs to know about the consent, worked out once.
type facts struct {
	at        time.Time
	withdrawn bool
	reg       record.RegistrationConsent
	granted   bool // follow-up consent granted and in force as far as time goes
	refused   bool // follow-up explicitly refused (granted: false)
	expired   bool
	guardian  bool // a guardian consented: contact goes to the guardian
	fu        *record.FollowUp
}

func factsOf(rec *record.Record, at time.Time) facts {
	cs := rec.Consent
	f := facts{at: at, withdrawn: cs.WithdrawnAt != nil, reg: cs.Registration, fu: cs.FollowUp, guardian: cs.GivenBy == record.GivenByGuardian}
	if fu := cs.FollowUp; fu != nil && fu.Granted != nil {
		f.granted = *fu.Granted
		f.refused = !*fu.Granted
		f.expired = fu.ExpiresAt != nil && !at.Before(*fu.ExpiresAt)
	}
	return f
}

// inForce reports whether follow-up consent is granted and in force.
func (f *facts) inForce() bool { return f.granted && !f.expired && !f.withdrawn }

// channel reports whether ch is a channel a recipient may use under rule
// r in role: the channels of the role's own grant for a consent rule, the
// channels consented to any recipient for a legal-basis rule that names a
// contact legal basis, and none otherwise; always only while the consent
// is in force.
func (f *facts) channel(r *compiledRule, role record.RecipientRole, ch record.Channel) bool {
	if !f.inForce() {
		return false
	}
	switch {
	case r.Basis == BasisConsent:
		g, i := f.fu.GrantFor(role)
		return i >= 0 && slices.Contains(g.Channels, ch)
	case r.ContactLegalBasis != "":
		return slices.Contains(f.fu.AllChannels(), ch)
	}
	return false
}

// decide applies rule r to candidate c and returns the decision and, when
// it allows, the fields of the view.
func (p *Policy) decide(rec *record.Record, f *facts, have fieldSet, c routing.Candidate, r *compiledRule, links Links) (Decision, fieldSet) {
	d := Decision{
		RecordID: rec.RecordID, Version: rec.Version, Recipient: c.Authority, Role: c.Role,
		Purpose: r.Purpose, Effect: Withhold, RuleID: r.ID, PolicyVersion: p.doc.Version,
		Basis: r.Basis, LegalBasis: r.LegalBasis, At: f.at,
	}
	if r.Basis == BasisConsent {
		d.GivenBy = rec.Consent.GivenBy
	}
	if d.Check = gate(rec, f, r, c.Role, &d); d.Check != "" {
		return d, 0
	}
	keep := r.fields & have
	withhold := func(fl field, ch Check) {
		keep &^= 1 << fl
		if d.Withheld == nil {
			d.Withheld = make([]WithheldField, 0, 4) // phone, email, address, notes at most
		}
		d.Withheld = append(d.Withheld, WithheldField{Path: fl.path(), Check: ch})
	}
	phone, email := f.channel(r, c.Role, record.ChannelPhone), f.channel(r, c.Role, record.ChannelEmail)
	if f.guardian && !p.doc.Minors.OwnContact {
		// Contact about a minor goes to the guardian's channels.
		if keep.has(fPhone) {
			withhold(fPhone, CheckMinorOwnContact)
		}
		if keep.has(fEmail) {
			withhold(fEmail, CheckMinorOwnContact)
		}
	}
	for _, x := range []struct {
		fl field
		ok bool
	}{{fPhone, phone}, {fEmail, email}, {fGuardianPhone, phone}, {fGuardianEmail, email}} {
		if keep.has(x.fl) && !x.ok {
			withhold(x.fl, CheckChannelNotConsented)
		}
	}
	if keep.has(fAddress) && rec.Person.AddressProtected && c.Role != record.RecipientResidenceMunicipality {
		withhold(fAddress, CheckAddressProtected)
	}
	if keep.has(fRelativeOf) && (links == nil || !links.Holds(c.Authority, rec.Relation.RelativeOf)) {
		withhold(fRelativeOf, CheckLinkNotHeld)
	}
	if have.has(fNotes) && r.covered.has(fNotes) {
		switch {
		case !r.HealthNotes:
			withhold(fNotes, CheckHealthNotesNotInRule)
		case r.Basis != BasisConsent || !p.health[r.Purpose] || !grantNames(f.fu, c.Role, r.Purpose):
			withhold(fNotes, CheckHealthNotesNeedConsent)
		}
	}
	if keep&(1<<fPhone|1<<fEmail|1<<fGuardianPhone|1<<fGuardianEmail) != 0 && r.Basis == BasisLegal {
		d.ContactLegalBasis = r.ContactLegalBasis
	}
	d.Effect = Allow
	d.Fields = paths(rec, keep)
	return d, keep
}

// grantNames reports whether the follow-up consent grants purpose to role.
func grantNames(fu *record.FollowUp, role record.RecipientRole, purpose record.Purpose) bool {
	g, i := fu.GrantFor(role)
	return i >= 0 && slices.Contains(g.Purposes, purpose)
}

// gate applies the checks that withhold a whole decision and returns the
// first that fails, or "". For a consent rule that passes it sets d.Clause.
func gate(rec *record.Record, f *facts, r *compiledRule, role record.RecipientRole, d *Decision) Check {
	switch {
	case f.withdrawn:
		return CheckConsentWithdrawn
	case f.reg == record.RegistrationRefused:
		return CheckRegistrationRefused
	}
	if r.Basis == BasisConsent {
		g, gi := f.fu.GrantFor(role)
		pi := -1
		if gi >= 0 {
			pi = slices.Index(g.Purposes, r.Purpose)
		}
		switch {
		case f.reg != record.RegistrationGranted:
			return CheckRegistrationNotObtained
		case !f.granted:
			return CheckFollowUpNotGranted
		case f.expired:
			return CheckConsentExpired
		case gi < 0:
			return CheckRecipientNotConsented
		case pi < 0:
			return CheckPurposeNotConsented
		}
		d.Clause = []string{grantPointer(gi, "recipient", -1), grantPointer(gi, "purposes", pi)}
		return ""
	}
	if r.HonourFollowUpRefusal && f.refused {
		return CheckFollowUpRefused
	}
	if rec.Incident == nil || rec.Incident.OccurredAt == nil {
		return CheckIncidentTimeUnknown
	}
	if !f.at.Before(rec.Incident.OccurredAt.Add(time.Duration(r.IncidentPeriodDays) * 24 * time.Hour)) {
		return CheckIncidentPeriodEnded
	}
	return ""
}

// grantPointer is the JSON Pointer of member of grant i (and of its item j
// when j >= 0); the common cases are constants, which spares allocations
// per decision.
func grantPointer(i int, member string, j int) string {
	if i < 5 && j < 5 {
		switch {
		case member == "recipient" && j < 0:
			return [...]string{ptrGrants + "0/recipient", ptrGrants + "1/recipient", ptrGrants + "2/recipient", ptrGrants + "3/recipient", ptrGrants + "4/recipient"}[i]
		case member == "purposes" && j == 0:
			return [...]string{ptrGrants + "0/purposes/0", ptrGrants + "1/purposes/0", ptrGrants + "2/purposes/0", ptrGrants + "3/purposes/0", ptrGrants + "4/purposes/0"}[i]
		}
	}
	s := ptrGrants + strconv.Itoa(i) + "/" + member
	if j >= 0 {
		s += "/" + strconv.Itoa(j)
	}
	return s
}

// checkConsent refuses a consent block the policy cannot judge safely.
func checkConsent(cs *record.Consent) error {
	bad := func(ptr, format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrInvalidConsent, ptr, fmt.Sprintf(format, args...))
	}
	if cs == nil {
		return bad("/consent", "the record has no consent block")
	}
	if !slices.Contains(record.RegistrationConsents(), cs.Registration) {
		return bad("/consent/registration", "%q is not one of %s", cs.Registration, list(record.RegistrationConsents()))
	}
	documented := cs.Registration != record.RegistrationNotObtained
	if documented && !slices.Contains(record.GivenBys(), cs.GivenBy) {
		return bad("/consent/given_by", "%q is not one of %s: documented consent must say who gave it", cs.GivenBy, list(record.GivenBys()))
	}
	f := cs.FollowUp
	if f == nil {
		return nil
	}
	if f.Granted == nil {
		return bad("/consent/follow_up/granted", "is required")
	}
	for i, g := range f.Grants {
		ptr := fmt.Sprintf("/consent/follow_up/grants/%d", i)
		if !slices.Contains(record.RecipientRoles(), g.Recipient) {
			return bad(ptr+"/recipient", "%q is not one of %s", g.Recipient, list(record.RecipientRoles()))
		}
		if g.Recipient == record.RecipientPoliceDistrict {
			return bad(ptr+"/recipient", "follow-up consent cannot be granted to the police district: the police never see contact preferences")
		}
		if _, first := f.GrantFor(g.Recipient); first < i {
			return bad(ptr+"/recipient", "grants to %s twice: it would be unclear which grant holds", g.Recipient)
		}
		if err := knownAll(ptr+"/channels", g.Channels, record.Channels()); err != nil {
			return err
		}
		if err := knownAll(ptr+"/purposes", g.Purposes, record.Purposes()); err != nil {
			return err
		}
		if len(g.Channels) == 0 || len(g.Purposes) == 0 {
			return bad(ptr, "a grant must name at least one purpose and one channel")
		}
		for _, p := range g.Purposes {
			if slices.Contains(record.HealthPurposes(), p) && !record.IsRegionRole(g.Recipient) {
				return bad(ptr+"/purposes", "%s needs health data and can be granted to a region role only, not %s", p, g.Recipient)
			}
		}
	}
	if *f.Granted {
		switch {
		case cs.Registration != record.RegistrationGranted:
			return bad("/consent/follow_up/granted", "follow-up consent needs registration consent (registration is %s)", cs.Registration)
		case len(f.Grants) == 0:
			return bad("/consent/follow_up/grants", "follow-up consent must name at least one grant")
		}
	} else if len(f.Grants) > 0 || f.ExpiresAt != nil {
		return bad("/consent/follow_up", "follow-up is not granted, yet the consent names grants or an expiry")
	}
	if cs.GivenBy == record.GivenByGuardian && cs.Guardian == nil {
		return bad("/consent/guardian", "a guardian consented, but the record does not say who: contact about the minor has nowhere to go")
	}
	return nil
}

func knownAll[T ~string](ptr string, vs, allowed []T) error {
	for i, v := range vs {
		if !slices.Contains(allowed, v) {
			return fmt.Errorf("%w: %s/%d: %q is not one of %s", ErrInvalidConsent, ptr, i, v, list(allowed))
		}
	}
	return nil
}

// checkCandidate refuses a candidate whose role or authority kind is
// unknown, or whose kind cannot hold its role.
func checkCandidate(c routing.Candidate) error {
	var want string
	switch c.Role {
	case record.RecipientResidenceMunicipality, record.RecipientIncidentMunicipality:
		want = directory.KindMunicipality
	case record.RecipientResidenceRegion, record.RecipientIncidentRegion:
		want = directory.KindRegion
	case record.RecipientPoliceDistrict:
		want = directory.KindPolice
	default:
		return fmt.Errorf("%w: %s has recipient role %q, which is not one of %s", ErrUnknownRecipient, c.Authority, c.Role, list(record.RecipientRoles()))
	}
	kind, code, ok := strings.Cut(c.Authority, ":")
	if !ok || code == "" {
		return fmt.Errorf("%w: %q is not an authority id of the form kind:code", ErrUnknownRecipient, c.Authority)
	}
	if kind != want {
		return fmt.Errorf("%w: %s is a %s and cannot be the %s; that role goes to a %s", ErrUnknownRecipient, c.Authority, kind, words(string(c.Role)), want)
	}
	return nil
}

// ViewOf rebuilds the minimised view of rec from recorded decisions: the
// record with every field that none of the decisions discloses removed.
// Every decision must allow, be for rec's id and version, and name the same
// recipient; several decisions for one authority (one per role it holds)
// give one view with the union of their fields, which is what the delivery
// layer sends when an authority holds two roles.
func ViewOf(rec *record.Record, decisions ...Decision) (*record.Record, error) {
	if rec == nil || len(decisions) == 0 {
		return nil, fmt.Errorf("%w: ViewOf needs a record and at least one decision", ErrInvalidInput)
	}
	var keep fieldSet
	for _, d := range decisions {
		switch {
		case d.Effect != Allow:
			return nil, fmt.Errorf("%w: the decision for %s as %s withholds: there is no view", ErrInvalidInput, d.Recipient, d.Role)
		case d.RecordID != rec.RecordID || d.Version != rec.Version:
			return nil, fmt.Errorf("%w: the decision is about record %s version %d, not %s version %d", ErrInvalidInput, d.RecordID, d.Version, rec.RecordID, rec.Version)
		case d.Recipient != decisions[0].Recipient:
			return nil, fmt.Errorf("%w: decisions for %s and %s cannot share a view", ErrInvalidInput, decisions[0].Recipient, d.Recipient)
		}
		for _, p := range d.Fields {
			if alwaysKept(p) {
				continue
			}
			f, ok := fieldOf(p)
			if !ok {
				return nil, fmt.Errorf("%w: the decision discloses %s, which is not a field of schema v1", ErrInvalidInput, p)
			}
			keep |= 1 << f
		}
	}
	roles := make([]record.RecipientRole, 0, len(decisions))
	for _, d := range decisions {
		roles = append(roles, d.Role)
	}
	v := rec.Clone()
	strip(v, keep, roles)
	return v, nil
}
