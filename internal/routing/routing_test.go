package routing_test

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/psykosocial/exchange/internal/directory"
	"github.com/psykosocial/exchange/internal/record"
	"github.com/psykosocial/exchange/internal/refdata"
	"github.com/psykosocial/exchange/internal/routing"
	"github.com/psykosocial/exchange/schemas"
)

// Made-up code and CVR number of the unpublished Region Østdanmark, for tests only.
const (
	eastCode = refdata.TestEastRegionCode
	eastCVR  = refdata.TestEastRegionCVR
)

var (
	cest = time.FixedZone("CEST", 2*3600)
	cet  = time.FixedZone("CET", 3600)
	// june is the morning after the Vesterbro fire of the examples.
	june = time.Date(2026, 6, 15, 10, 0, 0, 0, cest)
	// spring2027 is after the region merger.
	spring2027 = time.Date(2027, 3, 2, 12, 0, 0, 0, cet)
)

func router(t testing.TB, cfg refdata.Config) *routing.Router {
	t.Helper()
	ref, err := refdata.Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r, err := routing.New(ref, directory.Generate(ref, june))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func example(t testing.TB, name string) *record.Record {
	t.Helper()
	b, err := fs.ReadFile(schemas.FS, "examples/registration/valid/"+name+".json")
	if err != nil {
		t.Fatal(err)
	}
	r, err := record.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// want is the expected outcome for one role: an authority id for a
// candidate, or "-" and the reason code for an omission.
type want struct {
	authority string
	code      routing.ReasonCode
}

func TestRoute(t *testing.T) {
	east := refdata.Config{EastRegionCode: eastCode, EastRegionCVR: eastCVR}
	tests := []struct {
		name   string
		record string
		edit   func(*record.Record)
		sender string
		at     time.Time
		cfg    refdata.Config
		want   map[record.RecipientRole]want
	}{
		{
			name: "resident of Aarhus hurt in Copenhagen", record: "aarhus-resident-hurt-in-copenhagen",
			sender: "region:1084", at: june,
			want: map[record.RecipientRole]want{
				record.RecipientResidenceMunicipality: {"municipality:0751", routing.LivesInMunicipality},
				record.RecipientResidenceRegion:       {"region:1082", routing.LivesInRegion},
				record.RecipientIncidentMunicipality:  {"municipality:0101", routing.IncidentInMunicipality},
				record.RecipientIncidentRegion:        {"-", routing.IsSender},
				record.RecipientPoliceDistrict:        {"police:koebenhavn", routing.IncidentInPoliceDistrict},
			},
		},
		{
			name: "relative living abroad: the incident authorities keep follow-up", record: "relative-living-abroad",
			sender: "region:1084", at: june,
			want: map[record.RecipientRole]want{
				record.RecipientResidenceMunicipality: {"municipality:0101", routing.FollowUpOwner},
				record.RecipientResidenceRegion:       {"-", routing.IsSender},
				record.RecipientIncidentMunicipality:  {"municipality:0101", routing.IncidentInMunicipality},
				record.RecipientIncidentRegion:        {"-", routing.IsSender},
				record.RecipientPoliceDistrict:        {"police:koebenhavn", routing.IncidentInPoliceDistrict},
			},
		},
		{
			name: "Christiansø resident: Bornholm keeps follow-up (unconfirmed rule)", record: "christiansoe-resident",
			sender: "region:1084", at: time.Date(2026, 7, 1, 16, 0, 0, 0, cest),
			want: map[record.RecipientRole]want{
				record.RecipientResidenceMunicipality: {"municipality:0400", routing.FollowUpOwner},
				record.RecipientResidenceRegion:       {"-", routing.IsSender},
				record.RecipientIncidentMunicipality:  {"municipality:0400", routing.IncidentInMunicipality},
				record.RecipientIncidentRegion:        {"-", routing.IsSender},
				record.RecipientPoliceDistrict:        {"police:bornholm", routing.IncidentInPoliceDistrict},
			},
		},
		{
			name: "incident on Christiansø has a police district but no municipality or region", record: "christiansoe-resident",
			edit:   func(r *record.Record) { r.Incident.MunicipalityCode, r.Incident.RegionCode = "0411", "" },
			sender: "region:1084", at: time.Date(2026, 7, 1, 16, 0, 0, 0, cest),
			want: map[record.RecipientRole]want{
				record.RecipientResidenceMunicipality: {"municipality:0400", routing.FollowUpOwner},
				record.RecipientResidenceRegion:       {"-", routing.IsSender},
				record.RecipientIncidentMunicipality:  {"-", routing.IncidentOutsideDivision},
				record.RecipientIncidentRegion:        {"-", routing.IncidentOutsideDivision},
				record.RecipientPoliceDistrict:        {"police:bornholm", routing.IncidentInPoliceDistrict},
			},
		},
		{
			name: "police list: the police district that sent it is not a recipient", record: "police-list-without-consent",
			sender: "police:nordjylland", at: time.Date(2026, 11, 2, 19, 0, 0, 0, cet),
			want: map[record.RecipientRole]want{
				record.RecipientResidenceMunicipality: {"municipality:0851", routing.LivesInMunicipality},
				record.RecipientResidenceRegion:       {"region:1081", routing.LivesInRegion},
				record.RecipientIncidentMunicipality:  {"municipality:0851", routing.IncidentInMunicipality},
				record.RecipientIncidentRegion:        {"region:1081", routing.IncidentInRegion},
				record.RecipientPoliceDistrict:        {"-", routing.IsSender},
			},
		},
		{
			name: "child with guardian consent registered by the municipality where she lives", record: "child-with-guardian-consent",
			sender: "municipality:0561", at: time.Date(2026, 8, 22, 12, 0, 0, 0, cest),
			want: map[record.RecipientRole]want{
				record.RecipientResidenceMunicipality: {"-", routing.IsSender},
				record.RecipientResidenceRegion:       {"region:1083", routing.LivesInRegion},
				record.RecipientIncidentMunicipality:  {"-", routing.IsSender},
				record.RecipientIncidentRegion:        {"region:1083", routing.IncidentInRegion},
				record.RecipientPoliceDistrict:        {"police:syd_soenderjylland", routing.IncidentInPoliceDistrict},
			},
		},
		{
			name: "refused registration: no person, no residence", record: "refused-registration-count-only",
			sender: "region:1082", at: time.Date(2026, 9, 3, 12, 0, 0, 0, cest),
			want: map[record.RecipientRole]want{
				record.RecipientResidenceMunicipality: {"-", routing.NoPerson},
				record.RecipientResidenceRegion:       {"-", routing.NoPerson},
				record.RecipientIncidentMunicipality:  {"municipality:0657", routing.IncidentInMunicipality},
				record.RecipientIncidentRegion:        {"-", routing.IsSender},
				record.RecipientPoliceDistrict:        {"police:midt_vestjylland", routing.IncidentInPoliceDistrict},
			},
		},
		{
			name: "person without an address", record: "aarhus-resident-hurt-in-copenhagen",
			edit:   func(r *record.Record) { r.Person.Address = nil },
			sender: "region:1084", at: june,
			want: map[record.RecipientRole]want{
				record.RecipientResidenceMunicipality: {"municipality:0101", routing.FollowUpOwner},
				record.RecipientResidenceRegion:       {"-", routing.IsSender},
				record.RecipientIncidentMunicipality:  {"municipality:0101", routing.IncidentInMunicipality},
				record.RecipientIncidentRegion:        {"-", routing.IsSender},
				record.RecipientPoliceDistrict:        {"police:koebenhavn", routing.IncidentInPoliceDistrict},
			},
		},
		{
			name: "Danish address without municipality code", record: "aarhus-resident-hurt-in-copenhagen",
			edit:   func(r *record.Record) { r.Person.Address.MunicipalityCode = "" },
			sender: "municipality:0101", at: june,
			want: map[record.RecipientRole]want{
				record.RecipientResidenceMunicipality: {"-", routing.IsSender},
				record.RecipientResidenceRegion:       {"region:1084", routing.FollowUpOwner},
				record.RecipientIncidentMunicipality:  {"-", routing.IsSender},
				record.RecipientIncidentRegion:        {"region:1084", routing.IncidentInRegion},
				record.RecipientPoliceDistrict:        {"police:koebenhavn", routing.IncidentInPoliceDistrict},
			},
		},
		{
			name: "no incident place", record: "aarhus-resident-hurt-in-copenhagen",
			edit:   func(r *record.Record) { r.Incident.MunicipalityCode, r.Incident.RegionCode = "", "" },
			sender: "region:1084", at: june,
			want: map[record.RecipientRole]want{
				record.RecipientResidenceMunicipality: {"municipality:0751", routing.LivesInMunicipality},
				record.RecipientResidenceRegion:       {"region:1082", routing.LivesInRegion},
				record.RecipientIncidentMunicipality:  {"-", routing.NoIncidentPlace},
				record.RecipientIncidentRegion:        {"-", routing.NoIncidentPlace},
				record.RecipientPoliceDistrict:        {"-", routing.NoIncidentPlace},
			},
		},
		{
			name: "after the 2027 merger a 2026 incident goes to Region Østdanmark", record: "aarhus-resident-hurt-in-copenhagen",
			sender: "region:1082", at: spring2027, cfg: east,
			want: map[record.RecipientRole]want{
				record.RecipientResidenceMunicipality: {"municipality:0751", routing.LivesInMunicipality},
				record.RecipientResidenceRegion:       {"-", routing.IsSender},
				record.RecipientIncidentMunicipality:  {"municipality:0101", routing.IncidentInMunicipality},
				record.RecipientIncidentRegion:        {"region:" + eastCode, routing.IncidentInRegion},
				record.RecipientPoliceDistrict:        {"police:koebenhavn", routing.IncidentInPoliceDistrict},
			},
		},
		{
			name: "after the 2027 merger a Roskilde resident's region is Region Østdanmark", record: "staff-member-with-ecpr",
			sender: "municipality:0265", at: spring2027, cfg: east,
			want: map[record.RecipientRole]want{
				record.RecipientResidenceMunicipality: {"-", routing.IsSender},
				record.RecipientResidenceRegion:       {"region:" + eastCode, routing.LivesInRegion},
				record.RecipientIncidentMunicipality:  {"-", routing.IsSender},
				record.RecipientIncidentRegion:        {"region:" + eastCode, routing.IncidentInRegion},
				record.RecipientPoliceDistrict:        {"police:midt_vestsjaelland", routing.IncidentInPoliceDistrict},
			},
		},
		{
			name: "after the 2027 merger without a configured code the east has no region", record: "staff-member-with-ecpr",
			sender: "municipality:0265", at: spring2027,
			want: map[record.RecipientRole]want{
				record.RecipientResidenceMunicipality: {"-", routing.IsSender},
				record.RecipientResidenceRegion:       {"-", routing.RegionNotConfigured},
				record.RecipientIncidentMunicipality:  {"-", routing.IsSender},
				record.RecipientIncidentRegion:        {"-", routing.RegionNotConfigured},
				record.RecipientPoliceDistrict:        {"police:midt_vestsjaelland", routing.IncidentInPoliceDistrict},
			},
		},
		{
			name: "before the 2027 merger the old region holds both roles", record: "staff-member-with-ecpr",
			sender: "police:midt_vestsjaelland", at: time.Date(2026, 12, 31, 23, 59, 0, 0, cet), cfg: east,
			want: map[record.RecipientRole]want{
				record.RecipientResidenceMunicipality: {"municipality:0265", routing.LivesInMunicipality},
				record.RecipientResidenceRegion:       {"region:1085", routing.LivesInRegion},
				record.RecipientIncidentMunicipality:  {"municipality:0265", routing.IncidentInMunicipality},
				record.RecipientIncidentRegion:        {"region:1085", routing.IncidentInRegion},
				record.RecipientPoliceDistrict:        {"-", routing.IsSender},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := example(t, tc.record)
			if tc.edit != nil {
				tc.edit(rec)
			}
			res, err := router(t, tc.cfg).Route(rec, tc.sender, tc.at)
			if err != nil {
				t.Fatal(err)
			}
			got := map[record.RecipientRole]want{}
			for _, c := range res.Candidates {
				if _, dup := got[c.Role]; dup {
					t.Errorf("role %s has two candidates", c.Role)
				}
				got[c.Role] = want{c.Authority, c.Reason.Code}
				if c.Authority == tc.sender {
					t.Errorf("the sender %s is a candidate", c.Authority)
				}
				if c.Name == "" || c.Reason.At != tc.at {
					t.Errorf("candidate %+v lacks its name or routing time", c)
				}
			}
			for _, o := range res.Omitted {
				if _, dup := got[o.Role]; dup {
					t.Errorf("role %s is both a candidate and omitted", o.Role)
				}
				got[o.Role] = want{"-", o.Reason.Code}
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("roles (-want +got):\n%s", diff)
			}
			assertOrdered(t, res)
			assertExplained(t, res)
		})
	}
}

// assertOrdered checks that candidates and omissions follow the order of
// record.RecipientRoles.
func assertOrdered(t *testing.T, res routing.Result) {
	t.Helper()
	rank := map[record.RecipientRole]int{}
	for i, r := range record.RecipientRoles() {
		rank[r] = i
	}
	for i := 1; i < len(res.Candidates); i++ {
		if rank[res.Candidates[i-1].Role] >= rank[res.Candidates[i].Role] {
			t.Errorf("candidates out of order: %s before %s", res.Candidates[i-1].Role, res.Candidates[i].Role)
		}
	}
	for i := 1; i < len(res.Omitted); i++ {
		if rank[res.Omitted[i-1].Role] >= rank[res.Omitted[i].Role] {
			t.Errorf("omissions out of order: %s before %s", res.Omitted[i-1].Role, res.Omitted[i].Role)
		}
	}
}

// assertExplained checks that every candidate and omission has a sentence
// that never falls back to the "unexplained" text.
func assertExplained(t *testing.T, res routing.Result) {
	t.Helper()
	var texts []string
	for _, c := range res.Candidates {
		texts = append(texts, c.String())
	}
	for _, o := range res.Omitted {
		texts = append(texts, o.String())
	}
	for _, s := range texts {
		if strings.Contains(s, "unexplained") || len(s) < 40 {
			t.Errorf("poor explanation: %q", s)
		}
	}
}

func TestRouteExplainsOmissions(t *testing.T) {
	rec := example(t, "christiansoe-resident")
	res, err := router(t, refdata.Config{}).Route(rec, "region:1084", time.Date(2026, 7, 1, 16, 0, 0, 0, cest))
	if err != nil {
		t.Fatal(err)
	}
	rc, ok := res.Candidate(record.RecipientResidenceMunicipality)
	if !ok {
		t.Fatal("no follow-up owner as residence municipality")
	}
	want := "municipality:0400 (Bornholms Regionskommune) is a candidate as residence municipality: follow-up owner rule christiansoe-bornholm gives the residence roles to municipality 0400, a rule the sources do not confirm, because the person lives in area 0411 (/person/address/municipality_code), outside the municipal and regional division, and has no residence municipality or region."
	if got := rc.String(); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	o, _ := res.Omission(record.RecipientIncidentRegion)
	want = "No incident region: region:1084 sent the record and never receives its own record; it was found because the incident happened in municipality 0400, which belongs to region 1084 at 2026-07-01T16:00:00+02:00."
	if got := o.String(); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	c, _ := res.Candidate(record.RecipientPoliceDistrict)
	want = "police:bornholm (Bornholms Politi) is a candidate as police district: the incident happened in area 0400, which police district bornholm covers."
	if got := c.String(); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

// An authority whose directory entry is not valid at the routing time is
// not a candidate, and the omission names it.
func TestRouteUsesDirectoryValidity(t *testing.T) {
	ref, err := refdata.Load(refdata.Config{})
	if err != nil {
		t.Fatal(err)
	}
	dir := directory.Generate(ref, june)
	for i := range dir.Authorities {
		if dir.Authorities[i].ID == "municipality:0751" {
			dir.Authorities[i].Valid = refdata.Period{From: time.Date(2026, 9, 1, 0, 0, 0, 0, cest)}
		}
	}
	r, err := routing.New(ref, dir)
	if err != nil {
		t.Fatal(err)
	}
	rec := example(t, "aarhus-resident-hurt-in-copenhagen")
	for _, tc := range []struct {
		name string
		at   time.Time
		want routing.ReasonCode
	}{
		{"before the entry is valid", june, routing.NotInDirectory},
		{"once the entry is valid", time.Date(2026, 9, 2, 0, 0, 0, 0, cest), routing.LivesInMunicipality},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := r.Route(rec, "region:1084", tc.at)
			if err != nil {
				t.Fatal(err)
			}
			var got routing.Reason
			if c, ok := res.Candidate(record.RecipientResidenceMunicipality); ok {
				got = c.Reason
			} else if o, ok := res.Omission(record.RecipientResidenceMunicipality); ok {
				got = o.Reason
			}
			if got.Code != tc.want || got.Authority != "municipality:0751" {
				t.Errorf("got %s for %s, want %s for municipality:0751", got.Code, got.Authority, tc.want)
			}
		})
	}
}

func TestRouteRefusesBadInput(t *testing.T) {
	r := router(t, refdata.Config{})
	good := example(t, "aarhus-resident-hurt-in-copenhagen")
	for _, tc := range []struct {
		name   string
		rec    *record.Record
		sender string
		at     time.Time
	}{
		{"no record", nil, "region:1084", june},
		{"no routing time", good, "region:1084", time.Time{}},
		{"sender of an unknown kind", good, "hospital:rigshospitalet", june},
		{"sender that is no authority id", good, "Region Hovedstaden", june},
		{"unknown residence municipality", withResidence(good, "0999"), "region:1084", june},
		{"unknown incident municipality", withIncident(good, "0998"), "region:1084", june},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := r.Route(tc.rec, tc.sender, tc.at); !errors.Is(err, routing.ErrInvalidInput) {
				t.Errorf("got %v, want ErrInvalidInput", err)
			}
		})
	}
	if _, err := routing.New(nil, nil); !errors.Is(err, routing.ErrInvalidInput) {
		t.Errorf("New(nil, nil): got %v, want ErrInvalidInput", err)
	}
}

func withResidence(r *record.Record, code string) *record.Record {
	c := r.Clone()
	c.Person.Address.MunicipalityCode = code
	return c
}

func withIncident(r *record.Record, code string) *record.Record {
	c := r.Clone()
	c.Incident.MunicipalityCode = code
	return c
}

// The gateway re-routing a record (a correction it propagates) is a valid
// sender and never a candidate either.
func TestRouteFromTheGateway(t *testing.T) {
	res, err := router(t, refdata.Config{}).Route(example(t, "aarhus-resident-hurt-in-copenhagen"), directory.GatewayID, june)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Candidates) != 5 || len(res.Omitted) != 0 {
		t.Errorf("got %d candidates and %d omissions, want 5 and 0", len(res.Candidates), len(res.Omitted))
	}
}

// A region whose directory entry has ended is not a candidate either; the
// omission names it and the reason it was found.
func TestRouteRegionNotInDirectory(t *testing.T) {
	ref, err := refdata.Load(refdata.Config{})
	if err != nil {
		t.Fatal(err)
	}
	dir := directory.Generate(ref, june)
	for i := range dir.Authorities {
		if dir.Authorities[i].ID == "region:1082" {
			dir.Authorities[i].Valid = refdata.Period{To: time.Date(2026, 6, 1, 0, 0, 0, 0, cest)}
		}
	}
	r, err := routing.New(ref, dir)
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.Route(example(t, "aarhus-resident-hurt-in-copenhagen"), "region:1084", june)
	if err != nil {
		t.Fatal(err)
	}
	o, ok := res.Omission(record.RecipientResidenceRegion)
	if !ok || o.Reason.Code != routing.NotInDirectory || o.Reason.Via != routing.LivesInRegion || o.Reason.Authority != "region:1082" {
		t.Fatalf("got %+v", o)
	}
	want := "No residence region: region:1082 has no directory entry valid at 2026-06-15T10:00:00+02:00; it was found because " +
		"the person lives in municipality 0751, which belongs to region 1082 at 2026-06-15T10:00:00+02:00."
	if got := o.String(); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// TestSuccessorAcrossTheMerger: Region Hovedstaden and Region Sjælland
// cease at 2027-01-01T00:00+01:00 and Region Østdanmark holds their
// records; unconfigured, it is named but has no id; authorities that do
// not cease have no successor.
func TestSuccessorAcrossTheMerger(t *testing.T) {
	last := time.Date(2026, 12, 31, 23, 59, 59, 0, cet)
	first := time.Date(2027, 1, 1, 0, 0, 0, 0, cet)
	week := first.Add(7 * 24 * time.Hour)
	configured, unconfigured := router(t, refdata.Config{EastRegionCode: eastCode, EastRegionCVR: eastCVR}), router(t, refdata.Config{})
	type answer struct {
		successor, name string
		ceased          bool
	}
	tests := []struct {
		r         *routing.Router
		authority string
		at        time.Time
		want      answer
	}{
		{configured, "region:1084", last, answer{}},
		{configured, "region:1084", first, answer{"region:" + eastCode, "Region Østdanmark", true}},
		{configured, "region:1085", week, answer{"region:" + eastCode, "Region Østdanmark", true}},
		{unconfigured, "region:1085", first, answer{"", "Region Østdanmark", true}},
		{unconfigured, "region:1084", last, answer{}},
		{configured, "region:" + eastCode, week, answer{}},
		{configured, "region:1081", week, answer{}},
		{configured, "municipality:0101", week, answer{}},
		{configured, "police:koebenhavn", week, answer{}},
		{configured, "gateway", week, answer{}},
		{configured, "not an id", week, answer{}},
	}
	for _, tt := range tests {
		s, n, c := tt.r.Successor(tt.authority, tt.at)
		if got := (answer{s, n, c}); got != tt.want {
			t.Errorf("Successor(%s, %s) = %+v, want %+v", tt.authority, tt.at.Format(time.RFC3339), got, tt.want)
		}
	}
}

// TestRegionRolesAtTheMergerInstants: the region roles of a Copenhagen
// incident are Region Hovedstaden at the last second of 2026 and Region
// Østdanmark from the first second of 2027; unconfigured, the omission
// names the region and the settings that are missing.
func TestRegionRolesAtTheMergerInstants(t *testing.T) {
	rec := example(t, "aarhus-resident-hurt-in-copenhagen")
	last := time.Date(2026, 12, 31, 23, 59, 59, 0, cet)
	first := time.Date(2027, 1, 1, 0, 0, 0, 0, cet)
	r := router(t, refdata.Config{EastRegionCode: eastCode, EastRegionCVR: eastCVR})
	for at, want := range map[time.Time]string{last: "region:1084", first: "region:" + eastCode, first.Add(7 * 24 * time.Hour): "region:" + eastCode} {
		res, err := r.Route(rec, "gateway", at)
		if err != nil {
			t.Fatal(err)
		}
		if c, ok := res.Candidate(record.RecipientIncidentRegion); !ok || c.Authority != want {
			t.Errorf("incident region at %s: %+v, want %s", at.Format(time.RFC3339), c, want)
		}
	}
	res, err := router(t, refdata.Config{}).Route(rec, "gateway", first)
	if err != nil {
		t.Fatal(err)
	}
	o, ok := res.Omission(record.RecipientIncidentRegion)
	if !ok || o.Reason.Code != routing.RegionNotConfigured || o.Reason.RegionName != "Region Østdanmark" ||
		!strings.Contains(o.Reason.String(), "settings east-region-code and east-region-cvr") {
		t.Fatalf("unconfigured incident region: %+v %s", o, o.Reason)
	}
}

// TestStandingOfACeasedSender: Region Hovedstaden may send at 00:10 what it
// registered at 23:50 on New Year's Eve, on behalf of Region Østdanmark,
// for the grace period; not what it registered after midnight, and nothing
// after the grace period.
func TestStandingOfACeasedSender(t *testing.T) {
	first := time.Date(2027, 1, 1, 0, 0, 0, 0, cet)
	east := "region:" + eastCode
	r := router(t, refdata.Config{EastRegionCode: eastCode, EastRegionCVR: eastCVR})
	tests := []struct {
		name       string
		r          *routing.Router
		sender     string
		sent, act  time.Time
		grace      time.Duration
		onBehalfOf string
		err        string
	}{
		{"in force", r, "region:1084", first.Add(-time.Minute), first.Add(-time.Hour), 0, "", ""},
		{"23:50 registration sent at 00:10", r, "region:1084", first.Add(10 * time.Minute), first.Add(-10 * time.Minute), 0, east, ""},
		{"last day of the default grace", r, "region:1085", first.Add(directory.DefaultCeasedGrace - time.Second), first.Add(-time.Second), 0, east, ""},
		{"after the default grace", r, "region:1085", first.Add(directory.DefaultCeasedGrace), first.Add(-time.Second), 0, east,
			"region:1085 ceased at 2027-01-01 00:00 CET, and the period in which it may still send what it registered before then ended at 2027-01-31 00:00 CET; its successor " + east + " (Region Østdanmark) holds its records and sends in its place"},
		{"a shorter configured grace", r, "region:1084", first.Add(2 * time.Hour), first.Add(-time.Minute), time.Hour, east, "ended at 2027-01-01 01:00 CET"},
		{"no grace", r, "region:1084", first, first.Add(-time.Minute), -1, east, "ended at 2027-01-01 00:00 CET"},
		{"registered after it ceased", r, "region:1084", first.Add(20 * time.Minute), first.Add(5 * time.Minute), 0, east,
			"region:1084 ceased at 2027-01-01 00:00 CET, before the act it sends (2027-01-01 00:05 CET)"},
		{"successor not configured", router(t, refdata.Config{}), "region:1084", first.Add(20 * time.Minute), first.Add(5 * time.Minute), 0, "",
			"its successor Region Østdanmark holds its records, but its region code is not configured yet"},
		{"a municipality through the merger", r, "municipality:0101", first.Add(time.Hour), first.Add(time.Minute), 0, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := tt.r.Standing(tt.sender, tt.sent, tt.act, tt.grace)
			if tt.err == "" {
				if err != nil {
					t.Fatal(err)
				}
			} else if !errors.Is(err, routing.ErrCeasedSender) || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("error %v, want ErrCeasedSender containing %q", err, tt.err)
			}
			if st.Sender != tt.sender || st.OnBehalfOf != tt.onBehalfOf {
				t.Errorf("standing %+v, want sender %s on behalf of %q", st, tt.sender, tt.onBehalfOf)
			}
			if ceased := tt.onBehalfOf != "" || tt.r != r; ceased && tt.err == "" && !st.CeasedAt.Equal(first) {
				t.Errorf("ceased at %v, want %v", st.CeasedAt, first)
			}
		})
	}
}

// TestFollowUpOwners: every person has a follow-up owner; the rule is
// configurable, named in the reason, and marked when unconfirmed.
func TestFollowUpOwners(t *testing.T) {
	abroad := example(t, "relative-living-abroad")
	res, err := router(t, refdata.Config{}).Route(abroad, "gateway", june)
	if err != nil {
		t.Fatal(err)
	}
	c, ok := res.Candidate(record.RecipientResidenceRegion)
	if !ok || c.Authority != "region:1084" || c.Reason.Code != routing.FollowUpOwner || c.Reason.NoResidence != routing.LivesAbroad ||
		c.Reason.OwnerRule != "abroad-incident-authorities" || !strings.Contains(c.Reason.String(), "the person lives abroad (country SE") {
		t.Fatalf("residence region of a person abroad: %+v %s", c, c.Reason)
	}
	chr := example(t, "christiansoe-resident")
	res, _ = router(t, refdata.Config{}).Route(chr, "gateway", time.Date(2026, 7, 1, 16, 0, 0, 0, cest))
	c, _ = res.Candidate(record.RecipientResidenceMunicipality)
	if !c.Reason.OwnerUnconfirmed || !strings.Contains(c.Reason.String(), "a rule the sources do not confirm") {
		t.Errorf("the Christiansø rule is not marked unconfirmed: %s", c.Reason)
	}
	// Configured: persons abroad go to a named municipality; Christiansø to nobody.
	ref, _ := refdata.Load(refdata.Config{})
	owners := routing.DefaultOwners()
	owners.Abroad = routing.Owner{Rule: "abroad-copenhagen", Municipality: "0101", Confirmed: true, Note: "test"}
	owners.OutsideDivision.Municipality = routing.OwnerNone
	r, err := routing.New(ref, directory.Generate(ref, june), routing.WithOwners(owners))
	if err != nil {
		t.Fatal(err)
	}
	res, _ = r.Route(abroad, "gateway", june)
	if c, _ := res.Candidate(record.RecipientResidenceMunicipality); c.Authority != "municipality:0101" || c.Reason.OwnerRule != "abroad-copenhagen" || c.Reason.OwnerPointer != "" {
		t.Errorf("configured owner: %+v", c)
	}
	res, _ = r.Route(chr, "gateway", june)
	if o, ok := res.Omission(record.RecipientResidenceMunicipality); !ok || o.Reason.Code != routing.OutsideMunicipalDivision {
		t.Errorf("owner none: %+v", res)
	}
	bad := routing.DefaultOwners()
	bad.Unknown.Municipality = "9999"
	if _, err := routing.New(ref, directory.Generate(ref, june), routing.WithOwners(bad)); !errors.Is(err, routing.ErrInvalidInput) {
		t.Errorf("an unknown owner municipality: %v", err)
	}
	// Without a person (a refused registration) there is nobody to follow up.
	res, _ = r.Route(example(t, "refused-registration-count-only"), "gateway", june)
	if o, ok := res.Omission(record.RecipientResidenceMunicipality); !ok || o.Reason.Code != routing.NoPerson {
		t.Errorf("refused registration: %+v", res)
	}
}
