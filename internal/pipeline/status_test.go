package pipeline_test

import (
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/psykosocial/exchange/adapters"
	"github.com/psykosocial/exchange/internal/envelope"
	"github.com/psykosocial/exchange/internal/fault"
	"github.com/psykosocial/exchange/internal/pipeline"
	"github.com/psykosocial/exchange/internal/record"
	"github.com/psykosocial/exchange/internal/store"
)

// TestStatusThroughCorrectionAndWithdrawal follows a record through its
// first delivery, a correction and a withdrawal, and reads its status for
// the owner after each step; another authority, a recipient included,
// gets the unknown-record fault of a record that does not exist.
func TestStatusThroughCorrectionAndWithdrawal(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		rid := newUUID(t)
		if _, err := e.submit(regionSender, e.sealJSON(regionSender, envelope.KindRegistration, e.regionDoc(rid, 1, nil), newUUID(t))); err != nil {
			t.Fatal(err)
		}
		status := func() pipeline.RecordStatus {
			t.Helper()
			st, err := e.p.Status(e.ctx, regionSender, rid)
			if err != nil {
				t.Fatal(err)
			}
			if st.RecordID != rid || st.Owner != regionSender {
				t.Fatalf("status %+v", st)
			}
			return st
		}
		first := e.queued(rid)
		st := status()
		if len(st.Versions) != 1 {
			t.Fatalf("versions %+v", st.Versions)
		}
		// A recipient may be queued for one purpose and withheld for another.
		queued := map[string]bool{}
		for _, r := range st.Versions[0].Recipients {
			switch r.State {
			case pipeline.StateQueued:
				queued[r.Recipient] = true
			case pipeline.StateWithheld:
				if r.Withheld == nil || r.Withheld.Explanation.EN == "" || r.Withheld.Explanation.DA == "" || r.MailboxID != "" {
					t.Errorf("withheld without its reason in words: %+v", r)
				}
			default:
				t.Errorf("before the acks: %+v", r)
			}
		}
		if len(queued) != len(first) {
			t.Errorf("queued for %v, want %v", queued, first)
		}
		ack := func(kind envelope.Kind, version int) map[string]string {
			t.Helper()
			digests := map[string]string{}
			for to := range first {
				rs := e.pull(to, 0)
				if len(rs) != 1 || rs[0].d.Version != version || rs[0].d.Kind != string(kind) {
					t.Fatalf("%s: %+v", to, rs)
				}
				if err := e.p.Ack(e.ctx, to, rs[0].d.MailboxID, e.receipt(to, rs[0])); err != nil {
					t.Fatal(err)
				}
				digests[to] = hex.EncodeToString(rs[0].opened.Digest[:])
			}
			return digests
		}
		delivered := func(r pipeline.RecipientStatus, state pipeline.RecipientState, digest string) {
			t.Helper()
			if r.State != state || r.DeliveredAt == nil || r.QueuedAt == nil || r.MailboxID == "" || r.ReceiptDigest != digest {
				t.Errorf("want %s with receipt %s: %+v", state, digest, r)
			}
		}
		d1 := ack(envelope.KindRegistration, 1)

		// Version 2 corrects the phone number: a correction to every earlier recipient.
		e.clock.Advance(time.Minute)
		v2 := e.regionDoc(rid, 2, func(r *record.Record) { r.Person.Phone = "+4528417734" })
		if _, err := e.submit(regionSender, e.sealJSON(regionSender, envelope.KindRegistration, v2, newUUID(t))); err != nil {
			t.Fatal(err)
		}
		st = status()
		if len(st.Versions) != 2 || st.Versions[0].Version != 1 || st.Versions[1].Version != 2 {
			t.Fatalf("versions %+v", st.Versions)
		}
		for _, r := range st.Versions[0].Recipients {
			if r.State != pipeline.StateWithheld {
				delivered(r, pipeline.StateDelivered, d1[r.Recipient])
			}
		}
		for _, r := range st.Versions[1].Recipients {
			if r.State != pipeline.StateWithheld && (r.State != pipeline.StateQueued || !r.Correction) {
				t.Errorf("the correction before its ack: %+v", r)
			}
		}
		d2 := ack(envelope.KindRegistration, 2)

		// The withdrawal: a notice to every recipient, withdrawn once acknowledged.
		at := e.clock.Now().Add(-time.Second).UTC()
		wd, err := e.region.Encode(&adapters.Message{Kind: adapters.KindWithdrawal, Withdrawal: &record.Withdrawal{
			Schema: record.WithdrawalSchemaV1, RecordID: rid, Version: 2, Reason: record.ReasonRegisteredInError, WithdrawnAt: &at}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.submit(regionSender, e.sealJSON(regionSender, envelope.KindWithdrawal, wd, newUUID(t))); err != nil {
			t.Fatal(err)
		}
		d3 := ack(envelope.KindWithdrawal, 2)
		st = status()
		if len(st.Versions) != 2 {
			t.Fatalf("versions %+v", st.Versions)
		}
		withdrawn := map[string]bool{}
		for _, r := range st.Versions[1].Recipients {
			switch {
			case r.State == pipeline.StateWithdrawn:
				withdrawn[r.Recipient] = true
				delivered(r, pipeline.StateWithdrawn, d3[r.Recipient])
			case r.State != pipeline.StateWithheld:
				delivered(r, pipeline.StateDelivered, d2[r.Recipient])
				if !r.Correction {
					t.Errorf("not marked a correction: %+v", r)
				}
			}
		}
		if len(withdrawn) != len(first) {
			t.Errorf("withdrawn %v, want %v", withdrawn, first)
		}

		for _, other := range []string{"region:1081", "municipality:0751", ""} {
			if _, err := e.p.Status(e.ctx, other, rid); !errors.Is(err, fault.ErrNotFound) {
				t.Errorf("%q: %v", other, err)
			}
		}
		if _, err := e.p.Status(e.ctx, regionSender, newUUID(t)); !errors.Is(err, fault.ErrNotFound) {
			t.Errorf("an unknown record: %v", err)
		}
	})
}

// TestStatusAfterPurge: retention purges the views (after the ack, or
// undelivered), then the record's body; the status says purged for each
// recipient, keeps the acknowledgement of those that had acknowledged,
// marks the version's body purged, and still answers only the owner. A
// withdrawal of the purged record still reaches its holders, its
// provenance naming the original message by digest.
func TestStatusAfterPurge(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		// Short retention, so that the development PKI's certificates and
		// CRLs are still valid for the withdrawal at the end.
		const day = 24 * time.Hour
		retention := store.Retention{Delivered: day, Undelivered: 3 * day, Records: 5 * day}
		rid := newUUID(t)
		first := newUUID(t)
		if _, err := e.submit(regionSender, e.sealJSON(regionSender, envelope.KindRegistration, e.regionDoc(rid, 1, nil), first)); err != nil {
			t.Fatal(err)
		}
		holders := e.queued(rid)
		if len(holders) < 2 {
			t.Fatalf("queued for %v, want two recipients at least", holders)
		}
		// Every recipient but one acknowledges.
		var late string
		digests := map[string]string{}
		for to := range holders {
			if late == "" {
				late = to
				continue
			}
			rs := e.pull(to, 0)
			if len(rs) != 1 {
				t.Fatalf("%s: %+v", to, rs)
			}
			if err := e.p.Ack(e.ctx, to, rs[0].d.MailboxID, e.receipt(to, rs[0])); err != nil {
				t.Fatal(err)
			}
			digests[to] = hex.EncodeToString(rs[0].opened.Digest[:])
		}
		status := func() pipeline.VersionStatus {
			t.Helper()
			st, err := e.p.Status(e.ctx, regionSender, rid)
			if err != nil {
				t.Fatal(err)
			}
			if st.Owner != regionSender || len(st.Versions) != 1 {
				t.Fatalf("status %+v", st)
			}
			return st.Versions[0]
		}
		purge := func(want store.PurgeReport) {
			t.Helper()
			rep, err := e.store.Purge(e.ctx, retention)
			if err != nil {
				t.Fatal(err)
			}
			rep.Deliveries, rep.JournalEntries = 0, 0
			if rep != want {
				t.Fatalf("purge %+v, want %+v", rep, want)
			}
		}

		e.clock.Advance(day)
		purge(store.PurgeReport{Delivered: len(holders) - 1})
		for _, r := range status().Recipients {
			switch {
			case r.State == pipeline.StateWithheld:
			case r.Recipient == late:
				if r.State != pipeline.StateQueued || r.PurgedAt != nil {
					t.Errorf("the recipient that has not acknowledged: %+v", r)
				}
			case r.State != pipeline.StatePurged || r.PurgedAt == nil || r.DeliveredAt == nil || r.ReceiptDigest != digests[r.Recipient]:
				t.Errorf("purged after its acknowledgement: %+v", r)
			}
		}

		e.clock.Advance(2 * day)
		purge(store.PurgeReport{Undelivered: 1})
		for _, r := range status().Recipients {
			if r.Recipient == late && r.State != pipeline.StateWithheld && (r.State != pipeline.StatePurged || r.PurgedAt == nil || r.DeliveredAt != nil) {
				t.Errorf("purged undelivered: %+v", r)
			}
		}

		e.clock.Advance(2 * day)
		purge(store.PurgeReport{Records: 1, Messages: 1})
		if v := status(); v.PurgedAt == nil || v.MessageID != first {
			t.Errorf("the version after its body was purged: %+v", v)
		}
		if _, err := e.p.Status(e.ctx, "region:1081", rid); !errors.Is(err, fault.ErrNotFound) {
			t.Errorf("another authority after the purge: %v", err)
		}

		// The region withdraws the purged record: every holder gets the notice.
		at := e.clock.Now().Add(-time.Second).UTC()
		wd, err := e.region.Encode(&adapters.Message{Kind: adapters.KindWithdrawal, Withdrawal: &record.Withdrawal{
			Schema: record.WithdrawalSchemaV1, RecordID: rid, Version: 1, Reason: record.ReasonConsentWithdrawn, WithdrawnAt: &at}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.submit(regionSender, e.sealJSON(regionSender, envelope.KindWithdrawal, wd, newUUID(t))); err != nil {
			t.Fatalf("withdrawal of a purged record: %v", err)
		}
		for to := range holders {
			rs := e.pull(to, 0)
			if len(rs) != 1 || rs[0].d.Kind != string(envelope.KindWithdrawal) {
				t.Fatalf("%s: %+v", to, rs)
			}
			if p := rs[0].opened.Header.Provenance; p == nil || p.ID != first || p.Issuer != regionSender || p.Digest == (envelope.Digest{}) {
				t.Errorf("%s: provenance %+v, want the original message by its digest", to, p)
			}
		}
	})
}
