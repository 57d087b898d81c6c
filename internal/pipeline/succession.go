package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/psykosocial/exchange/internal/clock"
	"github.com/psykosocial/exchange/internal/directory"
	"github.com/psykosocial/exchange/internal/fault"
	"github.com/psykosocial/exchange/internal/journal"
	"github.com/psykosocial/exchange/internal/store"
)

// The succession of mailboxes (the 2027 region merger): when an authority
// ceases, what waits in its mailbox passes to its successor's.
//
//   - At the instant it ceases (no grace), every mailbox message of the
//     ceased authority that is not acknowledged — queued, leased, parked —
//     is moved to the successor's mailbox (store.Store.Transfer), each
//     journaled transferred (counterpart the successor, the reason naming
//     the ceased authority). Nothing can be sealed to the ceased authority
//     any more: the trust store gives no encryption certificate of an
//     authority that has ceased, so the grace period does not let it pull.
//   - The move is made by TransferCeased, which the serve process runs on
//     a ticker, and by the successor's own Pull during the grace period
//     (Limits.CeasedGrace), so the successor sees the messages at once.
//   - The ceased authority's pull is refused (ceased-authority) with its
//     successor named. During the grace period its signing certificate
//     still verifies, so it acknowledges a delivery it pulled before it
//     ceased; the delivered entry says so, and the message is then
//     delivered: the successor does not get it again.
//   - A successor that is not configured yet (Region Østdanmark's code)
//     receives nothing: the messages wait in the ceased authority's
//     mailbox until it is, and TransferCeased reports them pending.

// Transferred is what TransferCeased did for one authority that ceased.
type Transferred struct {
	// From is the authority that ceased; CeasedAt when.
	From     string
	CeasedAt time.Time
	// To is its successor, "" when the successor is not configured
	// (SuccessorName names it) or there is none.
	To, SuccessorName string
	// Moved counts the mailbox messages moved now.
	Moved int
	// Err says why nothing could be moved (the store failed, the
	// successor cannot receive), nil when the move is done or nothing
	// waited.
	Err error
}

// ceasing lists the authorities of the directory with a mailbox and an
// end of validity: the ones that cease, or have ceased.
func (p *Pipeline) ceasing() []directory.Authority {
	var out []directory.Authority
	for _, a := range p.current().Directory.Authorities {
		if a.Mailbox && !a.Valid.To.IsZero() {
			out = append(out, a)
		}
	}
	return out
}

// TransferCeased moves what waits in the mailbox of every authority that
// has ceased by now to its successor's mailbox: every message not
// acknowledged, each journaled transferred in the transaction that moves
// it. It is idempotent and safe to run on every replica at once; one that
// finds nothing to move writes nothing to the journal. It returns one
// Transferred per authority that has ceased; an error of one does not stop
// the others. The serve process runs it on a ticker.
func (p *Pipeline) TransferCeased(ctx context.Context) []Transferred {
	now := p.cfg.Clock.Now()
	var out []Transferred
	for _, a := range p.ceasing() {
		if now.Before(a.Valid.To) {
			continue
		}
		out = append(out, p.transfer(ctx, a, now))
	}
	return out
}

// transfer moves the waiting mailbox messages of a, which has ceased.
func (p *Pipeline) transfer(ctx context.Context, a directory.Authority, now time.Time) Transferred {
	v := p.current() // the successor may have been configured by a reload
	succ, name, _ := v.Router.Successor(a.ID, now)
	t := Transferred{From: a.ID, CeasedAt: a.Valid.To, To: succ, SuccessorName: name}
	if succ == "" {
		return t // nothing can be addressed yet: the messages wait
	}
	s, ok := v.Directory.Lookup(succ)
	switch {
	case !ok || !s.Mailbox:
		t.Err = fmt.Errorf("pipeline: the successor %s of %s has no mailbox in the directory", succ, a.ID)
	case s.Format != a.Format || isXML(a.Format):
		// A stored view is written in the recipient's format (and an XML
		// view's signed header names the recipient): it would have to be
		// written anew.
		t.Err = fmt.Errorf("pipeline: the mailbox of %s (format %s) cannot pass to %s (format %s) as it is", a.ID, a.Format, succ, s.Format)
	}
	if t.Err != nil {
		p.log.ErrorContext(ctx, "the mailbox of a ceased authority cannot pass to its successor", "from", a.ID, "to", succ, "err", t.Err)
		return t
	}
	entry := func(m store.TransferredMessage) journal.Entry {
		return journal.Entry{Event: journal.EventTransferred, Actor: directory.GatewayID, Counterpart: m.To,
			RecordID: m.RecordID, RecordVersion: m.RecordVersion, MessageID: m.ID, PayloadDigest: m.ContentDigest,
			Outcome: journal.OutcomeOK,
			Reason: fmt.Sprintf("waiting for %s, which ceased at %s; passed to its successor (was %s after %d deliveries)",
				m.From, danishTime(a.Valid.To), m.State, m.Deliveries)}
	}
	moved, err := p.cfg.Store.Transfer(ctx, a.ID, succ, entry)
	t.Moved = len(moved)
	if err != nil {
		t.Err = fmt.Errorf("pipeline: transfer of the mailbox of %s to %s: %w", a.ID, succ, err)
		p.log.ErrorContext(ctx, "the mailbox of a ceased authority could not pass to its successor", "from", a.ID, "to", succ, "moved", len(moved), "err", err)
	}
	if len(moved) > 0 {
		p.log.InfoContext(ctx, "mailbox messages of a ceased authority passed to its successor", "from", a.ID, "to", succ, "moved", len(moved))
		p.notify.signal(succ)
	}
	return t
}

// transferToSuccessor moves, before recipient's pull, what waits for the
// authorities recipient succeeds that ceased less than the grace period
// ago (later the ticker suffices: nothing new is queued for them). A
// failure is logged; the pull goes on.
func (p *Pipeline) transferToSuccessor(ctx context.Context, recipient string, now time.Time) {
	for _, a := range p.ceasing() {
		if now.Before(a.Valid.To) || !now.Before(a.Valid.To.Add(p.ceasedGrace())) {
			continue
		}
		if succ, _, _ := p.current().Router.Successor(a.ID, now); succ == recipient {
			p.transfer(ctx, a, now)
		}
	}
}

// ceasedGrace is the grace period of an authority that ceased.
func (p *Pipeline) ceasedGrace() time.Duration {
	if p.lim.CeasedGrace > 0 {
		return p.lim.CeasedGrace
	}
	return directory.DefaultCeasedGrace
}

// Ceased is the refusal of an authority that has ceased by now (the
// ceased-authority fault, naming its successor), nil for one in force. The
// HTTP layer answers it to a TLS client certificate registered for an
// authority whose grace period is over.
func (p *Pipeline) Ceased(authority string) error {
	return p.ceasedFault(authority, p.cfg.Clock.Now())
}

// ceasedFault refuses an authority that has ceased by now, naming its
// successor; nil when it is in force.
func (p *Pipeline) ceasedFault(authority string, now time.Time) error {
	v := p.current()
	succ, name, ceased := v.Router.Successor(authority, now)
	if !ceased {
		return nil
	}
	a, _ := v.Directory.Lookup(authority)
	var b strings.Builder
	fmt.Fprintf(&b, "%s ceased", authority)
	if !a.Valid.To.IsZero() {
		fmt.Fprintf(&b, " at %s", danishTime(a.Valid.To))
	}
	switch {
	case succ != "":
		fmt.Fprintf(&b, "; its successor %s (%s) holds its records and its mailbox", succ, name)
	case name != "":
		fmt.Fprintf(&b, "; its successor %s holds its records, and receives its mailbox once that region's code is configured", name)
	default:
		b.WriteString("; it has no successor")
	}
	return fault.New(fault.ErrForbidden, TypeCeasedAuthority, "Ceased authority", b.String())
}

// MailboxDepth is the mailbox messages not yet acknowledged (queued,
// leased or parked) of one kind of recipient.
type MailboxDepth struct {
	// Kind is region, municipality or police.
	Kind string
	// Depth counts the messages.
	Depth int64
	// Oldest is when the oldest of them was queued (zero when Depth is 0).
	Oldest time.Time
}

// MailboxKinds are the kinds of recipient Mailboxes reports, in order.
var MailboxKinds = []string{directory.KindRegion, directory.KindMunicipality, directory.KindPolice}

// Mailboxes reports, per kind of recipient (MailboxKinds, each once, in
// that order), how many mailbox messages are not acknowledged and when the
// oldest was queued: one aggregate query of the store (ids and times only),
// for the metrics.
func (p *Pipeline) Mailboxes(ctx context.Context) ([]MailboxDepth, error) {
	ws, err := p.cfg.Store.Waiting(ctx)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			return nil, unavailable("the mailboxes could not be counted in time", err)
		}
		return nil, unavailable("the mailboxes could not be counted", err)
	}
	out := make([]MailboxDepth, len(MailboxKinds))
	index := map[string]int{}
	for i, k := range MailboxKinds {
		out[i].Kind, index[k] = k, i
	}
	for _, w := range ws {
		kind, _, _ := strings.Cut(w.Recipient, ":")
		i, ok := index[kind]
		if !ok {
			continue
		}
		d := &out[i]
		d.Depth += w.Count
		if d.Oldest.IsZero() || w.OldestQueuedAt.Before(d.Oldest) {
			d.Oldest = w.OldestQueuedAt
		}
	}
	return out, nil
}

// danishTime writes an instant in Danish time for messages and the journal.
func danishTime(t time.Time) string { return t.In(clock.Danish()).Format("2006-01-02 15:04 MST") }

// Predecessors lists the authorities of the directory in force that have
// ceased by the time at and whose records authority holds then (its
// predecessors: region:1084 and region:1085 for Region Østdanmark after
// the 2027 merger, once its code is configured), in directory order. A
// data-protection officer of authority also sees their journal rows.
func (p *Pipeline) Predecessors(authority string, at time.Time) []string {
	v := p.current()
	var out []string
	for _, a := range v.Directory.Authorities {
		if a.ID == authority {
			continue
		}
		if succ, _, ceased := v.Router.Successor(a.ID, at); ceased && succ == authority {
			out = append(out, a.ID)
		}
	}
	return out
}
