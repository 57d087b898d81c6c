package main

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/psykosocial/exchange/gateway/client"
	"github.com/psykosocial/exchange/internal/clock"
	"github.com/psykosocial/exchange/internal/record"
)

// TestDemoAgainstServeDev runs the demo against serve --dev in this process:
// the records reach the right mailboxes, every mailbox is emptied by acks,
// and the journal verifies offline.
func TestDemoAgainstServeDev(t *testing.T) {
	if testing.Short() {
		t.Skip("creates a development PKI and waits for a journal checkpoint")
	}
	data := t.TempDir()
	s := startDev(t, data)
	out := &syncBuffer{}
	e := &env{stdin: strings.NewReader(""), stdout: out, stderr: out, clock: clock.System()}
	rep, err := demo(context.Background(), e, s.base, data, storeSettings{Driver: "sqlite"})
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	sc := rep.scenario
	has := func(authority, recordID string, version int, kind string) bool {
		return slices.ContainsFunc(rep.received[authority], func(r demoReceived) bool {
			return r.recordID == recordID && r.version == version && r.kind == kind
		})
	}
	holders := func(recordID string) []string {
		var out []string
		for a, rs := range rep.received {
			if slices.ContainsFunc(rs, func(r demoReceived) bool { return r.recordID == recordID }) {
				out = append(out, a)
			}
		}
		return out
	}
	for i, p := range sc.epc {
		rec := p.rec
		if it := rep.items[rec.RecordID]; it.Status != client.ItemAccepted {
			t.Errorf("EPC person %d: %+v", i, it)
		}
		switch {
		case rec.Consent.Registration == record.RegistrationRefused:
			if h := holders(rec.RecordID); len(h) > 0 {
				t.Errorf("EPC person %d refused registration, and %v received it", i, h)
			}
		case rec.Person.Address != nil && rec.Person.Address.MunicipalityCode != "" && rec.Consent.FollowUp.IsGranted():
			if to := "municipality:" + rec.Person.Address.MunicipalityCode; !has(to, rec.RecordID, 1, "registration") {
				t.Errorf("EPC person %d (%s): the residence municipality %s did not receive it", i, p.label, to)
			}
		}
		// Health notes travel only to a region, and only with psychiatric consent.
		for a, rs := range rep.received {
			for _, r := range rs {
				if r.recordID == rec.RecordID && slices.Contains(r.groups, "notes (health data)") {
					g, _ := rec.Consent.FollowUp.GrantFor(record.RecipientResidenceRegion)
					if !strings.HasPrefix(a, "region:") || !slices.Contains(g.Purposes, record.PurposePsychiatricFollowUp) {
						t.Errorf("EPC person %d: %s received the notes", i, a)
					}
				}
			}
		}
	}
	// The police never see contact details; the police list's persons reach the police district's own incident authorities.
	for _, r := range rep.received[demoPolice] {
		if slices.Contains(r.groups, "contact") || slices.Contains(r.groups, "address") {
			t.Errorf("the police received %v of %s", r.groups, r.recordID)
		}
	}
	for i, p := range sc.police {
		it := rep.items[p.rec.RecordID]
		if i == sc.badPolice {
			if !slices.Equal(rep.rejected[demoPolice], []int{i}) {
				t.Errorf("the police's rejected persons: %v, want [%d]", rep.rejected[demoPolice], i)
			}
			continue
		}
		if it.Status != client.ItemAccepted || !has("municipality:"+demoIncidentMunicipality, p.rec.RecordID, 1, "registration") {
			t.Errorf("police person %d: %+v, not at the incident municipality", i, it)
		}
	}
	for i, p := range sc.crisis {
		if it := rep.items[p.rec.RecordID]; it.Status != client.ItemAccepted {
			t.Errorf("crisis team person %d: %+v", i, it)
		}
	}
	// The correction reaches every earlier holder; so does the withdrawal.
	for _, c := range []struct {
		id      string
		version int
		kind    string
	}{{rep.corrected, 2, "registration"}, {rep.withdrawn, 1, "withdrawal"}} {
		hs := holders(c.id)
		if len(hs) == 0 {
			t.Errorf("nobody held %s", c.id)
		}
		for _, a := range hs {
			if !has(a, c.id, c.version, c.kind) {
				t.Errorf("%s held %s but got no %s of version %d", a, c.id, c.kind, c.version)
			}
		}
	}
	if rep.leftOver != 0 {
		t.Errorf("%d messages left in the mailboxes", rep.leftOver)
	}
	if rep.journal == nil || rep.journal.Entries == 0 {
		t.Fatalf("the journal was not verified")
	}
	for _, want := range []string{"signed receipt verified", "WITHHELD, AND WHY", "registration_refused", "JOURNAL VERIFIED OFFLINE", "0 messages left"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the summary lacks %q:\n%s", want, out)
		}
	}
	// The logs name no person.
	logs := s.stderr.String()
	for _, ps := range [][]demoPerson{sc.epc, sc.police, sc.crisis} {
		for _, p := range ps {
			if p.rec.Person != nil && (p.rec.Person.CPR != "" && strings.Contains(logs, p.rec.Person.CPR) || strings.Contains(logs, p.rec.Person.Name)) {
				t.Fatalf("the gateway's log names a person of the demo")
			}
		}
	}
	t.Log(out.String())
}
