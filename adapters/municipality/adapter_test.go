package municipality

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/psykosocial/exchange/adapters"
	"github.com/psykosocial/exchange/adapters/internal/vocab"
	"github.com/psykosocial/exchange/internal/record"
	"github.com/psykosocial/exchange/internal/xmlsafe"
)

func ptr[T any](v T) *T { return &v }

// fullGrants grants to every recipient role every channel and every
// purpose it can be granted (health purposes to region roles only).
func fullGrants() []record.Grant {
	var gs []record.Grant
	for _, role := range record.RecipientRoles() {
		if role == record.RecipientPoliceDistrict {
			continue // the police are never granted follow-up (consent.grant_to_police)
		}
		g := record.Grant{Recipient: role, Channels: record.Channels()}
		for _, p := range record.Purposes() {
			if record.IsRegionRole(role) || !slices.Contains(record.HealthPurposes(), p) {
				g.Purposes = append(g.Purposes, p)
			}
		}
		gs = append(gs, g)
	}
	return gs
}

// fullRecord is a valid record with every member set, a grant to every
// recipient role with every channel and purpose it can have: the largest
// valid Registrering there is.
func fullRecord() *record.Record {
	at := time.Date(2026, 6, 14, 21, 5, 0, 0, time.UTC)
	return &record.Record{
		Schema:   record.SchemaV1,
		RecordID: "7c9e6679-7425-40de-944b-e07fc1f90ae7",
		Version:  4,
		Incident: &record.Incident{
			ID: "HST-2026-0614-KBH-SKYD", Title: "Skyderi ved Fisketorvet", Kind: record.KindShooting,
			OccurredAt:       ptr(time.Date(2026, 6, 14, 19, 40, 0, 123000000, time.UTC)),
			MunicipalityCode: "0101", RegionCode: "1084", Site: record.SiteScene,
		},
		Registered: &record.Registered{At: &at, ByAuthority: "police:koebenhavn", ByRole: record.RolePolice},
		Person: &record.Person{
			CPR: "0707861234", ECPR: "0707864AB1", Name: "Sara Ølgaard Andersen",
			BirthDate: &record.Date{Year: 1986, Month: time.July, Day: 7},
			Phone:     "+4528417733", Email: "sara.oa@example.dk",
			Address: &record.Address{Street: "Vestergade 3, 1. th.", PostalCode: "9000", City: "Aalborg",
				Country: "DK", MunicipalityCode: "0851"},
			AddressProtected: true, Language: "da", InterpreterNeeded: true,
		},
		Relation: &record.Relation{Type: record.RelationRelative, RelativeOf: "3f6c1d2e-8a4b-4c7d-9e1f-2a3b4c5d6e7f",
			Affected: &record.AffectedPerson{CPR: "1504154022", Name: "Freja Holm Nielsen", BirthDate: &record.Date{Year: 2015, Month: time.April, Day: 15}},
			Kinship:  record.KinshipParent},
		Assessment: &record.Assessment{FollowUpPriority: record.PriorityAcute, Notes: " Første linje\r\nanden linje <&> \"citat\" 'apostrof'\tslut\n"},
		Consent: &record.Consent{
			Registration: record.RegistrationGranted,
			FollowUp: &record.FollowUp{
				Granted:   ptr(true),
				Grants:    fullGrants(),
				ExpiresAt: ptr(time.Date(2027, 6, 14, 0, 0, 0, 0, time.UTC)),
			},
			GivenBy: record.GivenByGuardian,
			Guardian: &record.Guardian{Name: "Jonas Ølgaard", Relation: record.GuardianCustodian,
				Phone: "+4531425364", Email: "jonas.oelgaard@example.dk"},
			Obtained: &record.Obtained{
				By: &record.ObtainedBy{Authority: "region:1084", Role: record.RoleKOP},
				At: &at, Method: record.MethodSignedForm, EvidenceRef: "EPC-FT-0007",
			},
			WithdrawnAt: ptr(time.Date(2026, 7, 1, 8, 0, 0, 0, time.UTC)),
		},
	}
}

func registrationMessage(rs ...*record.Record) *adapters.Message {
	m := &adapters.Message{Kind: adapters.KindRegistration, Header: testHeader()}
	for i, r := range rs {
		m.Items = append(m.Items, adapters.Item{Index: i, Record: r})
	}
	return m
}

func TestFullRecordRoundTrip(t *testing.T) {
	a := newAdapter(t)
	r := fullRecord()
	if ps := newValidator(t).Validate(r); len(ps) > 0 {
		t.Fatalf("fullRecord is not valid: %v", ps)
	}
	out := assertRoundTrip(t, a, registrationMessage(r))
	if !bytes.Contains(out, []byte("&#xD;")) {
		t.Errorf("a carriage return must be written as &#xD; to survive parsing")
	}
}

// TestLimitsMatchSchema checks the element counts limits.go derives
// maxElements from: the fullest registration has maxRegistrationElements
// elements, and the fullest header maxHeaderElements.
func TestLimitsMatchSchema(t *testing.T) {
	a, err := New(newValidator(t), WithClassification(Classification{Subject: "12.34.56", Facet: "G01"}))
	if err != nil {
		t.Fatal(err)
	}
	// The schema allows every purpose in every grant and a grant to every
	// role; the Danish rules allow health purposes to region roles only and
	// no grant to the police. Encode does not validate.
	r := fullRecord()
	r.Consent.FollowUp.Grants = append(r.Consent.FollowUp.Grants, record.Grant{Recipient: record.RecipientPoliceDistrict, Channels: record.Channels()})
	for i := range r.Consent.FollowUp.Grants {
		r.Consent.FollowUp.Grants[i].Purposes = record.Purposes()
	}
	out, err := a.Encode(registrationMessage(r))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := xmlsafe.Parse(out, parseLimits())
	if err != nil {
		t.Fatal(err)
	}
	count := func(el *etree.Element) int {
		n := 0
		var walk func(*etree.Element)
		walk = func(e *etree.Element) {
			n++
			for _, c := range e.ChildElements() {
				walk(c)
			}
		}
		walk(el)
		return n
	}
	root := doc.Doc.Root()
	if n := count(root.SelectElement("Registrering")); n != maxRegistrationElements {
		t.Errorf("the fullest Registrering has %d elements, limits.go says %d", n, maxRegistrationElements)
	}
	if n := count(root.SelectElement("Hoved")); n != maxHeaderElements {
		t.Errorf("the fullest Hoved has %d elements, limits.go says %d", n, maxHeaderElements)
	}
	sig := readFile(t, validDir+"/kriseteam-vejle-signeret-svensk-turist.xml")
	sdoc, err := xmlsafe.Parse(sig, parseLimits())
	if err != nil {
		t.Fatal(err)
	}
	if n := count(sdoc.Doc.Root().SelectElement("Signature")); n != maxSignatureElements {
		t.Errorf("the fullest ds:Signature has %d elements, limits.go says %d", n, maxSignatureElements)
	}
}

func TestEncodeDeterministic(t *testing.T) {
	a := newAdapter(t)
	m := registrationMessage(fullRecord(), fullRecord())
	first, err := a.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		again, err := a.Encode(m)
		if err != nil || !bytes.Equal(first, again) {
			t.Fatalf("Encode is not deterministic (err %v)", err)
		}
	}
	// The same instant in another zone gives the same bytes.
	r := fullRecord()
	cph := time.FixedZone("CEST", 2*60*60)
	r.Incident.OccurredAt = ptr(r.Incident.OccurredAt.In(cph))
	m2 := registrationMessage(r, fullRecord())
	if again, _ := a.Encode(m2); !bytes.Equal(first, again) {
		t.Errorf("times are not written in UTC")
	}
	if !bytes.HasPrefix(first, []byte(`<?xml version="1.0" encoding="UTF-8"?>`+"\n")) {
		t.Errorf("no XML declaration: %.60s", first)
	}
}

func TestEncodeRefuses(t *testing.T) {
	a := newAdapter(t)
	withNotes := func(s string) *adapters.Message {
		r := fullRecord()
		r.Assessment.Notes = s
		return registrationMessage(r)
	}
	tooMany := registrationMessage()
	for range MaxRegistrations + 1 {
		tooMany.Items = append(tooMany.Items, adapters.Item{Record: fullRecord()})
	}
	badKind := registrationMessage(fullRecord())
	badKind.Items[0].Record.Incident.Kind = "earthquake"
	noGranted := registrationMessage(fullRecord())
	noGranted.Items[0].Record.Consent.FollowUp.Granted = nil
	for _, tc := range []struct {
		name string
		m    *adapters.Message
		want error
	}{
		{"nil message", nil, ErrCannotEncode},
		{"no header", &adapters.Message{Kind: adapters.KindRegistration, Items: []adapters.Item{{Record: fullRecord()}}}, ErrCannotEncode},
		{"bad message id", func() *adapters.Message {
			m := registrationMessage(fullRecord())
			m.Header.MessageID = "not-a-uuid"
			return m
		}(), ErrCannotEncode},
		{"expires before issued", func() *adapters.Message {
			m := registrationMessage(fullRecord())
			m.Header.ExpiresAt = m.Header.IssuedAt
			return m
		}(), ErrCannotEncode},
		{"no records", registrationMessage(), ErrCannotEncode},
		{"too many records", tooMany, ErrCannotEncode},
		{"item without record", &adapters.Message{Kind: adapters.KindRegistration, Header: testHeader(), Items: []adapters.Item{{Problems: record.Problems{{Rule: "x"}}}}}, ErrCannotEncode},
		{"control character", withNotes("bip\x07"), ErrNotXMLText},
		{"invalid UTF-8", withNotes("\xff"), ErrNotXMLText},
		{"non-character U+FFFE", withNotes("a\uFFFEb"), ErrNotXMLText},
		{"unknown vocabulary value", badKind, ErrCannotEncode},
		{"follow-up without granted", noGranted, ErrCannotEncode},
		{"withdrawal without notice", &adapters.Message{Kind: adapters.KindWithdrawal, Header: testHeader()}, ErrCannotEncode},
		{"unknown kind", &adapters.Message{Kind: "correction", Header: testHeader()}, ErrCannotEncode},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := a.Encode(tc.m)
			if !errors.Is(err, tc.want) || out != nil {
				t.Errorf("Encode = %d bytes, %v; want error %v", len(out), err, tc.want)
			}
		})
	}
}

func TestWithdrawalRoundTrip(t *testing.T) {
	a := newAdapter(t)
	m := &adapters.Message{Kind: adapters.KindWithdrawal, Header: testHeader(), Withdrawal: &record.Withdrawal{
		Schema: record.WithdrawalSchemaV1, RecordID: "7c9e6679-7425-40de-944b-e07fc1f90ae7", Version: 2,
		Reason: record.ReasonRecipientIncorrect, WithdrawnAt: ptr(time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)),
	}}
	assertRoundTrip(t, a, m)
}

func TestClassification(t *testing.T) {
	v := newValidator(t)
	a, err := New(v,
		WithClassification(Classification{Subject: "11.22.33"}),
		WithRecipientClassification("municipality:0851", Classification{Subject: "44.55.66", Facet: "G01"}))
	if err != nil {
		t.Fatal(err)
	}
	out, err := a.Encode(registrationMessage(fullRecord()))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out, []byte("<Emne>44.55.66</Emne>")) || !bytes.Contains(out, []byte("<Handlingsfacet>G01</Handlingsfacet>")) {
		t.Errorf("recipient classification not written:\n%s", out)
	}
	if got := a.ClassificationFor("municipality:0101"); got.Subject != "11.22.33" {
		t.Errorf("fallback classification %v", got)
	}
	def := newAdapter(t)
	if got := def.ClassificationFor("municipality:0101"); got != DefaultClassification() {
		t.Errorf("default classification %v", got)
	}
	for _, tc := range []struct {
		in   string
		want string
		ok   bool
	}{
		{"27.24.00", "27.24.00", true}, {"27.24.00-G01", "27.24.00-G01", true},
		{"27.24", "", false}, {"27.24.00-", "", false}, {"27.24.00-g01", "", false}, {"27.24.00-G1", "", false},
	} {
		c, err := ParseClassification(tc.in)
		if (err == nil) != tc.ok || (tc.ok && c.String() != tc.want) {
			t.Errorf("ParseClassification(%q) = %v, %v", tc.in, c, err)
		}
		if err != nil && !errors.Is(err, ErrInvalidClassification) {
			t.Errorf("error does not wrap ErrInvalidClassification: %v", err)
		}
	}
}

func TestNewRefusesBadOptions(t *testing.T) {
	v := newValidator(t)
	for _, tc := range []struct {
		name string
		v    *record.Validator
		opts []Option
	}{
		{"no validator", nil, nil},
		{"bad subject", v, []Option{WithClassification(Classification{Subject: "1.2.3"})}},
		{"facet without subject", v, []Option{WithClassification(Classification{Facet: "G01"})}},
		{"bad recipient", v, []Option{WithRecipientClassification("Aalborg", Classification{Subject: "00.00.00"})}},
		{"bad recipient facet", v, []Option{WithRecipientClassification("municipality:0851", Classification{Subject: "00.00.00", Facet: "01"})}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(tc.v, tc.opts...); !errors.Is(err, adapters.ErrInvalidOptions) {
				t.Errorf("New = %v, want adapters.ErrInvalidOptions", err)
			}
		})
	}
}

func TestDetect(t *testing.T) {
	a := newAdapter(t)
	for _, f := range exampleFiles(t, validDir, ".xml") {
		if !a.Detect(readFile(t, f)) {
			t.Errorf("Detect(%s) = false", f)
		}
	}
	for _, data := range []string{
		"", "{}", `<?xml version="1.0"?><KommuneMeddelelse/>`,
		`<KommuneMeddelelse xmlns="urn:psykosocial:kommune:registrering:2"/>`,
		`<Registrering xmlns="urn:psykosocial:kommune:registrering:1"/>`,
		`tekst<KommuneMeddelelse xmlns="urn:psykosocial:kommune:registrering:1"/>`,
	} {
		if a.Detect([]byte(data)) {
			t.Errorf("Detect(%q) = true", data)
		}
	}
	if !a.Detect([]byte(`<k:KommuneMeddelelse xmlns:k="urn:psykosocial:kommune:registrering:1">`)) {
		t.Errorf("Detect misses a prefixed root")
	}
}

// TestDecodeElement decodes the element a signature verifier hands over:
// detached from its document, without ds:Signature, and without lines.
func TestDecodeElement(t *testing.T) {
	a := newAdapter(t)
	data := readFile(t, validDir+"/kriseteam-vejle-signeret-svensk-turist.xml")
	doc, err := xmlsafe.Parse(data, parseLimits())
	if err != nil {
		t.Fatal(err)
	}
	root := doc.Doc.Root().Copy()
	root.RemoveChild(root.SelectElement("Signature"))
	m, err := a.DecodeElement(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Records()) != 1 {
		t.Fatalf("items %+v", m.Items)
	}
	// A problem in a detached element still names its path, without a line.
	root.FindElement("Registrering/Person/Telefon").SetText("12")
	m, err = a.DecodeElement(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := m.Items[0].Problems
	if len(p) != 1 || p[0].Pointer != "/KommuneMeddelelse/Registrering/Person/Telefon" || p[0].Line != 0 {
		t.Errorf("problems %v", p)
	}
	// Tokens the hardened parser refuses are refused here too.
	root.SelectElement("Registrering").CreateComment("skjult")
	if m, err := a.DecodeElement(root, nil); err != nil || m.Items[0].Problems[0].Rule != "xml.comment" {
		t.Errorf("comment: %v %v", m, err)
	}
	if _, err := a.DecodeElement(nil, nil); err == nil {
		t.Errorf("nil root accepted")
	}
}

func TestDecodeLimits(t *testing.T) {
	a := newAdapter(t)
	base := readFile(t, validDir+"/gateway-til-roskilde-beskyttet-adresse.xml")
	start := bytes.Index(base, []byte("  <Registrering>"))
	end := bytes.Index(base, []byte("</Registrering>\n")) + len("</Registrering>\n")
	list := func(n int) []byte {
		var b bytes.Buffer
		b.Write(base[:start])
		reg := base[start:end]
		id := regexp.MustCompile(`<RegistreringsID>[^<]*</RegistreringsID>`)
		for i := range n { // each record once: a message holds no record id twice
			b.Write(id.ReplaceAll(reg, fmt.Appendf(nil, "<RegistreringsID>%08x-0000-4000-8000-000000000000</RegistreringsID>", i)))
		}
		b.Write(base[end:])
		return b.Bytes()
	}
	m, err := a.Decode(list(MaxRegistrations))
	if err != nil || len(m.Records()) != MaxRegistrations {
		t.Fatalf("%d registrations: %v", MaxRegistrations, err)
	}
	_, err = a.Decode(list(MaxRegistrations + 1))
	if ps, ok := err.(record.Problems); !ok || ps[0].Rule != "xml.limit" {
		t.Errorf("%d registrations: %v", MaxRegistrations+1, err)
	}
	big := append(bytes.Repeat([]byte(" "), MaxDocumentBytes), base...)
	if _, err := a.Decode(big); err == nil || !strings.Contains(err.Error(), "xml.limit") {
		t.Errorf("oversized document: %v", err)
	}
}

// TestProblemsDoNotEchoLongInput checks that a long hostile name or value
// is clipped in every problem.
func TestProblemsDoNotEchoLongInput(t *testing.T) {
	a := newAdapter(t)
	long := strings.Repeat("Æ", 5000)
	base := string(readFile(t, validDir+"/gateway-til-roskilde-beskyttet-adresse.xml"))
	for _, doc := range []string{
		strings.Replace(base, "<Sprog>da</Sprog>", "<Sprog>da</Sprog><"+long+">x</"+long+">", 1),
		strings.Replace(base, "<Sprog>da</Sprog>", `<Sprog>da</Sprog><x:A xmlns:x="urn:`+long+`"/>`, 1),
		strings.Replace(base, "<Person>", `<Person a`+long+`="1">`, 1),
		strings.Replace(base, "<Sprog>da</Sprog>", "<Sprog>"+long+"</Sprog>", 1),
	} {
		m, err := a.Decode([]byte(doc))
		var ps record.Problems
		if err != nil {
			ps = err.(record.Problems)
		} else {
			for _, it := range m.Items {
				ps = append(ps, it.Problems...)
			}
		}
		if len(ps) == 0 {
			t.Fatalf("accepted")
		}
		for _, p := range ps {
			if len(p.Pointer) > adapters.MaxEcho+len("…") || len(p.Message) > 3*adapters.MaxEcho+len("…") {
				t.Errorf("problem echoes %d+%d bytes: %.80s", len(p.Pointer), len(p.Message), p)
			}
		}
	}
}

// TestVocabularies checks every vocabulary against record's (one Danish
// code per common value, in order, no duplicates) and against the XSD's
// enumerations.
func TestVocabularies(t *testing.T) {
	xsd := etree.NewDocument()
	if err := xsd.ReadFromFile(schemaPath); err != nil {
		t.Fatal(err)
	}
	enumerations := func(name string) []string {
		var out []string
		for _, st := range xsd.Root().SelectElements("simpleType") {
			if st.SelectAttrValue("name", "") == name {
				for _, e := range st.FindElements("restriction/enumeration") {
					out = append(out, e.SelectAttrValue("value", ""))
				}
			}
		}
		return out
	}
	check := func(name string, danish, common, want []string) {
		t.Run(name, func(t *testing.T) {
			if !slices.Equal(common, want) {
				t.Errorf("common values %v, record has %v", common, want)
			}
			if got := enumerations(name); !slices.Equal(got, danish) {
				t.Errorf("XSD enumerates %v, the adapter %v", got, danish)
			}
			seen := map[string]bool{}
			for _, d := range danish {
				if seen[d] || !regexp.MustCompile(`^[a-z_]+$`).MatchString(d) {
					t.Errorf("code %q repeated or not lower-case ASCII", d)
				}
				seen[d] = true
			}
		})
	}
	checkVocabulary(check, incidentKinds, record.IncidentKinds())
	checkVocabulary(check, sites, record.Sites())
	checkVocabulary(check, roles, record.RegistrarRoles())
	checkVocabulary(check, relations, record.RelationTypes())
	checkVocabulary(check, priorities, record.Priorities())
	checkVocabulary(check, registrationConsents, record.RegistrationConsents())
	checkVocabulary(check, channels, record.Channels())
	checkVocabulary(check, recipientRoles, record.RecipientRoles())
	checkVocabulary(check, purposes, record.Purposes())
	checkVocabulary(check, kinships, record.Kinships())
	checkVocabulary(check, guardianRelations, record.GuardianRelations())
	checkVocabulary(check, givenBys, record.GivenBys())
	checkVocabulary(check, methods, record.ConsentMethods())
	checkVocabulary(check, reasons, record.WithdrawalReasons())
}

func checkVocabulary[T ~string](check func(name string, danish, common, want []string), v *vocab.Vocab[T], want []T) {
	var common, w []string
	for _, c := range v.Values() {
		common = append(common, string(c))
	}
	for _, x := range want {
		w = append(w, string(x))
	}
	check(v.Name(), v.Codes(), common, w)
}

// TestReadmeMappingTable keeps README.md's mapping tables identical to
// recordPaths and withdrawalPaths.
func TestReadmeMappingTable(t *testing.T) {
	readme := string(readFile(t, "README.md"))
	row := regexp.MustCompile("(?m)^\\| `(/[a-z_/*]*)` \\| (?:`([A-Za-z/]+)`|—) \\|")
	var got []fieldPath
	for _, m := range row.FindAllStringSubmatch(readme, -1) {
		got = append(got, fieldPath{m[1], m[2]})
	}
	want := append(slices.Clone(recordPaths), withdrawalPaths...)
	if !slices.Equal(got, want) {
		t.Errorf("README.md mapping rows differ from the tables:\n got %v\nwant %v", got, want)
	}
}

func TestWhitespaceHandling(t *testing.T) {
	a := newAdapter(t)
	base := string(readFile(t, validDir+"/gateway-til-roskilde-beskyttet-adresse.xml"))
	// Codes may be surrounded by white space (as xs:token allows); free text keeps it.
	doc := strings.Replace(base, "<Kommunekode>0265</Kommunekode>", "<Kommunekode>\n  0265 </Kommunekode>", 1)
	doc = strings.Replace(doc, "<Navn>Lone Bech Kristiansen</Navn>", "<Navn>Lone <![CDATA[Bech]]> Kristiansen</Navn>", 1)
	m, err := a.Decode([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	r := m.Records()
	if len(r) != 1 || r[0].Person.Address.MunicipalityCode != "0265" || r[0].Person.Name != "Lone Bech Kristiansen" {
		t.Errorf("items %+v", m.Items)
	}
}

// TestDecodeEdgeCases covers rules the example files do not.
func TestDecodeEdgeCases(t *testing.T) {
	a := newAdapter(t)
	base := string(readFile(t, validDir+"/gateway-til-roskilde-beskyttet-adresse.xml"))
	R := "/KommuneMeddelelse/Registrering"
	for _, tc := range []struct {
		name, old, new string
		whole          bool
		path, rule     string
	}{
		{"attribute on Registrering is the item's problem", "<Registrering>", `<Registrering nr="1">`, false, R, "xml.unknown_attribute"},
		{"time before year 1 in UTC", "<Tidspunkt>2026-10-02T14:05:00Z", "<Tidspunkt>0001-01-01T00:00:00+14:00", false, R + "/Haendelse/Tidspunkt", "xml.type"},
		{"time after year 9999 in UTC", "<Tidspunkt>2026-10-02T14:05:00Z", "<Tidspunkt>9999-12-31T23:00:00-14:00", false, R + "/Haendelse/Tidspunkt", "xml.type"},
		{"zone offset beyond 14 hours", "<Tidspunkt>2026-10-02T14:05:00Z", "<Tidspunkt>2026-10-02T14:05:00+15:00", false, R + "/Haendelse/Tidspunkt", "xml.type"},
		{"zero issued-at", "<Udstedt>2026-10-03T06:15:00Z", "<Udstedt>0001-01-01T00:00:00Z", true, "/KommuneMeddelelse/Hoved/Udstedt", "xml.type"},
		{"version with leading zero", "<Version>2</Version>", "<Version>02</Version>", false, R + "/Version", "xml.type"},
		{"version above the maximum", "<Version>2</Version>", "<Version>1000001</Version>", false, R + "/Version", "schema.maximum"},
		{"sender reference on two lines", "<AfsenderReference>gw-2026-10-03-000731", "<AfsenderReference>gw-2026\n10-03-000731", true, "/KommuneMeddelelse/Hoved/AfsenderReference", "schema.pattern"},
		{"header facet malformed", "<Emne>00.00.00</Emne>", "<Emne>00.00.00</Emne><Handlingsfacet>g1</Handlingsfacet>", true, "/KommuneMeddelelse/Hoved/Sagsklassifikation/Handlingsfacet", "schema.pattern"},
		{"element inside a leaf", "<Navn>Lone Bech Kristiansen</Navn>", "<Navn>Lone <Efternavn>Bech</Efternavn></Navn>", false, R + "/Person/Navn/Efternavn", "xml.unknown_element"},
		{"XML-DSig element other than Signature", "</KommuneMeddelelse>", `<ds:Object xmlns:ds="http://www.w3.org/2000/09/xmldsig#"/></KommuneMeddelelse>`, true, "/KommuneMeddelelse/Object", "xml.signature"},
		{"unknown root child", "</KommuneMeddelelse>", "<Bilag/></KommuneMeddelelse>", true, "/KommuneMeddelelse/Bilag", "xml.unknown_element"},
		{"header after registration", "</KommuneMeddelelse>", "<Hoved/></KommuneMeddelelse>", true, "/KommuneMeddelelse/Hoved[2]", "xml.max_occurs"},
		{"unreadable Givet hides the follow-up rules", "<Givet>true</Givet>", "<Givet>maaske</Givet>", false, R + "/Samtykke/TilOpfoelgning/Givet", "xml.type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if strings.Count(base, tc.old) != 1 {
				t.Fatalf("%q is not unique in the base document", tc.old)
			}
			m, err := a.Decode([]byte(strings.Replace(base, tc.old, tc.new, 1)))
			var ps record.Problems
			if err != nil {
				ps = err.(record.Problems)
			} else {
				ps = m.Items[0].Problems
			}
			if (err != nil) != tc.whole || len(ps) != 1 || ps[0].Pointer != tc.path || ps[0].Rule != tc.rule {
				t.Errorf("whole %v, problems %v; want whole %v, one problem %s [%s]", err != nil, ps, tc.whole, tc.path, tc.rule)
			}
		})
	}
}

func TestLocateUnmappedPointer(t *testing.T) {
	root := etree.NewElement("KommuneMeddelelse")
	item := root.CreateElement("Registrering")
	d := &decoder{}
	p := d.locate(item, recordPaths, record.Problem{Pointer: "/future/member", Rule: "schema.x", Message: "is wrong"})
	if p.Pointer != "/KommuneMeddelelse/Registrering" || p.Message != "common field /future/member is wrong" {
		t.Errorf("got %+v", p)
	}
	p = d.locate(item, recordPaths, record.Problem{Pointer: "/consent/follow_up/grants/1/purposes/2", Rule: "schema.enum"})
	if p.Pointer != "/KommuneMeddelelse/Registrering/Samtykke/TilOpfoelgning/Tilladelse[2]/Formaal[3]" {
		t.Errorf("missing list element: %+v", p)
	}
	// An index in the middle of a pointer finds its element.
	fu := item.CreateElement("Samtykke").CreateElement("TilOpfoelgning")
	fu.CreateElement("Givet")
	for range 2 {
		g := fu.CreateElement("Tilladelse")
		g.CreateElement("Modtagerrolle")
		g.CreateElement("Formaal")
	}
	p = d.locate(item, recordPaths, record.Problem{Pointer: "/consent/follow_up/grants/1/recipient", Rule: "consent.grant_repeated"})
	if p.Pointer != "/KommuneMeddelelse/Registrering/Samtykke/TilOpfoelgning/Tilladelse[2]/Modtagerrolle" {
		t.Errorf("second grant's recipient: %+v", p)
	}
	p = d.locate(item, recordPaths, record.Problem{Pointer: "/consent/follow_up/grants/0/channels", Rule: "schema.min_items"})
	if p.Pointer != "/KommuneMeddelelse/Registrering/Samtykke/TilOpfoelgning/Tilladelse[1]/Kanal" {
		t.Errorf("first grant's missing channels: %+v", p)
	}
	p = d.locate(item, recordPaths, record.Problem{Pointer: "/consent/follow_up/grants/7/purposes/0", Rule: "schema.enum"})
	if p.Pointer != "/KommuneMeddelelse/Registrering/Samtykke/TilOpfoelgning/Tilladelse[8]/Formaal[1]" {
		t.Errorf("missing grant: %+v", p)
	}
}

func TestTooManyProblems(t *testing.T) {
	a := newAdapter(t)
	base := string(readFile(t, validDir+"/gateway-tilbagetraekning.xml"))
	doc := strings.Replace(base, "</KommuneMeddelelse>", strings.Repeat("<Bilag/>", 1000)+"</KommuneMeddelelse>", 1)
	_, err := a.Decode([]byte(doc))
	ps, _ := err.(record.Problems)
	if len(ps) != maxProblems+1 || ps[maxProblems].Rule != "xml.too_many_problems" {
		t.Errorf("%d problems, last %v", len(ps), ps[len(ps)-1])
	}
}

// TestHostileShapesStayCheap decodes documents with as many elements as the
// limits allow in the shapes that cost most (many siblings with problems).
func TestHostileShapesStayCheap(t *testing.T) {
	if testing.Short() {
		t.Skip("large documents")
	}
	a := newAdapter(t)
	base := string(readFile(t, validDir+"/gateway-til-roskilde-beskyttet-adresse.xml"))
	n := maxElements - 200
	for name, child := range map[string]string{
		"unknown elements":      "<X/>",
		"signature elements":    `<ds:X xmlns:ds="http://www.w3.org/2000/09/xmldsig#"/>`,
		"other namespace":       `<o:X xmlns:o="urn:o"/>`,
		"repeated known leaves": "<Sprog>da</Sprog>",
	} {
		t.Run(name, func(t *testing.T) {
			doc := strings.Replace(base, "<Sprog>da</Sprog>", strings.Repeat(child, n), 1)
			start := time.Now()
			m, err := a.Decode([]byte(doc))
			if m == nil && err == nil {
				t.Fatal("nothing returned")
			}
			// Linear work takes well under a second; a quadratic walk
			// over 55,000 siblings would take minutes. The bound is loose
			// so that a loaded machine does not fail the test.
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}
