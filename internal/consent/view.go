package consent

import (
	"slices"
	"time"

	"github.com/psykosocial/exchange/internal/record"
)

// viewParts holds every part of one view, so that a view costs one
// allocation instead of the twenty of record.Clone: Evaluate builds a view
// for every allowed recipient of every record, and this is most of its
// cost. The parts are copies; a view shares no memory with its record or
// with another view.
type viewParts struct {
	rec          record.Record
	incident     record.Incident
	occurredAt   time.Time
	registered   record.Registered
	registeredAt time.Time
	person       record.Person
	birthDate    record.Date
	address      record.Address
	relation     record.Relation
	assessment   record.Assessment
	consent      record.Consent
	withdrawnAt  time.Time
	followUp     record.FollowUp
	granted      bool
	expiresAt    time.Time
	grant        [1]record.Grant
	purposes     [5]record.Purpose
	channels     [3]record.Channel
	guardian     record.Guardian
	obtained     record.Obtained
	obtainedAt   time.Time
	obtainedBy   record.ObtainedBy
}

// project returns the view of rec for a recipient in role that keeps the
// fields in keep and the members that travel with every view, the consent
// block reduced to what the recipient may know: a deep copy of exactly
// those members. It builds what ViewOf builds by record.Clone and strip;
// the tests hold the two to the same bytes for every decision they make,
// and fail when the record gains a member that neither knows.
func project(rec *record.Record, keep fieldSet, role record.RecipientRole) *record.Record {
	a := new(viewParts)
	v := &a.rec
	v.Schema, v.RecordID, v.Version = rec.Schema, rec.RecordID, rec.Version
	if in := rec.Incident; in != nil {
		c := &a.incident
		c.ID = in.ID
		if keep.has(fIncidentTitle) {
			c.Title = in.Title
		}
		if keep.has(fIncidentKind) {
			c.Kind = in.Kind
		}
		if keep.has(fIncidentOccurredAt) {
			c.OccurredAt = copyTime(in.OccurredAt, &a.occurredAt)
		}
		if keep.has(fIncidentMunicipality) {
			c.MunicipalityCode = in.MunicipalityCode
		}
		if keep.has(fIncidentRegion) {
			c.RegionCode = in.RegionCode
		}
		if keep.has(fIncidentSite) {
			c.Site = in.Site
		}
		v.Incident = c
	}
	if g := rec.Registered; g != nil {
		a.registered = *g
		a.registered.At = copyTime(g.At, &a.registeredAt)
		v.Registered = &a.registered
	}
	if p := rec.Person; p != nil {
		c := &a.person
		if keep.has(fCPR) {
			c.CPR = p.CPR
		}
		if keep.has(fECPR) {
			c.ECPR = p.ECPR
		}
		if keep.has(fName) {
			c.Name = p.Name
		}
		if keep.has(fBirthDate) && p.BirthDate != nil {
			a.birthDate = *p.BirthDate
			c.BirthDate = &a.birthDate
		}
		if keep.has(fPhone) {
			c.Phone = p.Phone
		}
		if keep.has(fEmail) {
			c.Email = p.Email
		}
		if keep.has(fAddress) && p.Address != nil {
			a.address = *p.Address
			c.Address = &a.address
		}
		if keep.has(fAddressProtected) {
			c.AddressProtected = p.AddressProtected
		}
		if keep.has(fLanguage) {
			c.Language = p.Language
		}
		if keep.has(fInterpreter) {
			c.InterpreterNeeded = p.InterpreterNeeded
		}
		if *c != (record.Person{}) {
			v.Person = c
		}
	}
	if r := rec.Relation; r != nil && keep.has(fRelationType) {
		a.relation.Type = r.Type
		if keep.has(fRelativeOf) {
			a.relation.RelativeOf = r.RelativeOf
		}
		if keep.has(fKinship) {
			a.relation.Kinship = r.Kinship
		}
		v.Relation = &a.relation
	}
	if as := rec.Assessment; as != nil {
		if keep.has(fPriority) {
			a.assessment.FollowUpPriority = as.FollowUpPriority
		}
		if keep.has(fNotes) {
			a.assessment.Notes = as.Notes
		}
		if a.assessment != (record.Assessment{}) {
			v.Assessment = &a.assessment
		}
	}
	if cs := rec.Consent; cs != nil {
		v.Consent = a.copyConsent(cs, keep, role)
	}
	return v
}

// copyConsent copies the consent block as reduceConsent reduces it for a
// recipient in role.
func (a *viewParts) copyConsent(cs *record.Consent, keep fieldSet, role record.RecipientRole) *record.Consent {
	c := &a.consent
	*c = *cs
	c.WithdrawnAt = copyTime(cs.WithdrawnAt, &a.withdrawnAt)
	c.FollowUp = nil
	if f := cs.FollowUp; f != nil && role != record.RecipientPoliceDistrict {
		if g, i := f.GrantFor(role); i >= 0 {
			a.followUp = record.FollowUp{ExpiresAt: copyTime(f.ExpiresAt, &a.expiresAt)}
			if f.Granted != nil {
				a.granted = *f.Granted
				a.followUp.Granted = &a.granted
			}
			a.grant[0] = record.Grant{Recipient: g.Recipient, Purposes: copyInto(a.purposes[:], g.Purposes), Channels: copyInto(a.channels[:], g.Channels)}
			a.followUp.Grants = a.grant[:1:1]
			c.FollowUp = &a.followUp
		}
	}
	if g := cs.Guardian; g != nil {
		a.guardian = record.Guardian{Name: g.Name, Relation: g.Relation}
		if keep.has(fGuardianPhone) {
			a.guardian.Phone = g.Phone
		}
		if keep.has(fGuardianEmail) {
			a.guardian.Email = g.Email
		}
		c.Guardian = &a.guardian
	}
	if o := cs.Obtained; o != nil {
		a.obtained = *o
		a.obtained.At = copyTime(o.At, &a.obtainedAt)
		if o.By != nil {
			a.obtainedBy = *o.By
			a.obtained.By = &a.obtainedBy
		}
		c.Obtained = &a.obtained
	}
	return c
}

// copyTime copies *t into *dst and returns dst, or nil when t is nil.
func copyTime(t *time.Time, dst *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	*dst = *t
	return dst
}

// copyInto copies vs into buf when it fits (a valid consent lists each
// vocabulary value once, so it does) and into a fresh slice otherwise.
// The result's capacity is its length: appending to it never writes into
// the view's other parts.
func copyInto[T any](buf, vs []T) []T {
	switch {
	case vs == nil:
		return nil
	case len(vs) <= len(buf):
		n := copy(buf, vs)
		return buf[:n:n]
	}
	return slices.Clone(vs)
}
