package consent_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/psykosocial/exchange/internal/consent"
	"github.com/psykosocial/exchange/internal/record"
	"github.com/psykosocial/exchange/internal/refdata"
)

// recorded evaluates rec and returns its decisions as the journal gives
// them back (through JSON).
func (e *env) recorded(t *testing.T, rec *record.Record, sender string, at time.Time) []consent.Decision {
	t.Helper()
	_, out := e.decide(t, rec, sender, at)
	ds := make([]consent.Decision, len(out))
	for i, o := range out {
		ds[i] = roundTrip(t, o.Decision)
	}
	return ds
}

// notice is the part of a Notice a scenario pins.
type notice struct {
	Action  consent.Action
	Because consent.Because
	Checks  []consent.Check
}

func TestReconcile(t *testing.T) {
	e := newEnv(t, refdata.Config{})
	aarhus := example(t, "aarhus-resident-hurt-in-copenhagen")
	next := func(r *record.Record, edit func(*record.Record)) *record.Record {
		c := r.Clone()
		c.Version++
		edit(c)
		return c
	}
	withdrawnV1 := example(t, "consent-withdrawn-after-delivery")
	withdrawnV1.Version, withdrawnV1.Consent.WithdrawnAt = 1, nil
	witness := example(t, "witness-who-refused-follow-up")
	herning := time.Date(2026, 9, 3, 12, 0, 0, 0, cest)

	tests := []struct {
		name   string
		v1     *record.Record
		at1    time.Time
		v2     *record.Record
		at2    time.Time
		sender string
		want   map[string]notice
	}{
		{
			name: "consent withdrawn after delivery",
			v1:   withdrawnV1, at1: june,
			v2: example(t, "consent-withdrawn-after-delivery"), at2: time.Date(2026, 7, 2, 12, 0, 0, 0, cest),
			sender: "region:1084",
			want: map[string]notice{
				"municipality:0630": {consent.ActionWithdraw, consent.NoLongerAllowed, []consent.Check{consent.CheckConsentWithdrawn}},
				"region:1083":       {consent.ActionWithdraw, consent.NoLongerAllowed, []consent.Check{consent.CheckConsentWithdrawn}},
				"municipality:0101": {consent.ActionWithdraw, consent.NoLongerAllowed, []consent.Check{consent.CheckConsentWithdrawn}},
				"police:koebenhavn": {consent.ActionWithdraw, consent.NoLongerAllowed, []consent.Check{consent.CheckConsentWithdrawn}},
			},
		},
		{
			name: "corrected priority goes to every recipient",
			v1:   aarhus, at1: june,
			v2:     next(aarhus, func(r *record.Record) { r.Assessment.FollowUpPriority = record.PriorityAcute }),
			at2:    june.Add(time.Hour),
			sender: "region:1084",
			want: map[string]notice{
				"municipality:0751": {consent.ActionCorrect, consent.StillAllowed, nil},
				"region:1082":       {consent.ActionCorrect, consent.StillAllowed, nil},
				"municipality:0101": {consent.ActionCorrect, consent.StillAllowed, nil},
				"police:koebenhavn": {consent.ActionCorrect, consent.StillAllowed, nil},
			},
		},
		{
			name: "corrected address in another region: the old residence deletes, the new one receives",
			v1:   aarhus, at1: june,
			v2: next(aarhus, func(r *record.Record) {
				r.Person.Address = &record.Address{Street: "Åboulevarden 3", PostalCode: "5000", City: "Odense C", MunicipalityCode: "0461"}
			}),
			at2:    june.Add(time.Hour),
			sender: "region:1084",
			want: map[string]notice{
				"municipality:0751": {consent.ActionWithdraw, consent.NoLongerCandidate, nil},
				"region:1082":       {consent.ActionWithdraw, consent.NoLongerCandidate, nil},
				"municipality:0461": {consent.ActionDeliver, consent.NewlyAllowed, nil},
				"region:1083":       {consent.ActionDeliver, consent.NewlyAllowed, nil},
				"municipality:0101": {consent.ActionCorrect, consent.StillAllowed, nil},
				"police:koebenhavn": {consent.ActionCorrect, consent.StillAllowed, nil},
			},
		},
		{
			name: "correction after the incident period: acute recipients delete, follow-up continues",
			v1:   aarhus, at1: june,
			v2:     next(aarhus, func(r *record.Record) { r.Assessment.FollowUpPriority = record.PriorityWeeks }),
			at2:    time.Date(2026, 6, 25, 9, 0, 0, 0, cest),
			sender: "region:1084",
			want: map[string]notice{
				"municipality:0751": {consent.ActionCorrect, consent.StillAllowed, nil},
				"region:1082":       {consent.ActionCorrect, consent.StillAllowed, nil},
				// Neither rule for the incident municipality allows: the
				// consent does not name it, and the acute period is over.
				"municipality:0101": {consent.ActionWithdraw, consent.NoLongerAllowed, []consent.Check{consent.CheckRecipientNotConsented, consent.CheckIncidentPeriodEnded}},
				"police:koebenhavn": {consent.ActionWithdraw, consent.NoLongerAllowed, []consent.Check{consent.CheckIncidentPeriodEnded}},
			},
		},
		{
			name: "witness who refused follow-up consents the next day",
			v1:   witness, at1: herning,
			v2: next(witness, func(r *record.Record) {
				r.Consent.FollowUp = &record.FollowUp{Granted: ptr(true), Grants: []record.Grant{{
					Recipient: record.RecipientResidenceMunicipality,
					Purposes:  []record.Purpose{record.PurposeFollowUp},
					Channels:  []record.Channel{record.ChannelPhone},
				}}}
			}),
			at2:    herning.Add(24 * time.Hour),
			sender: "region:1082",
			want: map[string]notice{
				"municipality:0461":       {consent.ActionDeliver, consent.NewlyAllowed, nil},
				"region:1083":             {consent.ActionNone, consent.NotAllowed, []consent.Check{consent.CheckRecipientNotConsented}},
				"municipality:0657":       {consent.ActionDeliver, consent.NewlyAllowed, nil},
				"police:midt_vestjylland": {consent.ActionCorrect, consent.StillAllowed, nil},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			earlier := e.recorded(t, tc.v1, tc.sender, tc.at1)
			_, out := e.decide(t, tc.v2, tc.sender, tc.at2)
			var now []consent.Decision
			for _, o := range out {
				now = append(now, o.Decision)
			}
			ns, err := consent.Reconcile(earlier, tc.v2, now, consent.Transfer{At: tc.at2, Successions: e.router})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]notice{}
			for _, n := range ns {
				got[n.Recipient] = notice{n.Action, n.Because, n.Checks}
				checkNotice(t, n)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("notices (-want +got):\n%s", diff)
			}
			if !slices.IsSortedFunc(ns, func(a, b consent.Notice) int { return strings.Compare(a.Recipient, b.Recipient) }) {
				t.Error("notices are not sorted by recipient")
			}
		})
	}
}

func checkNotice(t *testing.T, n consent.Notice) {
	t.Helper()
	s := n.String()
	if !strings.Contains(s, n.Recipient) || strings.Contains(s, "unexplained") {
		t.Errorf("poor explanation: %q", s)
	}
	held := n.HeldVersion > 0
	if held != (n.Action == consent.ActionCorrect || n.Action == consent.ActionWithdraw) {
		t.Errorf("%s: action %s with held version %d", n.Recipient, n.Action, n.HeldVersion)
	}
}

// Over several versions only the latest recorded version says who holds
// the record: a recipient that got a withdrawal notice for version 2 gets a
// first delivery, not a correction, when version 3 allows it again.
func TestReconcileAcrossVersions(t *testing.T) {
	e := newEnv(t, refdata.Config{})
	v1 := example(t, "aarhus-resident-hurt-in-copenhagen")
	v2 := v1.Clone()
	v2.Version = 2
	v2.Consent.FollowUp.Grants = v2.Consent.FollowUp.Grants[1:] // the residence region only
	v3 := v1.Clone()
	v3.Version = 3
	earlier := append(e.recorded(t, v1, "region:1084", june), e.recorded(t, v2, "region:1084", june)...)
	ns, err := consent.Reconcile(earlier, v3, e.recorded(t, v3, "region:1084", june), consent.Transfer{At: june, Successions: e.router})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range ns {
		checkNotice(t, n)
		want := consent.ActionCorrect
		if n.Recipient == "municipality:0751" {
			want = consent.ActionDeliver
		}
		if n.Action != want {
			t.Errorf("%s: got %s, want %s: %s", n.Recipient, n.Action, want, n)
		}
	}
}

func TestReconcileWithdrawal(t *testing.T) {
	e := newEnv(t, refdata.Config{})
	witness := example(t, "witness-who-refused-follow-up")
	earlier := e.recorded(t, witness, "region:1082", time.Date(2026, 9, 3, 12, 0, 0, 0, cest))
	w := &record.Withdrawal{Schema: record.WithdrawalSchemaV1, RecordID: witness.RecordID, Version: witness.Version,
		Reason: record.ReasonRegisteredInError, WithdrawnAt: ptr(time.Date(2026, 9, 4, 9, 0, 0, 0, cest))}
	ns, err := consent.ReconcileWithdrawal(earlier, w, consent.Transfer{At: *w.WithdrawnAt, Successions: e.router})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]consent.Action{
		"municipality:0461":       consent.ActionNone,
		"region:1083":             consent.ActionNone,
		"municipality:0657":       consent.ActionNone,
		"police:midt_vestjylland": consent.ActionWithdraw,
	}
	got := map[string]consent.Action{}
	for _, n := range ns {
		got[n.Recipient] = n.Action
		checkNotice(t, n)
		if n.Action == consent.ActionWithdraw && (n.Because != consent.RecordWithdrawn || n.WithdrawalReason != record.ReasonRegisteredInError) {
			t.Errorf("%s: %+v", n.Recipient, n)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("actions (-want +got):\n%s", diff)
	}
	wantText := "police:midt_vestjylland gets a withdrawal notice and must delete record c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f " +
		"(version 2, held as police district): the record was withdrawn (registered in error)."
	for _, n := range ns {
		if n.Action == consent.ActionWithdraw && n.String() != wantText {
			t.Errorf("got  %s\nwant %s", n, wantText)
		}
	}
}

func TestReconcileRefusesBadInput(t *testing.T) {
	e := newEnv(t, refdata.Config{})
	v1 := example(t, "aarhus-resident-hurt-in-copenhagen")
	earlier := e.recorded(t, v1, "region:1084", june)
	other := example(t, "witness-who-refused-follow-up")
	v2 := v1.Clone()
	v2.Version = 2
	tr := consent.Transfer{At: june, Successions: e.router}
	for _, tc := range []struct {
		name string
		run  func() ([]consent.Notice, error)
	}{
		{"same version again", func() ([]consent.Notice, error) { return consent.Reconcile(earlier, v1, earlier, tr) }},
		{"earlier decisions of another record", func() ([]consent.Notice, error) { return consent.Reconcile(earlier, other, nil, tr) }},
		{"new decisions of the old version", func() ([]consent.Notice, error) { return consent.Reconcile(earlier, v2, earlier, tr) }},
		{"no record", func() ([]consent.Notice, error) { return consent.Reconcile(earlier, nil, nil, tr) }},
		{"no withdrawal", func() ([]consent.Notice, error) { return consent.ReconcileWithdrawal(earlier, nil, tr) }},
		{"withdrawal of another record", func() ([]consent.Notice, error) {
			return consent.ReconcileWithdrawal(earlier, &record.Withdrawal{RecordID: other.RecordID, Version: 1}, tr)
		}},
		{"no transfer time", func() ([]consent.Notice, error) {
			return consent.Reconcile(earlier, v2, nil, consent.Transfer{Successions: e.router})
		}},
		{"no successions", func() ([]consent.Notice, error) {
			return consent.ReconcileWithdrawal(earlier, &record.Withdrawal{RecordID: v1.RecordID, Version: 1}, consent.Transfer{At: june})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if ns, err := tc.run(); !errors.Is(err, consent.ErrInvalidInput) || ns != nil {
				t.Errorf("got %v, %v; want ErrInvalidInput", ns, err)
			}
		})
	}
}
