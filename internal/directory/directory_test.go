package directory

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/psykosocial/exchange/internal/refdata"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// Made-up values for the unpublished Region Østdanmark, for tests only.
const (
	testEastCode = refdata.TestEastRegionCode
	testEastCVR  = refdata.TestEastRegionCVR
)

var (
	cet         = time.FixedZone("CET", 3600)
	merger      = time.Date(2027, 1, 1, 0, 0, 0, 0, cet)
	generatedAt = time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
	cmpDir      = cmp.Options{cmpopts.IgnoreUnexported(Directory{})}
)

func loadRef(t testing.TB, east bool) *refdata.Data {
	t.Helper()
	cfg := refdata.Config{}
	if east {
		cfg = refdata.Config{EastRegionCode: testEastCode, EastRegionCVR: testEastCVR}
	}
	ref, err := refdata.Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

func TestGenerate(t *testing.T) {
	for _, tc := range []struct {
		name      string
		east      bool
		want      int
		wantKinds map[string]int
	}{
		{"east not configured", false, 115, map[string]int{KindMunicipality: 98, KindRegion: 5, KindPolice: 12}},
		{"east configured", true, 116, map[string]int{KindMunicipality: 98, KindRegion: 6, KindPolice: 12}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ref := loadRef(t, tc.east)
			d := Generate(ref, generatedAt)
			if len(d.Authorities) != tc.want {
				t.Fatalf("%d authorities, want %d", len(d.Authorities), tc.want)
			}
			kinds := map[string]int{}
			ids := map[string]bool{}
			for i, a := range d.Authorities {
				kinds[a.Kind]++
				if ids[a.ID] {
					t.Errorf("duplicate id %s", a.ID)
				}
				ids[a.ID] = true
				if i > 0 && d.Authorities[i-1].ID >= a.ID {
					t.Errorf("not sorted: %s before %s", d.Authorities[i-1].ID, a.ID)
				}
				kind, code, err := ParseID(a.ID)
				if err != nil || kind != a.Kind {
					t.Errorf("%s: ParseID = %q, %q, %v", a.ID, kind, code, err)
				}
				if !refdata.IsValidCVR(a.CVR) || a.Name == "" || !a.Mailbox || a.Certificates == nil || len(a.Certificates) != 0 {
					t.Errorf("%s: incomplete: %+v", a.ID, a)
				}
				wantFormat := map[string]string{KindMunicipality: FormatMunicipality, KindRegion: FormatRegion, KindPolice: FormatPolice}[a.Kind]
				if a.Format != wantFormat {
					t.Errorf("%s: format %q, want %q", a.ID, a.Format, wantFormat)
				}
				if a.Kind == KindPolice && a.CVR != "17143611" {
					t.Errorf("%s: CVR %s, want Rigspolitiet's", a.ID, a.CVR)
				}
			}
			if diff := cmp.Diff(tc.wantKinds, kinds); diff != "" {
				t.Errorf("kinds (-want +got):\n%s", diff)
			}
			for _, tc2 := range []struct{ id, name string }{
				{"municipality:0101", "Københavns Kommune"},
				{"municipality:0400", "Bornholms Regionskommune"},
				{"municipality:0851", "Aalborg Kommune"},
				{"region:1081", "Region Nordjylland"},
				{"police:nordjylland", "Nordjyllands Politi"},
			} {
				if a, ok := d.Lookup(tc2.id); !ok || a.Name != tc2.name {
					t.Errorf("Lookup(%s) = %q, %v; want %q", tc2.id, a.Name, ok, tc2.name)
				}
			}
			for _, id := range []string{"region:1084", "region:1085"} {
				a, _ := d.Lookup(id)
				if !a.Valid.To.Equal(merger) || !a.Valid.From.IsZero() {
					t.Errorf("%s: valid %+v, want until %v", id, a.Valid, merger)
				}
			}
			east, ok := d.Lookup("region:" + testEastCode)
			if ok != tc.east {
				t.Fatalf("Østdanmark listed: %v, want %v", ok, tc.east)
			}
			if ok && (east.Name != "Region Østdanmark" || east.CVR != testEastCVR || !east.Valid.From.Equal(merger) || !east.Valid.To.IsZero()) {
				t.Errorf("Østdanmark: %+v", east)
			}
			if !d.GeneratedAt.Equal(generatedAt) {
				t.Errorf("generated_at %v, want %v", d.GeneratedAt, generatedAt)
			}
		})
	}
}

func TestGenerateRecordsGeneratedAtInUTCSeconds(t *testing.T) {
	at := time.Date(2026, 5, 4, 12, 0, 0, 123456789, cet)
	d := Generate(loadRef(t, false), at)
	if want := time.Date(2026, 5, 4, 11, 0, 0, 0, time.UTC); d.GeneratedAt != want {
		t.Errorf("GeneratedAt = %v, want %v", d.GeneratedAt, want)
	}
}

func TestRoundTrip(t *testing.T) {
	for _, east := range []bool{false, true} {
		ref := loadRef(t, east)
		d := Generate(ref, generatedAt)
		checkRoundTrip(t, d, ref)
	}
	// With certificates and periods in several offsets and precisions.
	ref := loadRef(t, true)
	d := Generate(ref, generatedAt)
	i := d.find("police:bornholm")
	d.Authorities[i].Valid = refdata.Period{From: time.Date(2020, 1, 1, 0, 0, 0, 500, time.UTC)}
	d.Authorities[i].Certificates = []CertificateBinding{
		{Use: UseSigning, CertificateUUID: "7d0c9e1a-2b3c-4d5e-8f90-a1b2c3d4e5f6", Valid: refdata.Period{
			From: time.Date(2026, 3, 25, 0, 0, 0, 0, cet), To: time.Date(2029, 3, 24, 0, 0, 0, 0, time.FixedZone("", 2*3600)),
		}},
		{Use: UseEncryption, SPKISHA256: strings.Repeat("ab", 32)},
		{Use: UseTLS, CertificateUUID: "7d0c9e1a-2b3c-4d5e-8f90-a1b2c3d4e5f6", SPKISHA256: strings.Repeat("0f", 32)},
	}
	checkRoundTrip(t, d, ref)
}

func checkRoundTrip(t *testing.T, d *Directory, ref *refdata.Data) {
	t.Helper()
	enc, err := d.Encode()
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	if !bytes.HasSuffix(enc, []byte("}\n")) {
		t.Error("encoding does not end with a newline")
	}
	got, err := Parse(enc, ref)
	if err != nil {
		t.Fatalf("Parse(Encode(d)): %v", err)
	}
	if diff := cmp.Diff(d, got, cmpDir); diff != "" {
		t.Errorf("Parse(Encode(d)) differs (-want +got):\n%s", diff)
	}
	again, err := got.Encode()
	if err != nil {
		t.Fatalf("Encode again: %v", err)
	}
	if !bytes.Equal(enc, again) {
		t.Error("Encode is not stable")
	}
}

// TestGolden pins the generated directory byte for byte. Run with -update after an
// intended change to the reference data or the encoding.
func TestGolden(t *testing.T) {
	enc, err := Generate(loadRef(t, true), generatedAt).Encode()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "generated-east-configured.json")
	if *update {
		if err := os.WriteFile(path, enc, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(enc)); diff != "" {
		t.Errorf("generated directory differs from %s (-want +got):\n%s", path, diff)
	}
}

func TestLoad(t *testing.T) {
	ref := loadRef(t, true)
	d, err := Load(filepath.Join("testdata", "generated-east-configured.json"), ref)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Generate(ref, generatedAt), d, cmpDir); diff != "" {
		t.Errorf("Load differs from Generate (-want +got):\n%s", diff)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.json"), ref); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load of a missing file: %v, want os.ErrNotExist", err)
	}
	big := filepath.Join(t.TempDir(), "big.json")
	if err := os.WriteFile(big, bytes.Repeat([]byte(" "), maxDocumentBytes+1), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(big, ref); err == nil || !strings.Contains(err.Error(), "larger than the limit") {
		t.Errorf("Load of a too large file: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"version": "directory/v1"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Load(bad, ref)
	var verr *ValidationError
	if !errors.As(err, &verr) || !strings.Contains(err.Error(), bad) {
		t.Errorf("Load of an invalid file: %v; want a ValidationError naming the file", err)
	}
}

func TestValidAtAroundMerger(t *testing.T) {
	d := Generate(loadRef(t, true), generatedAt)
	before := merger.Add(-time.Nanosecond)
	for _, tc := range []struct {
		name   string
		lookup func(at time.Time) (Authority, bool)
		at     time.Time
		want   bool
	}{
		{"1084 just before", func(at time.Time) (Authority, bool) { return d.ValidAt("region:1084", at) }, before, true},
		{"1084 at", func(at time.Time) (Authority, bool) { return d.ValidAt("region:1084", at) }, merger, false},
		{"1084 at, in UTC", func(at time.Time) (Authority, bool) { return d.ValidAt("region:1084", at) }, merger.UTC(), false},
		{"1085 just before", func(at time.Time) (Authority, bool) { return d.ForRegion("1085", at) }, before, true},
		{"1085 after", func(at time.Time) (Authority, bool) { return d.ForRegion("1085", at) }, merger.AddDate(0, 6, 0), false},
		{"east just before", func(at time.Time) (Authority, bool) { return d.ForRegion(testEastCode, at) }, before, false},
		{"east at", func(at time.Time) (Authority, bool) { return d.ForRegion(testEastCode, at) }, merger, true},
		{"1081 after", func(at time.Time) (Authority, bool) { return d.ForRegion("1081", at) }, merger, true},
		{"København before", func(at time.Time) (Authority, bool) { return d.ForMunicipality("0101", at) }, before, true},
		{"København after", func(at time.Time) (Authority, bool) { return d.ForMunicipality("0101", at) }, merger, true},
		{"non-canonical code", func(at time.Time) (Authority, bool) { return d.ForMunicipality("101", at) }, merger, false},
		{"Ertholmene", func(at time.Time) (Authority, bool) { return d.ForMunicipality("0411", at) }, merger, false},
		{"Bornholms Politi", func(at time.Time) (Authority, bool) { return d.ForPoliceDistrict("bornholm", at) }, merger, true},
		{"unknown district", func(at time.Time) (Authority, bool) { return d.ForPoliceDistrict("christiansoe", at) }, merger, false},
		{"gateway", func(at time.Time) (Authority, bool) { return d.ValidAt(GatewayID, at) }, merger, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, ok := tc.lookup(tc.at)
			if ok != tc.want {
				t.Errorf("got %s, %v; want %v", a.ID, ok, tc.want)
			}
			if !ok && a.ID != "" {
				t.Errorf("authority %s returned with false", a.ID)
			}
		})
	}
}

func TestLookupReturnsCopies(t *testing.T) {
	d := Generate(loadRef(t, false), generatedAt)
	a, _ := d.Lookup("police:koebenhavn")
	a.Codes.MunicipalityCodes[0] = "9999"
	if b, _ := d.Lookup("police:koebenhavn"); b.Codes.MunicipalityCodes[0] == "9999" {
		t.Error("Lookup shares the directory's slices")
	}
}

func TestLookupWithoutIndex(t *testing.T) {
	d := &Directory{Authorities: []Authority{{ID: "region:1081"}, {ID: "region:1082"}}}
	if a, ok := d.Lookup("region:1082"); !ok || a.ID != "region:1082" {
		t.Errorf("Lookup = %v, %v", a.ID, ok)
	}
	g := Generate(loadRef(t, false), generatedAt)
	g.Authorities = g.Authorities[1:] // changed after indexing
	first := g.Authorities[0].ID
	if a, ok := g.Lookup(first); !ok || a.ID != first {
		t.Errorf("Lookup after a change = %v, %v", a.ID, ok)
	}
}

func TestParseID(t *testing.T) {
	for _, tc := range []struct {
		id, kind, code string
		errPart        string
	}{
		{"municipality:0851", KindMunicipality, "0851", ""},
		{"municipality:0411", KindMunicipality, "0411", ""}, // form only
		{"region:1081", KindRegion, "1081", ""},
		{"police:nordjylland", KindPolice, "nordjylland", ""},
		{"police:sydsjaelland_lolland_falster", KindPolice, "sydsjaelland_lolland_falster", ""},
		{"gateway", KindGateway, "", ""},
		{"", "", "", "want <kind>:<code>"},
		{"Gateway", "", "", "want <kind>:<code>"},
		{"gateway:x", "", "", "kind \"gateway\" is not"},
		{"municipality", "", "", "want <kind>:<code>"},
		{"municipality:851", "", "", "exactly 4 digits"},
		{"municipality:08510", "", "", "exactly 4 digits"},
		{"municipality: 0851", "", "", "exactly 4 digits"},
		{"municipality:0851:x", "", "", "exactly 4 digits"},
		{"region:10a1", "", "", "exactly 4 digits"},
		{"police:", "", "", "must match"},
		{"police:Nordjylland", "", "", "must match"},
		{"police:1fyn", "", "", "must match"},
		{"police:fyn ", "", "", "must match"},
		{"kommune:0851", "", "", "kind \"kommune\" is not"},
		{"Municipality:0851", "", "", "kind \"Municipality\" is not"},
	} {
		t.Run(tc.id, func(t *testing.T) {
			kind, code, err := ParseID(tc.id)
			if tc.errPart == "" {
				if err != nil || kind != tc.kind || code != tc.code {
					t.Errorf("ParseID(%q) = %q, %q, %v; want %q, %q", tc.id, kind, code, err, tc.kind, tc.code)
				}
				return
			}
			if err == nil || !errors.Is(err, ErrInvalidID) || !strings.Contains(err.Error(), tc.errPart) {
				t.Errorf("ParseID(%q) error %v; want ErrInvalidID containing %q", tc.id, err, tc.errPart)
			}
			if kind != "" || code != "" {
				t.Errorf("ParseID(%q) = %q, %q with an error", tc.id, kind, code)
			}
		})
	}
}

func TestEncodeRefusesInvalid(t *testing.T) {
	d := Generate(loadRef(t, false), generatedAt)
	d.Authorities[0].CVR = "12345678"
	d.Authorities[1].Kind = "county"
	_, err := d.Encode()
	var verr *ValidationError
	if !errors.As(err, &verr) || len(verr.Problems) != 2 {
		t.Fatalf("Encode: %v; want a ValidationError with 2 problems", err)
	}
	for _, want := range []string{`"municipality:0101" (authorities[0]): cvr:`, `"municipality:0147" (authorities[1]): kind:`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}
