package gateway

import (
	"strings"
	"testing"
	"time"

	"github.com/psykosocial/exchange/certs"
	"github.com/psykosocial/exchange/internal/clock"
	"github.com/psykosocial/exchange/internal/directory"
	"github.com/psykosocial/exchange/internal/envelope"
	"github.com/psykosocial/exchange/internal/journal"
	"github.com/psykosocial/exchange/internal/pipeline"
	"github.com/psykosocial/exchange/internal/record"
)

// TestCeasedSenderOverHTTP: Region Hovedstaden, which ceased at midnight,
// over mutual TLS with its own certificates (Region Østdanmark's code is
// not configured here). Ten minutes after midnight a record it registered
// before midnight is accepted (202), journaled as sent by a ceased
// authority in its grace period; its mailbox is refused naming its
// successor. After the grace period its TLS certificate no longer acts
// for it: the answer is 403 ceased-authority naming it and its successor,
// not a bare 401.
func TestCeasedSenderOverHTTP(t *testing.T) {
	// The development CRL lives 30 days; only the merger is under test.
	h := startWith(t, options{trust: func(c *certs.Config) { c.RequireCRL = false }})
	merger := time.Date(2027, 1, 1, 0, 0, 0, 0, clock.Danish())
	h.clock.Set(merger.Add(10 * time.Minute))
	registered := merger.Add(-10 * time.Minute)
	doc := func(rid string) []byte {
		return h.regionDoc(rid, func(r *record.Record) {
			occurred := registered.Add(-20 * time.Minute)
			r.Incident.OccurredAt, r.Registered.At, r.Consent.Obtained.At = &occurred, &registered, &registered
			r.Consent.FollowUp.ExpiresAt = nil
		})
	}
	rid := newUUID(t)
	res := submitted(t, h.submit(regionSender, h.sealJSON(regionSender, envelope.KindRegistration, doc(rid), newUUID(t))), 202)
	if len(res.Items) != 1 || res.Items[0].Status != pipeline.ItemAccepted {
		t.Fatalf("a record registered before midnight, sent after: %+v", res.Items)
	}
	page, err := h.journal.Query(h.ctx, journal.Query{Filter: journal.Filter{RecordID: rid, Events: []journal.EventType{journal.EventReceived}}, Limit: 10})
	must(t, err)
	if len(page.Results) != 1 || page.Results[0].Entry.Actor != regionSender ||
		page.Results[0].Entry.Reason != "sent by a ceased authority within its grace period; its successor is not configured" {
		t.Fatalf("received entries: %+v", page.Results)
	}
	p := problem(t, h.do(h.as(regionSender), "GET", "/v1/mailbox", "", nil), 403, "ceased-authority")
	if !strings.Contains(p.Detail, regionSender+" ceased at 2027-01-01 00:00 CET") || !strings.Contains(p.Detail, "successor Region Østdanmark") {
		t.Fatalf("the ceased region's pull: %+v", p)
	}

	h.clock.Set(merger.Add(directory.DefaultCeasedGrace))
	p = problem(t, h.submit(regionSender, h.sealJSON(regionSender, envelope.KindRegistration, doc(newUUID(t)), newUUID(t))), 403, "ceased-authority")
	if !strings.Contains(p.Detail, regionSender+" ceased at 2027-01-01 00:00 CET") || !strings.Contains(p.Detail, "successor Region Østdanmark holds its records") {
		t.Fatalf("after the grace period: %+v", p)
	}
	// The certificate acts for no one now: the refusal is counted as unauthenticated.
	if n := h.rejected("unauthenticated", "ceased-authority"); n != 1 {
		t.Fatalf("gateway_records_rejected_total{sender_kind=unauthenticated,reason=ceased-authority} = %v, want 1", n)
	}
}
