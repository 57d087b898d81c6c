package storetest

import (
	"context"
	"crypto/sha256"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/psykosocial/exchange/internal/journal"
	"github.com/psykosocial/exchange/internal/store"
)

// east is the recipient a gap waits for (Region Østdanmark's test code).
const east = "region:1099"

// rerouteOf is the reroute of a record version to east for roles.
func rerouteOf(recordID string, version int, mailboxID string, roles ...string) *store.Reroute {
	v := View(0, east)
	r := &store.Reroute{RecordID: recordID, Version: version, Roles: roles}
	if mailboxID != "" {
		r.Deliveries = []store.Delivery{{ID: mailboxID, Recipient: east, View: v}}
	}
	r.Journal = []journal.Entry{{Event: journal.EventQueued, Actor: "gateway", Counterpart: east, RecordID: recordID,
		RecordVersion: version, MessageID: mailboxID, PayloadDigest: sha256.Sum256(v), Outcome: journal.OutcomeOK, Reason: "rerouted"}}
	return r
}

// openGaps lists every open gap as "record/version/role".
func openGaps(t testing.TB, e *Env) []string {
	t.Helper()
	gs, err := e.Store.OpenGaps(context.Background(), store.Gap{}, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, g := range gs {
		out = append(out, g.RecordID+"/"+string(rune('0'+g.Version))+"/"+g.Role)
	}
	return out
}

// CheckGaps: the recipient roles a record version could not reach (its
// recipient not configured) are kept as open gaps with the record; a
// reroute closes them, queues the new mailbox messages and journals in
// one transaction, exactly once however often and by however many
// replicas it is tried; a later version or a withdrawal closes a record's
// gaps, so that it is never routed again.
func CheckGaps(t *testing.T, newDB NewDB) {
	ctx := context.Background()
	e := NewEnv(t, newDB(t), nil)
	in := Intake(region, "m1", exp, []string{"r1", "r2"}, muniA)
	in.Records[0].Gaps = []string{"residence_region"}
	in.Records[1].Gaps = []string{"incident_region", "residence_region"}
	e.MustCommit(t, in)
	want := []string{"r1/1/residence_region", "r2/1/incident_region", "r2/1/residence_region"}
	if got := openGaps(t, e); !equal(got, want) {
		t.Fatalf("open gaps %v, want %v", got, want)
	}
	gs, err := e.Store.OpenGaps(ctx, store.Gap{RecordID: "r1", Version: 1, Role: "residence_region"}, 1)
	if err != nil || len(gs) != 1 || gs[0] != (store.Gap{RecordID: "r2", Version: 1, Role: "incident_region", NotedAt: T0}) {
		t.Fatalf("OpenGaps after r1 = %+v, %v", gs, err)
	}

	// Routed again once: the mailbox message and the entry commit with
	// the closing of the gap.
	e.Clock.Advance(time.Minute)
	size := e.JournalSize(t)
	if err := e.Store.Reroute(ctx, rerouteOf("r1", 1, "mb-east-r1", "residence_region")); err != nil {
		t.Fatal(err)
	}
	if got := e.JournalSize(t); got != size+1 {
		t.Fatalf("journal %d entries after the reroute, want %d", got, size+1)
	}
	if err := e.Store.Reroute(ctx, rerouteOf("r1", 1, "mb-east-r1-again", "residence_region")); !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("the second reroute: %v, want ErrDuplicate", err)
	}
	if got := e.JournalSize(t); got != size+1 {
		t.Fatalf("the refused reroute journaled: %d entries, want %d", got, size+1)
	}
	res := pull(t, e, east, 10, time.Minute)
	if len(res.Messages) != 1 || res.Messages[0].ID != "mb-east-r1" || res.Messages[0].RecordID != "r1" {
		t.Fatalf("east's mailbox: %+v", res.Messages)
	}

	// Two replicas route r2 again at once: one does it, the other finds
	// the gap closed, and nothing of its attempt is written.
	other := e.Replica(t, nil)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, s := range []*store.Store{e.Store, other.Store} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.Reroute(ctx, rerouteOf("r2", 1, "mb-east-r2-"+string(rune('a'+i)), "incident_region", "residence_region"))
		}()
	}
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) || !errors.Is(errors.Join(errs...), store.ErrDuplicate) {
		t.Fatalf("concurrent reroutes: %v, %v; want one done and one ErrDuplicate", errs[0], errs[1])
	}
	e.Clock.Advance(2 * time.Minute)
	if res := pull(t, e, east, 10, time.Minute); len(res.Messages) != 2 {
		t.Fatalf("east's mailbox after the concurrent reroutes: %v, want r1 (lease ended) and one r2", ids(res.Messages))
	}
	if got := openGaps(t, e); len(got) != 0 {
		t.Fatalf("open gaps %v after rerouting all", got)
	}

	// A later version closes the earlier version's gaps; a withdrawal
	// closes every gap of the record.
	in = Intake(region, "m3", exp, []string{"r3", "r4"}, muniA)
	in.Records[0].Gaps = []string{"residence_region"}
	in.Records[1].Gaps = []string{"residence_region"}
	e.MustCommit(t, in)
	v2 := Intake(region, "m4", exp, []string{"r3"}, muniA)
	v2.Records[0].Version, v2.Records[0].Body = 2, Body(0, "corrected")
	e.MustCommit(t, v2)
	wd := Intake(region, "m5", exp, nil)
	wd.Withdrawals = []store.Withdrawal{{RecordID: "r4", Version: 1, Journal: []journal.Entry{{Event: journal.EventReceived,
		Actor: region, Counterpart: "gateway", RecordID: "r4", RecordVersion: 1, MessageID: "m5", Outcome: journal.OutcomeOK}}}}
	e.MustCommit(t, wd)
	if got := openGaps(t, e); len(got) != 0 {
		t.Fatalf("open gaps %v after a correction and a withdrawal", got)
	}
	for _, r := range []*store.Reroute{rerouteOf("r3", 1, "mb-east-r3", "residence_region"), rerouteOf("r4", 1, "mb-east-r4", "residence_region")} {
		if err := e.Store.Reroute(ctx, r); !errors.Is(err, store.ErrDuplicate) {
			t.Fatalf("reroute of superseded or withdrawn %s: %v, want ErrDuplicate", r.RecordID, err)
		}
	}

	// Bad input is refused naming the field; an unknown record is not found.
	for _, c := range []struct {
		r     *store.Reroute
		field string
	}{
		{&store.Reroute{RecordID: "r1", Version: 1, Journal: rerouteOf("r1", 1, "x").Journal}, "roles"},
		{&store.Reroute{RecordID: "r1", Version: 1, Roles: []string{"residence_region"}}, "journal"},
		{&store.Reroute{RecordID: "", Version: 1, Roles: []string{"residence_region"}}, "record_id"},
	} {
		var ie *store.InputError
		if err := e.Store.Reroute(ctx, c.r); !errors.As(err, &ie) || ie.Field != c.field || !errors.Is(err, store.ErrInvalid) {
			t.Fatalf("Reroute(%+v) = %v, want an input error naming %s", c.r, err, c.field)
		}
	}
	if err := e.Store.Reroute(ctx, rerouteOf("r9", 1, "mb-east-r9", "residence_region")); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("reroute of a record not stored: %v, want ErrNotFound", err)
	}
	bad := Intake(region, "m6", exp, []string{"r6"}, muniA)
	bad.Records[0].Gaps = []string{"residence_region", "residence_region"}
	if outs := e.Commit(t, bad); !errors.Is(outs[0].Err, store.ErrInvalid) {
		t.Fatalf("a role twice among a record's gaps: %v, want ErrInvalid", outs[0].Err)
	}
	e.VerifyJournal(t)
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
