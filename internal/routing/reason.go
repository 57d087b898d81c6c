package routing

import (
	"strings"
	"time"

	"github.com/psykosocial/exchange/internal/record"
	"github.com/psykosocial/exchange/internal/refdata"
)

// ReasonCode is a stable, machine-readable name of why a role has a
// candidate or has none. The journal records it; Reason.String derives the
// sentence from it.
type ReasonCode string

// Reasons for a candidate.
const (
	// LivesInMunicipality: the person's Danish address lies in the municipality.
	LivesInMunicipality ReasonCode = "lives_in_municipality"
	// LivesInRegion: the residence municipality belongs to the region at the routing time.
	LivesInRegion ReasonCode = "lives_in_region"
	// IncidentInMunicipality: the incident happened in the municipality.
	IncidentInMunicipality ReasonCode = "incident_in_municipality"
	// IncidentInRegion: the incident municipality belongs to the region at the routing time.
	IncidentInRegion ReasonCode = "incident_in_region"
	// IncidentInPoliceDistrict: the police district covers the incident municipality.
	IncidentInPoliceDistrict ReasonCode = "incident_in_police_district"
	// FollowUpOwner: the person has no residence municipality (NoResidence
	// says why: abroad, unknown, Christiansø), and the follow-up owner rule
	// (Reason.OwnerRule) gives the residence role to this authority.
	FollowUpOwner ReasonCode = "follow_up_owner"
)

// Reasons for an omission.
const (
	// NoPerson: the record carries no person (a refused registration), so no residence.
	NoPerson ReasonCode = "no_person"
	// NoAddress: the person has no address in the record, so the residence is unknown.
	NoAddress ReasonCode = "no_address"
	// LivesAbroad: the person's address is outside Denmark: no Danish residence.
	LivesAbroad ReasonCode = "lives_abroad"
	// NoResidenceCode: the Danish address has no municipality code: residence unknown.
	NoResidenceCode ReasonCode = "no_residence_code"
	// OutsideMunicipalDivision: the person lives in area 0411 (Ertholmene),
	// outside the municipal and regional division: no residence municipality or region.
	OutsideMunicipalDivision ReasonCode = "outside_municipal_division"
	// NoIncidentPlace: the record does not say where the incident happened.
	NoIncidentPlace ReasonCode = "no_incident_place"
	// IncidentOutsideDivision: the incident happened in area 0411, which has
	// no municipality and no region (its police district still has a role).
	IncidentOutsideDivision ReasonCode = "incident_outside_division"
	// NoRegion: the municipality belongs to no region at the routing time.
	NoRegion ReasonCode = "no_region"
	// RegionNotConfigured: the municipality belongs to a region whose code is
	// not configured yet (Region Østdanmark before refdata.Config names it).
	RegionNotConfigured ReasonCode = "region_not_configured"
	// NotInDirectory: the authority has no directory entry valid at the routing time.
	NotInDirectory ReasonCode = "not_in_directory"
	// IsSender: the authority sent the record and never receives its own record.
	IsSender ReasonCode = "is_sender"
)

// Reason is why a role has a candidate or has none: a code and the facts it
// rests on. It is a value the journal can record as is; String derives a
// sentence from it.
type Reason struct {
	// Code is what happened.
	Code ReasonCode `json:"code"`
	// Via is, for IsSender and NotInDirectory, the reason the authority
	// would otherwise have been a candidate (e.g. IncidentInRegion).
	Via ReasonCode `json:"via,omitempty"`
	// Pointer is the JSON Pointer of the record member the reason rests on.
	Pointer string `json:"pointer,omitempty"`
	// MunicipalityCode is the residence or incident municipality code.
	MunicipalityCode string `json:"municipality_code,omitempty"`
	// RegionCode is the region of MunicipalityCode at the routing time.
	RegionCode string `json:"region_code,omitempty"`
	// RegionName names that region for RegionNotConfigured, whose code is
	// missing (e.g. "Region Østdanmark").
	RegionName string `json:"region_name,omitempty"`
	// Settings names, for RegionNotConfigured, the configuration that
	// closes the gap (refdata.Gap.Settings).
	Settings []string `json:"settings,omitempty"`
	// PoliceDistrict is the id of the police district covering MunicipalityCode.
	PoliceDistrict string `json:"police_district,omitempty"`
	// Country is the country of an address abroad.
	Country string `json:"country,omitempty"`
	// Authority is the authority id found, if any.
	Authority string `json:"authority,omitempty"`
	// OwnerRule names the follow-up owner rule (FollowUpOwner).
	OwnerRule string `json:"owner_rule,omitempty"`
	// NoResidence says, for FollowUpOwner, why the person has no residence
	// municipality (LivesAbroad, NoAddress, NoResidenceCode,
	// OutsideMunicipalDivision).
	NoResidence ReasonCode `json:"no_residence,omitempty"`
	// OwnerUnconfirmed is set when the sources do not confirm the owner rule.
	OwnerUnconfirmed bool `json:"owner_unconfirmed,omitempty"`
	// OwnerPointer is /incident/municipality_code when the owner is the
	// incident municipality, empty when the rule names the municipality.
	OwnerPointer string `json:"owner_pointer,omitempty"`
	// At is the routing time.
	At time.Time `json:"at"`
}

// String is a sentence a data-protection officer can read, derived from
// the fields of r only.
func (r Reason) String() string {
	var b strings.Builder
	r.write(&b, r.Code)
	return b.String()
}

func (r Reason) write(b *strings.Builder, code ReasonCode) {
	day := r.At.Format(time.RFC3339)
	switch code {
	case LivesInMunicipality:
		b.WriteString("the person lives in municipality " + r.MunicipalityCode + " (" + r.Pointer + ")")
	case LivesInRegion:
		b.WriteString("the person lives in municipality " + r.MunicipalityCode + ", which belongs to region " + r.RegionCode + " at " + day)
	case IncidentInMunicipality:
		b.WriteString("the incident happened in municipality " + r.MunicipalityCode + " (" + r.Pointer + ")")
	case IncidentInRegion:
		b.WriteString("the incident happened in municipality " + r.MunicipalityCode + ", which belongs to region " + r.RegionCode + " at " + day)
	case IncidentInPoliceDistrict:
		b.WriteString("the incident happened in area " + r.MunicipalityCode + ", which police district " + r.PoliceDistrict + " covers")
	case NoPerson:
		b.WriteString("the record carries no person (" + r.Pointer + "), so there is no residence to route to")
	case NoAddress:
		b.WriteString("the record has no address of the person (" + r.Pointer + "), so the residence is unknown")
	case LivesAbroad:
		b.WriteString("the person lives abroad (country " + r.Country + ", " + r.Pointer + ") and has no Danish residence municipality or region")
	case NoResidenceCode:
		b.WriteString("the person's Danish address has no municipality code (" + r.Pointer + "), so the residence municipality is unknown")
	case OutsideMunicipalDivision:
		b.WriteString("the person lives in area " + r.MunicipalityCode + " (" + r.Pointer + "), outside the municipal and regional division, and has no residence municipality or region")
	case NoIncidentPlace:
		b.WriteString("the record does not say in which municipality the incident happened (" + r.Pointer + ")")
	case IncidentOutsideDivision:
		b.WriteString("the incident happened in area " + r.MunicipalityCode + ", outside the municipal and regional division, which has no municipality or region")
	case NoRegion:
		b.WriteString("municipality " + r.MunicipalityCode + " belongs to no region at " + day)
	case RegionNotConfigured:
		name := r.RegionName
		if name == "" {
			name = "a region"
		}
		b.WriteString("municipality " + r.MunicipalityCode + " belongs at " + day + " to " + name + ", whose region code and CVR number are not configured")
		if len(r.Settings) > 0 {
			b.WriteString(" (settings " + strings.Join(r.Settings, " and ") + ")")
		}
		b.WriteString(", so the record cannot reach it until they are; it is routed to it again then")
	case FollowUpOwner:
		b.WriteString("follow-up owner rule " + r.OwnerRule + " gives the residence roles to municipality " + r.MunicipalityCode)
		if r.OwnerPointer != "" {
			b.WriteString(" (the incident municipality, " + r.OwnerPointer + ")")
		}
		if r.RegionCode != "" {
			b.WriteString(" and its region " + r.RegionCode + " at " + day)
		}
		if r.OwnerUnconfirmed {
			b.WriteString(", a rule the sources do not confirm")
		}
		b.WriteString(", because ")
		inner := r
		if r.NoResidence == OutsideMunicipalDivision {
			inner.MunicipalityCode = refdata.OutsideMunicipalDivision
		}
		inner.write(b, r.NoResidence)
	case NotInDirectory:
		b.WriteString(r.Authority + " has no directory entry valid at " + day + "; it was found because ")
		r.write(b, r.Via)
	case IsSender:
		b.WriteString(r.Authority + " sent the record and never receives its own record; it was found because ")
		r.write(b, r.Via)
	default:
		b.WriteString("unexplained routing reason " + string(code))
	}
}

// String explains why c is a candidate.
func (c Candidate) String() string {
	return c.Authority + " (" + c.Name + ") is a candidate as " + roleText(c.Role) + ": " + c.Reason.String() + "."
}

// String explains why o's role has no candidate.
func (o Omission) String() string {
	return "No " + roleText(o.Role) + ": " + o.Reason.String() + "."
}

// roleText is the role in words, e.g. "residence municipality".
func roleText(r record.RecipientRole) string {
	return strings.ReplaceAll(string(r), "_", " ")
}
