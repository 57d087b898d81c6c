package region

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/psykosocial/exchange/adapters"
	"github.com/psykosocial/exchange/adapters/internal/vocab"
	"github.com/psykosocial/exchange/internal/record"
	"github.com/psykosocial/exchange/internal/refdata"
)

// invalid is what a member that could not be mapped becomes in the common
// record: no vocabulary or pattern accepts it, so validation refuses it at
// the same member, and that second problem is folded into the first.
const invalid = "\x00"

// mapper converts a decoded regional record to the common record and
// collects the problems of conversion, with pointers relative to the record.
type mapper struct {
	ps record.Problems
}

func (m *mapper) add(ptr, rule, format string, args ...any) {
	m.ps = append(m.ps, record.Problem{Pointer: ptr, Rule: rule, Message: fmt.Sprintf(format, args...)})
}

// term maps a Danish code of vocabulary v ("" stays "").
func term[T ~string](m *mapper, v *vocab.Vocab[T], ptr, s string) T {
	if s == "" {
		return ""
	}
	t, ok := v.Common(s)
	if !ok {
		m.add(ptr, "schema.enum", "must be one of %s", v.List())
		return invalid
	}
	return t
}

// terms maps a list of Danish codes of vocabulary v.
func terms[T ~string](m *mapper, v *vocab.Vocab[T], ptr string, ss []string) []T {
	if len(ss) == 0 {
		return nil
	}
	out := make([]T, len(ss))
	for i, s := range ss {
		out[i] = term(m, v, ptr+"/"+strconv.Itoa(i), s)
	}
	return out
}

// municipality converts a municipality code: a JSON number or a string of
// one to four digits is zero-padded to four ("101", 101 → "0101"). Anything
// else is passed on unchanged for validation to refuse.
func (m *mapper) municipality(ptr string, c code) string {
	switch c {
	case "":
		return ""
	case badCode:
		m.add(ptr, "json.type", "must be a string or a whole number, such as \"0101\" or 101")
		return invalid
	}
	if s, err := refdata.NormalizeMunicipalityCode(string(c)); err == nil {
		return s
	}
	return string(c)
}

// region converts a region code: a JSON number or a string.
func (m *mapper) region(ptr string, c code) string {
	if c == badCode {
		m.add(ptr, "json.type", "must be a string or a whole number, such as \"1084\" or 1084")
		return invalid
	}
	return string(c)
}

// cpr removes the hyphen regional systems write after the birth date
// ("070786-1234" → "0707861234"). Anything else is passed on unchanged.
func cpr(s string) string {
	if len(s) == 11 && s[6] == '-' && allDigits(s[:6]) && allDigits(s[7:]) {
		return s[:6] + s[7:]
	}
	return s
}

// phone writes a Danish subscriber number of 8 digits, as such or in four
// pairs separated by single spaces, in E.164 ("12345678" and
// "12 34 56 78" → "+4512345678"). Anything else is passed on unchanged.
func phone(s string) string {
	if len(s) == 8 && allDigits(s) {
		return "+45" + s
	}
	if len(s) == 11 && s[2] == ' ' && s[5] == ' ' && s[8] == ' ' &&
		allDigits(s[0:2]) && allDigits(s[3:5]) && allDigits(s[6:8]) && allDigits(s[9:11]) {
		return "+45" + s[0:2] + s[3:5] + s[6:8] + s[9:11]
	}
	return s
}

func allDigits(s string) bool {
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

// toRecord converts w to the common record.
func (m *mapper) toRecord(w *wireRecord) *record.Record {
	r := &record.Record{Schema: record.SchemaV1, RecordID: w.RecordID, Version: w.Version}
	if in := w.Incident; in != nil {
		r.Incident = &record.Incident{
			ID:               in.ID,
			Title:            in.Title,
			Kind:             term(m, incidentKinds, "/haendelse/type", in.Kind),
			OccurredAt:       fromStamp(in.OccurredAt),
			MunicipalityCode: m.municipality("/haendelse/kommunekode", in.MunicipalityCode),
			RegionCode:       m.region("/haendelse/regionskode", in.RegionCode),
			Site:             term(m, sites, "/haendelse/sted", in.Site),
		}
	}
	if g := w.Registered; g != nil {
		r.Registered = &record.Registered{
			At:          fromStamp(g.At),
			ByAuthority: g.Authority,
			ByRole:      term(m, roles, "/registreret/rolle", g.Role),
		}
	}
	if p := w.Person; p != nil {
		r.Person = &record.Person{
			CPR:               cpr(p.CPR),
			ECPR:              p.ECPR,
			Name:              p.Name,
			BirthDate:         p.BirthDate,
			Phone:             phone(p.Phone),
			Email:             p.Email,
			AddressProtected:  p.AddressProtected,
			Language:          p.Language,
			InterpreterNeeded: p.InterpreterNeeded,
		}
		if a := p.Address; a != nil {
			r.Person.Address = &record.Address{
				Street:           a.Street,
				PostalCode:       a.PostalCode,
				City:             a.City,
				Country:          a.Country,
				MunicipalityCode: m.municipality("/person/adresse/kommunekode", a.MunicipalityCode),
			}
		}
	}
	if rel := w.Relation; rel != nil {
		r.Relation = &record.Relation{
			Type:       term(m, relations, "/relation/type", rel.Type),
			RelativeOf: rel.RelativeOf,
			Kinship:    term(m, kinships, "/relation/slaegtskab", rel.Kinship),
		}
		if a := rel.Affected; a != nil {
			r.Relation.Affected = &record.AffectedPerson{CPR: cpr(a.CPR), Name: a.Name, BirthDate: a.BirthDate}
		}
	}
	if a := w.Assessment; a != nil {
		r.Assessment = &record.Assessment{
			FollowUpPriority: term(m, priorities, "/vurdering/opfoelgningsprioritet", a.FollowUpPriority),
			Notes:            a.Notes,
		}
	}
	if c := w.Consent; c != nil {
		r.Consent = m.consent(c)
	}
	return r
}

func (m *mapper) consent(c *wireConsent) *record.Consent {
	out := &record.Consent{
		Registration: term(m, registrationConsents, "/samtykke/registrering", c.Registration),
		GivenBy:      term(m, givenBys, "/samtykke/givetAf", c.GivenBy),
		WithdrawnAt:  fromStamp(c.WithdrawnAt),
	}
	if f := c.FollowUp; f != nil {
		out.FollowUp = &record.FollowUp{ExpiresAt: fromStamp(f.ExpiresAt)}
		if f.Granted != nil {
			g := *f.Granted
			out.FollowUp.Granted = &g
		}
		for i, g := range f.Grants {
			ptr := "/samtykke/opfoelgning/tilladelser/" + strconv.Itoa(i)
			out.FollowUp.Grants = append(out.FollowUp.Grants, record.Grant{
				Recipient: term(m, recipients, ptr+"/modtager", g.Recipient),
				Purposes:  terms(m, purposes, ptr+"/formaal", g.Purposes),
				Channels:  terms(m, channels, ptr+"/kanaler", g.Channels),
			})
		}
	}
	if g := c.Guardian; g != nil {
		out.Guardian = &record.Guardian{
			Name:     g.Name,
			Relation: term(m, guardianRelations, "/samtykke/vaerge/relation", g.Relation),
			Phone:    phone(g.Phone),
			Email:    g.Email,
		}
	}
	if o := c.Obtained; o != nil {
		out.Obtained = &record.Obtained{
			At:          fromStamp(o.At),
			Method:      term(m, methods, "/samtykke/indhentet/metode", o.Method),
			EvidenceRef: o.EvidenceRef,
		}
		if o.Authority != "" || o.Role != "" {
			out.Obtained.By = &record.ObtainedBy{
				Authority: o.Authority,
				Role:      term(m, roles, "/samtykke/indhentet/rolle", o.Role),
			}
		}
	}
	return out
}

// toWithdrawal converts a withdrawal notice.
func (m *mapper) toWithdrawal(w *wireWithdrawal) *record.Withdrawal {
	return &record.Withdrawal{
		Schema:      record.WithdrawalSchemaV1,
		RecordID:    w.RecordID,
		Version:     w.Version,
		Reason:      term(m, reasons, "/aarsag", w.Reason),
		WithdrawnAt: fromStamp(w.WithdrawnAt),
		IncidentID:  w.IncidentID,
	}
}

// fromStamp returns the time of a decoded stamp (nil stays nil).
func fromStamp(t *stamp) *time.Time {
	if t == nil {
		return nil
	}
	v := t.Time
	return &v
}

// fromRecord converts a common record to the regional form. It fails on a
// value the format has no code for (the record is then not valid).
func fromRecord(r *record.Record) (*wireRecord, error) {
	if r.Schema != record.SchemaV1 {
		return nil, fmt.Errorf("record %s: schema is %q, want %q", r.RecordID, adapters.Clip(r.Schema), record.SchemaV1)
	}
	e := encoder{}
	w := &wireRecord{RecordID: r.RecordID, Version: r.Version}
	if in := r.Incident; in != nil {
		w.Incident = &wireIncident{
			ID:               in.ID,
			Title:            in.Title,
			Kind:             danish(&e, incidentKinds, "/incident/kind", in.Kind),
			OccurredAt:       toStamp(in.OccurredAt),
			MunicipalityCode: code(in.MunicipalityCode),
			RegionCode:       code(in.RegionCode),
			Site:             danish(&e, sites, "/incident/site", in.Site),
		}
	}
	if g := r.Registered; g != nil {
		w.Registered = &wireRegistered{
			At:        toStamp(g.At),
			Authority: g.ByAuthority,
			Role:      danish(&e, roles, "/registered/by_role", g.ByRole),
		}
	}
	if p := r.Person; p != nil {
		w.Person = &wirePerson{
			CPR:               p.CPR,
			ECPR:              p.ECPR,
			Name:              p.Name,
			BirthDate:         p.BirthDate,
			Phone:             p.Phone,
			Email:             p.Email,
			AddressProtected:  p.AddressProtected,
			Language:          p.Language,
			InterpreterNeeded: p.InterpreterNeeded,
		}
		if a := p.Address; a != nil {
			w.Person.Address = &wireAddress{
				Street:           a.Street,
				PostalCode:       a.PostalCode,
				City:             a.City,
				Country:          a.Country,
				MunicipalityCode: code(a.MunicipalityCode),
			}
		}
	}
	if rel := r.Relation; rel != nil {
		w.Relation = &wireRelation{
			Type:       danish(&e, relations, "/relation/type", rel.Type),
			RelativeOf: rel.RelativeOf,
			Kinship:    danish(&e, kinships, "/relation/kinship", rel.Kinship),
		}
		if a := rel.Affected; a != nil {
			w.Relation.Affected = &wireAffected{CPR: a.CPR, Name: a.Name, BirthDate: a.BirthDate}
		}
	}
	if a := r.Assessment; a != nil {
		w.Assessment = &wireAssessment{
			FollowUpPriority: danish(&e, priorities, "/assessment/follow_up_priority", a.FollowUpPriority),
			Notes:            a.Notes,
		}
	}
	if c := r.Consent; c != nil {
		wc := &wireConsent{
			Registration: danish(&e, registrationConsents, "/consent/registration", c.Registration),
			GivenBy:      danish(&e, givenBys, "/consent/given_by", c.GivenBy),
			WithdrawnAt:  toStamp(c.WithdrawnAt),
		}
		if f := c.FollowUp; f != nil {
			var granted *bool
			if f.Granted != nil {
				g := *f.Granted
				granted = &g
			}
			wc.FollowUp = &wireFollowUp{Granted: granted, ExpiresAt: toStamp(f.ExpiresAt)}
			for i, g := range f.Grants {
				ptr := "/consent/follow_up/grants/" + strconv.Itoa(i)
				wc.FollowUp.Grants = append(wc.FollowUp.Grants, wireGrant{
					Recipient: danish(&e, recipients, ptr+"/recipient", g.Recipient),
					Purposes:  danishList(&e, purposes, ptr+"/purposes", g.Purposes),
					Channels:  danishList(&e, channels, ptr+"/channels", g.Channels),
				})
			}
		}
		if g := c.Guardian; g != nil {
			wc.Guardian = &wireGuardian{
				Name:     g.Name,
				Relation: danish(&e, guardianRelations, "/consent/guardian/relation", g.Relation),
				Phone:    g.Phone,
				Email:    g.Email,
			}
		}
		if o := c.Obtained; o != nil {
			wo := &wireObtained{
				At:          toStamp(o.At),
				Method:      danish(&e, methods, "/consent/obtained/method", o.Method),
				EvidenceRef: o.EvidenceRef,
			}
			if o.By != nil {
				wo.Authority = o.By.Authority
				wo.Role = danish(&e, roles, "/consent/obtained/by/role", o.By.Role)
			}
			wc.Obtained = wo
		}
		w.Consent = wc
	}
	if e.err != nil {
		return nil, fmt.Errorf("record %s: %w", r.RecordID, e.err)
	}
	return w, nil
}

// fromWithdrawal converts a withdrawal notice to the regional form.
func fromWithdrawal(n *record.Withdrawal) (*wireWithdrawal, error) {
	e := encoder{}
	w := &wireWithdrawal{
		RecordID:    n.RecordID,
		Version:     n.Version,
		Reason:      danish(&e, reasons, "/reason", n.Reason),
		WithdrawnAt: toStamp(n.WithdrawnAt),
		IncidentID:  n.IncidentID,
	}
	if e.err != nil {
		return nil, fmt.Errorf("withdrawal of %s: %w", n.RecordID, e.err)
	}
	return w, nil
}

// encoder keeps the first value that has no Danish code.
type encoder struct {
	err error
}

// ErrNoCode is wrapped by Encode's error when a record holds a value that
// the regional format has no code for; such a record is not valid.
var ErrNoCode = errors.New("value has no code in the regional format")

func danish[T ~string](e *encoder, v *vocab.Vocab[T], ptr string, t T) string {
	if t == "" {
		return ""
	}
	s, ok := v.Danish(t)
	if !ok && e.err == nil {
		e.err = fmt.Errorf("%s %q: %w", ptr, adapters.Clip(string(t)), ErrNoCode)
	}
	return s
}

func danishList[T ~string](e *encoder, v *vocab.Vocab[T], ptr string, ts []T) []string {
	if len(ts) == 0 {
		return nil
	}
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = danish(e, v, ptr+"/"+strconv.Itoa(i), t)
	}
	return out
}
