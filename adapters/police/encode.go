package police

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/beevik/etree"

	"github.com/psykosocial/exchange/adapters"
	"github.com/psykosocial/exchange/adapters/internal/vocab"
	"github.com/psykosocial/exchange/internal/record"
)

// Errors of Encode, wrapped with the detail; match them with errors.Is.
var (
	// ErrNotEncodable means the message cannot be written in the police
	// format: no header, an invalid header, no records, a value the format
	// has no word for, or text XML cannot carry.
	ErrNotEncodable = errors.New("police: the message cannot be encoded")
	// ErrIncidentMismatch means the records of a registration do not share one incident.
	ErrIncidentMismatch = errors.New("police: the records do not share one incident")
	// ErrRegistrant means a list from a police district holds a record that
	// district did not register, or the adapter has no officer role to write.
	ErrRegistrant = errors.New("police: the records do not match the registering district")
)

// Encode writes m as a Personliste (registration) or Tilbagetraekning
// (withdrawal) with m.Header as the header, which must pass the rules
// Decode applies (a police district and the gateway as the two parties, a
// police journal number as SenderReference, required from a district). The records of a registration
// must share one incident (every incident member except site, which the
// format carries per person); Encode names the first record that differs.
// A list whose sender is a police district names that district as
// Registrant, needs the officer role from WithOfficerRole, and takes only
// records registered by that district; a list from the gateway names each
// person's registering authority. The output is deterministic: UTF-8 with
// an XML declaration, elements in schema order, two-space indentation.
func (a *Adapter) Encode(m *adapters.Message) ([]byte, error) {
	if m == nil {
		return nil, fmt.Errorf("%w: no message", ErrNotEncodable)
	}
	if m.Header == nil {
		return nil, fmt.Errorf("%w: the police format needs a header", ErrNotEncodable)
	}
	if is := headerIssues(m.Header); len(is) > 0 {
		return nil, fmt.Errorf("%w: header %s %s", ErrNotEncodable, headerShape[is[0].field].name, is[0].msg)
	}
	e := &encoder{}
	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
	switch m.Kind {
	case adapters.KindRegistration:
		if err := a.encodeList(e, doc, m); err != nil {
			return nil, err
		}
	case adapters.KindWithdrawal:
		if m.Withdrawal != nil {
			if ps := a.v.ValidateWithdrawal(m.Withdrawal); len(ps) > 0 {
				return nil, fmt.Errorf("%w: the withdrawal is invalid: %w", ErrNotEncodable, ps)
			}
		}
		e.withdrawal(doc, m)
	default:
		return nil, fmt.Errorf("%w: unknown message kind %q", ErrNotEncodable, adapters.Clip(string(m.Kind)))
	}
	if e.err != nil {
		return nil, e.err
	}
	doc.IndentWithSettings(&etree.IndentSettings{Spaces: 2, PreserveLeafWhitespace: true})
	doc.WriteSettings.CanonicalText = true // writes a carriage return as &#xD; so that it survives parsing
	out, err := doc.WriteToBytes()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotEncodable, err)
	}
	return out, nil
}

func (a *Adapter) encodeList(e *encoder, doc *etree.Document, m *adapters.Message) error {
	recs := make([]*record.Record, 0, len(m.Items))
	for i, it := range m.Items {
		if it.Record == nil {
			return fmt.Errorf("%w: item %d has no record", ErrNotEncodable, i)
		}
		recs = append(recs, it.Record)
	}
	switch {
	case len(recs) == 0:
		return fmt.Errorf("%w: a list needs at least one record", ErrNotEncodable)
	case len(recs) > MaxPersons:
		return fmt.Errorf("%w: %d records, a list holds at most %d", ErrNotEncodable, len(recs), MaxPersons)
	}
	inc := recs[0].Incident
	if inc == nil {
		return fmt.Errorf("%w: record 0 (%s) has no incident", ErrNotEncodable, adapters.Clip(recs[0].RecordID))
	}
	for i, r := range recs[1:] {
		if f := incidentDiff(inc, r.Incident); f != "" {
			return fmt.Errorf("%w: record %d (%s) differs from record 0 in incident %s", ErrIncidentMismatch, i+1, adapters.Clip(r.RecordID), f)
		}
	}
	h := m.Header
	police := strings.HasPrefix(h.Sender, policePrefix)
	if police {
		if _, ok := officerRoles.Danish(a.officerRole); !ok {
			return fmt.Errorf("%w: a list from a police district needs the officer role (WithOfficerRole)", ErrRegistrant)
		}
		for i, r := range recs {
			if r.Registered == nil || r.Registered.ByAuthority != h.Sender || r.Registered.ByRole != record.RolePolice {
				return fmt.Errorf("%w: record %d (%s) was not registered by %s in the role police", ErrRegistrant, i, adapters.Clip(r.RecordID), h.Sender)
			}
		}
	}

	root := e.root(doc, rootList, h)
	hd := root.CreateElement("Haendelse")
	e.leaf(hd, "HaendelsesID", inc.ID)
	e.leaf(hd, "Titel", inc.Title)
	e.leaf(hd, "Haendelsestype", danish(e, "incident kind", inc.Kind, incidentKinds))
	e.leaf(hd, "Tidspunkt", timeText(inc.OccurredAt))
	e.leaf(hd, "Kommunekode", inc.MunicipalityCode)
	if police {
		rg := root.CreateElement("Registrant")
		e.leaf(rg, "Politikreds", strings.TrimPrefix(h.Sender, policePrefix))
		e.leaf(rg, "Funktion", string(a.officerRole))
	}
	ps := root.CreateElement("Personer")
	for i, r := range recs {
		e.index = i
		e.person(ps, r, police)
		if e.err != nil {
			return e.err
		}
	}
	return nil
}

// incidentDiff names the first incident member (other than site) in which b
// differs from a, or "" when they agree.
func incidentDiff(a, b *record.Incident) string {
	switch {
	case b == nil:
		return "(absent)"
	case a.ID != b.ID:
		return "id"
	case a.Title != b.Title:
		return "title"
	case a.Kind != b.Kind:
		return "kind"
	case (a.OccurredAt == nil) != (b.OccurredAt == nil) || (a.OccurredAt != nil && !a.OccurredAt.Equal(*b.OccurredAt)):
		return "occurred_at"
	case a.MunicipalityCode != b.MunicipalityCode:
		return "municipality_code"
	case a.RegionCode != b.RegionCode:
		return "region_code"
	}
	return ""
}

// encoder writes one document and keeps the first error.
type encoder struct {
	err   error
	index int // the record being written, for errors
}

func (e *encoder) fail(format string, args ...any) {
	if e.err == nil {
		e.err = fmt.Errorf("%w: record %d: %s", ErrNotEncodable, e.index, fmt.Sprintf(format, args...))
	}
}

func (e *encoder) root(doc *etree.Document, name string, h *adapters.Header) *etree.Element {
	root := doc.CreateElement(name)
	root.CreateAttr("xmlns", Namespace)
	root.CreateAttr("ID", "m-"+h.MessageID)
	hv := root.CreateElement("Hoved")
	e.leaf(hv, "MeddelelsesID", h.MessageID)
	e.leaf(hv, "Afsender", h.Sender)
	e.leaf(hv, "Modtager", h.Recipient)
	e.leaf(hv, "Udstedt", timeText(&h.IssuedAt))
	e.leaf(hv, "Udloeber", timeText(&h.ExpiresAt))
	e.leaf(hv, "Journalnummer", h.SenderReference)
	return root
}

// leaf writes a text element unless value is empty.
func (e *encoder) leaf(parent *etree.Element, name, value string) {
	if value == "" {
		return
	}
	if !xmlChars(value) {
		e.fail("%s holds a character XML cannot carry", name)
		return
	}
	parent.CreateElement(name).SetText(value)
}

func (e *encoder) flag(parent *etree.Element, name string, v bool) {
	if v {
		parent.CreateElement(name).SetText("true")
	}
}

func danish[T ~string](e *encoder, what string, v T, voc *vocab.Vocab[T]) string {
	if v == "" {
		return ""
	}
	s, ok := voc.Danish(v)
	if !ok {
		e.fail("%s %q has no value in the police format", what, adapters.Clip(string(v)))
	}
	return s
}

func (e *encoder) person(ps *etree.Element, r *record.Record, police bool) {
	p := ps.CreateElement("Person")
	e.leaf(p, "RegistreringsID", r.RecordID)
	e.leaf(p, "Version", strconv.Itoa(r.Version))
	site := r.Incident.Site
	if r.Registered != nil || site != "" {
		rg := p.CreateElement("Registreret")
		if g := r.Registered; g != nil {
			e.leaf(rg, "Tidspunkt", timeText(g.At))
			if !police {
				e.leaf(rg, "Myndighed", g.ByAuthority)
				e.leaf(rg, "Rolle", danish(e, "registered.by_role", g.ByRole, registrarRoles))
			}
		}
		e.leaf(rg, "Sted", danish(e, "incident site", site, sites))
	}
	if pr := r.Person; pr != nil {
		e.leaf(p, "CPR", pr.CPR)
		e.leaf(p, "ECPR", pr.ECPR)
		e.leaf(p, "Navn", pr.Name)
		if pr.BirthDate != nil {
			e.leaf(p, "Foedselsdato", pr.BirthDate.String())
		}
		e.leaf(p, "Telefon", pr.Phone)
		e.leaf(p, "Email", pr.Email)
		if ad := pr.Address; ad != nil {
			a := p.CreateElement("Adresse")
			e.leaf(a, "Vejadresse", ad.Street)
			e.leaf(a, "Postnummer", ad.PostalCode)
			e.leaf(a, "Postdistrikt", ad.City)
			e.leaf(a, "Landekode", ad.Country)
			e.leaf(a, "Kommunekode", ad.MunicipalityCode)
		}
		e.flag(p, "Adressebeskyttelse", pr.AddressProtected)
		e.leaf(p, "Sprog", pr.Language)
		e.flag(p, "Tolkebehov", pr.InterpreterNeeded)
	}
	if rel := r.Relation; rel != nil {
		t := p.CreateElement("Tilknytning")
		e.leaf(t, "Type", danish(e, "relation type", rel.Type, relationTypes))
		e.leaf(t, "PaaroerendeTil", rel.RelativeOf)
		if af := rel.Affected; af != nil {
			b := t.CreateElement("BeroertPerson")
			e.leaf(b, "CPR", af.CPR)
			e.leaf(b, "Navn", af.Name)
			if af.BirthDate != nil {
				e.leaf(b, "Foedselsdato", af.BirthDate.String())
			}
		}
		e.leaf(t, "Slaegtskab", danish(e, "relation kinship", rel.Kinship, kinships))
	}
	e.consent(p, r.Consent)
}

func (e *encoder) consent(p *etree.Element, cs *record.Consent) {
	if cs == nil {
		e.fail("has no consent block")
		return
	}
	if cs.Registration == record.RegistrationNotObtained {
		return // no Samtykke block: no consent was obtained
	}
	s := p.CreateElement("Samtykke")
	e.leaf(s, "Registrering", danish(e, "consent.registration", cs.Registration, registrationConsents))
	e.leaf(s, "AfgivetAf", danish(e, "consent.given_by", cs.GivenBy, givenBys))
	if g := cs.Guardian; g != nil {
		v := s.CreateElement("Vaerge")
		e.leaf(v, "Navn", g.Name)
		e.leaf(v, "Relation", danish(e, "consent.guardian.relation", g.Relation, guardianRelations))
		e.leaf(v, "Telefon", g.Phone)
		e.leaf(v, "Email", g.Email)
	}
	if o := cs.Obtained; o != nil {
		in := s.CreateElement("Indhentet")
		if o.By != nil {
			e.leaf(in, "Myndighed", o.By.Authority)
			e.leaf(in, "Rolle", danish(e, "consent.obtained.by.role", o.By.Role, registrarRoles))
		}
		e.leaf(in, "Tidspunkt", timeText(o.At))
		e.leaf(in, "Metode", danish(e, "consent.obtained.method", o.Method, consentMethods))
		e.leaf(in, "Dokumentation", o.EvidenceRef)
	}
	// A police district's view has no follow_up block (the police never
	// see contact preferences), another recipient's only its own grant:
	// Opfoelgning is written as the record has it, or not at all.
	if f := cs.FollowUp; f != nil {
		o := s.CreateElement("Opfoelgning")
		if f.Granted != nil {
			o.CreateElement("Givet").SetText(strconv.FormatBool(*f.Granted))
		}
		for _, g := range f.Grants {
			t := o.CreateElement("Tilladelse")
			e.leaf(t, "Modtager", danish(e, "consent grant recipient", g.Recipient, recipientRoles))
			for _, pu := range g.Purposes {
				e.leaf(t, "Formaal", danish(e, "consent grant purpose", pu, purposes))
			}
			for _, c := range g.Channels {
				e.leaf(t, "Kanal", danish(e, "consent grant channel", c, channels))
			}
		}
		e.leaf(o, "Udloeber", timeText(f.ExpiresAt))
	}
	e.leaf(s, "Tilbagekaldt", timeText(cs.WithdrawnAt))
}

func (e *encoder) withdrawal(doc *etree.Document, m *adapters.Message) {
	w := m.Withdrawal
	if w == nil {
		e.err = fmt.Errorf("%w: a withdrawal message without its notice", ErrNotEncodable)
		return
	}
	root := e.root(doc, rootWithdrawal, m.Header)
	e.leaf(root, "RegistreringsID", w.RecordID)
	e.leaf(root, "Version", strconv.Itoa(w.Version))
	e.leaf(root, "Aarsag", danish(e, "withdrawal reason", w.Reason, withdrawalReasons))
	e.leaf(root, "Tidspunkt", timeText(w.WithdrawnAt))
	e.leaf(root, "HaendelsesID", w.IncidentID)
}

// timeText writes an instant in UTC (RFC 3339, fractional seconds only when present).
func timeText(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// xmlChars reports whether s is UTF-8 made only of characters XML 1.0 can carry.
func xmlChars(s string) bool {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n <= 1 {
			return false
		}
		i += n
		switch {
		case r == 0x9 || r == 0xA || r == 0xD:
		case r >= 0x20 && r <= 0xD7FF:
		case r >= 0xE000 && r <= 0xFFFD:
		case r >= 0x10000 && r <= 0x10FFFF:
		default:
			return false
		}
	}
	return true
}
