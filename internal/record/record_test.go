package record_test

import (
	"encoding/json"
	"errors"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/psykosocial/exchange/internal/clock"
	"github.com/psykosocial/exchange/internal/record"
	"github.com/psykosocial/exchange/internal/refdata"
	"github.com/psykosocial/exchange/schemas"
)

// testNow is the fixed clock of the tests: the examples lie before it.
var testNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func newValidator(t testing.TB) *record.Validator {
	t.Helper()
	return newValidatorAt(t, testNow, refdata.Config{})
}

func newValidatorAt(t testing.TB, now time.Time, cfg refdata.Config) *record.Validator {
	t.Helper()
	ref, err := refdata.Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return record.NewValidator(ref, clock.Fixed(now))
}

func TestCPRBirthDate(t *testing.T) {
	tests := []struct {
		name, cpr, want, err string
	}{
		{"7th digit 0-3 is the 1900s", "0707861234", "1986-07-07", ""},
		{"7th digit 4 with YY<=36 is the 2000s", "1504154022", "2015-04-15", ""},
		{"7th digit 4 with YY>36 is the 1900s", "1203954321", "1995-03-12", ""},
		{"7th digit 9 with YY<=36 is the 2000s", "0101209999", "2020-01-01", ""},
		{"7th digit 5-8 with YY<=57 is the 2000s", "0101575000", "2057-01-01", ""},
		{"7th digit 5-8 with YY>57 is the 1800s", "0101585000", "1858-01-01", ""},
		{"no modulus-11 requirement (issued since 2007)", "0101651234", "1965-01-01", ""},
		{"leap day in a leap year", "2902001234", "1900-02-29", "real date"},
		{"leap day in 2000 via 7th digit 4", "2902004234", "2000-02-29", ""},
		{"31 February", "3102861234", "", "real date"},
		{"month 13", "0113861234", "", "real date"},
		{"day 00", "0001861234", "", "real date"},
		{"nine digits", "070786123", "", "10 digits"},
		{"hyphen", "070786-123", "", "only digits"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := record.CPRBirthDate(tc.cpr)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("CPRBirthDate(%s) = %v, %v; want error containing %q", tc.cpr, d, err, tc.err)
				}
				return
			}
			if err != nil || d.String() != tc.want {
				t.Fatalf("CPRBirthDate(%s) = %v, %v; want %s", tc.cpr, d, err, tc.want)
			}
		})
	}
}

func readExample(t testing.TB, name string) *record.Record {
	t.Helper()
	b, err := fs.ReadFile(schemas.FS, "examples/registration/valid/"+name)
	if err != nil {
		t.Fatal(err)
	}
	r, err := record.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestCanonicalGolden pins the canonical encoding: these bytes never change
// within schema v1 once it is released, because digests and signatures are
// computed over them.
func TestCanonicalGolden(t *testing.T) {
	r := readExample(t, "minimised-view.json")
	got, err := record.MarshalCanonical(r)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"schema":"registration/v1","record_id":"3f6c1d2e-8a4b-4c7d-9e1f-2a3b4c5d6e7f","version":1,"incident":{"id":"HST-2026-0614-KBH-BRAND"},"consent":{"registration":"granted","follow_up":{"granted":true,"grants":[{"recipient":"residence_municipality","purposes":["psychosocial_follow_up"],"channels":["phone","digital_post"]},{"recipient":"residence_region","purposes":["psychosocial_follow_up"],"channels":["phone","digital_post"]}],"expires_at":"2027-06-13T22:00:00Z"},"given_by":"self","obtained":{"by":{"authority":"region:1084","role":"kop"},"at":"2026-06-14T21:05:00Z","method":"verbal_documented","evidence_ref":"EPC-VBRO-0042"}}}`
	if string(got) != want {
		t.Errorf("canonical encoding changed:\n got %s\nwant %s", got, want)
	}
}

// TestCanonicalIsStable checks, for every valid example, that decoding the
// canonical encoding and encoding again gives the same bytes, and that the
// encoding does not depend on the time zone the times were written in.
func TestCanonicalIsStable(t *testing.T) {
	files, _ := fs.Glob(schemas.FS, "examples/registration/valid/*.json")
	for _, f := range files {
		b, _ := fs.ReadFile(schemas.FS, f)
		r, err := record.Decode(b)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		c1, err := record.MarshalCanonical(r)
		if err != nil {
			t.Fatal(err)
		}
		r2, err := record.Decode(c1)
		if err != nil {
			t.Fatalf("%s: canonical form does not decode: %v", f, err)
		}
		c2, _ := record.MarshalCanonical(r2)
		if string(c1) != string(c2) {
			t.Errorf("%s: canonical encoding is not stable", f)
		}
		if strings.Contains(string(c1), "+02:00") || strings.Contains(string(c1), "\n") {
			t.Errorf("%s: canonical encoding keeps a zone offset or a newline", f)
		}
	}
}

func TestCloneIsDeep(t *testing.T) {
	r := readExample(t, "aarhus-resident-hurt-in-copenhagen.json")
	c := r.Clone()
	if !cmp.Equal(r, c) {
		t.Fatal("clone differs")
	}
	c.Person.Address.City = "X"
	c.Consent.FollowUp.Grants[0].Channels[0] = record.ChannelEmail
	c.Consent.FollowUp.Grants[1].Recipient = record.RecipientPoliceDistrict
	*c.Consent.FollowUp.Granted = false
	*c.Incident.OccurredAt = time.Time{}
	if r.Person.Address.City == "X" || r.Consent.FollowUp.Grants[0].Channels[0] == record.ChannelEmail ||
		r.Consent.FollowUp.Grants[1].Recipient == record.RecipientPoliceDistrict ||
		!r.Consent.FollowUp.IsGranted() || r.Incident.OccurredAt.IsZero() {
		t.Error("changing the clone changed the original")
	}
}

// TestVocabulariesMatchSchema keeps the Go vocabularies and the schema's
// $defs enums identical: one definition of each vocabulary.
func TestVocabulariesMatchSchema(t *testing.T) {
	b, err := fs.ReadFile(schemas.FS, schemas.RegistrationV1)
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Defs map[string]struct {
			Enum []string `json:"enum"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	tests := map[string][]string{
		"incident_kind":        strs(record.IncidentKinds()),
		"site":                 strs(record.Sites()),
		"registrar_role":       strs(record.RegistrarRoles()),
		"relation_type":        strs(record.RelationTypes()),
		"priority":             strs(record.Priorities()),
		"registration_consent": strs(record.RegistrationConsents()),
		"channel":              strs(record.Channels()),
		"recipient_role":       strs(record.RecipientRoles()),
		"purpose":              strs(record.Purposes()),
		"given_by":             strs(record.GivenBys()),
		"consent_method":       strs(record.ConsentMethods()),
		"field_group":          strs(record.FieldGroups()),
		"withdrawal_reason":    strs(record.WithdrawalReasons()),
	}
	var pat struct {
		Defs map[string]struct {
			Pattern string `json:"pattern"`
		} `json:"$defs"`
	}
	_ = json.Unmarshal(b, &pat)
	if got := pat.Defs["authority_id"].Pattern; got != record.AuthorityIDPattern {
		t.Errorf("$defs/authority_id pattern %q, Go has %q", got, record.AuthorityIDPattern)
	}
	for def, want := range tests {
		if got := s.Defs[def].Enum; !cmp.Equal(got, want) {
			t.Errorf("$defs/%s enum = %v, Go has %v", def, got, want)
		}
	}
	ref, _ := refdata.Load(refdata.Config{})
	var codes []string
	for _, m := range ref.Municipalities() {
		codes = append(codes, m.Code)
	}
	codes = append(codes, refdata.OutsideMunicipalDivision)
	slices.Sort(codes)
	if got := s.Defs["municipality_code"].Enum; !cmp.Equal(got, codes) {
		t.Errorf("$defs/municipality_code enum differs from the reference data")
	}
}

func strs[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// TestFieldGroupsCoverTheRecord checks that every member of a full record
// belongs to exactly one field group or to what every view keeps.
func TestFieldGroupsCoverTheRecord(t *testing.T) {
	always := []string{"/schema", "/record_id", "/version", "/incident/id", "/registered", "/consent"}
	groups := record.GroupFields()
	owner := map[string]record.FieldGroup{}
	for g, ps := range groups {
		for _, p := range ps {
			if prev, dup := owner[p]; dup {
				t.Errorf("%s is in both %s and %s", p, prev, g)
			}
			owner[p] = g
		}
	}
	r := readExample(t, "aarhus-resident-hurt-in-copenhagen.json")
	b, _ := json.Marshal(r)
	var doc map[string]any
	_ = json.Unmarshal(b, &doc)
	var leaves []string
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		if m, ok := v.(map[string]any); ok {
			for k, c := range m {
				walk(prefix+"/"+k, c)
			}
			return
		}
		leaves = append(leaves, prefix)
	}
	walk("", doc)
	for _, leaf := range leaves {
		covered := false
		for p := range owner {
			if leaf == p || strings.HasPrefix(leaf, p+"/") {
				covered = true
			}
		}
		for _, p := range always {
			if leaf == p || strings.HasPrefix(leaf, p+"/") {
				covered = true
			}
		}
		if !covered {
			t.Errorf("%s belongs to no field group", leaf)
		}
	}
}

func TestDateAge(t *testing.T) {
	d, _ := record.ParseDate("2011-11-26")
	if got := d.AgeAt(testNow); got != 14 {
		t.Errorf("age the day before the 15th birthday = %d, want 14", got)
	}
	d, _ = record.ParseDate("2011-11-25")
	if got := d.AgeAt(testNow); got != 15 {
		t.Errorf("age on the 15th birthday = %d, want 15", got)
	}
	for _, bad := range []string{"2023-02-29", "2023-2-1", "20230201", "", "2023-02-01T00:00:00Z"} {
		if _, err := record.ParseDate(bad); err == nil {
			t.Errorf("ParseDate(%q) accepted", bad)
		}
	}
}

// TestRegionMerger covers the 2027-01-01 merger of Hovedstaden and Sjælland
// into Region Østdanmark, whose code comes from configuration.
func TestRegionMerger(t *testing.T) {
	after := time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC)
	cfg := refdata.TestEastRegion()
	tests := []struct {
		name     string
		now      time.Time
		cfg      refdata.Config
		occurred string
		region   string
		want     string // substring of the single problem, "" for valid
	}{
		{"old code before the merger", testNow, cfg, "2026-06-14T21:40:00+02:00", "1084", ""},
		{"new code before the merger", testNow, cfg, "2026-06-14T21:40:00+02:00", "1099", "region 1099 does not exist on 2026-06-14"},
		{"old code after the merger names both", after, cfg, "2027-02-01T10:00:00+01:00", "1084", "belongs to region 1099 (Region Østdanmark)"},
		{"new code after the merger", after, cfg, "2027-02-01T10:00:00+01:00", "1099", ""},
		{"record from before the merger, validated after it", after, cfg, "2026-12-31T22:00:00+01:00", "1084", ""},
		{"merger code not configured", after, refdata.Config{}, "2027-02-01T10:00:00+01:00", "1084", "not configured"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := newValidatorAt(t, tc.now, tc.cfg)
			r := readExample(t, "aarhus-resident-hurt-in-copenhagen.json")
			at, _ := time.Parse(time.RFC3339, tc.occurred)
			r.Incident.OccurredAt = &at
			r.Incident.RegionCode = tc.region
			ps := v.Validate(r)
			if tc.want == "" {
				if len(ps) != 0 {
					t.Fatalf("unexpected problems: %v", ps)
				}
				return
			}
			found := false
			for _, p := range ps {
				if p.Pointer == "/incident/region_code" && strings.Contains(p.Message, tc.want) {
					found = true
				}
			}
			if !found {
				t.Fatalf("problems %v lack %q at /incident/region_code", ps, tc.want)
			}
		})
	}
}

// FuzzDecodeValidate: any bytes give a record or problems, never a panic;
// problems always carry a rule and a sentence; a valid record's canonical
// form decodes to the same canonical form.
func FuzzDecodeValidate(f *testing.F) {
	for _, dir := range []string{"valid", "invalid"} {
		files, _ := fs.Glob(schemas.FS, "examples/registration/"+dir+"/*.json")
		for _, file := range files {
			b, _ := fs.ReadFile(schemas.FS, file)
			f.Add(b)
		}
	}
	v := newValidator(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := record.Decode(data)
		if (r == nil) == (err == nil) {
			t.Fatalf("Decode returned record %v and error %v", r != nil, err)
		}
		if err != nil {
			var ps record.Problems
			if !errors.As(err, &ps) || len(ps) == 0 {
				t.Fatalf("Decode error is not record.Problems: %v", err)
			}
			return
		}
		ps := v.Validate(r)
		for _, p := range ps {
			if p.Rule == "" || p.Message == "" {
				t.Fatalf("problem without rule or message: %+v", p)
			}
		}
		if len(ps) > 0 {
			return // canonical encodings are made of valid records only
		}
		c1, err := record.MarshalCanonical(r)
		if err != nil {
			t.Fatal(err)
		}
		r2, err := record.Decode(c1)
		if err != nil {
			t.Fatalf("canonical form does not decode: %v\n%s", err, c1)
		}
		c2, _ := record.MarshalCanonical(r2)
		if string(c1) != string(c2) {
			t.Fatalf("canonical form not stable:\n%s\n%s", c1, c2)
		}
	})
}

func BenchmarkDecodeValidate(b *testing.B) {
	data, _ := fs.ReadFile(schemas.FS, "examples/registration/valid/aarhus-resident-hurt-in-copenhagen.json")
	v := newValidator(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		r, err := record.Decode(data)
		if err != nil {
			b.Fatal(err)
		}
		if ps := v.Validate(r); len(ps) > 0 {
			b.Fatal(ps)
		}
	}
}

func BenchmarkMarshalCanonical(b *testing.B) {
	r := readExample(b, "aarhus-resident-hurt-in-copenhagen.json")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := record.MarshalCanonical(r); err != nil {
			b.Fatal(err)
		}
	}
}
