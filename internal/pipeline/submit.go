package pipeline

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/psykosocial/exchange/adapters"
	"github.com/psykosocial/exchange/internal/directory"
	"github.com/psykosocial/exchange/internal/envelope"
	"github.com/psykosocial/exchange/internal/fault"
	"github.com/psykosocial/exchange/internal/journal"
	"github.com/psykosocial/exchange/internal/record"
	"github.com/psykosocial/exchange/internal/routing"
	"github.com/psykosocial/exchange/internal/store"
	"github.com/psykosocial/exchange/internal/xmlsig"
)

// elementDecoder is an XML adapter that decodes the element XML-DSig
// validation returned (the only part of a signed document that is used).
type elementDecoder interface {
	DecodeElement(root *etree.Element, lines func(*etree.Element) int) (*adapters.Message, error)
}

// inbound is a message opened and verified, ready to be decoded items.
type inbound struct {
	sender   string
	msg      *adapters.Message
	id       string
	expires  time.Time
	evidence []byte
	digest   envelope.Digest
}

// Submit runs one signed message through the intake: open the JWE, verify
// the signer (JWS, or XML-DSig for XML authorities) as the TLS-authenticated
// sender, decode with the sender's adapter, validate, route, decide consent
// per recipient, minimise and encode each allowed view in the recipient's
// format, and commit everything in one transaction of the store (message,
// evidence, records, mailbox messages, journal entries, replay row) with
// the signed receipt it answers. Only then does it return. The store is the
// replay memory: an identical resubmission gets StatusAlreadyReceived and
// the original receipt; another document under a used message id is a
// fault of kind ErrConflict.
func (p *Pipeline) Submit(ctx context.Context, sub Submission) (SubmitResult, error) {
	now := p.cfg.Clock.Now()
	v := p.current() // one version of the rules from here to the commit
	sender := sub.Sender.AuthorityID
	auth, ok := v.Directory.Lookup(sender)
	if !ok || auth.Kind == directory.KindGateway {
		return SubmitResult{}, fault.New(fault.ErrForbidden, TypeUnknownAuthority, "Unknown authority", "the sender is not an authority of the directory")
	}
	// An authority that has ceased sends, during its grace period, what it
	// registered before (judged per record); after it, nothing.
	if _, err := v.Router.Standing(sender, now, time.Time{}, p.lim.CeasedGrace); err != nil {
		e := fault.Wrap(fault.ErrForbidden, TypeCeasedAuthority, "Ceased authority", strings.TrimPrefix(err.Error(), "routing: "), err)
		p.journalRefusal(ctx, sender, nil, e)
		return SubmitResult{}, e
	}
	adapter, ok := v.Adapters.ByFormat(auth.Format)
	ct, ctOK := contentType(auth.Format)
	if !ok || !ctOK {
		return SubmitResult{}, fault.New(fault.ErrForbidden, TypeUnknownAuthority, "Unknown authority", "the sender has no message format")
	}
	var in *inbound
	var err error
	if isXML(auth.Format) {
		in, err = p.openXML(ctx, v, sub, auth.Format, adapter, ct, now)
	} else {
		in, err = p.openJSON(ctx, v, sub, adapter, ct)
	}
	if err != nil {
		p.journalRefusal(ctx, sender, in, err)
		return SubmitResult{}, err
	}
	for attempt := 0; ; attempt++ {
		res, retry, err := p.intake(ctx, v, sub, in, now)
		if err != nil {
			if fe, ok := fault.As(err); ok && !errors.Is(err, fault.ErrUnavailable) && fe.Type != "" {
				p.journalRefusal(ctx, sender, in, err)
			}
			return SubmitResult{}, err
		}
		if !retry || attempt > 0 {
			if retry {
				return SubmitResult{}, unavailable("records of this message were stored concurrently; retry", nil)
			}
			return res, nil
		}
	}
}

// openJSON opens a JSON authority's JWE and JWS and decodes the payload.
func (p *Pipeline) openJSON(ctx context.Context, v *version, sub Submission, a adapters.Adapter, ct string) (*inbound, error) {
	sender := sub.Sender.AuthorityID
	opened, err := v.opener.Open(ctx, sub.Body, envelope.Expect{Sender: sender, Recipient: directory.GatewayID,
		Kinds: []envelope.Kind{envelope.KindRegistration, envelope.KindWithdrawal}, ContentType: ct})
	if err != nil {
		return nil, openFault(err)
	}
	in := &inbound{sender: sender, id: opened.Header.ID, expires: opened.Header.Expires,
		evidence: []byte(opened.Signed), digest: opened.Digest}
	msg, err := a.Decode(opened.Payload)
	if err != nil {
		return in, decodeFault(err)
	}
	if want := kindOf(opened.Header.Kind); msg.Kind != want {
		return in, malformed(record.Problems{{Rule: "message.kind", Message: "the document's kind is not the typ of its signed header"}}, nil)
	}
	in.msg = msg
	return in, nil
}

// openXML opens an XML authority's JWE, verifies the enveloped signature
// with the sender's pinned certificates, decodes only the verified element
// and checks its signed header against the envelope and the clock.
func (p *Pipeline) openXML(ctx context.Context, v *version, sub Submission, format string, a adapters.Adapter, ct string, now time.Time) (*inbound, error) {
	sender := sub.Sender.AuthorityID
	opened, err := v.opener.OpenXML(ctx, sub.Body, envelope.Expect{Sender: sender, Recipient: directory.GatewayID, ContentType: ct})
	if err != nil {
		return nil, openFault(err)
	}
	in := &inbound{sender: sender, id: opened.Header.ID, expires: opened.Header.Expires, evidence: opened.Payload, digest: opened.Digest}
	pinned, err := v.Certs.VerificationCertificates(sender)
	if err != nil || len(pinned) == 0 {
		return in, fault.Wrap(fault.ErrForbidden, TypeSignerMismatch, "Signer mismatch", "the sender has no pinned signing certificate", err)
	}
	verified, err := v.verifier[format].Verify(opened.Payload, pinned)
	if err != nil {
		switch {
		case errors.Is(err, xmlsig.ErrTooLarge):
			return in, fault.Wrap(fault.ErrTooLarge, TypeTooLarge, "Too large", "the signed document exceeds its size limit", err)
		case errors.Is(err, xmlsig.ErrMalformed):
			return in, malformed(record.Problems{{Rule: "xml.malformed", Message: "the signed document is not acceptable XML"}}, err)
		}
		return in, fault.Wrap(fault.ErrForbidden, TypeSignerMismatch, "Signer mismatch", "the XML signature does not verify with the sender's pinned certificates", err)
	}
	who, err := v.Certs.Authenticate(verified.Certificate, nil, directory.UseSigning)
	if err != nil || who.AuthorityID != sender {
		return in, fault.Wrap(fault.ErrForbidden, TypeSignerMismatch, "Signer mismatch", "the signer is not the authenticated sender", err)
	}
	dec, ok := a.(elementDecoder)
	if !ok {
		return in, unavailable("the sender's adapter cannot decode a verified element", nil)
	}
	msg, err := dec.DecodeElement(verified.Element, nil)
	if err != nil {
		return in, decodeFault(err)
	}
	h := msg.Header
	switch {
	case h == nil:
		return in, malformed(record.Problems{{Rule: "message.header", Message: "the signed document has no header"}}, nil)
	case h.Sender != sender:
		return in, fault.New(fault.ErrForbidden, TypeSignerMismatch, "Signer mismatch", "the signed header's sender is not the authenticated sender")
	case h.Recipient != directory.GatewayID || h.MessageID != opened.Header.ID:
		return in, fault.New(fault.ErrMalformed, TypeBadEnvelope, "Bad envelope", "the signed header's recipient or message id is not the envelope's")
	case h.IssuedAt.After(now.Add(p.lim.Leeway)):
		return in, fault.New(fault.ErrInvalid, TypeExpiredMessage, "Expired message", "the signed issued-at lies in the future")
	case !h.ExpiresAt.After(now):
		return in, fault.New(fault.ErrInvalid, TypeExpiredMessage, "Expired message", "the signed expiry has passed")
	case h.ExpiresAt.Sub(h.IssuedAt) > p.lim.MaxXMLLifetime:
		return in, fault.New(fault.ErrInvalid, TypeExpiredMessage, "Expired message",
			fmt.Sprintf("the signed lifetime exceeds the cap of %s", p.lim.MaxXMLLifetime))
	}
	in.expires, in.msg = h.ExpiresAt, msg
	return in, nil
}

// decodeFault turns an adapter's refusal of a whole document into a fault.
func decodeFault(err error) error {
	var ps record.Problems
	if errors.As(err, &ps) {
		return malformed(adapters.ClipProblems(ps), err)
	}
	return malformed(nil, err)
}

func kindOf(k envelope.Kind) adapters.MessageKind {
	if k == envelope.KindWithdrawal {
		return adapters.KindWithdrawal
	}
	return adapters.KindRegistration
}

// intake judges the items, signs the receipt and commits. retry reports
// that a record was stored concurrently between the check and the commit:
// the caller judges again once.
func (p *Pipeline) intake(ctx context.Context, v *version, sub Submission, in *inbound, now time.Time) (SubmitResult, bool, error) {
	_, _, ceased := v.Router.Successor(in.sender, now)
	w := &work{p: p, v: v, ctx: ctx, in: in, now: now, ceased: ceased || !sub.Sender.CeasedAt.IsZero(),
		held: map[string]map[string]bool{}}
	it := &store.Intake{Message: store.Message{Sender: in.sender, ID: in.id, Digest: in.digest, Evidence: in.evidence, ExpiresAt: in.expires}}
	var items []ItemResult
	var err error
	if in.msg.Kind == adapters.KindWithdrawal {
		items, err = w.withdrawal(it)
	} else {
		items, err = w.registrations(it)
	}
	if err != nil {
		return SubmitResult{}, false, err
	}
	rc := envelope.ReceiptV2{MessageID: in.id, PayloadDigest: in.digest, Sender: in.sender, Recipient: directory.GatewayID,
		Time: now.UTC().Truncate(time.Second), Outcome: envelope.OutcomeAccepted}
	for _, r := range items {
		ri := envelope.ReceiptItem{Index: r.Index, Status: envelope.ItemStatus(r.Status), AlreadyIn: r.AlreadyIn}
		if envelope.ValidMessageID(r.RecordID) && r.Version > 0 {
			ri.RecordID, ri.Version = r.RecordID, r.Version
		} else if r.Status != ItemRejected {
			return SubmitResult{}, false, malformed(record.Problems{{Rule: "record.id", Message: "a record id is not a lower-case UUID"}}, nil)
		}
		rc.Items = append(rc.Items, ri)
	}
	if n := it.JournalEntries(); n > journal.MaxTxEntries {
		return SubmitResult{}, false, fault.New(fault.ErrTooLarge, TypeTooLarge, "Too large",
			fmt.Sprintf("the message's %d records yield %d audit journal entries, more than the %d one message may: split the list into several messages", len(it.Records), n, journal.MaxTxEntries))
	}
	token, _, err := p.sealer.SignReceiptV2(ctx, rc)
	if err != nil {
		return SubmitResult{}, false, unavailable("the receipt could not be signed", err)
	}
	it.Message.Receipt = token
	outs, err := p.cfg.Store.Commit(ctx, it)
	if err != nil {
		return SubmitResult{}, false, unavailable("the message could not be committed", err)
	}
	out := outs[0]
	if out.Err != nil {
		var dup *store.AlreadyReceivedError
		if errors.As(out.Err, &dup) {
			return p.alreadyReceived(ctx, in, dup.Receipt)
		}
		return SubmitResult{}, false, commitFault(out.Err)
	}
	if len(out.AlreadyStored) > 0 {
		return SubmitResult{}, true, nil
	}
	for r := range w.recipients {
		p.notify.signal(r)
	}
	p.log.InfoContext(ctx, "message committed", "sender", in.sender, "message_id", in.id, "items", len(items), "mailbox_messages", w.queued)
	return SubmitResult{Status: StatusAccepted, MessageID: in.id, PayloadDigest: in.digest.String(), Items: items, Receipt: token}, false, nil
}

// alreadyReceived answers an identical resubmission with the original receipt.
func (p *Pipeline) alreadyReceived(ctx context.Context, in *inbound, receipt []byte) (SubmitResult, bool, error) {
	res := SubmitResult{Status: StatusAlreadyReceived, MessageID: in.id, PayloadDigest: in.digest.String(), Receipt: receipt}
	rc, err := p.self.VerifyReceiptV2(ctx, receipt, directory.GatewayID)
	if err != nil {
		return SubmitResult{}, false, unavailable("the original receipt does not verify", err)
	}
	for _, it := range rc.Items {
		res.Items = append(res.Items, ItemResult{Index: it.Index, RecordID: it.RecordID, Version: it.Version,
			Status: ItemStatus(it.Status), AlreadyIn: it.AlreadyIn})
	}
	return res, false, nil
}

// commitFault maps a refused intake to a fault.
func commitFault(err error) error {
	var ce *store.ConflictError
	switch {
	case errors.As(err, &ce) && ce.NotOwner:
		return fault.Wrap(fault.ErrConflict, TypeNotOwner, "Not the owner", "a record of the message belongs to another authority", err)
	case errors.As(err, &ce) && ce.RecordID == "":
		return fault.Wrap(fault.ErrConflict, TypeMessageConflict, "Message id conflict", "another document was received under this message id", err)
	case errors.As(err, &ce):
		return fault.Wrap(fault.ErrConflict, TypeRecordConflict, "Record conflict", "a record id and version was received before with other content", err)
	case errors.Is(err, store.ErrExpired):
		return fault.Wrap(fault.ErrInvalid, TypeExpiredMessage, "Expired message", "the message's signed expiry has passed", err)
	case errors.Is(err, store.ErrNotFound):
		return fault.Wrap(fault.ErrNotFound, TypeUnknownRecord, "Unknown record", "the withdrawn record version is not stored", err)
	}
	var ie *store.InputError
	if errors.As(err, &ie) && ie.Field == "message.expires_at" {
		return fault.Wrap(fault.ErrInvalid, TypeExpiredMessage, "Expired message", "the message's signed lifetime exceeds the cap", err)
	}
	return fault.Wrap(fault.ErrInvalid, TypeBadRequest, "Bad request", "the message cannot be stored", err)
}

// journalRefusal journals a whole message refused (best effort: the
// refusal stands even when the journal cannot take it, and is logged).
func (p *Pipeline) journalRefusal(ctx context.Context, sender string, in *inbound, err error) {
	fe, ok := fault.As(err)
	if !ok || errors.Is(err, fault.ErrUnavailable) {
		return
	}
	e := journal.Entry{Event: journal.EventRejected, Actor: sender, Counterpart: directory.GatewayID,
		Outcome: journal.OutcomeRefused, Reason: fe.Type}
	if in != nil {
		e.MessageID, e.PayloadDigest = in.id, in.digest
	}
	if _, jerr := p.cfg.Journal.Append(ctx, e); jerr != nil {
		p.log.ErrorContext(ctx, "journal: a refusal could not be journaled", "sender", sender, "type", fe.Type, "err", jerr)
	}
	p.log.InfoContext(ctx, "message refused", "sender", sender, "type", fe.Type)
}

// work is the judgement of one message's items.
type work struct {
	p          *Pipeline
	v          *version // the rules in force when the work began
	ctx        context.Context
	in         *inbound
	now        time.Time
	ceased     bool
	held       map[string]map[string]bool // recipient -> record ids allowed earlier in this message
	recipients map[string]bool
	queued     int
}

// registrations judges every item of a registration message.
func (w *work) registrations(it *store.Intake) ([]ItemResult, error) {
	p := w.p
	items := make([]ItemResult, len(w.in.msg.Items))
	for i, item := range w.in.msg.Items {
		res := ItemResult{Index: i, Status: ItemRejected}
		rec := item.Record
		if rec == nil {
			res.Problems = item.Problems
			items[i] = res
			it.Journal = append(it.Journal, w.rejected(i, "", 0, item.Problems))
			continue
		}
		res.RecordID, res.Version = rec.RecordID, rec.Version
		if ps := w.v.Validator.Validate(rec); len(ps) > 0 {
			res.Problems = adapters.ClipProblems(ps)
			items[i] = res
			it.Journal = append(it.Journal, w.rejected(i, rec.RecordID, rec.Version, ps))
			continue
		}
		var standing routing.Standing
		if w.ceased {
			var act time.Time
			if rec.Registered != nil && rec.Registered.At != nil {
				act = *rec.Registered.At
			}
			s, err := w.v.Router.Standing(w.in.sender, w.now, act, p.lim.CeasedGrace)
			if err != nil {
				ps := record.Problems{{Pointer: "/registered/at", Rule: "authority.ceased", Message: err.Error()}}
				res.Problems = adapters.ClipProblems(ps)
				items[i] = res
				it.Journal = append(it.Journal, w.rejected(i, rec.RecordID, rec.Version, ps))
				continue
			}
			standing = s
		}
		body, err := record.MarshalCanonical(rec)
		if err != nil {
			return nil, unavailable("a record could not be encoded", err)
		}
		stored, err := p.cfg.Store.Record(w.ctx, rec.RecordID, rec.Version)
		switch {
		case err == nil && stored.ContentDigest == sha256.Sum256(body): // the body itself may be purged
			res.Status, res.AlreadyIn = ItemAlreadyReceived, stored.MessageID
			items[i] = res
			continue
		case err == nil:
			return nil, fault.New(fault.ErrConflict, TypeRecordConflict, "Record conflict",
				fmt.Sprintf("item %d: record version %d was received before with other content", i, rec.Version))
		case !errors.Is(err, store.ErrNotFound):
			return nil, unavailable("the store could not be read", err)
		}
		sr, err := w.record(rec, body, standing)
		if err != nil {
			return nil, err
		}
		it.Records = append(it.Records, sr)
		res.Status = ItemAccepted
		items[i] = res
	}
	return items, nil
}

// rejected is the journal entry of a refused item.
func (w *work) rejected(i int, recordID string, version int, ps record.Problems) journal.Entry {
	reason := fmt.Sprintf("item %d refused", i)
	if len(ps) > 0 && isRule(ps[0].Rule) {
		reason = fmt.Sprintf("item %d: %s", i, ps[0].Rule)
	}
	e := journal.Entry{Event: journal.EventRejected, Actor: w.in.sender, Counterpart: directory.GatewayID,
		MessageID: w.in.id, PayloadDigest: w.in.digest, Outcome: journal.OutcomeRefused, Reason: reason}
	if envelope.ValidMessageID(recordID) && version > 0 {
		e.RecordID, e.RecordVersion = recordID, version
	}
	return e
}

// isRule reports whether s looks like a rule name (letters, digits, . _ -).
func isRule(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// newID returns a fresh lower-case UUID (mailbox message ids).
func newID() (string, error) { return envelope.NewMessageID(rand.Reader) }
