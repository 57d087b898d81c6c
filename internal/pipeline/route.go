package pipeline

import (
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/psykosocial/exchange/adapters"
	"github.com/psykosocial/exchange/internal/consent"
	"github.com/psykosocial/exchange/internal/directory"
	"github.com/psykosocial/exchange/internal/fault"
	"github.com/psykosocial/exchange/internal/journal"
	"github.com/psykosocial/exchange/internal/record"
	"github.com/psykosocial/exchange/internal/routing"
	"github.com/psykosocial/exchange/internal/store"
)

// reasonNotice marks the queued entry of a withdrawal notice: earlier
// decisions are read from the queued entries of registrations only.
const reasonNotice = "withdrawal_notice"

// xmlViewLifetime is the expires-at written in the signed header of a
// stored XML view: the JWS of each delivery bounds its life; this only
// satisfies the format's header.
const xmlViewLifetime = 30 * 24 * time.Hour

// record routes one valid record, decides consent per candidate, reconciles
// a correction with the earlier decisions, and returns the store record
// with its mailbox messages and journal entries.
func (w *work) record(rec *record.Record, body []byte, standing routing.Standing) (store.Record, error) {
	sr := store.Record{ID: rec.RecordID, Version: rec.Version, Body: body}
	subject := w.subject(rec)
	base := journal.Entry{Actor: directory.GatewayID, RecordID: rec.RecordID, RecordVersion: rec.Version,
		MessageID: w.in.id, Subject: subject, PayloadDigest: w.in.digest, Outcome: journal.OutcomeOK}
	if rec.Incident != nil {
		base.IncidentID = rec.Incident.ID
	}
	// The store keeps the pseudonymous reference and the incident beside
	// the sealed record, to journal its purge under them.
	sr.Subject, sr.IncidentID = subject, base.IncidentID
	recv := base
	recv.Event, recv.Actor, recv.Counterpart = journal.EventReceived, w.in.sender, directory.GatewayID
	if standing.OnBehalfOf != "" {
		recv.Counterpart = standing.OnBehalfOf
		recv.Reason = "sent by a ceased authority on behalf of its successor " + standing.OnBehalfOf
	} else if !standing.CeasedAt.IsZero() {
		recv.Reason = "sent by a ceased authority within its grace period; its successor is not configured"
	}
	sr.Journal = append(sr.Journal, recv)

	route, err := w.v.Router.Route(rec, w.in.sender, w.now)
	if err != nil {
		return sr, fault.Wrap(fault.ErrInvalid, TypeInvalidRecord, "Invalid record", "the record cannot be routed", err)
	}
	for _, c := range route.Candidates {
		e := base
		e.Event, e.Counterpart, e.RecipientRole, e.Reason = journal.EventRouted, c.Authority, c.Role, string(c.Reason.Code)
		sr.Journal = append(sr.Journal, e)
	}
	outs, err := w.v.Policy.EvaluateRoute(rec, route, w.now, links{w: w})
	if err != nil {
		return sr, fault.Wrap(fault.ErrInvalid, TypeInvalidRecord, "Invalid record", "consent cannot be evaluated for the record", err)
	}
	var next []consent.Decision
	allowed := map[string][]consent.Decision{}
	var order []string
	for _, o := range outs {
		d := o.Decision
		next = append(next, d)
		if d.Check == consent.CheckRecipientNotConfigured && !slices.Contains(sr.Gaps, string(d.Role)) {
			// Kept open with the record: routed again once configured.
			sr.Gaps = append(sr.Gaps, string(d.Role))
		}
		if d.Effect != consent.Allow {
			e := base
			e.Event, e.Counterpart, e.RecipientRole, e.Purpose = journal.EventWithheld, d.Recipient, d.Role, d.Purpose
			e.Consent, e.Outcome, e.Reason = journalDecision(d), journal.OutcomeRefused, string(d.Check)
			sr.Journal = append(sr.Journal, e)
			continue
		}
		if _, ok := allowed[d.Recipient]; !ok {
			order = append(order, d.Recipient)
		}
		allowed[d.Recipient] = append(allowed[d.Recipient], d)
	}

	// Who gets what: a first delivery to every allowed recipient, or, for a
	// correction, what Reconcile says given the earlier decisions.
	type send struct {
		to       string
		withdraw bool
		version  int
		event    journal.EventType
		because  string
	}
	var sends []send
	earlier, err := w.earlier(rec.RecordID)
	if err != nil {
		return sr, err
	}
	if len(earlier) == 0 {
		for _, to := range order {
			sends = append(sends, send{to: to})
		}
	} else {
		notices, err := consent.Reconcile(earlier, rec, next, consent.Transfer{At: w.now, Successions: w.v.Router})
		if err != nil {
			return sr, fault.Wrap(fault.ErrConflict, TypeRecordConflict, "Record conflict", "the version is not newer than the one decided on", err)
		}
		for _, n := range notices {
			switch n.Action {
			case consent.ActionCorrect:
				sends = append(sends, send{to: n.Recipient, event: journal.EventCorrected, because: noticeReason(n)})
			case consent.ActionDeliver:
				sends = append(sends, send{to: n.Recipient})
			case consent.ActionWithdraw:
				sends = append(sends, send{to: n.Recipient, withdraw: true, version: n.Version, event: journal.EventWithdrawn, because: noticeReason(n)})
			case consent.ActionPending:
				e := base
				e.Event, e.Counterpart, e.Outcome, e.Reason = journal.EventWithheld, n.Recipient, journal.OutcomeRefused, "correction pending: "+noticeReason(n)
				sr.Journal = append(sr.Journal, e)
			}
		}
	}
	for _, s := range sends {
		if s.withdraw {
			wd := &record.Withdrawal{Schema: record.WithdrawalSchemaV1, RecordID: rec.RecordID, Version: s.version,
				Reason: record.ReasonRecipientIncorrect, IncidentID: base.IncidentID}
			d, es, err := w.notice(s.to, wd, base, s.because)
			if err != nil {
				return sr, err
			}
			sr.Deliveries, sr.Journal = append(sr.Deliveries, d), append(sr.Journal, es...)
			continue
		}
		ds := allowed[s.to]
		if len(ds) == 0 {
			continue
		}
		view, err := consent.ViewOf(rec, ds...)
		if err != nil {
			return sr, unavailable("a view could not be built", err)
		}
		id, err := newID()
		if err != nil {
			return sr, unavailable("no randomness for a mailbox id", err)
		}
		doc, err := w.encode(s.to, id, &adapters.Message{Kind: adapters.KindRegistration, Items: []adapters.Item{{Record: view}}})
		if err != nil {
			return sr, err
		}
		prio := store.PriorityNormal
		if view.Assessment != nil && view.Assessment.FollowUpPriority == record.PriorityAcute {
			prio = store.PriorityAcute
		}
		sr.Deliveries = append(sr.Deliveries, store.Delivery{ID: id, Recipient: s.to, View: doc, Priority: prio})
		digest := sha256.Sum256(doc)
		if s.event != "" {
			e := base
			e.Event, e.Counterpart, e.MessageID, e.PayloadDigest, e.Reason = s.event, s.to, id, digest, s.because
			sr.Journal = append(sr.Journal, e)
		}
		for _, d := range ds {
			e := base
			e.Event, e.Counterpart, e.RecipientRole, e.Purpose = journal.EventQueued, s.to, d.Role, d.Purpose
			e.MessageID, e.PayloadDigest, e.Consent, e.Fields = id, digest, journalDecision(d), d.Fields
			sr.Journal = append(sr.Journal, e)
		}
		if w.held[s.to] == nil {
			w.held[s.to] = map[string]bool{}
		}
		w.held[s.to][rec.RecordID] = true
		w.mark(s.to)
	}
	return sr, nil
}

// withdrawal judges a withdrawal message: every authority that holds the
// record gets a withdrawal notice.
func (w *work) withdrawal(it *store.Intake) ([]ItemResult, error) {
	wd := w.in.msg.Withdrawal
	if wd == nil {
		return nil, malformed(record.Problems{{Rule: "message.withdrawal", Message: "the withdrawal message has no notice"}}, nil)
	}
	if ps := w.v.Validator.ValidateWithdrawal(wd); len(ps) > 0 {
		return nil, malformed(adapters.ClipProblems(ps), nil)
	}
	earlier, err := w.earlier(wd.RecordID)
	if err != nil {
		return nil, err
	}
	notices, err := consent.ReconcileWithdrawal(earlier, wd, consent.Transfer{At: w.now, Successions: w.v.Router})
	if err != nil {
		return nil, unavailable("the withdrawal could not be reconciled", err)
	}
	// The store checks the version withdrawn is stored: the latest decided
	// on, or the sender's when nobody received the record.
	version := wd.Version
	if latest := latestVersion(earlier); latest > 0 {
		version = latest
	}
	base := journal.Entry{Actor: directory.GatewayID, RecordID: wd.RecordID, RecordVersion: version,
		MessageID: w.in.id, IncidentID: wd.IncidentID, PayloadDigest: w.in.digest, Outcome: journal.OutcomeOK}
	sw := store.Withdrawal{RecordID: wd.RecordID, Version: version}
	recv := base
	recv.Event, recv.Actor, recv.Counterpart, recv.Reason = journal.EventReceived, w.in.sender, directory.GatewayID, "withdrawal: "+string(wd.Reason)
	sw.Journal = append(sw.Journal, recv)
	for _, n := range notices {
		because := noticeReason(n)
		switch n.Action {
		case consent.ActionWithdraw:
		case consent.ActionPending:
			// The holder has ceased and its successor cannot be addressed
			// yet. A withdrawal must reach whoever holds the data: the
			// notice is queued in the ceased holder's mailbox, which no one
			// pulls, and passes to the successor's with everything else
			// waiting there once the successor is configured (TransferCeased).
			because = "pending: waits in the mailbox of " + n.Recipient + " until its successor can be addressed; " + because
		default:
			continue
		}
		notice := *wd
		notice.Version = n.Version
		d, es, err := w.notice(n.Recipient, &notice, base, because)
		if err != nil {
			return nil, err
		}
		sw.Deliveries, sw.Journal = append(sw.Deliveries, d), append(sw.Journal, es...)
	}
	it.Withdrawals = append(it.Withdrawals, sw)
	return []ItemResult{{Index: 0, RecordID: wd.RecordID, Version: wd.Version, Status: ItemAccepted}}, nil
}

// noticeReason is the journal's reason of a correction or withdrawal
// notice: why it is sent and, when the recipient holds the record as the
// successor of an authority that has ceased (the 2027 merger), which
// authority received it, so that the journal names both.
func noticeReason(n consent.Notice) string {
	r := string(n.Because)
	if len(n.TransferredFrom) > 0 {
		r += "; received by " + strings.Join(n.TransferredFrom, " and ") + ", which ceased; held by its successor"
	}
	if n.SuccessorName != "" && n.Action == consent.ActionPending {
		r += "; successor " + n.SuccessorName + " not configured"
	}
	return r
}

// latestVersion is the latest version among decisions, 0 for none.
func latestVersion(ds []consent.Decision) int {
	v := 0
	for _, d := range ds {
		v = max(v, d.Version)
	}
	return v
}

// notice encodes a withdrawal notice for one recipient and its entries.
func (w *work) notice(to string, wd *record.Withdrawal, base journal.Entry, because string) (store.Delivery, []journal.Entry, error) {
	id, err := newID()
	if err != nil {
		return store.Delivery{}, nil, unavailable("no randomness for a mailbox id", err)
	}
	doc, err := w.encode(to, id, &adapters.Message{Kind: adapters.KindWithdrawal, Withdrawal: wd})
	if err != nil {
		return store.Delivery{}, nil, err
	}
	digest := sha256.Sum256(doc)
	e := base
	e.Event, e.Counterpart, e.MessageID, e.PayloadDigest, e.Reason = journal.EventWithdrawn, to, id, digest, because
	q := e
	q.Event, q.Reason = journal.EventQueued, reasonNotice
	w.mark(to)
	return store.Delivery{ID: id, Recipient: to, View: doc, Priority: store.PriorityNormal}, []journal.Entry{e, q}, nil
}

// mark notes a recipient whose mailbox gets a message.
func (w *work) mark(to string) {
	if w.recipients == nil {
		w.recipients = map[string]bool{}
	}
	w.recipients[to] = true
	w.queued++
}

// encode writes m in the recipient's format; XML formats get a header
// from the gateway naming the mailbox message id.
func (w *work) encode(to, mailboxID string, m *adapters.Message) ([]byte, error) {
	a, ok := w.v.Directory.Lookup(to)
	if !ok {
		return nil, unavailable("a recipient is not in the directory", nil)
	}
	ad, ok := w.v.Adapters.ByFormat(a.Format)
	if !ok {
		return nil, unavailable("a recipient's format has no adapter", nil)
	}
	m.Format = a.Format
	if isXML(a.Format) {
		at := w.now.UTC().Truncate(time.Second)
		m.Header = &adapters.Header{MessageID: mailboxID, Sender: directory.GatewayID, Recipient: to, IssuedAt: at, ExpiresAt: at.Add(xmlViewLifetime)}
	}
	doc, err := ad.Encode(m)
	if err != nil {
		return nil, fault.Wrap(fault.ErrInvalid, TypeInvalidRecord, "Invalid record",
			fmt.Sprintf("the view for %s cannot be written in its format", to), err)
	}
	return doc, nil
}

// earlier reads the decisions recorded for a record's earlier versions
// from the journal: the queued entries of its registrations.
func (w *work) earlier(recordID string) ([]consent.Decision, error) {
	var out []consent.Decision
	q := journal.Query{Filter: journal.Filter{RecordID: recordID, Events: []journal.EventType{journal.EventQueued}}, Limit: maxJournalQuery}
	for range 16 {
		page, err := w.p.cfg.Journal.Query(w.ctx, q)
		if err != nil {
			return nil, unavailable("the journal could not be read", err)
		}
		for _, r := range page.Results {
			e := r.Entry
			if e.Reason == reasonNotice || e.Consent.Rule == "" {
				continue
			}
			out = append(out, consent.Decision{RecordID: e.RecordID, Version: e.RecordVersion, Recipient: e.Counterpart,
				Role: e.RecipientRole, Purpose: e.Purpose, Effect: consent.Allow, RuleID: e.Consent.Rule,
				PolicyVersion: e.Consent.PolicyVersion, Fields: slices.Clone(e.Fields), At: e.Time})
		}
		if !page.More {
			return out, nil
		}
		q.Cursor = page.Next
	}
	return nil, unavailable("a record has too many journal entries to reconcile", nil)
}

// links answers consent's question whether a recipient holds a record:
// from this message's deliveries, then from the journal.
type links struct{ w *work }

// Holds implements consent.Links.
func (l links) Holds(recipient, recordID string) bool {
	if l.w.held[recipient][recordID] {
		return true
	}
	page, err := l.w.p.cfg.Journal.Query(l.w.ctx, journal.Query{Filter: journal.Filter{RecordID: recordID, Authority: recipient,
		Events: []journal.EventType{journal.EventQueued}}, Limit: 10})
	if err != nil {
		return false
	}
	for _, r := range page.Results {
		if r.Entry.Counterpart == recipient && r.Entry.Reason != reasonNotice {
			return true
		}
	}
	return false
}

// subject is the pseudonymous reference of the record's person.
func (w *work) subject(rec *record.Record) journal.Subject {
	if rec.Person == nil {
		return journal.Subject{}
	}
	if rec.Person.CPR != "" {
		if s, err := w.p.cfg.Subjects.CPR(rec.Person.CPR); err == nil {
			return s
		}
	}
	if rec.Person.Name != "" && rec.Person.BirthDate != nil {
		if s, err := w.p.cfg.Subjects.NameAndBirthDate(rec.Person.Name, *rec.Person.BirthDate); err == nil {
			return s
		}
	}
	return journal.Subject{}
}

// journalDecision copies a consent decision into the journal's form.
func journalDecision(d consent.Decision) journal.Decision {
	return journal.Decision{Rule: d.RuleID, PolicyVersion: d.PolicyVersion, Basis: string(d.Basis), LegalBasis: d.LegalBasis,
		Clause: d.Clause, Check: string(d.Check), GivenBy: string(d.GivenBy)}
}
