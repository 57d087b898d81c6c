package adapters_test

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/psykosocial/exchange/adapters"
	"github.com/psykosocial/exchange/adapters/municipality"
	"github.com/psykosocial/exchange/adapters/police"
	"github.com/psykosocial/exchange/adapters/region"
	"github.com/psykosocial/exchange/internal/clock"
	"github.com/psykosocial/exchange/internal/record"
	"github.com/psykosocial/exchange/internal/refdata"
	"github.com/psykosocial/exchange/internal/xmlsafe"
)

// testNow is the fixed clock of the validators.
var testNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// newAdapters returns the three authority adapters, by format name.
func newAdapters(t *testing.T) map[string]adapters.Adapter {
	t.Helper()
	ref, err := refdata.Load(refdata.Config{})
	if err != nil {
		t.Fatal(err)
	}
	v := record.NewValidator(ref, clock.Fixed(testNow))
	reg, err := region.New(v)
	if err != nil {
		t.Fatal(err)
	}
	muni, err := municipality.New(v)
	if err != nil {
		t.Fatal(err)
	}
	pol, err := police.New(v, police.WithOfficerRole(police.RoleIncidentCommander))
	if err != nil {
		t.Fatal(err)
	}
	return map[string]adapters.Adapter{region.FormatName: reg, municipality.FormatName: muni, police.FormatName: pol}
}

// example reads a valid example of a format.
func example(t *testing.T, format, name string) string {
	t.Helper()
	b, err := os.ReadFile("../schemas/examples/" + format + "/valid/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// problems returns every problem of a decoding: the whole refusal's, or
// every item's.
func problems(t *testing.T, m *adapters.Message, err error) record.Problems {
	t.Helper()
	if err != nil {
		var ps record.Problems
		if !errors.As(err, &ps) {
			t.Fatalf("error %T is not record.Problems: %v", err, err)
		}
		return ps
	}
	var ps record.Problems
	for _, it := range m.Items {
		ps = append(ps, it.Problems...)
	}
	return ps
}

// TestLongNamesComeBackClipped puts a 100 kB element or member name where
// each format refuses it (and where the parser itself refuses it) and
// checks that no problem repeats more than adapters.MaxEcho bytes of it:
// problems reach the sender's error response.
func TestLongNamesComeBackClipped(t *testing.T) {
	all := newAdapters(t)
	long := strings.Repeat("Å", 50<<10) // 100 kB
	muni := example(t, "municipality", "gateway-til-roskilde-beskyttet-adresse.xml")
	pol := example(t, "police", "brand-aalborg-nordjylland.xml")
	reg := example(t, "region", "aarhus-resident-hurt-in-copenhagen-fire.json")
	tests := []struct {
		name, format, doc string
	}{
		{"region top-level member", region.FormatName,
			strings.Replace(reg, `"meddelelsestype"`, `"`+long+`": 1, "meddelelsestype"`, 1)},
		{"region member in a record", region.FormatName,
			strings.Replace(reg, `"version": 1,`, `"version": 1, "`+long+`": 1,`, 1)},
		{"municipality unknown element", municipality.FormatName,
			strings.Replace(muni, "<Sprog>da</Sprog>", "<Sprog>da</Sprog><"+long+">x</"+long+">", 1)},
		{"municipality element the parser refuses", municipality.FormatName,
			strings.Replace(muni, "<Sprog>da</Sprog>", "<Sprog>da</Sprog><"+long+"><!-- x --></"+long+">", 1)},
		{"police unknown element", police.FormatName,
			strings.Replace(pol, "<Sprog>de</Sprog>", "<"+long+">x</"+long+">", 1)},
		{"police element the parser refuses", police.FormatName,
			strings.Replace(pol, "<Sprog>de</Sprog>", "<"+long+"><!-- x --></"+long+">", 1)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := all[tc.format].Decode([]byte(tc.doc))
			ps := problems(t, m, err)
			if len(ps) == 0 {
				t.Fatal("the document was accepted")
			}
			for _, p := range ps {
				if len(p.Pointer) > adapters.MaxEcho+len("…") {
					t.Errorf("pointer of %d bytes: %.80s…", len(p.Pointer), p.Pointer)
				}
				if strings.Contains(p.Message, long[:adapters.MaxEcho+2]) {
					t.Errorf("message repeats more than %d bytes of the name: %.80s…", adapters.MaxEcho, p.Message)
				}
			}
		})
	}
}

// TestClip checks the one clipping rule: at most MaxEcho bytes, cut on a
// rune boundary, marked.

// TestClip checks the one clipping rule: at most MaxEcho bytes, cut on a
// rune boundary, marked.
func TestClip(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"short", "Personliste", "Personliste"},
		{"exactly the limit", strings.Repeat("a", adapters.MaxEcho), strings.Repeat("a", adapters.MaxEcho)},
		{"one byte over", strings.Repeat("a", adapters.MaxEcho+1), strings.Repeat("a", adapters.MaxEcho) + "…"},
		{"cut inside a rune", "a" + strings.Repeat("Å", adapters.MaxEcho), "a" + strings.Repeat("Å", adapters.MaxEcho/2-1) + "…"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := adapters.Clip(tc.in); got != tc.want {
				t.Errorf("Clip = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestNewRefusesBadOptions: every adapter's New has one shape and refuses
// what cannot work with adapters.ErrInvalidOptions.
func TestNewRefusesBadOptions(t *testing.T) {
	ref, err := refdata.Load(refdata.Config{})
	if err != nil {
		t.Fatal(err)
	}
	v := record.NewValidator(ref, clock.Fixed(testNow))
	tests := []struct {
		name string
		new  func() error
	}{
		{"region without validator", func() error { _, err := region.New(nil); return err }},
		{"municipality without validator", func() error { _, err := municipality.New(nil); return err }},
		{"police without validator", func() error { _, err := police.New(nil); return err }},
		{"municipality malformed classification", func() error {
			_, err := municipality.New(v, municipality.WithClassification(municipality.Classification{Subject: "1.2"}))
			return err
		}},
		{"police unknown officer role", func() error {
			_, err := police.New(v, police.WithOfficerRole("sheriff"))
			return err
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.new(); !errors.Is(err, adapters.ErrInvalidOptions) {
				t.Errorf("New = %v, want adapters.ErrInvalidOptions", err)
			}
		})
	}
}

// TestXMLLimitsAreTheParseLimits: the limits an XML adapter exports are
// the ones its Decode parses with, so the XML-DSig verifier can be given
// the same bounds.
func TestXMLLimitsAreTheParseLimits(t *testing.T) {
	all := newAdapters(t)
	tests := []struct {
		format string
		limits xmlsafe.Limits
	}{
		{municipality.FormatName, all[municipality.FormatName].(*municipality.Adapter).Limits()},
		{police.FormatName, all[police.FormatName].(*police.Adapter).Limits()},
	}
	for _, tc := range tests {
		t.Run(tc.format, func(t *testing.T) {
			l := tc.limits
			if l.MaxBytes <= 0 || l.MaxDepth <= 0 || l.MaxElements <= 0 || l.MaxAttrs <= 0 || l.MaxText <= 0 {
				t.Fatalf("a limit is unset: %+v", l)
			}
			doc := make([]byte, l.MaxBytes+1)
			for i := range doc {
				doc[i] = ' '
			}
			m, err := all[tc.format].Decode(doc)
			ps := problems(t, m, err)
			if err == nil || len(ps) != 1 || ps[0].Rule != "xml.limit" {
				t.Errorf("a document of MaxBytes+1 bytes: %v", ps)
			}
		})
	}
	if l := all[region.FormatName].(*region.Adapter).Limits(); l.MaxBytes != region.MaxRecordBytes {
		t.Errorf("region record limits %+v, want MaxBytes %d", l, region.MaxRecordBytes)
	}
}

// TestOneRecordOncePerMessage: a message holding two records with the same
// record id is refused whole in every format, naming both positions.
func TestOneRecordOncePerMessage(t *testing.T) {
	all := newAdapters(t)
	tests := []struct {
		format, file string
		want         []string
	}{
		{region.FormatName, "duplicate-record-id.json",
			[]string{"/registreringer/0/registreringsId", "/registreringer/2/registreringsId"}},
		{municipality.FormatName, "duplicate-record-id.xml",
			[]string{"/KommuneMeddelelse/Registrering[1]/RegistreringsID", "/KommuneMeddelelse/Registrering[3]/RegistreringsID"}},
		{police.FormatName, "duplicate-record-id.xml",
			[]string{"/Personliste/Personer/Person[2]/RegistreringsID", "/Personliste/Personer/Person[3]/RegistreringsID"}},
	}
	for _, tc := range tests {
		t.Run(tc.format, func(t *testing.T) {
			data, err := os.ReadFile("../schemas/examples/" + tc.format + "/invalid/" + tc.file)
			if err != nil {
				t.Fatal(err)
			}
			m, err := all[tc.format].Decode(data)
			if m != nil || err == nil {
				t.Fatalf("Decode = %v, %v: want the message refused whole", m, err)
			}
			var got []string
			for _, p := range problems(t, m, err) {
				if p.Rule != adapters.RuleDuplicateRecord || p.Line == 0 {
					t.Errorf("problem %v: want rule %s with a line", p, adapters.RuleDuplicateRecord)
				}
				got = append(got, p.Pointer)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("problems at %v, want %v", got, tc.want)
			}
		})
	}
}

// TestDuplicateRecords checks the shared rule on its own.
func TestDuplicateRecords(t *testing.T) {
	where := func(i int) (string, int) { return fmt.Sprintf("/%d", i), i + 1 }
	tests := []struct {
		name string
		ids  []string
		want []string
	}{
		{"none", []string{"a", "b", "c"}, nil},
		{"ids that could not be read", []string{"", "a", ""}, nil},
		{"one repeat", []string{"a", "b", "a"}, []string{"/0", "/2"}},
		{"three times", []string{"a", "a", "a"}, []string{"/0", "/1", "/2"}},
		{"two repeats", []string{"a", "b", "b", "a"}, []string{"/1", "/2", "/0", "/3"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, p := range adapters.DuplicateRecords(tc.ids, where) {
				got = append(got, p.Pointer)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("problems at %v, want %v", got, tc.want)
			}
		})
	}
	many := make([]string, 1000)
	for i := range many {
		many[i] = "a"
	}
	if ps := adapters.DuplicateRecords(many, where); len(ps) > 25 {
		t.Errorf("%d problems for a record repeated 1,000 times", len(ps))
	}
}
