package envelope

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/psykosocial/exchange/internal/clock"
)

// ErrReplayCacheFull is returned by MemoryReplayCache.Seen when remembering
// one more id would pass a bound. Open then refuses the message as
// unavailable (the sender retries later) rather than forget an id and let
// a replay through.
var ErrReplayCacheFull = errors.New("envelope: replay cache full")

// MemoryReplayCacheConfig configures a MemoryReplayCache.
type MemoryReplayCacheConfig struct {
	// Leeway is added to exp: an id is remembered until exp + Leeway. It
	// must be at least the Opener's leeway; 0 means DefaultLeeway.
	Leeway time.Duration
	// MaxEntries bounds the ids remembered; 0 means about two million.
	MaxEntries int
	// MaxPerIssuer bounds the ids remembered for one issuer; 0 means about
	// half a million.
	MaxPerIssuer int
	// Clock tells when remembered ids have expired. Required:
	// NewMemoryReplayCache refuses a nil Clock.
	Clock clock.Clock
}

// MemoryReplayCache is a ReplayCache in memory, for one gateway process
// (the durable, shared one lives with the store). Expired ids are swept on
// every call, oldest first. It is safe for concurrent use.
type MemoryReplayCache struct {
	leeway       time.Duration
	maxEntries   int
	maxPerIssuer int
	clock        clock.Clock

	mu        sync.Mutex
	until     map[replayKey]time.Time
	perIssuer map[string]int
	queue     expiryQueue
}

var _ ReplayCache = (*MemoryReplayCache)(nil)

type replayKey struct{ issuer, jti string }

// NewMemoryReplayCache validates cfg and returns an empty cache.
func NewMemoryReplayCache(cfg MemoryReplayCacheConfig) (*MemoryReplayCache, error) {
	if cfg.Leeway < 0 || cfg.Leeway > maxLeeway || cfg.MaxEntries < 0 || cfg.MaxPerIssuer < 0 {
		return nil, errors.New("envelope: MemoryReplayCacheConfig: negative bound or leeway beyond 5 minutes")
	}
	if cfg.Clock == nil {
		return nil, errors.New("envelope: MemoryReplayCacheConfig.Clock is nil")
	}
	c := &MemoryReplayCache{
		leeway:       cfg.Leeway,
		maxEntries:   cfg.MaxEntries,
		maxPerIssuer: cfg.MaxPerIssuer,
		clock:        cfg.Clock,
		until:        map[replayKey]time.Time{},
		perIssuer:    map[string]int{},
	}
	if c.leeway == 0 {
		c.leeway = DefaultLeeway
	}
	if c.maxEntries == 0 {
		c.maxEntries = defaultReplayMaxEntries
	}
	if c.maxPerIssuer == 0 {
		c.maxPerIssuer = defaultReplayMaxPerIssuer
	}
	return c, nil
}

// Seen implements ReplayCache.
func (c *MemoryReplayCache) Seen(ctx context.Context, issuer, jti string, exp time.Time) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	now := c.clock.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sweep(now)
	k := replayKey{issuer, jti}
	if _, ok := c.until[k]; ok {
		return true, nil
	}
	if len(c.until) >= c.maxEntries {
		return false, fmt.Errorf("%w: %d ids", ErrReplayCacheFull, c.maxEntries)
	}
	if c.perIssuer[issuer] >= c.maxPerIssuer {
		return false, fmt.Errorf("%w: %d ids of one issuer", ErrReplayCacheFull, c.maxPerIssuer)
	}
	until := exp.Add(c.leeway)
	c.until[k] = until
	c.perIssuer[issuer]++
	heap.Push(&c.queue, expiry{key: k, until: until})
	return false, nil
}

// Len returns the number of ids remembered, after sweeping expired ones.
func (c *MemoryReplayCache) Len() int {
	now := c.clock.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sweep(now)
	return len(c.until)
}

// sweep forgets every id whose time has passed. c.mu is held.
func (c *MemoryReplayCache) sweep(now time.Time) {
	for len(c.queue) > 0 && !c.queue[0].until.After(now) {
		e := heap.Pop(&c.queue).(expiry)
		delete(c.until, e.key)
		if n := c.perIssuer[e.key.issuer] - 1; n > 0 {
			c.perIssuer[e.key.issuer] = n
		} else {
			delete(c.perIssuer, e.key.issuer)
		}
	}
}

// expiry is one remembered id and when it may be forgotten.
type expiry struct {
	key   replayKey
	until time.Time
}

// expiryQueue is a min-heap of expiries, soonest first.
type expiryQueue []expiry

// Len implements heap.Interface.
func (q expiryQueue) Len() int { return len(q) }

// Less implements heap.Interface: the sooner expiry first.
func (q expiryQueue) Less(i, j int) bool { return q[i].until.Before(q[j].until) }

// Swap implements heap.Interface.
func (q expiryQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }

// Push implements heap.Interface.
func (q *expiryQueue) Push(x any) { *q = append(*q, x.(expiry)) }

// Pop implements heap.Interface.
func (q *expiryQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}
