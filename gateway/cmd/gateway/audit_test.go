package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/psykosocial/exchange/internal/clock"
	"github.com/psykosocial/exchange/internal/journal"
	"github.com/psykosocial/exchange/internal/journal/postgres"
	"github.com/psykosocial/exchange/internal/journal/sqlite"
	"github.com/psykosocial/exchange/internal/testenv"
)

const auditOrigin = "test.psykosocial.dk/journal"

func auditRef(i int) string {
	h := sha256.Sum256(fmt.Appendf(nil, "subject %d", i))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// fillJournal appends n entries to store and signs a checkpoint of them.
func fillJournal(t *testing.T, store journal.Store, n int) (vkey string) {
	t.Helper()
	ctx := context.Background()
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{3}, 32))
	j, err := journal.New(ctx, store, key, journal.Config{Origin: auditOrigin, CheckpointEvery: 8, Clock: clock.Fixed(testNow)})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		e := journal.Entry{Event: journal.EventQueued, Actor: "gateway", Counterpart: "municipality:0851",
			RecordID: fmt.Sprintf("rec-%d", i%5), RecordVersion: 1, IncidentID: "inc-1",
			Subject: journal.Subject{KeyID: "k00000001", Ref: auditRef(i % 3)}, Outcome: journal.OutcomeOK}
		if _, err := j.Append(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Close(ctx); err != nil {
		t.Fatal(err)
	}
	return j.VerifierKey()
}

func TestAuditExportVerify(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "gateway.db")
	s, err := sqlite.Open(context.Background(), db, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	vkey := fillJournal(t, s, 30)
	s.Close()
	keyFile := filepath.Join(dir, "journal.vkey")
	if err := os.WriteFile(keyFile, []byte(vkey+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	export := filepath.Join(dir, "export.jsonl")
	code, _, errs := runCmd(t, "", "audit", "export", "-sqlite", db, "-o", export)
	if code != exitOK || !strings.Contains(errs, "exported 30 entries") {
		t.Fatalf("export: code %d\n%s", code, errs)
	}
	for _, k := range []string{vkey, "@" + keyFile} {
		code, out, errs := runCmd(t, "", "audit", "verify", "-key", k, "-require-full", "-min-size", "30", export)
		if code != exitOK || !strings.Contains(out, "OK") || !strings.Contains(out, "all 30 entries") {
			t.Fatalf("verify: code %d\n%s%s", code, out, errs)
		}
	}
	// From standard input.
	b, _ := os.ReadFile(export)
	// The export is dated by the command's clock.
	if want := `"exported_at":"` + testNow.Format(time.RFC3339) + `"`; !strings.Contains(string(b), want) {
		t.Errorf("the export header does not carry %s", want)
	}
	if code, out, _ := runCmd(t, string(b), "audit", "verify", "-key", vkey); code != exitOK {
		t.Fatalf("verify from stdin: code %d\n%s", code, out)
	}

	// A tampered export fails and names the entry.
	tampered := filepath.Join(dir, "tampered.jsonl")
	bad := strings.Replace(string(b), `"record_id":"rec-2"`, `"record_id":"rec-9"`, 1)
	if err := os.WriteFile(tampered, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, _ := runCmd(t, "", "audit", "verify", "-key", vkey, tampered)
	if code != exitProblems || !strings.Contains(out, "DOES NOT VERIFY") || !strings.Contains(out, "entry 2:") {
		t.Fatalf("tampered: code %d\n%s", code, out)
	}
	// Another key fails.
	other, _, _ := ed25519.GenerateKey(rand.Reader)
	okey, _ := journal.VerifierKey(auditOrigin, other)
	if code, out, _ := runCmd(t, "", "audit", "verify", "-key", okey, export); code != exitProblems || !strings.Contains(out, "not signed by the key") {
		t.Fatalf("another key: code %d\n%s", code, out)
	}

	// A query export, to standard output.
	code, qout, errs := runCmd(t, "", "audit", "export", "-sqlite", db, "-subject", auditRef(1), "-event", "queued", "-since", "2000-01-01T00:00:00Z")
	if code != exitOK || !strings.Contains(errs, "exported 10 entries") {
		t.Fatalf("query export: code %d\n%s", code, errs)
	}
	code, out, _ = runCmd(t, qout, "audit", "verify", "-key", vkey)
	if code != exitOK || !strings.Contains(out, "query export: 10 entries") {
		t.Fatalf("verify query export: code %d\n%s", code, out)
	}
	if code, _, _ := runCmd(t, qout, "audit", "verify", "-key", vkey, "-require-full"); code != exitProblems {
		t.Fatalf("-require-full accepted a query export: %d", code)
	}
}

func TestAuditUsage(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"audit"},
		{"audit", "frobnicate"},
		{"audit", "export"},
		{"audit", "export", "-sqlite", "a", "-postgres", "b"},
		{"audit", "export", "-sqlite", "a", "-since", "yesterday"},
		{"audit", "verify"},
		{"audit", "verify", "-key", "not a key", "x"},
	} {
		if code, _, errs := runCmd(t, "", args...); code != exitUsage {
			t.Errorf("%q: code %d, want %d\n%s", args, code, exitUsage, errs)
		}
	}
	// A database without a journal is not created by export.
	missing := filepath.Join(dir, "none.db")
	if code, _, _ := runCmd(t, "", "audit", "export", "-sqlite", missing); code != exitFailure {
		t.Errorf("export of a missing database: code %d", code)
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Errorf("export created %s", missing)
	}
}

func TestAuditExportPostgres(t *testing.T) {
	url := testenv.DatabaseURL()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	pool, err := pgxpool.New(ctx, url)
	if err == nil {
		err = pool.Ping(ctx)
	}
	if err != nil {
		testenv.Missing(t, fmt.Sprintf("PostgreSQL at %s is unreachable: %v", url, err))
	}
	defer pool.Close()
	var rb [6]byte
	rand.Read(rb[:])
	schema := "audit_test_" + hex.EncodeToString(rb[:])
	defer pool.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
	s, err := postgres.Open(ctx, pool, postgres.Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	vkey := fillJournal(t, s, 12)
	code, out, errs := runCmd(t, "", "audit", "export", "-postgres", url, "-schema", schema)
	if code != exitOK {
		t.Fatalf("export: code %d\n%s", code, errs)
	}
	if code, v, _ := runCmd(t, out, "audit", "verify", "-key", vkey, "-require-full"); code != exitOK {
		t.Fatalf("verify: code %d\n%s", code, v)
	}
}
