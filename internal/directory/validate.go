package directory

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/psykosocial/exchange/internal/refdata"
)

// Problem is one thing wrong with a directory document.
type Problem struct {
	// Index is the position of the authority in the authorities array, or -1 for a
	// problem with the document itself.
	Index int
	// Authority is the id of the authority as written in the document, or "" for the
	// document itself or an authority without a readable id.
	Authority string
	// Field is the JSON path of the offending field, relative to the authority (or to
	// the document when Index is -1), e.g. "cvr", "codes.region_code",
	// "certificates[0].use". It is "" when the whole entry is wrong.
	Field string
	// Message says what is wrong.
	Message string
}

// String describes the problem with its place, e.g.
// `authority "municipality:0851" (authorities[3]): cvr: fails the modulus-11 check`.
func (p Problem) String() string {
	var b strings.Builder
	switch {
	case p.Index < 0:
		b.WriteString("document")
	case p.Authority != "":
		fmt.Fprintf(&b, "authority %s (authorities[%d])", quoteShort(p.Authority), p.Index)
	default:
		fmt.Fprintf(&b, "authorities[%d]", p.Index)
	}
	if p.Field != "" {
		b.WriteString(": ")
		b.WriteString(p.Field)
	}
	b.WriteString(": ")
	b.WriteString(p.Message)
	return b.String()
}

// ValidationError lists every problem found in a directory document. Parse, Load and
// Encode return it (wrapped); use errors.As to get at the problems.
type ValidationError struct {
	// Problems lists the problems: document-level ones first, then by authority.
	Problems []Problem
}

// Error lists the problems (at most maxReportedProblems of them) in one line.
func (e *ValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "invalid directory document: %d problem", len(e.Problems))
	if len(e.Problems) != 1 {
		b.WriteString("s")
	}
	for i, p := range e.Problems {
		if i == maxReportedProblems {
			fmt.Fprintf(&b, "; and %d more", len(e.Problems)-i)
			break
		}
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// report collects problems.
type report struct {
	problems []Problem
}

// scope reports problems of the document (index -1) or of one authority. Problems of
// the JSON shape (a missing field, a wrong type) mark the field bad; checks of the
// field's value are then not reported again.
type scope struct {
	rep   *report
	index int
	id    string
	bad   map[string]bool
}

// newScope returns a scope for the authority at index (-1: the document).
func (r *report) newScope(index int) *scope {
	return &scope{rep: r, index: index, bad: map[string]bool{}}
}

// shape reports a problem with the JSON shape of field and marks it bad.
func (s *scope) shape(field, format string, args ...any) {
	s.bad[field] = true
	s.add(field, format, args...)
}

// check reports a problem with the value of field unless the field, or a field it is
// part of, has a shape problem.
func (s *scope) check(field, format string, args ...any) {
	if s.bad[""] { // the whole entry is unreadable
		return
	}
	for f := field; ; {
		if s.bad[f] {
			return
		}
		i := strings.LastIndexAny(f, ".[")
		if i < 0 {
			break
		}
		f = f[:i]
	}
	s.add(field, format, args...)
}

func (s *scope) add(field, format string, args ...any) {
	s.rep.problems = append(s.rep.problems, Problem{
		Index:     s.index,
		Authority: s.id,
		Field:     field,
		Message:   fmt.Sprintf(format, args...),
	})
}

// sorted returns the problems, document-level first, then by authority.
func (r *report) sorted() []Problem {
	slices.SortStableFunc(r.problems, func(a, b Problem) int { return a.Index - b.Index })
	return r.problems
}

var (
	uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	spkiPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// validate checks d. With ref it also checks codes and CVR numbers against the
// reference data. doc and auths are the scopes to report in; auths has one scope per
// authority.
func validate(d *Directory, ref *refdata.Data, doc *scope, auths []*scope) {
	if d.Version != Version {
		doc.check("version", "%s, want %q", quoteShort(d.Version), Version)
	}
	if d.GeneratedAt.IsZero() {
		doc.check("generated_at", "missing")
	} else if y := d.GeneratedAt.Year(); y < 1 || y > 9999 {
		doc.check("generated_at", "year %d out of range", y)
	}
	if len(d.Authorities) > maxAuthorities {
		doc.check("authorities", "%d authorities, more than the limit of %d", len(d.Authorities), maxAuthorities)
		return
	}
	firstByID := map[string]int{}
	type binding struct {
		index int
		id    string
	}
	boundTo := map[string]binding{} // "certificate_uuid:<uuid>" or "spki_sha256:<hex>" -> first authority
	for i, a := range d.Authorities {
		s := auths[i]
		checkAuthority(a, ref, s)
		if a.ID != "" {
			if j, dup := firstByID[a.ID]; dup {
				s.check("id", "duplicate of authorities[%d]", j)
			} else {
				firstByID[a.ID] = i
			}
		}
		for j, c := range a.Certificates {
			for _, f := range [...]struct{ field, v string }{
				{"certificate_uuid", c.CertificateUUID},
				{"spki_sha256", c.SPKISHA256},
			} {
				field, v := f.field, f.v
				if v == "" {
					continue
				}
				key := field + ":" + v
				if first, ok := boundTo[key]; ok && first.index != i {
					s.check(fmt.Sprintf("certificates[%d].%s", j, field), "certificate already bound to authority %s (authorities[%d]); a certificate acts for one authority only", quoteShort(first.id), first.index)
					continue
				}
				boundTo[key] = binding{i, a.ID}
			}
		}
	}
	if d.Operator != nil {
		checkOperator(d.Operator, doc)
		for j, c := range d.Operator.Certificates {
			for _, f := range [...]struct{ field, v string }{
				{"certificate_uuid", c.CertificateUUID},
				{"spki_sha256", c.SPKISHA256},
			} {
				if f.v == "" {
					continue
				}
				if first, ok := boundTo[f.field+":"+f.v]; ok {
					doc.check(fmt.Sprintf("operator.certificates[%d].%s", j, f.field), "certificate already bound to authority %s (authorities[%d]); a certificate acts for one authority only", quoteShort(first.id), first.index)
				}
			}
		}
	}
}

// checkOperator checks the operator's entry, reporting in the document's scope.
func checkOperator(o *Operator, doc *scope) {
	switch name := strings.TrimSpace(o.Name); {
	case name == "":
		doc.check("operator.name", "missing or blank")
	case utf8.RuneCountInString(o.Name) > maxNameRunes:
		doc.check("operator.name", "longer than %d characters", maxNameRunes)
	case name != o.Name:
		doc.check("operator.name", "has leading or trailing spaces")
	case strings.ContainsFunc(o.Name, unicode.IsControl):
		doc.check("operator.name", "contains control characters")
	}
	switch {
	case o.CVR == "":
		doc.check("operator.cvr", "missing")
	case len(o.CVR) != 8 || !isDigits(o.CVR):
		doc.check("operator.cvr", "%s must be exactly 8 digits", quoteShort(o.CVR))
	case o.CVR[0] == '0':
		doc.check("operator.cvr", "%s must not start with 0", o.CVR)
	case !refdata.IsValidCVR(o.CVR):
		doc.check("operator.cvr", "%s fails the modulus-11 check (weights 2,7,6,5,4,3,2,1)", o.CVR)
	}
	if len(o.Certificates) > maxCertificates {
		doc.check("operator.certificates", "%d bindings, more than the limit of %d", len(o.Certificates), maxCertificates)
		return
	}
	for i, c := range o.Certificates {
		field := fmt.Sprintf("operator.certificates[%d]", i)
		if c.Use != UseDPO {
			doc.check(field+".use", "%s is not %q: the operator's entry binds only its data-protection officer's certificates", quoteShort(c.Use), UseDPO)
		}
		checkBinding(c, field, doc)
		for j, prev := range o.Certificates[:i] {
			if (c.CertificateUUID != "" && prev.CertificateUUID == c.CertificateUUID) ||
				(c.SPKISHA256 != "" && prev.SPKISHA256 == c.SPKISHA256) {
				doc.check(field, "binds the same certificate as operator.certificates[%d]", j)
				break
			}
		}
	}
}

// checkBinding checks the shape of one certificate binding at field.
func checkBinding(c CertificateBinding, field string, s *scope) {
	if c.CertificateUUID == "" && c.SPKISHA256 == "" {
		s.check(field, "needs certificate_uuid or spki_sha256 (or both)")
	}
	if c.CertificateUUID != "" && !uuidPattern.MatchString(c.CertificateUUID) {
		s.check(field+".certificate_uuid", "%s is not a lower-case UUID (the part after UI:DK-O:G: in the certificate's serialNumber)", quoteShort(c.CertificateUUID))
	}
	if c.SPKISHA256 != "" && !spkiPattern.MatchString(c.SPKISHA256) {
		s.check(field+".spki_sha256", "%s is not 64 lower-case hex digits", quoteShort(c.SPKISHA256))
	}
	checkPeriod(c.Valid, field+".valid", s)
}

// checkAuthority checks one authority. With ref it also checks codes and the CVR
// number against the reference data.
func checkAuthority(a Authority, ref *refdata.Data, s *scope) {
	idKind, idCode, err := ParseID(a.ID)
	switch {
	case a.ID == "":
		s.check("id", "missing")
	case err != nil:
		s.check("id", "%v", err)
	case idKind == KindGateway:
		s.check("id", "%q is the gateway itself and is not listed in the directory", a.ID)
		idKind = ""
	}
	kindOK := a.Kind == KindMunicipality || a.Kind == KindRegion || a.Kind == KindPolice
	if !kindOK {
		s.check("kind", "%s is not one of %q, %q, %q", quoteShort(a.Kind), KindMunicipality, KindRegion, KindPolice)
	}
	idMatches := err == nil && idKind != "" && idKind == a.Kind
	if err == nil && idKind != "" && kindOK && !idMatches {
		s.check("id", "prefix %q does not match kind %q", idKind, a.Kind)
	}
	if !idMatches {
		idCode = "" // do not compare codes against an id of another kind
	}

	switch name := strings.TrimSpace(a.Name); {
	case name == "":
		s.check("name", "missing or blank")
	case utf8.RuneCountInString(a.Name) > maxNameRunes:
		s.check("name", "longer than %d characters", maxNameRunes)
	case name != a.Name:
		s.check("name", "has leading or trailing spaces")
	case strings.ContainsFunc(a.Name, unicode.IsControl):
		s.check("name", "contains control characters")
	}

	wantCVR, cvrOwner := "", ""
	if kindOK {
		wantCVR, cvrOwner = checkCodes(a, idCode, ref, s)
	}
	switch {
	case a.CVR == "":
		s.check("cvr", "missing")
	case len(a.CVR) != 8 || !isDigits(a.CVR):
		s.check("cvr", "%s must be exactly 8 digits", quoteShort(a.CVR))
	case a.CVR[0] == '0':
		s.check("cvr", "%s must not start with 0", a.CVR)
	case !refdata.IsValidCVR(a.CVR):
		s.check("cvr", "%s fails the modulus-11 check (weights 2,7,6,5,4,3,2,1)", a.CVR)
	case wantCVR != "" && a.CVR != wantCVR:
		s.check("cvr", "%s differs from %s, the CVR number of %s in the reference data", a.CVR, wantCVR, cvrOwner)
	}

	switch a.Format {
	case FormatRegion, FormatMunicipality, FormatPolice:
	default:
		s.check("format", "%s is not one of %q, %q, %q", quoteShort(a.Format), FormatRegion, FormatMunicipality, FormatPolice)
	}

	checkPeriod(a.Valid, "valid", s)

	if len(a.Certificates) > maxCertificates {
		s.check("certificates", "%d bindings, more than the limit of %d", len(a.Certificates), maxCertificates)
		return
	}
	for i, c := range a.Certificates {
		field := fmt.Sprintf("certificates[%d]", i)
		switch c.Use {
		case UseSigning, UseEncryption, UseTLS, UseDPO:
		default:
			s.check(field+".use", "%s is not one of %q, %q, %q, %q", quoteShort(c.Use), UseSigning, UseEncryption, UseTLS, UseDPO)
		}
		checkBinding(c, field, s)
		for j, prev := range a.Certificates[:i] {
			if prev.Use == c.Use && ((c.CertificateUUID != "" && prev.CertificateUUID == c.CertificateUUID) ||
				(c.SPKISHA256 != "" && prev.SPKISHA256 == c.SPKISHA256)) {
				s.check(field, "binds the same certificate for %q as certificates[%d]", c.Use, j)
				break
			}
		}
	}
}

// checkCodes checks a.Codes for a.Kind (which is known). idCode is the code from the
// id, or "" if the id is unusable. With ref it checks the codes exist and returns the
// CVR number the reference data gives the authority and whose it is.
func checkCodes(a Authority, idCode string, ref *refdata.Data, s *scope) (wantCVR, owner string) {
	c := a.Codes
	notFor := func(set bool, field string) {
		if set {
			s.check("codes."+field, "not allowed for kind %q", a.Kind)
		}
	}
	sameAsID := func(field, code string) bool {
		if idCode != "" && code != idCode {
			s.check("codes."+field, "%s differs from %q in the id", quoteShort(code), idCode)
			return false
		}
		return true
	}
	switch a.Kind {
	case KindMunicipality:
		notFor(c.RegionCode != "", "region_code")
		notFor(c.PoliceDistrict != "", "police_district")
		notFor(c.MunicipalityCodes != nil, "municipality_codes")
		code := c.MunicipalityCode
		switch {
		case code == "":
			s.check("codes.municipality_code", "missing")
		case !isFourDigits(code):
			s.check("codes.municipality_code", "%s must be exactly 4 digits", quoteShort(code))
		case !sameAsID("municipality_code", code):
		case ref == nil:
		case code == refdata.OutsideMunicipalDivision:
			s.check("codes.municipality_code", "%s is outside the municipal division and has no municipal authority", code)
		default:
			m, ok := ref.Municipality(code)
			if !ok {
				s.check("codes.municipality_code", "no municipality %s in the reference data", code)
				return "", ""
			}
			return m.CVR, m.AuthorityName
		}
	case KindRegion:
		notFor(c.MunicipalityCode != "", "municipality_code")
		notFor(c.PoliceDistrict != "", "police_district")
		notFor(c.MunicipalityCodes != nil, "municipality_codes")
		code := c.RegionCode
		switch {
		case code == "":
			s.check("codes.region_code", "missing")
		case !isFourDigits(code):
			s.check("codes.region_code", "%s must be exactly 4 digits", quoteShort(code))
		case !sameAsID("region_code", code):
		case ref == nil:
		default:
			r, ok := ref.Region(code, time.Time{})
			if !ok {
				s.check("codes.region_code", "no region %s in the reference data (at any time, with the configured codes)", code)
				return "", ""
			}
			return r.CVR, r.Name
		}
	case KindPolice:
		notFor(c.MunicipalityCode != "", "municipality_code")
		notFor(c.RegionCode != "", "region_code")
		id := c.PoliceDistrict
		districtOK := false
		switch {
		case id == "":
			s.check("codes.police_district", "missing")
		case !policeIDPattern.MatchString(id):
			s.check("codes.police_district", "%s must match %s", quoteShort(id), policeIDPattern)
		default:
			districtOK = sameAsID("police_district", id)
		}
		seen := map[string]int{}
		for i, m := range c.MunicipalityCodes {
			field := fmt.Sprintf("codes.municipality_codes[%d]", i)
			if !isFourDigits(m) {
				s.check(field, "%s must be exactly 4 digits", quoteShort(m))
				continue
			}
			if j, dup := seen[m]; dup {
				s.check(field, "%s repeats codes.municipality_codes[%d]", m, j)
				continue
			}
			seen[m] = i
		}
		if len(c.MunicipalityCodes) == 0 {
			s.check("codes.municipality_codes", "missing or empty")
		}
		if ref == nil || !districtOK {
			return "", ""
		}
		p, ok := ref.PoliceDistrict(id)
		if !ok {
			s.check("codes.police_district", "no police district %q in the reference data", id)
			return "", ""
		}
		if len(c.MunicipalityCodes) > 0 {
			var missing, extra []string
			for _, m := range p.MunicipalityCodes {
				if _, ok := seen[m]; !ok {
					missing = append(missing, m)
				}
			}
			for m := range seen {
				if !slices.Contains(p.MunicipalityCodes, m) {
					extra = append(extra, m)
				}
			}
			slices.Sort(extra)
			if len(missing) > 0 || len(extra) > 0 {
				s.check("codes.municipality_codes", "differ from the reference data for %s: missing %v, not in the district %v", id, missing, extra)
			}
		}
		return p.CVR, "Rigspolitiet"
	}
	return "", ""
}

// checkPeriod checks that a period's bounds are in order and in range.
func checkPeriod(p refdata.Period, field string, s *scope) {
	for _, b := range [...]struct {
		name string
		t    time.Time
	}{{"from", p.From}, {"to", p.To}} {
		if y := b.t.Year(); !b.t.IsZero() && (y < 1 || y > 9999) {
			s.check(field+"."+b.name, "year %d out of range", y)
			return
		}
	}
	if !p.From.IsZero() && !p.To.IsZero() && !p.From.Before(p.To) {
		s.check(field, "from %s is not before to %s", p.From.Format(time.RFC3339Nano), p.To.Format(time.RFC3339Nano))
	}
}

// isDigits reports whether s is non-empty and all ASCII digits.
func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// quoteShort quotes s for a message, cut to 80 bytes so that hostile input cannot
// make messages huge.
func quoteShort(s string) string {
	const limit = 80
	if len(s) <= limit {
		return fmt.Sprintf("%q", s)
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%q...", s[:cut])
}
