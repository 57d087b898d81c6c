package pipeline

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/psykosocial/exchange/adapters"
	"github.com/psykosocial/exchange/internal/directory"
	"github.com/psykosocial/exchange/internal/envelope"
	"github.com/psykosocial/exchange/internal/fault"
	"github.com/psykosocial/exchange/internal/journal"
	"github.com/psykosocial/exchange/internal/store"
)

// Pull leases up to max of recipient's own mailbox messages, acute first
// and then oldest, and seals each to the recipient's newest encryption
// certificate now: a freshly signed message (JWS by the gateway in a JWE)
// with its own id, the mailbox message's stable id in its signed header
// (mailbox_id) and the provenance of the original message. The view is
// stored already encoded in the recipient's format. With nothing waiting
// it waits up to wait (on the injected clock) for a message committed for
// the recipient: at once when Submit commits one in this process, and
// otherwise by asking the store every Limits.PollInterval (other
// replicas). recipient is the authenticated caller: the HTTP layer passes
// the TLS identity, so a caller reaches only its own mailbox.
func (p *Pipeline) Pull(ctx context.Context, recipient string, max int, wait time.Duration) ([]Delivery, error) {
	a, ok := p.cfg.Directory.Lookup(recipient)
	switch {
	case !ok || !a.Mailbox:
		return nil, fault.New(fault.ErrForbidden, TypeMailboxForbidden, "Mailbox forbidden", "the caller has no mailbox")
	case max < 1 || max > p.lim.MaxPull:
		return nil, fault.New(fault.ErrInvalid, TypeBadRequest, "Bad request", fmt.Sprintf("max must be 1 to %d", p.lim.MaxPull))
	case wait < 0 || wait > p.lim.MaxWait:
		return nil, fault.New(fault.ErrInvalid, TypeBadRequest, "Bad request", fmt.Sprintf("wait must be 0 to %s", p.lim.MaxWait))
	}
	enc, err := p.cfg.Certs.EncryptionCertificate(recipient)
	if err != nil {
		return nil, fault.Wrap(fault.ErrForbidden, TypeMailboxForbidden, "Mailbox forbidden", "the recipient has no valid encryption certificate", err)
	}
	to, err := envelope.NewEncryptionKey(enc.PublicKey, "")
	if err != nil {
		return nil, unavailable("the recipient's encryption certificate is unusable", err)
	}
	deadline := p.cfg.Clock.Now().Add(wait)
	for {
		ch := p.notify.wait(recipient)
		res, err := p.cfg.Store.Pull(ctx, recipient, max, p.lim.Lease)
		if err != nil {
			p.notify.done(recipient, ch)
			return nil, unavailable("the mailbox could not be read", err)
		}
		if len(res.Parked) > 0 {
			p.log.WarnContext(ctx, "mailbox messages parked", "recipient", recipient, "parked", len(res.Parked))
		}
		if len(res.Messages) > 0 {
			p.notify.done(recipient, ch)
			return p.seal(ctx, recipient, a.Format, to, res.Messages)
		}
		left := deadline.Sub(p.cfg.Clock.Now())
		if left <= 0 {
			p.notify.done(recipient, ch)
			return nil, nil
		}
		t := p.cfg.Clock.NewTimer(min(left, p.lim.PollInterval))
		select {
		case <-ch:
		case <-t.C():
		case <-ctx.Done():
			t.Stop()
			p.notify.done(recipient, ch)
			return nil, unavailable("the long-poll was cancelled", ctx.Err())
		}
		t.Stop()
		p.notify.done(recipient, ch)
	}
}

// seal makes the deliveries of leased mailbox messages.
func (p *Pipeline) seal(ctx context.Context, recipient, format string, to envelope.EncryptionKey, ms []store.MailboxMessage) ([]Delivery, error) {
	ad, ok := p.cfg.Adapters.ByFormat(format)
	ct, ctOK := contentType(format)
	if !ok || !ctOK {
		return nil, unavailable("the recipient's format has no adapter", nil)
	}
	out := make([]Delivery, 0, len(ms))
	for _, m := range ms {
		kind := envelope.KindRegistration
		doc, err := ad.Decode(m.View)
		if err != nil {
			return nil, unavailable("a stored view does not decode", err)
		}
		if doc.Kind == adapters.KindWithdrawal {
			kind = envelope.KindWithdrawal
		}
		msg := envelope.Message{Kind: kind, ContentType: ct, Recipient: recipient, To: to, Payload: m.View, MailboxID: m.ID}
		if prov, err := p.provenance(ctx, m); err == nil && prov != nil {
			msg.Provenance = prov
		}
		sealed, err := p.sealer.Seal(ctx, msg)
		if err != nil {
			return nil, unavailable("a delivery could not be sealed", err)
		}
		p.sent.add(recipient, m.ID, sealed.Digest)
		out = append(out, Delivery{MailboxID: m.ID, RecordID: m.RecordID, Version: m.RecordVersion, Kind: string(kind),
			Deliveries: m.Deliveries, LeaseUntil: m.LeaseUntil, Body: sealed.Envelope})
	}
	return out, nil
}

// provenance names the original message of a mailbox message: the message
// that brought the record version.
func (p *Pipeline) provenance(ctx context.Context, m store.MailboxMessage) (*envelope.Provenance, error) {
	r, err := p.cfg.Store.Record(ctx, m.RecordID, m.RecordVersion)
	if err != nil {
		return nil, err
	}
	ev, err := p.cfg.Store.Evidence(ctx, r.Sender, r.MessageID)
	if err != nil {
		return nil, err
	}
	if !envelope.ValidMessageID(r.MessageID) {
		return nil, errors.New("the original message id is not a UUID")
	}
	return &envelope.Provenance{Issuer: r.Sender, ID: r.MessageID, Digest: envelope.DigestOf(ev)}, nil
}

// Ack verifies the recipient's signed receipt for mailbox message
// mailboxID (envelope.VerifyReceipt, signed by the recipient: it names the
// delivery's message id and digest and the outcome received) and marks the
// message delivered, never to be delivered again, with a delivered journal
// entry naming the mailbox id and the digest acknowledged, in one
// transaction. A receipt that does not verify, or that names a delivery
// this gateway did not send for mailboxID, is refused (bad-receipt); an id
// the recipient has not got is ErrNotFound, like another's.
func (p *Pipeline) Ack(ctx context.Context, recipient, mailboxID string, receipt []byte) error {
	if _, ok := p.cfg.Directory.Lookup(recipient); !ok {
		return fault.New(fault.ErrForbidden, TypeMailboxForbidden, "Mailbox forbidden", "the caller has no mailbox")
	}
	if !envelope.ValidMessageID(mailboxID) {
		return fault.New(fault.ErrNotFound, TypeUnknownMessage, "Unknown message", "no such mailbox message")
	}
	r, err := p.opener.VerifyReceipt(ctx, receipt, recipient)
	if err != nil {
		if errors.Is(err, envelope.ErrUnavailable) {
			return unavailable("the trust store could not be read", err)
		}
		if errors.Is(err, envelope.ErrUnknownKey) || errors.Is(err, envelope.ErrSignature) || errors.Is(err, envelope.ErrIssuer) || errors.Is(err, envelope.ErrAlgorithm) {
			return fault.Wrap(fault.ErrForbidden, TypeBadReceipt, "Bad receipt", "the receipt is not signed by the recipient", err)
		}
		return fault.Wrap(fault.ErrInvalid, TypeBadReceipt, "Bad receipt", "the receipt does not verify", err)
	}
	switch {
	case r.Sender != directory.GatewayID:
		return fault.New(fault.ErrInvalid, TypeBadReceipt, "Bad receipt", "the receipt is not addressed to the gateway")
	case r.Outcome != envelope.OutcomeReceived:
		return fault.New(fault.ErrInvalid, TypeBadReceipt, "Bad receipt", "an acknowledgement has the outcome received")
	}
	switch p.sent.check(recipient, mailboxID, r.PayloadDigest) {
	case sentUnknown:
		return fault.New(fault.ErrNotFound, TypeUnknownMessage, "Unknown message", "no delivery of this mailbox message is known")
	case sentOther:
		return fault.New(fault.ErrInvalid, TypeBadReceipt, "Bad receipt", "the receipt names a delivery that was not sent for this mailbox message")
	}
	e := journal.Entry{Event: journal.EventDelivered, Actor: recipient, Counterpart: directory.GatewayID, MessageID: mailboxID,
		PayloadDigest: r.PayloadDigest, Outcome: journal.OutcomeOK}
	if err := p.cfg.Store.Ack(ctx, recipient, mailboxID, e); err != nil {
		switch {
		case errors.Is(err, store.ErrNotFound):
			return fault.Wrap(fault.ErrNotFound, TypeUnknownMessage, "Unknown message", "no such mailbox message", err)
		case errors.Is(err, store.ErrDuplicate):
			return nil // acknowledged before: the same answer, nothing journaled again
		}
		return unavailable("the acknowledgement could not be committed", err)
	}
	// The delivery stays remembered (the memory is bounded): a case system
	// whose connection dropped repeats its ack and gets the same answer.
	return nil
}

// notifier wakes long-polls of a recipient when Submit commits for it.
type notifier struct {
	mu      sync.Mutex
	waiters map[string]map[chan struct{}]struct{}
}

func newNotifier() *notifier { return &notifier{waiters: map[string]map[chan struct{}]struct{}{}} }

// wait registers a waiter for recipient; done removes it.
func (n *notifier) wait(recipient string) chan struct{} {
	ch := make(chan struct{}, 1)
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.waiters[recipient] == nil {
		n.waiters[recipient] = map[chan struct{}]struct{}{}
	}
	n.waiters[recipient][ch] = struct{}{}
	return ch
}

func (n *notifier) done(recipient string, ch chan struct{}) {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.waiters[recipient], ch)
	if len(n.waiters[recipient]) == 0 {
		delete(n.waiters, recipient)
	}
}

// signal wakes every waiter of recipient.
func (n *notifier) signal(recipient string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for ch := range n.waiters[recipient] {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// sentDigests remembers the digests of the deliveries sent for each
// mailbox message, so that an ack is checked against a delivery that was
// sent. It is bounded (the oldest mailbox message is forgotten first) and
// per process.
type sentDigests struct {
	mu    sync.Mutex
	max   int
	byKey map[string]*list.Element
	order *list.List
}

type sentEntry struct {
	key     string
	digests []envelope.Digest
}

func newSentDigests(max int) *sentDigests {
	return &sentDigests{max: max, byKey: map[string]*list.Element{}, order: list.New()}
}

func sentKey(recipient, id string) string { return recipient + "\x00" + id }

// maxDigestsPerMessage bounds the deliveries remembered per mailbox message
// (the store parks one after 10 by default).
const maxDigestsPerMessage = 64

func (s *sentDigests) add(recipient, id string, d envelope.Digest) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := sentKey(recipient, id)
	if el, ok := s.byKey[k]; ok {
		e := el.Value.(*sentEntry)
		if len(e.digests) < maxDigestsPerMessage {
			e.digests = append(e.digests, d)
		}
		s.order.MoveToBack(el)
		return
	}
	s.byKey[k] = s.order.PushBack(&sentEntry{key: k, digests: []envelope.Digest{d}})
	for s.order.Len() > s.max {
		old := s.order.Front()
		s.order.Remove(old)
		delete(s.byKey, old.Value.(*sentEntry).key)
	}
}

// Results of sentDigests.check.
const (
	sentMatch = iota
	sentUnknown
	sentOther
)

func (s *sentDigests) check(recipient, id string, d envelope.Digest) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	el, ok := s.byKey[sentKey(recipient, id)]
	if !ok {
		return sentUnknown
	}
	for _, x := range el.Value.(*sentEntry).digests {
		if x == d {
			return sentMatch
		}
	}
	return sentOther
}
