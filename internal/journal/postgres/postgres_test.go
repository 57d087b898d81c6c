package postgres_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/psykosocial/exchange/internal/clock"
	"github.com/psykosocial/exchange/internal/journal"
	"github.com/psykosocial/exchange/internal/journal/postgres"
	"github.com/psykosocial/exchange/internal/testenv"
)

const origin = "test.psykosocial.dk/journal"

// testClock is the journals' clock in these tests: it stands still, so
// checkpoints come at the multiples of CheckpointEvery (and when asked),
// never by interval.
func testClock() clock.Clock { return clock.Fixed(time.Date(2026, 11, 25, 14, 30, 0, 0, time.UTC)) }

func key() ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, ed25519.SeedSize))
}

func entry(actor, msg string) journal.Entry {
	return journal.Entry{Event: journal.EventReceived, Actor: actor, Counterpart: "gateway",
		MessageID: msg, IncidentID: "inc-1", Outcome: journal.OutcomeOK}
}

// testPool connects to the test server, or skips (fails under CI=true).
func testPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	pool, err := pgxpool.New(ctx, testenv.DatabaseURL())
	if err == nil {
		err = pool.Ping(ctx)
	}
	if err != nil {
		if pool != nil {
			pool.Close()
		}
		testenv.Missing(t, fmt.Sprintf("PostgreSQL at %s (set GATEWAY_TEST_DATABASE_URL) is unreachable: %v", testenv.DatabaseURL(), err))
	}
	t.Cleanup(pool.Close)
	return pool
}

// testSchema names a fresh schema and drops it after the test.
func testSchema(t testing.TB, pool *pgxpool.Pool) string {
	var b [6]byte
	rand.Read(b[:])
	schema := "journal_test_" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := pool.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return schema
}

func TestAppendOnlyGuards(t *testing.T) {
	ctx := context.Background()
	pool := testPool(t)
	schema := testSchema(t, pool)
	s, err := postgres.Open(ctx, pool, postgres.Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	j, err := journal.New(ctx, s, key(), journal.Config{Origin: origin, Clock: testClock()})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := j.Append(ctx, entry("region:1084", fmt.Sprint("m", i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Close(ctx); err != nil {
		t.Fatal(err)
	}
	q := pgx.Identifier{schema}.Sanitize() + "."
	for _, stmt := range []string{
		`UPDATE ` + q + `journal_entries SET actor = 'x' WHERE seq = 1`,
		`DELETE FROM ` + q + `journal_entries WHERE seq = 2`,
		`TRUNCATE ` + q + `journal_entries`,
		`UPDATE ` + q + `journal_nodes SET hash = '\x00'`,
		`DELETE FROM ` + q + `journal_checkpoints`,
	} {
		if _, err := pool.Exec(ctx, stmt); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v", stmt, err)
		}
	}
	if _, err := postgres.Open(ctx, pool, postgres.Options{Schema: "Bad-Name"}); err == nil {
		t.Error("a malformed schema name was accepted")
	}
}

// Environment of the two-process test's children.
const (
	envChildSchema = "JOURNAL_PG_CHILD_SCHEMA"
	envChildActor  = "JOURNAL_PG_CHILD_ACTOR"
	envChildAck    = "JOURNAL_PG_CHILD_ACK"
	envChildCount  = "JOURNAL_PG_CHILD_COUNT"
)

// TestAppendChild is not a test: it is a child process of
// TestTwoProcessesAppend. It appends COUNT entries as ACTOR from several
// goroutines and writes "seq message-id" lines to the ack file.
func TestAppendChild(t *testing.T) {
	schema := os.Getenv(envChildSchema)
	if schema == "" {
		t.Skip("a child process of TestTwoProcessesAppend")
	}
	ctx := context.Background()
	pool := testPool(t)
	s, err := postgres.Open(ctx, pool, postgres.Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	j, err := journal.New(ctx, s, key(), journal.Config{Origin: origin, CheckpointEvery: 50, Clock: testClock()})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close(ctx)
	actor := os.Getenv(envChildActor)
	count, _ := strconv.Atoi(os.Getenv(envChildCount))
	var mu sync.Mutex
	var acks strings.Builder
	var wg sync.WaitGroup
	next := 0
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; ; k++ {
				mu.Lock()
				n := min(1+(w*5+k)%7, count-next)
				start := next
				next += n
				mu.Unlock()
				if n <= 0 {
					return
				}
				batch := make([]journal.Entry, n)
				for i := range batch {
					batch[i] = entry(actor, fmt.Sprintf("%s-%d", actor, start+i))
				}
				first, err := j.Append(ctx, batch...)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				for i, e := range batch {
					fmt.Fprintf(&acks, "%d %s\n", first+uint64(i), e.MessageID)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if err := os.WriteFile(os.Getenv(envChildAck), []byte(acks.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestTwoProcessesAppend appends concurrently from two OS processes to one
// PostgreSQL journal and checks that the sequence is total and gap-free,
// that every acknowledged entry is at its number, and that the journal
// verifies.
func TestTwoProcessesAppend(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	ctx := context.Background()
	pool := testPool(t)
	schema := testSchema(t, pool)
	s, err := postgres.Open(ctx, pool, postgres.Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	const perChild = 400
	dir := t.TempDir()
	actors := []string{"region:1081", "region:1082"}
	var wg sync.WaitGroup
	outs := make([]bytes.Buffer, len(actors))
	errs := make([]error, len(actors))
	for i, actor := range actors {
		cmd := exec.Command(os.Args[0], "-test.run=^TestAppendChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), envChildSchema+"="+schema, envChildActor+"="+actor,
			envChildAck+"="+filepath.Join(dir, actor), envChildCount+"="+strconv.Itoa(perChild))
		cmd.Stdout, cmd.Stderr = &outs[i], &outs[i]
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = cmd.Wait() }()
	}
	wg.Wait()
	for i := range actors {
		if errs[i] != nil {
			t.Fatalf("child %s: %v\n%s", actors[i], errs[i], outs[i].String())
		}
	}

	// Total and gap-free.
	var n, lo, hi int64
	if err := pool.QueryRow(ctx, `SELECT count(*), min(seq), max(seq) FROM `+pgx.Identifier{schema, "journal_entries"}.Sanitize()).Scan(&n, &lo, &hi); err != nil {
		t.Fatal(err)
	}
	if n != 2*perChild || lo != 0 || hi != 2*perChild-1 {
		t.Fatalf("%d entries numbered %d..%d, want %d numbered 0..%d", n, lo, hi, 2*perChild, 2*perChild-1)
	}
	// Every acknowledged number is the child's entry, and none is acknowledged twice.
	r := journal.NewReader(s, testClock())
	byActor := map[uint64]string{}
	q := journal.Query{Limit: 1000}
	for {
		p, err := r.Query(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, res := range p.Results {
			byActor[res.LeafIndex] = res.Entry.MessageID
		}
		if !p.More {
			break
		}
		q.Cursor = p.Next
	}
	seen := map[uint64]bool{}
	for _, actor := range actors {
		b, err := os.ReadFile(filepath.Join(dir, actor))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if len(lines) != perChild {
			t.Fatalf("%s acknowledged %d entries, want %d", actor, len(lines), perChild)
		}
		for _, l := range lines {
			var seq uint64
			var msg string
			if _, err := fmt.Sscanf(l, "%d %s", &seq, &msg); err != nil {
				t.Fatal(err)
			}
			if seen[seq] {
				t.Fatalf("number %d acknowledged twice", seq)
			}
			seen[seq] = true
			if byActor[seq] != msg {
				t.Fatalf("entry %d is %q, %s was told %q", seq, byActor[seq], actor, msg)
			}
		}
	}
	// The two processes did interleave.
	switches := 0
	for i := uint64(1); i < 2*perChild; i++ {
		if strings.SplitN(byActor[i], "-", 2)[0] != strings.SplitN(byActor[i-1], "-", 2)[0] {
			switches++
		}
	}
	t.Logf("the two processes' entries alternate %d times along the sequence", switches)

	// Both processes signed checkpoints; all of them and the tree verify.
	j, err := journal.New(ctx, s, key(), journal.Config{Origin: origin, Clock: testClock()})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close(ctx)
	if _, err := j.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	var exp bytes.Buffer
	if _, err := j.Export(ctx, &exp, journal.ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	rep, err := journal.Verify(&exp, journal.VerifyOptions{VerifierKey: j.VerifierKey(), RequireFull: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Entries != 2*perChild || rep.Checkpoints < 2*perChild/50 {
		t.Fatalf("verified %+v", rep)
	}
}
