package clock_test

import (
	"testing"
	"time"

	"github.com/psykosocial/exchange/internal/clock"
)

var t0 = time.Date(2026, 12, 31, 22, 59, 0, 0, time.UTC)

func TestFakeTimerFiresOnlyWhenDue(t *testing.T) {
	f := clock.NewFake(t0)
	tm := f.NewTimer(time.Minute)
	f.Advance(59 * time.Second)
	select {
	case <-tm.C():
		t.Fatal("timer fired before its deadline")
	default:
	}
	f.Advance(time.Second)
	select {
	case got := <-tm.C():
		if want := t0.Add(time.Minute); !got.Equal(want) {
			t.Fatalf("fired with %v, want %v", got, want)
		}
	default:
		t.Fatal("timer did not fire at its deadline")
	}
	if f.Pending() != 0 {
		t.Fatalf("a fired timer is still pending")
	}
	if tm.Stop() {
		t.Fatal("Stop of a fired timer reported a pending timer")
	}
}

func TestFakeTimerStopAndReset(t *testing.T) {
	f := clock.NewFake(t0)
	tm := f.NewTimer(time.Minute)
	if !tm.Stop() {
		t.Fatal("Stop of a pending timer reported false")
	}
	f.Advance(time.Hour)
	select {
	case <-tm.C():
		t.Fatal("a stopped timer fired")
	default:
	}
	if tm.Reset(time.Second) {
		t.Fatal("Reset of a stopped timer reported it pending")
	}
	f.Advance(time.Second)
	select {
	case <-tm.C():
	default:
		t.Fatal("a reset timer did not fire")
	}
}

func TestFakeZeroTimerFiresAtOnce(t *testing.T) {
	f := clock.NewFake(t0)
	select {
	case <-f.After(0):
	default:
		t.Fatal("After(0) did not fire at once")
	}
}

func TestFakeTickerDropsUnreadTicks(t *testing.T) {
	f := clock.NewFake(t0)
	tk := f.NewTicker(10 * time.Second)
	defer tk.Stop()
	f.Advance(35 * time.Second) // ticks at 10, 20, 30: only the first is buffered
	got := <-tk.C()
	if want := t0.Add(10 * time.Second); !got.Equal(want) {
		t.Fatalf("first tick %v, want %v", got, want)
	}
	select {
	case x := <-tk.C():
		t.Fatalf("an unread tick was queued: %v", x)
	default:
	}
	f.Advance(5 * time.Second) // tick at 40
	if got := <-tk.C(); !got.Equal(t0.Add(40 * time.Second)) {
		t.Fatalf("tick %v, want %v", got, t0.Add(40*time.Second))
	}
	// A long jump does not loop through every period.
	f.Advance(24 * 365 * time.Hour)
	<-tk.C()
	tk.Reset(time.Minute)
	f.Advance(59 * time.Second)
	select {
	case <-tk.C():
		t.Fatal("reset ticker fired early")
	default:
	}
	f.Advance(time.Second)
	<-tk.C()
	tk.Stop()
	f.Advance(time.Hour)
	select {
	case <-tk.C():
		t.Fatal("a stopped ticker ticked")
	default:
	}
}

func TestFakeFiresInDeadlineOrder(t *testing.T) {
	f := clock.NewFake(t0)
	late := f.NewTimer(2 * time.Second)
	early := f.NewTimer(time.Second)
	f.Advance(3 * time.Second)
	a, b := <-early.C(), <-late.C()
	if !a.Before(b) {
		t.Fatalf("early fired at %v, late at %v", a, b)
	}
	if !f.Now().Equal(t0.Add(3 * time.Second)) {
		t.Fatalf("Now %v after Advance", f.Now())
	}
}

func TestFakeWaitPending(t *testing.T) {
	f := clock.NewFake(t0)
	done := make(chan time.Time)
	go func() { done <- <-f.After(time.Minute) }()
	if !f.WaitPending(nil, 1) {
		t.Fatal("WaitPending gave up")
	}
	f.Advance(time.Minute)
	if got := <-done; !got.Equal(t0.Add(time.Minute)) {
		t.Fatalf("waiter woke with %v", got)
	}
	stop := make(chan struct{})
	close(stop)
	if f.WaitPending(stop, 5) {
		t.Fatal("WaitPending reported 5 pending waiters")
	}
}

func TestFakeRefusesToGoBack(t *testing.T) {
	f := clock.NewFake(t0)
	defer func() {
		if recover() == nil {
			t.Fatal("Set to an earlier instant did not panic")
		}
	}()
	f.Set(t0.Add(-time.Second))
}

func TestFixedTellsOneInstant(t *testing.T) {
	c := clock.Fixed(t0)
	if !c.Now().Equal(t0) || !c.Now().Equal(t0) {
		t.Fatal("Fixed moved")
	}
}

func TestSystemClockRuns(t *testing.T) {
	c := clock.System()
	a := c.Now()
	<-c.After(time.Millisecond)
	if !c.Now().After(a) {
		t.Fatal("system clock did not move")
	}
	tk := c.NewTicker(time.Millisecond)
	<-tk.C()
	tk.Stop()
	tm := c.NewTimer(time.Hour)
	if !tm.Stop() {
		t.Fatal("Stop of a pending system timer reported false")
	}
}

func TestDanishDay(t *testing.T) {
	tests := []struct {
		at   time.Time
		want string
	}{
		{time.Date(2026, 12, 31, 23, 30, 0, 0, time.UTC), "2027-01-01"},   // CET: 00:30 on New Year's Day
		{time.Date(2026, 12, 31, 22, 59, 59, 0, time.UTC), "2026-12-31"},  // 23:59:59 Danish time
		{time.Date(2026, 6, 14, 22, 30, 0, 0, time.UTC), "2026-06-15"},    // CEST: 00:30
		{time.Date(2026, 6, 14, 21, 59, 0, 0, time.UTC), "2026-06-14"},    // CEST: 23:59
		{time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC), "2026-03-29"},      // the spring change
		{time.Date(2026, 10, 24, 22, 0, 0, 0, time.UTC), "2026-10-25"},    // the night of the autumn change
		{time.Date(2027, 1, 1, 0, 0, 0, 0, clock.Danish()), "2027-01-01"}, // the merger's first instant
	}
	for _, tt := range tests {
		y, m, d := clock.DanishDay(tt.at)
		if got := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Format(time.DateOnly); got != tt.want {
			t.Errorf("DanishDay(%v) = %s, want %s", tt.at, got, tt.want)
		}
	}
	if got := clock.DanishMidnight(2027, 1, 1); !got.Equal(time.Date(2026, 12, 31, 23, 0, 0, 0, time.UTC)) {
		t.Errorf("DanishMidnight(2027-01-01) = %v", got.UTC())
	}
	if got := clock.DanishMidnight(2026, 7, 1); !got.Equal(time.Date(2026, 6, 30, 22, 0, 0, 0, time.UTC)) {
		t.Errorf("DanishMidnight(2026-07-01) = %v", got.UTC())
	}
}
