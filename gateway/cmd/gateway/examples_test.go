package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/psykosocial/exchange/internal/clock"
	"github.com/psykosocial/exchange/internal/refdata"
)

// pinnedInstants are the clocks every example's verdict is checked at, so
// that the passing of a date can never turn the suite red: the last second
// of 2026, the first second of 2027 (the region merger), a week into 2027,
// and a day years later.
var pinnedInstants = []string{
	"2026-12-31T23:59:59+01:00",
	"2027-01-01T00:00:00+01:00",
	"2027-01-08T12:00:00+01:00",
	"2030-06-01T12:00:00+02:00",
}

// verdict is what the tests need of an entry of an invalid/expect.json:
// the four example folders write their problems in two shapes.
type verdict struct {
	// Now is the example's own pinned clock: an example meant to lie in
	// the future lies after it. At later instants its time.future problems
	// are gone and every other problem remains.
	Now string `json:"now"`
	// Whole is true when the document is refused as a whole; its problems
	// then belong to no item.
	Whole bool `json:"whole"`
	// Go lists the pointers of registration/invalid (the common record).
	Go []string `json:"go"`
	// Problems lists the problems of the adapter formats.
	Problems []struct {
		Index *int   `json:"index"`
		Path  string `json:"path"`
		Rule  string `json:"rule"`
	} `json:"problems"`
}

// problemKeys are the verdict's problems as comparable strings. Without
// rules (registration/invalid names pointers only) a key is the pointer.
func (v verdict) problemKeys(withRules bool) []string {
	var out []string
	for _, p := range v.Go {
		out = append(out, p)
	}
	for _, p := range v.Problems {
		index := p.Index
		if v.Whole {
			index = nil
		}
		out = append(out, problemKey(withRules, index, p.Path, p.Rule))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func problemKey(withRules bool, index *int, path, rule string) string {
	if !withRules {
		return path
	}
	i := "-"
	if index != nil {
		i = fmt.Sprint(*index)
	}
	return i + " " + path + " [" + rule + "]"
}

// reportKeys are the problems of a validate -json report as problemKeys
// writes them, and the rules by key.
func reportKeys(rep fileReport, withRules bool) (keys []string, rules map[string]string) {
	rules = map[string]string{}
	add := func(index *int, path, rule string) {
		k := problemKey(withRules, index, path, rule)
		keys = append(keys, k)
		rules[k] = rule
	}
	for _, p := range rep.Rejected {
		add(nil, p.Pointer, p.Rule)
	}
	for _, it := range rep.Items {
		for _, p := range it.Problems {
			add(&it.Index, p.Pointer, p.Rule)
		}
	}
	slices.Sort(keys)
	return slices.Compact(keys), rules
}

// formats are the adapters of the example folders.
var formats = map[string]string{"registration": "common", "region": "region", "municipality": "municipality", "police": "police"}

// validateAt runs gateway validate -json -now at on one example file, in
// the format of its folder.
func validateAt(t *testing.T, at, file string) (int, fileReport) {
	t.Helper()
	format := formats[filepath.Base(filepath.Dir(filepath.Dir(file)))]
	code, out, errs := runCmd(t, "", "validate", "-json", "-format", format, "-now", at, file)
	var rep fileReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("validate -now %s %s: bad JSON report (%v): %s%s", at, file, err, out, errs)
	}
	return code, rep
}

// TestExamplesAtPinnedInstants runs every example's expected verdict at
// every pinned instant: valid examples stay valid, invalid ones keep
// exactly their problems, and an example meant to lie in the future is
// judged at its own pinned clock (expect.json "now"), later than which it
// loses only its time.future problems.
func TestExamplesAtPinnedInstants(t *testing.T) {
	root := filepath.Join("..", "..", "..", "schemas", "examples")
	for _, dir := range []string{"registration", "region", "municipality", "police"} {
		withRules := dir != "registration"
		for _, f := range examples(t, dir+"/valid/*") {
			for _, at := range pinnedInstants {
				t.Run(dir+"/valid/"+filepath.Base(f)+"@"+at, func(t *testing.T) {
					if code, rep := validateAt(t, at, f); code != exitOK || !rep.Valid {
						t.Fatalf("code %d: %+v", code, rep)
					}
				})
			}
		}
		raw, err := os.ReadFile(filepath.Join(root, dir, "invalid", "expect.json"))
		if err != nil {
			t.Fatal(err)
		}
		var expect map[string]verdict
		if err := json.Unmarshal(raw, &expect); err != nil {
			t.Fatalf("%s/invalid/expect.json: %v", dir, err)
		}
		for _, f := range examples(t, dir+"/invalid/*") {
			name := filepath.Base(f)
			v, ok := expect[name]
			if !ok {
				t.Errorf("%s/invalid/%s has no entry in expect.json", dir, name)
				continue
			}
			want := v.problemKeys(withRules)
			instants := pinnedInstants
			if v.Now != "" {
				pinned, err := time.Parse(time.RFC3339, v.Now)
				if err != nil {
					t.Fatalf("%s: now %q: %v", name, v.Now, err)
				}
				if !pinned.Before(mustTime(t, pinnedInstants[0])) {
					t.Fatalf("%s: its pinned clock %s is not before the pinned instants", name, v.Now)
				}
				instants = append([]string{v.Now}, pinnedInstants...)
			}
			for _, at := range instants {
				t.Run(dir+"/invalid/"+name+"@"+at, func(t *testing.T) {
					code, rep := validateAt(t, at, f)
					got, rules := reportKeys(rep, withRules)
					exp := want
					if v.Now != "" && at != v.Now {
						// Later than its pinned clock the future has come:
						// the example keeps every other problem.
						exp = nil
						for _, k := range want {
							if !strings.Contains(k, "[time.future]") && (withRules || !futurePointer(t, f, k)) {
								exp = append(exp, k)
							}
						}
						got = slices.DeleteFunc(got, func(k string) bool { return rules[k] == "time.future" })
						if len(got) != len(exp) && len(exp) == 0 {
							t.Fatalf("after its pinned clock only time.future problems should be gone: %v", got)
						}
					}
					if !slices.Equal(got, exp) {
						t.Fatalf("problems at %s:\n got  %v\n want %v", at, got, exp)
					}
					if len(exp) > 0 && code != exitProblems {
						t.Fatalf("code %d with problems %v", code, got)
					}
					if len(exp) == 0 && code != exitOK {
						t.Fatalf("code %d without problems: %+v", code, rep)
					}
				})
			}
		}
	}
}

// futurePointer reports whether pointer k of a registration/invalid
// example is one of its time.future problems at the example's own clock;
// registration/invalid/expect.json lists pointers without rules.
func futurePointer(t *testing.T, file, k string) bool {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(filepath.Dir(file), "expect.json"))
	if err != nil {
		t.Fatal(err)
	}
	var expect map[string]verdict
	if err := json.Unmarshal(raw, &expect); err != nil {
		t.Fatal(err)
	}
	_, rep := validateAt(t, expect[filepath.Base(file)].Now, file)
	for _, it := range rep.Items {
		for _, p := range it.Problems {
			if p.Pointer == k && p.Rule == "time.future" {
				return true
			}
		}
	}
	return false
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

// TestValidateNow: -now judges a document as of an instant; a bad value
// is a usage error that names the flag.
func TestValidateNow(t *testing.T) {
	f := filepath.Join("..", "..", "..", "schemas", "examples", "registration", "invalid", "incident-in-the-future.json")
	if code, out, _ := runCmd(t, "", "validate", "-now", "2026-11-25T13:00:00+01:00", f); code != exitProblems || !strings.Contains(out, "/incident/occurred_at: lies in the future [time.future]") {
		t.Errorf("at its pinned clock: code %d\n%s", code, out)
	}
	if code, out, _ := runCmd(t, "", "validate", "-now", "2027-06-01T12:00:00+02:00", f); code != exitOK {
		t.Errorf("after the incident: code %d\n%s", code, out)
	}
	for _, bad := range []string{"2026-12-31", "2026-12-31T23:59:59", "tomorrow"} {
		code, _, errs := runCmd(t, "", "validate", "-now", bad, f)
		if code != exitUsage || !strings.Contains(errs, "-now") || !strings.Contains(errs, "RFC 3339") {
			t.Errorf("-now %s: code %d, stderr %q", bad, code, errs)
		}
	}
	// Without -now the command's clock decides (the tests pin it).
	if code, _, _ := runCmdAt(t, clock.NewFake(mustTime(t, "2027-06-01T12:00:00+02:00")), "", "validate", f); code != exitOK {
		t.Errorf("with the clock after the incident: code %d", code)
	}
}

// TestValidateWarnsOfTheEastRegionGap: while Region Østdanmark's code and
// CVR are not configured, a valid record whose incident or residence lies
// in its municipalities is valid but cannot reach a region from
// 2027-01-01, and validate says so; configured, the warning is gone.
func TestValidateWarnsOfTheEastRegionGap(t *testing.T) {
	f := filepath.Join("..", "..", "..", "schemas", "examples", "registration", "valid", "aarhus-resident-hurt-in-copenhagen.json")
	code, out, _ := runCmd(t, "", "validate", "-now", "2027-01-01T00:00:00+01:00", f)
	if code != exitOK || !strings.Contains(out, "warning: the incident region cannot be reached: municipality 0101 belongs at 2027-01-01T00:00:00+01:00 to Region Østdanmark, whose region code and CVR number are not configured (settings east-region-code and east-region-cvr)") {
		t.Errorf("unconfigured east region in 2027: code %d\n%s", code, out)
	}
	if _, out, _ := runCmd(t, "", "validate", "-now", "2026-12-31T23:59:59+01:00", f); strings.Contains(out, "warning") {
		t.Errorf("a warning before the merger:\n%s", out)
	}
	// Test values, not Region Østdanmark's real code and CVR (configuration).
	_, out, errs := runCmd(t, "", "validate", "-now", "2027-01-01T00:00:00+01:00", "-east-region-code", refdata.TestEastRegionCode, "-east-region-cvr", refdata.TestEastRegionCVR, f)
	if strings.Contains(out, "warning") {
		t.Errorf("a warning with the east region configured:\n%s", out)
	}
	if !strings.Contains(errs, "made-up TEST values") {
		t.Errorf("no warning about the test values: %q", errs)
	}
}
