package pipeline_test

import (
	"strings"
	"testing"
	"time"

	"github.com/psykosocial/exchange/adapters"
	"github.com/psykosocial/exchange/certs"
	"github.com/psykosocial/exchange/internal/clock"
	"github.com/psykosocial/exchange/internal/envelope"
	"github.com/psykosocial/exchange/internal/journal"
	"github.com/psykosocial/exchange/internal/record"
	"github.com/psykosocial/exchange/internal/refdata"
)

// TestMergerThroughThePipeline drives the 2027 region merger through the
// service's work: a record Region Midtjylland sends on New Year's Eve
// reaches Region Hovedstaden (the incident region) and Region Sjælland (the
// residence region); withdrawn after midnight, the withdrawal notice goes
// to Region Østdanmark, which holds their records, the journal names the
// predecessors, and nothing goes to a dissolved region; the registrations
// that waited for the dissolved regions passed to Region Østdanmark.
func TestMergerThroughThePipeline(t *testing.T) {
	east := "region:" + refdata.TestEastRegionCode
	sender := "region:1082"
	for _, b := range []struct {
		name string
		open backendFunc
	}{{"sqlite", sqliteBackend}, {"postgres", postgresBackend}} {
		t.Run(b.name, func(t *testing.T) {
			// The development CRL lives 30 days from t0; only the merger is under test.
			e := newEnvWith(t, b.open, func(c *certs.Config) { c.RequireCRL = false })
			eve := time.Date(2026, 12, 31, 23, 0, 0, 0, clock.Danish())
			e.clock.Set(eve)
			rid := newUUID(t)
			doc := e.regionDoc(rid, 1, func(r *record.Record) {
				occurred, registered := eve.Add(-30*time.Minute), eve.Add(-10*time.Minute)
				r.Incident.OccurredAt, r.Incident.MunicipalityCode, r.Incident.RegionCode = &occurred, "0101", ""
				r.Registered.At, r.Registered.ByAuthority = &registered, sender
				r.Consent.Obtained.At, r.Consent.Obtained.By.Authority = &registered, sender
				r.Person.Address = &record.Address{Street: "Algade 1", PostalCode: "4000", City: "Roskilde", MunicipalityCode: "0265"}
				r.Consent.FollowUp.ExpiresAt = nil
			})
			res, err := e.submit(sender, e.sealJSON(sender, envelope.KindRegistration, doc, newUUID(t)))
			if err != nil {
				t.Fatal(err)
			}
			if res.Items[0].Status != "accepted" {
				t.Fatalf("the New Year's Eve registration: %+v", res.Items[0])
			}
			got := e.queued(rid)
			if got["region:1084"] == 0 || got["region:1085"] == 0 || got[east] != 0 {
				t.Fatalf("queued before midnight: %v, want region:1084 and region:1085", got)
			}

			// A week later the record is withdrawn.
			e.clock.Set(time.Date(2027, 1, 7, 12, 0, 0, 0, clock.Danish()))
			at := e.clock.Now().Add(-time.Minute).UTC()
			wd, err := e.region.Encode(&adapters.Message{Kind: adapters.KindWithdrawal, Withdrawal: &record.Withdrawal{
				Schema: record.WithdrawalSchemaV1, RecordID: rid, Version: 1, Reason: record.ReasonRegisteredInError, WithdrawnAt: &at}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.submit(sender, e.sealJSON(sender, envelope.KindWithdrawal, wd, newUUID(t))); err != nil {
				t.Fatal(err)
			}
			page, err := e.journal.Query(e.ctx, journal.Query{Filter: journal.Filter{RecordID: rid, Events: []journal.EventType{journal.EventWithdrawn}}, Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			var toEast int
			for _, r := range page.Results {
				switch r.Entry.Counterpart {
				case "region:1084", "region:1085":
					t.Errorf("a withdrawal notice goes to the dissolved %s", r.Entry.Counterpart)
				case east:
					toEast++
					if !strings.Contains(r.Entry.Reason, "received by region:1084 and region:1085, which ceased") {
						t.Errorf("the journal does not name the predecessors: %q", r.Entry.Reason)
					}
				}
			}
			if toEast != 1 {
				t.Fatalf("%d withdrawal notices to %s, want 1: %+v", toEast, east, page.Results)
			}
			// Region Østdanmark pulls it from its own mailbox, after the two
			// registrations that waited for the ceased regions and passed to
			// it (in queueing order).
			rs := e.pull(east, 0)
			var kinds []string
			for _, r := range rs {
				if r.d.RecordID != rid {
					t.Fatalf("%s gets record %s", east, r.d.RecordID)
				}
				kinds = append(kinds, r.d.Kind)
			}
			if want := []string{"registration", "registration", "withdrawal"}; strings.Join(kinds, " ") != strings.Join(want, " ") {
				t.Fatalf("%s's mailbox: %v, want %v", east, kinds, want)
			}
			for _, r := range rs {
				if err := e.p.Ack(e.ctx, east, r.d.MailboxID, e.receipt(east, r)); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}
