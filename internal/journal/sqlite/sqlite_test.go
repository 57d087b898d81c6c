package sqlite_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/psykosocial/exchange/internal/clock"
	"github.com/psykosocial/exchange/internal/journal"
	"github.com/psykosocial/exchange/internal/journal/sqlite"
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

func TestAppendOnlyGuards(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "j.db")
	s, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
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
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		`UPDATE journal_entries SET actor = 'x' WHERE seq = 1`,
		`DELETE FROM journal_entries WHERE seq = 2`,
		`UPDATE journal_nodes SET hash = x'00'`,
		`DELETE FROM journal_checkpoints`,
		`DELETE FROM journal_head`,
	} {
		if _, err := db.Exec(q); err == nil || !strings.Contains(err.Error(), "journal") {
			t.Errorf("%s: %v", q, err)
		}
	}
	// Reopening finds everything, and refuses a schema of another version.
	s2, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := s2.Size(ctx); err != nil || n != 3 {
		t.Fatalf("reopened size %d, %v", n, err)
	}
	s2.Close()
	if _, err := db.Exec(`UPDATE journal_meta SET value = '99' WHERE key = 'schema_version'`); err != nil {
		t.Fatal(err)
	}
	if s3, err := sqlite.Open(ctx, path, sqlite.Options{}); err == nil {
		s3.Close()
		t.Fatal("a newer schema version was accepted")
	}
}

// Environment of the crash test's child process.
const (
	envCrashDB  = "JOURNAL_CRASH_CHILD_DB"
	envCrashAck = "JOURNAL_CRASH_CHILD_ACK"
	envCrashTag = "JOURNAL_CRASH_CHILD_TAG"
)

// TestCrashChild is not a test: it is the child process of
// TestCrashDuringAppend, which starts it with the environment above. It
// appends from several goroutines until it is killed, and after every
// successful Append writes "seq message-id" lines to the ack file.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(envCrashDB)
	if path == "" {
		t.Skip("the child process of TestCrashDuringAppend")
	}
	ctx := context.Background()
	s, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	j, err := journal.New(ctx, s, key(), journal.Config{Origin: origin, CheckpointEvery: 25, Clock: testClock()})
	if err != nil {
		t.Fatal(err)
	}
	ack, err := os.OpenFile(os.Getenv(envCrashAck), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	tag := os.Getenv(envCrashTag)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; ; k++ {
				n := 1 + (w+k)%12
				batch := make([]journal.Entry, n)
				for i := range batch {
					batch[i] = entry("region:1084", fmt.Sprintf("%s-%d-%d-%d", tag, w, k, i))
				}
				first, err := j.Append(ctx, batch...)
				if err != nil {
					continue
				}
				var b strings.Builder
				for i, e := range batch {
					fmt.Fprintf(&b, "%d %s\n", first+uint64(i), e.MessageID)
				}
				mu.Lock()
				ack.WriteString(b.String()) // one write: all or nothing under SIGKILL
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
}

// TestCrashDuringAppend kills (SIGKILL) a process appending in a loop,
// five times over the same database, and checks that the journal still
// verifies and holds every entry the process was told was appended.
func TestCrashDuringAppend(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "j.db")
	ackPath := filepath.Join(dir, "acks")
	for round := range 5 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), envCrashDB+"="+path, envCrashAck+"="+ackPath, envCrashTag+"="+strconv.Itoa(round))
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Let it append a while (at least some acknowledged entries), then kill it mid-flight.
		want := (round + 1) * 300
		deadline := time.Now().Add(20 * time.Second)
		for countLines(t, ackPath) < want && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(time.Duration(7+round*11) * time.Millisecond)
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		err := cmd.Wait()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != -1 {
			t.Fatalf("round %d: the child was not killed but ended: %v\n%s", round, err, out.String())
		}
		if countLines(t, ackPath) < want {
			t.Fatalf("round %d: the child acknowledged too little before the deadline\n%s", round, out.String())
		}
	}

	ctx := context.Background()
	s, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	j, err := journal.New(ctx, s, key(), journal.Config{Origin: origin, Clock: testClock()})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close(ctx)
	// Sign the entries the child committed after its last checkpoint.
	if _, err := j.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	var exp bytes.Buffer
	sum, err := j.Export(ctx, &exp, journal.ExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := journal.Verify(bytes.NewReader(exp.Bytes()), journal.VerifyOptions{VerifierKey: j.VerifierKey(), RequireFull: true})
	if err != nil {
		t.Fatalf("the journal does not verify after the crashes: %v", err)
	}
	size, err := s.Size(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Entries != size || sum.Unsigned != 0 {
		t.Fatalf("verified %d entries of %d", rep.Entries, size)
	}
	// Every acknowledged entry is there, at its sequence number.
	byMessage := map[uint64]string{}
	sc := bufio.NewScanner(bytes.NewReader(exp.Bytes()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if !bytes.HasPrefix(line, []byte(`{"leaf_index":`)) {
			continue
		}
		i := bytes.Index(line, []byte(`,"entry":`))
		e, err := journal.ParseLeaf(line[i+len(`,"entry":`) : len(line)-1])
		if err != nil {
			t.Fatal(err)
		}
		byMessage[e.Seq] = e.MessageID
	}
	acks := readAcks(t, ackPath)
	for seq, msg := range acks {
		if byMessage[seq] != msg {
			t.Fatalf("acknowledged entry %d (%s) is %q in the journal", seq, msg, byMessage[seq])
		}
	}
	t.Logf("%d entries after 5 kills, %d acknowledged, all present; %d checkpoints verified", size, len(acks), rep.Checkpoints)
}

func countLines(t *testing.T, path string) int {
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Count(b, []byte("\n"))
}

func readAcks(t *testing.T, path string) map[uint64]string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[uint64]string{}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) != 2 {
			continue // the last line, if cut
		}
		seq, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		if _, dup := out[seq]; dup {
			t.Fatalf("sequence number %d acknowledged twice", seq)
		}
		out[seq] = f[1]
	}
	return out
}
