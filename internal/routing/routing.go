package routing

import (
	"errors"
	"fmt"
	"time"

	"github.com/psykosocial/exchange/internal/directory"
	"github.com/psykosocial/exchange/internal/record"
	"github.com/psykosocial/exchange/internal/refdata"
)

// ErrInvalidInput is wrapped by every error of Route and New: a nil
// record, reference data or directory, a sender that is not an authority
// id, or a record whose codes the reference data does not know (a record
// that passed record.Validator never has them).
var ErrInvalidInput = errors.New("routing: invalid input")

// Pointers of the record members that routing reads.
const (
	ptrResidence = "/person/address/municipality_code"
	ptrAddress   = "/person/address"
	ptrCountry   = "/person/address/country"
	ptrPerson    = "/person"
	ptrIncident  = "/incident/municipality_code"
)

// Router derives candidate recipients from the reference data and the
// directory. It is immutable and safe for concurrent use.
type Router struct {
	ref *refdata.Data
	// The directory, indexed by kind and code. The directory is read-only
	// once loaded; a changed directory needs a new Router.
	municipalities map[string]entry // municipality code -> entry
	regions        map[string]entry // region code -> entry
	police         map[string]entry // district id -> entry
	districtOf     map[string]string
	owners         Owners
}

// entry is what routing needs of a directory entry.
type entry struct {
	id, name string
	valid    refdata.Period
}

// New returns a Router over ref and dir. The directory must have been
// generated from, or checked against, the same reference data; New indexes
// it, so a directory edited later needs a new Router.
func New(ref *refdata.Data, dir *directory.Directory, opts ...Option) (*Router, error) {
	if ref == nil || dir == nil {
		return nil, fmt.Errorf("%w: New needs reference data and a directory", ErrInvalidInput)
	}
	r := &Router{
		ref:            ref,
		municipalities: map[string]entry{},
		regions:        map[string]entry{},
		police:         map[string]entry{},
		districtOf:     map[string]string{},
		owners:         DefaultOwners(),
	}
	for _, o := range opts {
		o(r)
	}
	if err := r.owners.check(ref); err != nil {
		return nil, err
	}
	for _, a := range dir.Authorities {
		kind, code, err := directory.ParseID(a.ID)
		if err != nil {
			return nil, fmt.Errorf("%w: directory: %w", ErrInvalidInput, err)
		}
		e := entry{id: a.ID, name: a.Name, valid: a.Valid}
		switch kind {
		case directory.KindMunicipality:
			r.municipalities[code] = e
		case directory.KindRegion:
			r.regions[code] = e
		case directory.KindPolice:
			r.police[code] = e
		}
	}
	codes := []string{refdata.OutsideMunicipalDivision}
	for _, m := range ref.Municipalities() {
		codes = append(codes, m.Code)
	}
	for _, c := range codes {
		if d, ok := ref.PoliceDistrictOf(c); ok {
			r.districtOf[c] = d.ID
		}
	}
	return r, nil
}

// lookup returns the entry of code in index if it is valid at the time at.
func lookup(index map[string]entry, code string, at time.Time) (entry, bool) {
	e, ok := index[code]
	if !ok || !e.valid.Contains(at) {
		return entry{}, false
	}
	return e, true
}

// Candidate is an authority that may receive the record in one role. The
// consent policy decides whether it does, and what.
type Candidate struct {
	// Authority is the authority id, e.g. "municipality:0751".
	Authority string `json:"authority"`
	// Name is the authority's display name from the directory; never parse it.
	Name string `json:"name"`
	// Role is why the authority is a candidate.
	Role record.RecipientRole `json:"role"`
	// Reason says which record member and reference data made it one.
	Reason Reason `json:"reason"`
}

// Omission is a recipient role that yields no candidate, and why.
type Omission struct {
	// Role is the role that has no candidate.
	Role record.RecipientRole `json:"role"`
	// Reason says why; Reason.Authority names the authority when one was
	// found but left out (the sender, or an entry not valid at the time).
	Reason Reason `json:"reason"`
}

// Result is the routing of one record at one time.
type Result struct {
	// RecordID and Version identify the record routed.
	RecordID string `json:"record_id"`
	// Version is the record's version.
	Version int `json:"version"`
	// Sender is the authority id of the sender, which is never a candidate.
	Sender string `json:"sender"`
	// At is the routing time: the directory entries and regions valid at
	// this instant decide.
	At time.Time `json:"at"`
	// Candidates lists the candidate recipients in the order of
	// record.RecipientRoles, one per role.
	Candidates []Candidate `json:"candidates"`
	// Omitted lists every role without a candidate, in the same order.
	Omitted []Omission `json:"omitted"`
}

// Route returns the candidate recipients of rec at the time at. sender is
// the authority id of whoever submitted the record (authenticated by the
// transport; "gateway" when the gateway itself re-routes a record); it is
// never a candidate. Every one of the five recipient roles appears exactly
// once, either as a candidate or as an omission.
func (r *Router) Route(rec *record.Record, sender string, at time.Time) (Result, error) {
	if rec == nil {
		return Result{}, fmt.Errorf("%w: no record", ErrInvalidInput)
	}
	if at.IsZero() {
		return Result{}, fmt.Errorf("%w: no routing time", ErrInvalidInput)
	}
	if _, _, err := directory.ParseID(sender); err != nil {
		return Result{}, fmt.Errorf("%w: sender: %w", ErrInvalidInput, err)
	}
	b := builder{sender: sender, at: at}
	if err := r.residence(&b, rec); err != nil {
		return Result{}, err
	}
	if err := r.incident(&b, rec); err != nil {
		return Result{}, err
	}
	return Result{
		RecordID:   rec.RecordID,
		Version:    rec.Version,
		Sender:     sender,
		At:         at,
		Candidates: append(make([]Candidate, 0, b.nc), b.cands[:b.nc]...),
		Omitted:    append(make([]Omission, 0, b.no), b.omits[:b.no]...),
	}, nil
}

// builder collects the five roles of one routing on the stack, so that the
// result is allocated once at its final size.
type builder struct {
	sender string
	at     time.Time
	cands  [5]Candidate
	nc     int
	omits  [5]Omission
	no     int
}

// residence adds the residence roles.
func (r *Router) residence(b *builder, rec *record.Record) error {
	why, ok := residenceCode(rec)
	if !ok {
		why.At = b.at
		if owner, found := r.ownerFor(why.Code); found {
			return r.owner(b, rec, why, owner)
		}
		b.omit(record.RecipientResidenceMunicipality, why)
		b.omit(record.RecipientResidenceRegion, why)
		return nil
	}
	code := why.MunicipalityCode
	if _, known := r.ref.Municipality(code); !known {
		return fmt.Errorf("%w: %s: %s is not a Danish municipality code", ErrInvalidInput, ptrResidence, code)
	}
	base := Reason{Pointer: ptrResidence, MunicipalityCode: code, At: b.at}
	m := base
	m.Code = LivesInMunicipality
	r.municipality(b, record.RecipientResidenceMunicipality, m)
	g := base
	g.Code = LivesInRegion
	r.region(b, record.RecipientResidenceRegion, g)
	return nil
}

// ownerFor returns the follow-up owner rule for a person without a
// residence municipality for the reason code, if a rule covers it.
func (r *Router) ownerFor(code ReasonCode) (Owner, bool) {
	var o Owner
	switch code {
	case LivesAbroad:
		o = r.owners.Abroad
	case NoAddress, NoResidenceCode:
		o = r.owners.Unknown
	case OutsideMunicipalDivision:
		o = r.owners.OutsideDivision
	default: // NoPerson: nobody to follow up
		return Owner{}, false
	}
	return o, o.Municipality != OwnerNone
}

// owner gives the residence roles to the follow-up owner: the owner's
// municipality and its region, or the incident municipality and region.
// The reason keeps why there is no residence (Via) and names the rule.
func (r *Router) owner(b *builder, rec *record.Record, why Reason, o Owner) error {
	code := o.Municipality
	ptr := ptrIncident
	if code == "" {
		if rec.Incident == nil || rec.Incident.MunicipalityCode == "" || rec.Incident.MunicipalityCode == refdata.OutsideMunicipalDivision {
			// No incident municipality either: nobody to give the roles to.
			b.omit(record.RecipientResidenceMunicipality, why)
			b.omit(record.RecipientResidenceRegion, why)
			return nil
		}
		code = rec.Incident.MunicipalityCode
	} else {
		ptr = ""
	}
	if _, known := r.ref.Municipality(code); !known {
		return fmt.Errorf("%w: %s: %s is not a Danish municipality code", ErrInvalidInput, ptrIncident, code)
	}
	base := Reason{Code: FollowUpOwner, NoResidence: why.Code, Pointer: why.Pointer, Country: why.Country, MunicipalityCode: code,
		OwnerRule: o.Rule, OwnerUnconfirmed: !o.Confirmed, OwnerPointer: ptr, At: b.at}
	r.municipality(b, record.RecipientResidenceMunicipality, base)
	r.region(b, record.RecipientResidenceRegion, base)
	return nil
}

// residenceCode returns the residence municipality code of rec in
// Reason.MunicipalityCode, or false and the reason there is none.
func residenceCode(rec *record.Record) (Reason, bool) {
	p := rec.Person
	switch {
	case p == nil:
		return Reason{Code: NoPerson, Pointer: ptrPerson}, false
	case p.Address == nil:
		return Reason{Code: NoAddress, Pointer: ptrAddress}, false
	case p.Address.Country != "" && p.Address.Country != "DK":
		return Reason{Code: LivesAbroad, Pointer: ptrCountry, Country: p.Address.Country}, false
	case p.Address.MunicipalityCode == "":
		return Reason{Code: NoResidenceCode, Pointer: ptrResidence}, false
	case p.Address.MunicipalityCode == refdata.OutsideMunicipalDivision:
		return Reason{Code: OutsideMunicipalDivision, Pointer: ptrResidence, MunicipalityCode: refdata.OutsideMunicipalDivision}, false
	}
	return Reason{MunicipalityCode: p.Address.MunicipalityCode}, true
}

// incident adds the incident roles.
func (r *Router) incident(b *builder, rec *record.Record) error {
	if rec.Incident == nil || rec.Incident.MunicipalityCode == "" {
		why := Reason{Code: NoIncidentPlace, Pointer: ptrIncident, At: b.at}
		b.omit(record.RecipientIncidentMunicipality, why)
		b.omit(record.RecipientIncidentRegion, why)
		b.omit(record.RecipientPoliceDistrict, why)
		return nil
	}
	code := rec.Incident.MunicipalityCode
	base := Reason{Pointer: ptrIncident, MunicipalityCode: code, At: b.at}
	if code == refdata.OutsideMunicipalDivision {
		why := base
		why.Code = IncidentOutsideDivision
		b.omit(record.RecipientIncidentMunicipality, why)
		b.omit(record.RecipientIncidentRegion, why)
	} else {
		if _, known := r.ref.Municipality(code); !known {
			return fmt.Errorf("%w: %s: %s is not a Danish municipality code", ErrInvalidInput, ptrIncident, code)
		}
		m := base
		m.Code = IncidentInMunicipality
		r.municipality(b, record.RecipientIncidentMunicipality, m)
		g := base
		g.Code = IncidentInRegion
		r.region(b, record.RecipientIncidentRegion, g)
	}
	p := base
	p.Code = IncidentInPoliceDistrict
	district, ok := r.districtOf[code]
	if !ok {
		return fmt.Errorf("%w: %s: no police district covers %s", ErrInvalidInput, ptrIncident, code)
	}
	p.PoliceDistrict = district
	a, ok := lookup(r.police, district, b.at)
	if !ok {
		p.Authority = directory.KindPolice + ":" + district
		b.notInDirectory(record.RecipientPoliceDistrict, p)
		return nil
	}
	b.add(a, record.RecipientPoliceDistrict, p)
	return nil
}

// municipality adds the municipality in why.MunicipalityCode in role.
func (r *Router) municipality(b *builder, role record.RecipientRole, why Reason) {
	a, ok := lookup(r.municipalities, why.MunicipalityCode, b.at)
	if !ok {
		why.Authority = directory.KindMunicipality + ":" + why.MunicipalityCode
		b.notInDirectory(role, why)
		return
	}
	b.add(a, role, why)
}

// region adds the region that why.MunicipalityCode belongs to at the
// routing time, in role.
func (r *Router) region(b *builder, role record.RecipientRole, why Reason) {
	g, ok := r.ref.RegionOf(why.MunicipalityCode, b.at)
	switch {
	case !ok:
		why.Code = NoRegion
		b.omit(role, why)
		return
	case !g.CodeConfigured:
		why.Code = RegionNotConfigured
		why.RegionName = g.Name
		why.Settings = refdata.EastRegionSettings()
		b.omit(role, why)
		return
	}
	why.RegionCode = g.Code
	a, ok := lookup(r.regions, g.Code, b.at)
	if !ok {
		why.Authority = directory.KindRegion + ":" + g.Code
		b.notInDirectory(role, why)
		return
	}
	b.add(a, role, why)
}

// add makes the authority of e a candidate in role, unless it is the sender.
func (b *builder) add(e entry, role record.RecipientRole, why Reason) {
	why.Authority = e.id
	if e.id == b.sender {
		why.Via = why.Code
		why.Code = IsSender
		b.omit(role, why)
		return
	}
	b.cands[b.nc] = Candidate{Authority: e.id, Name: e.name, Role: role, Reason: why}
	b.nc++
}

// notInDirectory omits role because the authority in why has no directory
// entry valid at the routing time.
func (b *builder) notInDirectory(role record.RecipientRole, why Reason) {
	why.Via = why.Code
	why.Code = NotInDirectory
	b.omit(role, why)
}

func (b *builder) omit(role record.RecipientRole, why Reason) {
	b.omits[b.no] = Omission{Role: role, Reason: why}
	b.no++
}

// Candidate returns the candidate for role, if there is one.
func (res *Result) Candidate(role record.RecipientRole) (Candidate, bool) {
	for _, c := range res.Candidates {
		if c.Role == role {
			return c, true
		}
	}
	return Candidate{}, false
}

// Omission returns the omission of role, if role has no candidate.
func (res *Result) Omission(role record.RecipientRole) (Omission, bool) {
	for _, o := range res.Omitted {
		if o.Role == role {
			return o, true
		}
	}
	return Omission{}, false
}

// Successor reports whether authority has ceased by the time at and, if so,
// which authority holds its records then: for region:1084 and region:1085
// from 2027-01-01T00:00+01:00 Region Østdanmark, as "region:<code>" when its
// code is configured and with an empty id (but its name) when it is not. An
// authority that has ceased without a successor gives an empty id and name.
// It implements consent.Successions.
func (r *Router) Successor(authority string, at time.Time) (successor, name string, ceased bool) {
	kind, code, err := directory.ParseID(authority)
	if err != nil {
		return "", "", false
	}
	var index map[string]entry
	switch kind {
	case directory.KindRegion:
		if g, ok := r.ref.Region(code, time.Time{}); ok {
			return r.regionSuccessor(g, at)
		}
		index = r.regions
	case directory.KindMunicipality:
		index = r.municipalities
	case directory.KindPolice:
		index = r.police
	default:
		return "", "", false
	}
	e, ok := index[code]
	if !ok || e.valid.To.IsZero() || at.Before(e.valid.To) {
		return "", "", false
	}
	return "", "", true
}

// regionSuccessor follows the successions of region g up to the region in
// force at the time at.
func (r *Router) regionSuccessor(g refdata.Region, at time.Time) (string, string, bool) {
	if g.Valid.To.IsZero() || at.Before(g.Valid.To) {
		return "", "", false
	}
	// Load keeps successions acyclic; the bound is a second guard.
	for range len(r.ref.Regions(time.Time{})) {
		s, ok := r.ref.SuccessorOf(g.Code)
		switch {
		case !ok:
			return "", "", true
		case !s.CodeConfigured:
			return "", s.Name, true
		case s.Valid.To.IsZero() || at.Before(s.Valid.To):
			return directory.KindRegion + ":" + s.Code, s.Name, true
		}
		g = s
	}
	return "", "", true
}
