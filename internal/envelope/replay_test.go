package envelope

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestMemoryReplayCache(t *testing.T) {
	clock := newClock()
	c, err := NewMemoryReplayCache(MemoryReplayCacheConfig{Clock: clock, MaxEntries: 5, MaxPerIssuer: 3})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	exp := t0.Add(2 * time.Minute)
	steps := []struct {
		name    string
		advance time.Duration
		issuer  string
		jti     string
		seen    bool
		err     error
	}{
		{"first", 0, sender, "a", false, nil},
		{"again", 0, sender, "a", true, nil},
		{"same jti, other issuer", 0, stranger, "a", false, nil},
		{"second of the issuer", 0, sender, "b", false, nil},
		{"third of the issuer", 0, sender, "c", false, nil},
		{"fourth of the issuer: per-issuer bound", 0, sender, "d", false, ErrReplayCacheFull},
		{"another issuer fits", 0, bystander, "a", false, nil},
		{"total bound", 0, GatewayID, "a", false, ErrReplayCacheFull},
		{"still remembered at exp + leeway - 1s", 2*time.Minute + DefaultLeeway - time.Second, sender, "a", true, nil},
		{"forgotten at exp + leeway", time.Second, sender, "a", false, nil},
	}
	for _, s := range steps {
		clock.Advance(s.advance)
		seen, err := c.Seen(ctx, s.issuer, s.jti, exp)
		if seen != s.seen || !errors.Is(err, s.err) || (s.err == nil && err != nil) {
			t.Errorf("%s: seen=%v err=%v, want seen=%v err=%v", s.name, seen, err, s.seen, s.err)
		}
	}
	// Everything, including the id just added for an exp that has passed, is forgotten.
	if n := c.Len(); n != 0 {
		t.Errorf("after the sweep %d ids remain, want 0", n)
	}
}

func TestMemoryReplayCacheConcurrent(t *testing.T) {
	c, err := NewMemoryReplayCache(MemoryReplayCacheConfig{Clock: newClock()})
	if err != nil {
		t.Fatal(err)
	}
	var fresh atomic.Int32
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			seen, err := c.Seen(context.Background(), sender, "same", t0.Add(time.Minute))
			if err != nil {
				t.Error(err)
			}
			if !seen {
				fresh.Add(1)
			}
		})
	}
	wg.Wait()
	if fresh.Load() != 1 {
		t.Errorf("%d concurrent callers saw the id as new, want 1", fresh.Load())
	}
}

func TestMemoryReplayCacheSweepsInOrder(t *testing.T) {
	clock := newClock()
	c, err := NewMemoryReplayCache(MemoryReplayCacheConfig{Clock: clock, Leeway: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		// Expiries out of order: the heap must still forget the soonest first.
		exp := t0.Add(time.Duration((i*37)%100+1) * time.Second)
		if _, err := c.Seen(context.Background(), sender, fmt.Sprint(i), exp); err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(51 * time.Second) // forgets those with exp + 1s <= t0 + 51s: exp <= 50s
	if n := c.Len(); n != 50 {
		t.Errorf("%d ids remain, want 50", n)
	}
	clock.Advance(time.Hour)
	if n := c.Len(); n != 0 {
		t.Errorf("%d ids remain, want none", n)
	}
}

func TestOpenFailsClosedWhenTheReplayCacheIsFull(t *testing.T) {
	w := newWorld(t, ecSuite(t))
	full, err := NewMemoryReplayCache(MemoryReplayCacheConfig{Clock: w.clock, MaxEntries: 1})
	if err != nil {
		t.Fatal(err)
	}
	o, err := NewOpener(OpenerConfig{DecryptionKeys: []DecryptionKey{w.dec}, Senders: w.trust, Replay: full, Clock: w.clock})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.Open(context.Background(), w.seal(KindRegistration).Envelope, w.expect); err != nil {
		t.Fatal(err)
	}
	_, err = o.Open(context.Background(), w.seal(KindRegistration).Envelope, w.expect)
	var oe *OpenError
	if !errors.As(err, &oe) || oe.Check != CheckReplay || !errors.Is(err, ErrUnavailable) || !errors.Is(err, ErrReplayCacheFull) {
		t.Errorf("Open with a full cache: %v", err)
	}
}
