package gateway

import (
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/psykosocial/exchange/internal/envelope"
	"github.com/psykosocial/exchange/internal/fault"
)

// TestAdmissionLimits: a sender gets at most its share, the gateway at
// most its total; a place is free again once left (and leaving twice
// frees it once); a configuration that lets one sender fill the gateway is
// refused.
func TestAdmissionLimits(t *testing.T) {
	a := newAdmission(Admission{MaxInFlight: 3, MaxPerSender: 2})
	var leaves []func()
	enter := func(sender string) error {
		leave, err := a.enter(sender)
		if err == nil {
			leaves = append(leaves, leave)
		}
		return err
	}
	for _, s := range []string{"region:1081", "region:1081"} {
		if err := enter(s); err != nil {
			t.Fatal(err)
		}
	}
	if err := enter("region:1081"); !errors.Is(err, fault.ErrRateLimited) {
		t.Fatalf("the sender's third: %v, want rate limited", err)
	}
	if err := enter("region:1082"); err != nil {
		t.Fatalf("another sender is refused: %v", err)
	}
	err := enter("municipality:0101")
	if fe, ok := fault.As(err); !ok || !errors.Is(err, fault.ErrUnavailable) || fe.Type != "busy" || fe.RetryAfter <= 0 {
		t.Fatalf("past the total: %v, want busy with a Retry-After", err)
	}
	leaves[0]()
	leaves[0]()
	if a.inFlight() != 2 {
		t.Fatalf("%d in flight after one left (twice)", a.inFlight())
	}
	if err := enter("region:1081"); err != nil {
		t.Fatalf("the freed place: %v", err)
	}
	for _, bad := range []Admission{{MaxInFlight: 2, MaxPerSender: 2}, {MaxInFlight: -1}} {
		if _, err := bad.withDefaults(); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

// TestSurgeFromOneSenderDoesNotStarveOthers: while one region has its two
// submissions in progress (their bodies still arriving), its third is
// answered 429 rate-limited with Retry-After, and another region's
// (a municipality's crisis team's) submissions are accepted and delivered
// meanwhile; once the first
// region's bodies have arrived its submissions are accepted too.
func TestSurgeFromOneSenderDoesNotStarveOthers(t *testing.T) {
	h := start(t)
	const flooder = regionSender
	type result struct {
		a   answer_
		err error
	}
	var writers []*io.PipeWriter
	var bodies [][]byte
	var results []chan result
	for range DefaultMaxSubmitsPerSender {
		_, _, body := h.regionMessage()
		pr, pw := io.Pipe()
		writers, bodies = append(writers, pw), append(bodies, body)
		ch := make(chan result, 1)
		results = append(results, ch)
		go func() {
			a, err := h.try(h.as(flooder), "POST", "/v1/messages", mediaJOSE, pr)
			ch <- result{a, err}
		}()
		go pw.Write(body[:10])
	}
	for deadline := time.Now().Add(10 * time.Second); h.srv.admit.inFlight() < DefaultMaxSubmitsPerSender; {
		if time.Now().After(deadline) {
			t.Fatalf("%d submissions in flight, want %d", h.srv.admit.inFlight(), DefaultMaxSubmitsPerSender)
		}
		time.Sleep(5 * time.Millisecond)
	}
	_, _, third := h.regionMessage()
	a := h.submit(flooder, third)
	problem(t, a, http.StatusTooManyRequests, "rate-limited")
	if a.header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	// Another authority is not held up: its records are accepted and
	// delivered while the flooder's submissions are still in progress.
	var others []string
	for range 3 {
		id := newUUID(t)
		r := submitted(t, h.submit(muniSender, h.sealXML(muniSender, envelope.ContentTypeMunicipality, h.muniDoc(id), id)), http.StatusAccepted)
		for _, it := range r.Items {
			others = append(others, it.RecordID)
		}
	}
	h.deliverAll(others...)
	if v := h.rejected("region", "rate-limited"); v != 1 {
		t.Errorf("rate-limited counted %v, want 1", v)
	}
	for i, pw := range writers {
		go func() {
			_, _ = pw.Write(bodies[i][10:])
			pw.Close()
		}()
	}
	for _, ch := range results {
		r := <-ch
		must(t, r.err)
		submitted(t, r.a, http.StatusAccepted)
	}
	if n := h.srv.admit.inFlight(); n != 0 {
		t.Errorf("%d still in flight", n)
	}
}

// TestDrainEndsLongPolls: a long-poll waiting when a shutdown begins
// (Drain) is answered at once with no messages, as at the end of its wait,
// instead of holding the shutdown for its 30 seconds; a long-poll that
// starts after Drain does not wait either; a submission still works (the
// listener's Shutdown, not Drain, stops new requests).
func TestDrainEndsLongPolls(t *testing.T) {
	h := start(t)
	const mailbox = "municipality:0751"
	waiting := h.clock.Pending()
	done := make(chan answer_, 1)
	go func() {
		a, err := h.try(h.as(mailbox), "GET", "/v1/mailbox?wait=30", "", nil)
		if err != nil {
			t.Error(err)
		}
		done <- a
	}()
	// The long-poll is waiting once the clock has a pending timer of it.
	stop := make(chan struct{})
	timer := time.AfterFunc(10*time.Second, func() { close(stop) })
	defer timer.Stop()
	if !h.clock.WaitPending(stop, waiting+1) {
		t.Fatal("the long-poll does not wait")
	}
	h.srv.Drain()
	select {
	case a := <-done:
		if a.status != http.StatusOK || string(a.body) != "{\"messages\":[]}\n" {
			t.Fatalf("the drained long-poll: %d %s", a.status, a.body)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the long-poll still waits after Drain")
	}
	if got := h.pull(mailbox, "?wait=30"); len(got) != 0 {
		t.Fatalf("a long-poll after Drain: %d messages", len(got))
	}
	_, _, body := h.regionMessage()
	submitted(t, h.submit(regionSender, body), http.StatusAccepted)
}
