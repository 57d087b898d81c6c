package consent

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/psykosocial/exchange/internal/record"
	"github.com/psykosocial/exchange/internal/routing"
)

// The field table and record.GroupFields must agree member for member: a
// member added to a group there and unknown here would otherwise travel or
// vanish without a rule deciding it.
func TestFieldTableMatchesGroupFields(t *testing.T) {
	sets, err := groupSets()
	if err != nil {
		t.Fatal(err)
	}
	for g, paths := range record.GroupFields() {
		var want fieldSet
		for _, p := range paths {
			f, ok := fieldOf(p)
			if !ok {
				t.Errorf("%s: %s is not in the field table", g, p)
			}
			want |= 1 << f
		}
		if sets[g] != want {
			t.Errorf("%s: got %b, want %b", g, sets[g], want)
		}
	}
	for f := range numFields {
		if got, ok := fieldOf(f.path()); !ok || got != f {
			t.Errorf("field %d: path %q does not map back", f, f.path())
		}
		if alwaysKept(f.path()) {
			t.Errorf("%s is both a field and always kept", f.path())
		}
	}
}

// Even a policy that slipped past Load cannot disclose health notes
// without consent: the evaluation checks again.
func TestHealthNotesNeedConsentEvenIfThePolicyDoesNot(t *testing.T) {
	p, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	sets, err := groupSets()
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(p.rules, func(r compiledRule) bool {
		return r.Role == record.RecipientIncidentMunicipality && r.Basis == BasisLegal
	})
	r := &p.rules[i]
	r.HealthNotes = true
	r.covered |= sets[record.GroupAssessment]
	r.fields |= sets[record.GroupAssessment]

	occurred := time.Date(2026, 6, 14, 21, 40, 0, 0, time.UTC)
	rec := &record.Record{
		Schema: record.SchemaV1, RecordID: "3f6c1d2e-8a4b-4c7d-9e1f-2a3b4c5d6e7f", Version: 1,
		Incident:   &record.Incident{ID: "X-1", MunicipalityCode: "0101", OccurredAt: &occurred},
		Person:     &record.Person{Name: "A B"},
		Assessment: &record.Assessment{FollowUpPriority: record.PriorityDays, Notes: "health data"},
		Consent:    &record.Consent{Registration: record.RegistrationNotObtained},
	}
	out, err := p.Evaluate(rec, []routing.Candidate{{Authority: "municipality:0101", Role: record.RecipientIncidentMunicipality}}, occurred.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	o := out[slices.IndexFunc(out, func(o Outcome) bool { return o.Decision.RuleID == r.ID })]
	d := o.Decision
	if d.Effect != Allow || slices.Contains(d.Fields, "/assessment/notes") || o.View.Assessment.Notes != "" {
		t.Fatalf("notes disclosed on a legal basis: %s", d)
	}
	if len(d.Withheld) != 1 || d.Withheld[0].Check != CheckHealthNotesNeedConsent {
		t.Errorf("got withheld %+v, want the notes withheld by %s", d.Withheld, CheckHealthNotesNeedConsent)
	}
}

// Every JSON member of the record types is either a field of the table
// (which strip removes unless a rule keeps it) or a member that travels
// with every view. A member added to schema v1 and not here would travel
// to every recipient: this test makes that a failure, not a leak.
func TestEveryRecordMemberIsDecided(t *testing.T) {
	kept := map[string]bool{}
	for f := range numFields {
		kept[f.path()] = true
	}
	var walk func(prefix string, typ reflect.Type)
	walk = func(prefix string, typ reflect.Type) {
		for typ.Kind() == reflect.Pointer {
			typ = typ.Elem()
		}
		for i := range typ.NumField() {
			sf := typ.Field(i)
			name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
			p := prefix + "/" + name
			switch {
			case kept[p] || alwaysKept(p):
				continue
			case p == "/relation/affected":
				continue // never leaves the gateway: strip and project drop it always (TestProjectEqualsCloneAndStrip)
			case p == "/incident" || p == "/person" || p == "/assessment" || p == "/relation":
				walk(p, sf.Type)
			default:
				t.Errorf("record member %s is neither a field a rule decides nor a member that always travels", p)
			}
		}
	}
	walk("", reflect.TypeOf(record.Record{}))
}

// fullRecord sets every member of schema v1, so that a copy that misses a
// member shows.
func fullRecord() *record.Record {
	at := func(h int) *time.Time {
		t := time.Date(2026, 6, 14, 21, 40, 0, 0, time.UTC).Add(time.Duration(h) * time.Hour)
		return &t
	}
	yes := true
	return &record.Record{
		Schema: record.SchemaV1, RecordID: "3f6c1d2e-8a4b-4c7d-9e1f-2a3b4c5d6e7f", Version: 2,
		Incident: &record.Incident{ID: "X-1", Title: "Brand", Kind: record.KindFire, OccurredAt: at(0),
			MunicipalityCode: "0101", RegionCode: "1084", Site: record.SiteEPC},
		Registered: &record.Registered{At: at(1), ByAuthority: "region:1084", ByRole: record.RoleKOP},
		Person: &record.Person{CPR: "0707861234", ECPR: "0707861AB3", Name: "Mette Lund",
			BirthDate: &record.Date{Year: 1986, Month: 7, Day: 7}, Phone: "+4528417733", Email: "m@example.dk",
			Address:          &record.Address{Street: "Skovvejen 14", PostalCode: "8000", City: "Aarhus C", Country: "DK", MunicipalityCode: "0751"},
			AddressProtected: true, Language: "da", InterpreterNeeded: true},
		Relation: &record.Relation{Type: record.RelationRelative, RelativeOf: "9b2e4f60-1c3d-4e5f-8a7b-6c5d4e3f2a10",
			Affected: &record.AffectedPerson{CPR: "0101651234", Name: "Ole Lund", BirthDate: &record.Date{Year: 1965, Month: 1, Day: 1}},
			Kinship:  record.KinshipPartner},
		Assessment: &record.Assessment{FollowUpPriority: record.PriorityDays, Notes: "Søvnbesvær."},
		Consent: &record.Consent{
			Registration: record.RegistrationGranted,
			FollowUp: &record.FollowUp{Granted: &yes, Grants: []record.Grant{
				{Recipient: record.RecipientResidenceMunicipality, Purposes: []record.Purpose{record.PurposeFollowUp}, Channels: []record.Channel{record.ChannelPhone, record.ChannelEmail}},
				{Recipient: record.RecipientResidenceRegion, Purposes: []record.Purpose{record.PurposePsychiatricFollowUp}, Channels: []record.Channel{record.ChannelPhone}},
			}, ExpiresAt: at(24 * 365)},
			GivenBy:     record.GivenByGuardian,
			Guardian:    &record.Guardian{Name: "Ole Lund", Relation: record.GuardianParent, Phone: "+4528417700", Email: "ole@example.dk"},
			Obtained:    &record.Obtained{By: &record.ObtainedBy{Authority: "region:1084", Role: record.RoleKOP}, At: at(1), Method: record.MethodSignedForm, EvidenceRef: "EPC-1"},
			WithdrawnAt: at(48),
		},
	}
}

// zeroMembers lists the members of v that are zero, recursively.
func zeroMembers(prefix string, v reflect.Value) []string {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return []string{prefix}
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct || v.Type() == reflect.TypeOf(time.Time{}) || v.Type() == reflect.TypeOf(record.Date{}) {
		if v.IsZero() {
			return []string{prefix}
		}
		return nil
	}
	var out []string
	for i := range v.NumField() {
		out = append(out, zeroMembers(prefix+"."+v.Type().Field(i).Name, v.Field(i))...)
	}
	return out
}

func TestFullRecordSetsEveryMember(t *testing.T) {
	r := fullRecord()
	for _, m := range zeroMembers("Record", reflect.ValueOf(r)) {
		t.Errorf("%s is not set: fullRecord must set every member, so that the view tests see it", m)
	}
}

// Evaluate's one-allocation views and ViewOf's Clone-and-strip views are
// the same record for every set of kept fields.
func TestProjectEqualsCloneAndStrip(t *testing.T) {
	full := fullRecord()
	sets := []fieldSet{0, 1<<numFields - 1}
	for f := range numFields {
		sets = append(sets, 1<<f, (1<<numFields-1)&^(1<<f))
	}
	gs, err := groupSets()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range gs {
		for _, b := range gs {
			sets = append(sets, a|b)
		}
	}
	for _, keep := range sets {
		for _, role := range record.RecipientRoles() {
			want := full.Clone()
			strip(want, keep, []record.RecipientRole{role})
			got := project(full, keep, role)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("keep %023b as %s:\nproject %+v\nclone   %+v", keep, role, got, want)
			}
			if got.Relation != nil && got.Relation.Affected != nil {
				t.Errorf("a view carries /relation/affected")
			}
		}
	}
}

// A view shares no memory with its record: changing everything reachable
// in the view leaves the record as it was.
func TestViewSharesNoMemory(t *testing.T) {
	full := fullRecord()
	before := full.Clone()
	v := project(full, 1<<numFields-1, record.RecipientResidenceMunicipality)
	*v.Incident.OccurredAt = time.Time{}
	*v.Registered.At = time.Time{}
	*v.Person.BirthDate = record.Date{}
	v.Person.Address.Street = "changed"
	v.Relation.Type = record.RelationWitness
	v.Assessment.Notes = "changed"
	*v.Consent.FollowUp.Granted = false
	v.Consent.FollowUp.Grants[0].Channels[0] = record.ChannelDigitalPost
	v.Consent.FollowUp.Grants[0].Recipient = record.RecipientPoliceDistrict
	v.Consent.FollowUp.Grants[0].Purposes[0] = record.PurposeIdentification
	v.Consent.Guardian.Phone = "changed"
	*v.Consent.FollowUp.ExpiresAt = time.Time{}
	*v.Consent.Obtained.At = time.Time{}
	v.Consent.Obtained.By.Authority = "changed"
	*v.Consent.WithdrawnAt = time.Time{}
	v.Consent.FollowUp.Grants[0].Channels = append(v.Consent.FollowUp.Grants[0].Channels, record.ChannelEmail)
	v.Consent.FollowUp.Grants = append(v.Consent.FollowUp.Grants, record.Grant{})
	if !reflect.DeepEqual(full, before) {
		t.Errorf("changing the view changed the record:\n%+v\n%+v", full, before)
	}
}
