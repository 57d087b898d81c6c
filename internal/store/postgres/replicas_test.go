package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/psykosocial/exchange/internal/store"
	"github.com/psykosocial/exchange/internal/testenv/storetest"
)

// TestTwoReplicas runs two stores, each with its own backend and journal,
// on one schema, as two gateway processes do: a message committed through
// one is a replay for the other, and their pullers of one mailbox get
// disjoint messages.
func TestTwoReplicas(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	a := storetest.NewEnv(t, db, nil)
	b := a.Replica(t, nil)
	exp := storetest.T0.Add(time.Hour)
	var rids []string
	for i := range 30 {
		rids = append(rids, fmt.Sprintf("r%d", i))
	}
	a.MustCommit(t, storetest.Intake("region:1084", "m1", exp, rids, "municipality:0101"))
	if out := b.Commit(t, storetest.Intake("region:1084", "m1", exp, rids, "municipality:0101"))[0]; !errors.Is(out.Err, store.ErrDuplicate) {
		t.Fatalf("the other replica: %v, want ErrDuplicate", out.Err)
	}
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for _, e := range []*storetest.Env{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				res, err := e.Store.Pull(ctx, "municipality:0101", 2, time.Hour, storetest.Deliver)
				if err != nil {
					t.Errorf("Pull: %v", err)
					return
				}
				if len(res.Messages) == 0 {
					return
				}
				mu.Lock()
				for _, m := range res.Messages {
					seen[m.ID]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != 30 {
		t.Fatalf("pulled %d distinct, want 30", len(seen))
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s leased %d times", id, n)
		}
	}
	a.VerifyJournal(t)
	b.VerifyJournal(t)
}
