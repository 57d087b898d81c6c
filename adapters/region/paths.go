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
	{"/relation/affected", "/relation/beroertPerson"},
	{"/relation/affected/cpr", "/relation/beroertPerson/cprNummer"},
	{"/relation/affected/name", "/relation/beroertPerson/navn"},
	{"/relation/affected/birth_date", "/relation/beroertPerson/foedselsdato"},
	{"/relation/kinship", "/relation/slaegtskab"},
	{"/assessment", "/vurdering"},
	{"/assessment/follow_up_priority", "/vurdering/opfoelgningsprioritet"},
	{"/assessment/notes", "/vurdering/notat"},
	{"/consent", "/samtykke"},
	{"/consent/registration", "/samtykke/registrering"},
	{"/consent/follow_up", "/samtykke/opfoelgning"},
	{"/consent/follow_up/granted", "/samtykke/opfoelgning/givet"},
	// Members of array items are listed without the index; sourcePath
	// carries the indices over.
	{"/consent/follow_up/grants", "/samtykke/opfoelgning/tilladelser"},
	{"/consent/follow_up/grants/recipient", "/samtykke/opfoelgning/tilladelser/modtager"},
	{"/consent/follow_up/grants/purposes", "/samtykke/opfoelgning/tilladelser/formaal"},
	{"/consent/follow_up/grants/channels", "/samtykke/opfoelgning/tilladelser/kanaler"},
	{"/consent/follow_up/expires_at", "/samtykke/opfoelgning/udloeber"},
	{"/consent/given_by", "/samtykke/givetAf"},
	{"/consent/guardian", "/samtykke/vaerge"},
	{"/consent/guardian/name", "/samtykke/vaerge/navn"},
	{"/consent/guardian/relation", "/samtykke/vaerge/relation"},
	{"/consent/guardian/phone", "/samtykke/vaerge/telefon"},
	{"/consent/guardian/email", "/samtykke/vaerge/email"},
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
// regional member that carries it. Array indices are carried over to the
// regional pointer, wherever they stand
// ("/consent/follow_up/grants/1/channels/0" →
// "/samtykke/opfoelgning/tilladelser/1/kanaler/0"): the table lists the
// members of array items without an index, and the format nests its
// arrays as the common record does. When no member carries it, the nearest
// carried ancestor is returned with ok false, so that the caller can keep
// the common pointer in its message.
func sourcePath(table []fieldPath, common string) (src string, ok bool) {
	if common == "" {
		return "", true
	}
	segs := strings.Split(common[1:], "/")
	// Walk the pointer, building the regional pointer of each ancestor:
	// an index is appended to the regional pointer of its array.
	var bare, out string // the common pointer without indices; the regional pointer so far
	found := false       // whether bare names a member of the table
	for _, seg := range segs {
		if _, err := strconv.Atoi(seg); err == nil && found {
			out += "/" + seg
			continue
		}
		s, hit := lookupPath(table, bare+"/"+seg)
		if !hit {
			if found {
				return out, false
			}
			return "", false
		}
		// The regional member of a nested member extends the regional
		// pointer of its parent (indices included); the table's own
		// pointer of the parent is a prefix of it.
		parent, _ := lookupPath(table, bare)
		if bare == "" || !strings.HasPrefix(s, parent+"/") {
			out = s
		} else {
			out += s[len(parent):]
		}
		bare += "/" + seg
		found = true
	}
	return out, true
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
