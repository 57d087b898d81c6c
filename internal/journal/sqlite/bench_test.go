package sqlite_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/psykosocial/exchange/internal/journal"
	"github.com/psykosocial/exchange/internal/journal/sqlite"
)

// The benchmarks' figures and commands are in ../README.md ("Speed").

func benchJournal(b *testing.B, path string) (*sqlite.Store, *journal.Journal) {
	b.Helper()
	ctx := context.Background()
	s, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	j, err := journal.New(ctx, s, key(), journal.Config{Origin: origin, MaxBatch: 5000, QueueEntries: 100_000, Clock: testClock()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { j.Close(ctx); s.Close() })
	return s, j
}

// benchEntry is a realistic entry: a subject, a record, consent, fields, a digest.
func benchEntry(i int, subjects int) journal.Entry {
	d := sha256.Sum256(fmt.Appendf(nil, "payload %d", i))
	return journal.Entry{
		Event: journal.EventQueued, Actor: "gateway", Counterpart: fmt.Sprintf("municipality:%04d", 101+i%98),
		RecipientRole: "residence_municipality", Purpose: "psychosocial_follow_up",
		RecordID: fmt.Sprintf("rec-%08d", i/3), RecordVersion: 1, MessageID: fmt.Sprintf("msg-%09d", i),
		IncidentID: fmt.Sprintf("inc-%03d", i%500),
		Subject:    journal.Subject{KeyID: "k00000001", Ref: benchRef(i % subjects)},
		Consent: journal.Decision{Rule: "residence_municipality.follow_up", PolicyVersion: "2026-11-01", Basis: "consent",
			Clause: []string{"/consent/follow_up/purposes", "/consent/follow_up/recipients"}, GivenBy: "self"},
		Fields:        []string{"/incident/title", "/person/address", "/person/name", "/person/phone"},
		PayloadDigest: d, Outcome: journal.OutcomeOK,
	}
}

func benchRef(i int) string {
	h := sha256.Sum256(fmt.Appendf(nil, "subject %d", i))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// BenchmarkAppend measures durable appends through the Journal: one entry
// per call and transaction; 1000 entries per call; and many goroutines
// appending one entry each, which group commit gathers into transactions.
func BenchmarkAppend(b *testing.B) {
	ctx := context.Background()
	b.Run("single", func(b *testing.B) {
		_, j := benchJournal(b, filepath.Join(b.TempDir(), "j.db"))
		b.ResetTimer()
		for i := 0; b.Loop(); i++ {
			if _, err := j.Append(ctx, benchEntry(i, 1000)); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "entries/s")
	})
	b.Run("batch=1000", func(b *testing.B) {
		_, j := benchJournal(b, filepath.Join(b.TempDir(), "j.db"))
		batch := make([]journal.Entry, 1000)
		n := 0
		for b.Loop() {
			for k := range batch {
				batch[k] = benchEntry(n, 1000)
				n++
			}
			if _, err := j.Append(ctx, batch...); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "entries/s")
	})
	b.Run("concurrent=64", func(b *testing.B) {
		_, j := benchJournal(b, filepath.Join(b.TempDir(), "j.db"))
		var n atomic.Int64
		b.SetParallelism(32) // 32 × GOMAXPROCS goroutines
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := j.Append(ctx, benchEntry(int(n.Add(1)), 1000)); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(n.Load())/b.Elapsed().Seconds(), "entries/s")
	})
}

// generate fills a fresh journal with n entries about n/10 subjects,
// directly in batches of 10,000 with precomputed leaves and hashes (no
// journal writer, no checkpoints but one at the end).
func generate(b *testing.B, n int) (*sqlite.Store, *journal.Journal) {
	b.Helper()
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "j.db")
	s, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const chunk = 10_000
	for from := 0; from < n; from += chunk {
		entries := make([]journal.Entry, min(chunk, n-from))
		for i := range entries {
			entries[i] = benchEntry(from+i, n/10)
			entries[i].Time = t0.Add(time.Duration(from+i) * time.Second)
		}
		if err := s.Append(ctx, func(h journal.Head) (*journal.Batch, error) { return journal.NewBatch(h, entries) }); err != nil {
			b.Fatal(err)
		}
	}
	s.Close()
	s, j := benchJournal(b, path)
	if _, err := j.Checkpoint(ctx); err != nil {
		b.Fatal(err)
	}
	b.Logf("generated %d entries in %s", n, time.Since(start).Round(time.Millisecond))
	return s, j
}

// benchSizes are the journal sizes of the query benchmarks. The 1,000,000
// run takes about a minute to generate and runs only with
// JOURNAL_BENCH_LARGE=1.
func benchSizes() []int {
	if os.Getenv("JOURNAL_BENCH_LARGE") == "1" {
		return []int{100_000, 1_000_000}
	}
	return []int{100_000}
}

// BenchmarkQuerySubject measures the first page of a query by subject
// (about 10 entries), without and with inclusion proofs, and the
// generation of one inclusion proof.
func BenchmarkQuerySubject(b *testing.B) {
	ctx := context.Background()
	for _, n := range benchSizes() {
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) {
			_, j := generate(b, n)
			subjects := n / 10
			b.Run("first-page", func(b *testing.B) {
				for i := 0; b.Loop(); i++ {
					p, err := j.Query(ctx, journal.Query{Filter: journal.Filter{Subjects: []string{benchRef((i * 7919) % subjects)}}, Limit: 50})
					if err != nil || len(p.Results) == 0 {
						b.Fatal(len(p.Results), err)
					}
				}
			})
			b.Run("first-page-with-proofs", func(b *testing.B) {
				for i := 0; b.Loop(); i++ {
					p, err := j.Query(ctx, journal.Query{Filter: journal.Filter{Subjects: []string{benchRef((i * 7919) % subjects)}}, Limit: 50, Proofs: true})
					if err != nil || len(p.Results) == 0 || p.Results[0].Proof == nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("inclusion-proof", func(b *testing.B) {
				for i := 0; b.Loop(); i++ {
					if _, err := j.InclusionProof(ctx, uint64((i*104729)%n), uint64(n)); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("consistency-proof", func(b *testing.B) {
				for i := 0; b.Loop(); i++ {
					if _, err := j.ConsistencyProof(ctx, uint64(1+(i*104729)%(n-1)), uint64(n)); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
