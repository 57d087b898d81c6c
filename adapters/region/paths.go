package region

import (
	"strconv"
	"strings"
)

// fieldPath pairs a member of the common record with the member of a
// regional record (or withdrawal notice) that carries it, both as JSON
// Pointers relative to the record.
type fieldPath struct {
	common, source string
}

// recordPaths is the mapping table of a record, in common schema order.
// Every member of the common record is listed; the doc comment of the
// package shows the same table and a test keeps the two in agreement.
// Read-only.
var recordPaths = []fieldPath{
	{"/schema", ""}, // implied by meddelelsestype
	{"/record_id", "/registreringsId"},
	{"/version", "/version"},
	{"/incident", "/haendelse"},
	{"/incident/id", "/haendelse/id"},
	{"/incident/title", "/haendelse/titel"},
	{"/incident/kind", "/haendelse/type"},
	{"/incident/occurred_at", "/haendelse/tidspunkt"},
	{"/incident/municipality_code", "/haendelse/kommunekode"},
	{"/incident/region_code", "/haendelse/regionskode"},
	{"/incident/site", "/haendelse/sted"},
	{"/registered", "/registreret"},
	{"/registered/at", "/registreret/tidspunkt"},
	{"/registered/by_authority", "/registreret/myndighed"},
	{"/registered/by_role", "/registreret/rolle"},
	{"/person", "/person"},
	{"/person/cpr", "/person/cprNummer"},
	{"/person/ecpr", "/person/ecprNummer"},
	{"/person/name", "/person/navn"},
	{"/person/birth_date", "/person/foedselsdato"},
	{"/person/phone", "/person/telefon"},
	{"/person/email", "/person/email"},
	{"/person/address", "/person/adresse"},
	{"/person/address/street", "/person/adresse/adresselinje"},
	{"/person/address/postal_code", "/person/adresse/postnummer"},
	{"/person/address/city", "/person/adresse/postdistrikt"},
	{"/person/address/country", "/person/adresse/landekode"},
	{"/person/address/municipality_code", "/person/adresse/kommunekode"},
	{"/person/address_protected", "/person/adressebeskyttelse"},
	{"/person/language", "/person/sprog"},
	{"/person/interpreter_needed", "/person/tolkebehov"},
	{"/relation", "/relation"},
	{"/relation/type", "/relation/type"},
	{"/relation/relative_of", "/relation/paaroerendeTil"},
	{"/assessment", "/vurdering"},
	{"/assessment/follow_up_priority", "/vurdering/opfoelgningsprioritet"},
	{"/assessment/notes", "/vurdering/notat"},
	{"/consent", "/samtykke"},
	{"/consent/registration", "/samtykke/registrering"},
	{"/consent/follow_up", "/samtykke/opfoelgning"},
	{"/consent/follow_up/granted", "/samtykke/opfoelgning/givet"},
	{"/consent/follow_up/channels", "/samtykke/opfoelgning/kanaler"},
	{"/consent/follow_up/recipients", "/samtykke/opfoelgning/modtagere"},
	{"/consent/follow_up/purposes", "/samtykke/opfoelgning/formaal"},
	{"/consent/follow_up/expires_at", "/samtykke/opfoelgning/udloeber"},
	{"/consent/given_by", "/samtykke/givetAf"},
	{"/consent/obtained", "/samtykke/indhentet"},
	// The format flattens obtained.by into indhentet: a missing "by" is a
	// missing authority.
	{"/consent/obtained/by", "/samtykke/indhentet/myndighed"},
	{"/consent/obtained/by/authority", "/samtykke/indhentet/myndighed"},
	{"/consent/obtained/by/role", "/samtykke/indhentet/rolle"},
	{"/consent/obtained/at", "/samtykke/indhentet/tidspunkt"},
	{"/consent/obtained/method", "/samtykke/indhentet/metode"},
	{"/consent/obtained/evidence_ref", "/samtykke/indhentet/dokumentationsreference"},
	{"/consent/withdrawn_at", "/samtykke/tilbagekaldtTidspunkt"},
}

// withdrawalPaths is the mapping table of a withdrawal notice. Read-only.
var withdrawalPaths = []fieldPath{
	{"/schema", ""}, // implied by meddelelsestype
	{"/record_id", "/registreringsId"},
	{"/version", "/version"},
	{"/reason", "/aarsag"},
	{"/withdrawn_at", "/tidspunkt"},
	{"/incident_id", "/haendelsesId"},
}

// sourcePath maps a JSON Pointer into the common record (or notice) to the
// regional member that carries it. An array index at the end is kept
// ("/consent/follow_up/channels/1" → "/samtykke/opfoelgning/kanaler/1").
// When no member carries it, the nearest carried ancestor is returned with
// ok false, so that the caller can keep the common pointer in its message.
func sourcePath(table []fieldPath, common string) (src string, ok bool) {
	if common == "" {
		return "", true
	}
	if s, found := lookupPath(table, common); found {
		return s, true
	}
	if i := strings.LastIndexByte(common, '/'); i >= 0 {
		if _, err := strconv.Atoi(common[i+1:]); err == nil {
			if s, found := lookupPath(table, common[:i]); found {
				return s + common[i:], true
			}
		}
	}
	for p := common; p != ""; {
		i := strings.LastIndexByte(p, '/')
		if i < 0 {
			break
		}
		p = p[:i]
		if s, found := lookupPath(table, p); found {
			return s, false
		}
	}
	return "", false
}

func lookupPath(table []fieldPath, common string) (string, bool) {
	for _, fp := range table {
		if fp.common == common {
			return fp.source, true
		}
	}
	return "", false
}

// Mapping is one row of the mapping table: a member of a regional record
// and the member of the common record it carries, as JSON Pointers
// relative to the record. Source is "" for a common member the format
// implies rather than carries (the schema identifier).
type Mapping struct {
	// Source is the member in the regional record, such as /person/cprNummer.
	Source string
	// Common is the member in the common record, such as /person/cpr.
	Common string
}

// MappingTable returns the mapping of a record, in common schema order:
// every member of the common record and the regional member that carries
// it. A fresh copy on every call.
func MappingTable() []Mapping {
	out := make([]Mapping, len(recordPaths))
	for i, fp := range recordPaths {
		out[i] = Mapping{Source: fp.source, Common: fp.common}
	}
	return out
}
