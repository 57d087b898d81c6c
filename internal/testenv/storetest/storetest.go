// Package storetest is the one test suite of the store's backends
// (store/sqlite, store/postgres): each backend's tests call Run with a way
// to open a fresh database and to search its raw bytes, so that both
// backends are held to the same behaviour.
package storetest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/psykosocial/exchange/internal/clock"
	"github.com/psykosocial/exchange/internal/journal"
	"github.com/psykosocial/exchange/internal/keys"
	"github.com/psykosocial/exchange/internal/store"
)

// DB is one database under test.
type DB interface {
	// Open opens the database (again: every call opens the same one) and
	// closes it when t ends.
	Open(t testing.TB) store.Backend
	// Find returns where each of needles occurs in the database's raw
	// stored bytes (files, or every text and binary column), one string
	// per occurrence naming the place; none means none.
	Find(t testing.TB, needles [][]byte) []string
}

// NewDB makes a fresh, empty database.
type NewDB func(t testing.TB) DB

// T0 is where the suite's clocks start.
var T0 = time.Date(2026, 11, 25, 14, 30, 0, 0, time.UTC)

// Env is a store with its journal, clock and keys, ready for a test.
type Env struct {
	// DB is the database.
	DB DB
	// Backend is the open backend.
	Backend store.Backend
	// Store is the store.
	Store *store.Store
	// Journal is the journal on the same database.
	Journal *journal.Journal
	// Clock is the fake clock of store and journal.
	Clock *clock.Fake
	// Keys is the data key provider.
	Keys *keys.FileProvider
}

// NewKeys returns a file key provider holding only a data key-encryption key.
func NewKeys(t testing.TB) *keys.FileProvider {
	t.Helper()
	dir := t.TempDir()
	kek := make([]byte, 32)
	rand.Read(kek)
	if err := os.WriteFile(filepath.Join(dir, keys.FileKEK), []byte(base64.StdEncoding.EncodeToString(kek)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := keys.NewFileProvider(keys.FileConfig{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// NewEnv opens db and starts a journal and a store on it; edit adjusts the
// store's configuration.
func NewEnv(t testing.TB, db DB, edit func(*store.Config)) *Env {
	t.Helper()
	e := &Env{DB: db, Clock: clock.NewFake(T0), Keys: NewKeys(t)}
	e.open(t, edit)
	return e
}

func (e *Env) open(t testing.TB, edit func(*store.Config)) {
	t.Helper()
	e.Backend = e.DB.Open(t)
	j, err := journal.New(context.Background(), e.Backend.JournalStore(), testJournalKey(),
		journal.Config{Origin: "test.psykosocial.dk/journal", Clock: e.Clock, CheckpointEvery: 16})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close(context.Background()) })
	e.Journal = j
	cfg := store.Config{Backend: e.Backend, Journal: j, Keys: e.Keys, Clock: e.Clock}
	if edit != nil {
		edit(&cfg)
	}
	s, err := store.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.Store = s
}

// People are made-up persons whose CPR numbers and names must never be
// found in a database in clear.
var People = []struct{ CPR, Name string }{
	{"1502851234", "Karen Testesen"},
	{"0303771122", "Mads Prøvegaard"},
	{"2112090017", "Ida Eksempelsen"},
}

// subjectKeys make the suite's subject references (a fixed secret).
var subjectKeys = func() *journal.SubjectKeys {
	k, err := journal.NewSubjectKey(bytes.Repeat([]byte{0x5a}, 32))
	if err != nil {
		panic(err)
	}
	ks, err := journal.NewSubjectKeys(k)
	if err != nil {
		panic(err)
	}
	return ks
}()

// Subject is the pseudonymous reference of person i, as the pipeline
// computes it from the CPR number.
func Subject(i int) journal.Subject {
	s, err := subjectKeys.CPR(People[i%len(People)].CPR)
	if err != nil {
		panic(err)
	}
	return s
}

// Body is a canonical record about person i (a sketch of the common record).
func Body(i int, note string) []byte {
	p := People[i%len(People)]
	return fmt.Appendf(nil, `{"person":{"cpr":%q,"name":%q},"incident":{"id":"inc-1"},"note":%q}`, p.CPR, p.Name, note)
}

// View is recipient's view of person i.
func View(i int, recipient string) []byte {
	p := People[i%len(People)]
	return fmt.Appendf(nil, `<View to="%s"><Navn>%s</Navn><CPR>%s</CPR></View>`, recipient, p.Name, p.CPR)
}

// Intake builds a message of sender with id, carrying one record per
// element of recordIDs (version 1, person by position), each delivered to
// recipients; the entries journal it received and queued.
func Intake(sender, id string, exp time.Time, recordIDs []string, recipients ...string) *store.Intake {
	var evidence bytes.Buffer
	fmt.Fprintf(&evidence, "signed message %s of %s:", id, sender)
	in := &store.Intake{}
	for i, rid := range recordIDs {
		fmt.Fprintf(&evidence, "%s:", rid)
		evidence.Write(Body(i, ""))
		r := store.Record{ID: rid, Version: 1, Body: Body(i, ""), Subject: Subject(i), IncidentID: "inc-1"}
		for _, rc := range recipients {
			v := View(i, rc)
			r.Deliveries = append(r.Deliveries, store.Delivery{ID: "mb-" + id + "-" + rid + "-" + rc, Recipient: rc, View: v})
			r.Journal = append(r.Journal, journal.Entry{Event: journal.EventQueued, Actor: "gateway", Counterpart: rc,
				RecordID: rid, RecordVersion: 1, MessageID: id, PayloadDigest: sha256.Sum256(v), Outcome: journal.OutcomeOK})
		}
		in.Records = append(in.Records, r)
	}
	in.Message = store.Message{Sender: sender, ID: id, Evidence: evidence.Bytes(), ExpiresAt: exp,
		Receipt: []byte("receipt of " + id), Digest: sha256.Sum256(evidence.Bytes())}
	in.Journal = []journal.Entry{{Event: journal.EventReceived, Actor: sender, Counterpart: "gateway",
		MessageID: id, PayloadDigest: in.Message.Digest, Outcome: journal.OutcomeOK}}
	return in
}

// Commit commits intakes and fails t unless the call succeeds.
func (e *Env) Commit(t testing.TB, intakes ...*store.Intake) []store.Outcome {
	t.Helper()
	outs, err := e.Store.Commit(context.Background(), intakes...)
	if err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if len(outs) != len(intakes) {
		t.Fatalf("Commit returned %d outcomes for %d intakes", len(outs), len(intakes))
	}
	return outs
}

// MustCommit commits intakes and fails t unless every one committed.
func (e *Env) MustCommit(t testing.TB, intakes ...*store.Intake) []store.Outcome {
	t.Helper()
	outs := e.Commit(t, intakes...)
	for i, o := range outs {
		if o.Err != nil {
			t.Fatalf("intake %d: %v", i, o.Err)
		}
	}
	return outs
}

// JournalSize is the number of journal entries committed.
func (e *Env) JournalSize(t testing.TB) uint64 {
	t.Helper()
	n, err := e.Backend.JournalStore().Size(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// VerifyJournal signs a checkpoint and checks every entry's inclusion in
// it, so that the tree the store's transactions built is sound.
func (e *Env) VerifyJournal(t testing.TB) {
	t.Helper()
	ctx := context.Background()
	cp, err := e.Journal.Checkpoint(ctx)
	if err != nil {
		t.Fatalf("checkpoint: %v", err)
	}
	leaves, err := e.Backend.JournalStore().Leaves(ctx, 0, int(cp.Size)+1)
	if err != nil {
		t.Fatal(err)
	}
	if uint64(len(leaves)) != cp.Size {
		t.Fatalf("%d leaves, checkpoint of %d", len(leaves), cp.Size)
	}
	for _, l := range leaves {
		p, err := e.Journal.InclusionProof(ctx, l.Seq, cp.Size)
		if err != nil {
			t.Fatalf("inclusion proof of %d: %v", l.Seq, err)
		}
		if err := journal.VerifyInclusion(l.Leaf, l.Seq, p, cp.Checkpoint); err != nil {
			t.Fatalf("entry %d: %v", l.Seq, err)
		}
	}
}

// Run runs every check of the suite against fresh databases of newDB.
func Run(t *testing.T, newDB NewDB) {
	for _, c := range []struct {
		name string
		f    func(*testing.T, NewDB)
	}{
		{"Migrations", CheckMigrations},
		{"CommitAndRead", CheckCommitAndRead},
		{"GroupCommit", CheckGroupCommit},
		{"Replay", CheckReplay},
		{"LifetimeAndExpiry", CheckLifetimeAndExpiry},
		{"PurgeReplay", CheckPurgeReplay},
		{"AllOrNothing", CheckAllOrNothing},
		{"BadInput", CheckBadInput},
		{"Unavailable", CheckUnavailable},
		{"ConcurrentResubmission", CheckConcurrentResubmission},
		{"ConcurrentCommits", CheckConcurrentCommits},
		{"EncryptedAtRest", CheckEncryptedAtRest},
		{"MailboxOrder", CheckMailboxOrder},
		{"LeaseAckRedelivery", CheckLeaseAckRedelivery},
		{"Parking", CheckParking},
		{"ParkedAndRequeue", CheckParkedAndRequeue},
		{"ConcurrentPullers", CheckConcurrentPullers},
		{"DeliveryDigests", CheckDeliveryDigests},
		{"Purge", CheckPurge},
		{"PurgeLeavesWhatIsInRetention", CheckPurgeLeavesWhatIsInRetention},
		{"PurgeKeepsWhatDeliveriesNeed", CheckPurgeKeepsWhatDeliveriesNeed},
		{"ConcurrentPurges", CheckConcurrentPurges},
		{"PurgeBadRetention", CheckPurgeBadRetention},
		{"Transfer", CheckTransfer},
		{"ConcurrentTransfer", CheckConcurrentTransfer},
		{"Waiting", CheckWaiting},
		{"Gaps", CheckGaps},
	} {
		t.Run(c.name, func(t *testing.T) { c.f(t, newDB) })
	}
}

func isKind(err, kind error) bool { return errors.Is(err, kind) }

func testJournalKey() ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))
}

// Replica opens another backend, journal and store on e's database with
// the same keys and clock, as a second gateway process would.
func (e *Env) Replica(t testing.TB, edit func(*store.Config)) *Env {
	t.Helper()
	r := &Env{DB: e.DB, Clock: e.Clock, Keys: e.Keys}
	r.open(t, edit)
	return r
}
