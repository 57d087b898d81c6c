package consent_test

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/psykosocial/exchange/internal/clock"
	"github.com/psykosocial/exchange/internal/consent"
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
	// eastConfig configures Region Østdanmark.
	eastConfig = refdata.Config{EastRegionCode: eastCode, EastRegionCVR: eastCVR}
)

// env is what a test needs: reference data, directory, router, the default
// policy and a validator.
type env struct {
	ref    *refdata.Data
	router *routing.Router
	policy *consent.Policy
}

func newEnv(t testing.TB, cfg refdata.Config) *env {
	t.Helper()
	ref, err := refdata.Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r, err := routing.New(ref, directory.Generate(ref, june))
	if err != nil {
		t.Fatal(err)
	}
	p, err := consent.Default()
	if err != nil {
		t.Fatal(err)
	}
	return &env{ref: ref, router: r, policy: p}
}

// validator returns a validator whose clock stands at at.
func (e *env) validator(at time.Time) *record.Validator {
	return record.NewValidator(e.ref, clock.Fixed(at))
}

// decide routes rec and evaluates it under the default policy.
func (e *env) decide(t testing.TB, rec *record.Record, sender string, at time.Time) (routing.Result, []consent.Outcome) {
	t.Helper()
	res, err := e.router.Route(rec, sender, at)
	if err != nil {
		t.Fatal(err)
	}
	out, err := e.policy.Evaluate(rec, res.Candidates, at)
	if err != nil {
		t.Fatal(err)
	}
	return res, out
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

func exampleNames(t testing.TB) []string {
	t.Helper()
	files, err := fs.Glob(schemas.FS, "examples/registration/valid/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	var names []string
	for _, f := range files {
		names = append(names, strings.TrimSuffix(f[strings.LastIndex(f, "/")+1:], ".json"))
	}
	return names
}

// leaves returns the JSON Pointer of every leaf member of the canonical
// JSON of rec (arrays and empty objects count as leaves).
func leaves(t testing.TB, rec *record.Record) []string {
	t.Helper()
	b, err := record.MarshalCanonical(rec)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	var out []string
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		m, ok := v.(map[string]any)
		if !ok || len(m) == 0 {
			out = append(out, prefix)
			return
		}
		for k, c := range m {
			walk(prefix+"/"+k, c)
		}
	}
	walk("", doc)
	sort.Strings(out)
	return out
}

// covered reports whether ptr is one of paths or inside one of them.
func covered(ptr string, paths []string) bool {
	for _, p := range paths {
		if ptr == p || strings.HasPrefix(ptr, p+"/") {
			return true
		}
	}
	return false
}

// checkOutcome checks what must hold of every outcome, whatever the
// scenario, and returns the problems: the view holds exactly the members
// the decision lists, is nil when withheld, is a valid record when rec is,
// can be rebuilt from the recorded decision, and the decision explains
// itself.
func checkOutcome(t testing.TB, v *record.Validator, rec *record.Record, o consent.Outcome) []string {
	t.Helper()
	var ps []string
	d := o.Decision
	text := d.String()
	if strings.Contains(text, "unexplained") || !strings.Contains(text, d.Recipient) || !strings.Contains(text, d.PolicyVersion) {
		ps = append(ps, fmt.Sprintf("poor explanation %q", text))
	}
	switch d.Effect {
	case consent.Withhold:
		if o.View != nil || len(d.Fields) > 0 || d.Check == "" {
			ps = append(ps, fmt.Sprintf("withheld decision with a view, fields or no check: %+v", d))
		}
		return ps
	case consent.Allow:
		if o.View == nil || d.Check != "" || d.RuleID == "" {
			ps = append(ps, fmt.Sprintf("allowed decision without a view or rule, or with a check: %+v", d))
			return ps
		}
	default:
		return append(ps, fmt.Sprintf("effect %q", d.Effect))
	}
	switch d.Basis {
	case consent.BasisConsent:
		if len(d.Clause) != 2 || d.GivenBy == "" {
			ps = append(ps, fmt.Sprintf("consent decision without its clause or who gave it: %+v", d))
		}
	case consent.BasisLegal:
		if d.LegalBasis == "" || len(d.Clause) > 0 {
			ps = append(ps, fmt.Sprintf("legal-basis decision without its basis, or with a consent clause: %+v", d))
		}
	}
	got := leaves(t, o.View)
	for _, l := range got {
		if !covered(l, d.Fields) {
			ps = append(ps, fmt.Sprintf("the view holds %s, which the decision does not disclose", l))
		}
	}
	for _, f := range d.Fields {
		if !slices.ContainsFunc(got, func(l string) bool { return covered(l, []string{f}) }) {
			ps = append(ps, fmt.Sprintf("the decision discloses %s, which the view does not hold", f))
		}
	}
	for _, w := range d.Withheld {
		if slices.Contains(d.Fields, w.Path) {
			ps = append(ps, fmt.Sprintf("%s is both disclosed and withheld", w.Path))
		}
	}
	ps = append(ps, checkConsentBlock(rec, d, o.View)...)
	if rel := o.View.Relation; slices.Contains(d.Fields, "/relation/affected") || rel != nil && rel.Affected != nil {
		ps = append(ps, "the view carries /relation/affected, which never leaves the gateway")
	}
	if v != nil && v.Validate(rec) == nil {
		if probs := v.Validate(o.View); probs != nil {
			ps = append(ps, fmt.Sprintf("the view of a valid record is invalid: %v", probs))
		}
	}
	again, err := consent.ViewOf(rec, roundTrip(t, d))
	if err != nil {
		ps = append(ps, fmt.Sprintf("ViewOf the recorded decision: %v", err))
	} else if a, b := canonical(t, again), canonical(t, o.View); a != b {
		ps = append(ps, fmt.Sprintf("ViewOf the recorded decision differs:\n%s\n%s", a, b))
	}
	return ps
}

// checkConsentBlock checks the consent block of the view of an allowed
// decision: /consent covers it in Decision.Fields, so what it may carry is
// checked here. Its follow_up block holds the grant of the decision's role
// and nothing else, and none for the police, who never see contact
// preferences; the guardian's phone and e-mail only when the decision
// lists them.
func checkConsentBlock(rec *record.Record, d consent.Decision, v *record.Record) []string {
	var ps []string
	if v.Consent == nil || rec.Consent == nil {
		if (v.Consent == nil) != (rec.Consent == nil) {
			ps = append(ps, "the view's consent block does not match the record's")
		}
		return ps
	}
	own, i := rec.Consent.FollowUp.GrantFor(d.Role)
	switch fu := v.Consent.FollowUp; {
	case d.Role == record.RecipientPoliceDistrict && fu != nil:
		ps = append(ps, "the police view carries the follow-up consent, the person's contact preferences")
	case d.Role == record.RecipientPoliceDistrict:
	case i < 0 && fu != nil:
		ps = append(ps, fmt.Sprintf("the view carries follow-up grants %+v, none of them to %s", fu.Grants, d.Role))
	case i >= 0 && (fu == nil || len(fu.Grants) != 1 || !reflect.DeepEqual(fu.Grants[0], own)):
		ps = append(ps, fmt.Sprintf("the view's follow-up block %+v is not exactly the grant to %s", fu, d.Role))
	}
	if g := v.Consent.Guardian; g != nil {
		if g.Phone != "" && !slices.Contains(d.Fields, "/consent/guardian/phone") {
			ps = append(ps, "the view carries the guardian's phone, which the decision does not list")
		}
		if g.Email != "" && !slices.Contains(d.Fields, "/consent/guardian/email") {
			ps = append(ps, "the view carries the guardian's e-mail, which the decision does not list")
		}
	}
	return ps
}

// roundTrip returns d as the journal would give it back: encoded to JSON and decoded.
func roundTrip(t testing.TB, d consent.Decision) consent.Decision {
	t.Helper()
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	var out consent.Decision
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func canonical(t testing.TB, r *record.Record) string {
	t.Helper()
	b, err := record.MarshalCanonical(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func ptr[T any](v T) *T { return &v }
