package municipality

import (
	"strconv"
	"strings"
)

// fieldPath pairs a member of the common record (a JSON Pointer) with the
// element that carries it, as a path of local names relative to the
// Registrering (or Tilbagetraekning) element. An empty source means the
// format does not carry the member as an element.
type fieldPath struct {
	common, source string
}

// recordPaths is the mapping table of a registration, in common schema
// order. Every member of the common record is listed; README.md shows the
// same table and a test keeps the two, and this table and the codec, in
// agreement. Read-only.
var recordPaths = []fieldPath{
	{"/schema", ""}, // implied by the namespace (version 1)
	{"/record_id", "RegistreringsID"},
	{"/version", "Version"},
	{"/incident", "Haendelse"},
	{"/incident/id", "Haendelse/HaendelsesID"},
	{"/incident/title", "Haendelse/Titel"},
	{"/incident/kind", "Haendelse/Art"},
	{"/incident/occurred_at", "Haendelse/Tidspunkt"},
	{"/incident/municipality_code", "Haendelse/Kommunekode"},
	{"/incident/region_code", "Haendelse/Regionskode"},
	{"/incident/site", "Haendelse/Registreringssted"},
	{"/registered", "Registreret"},
	{"/registered/at", "Registreret/Tidspunkt"},
	{"/registered/by_authority", "Registreret/Myndighed"},
	{"/registered/by_role", "Registreret/Rolle"},
	{"/person", "Person"},
	{"/person/cpr", "Person/CPRNummer"},
	{"/person/ecpr", "Person/ECPRNummer"},
	{"/person/name", "Person/Navn"},
	{"/person/birth_date", "Person/Foedselsdato"},
	{"/person/phone", "Person/Telefon"},
	{"/person/email", "Person/Email"},
	{"/person/address", "Person/Adresse"},
	{"/person/address/street", "Person/Adresse/Adresselinje"},
	{"/person/address/postal_code", "Person/Adresse/Postnummer"},
	{"/person/address/city", "Person/Adresse/Postdistrikt"},
	{"/person/address/country", "Person/Adresse/Landekode"},
	{"/person/address/municipality_code", "Person/Adresse/Kommunekode"},
	{"/person/address_protected", "Person/Adressebeskyttelse"},
	{"/person/language", "Person/Sprog"},
	{"/person/interpreter_needed", "Person/Tolkebehov"},
	{"/relation", "Tilknytning"},
	{"/relation/type", "Tilknytning/Art"},
	{"/relation/relative_of", "Tilknytning/PaaroerendeTil"},
	{"/relation/affected", "Tilknytning/BeroertPerson"},
	{"/relation/affected/cpr", "Tilknytning/BeroertPerson/CPRNummer"},
	{"/relation/affected/name", "Tilknytning/BeroertPerson/Navn"},
	{"/relation/affected/birth_date", "Tilknytning/BeroertPerson/Foedselsdato"},
	{"/relation/kinship", "Tilknytning/Slaegtskab"},
	{"/assessment", "Vurdering"},
	{"/assessment/follow_up_priority", "Vurdering/Opfoelgningsprioritet"},
	{"/assessment/notes", "Vurdering/Notat"},
	{"/consent", "Samtykke"},
	{"/consent/registration", "Samtykke/TilRegistrering"},
	{"/consent/follow_up", "Samtykke/TilOpfoelgning"},
	{"/consent/follow_up/granted", "Samtykke/TilOpfoelgning/Givet"},
	{"/consent/follow_up/grants", "Samtykke/TilOpfoelgning/Tilladelse"},
	{"/consent/follow_up/grants/*/recipient", "Samtykke/TilOpfoelgning/Tilladelse/Modtagerrolle"},
	{"/consent/follow_up/grants/*/purposes", "Samtykke/TilOpfoelgning/Tilladelse/Formaal"},
	{"/consent/follow_up/grants/*/channels", "Samtykke/TilOpfoelgning/Tilladelse/Kanal"},
	{"/consent/follow_up/expires_at", "Samtykke/TilOpfoelgning/Udloeber"},
	{"/consent/given_by", "Samtykke/AfgivetAf"},
	{"/consent/guardian", "Samtykke/Vaerge"},
	{"/consent/guardian/name", "Samtykke/Vaerge/Navn"},
	{"/consent/guardian/relation", "Samtykke/Vaerge/Relation"},
	{"/consent/guardian/phone", "Samtykke/Vaerge/Telefon"},
	{"/consent/guardian/email", "Samtykke/Vaerge/Email"},
	{"/consent/obtained", "Samtykke/Indhentet"},
	{"/consent/obtained/by", "Samtykke/Indhentet/Af"},
	{"/consent/obtained/by/authority", "Samtykke/Indhentet/Af/Myndighed"},
	{"/consent/obtained/by/role", "Samtykke/Indhentet/Af/Rolle"},
	{"/consent/obtained/at", "Samtykke/Indhentet/Tidspunkt"},
	{"/consent/obtained/method", "Samtykke/Indhentet/Metode"},
	{"/consent/obtained/evidence_ref", "Samtykke/Indhentet/Dokumentationsreference"},
	{"/consent/withdrawn_at", "Samtykke/Tilbagekaldt"},
}

// withdrawalPaths is the mapping table of a withdrawal notice. Read-only.
var withdrawalPaths = []fieldPath{
	{"/schema", ""}, // implied by the namespace (version 1)
	{"/record_id", "RegistreringsID"},
	{"/version", "Version"},
	{"/reason", "Aarsag"},
	{"/withdrawn_at", "Tidspunkt"},
	{"/incident_id", "HaendelsesID"},
}

// sourceOf maps a JSON Pointer of the common record to the relative element
// path that carries it, and for each element of that path the position
// (0-based) an array index of the pointer gives it, or -1.
// "/consent/follow_up/grants/1/purposes/0" is found in the table as
// "/consent/follow_up/grants/*/purposes" and gives
// "Samtykke/TilOpfoelgning/Tilladelse/Formaal" with positions
// [-1 -1 1 0]: the second Tilladelse, its first Formaal. ok is false when
// no element carries the pointer.
func sourceOf(table []fieldPath, pointer string) (src string, index []int, ok bool) {
	if !strings.HasPrefix(pointer, "/") {
		return "", nil, false
	}
	segs := strings.Split(pointer[1:], "/")
	type at struct{ seg, n int }
	var found []at
	key := ""
	trailing := false
	for k, seg := range segs {
		n, err := strconv.Atoi(seg)
		if err != nil || n < 0 || seg != strconv.Itoa(n) {
			key += "/" + seg
			continue
		}
		// An array index: the array's element is the last of its source.
		s, ok := lookup(table, key)
		if !ok || s == "" {
			return "", nil, false
		}
		found = append(found, at{strings.Count(s, "/"), n})
		key += "/*"
		trailing = k == len(segs)-1
	}
	s, ok := lookup(table, key)
	if (!ok || s == "") && trailing {
		s, ok = lookup(table, strings.TrimSuffix(key, "/*"))
	}
	if !ok || s == "" {
		return "", nil, false
	}
	index = make([]int, strings.Count(s, "/")+1)
	for i := range index {
		index[i] = -1
	}
	for _, f := range found {
		if f.seg < len(index) {
			index[f.seg] = f.n
		}
	}
	return s, index, true
}
func lookup(table []fieldPath, common string) (string, bool) {
	for _, fp := range table {
		if fp.common == common {
			return fp.source, true
		}
	}
	return "", false
}
