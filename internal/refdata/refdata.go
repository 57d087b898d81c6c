package refdata

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/psykosocial/exchange/internal/clock"
)

// Config carries the reference data that is not yet published and therefore cannot be
// embedded. The zero Config is valid: Region Østdanmark then exists from 2027 without a
// code or CVR number (Region.CodeConfigured is false).
type Config struct {
	// EastRegionCode is the 4-digit CPR authority code of Region Østdanmark, the region
	// that replaces Region Hovedstaden and Region Sjælland on 1 January 2027. Empty
	// until it is published. It must not collide with a municipality or region code.
	// It must be set together with EastRegionCVR.
	EastRegionCode string
	// EastRegionCVR is the 8-digit CVR number of Region Østdanmark, which must pass the
	// modulus-11 check (see IsValidCVR). Empty until it is published. It must be set
	// together with EastRegionCode.
	EastRegionCVR string
}

// Municipality is one of the 98 Danish municipalities (kommuner).
type Municipality struct {
	// Code is the 4-digit, zero-padded municipality code, e.g. "0101".
	Code string
	// Name is the short name as DAGI and DAWA spell it, e.g. "København".
	Name string
	// AuthorityName is the name of the municipal authority as registered in CVR, e.g.
	// "Københavns Kommune" or "Bornholms Regionskommune".
	AuthorityName string
	// RegionCode is the code of the region the municipality belonged to before the
	// 2027 reform. Use Data.RegionOf for the region at a given time.
	RegionCode string
	// PoliceDistrict is the id of the police district that covers the municipality.
	PoliceDistrict string
	// CVR is the CVR number of the municipal authority.
	CVR string
	// Valid is the period in which the municipality exists (unbounded today).
	Valid Period
}

// Region is a Danish region, past, present or future.
type Region struct {
	// Code is the 4-digit CPR authority code, e.g. "1084". It is "" for a region whose
	// code comes from configuration that lacks it (see CodeConfigured).
	Code string
	// Name is the official name, e.g. "Region Hovedstaden".
	Name string
	// CVR is the region's CVR number; "" when it comes from configuration that lacks it.
	CVR string
	// Valid is the period in which the region exists.
	Valid Period
	// Successor is the code of the region that takes over when this one ceases, or ""
	// when there is none or its code is not configured (Valid.To then still says that
	// the region ceases).
	Successor string
	// Predecessors lists the codes of the regions this one replaces, sorted.
	Predecessors []string
	// CodeConfigured is false only for a region whose code and CVR come from Config
	// and were not configured. Such a region is still returned by lookups by time, so
	// that callers can tell "no region" from "region not yet configured".
	CodeConfigured bool
}

// PoliceDistrict is one of the 12 Danish police districts (politikredse).
type PoliceDistrict struct {
	// ID is the short, stable, lower-case id used in authority ids, e.g. "nordjylland".
	ID string
	// Name is the official name, e.g. "Nordjyllands Politi".
	Name string
	// MunicipalityCodes lists the 4-digit codes of the municipalities the district
	// covers, sorted. Ertholmene (0411) is not a municipality and is not listed; see
	// Data.PoliceDistrictOf.
	MunicipalityCodes []string
	// CVR is Rigspolitiet's CVR number: the districts have no CVR numbers of their own
	// and act under Rigspolitiet's.
	CVR string
}

// Data is the loaded reference data. It is immutable after Load and safe for
// concurrent use; every method returns copies.
type Data struct {
	municipalities   []Municipality // sorted by code
	municipalityIdx  map[string]int // code -> index in municipalities
	municipalityName map[string]int // folded name -> index in municipalities

	regions    []Region         // all, sorted by code, unconfigured last
	regionSucc []int            // index of the successor in regions, or -1
	regionIdx  map[string]int   // configured code -> index in regions
	regionName map[string]int   // folded name -> index in regions
	districts  []PoliceDistrict // sorted by id
	districtIx map[string]int   // id -> index in districts
	districtOf map[string]int   // municipality code (and 0411) -> index in districts
	policeCVR  string           // Rigspolitiet's CVR number
}

// Municipality returns the municipality with the given canonical 4-digit code.
// Non-canonical input such as "101" is not found: normalise it first with
// NormalizeMunicipalityCode. OutsideMunicipalDivision (0411) is not a municipality.
func (d *Data) Municipality(code string) (Municipality, bool) {
	i, ok := d.municipalityIdx[code]
	if !ok {
		return Municipality{}, false
	}
	return d.municipalities[i], true
}

// MunicipalityByName finds a municipality by name, ignoring case and surrounding or
// repeated spaces. It accepts the short name ("København"), the short name followed by
// " Kommune" ("København Kommune") and the authority's registered name ("Københavns
// Kommune", "Bornholms Regionskommune").
func (d *Data) MunicipalityByName(name string) (Municipality, bool) {
	i, ok := d.municipalityName[foldName(name)]
	if !ok {
		return Municipality{}, false
	}
	return d.municipalities[i], true
}

// Municipalities returns all 98 municipalities sorted by code.
func (d *Data) Municipalities() []Municipality {
	return slices.Clone(d.municipalities)
}

// Region returns the region with the given code if it is valid at the time at. The
// zero time means any time: the region is returned whether it is past, present or
// future. A region whose code is not configured cannot be found by code.
func (d *Data) Region(code string, at time.Time) (Region, bool) {
	i, ok := d.regionIdx[code]
	if !ok {
		return Region{}, false
	}
	return d.regionAt(i, at)
}

// RegionByName finds a region valid at the time at (the zero time: at any time) by
// name, ignoring case and surrounding or repeated spaces. It accepts the full name
// ("Region Hovedstaden") and the name without "Region " ("Hovedstaden").
func (d *Data) RegionByName(name string, at time.Time) (Region, bool) {
	i, ok := d.regionName[foldName(name)]
	if !ok {
		return Region{}, false
	}
	return d.regionAt(i, at)
}

// Regions returns the regions valid at the time at, sorted by code with a region whose
// code is not configured last. The zero time means all regions, past, present and
// future.
func (d *Data) Regions(at time.Time) []Region {
	var out []Region
	for i := range d.regions {
		if r, ok := d.regionAt(i, at); ok {
			out = append(out, r)
		}
	}
	return out
}

// RegionOf returns the region that municipality code (canonical, 4 digits) belongs to
// at the time at, following the region's successors past the date it ceases. For
// "0101" it gives Region Hovedstaden (1084) before 1 January 2027 and Region Østdanmark
// from then on; if Østdanmark's code is not configured, that region is returned with
// Code "" and CodeConfigured false. The time is taken literally: the zero time is
// before every change. OutsideMunicipalDivision (0411) and unknown codes give false.
func (d *Data) RegionOf(municipalityCode string, at time.Time) (Region, bool) {
	mi, ok := d.municipalityIdx[municipalityCode]
	if !ok {
		return Region{}, false
	}
	i := d.regionIdx[d.municipalities[mi].RegionCode]
	// Load checks that successions are acyclic; the bound is a second guard.
	for range len(d.regions) {
		r := d.regions[i]
		if r.Valid.Contains(at) {
			return cloneRegion(r), true
		}
		next := d.regionSucc[i]
		if next < 0 || r.Valid.To.IsZero() || at.Before(r.Valid.To) {
			return Region{}, false
		}
		i = next
	}
	return Region{}, false
}

// PoliceDistrict returns the police district with the given id, e.g. "nordjylland".
func (d *Data) PoliceDistrict(id string) (PoliceDistrict, bool) {
	i, ok := d.districtIx[id]
	if !ok {
		return PoliceDistrict{}, false
	}
	return cloneDistrict(d.districts[i]), true
}

// PoliceDistrictOf returns the police district covering municipality code (canonical,
// 4 digits). OutsideMunicipalDivision (0411, Ertholmene) gives Bornholms Politi: the
// sources make that the most likely answer but do not confirm it (see
// data/outside_division.csv and data/SOURCES.md, section 3).
func (d *Data) PoliceDistrictOf(municipalityCode string) (PoliceDistrict, bool) {
	i, ok := d.districtOf[municipalityCode]
	if !ok {
		return PoliceDistrict{}, false
	}
	return cloneDistrict(d.districts[i]), true
}

// PoliceDistricts returns the 12 police districts sorted by id.
func (d *Data) PoliceDistricts() []PoliceDistrict {
	out := make([]PoliceDistrict, len(d.districts))
	for i, p := range d.districts {
		out[i] = cloneDistrict(p)
	}
	return out
}

// regionAt returns a copy of region i if it is valid at at (the zero time: always).
func (d *Data) regionAt(i int, at time.Time) (Region, bool) {
	r := d.regions[i]
	if !at.IsZero() && !r.Valid.Contains(at) {
		return Region{}, false
	}
	return cloneRegion(r), true
}

// cloneRegion copies r so that callers cannot change the shared slices.
func cloneRegion(r Region) Region {
	r.Predecessors = slices.Clone(r.Predecessors)
	return r
}

// cloneDistrict copies p so that callers cannot change the shared slices.
func cloneDistrict(p PoliceDistrict) PoliceDistrict {
	p.MunicipalityCodes = slices.Clone(p.MunicipalityCodes)
	return p
}

// foldName is the key names are compared by: lower case, single spaces, trimmed.
func foldName(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(s), " "))
}

// SuccessorOf returns the region that takes over from region code when it
// ceases (Region Østdanmark for 1084 and 1085), whether or not its code is
// configured (see Region.CodeConfigured). It gives false for a region that
// does not cease or an unknown code.
func (d *Data) SuccessorOf(code string) (Region, bool) {
	i, ok := d.regionIdx[code]
	if !ok || d.regionSucc[i] < 0 {
		return Region{}, false
	}
	return cloneRegion(d.regions[d.regionSucc[i]]), true
}

// Gap is reference data the gateway needs but configuration lacks: today
// the code and CVR number of Region Østdanmark, which are not yet
// published. While a gap is in force, records whose residence or incident
// lies in the region's municipalities cannot reach that region: routing
// withholds them with a reason that names the gap, so that they can be
// routed again once the configuration is complete.
type Gap struct {
	// Region is the region whose code is missing (Code is "").
	Region Region
	// Settings names the configuration that closes the gap, as the
	// binary's flags and the service's configuration call it.
	Settings []string
	// Municipalities lists the codes of the municipalities that belong to
	// the region from Region.Valid.From, sorted.
	Municipalities []string
	// InForce reports whether the region exists at the time asked about:
	// records routed then already lack the region. A gap not yet in force
	// is a warning: the region begins on Region.Valid.From.
	InForce bool
}

// Settings of the configuration that supplies Region Østdanmark.
const (
	// SettingEastRegionCode is the setting of Config.EastRegionCode.
	SettingEastRegionCode = "east-region-code"
	// SettingEastRegionCVR is the setting of Config.EastRegionCVR.
	SettingEastRegionCVR = "east-region-cvr"
)

// EastRegionSettings names the settings that configure Region Østdanmark,
// in the order an operator sets them.
func EastRegionSettings() []string { return []string{SettingEastRegionCode, SettingEastRegionCVR} }

// Gaps returns the configuration gaps that matter at the time at: every
// region whose code is not configured and that has not ceased by then,
// whether it is already in force (Gap.InForce) or still to come. The
// service's readiness check reports them; none means nothing is missing.
func (d *Data) Gaps(at time.Time) []Gap {
	var out []Gap
	for i, r := range d.regions {
		if r.CodeConfigured || (!r.Valid.To.IsZero() && !at.Before(r.Valid.To)) {
			continue
		}
		g := Gap{Region: cloneRegion(r), Settings: EastRegionSettings(), InForce: r.Valid.Contains(at)}
		for _, m := range d.municipalities {
			if j, ok := d.regionIdx[m.RegionCode]; ok && d.regionSucc[j] == i {
				g.Municipalities = append(g.Municipalities, m.Code)
			}
		}
		out = append(out, g)
	}
	return out
}

// String says what is missing, in words an operator can act on.
func (g Gap) String() string {
	when := "from"
	if g.InForce {
		when = "since"
	}
	return g.Region.Name + " is responsible for " + strconv.Itoa(len(g.Municipalities)) + " municipalities " + when + " " +
		g.Region.Valid.From.In(clock.Danish()).Format(time.DateOnly) + ", but its region code and CVR number are not configured (settings " +
		strings.Join(g.Settings, " and ") + "): records for those municipalities cannot reach it"
}

// Made-up values for Region Østdanmark, for development set-ups and tests
// only. The real code and CVR number are not published yet and are always
// configuration (Config); these are chosen so that nobody can mistake them
// for the real ones: 1099 is far from the region codes in use (1081-1085
// and the next free ones), and the CVR number 99990007 passes the
// modulus-11 check but belongs to no authority.
const (
	TestEastRegionCode = "1099"
	TestEastRegionCVR  = "99990007"
)

// TestEastRegion is the Config of the made-up test values.
func TestEastRegion() Config {
	return Config{EastRegionCode: TestEastRegionCode, EastRegionCVR: TestEastRegionCVR}
}

// UsesTestValues reports whether c configures Region Østdanmark with the
// made-up test values, which a production set-up must refuse.
func (c Config) UsesTestValues() bool {
	return c.EastRegionCode == TestEastRegionCode || c.EastRegionCVR == TestEastRegionCVR
}
