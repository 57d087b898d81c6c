package police

import (
	"slices"
	"strconv"
	"strings"

	"github.com/beevik/etree"

	"github.com/psykosocial/exchange/internal/record"
)

// personPaths maps the JSON Pointers of the common record to the element
// path below Person that carries the member. An array index in a pointer
// (/consent/follow_up/grants/1/channels/0) is written * in the key and
// names the n-th element of the path step marked [*], in order; a step
// marked [*] that the pointer gives no index names the first element (for
// schema.unique_items, the first repeat). Read-only.
var personPaths = compilePaths(map[string]string{
	"/record_id":                            "RegistreringsID",
	"/version":                              "Version",
	"/incident/site":                        "Registreret/Sted",
	"/registered":                           "Registreret",
	"/registered/at":                        "Registreret/Tidspunkt",
	"/registered/by_authority":              "Registreret/Myndighed",
	"/registered/by_role":                   "Registreret/Rolle",
	"/person/cpr":                           "CPR",
	"/person/ecpr":                          "ECPR",
	"/person/name":                          "Navn",
	"/person/birth_date":                    "Foedselsdato",
	"/person/phone":                         "Telefon",
	"/person/email":                         "Email",
	"/person/address":                       "Adresse",
	"/person/address/street":                "Adresse/Vejadresse",
	"/person/address/postal_code":           "Adresse/Postnummer",
	"/person/address/city":                  "Adresse/Postdistrikt",
	"/person/address/country":               "Adresse/Landekode",
	"/person/address/municipality_code":     "Adresse/Kommunekode",
	"/person/address_protected":             "Adressebeskyttelse",
	"/person/language":                      "Sprog",
	"/person/interpreter_needed":            "Tolkebehov",
	"/relation":                             "Tilknytning",
	"/relation/type":                        "Tilknytning/Type",
	"/relation/relative_of":                 "Tilknytning/PaaroerendeTil",
	"/relation/affected":                    "Tilknytning/BeroertPerson",
	"/relation/affected/cpr":                "Tilknytning/BeroertPerson/CPR",
	"/relation/affected/name":               "Tilknytning/BeroertPerson/Navn",
	"/relation/affected/birth_date":         "Tilknytning/BeroertPerson/Foedselsdato",
	"/relation/kinship":                     "Tilknytning/Slaegtskab",
	"/consent":                              "Samtykke",
	"/consent/registration":                 "Samtykke/Registrering",
	"/consent/given_by":                     "Samtykke/AfgivetAf",
	"/consent/guardian":                     "Samtykke/Vaerge",
	"/consent/guardian/name":                "Samtykke/Vaerge/Navn",
	"/consent/guardian/relation":            "Samtykke/Vaerge/Relation",
	"/consent/guardian/phone":               "Samtykke/Vaerge/Telefon",
	"/consent/guardian/email":               "Samtykke/Vaerge/Email",
	"/consent/obtained":                     "Samtykke/Indhentet",
	"/consent/obtained/by":                  "Samtykke/Indhentet/Myndighed",
	"/consent/obtained/by/authority":        "Samtykke/Indhentet/Myndighed",
	"/consent/obtained/by/role":             "Samtykke/Indhentet/Rolle",
	"/consent/obtained/at":                  "Samtykke/Indhentet/Tidspunkt",
	"/consent/obtained/method":              "Samtykke/Indhentet/Metode",
	"/consent/obtained/evidence_ref":        "Samtykke/Indhentet/Dokumentation",
	"/consent/follow_up":                    "Samtykke/Opfoelgning",
	"/consent/follow_up/granted":            "Samtykke/Opfoelgning/Givet",
	"/consent/follow_up/grants":             "Samtykke/Opfoelgning/Tilladelse[*]",
	"/consent/follow_up/grants/*/recipient": "Samtykke/Opfoelgning/Tilladelse[*]/Modtager",
	"/consent/follow_up/grants/*/purposes":  "Samtykke/Opfoelgning/Tilladelse[*]/Formaal[*]",
	"/consent/follow_up/grants/*/channels":  "Samtykke/Opfoelgning/Tilladelse[*]/Kanal[*]",
	"/consent/follow_up/expires_at":         "Samtykke/Opfoelgning/Udloeber",
	"/consent/withdrawn_at":                 "Samtykke/Tilbagekaldt",
})

// step is one element name of a path below Person; indexed steps take an
// array index of the pointer.
type step struct {
	name    string
	indexed bool
}

func compilePaths(m map[string]string) map[string][]step {
	out := make(map[string][]step, len(m))
	for ptr, path := range m {
		var ss []step
		for _, n := range strings.Split(path, "/") {
			name, indexed := strings.CutSuffix(n, "[*]")
			ss = append(ss, step{name: name, indexed: indexed})
		}
		out[ptr] = ss
	}
	return out
}

// pointerKey splits a JSON Pointer into its personPaths key (array indices
// written *) and the indices.
func pointerKey(ptr string) (string, []int) {
	segs := strings.Split(ptr, "/")
	var idx []int
	for i, s := range segs {
		if n, err := strconv.Atoi(s); err == nil && n >= 0 && s == strconv.Itoa(n) {
			segs[i] = "*"
			idx = append(idx, n)
		}
	}
	return strings.Join(segs, "/"), idx
}

// lookupPath finds the element path of a pointer key: the key itself, or
// the key without a trailing array index (whose index then goes to the
// path's last indexed step).
func lookupPath(key string) ([]step, bool) {
	if ss, ok := personPaths[key]; ok {
		return ss, true
	}
	if k, ok := strings.CutSuffix(key, "/*"); ok {
		ss, ok := personPaths[k]
		return ss, ok
	}
	return nil, false
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
	key, idx := pointerKey(p.Pointer)
	if ss, ok := lookupPath(key); ok {
		out.Pointer, out.Line = d.resolveSteps(el, ss, idx, p.Rule == "schema.unique_items")
		return out
	}
	// No element of its own: the nearest mapped ancestor, keeping the pointer.
	for prefix := key; prefix != ""; {
		i := strings.LastIndexByte(prefix, '/')
		if i < 0 {
			break
		}
		prefix = prefix[:i]
		if ss, ok := lookupPath(prefix); ok {
			out.Pointer, out.Line = d.resolveSteps(el, ss, idx, false)
			out.Message = "common field " + p.Pointer + ": " + p.Message
			return out
		}
	}
	out.Pointer, out.Line = d.path(el), d.line(el)
	out.Message = "common field " + p.Pointer + ": " + p.Message
	return out
}

// resolveSteps finds the element at ss below base, giving the indexed
// steps the indices idx in order (the first element where idx runs out,
// or, with repeat, the first repeat of the last step), and returns its
// path and line; for an absent element the path it would have and the
// line of its nearest present ancestor.
func (d *decoder) resolveSteps(base *etree.Element, ss []step, idx []int, repeat bool) (string, int) {
	names := make([]string, len(ss))
	at := make([]int, len(ss))
	k := 0
	for i, s := range ss {
		names[i], at[i] = s.name, -1
		if s.indexed && k < len(idx) {
			at[i] = idx[k]
			k++
		}
	}
	if last := len(ss) - 1; repeat && ss[last].indexed && at[last] < 0 {
		parent := base
		for i := range last {
			if parent = d.nth(parent, names[i], at[i]); parent == nil {
				break
			}
		}
		if parent != nil {
			at[last] = firstRepeat(parent, names[last])
		}
	}
	return d.resolveAt(base, names, at)
}

// firstRepeat returns the index of the first child element of parent
// named name whose text repeats an earlier one, or -1: a list that names a
// value twice is reported at the repeat.
func firstRepeat(parent *etree.Element, name string) int {
	var seen []string
	for _, tok := range parent.Child {
		c, ok := tok.(*etree.Element)
		if !ok || c.Tag != name {
			continue
		}
		text := c.Text()
		if slices.Contains(seen, text) {
			return len(seen)
		}
		seen = append(seen, text)
	}
	return -1
}
