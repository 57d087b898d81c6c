package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/psykosocial/exchange/internal/clock"
	"github.com/psykosocial/exchange/internal/journal"
	"github.com/psykosocial/exchange/internal/store"
	"github.com/psykosocial/exchange/internal/testenv/storetest"
)

// TestAdminParkedAndRequeue: in a --dev data directory whose mailbox
// messages were delivered too often without ack, "admin parked" lists
// them (ids, recipient, record, deliveries, when; no person) and "admin
// requeue" puts them back, all or none, each journaled; the journal
// exports and verifies with the requeued entries in it.
func TestAdminParkedAndRequeue(t *testing.T) {
	if testing.Short() {
		t.Skip("creates a development PKI")
	}
	ctx := context.Background()
	data := t.TempDir()
	clk := clock.NewFake(testNow)
	if code, _, errs := runCmdAt(t, clk, "", "admin", "parked", "-data", data); code != exitFailure || !strings.Contains(errs, "no database") {
		t.Fatalf("parked without a database: %d %s", code, errs)
	}
	for _, args := range [][]string{{"-config", "x.json", "-store", "postgres"}, {"-config", "x.json", "-data", data}} {
		if code, _, errs := runCmdAt(t, clk, "", append([]string{"admin", "parked"}, args...)...); code == exitOK || !strings.Contains(errs, "not both") {
			t.Errorf("parked %v: %d %s", args, code, errs)
		}
	}
	if code, _, errs := runCmdAt(t, clk, "", "admin", "parked", "-data", data, "-store", "postgres"); code == exitOK || !strings.Contains(errs, "GATEWAY_POSTGRES_URL") {
		t.Errorf("parked -store postgres without the URL: %d %s", code, errs)
	}
	if code, _, errs := runCmdAt(t, clk, "", "certs", "init", "-data", data); code != exitOK {
		t.Fatalf("certs init: %s", errs)
	}

	// A gateway's store in the data directory, its messages parked.
	c := serveConfig{DataDir: data}.withDefaults()
	ops, err := openOperatorStore(ctx, &env{stderr: &bytes.Buffer{}, clock: clk}, c)
	if err != nil {
		t.Fatal(err)
	}
	const muni, other = "municipality:0851", "municipality:0101"
	exp := testNow.Add(time.Hour)
	for _, in := range []*store.Intake{
		storetest.Intake("region:1081", "m1", exp, []string{"rec-1", "rec-2"}, muni),
		storetest.Intake("region:1081", "m2", exp, []string{"rec-3"}, other),
	} {
		if outs, err := ops.store.Commit(ctx, in); err != nil || outs[0].Err != nil {
			t.Fatalf("commit: %v %v", err, outs)
		}
	}
	for range 11 { // the default MaxDeliveries is 10
		if _, err := ops.store.Pull(ctx, muni, 10, time.Minute, storetest.Deliver); err != nil {
			t.Fatal(err)
		}
		clk.Advance(2 * time.Minute)
	}
	vkey := ops.journal.VerifierKey()
	if err := ops.close(); err != nil {
		t.Fatal(err)
	}
	ids := []string{"mb-m1-rec-1-" + muni, "mb-m1-rec-2-" + muni}

	code, out, errs := runCmdAt(t, clk, "", "admin", "parked", "-data", data)
	if code != exitOK || !strings.Contains(errs, "2 parked mailbox messages") {
		t.Fatalf("parked: %d\n%s%s", code, out, errs)
	}
	for _, want := range append(ids, "MAILBOX ID", muni, "rec-1", "rec-2", "10", testNow.Format(time.RFC3339)) {
		if !strings.Contains(out, want) {
			t.Errorf("the listing lacks %q:\n%s", want, out)
		}
	}
	for _, p := range storetest.People {
		if strings.Contains(out+errs, p.CPR) || strings.Contains(out+errs, p.Name) {
			t.Errorf("the listing names a person:\n%s", out)
		}
	}
	if strings.Contains(out, other) {
		t.Errorf("a message that is not parked is listed:\n%s", out)
	}
	code, out, _ = runCmdAt(t, clk, "", "admin", "parked", "-data", data, "-json", "-max", "1")
	var line parkedLine
	if err := json.Unmarshal([]byte(out), &line); code != exitOK || err != nil || line.MailboxID != ids[0] || line.Deliveries != 10 || line.Recipient != muni ||
		!line.QueuedAt.Equal(testNow) || !line.ParkedAt.After(testNow) {
		t.Fatalf("parked -json -max 1: %d %v\n%s", code, err, out)
	}

	// All or none: an id that is not parked requeues nothing.
	if code, _, errs := runCmdAt(t, clk, "", "admin", "requeue", "-data", data, ids[0], "mb-m2-rec-3-"+other); code != exitProblems || !strings.Contains(errs, "not a parked mailbox message") {
		t.Fatalf("requeue of a queued message: %d %s", code, errs)
	}
	for _, args := range [][]string{{"admin", "requeue", "-data", data}, {"admin", "requeue", "-data", data, "-config", "x.json", ids[0]}, {"admin"}, {"admin", "park"}} {
		if code, _, _ := runCmdAt(t, clk, "", args...); code != exitUsage && code != exitFailure {
			t.Errorf("%v: code %d", args, code)
		}
	}
	code, out, errs = runCmdAt(t, clk, "", append([]string{"admin", "requeue", "-data", data}, ids...)...)
	if code != exitOK || strings.Count(out, "requeued mb-") != 2 || !strings.Contains(out, "after 10 deliveries") {
		t.Fatalf("requeue: %d\n%s%s", code, out, errs)
	}
	if code, out, errs := runCmdAt(t, clk, "", "admin", "parked", "-data", data); code != exitOK || out != "" || !strings.Contains(errs, "0 parked") {
		t.Fatalf("parked after the requeue: %d\n%s%s", code, out, errs)
	}
	if code, _, _ := runCmdAt(t, clk, "", "admin", "requeue", "-data", data, ids[0]); code != exitProblems {
		t.Fatalf("a second requeue: %d", code)
	}

	// The journal holds the requeues and verifies.
	export := filepath.Join(t.TempDir(), "export.jsonl")
	if code, _, errs := runCmdAt(t, clk, "", "audit", "export", "-sqlite", c.Store.SQLitePath, "-o", export, "-event", string(journal.EventRequeued)); code != exitOK || !strings.Contains(errs, "exported 2 entries") {
		t.Fatalf("export of the requeues: %d %s", code, errs)
	}
	if code, out, errs := runCmdAt(t, clk, "", "audit", "verify", "-key", vkey, export); code != exitOK {
		t.Fatalf("verify: %d\n%s%s", code, out, errs)
	}
	if code, _, errs := runCmdAt(t, clk, "", "audit", "export", "-sqlite", c.Store.SQLitePath, "-o", export); code != exitOK {
		t.Fatalf("export: %d %s", code, errs)
	}
	if code, out, errs := runCmdAt(t, clk, "", "audit", "verify", "-key", vkey, "-require-full", export); code != exitOK {
		t.Fatalf("verify the full export: %d\n%s%s", code, out, errs)
	}
}
