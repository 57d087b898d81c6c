package consent

import (
	"fmt"
	"math/bits"

	"github.com/psykosocial/exchange/internal/record"
)

// field is one member of the record that a view may or may not carry. The
// members that travel with every view (schema, record_id, version,
// incident/id, registered, consent, reduced to what the recipient may know)
// are not fields: they are always kept. /relation/affected is not a field
// either: it never leaves the gateway. The order is document order, which
// is also the order of Decision.Fields.
type field uint8

const (
	fIncidentTitle field = iota
	fIncidentKind
	fIncidentOccurredAt
	fIncidentMunicipality
	fIncidentRegion
	fIncidentSite
	fCPR
	fECPR
	fName
	fBirthDate
	fPhone
	fEmail
	fAddress
	fAddressProtected
	fLanguage
	fInterpreter
	fRelationType
	fRelativeOf
	fKinship
	fPriority
	fNotes
	fGuardianPhone
	fGuardianEmail
	numFields
)

// fieldSet is a set of fields, one bit each.
type fieldSet uint32

func (s fieldSet) has(f field) bool { return s&(1<<f) != 0 }

// Paths of the members that travel with every view.
const (
	pathSchema     = "/schema"
	pathRecordID   = "/record_id"
	pathVersion    = "/version"
	pathIncidentID = "/incident/id"
	pathRegistered = "/registered"
	pathConsent    = "/consent"
)

// fieldPaths are the JSON Pointers of the fields, as record.GroupFields
// writes them.
var fieldPaths = [numFields]string{
	fIncidentTitle:        "/incident/title",
	fIncidentKind:         "/incident/kind",
	fIncidentOccurredAt:   "/incident/occurred_at",
	fIncidentMunicipality: "/incident/municipality_code",
	fIncidentRegion:       "/incident/region_code",
	fIncidentSite:         "/incident/site",
	fCPR:                  "/person/cpr",
	fECPR:                 "/person/ecpr",
	fName:                 "/person/name",
	fBirthDate:            "/person/birth_date",
	fPhone:                "/person/phone",
	fEmail:                "/person/email",
	fAddress:              "/person/address",
	fAddressProtected:     "/person/address_protected",
	fLanguage:             "/person/language",
	fInterpreter:          "/person/interpreter_needed",
	fRelationType:         "/relation/type",
	fRelativeOf:           "/relation/relative_of",
	fKinship:              "/relation/kinship",
	fPriority:             "/assessment/follow_up_priority",
	fNotes:                "/assessment/notes",
	fGuardianPhone:        "/consent/guardian/phone",
	fGuardianEmail:        "/consent/guardian/email",
}

// path is the JSON Pointer of f.
func (f field) path() string {
	if f < numFields {
		return fieldPaths[f]
	}
	return ""
}

// fieldOf returns the field whose path is p.
func fieldOf(p string) (field, bool) {
	for f := range numFields {
		if f.path() == p {
			return f, true
		}
	}
	return 0, false
}

// alwaysKept reports whether p is a member that travels with every view.
func alwaysKept(p string) bool {
	switch p {
	case pathSchema, pathRecordID, pathVersion, pathIncidentID, pathRegistered, pathConsent:
		return true
	}
	return false
}

// groupSets maps each field group of record.GroupFields to its field set.
// It fails when the record package names a member this package cannot
// minimise, or leaves a field out of every group: the view would then keep
// or drop something no rule decided.
func groupSets() (map[record.FieldGroup]fieldSet, error) {
	out := map[record.FieldGroup]fieldSet{}
	var all fieldSet
	for g, paths := range record.GroupFields() {
		for _, p := range paths {
			f, ok := fieldOf(p)
			if !ok {
				return nil, fmt.Errorf("field group %s covers %s, which the consent package cannot remove from a view", g, p)
			}
			if all.has(f) {
				return nil, fmt.Errorf("%s is in more than one field group", p)
			}
			all |= 1 << f
			out[g] |= 1 << f
		}
	}
	if missing := ^all & (1<<numFields - 1); missing != 0 {
		return nil, fmt.Errorf("%s is in no field group", field(bits.TrailingZeros32(uint32(missing))).path())
	}
	return out, nil
}

// present returns the fields that rec carries.
func present(rec *record.Record) fieldSet {
	var s fieldSet
	if in := rec.Incident; in != nil {
		s |= flag(in.Title != "", fIncidentTitle) | flag(in.Kind != "", fIncidentKind) |
			flag(in.OccurredAt != nil, fIncidentOccurredAt) | flag(in.MunicipalityCode != "", fIncidentMunicipality) |
			flag(in.RegionCode != "", fIncidentRegion) | flag(in.Site != "", fIncidentSite)
	}
	if p := rec.Person; p != nil {
		s |= flag(p.CPR != "", fCPR) | flag(p.ECPR != "", fECPR) | flag(p.Name != "", fName) |
			flag(p.BirthDate != nil, fBirthDate) | flag(p.Phone != "", fPhone) | flag(p.Email != "", fEmail) |
			flag(p.Address != nil, fAddress) | flag(p.AddressProtected, fAddressProtected) |
			flag(p.Language != "", fLanguage) | flag(p.InterpreterNeeded, fInterpreter)
	}
	if r := rec.Relation; r != nil {
		s |= flag(r.Type != "", fRelationType) | flag(r.RelativeOf != "", fRelativeOf) | flag(r.Kinship != "", fKinship)
	}
	if a := rec.Assessment; a != nil {
		s |= flag(a.FollowUpPriority != "", fPriority) | flag(a.Notes != "", fNotes)
	}
	if c := rec.Consent; c != nil && c.Guardian != nil {
		s |= flag(c.Guardian.Phone != "", fGuardianPhone) | flag(c.Guardian.Email != "", fGuardianEmail)
	}
	return s
}

func flag(b bool, f field) fieldSet {
	if b {
		return 1 << f
	}
	return 0
}

// strip removes from v every field not in keep, and then every object left
// empty, so that v stays a valid record: incident keeps its id, registered
// is never touched, the relation never keeps /relation/affected, and the
// consent block keeps only the grants of roles and the guardian's contact
// fields in keep (reduceConsent).
func strip(v *record.Record, keep fieldSet, roles []record.RecipientRole) {
	if in := v.Incident; in != nil {
		if !keep.has(fIncidentTitle) {
			in.Title = ""
		}
		if !keep.has(fIncidentKind) {
			in.Kind = ""
		}
		if !keep.has(fIncidentOccurredAt) {
			in.OccurredAt = nil
		}
		if !keep.has(fIncidentMunicipality) {
			in.MunicipalityCode = ""
		}
		if !keep.has(fIncidentRegion) {
			in.RegionCode = ""
		}
		if !keep.has(fIncidentSite) {
			in.Site = ""
		}
	}
	if p := v.Person; p != nil {
		if !keep.has(fCPR) {
			p.CPR = ""
		}
		if !keep.has(fECPR) {
			p.ECPR = ""
		}
		if !keep.has(fName) {
			p.Name = ""
		}
		if !keep.has(fBirthDate) {
			p.BirthDate = nil
		}
		if !keep.has(fPhone) {
			p.Phone = ""
		}
		if !keep.has(fEmail) {
			p.Email = ""
		}
		if !keep.has(fAddress) {
			p.Address = nil
		}
		if !keep.has(fAddressProtected) {
			p.AddressProtected = false
		}
		if !keep.has(fLanguage) {
			p.Language = ""
		}
		if !keep.has(fInterpreter) {
			p.InterpreterNeeded = false
		}
		if *p == (record.Person{}) {
			v.Person = nil
		}
	}
	if r := v.Relation; r != nil {
		r.Affected = nil
		if !keep.has(fRelativeOf) {
			r.RelativeOf = ""
		}
		if !keep.has(fKinship) {
			r.Kinship = ""
		}
		if !keep.has(fRelationType) {
			v.Relation = nil
		}
	}
	if a := v.Assessment; a != nil {
		if !keep.has(fPriority) {
			a.FollowUpPriority = ""
		}
		if !keep.has(fNotes) {
			a.Notes = ""
		}
		if *a == (record.Assessment{}) {
			v.Assessment = nil
		}
	}
	if c := v.Consent; c != nil {
		reduceConsent(c, keep, roles)
	}
}

// reduceConsent reduces a view's consent block to what its recipient, in
// roles, may know: the grants of its own roles (none: no follow_up block,
// and never for the police, who never see contact preferences), and the guardian's
// phone and e-mail only where the view discloses them. Who consented, how
// and when, and a withdrawal always travel.
func reduceConsent(c *record.Consent, keep fieldSet, roles []record.RecipientRole) {
	if f := c.FollowUp; f != nil {
		kept := f.Grants[:0]
		for _, g := range f.Grants {
			for _, r := range roles {
				if g.Recipient == r && r != record.RecipientPoliceDistrict {
					kept = append(kept, g)
					break
				}
			}
		}
		if len(kept) == 0 {
			c.FollowUp = nil
		} else {
			f.Grants = kept
		}
	}
	if g := c.Guardian; g != nil {
		if !keep.has(fGuardianPhone) {
			g.Phone = ""
		}
		if !keep.has(fGuardianEmail) {
			g.Email = ""
		}
	}
}

// paths lists, in document order, the JSON Pointers of every member of a
// view of rec that carries the fields in disclosed: the members that always
// travel and the disclosed fields. Only members rec actually has are listed.
func paths(rec *record.Record, disclosed fieldSet) []string {
	disclosed &= present(rec)
	out := make([]string, 0, 6+bits.OnesCount32(uint32(disclosed)))
	if rec.Schema != "" {
		out = append(out, pathSchema)
	}
	if rec.RecordID != "" {
		out = append(out, pathRecordID)
	}
	out = append(out, pathVersion)
	if rec.Incident != nil {
		out = append(out, pathIncidentID) // always written with the incident, even empty
	}
	out = appendFields(out, disclosed, fIncidentTitle, fIncidentSite)
	if rec.Registered != nil {
		out = append(out, pathRegistered)
	}
	out = appendFields(out, disclosed, fCPR, fNotes)
	if rec.Consent != nil {
		out = append(out, pathConsent)
	}
	return appendFields(out, disclosed, fGuardianPhone, fGuardianEmail)
}

// appendFields appends the paths of the fields from..to (inclusive) in s.
func appendFields(out []string, s fieldSet, from, to field) []string {
	for f := from; f <= to; f++ {
		if s.has(f) {
			out = append(out, f.path())
		}
	}
	return out
}
