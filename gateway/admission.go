package gateway

import (
	"errors"
	"fmt"
	"sync"

	"github.com/psykosocial/exchange/internal/fault"
)

// Admission bounds the submissions the gateway works on at once, so that a
// surge from one authority (a mass-casualty incident's registrations) can
// neither starve the others nor make the gateway hold more than it can do.
// The zero value of a field takes its default of limits.go.
type Admission struct {
	// MaxInFlight is the most submissions worked on at once, over all
	// senders; one more is answered 503 busy with Retry-After. The work of a
	// submission is CPU (opening, verifying, sealing at rest) and one commit,
	// so a few per core keep the cores busy without piling up memory.
	MaxInFlight int
	// MaxPerSender is the most submissions of one authority worked on at
	// once; one more is answered 429 rate-limited with Retry-After. It is
	// below MaxInFlight, so every other authority always finds room.
	MaxPerSender int
}

// withDefaults applies the defaults and checks the relation of the limits.
func (a Admission) withDefaults() (Admission, error) {
	if a.MaxInFlight == 0 {
		a.MaxInFlight = DefaultMaxSubmitsInFlight
	}
	if a.MaxPerSender == 0 {
		a.MaxPerSender = DefaultMaxSubmitsPerSender
	}
	switch {
	case a.MaxInFlight < 1 || a.MaxPerSender < 1:
		return a, errors.New("gateway: Admission limits must be positive")
	case a.MaxPerSender >= a.MaxInFlight:
		return a, fmt.Errorf("gateway: Admission.MaxPerSender (%d) must be below MaxInFlight (%d), or one sender can take all the room", a.MaxPerSender, a.MaxInFlight)
	}
	return a, nil
}

// admission counts the submissions in flight, in all and per sender. It is
// safe for concurrent use.
type admission struct {
	lim      Admission
	mu       sync.Mutex
	total    int
	bySender map[string]int
}

func newAdmission(lim Admission) *admission {
	return &admission{lim: lim, bySender: map[string]int{}}
}

// enter admits one submission of sender, or refuses it: 429 when the
// sender already has its share in flight, 503 when the gateway as a whole
// is full. An admitted submission must call the returned leave once.
func (a *admission) enter(sender string) (leave func(), err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.bySender[sender] >= a.lim.MaxPerSender {
		return nil, &fault.Error{Kind: fault.ErrRateLimited, Type: "rate-limited", Title: "Too many submissions at once from this authority",
			Detail:     fmt.Sprintf("this authority already has %d submissions in progress, the most one authority may; send the next when one is answered", a.lim.MaxPerSender),
			RetryAfter: RateLimitRetryAfter}
	}
	if a.total >= a.lim.MaxInFlight {
		return nil, &fault.Error{Kind: fault.ErrUnavailable, Type: "busy", Title: "The gateway is busy",
			Detail:     fmt.Sprintf("the gateway is working on %d submissions, the most it takes at once; retry after the time in Retry-After", a.lim.MaxInFlight),
			RetryAfter: RateLimitRetryAfter}
	}
	a.total++
	a.bySender[sender]++
	var once sync.Once
	return func() {
		once.Do(func() {
			a.mu.Lock()
			defer a.mu.Unlock()
			a.total--
			if a.bySender[sender]--; a.bySender[sender] == 0 {
				delete(a.bySender, sender)
			}
		})
	}, nil
}

// inFlight is the number of submissions in flight.
func (a *admission) inFlight() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.total
}
