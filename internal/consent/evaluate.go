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
const (
	ptrRecipients = "/consent/follow_up/recipients/"
	ptrPurposes   = "/consent/follow_up/purposes/"
)

// Evaluate decides, for every candidate and every rule for its role, allow
// or withhold, and builds the minimised view of each allowed decision. A
// candidate whose role no rule covers gets one withheld decision
// (CheckNoRule). Consent expiry and incident periods are judged at the time
// at. The record should have passed record.Validator; Evaluate checks again
// what it relies on and fails with ErrInvalidConsent or ErrUnknownRecipient
// rather than guess.
func (p *Policy) Evaluate(rec *record.Record, candidates []routing.Candidate, at time.Time) ([]Outcome, error) {
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
			d, keep := p.decide(rec, &f, have, c, &p.rules[i], at)
			o := Outcome{Decision: d}
			if d.Effect == Allow {
				o.View = project(rec, keep)
			}
			out = append(out, o)
		}
	}
	return out, nil
}

// EvaluateRoute is Evaluate over a whole routing result: the decisions for
// its candidates, followed by one withheld decision
// (CheckRecipientNotConfigured) for every role routing could not fill
// because the recipient's code is not configured (routing.RegionNotConfigured).
// A record whose residence or incident lies in Region Østdanmark's
// municipalities thus never loses its region recipients without a word:
// the journal records the gap, and the service routes the record again once
// the configuration is complete.
func (p *Policy) EvaluateRoute(rec *record.Record, route routing.Result, at time.Time) ([]Outcome, error) {
	out, err := p.Evaluate(rec, route.Candidates, at)
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
	withdrawn bool
	reg       record.RegistrationConsent
	granted   bool // follow-up consent granted and in force as far as time goes
	refused   bool // follow-up explicitly refused (granted: false)
	expired   bool
	fu        *record.FollowUp
}

func factsOf(rec *record.Record, at time.Time) facts {
	cs := rec.Consent
	f := facts{withdrawn: cs.WithdrawnAt != nil, reg: cs.Registration, fu: cs.FollowUp}
	if fu := cs.FollowUp; fu != nil && fu.Granted != nil {
		f.granted = *fu.Granted
		f.refused = !*fu.Granted
		f.expired = fu.ExpiresAt != nil && !at.Before(*fu.ExpiresAt)
	}
	return f
}

// channel reports whether ch is a consented channel in force.
func (f *facts) channel(ch record.Channel) bool {
	return f.granted && !f.expired && !f.withdrawn && slices.Contains(f.fu.Channels, ch)
}

// decide applies rule r to candidate c and returns the decision and, when
// it allows, the fields of the view.
func (p *Policy) decide(rec *record.Record, f *facts, have fieldSet, c routing.Candidate, r *compiledRule, at time.Time) (Decision, fieldSet) {
	d := Decision{
		RecordID: rec.RecordID, Version: rec.Version, Recipient: c.Authority, Role: c.Role,
		Purpose: r.Purpose, Effect: Withhold, RuleID: r.ID, PolicyVersion: p.doc.Version,
		Basis: r.Basis, LegalBasis: r.LegalBasis, At: at,
	}
	if r.Basis == BasisConsent {
		d.GivenBy = rec.Consent.GivenBy
	}
	if d.Check = gate(rec, f, r, c.Role, at, &d); d.Check != "" {
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
	if keep.has(fPhone) && !f.channel(record.ChannelPhone) {
		withhold(fPhone, CheckChannelNotConsented)
	}
	if keep.has(fEmail) && !f.channel(record.ChannelEmail) {
		withhold(fEmail, CheckChannelNotConsented)
	}
	if keep.has(fAddress) && rec.Person.AddressProtected && c.Role != record.RecipientResidenceMunicipality {
		withhold(fAddress, CheckAddressProtected)
	}
	if have.has(fNotes) && r.covered.has(fNotes) {
		switch {
		case !r.HealthNotes:
			withhold(fNotes, CheckHealthNotesNotInRule)
		case r.Basis != BasisConsent || !p.health[r.Purpose] || !slices.Contains(f.fu.Purposes, r.Purpose):
			withhold(fNotes, CheckHealthNotesNeedConsent)
		}
	}
	d.Effect = Allow
	d.Fields = paths(rec, keep)
	return d, keep
}

// gate applies the checks that withhold a whole decision and returns the
// first that fails, or "". For a consent rule that passes it sets d.Clause.
func gate(rec *record.Record, f *facts, r *compiledRule, role record.RecipientRole, at time.Time, d *Decision) Check {
	switch {
	case f.withdrawn:
		return CheckConsentWithdrawn
	case f.reg == record.RegistrationRefused:
		return CheckRegistrationRefused
	}
	if r.Basis == BasisConsent {
		ri, pi := -1, -1
		if f.fu != nil {
			ri = slices.Index(f.fu.Recipients, role)
			pi = slices.Index(f.fu.Purposes, r.Purpose)
		}
		switch {
		case f.reg != record.RegistrationGranted:
			return CheckRegistrationNotObtained
		case !f.granted:
			return CheckFollowUpNotGranted
		case f.expired:
			return CheckConsentExpired
		case ri < 0:
			return CheckRecipientNotConsented
		case pi < 0:
			return CheckPurposeNotConsented
		}
		d.Clause = []string{indexed(ptrRecipients, ri), indexed(ptrPurposes, pi)}
		return ""
	}
	if r.HonourFollowUpRefusal && f.refused {
		return CheckFollowUpRefused
	}
	if rec.Incident == nil || rec.Incident.OccurredAt == nil {
		return CheckIncidentTimeUnknown
	}
	if !at.Before(rec.Incident.OccurredAt.Add(time.Duration(r.IncidentPeriodDays) * 24 * time.Hour)) {
		return CheckIncidentPeriodEnded
	}
	return ""
}

// indexed is the pointer base+i; the common cases are constants, which
// spares an allocation per decision.
func indexed(base string, i int) string {
	switch {
	case base == ptrRecipients && i < 5:
		return [...]string{ptrRecipients + "0", ptrRecipients + "1", ptrRecipients + "2", ptrRecipients + "3", ptrRecipients + "4"}[i]
	case base == ptrPurposes && i < 3:
		return [...]string{ptrPurposes + "0", ptrPurposes + "1", ptrPurposes + "2"}[i]
	}
	return base + strconv.Itoa(i)
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
	if err := knownAll("/consent/follow_up/channels", f.Channels, record.Channels()); err != nil {
		return err
	}
	if err := knownAll("/consent/follow_up/recipients", f.Recipients, record.RecipientRoles()); err != nil {
		return err
	}
	if err := knownAll("/consent/follow_up/purposes", f.Purposes, record.Purposes()); err != nil {
		return err
	}
	if len(f.Channels) > 0 && len(f.Recipients) == 0 {
		return bad("/consent/follow_up/recipients", "the consent names channels but no recipients: it does not say who may use them")
	}
	if *f.Granted {
		switch {
		case cs.Registration != record.RegistrationGranted:
			return bad("/consent/follow_up/granted", "follow-up consent needs registration consent (registration is %s)", cs.Registration)
		case len(f.Channels) == 0:
			return bad("/consent/follow_up/channels", "follow-up consent must name at least one channel")
		case len(f.Recipients) == 0:
			return bad("/consent/follow_up/recipients", "follow-up consent must name at least one recipient role")
		case len(f.Purposes) == 0:
			return bad("/consent/follow_up/purposes", "follow-up consent must name at least one purpose")
		}
	} else if len(f.Channels)+len(f.Recipients)+len(f.Purposes) > 0 || f.ExpiresAt != nil {
		return bad("/consent/follow_up", "follow-up is not granted, yet the consent names channels, recipients, purposes or an expiry")
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
	v := rec.Clone()
	strip(v, keep)
	return v, nil
}
