// Package clock is the one way the gateway tells the time: every part that
// judges time, waits or ticks takes a Clock, so that tests pin the instant
// and move it on by hand. Only the binary's main package calls System; below
// main nothing reads the wall clock.
//
// The package also fixes the calendar of the Danish rules: ages, birth
// dates and "not in the future" for a date are judged on the calendar day in
// Europe/Copenhagen (see Danish and DanishDay). The zone data is embedded
// (time/tzdata), so the binary needs no zone files on the host.
package clock

import (
	"time"
)

// Clock tells the time and makes timers and tickers that follow it.
type Clock interface {
	// Now is the current instant.
	Now() time.Time
	// After returns a channel that receives the time once d has passed.
	After(d time.Duration) <-chan time.Time
	// NewTimer returns a timer that fires once after d.
	NewTimer(d time.Duration) Timer
	// NewTicker returns a ticker that fires every d; d must be positive.
	NewTicker(d time.Duration) Ticker
}

// Timer is a single event, like *time.Timer.
type Timer interface {
	// C is the channel the timer's time is sent on.
	C() <-chan time.Time
	// Stop prevents the timer from firing; it reports whether it stopped a
	// pending timer.
	Stop() bool
	// Reset makes the timer fire after d; it reports whether the timer was
	// pending.
	Reset(d time.Duration) bool
}

// Ticker delivers ticks at intervals, like *time.Ticker: a slow reader
// misses ticks rather than queueing them.
type Ticker interface {
	// C is the channel the ticks are sent on.
	C() <-chan time.Time
	// Stop turns the ticker off; no more ticks are sent.
	Stop()
	// Reset stops the ticker and restarts it with period d.
	Reset(d time.Duration)
}

// System returns the wall clock. Call it in main only.
func System() Clock { return systemClock{} }

type systemClock struct{}

func (systemClock) Now() time.Time                         { return time.Now() }
func (systemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }
func (systemClock) NewTimer(d time.Duration) Timer         { return systemTimer{time.NewTimer(d)} }
func (systemClock) NewTicker(d time.Duration) Ticker       { return systemTicker{time.NewTicker(d)} }

type systemTimer struct{ t *time.Timer }

func (s systemTimer) C() <-chan time.Time        { return s.t.C }
func (s systemTimer) Stop() bool                 { return s.t.Stop() }
func (s systemTimer) Reset(d time.Duration) bool { return s.t.Reset(d) }

type systemTicker struct{ t *time.Ticker }

func (s systemTicker) C() <-chan time.Time   { return s.t.C }
func (s systemTicker) Stop()                 { s.t.Stop() }
func (s systemTicker) Reset(d time.Duration) { s.t.Reset(d) }

// Fixed returns a clock that always tells instant t and whose timers never
// fire unless their duration is zero or negative. It suits code that only
// asks the time, such as validating a document as of a date
// (gateway validate -now); use a Fake to move time on.
func Fixed(t time.Time) Clock { return NewFake(t) }
