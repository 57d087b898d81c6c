package pipeline

import (
	"context"
	"crypto/sha256"
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
// the TLS identity, so a caller reaches only its own mailbox. An authority
// that has ceased is refused (ceased-authority, naming its successor): its
// mailbox passed to the successor, whose pull first moves what waits for
// the authorities it succeeds (see TransferCeased).
func (p *Pipeline) Pull(ctx context.Context, recipient string, max int, wait time.Duration) ([]Delivery, error) {
	v := p.current()
	a, ok := v.Directory.Lookup(recipient)
	switch {
	case !ok || !a.Mailbox:
		return nil, fault.New(fault.ErrForbidden, TypeMailboxForbidden, "Mailbox forbidden", "the caller has no mailbox")
	case max < 1 || max > p.lim.MaxPull:
		return nil, fault.New(fault.ErrInvalid, TypeBadRequest, "Bad request", fmt.Sprintf("max must be 1 to %d", p.lim.MaxPull))
	case wait < 0 || wait > p.lim.MaxWait:
		return nil, fault.New(fault.ErrInvalid, TypeBadRequest, "Bad request", fmt.Sprintf("wait must be 0 to %s", p.lim.MaxWait))
	}
	now := p.cfg.Clock.Now()
	if err := p.ceasedFault(recipient, now); err != nil {
		return nil, err // what waited for it is its successor's now
	}
	p.transferToSuccessor(ctx, recipient, now)
	enc, err := v.Certs.EncryptionCertificate(recipient)
	if err != nil {
		return nil, fault.Wrap(fault.ErrForbidden, TypeMailboxForbidden, "Mailbox forbidden", "the recipient has no valid encryption certificate", err)
	}
	to, err := envelope.NewEncryptionKey(enc.PublicKey, "")
	if err != nil {
		return nil, unavailable("the recipient's encryption certificate is unusable", err)
	}
	ad, adOK := v.Adapters.ByFormat(a.Format)
	ct, ctOK := contentType(a.Format)
	if !adOK || !ctOK {
		return nil, unavailable("the recipient's format has no adapter", nil)
	}
	deadline := now.Add(wait)
	for {
		ch := p.notify.wait(recipient)
		// Each leased message is sealed inside the store's transaction,
		// which records the delivery's digest with the lease: any replica
		// accepts its ack, before or after a restart. A retried
		// transaction seals again; the last sealing of each id is the one
		// committed.
		sealed := map[string]sealedDelivery{}
		res, err := p.cfg.Store.Pull(ctx, recipient, max, p.lim.Lease, func(ctx context.Context, m store.MailboxMessage) ([sha256.Size]byte, error) {
			s, err := p.seal(ctx, recipient, ad, ct, to, m)
			if err != nil {
				return [sha256.Size]byte{}, err
			}
			sealed[m.ID] = s
			return s.Digest, nil
		})
		if err != nil {
			p.notify.done(recipient, ch)
			var fe *fault.Error
			if errors.As(err, &fe) {
				return nil, fe // the sealing failed
			}
			return nil, unavailable("the mailbox could not be read", err)
		}
		if len(res.Parked) > 0 {
			p.log.WarnContext(ctx, "mailbox messages parked", "recipient", recipient, "parked", len(res.Parked))
		}
		if len(res.Messages) > 0 {
			p.notify.done(recipient, ch)
			out := make([]Delivery, 0, len(res.Messages))
			for _, m := range res.Messages {
				s, ok := sealed[m.ID]
				if !ok || envelope.Digest(m.DeliveryDigest) != s.Digest {
					return nil, unavailable("a delivery's digest does not match its sealing", nil)
				}
				out = append(out, Delivery{MailboxID: m.ID, RecordID: m.RecordID, Version: m.RecordVersion, Kind: string(s.kind),
					Deliveries: m.Deliveries, LeaseUntil: m.LeaseUntil, Body: s.Envelope})
			}
			return out, nil
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

// seal makes the delivery of a leased mailbox message: the view sealed
// to the recipient, with the provenance of the original message.
func (p *Pipeline) seal(ctx context.Context, recipient string, ad adapters.Adapter, ct string, to envelope.EncryptionKey, m store.MailboxMessage) (sealedDelivery, error) {
	kind := envelope.KindRegistration
	doc, err := ad.Decode(m.View)
	if err != nil {
		return sealedDelivery{}, unavailable("a stored view does not decode", err)
	}
	if doc.Kind == adapters.KindWithdrawal {
		kind = envelope.KindWithdrawal
	}
	msg := envelope.Message{Kind: kind, ContentType: ct, Recipient: recipient, To: to, Payload: m.View, MailboxID: m.ID}
	if o := m.Origin; o != nil && envelope.ValidMessageID(o.MessageID) {
		// The digest stays when retention has purged the evidence.
		msg.Provenance = &envelope.Provenance{Issuer: o.Sender, ID: o.MessageID, Digest: envelope.Digest(o.Digest)}
	}
	sealed, err := p.sealer.Seal(ctx, msg)
	if err != nil {
		return sealedDelivery{}, unavailable("a delivery could not be sealed", err)
	}
	return sealedDelivery{Sealed: sealed, kind: kind}, nil
}

// sealedDelivery is a sealed delivery and its kind.
type sealedDelivery struct {
	*envelope.Sealed
	kind envelope.Kind
}

// Ack verifies the recipient's signed receipt for mailbox message
// mailboxID (envelope.VerifyReceipt, signed by the recipient: it names the
// delivery's message id and digest and the outcome received) and marks the
// message delivered, never to be delivered again, with a delivered journal
// entry naming the mailbox id, the record id and version of the message and
// the digest acknowledged, in one transaction. An authority that ceased
// acknowledges, during its grace period, a delivery it pulled before its
// mailbox passed to its successor (the entry's reason says so). A receipt that does not verify, or that names a delivery
// this gateway did not send for mailboxID, is refused (bad-receipt); an id
// the recipient has not got is ErrNotFound, like another's.
func (p *Pipeline) Ack(ctx context.Context, recipient, mailboxID string, receipt []byte) error {
	v := p.current()
	if _, ok := v.Directory.Lookup(recipient); !ok {
		return fault.New(fault.ErrForbidden, TypeMailboxForbidden, "Mailbox forbidden", "the caller has no mailbox")
	}
	if !envelope.ValidMessageID(mailboxID) {
		return fault.New(fault.ErrNotFound, TypeUnknownMessage, "Unknown message", "no such mailbox message")
	}
	r, err := v.opener.VerifyReceipt(ctx, receipt, recipient)
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
	entry := func(a store.Acked) []journal.Entry {
		e := journal.Entry{Event: journal.EventDelivered, Actor: recipient, Counterpart: directory.GatewayID,
			RecordID: a.RecordID, RecordVersion: a.RecordVersion, MessageID: mailboxID, Subject: a.Subject, IncidentID: a.IncidentID,
			PayloadDigest: r.PayloadDigest, Outcome: journal.OutcomeOK}
		if a.Recipient != recipient {
			e.Reason = "acknowledged by " + recipient + ", which ceased, of a delivery it pulled before; its mailbox passed to " + a.Recipient
		}
		return []journal.Entry{e}
	}
	if err := p.cfg.Store.AckWith(ctx, recipient, mailboxID, r.PayloadDigest, entry); err != nil {
		switch {
		case errors.Is(err, store.ErrNotFound):
			return fault.Wrap(fault.ErrNotFound, TypeUnknownMessage, "Unknown message", "no delivery of this mailbox message is known", err)
		case errors.Is(err, store.ErrOtherDelivery):
			return fault.Wrap(fault.ErrInvalid, TypeBadReceipt, "Bad receipt", "the receipt names a delivery that was not sent for this mailbox message", err)
		case errors.Is(err, store.ErrDuplicate):
			return nil // acknowledged before: the same answer, nothing journaled again
		}
		return unavailable("the acknowledgement could not be committed", err)
	}
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
