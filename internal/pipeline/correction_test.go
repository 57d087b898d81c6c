package pipeline_test

import (
	"errors"
	"testing"
	"time"

	"github.com/psykosocial/exchange/adapters"
	"github.com/psykosocial/exchange/internal/envelope"
	"github.com/psykosocial/exchange/internal/fault"
	"github.com/psykosocial/exchange/internal/pipeline"
	"github.com/psykosocial/exchange/internal/record"
)

func TestCorrectionAndWithdrawal(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		rid := newUUID(t)
		if _, err := e.submit(regionSender, e.sealJSON(regionSender, envelope.KindRegistration, e.regionDoc(rid, 1, nil), newUUID(t))); err != nil {
			t.Fatal(err)
		}
		first := e.queued(rid)
		for to := range first {
			for _, r := range e.pull(to, 0) {
				if err := e.p.Ack(e.ctx, to, r.d.MailboxID, e.receipt(to, r)); err != nil {
					t.Fatal(err)
				}
			}
		}
		// Version 2 corrects the phone number: every earlier recipient gets it.
		e.clock.Advance(time.Minute)
		v2 := e.regionDoc(rid, 2, func(r *record.Record) { r.Person.Phone = "+4528417734" })
		res, err := e.submit(regionSender, e.sealJSON(regionSender, envelope.KindRegistration, v2, newUUID(t)))
		if err != nil {
			t.Fatal(err)
		}
		if res.Items[0].Status != pipeline.ItemAccepted {
			t.Fatalf("correction: %+v", res.Items[0])
		}
		for to := range first {
			rs := e.pull(to, 0)
			if len(rs) != 1 || rs[0].d.Version != 2 || rs[0].d.Kind != string(envelope.KindRegistration) {
				t.Fatalf("%s after the correction: %+v", to, rs)
			}
			if err := e.p.Ack(e.ctx, to, rs[0].d.MailboxID, e.receipt(to, rs[0])); err != nil {
				t.Fatal(err)
			}
		}
		// Another authority may not correct or withdraw it.
		if _, err := e.submit("region:1081", e.sealJSON("region:1081", envelope.KindRegistration,
			e.regionDoc(rid, 3, func(r *record.Record) {
				r.Registered.ByAuthority = "region:1081"
				r.Consent.Obtained.By.Authority = "region:1081"
			}), newUUID(t))); !errors.Is(err, fault.ErrConflict) {
			t.Errorf("another authority's correction: %v", err)
		}
		// The withdrawal reaches every earlier recipient as a withdrawal notice.
		at := e.clock.Now().Add(-time.Second).UTC()
		wd, err := e.region.Encode(&adapters.Message{Kind: adapters.KindWithdrawal, Withdrawal: &record.Withdrawal{
			Schema: record.WithdrawalSchemaV1, RecordID: rid, Version: 2, Reason: record.ReasonRegisteredInError, WithdrawnAt: &at}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.submit(regionSender, e.sealJSON(regionSender, envelope.KindWithdrawal, wd, newUUID(t))); err != nil {
			t.Fatal(err)
		}
		for to := range first {
			rs := e.pull(to, 0)
			if len(rs) != 1 || rs[0].d.Kind != string(envelope.KindWithdrawal) || rs[0].opened.Header.Kind != envelope.KindWithdrawal {
				t.Fatalf("%s after the withdrawal: %+v", to, rs)
			}
			if err := e.p.Ack(e.ctx, to, rs[0].d.MailboxID, e.receipt(to, rs[0])); err != nil {
				t.Fatal(err)
			}
		}
		// A withdrawal of a record that is not stored is refused.
		wd2, _ := e.region.Encode(&adapters.Message{Kind: adapters.KindWithdrawal, Withdrawal: &record.Withdrawal{
			Schema: record.WithdrawalSchemaV1, RecordID: newUUID(t), Version: 1, Reason: record.ReasonRegisteredInError, WithdrawnAt: &at}})
		if _, err := e.submit(regionSender, e.sealJSON(regionSender, envelope.KindWithdrawal, wd2, newUUID(t))); !errors.Is(err, fault.ErrNotFound) {
			t.Errorf("withdrawal of an unknown record: %v", err)
		}
	})
}
