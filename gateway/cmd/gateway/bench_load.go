package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/psykosocial/exchange/certs"
	"github.com/psykosocial/exchange/gateway"
	"github.com/psykosocial/exchange/gateway/client"
	"github.com/psykosocial/exchange/internal/directory"
)

// benchPullWait is the long-poll of the mailbox pullers while the load
// runs; once every submission is answered they pull without waiting
// until their mailbox is empty.
const benchPullWait = 5 * time.Second

// benchMaxErrors bounds the errors a run keeps for its report.
const benchMaxErrors = 20

// benchMaxRetries bounds the resubmissions of one message after 429 or 503.
const benchMaxRetries = 20

// benchMessage is one submitted message and its answer.
type benchMessage struct {
	kind, sender string
	records      []string
	// sent is when the POST began (after sealing), answered when the 202
	// and the verified receipt were back.
	sent, answered time.Time
	// acceptedIDs are the records the gateway accepted.
	acceptedIDs []string
}

// benchDelivery is one mailbox message as the pullers saw it.
type benchDelivery struct {
	recipient, recordID string
	pulls, acks         int
	pulledAt, ackedAt   time.Time
}

// benchSampleView is a delivered view of a record in the crypto sample.
type benchSampleView struct {
	recipient, mailboxID string
	payload              []byte
}

// benchLoad is one run of the load: submitters and pullers.
type benchLoad struct {
	e       *env
	o       benchOptions
	mix     benchMix
	gen     *benchGen
	senders map[string][]string
	clients map[string]*client.Client
	// mailboxes are the authorities whose mailboxes are pulled.
	mailboxes []string

	submitted sync.WaitGroup
	// retries counts resubmissions after a 429 or 503.
	retries atomic.Int64
	// leftOver counts deliveries of earlier runs the warm-up acknowledged.
	leftOver atomic.Int64
	// inFlight counts each sender's submissions in flight; freed is
	// signalled when one ends.
	inFlight map[string]int
	freed    *sync.Cond

	mu         sync.Mutex
	messages   []*benchMessage
	answeredAt map[string]time.Time // record id -> its message's 202
	deliveries map[string]*benchDelivery
	errs       []string
	nerrs      int
	// sample is the crypto floor's sample: its first messages and their
	// records' delivered views.
	sample      []*benchDoc
	sampleRecs  map[string]bool
	sampleViews map[string][]benchSampleView
	// rejected counts rejected items (none is expected).
	rejected int

	start     time.Time
	allSent   atomic.Bool // every submission answered
	sentAt    time.Time
	drainedAt time.Time
}

// newBenchLoad makes one client per authority with a mailbox or a part
// in the mix (the development PKI of data).
func newBenchLoad(ctx context.Context, e *env, o benchOptions, mix benchMix, gen *benchGen, srv *benchServer, dir *directory.Directory) (*benchLoad, error) {
	roots, err := client.DevRootCAs(srv.data)
	if err != nil {
		return nil, err
	}
	jwks, err := client.FetchJWKS(ctx, srv.base, roots)
	if err != nil {
		return nil, fmt.Errorf("is the gateway running at %s? %w", srv.base, err)
	}
	l := &benchLoad{e: e, o: o, mix: mix, gen: gen, clients: map[string]*client.Client{}, inFlight: map[string]int{},
		answeredAt: map[string]time.Time{}, deliveries: map[string]*benchDelivery{},
		sampleRecs: map[string]bool{}, sampleViews: map[string][]benchSampleView{},
		senders: map[string][]string{benchRegion: benchRegionSenders, benchMunicipality: gen.municipalitySenders(),
			benchPolice: benchPoliceSenders}}
	l.freed = sync.NewCond(&l.mu)
	paths := certs.Paths{DataDir: srv.data}
	for _, a := range dir.Authorities {
		if _, err := os.Stat(paths.Private(a.ID)); err == nil && a.Mailbox {
			l.mailboxes = append(l.mailboxes, a.ID)
		}
	}
	sort.Strings(l.mailboxes)
	ids := append([]string(nil), l.mailboxes...)
	for _, k := range benchKinds {
		ids = append(ids, l.senders[k]...)
	}
	for _, id := range ids {
		if l.clients[id] != nil {
			continue
		}
		cfg, err := client.DevConfig(srv.data, id, srv.base, jwks)
		if err != nil {
			l.close()
			return nil, err
		}
		cfg.Clock = e.clock
		c, err := client.New(cfg)
		if err != nil {
			l.close()
			return nil, err
		}
		l.clients[id] = c
	}
	return l, nil
}

func (l *benchLoad) close() {
	for _, c := range l.clients {
		c.Close()
	}
}

// fail records an error of the run (the first benchMaxErrors of them).
func (l *benchLoad) fail(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.nerrs++
	if len(l.errs) < benchMaxErrors {
		l.errs = append(l.errs, err.Error())
	}
}

// warmUp connects every client (TLS handshake, certificate checked by
// the gateway) before the clock starts, as long-lived connections of
// production would be, and empties every mailbox of what earlier runs
// left (acknowledged, counted in leftOver).
func (l *benchLoad) warmUp(ctx context.Context) error {
	ids := make(chan string)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range ids {
				if err := l.empty(ctx, id); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for id := range l.clients {
		ids <- id
	}
	close(ids)
	wg.Wait()
	return firstErr
}

// empty pulls, opens and acknowledges id's mailbox until it is empty.
func (l *benchLoad) empty(ctx context.Context, id string) error {
	c := l.clients[id]
	for {
		ds, err := c.Pull(ctx, 100, 0)
		if err != nil {
			return fmt.Errorf("%s pulls: %w", id, err)
		}
		if len(ds) == 0 {
			return nil
		}
		for _, d := range ds {
			o, err := c.Open(ctx, d)
			if err != nil {
				return fmt.Errorf("%s opens %s: %w", id, d.MailboxID, err)
			}
			if err := c.Ack(ctx, o); err != nil {
				return fmt.Errorf("%s acknowledges %s: %w", id, d.MailboxID, err)
			}
			l.leftOver.Add(1)
		}
	}
}

// run submits for the duration (or up to -messages), while every mailbox
// is pulled and acknowledged, and returns once every mailbox is empty.
func (l *benchLoad) run(ctx context.Context) error {
	pctx, cancelPull := context.WithCancel(ctx)
	defer cancelPull()
	var pulled sync.WaitGroup
	l.start = l.e.clock.Now()
	for _, id := range l.mailboxes {
		pulled.Add(1)
		go func() {
			defer pulled.Done()
			l.pull(pctx, id)
		}()
	}
	deadline := l.start.Add(l.o.duration)
	var pace <-chan time.Time
	if l.o.rate > 0 {
		// Open loop: a message every (its records / rate) on average.
		per := float64(l.mix.recordsPerCycle(l.o.policeList)) / float64(len(l.mix.seq))
		t := l.e.clock.NewTicker(time.Duration(per / l.o.rate * float64(time.Second)))
		defer t.Stop()
		pace = t.C()
	}
	work := make(chan int)
	for range l.o.clients {
		l.submitted.Add(1)
		go func() {
			defer l.submitted.Done()
			for i := range work {
				l.submit(ctx, i)
			}
		}()
	}
	for i := 0; l.o.messages == 0 || i < l.o.messages; i++ {
		if pace != nil {
			select {
			case <-pace:
			case <-ctx.Done():
			}
		}
		if ctx.Err() != nil || !l.e.clock.Now().Before(deadline) {
			break
		}
		select {
		case work <- i:
		case <-ctx.Done():
		}
	}
	close(work)
	l.submitted.Wait()
	l.sentAt = l.e.clock.Now()
	l.allSent.Store(true)
	done := make(chan struct{})
	go func() { pulled.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		return ctx.Err()
	case <-l.e.clock.After(l.o.drainTimeout):
		cancelPull()
		<-done
		return fmt.Errorf("the mailboxes were not emptied within %s of the last submission", l.o.drainTimeout)
	}
	l.drainedAt = l.e.clock.Now()
	return nil
}

// takeSender picks the sender of kind with the fewest submissions in
// flight, waiting while each has as many as the gateway takes from one
// authority at once (as an authority's own system would); release it
// with releaseSender.
func (l *benchLoad) takeSender(kind string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	for {
		best := ""
		for _, s := range l.senders[kind] {
			if n := l.inFlight[s]; n < gateway.DefaultMaxSubmitsPerSender && (best == "" || n < l.inFlight[best]) {
				best = s
			}
		}
		if best != "" {
			l.inFlight[best]++
			return best
		}
		l.freed.Wait()
	}
}

func (l *benchLoad) releaseSender(s string) {
	l.mu.Lock()
	l.inFlight[s]--
	l.mu.Unlock()
	l.freed.Broadcast()
}

// submit makes, seals and sends message i, again after a 429 or 503's
// Retry-After (counted in retries).
func (l *benchLoad) submit(ctx context.Context, i int) {
	kind := l.mix.seq[i%len(l.mix.seq)]
	sender := l.takeSender(kind)
	defer l.releaseSender(sender)
	d, err := l.gen.message(i, kind, sender)
	if err != nil {
		l.fail(err)
		return
	}
	c := l.clients[sender]
	sealed, err := c.Seal(ctx, d.doc)
	if err != nil {
		l.fail(err)
		return
	}
	m := &benchMessage{kind: kind, sender: sender, records: d.records, sent: l.e.clock.Now()}
	l.mu.Lock()
	if len(l.sample) < l.o.cryptoSample {
		l.sample = append(l.sample, d)
		for _, id := range d.records {
			l.sampleRecs[id] = true
		}
	}
	l.mu.Unlock()
	var ans *client.Answer
	for attempt := 0; ; attempt++ {
		ans, err = c.SubmitSealed(ctx, sealed)
		var p *client.Problem
		if err == nil || attempt == benchMaxRetries || !errors.As(err, &p) ||
			p.Status != http.StatusTooManyRequests && p.Status != http.StatusServiceUnavailable {
			break
		}
		l.retries.Add(1)
		select {
		case <-ctx.Done():
		case <-l.e.clock.After(max(p.RetryAfter, 100*time.Millisecond)):
		}
	}
	m.answered = l.e.clock.Now()
	if err != nil {
		if ctx.Err() == nil {
			l.fail(fmt.Errorf("%s submits %s: %w", sender, kind, err))
		}
		return
	}
	rejected := 0
	for _, it := range ans.Items {
		if it.Status == client.ItemAccepted {
			m.acceptedIDs = append(m.acceptedIDs, it.RecordID)
		} else {
			rejected++
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.messages = append(l.messages, m)
	l.rejected += rejected
	if rejected > 0 && len(l.errs) < benchMaxErrors {
		for _, it := range ans.Items {
			if it.Status == client.ItemRejected && len(it.Problems) > 0 {
				l.errs = append(l.errs, fmt.Sprintf("%s: item %d rejected: %s [%s]", sender, it.Index, it.Problems[0].Message, it.Problems[0].Rule))
				break
			}
		}
	}
	for _, id := range d.records {
		l.answeredAt[id] = m.answered
	}
}

// pull empties one mailbox again and again: pull, open, acknowledge. Once
// every submission is answered, a pull that finds the mailbox empty ends it.
func (l *benchLoad) pull(ctx context.Context, id string) {
	c := l.clients[id]
	for ctx.Err() == nil {
		last := l.allSent.Load()
		wait := benchPullWait
		if last {
			wait = 0
		}
		ds, err := c.Pull(ctx, 100, wait)
		at := l.e.clock.Now()
		if err != nil {
			if ctx.Err() == nil {
				l.fail(fmt.Errorf("%s pulls: %w", id, err))
				select {
				case <-ctx.Done():
				case <-l.e.clock.After(100 * time.Millisecond):
				}
			}
			continue
		}
		if len(ds) == 0 {
			if last {
				return
			}
			continue
		}
		for _, d := range ds {
			l.mu.Lock()
			bd := l.deliveries[d.MailboxID]
			if bd == nil {
				bd = &benchDelivery{recipient: id, recordID: d.RecordID, pulledAt: at}
				l.deliveries[d.MailboxID] = bd
			}
			bd.pulls++
			l.mu.Unlock()
			o, err := c.Open(ctx, d)
			if err != nil {
				l.fail(fmt.Errorf("%s opens %s: %w", id, d.MailboxID, err))
				continue
			}
			if err := c.Ack(ctx, o); err != nil {
				if ctx.Err() == nil {
					l.fail(fmt.Errorf("%s acknowledges %s: %w", id, d.MailboxID, err))
				}
				continue
			}
			acked := l.e.clock.Now()
			l.mu.Lock()
			bd.acks++
			bd.ackedAt = acked
			if l.sampleRecs[d.RecordID] {
				l.sampleViews[d.RecordID] = append(l.sampleViews[d.RecordID], benchSampleView{recipient: id, mailboxID: d.MailboxID, payload: o.Payload})
			}
			l.mu.Unlock()
		}
	}
}

// benchVerify is the check that every accepted record was delivered to
// every recipient the gateway decided on, exactly once.
type benchVerify struct {
	// Records is the number of accepted records whose status was read.
	Records int `json:"records"`
	// Recipients are the mailbox messages the statuses name; Delivered of
	// them are acknowledged, Queued are not.
	Recipients int `json:"recipients"`
	Delivered  int `json:"delivered"`
	Queued     int `json:"queued"`
	// Withheld counts recipients withheld by consent or policy.
	Withheld int `json:"withheld"`
	// Missing are mailbox messages the statuses name that no puller saw;
	// Unexpected are pulled ones no status names.
	Missing    int `json:"missing"`
	Unexpected int `json:"unexpected"`
	// Redelivered are pulled more than once, AckedTwice acknowledged more
	// than once, Unacked pulled but never acknowledged.
	Redelivered int `json:"redelivered"`
	AckedTwice  int `json:"acked_twice"`
	Unacked     int `json:"unacked"`
	// Sampled: the run had more accepted records than -verify-max, and
	// the statuses of an evenly spread sample of them were read (the
	// pullers' counts and the mailbox depth cover every record).
	Sampled bool `json:"sampled"`
	// MailboxDepth is serve's gateway_mailbox_depth summed over the
	// recipient kinds after the run: 0 when nothing waits (-1: unknown).
	MailboxDepth float64 `json:"mailbox_depth"`
	// OK: every record delivered to every recipient, each once.
	OK bool `json:"ok"`
}

// verify reads the status of every accepted record (of at most max of
// them, evenly spread) from its sender, compares it with what the pullers
// saw, and reads serve's mailbox depth.
func (l *benchLoad) verify(ctx context.Context, srv *benchServer, max int) (*benchVerify, error) {
	type job struct{ sender, id string }
	var jobs []job
	l.mu.Lock()
	for _, m := range l.messages {
		for _, id := range m.acceptedIDs {
			jobs = append(jobs, job{m.sender, id})
		}
	}
	l.mu.Unlock()
	v := &benchVerify{MailboxDepth: -1}
	if srv.metrics != "" {
		m, err := scrapeMetrics(ctx, srv.metrics)
		if err != nil {
			return nil, err
		}
		if d, ok := m["sum:gateway_mailbox_depth"]; ok {
			v.MailboxDepth = d
		}
	}
	if len(jobs) > max {
		v.Sampled = true
		sample := make([]job, 0, max)
		for i := range max {
			sample = append(sample, jobs[i*len(jobs)/max])
		}
		jobs = sample
	}
	seen := map[string]bool{}
	var mu sync.Mutex
	var firstErr error
	ch := make(chan job)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range ch {
				st, err := l.clients[j.sender].Status(ctx, j.id)
				mu.Lock()
				if err != nil {
					if firstErr == nil {
						firstErr = fmt.Errorf("the status of %s: %w", j.id, err)
					}
					mu.Unlock()
					continue
				}
				v.Records++
				for _, ver := range st.Versions {
					for _, r := range ver.Recipients {
						if r.State == client.StateWithheld {
							v.Withheld++
						}
						if r.MailboxID == "" || seen[r.MailboxID] {
							continue
						}
						seen[r.MailboxID] = true
						v.Recipients++
						if r.State == client.StateDelivered {
							v.Delivered++
						} else {
							v.Queued++
						}
					}
				}
				mu.Unlock()
			}
		}()
	}
	for _, j := range jobs {
		ch <- j
	}
	close(ch)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for id := range seen {
		if l.deliveries[id] == nil {
			v.Missing++
		}
	}
	for id, d := range l.deliveries {
		switch {
		case !seen[id] && !v.Sampled:
			v.Unexpected++
		case d.pulls > 1:
			v.Redelivered++
		}
		if d.acks > 1 {
			v.AckedTwice++
		}
		if d.acks == 0 {
			v.Unacked++
		}
	}
	v.OK = v.Records == len(jobs) && v.Queued == 0 && v.Missing == 0 && v.Unexpected == 0 && v.Redelivered == 0 &&
		v.AckedTwice == 0 && v.Unacked == 0 && v.Delivered == v.Recipients && v.MailboxDepth <= 0
	return v, nil
}
