package refdata

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"
)

// Test values for the unpublished Region Østdanmark. They are made up and exist only
// in tests; production takes them from configuration.
const (
	testEastCode = TestEastRegionCode
	testEastCVR  = TestEastRegionCVR
)

var (
	cet       = time.FixedZone("CET", 3600)
	merger    = time.Date(2027, 1, 1, 0, 0, 0, 0, cet)
	mid2026   = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	mid2027   = time.Date(2027, 6, 1, 12, 0, 0, 0, time.UTC)
	eastCfg   = Config{EastRegionCode: testEastCode, EastRegionCVR: testEastCVR}
	noEastCfg = Config{}
)

func mustLoad(t testing.TB, cfg Config) *Data {
	t.Helper()
	d, err := Load(cfg)
	if err != nil {
		t.Fatalf("Load(%+v): %v", cfg, err)
	}
	return d
}

func TestCounts(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"east configured", eastCfg},
		{"east not configured", noEastCfg},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := mustLoad(t, tc.cfg)
			if got := len(d.Municipalities()); got != 98 {
				t.Errorf("municipalities: %d, want 98", got)
			}
			if got := len(d.PoliceDistricts()); got != 12 {
				t.Errorf("police districts: %d, want 12", got)
			}
			for _, rc := range []struct {
				at   time.Time
				want int
			}{
				{time.Time{}, 6}, // all: 5 + Østdanmark
				{mid2026, 5},
				{merger.Add(-time.Nanosecond), 5},
				{merger, 4},
				{mid2027, 4},
			} {
				if got := len(d.Regions(rc.at)); got != rc.want {
					t.Errorf("Regions(%v): %d, want %d", rc.at, got, rc.want)
				}
			}
		})
	}
}

func TestEveryMunicipalityIsComplete(t *testing.T) {
	d := mustLoad(t, eastCfg)
	seenCVR := map[string]string{}
	for _, m := range d.Municipalities() {
		if !isCanonicalCode(m.Code) || m.Name == "" || m.AuthorityName == "" {
			t.Errorf("%+v: incomplete", m)
		}
		if !IsValidCVR(m.CVR) {
			t.Errorf("%s %s: CVR %q invalid", m.Code, m.Name, m.CVR)
		}
		if other, dup := seenCVR[m.CVR]; dup {
			t.Errorf("%s and %s share CVR %s", other, m.Code, m.CVR)
		}
		seenCVR[m.CVR] = m.Code
		if r, ok := d.RegionOf(m.Code, mid2026); !ok || r.Code != m.RegionCode {
			t.Errorf("%s: RegionOf at 2026 = %+v, %v; want %s", m.Code, r, ok, m.RegionCode)
		}
		if _, ok := d.RegionOf(m.Code, mid2027); !ok {
			t.Errorf("%s: no region at 2027", m.Code)
		}
		p, ok := d.PoliceDistrictOf(m.Code)
		if !ok || p.ID != m.PoliceDistrict {
			t.Errorf("%s: PoliceDistrictOf = %+v, %v; want %s", m.Code, p, ok, m.PoliceDistrict)
		}
		if !m.Valid.IsZero() {
			t.Errorf("%s: validity %+v, want unbounded", m.Code, m.Valid)
		}
	}
}

func TestMunicipalityByCode(t *testing.T) {
	d := mustLoad(t, noEastCfg)
	for _, tc := range []struct {
		code, wantName string
		wantOK         bool
	}{
		{"0101", "København", true},
		{"0851", "Aalborg", true},
		{"0492", "Ærø", true},
		{"0400", "Bornholm", true},
		{"101", "", false},  // canonical codes only
		{"0411", "", false}, // Ertholmene is not a municipality
		{"9999", "", false},
		{"", "", false},
	} {
		t.Run(tc.code, func(t *testing.T) {
			m, ok := d.Municipality(tc.code)
			if ok != tc.wantOK || m.Name != tc.wantName {
				t.Errorf("Municipality(%q) = %q, %v; want %q, %v", tc.code, m.Name, ok, tc.wantName, tc.wantOK)
			}
		})
	}
}

func TestMunicipalityByName(t *testing.T) {
	d := mustLoad(t, noEastCfg)
	for _, tc := range []struct {
		name, wantCode string
	}{
		{"København", "0101"},
		{"københavn", "0101"},
		{"KØBENHAVN", "0101"},
		{"Københavns Kommune", "0101"},
		{"København Kommune", "0101"},
		{"  aalborg   KOMMUNE ", "0851"},
		{"Bornholms Regionskommune", "0400"},
		{"Bornholm", "0400"},
		{"Vesthimmerlands Kommune", "0820"},
		{"Høje-Taastrup", "0169"},
		{"ærø kommune", "0492"},
		{"Ertholmene", ""},
		{"Aalborg Komune", ""},
		{"", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, ok := d.MunicipalityByName(tc.name)
			if ok != (tc.wantCode != "") || m.Code != tc.wantCode {
				t.Errorf("MunicipalityByName(%q) = %q, %v; want %q", tc.name, m.Code, ok, tc.wantCode)
			}
		})
	}
}

func TestMunicipalitiesSortedAndCopied(t *testing.T) {
	d := mustLoad(t, noEastCfg)
	ms := d.Municipalities()
	for i := 1; i < len(ms); i++ {
		if ms[i-1].Code >= ms[i].Code {
			t.Fatalf("not sorted at %d: %s, %s", i, ms[i-1].Code, ms[i].Code)
		}
	}
	ms[0].Name = "changed"
	if m, _ := d.Municipality(ms[0].Code); m.Name == "changed" {
		t.Error("Municipalities returned shared storage")
	}
	p, _ := d.PoliceDistrict("koebenhavn")
	p.MunicipalityCodes[0] = "changed"
	if p2, _ := d.PoliceDistrict("koebenhavn"); p2.MunicipalityCodes[0] == "changed" {
		t.Error("PoliceDistrict returned shared storage")
	}
	r, _ := d.RegionByName("Østdanmark", time.Time{})
	r.Predecessors[0] = "changed"
	if r2, _ := d.RegionByName("Østdanmark", time.Time{}); r2.Predecessors[0] == "changed" {
		t.Error("RegionByName returned shared storage")
	}
}

func TestNormalizeMunicipalityCode(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		errPart  string // part of the error; "" means success
	}{
		{"101", "0101", ""},
		{"0101", "0101", ""},
		{"851", "0851", ""},
		{"411", "0411", ""},
		{"1", "0001", ""},
		{"0", "0000", ""},
		{"", "", "must not be empty"},
		{"00101", "", "at most 4 digits"},
		{"12345", "", "at most 4 digits"},
		{"1O1", "", "only the digits"},
		{" 101", "", "only the digits"},
		{"-101", "", "only the digits"},
		{"+101", "", "only the digits"},
		{"١٠١", "", "at most 4 digits"}, // Arabic-Indic digits: 6 bytes
		{"١٠", "", "only the digits"},   // 4 bytes, not ASCII digits
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := NormalizeMunicipalityCode(tc.in)
			if tc.errPart == "" {
				if err != nil || got != tc.want {
					t.Fatalf("NormalizeMunicipalityCode(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("NormalizeMunicipalityCode(%q) = %q, want an error", tc.in, got)
			}
			if got != "" {
				t.Errorf("result %q with an error", got)
			}
			if !errors.Is(err, ErrInvalidMunicipalityCode) {
				t.Errorf("error %v does not wrap ErrInvalidMunicipalityCode", err)
			}
			if msg := err.Error(); !strings.Contains(msg, tc.errPart) || !strings.Contains(msg, quote(tc.in)) {
				t.Errorf("error %q should name the value %s and the rule %q", msg, quote(tc.in), tc.errPart)
			}
		})
	}
}

func TestRegionOf(t *testing.T) {
	withEast := mustLoad(t, eastCfg)
	withoutEast := mustLoad(t, noEastCfg)
	for _, tc := range []struct {
		name       string
		d          *Data
		code       string
		at         time.Time
		wantOK     bool
		wantCode   string
		wantName   string
		configured bool
	}{
		{"0101 mid 2026", withEast, "0101", mid2026, true, "1084", "Region Hovedstaden", true},
		{"0101 zero time", withEast, "0101", time.Time{}, true, "1084", "Region Hovedstaden", true},
		{"0101 last instant of 2026 in Denmark", withEast, "0101", time.Date(2026, 12, 31, 22, 59, 59, 999999999, time.UTC), true, "1084", "Region Hovedstaden", true},
		{"0101 at the merger", withEast, "0101", merger, true, testEastCode, "Region Østdanmark", true},
		{"0101 at the merger in UTC", withEast, "0101", time.Date(2026, 12, 31, 23, 0, 0, 0, time.UTC), true, testEastCode, "Region Østdanmark", true},
		{"0101 mid 2027", withEast, "0101", mid2027, true, testEastCode, "Region Østdanmark", true},
		{"0101 mid 2027 unconfigured", withoutEast, "0101", mid2027, true, "", "Region Østdanmark", false},
		{"0101 mid 2026 unconfigured", withoutEast, "0101", mid2026, true, "1084", "Region Hovedstaden", true},
		{"Greve 2026", withEast, "0253", mid2026, true, "1085", "Region Sjælland", true},
		{"Greve 2027", withEast, "0253", mid2027, true, testEastCode, "Region Østdanmark", true},
		{"Bornholm 2027", withEast, "0400", mid2027, true, testEastCode, "Region Østdanmark", true},
		{"Aalborg 2026", withEast, "0851", mid2026, true, "1081", "Region Nordjylland", true},
		{"Aalborg 2027", withEast, "0851", mid2027, true, "1081", "Region Nordjylland", true},
		{"Ertholmene 2026", withEast, OutsideMunicipalDivision, mid2026, false, "", "", false},
		{"Ertholmene 2027", withEast, OutsideMunicipalDivision, mid2027, false, "", "", false},
		{"non-canonical", withEast, "101", mid2026, false, "", "", false},
		{"unknown", withEast, "9999", mid2026, false, "", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, ok := tc.d.RegionOf(tc.code, tc.at)
			if ok != tc.wantOK || r.Code != tc.wantCode || r.Name != tc.wantName || r.CodeConfigured != tc.configured {
				t.Errorf("RegionOf(%q, %v) = %+v, %v; want code %q name %q configured %v ok %v",
					tc.code, tc.at, r, ok, tc.wantCode, tc.wantName, tc.configured, tc.wantOK)
			}
		})
	}
}

func TestRegionValidity(t *testing.T) {
	withEast := mustLoad(t, eastCfg)
	withoutEast := mustLoad(t, noEastCfg)
	for _, tc := range []struct {
		name   string
		lookup func() (Region, bool)
		want   string // code; "-" means not found
	}{
		{"1084 in 2026", func() (Region, bool) { return withEast.Region("1084", mid2026) }, "1084"},
		{"1084 in 2027", func() (Region, bool) { return withEast.Region("1084", mid2027) }, "-"},
		{"1085 at the merger", func() (Region, bool) { return withEast.Region("1085", merger) }, "-"},
		{"1084 at any time", func() (Region, bool) { return withEast.Region("1084", time.Time{}) }, "1084"},
		{"1081 in 2027", func() (Region, bool) { return withEast.Region("1081", mid2027) }, "1081"},
		{"east in 2026", func() (Region, bool) { return withEast.Region(testEastCode, mid2026) }, "-"},
		{"east in 2027", func() (Region, bool) { return withEast.Region(testEastCode, mid2027) }, testEastCode},
		{"east code unconfigured", func() (Region, bool) { return withoutEast.Region(testEastCode, mid2027) }, "-"},
		{"empty code", func() (Region, bool) { return withoutEast.Region("", mid2027) }, "-"},
		{"east by name in 2026", func() (Region, bool) { return withEast.RegionByName("Region Østdanmark", mid2026) }, "-"},
		{"east by name in 2027", func() (Region, bool) { return withEast.RegionByName("region østdanmark", mid2027) }, testEastCode},
		{"east by short name unconfigured", func() (Region, bool) { return withoutEast.RegionByName("ØSTDANMARK", mid2027) }, ""},
		{"Hovedstaden by name in 2027", func() (Region, bool) { return withEast.RegionByName("Region Hovedstaden", mid2027) }, "-"},
		{"Sjælland by short name", func() (Region, bool) { return withEast.RegionByName("sjælland", mid2026) }, "1085"},
		{"unknown name", func() (Region, bool) { return withEast.RegionByName("Region Vestdanmark", time.Time{}) }, "-"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, ok := tc.lookup()
			got := r.Code
			if !ok {
				got = "-"
			}
			if got != tc.want {
				t.Errorf("got %q (%+v), want %q", got, r, tc.want)
			}
		})
	}
}

func TestRegionSuccession(t *testing.T) {
	for _, tc := range []struct {
		name          string
		cfg           Config
		wantSuccessor string
		wantEast      Region
	}{
		{"configured", eastCfg, testEastCode, Region{
			Code: testEastCode, Name: "Region Østdanmark", CVR: testEastCVR, Valid: Period{From: merger},
			Predecessors: []string{"1084", "1085"}, CodeConfigured: true,
		}},
		{"not configured", noEastCfg, "", Region{
			Name: "Region Østdanmark", Valid: Period{From: merger},
			Predecessors: []string{"1084", "1085"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := mustLoad(t, tc.cfg)
			for _, code := range []string{"1084", "1085"} {
				r, _ := d.Region(code, time.Time{})
				if r.Successor != tc.wantSuccessor || !r.Valid.To.Equal(merger) || !r.Valid.From.IsZero() {
					t.Errorf("%s: successor %q, valid %+v; want %q, until %v", code, r.Successor, r.Valid, tc.wantSuccessor, merger)
				}
			}
			all := d.Regions(time.Time{})
			east := all[len(all)-1]
			if diff := cmp.Diff(tc.wantEast, east); diff != "" {
				t.Errorf("Østdanmark (-want +got):\n%s", diff)
			}
			for _, r := range all[:len(all)-1] {
				if r.Code == "1084" || r.Code == "1085" {
					continue
				}
				if !r.Valid.IsZero() || r.Successor != "" {
					t.Errorf("%s: changed: %+v", r.Code, r)
				}
			}
		})
	}
}

func TestPerRegionCounts(t *testing.T) {
	d := mustLoad(t, eastCfg)
	count := func(at time.Time) map[string]int {
		n := map[string]int{}
		for _, m := range d.Municipalities() {
			r, ok := d.RegionOf(m.Code, at)
			if !ok {
				t.Fatalf("%s: no region at %v", m.Code, at)
			}
			n[r.Code]++
		}
		return n
	}
	want2026 := map[string]int{"1081": 11, "1082": 19, "1083": 22, "1084": 29, "1085": 17}
	if diff := cmp.Diff(want2026, count(mid2026)); diff != "" {
		t.Errorf("2026 (-want +got):\n%s", diff)
	}
	want2027 := map[string]int{"1081": 11, "1082": 19, "1083": 22, testEastCode: 46}
	if diff := cmp.Diff(want2027, count(mid2027)); diff != "" {
		t.Errorf("2027 (-want +got):\n%s", diff)
	}
}

func TestPoliceDistricts(t *testing.T) {
	d := mustLoad(t, noEastCfg)
	want := map[string]int{
		"nordjylland": 9, "oestjylland": 7, "midt_vestjylland": 11, "sydoestjylland": 7,
		"syd_soenderjylland": 8, "fyn": 10, "sydsjaelland_lolland_falster": 7,
		"midt_vestsjaelland": 10, "nordsjaelland": 13, "koebenhavns_vestegn": 11,
		"koebenhavn": 4, "bornholm": 1,
	}
	got := map[string]int{}
	total := 0
	for _, p := range d.PoliceDistricts() {
		got[p.ID] = len(p.MunicipalityCodes)
		total += len(p.MunicipalityCodes)
		if p.CVR != "17143611" {
			t.Errorf("%s: CVR %q, want Rigspolitiet's 17143611", p.ID, p.CVR)
		}
		if p.Name == "" {
			t.Errorf("%s: no name", p.ID)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("municipalities per district (-want +got):\n%s", diff)
	}
	if total != 98 {
		t.Errorf("total %d, want 98", total)
	}
	for _, tc := range []struct {
		code, want string
	}{
		{"0101", "koebenhavn"},
		{"0851", "nordjylland"},
		{"0773", "midt_vestjylland"}, // Morsø: Region Nordjylland, Midt- og Vestjyllands Politi
		{"0615", "sydoestjylland"},   // Horsens
		{"0400", "bornholm"},
		{OutsideMunicipalDivision, "bornholm"}, // most likely; see outside_division.csv
		{"101", ""},
		{"9999", ""},
	} {
		t.Run(tc.code, func(t *testing.T) {
			p, ok := d.PoliceDistrictOf(tc.code)
			if ok != (tc.want != "") || p.ID != tc.want {
				t.Errorf("PoliceDistrictOf(%q) = %q, %v; want %q", tc.code, p.ID, ok, tc.want)
			}
		})
	}
	if p, ok := d.PoliceDistrict("nordjylland"); !ok || p.Name != "Nordjyllands Politi" {
		t.Errorf("PoliceDistrict(nordjylland) = %+v, %v", p, ok)
	}
	if _, ok := d.PoliceDistrict("Nordjylland"); ok {
		t.Error("PoliceDistrict is case-sensitive on ids")
	}
}

func TestLoadRejectsInvalidConfig(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cfg     Config
		errPart string
	}{
		{"code without CVR", Config{EastRegionCode: testEastCode}, "must be set together"},
		{"CVR without code", Config{EastRegionCVR: testEastCVR}, "must be set together"},
		{"short code", Config{EastRegionCode: "108", EastRegionCVR: testEastCVR}, "exactly 4 digits"},
		{"long code", Config{EastRegionCode: "10999", EastRegionCVR: testEastCVR}, "exactly 4 digits"},
		{"non-digit code", Config{EastRegionCode: "EAST", EastRegionCVR: testEastCVR}, "exactly 4 digits"},
		{"region code taken", Config{EastRegionCode: "1084", EastRegionCVR: testEastCVR}, "already the code of a region"},
		{"municipality code taken", Config{EastRegionCode: "0101", EastRegionCVR: testEastCVR}, "already the code of København"},
		{"Ertholmene", Config{EastRegionCode: "0411", EastRegionCVR: testEastCVR}, "Ertholmene"},
		{"CVR check digit", Config{EastRegionCode: testEastCode, EastRegionCVR: "12345675"}, "modulus-11"},
		{"CVR short", Config{EastRegionCode: testEastCode, EastRegionCVR: "1234567"}, "exactly 8 digits"},
		{"CVR leading zero", Config{EastRegionCode: testEastCode, EastRegionCVR: "02345679"}, "must not start with 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Load(tc.cfg)
			if err == nil {
				t.Fatalf("Load(%+v) succeeded", tc.cfg)
			}
			if d != nil {
				t.Error("data returned with an error")
			}
			if !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("error %v does not wrap ErrInvalidConfig", err)
			}
			if !strings.Contains(err.Error(), tc.errPart) {
				t.Errorf("error %q does not contain %q", err, tc.errPart)
			}
		})
	}
}

func TestIsValidCVR(t *testing.T) {
	for _, tc := range []struct {
		cvr  string
		want bool
	}{
		{"29189420", true},  // Aalborg Kommune
		{"64942212", true},  // Københavns Kommune
		{"17143611", true},  // Rigspolitiet
		{"29190623", true},  // Region Hovedstaden
		{"19552101", true},  // Skatteforvaltningen (PKI.md)
		{testEastCVR, true}, // made up
		{"29189421", false},
		{"29189402", false}, // two digits swapped
		{"00000000", false}, // passes the sum, but no CVR starts with 0
		{"01234567", false},
		{"1234567", false},
		{"123456789", false},
		{"2918942a", false},
		{" 29189420", false},
		{"2918 9420", false},
		{"", false},
	} {
		t.Run(tc.cvr, func(t *testing.T) {
			if got := IsValidCVR(tc.cvr); got != tc.want {
				t.Errorf("IsValidCVR(%q) = %v, want %v", tc.cvr, got, tc.want)
			}
		})
	}
}

func TestPeriodContains(t *testing.T) {
	t1 := time.Date(2027, 1, 1, 0, 0, 0, 0, cet)
	t2 := time.Date(2028, 1, 1, 0, 0, 0, 0, cet)
	for _, tc := range []struct {
		name string
		p    Period
		at   time.Time
		want bool
	}{
		{"unbounded, zero time", Period{}, time.Time{}, true},
		{"unbounded", Period{}, t1, true},
		{"before From", Period{From: t1}, t1.Add(-time.Nanosecond), false},
		{"at From", Period{From: t1}, t1, true},
		{"zero time before From", Period{From: t1}, time.Time{}, false},
		{"before To", Period{To: t1}, t1.Add(-time.Nanosecond), true},
		{"at To", Period{To: t1}, t1, false},
		{"at To in another zone", Period{To: t1}, t1.UTC(), false},
		{"inside", Period{From: t1, To: t2}, t1.Add(time.Hour), true},
		{"after", Period{From: t1, To: t2}, t2.Add(time.Hour), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.p.Contains(tc.at); got != tc.want {
				t.Errorf("%+v.Contains(%v) = %v, want %v", tc.p, tc.at, got, tc.want)
			}
		})
	}
}

// TestLoadRejectsBadData feeds load broken copies of the embedded files.
func TestLoadRejectsBadData(t *testing.T) {
	for _, tc := range []struct {
		name    string
		file    string
		edit    func(string) string
		errPart string
	}{
		{"missing municipality", fileMunicipalities, dropLine("851,Aalborg,1081\n"), "97 municipalities, want 98"},
		{"duplicate municipality", fileMunicipalities, replace("147,Frederiksberg", "101,Frederiksberg"), "duplicate"},
		{"unknown region", fileMunicipalities, replace("851,Aalborg,1081", "851,Aalborg,1089"), `unknown region code "1089"`},
		{"Ertholmene as municipality", fileMunicipalities, replace("851,Aalborg", "411,Aalborg"), "outside the municipal division"},
		{"bad header", fileMunicipalities, replace("code,name,region_code", "kode,navn,region"), "header"},
		{"extra region", fileRegions, appendLine("1099,Region Østdanmark\n"), "6 regions, want 5"},
		{"district missing a municipality", fileDistricts, dropLine("nordjylland,Nordjyllands Politi,851\n"), "0851 Aalborg is in no district"},
		{"municipality in two districts", fileDistricts, appendLine("fyn,Fyns Politi,851\n"), "0851 is in both nordjylland and fyn"},
		{"district name differs", fileDistricts, replace("nordjylland,Nordjyllands Politi,810", "nordjylland,Nordjylland Politi,810"), "differs"},
		{"bad district id", fileDistricts, replace("bornholm,", "Bornholm,"), "must match"},
		{"CVR check digit", fileCVR, replace("29189420", "29189421"), "modulus-11"},
		{"CVR twice", fileCVR, replace("29189420", "29189382"), "already given to"},
		{"municipality without CVR", fileCVR, dropLinePrefix("municipality,851,"), "no CVR for municipality 0851"},
		{"no Rigspolitiet", fileCVR, dropLinePrefix("police,"), "no CVR for Rigspolitiet"},
		{"change of unknown region", fileRegionChanges, replace("1085,east", "1089,east"), `unknown predecessor region "1089"`},
		{"unknown successor key", fileRegionChanges, replace("1085,east", "1085,west"), `unknown successor_key "west"`},
		{"bad date", fileRegionChanges, replace("1085,east,Region Østdanmark,2027-01-01T00:00:00+01:00", "1085,east,Region Østdanmark,2027-01-01"), "RFC 3339"},
		{"dates differ", fileRegionChanges, replace("1085,east,Region Østdanmark,2027-01-01T00:00:00+01:00", "1085,east,Region Østdanmark,2027-02-01T00:00:00+01:00"), "differs from an earlier row"},
		{"region ceases twice", fileRegionChanges, replace("1085,east", "1084,east"), "ceases twice"},
		{"outside code", fileOutsideDivision, replace("411,bornholm", "400,bornholm"), "only 0411"},
		{"outside district", fileOutsideDivision, replace("411,bornholm", "411,christiansoe"), "unknown police district"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := embeddedCopy(t)
			before := string(fsys[tc.file].Data)
			after := tc.edit(before)
			if after == before {
				t.Fatalf("edit changed nothing in %s", tc.file)
			}
			fsys[tc.file].Data = []byte(after)
			d, err := load(fsys, eastCfg)
			if err == nil {
				t.Fatal("load succeeded")
			}
			if d != nil {
				t.Error("data returned with an error")
			}
			if !strings.Contains(err.Error(), tc.errPart) {
				t.Errorf("error %q does not contain %q", err, tc.errPart)
			}
		})
	}
}

func TestEmbeddedCopyLoads(t *testing.T) {
	if _, err := load(embeddedCopy(t), eastCfg); err != nil {
		t.Fatal(err)
	}
	src, err := fs.ReadFile(embedded, "data/SOURCES.md")
	if err != nil || !strings.Contains(string(src), "sources and notes") {
		t.Errorf("SOURCES.md not embedded with its source notes: %v", err)
	}
}

func TestConcurrentUse(t *testing.T) {
	d := mustLoad(t, eastCfg)
	done := make(chan struct{})
	for range 8 {
		go func() {
			defer func() { done <- struct{}{} }()
			for _, m := range d.Municipalities() {
				d.RegionOf(m.Code, mid2027)
				d.PoliceDistrictOf(m.Code)
				d.MunicipalityByName(m.Name)
			}
			d.Regions(time.Time{})
		}()
	}
	for range 8 {
		<-done
	}
}

// embeddedCopy returns a writable copy of the embedded data files.
func embeddedCopy(t *testing.T) fstest.MapFS {
	t.Helper()
	out := fstest.MapFS{}
	entries, err := fs.ReadDir(embedded, "data")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		name := "data/" + e.Name()
		b, err := fs.ReadFile(embedded, name)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = &fstest.MapFile{Data: b}
	}
	return out
}

func replace(old, new string) func(string) string {
	return func(s string) string { return strings.Replace(s, old, new, 1) }
}

func dropLine(line string) func(string) string { return replace(line, "") }

func appendLine(line string) func(string) string {
	return func(s string) string { return s + line }
}

func dropLinePrefix(prefix string) func(string) string {
	return func(s string) string {
		var out []string
		for _, l := range strings.SplitAfter(s, "\n") {
			if !strings.HasPrefix(l, prefix) {
				out = append(out, l)
			}
		}
		return strings.Join(out, "")
	}
}

func quote(s string) string { return `"` + s + `"` }
