package journal_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/psykosocial/exchange/internal/clock"
	"github.com/psykosocial/exchange/internal/journal"
	"github.com/psykosocial/exchange/internal/journal/postgres"
	"github.com/psykosocial/exchange/internal/journal/sqlite"
	"github.com/psykosocial/exchange/internal/record"
	"github.com/psykosocial/exchange/internal/testenv"
)

const testOrigin = "test.psykosocial.dk/journal"

// backend opens a fresh, empty store.
type backend struct {
	name string
	open func(t testing.TB) journal.Store
}

func backends() []backend {
	return []backend{
		{"sqlite", func(t testing.TB) journal.Store { return openSQLite(t) }},
		{"postgres", func(t testing.TB) journal.Store { return openPostgres(t) }},
	}
}

// forEachBackend runs f once per storage backend.
func forEachBackend(t *testing.T, f func(t *testing.T, open func(testing.TB) journal.Store)) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) { f(t, b.open) })
	}
}

func openSQLite(t testing.TB) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "journal.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
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

// openPostgres opens a store in a schema of its own, dropped after the test.
func openPostgres(t testing.TB) *postgres.Store {
	t.Helper()
	pool := testPool(t)
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
	s, err := postgres.Open(context.Background(), pool, postgres.Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// testKey returns a deterministic Ed25519 key for seed.
func testKey(seed byte) ed25519.PrivateKey {
	s := make([]byte, ed25519.SeedSize)
	for i := range s {
		s[i] = seed
	}
	return ed25519.NewKeyFromSeed(s)
}

func vkeyOf(t testing.TB, k ed25519.PrivateKey) string {
	t.Helper()
	v, err := journal.VerifierKey(testOrigin, k.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// t0 is where the tests' fake clocks start.
var t0 = time.Date(2026, 11, 25, 14, 30, 0, 0, time.UTC)

// newFakeClock is a fake clock at t0, which moves only when the test says.
func newFakeClock() *clock.Fake { return clock.NewFake(t0) }

// newJournal starts a journal over store; it is closed after the test.
// Without cfg.Clock it runs on a fake clock of its own.
func newJournal(t testing.TB, store journal.Store, cfg journal.Config) *journal.Journal {
	t.Helper()
	if cfg.Origin == "" {
		cfg.Origin = testOrigin
	}
	if cfg.Clock == nil {
		cfg.Clock = newFakeClock()
	}
	j, err := journal.New(context.Background(), store, testKey(1), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close(context.Background()) })
	return j
}

// subjectRef is a made-up subject reference number i.
func subjectRef(i int) string {
	h := sha256.Sum256(fmt.Appendf(nil, "subject %d", i))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

var events = journal.EventTypes()

// sampleEntry is the i-th entry of a varied, deterministic stream.
func sampleEntry(i int) journal.Entry {
	authorities := []string{"gateway", "region:1084", "municipality:0851", "municipality:0101", "police:nordjylland"}
	e := journal.Entry{
		Event:       events[i%len(events)],
		Actor:       authorities[i%3],
		Counterpart: authorities[1+i%4],
		IncidentID:  fmt.Sprintf("inc-%d", i%4),
		Outcome:     journal.OutcomeOK,
	}
	if i%5 != 4 {
		e.Subject = journal.Subject{KeyID: "k00000001", Ref: subjectRef(i % 19)}
		e.RecordID = fmt.Sprintf("rec-%d", i%23)
		e.RecordVersion = 1 + i%2
		e.MessageID = fmt.Sprintf("msg-%d", i)
		e.RecipientRole = record.RecipientRoles()[i%5]
		e.Purpose = record.Purposes()[i%3]
		e.Consent = journal.Decision{Rule: "rule-" + fmt.Sprint(i%3), PolicyVersion: "2026-11-01", Basis: "consent",
			Clause: []string{"/consent/follow_up/recipients", "/consent/follow_up/purposes"}, GivenBy: "self"}
		e.Fields = []string{"/person/phone", "/person/name", "/incident/title"}
		e.PayloadDigest = sha256.Sum256(fmt.Appendf(nil, "payload %d", i))
	}
	if i%7 == 3 {
		e.Outcome, e.Reason = journal.OutcomeRefused, "consent does not name the recipient"
		e.Consent = journal.Decision{Rule: "police.identification", PolicyVersion: "2026-11-01", Basis: "legal_basis",
			LegalBasis: "retsplejeloven-§-115", Check: "recipient_not_consented"}
	}
	return e
}

func mustECDSA(t testing.TB) (crypto.PublicKey, crypto.Signer) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k.Public(), k
}
