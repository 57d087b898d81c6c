package police

import (
	"fmt"
	"strings"

	"github.com/beevik/etree"

	"github.com/psykosocial/exchange/adapters"
	"github.com/psykosocial/exchange/internal/record"
)

// child is one entry of an element's content model: a child element in
// schema order with its occurrence bounds.
type child struct {
	name     string
	min, max int
}

// The content models of the XSD, in schema order. Read-only.
var (
	listShape       = [...]child{{"Hoved", 1, 1}, {"Haendelse", 1, 1}, {"Registrant", 0, 1}, {"Personer", 1, 1}}
	withdrawalShape = [...]child{{"Hoved", 1, 1}, {"RegistreringsID", 1, 1}, {"Version", 1, 1}, {"Aarsag", 1, 1}, {"Tidspunkt", 1, 1}, {"HaendelsesID", 0, 1}}
	headerShape     = [...]child{{"MeddelelsesID", 1, 1}, {"Afsender", 1, 1}, {"Modtager", 1, 1}, {"Udstedt", 1, 1}, {"Udloeber", 1, 1}, {"Journalnummer", 0, 1}}
	incidentShape   = [...]child{{"HaendelsesID", 1, 1}, {"Titel", 0, 1}, {"Haendelsestype", 0, 1}, {"Tidspunkt", 0, 1}, {"Kommunekode", 0, 1}}
	registrantShape = [...]child{{"Politikreds", 1, 1}, {"Funktion", 1, 1}}
	personsShape    = [...]child{{"Person", 1, MaxPersons}}
	personShape     = [...]child{{"RegistreringsID", 1, 1}, {"Version", 1, 1}, {"Registreret", 0, 1},
		{"CPR", 0, 1}, {"ECPR", 0, 1}, {"Navn", 0, 1}, {"Foedselsdato", 0, 1}, {"Telefon", 0, 1}, {"Email", 0, 1},
		{"Adresse", 0, 1}, {"Adressebeskyttelse", 0, 1}, {"Sprog", 0, 1}, {"Tolkebehov", 0, 1},
		{"Tilknytning", 0, 1}, {"Samtykke", 0, 1}}
	registeredShape = [...]child{{"Tidspunkt", 0, 1}, {"Myndighed", 0, 1}, {"Rolle", 0, 1}, {"Sted", 0, 1}}
	addressShape    = [...]child{{"Vejadresse", 0, 1}, {"Postnummer", 0, 1}, {"Postdistrikt", 0, 1}, {"Landekode", 0, 1}, {"Kommunekode", 0, 1}}
	relationShape   = [...]child{{"Type", 1, 1}, {"PaaroerendeTil", 0, 1}, {"BeroertPerson", 0, 1}, {"Slaegtskab", 0, 1}}
	affectedShape   = [...]child{{"CPR", 0, 1}, {"Navn", 0, 1}, {"Foedselsdato", 0, 1}}
	consentShape    = [...]child{{"Registrering", 1, 1}, {"AfgivetAf", 0, 1}, {"Vaerge", 0, 1}, {"Indhentet", 0, 1}, {"Opfoelgning", 0, 1}, {"Tilbagekaldt", 0, 1}}
	guardianShape   = [...]child{{"Navn", 1, 1}, {"Relation", 1, 1}, {"Telefon", 0, 1}, {"Email", 0, 1}}
	obtainedShape   = [...]child{{"Myndighed", 1, 1}, {"Rolle", 1, 1}, {"Tidspunkt", 1, 1}, {"Metode", 1, 1}, {"Dokumentation", 0, 1}}
	followUpShape   = [...]child{{"Givet", 1, 1}, {"Tilladelse", 0, 5}, {"Udloeber", 0, 1}}
	grantShape      = [...]child{{"Modtager", 1, 1}, {"Formaal", 1, 5}, {"Kanal", 1, 3}}
)

// scan checks el's attributes, text and children against its content model
// and puts the first element of each entry into out (len(out) == len(shape)).
// Children that break the model are reported. sig allows one ds:Signature as
// the first child (the root).
func (d *decoder) scan(el *etree.Element, shape []child, out []*etree.Element, sig bool) {
	d.attrs(el, el == d.root)
	first := -1
	if sig {
		for i, tok := range el.Child {
			if _, ok := tok.(*etree.Element); ok {
				first = i
				break
			}
		}
	}
	var counts [16]int // every content model has fewer entries
	pos := 0
	textReported := false
	for i, tok := range el.Child {
		switch t := tok.(type) {
		case *etree.CharData:
			if !textReported && collapse(t.Data) != "" {
				d.at(el, "xml.text", "holds elements only; text is not allowed in it")
				textReported = true
			}
		case *etree.Element:
			ns := t.NamespaceURI()
			if ns == dsigNamespace {
				if sig && i == first && t.Tag == "Signature" {
					continue
				}
				d.fatalAt(t, "xml.signature", "a ds:Signature is allowed only once, as the first child of the root")
				continue
			}
			j := -1
			if ns == Namespace {
				for k := range shape {
					if shape[k].name == t.Tag {
						j = k
						break
					}
				}
			}
			switch {
			case j < 0:
				d.unknown(t, "is not allowed in %s")
			case j < pos:
				d.at(t, "xml.order", "is out of order: it must come before %s", shape[pos].name)
			default:
				counts[j]++
				if counts[j] > shape[j].max {
					d.at(t, "xml.repeated", "may appear at most %d times here", shape[j].max)
					continue
				}
				pos = j
				if out[j] == nil {
					out[j] = t
				}
			}
		default:
			d.at(el, "xml.node", "comments, processing instructions and directives are not allowed")
		}
	}
	for j, c := range shape {
		if counts[j] < c.min {
			d.missing(el, c.name, "is required")
		}
	}
}

// attrs reports every attribute of el other than namespace declarations.
func (d *decoder) attrs(el *etree.Element, root bool) {
	for _, a := range el.Attr {
		if a.Space == "xmlns" || (a.Space == "" && a.Key == "xmlns") || (root && a.Space == "" && a.Key == "ID") {
			continue
		}
		if !room(d.out) {
			return
		}
		*d.out = append(*d.out, record.Problem{Pointer: d.path(el) + "/@" + adapters.Clip(a.FullKey()), Line: d.line(el),
			Rule: "xml.unknown_attribute", Message: "attribute " + adapters.Clip(a.FullKey()) + " is not allowed here"})
	}
}

// unknown reports an element the content model does not allow. A ds
// element inside it refuses the document whole: a signature belongs only
// at the start of the root.
func (d *decoder) unknown(el *etree.Element, format string) {
	if hasDsig(el) {
		d.fatalAt(el, "xml.signature", "a ds:Signature is allowed only once, as the first child of the root")
		return
	}
	if !room(d.out) {
		return
	}
	name := adapters.Clip(el.Tag)
	if ns := el.NamespaceURI(); ns != Namespace {
		name += " (namespace " + adapters.Clip(ns) + ")"
	}
	parent := el.Parent()
	pname := ""
	if parent != nil {
		pname = parent.Tag
	}
	msg := "element " + name + " " + fmt.Sprintf(format, adapters.Clip(pname))
	*d.out = append(*d.out, record.Problem{Pointer: d.path(el), Line: d.line(el), Rule: "xml.unknown_element", Message: msg})
}

func hasDsig(el *etree.Element) bool {
	if el.NamespaceURI() == dsigNamespace {
		return true
	}
	for _, tok := range el.Child {
		if c, ok := tok.(*etree.Element); ok && hasDsig(c) {
			return true
		}
	}
	return false
}

// child returns the first child element of el named name, or nil.
func (d *decoder) child(el *etree.Element, name string) *etree.Element {
	if el == nil {
		return nil
	}
	for _, tok := range el.Child {
		if c, ok := tok.(*etree.Element); ok && c.Tag == name {
			return c
		}
	}
	return nil
}

// ===== Problems, paths and lines =====

func (d *decoder) line(el *etree.Element) int {
	if d.lines == nil || el == nil {
		return 0
	}
	return d.lines(el)
}

// path names el the way xmlsafe.Path does (/Personliste/Personer/Person[2]/CPR),
// from the root given to DecodeElement.
func (d *decoder) path(el *etree.Element) string {
	var parts []string
	prefix := ""
	for e := el; e != nil; e = e.Parent() {
		if e == d.root {
			prefix = "/" + adapters.Clip(e.Tag)
			break
		}
		if e == d.person && d.personCount > 0 {
			prefix = d.path(d.personsEl) + "/Person"
			if d.personCount > 1 {
				prefix += fmt.Sprintf("[%d]", d.personIndex+1)
			}
			break
		}
		parts = append(parts, adapters.Clip(e.Tag)+siblingIndex(e))
	}
	var b strings.Builder
	b.WriteString(prefix)
	for i := len(parts) - 1; i >= 0; i-- {
		b.WriteByte('/')
		b.WriteString(parts[i])
	}
	return b.String()
}

func siblingIndex(e *etree.Element) string {
	p := e.Parent()
	if p == nil {
		return ""
	}
	same, pos := 0, 0
	for _, tok := range p.Child {
		if s, ok := tok.(*etree.Element); ok && s.Tag == e.Tag {
			same++
			if s == e {
				pos = same
			}
		}
	}
	if same > 1 {
		return fmt.Sprintf("[%d]", pos)
	}
	return ""
}

func problem(path string, line int, rule, msg string) record.Problem {
	return record.Problem{Pointer: path, Line: line, Rule: rule, Message: msg}
}

func (d *decoder) problemAt(el *etree.Element, rule, msg string) record.Problem {
	return record.Problem{Pointer: d.path(el), Line: d.line(el), Rule: rule, Message: msg}
}

func (d *decoder) at(el *etree.Element, rule, format string, args ...any) {
	if !room(d.out) {
		return
	}
	*d.out = append(*d.out, d.problemAt(el, rule, fmt.Sprintf(format, args...)))
}

func (d *decoder) fatalAt(el *etree.Element, rule, msg string) {
	if !room(&d.fatal) {
		return
	}
	d.fatal = append(d.fatal, d.problemAt(el, rule, msg))
}

// missing reports a required child that is absent, at the path it would have.
func (d *decoder) missing(parent *etree.Element, name, msg string) {
	if !room(d.out) {
		return
	}
	rule := "schema.required"
	*d.out = append(*d.out, record.Problem{Pointer: d.path(parent) + "/" + name, Line: d.line(parent), Rule: rule, Message: msg})
}

// room reports whether list may take another problem. Past maxProblems it
// adds one problem saying that the rest are left out, and then refuses.
func room(list *record.Problems) bool {
	switch {
	case len(*list) < maxProblems:
		return true
	case len(*list) == maxProblems:
		*list = append(*list, record.Problem{Rule: "xml.too_many_problems",
			Message: fmt.Sprintf("more than %d problems; the rest are not listed", maxProblems)})
	}
	return false
}

// addUnique adds a validator problem unless a decoding problem already names its path.
func (d *decoder) addUnique(p record.Problem) {
	if !room(d.out) {
		return
	}
	for _, q := range *d.out {
		if q.Pointer == p.Pointer {
			return
		}
	}
	*d.out = append(*d.out, p)
}

// resolve finds the element at names below base (the idx-th of the last
// name when idx >= 0) and returns its path and line (see resolveAt).
func (d *decoder) resolve(base *etree.Element, names []string, idx int) (string, int) {
	at := make([]int, len(names))
	for i := range at {
		at[i] = -1
	}
	if len(at) > 0 {
		at[len(at)-1] = idx
	}
	return d.resolveAt(base, names, at)
}

// resolveAt finds the element at names below base, the at[i]-th child
// named names[i] (the first when at[i] < 0), and returns its path and
// line; for an absent element the path it would have and the line of its
// nearest present ancestor.
func (d *decoder) resolveAt(base *etree.Element, names []string, at []int) (string, int) {
	cur := base
	for i, n := range names {
		next := d.nth(cur, n, at[i])
		if next == nil {
			var b strings.Builder
			b.WriteString(d.path(cur))
			for j := i; j < len(names); j++ {
				b.WriteByte('/')
				b.WriteString(names[j])
				if at[j] >= 0 {
					fmt.Fprintf(&b, "[%d]", at[j]+1)
				}
			}
			return b.String(), d.line(cur)
		}
		cur = next
	}
	return d.path(cur), d.line(cur)
}

// nth returns the idx-th child element of el named name (the first when
// idx < 0), or nil.
func (d *decoder) nth(el *etree.Element, name string, idx int) *etree.Element {
	if idx < 0 {
		return d.child(el, name)
	}
	if el == nil {
		return nil
	}
	k := 0
	for _, tok := range el.Child {
		if c, ok := tok.(*etree.Element); ok && c.Tag == name {
			if k == idx {
				return c
			}
			k++
		}
	}
	return nil
}
