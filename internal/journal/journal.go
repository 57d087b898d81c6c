package journal

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/psykosocial/exchange/internal/clock"
)

// Config configures a Journal. The zero value of every field but Origin
// and Clock is a safe default.
type Config struct {
	// Origin names the journal in its checkpoints and is the name of its
	// note key, e.g. "exchange.psykosocial.dk/journal" (no spaces, no '+').
	Origin string
	// CheckpointEvery signs a checkpoint at every multiple of this many
	// entries; 0 means 1000.
	CheckpointEvery uint64
	// CheckpointInterval signs a checkpoint of the current size when this
	// long has passed since the last one and entries are unsigned; 0 means
	// 10 seconds.
	CheckpointInterval time.Duration
	// MaxUnsigned refuses appends (ErrUnavailable) while this many entries
	// wait for a checkpoint, so that a failing signer stops the journal
	// instead of letting unprovable entries pile up; 0 means 250,000. It
	// must exceed CheckpointEvery; below MaxTxEntries the largest messages
	// may wait for a checkpoint.
	MaxUnsigned uint64
	// MaxBatch is the most entries one group-commit transaction takes; 0
	// means 2000, at most 10,000.
	MaxBatch int
	// QueueEntries bounds the entries waiting for the writer; beyond it
	// Append fails fast with ErrUnavailable; 0 means 50,000.
	QueueEntries int
	// WriteTimeout bounds one append transaction; 0 means 10 seconds.
	WriteTimeout time.Duration
	// SignTimeout bounds signing and storing one checkpoint; 0 means 10 seconds.
	SignTimeout time.Duration
	// Clock gives the entries' and checkpoints' times and paces the
	// checkpointer's polling (CheckpointInterval is measured on it).
	// Required: New refuses a nil Clock.
	Clock clock.Clock
	// Logger receives operational logs (never entry contents); nil discards them.
	Logger *slog.Logger
}

func (c Config) withDefaults() (Config, error) {
	if err := checkOrigin(c.Origin); err != nil {
		return c, err
	}
	if c.Clock == nil {
		return c, errors.New("journal: Config.Clock is nil")
	}
	if c.CheckpointEvery == 0 {
		c.CheckpointEvery = defaultCheckpointEvery
	}
	if c.CheckpointInterval == 0 {
		c.CheckpointInterval = defaultCheckpointInterval
	}
	if c.MaxUnsigned == 0 {
		c.MaxUnsigned = defaultMaxUnsigned
	}
	if c.MaxBatch == 0 {
		c.MaxBatch = defaultMaxBatch
	}
	if c.QueueEntries == 0 {
		c.QueueEntries = defaultQueueEntries
	}
	if c.WriteTimeout == 0 {
		c.WriteTimeout = defaultWriteTimeout
	}
	if c.SignTimeout == 0 {
		c.SignTimeout = defaultSignTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	switch {
	case c.CheckpointInterval < 0 || c.WriteTimeout < 0 || c.SignTimeout < 0:
		return c, errors.New("journal: durations must not be negative")
	case c.MaxUnsigned <= c.CheckpointEvery:
		return c, errors.New("journal: MaxUnsigned must exceed CheckpointEvery")
	case c.MaxBatch < 1 || c.MaxBatch > maxBatchEntries:
		return c, fmt.Errorf("journal: MaxBatch must be 1 to %d", maxBatchEntries)
	case c.QueueEntries < c.MaxBatch:
		return c, errors.New("journal: QueueEntries must be at least MaxBatch")
	}
	return c, nil
}

// Journal appends entries, signs checkpoints and answers queries.
// Several Journals (in several processes) may share one PostgreSQL store.
type Journal struct {
	*Reader
	store  Store
	cfg    Config
	signer *noteSigner
	log    *slog.Logger
	vkey   string

	qmu      sync.Mutex
	queue    []*request
	qEntries int
	closed   bool
	wake     chan struct{} // the writer has work (capacity 1)
	kick     chan struct{} // the checkpointer should look now (capacity 1)
	stop     chan struct{} // closed by Close
	writerWG sync.WaitGroup
	cpWG     sync.WaitGroup

	signMu       sync.Mutex // one signing at a time in this process
	lastSigned   atomic.Uint64
	lastSignedAt atomic.Int64 // unix nanoseconds of the last signing time seen
}

type request struct {
	ctx     context.Context
	entries []Entry
	state   atomic.Int32 // reqQueued, reqTaken, reqAbandoned
	done    chan result  // capacity 1
}

const (
	reqQueued int32 = iota
	reqTaken
	reqAbandoned
)

type result struct {
	first uint64
	err   error
}

// New starts a journal over store. signer signs checkpoints: its public
// key must be Ed25519 and it must sign the message itself when passed
// crypto.Hash(0) (an ed25519.PrivateKey does; so does a Vault transit
// signer). New reads the latest checkpoint and starts the writer and the
// checkpointer; Close stops them.
func New(ctx context.Context, store Store, signer crypto.Signer, cfg Config) (*Journal, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	ns, err := newNoteSigner(cfg.Origin, signer)
	if err != nil {
		return nil, err
	}
	j := &Journal{
		Reader: NewReader(store, cfg.Clock),
		store:  store, cfg: cfg, signer: ns, log: cfg.Logger, vkey: ns.vkey,
		wake: make(chan struct{}, 1), kick: make(chan struct{}, 1), stop: make(chan struct{}),
	}
	latest, ok, err := store.LatestCheckpoint(ctx)
	if err != nil {
		return nil, unavailable("open", err)
	}
	if ok {
		if latest.Origin != cfg.Origin {
			return nil, fmt.Errorf("%w: the store's checkpoints are of origin %q, not %q", ErrInvalidCheckpoint, latest.Origin, cfg.Origin)
		}
		j.lastSigned.Store(latest.Size)
		j.lastSignedAt.Store(latest.SignedAt.UnixNano())
	}
	// The ticker is made here, before New returns, so that a test's fake
	// clock already paces it when the test first advances the clock.
	poll := min(max(cfg.CheckpointInterval/4, 5*time.Millisecond), time.Second)
	tick := cfg.Clock.NewTicker(poll)
	j.writerWG.Add(1)
	go j.writer()
	j.cpWG.Add(1)
	go j.checkpointer(tick)
	j.kickCheckpointer()
	return j, nil
}

// VerifierKey is the note verifier key of the journal's checkpoints, which
// a DPO gives to gateway audit verify.
func (j *Journal) VerifierKey() string { return j.vkey }

// Append records entries and returns the sequence number of the first
// (the others follow it in order). It returns only once the entries are
// durable. An error matching ErrUnavailable means they were not written
// (the step must not happen; retry later); one matching ErrInvalidEntry
// names the entry and field at fault. If ctx ends while the entries wait
// in the queue they are not written; once the writer has taken them,
// Append waits for the outcome.
func (j *Journal) Append(ctx context.Context, entries ...Entry) (uint64, error) {
	if len(entries) == 0 {
		return 0, &EntryError{Field: "entries", Reason: "nothing to append"}
	}
	if len(entries) > maxBatchEntries || len(entries) > j.cfg.QueueEntries {
		return 0, &EntryError{Field: "entries", Reason: fmt.Sprintf("more than %d entries in one call", min(maxBatchEntries, j.cfg.QueueEntries))}
	}
	now := j.cfg.Clock.Now().UTC().Truncate(time.Microsecond)
	own := make([]Entry, len(entries))
	for i, e := range entries {
		e = e.normalize()
		if field, reason := e.validate(); field != "" {
			return 0, &EntryError{Index: i, Field: field, Reason: reason}
		}
		e.Seq, e.Time = 0, now
		own[i] = e
	}
	req := &request{ctx: ctx, entries: own, done: make(chan result, 1)}
	if err := j.enqueue(req); err != nil {
		return 0, err
	}
	select {
	case res := <-req.done:
		return res.first, res.err
	case <-ctx.Done():
		if req.state.CompareAndSwap(reqQueued, reqAbandoned) {
			j.dequeued(len(own))
			return 0, unavailable("append", ctx.Err())
		}
		res := <-req.done // taken: the outcome comes within WriteTimeout
		return res.first, res.err
	}
}

func (j *Journal) enqueue(req *request) error {
	j.qmu.Lock()
	switch {
	case j.closed:
		j.qmu.Unlock()
		return &UnavailableError{Op: "append", Err: ErrClosed}
	case j.qEntries+len(req.entries) > j.cfg.QueueEntries:
		j.qmu.Unlock()
		return &UnavailableError{Op: "queue full", Err: fmt.Errorf("%d entries wait for the writer", j.qEntries)}
	}
	j.queue = append(j.queue, req)
	j.qEntries += len(req.entries)
	j.qmu.Unlock()
	select {
	case j.wake <- struct{}{}:
	default:
	}
	return nil
}

func (j *Journal) dequeued(n int) {
	j.qmu.Lock()
	j.qEntries -= n
	j.qmu.Unlock()
}

// take removes requests from the queue up to MaxBatch entries (always at
// least one request, if any waits). Abandoned requests are dropped.
func (j *Journal) take() []*request {
	j.qmu.Lock()
	defer j.qmu.Unlock()
	var out []*request
	n, i := 0, 0
	for ; i < len(j.queue); i++ {
		r := j.queue[i]
		if len(out) > 0 && n+len(r.entries) > j.cfg.MaxBatch {
			break
		}
		if !r.state.CompareAndSwap(reqQueued, reqTaken) {
			continue // abandoned: already subtracted from qEntries
		}
		if r.ctx.Err() != nil {
			r.done <- result{err: unavailable("append", r.ctx.Err())}
			j.qEntries -= len(r.entries)
			continue
		}
		out = append(out, r)
		n += len(r.entries)
		j.qEntries -= len(r.entries)
	}
	clear(j.queue[:i])
	j.queue = j.queue[i:]
	if len(j.queue) == 0 {
		j.queue = nil
	}
	return out
}

// writer commits queued requests, one transaction per batch, until Close;
// requests accepted before Close are still written.
func (j *Journal) writer() {
	defer j.writerWG.Done()
	for {
		for {
			reqs := j.take()
			if len(reqs) == 0 {
				break
			}
			j.commit(reqs)
		}
		select {
		case <-j.wake:
		case <-j.stop:
			j.qmu.Lock()
			empty := len(j.queue) == 0
			j.qmu.Unlock()
			if empty {
				return
			}
		}
	}
}

// errCheckpointLag stops appends while checkpoints are too far behind.
var errCheckpointLag = errors.New("too many entries wait for a checkpoint: the checkpoint signer is failing")

func (j *Journal) commit(reqs []*request) {
	var all []Entry
	if len(reqs) == 1 {
		all = reqs[0].entries
	} else {
		for _, r := range reqs {
			all = append(all, r.entries...)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), j.cfg.WriteTimeout)
	defer cancel()
	// Entries beyond MaxUnsigned past the last checkpoint are refused. When
	// that happens the latest checkpoint (perhaps signed by another
	// process) is looked up, outside the transaction, and the append tried
	// once more.
	var first uint64
	build := func(h Head) (*Batch, error) {
		if h.Size+uint64(len(all)) > j.lastSigned.Load()+j.cfg.MaxUnsigned {
			return nil, errCheckpointLag
		}
		first = h.Size
		return NewBatch(h, all)
	}
	err := j.store.Append(ctx, build)
	if errors.Is(err, errCheckpointLag) {
		if c, ok, lerr := j.store.LatestCheckpoint(ctx); lerr == nil && ok && c.Size > j.lastSigned.Load() {
			j.noteSigned(c)
			err = j.store.Append(ctx, build)
		}
	}
	if err != nil {
		var ee *EntryError
		if !errors.As(err, &ee) {
			err = &UnavailableError{Op: "append", Err: err}
			if errors.Is(err, errCheckpointLag) {
				err = &UnavailableError{Op: "checkpoint lag", Err: errCheckpointLag}
				j.kickCheckpointer()
			}
			j.log.Error("journal append failed; the steps are refused", "entries", len(all), "err", err)
		}
		for _, r := range reqs {
			r.done <- result{err: err}
		}
		return
	}
	off := first
	for _, r := range reqs {
		r.done <- result{first: off}
		off += uint64(len(r.entries))
	}
	end := first + uint64(len(all))
	if end/j.cfg.CheckpointEvery != first/j.cfg.CheckpointEvery {
		j.kickCheckpointer()
	}
}

func (j *Journal) kickCheckpointer() {
	select {
	case j.kick <- struct{}{}:
	default:
	}
}

// checkpointer signs the checkpoints that are due until Close: when kicked
// (a multiple of CheckpointEvery was committed) and at every tick of t, a
// ticker of the journal's clock, which it stops.
func (j *Journal) checkpointer(t clock.Ticker) {
	defer j.cpWG.Done()
	defer t.Stop()
	for {
		select {
		case <-j.stop:
			return
		case <-t.C():
		case <-j.kick:
		}
		if _, err := j.signDue(context.Background(), false); err != nil {
			j.log.Error("journal checkpoint failed", "err", err)
		}
	}
}

// Checkpoint signs a checkpoint of every entry committed so far (unless the
// latest checkpoint already covers them) and returns the latest checkpoint.
// When another process is signing at that moment (shared storage), it waits
// for that process to finish, at most until ctx ends or SignTimeout, and
// then signs what that one did not cover.
func (j *Journal) Checkpoint(ctx context.Context) (SignedCheckpoint, error) {
	if _, err := j.signDue(ctx, true); err != nil {
		return SignedCheckpoint{}, err
	}
	return j.LatestCheckpoint(ctx)
}

// signDue signs the checkpoints that are due: one at every multiple of
// CheckpointEvery not yet signed, and one of the current size when the
// interval has passed (or now is set). It returns how many it signed. With
// now, it waits for the signer lock of shared storage (bounded by parent
// and SignTimeout); without, it leaves signing to the process holding it.
func (j *Journal) signDue(parent context.Context, now bool) (int, error) {
	j.signMu.Lock()
	defer j.signMu.Unlock()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(parent), j.cfg.SignTimeout)
	defer cancel()
	if lk, shared := j.store.(SignerLock); shared {
		lctx, lcancel := context.WithCancel(ctx)
		stop := context.AfterFunc(parent, lcancel)
		unlock, ok, err := lk.LockSigner(lctx, now)
		stop()
		lcancel()
		if err != nil {
			return 0, unavailable("checkpoint", err)
		}
		if !ok {
			// Another process signs; take its checkpoints as ours.
			if c, ok, err := j.store.LatestCheckpoint(ctx); err != nil {
				return 0, unavailable("checkpoint", err)
			} else if ok {
				j.noteSigned(c)
			}
			return 0, nil
		}
		defer unlock()
	}
	if c, ok, err := j.store.LatestCheckpoint(ctx); err != nil {
		return 0, unavailable("checkpoint", err)
	} else if ok {
		j.noteSigned(c)
	}
	size, err := j.store.Size(ctx)
	if err != nil {
		return 0, unavailable("checkpoint", err)
	}
	n := 0
	every := j.cfg.CheckpointEvery
	for s := (j.lastSigned.Load()/every + 1) * every; s <= size; s += every {
		if err := j.sign(ctx, s); err != nil {
			return n, err
		}
		n++
	}
	last := time.Unix(0, j.lastSignedAt.Load())
	if size > j.lastSigned.Load() && (now || j.cfg.Clock.Now().Sub(last) >= j.cfg.CheckpointInterval) {
		if err := j.sign(ctx, size); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

func (j *Journal) sign(ctx context.Context, size uint64) error {
	root, err := rootAt(ctx, j.tree, size)
	if err != nil {
		return unavailable("checkpoint", err)
	}
	c := Checkpoint{Origin: j.cfg.Origin, Size: size, Root: root,
		SignedAt: j.cfg.Clock.Now().UTC().Truncate(time.Second)}
	sc, err := j.signer.sign(c)
	if err != nil {
		return unavailable("checkpoint", fmt.Errorf("signing: %w", err))
	}
	if err := j.store.AddCheckpoint(ctx, sc); err != nil {
		return unavailable("checkpoint", err)
	}
	j.noteSigned(sc)
	j.log.Debug("journal checkpoint signed", "size", size)
	return nil
}

// noteSigned records a checkpoint signed here or by another process.
func (j *Journal) noteSigned(c SignedCheckpoint) {
	for {
		old := j.lastSigned.Load()
		if c.Size <= old || j.lastSigned.CompareAndSwap(old, c.Size) {
			break
		}
	}
	for {
		old := j.lastSignedAt.Load()
		t := c.SignedAt.UnixNano()
		if t <= old || j.lastSignedAt.CompareAndSwap(old, t) {
			break
		}
	}
}

// Close stops accepting entries, writes those already accepted, signs a
// last checkpoint of everything committed and stops. It does not close
// the store.
func (j *Journal) Close(ctx context.Context) error {
	j.qmu.Lock()
	if j.closed {
		j.qmu.Unlock()
		return nil
	}
	j.closed = true
	j.qmu.Unlock()
	close(j.stop)
	j.writerWG.Wait()
	j.cpWG.Wait()
	if _, err := j.signDue(ctx, true); err != nil {
		return fmt.Errorf("journal: the last checkpoint: %w", err)
	}
	return ctx.Err()
}
