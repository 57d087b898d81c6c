package municipality

import (
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/beevik/etree"

	"github.com/psykosocial/exchange/adapters"
	"github.com/psykosocial/exchange/adapters/internal/vocab"
	"github.com/psykosocial/exchange/internal/record"
)

// Errors of Encode, wrapped with the field they concern.
var (
	// ErrCannotEncode is wrapped by every error of Encode.
	ErrCannotEncode = errors.New("municipality: cannot encode")
	// ErrNotXMLText is wrapped when a string holds a character that XML 1.0
	// cannot carry (control characters, U+FFFE, U+FFFF, invalid UTF-8):
	// writing it would change it, so Encode refuses instead.
	ErrNotXMLText = errors.New("holds a character XML 1.0 cannot carry")
)

// Encode writes m as a municipal message: UTF-8 with an XML declaration,
// elements in schema order, indented by two spaces, times in UTC. The same
// message always gives the same bytes. m needs a Header (the format's
// signed header) and either records (KindRegistration) or a withdrawal
// notice (KindWithdrawal); the records must be valid, possibly minimised,
// records. The root's ID is IDPrefix + the message id; the case
// classification is ClassificationFor(m.Header.Recipient). Encode writes no
// signature: the signer adds it as the root's first child.
func (a *Adapter) Encode(m *adapters.Message) ([]byte, error) {
	if m == nil {
		return nil, fmt.Errorf("%w: no message", ErrCannotEncode)
	}
	if err := checkHeader(m.Header); err != nil {
		return nil, err
	}
	doc := etree.NewDocument()
	// Canonical text escaping writes a carriage return as &#xD;, so that
	// it survives the parser's line-end normalisation.
	doc.WriteSettings.CanonicalText = true
	doc.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
	root := doc.CreateElement(RootElement)
	root.CreateAttr("xmlns", Namespace)
	root.CreateAttr("ID", IDPrefix+m.Header.MessageID)
	e := &encoder{}
	e.header(root, m.Header, a.ClassificationFor(m.Header.Recipient))
	switch m.Kind {
	case adapters.KindRegistration:
		switch {
		case m.Withdrawal != nil:
			return nil, fmt.Errorf("%w: a registration message carries no withdrawal notice", ErrCannotEncode)
		case len(m.Items) == 0:
			return nil, fmt.Errorf("%w: a registration message needs at least one record", ErrCannotEncode)
		case len(m.Items) > MaxRegistrations:
			return nil, fmt.Errorf("%w: %d records, the limit per message is %d", ErrCannotEncode, len(m.Items), MaxRegistrations)
		}
		for i, it := range m.Items {
			if it.Record == nil {
				return nil, fmt.Errorf("%w: item %d has no record", ErrCannotEncode, i)
			}
			e.record(root, it.Record)
			if e.err != nil {
				return nil, fmt.Errorf("%w: record %d: %w", ErrCannotEncode, i, e.err)
			}
		}
	case adapters.KindWithdrawal:
		if m.Withdrawal == nil || len(m.Items) > 0 {
			return nil, fmt.Errorf("%w: a withdrawal message carries one withdrawal notice and no records", ErrCannotEncode)
		}
		e.withdrawal(root, m.Withdrawal)
	default:
		return nil, fmt.Errorf("%w: unknown message kind %q", ErrCannotEncode, adapters.Clip(string(m.Kind)))
	}
	if e.err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCannotEncode, e.err)
	}
	doc.IndentWithSettings(&etree.IndentSettings{Spaces: 2, PreserveLeafWhitespace: true})
	out, err := doc.WriteToBytes()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCannotEncode, err)
	}
	return out, nil
}

// checkHeader refuses a header the schema would refuse.
func checkHeader(h *adapters.Header) error {
	switch {
	case h == nil:
		return fmt.Errorf("%w: the format needs a header (message id, sender, recipient, times)", ErrCannotEncode)
	case !reUUID.MatchString(h.MessageID):
		return fmt.Errorf("%w: header message id must be a lower-case UUID", ErrCannotEncode)
	case !reAuthority.MatchString(h.Sender):
		return fmt.Errorf("%w: header sender must be an authority id", ErrCannotEncode)
	case !reAuthority.MatchString(h.Recipient):
		return fmt.Errorf("%w: header recipient must be an authority id", ErrCannotEncode)
	case h.IssuedAt.IsZero() || h.ExpiresAt.IsZero():
		return fmt.Errorf("%w: header needs issued-at and expires-at", ErrCannotEncode)
	case !h.ExpiresAt.After(h.IssuedAt):
		return fmt.Errorf("%w: header expires-at must be after issued-at", ErrCannotEncode)
	case h.SenderReference != "" && (!reReference.MatchString(h.SenderReference) || utf8.RuneCountInString(h.SenderReference) > maxReference):
		return fmt.Errorf("%w: header sender reference must be one line of at most %d characters without surrounding white space", ErrCannotEncode, maxReference)
	}
	return nil
}

// encoder builds elements and keeps the first error.
type encoder struct {
	err error
}

func (e *encoder) fail(format string, args ...any) {
	if e.err == nil {
		e.err = fmt.Errorf(format, args...)
	}
}

// require records an error when a member the schema requires is missing.
func (e *encoder) require(present bool, name string) {
	if !present {
		e.fail("%s is required by the format and missing", name)
	}
}

// leaf adds <name>value</name> to parent unless value is empty.
func (e *encoder) leaf(parent *etree.Element, name, value string) {
	if value == "" {
		return
	}
	if !isXMLText(value) {
		e.fail("%s %w", name, ErrNotXMLText)
		return
	}
	parent.CreateElement(name).SetText(value)
}

func (e *encoder) time(parent *etree.Element, name string, t *time.Time) {
	if t != nil {
		e.leaf(parent, name, formatTime(*t))
	}
}

func (e *encoder) flag(parent *etree.Element, name string, b bool) {
	if b {
		e.leaf(parent, name, "true")
	}
}

func writeCode[T ~string](e *encoder, parent *etree.Element, name string, v *vocab.Vocab[T], value T) {
	if value == "" {
		return
	}
	s, ok := v.Danish(value)
	if !ok {
		e.fail("%s: %q has no code in the format", name, adapters.Clip(string(value)))
		return
	}
	e.leaf(parent, name, s)
}

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func (e *encoder) header(root *etree.Element, h *adapters.Header, c Classification) {
	el := root.CreateElement("Hoved")
	e.leaf(el, "MeddelelsesID", h.MessageID)
	e.leaf(el, "Afsender", h.Sender)
	e.leaf(el, "Modtager", h.Recipient)
	e.leaf(el, "Udstedt", formatTime(h.IssuedAt))
	e.leaf(el, "Udloeber", formatTime(h.ExpiresAt))
	e.leaf(el, "AfsenderReference", h.SenderReference)
	k := el.CreateElement("Sagsklassifikation")
	e.leaf(k, "Emne", c.Subject)
	e.leaf(k, "Handlingsfacet", c.Facet)
}

func (e *encoder) record(root *etree.Element, r *record.Record) {
	e.require(r.Schema == record.SchemaV1, "schema "+record.SchemaV1)
	e.require(r.RecordID != "", "record_id")
	e.require(r.Version >= 1, "version (1 or more)")
	e.require(r.Incident != nil && r.Incident.ID != "", "incident.id")
	e.require(r.Consent != nil && r.Consent.Registration != "", "consent.registration")
	if e.err != nil {
		return
	}
	el := root.CreateElement("Registrering")
	e.leaf(el, "RegistreringsID", r.RecordID)
	e.leaf(el, "Version", strconv.Itoa(r.Version))
	e.incident(el, r.Incident)
	if g := r.Registered; g != nil {
		e.require(g.At != nil && g.ByAuthority != "" && g.ByRole != "", "registered.at, by_authority and by_role")
		x := el.CreateElement("Registreret")
		e.time(x, "Tidspunkt", g.At)
		e.leaf(x, "Myndighed", g.ByAuthority)
		writeCode(e, x, "Rolle", roles, g.ByRole)
	}
	if p := r.Person; p != nil {
		e.person(el, p)
	}
	if rel := r.Relation; rel != nil {
		e.require(rel.Type != "", "relation.type")
		x := el.CreateElement("Tilknytning")
		writeCode(e, x, "Art", relations, rel.Type)
		e.leaf(x, "PaaroerendeTil", rel.RelativeOf)
		if a := rel.Affected; a != nil {
			y := x.CreateElement("BeroertPerson")
			e.leaf(y, "CPRNummer", a.CPR)
			e.leaf(y, "Navn", a.Name)
			if a.BirthDate != nil {
				e.leaf(y, "Foedselsdato", a.BirthDate.String())
			}
		}
		writeCode(e, x, "Slaegtskab", kinships, rel.Kinship)
	}
	if as := r.Assessment; as != nil {
		x := el.CreateElement("Vurdering")
		writeCode(e, x, "Opfoelgningsprioritet", priorities, as.FollowUpPriority)
		e.leaf(x, "Notat", as.Notes)
	}
	e.consent(el, r.Consent)
}

func (e *encoder) incident(parent *etree.Element, in *record.Incident) {
	x := parent.CreateElement("Haendelse")
	e.leaf(x, "HaendelsesID", in.ID)
	e.leaf(x, "Titel", in.Title)
	writeCode(e, x, "Art", incidentKinds, in.Kind)
	e.time(x, "Tidspunkt", in.OccurredAt)
	e.leaf(x, "Kommunekode", in.MunicipalityCode)
	e.leaf(x, "Regionskode", in.RegionCode)
	writeCode(e, x, "Registreringssted", sites, in.Site)
}

func (e *encoder) person(parent *etree.Element, p *record.Person) {
	x := parent.CreateElement("Person")
	e.leaf(x, "CPRNummer", p.CPR)
	e.leaf(x, "ECPRNummer", p.ECPR)
	e.leaf(x, "Navn", p.Name)
	if p.BirthDate != nil {
		e.leaf(x, "Foedselsdato", p.BirthDate.String())
	}
	e.leaf(x, "Telefon", p.Phone)
	e.leaf(x, "Email", p.Email)
	if a := p.Address; a != nil {
		y := x.CreateElement("Adresse")
		e.leaf(y, "Adresselinje", a.Street)
		e.leaf(y, "Postnummer", a.PostalCode)
		e.leaf(y, "Postdistrikt", a.City)
		e.leaf(y, "Landekode", a.Country)
		e.leaf(y, "Kommunekode", a.MunicipalityCode)
	}
	e.flag(x, "Adressebeskyttelse", p.AddressProtected)
	e.leaf(x, "Sprog", p.Language)
	e.flag(x, "Tolkebehov", p.InterpreterNeeded)
}

func (e *encoder) consent(parent *etree.Element, cs *record.Consent) {
	x := parent.CreateElement("Samtykke")
	writeCode(e, x, "TilRegistrering", registrationConsents, cs.Registration)
	if f := cs.FollowUp; f != nil {
		e.require(f.Granted != nil, "consent.follow_up.granted")
		y := x.CreateElement("TilOpfoelgning")
		e.leaf(y, "Givet", strconv.FormatBool(f.IsGranted()))
		if len(f.Grants) > maxGrants {
			e.fail("consent.follow_up.grants: %d grants, the format holds at most %d (one per recipient role)", len(f.Grants), maxGrants)
		}
		for i, g := range f.Grants {
			e.grant(y, i, g)
		}
		e.time(y, "Udloeber", f.ExpiresAt)
	}
	writeCode(e, x, "AfgivetAf", givenBys, cs.GivenBy)
	if g := cs.Guardian; g != nil {
		e.require(g.Name != "" && g.Relation != "", "consent.guardian.name and relation")
		y := x.CreateElement("Vaerge")
		e.leaf(y, "Navn", g.Name)
		writeCode(e, y, "Relation", guardianRelations, g.Relation)
		e.leaf(y, "Telefon", g.Phone)
		e.leaf(y, "Email", g.Email)
	}
	if o := cs.Obtained; o != nil {
		e.require(o.By != nil && o.By.Authority != "" && o.By.Role != "" && o.At != nil && o.Method != "",
			"consent.obtained.by (authority, role), at and method")
		if e.err != nil {
			return
		}
		y := x.CreateElement("Indhentet")
		z := y.CreateElement("Af")
		e.leaf(z, "Myndighed", o.By.Authority)
		writeCode(e, z, "Rolle", roles, o.By.Role)
		e.time(y, "Tidspunkt", o.At)
		writeCode(e, y, "Metode", methods, o.Method)
		e.leaf(y, "Dokumentationsreference", o.EvidenceRef)
	}
	e.time(x, "Tilbagekaldt", cs.WithdrawnAt)
}

// grant writes the i-th follow-up grant as a Tilladelse.
func (e *encoder) grant(parent *etree.Element, i int, g record.Grant) {
	name := fmt.Sprintf("consent.follow_up.grants[%d]", i)
	e.require(g.Recipient != "", name+".recipient")
	e.require(len(g.Purposes) > 0 && len(g.Purposes) <= maxPurposes, fmt.Sprintf("%s.purposes (1 to %d)", name, maxPurposes))
	e.require(len(g.Channels) > 0 && len(g.Channels) <= maxChannels, fmt.Sprintf("%s.channels (1 to %d)", name, maxChannels))
	x := parent.CreateElement("Tilladelse")
	writeCode(e, x, "Modtagerrolle", recipientRoles, g.Recipient)
	for _, p := range g.Purposes {
		writeCode(e, x, "Formaal", purposes, p)
	}
	for _, c := range g.Channels {
		writeCode(e, x, "Kanal", channels, c)
	}
}

func (e *encoder) withdrawal(root *etree.Element, w *record.Withdrawal) {
	e.require(w.Schema == record.WithdrawalSchemaV1, "schema "+record.WithdrawalSchemaV1)
	e.require(w.RecordID != "" && w.Version >= 1 && w.Reason != "" && w.WithdrawnAt != nil,
		"withdrawal record_id, version, reason and withdrawn_at")
	if e.err != nil {
		return
	}
	x := root.CreateElement("Tilbagetraekning")
	e.leaf(x, "RegistreringsID", w.RecordID)
	e.leaf(x, "Version", strconv.Itoa(w.Version))
	writeCode(e, x, "Aarsag", reasons, w.Reason)
	e.time(x, "Tidspunkt", w.WithdrawnAt)
	e.leaf(x, "HaendelsesID", w.IncidentID)
}

// isXMLText reports whether s is valid UTF-8 made only of characters that
// XML 1.0 allows (the Char production).
func isXMLText(s string) bool {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			return false
		}
		switch {
		case r == '\t' || r == '\n' || r == '\r':
		case r >= 0x20 && r <= 0xD7FF:
		case r >= 0xE000 && r <= 0xFFFD:
		case r >= 0x10000 && r <= 0x10FFFF:
		default:
			return false
		}
		i += n
	}
	return true
}
