package journal_test

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"errors"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/psykosocial/exchange/internal/journal"
)

// appendAll appends n sample entries from several goroutines in batches of
// varied sizes and returns every entry by sequence number.
func appendAll(t *testing.T, j *journal.Journal, n int) []journal.Entry {
	t.Helper()
	ctx := context.Background()
	var mu sync.Mutex
	got := map[uint64]journal.Entry{}
	var wg sync.WaitGroup
	next := 0
	var nmu sync.Mutex
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; ; k++ {
				size := 1 + (w*7+k*3)%9
				nmu.Lock()
				start := next
				if start >= n {
					nmu.Unlock()
					return
				}
				size = min(size, n-start)
				next += size
				nmu.Unlock()
				batch := make([]journal.Entry, size)
				for i := range batch {
					batch[i] = sampleEntry(start + i)
				}
				first, err := j.Append(ctx, batch...)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				for i, e := range batch {
					got[first+uint64(i)] = e
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(got) != n {
		t.Fatalf("appended %d entries, want %d", len(got), n)
	}
	out := make([]journal.Entry, n)
	for seq, e := range got {
		if seq >= uint64(n) {
			t.Fatalf("sequence number %d beyond %d entries: a gap", seq, n)
		}
		out[seq] = e
	}
	return out
}

func TestAppendQueryAndProve(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(testing.TB) journal.Store) {
		ctx := context.Background()
		store := open(t)
		clk := newFakeClock()
		// The late entry below must stay after the last checkpoint: with the
		// default interval, advancing the fake clock by an hour makes the
		// checkpointer (driven by the same clock) sign it, racing the query.
		j := newJournal(t, store, journal.Config{CheckpointEvery: 50, CheckpointInterval: 48 * time.Hour, Clock: clk})
		const n = 230
		appended := appendAll(t, j, n)
		cp, err := j.Checkpoint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if cp.Size != n {
			t.Fatalf("checkpoint size %d, want %d", cp.Size, n)
		}

		clk.Advance(time.Hour)
		late := sampleEntry(0)
		late.Event = journal.EventAuditQuery
		if _, err := j.Append(ctx, late); err != nil {
			t.Fatal(err)
		}

		// The stored entries are the appended ones, with their sequence numbers.
		all := readAll(t, j, journal.Filter{})
		if len(all) != n+1 {
			t.Fatalf("query returned %d entries, want %d", len(all), n+1)
		}
		for i, r := range all[:n] {
			want := appended[i]
			if r.Entry.Seq != uint64(i) || r.LeafIndex != uint64(i) {
				t.Fatalf("entry %d has seq %d", i, r.Entry.Seq)
			}
			got := r.Entry
			got.Seq, got.Time = 0, time.Time{}
			want.Fields = slices.Clone(want.Fields)
			slices.Sort(want.Fields)
			want.Consent.Clause = slices.Clone(want.Consent.Clause)
			slices.Sort(want.Consent.Clause)
			if want.Fields == nil {
				got.Fields = nil
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("entry %d differs (-want +got):\n%s", i, diff)
			}
		}

		filters := map[string]journal.Filter{
			"subject":             {Subjects: []string{subjectRef(3)}},
			"two subjects":        {Subjects: []string{subjectRef(3), subjectRef(5)}},
			"record":              {RecordID: "rec-7"},
			"incident":            {IncidentID: "inc-2"},
			"authority":           {Authority: "municipality:0851"},
			"events":              {Events: []journal.EventType{journal.EventQueued, journal.EventDelivered}},
			"time range":          {Since: clk.Now().Add(-time.Minute), Until: clk.Now().Add(time.Minute)},
			"before":              {Until: clk.Now().Add(-time.Minute)},
			"subject and events":  {Subjects: []string{subjectRef(1), subjectRef(2)}, Events: []journal.EventType{journal.EventReceived, journal.EventRejected, journal.EventQueued}},
			"authority and event": {Authority: "police:nordjylland", Events: []journal.EventType{journal.EventWithheld}},
			"scope":               {Scope: []string{"municipality:0851", "police:nordjylland"}},
			"scope and authority": {Scope: []string{"municipality:0851", "region:1084"}, Authority: "region:1084"},
		}
		for name, f := range filters {
			t.Run(name, func(t *testing.T) {
				var want []uint64
				for _, r := range all {
					if matches(f, r.Entry) {
						want = append(want, r.LeafIndex)
					}
				}
				if len(want) == 0 {
					t.Fatal("the filter matches nothing: a useless case")
				}
				var got []uint64
				for _, r := range readAll(t, j, f) {
					got = append(got, r.LeafIndex)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Fatalf("results differ (-want +got):\n%s", diff)
				}
			})
		}

		// Pages with proofs: every covered result proves its inclusion.
		q := journal.Query{Filter: journal.Filter{Authority: "region:1084"}, Limit: 7, Proofs: true}
		pages, proven := 0, 0
		for {
			p, err := j.Query(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			if p.Checkpoint == nil || p.Checkpoint.Size != n {
				t.Fatalf("page checkpoint %+v", p.Checkpoint)
			}
			for _, r := range p.Results {
				if r.Covered != (r.LeafIndex < n) {
					t.Fatalf("entry %d: covered %v", r.LeafIndex, r.Covered)
				}
				if !r.Covered {
					if r.Proof != nil {
						t.Fatalf("entry %d has a proof without a checkpoint", r.LeafIndex)
					}
					continue
				}
				if err := journal.VerifyInclusion(r.Leaf, r.LeafIndex, r.Proof, p.Checkpoint.Checkpoint); err != nil {
					t.Fatalf("entry %d: %v", r.LeafIndex, err)
				}
				proven++
			}
			if !p.More {
				break
			}
			q.Cursor = p.Next
		}
		if pages < 3 || proven == 0 {
			t.Fatalf("%d pages, %d proofs", pages, proven)
		}

		// A cursor belongs to its query.
		p, err := j.Query(ctx, journal.Query{Filter: journal.Filter{RecordID: "rec-1"}, Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := j.Query(ctx, journal.Query{Filter: journal.Filter{RecordID: "rec-2"}, Cursor: p.Next}); !errors.Is(err, journal.ErrInvalidQuery) {
			t.Fatalf("a cursor of another query: %v", err)
		}
		for _, bad := range []journal.Query{
			{Cursor: "c1.garbage"},
			{Limit: 100000},
			{Filter: journal.Filter{Subjects: []string{"0101901234"}}},
			{Filter: journal.Filter{Authority: "Region 1084"}},
			{Filter: journal.Filter{Scope: []string{"region:1084", "Region 1085"}}},
			{Filter: journal.Filter{Since: clk.Now(), Until: clk.Now()}},
		} {
			if _, err := j.Query(ctx, bad); !errors.Is(err, journal.ErrInvalidQuery) {
				t.Errorf("query %+v: %v", bad, err)
			}
		}

		// A cursor is stable: entries appended later appear on the next page.
		f := journal.Filter{RecordID: "rec-5"}
		first := readAll(t, j, f)
		last, err := j.Query(ctx, journal.Query{Filter: f, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		extra := sampleEntry(5)
		if _, err := j.Append(ctx, extra); err != nil {
			t.Fatal(err)
		}
		more, err := j.Query(ctx, journal.Query{Filter: f, Cursor: last.Next})
		if err != nil {
			t.Fatal(err)
		}
		if len(more.Results) != 1 || more.Results[0].LeafIndex != uint64(n+1) || len(first) != len(last.Results) {
			t.Fatalf("continuing after the end: %d results", len(more.Results))
		}
	})
}

func readAll(t *testing.T, j *journal.Journal, f journal.Filter) []journal.Result {
	t.Helper()
	var out []journal.Result
	q := journal.Query{Filter: f, Limit: 13}
	for {
		p, err := j.Query(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p.Results...)
		if !p.More {
			return out
		}
		q.Cursor = p.Next
	}
}

// matches is the reference semantics of a Filter.
func matches(f journal.Filter, e journal.Entry) bool {
	switch {
	case len(f.Subjects) > 0 && !slices.Contains(f.Subjects, e.Subject.Ref),
		f.RecordID != "" && e.RecordID != f.RecordID,
		f.IncidentID != "" && e.IncidentID != f.IncidentID,
		f.Authority != "" && e.Actor != f.Authority && e.Counterpart != f.Authority,
		len(f.Scope) > 0 && !slices.Contains(f.Scope, e.Actor) && !slices.Contains(f.Scope, e.Counterpart),
		len(f.Events) > 0 && !slices.Contains(f.Events, e.Event),
		!f.Since.IsZero() && e.Time.Before(f.Since),
		!f.Until.IsZero() && !e.Time.Before(f.Until):
		return false
	}
	return true
}

// TestCheckpoints: one at every multiple of CheckpointEvery, one when the
// interval passes, all kept, each consistent with the one before.
func TestCheckpoints(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(testing.TB) journal.Store) {
		ctx := context.Background()
		clk := newFakeClock()
		j := newJournal(t, open(t), journal.Config{CheckpointEvery: 10, CheckpointInterval: 40 * time.Millisecond, Clock: clk})
		batch := make([]journal.Entry, 35)
		for i := range batch {
			batch[i] = sampleEntry(i)
		}
		if _, err := j.Append(ctx, batch...); err != nil {
			t.Fatal(err)
		}
		// The fake clock has not moved: only the multiples of 10 are due...
		waitFor(t, "checkpoints at 10, 20, 30", func() bool { return sizes(t, j) == "10 20 30" || sizes(t, j) == "10 20 30 35" })
		// ...until the interval passes on the journal's clock.
		clk.Advance(time.Minute)
		waitFor(t, "a checkpoint at 35", func() bool { return sizes(t, j) == "10 20 30 35" })

		cps, err := j.Checkpoints(ctx, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		vkey := j.VerifierKey()
		var prev *journal.Checkpoint
		for _, sc := range cps {
			c, err := journal.OpenCheckpoint(sc.Note, vkey)
			if err != nil {
				t.Fatal(err)
			}
			if c != sc.Checkpoint {
				t.Fatalf("stored checkpoint %+v, note says %+v", sc.Checkpoint, c)
			}
			for i := range c.Size {
				pr, err := j.InclusionProof(ctx, i, c.Size)
				if err != nil {
					t.Fatal(err)
				}
				l := leafAt(t, j, i)
				if err := journal.VerifyInclusion(l, i, pr, c); err != nil {
					t.Fatalf("inclusion of %d in %d: %v", i, c.Size, err)
				}
			}
			if prev != nil {
				pr, err := j.ConsistencyProof(ctx, prev.Size, c.Size)
				if err != nil {
					t.Fatal(err)
				}
				if err := journal.VerifyConsistency(pr, *prev, c); err != nil {
					t.Fatalf("consistency %d -> %d: %v", prev.Size, c.Size, err)
				}
				if root, err := j.RootAt(ctx, c.Size); err != nil || root != c.Root {
					t.Fatalf("RootAt(%d) = %x, %v", c.Size, root, err)
				}
			}
			prev = &c
		}
		// Proofs beyond the tree are refused.
		if _, err := j.InclusionProof(ctx, 3, 36); !errors.Is(err, journal.ErrInvalidQuery) {
			t.Fatalf("a proof beyond the tree: %v", err)
		}
	})
}

func leafAt(t *testing.T, j *journal.Journal, i uint64) []byte {
	t.Helper()
	for _, r := range readAll(t, j, journal.Filter{}) {
		if r.LeafIndex == i {
			return r.Leaf
		}
	}
	t.Fatalf("no entry %d", i)
	return nil
}

func sizes(t *testing.T, j *journal.Journal) string {
	cps, err := j.Checkpoints(context.Background(), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	s := ""
	for i, c := range cps {
		if i > 0 {
			s += " "
		}
		s += itoa(c.Size)
	}
	return s
}

func itoa(n uint64) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// failingStore fails appends while fail is set, and blocks them while
// block is not nil.
type failingStore struct {
	journal.Store
	mu    sync.Mutex
	fail  bool
	block chan struct{}
}

func (s *failingStore) Append(ctx context.Context, build func(journal.Head) (*journal.Batch, error)) error {
	s.mu.Lock()
	fail, block := s.fail, s.block
	s.mu.Unlock()
	if block != nil {
		<-block
	}
	if fail {
		return errors.New("disk on fire")
	}
	return s.Store.Append(ctx, build)
}

// flakySigner fails while fail is set.
type flakySigner struct {
	ed25519.PrivateKey
	mu   sync.Mutex
	fail bool
}

func (s *flakySigner) Sign(r io.Reader, msg []byte, o crypto.SignerOpts) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		return nil, errors.New("vault sealed")
	}
	return s.PrivateKey.Sign(r, msg, o)
}

// wrongSigner returns signatures of another key.
type wrongSigner struct{ ed25519.PrivateKey }

func (s wrongSigner) Sign(r io.Reader, msg []byte, o crypto.SignerOpts) ([]byte, error) {
	return testKey(9).Sign(r, msg, o)
}

func TestFailClosed(t *testing.T) {
	ctx := context.Background()
	count := func(t *testing.T, s journal.Store) uint64 {
		n, err := s.Size(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	t.Run("storage fails", func(t *testing.T) {
		fs := &failingStore{Store: openSQLite(t)}
		j := newJournal(t, fs, journal.Config{})
		fs.fail = true
		_, err := j.Append(ctx, sampleEntry(1))
		var ue *journal.UnavailableError
		if !errors.Is(err, journal.ErrUnavailable) || !errors.As(err, &ue) {
			t.Fatalf("append on failing storage: %v", err)
		}
		fs.fail = false
		if seq, err := j.Append(ctx, sampleEntry(2)); err != nil || seq != 0 {
			t.Fatalf("after recovery: %d, %v (the failed entry must not have taken a number)", seq, err)
		}
	})

	t.Run("signer fails", func(t *testing.T) {
		store := openSQLite(t)
		signer := &flakySigner{PrivateKey: testKey(1)}
		clk := newFakeClock()
		j, err := journal.New(ctx, store, signer, journal.Config{Origin: testOrigin, CheckpointEvery: 5, MaxUnsigned: 12, Clock: clk})
		if err != nil {
			t.Fatal(err)
		}
		defer j.Close(ctx)
		signer.mu.Lock()
		signer.fail = true
		signer.mu.Unlock()
		for i := range 12 {
			if _, err := j.Append(ctx, sampleEntry(i)); err != nil {
				t.Fatalf("entry %d: %v", i, err)
			}
		}
		_, err = j.Append(ctx, sampleEntry(12))
		if !errors.Is(err, journal.ErrUnavailable) {
			t.Fatalf("the 13th unsigned entry: %v", err)
		}
		if n := count(t, store); n != 12 {
			t.Fatalf("%d entries stored", n)
		}
		if _, err := j.Checkpoint(ctx); !errors.Is(err, journal.ErrUnavailable) {
			t.Fatalf("Checkpoint with a failing signer: %v", err)
		}
		signer.mu.Lock()
		signer.fail = false
		signer.mu.Unlock()
		// Nothing kicks the checkpointer now: its next poll, on the
		// journal's clock, signs what is due.
		clk.Advance(time.Second)
		waitFor(t, "the checkpoints", func() bool { return sizes(t, j) == "5 10" || sizes(t, j) == "5 10 12" })
		if _, err := j.Append(ctx, sampleEntry(12)); err != nil {
			t.Fatalf("after the signer recovered: %v", err)
		}
	})

	t.Run("signer returns bad signatures", func(t *testing.T) {
		store := openSQLite(t)
		j, err := journal.New(ctx, store, wrongSigner{testKey(1)}, journal.Config{Origin: testOrigin, Clock: newFakeClock()})
		if err != nil {
			t.Fatal(err)
		}
		defer j.Close(ctx)
		if _, err := j.Append(ctx, sampleEntry(1)); err != nil {
			t.Fatal(err)
		}
		if _, err := j.Checkpoint(ctx); !errors.Is(err, journal.ErrUnavailable) {
			t.Fatalf("a signature that does not verify was accepted: %v", err)
		}
		if _, err := j.LatestCheckpoint(ctx); !errors.Is(err, journal.ErrNoCheckpoint) {
			t.Fatalf("a checkpoint was stored: %v", err)
		}
	})

	t.Run("queue full and cancelled", func(t *testing.T) {
		fs := &failingStore{Store: openSQLite(t), block: make(chan struct{})}
		j := newJournal(t, fs, journal.Config{MaxBatch: 2, QueueEntries: 4})
		results := make(chan error, 3)
		go func() { _, err := j.Append(ctx, sampleEntry(0)); results <- err }() // taken by the writer, blocks
		time.Sleep(20 * time.Millisecond)                                       // the writer takes it and blocks
		go func() { _, err := j.Append(ctx, sampleEntry(1), sampleEntry(2)); results <- err }()
		cctx, cancel := context.WithCancel(ctx)
		go func() { _, err := j.Append(cctx, sampleEntry(3), sampleEntry(4)); results <- err }()
		time.Sleep(20 * time.Millisecond)
		if _, err := j.Append(ctx, sampleEntry(5)); !errors.Is(err, journal.ErrUnavailable) {
			t.Fatalf("a full queue: %v", err)
		}
		cancel()
		if err := <-results; !errors.Is(err, journal.ErrUnavailable) || !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled while queued: %v", err)
		}
		close(fs.block)
		for range 2 {
			if err := <-results; err != nil {
				t.Fatal(err)
			}
		}
		if n := count(t, fs); n != 3 {
			t.Fatalf("%d entries stored, want 3 (the cancelled ones must not be written)", n)
		}
	})

	t.Run("invalid entry", func(t *testing.T) {
		store := openSQLite(t)
		j := newJournal(t, store, journal.Config{})
		bad := sampleEntry(1)
		bad.Reason = "cpr 0101901234"
		_, err := j.Append(ctx, sampleEntry(0), bad)
		var ee *journal.EntryError
		if !errors.As(err, &ee) || ee.Index != 1 || ee.Field != "reason" || errors.Is(err, journal.ErrUnavailable) {
			t.Fatalf("invalid entry: %v", err)
		}
		if n := count(t, store); n != 0 {
			t.Fatalf("%d entries stored", n)
		}
	})

	t.Run("closed", func(t *testing.T) {
		store := openSQLite(t)
		j := newJournal(t, store, journal.Config{})
		if _, err := j.Append(ctx, sampleEntry(0)); err != nil {
			t.Fatal(err)
		}
		if err := j.Close(ctx); err != nil {
			t.Fatal(err)
		}
		_, err := j.Append(ctx, sampleEntry(1))
		if !errors.Is(err, journal.ErrClosed) || !errors.Is(err, journal.ErrUnavailable) {
			t.Fatalf("append after Close: %v", err)
		}
		// Close signed a last checkpoint of everything.
		cp, err := journal.NewReader(store, newFakeClock()).LatestCheckpoint(ctx)
		if err != nil || cp.Size != 1 {
			t.Fatalf("last checkpoint %+v, %v", cp, err)
		}
	})
}

func TestNewRefuses(t *testing.T) {
	ctx := context.Background()
	store := openSQLite(t)
	_, ecdsaKey := mustECDSA(t)
	clk := newFakeClock()
	cases := map[string]struct {
		signer crypto.Signer
		cfg    journal.Config
	}{
		"no origin":         {testKey(1), journal.Config{Clock: clk}},
		"origin with space": {testKey(1), journal.Config{Origin: "a b", Clock: clk}},
		"origin with plus":  {testKey(1), journal.Config{Origin: "a+b", Clock: clk}},
		"not ed25519":       {ecdsaKey, journal.Config{Origin: testOrigin, Clock: clk}},
		"no signer":         {nil, journal.Config{Origin: testOrigin, Clock: clk}},
		"max unsigned":      {testKey(1), journal.Config{Origin: testOrigin, CheckpointEvery: 10, MaxUnsigned: 10, Clock: clk}},
		"batch too large":   {testKey(1), journal.Config{Origin: testOrigin, MaxBatch: 1 << 20, Clock: clk}},
		"no clock":          {testKey(1), journal.Config{Origin: testOrigin}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if j, err := journal.New(ctx, store, c.signer, c.cfg); err == nil {
				j.Close(ctx)
				t.Fatal("accepted")
			}
		})
	}
	// A store with another journal's checkpoints.
	j := newJournal(t, store, journal.Config{})
	j.Append(ctx, sampleEntry(0))
	j.Close(ctx)
	if _, err := journal.New(ctx, store, testKey(1), journal.Config{Origin: "other.example/log", Clock: clk}); !errors.Is(err, journal.ErrInvalidCheckpoint) {
		t.Fatalf("another origin: %v", err)
	}
}

// sizeCountingStore counts the checkpointer's looks at the tree size.
type sizeCountingStore struct {
	journal.Store
	sizes atomic.Int64
}

func (s *sizeCountingStore) Size(ctx context.Context) (uint64, error) {
	s.sizes.Add(1)
	return s.Store.Size(ctx)
}

// TestCheckpointerFollowsTheClock: the checkpointer polls on a ticker of
// the journal's clock, not of the wall clock. With a fake clock that does
// not move it never polls, however much real time passes; advancing the
// fake clock past CheckpointInterval makes it poll and sign at once, and
// Close stops its ticker.
func TestCheckpointerFollowsTheClock(t *testing.T) {
	ctx := context.Background()
	clk := newFakeClock()
	store := &sizeCountingStore{Store: openSQLite(t)}
	// A 20 ms interval: a wall-clock ticker would poll every 5 ms.
	j, err := journal.New(ctx, store, testKey(1), journal.Config{Origin: testOrigin, CheckpointEvery: 1000,
		CheckpointInterval: 20 * time.Millisecond, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	if n := clk.Pending(); n != 1 {
		t.Fatalf("%d timers wait on the journal's clock after New, want its checkpointer's ticker", n)
	}
	if _, err := j.Append(ctx, sampleEntry(0), sampleEntry(1), sampleEntry(2)); err != nil {
		t.Fatal(err)
	}
	if cp, err := j.Checkpoint(ctx); err != nil || cp.Size != 3 || !cp.SignedAt.Equal(t0) {
		t.Fatalf("checkpoint %+v, %v; want size 3 signed at %v", cp.Checkpoint, err, t0)
	}
	if _, err := j.Append(ctx, sampleEntry(3), sampleEntry(4)); err != nil {
		t.Fatal(err)
	}
	// New kicks the checkpointer once and Checkpoint looks once: wait for
	// both, then give a wall-clock ticker 20 chances to poll.
	waitFor(t, "the first two looks at the tree size", func() bool { return store.sizes.Load() >= 2 })
	before := store.sizes.Load()
	time.Sleep(100 * time.Millisecond) // real time, which the journal must not follow
	if got := store.sizes.Load(); got != before {
		t.Fatalf("the checkpointer polled %d times while its clock stood still", got-before)
	}
	if s := sizes(t, j); s != "3" {
		t.Fatalf("checkpoints %q while the clock stood still, want only 3", s)
	}

	// The interval passes on the journal's clock: the next tick signs.
	clk.Advance(time.Minute)
	waitFor(t, "a checkpoint at 5", func() bool { return sizes(t, j) == "3 5" })
	cp, err := j.LatestCheckpoint(ctx)
	if err != nil || !cp.SignedAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("latest checkpoint %+v, %v; want it signed at %v", cp.Checkpoint, err, t0.Add(time.Minute))
	}
	if err := j.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if n := clk.Pending(); n != 0 {
		t.Fatalf("%d timers still wait on the clock after Close", n)
	}
}
