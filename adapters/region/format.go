package region

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/psykosocial/exchange/internal/record"
)

// The message type discriminators: the value of the top-level member
// "meddelelsestype". The version suffix changes only with an incompatible
// format.
const (
	// TypeRegistration marks a registration: one record ("registrering") or a
	// list ("registreringer").
	TypeRegistration = "epc-registrering/v1"
	// TypeWithdrawal marks a withdrawal notice ("tilbagetraekning").
	TypeWithdrawal = "epc-tilbagetraekning/v1"
)

// Top-level member names.
const (
	memberType       = "meddelelsestype"
	memberRecord     = "registrering"
	memberRecords    = "registreringer"
	memberWithdrawal = "tilbagetraekning"
)

// wireDocument is the top-level object as Encode writes it. Decode reads the
// top level by hand (see envelope.go) so that it can decode each record on
// its own and point into the source.
type wireDocument struct {
	Type       string          `json:"meddelelsestype"`
	Record     *wireRecord     `json:"registrering,omitempty"`
	Records    []*wireRecord   `json:"registreringer,omitempty"`
	Withdrawal *wireWithdrawal `json:"tilbagetraekning,omitempty"`
}

// wireRecord is one registration ("registrering").
type wireRecord struct {
	RecordID   string          `json:"registreringsId"`
	Version    int             `json:"version"`
	Incident   *wireIncident   `json:"haendelse,omitempty"`
	Registered *wireRegistered `json:"registreret,omitempty"`
	Person     *wirePerson     `json:"person,omitempty"`
	Relation   *wireRelation   `json:"relation,omitempty"`
	Assessment *wireAssessment `json:"vurdering,omitempty"`
	Consent    *wireConsent    `json:"samtykke,omitempty"`
}

type wireIncident struct {
	ID               string `json:"id"`
	Title            string `json:"titel,omitempty"`
	Kind             string `json:"type,omitempty"`
	OccurredAt       *stamp `json:"tidspunkt,omitempty"`
	MunicipalityCode code   `json:"kommunekode,omitempty"`
	RegionCode       code   `json:"regionskode,omitempty"`
	Site             string `json:"sted,omitempty"`
}

type wireRegistered struct {
	At        *stamp `json:"tidspunkt,omitempty"`
	Authority string `json:"myndighed,omitempty"`
	Role      string `json:"rolle,omitempty"`
}

type wirePerson struct {
	CPR               string       `json:"cprNummer,omitempty"`
	ECPR              string       `json:"ecprNummer,omitempty"`
	Name              string       `json:"navn,omitempty"`
	BirthDate         *record.Date `json:"foedselsdato,omitempty"`
	Phone             string       `json:"telefon,omitempty"`
	Email             string       `json:"email,omitempty"`
	Address           *wireAddress `json:"adresse,omitempty"`
	AddressProtected  bool         `json:"adressebeskyttelse,omitempty"`
	Language          string       `json:"sprog,omitempty"`
	InterpreterNeeded bool         `json:"tolkebehov,omitempty"`
}

type wireAddress struct {
	Street           string `json:"adresselinje,omitempty"`
	PostalCode       string `json:"postnummer,omitempty"`
	City             string `json:"postdistrikt,omitempty"`
	Country          string `json:"landekode,omitempty"`
	MunicipalityCode code   `json:"kommunekode,omitempty"`
}

type wireRelation struct {
	Type       string        `json:"type,omitempty"`
	RelativeOf string        `json:"paaroerendeTil,omitempty"`
	Affected   *wireAffected `json:"beroertPerson,omitempty"`
	Kinship    string        `json:"slaegtskab,omitempty"`
}

// wireAffected names the affected person of a relative ("beroertPerson").
type wireAffected struct {
	CPR       string       `json:"cprNummer,omitempty"`
	Name      string       `json:"navn,omitempty"`
	BirthDate *record.Date `json:"foedselsdato,omitempty"`
}

type wireAssessment struct {
	FollowUpPriority string `json:"opfoelgningsprioritet,omitempty"`
	Notes            string `json:"notat,omitempty"`
}

type wireConsent struct {
	Registration string        `json:"registrering,omitempty"`
	FollowUp     *wireFollowUp `json:"opfoelgning,omitempty"`
	GivenBy      string        `json:"givetAf,omitempty"`
	Guardian     *wireGuardian `json:"vaerge,omitempty"`
	Obtained     *wireObtained `json:"indhentet,omitempty"`
	WithdrawnAt  *stamp        `json:"tilbagekaldtTidspunkt,omitempty"`
}

type wireFollowUp struct {
	// Granted is a pointer so that Decode can tell a missing "givet" from false.
	Granted   *bool       `json:"givet,omitempty"`
	Grants    []wireGrant `json:"tilladelser,omitempty"`
	ExpiresAt *stamp      `json:"udloeber,omitempty"`
}

// wireGrant is the consent given to one recipient role ("tilladelse").
type wireGrant struct {
	Recipient string   `json:"modtager,omitempty"`
	Purposes  []string `json:"formaal,omitempty"`
	Channels  []string `json:"kanaler,omitempty"`
}

// wireGuardian is the guardian who consented for a minor ("vaerge").
type wireGuardian struct {
	Name     string `json:"navn,omitempty"`
	Relation string `json:"relation,omitempty"`
	Phone    string `json:"telefon,omitempty"`
	Email    string `json:"email,omitempty"`
}

type wireObtained struct {
	At          *stamp `json:"tidspunkt,omitempty"`
	Authority   string `json:"myndighed,omitempty"`
	Role        string `json:"rolle,omitempty"`
	Method      string `json:"metode,omitempty"`
	EvidenceRef string `json:"dokumentationsreference,omitempty"`
}

// wireWithdrawal is a withdrawal notice ("tilbagetraekning").
type wireWithdrawal struct {
	RecordID    string `json:"registreringsId"`
	Version     int    `json:"version"`
	Reason      string `json:"aarsag"`
	WithdrawnAt *stamp `json:"tidspunkt"`
	IncidentID  string `json:"haendelsesId,omitempty"`
}

// stamp is a point in time as the format writes it: RFC 3339 with a time
// zone offset, every field with its full number of digits
// (2026-06-14T21:40:00+02:00). Go's time parser alone also takes a
// one-digit hour, which the schema's date-time format does not; and a time
// must lie in the years 1900 to 9999 (also in UTC), so that every decoded
// time can be written again.
type stamp struct {
	time.Time
}

// errStamp is the error of a stamp that is not a time the format accepts.
var errStamp = errors.New("not an RFC 3339 date-time with a time zone (such as 2026-06-14T21:40:00+02:00) in the years 1900 to 9999")

// UnmarshalJSON implements json.Unmarshaler.
func (t *stamp) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil // refused separately, with its pointer, by the null check
	}
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' || !isRFC3339(b[1:len(b)-1]) {
		return errStamp
	}
	v, err := time.Parse(time.RFC3339Nano, string(b[1:len(b)-1]))
	if err != nil || v.Year() < 1900 || v.UTC().Year() < 1900 || v.UTC().Year() > 9999 {
		return errStamp
	}
	t.Time = v
	return nil
}

// MarshalJSON implements json.Marshaler: RFC 3339 in UTC. A time outside
// the years 1900 to 9999 has no form in the format.
func (t stamp) MarshalJSON() ([]byte, error) {
	u := t.UTC()
	if u.Year() < 1900 || u.Year() > 9999 {
		return nil, errStamp
	}
	return u.MarshalJSON()
}

// isRFC3339 checks the layout YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)
// digit by digit; the values are checked by time.Parse.
func isRFC3339(s []byte) bool {
	const layout = "dddd-dd-ddTdd:dd:dd"
	if len(s) < len(layout)+1 {
		return false
	}
	for i := range len(layout) {
		if layout[i] == 'd' {
			if s[i] < '0' || s[i] > '9' {
				return false
			}
		} else if s[i] != layout[i] {
			return false
		}
	}
	rest := s[len(layout):]
	if rest[0] == '.' {
		n := 1
		for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
			n++
		}
		if n == 1 {
			return false
		}
		rest = rest[n:]
	}
	switch {
	case len(rest) == 1 && rest[0] == 'Z':
		return true
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		return isDigits(rest[1:3]) && isDigits(rest[4:6])
	}
	return false
}

func isDigits(b []byte) bool {
	for _, ch := range b {
		if ch < '0' || ch > '9' {
			return false
		}
	}
	return len(b) > 0
}

// code is a municipality or region code as regional systems write it: a
// JSON string ("0101", "101") or a JSON number (101). It keeps the text as
// written; mapping normalises it. A value of any other JSON type (or a
// number that is not a plain non-negative integer) decodes to badCode, so
// that the mapping can name the member and the rule instead of failing the
// whole record at the first such value.
type code string

// badCode marks a code member whose JSON value had the wrong type. It can
// never be written by a regional system: it holds a NUL byte.
const badCode code = "\x00"

// UnmarshalJSON implements json.Unmarshaler.
func (c *code) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0:
		*c = badCode
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil || strings.ContainsRune(s, 0) {
			*c = badCode
			return nil
		}
		*c = code(s)
	case isPlainInteger(b):
		*c = code(b)
	case string(b) == "null":
		// Refused separately, with its pointer, by the null check.
		*c = ""
	default:
		*c = badCode
	}
	return nil
}

// isPlainInteger reports whether b is a JSON number made only of digits
// (no sign, fraction or exponent).
func isPlainInteger(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, ch := range b {
		if ch < '0' || ch > '9' {
			return false
		}
	}
	return true
}
