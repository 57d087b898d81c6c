package police

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/psykosocial/exchange/adapters"
	"github.com/psykosocial/exchange/adapters/internal/vocab"
	"github.com/psykosocial/exchange/internal/record"
	"github.com/psykosocial/exchange/internal/xmlsafe"
)

// Patterns the adapter checks itself; the rest of the record's patterns are
// the common validator's. Each is the same as its type in the XSD.
var (
	reDocumentID = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9._-]{0,127}$`)
	reUUID       = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	reAuthority  = regexp.MustCompile(record.AuthorityIDPattern)
	reJournal    = regexp.MustCompile(`^[0-9]{4}-[0-9]{5}-[0-9]{5}-[0-9]{2}$`)
	reDistrict   = regexp.MustCompile(`^[a-z][a-z_]{1,39}$`)
	reDateTime   = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?(Z|[+-]((0[0-9]|1[0-3]):[0-5][0-9]|14:00))$`)
	reDate       = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)
	reVersion    = regexp.MustCompile(`^[1-9][0-9]{0,8}$`)
)

// gatewayID is the authority id of the gateway.
const gatewayID = "gateway"

// policePrefix starts the authority id of a police district.
const policePrefix = "police:"

// Decode parses data with the hardened XML parser and decodes it (see DecodeElement).
// A document that cannot be parsed, or breaks a limit or a hardening rule, is
// refused whole with a record.Problems error naming the path and line.
func (a *Adapter) Decode(data []byte) (*adapters.Message, error) {
	doc, err := xmlsafe.Parse(data, parseLimits)
	if err != nil {
		var xe *xmlsafe.Error
		if errors.As(err, &xe) {
			return adapters.Clipped(nil, record.Problems{{Pointer: xe.Path, Line: xe.Line, Rule: xe.Rule, Message: xe.Message}})
		}
		return nil, record.Problems{{Rule: "xml.syntax", Message: "the document could not be parsed"}}
	}
	return a.DecodeElement(doc.Doc.Root(), doc.Line)
}

// DecodeElement decodes a Personliste or Tilbagetraekning root element. It
// is what the signature verifier calls with the element that XML-DSig
// validation returned; lines gives the source line of an element (nil, or 0
// for an element it does not know, when lines are unknown).
//
// A list gives one item per Person: a valid record, or the problems of that
// person with their paths (/Personliste/Personer/Person[7]/CPR) and lines.
// Problems in the root, the header, the incident or the registrant concern
// every person, and refuse the document whole: the error is then a
// record.Problems and the message nil. A withdrawal notice is one unit:
// any problem refuses it whole.
func (a *Adapter) DecodeElement(root *etree.Element, lines func(*etree.Element) int) (*adapters.Message, error) {
	d := &decoder{a: a, lines: lines, root: root}
	d.out = &d.fatal
	if root == nil {
		return nil, record.Problems{{Rule: "xml.root", Message: "the document has no root element"}}
	}
	if root.NamespaceURI() != Namespace || (root.Tag != rootList && root.Tag != rootWithdrawal) {
		return nil, record.Problems{{Pointer: "/" + adapters.Clip(root.Tag), Line: d.line(root), Rule: "xml.root",
			Message: fmt.Sprintf("the root element must be %s or %s in namespace %s", rootList, rootWithdrawal, Namespace)}}
	}
	if root.Tag == rootWithdrawal {
		return adapters.Clipped(d.withdrawal())
	}
	return adapters.Clipped(d.list())
}

// decoder holds the state of decoding one document.
type decoder struct {
	a     *Adapter
	lines func(*etree.Element) int
	root  *etree.Element
	fatal record.Problems
	// out is where problems go: &fatal, or the current person's problems.
	out *record.Problems

	incidentEl   *etree.Element
	registrantEl *etree.Element
	personsEl    *etree.Element
	person       *etree.Element // the Person being decoded
	personIndex  int
	personCount  int
}

// listMode says who registered the persons of a list.
type listMode struct {
	// district is set in a list from a police district: its Registrant.
	district string
	// role is the Registrant's officer role.
	role OfficerRole
}

func (m listMode) police() bool { return m.district != "" }

func (d *decoder) list() (*adapters.Message, error) {
	var c [len(listShape)]*etree.Element
	d.rootID()
	d.scan(d.root, listShape[:], c[:], true)
	var h *adapters.Header
	if c[0] != nil {
		h = d.header(c[0])
	}
	var inc *record.Incident
	if c[1] != nil {
		d.incidentEl = c[1]
		inc = d.incident(c[1])
	}
	var mode listMode
	if c[2] != nil {
		d.registrantEl = c[2]
		mode = d.registrant(c[2])
	}
	d.listRules(h, c[2], mode)
	if inc != nil {
		d.probe(inc, mode)
	}
	if c[3] != nil {
		d.personsEl = c[3]
		d.persons(c[3])
	}
	if len(d.fatal) > 0 {
		return nil, d.fatal
	}
	msg := &adapters.Message{Format: FormatName, Kind: adapters.KindRegistration, Header: h,
		Items: make([]adapters.Item, 0, d.personCount)}
	var warning string
	if mode.police() {
		warning = fmt.Sprintf("the officer role %s is carried as registered.by_role %s; the specific role is not kept", mode.role, record.RolePolice)
	}
	var ids []string
	var els []*etree.Element
	i := 0
	for _, tok := range c[3].Child {
		el, ok := tok.(*etree.Element)
		if !ok {
			continue
		}
		it, id := d.personItem(el, i, inc, mode)
		if it.Record != nil && warning != "" {
			it.Warnings = []string{warning}
		}
		msg.Items = append(msg.Items, it)
		ids, els = append(ids, id), append(els, el)
		i++
	}
	if ps := adapters.DuplicateRecords(ids, func(i int) (string, int) {
		d.person, d.personIndex = els[i], i
		defer func() { d.person = nil }()
		return d.resolve(els[i], []string{"RegistreringsID"}, -1)
	}); ps != nil {
		return nil, ps
	}
	if len(d.fatal) > 0 { // a misplaced signature inside a person
		return nil, d.fatal
	}
	return msg, nil
}

// listRules holds the rules that tie the header to the registrant.
func (d *decoder) listRules(h *adapters.Header, regEl *etree.Element, mode listMode) {
	if h == nil || h.Sender == "" {
		return
	}
	fromPolice := strings.HasPrefix(h.Sender, policePrefix)
	switch {
	case fromPolice && regEl == nil:
		d.missing(d.root, "Registrant", "is required in a list from a police district: it names the registering district and officer role")
	case !fromPolice && regEl != nil:
		d.at(regEl, "schema.forbidden", "must be absent in a list from %s: each person's Registreret names its registering authority", h.Sender)
	case mode.police() && h.Sender != policePrefix+mode.district:
		d.at(d.child(regEl, "Politikreds"), "police.sender_district",
			"names district %s, but the sender is %s: a police district sends only its own registrations", mode.district, h.Sender)
	}
}

// probe validates what the list gives once for every person (the incident
// and the registrant) with the common validator, so that a problem there
// refuses the list once instead of every person.
func (d *decoder) probe(inc *record.Incident, mode listMode) {
	r := &record.Record{Schema: record.SchemaV1, RecordID: "00000000-0000-4000-8000-000000000000", Version: 1,
		Incident: inc, Consent: &record.Consent{Registration: record.RegistrationNotObtained}}
	if mode.police() {
		at := time.Time{}
		r.Registered = &record.Registered{At: &at, ByAuthority: policePrefix + mode.district, ByRole: record.RolePolice}
	}
	for _, p := range d.a.v.Validate(r) {
		var el *etree.Element
		var name string
		switch {
		case p.Pointer == "/registered/by_authority":
			el, name = d.registrantEl, "Politikreds"
		case strings.HasPrefix(p.Pointer, "/incident/"):
			n, ok := incidentNames[p.Pointer]
			if !ok {
				continue
			}
			el, name = d.incidentEl, n
		default:
			continue
		}
		path, line := d.resolve(el, []string{name}, -1)
		d.addUnique(record.Problem{Pointer: path, Line: line, Rule: p.Rule, Message: p.Message})
	}
}

// incidentNames maps the common incident members to the Haendelse children.
var incidentNames = map[string]string{
	"/incident/id":                "HaendelsesID",
	"/incident/title":             "Titel",
	"/incident/kind":              "Haendelsestype",
	"/incident/occurred_at":       "Tidspunkt",
	"/incident/municipality_code": "Kommunekode",
}

// persons checks the Personer element before any person is decoded.
func (d *decoder) persons(el *etree.Element) {
	n := 0
	for _, tok := range el.Child {
		if _, ok := tok.(*etree.Element); ok {
			n++
		}
	}
	if n > MaxPersons {
		d.at(el, "xml.limit", "holds %d persons, the limit is %d", n, MaxPersons)
		return
	}
	var c [1]*etree.Element
	d.scan(el, personsShape[:], c[:], false)
	d.personCount = n
}

func (d *decoder) rootID() {
	id := ""
	found := false
	for _, at := range d.root.Attr {
		if at.Space == "" && at.Key == "ID" {
			id, found = at.Value, true
		}
	}
	if !room(&d.fatal) {
		return
	}
	switch {
	case !found:
		d.fatal = append(d.fatal, record.Problem{Pointer: d.path(d.root) + "/@ID", Line: d.line(d.root), Rule: "schema.required",
			Message: "the root needs an ID attribute: the signature references it"})
	case !reDocumentID.MatchString(id):
		d.fatal = append(d.fatal, record.Problem{Pointer: d.path(d.root) + "/@ID", Line: d.line(d.root), Rule: "schema.pattern",
			Message: "is not an XML ID of at most 128 characters (letters, digits, . _ -, not starting with a digit)"})
	}
}

func (d *decoder) incident(el *etree.Element) *record.Incident {
	var c [len(incidentShape)]*etree.Element
	d.scan(el, incidentShape[:], c[:], false)
	return &record.Incident{
		ID:               d.str(c[0]),
		Title:            d.str(c[1]),
		Kind:             enumOf(d, c[2], incidentKinds),
		OccurredAt:       d.dateTime(c[3]),
		MunicipalityCode: d.str(c[4]),
	}
}

func (d *decoder) registrant(el *etree.Element) listMode {
	var c [len(registrantShape)]*etree.Element
	d.scan(el, registrantShape[:], c[:], false)
	return listMode{
		district: d.patterned(c[0], reDistrict, "a police district id such as nordjylland"),
		role:     enumOf(d, c[1], officerRoles),
	}
}

// personItem decodes and validates one Person, and returns its record id
// as written ("" when it has none).
func (d *decoder) personItem(el *etree.Element, index int, inc *record.Incident, mode listMode) (adapters.Item, string) {
	it := adapters.Item{Index: index}
	d.person, d.personIndex = el, index
	d.out = &it.Problems
	defer func() { d.out = &d.fatal; d.person = nil }()

	r := d.personRecord(el, inc, mode)
	for _, p := range d.a.v.Validate(r) {
		d.addUnique(d.mapProblem(el, p, mode))
	}
	if len(it.Problems) == 0 {
		it.Record = r
	}
	return it, r.RecordID
}

func (d *decoder) personRecord(el *etree.Element, inc *record.Incident, mode listMode) *record.Record {
	var c [len(personShape)]*etree.Element
	d.scan(el, personShape[:], c[:], false)
	r := &record.Record{Schema: record.SchemaV1}
	r.RecordID = d.str(c[0])
	r.Version = d.version(c[1])
	i := *inc
	if inc.OccurredAt != nil {
		t := *inc.OccurredAt
		i.OccurredAt = &t
	}
	r.Incident = &i
	r.Registered, i.Site = d.registered(c[2], mode)

	var p record.Person
	p.CPR = d.str(c[3])
	p.ECPR = d.str(c[4])
	p.Name = d.str(c[5])
	p.BirthDate = d.date(c[6])
	p.Phone = d.str(c[7])
	p.Email = d.str(c[8])
	p.Address = d.address(c[9])
	p.AddressProtected = d.boolean(c[10])
	p.Language = d.str(c[11])
	p.InterpreterNeeded = d.boolean(c[12])
	if p != (record.Person{}) { // only false flags, or nothing: no person
		r.Person = &p
	}
	r.Relation = d.relation(c[13])
	r.Consent = d.consent(c[14])
	return r
}

func (d *decoder) registered(el *etree.Element, mode listMode) (*record.Registered, record.Site) {
	var c [len(registeredShape)]*etree.Element
	if el != nil {
		d.scan(el, registeredShape[:], c[:], false)
	}
	at := d.dateTime(c[0])
	site := enumOf(d, c[3], sites)
	if mode.police() {
		for _, e := range c[1:3] {
			if e != nil {
				d.at(e, "schema.forbidden", "must be absent in a list from a police district: the Registrant names the registering district")
			}
		}
		return &record.Registered{At: at, ByAuthority: policePrefix + mode.district, ByRole: record.RolePolice}, site
	}
	if (c[1] == nil) != (c[2] == nil) {
		if c[1] == nil {
			d.missing(el, "Myndighed", "is required together with Rolle")
		} else {
			d.missing(el, "Rolle", "is required together with Myndighed")
		}
	}
	g := &record.Registered{At: at, ByAuthority: d.str(c[1]), ByRole: enumOf(d, c[2], registrarRoles)}
	if g.At == nil && c[1] == nil && c[2] == nil {
		return nil, site
	}
	return g, site
}

func (d *decoder) address(el *etree.Element) *record.Address {
	if el == nil {
		return nil
	}
	var c [len(addressShape)]*etree.Element
	d.scan(el, addressShape[:], c[:], false)
	return &record.Address{
		Street:           d.str(c[0]),
		PostalCode:       d.str(c[1]),
		City:             d.str(c[2]),
		Country:          d.str(c[3]),
		MunicipalityCode: d.str(c[4]),
	}
}

func (d *decoder) relation(el *etree.Element) *record.Relation {
	if el == nil {
		return nil
	}
	var c [len(relationShape)]*etree.Element
	d.scan(el, relationShape[:], c[:], false)
	rel := &record.Relation{Type: enumOf(d, c[0], relationTypes), RelativeOf: d.str(c[1]), Kinship: enumOf(d, c[3], kinships)}
	if c[2] != nil {
		var a [len(affectedShape)]*etree.Element
		d.scan(c[2], affectedShape[:], a[:], false)
		rel.Affected = &record.AffectedPerson{CPR: d.str(a[0]), Name: d.str(a[1]), BirthDate: d.date(a[2])}
	}
	return rel
}

func (d *decoder) consent(el *etree.Element) *record.Consent {
	if el == nil {
		return &record.Consent{Registration: record.RegistrationNotObtained}
	}
	var c [len(consentShape)]*etree.Element
	d.scan(el, consentShape[:], c[:], false)
	cs := &record.Consent{
		Registration: enumOf(d, c[0], registrationConsents),
		GivenBy:      enumOf(d, c[1], givenBys),
	}
	if c[2] != nil {
		var g [len(guardianShape)]*etree.Element
		d.scan(c[2], guardianShape[:], g[:], false)
		cs.Guardian = &record.Guardian{Name: d.str(g[0]), Relation: enumOf(d, g[1], guardianRelations), Phone: d.str(g[2]), Email: d.str(g[3])}
	}
	if c[3] != nil {
		var o [len(obtainedShape)]*etree.Element
		d.scan(c[3], obtainedShape[:], o[:], false)
		ob := &record.Obtained{At: d.dateTime(o[2]), Method: enumOf(d, o[3], consentMethods), EvidenceRef: d.str(o[4])}
		if o[0] != nil || o[1] != nil {
			ob.By = &record.ObtainedBy{Authority: d.str(o[0]), Role: enumOf(d, o[1], registrarRoles)}
		}
		cs.Obtained = ob
	}
	if c[4] != nil {
		cs.FollowUp = d.followUp(c[4])
	}
	cs.WithdrawnAt = d.dateTime(c[5])
	return cs
}

// followUp decodes Opfoelgning: Givet, one Tilladelse (grant) per
// recipient role, Udloeber.
func (d *decoder) followUp(el *etree.Element) *record.FollowUp {
	var f [len(followUpShape)]*etree.Element
	d.scan(el, followUpShape[:], f[:], false)
	fu := &record.FollowUp{Granted: d.booleanPtr(f[0]), ExpiresAt: d.dateTime(f[2])}
	// Beyond a list's maximum scan has refused the person already; the
	// bounds keep a hostile list from reaching the validator.
	for _, e := range childElements(el, "Tilladelse", followUpShape[1].max) {
		var g [len(grantShape)]*etree.Element
		d.scan(e, grantShape[:], g[:], false)
		gr := record.Grant{Recipient: enumOf(d, g[0], recipientRoles)}
		for _, p := range childElements(e, "Formaal", grantShape[1].max) {
			gr.Purposes = append(gr.Purposes, enumOf(d, p, purposes))
		}
		for _, k := range childElements(e, "Kanal", grantShape[2].max) {
			gr.Channels = append(gr.Channels, enumOf(d, k, channels))
		}
		fu.Grants = append(fu.Grants, gr)
	}
	return fu
}

// childElements returns at most max child elements of el named name, in
// document order.
func childElements(el *etree.Element, name string, max int) []*etree.Element {
	var out []*etree.Element
	for _, tok := range el.Child {
		if e, ok := tok.(*etree.Element); ok && e.Tag == name && e.NamespaceURI() == Namespace {
			if len(out) == max {
				break
			}
			out = append(out, e)
		}
	}
	return out
}

func (d *decoder) withdrawal() (*adapters.Message, error) {
	var c [len(withdrawalShape)]*etree.Element
	d.rootID()
	d.scan(d.root, withdrawalShape[:], c[:], true)
	var h *adapters.Header
	if c[0] != nil {
		h = d.header(c[0])
	}
	w := &record.Withdrawal{
		Schema:      record.WithdrawalSchemaV1,
		RecordID:    d.str(c[1]),
		Version:     d.version(c[2]),
		Reason:      enumOf(d, c[3], withdrawalReasons),
		WithdrawnAt: d.dateTime(c[4]),
		IncidentID:  d.str(c[5]),
	}
	for _, p := range d.a.v.ValidateWithdrawal(w) {
		name, ok := withdrawalNames[p.Pointer]
		if !ok {
			name = ""
		}
		path, line := d.resolve(d.root, splitName(name), -1)
		msg := p.Message
		if !ok {
			msg = "common field " + p.Pointer + ": " + msg
		}
		d.addUnique(record.Problem{Pointer: path, Line: line, Rule: p.Rule, Message: msg})
	}
	if len(d.fatal) > 0 {
		return nil, d.fatal
	}
	return &adapters.Message{Format: FormatName, Kind: adapters.KindWithdrawal, Header: h, Withdrawal: w}, nil
}

// withdrawalNames maps the members of a common withdrawal to the root's children.
var withdrawalNames = map[string]string{
	"/record_id":    "RegistreringsID",
	"/version":      "Version",
	"/reason":       "Aarsag",
	"/withdrawn_at": "Tidspunkt",
	"/incident_id":  "HaendelsesID",
}

func splitName(name string) []string {
	if name == "" {
		return nil
	}
	return []string{name}
}

// ===== Reading values =====

// text returns the character data of a leaf element, reporting attributes
// and child elements it must not have.
func (d *decoder) text(el *etree.Element) (string, bool) {
	d.attrs(el, false)
	var s string
	var b *strings.Builder
	ok := true
	for _, tok := range el.Child {
		switch t := tok.(type) {
		case *etree.CharData:
			if s == "" && b == nil {
				s = t.Data
				continue
			}
			if b == nil {
				b = &strings.Builder{}
				b.WriteString(s)
			}
			b.WriteString(t.Data)
		case *etree.Element:
			d.unknown(t, "is not allowed: %s holds only text")
			ok = false
		default:
			d.at(el, "xml.node", "comments, processing instructions and directives are not allowed")
			ok = false
		}
	}
	if b != nil {
		s = b.String()
	}
	return s, ok
}

// str reads a string element; "" when absent or wrong. Patterns and lengths
// are the common validator's to check.
func (d *decoder) str(el *etree.Element) string {
	if el == nil {
		return ""
	}
	s, ok := d.text(el)
	if !ok {
		return ""
	}
	if s == "" {
		d.at(el, "xml.empty", "must not be empty (leave the element out instead)")
	}
	return s
}

// patterned reads a string element that must match re.
func (d *decoder) patterned(el *etree.Element, re *regexp.Regexp, what string) string {
	s := d.str(el)
	if s == "" {
		return ""
	}
	if !re.MatchString(s) {
		d.at(el, "schema.pattern", "is not %s", what)
		return ""
	}
	return s
}

// collapse trims the XML white space that XSD's built-in types (dateTime,
// date, boolean, int) ignore around their values.
func collapse(s string) string { return strings.Trim(s, " \t\r\n") }

func (d *decoder) dateTime(el *etree.Element) *time.Time {
	if el == nil {
		return nil
	}
	s, ok := d.text(el)
	if !ok {
		return nil
	}
	s = collapse(s)
	t, err := time.Parse(time.RFC3339Nano, s)
	if !reDateTime.MatchString(s) || err != nil || strings.HasPrefix(s, "0000") {
		d.at(el, "schema.type", "is not a date and time with a zone offset, such as 2026-11-24T18:05:00+01:00")
		return nil
	}
	return &t
}

func (d *decoder) date(el *etree.Element) *record.Date {
	if el == nil {
		return nil
	}
	s, ok := d.text(el)
	if !ok {
		return nil
	}
	s = collapse(s)
	dt, err := record.ParseDate(s)
	if !reDate.MatchString(s) || err != nil || dt.Year == 0 {
		d.at(el, "schema.type", "is not an existing date of the form YYYY-MM-DD")
		return nil
	}
	return &dt
}

func (d *decoder) boolean(el *etree.Element) bool {
	if el == nil {
		return false
	}
	s, ok := d.text(el)
	if !ok {
		return false
	}
	switch collapse(s) {
	case "true", "1":
		return true
	case "false", "0":
		return false
	}
	d.at(el, "schema.type", "is not a boolean (true or false)")
	return false
}

// booleanPtr reads a required boolean: nil when absent or wrong.
func (d *decoder) booleanPtr(el *etree.Element) *bool {
	if el == nil {
		return nil
	}
	before := len(*d.out)
	v := d.boolean(el)
	if len(*d.out) > before {
		return nil
	}
	return &v
}

func (d *decoder) version(el *etree.Element) int {
	if el == nil {
		return 0
	}
	s, ok := d.text(el)
	if !ok {
		return 0
	}
	s = collapse(s)
	if !reVersion.MatchString(s) {
		d.at(el, "schema.type", "is not a version number (1 or more, at most 9 digits)")
		return 0
	}
	n := 0
	for _, ch := range s {
		n = n*10 + int(ch-'0')
	}
	return n
}

func enumOf[T ~string](d *decoder, el *etree.Element, v *vocab.Vocab[T]) T {
	var zero T
	if el == nil {
		return zero
	}
	s, ok := d.text(el)
	if !ok {
		return zero
	}
	c, found := v.Common(s)
	if !found {
		d.at(el, "schema.enum", "must be one of %s", v.List())
	}
	return c
}
