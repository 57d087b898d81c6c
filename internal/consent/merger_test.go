package consent_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/psykosocial/exchange/internal/clock"
	"github.com/psykosocial/exchange/internal/consent"
	"github.com/psykosocial/exchange/internal/record"
	"github.com/psykosocial/exchange/internal/refdata"
)

// The instants around the 2027 merger of Region Hovedstaden (1084) and
// Region Sjælland (1085) into Region Østdanmark.
var (
	lastSecond  = time.Date(2026, 12, 31, 23, 59, 59, 0, clock.Danish())
	firstSecond = time.Date(2027, 1, 1, 0, 0, 0, 0, clock.Danish())
	weekLater   = firstSecond.Add(7 * 24 * time.Hour)
)

// newYearsEve is a Roskilde resident (Region Sjælland) hurt by fireworks in
// Copenhagen (Region Hovedstaden) at 22:30 on New Year's Eve 2026,
// registered and consenting (follow-up by the residence municipality and
// region) before midnight.
func newYearsEve(t *testing.T) *record.Record {
	t.Helper()
	r := example(t, "aarhus-resident-hurt-in-copenhagen")
	r.RecordID = "5b0c2f1e-7d3a-4e8b-9c6f-1a2b3c4d5e6f"
	r.Incident.ID = "HST-2026-1231-KBH-FYRVAERKERI"
	r.Incident.Kind = "other"
	r.Incident.OccurredAt = ptr(time.Date(2026, 12, 31, 22, 30, 0, 0, clock.Danish()))
	r.Registered.At = ptr(time.Date(2026, 12, 31, 23, 30, 0, 0, clock.Danish()))
	r.Consent.Obtained.At = ptr(time.Date(2026, 12, 31, 23, 40, 0, 0, clock.Danish()))
	r.Person.Address = &record.Address{Street: "Algade 1", PostalCode: "4000", City: "Roskilde", MunicipalityCode: "0265"}
	return r
}

// byRole is, by role, the effect, recipient and check of its decisions:
// "allow" when any rule for the role allows, else the first check that
// withheld.
func byRole(out []consent.Outcome) map[record.RecipientRole]string {
	m := map[record.RecipientRole]string{}
	for _, o := range out {
		d := o.Decision
		who := d.Recipient
		if who == "" {
			who = d.RecipientName
		}
		s := string(d.Effect) + " " + who + " " + string(d.Check)
		// Among withheld decisions the legal-basis rule (the acute
		// period) says more than the follow-up rule the consent does not
		// name.
		prev, ok := m[d.Role]
		if !ok || (d.Effect == consent.Allow && !strings.HasPrefix(prev, "allow")) ||
			(d.Effect == consent.Withhold && d.Basis == consent.BasisLegal && strings.HasPrefix(prev, "withhold")) {
			m[d.Role] = s
		}
	}
	return m
}

// TestRoutingAndConsentAcrossTheMerger: a record registered on New Year's
// Eve is valid when sent after midnight; its region recipients are the old
// regions until the last second of 2026 and Region Østdanmark from the
// first second of 2027; the acute period that began in December runs on
// into January and ends 7 days after the incident; the consent given in
// December names roles, so it holds for the successor.
func TestRoutingAndConsentAcrossTheMerger(t *testing.T) {
	e := newEnv(t, eastConfig)
	rec := newYearsEve(t)
	if ps := e.validator(firstSecond.Add(10 * time.Minute)).Validate(rec); len(ps) != 0 {
		t.Fatalf("registered at 23:30 by Region Hovedstaden, checked at 00:10: %v", ps)
	}
	east := "region:" + eastCode
	tests := []struct {
		at   time.Time
		want map[record.RecipientRole]string
	}{
		{lastSecond, map[record.RecipientRole]string{
			record.RecipientResidenceMunicipality: "allow municipality:0265 ",
			record.RecipientResidenceRegion:       "allow region:1085 ",
			record.RecipientIncidentMunicipality:  "allow municipality:0101 ",
			record.RecipientIncidentRegion:        "allow region:1084 ",
			record.RecipientPoliceDistrict:        "allow police:koebenhavn ",
		}},
		{firstSecond, map[record.RecipientRole]string{
			record.RecipientResidenceMunicipality: "allow municipality:0265 ",
			record.RecipientResidenceRegion:       "allow " + east + " ",
			record.RecipientIncidentMunicipality:  "allow municipality:0101 ",
			record.RecipientIncidentRegion:        "allow " + east + " ",
			record.RecipientPoliceDistrict:        "allow police:koebenhavn ",
		}},
		{time.Date(2027, 1, 7, 22, 29, 59, 0, clock.Danish()), map[record.RecipientRole]string{
			record.RecipientResidenceMunicipality: "allow municipality:0265 ",
			record.RecipientResidenceRegion:       "allow " + east + " ",
			record.RecipientIncidentMunicipality:  "allow municipality:0101 ",
			record.RecipientIncidentRegion:        "allow " + east + " ",
			record.RecipientPoliceDistrict:        "allow police:koebenhavn ",
		}},
		{weekLater, map[record.RecipientRole]string{
			record.RecipientResidenceMunicipality: "allow municipality:0265 ",
			record.RecipientResidenceRegion:       "allow " + east + " ",
			record.RecipientIncidentMunicipality:  "withhold municipality:0101 incident_period_ended",
			record.RecipientIncidentRegion:        "withhold " + east + " incident_period_ended",
			record.RecipientPoliceDistrict:        "withhold police:koebenhavn incident_period_ended",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.at.Format(time.RFC3339), func(t *testing.T) {
			res, err := e.router.Route(rec, "gateway", tt.at)
			if err != nil {
				t.Fatal(err)
			}
			out, err := e.policy.EvaluateRoute(rec, res, tt.at, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := byRole(out); !mapsEqual(got, tt.want) {
				t.Errorf("decisions at %s:\n got  %v\n want %v", tt.at, got, tt.want)
			}
		})
	}
}

func mapsEqual(a, b map[record.RecipientRole]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestUnconfiguredEastRegionIsNeverSilent: without Region Østdanmark's
// code and CVR, a 2027 routing of a record in its municipalities withholds
// both region roles with a decision that names the gap, and the reference
// data reports the gap the service's readiness check shows.
func TestUnconfiguredEastRegionIsNeverSilent(t *testing.T) {
	e := newEnv(t, refdata.Config{})
	rec := newYearsEve(t)
	res, err := e.router.Route(rec, "gateway", firstSecond)
	if err != nil {
		t.Fatal(err)
	}
	out, err := e.policy.EvaluateRoute(rec, res, firstSecond, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := byRole(out)
	for _, role := range []record.RecipientRole{record.RecipientResidenceRegion, record.RecipientIncidentRegion} {
		if want := "withhold Region Østdanmark recipient_not_configured"; got[role] != want {
			t.Errorf("%s: %q, want %q", role, got[role], want)
		}
	}
	for _, o := range out {
		d := o.Decision
		if d.Check != consent.CheckRecipientNotConfigured {
			continue
		}
		s := d.String()
		for _, want := range []string{"Withheld: Region Østdanmark does not receive", "east-region-code and east-region-cvr", "routed to it again"} {
			if !strings.Contains(s, want) {
				t.Errorf("%s lacks %q", s, want)
			}
		}
		if back := roundTrip(t, d); back.RecipientName != "Region Østdanmark" || !slices.Equal(back.Settings, refdata.EastRegionSettings()) {
			t.Errorf("the journal's copy lost the gap: %+v", back)
		}
	}
	// Before the merger nothing is withheld for configuration.
	res, _ = e.router.Route(rec, "gateway", lastSecond)
	out, _ = e.policy.EvaluateRoute(rec, res, lastSecond, nil)
	for _, o := range out {
		if o.Decision.Check == consent.CheckRecipientNotConfigured {
			t.Errorf("a gap decision before the merger: %+v", o.Decision)
		}
	}
	gaps := e.ref.Gaps(lastSecond)
	if len(gaps) != 1 || gaps[0].InForce || len(gaps[0].Municipalities) != 46 {
		t.Fatalf("gaps before the merger: %+v", gaps)
	}
	gaps = e.ref.Gaps(firstSecond)
	if len(gaps) != 1 || !gaps[0].InForce || !strings.Contains(gaps[0].String(), "Region Østdanmark is responsible for 46 municipalities since 2027-01-01") {
		t.Fatalf("gaps after the merger: %+v", gaps)
	}
	if gaps := newEnv(t, eastConfig).ref.Gaps(firstSecond); len(gaps) != 0 {
		t.Fatalf("gaps with the east region configured: %+v", gaps)
	}
}

// TestReconcileAfterTheMerger: what Region Hovedstaden and Region Sjælland
// received in December is held by Region Østdanmark in January: a
// correction or withdrawal goes to it, naming both predecessors, and no
// notice goes to a dissolved region. Without the east region's code the
// notices wait, naming the gap.
func TestReconcileAfterTheMerger(t *testing.T) {
	east := "region:" + eastCode
	v1 := newYearsEve(t)
	v2 := v1.Clone()
	v2.Version = 2
	v2.Person.Phone = "+4528417734"
	withdrawal := &record.Withdrawal{Schema: record.WithdrawalSchemaV1, RecordID: v1.RecordID, Version: 2,
		Reason: record.ReasonRegisteredInError, WithdrawnAt: ptr(weekLater)}

	t.Run("configured", func(t *testing.T) {
		e := newEnv(t, eastConfig)
		earlier := e.recorded(t, v1, "gateway", lastSecond)
		next := e.recorded(t, v2, "gateway", firstSecond)
		ns, err := consent.Reconcile(earlier, v2, next, consent.Transfer{At: firstSecond, Successions: e.router})
		if err != nil {
			t.Fatal(err)
		}
		n := find(t, ns, east)
		if n.Action != consent.ActionCorrect || n.Because != consent.StillAllowed || n.HeldVersion != 1 ||
			!slices.Equal(n.TransferredFrom, []string{"region:1084", "region:1085"}) {
			t.Fatalf("east region: %+v", n)
		}
		if s := n.String(); !strings.Contains(s, "received by region:1084 and region:1085, which ceased and whose records it holds") {
			t.Errorf("explanation: %s", s)
		}
		for _, old := range []string{"region:1084", "region:1085"} {
			if slices.ContainsFunc(ns, func(n consent.Notice) bool { return n.Recipient == old }) {
				t.Errorf("a notice goes to the dissolved %s: %v", old, ns)
			}
		}
		// A week later the record is withdrawn: the successor must delete it.
		all := append(earlier, next...)
		ws, err := consent.ReconcileWithdrawal(all, withdrawal, consent.Transfer{At: weekLater, Successions: e.router})
		if err != nil {
			t.Fatal(err)
		}
		w := find(t, ws, east)
		if w.Action != consent.ActionWithdraw || w.Because != consent.RecordWithdrawn || len(w.TransferredFrom) != 0 {
			t.Fatalf("withdrawal to the east region, which received version 2 itself: %+v", w)
		}
		// Withdrawn straight after the December delivery: the notice goes
		// to the successor on behalf of both predecessors.
		ws, err = consent.ReconcileWithdrawal(earlier, withdrawal, consent.Transfer{At: firstSecond, Successions: e.router})
		if err != nil {
			t.Fatal(err)
		}
		w = find(t, ws, east)
		if w.Action != consent.ActionWithdraw || !slices.Equal(w.TransferredFrom, []string{"region:1084", "region:1085"}) ||
			!slices.Equal(w.HeldRoles, []record.RecipientRole{record.RecipientResidenceRegion, record.RecipientIncidentRegion}) {
			t.Fatalf("withdrawal of the December delivery: %+v", w)
		}
		// At the last second of 2026 the old regions still exist and get it.
		ws, _ = consent.ReconcileWithdrawal(earlier, withdrawal, consent.Transfer{At: lastSecond, Successions: e.router})
		if w := find(t, ws, "region:1084"); w.Action != consent.ActionWithdraw || len(w.TransferredFrom) != 0 {
			t.Fatalf("withdrawal before the merger: %+v", w)
		}
	})

	t.Run("not configured", func(t *testing.T) {
		e := newEnv(t, refdata.Config{})
		earlier := e.recorded(t, v1, "gateway", lastSecond)
		ws, err := consent.ReconcileWithdrawal(earlier, withdrawal, consent.Transfer{At: weekLater, Successions: e.router})
		if err != nil {
			t.Fatal(err)
		}
		for _, old := range []string{"region:1084", "region:1085"} {
			w := find(t, ws, old)
			if w.Action != consent.ActionPending || w.Because != consent.SuccessorNotConfigured || w.SuccessorName != "Region Østdanmark" {
				t.Fatalf("%s: %+v", old, w)
			}
			if s := w.String(); !strings.Contains(s, "has ceased") || !strings.Contains(s, "Region Østdanmark") || !strings.Contains(s, "reconciled again") {
				t.Errorf("explanation: %s", s)
			}
		}
		if w := find(t, ws, "municipality:0265"); w.Action != consent.ActionWithdraw {
			t.Errorf("municipality: %+v", w)
		}
	})
}

func find(t *testing.T, ns []consent.Notice, recipient string) consent.Notice {
	t.Helper()
	for _, n := range ns {
		if n.Recipient == recipient {
			return n
		}
	}
	t.Fatalf("no notice for %s in %v", recipient, ns)
	return consent.Notice{}
}
