package police

import (
	"strconv"
	"strings"

	"github.com/beevik/etree"

	"github.com/psykosocial/exchange/internal/record"
)

// personPaths maps the JSON Pointers of the common record to the element
// path below Person that carries the member. Pointers into lists
// (/consent/follow_up/channels/1) name the n-th element of the last name.
// Read-only.
var personPaths = map[string][]string{
	"/record_id":                        {"RegistreringsID"},
	"/version":                          {"Version"},
	"/incident/site":                    {"Registreret", "Sted"},
	"/registered":                       {"Registreret"},
	"/registered/at":                    {"Registreret", "Tidspunkt"},
	"/registered/by_authority":          {"Registreret", "Myndighed"},
	"/registered/by_role":               {"Registreret", "Rolle"},
	"/person/cpr":                       {"CPR"},
	"/person/ecpr":                      {"ECPR"},
	"/person/name":                      {"Navn"},
	"/person/birth_date":                {"Foedselsdato"},
	"/person/phone":                     {"Telefon"},
	"/person/email":                     {"Email"},
	"/person/address":                   {"Adresse"},
	"/person/address/street":            {"Adresse", "Vejadresse"},
	"/person/address/postal_code":       {"Adresse", "Postnummer"},
	"/person/address/city":              {"Adresse", "Postdistrikt"},
	"/person/address/country":           {"Adresse", "Landekode"},
	"/person/address/municipality_code": {"Adresse", "Kommunekode"},
	"/person/address_protected":         {"Adressebeskyttelse"},
	"/person/language":                  {"Sprog"},
	"/person/interpreter_needed":        {"Tolkebehov"},
	"/relation":                         {"Tilknytning"},
	"/relation/type":                    {"Tilknytning", "Type"},
	"/relation/relative_of":             {"Tilknytning", "PaaroerendeTil"},
	"/consent":                          {"Samtykke"},
	"/consent/registration":             {"Samtykke", "Registrering"},
	"/consent/given_by":                 {"Samtykke", "AfgivetAf"},
	"/consent/obtained":                 {"Samtykke", "Indhentet"},
	"/consent/obtained/by":              {"Samtykke", "Indhentet", "Myndighed"},
	"/consent/obtained/by/authority":    {"Samtykke", "Indhentet", "Myndighed"},
	"/consent/obtained/by/role":         {"Samtykke", "Indhentet", "Rolle"},
	"/consent/obtained/at":              {"Samtykke", "Indhentet", "Tidspunkt"},
	"/consent/obtained/method":          {"Samtykke", "Indhentet", "Metode"},
	"/consent/obtained/evidence_ref":    {"Samtykke", "Indhentet", "Dokumentation"},
	"/consent/follow_up":                {"Samtykke", "Opfoelgning"},
	"/consent/follow_up/granted":        {"Samtykke", "Opfoelgning", "Givet"},
	"/consent/follow_up/channels":       {"Samtykke", "Opfoelgning", "Kanal"},
	"/consent/follow_up/recipients":     {"Samtykke", "Opfoelgning", "Modtager"},
	"/consent/follow_up/purposes":       {"Samtykke", "Opfoelgning", "Formaal"},
	"/consent/follow_up/expires_at":     {"Samtykke", "Opfoelgning", "Udloeber"},
	"/consent/withdrawn_at":             {"Samtykke", "Tilbagekaldt"},
}

// mapProblem turns a validator problem of the record decoded from the
// Person element el into a problem with the source path and line. Members
// the list gives once map to the Haendelse or Registrant element. A pointer
// without a source element (the person as a whole, /person) maps to its
// nearest element, and the message keeps the common pointer.
func (d *decoder) mapProblem(el *etree.Element, p record.Problem, mode listMode) record.Problem {
	out := record.Problem{Rule: p.Rule, Message: p.Message}
	switch {
	case mode.police() && p.Pointer == "/registered/by_authority":
		out.Pointer, out.Line = d.resolve(d.registrantEl, []string{"Politikreds"}, -1)
		return out
	case mode.police() && p.Pointer == "/registered/by_role":
		out.Pointer, out.Line = d.resolve(d.registrantEl, []string{"Funktion"}, -1)
		return out
	}
	if name, ok := incidentNames[p.Pointer]; ok && d.incidentEl != nil {
		out.Pointer, out.Line = d.resolve(d.incidentEl, []string{name}, -1)
		return out
	}
	base, idx := p.Pointer, -1
	if i := strings.LastIndexByte(base, '/'); i >= 0 {
		if n, err := strconv.Atoi(base[i+1:]); err == nil && n >= 0 {
			base, idx = base[:i], n
		}
	}
	if names, ok := personPaths[base]; ok {
		if p.Rule == "schema.unique_items" && idx < 0 {
			idx = d.firstRepeat(el, names)
		}
		out.Pointer, out.Line = d.resolve(el, names, idx)
		return out
	}
	// No element of its own: the nearest mapped ancestor, keeping the pointer.
	for prefix := base; prefix != ""; {
		i := strings.LastIndexByte(prefix, '/')
		if i < 0 {
			break
		}
		prefix = prefix[:i]
		if names, ok := personPaths[prefix]; ok {
			out.Pointer, out.Line = d.resolve(el, names, -1)
			out.Message = "common field " + p.Pointer + ": " + p.Message
			return out
		}
	}
	out.Pointer, out.Line = d.path(el), d.line(el)
	out.Message = "common field " + p.Pointer + ": " + p.Message
	return out
}

// firstRepeat returns the index of the first element at names (below el)
// whose text repeats an earlier one, or -1: a list that names a value
// twice is reported at the repeat.
func (d *decoder) firstRepeat(el *etree.Element, names []string) int {
	parent := el
	for _, n := range names[:len(names)-1] {
		if parent = d.child(parent, n); parent == nil {
			return -1
		}
	}
	last := names[len(names)-1]
	var seen []string
	for _, tok := range parent.Child {
		c, ok := tok.(*etree.Element)
		if !ok || c.Tag != last {
			continue
		}
		text := c.Text()
		for _, s := range seen {
			if s == text {
				return len(seen)
			}
		}
		seen = append(seen, text)
	}
	return -1
}
