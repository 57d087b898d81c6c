package police

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/psykosocial/exchange/adapters"
	"github.com/psykosocial/exchange/internal/record"
)

// gatewayHeader is the header of a list the gateway sends to district.
func gatewayHeader(district string) *adapters.Header {
	return &adapters.Header{
		MessageID: "1d2c3b4a-5f6e-4d7c-8b9a-0f1e2d3c4b5a",
		Sender:    gatewayID,
		Recipient: policePrefix + district,
		IssuedAt:  testNow,
		ExpiresAt: testNow.Add(7 * 24 * time.Hour),
	}
}

// policeHeader is the header of a list district sends to the gateway.
func policeHeader(district string) *adapters.Header {
	return &adapters.Header{
		MessageID:       "6a5b4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d",
		Sender:          policePrefix + district,
		Recipient:       gatewayID,
		IssuedAt:        testNow,
		ExpiresAt:       testNow.Add(12 * time.Hour),
		SenderReference: "5100-80150-00431-26",
	}
}

// carried is what the police format keeps of r: r without the members the
// mapping table in doc.go lists as lost.
func carried(r *record.Record) *record.Record {
	c := r.Clone()
	c.Assessment = nil
	if c.Incident != nil {
		c.Incident.RegionCode = ""
	}
	if c.Person != nil && *c.Person == (record.Person{}) {
		c.Person = nil
	}
	if c.Consent != nil && c.Consent.Registration == record.RegistrationNotObtained {
		c.Consent = &record.Consent{Registration: record.RegistrationNotObtained}
	}
	return c
}

// lost lists which of the lost members r actually had, to show that the
// test covers them.
func lost(r *record.Record) []string {
	var out []string
	if r.Assessment != nil {
		out = append(out, "assessment")
	}
	if r.Incident != nil && r.Incident.RegionCode != "" {
		out = append(out, "incident.region_code")
	}
	if r.Consent != nil && r.Consent.Registration == record.RegistrationNotObtained && r.Consent.FollowUp != nil {
		out = append(out, "consent.follow_up beside not_obtained")
	}
	return out
}

// roundTrip encodes records as one list with h and decodes the list.
func roundTrip(tb testing.TB, a *Adapter, h *adapters.Header, recs ...*record.Record) ([]byte, *adapters.Message) {
	tb.Helper()
	items := make([]adapters.Item, len(recs))
	for i, r := range recs {
		items[i] = adapters.Item{Index: i, Record: r}
	}
	data, err := a.Encode(&adapters.Message{Format: FormatName, Kind: adapters.KindRegistration, Header: h, Items: items})
	if err != nil {
		tb.Fatalf("Encode: %v", err)
	}
	m, err := a.Decode(data)
	if err != nil {
		tb.Fatalf("Decode of the encoded list: %v\n%s", err, data)
	}
	if len(m.Items) != len(recs) {
		tb.Fatalf("%d items, want %d", len(m.Items), len(recs))
	}
	for _, it := range m.Items {
		if it.Record == nil {
			tb.Fatalf("person %d refused after the round trip: %v\n%s", it.Index, it.Problems, data)
		}
	}
	return data, m
}

// commonExamples decodes every valid common example record.
func commonExamples(tb testing.TB) map[string]*record.Record {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join(commonValidDir, "*.json"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no common examples in %s", commonValidDir)
	}
	out := map[string]*record.Record{}
	for _, f := range files {
		r, err := record.Decode(readFile(tb, f))
		if err != nil {
			tb.Fatalf("%s: %v", f, err)
		}
		out[filepath.Base(f)] = r
	}
	return out
}

// TestRoundTripCommonExamples: common → police → common keeps every member
// the format carries, for every common example, and drops exactly the
// members doc.go lists as lost. Each record goes in a list from the gateway
// and, when a police district registered it, in a list from that district.
func TestRoundTripCommonExamples(t *testing.T) {
	a := newAdapter(t)
	v := newValidator(t)
	covered := map[string]bool{}
	for name, r := range commonExamples(t) {
		t.Run(name, func(t *testing.T) {
			if ps := v.Validate(r); len(ps) > 0 {
				t.Fatalf("the common example is invalid: %v", ps)
			}
			want := canonical(t, carried(r))
			for _, l := range lost(r) {
				covered[l] = true
			}
			_, m := roundTrip(t, a, gatewayHeader("nordjylland"), r)
			if diff := cmp.Diff(want, canonical(t, m.Items[0].Record)); diff != "" {
				t.Errorf("gateway list: (-want +got):\n%s", diff)
			}
			if g := r.Registered; g != nil && strings.HasPrefix(g.ByAuthority, policePrefix) {
				_, m := roundTrip(t, a, policeHeader(strings.TrimPrefix(g.ByAuthority, policePrefix)), r)
				if diff := cmp.Diff(want, canonical(t, m.Items[0].Record)); diff != "" {
					t.Errorf("police list: (-want +got):\n%s", diff)
				}
				covered["police list"] = true
			}
		})
	}
	t.Logf("lost members seen in the common examples: %v", covered)
}

// TestRoundTripLostMembers proves on a record that has every lost member
// that exactly those are dropped.
func TestRoundTripLostMembers(t *testing.T) {
	a := newAdapter(t)
	r := commonExamples(t)["aarhus-resident-hurt-in-copenhagen.json"]
	if r == nil {
		t.Skip("the common example aarhus-resident-hurt-in-copenhagen.json is gone")
	}
	r = r.Clone()
	r.Assessment = &record.Assessment{FollowUpPriority: record.PriorityDays, Notes: "Rystet, sover dårligt."}
	r.Incident.RegionCode = "1084"
	_, m := roundTrip(t, a, gatewayHeader("koebenhavn"), r)
	got := m.Items[0].Record
	if got.Assessment != nil || got.Incident.RegionCode != "" {
		t.Errorf("assessment or region code survived: %s", canonical(t, got))
	}
	if diff := cmp.Diff(canonical(t, carried(r)), canonical(t, got)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}

	no := r.Clone()
	no.Assessment = nil
	no.Consent = &record.Consent{Registration: record.RegistrationNotObtained, FollowUp: &record.FollowUp{Granted: new(bool)}}
	_, m = roundTrip(t, a, gatewayHeader("koebenhavn"), no)
	if c := m.Items[0].Record.Consent; c.FollowUp != nil || c.Registration != record.RegistrationNotObtained {
		t.Errorf("consent after the round trip = %+v, want only not_obtained", c)
	}
}

// TestRoundTripOwnExamples: police → common → police → common gives the
// same records, and encoding is deterministic (same input, same bytes;
// the re-encoding of a re-decoded list is the same bytes again).
func TestRoundTripOwnExamples(t *testing.T) {
	a := newAdapter(t)
	for _, f := range examples(t, validDir) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			m1, err := a.Decode(readFile(t, f))
			if err != nil {
				t.Fatal(err)
			}
			a := a
			if role := officerRoleOf(t, f); role != "" {
				// Encode writes the adapter's officer role; use the example's.
				a = mustNew(t, newValidator(t), WithOfficerRole(role))
			}
			b1, err := a.Encode(m1)
			if err != nil {
				t.Fatal(err)
			}
			b2, err := a.Encode(m1)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b1, b2) {
				t.Error("Encode is not deterministic")
			}
			m2, err := a.Decode(b1)
			if err != nil {
				t.Fatalf("Decode of the encoding: %v\n%s", err, b1)
			}
			if diff := cmp.Diff(string(render(t, m1)), string(render(t, m2))); diff != "" {
				t.Errorf("(-first +second):\n%s", diff)
			}
			b3, err := a.Encode(m2)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b1, b3) {
				t.Errorf("re-encoding differs:\n%s\n---\n%s", b1, b3)
			}
		})
	}
}

func officerRoleOf(tb testing.TB, f string) OfficerRole {
	tb.Helper()
	s := string(readFile(tb, f))
	i := strings.Index(s, "<Funktion>")
	j := strings.Index(s, "</Funktion>")
	if i < 0 || j < i {
		return ""
	}
	return OfficerRole(s[i+len("<Funktion>") : j])
}

// TestEncodeErrors covers every way Encode refuses a message.
func TestEncodeErrors(t *testing.T) {
	a := newAdapter(t)
	m, err := a.Decode(readFile(t, filepath.Join(validDir, "brand-aalborg-nordjylland.xml")))
	if err != nil {
		t.Fatal(err)
	}
	recs := m.Records()
	items := func(rs ...*record.Record) []adapters.Item {
		out := make([]adapters.Item, len(rs))
		for i, r := range rs {
			out[i] = adapters.Item{Index: i, Record: r}
		}
		return out
	}
	otherIncident := recs[2].Clone()
	otherIncident.Incident.Kind = record.KindExplosion
	fromRegion := recs[1].Clone()
	fromRegion.Registered.ByAuthority = "region:1081"
	fromRegion.Registered.ByRole = record.RoleKOP
	badHeader := *m.Header
	badHeader.Recipient = "municipality:0851"
	ctrl := recs[0].Clone()
	ctrl.Person.Name = "Mette\x00Holm"
	noConsent := recs[0].Clone()
	noConsent.Consent = nil
	unknownKind := recs[0].Clone()
	unknownKind.Relation.Type = "neighbour"

	for _, tc := range []struct {
		name    string
		adapter *Adapter
		msg     *adapters.Message
		want    error
		text    string
	}{
		{"nil message", a, nil, ErrNotEncodable, "no message"},
		{"no header", a, &adapters.Message{Kind: adapters.KindRegistration, Items: items(recs...)}, ErrNotEncodable, "header"},
		{"bad header", a, &adapters.Message{Kind: adapters.KindRegistration, Header: &badHeader, Items: items(recs...)}, ErrNotEncodable, "Modtager"},
		{"no records", a, &adapters.Message{Kind: adapters.KindRegistration, Header: m.Header}, ErrNotEncodable, "at least one"},
		{"item without record", a, &adapters.Message{Kind: adapters.KindRegistration, Header: m.Header, Items: []adapters.Item{{}}}, ErrNotEncodable, "item 0"},
		{"unknown kind", a, &adapters.Message{Kind: "query", Header: m.Header}, ErrNotEncodable, "kind"},
		{"withdrawal without notice", a, &adapters.Message{Kind: adapters.KindWithdrawal, Header: m.Header}, ErrNotEncodable, "notice"},
		{"invalid withdrawal", a, &adapters.Message{Kind: adapters.KindWithdrawal, Header: m.Header,
			Withdrawal: &record.Withdrawal{Schema: record.WithdrawalSchemaV1, RecordID: recs[0].RecordID, Version: 1, Reason: "lost"}}, ErrNotEncodable, "/reason"},
		{"two incidents", a, &adapters.Message{Kind: adapters.KindRegistration, Header: m.Header, Items: items(recs[0], recs[1], otherIncident)},
			ErrIncidentMismatch, "record 2 (" + otherIncident.RecordID + ") differs from record 0 in incident kind"},
		{"no officer role", mustNew(t, newValidator(t)), &adapters.Message{Kind: adapters.KindRegistration, Header: m.Header, Items: items(recs...)},
			ErrRegistrant, "WithOfficerRole"},
		{"registered by another authority", a, &adapters.Message{Kind: adapters.KindRegistration, Header: m.Header, Items: items(recs[0], fromRegion)},
			ErrRegistrant, "record 1"},
		{"control character", a, &adapters.Message{Kind: adapters.KindRegistration, Header: gatewayHeader("nordjylland"), Items: items(ctrl)},
			ErrNotEncodable, "Navn"},
		{"no consent", a, &adapters.Message{Kind: adapters.KindRegistration, Header: gatewayHeader("nordjylland"), Items: items(noConsent)},
			ErrNotEncodable, "consent"},
		{"value outside the vocabulary", a, &adapters.Message{Kind: adapters.KindRegistration, Header: gatewayHeader("nordjylland"), Items: items(unknownKind)},
			ErrNotEncodable, "relation type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := tc.adapter.Encode(tc.msg)
			if out != nil || !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
				t.Errorf("Encode = %q, %v; want %v containing %q", out, err, tc.want, tc.text)
			}
		})
	}
}

// TestEncodeMixedRegistrants: a list from the gateway names each person's
// registering authority, so records from several authorities of one
// incident travel in one list.
func TestEncodeMixedRegistrants(t *testing.T) {
	a := newAdapter(t)
	m, err := a.Decode(readFile(t, filepath.Join(validDir, "brand-aalborg-nordjylland.xml")))
	if err != nil {
		t.Fatal(err)
	}
	recs := m.Records()
	recs[1] = recs[1].Clone()
	recs[1].Registered.ByAuthority, recs[1].Registered.ByRole = "municipality:0851", record.RoleCrisisTeam
	data, got := roundTrip(t, a, gatewayHeader("nordjylland"), recs...)
	if bytes.Contains(data, []byte("<Registrant>")) {
		t.Error("a list from the gateway has a Registrant")
	}
	for i, r := range recs {
		if diff := cmp.Diff(canonical(t, r), canonical(t, got.Items[i].Record)); diff != "" {
			t.Errorf("record %d (-want +got):\n%s", i, diff)
		}
	}
}

// TestWithdrawalRoundTrip encodes and decodes a withdrawal in both directions.
func TestWithdrawalRoundTrip(t *testing.T) {
	a := newAdapter(t)
	at := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	for _, h := range []*adapters.Header{gatewayHeader("fyn"), policeHeader("fyn")} {
		for _, reason := range record.WithdrawalReasons() {
			w := &record.Withdrawal{Schema: record.WithdrawalSchemaV1, RecordID: "d1e2f3a4-b5c6-4d7e-8f90-a1b2c3d4e5f6",
				Version: 3, Reason: reason, WithdrawnAt: &at, IncidentID: "FYN-2026-1121-SVENDBORG-OVERSV"}
			data, err := a.Encode(&adapters.Message{Kind: adapters.KindWithdrawal, Header: h, Withdrawal: w})
			if err != nil {
				t.Fatal(err)
			}
			m, err := a.Decode(data)
			if err != nil {
				t.Fatalf("%s", err)
			}
			if m.Kind != adapters.KindWithdrawal || len(m.Items) != 0 || cmp.Diff(w, m.Withdrawal) != "" {
				t.Errorf("%s: decoded %+v, want %+v", reason, m.Withdrawal, w)
			}
			if diff := cmp.Diff(h, m.Header); diff != "" {
				t.Errorf("header (-want +got):\n%s", diff)
			}
		}
	}
}

// TestVocabulariesAreComplete: every common value has exactly one Danish
// value, so Encode never meets a valid record it cannot write.
func TestVocabulariesAreComplete(t *testing.T) {
	check := func(name string, danish []string, common []string, toDanish func(string) (string, bool)) {
		t.Run(name, func(t *testing.T) {
			seen := map[string]bool{}
			for _, c := range common {
				d, ok := toDanish(c)
				if !ok {
					t.Errorf("%s has no Danish value", c)
				}
				if seen[d] {
					t.Errorf("Danish value %s used twice", d)
				}
				seen[d] = true
			}
			if len(danish) != len(common) {
				t.Errorf("%d Danish values for %d common ones", len(danish), len(common))
			}
		})
	}
	check("incident kinds", incidentKinds.Codes(), strs(record.IncidentKinds()), func(s string) (string, bool) { return incidentKinds.Danish(record.IncidentKind(s)) })
	check("sites", sites.Codes(), strs(record.Sites()), func(s string) (string, bool) { return sites.Danish(record.Site(s)) })
	check("registrar roles", registrarRoles.Codes(), strs(record.RegistrarRoles()), func(s string) (string, bool) { return registrarRoles.Danish(record.RegistrarRole(s)) })
	check("relation types", relationTypes.Codes(), strs(record.RelationTypes()), func(s string) (string, bool) { return relationTypes.Danish(record.RelationType(s)) })
	check("given by", givenBys.Codes(), strs(record.GivenBys()), func(s string) (string, bool) { return givenBys.Danish(record.GivenBy(s)) })
	check("consent methods", consentMethods.Codes(), strs(record.ConsentMethods()), func(s string) (string, bool) { return consentMethods.Danish(record.ConsentMethod(s)) })
	check("channels", channels.Codes(), strs(record.Channels()), func(s string) (string, bool) { return channels.Danish(record.Channel(s)) })
	check("recipient roles", recipientRoles.Codes(), strs(record.RecipientRoles()), func(s string) (string, bool) { return recipientRoles.Danish(record.RecipientRole(s)) })
	check("purposes", purposes.Codes(), strs(record.Purposes()), func(s string) (string, bool) { return purposes.Danish(record.Purpose(s)) })
	check("kinships", kinships.Codes(), strs(record.Kinships()), func(s string) (string, bool) { return kinships.Danish(record.Kinship(s)) })
	check("guardian relations", guardianRelations.Codes(), strs(record.GuardianRelations()), func(s string) (string, bool) { return guardianRelations.Danish(record.GuardianRelation(s)) })
	check("withdrawal reasons", withdrawalReasons.Codes(), strs(record.WithdrawalReasons()), func(s string) (string, bool) { return withdrawalReasons.Danish(record.WithdrawalReason(s)) })
	check("officer roles", officerRoles.Codes(), strs(OfficerRoles()), func(s string) (string, bool) { return officerRoles.Danish(OfficerRole(s)) })
	// Registration consent: not_obtained is the absence of Samtykke.
	regs := []string{string(record.RegistrationGranted), string(record.RegistrationRefused)}
	check("registration consents", registrationConsents.Codes(), regs, func(s string) (string, bool) { return registrationConsents.Danish(record.RegistrationConsent(s)) })
}

func strs[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// TestEncodeMinimisedViews: the views the gateway sends a district encode
// and decode unchanged: consent without follow_up (the police view), a
// guardian without the phone and e-mail the view withholds, a relative
// whose link to the affected person is only the kinship; and a record that
// names the affected person by CPR keeps it both ways.
func TestEncodeMinimisedViews(t *testing.T) {
	a := newAdapter(t)
	read := func(name string) []*record.Record {
		m, err := a.Decode(readFile(t, filepath.Join(validDir, name)))
		if err != nil {
			t.Fatal(err)
		}
		return m.Records()
	}
	child := read("brand-odense-barn-med-vaerge.xml")[0].Clone()
	child.Consent.FollowUp = nil
	child.Consent.Guardian.Phone, child.Consent.Guardian.Email = "", ""
	relatives := read("faerdselsuheld-vejle-paaroerende-med-cpr.xml")
	byCPR := relatives[0].Clone()
	view := relatives[1].Clone()
	view.Relation.Affected = nil
	for _, tc := range []struct {
		name string
		r    *record.Record
		want []string // must be in the encoding
		not  []string // must not be
	}{
		{"police view of a minor", child, []string{"<Vaerge>", "<Relation>foraelder</Relation>"}, []string{"<Opfoelgning>", "<Telefon>", "<Email>"}},
		{"relative with kinship only", view, []string{"<Slaegtskab>soeskende</Slaegtskab>"}, []string{"<BeroertPerson>", "<Samtykke>"}},
		{"relative naming the affected by CPR", byCPR, []string{"<BeroertPerson>", "<CPR>1402984433</CPR>", "<Slaegtskab>foraelder</Slaegtskab>"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, h := range []*adapters.Header{gatewayHeader("fyn"), policeHeader(strings.TrimPrefix(tc.r.Registered.ByAuthority, policePrefix))} {
				data, m := roundTrip(t, a, h, tc.r)
				if diff := cmp.Diff(canonical(t, tc.r), canonical(t, m.Items[0].Record)); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
				for _, s := range tc.want {
					if !bytes.Contains(data, []byte(s)) {
						t.Errorf("the encoding lacks %s:\n%s", s, data)
					}
				}
				for _, s := range tc.not {
					if bytes.Contains(data, []byte(s)) {
						t.Errorf("the encoding has %s:\n%s", s, data)
					}
				}
			}
		})
	}
}
