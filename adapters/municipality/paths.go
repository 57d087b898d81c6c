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
	{"/assessment", "Vurdering"},
	{"/assessment/follow_up_priority", "Vurdering/Opfoelgningsprioritet"},
	{"/assessment/notes", "Vurdering/Notat"},
	{"/consent", "Samtykke"},
	{"/consent/registration", "Samtykke/TilRegistrering"},
	{"/consent/follow_up", "Samtykke/TilOpfoelgning"},
	{"/consent/follow_up/granted", "Samtykke/TilOpfoelgning/Givet"},
	{"/consent/follow_up/channels", "Samtykke/TilOpfoelgning/Kanal"},
	{"/consent/follow_up/recipients", "Samtykke/TilOpfoelgning/Modtagerrolle"},
	{"/consent/follow_up/purposes", "Samtykke/TilOpfoelgning/Formaal"},
	{"/consent/follow_up/expires_at", "Samtykke/TilOpfoelgning/Udloeber"},
	{"/consent/given_by", "Samtykke/AfgivetAf"},
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
// path that carries it. A trailing array index is returned separately
// ("/consent/follow_up/channels/1" gives "Samtykke/TilOpfoelgning/Kanal"
// and 1); index is -1 without one. ok is false when no element carries the
// pointer.
func sourceOf(table []fieldPath, pointer string) (src string, index int, ok bool) {
	if s, found := lookup(table, pointer); found && s != "" {
		return s, -1, true
	}
	if i := strings.LastIndexByte(pointer, '/'); i >= 0 {
		if n, err := strconv.Atoi(pointer[i+1:]); err == nil && n >= 0 {
			if s, found := lookup(table, pointer[:i]); found && s != "" {
				return s, n, true
			}
		}
	}
	return "", -1, false
}

func lookup(table []fieldPath, common string) (string, bool) {
	for _, fp := range table {
		if fp.common == common {
			return fp.source, true
		}
	}
	return "", false
}
