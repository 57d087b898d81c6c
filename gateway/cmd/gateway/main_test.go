package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/psykosocial/exchange/internal/clock"
	"github.com/psykosocial/exchange/internal/refdata"
)

// testNow is the clock of the command tests; the examples' verdicts are
// also checked at the instants of pinnedInstants.
var testNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func runCmd(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return runCmdAt(t, clock.NewFake(testNow), stdin, args...)
}

func runCmdAt(t *testing.T, clk clock.Clock, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), &env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb, clock: clk}, args)
	return code, out.String(), errb.String()
}

func examples(t *testing.T, pattern string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "..", "..", "schemas", "examples", pattern))
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples match %s", pattern)
	}
	var out []string
	for _, f := range files {
		if filepath.Base(f) != "expect.json" {
			out = append(out, f)
		}
	}
	return out
}

func TestUsage(t *testing.T) {
	if code, _, errs := runCmd(t, ""); code != exitUsage || !strings.Contains(errs, "validate") {
		t.Errorf("no arguments: code %d, stderr %q", code, errs)
	}
	if code, _, errs := runCmd(t, "", "frobnicate"); code != exitUsage || !strings.Contains(errs, `unknown command "frobnicate"`) {
		t.Errorf("unknown command: code %d, stderr %q", code, errs)
	}
}

func TestVersion(t *testing.T) {
	code, out, _ := runCmd(t, "", "version")
	if code != exitOK || !strings.HasPrefix(out, "gateway ") {
		t.Errorf("version: code %d, out %q", code, out)
	}
}

func TestValidateValidExamples(t *testing.T) {
	args := append([]string{"validate"}, examples(t, "*/valid/*")...)
	code, out, errs := runCmd(t, "", args...)
	if code != exitOK {
		t.Fatalf("valid examples: code %d\n%s%s", code, out, errs)
	}
	if strings.Contains(out, "INVALID") || strings.Contains(out, "REJECTED") {
		t.Fatalf("valid examples reported invalid:\n%s", out)
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	f := filepath.Join("..", "..", "..", "schemas", "examples", "registration", "invalid", "several-problems-at-once.json")
	code, out, _ := runCmd(t, "", "validate", f)
	if code != exitProblems {
		t.Fatalf("code %d, want %d\n%s", code, exitProblems, out)
	}
	for _, want := range []string{"/person/cpr", "/person/phone", "/incident/region_code", "/relation/type", "INVALID"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %s:\n%s", want, out)
		}
	}
}

func TestValidateInvalidExamplesJSON(t *testing.T) {
	for _, f := range examples(t, "*/invalid/*") {
		t.Run(filepath.Base(filepath.Dir(filepath.Dir(f)))+"/"+filepath.Base(f), func(t *testing.T) {
			code, out, errs := runCmd(t, "", "validate", "-json", f)
			if code != exitProblems {
				t.Fatalf("code %d, want %d\n%s%s", code, exitProblems, out, errs)
			}
			var rep fileReport
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatalf("bad JSON report: %v\n%s", err, out)
			}
			if rep.Valid || (len(rep.Rejected) == 0 && len(rep.Items) == 0) {
				t.Fatalf("report does not say what is wrong: %s", out)
			}
		})
	}
}

func TestValidateStdinAndUnknownFormat(t *testing.T) {
	code, out, _ := runCmd(t, "plain text, no format", "validate", "-")
	if code != exitProblems || !strings.Contains(out, "no known format") {
		t.Errorf("unknown format: code %d, out %q", code, out)
	}
	code, _, errs := runCmd(t, "", "validate", "-format", "nope", "-")
	if code != exitUsage || !strings.Contains(errs, `unknown format "nope"`) {
		t.Errorf("bad -format: code %d, stderr %q", code, errs)
	}
	code, out, _ = runCmd(t, "", "validate", filepath.Join(t.TempDir(), "missing.json"))
	if code != exitFailure || !strings.Contains(out, "cannot read") {
		t.Errorf("missing file: code %d, out %q", code, out)
	}
}

func TestDirectoryGenerateAndCheck(t *testing.T) {
	out := filepath.Join(t.TempDir(), "directory.json")
	if code, _, errs := runCmd(t, "", "directory", "generate", "-o", out); code != exitOK {
		t.Fatalf("generate: code %d: %s", code, errs)
	}
	code, stdout, _ := runCmd(t, "", "directory", "check", out)
	if code != exitOK || !strings.Contains(stdout, "(115 authorities)") {
		t.Fatalf("check: code %d: %s", code, stdout)
	}
	code, _, errs := runCmd(t, "", "directory", "generate", "-east-region-code", refdata.TestEastRegionCode, "-east-region-cvr", refdata.TestEastRegionCVR, "-o", out)
	if code != exitOK {
		t.Fatalf("generate with east region: code %d: %s", code, errs)
	}
	code, stdout, _ = runCmd(t, "", "directory", "check", "-east-region-code", refdata.TestEastRegionCode, "-east-region-cvr", refdata.TestEastRegionCVR, out)
	if code != exitOK || !strings.Contains(stdout, "(116 authorities)") {
		t.Fatalf("check with east region: code %d: %s", code, stdout)
	}
	if err := os.WriteFile(out, []byte(`{"version":"directory/v1","authorities":[{"id":"municipality:9999"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, stdout, _ = runCmd(t, "", "directory", "check", out); code != exitProblems || !strings.Contains(stdout, "INVALID") {
		t.Fatalf("check of a bad directory: code %d: %s", code, stdout)
	}
}

func TestCertsInitIssueRevoke(t *testing.T) {
	data := t.TempDir()
	code, out, errs := runCmd(t, "", "certs", "init", "-data", data)
	if code != exitOK || !strings.Contains(out, "115 authorities") || !strings.Contains(out, "DEVELOPMENT-ONLY") {
		t.Fatalf("init: code %d\n%s%s", code, out, errs)
	}
	if code, out, _ = runCmd(t, "", "certs", "init", "-data", data); code != exitOK || !strings.Contains(out, "0 certificates issued") {
		t.Fatalf("second init is not idempotent: %s", out)
	}
	code, out, errs = runCmd(t, "", "certs", "issue", "-data", data, "police:fyn")
	if code != exitOK || strings.Count(out, "police:fyn") != 4 {
		t.Fatalf("issue: code %d\n%s%s", code, out, errs)
	}
	certFile := strings.Fields(strings.Split(out, "\n")[0])[4]
	if code, out, errs = runCmd(t, "", "certs", "revoke", "-data", data, "-reason", "4", certFile); code != exitOK || !strings.Contains(out, "revoked serial") {
		t.Fatalf("revoke: code %d\n%s%s", code, out, errs)
	}
	if code, _, errs = runCmd(t, "", "certs", "issue", "-data", data, "municipality:9999"); code != exitUsage || !strings.Contains(errs, "unknown authority") {
		t.Fatalf("issue to an unknown authority: code %d: %s", code, errs)
	}
	if code, _, errs = runCmd(t, "", "certs", "revoke", "-data", data, "not-a-serial"); code != exitUsage {
		t.Fatalf("revoke of garbage: code %d: %s", code, errs)
	}
}
