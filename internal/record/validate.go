package record

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/psykosocial/exchange/internal/clock"
	"github.com/psykosocial/exchange/internal/refdata"
)

// AuthorityIDPattern is the form of an authority id as messages, records and
// the journal name authorities: municipality:<4-digit code>,
// region:<4-digit code>, police:<district id> or gateway. It is the pattern
// of the schema's $defs/authority_id (a test keeps them equal); every
// package that checks the form compiles this one definition.
const AuthorityIDPattern = `^(gateway|municipality:[0-9]{4}|region:[0-9]{4}|police:[a-z][a-z_]{1,39})$`

// Length limits of free-text members, the same as maxLength in the schema.
const (
	maxTitle       = 200
	maxName        = 200
	maxStreet      = 200
	maxCity        = 100
	maxNotes       = 4000
	maxEvidenceRef = 200
	maxEmail       = 254
	maxVersion     = 1_000_000
	minYear        = 1900
	maxYear        = 9999
)

// ClockSkew is how far in the future a timestamp may lie before it is
// refused as "in the future": clocks of authorities' systems drift.
const ClockSkew = 5 * time.Minute

// underGuardianAge is the age below which consent must be given by a guardian.
const underGuardianAge = 15

var (
	reUUID       = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	reIncidentID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$`)
	reAuthority  = regexp.MustCompile(AuthorityIDPattern)
	reCPR        = regexp.MustCompile(`^[0-9]{10}$`)
	reECPR       = regexp.MustCompile(`^[0-9]{7}[A-Z]{2}[0-9]$`)
	rePhone      = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	reEmail      = regexp.MustCompile("^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")
	reLanguage   = regexp.MustCompile(`^[a-z]{2,3}(-[A-Z]{2})?$`)
	reCountry    = regexp.MustCompile(`^[A-Z]{2}$`)
	rePostalDK   = regexp.MustCompile(`^[0-9]{4}$`)
	rePostal     = regexp.MustCompile(`^[0-9A-Z][0-9A-Z -]{1,9}$`)
	reMunicipal  = regexp.MustCompile(`^[0-9]{4}$`)
	reRegion     = regexp.MustCompile(`^10[0-9]{2}$`)
)

// Validator checks records against schema v1 and the Danish rules.
// It is safe for concurrent use.
type Validator struct {
	ref   *refdata.Data
	clock clock.Clock
}

// NewValidator returns a validator that looks codes up in ref and judges
// "not in the future" at the time clk tells. Both are required: it panics
// when either is nil, a wiring mistake that no input can cause.
func NewValidator(ref *refdata.Data, clk clock.Clock) *Validator {
	if ref == nil || clk == nil {
		panic("record: NewValidator needs reference data and a clock")
	}
	return &Validator{ref: ref, clock: clk}
}

// checker collects problems for one document.
type checker struct {
	v   *Validator
	now time.Time
	rec *Record // the record checked; nil for a withdrawal
	ps  Problems
}

func (c *checker) add(ptr, rule, format string, args ...any) {
	c.ps = append(c.ps, Problem{Pointer: ptr, Rule: rule, Message: fmt.Sprintf(format, args...)})
}

func (c *checker) required(ptr string, present bool) bool {
	if !present {
		c.add(ptr, "schema.required", "is required")
	}
	return present
}

func (c *checker) forbidden(ptr string, present bool, why string) {
	if present {
		c.add(ptr, "schema.forbidden", "must be absent: %s", why)
	}
}

func (c *checker) pattern(ptr, value string, re *regexp.Regexp, what string) bool {
	if value == "" || re.MatchString(value) {
		return true
	}
	c.add(ptr, "schema.pattern", "is not %s", what)
	return false
}

func (c *checker) maxLen(ptr, value string, max int) {
	if n := utf8.RuneCountInString(value); n > max {
		c.add(ptr, "schema.max_length", "is %d characters long, the limit is %d", n, max)
	}
}

func (c *checker) nonEmpty(ptr, value string, max int) {
	if value == "" {
		return
	}
	if strings.TrimSpace(value) == "" {
		c.add(ptr, "schema.pattern", "must not be blank")
		return
	}
	c.maxLen(ptr, value, max)
}

func enum[T ~string](c *checker, ptr string, value T, allowed []T) {
	if value != "" && !slices.Contains(allowed, value) {
		c.add(ptr, "schema.enum", "must be one of %s", list(allowed))
	}
}

func list[T ~string](vs []T) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}

func items[T ~string](c *checker, ptr string, values []T, allowed []T) {
	for i, v := range values {
		p := fmt.Sprintf("%s/%d", ptr, i)
		if !slices.Contains(allowed, v) {
			c.add(p, "schema.enum", "must be one of %s", list(allowed))
			continue
		}
		if slices.Index(values, v) < i {
			c.add(ptr, "schema.unique_items", "lists %s more than once", v)
		}
	}
}

func (c *checker) version(v int) {
	switch {
	case v < 1:
		c.add("/version", "schema.minimum", "must be 1 or more")
	case v > maxVersion:
		c.add("/version", "schema.maximum", "must be at most %d", maxVersion)
	}
}

// notFuture checks a timestamp: within the years the canonical encoding
// can write (and a registration can mean), and not in the future.
func (c *checker) notFuture(ptr string, t *time.Time) {
	if t == nil {
		return
	}
	if y := t.UTC().Year(); y < minYear || y > maxYear {
		c.add(ptr, "time.range", "must lie between the years %d and %d", minYear, maxYear)
		return
	}
	if t.After(c.now.Add(ClockSkew)) {
		c.add(ptr, "time.future", "lies in the future")
	}
}

// timeRange checks a timestamp that may lie in the future (an expiry).
func (c *checker) timeRange(ptr string, t *time.Time) {
	if t == nil {
		return
	}
	if y := t.UTC().Year(); y < minYear || y > maxYear {
		c.add(ptr, "time.range", "must lie between the years %d and %d", minYear, maxYear)
	}
}

// Validate returns every problem of r (nil when it is valid): the schema
// rules first, in document order, then the rules the schema cannot express.
func (v *Validator) Validate(r *Record) Problems {
	c := &checker{v: v, now: v.clock.Now(), rec: r}
	if r == nil {
		c.add("", "schema.type", "the document must be a record object")
		return c.ps
	}
	if r.Schema != SchemaV1 {
		if r.Schema == "" {
			c.required("/schema", false)
		} else {
			c.add("/schema", "schema.const", "must be %q", SchemaV1)
		}
	}
	if c.required("/record_id", r.RecordID != "") {
		c.pattern("/record_id", r.RecordID, reUUID, "a lower-case UUID")
	}
	c.version(r.Version)
	c.incident(r.Incident)
	c.registered(r.Registered)
	c.person(r)
	c.relation(r)
	if a := r.Assessment; a != nil {
		enum(c, "/assessment/follow_up_priority", a.FollowUpPriority, Priorities())
		c.nonEmpty("/assessment/notes", a.Notes, maxNotes)
	}
	c.consent(r)
	return c.ps
}

func (c *checker) incident(in *Incident) {
	if !c.required("/incident", in != nil) {
		return
	}
	if c.required("/incident/id", in.ID != "") {
		c.pattern("/incident/id", in.ID, reIncidentID, "an incident id (letters, digits and . _ : -, at most 64)")
	}
	c.nonEmpty("/incident/title", in.Title, maxTitle)
	enum(c, "/incident/kind", in.Kind, IncidentKinds())
	enum(c, "/incident/site", in.Site, Sites())
	c.notFuture("/incident/occurred_at", in.OccurredAt)
	at := c.incidentTime(in)
	muniOK := in.MunicipalityCode != "" && c.municipality("/incident/municipality_code", in.MunicipalityCode)
	if in.RegionCode == "" || !c.pattern("/incident/region_code", in.RegionCode, reRegion, "a 4-digit region code (10xx)") {
		return
	}
	c.regionOf("/incident/region_code", in.RegionCode, in.MunicipalityCode, muniOK, at)
}

// incidentTime is the instant the incident's region is judged at: when it
// happened, or, when the record does not say (or says it unreadably), the
// earliest act the record names, so that the verdict on a record never
// depends on the day it is checked. Only a record naming no time at all is
// judged at the validator's clock.
func (c *checker) incidentTime(in *Incident) time.Time {
	if in.OccurredAt != nil {
		return *in.OccurredAt
	}
	if c.rec != nil {
		if g := c.rec.Registered; g != nil && g.At != nil {
			return *g.At
		}
		if cs := c.rec.Consent; cs != nil && cs.Obtained != nil && cs.Obtained.At != nil {
			return *cs.Obtained.At
		}
	}
	return c.now
}

// municipality checks that code is a 4-digit municipality code that exists
// (or 0411, outside the municipal division).
func (c *checker) municipality(ptr, code string) bool {
	if !c.pattern(ptr, code, reMunicipal, "a 4-digit municipality code such as 0101") {
		return false
	}
	if code == refdata.OutsideMunicipalDivision {
		return true
	}
	if _, ok := c.v.ref.Municipality(code); !ok {
		c.add(ptr, "schema.enum", "%s is not a Danish municipality code", code)
		return false
	}
	return true
}

// regionOf checks that region is the region of the municipality at time at.
func (c *checker) regionOf(ptr, region, muni string, muniOK bool, at time.Time) {
	day := DanishDateOf(at).String()
	given, exists := c.v.ref.Region(region, at)
	if !exists {
		c.add(ptr, "region.exists", "region %s does not exist on %s", region, day)
	}
	if !muniOK {
		return
	}
	if muni == refdata.OutsideMunicipalDivision {
		c.add(ptr, "region.derived", "municipality code 0411 (Christiansø) lies outside the regional division; omit the region")
		return
	}
	want, ok := c.v.ref.RegionOf(muni, at)
	m, _ := c.v.ref.Municipality(muni)
	switch {
	case !ok:
		return
	case !want.CodeConfigured:
		c.add(ptr, "region.derived", "municipality %s %s belongs to %s on %s, whose code is not configured", muni, m.Name, want.Name, day)
	case want.Code != region:
		name := "an unknown region"
		if exists {
			name = given.Name
		}
		c.add(ptr, "region.derived", "region %s (%s) disagrees with municipality %s %s, which belongs to region %s (%s) on %s",
			region, name, muni, m.Name, want.Code, want.Name, day)
	}
}

func (c *checker) registered(g *Registered) {
	if g == nil {
		return
	}
	c.required("/registered/at", g.At != nil)
	c.notFuture("/registered/at", g.At)
	if c.required("/registered/by_authority", g.ByAuthority != "") {
		c.authority("/registered/by_authority", g.ByAuthority, g.At, "of the registration")
	}
	if c.required("/registered/by_role", g.ByRole != "") {
		enum(c, "/registered/by_role", g.ByRole, RegistrarRoles())
	}
}

// authority checks an authority id's form, that the code it names exists,
// and that the authority existed when it performed the act at time at (what
// names the act in messages): an authority that has ceased (Region
// Hovedstaden and Region Sjælland from 1 January 2027) performs no acts
// after it ceased, and the error names its successor.
func (c *checker) authority(ptr, id string, at *time.Time, act string) {
	if !c.pattern(ptr, id, reAuthority, "an authority id such as municipality:0851, region:1081 or police:nordjylland") {
		return
	}
	kind, code, _ := strings.Cut(id, ":")
	var (
		ok    bool
		valid refdata.Period
		name  string
	)
	switch kind {
	case "gateway":
		ok = true
	case "municipality":
		var m refdata.Municipality
		m, ok = c.v.ref.Municipality(code)
		valid, name = m.Valid, m.AuthorityName
	case "region":
		var r refdata.Region
		r, ok = c.v.ref.Region(code, time.Time{})
		valid, name = r.Valid, r.Name
	case "police":
		_, ok = c.v.ref.PoliceDistrict(code)
	}
	if !ok {
		c.add(ptr, "authority.exists", "names no known authority")
		return
	}
	if at == nil || valid.Contains(*at) {
		return
	}
	if !valid.From.IsZero() && at.Before(valid.From) {
		c.add(ptr, "authority.not_yet", "names %s (%s), which did not exist yet at the time %s (%s): it exists only from %s",
			id, name, act, danishTime(*at), danishTime(valid.From))
		return
	}
	msg := fmt.Sprintf("names %s (%s), which had ceased at the time %s (%s): it ceased at %s", id, name, act, danishTime(*at), danishTime(valid.To))
	if kind == "region" {
		if s, ok := c.v.ref.SuccessorOf(code); ok {
			if s.CodeConfigured {
				msg += fmt.Sprintf("; its successor region:%s (%s) holds its records and acts in its place", s.Code, s.Name)
			} else {
				msg += fmt.Sprintf("; its successor %s holds its records and acts in its place, but its region code is not configured yet", s.Name)
			}
		}
	}
	c.add(ptr, "authority.ceased", "%s", msg)
}

// danishTime writes an instant in Danish time for messages:
// "2027-01-01 00:00 CET".
func danishTime(t time.Time) string {
	return t.In(clock.Danish()).Format("2006-01-02 15:04 MST")
}

func (c *checker) person(r *Record) {
	p := r.Person
	if p == nil {
		return
	}
	var cprDate *Date
	if c.pattern("/person/cpr", p.CPR, reCPR, "10 digits without hyphen") && p.CPR != "" {
		if d, err := CPRBirthDate(p.CPR); err != nil {
			c.add("/person/cpr", "cpr.date", "%v", err)
		} else {
			cprDate = &d
		}
	}
	c.pattern("/person/ecpr", p.ECPR, reECPR, "an eCPR substitute number (DDMMYY, a digit, two capital letters, a digit)")
	c.nonEmpty("/person/name", p.Name, maxName)
	if p.BirthDate != nil && cprDate != nil && *p.BirthDate != *cprDate {
		c.add("/person/birth_date", "cpr.birth_date", "disagrees with the date in the CPR number (%s)", cprDate)
	}
	// A date is judged on the Danish calendar: a newborn registered at
	// 00:40 Danish time on its birth day (22:40 UTC the day before) was
	// born today, not in the future.
	if p.BirthDate != nil && p.BirthDate.After(DanishDateOf(c.now.Add(ClockSkew))) {
		c.add("/person/birth_date", "time.future", "lies in the future (today is %s in Denmark)", DanishDateOf(c.now))
	}
	c.pattern("/person/phone", p.Phone, rePhone, "an E.164 phone number such as +4512345678")
	if p.Email != "" {
		c.email("/person/email", p.Email)
	}
	c.pattern("/person/language", p.Language, reLanguage, "a language code such as da, en or ar")
	if a := p.Address; a != nil {
		c.nonEmpty("/person/address/street", a.Street, maxStreet)
		c.nonEmpty("/person/address/city", a.City, maxCity)
		c.pattern("/person/address/country", a.Country, reCountry, "an ISO 3166-1 alpha-2 country code")
		danish := a.Country == "" || a.Country == "DK"
		if danish {
			c.pattern("/person/address/postal_code", a.PostalCode, rePostalDK, "a 4-digit Danish postal code")
		} else {
			c.pattern("/person/address/postal_code", a.PostalCode, rePostal, "a postal code")
		}
		if a.MunicipalityCode != "" {
			if danish {
				c.municipality("/person/address/municipality_code", a.MunicipalityCode)
			} else {
				c.forbidden("/person/address/municipality_code", true, "a foreign address has no Danish municipality")
			}
		}
	}
}

func (c *checker) email(ptr, s string) {
	if len(s) > maxEmail {
		c.add(ptr, "schema.max_length", "is %d characters long, the limit is %d", len(s), maxEmail)
		return
	}
	local, _, _ := strings.Cut(s, "@")
	if !reEmail.MatchString(s) || strings.HasPrefix(local, ".") || strings.HasSuffix(local, ".") || strings.Contains(local, "..") {
		c.add(ptr, "schema.format", "is not an e-mail address")
	}
}

func (c *checker) relation(r *Record) {
	rel := r.Relation
	if rel == nil {
		return
	}
	if c.required("/relation/type", rel.Type != "") {
		enum(c, "/relation/type", rel.Type, RelationTypes())
	}
	if rel.Type != RelationRelative {
		why := "only a relative names whose relative they are"
		c.forbidden("/relation/relative_of", rel.RelativeOf != "", why)
		c.forbidden("/relation/affected", rel.Affected != nil, why)
		c.forbidden("/relation/kinship", rel.Kinship != "", why)
		return
	}
	enum(c, "/relation/kinship", rel.Kinship, Kinships())
	// A relative may name the affected person by record id (relative_of) or
	// by CPR number, or name and birth date (affected), and say the
	// kinship; none is required: a police list often knows only that a
	// relative came, and a minimised view keeps the link only for a
	// recipient that holds the affected person's record.
	if rel.RelativeOf != "" && c.pattern("/relation/relative_of", rel.RelativeOf, reUUID, "a lower-case UUID") && rel.RelativeOf == r.RecordID {
		c.add("/relation/relative_of", "relation.self", "names the record itself; it must name the record of the person this one is a relative of")
	}
	if a := rel.Affected; a != nil {
		c.affected(r, a)
	}
}

// affected checks how a relative names the affected person: a CPR number,
// or a name and a birth date, and not the relative themself.
func (c *checker) affected(r *Record, a *AffectedPerson) {
	const ptr = "/relation/affected"
	if c.pattern(ptr+"/cpr", a.CPR, reCPR, "10 digits without hyphen") && a.CPR != "" {
		if d, err := CPRBirthDate(a.CPR); err != nil {
			c.add(ptr+"/cpr", "cpr.date", "%v", err)
		} else if a.BirthDate != nil && *a.BirthDate != d {
			c.add(ptr+"/birth_date", "cpr.birth_date", "disagrees with the date in the CPR number (%s)", d)
		}
	}
	c.nonEmpty(ptr+"/name", a.Name, maxName)
	if a.BirthDate != nil && a.BirthDate.After(DanishDateOf(c.now.Add(ClockSkew))) {
		c.add(ptr+"/birth_date", "time.future", "lies in the future (today is %s in Denmark)", DanishDateOf(c.now))
	}
	if a.CPR == "" && (a.Name == "" || a.BirthDate == nil) {
		c.add(ptr+"/cpr", "schema.required", "is required unless the affected person is named by name and birth_date")
		if a.Name == "" {
			c.add(ptr+"/name", "schema.required", "is required, with birth_date, when the affected person has no cpr")
		}
		if a.BirthDate == nil {
			c.add(ptr+"/birth_date", "schema.required", "is required, with name, when the affected person has no cpr")
		}
	}
	if p := r.Person; p != nil && a.CPR != "" && a.CPR == p.CPR {
		c.add(ptr+"/cpr", "relation.self", "is the relative's own CPR number; it must be the affected person's")
	}
}

func (c *checker) consent(r *Record) {
	cs := r.Consent
	if !c.required("/consent", cs != nil) {
		return
	}
	if c.required("/consent/registration", cs.Registration != "") {
		enum(c, "/consent/registration", cs.Registration, RegistrationConsents())
	}
	enum(c, "/consent/given_by", cs.GivenBy, GivenBys())
	documented := cs.Registration == RegistrationGranted || cs.Registration == RegistrationRefused
	switch {
	case documented:
		c.required("/consent/given_by", cs.GivenBy != "")
		c.required("/consent/obtained", cs.Obtained != nil)
	case cs.Registration == RegistrationNotObtained:
		c.forbidden("/consent/given_by", cs.GivenBy != "", "no consent was obtained")
		c.forbidden("/consent/obtained", cs.Obtained != nil, "no consent was obtained")
		c.forbidden("/consent/withdrawn_at", cs.WithdrawnAt != nil, "no consent was obtained")
	}
	followUp := cs.FollowUp.IsGranted()
	if followUp && (cs.Registration == RegistrationRefused || cs.Registration == RegistrationNotObtained) {
		c.add("/consent/follow_up/granted", "consent.follow_up_without_registration", "follow-up consent needs registration consent")
	}
	if cs.Registration == RegistrationRefused {
		c.forbidden("/person", r.Person != nil, "a refused registration keeps only what a count needs")
		if r.Assessment != nil {
			c.forbidden("/assessment/notes", r.Assessment.Notes != "", "a refused registration keeps only what a count needs")
		}
	}
	if f := cs.FollowUp; f != nil {
		c.required("/consent/follow_up/granted", f.Granted != nil)
		c.grants(f)
		c.timeRange("/consent/follow_up/expires_at", f.ExpiresAt)
		if f.IsGranted() {
			if len(f.Grants) == 0 {
				c.add("/consent/follow_up/grants", "schema.min_items", "must name at least one grant (recipient role, purposes, channels) when follow-up is granted")
			}
		} else {
			why := "follow-up is not granted"
			c.forbidden("/consent/follow_up/grants", len(f.Grants) > 0, why)
			c.forbidden("/consent/follow_up/expires_at", f.ExpiresAt != nil, why)
		}
		// A view without the person (identity withheld) keeps the consent
		// block as is; where the person travels, digital_post needs the CPR.
		if slices.Contains(f.AllChannels(), ChannelDigitalPost) && r.Person != nil && r.Person.CPR == "" {
			c.add("/person/cpr", "schema.required", "is required: the digital_post channel addresses the person by CPR number")
		}
	}
	c.guardian(cs)
	if o := cs.Obtained; o != nil {
		if c.required("/consent/obtained/by", o.By != nil) {
			if c.required("/consent/obtained/by/authority", o.By.Authority != "") {
				c.authority("/consent/obtained/by/authority", o.By.Authority, o.At, "consent was obtained")
			}
			if c.required("/consent/obtained/by/role", o.By.Role != "") {
				enum(c, "/consent/obtained/by/role", o.By.Role, RegistrarRoles())
			}
		}
		c.required("/consent/obtained/at", o.At != nil)
		if c.required("/consent/obtained/method", o.Method != "") {
			enum(c, "/consent/obtained/method", o.Method, ConsentMethods())
		}
		c.nonEmpty("/consent/obtained/evidence_ref", o.EvidenceRef, maxEvidenceRef)
	}
	c.consentTimes(r)
}

// grants checks the follow-up grants: each names a recipient role once,
// with at least one purpose and one channel; health purposes go to region
// roles only.
func (c *checker) grants(f *FollowUp) {
	for i, g := range f.Grants {
		ptr := fmt.Sprintf("/consent/follow_up/grants/%d", i)
		if c.required(ptr+"/recipient", g.Recipient != "") {
			enum(c, ptr+"/recipient", g.Recipient, RecipientRoles())
			if _, first := f.GrantFor(g.Recipient); first < i {
				c.add(ptr+"/recipient", "consent.grant_repeated", "grants to %s twice; one grant per recipient role lists all its purposes and channels", g.Recipient)
			}
		}
		items(c, ptr+"/purposes", g.Purposes, Purposes())
		items(c, ptr+"/channels", g.Channels, Channels())
		if len(g.Purposes) == 0 {
			c.add(ptr+"/purposes", "schema.min_items", "must name at least one purpose")
		}
		if len(g.Channels) == 0 {
			c.add(ptr+"/channels", "schema.min_items", "must name at least one channel")
		}
		if g.Recipient == RecipientPoliceDistrict {
			c.add(ptr+"/recipient", "consent.grant_to_police", "the police do not make follow-up contact and never see contact preferences; they receive what identification needs on their own legal basis, without consent")
		}
		for j, p := range g.Purposes {
			if slices.Contains(HealthPurposes(), p) && g.Recipient != "" && !IsRegionRole(g.Recipient) {
				c.add(fmt.Sprintf("%s/purposes/%d", ptr, j), "consent.health_purpose_not_region",
					"%s is health care and can be granted to a region role only (residence_region, incident_region), not %s", p, g.Recipient)
			}
		}
	}
}

// guardian checks the guardian block: present exactly when a guardian
// gave consent, naming the guardian and how they relate to the minor.
// Contact about a minor goes to the guardian's phone and e-mail with their
// consented channels; a guardian without them is reached through Digital
// Post or not at all, which the decisions show (a view may carry neither).
func (c *checker) guardian(cs *Consent) {
	g := cs.Guardian
	if cs.GivenBy != GivenByGuardian {
		c.forbidden("/consent/guardian", g != nil, "consent was not given by a guardian")
		return
	}
	if !c.required("/consent/guardian", g != nil) {
		return
	}
	if c.required("/consent/guardian/name", g.Name != "") {
		c.nonEmpty("/consent/guardian/name", g.Name, maxName)
	}
	if c.required("/consent/guardian/relation", g.Relation != "") {
		enum(c, "/consent/guardian/relation", g.Relation, GuardianRelations())
	}
	c.pattern("/consent/guardian/phone", g.Phone, rePhone, "an E.164 phone number such as +4512345678")
	if g.Email != "" {
		c.email("/consent/guardian/email", g.Email)
	}
}

// consentTimes holds the consent rules a schema cannot express: order of
// times, the future, and the age of the person.
func (c *checker) consentTimes(r *Record) {
	cs := r.Consent
	var obtainedAt *time.Time
	if cs.Obtained != nil {
		obtainedAt = cs.Obtained.At
	}
	c.notFuture("/consent/obtained/at", obtainedAt)
	c.notFuture("/consent/withdrawn_at", cs.WithdrawnAt)
	if obtainedAt != nil {
		if f := cs.FollowUp; f != nil && f.ExpiresAt != nil && !f.ExpiresAt.After(*obtainedAt) {
			c.add("/consent/follow_up/expires_at", "consent.expires_before_obtained", "must be after consent was obtained (%s)", obtainedAt.UTC().Format(time.RFC3339))
		}
		if cs.WithdrawnAt != nil && cs.WithdrawnAt.Before(*obtainedAt) {
			c.add("/consent/withdrawn_at", "consent.withdrawn_before_obtained", "must not be before consent was obtained (%s)", obtainedAt.UTC().Format(time.RFC3339))
		}
		if birth := birthDate(r.Person); birth != nil && cs.GivenBy != "" && cs.GivenBy != GivenByGuardian {
			if age := birth.AgeAt(*obtainedAt); age < underGuardianAge {
				c.add("/consent/given_by", "consent.guardian_required", "must be guardian: the person was %d when consent was obtained, under %d", age, underGuardianAge)
			}
		}
	}
}

// birthDate is the person's birth date from birth_date or, failing that, the CPR number.
func birthDate(p *Person) *Date {
	if p == nil {
		return nil
	}
	if p.BirthDate != nil {
		return p.BirthDate
	}
	if p.CPR != "" {
		if d, err := CPRBirthDate(p.CPR); err == nil {
			return &d
		}
	}
	return nil
}

// ValidateWithdrawal returns every problem of a withdrawal notice.
func (v *Validator) ValidateWithdrawal(w *Withdrawal) Problems {
	c := &checker{v: v, now: v.clock.Now()}
	if w == nil {
		c.add("", "schema.type", "the document must be a withdrawal object")
		return c.ps
	}
	if w.Schema != WithdrawalSchemaV1 {
		if w.Schema == "" {
			c.required("/schema", false)
		} else {
			c.add("/schema", "schema.const", "must be %q", WithdrawalSchemaV1)
		}
	}
	if c.required("/record_id", w.RecordID != "") {
		c.pattern("/record_id", w.RecordID, reUUID, "a lower-case UUID")
	}
	c.version(w.Version)
	if c.required("/reason", w.Reason != "") {
		enum(c, "/reason", w.Reason, WithdrawalReasons())
	}
	c.required("/withdrawn_at", w.WithdrawnAt != nil)
	c.notFuture("/withdrawn_at", w.WithdrawnAt)
	c.pattern("/incident_id", w.IncidentID, reIncidentID, "an incident id (letters, digits and . _ : -, at most 64)")
	return c.ps
}
