package journal_test

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/psykosocial/exchange/internal/journal"
)

// The benchmarks' figures and commands are in README.md ("Speed").

// BenchmarkVerify measures offline verification of a full export of
// 100,000 entries with a checkpoint every 1,000.
func BenchmarkVerify(b *testing.B) {
	ctx := context.Background()
	const n = 100_000
	store := openSQLite(b)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for from := 0; from < n; from += 10_000 {
		entries := make([]journal.Entry, 10_000)
		for i := range entries {
			entries[i] = sampleEntry(from + i)
			slices.Sort(entries[i].Fields)
			slices.Sort(entries[i].Consent.Clause)
			entries[i].Time = t0.Add(time.Duration(from+i) * time.Millisecond)
		}
		if err := store.Append(ctx, func(h journal.Head) (*journal.Batch, error) { return journal.NewBatch(h, entries) }); err != nil {
			b.Fatal(err)
		}
	}
	j := newJournal(b, store, journal.Config{CheckpointEvery: 1000})
	if _, err := j.Checkpoint(ctx); err != nil {
		b.Fatal(err)
	}
	var exp bytes.Buffer
	if _, err := j.Export(ctx, &exp, journal.ExportOptions{}); err != nil {
		b.Fatal(err)
	}
	vkey := j.VerifierKey()
	b.SetBytes(int64(exp.Len()))
	b.ResetTimer()
	for b.Loop() {
		rep, err := journal.Verify(bytes.NewReader(exp.Bytes()), journal.VerifyOptions{VerifierKey: vkey})
		if err != nil || rep.Entries != n || rep.Checkpoints != n/1000 {
			b.Fatal(rep, err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}

// BenchmarkLeaf measures encoding and strict parsing of one leaf.
func BenchmarkLeaf(b *testing.B) {
	e := sampleEntry(1)
	slices.Sort(e.Fields)
	slices.Sort(e.Consent.Clause)
	e.Seq, e.Time = 123456, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	leaf, err := journal.MarshalLeaf(e)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("marshal", func(b *testing.B) {
		for b.Loop() {
			journal.MarshalLeaf(e)
		}
	})
	b.Run("parse", func(b *testing.B) {
		for b.Loop() {
			if _, err := journal.ParseLeaf(leaf); err != nil {
				b.Fatal(err)
			}
		}
	})
}
