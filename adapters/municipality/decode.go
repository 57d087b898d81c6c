package municipality

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/beevik/etree"

	"github.com/psykosocial/exchange/adapters"
	"github.com/psykosocial/exchange/adapters/internal/vocab"
	"github.com/psykosocial/exchange/internal/record"
	"github.com/psykosocial/exchange/internal/xmlsafe"
)

// slot is one element of an XSD sequence: its local name, whether it must
// appear, and how often it may.
type slot struct {
	name     string
	required bool
	max      int
}

// The sequences of the XSD, in schema order. Read-only.
var (
	headerSlots = []slot{
		{"MeddelelsesID", true, 1}, {"Afsender", true, 1}, {"Modtager", true, 1},
		{"Udstedt", true, 1}, {"Udloeber", true, 1}, {"AfsenderReference", false, 1},
		{"Sagsklassifikation", true, 1},
	}
	classificationSlots = []slot{{"Emne", true, 1}, {"Handlingsfacet", false, 1}}
	registrationSlots   = []slot{
		{"RegistreringsID", true, 1}, {"Version", true, 1}, {"Haendelse", true, 1},
		{"Registreret", false, 1}, {"Person", false, 1}, {"Tilknytning", false, 1},
		{"Vurdering", false, 1}, {"Samtykke", true, 1},
	}
	incidentSlots = []slot{
		{"HaendelsesID", true, 1}, {"Titel", false, 1}, {"Art", false, 1}, {"Tidspunkt", false, 1},
		{"Kommunekode", false, 1}, {"Regionskode", false, 1}, {"Registreringssted", false, 1},
	}
	registeredSlots = []slot{{"Tidspunkt", true, 1}, {"Myndighed", true, 1}, {"Rolle", true, 1}}
	personSlots     = []slot{
		{"CPRNummer", false, 1}, {"ECPRNummer", false, 1}, {"Navn", false, 1},
		{"Foedselsdato", false, 1}, {"Telefon", false, 1}, {"Email", false, 1},
		{"Adresse", false, 1}, {"Adressebeskyttelse", false, 1}, {"Sprog", false, 1},
		{"Tolkebehov", false, 1},
	}
	addressSlots = []slot{
		{"Adresselinje", false, 1}, {"Postnummer", false, 1}, {"Postdistrikt", false, 1},
		{"Landekode", false, 1}, {"Kommunekode", false, 1},
	}
	relationSlots = []slot{
		{"Art", true, 1}, {"PaaroerendeTil", false, 1}, {"BeroertPerson", false, 1},
		{"Slaegtskab", false, 1},
	}
	affectedSlots   = []slot{{"CPRNummer", false, 1}, {"Navn", false, 1}, {"Foedselsdato", false, 1}}
	assessmentSlots = []slot{{"Opfoelgningsprioritet", false, 1}, {"Notat", false, 1}}
	consentSlots    = []slot{
		{"TilRegistrering", true, 1}, {"TilOpfoelgning", false, 1}, {"AfgivetAf", false, 1},
		{"Vaerge", false, 1}, {"Indhentet", false, 1}, {"Tilbagekaldt", false, 1},
	}
	followUpSlots = []slot{{"Givet", true, 1}, {"Tilladelse", false, maxGrants}, {"Udloeber", false, 1}}
	grantSlots    = []slot{
		{"Modtagerrolle", true, 1}, {"Formaal", true, maxPurposes}, {"Kanal", true, maxChannels},
	}
	guardianSlots = []slot{{"Navn", true, 1}, {"Relation", true, 1}, {"Telefon", false, 1}, {"Email", false, 1}}
	obtainedSlots = []slot{
		{"Af", true, 1}, {"Tidspunkt", true, 1}, {"Metode", true, 1},
		{"Dokumentationsreference", false, 1},
	}
	obtainedBySlots = []slot{{"Myndighed", true, 1}, {"Rolle", true, 1}}
	withdrawalSlots = []slot{
		{"RegistreringsID", true, 1}, {"Version", true, 1}, {"Aarsag", true, 1},
		{"Tidspunkt", true, 1}, {"HaendelsesID", false, 1},
	}
)

var (
	reUUID      = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	reReference = regexp.MustCompile(`^[^\t\n\r ](?:[^\r\n]*[^\t\n\r ])?$`)
	reRootID    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9._-]{0,127}$`)
	reVersion   = regexp.MustCompile(`^[1-9][0-9]{0,6}$`)
	reDateTime  = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?(?:Z|[+-][0-9]{2}:[0-9]{2})$`)
	reDate      = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)
)

// maxReference is the longest AfsenderReference, in characters.
const maxReference = 100

var errOutOfRange = errors.New("out of range")

// maxZoneOffset is the largest zone offset xs:dateTime allows (±14:00).
const maxZoneOffset = 14 * 60 * 60

// decoder walks one message and collects its problems.
type decoder struct {
	lines func(*etree.Element) int
	// ps are the problems of the current scope: the document, or one item.
	ps record.Problems
	// fatal are problems found inside an item that reject the whole
	// document (a signature element outside its place).
	fatal record.Problems
	// unsure are common pointers whose validation problems are left out of
	// the current item because a decode problem made them unreliable (an
	// unreadable Givet makes every follow-up rule guess).
	unsure []string
}

func (d *decoder) line(el *etree.Element) int {
	if d.lines == nil || el == nil {
		return 0
	}
	return d.lines(el)
}

func (d *decoder) problem(el *etree.Element, rule, format string, args ...any) record.Problem {
	return record.Problem{Pointer: adapters.Clip(xmlsafe.Path(el)), Line: d.line(el), Rule: rule, Message: fmt.Sprintf(format, args...)}
}

func (d *decoder) add(el *etree.Element, rule, format string, args ...any) {
	if len(d.ps) <= maxProblems {
		d.push(&d.ps, d.problem(el, rule, format, args...))
	}
}

// push appends p to *ps, or, once *ps holds maxProblems, one last problem
// saying that the rest were left out.
func (d *decoder) push(ps *record.Problems, p record.Problem) {
	switch n := len(*ps); {
	case n < maxProblems:
		*ps = append(*ps, p)
	case n == maxProblems:
		*ps = append(*ps, record.Problem{Pointer: p.Pointer, Line: p.Line, Rule: "xml.too_many_problems",
			Message: fmt.Sprintf("more than %d problems; the rest are not listed", maxProblems)})
	}
}

// missing reports that parent lacks its required child name.
func (d *decoder) missing(parent *etree.Element, name string) {
	d.push(&d.ps, record.Problem{
		Pointer: adapters.Clip(xmlsafe.Path(parent) + "/" + name), Line: d.line(parent),
		Rule: "schema.required", Message: name + " is required",
	})
}

// other reports a token that no part of the format allows. The hardened
// parser refuses all of them already; DecodeElement may be given a tree
// that was built some other way.
func (d *decoder) other(parent *etree.Element, tok etree.Token) {
	switch tok.(type) {
	case *etree.Comment:
		d.add(parent, "xml.comment", "comments are not allowed")
	case *etree.ProcInst:
		d.add(parent, "xml.processing_instruction", "processing instructions are not allowed")
	case *etree.Directive:
		d.add(parent, "xml.doctype", "DOCTYPE and other directives are not allowed")
	default:
		d.add(parent, "xml.syntax", "unexpected content")
	}
}

// inNamespace reports whether el belongs to the format. An XML-DSig element
// outside the root's first child rejects the whole document (a signature in
// the wrong place is how signature wrapping attacks start).
func (d *decoder) inNamespace(el *etree.Element) bool {
	switch uri := el.NamespaceURI(); uri {
	case Namespace:
		return true
	case dsNamespace:
		if len(d.fatal) > maxProblems {
			return false
		}
		d.push(&d.fatal, d.problem(el, "xml.signature", "ds:%s is allowed only as the ds:Signature that is the first child of %s", adapters.Clip(el.Tag), RootElement))
	default:
		d.add(el, "xml.namespace", "%s is in namespace %q; only %s is allowed here", adapters.Clip(el.Tag), adapters.Clip(uri), Namespace)
	}
	return false
}

// noAttributes reports every attribute of el other than namespace declarations.
func (d *decoder) noAttributes(el *etree.Element) {
	for _, a := range el.Attr {
		if a.Space == "xmlns" || (a.Space == "" && a.Key == "xmlns") {
			continue
		}
		d.add(el, "xml.unknown_attribute", "attribute %s is not allowed on %s", adapters.Clip(a.FullKey()), adapters.Clip(el.Tag))
	}
}

// seq checks the children of el against the sequence slots (names, order,
// occurrences, required elements, no text, no attributes) and calls visit
// for every child element that fits.
func (d *decoder) seq(el *etree.Element, slots []slot, visit func(c *etree.Element)) {
	pos, count := -1, 0
	var seen uint64
	text := false
	for _, tok := range el.Child {
		switch t := tok.(type) {
		case *etree.CharData:
			if !text && !isXMLSpace(t.Data) {
				d.add(el, "xml.text", "%s holds elements only, not text", el.Tag)
				text = true
			}
		case *etree.Element:
			if !d.inNamespace(t) {
				continue
			}
			i := slotIndex(slots, t.Tag)
			switch {
			case i < 0:
				d.add(t, "xml.unknown_element", "%s is not an element of %s", adapters.Clip(t.Tag), el.Tag)
				continue
			case i < pos:
				seen |= 1 << i
				d.add(t, "xml.order", "%s must come before %s", t.Tag, slots[pos].name)
				continue
			case i == pos:
				count++
				if count > slots[i].max {
					if slots[i].max == 1 {
						d.add(t, "xml.max_occurs", "%s may appear only once", t.Tag)
					} else {
						d.add(t, "xml.max_occurs", "%s may appear at most %d times", t.Tag, slots[i].max)
					}
					continue
				}
			default:
				pos, count = i, 1
				seen |= 1 << i
			}
			d.noAttributes(t)
			visit(t)
		default:
			d.other(el, tok)
		}
	}
	for i, s := range slots {
		if s.required && seen&(1<<i) == 0 {
			d.missing(el, s.name)
		}
	}
}

func slotIndex(slots []slot, name string) int {
	for i, s := range slots {
		if s.name == name {
			return i
		}
	}
	return -1
}

// text returns the character data of a leaf element exactly as written
// (free text keeps its white space).
func (d *decoder) text(el *etree.Element) (string, bool) {
	var s string
	var b strings.Builder
	for _, tok := range el.Child {
		switch t := tok.(type) {
		case *etree.CharData:
			if s == "" && b.Len() == 0 {
				s = t.Data
				continue
			}
			if b.Len() == 0 {
				b.WriteString(s)
			}
			b.WriteString(t.Data)
		case *etree.Element:
			d.add(t, "xml.unknown_element", "%s holds text only, not elements", el.Tag)
			return "", false
		default:
			d.other(el, tok)
			return "", false
		}
	}
	if b.Len() > 0 {
		s = b.String()
	}
	if s == "" {
		d.add(el, "xml.empty", "%s must not be empty; leave the element out instead", el.Tag)
		return "", false
	}
	return s, true
}

// token returns the value of a coded leaf element with surrounding white
// space removed, as XSD does for the xs:token based types.
func (d *decoder) token(el *etree.Element) (string, bool) {
	s, ok := d.text(el)
	if !ok {
		return "", false
	}
	s = strings.Trim(s, " \t\r\n")
	if s == "" {
		d.add(el, "xml.empty", "%s must not be empty; leave the element out instead", el.Tag)
		return "", false
	}
	return s, true
}

func (d *decoder) version(el *etree.Element) int {
	s, ok := d.token(el)
	if !ok {
		return 0
	}
	n, err := strconv.Atoi(s)
	if !reVersion.MatchString(s) || err != nil {
		d.add(el, "xml.type", "%s must be a whole number from 1, without sign or leading zeros", el.Tag)
		return 0
	}
	return n
}

func (d *decoder) dateTime(el *etree.Element) *time.Time {
	s, ok := d.token(el)
	if !ok {
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err == nil {
		// The zone offsets xs:dateTime allows, and instants that stay
		// within years 1 to 9999 when written in UTC.
		_, off := t.Zone()
		if y := t.UTC().Year(); off > maxZoneOffset || off < -maxZoneOffset || y < 1 || y > 9999 || t.IsZero() {
			err = errOutOfRange
		}
	}
	if !reDateTime.MatchString(s) || err != nil {
		d.add(el, "xml.type", "%s must be a date and time with a zone offset, such as 2026-06-14T21:40:00+02:00", el.Tag)
		return nil
	}
	return &t
}

func (d *decoder) date(el *etree.Element) *record.Date {
	s, ok := d.token(el)
	if !ok {
		return nil
	}
	dt, err := record.ParseDate(s)
	if !reDate.MatchString(s) || err != nil || dt.Year < 1 {
		d.add(el, "xml.type", "%s must be an existing date of the form YYYY-MM-DD", el.Tag)
		return nil
	}
	return &dt
}

func (d *decoder) boolean(el *etree.Element) (bool, bool) {
	s, ok := d.token(el)
	if !ok {
		return false, false
	}
	switch s {
	case "true", "1":
		return true, true
	case "false", "0":
		return false, true
	}
	d.add(el, "xml.type", "%s must be true or false", el.Tag)
	return false, false
}

// enum decodes a vocabulary code. An unknown code is reported and returned
// as it is, so that list positions stay those of the source; the item then
// has problems and no record.
func enum[T ~string](d *decoder, el *etree.Element, v *vocab.Vocab[T]) T {
	s, ok := d.token(el)
	if !ok {
		return ""
	}
	c, ok := v.Common(s)
	if !ok {
		d.add(el, "xml.enum", "%s must be one of %s", el.Tag, v.List())
		return T(s)
	}
	return c
}

// rootParts are the children of the root that carry the message.
type rootParts struct {
	header        *etree.Element
	registrations []*etree.Element
	withdrawal    *etree.Element
}

func (d *decoder) rootAttributes(root *etree.Element) {
	id := false
	for _, a := range root.Attr {
		switch {
		case a.Space == "xmlns" || (a.Space == "" && a.Key == "xmlns"):
		case a.Space == "" && a.Key == "ID":
			id = true
			if !reRootID.MatchString(a.Value) {
				d.add(root, "schema.pattern", "attribute ID must be an XML name of at most 128 characters (letters, digits, . _ -), such as m-<message id>")
			}
		default:
			d.add(root, "xml.unknown_attribute", "attribute %s is not allowed on %s", adapters.Clip(a.FullKey()), RootElement)
		}
	}
	if !id {
		d.add(root, "schema.required", "attribute ID is required (the signature references the root by it)")
	}
}

// rootChildren sorts the children of the root: at most one ds:Signature as
// the very first child, which is accepted and ignored (the envelope layer
// verifies it before this adapter sees the document), then the header, then
// one or more registrations or one withdrawal notice.
func (d *decoder) rootChildren(root *etree.Element) rootParts {
	var p rootParts
	var sigs []*etree.Element
	var first *etree.Element
	text := false
	for _, tok := range root.Child {
		switch t := tok.(type) {
		case *etree.CharData:
			if !text && !isXMLSpace(t.Data) {
				d.add(root, "xml.text", "%s holds elements only, not text", RootElement)
				text = true
			}
		case *etree.Element:
			if first == nil {
				first = t
			}
			uri := t.NamespaceURI()
			switch {
			case uri == dsNamespace && t.Tag == "Signature":
				sigs = append(sigs, t)
			case uri == dsNamespace:
				d.add(t, "xml.signature", "ds:%s is not allowed; only one ds:Signature, as the first child of %s", adapters.Clip(t.Tag), RootElement)
			case uri != Namespace:
				d.add(t, "xml.namespace", "%s is in namespace %q; only %s is allowed here", adapters.Clip(t.Tag), adapters.Clip(uri), Namespace)
			case t.Tag == "Hoved":
				switch {
				case p.header != nil:
					d.add(t, "xml.max_occurs", "Hoved may appear only once")
				case len(p.registrations) > 0 || p.withdrawal != nil:
					d.add(t, "xml.order", "Hoved must be the first child of %s", RootElement)
				default:
					p.header = t
				}
			case t.Tag == "Registrering":
				if p.withdrawal != nil {
					d.add(t, "xml.choice", "a message holds registrations or one withdrawal notice, not both")
					continue
				}
				p.registrations = append(p.registrations, t)
			case t.Tag == "Tilbagetraekning":
				switch {
				case len(p.registrations) > 0:
					d.add(t, "xml.choice", "a message holds registrations or one withdrawal notice, not both")
				case p.withdrawal != nil:
					d.add(t, "xml.max_occurs", "Tilbagetraekning may appear only once")
				default:
					p.withdrawal = t
				}
			default:
				d.add(t, "xml.unknown_element", "%s is not an element of %s", adapters.Clip(t.Tag), RootElement)
			}
		default:
			d.other(root, tok)
		}
	}
	switch {
	case len(sigs) > 1:
		for _, s := range sigs[1:] {
			d.add(s, "xml.signature", "a message has at most one ds:Signature")
		}
	case len(sigs) == 1 && sigs[0] != first:
		d.add(sigs[0], "xml.signature", "ds:Signature must be the first child of %s", RootElement)
	}
	if p.header == nil {
		d.missing(root, "Hoved")
	}
	if len(p.registrations) == 0 && p.withdrawal == nil {
		d.push(&d.ps, record.Problem{
			Pointer: xmlsafe.Path(root) + "/Registrering", Line: d.line(root), Rule: "schema.required",
			Message: "a message holds one or more Registrering or one Tilbagetraekning",
		})
	}
	if n := len(p.registrations); n > MaxRegistrations {
		d.add(root, "xml.limit", "%d registrations in one message, the limit is %d", n, MaxRegistrations)
	}
	// A Registrering's own attributes are problems of its item (see DecodeElement).
	for _, el := range []*etree.Element{p.header, p.withdrawal} {
		if el != nil {
			d.noAttributes(el)
		}
	}
	return p
}

// header decodes Hoved. Its problems reject the whole document.
func (d *decoder) header(el *etree.Element) *adapters.Header {
	h := &adapters.Header{}
	var issued, expires *time.Time
	pattern := func(c *etree.Element, re *regexp.Regexp, what string) string {
		s, ok := d.token(c)
		if ok && !re.MatchString(s) {
			d.add(c, "schema.pattern", "%s must be %s", c.Tag, what)
		}
		return s
	}
	d.seq(el, headerSlots, func(c *etree.Element) {
		switch c.Tag {
		case "MeddelelsesID":
			h.MessageID = pattern(c, reUUID, "a lower-case UUID")
		case "Afsender":
			h.Sender = pattern(c, reAuthority, "an authority id such as municipality:0851")
		case "Modtager":
			h.Recipient = pattern(c, reAuthority, "an authority id such as municipality:0851")
		case "Udstedt":
			issued = d.dateTime(c)
		case "Udloeber":
			expires = d.dateTime(c)
			if issued != nil && expires != nil && !expires.After(*issued) {
				d.add(c, "header.expires_before_issued", "Udloeber must be after Udstedt")
			}
		case "AfsenderReference":
			s, ok := d.text(c)
			switch {
			case !ok:
			case utf8.RuneCountInString(s) > maxReference:
				d.add(c, "schema.max_length", "AfsenderReference is longer than %d characters", maxReference)
			case !reReference.MatchString(s):
				d.add(c, "schema.pattern", "AfsenderReference must be one line without surrounding white space")
			default:
				h.SenderReference = s
			}
		case "Sagsklassifikation":
			d.seq(c, classificationSlots, func(k *etree.Element) {
				switch k.Tag {
				case "Emne":
					pattern(k, reKLESubject, "a KLE subject number NN.NN.NN")
				case "Handlingsfacet":
					pattern(k, reKLEFacet, "a KLE action facet: a capital letter and two digits")
				}
			})
		}
	})
	if issued != nil {
		h.IssuedAt = *issued
	}
	if expires != nil {
		h.ExpiresAt = *expires
	}
	return h
}

// registration decodes one Registrering into a record (not yet validated).
func (d *decoder) registration(el *etree.Element) *record.Record {
	r := &record.Record{Schema: record.SchemaV1}
	d.seq(el, registrationSlots, func(c *etree.Element) {
		switch c.Tag {
		case "RegistreringsID":
			r.RecordID, _ = d.token(c)
		case "Version":
			r.Version = d.version(c)
		case "Haendelse":
			r.Incident = d.incident(c)
		case "Registreret":
			r.Registered = d.registered(c)
		case "Person":
			r.Person = d.person(c)
		case "Tilknytning":
			r.Relation = d.relation(c)
		case "Vurdering":
			r.Assessment = d.assessment(c)
		case "Samtykke":
			r.Consent = d.consent(c)
		}
	})
	return r
}

func (d *decoder) incident(el *etree.Element) *record.Incident {
	in := &record.Incident{}
	d.seq(el, incidentSlots, func(c *etree.Element) {
		switch c.Tag {
		case "HaendelsesID":
			in.ID, _ = d.token(c)
		case "Titel":
			in.Title, _ = d.text(c)
		case "Art":
			in.Kind = enum(d, c, incidentKinds)
		case "Tidspunkt":
			in.OccurredAt = d.dateTime(c)
		case "Kommunekode":
			in.MunicipalityCode, _ = d.token(c)
		case "Regionskode":
			in.RegionCode, _ = d.token(c)
		case "Registreringssted":
			in.Site = enum(d, c, sites)
		}
	})
	return in
}

func (d *decoder) registered(el *etree.Element) *record.Registered {
	g := &record.Registered{}
	d.seq(el, registeredSlots, func(c *etree.Element) {
		switch c.Tag {
		case "Tidspunkt":
			g.At = d.dateTime(c)
		case "Myndighed":
			g.ByAuthority, _ = d.token(c)
		case "Rolle":
			g.ByRole = enum(d, c, roles)
		}
	})
	return g
}

func (d *decoder) person(el *etree.Element) *record.Person {
	p := &record.Person{}
	d.seq(el, personSlots, func(c *etree.Element) {
		switch c.Tag {
		case "CPRNummer":
			p.CPR, _ = d.token(c)
		case "ECPRNummer":
			p.ECPR, _ = d.token(c)
		case "Navn":
			p.Name, _ = d.text(c)
		case "Foedselsdato":
			p.BirthDate = d.date(c)
		case "Telefon":
			p.Phone, _ = d.token(c)
		case "Email":
			p.Email, _ = d.token(c)
		case "Adresse":
			p.Address = d.address(c)
		case "Adressebeskyttelse":
			p.AddressProtected, _ = d.boolean(c)
		case "Sprog":
			p.Language, _ = d.token(c)
		case "Tolkebehov":
			p.InterpreterNeeded, _ = d.boolean(c)
		}
	})
	return p
}

func (d *decoder) address(el *etree.Element) *record.Address {
	a := &record.Address{}
	d.seq(el, addressSlots, func(c *etree.Element) {
		switch c.Tag {
		case "Adresselinje":
			a.Street, _ = d.text(c)
		case "Postnummer":
			a.PostalCode, _ = d.token(c)
		case "Postdistrikt":
			a.City, _ = d.text(c)
		case "Landekode":
			a.Country, _ = d.token(c)
		case "Kommunekode":
			a.MunicipalityCode, _ = d.token(c)
		}
	})
	return a
}

func (d *decoder) relation(el *etree.Element) *record.Relation {
	rel := &record.Relation{}
	d.seq(el, relationSlots, func(c *etree.Element) {
		switch c.Tag {
		case "Art":
			rel.Type = enum(d, c, relations)
		case "PaaroerendeTil":
			rel.RelativeOf, _ = d.token(c)
		case "BeroertPerson":
			rel.Affected = d.affected(c)
		case "Slaegtskab":
			rel.Kinship = enum(d, c, kinships)
		}
	})
	return rel
}

func (d *decoder) affected(el *etree.Element) *record.AffectedPerson {
	a := &record.AffectedPerson{}
	d.seq(el, affectedSlots, func(c *etree.Element) {
		switch c.Tag {
		case "CPRNummer":
			a.CPR, _ = d.token(c)
		case "Navn":
			a.Name, _ = d.text(c)
		case "Foedselsdato":
			a.BirthDate = d.date(c)
		}
	})
	return a
}

func (d *decoder) assessment(el *etree.Element) *record.Assessment {
	a := &record.Assessment{}
	d.seq(el, assessmentSlots, func(c *etree.Element) {
		switch c.Tag {
		case "Opfoelgningsprioritet":
			a.FollowUpPriority = enum(d, c, priorities)
		case "Notat":
			a.Notes, _ = d.text(c)
		}
	})
	return a
}

func (d *decoder) consent(el *etree.Element) *record.Consent {
	cs := &record.Consent{}
	d.seq(el, consentSlots, func(c *etree.Element) {
		switch c.Tag {
		case "TilRegistrering":
			cs.Registration = enum(d, c, registrationConsents)
		case "TilOpfoelgning":
			cs.FollowUp = d.followUp(c)
		case "AfgivetAf":
			cs.GivenBy = enum(d, c, givenBys)
		case "Vaerge":
			cs.Guardian = d.guardian(c)
		case "Indhentet":
			cs.Obtained = d.obtained(c)
		case "Tilbagekaldt":
			cs.WithdrawnAt = d.dateTime(c)
		}
	})
	return cs
}

func (d *decoder) followUp(el *etree.Element) *record.FollowUp {
	f := &record.FollowUp{}
	d.seq(el, followUpSlots, func(c *etree.Element) {
		switch c.Tag {
		case "Givet":
			if b, ok := d.boolean(c); ok {
				f.Granted = &b
			} else {
				d.unsure = append(d.unsure, "/consent/follow_up")
			}
		case "Tilladelse":
			f.Grants = append(f.Grants, d.grant(c))
		case "Udloeber":
			f.ExpiresAt = d.dateTime(c)
		}
	})
	return f
}

// grant decodes one Tilladelse. Its position in Grants is its position
// among the Tilladelse elements, so that validation problems find it.
func (d *decoder) grant(el *etree.Element) record.Grant {
	var g record.Grant
	d.seq(el, grantSlots, func(c *etree.Element) {
		switch c.Tag {
		case "Modtagerrolle":
			g.Recipient = enum(d, c, recipientRoles)
		case "Formaal":
			g.Purposes = append(g.Purposes, enum(d, c, purposes))
		case "Kanal":
			g.Channels = append(g.Channels, enum(d, c, channels))
		}
	})
	return g
}

func (d *decoder) guardian(el *etree.Element) *record.Guardian {
	g := &record.Guardian{}
	d.seq(el, guardianSlots, func(c *etree.Element) {
		switch c.Tag {
		case "Navn":
			g.Name, _ = d.text(c)
		case "Relation":
			g.Relation = enum(d, c, guardianRelations)
		case "Telefon":
			g.Phone, _ = d.token(c)
		case "Email":
			g.Email, _ = d.token(c)
		}
	})
	return g
}

func (d *decoder) obtained(el *etree.Element) *record.Obtained {
	o := &record.Obtained{}
	d.seq(el, obtainedSlots, func(c *etree.Element) {
		switch c.Tag {
		case "Af":
			by := &record.ObtainedBy{}
			d.seq(c, obtainedBySlots, func(b *etree.Element) {
				switch b.Tag {
				case "Myndighed":
					by.Authority, _ = d.token(b)
				case "Rolle":
					by.Role = enum(d, b, roles)
				}
			})
			o.By = by
		case "Tidspunkt":
			o.At = d.dateTime(c)
		case "Metode":
			o.Method = enum(d, c, methods)
		case "Dokumentationsreference":
			o.EvidenceRef, _ = d.text(c)
		}
	})
	return o
}

// withdrawal decodes Tilbagetraekning (not yet validated).
func (d *decoder) withdrawal(el *etree.Element) *record.Withdrawal {
	w := &record.Withdrawal{Schema: record.WithdrawalSchemaV1}
	d.seq(el, withdrawalSlots, func(c *etree.Element) {
		switch c.Tag {
		case "RegistreringsID":
			w.RecordID, _ = d.token(c)
		case "Version":
			w.Version = d.version(c)
		case "Aarsag":
			w.Reason = enum(d, c, reasons)
		case "Tidspunkt":
			w.WithdrawnAt = d.dateTime(c)
		case "HaendelsesID":
			w.IncidentID, _ = d.token(c)
		}
	})
	return w
}

// mapProblems returns the decode problems have followed by the validation
// problems vps, each moved from its common JSON Pointer to the element
// that carries the member (or would carry it, when it is missing). A
// validation problem at an element that already has a decode problem is
// left out: the decode problem says it first and better.
func (d *decoder) mapProblems(base *etree.Element, table []fieldPath, have, vps record.Problems) record.Problems {
	out := have
	for _, p := range vps {
		if d.isUnsure(p.Pointer) {
			continue
		}
		q := d.locate(base, table, p)
		dup := false
		for _, h := range have {
			if h.Pointer == q.Pointer {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, q)
		}
	}
	return out
}

// isUnsure reports whether pointer lies in a member whose validation a
// decode problem made unreliable.
func (d *decoder) isUnsure(pointer string) bool {
	for _, u := range d.unsure {
		if pointer == u || strings.HasPrefix(pointer, u+"/") {
			return true
		}
	}
	return false
}

// locate maps one validation problem into the source document.
func (d *decoder) locate(base *etree.Element, table []fieldPath, p record.Problem) record.Problem {
	src, index, ok := sourceOf(table, p.Pointer)
	if !ok {
		// Not carried by an element: keep the common pointer in the text.
		return record.Problem{Pointer: adapters.Clip(xmlsafe.Path(base)), Line: d.line(base), Rule: p.Rule,
			Message: "common field " + p.Pointer + " " + p.Message}
	}
	el := base
	segs := strings.Split(src, "/")
	for k, seg := range segs {
		next := nthChild(el, seg, max(index[k], 0))
		if next == nil {
			// The element is missing: name where it would be.
			path := xmlsafe.Path(el)
			for j := k; j < len(segs); j++ {
				path += "/" + segs[j]
				if index[j] >= 0 {
					path += "[" + strconv.Itoa(index[j]+1) + "]"
				}
			}
			return record.Problem{Pointer: adapters.Clip(path), Line: d.line(el), Rule: p.Rule, Message: p.Message}
		}
		el = next
	}
	return record.Problem{Pointer: adapters.Clip(xmlsafe.Path(el)), Line: d.line(el), Rule: p.Rule, Message: p.Message}
}

// nthChild returns the n-th (0-based) child element of el with the local name tag.
func nthChild(el *etree.Element, tag string, n int) *etree.Element {
	for _, tok := range el.Child {
		if c, ok := tok.(*etree.Element); ok && c.Tag == tag {
			if n == 0 {
				return c
			}
			n--
		}
	}
	return nil
}

// isXMLSpace reports whether s is only XML white space.
func isXMLSpace(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ', '\t', '\r', '\n':
		default:
			return false
		}
	}
	return true
}
