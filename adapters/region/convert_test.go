package region_test

import (
	"strings"
	"testing"
	"time"

	"github.com/psykosocial/exchange/adapters"
	"github.com/psykosocial/exchange/adapters/region"
)

// single wraps one record (JSON text of its members) in a registration.
func single(members string) []byte {
	return []byte(`{"meddelelsestype":"epc-registrering/v1","registrering":{` + members + `}}`)
}

const minimalConsent = `"samtykke":{"registrering":"givet","givetAf":"selv","indhentet":{"tidspunkt":"2026-06-14T23:05:00+02:00","myndighed":"region:1084","rolle":"kop","metode":"digitalt"}}`

// guardianConsent is a consent given by a guardian, with extra members of
// the guardian (JSON text, may be empty).
func guardianConsent(extra string) string {
	if extra != "" {
		extra = "," + extra
	}
	return `"samtykke":{"registrering":"givet","givetAf":"vaerge","vaerge":{"navn":"Line Holm","relation":"foraelder"` + extra +
		`},"indhentet":{"tidspunkt":"2026-06-14T23:05:00+02:00","myndighed":"region:1084","rolle":"kop","metode":"digitalt"}}`
}

// grantConsent is a consent with follow-up granted by the given
// tilladelser (JSON text of the array's items).
func grantConsent(grants string) string {
	return `"samtykke":{"registrering":"givet","opfoelgning":{"givet":true,"tilladelser":[` + grants + `]},"givetAf":"selv",` +
		`"indhentet":{"tidspunkt":"2026-06-14T23:05:00+02:00","myndighed":"region:1084","rolle":"kop","metode":"digitalt"}}`
}

// TestConversions checks each documented conversion of a regional quirk.
func TestConversions(t *testing.T) {
	a := newAdapter(t)
	head := `"registreringsId":"5a1e7c2b-3d4f-4a6b-9c8d-7e6f5a4b3c2d","version":1,`
	tests := []struct {
		name, members string
		check         func(t *testing.T, m *adapters.Message)
	}{
		{"CPR with hyphen", `"haendelse":{"id":"X1"},"person":{"cprNummer":"070786-1234"},` + minimalConsent,
			func(t *testing.T, m *adapters.Message) { eq(t, m.Items[0].Record.Person.CPR, "0707861234") }},
		{"CPR without hyphen", `"haendelse":{"id":"X1"},"person":{"cprNummer":"0707861234"},` + minimalConsent,
			func(t *testing.T, m *adapters.Message) { eq(t, m.Items[0].Record.Person.CPR, "0707861234") }},
		{"municipality as number", `"haendelse":{"id":"X1","kommunekode":101},` + minimalConsent,
			func(t *testing.T, m *adapters.Message) { eq(t, m.Items[0].Record.Incident.MunicipalityCode, "0101") }},
		{"municipality as short string", `"haendelse":{"id":"X1","kommunekode":"101"},` + minimalConsent,
			func(t *testing.T, m *adapters.Message) { eq(t, m.Items[0].Record.Incident.MunicipalityCode, "0101") }},
		{"municipality as 4-digit string", `"haendelse":{"id":"X1","kommunekode":"0851"},` + minimalConsent,
			func(t *testing.T, m *adapters.Message) { eq(t, m.Items[0].Record.Incident.MunicipalityCode, "0851") }},
		{"Christiansø as number", `"haendelse":{"id":"X1"},"person":{"adresse":{"kommunekode":411}},` + minimalConsent,
			func(t *testing.T, m *adapters.Message) {
				eq(t, m.Items[0].Record.Person.Address.MunicipalityCode, "0411")
			}},
		{"region as number", `"haendelse":{"id":"X1","kommunekode":851,"regionskode":1081,"tidspunkt":"2026-11-02T16:20:00+01:00"},` + minimalConsent,
			func(t *testing.T, m *adapters.Message) { eq(t, m.Items[0].Record.Incident.RegionCode, "1081") }},
		{"phone of 8 digits", `"haendelse":{"id":"X1"},"person":{"telefon":"12345678"},` + minimalConsent,
			func(t *testing.T, m *adapters.Message) { eq(t, m.Items[0].Record.Person.Phone, "+4512345678") }},
		{"phone in pairs", `"haendelse":{"id":"X1"},"person":{"telefon":"12 34 56 78"},` + minimalConsent,
			func(t *testing.T, m *adapters.Message) { eq(t, m.Items[0].Record.Person.Phone, "+4512345678") }},
		{"time with fraction", `"haendelse":{"id":"X1","tidspunkt":"2026-06-14T21:40:00.125+02:00"},` + minimalConsent,
			func(t *testing.T, m *adapters.Message) {
				eq(t, m.Items[0].Record.Incident.OccurredAt.UTC().Format(time.RFC3339Nano), "2026-06-14T19:40:00.125Z")
			}},
		{"guardian phone in pairs", `"haendelse":{"id":"X1"},` + guardianConsent(`"telefon":"40 12 77 35"`),
			func(t *testing.T, m *adapters.Message) {
				eq(t, m.Items[0].Record.Consent.Guardian.Phone, "+4540127735")
			}},
		{"guardian phone of 8 digits", `"haendelse":{"id":"X1"},` + guardianConsent(`"telefon":"40127735"`),
			func(t *testing.T, m *adapters.Message) {
				eq(t, m.Items[0].Record.Consent.Guardian.Phone, "+4540127735")
			}},
		{"affected CPR with hyphen", `"haendelse":{"id":"X1"},"relation":{"type":"paaroerende","beroertPerson":{"cprNummer":"030956-1459"},"slaegtskab":"partner"},` + minimalConsent,
			func(t *testing.T, m *adapters.Message) { eq(t, m.Items[0].Record.Relation.Affected.CPR, "0309561459") }},
		{"phone in E.164", `"haendelse":{"id":"X1"},"person":{"telefon":"+4612345678"},` + minimalConsent,
			func(t *testing.T, m *adapters.Message) { eq(t, m.Items[0].Record.Person.Phone, "+4612345678") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := a.Decode(single(head + tt.members))
			if err != nil {
				t.Fatal(err)
			}
			if m.Items[0].Record == nil {
				t.Fatalf("problems: %v", m.Items[0].Problems)
			}
			tt.check(t, m)
			// Encode writes the canonical form.
			out, err := a.Encode(m)
			if err != nil {
				t.Fatal(err)
			}
			for _, quirk := range []string{`070786-1234`, `030956-1459`, `"kommunekode":101`, `"kommunekode":"101"`, `:411`, `"12345678"`, `"12 34 56 78"`, `"40 12 77 35"`, `"40127735"`, `:1081`} {
				if strings.Contains(string(out), quirk) {
					t.Errorf("Encode wrote the regional form %s: %s", quirk, out)
				}
			}
		})
	}
}

func eq(t *testing.T, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestConversionRefusals checks inputs that look like a quirk but are not one.
func TestConversionRefusals(t *testing.T) {
	a := newAdapter(t)
	head := `"registreringsId":"5a1e7c2b-3d4f-4a6b-9c8d-7e6f5a4b3c2d","version":1,`
	tests := []struct{ name, members, path, rule string }{
		{"negative municipality", `"haendelse":{"id":"X1","kommunekode":-101},` + minimalConsent, "/registrering/haendelse/kommunekode", "json.type"},
		{"fractional municipality", `"haendelse":{"id":"X1","kommunekode":101.0},` + minimalConsent, "/registrering/haendelse/kommunekode", "json.type"},
		{"exponent municipality", `"haendelse":{"id":"X1","kommunekode":1e2},` + minimalConsent, "/registrering/haendelse/kommunekode", "json.type"},
		{"municipality object", `"haendelse":{"id":"X1","kommunekode":{"kode":101}},` + minimalConsent, "/registrering/haendelse/kommunekode", "json.type"},
		{"region bool", `"haendelse":{"id":"X1","regionskode":false},` + minimalConsent, "/registrering/haendelse/regionskode", "json.type"},
		{"CPR hyphen elsewhere", `"haendelse":{"id":"X1"},"person":{"cprNummer":"07078-61234"},` + minimalConsent, "/registrering/person/cprNummer", "schema.pattern"},
		{"phone of 9 digits", `"haendelse":{"id":"X1"},"person":{"telefon":"123456789"},` + minimalConsent, "/registrering/person/telefon", "schema.pattern"},
		{"one-digit hour", `"haendelse":{"id":"X1","tidspunkt":"2026-06-14T1:40:00+02:00"},` + minimalConsent, "/registrering/haendelse/tidspunkt", "json.value"},
		{"year 0", `"haendelse":{"id":"X1","tidspunkt":"0000-01-01T00:00:00+01:00"},` + minimalConsent, "/registrering/haendelse/tidspunkt", "json.value"},
		{"year 1899", `"haendelse":{"id":"X1","tidspunkt":"1899-12-31T23:59:59Z"},` + minimalConsent, "/registrering/haendelse/tidspunkt", "json.value"},
		{"offset without colon", `"haendelse":{"id":"X1","tidspunkt":"2026-06-14T21:40:00+0200"},` + minimalConsent, "/registrering/haendelse/tidspunkt", "json.value"},
		{"time as number", `"haendelse":{"id":"X1","tidspunkt":20260614},` + minimalConsent, "/registrering/haendelse/tidspunkt", "json.value"},
		{"guardian phone of 9 digits", `"haendelse":{"id":"X1"},` + guardianConsent(`"telefon":"401277351"`), "/registrering/samtykke/vaerge/telefon", "schema.pattern"},
		{"affected CPR hyphen elsewhere", `"haendelse":{"id":"X1"},"relation":{"type":"paaroerende","beroertPerson":{"cprNummer":"03095-61459"}},` + minimalConsent, "/registrering/relation/beroertPerson/cprNummer", "schema.pattern"},
		{"unknown kinship", `"haendelse":{"id":"X1"},"relation":{"type":"paaroerende","slaegtskab":"fætter"},` + minimalConsent, "/registrering/relation/slaegtskab", "schema.enum"},
		{"unknown guardian relation", `"haendelse":{"id":"X1"},` + strings.Replace(guardianConsent(""), `"foraelder"`, `"parent"`, 1), "/registrering/samtykke/vaerge/relation", "schema.enum"},
		{"unknown recipient in a grant", `"haendelse":{"id":"X1"},` + grantConsent(`{"modtager":"nabo","formaal":["psykosocial_opfoelgning"],"kanaler":["telefon"]}`), "/registrering/samtykke/opfoelgning/tilladelser/0/modtager", "schema.enum"},
		{"unknown purpose in the second grant", `"haendelse":{"id":"X1"},` + grantConsent(`{"modtager":"bopaelskommune","formaal":["psykosocial_opfoelgning"],"kanaler":["telefon"]},{"modtager":"bopaelsregion","formaal":["psykosocial_opfoelgning","terapi"],"kanaler":["telefon"]}`), "/registrering/samtykke/opfoelgning/tilladelser/1/formaal/1", "schema.enum"},
		{"purpose twice in a grant", `"haendelse":{"id":"X1"},` + grantConsent(`{"modtager":"bopaelskommune","formaal":["psykosocial_opfoelgning","psykosocial_opfoelgning"],"kanaler":["telefon"]}`), "/registrering/samtykke/opfoelgning/tilladelser/0/formaal", "schema.unique_items"},
		{"grant without modtager", `"haendelse":{"id":"X1"},` + grantConsent(`{"formaal":["psykosocial_opfoelgning"],"kanaler":["telefon"]}`), "/registrering/samtykke/opfoelgning/tilladelser/0/modtager", "schema.required"},
		{"empty grant list", `"haendelse":{"id":"X1"},` + grantConsent(``), "/registrering/samtykke/opfoelgning/tilladelser", "json.empty"},
		{"vaerge without givetAf vaerge", `"haendelse":{"id":"X1"},` + strings.Replace(guardianConsent(""), `"givetAf":"vaerge"`, `"givetAf":"selv"`, 1), "/registrering/samtykke/vaerge", "schema.forbidden"},
		{"phone with letters", `"haendelse":{"id":"X1"},"person":{"telefon":"1234567a"},` + minimalConsent, "/registrering/person/telefon", "schema.pattern"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := a.Decode(single(head + tt.members))
			if err != nil {
				t.Fatal(err)
			}
			ps := m.Items[0].Problems
			if m.Items[0].Record != nil || len(ps) != 1 || ps[0].Pointer != tt.path || ps[0].Rule != tt.rule {
				t.Errorf("problems %v; want one %s at %s", ps, tt.rule, tt.path)
			}
		})
	}
}

func TestDetect(t *testing.T) {
	a := newAdapter(t)
	tests := []struct {
		name string
		data string
		want bool
	}{
		{"registration", `{"meddelelsestype":"epc-registrering/v1"}`, true},
		{"withdrawal", `{"meddelelsestype":"epc-tilbagetraekning/v1"}`, true},
		{"discriminator last", `{"registreringer":[{"a":[1,2,{"b":null}]}],"meddelelsestype":"epc-registrering/v1"}`, true},
		{"white space", " \n\t{ \"meddelelsestype\" : \"epc-registrering/v1\" }", true},
		{"common record", `{"schema":"registration/v1","record_id":"x"}`, false},
		{"common withdrawal", `{"schema":"withdrawal/v1"}`, false},
		{"unknown type", `{"meddelelsestype":"registrering"}`, false},
		{"type not a string", `{"meddelelsestype":1}`, false},
		{"case variant", `{"Meddelelsestype":"epc-registrering/v1"}`, false},
		{"nested", `{"x":{"meddelelsestype":"epc-registrering/v1"}}`, false},
		{"array", `[{"meddelelsestype":"epc-registrering/v1"}]`, false},
		{"XML", `<?xml version="1.0"?><Registrering/>`, false},
		{"empty", ``, false},
		{"garbage", `{"meddelelsestype"`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := a.Detect([]byte(tt.data)); got != tt.want {
				t.Errorf("Detect = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRegistryPicksRegion(t *testing.T) {
	a := newAdapter(t)
	reg, err := adapters.NewRegistry(a)
	if err != nil {
		t.Fatal(err)
	}
	got, err := reg.Detect(single(""))
	if err != nil || got.Format() != region.FormatName {
		t.Errorf("Detect = %v, %v", got, err)
	}
}
