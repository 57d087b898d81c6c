package clock

import (
	"sort"
	"sync"
	"time"
)

// Fake is a clock that moves only when told to (Advance, Set). Its timers
// and tickers fire, in deadline order, as the time passes their deadlines.
// It is safe for concurrent use, so a test can advance it while the code
// under test waits on its channels. The zero Fake is not usable: use NewFake.
type Fake struct {
	mu      sync.Mutex
	now     time.Time
	waiters []*fakeWaiter
	changed chan struct{} // closed and replaced when waiters are added
}

// NewFake returns a fake clock at instant t.
func NewFake(t time.Time) *Fake {
	return &Fake{now: t, changed: make(chan struct{})}
}

// fakeWaiter is a pending timer or ticker.
type fakeWaiter struct {
	f        *Fake
	c        chan time.Time
	deadline time.Time
	period   time.Duration // > 0 for a ticker
	active   bool
}

// Now is the fake's current instant.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// After returns a channel that receives the time once the fake has advanced by d.
func (f *Fake) After(d time.Duration) <-chan time.Time { return f.NewTimer(d).C() }

// NewTimer returns a timer that fires when the fake has advanced by d.
func (f *Fake) NewTimer(d time.Duration) Timer {
	w := &fakeWaiter{f: f, c: make(chan time.Time, 1)}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.schedule(w, d)
	return fakeTimer{w}
}

// NewTicker returns a ticker that fires each time the fake passes another
// multiple of d from now. It panics when d is not positive, like time.NewTicker.
func (f *Fake) NewTicker(d time.Duration) Ticker {
	if d <= 0 {
		panic("clock: non-positive interval for NewTicker")
	}
	w := &fakeWaiter{f: f, c: make(chan time.Time, 1), period: d}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.schedule(w, d)
	return fakeTicker{w}
}

// schedule makes w pending with a deadline d from now; f.mu is held. A
// timer that is already due fires at once.
func (f *Fake) schedule(w *fakeWaiter, d time.Duration) {
	w.deadline = f.now.Add(d)
	if w.period == 0 && d <= 0 {
		w.fire(f.now)
		return
	}
	if !w.active {
		w.active = true
		f.waiters = append(f.waiters, w)
	}
	close(f.changed)
	f.changed = make(chan struct{})
}

// unschedule removes w; f.mu is held. It reports whether w was pending.
func (f *Fake) unschedule(w *fakeWaiter) bool {
	if !w.active {
		return false
	}
	w.active = false
	for i, x := range f.waiters {
		if x == w {
			f.waiters = append(f.waiters[:i], f.waiters[i+1:]...)
			break
		}
	}
	return true
}

// fire sends t without blocking: like the time package's channels, a tick
// nobody has read yet is not queued twice.
func (w *fakeWaiter) fire(t time.Time) {
	select {
	case w.c <- t:
	default:
	}
}

// Advance moves the fake on by d (which must not be negative) and fires
// every timer and ticker whose deadline it passes, in deadline order.
func (f *Fake) Advance(d time.Duration) {
	if d < 0 {
		panic("clock: Advance with a negative duration")
	}
	f.mu.Lock()
	target := f.now.Add(d)
	f.mu.Unlock()
	f.Set(target)
}

// Set moves the fake to instant t, which must not be before its current
// instant, firing what falls due on the way.
func (f *Fake) Set(t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if t.Before(f.now) {
		panic("clock: Set would move the fake clock backwards")
	}
	for {
		due := f.nextDue(t)
		if due == nil {
			break
		}
		f.now = due.deadline
		due.fire(f.now)
		if due.period > 0 {
			// Ticks a reader has not taken are dropped, so a long jump
			// skips to the first deadline after t instead of looping
			// through every period in between.
			due.deadline = due.deadline.Add(due.period)
			if !due.deadline.After(t) {
				n := t.Sub(due.deadline)/due.period + 1
				due.deadline = due.deadline.Add(n * due.period)
			}
		} else {
			f.unschedule(due)
		}
	}
	f.now = t
}

// nextDue is the pending waiter with the earliest deadline not after t; f.mu is held.
func (f *Fake) nextDue(t time.Time) *fakeWaiter {
	sort.SliceStable(f.waiters, func(i, j int) bool { return f.waiters[i].deadline.Before(f.waiters[j].deadline) })
	if len(f.waiters) == 0 || f.waiters[0].deadline.After(t) {
		return nil
	}
	return f.waiters[0]
}

// Pending is the number of timers and tickers waiting to fire.
func (f *Fake) Pending() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.waiters)
}

// WaitPending returns once at least n timers or tickers are pending, or when
// done is closed (it then reports false). A test calls it before Advance to
// know that the code under test has started to wait.
func (f *Fake) WaitPending(done <-chan struct{}, n int) bool {
	for {
		f.mu.Lock()
		ok, changed := len(f.waiters) >= n, f.changed
		f.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-changed:
		case <-done:
			return false
		}
	}
}

type fakeTimer struct{ w *fakeWaiter }

func (t fakeTimer) C() <-chan time.Time { return t.w.c }

func (t fakeTimer) Stop() bool {
	t.w.f.mu.Lock()
	defer t.w.f.mu.Unlock()
	return t.w.f.unschedule(t.w)
}

func (t fakeTimer) Reset(d time.Duration) bool {
	f := t.w.f
	f.mu.Lock()
	defer f.mu.Unlock()
	was := f.unschedule(t.w)
	f.schedule(t.w, d)
	return was
}

type fakeTicker struct{ w *fakeWaiter }

func (t fakeTicker) C() <-chan time.Time { return t.w.c }

func (t fakeTicker) Stop() {
	t.w.f.mu.Lock()
	defer t.w.f.mu.Unlock()
	t.w.f.unschedule(t.w)
}

func (t fakeTicker) Reset(d time.Duration) {
	if d <= 0 {
		panic("clock: non-positive interval for Ticker.Reset")
	}
	f := t.w.f
	f.mu.Lock()
	defer f.mu.Unlock()
	f.unschedule(t.w)
	t.w.period = d
	f.schedule(t.w, d)
}
