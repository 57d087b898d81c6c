package storetest

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/psykosocial/exchange/internal/store"
)

// BenchmarkCommit measures commit throughput: intakes of one record for two
// recipients (a message, a record, two mailbox messages, five journal
// entries, a replay row), committed group intakes per transaction, from
// one goroutine, and single intakes from parallel goroutines. It reports
// intakes/s.
func BenchmarkCommit(b *testing.B, newDB NewDB) {
	for _, group := range []int{1, 16, 128} {
		b.Run(fmt.Sprintf("group=%d", group), func(b *testing.B) {
			e := NewEnv(b, newDB(b), func(c *store.Config) { c.MaxLifetime = 48 * time.Hour })
			far := T0.Add(47 * time.Hour)
			b.ResetTimer()
			n := 0
			for b.Loop() {
				ins := make([]*store.Intake, group)
				for i := range ins {
					id := fmt.Sprintf("m%d", n)
					n++
					ins[i] = Intake(region, id, far, []string{"r" + id}, muniA, muniB)
				}
				outs, err := e.Store.Commit(context.Background(), ins...)
				if err != nil {
					b.Fatal(err)
				}
				for _, o := range outs {
					if o.Err != nil {
						b.Fatal(o.Err)
					}
				}
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "intakes/s")
		})
	}
	b.Run("parallel=8", func(b *testing.B) {
		e := NewEnv(b, newDB(b), func(c *store.Config) { c.MaxLifetime = 48 * time.Hour })
		far := T0.Add(47 * time.Hour)
		b.SetParallelism(8)
		var ctr atomic.Int64
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				id := fmt.Sprintf("p%d", ctr.Add(1))
				outs, err := e.Store.Commit(context.Background(), Intake(region, id, far, []string{"r" + id}, muniA, muniB))
				if err == nil {
					err = outs[0].Err
				}
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "intakes/s")
	})
}

// BenchmarkPurge measures the retention purge: each round commits 1,024
// records for two recipients (64 messages of 16), lets every retention
// pass and purges them (2,048 mailbox messages, 1,024 record bodies, 64
// messages' evidence: 3,136 rows and journal entries) in transactions of
// the default batch size. It reports purged rows/s.
func BenchmarkPurge(b *testing.B, newDB NewDB) {
	e := NewEnv(b, newDB(b), nil)
	ctx := context.Background()
	rows := 0
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		for m := range 64 {
			id := fmt.Sprintf("m%d-%d", i, m)
			var rids []string
			for r := range 16 {
				rids = append(rids, fmt.Sprintf("r%s-%d", id, r))
			}
			e.MustCommit(b, Intake(region, id, e.Clock.Now().Add(time.Hour), rids, muniA, muniB))
		}
		e.Clock.Advance(181 * 24 * time.Hour)
		b.StartTimer()
		rep, err := e.Store.Purge(ctx, store.Retention{})
		if err != nil {
			b.Fatal(err)
		}
		if rep.JournalEntries != 3136 {
			b.Fatalf("purged %+v", rep)
		}
		rows += rep.JournalEntries
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}
