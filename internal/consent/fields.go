package consent

import (
	"fmt"
	"math/bits"

	"github.com/psykosocial/exchange/internal/record"
)

// field is one member of the record that a view may or may not carry. The
// members that travel with every view (schema, record_id, version,
// incident/id, registered, consent) are not fields: they are always kept.
// The order is document order, which is also the order of Decision.Fields.
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
	fRelation
	fPriority
	fNotes
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

// path is the JSON Pointer of f, as record.GroupFields writes it.
func (f field) path() string {
	switch f {
	case fIncidentTitle:
		return "/incident/title"
	case fIncidentKind:
		return "/incident/kind"
	case fIncidentOccurredAt:
		return "/incident/occurred_at"
	case fIncidentMunicipality:
		return "/incident/municipality_code"
	case fIncidentRegion:
		return "/incident/region_code"
	case fIncidentSite:
		return "/incident/site"
	case fCPR:
		return "/person/cpr"
	case fECPR:
		return "/person/ecpr"
	case fName:
		return "/person/name"
	case fBirthDate:
		return "/person/birth_date"
	case fPhone:
		return "/person/phone"
	case fEmail:
		return "/person/email"
	case fAddress:
		return "/person/address"
	case fAddressProtected:
		return "/person/address_protected"
	case fLanguage:
		return "/person/language"
	case fInterpreter:
		return "/person/interpreter_needed"
	case fRelation:
		return "/relation"
	case fPriority:
		return "/assessment/follow_up_priority"
	case fNotes:
		return "/assessment/notes"
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
	s |= flag(rec.Relation != nil, fRelation)
	if a := rec.Assessment; a != nil {
		s |= flag(a.FollowUpPriority != "", fPriority) | flag(a.Notes != "", fNotes)
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
// empty, so that v stays a valid record: incident keeps its id, and
// registered and consent are never touched.
func strip(v *record.Record, keep fieldSet) {
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
	if !keep.has(fRelation) {
		v.Relation = nil
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
	return out
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
