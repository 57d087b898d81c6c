package pipeline

import (
	"context"
	"crypto/sha256"
	"errors"
	"slices"

	"github.com/psykosocial/exchange/adapters"
	"github.com/psykosocial/exchange/internal/consent"
	"github.com/psykosocial/exchange/internal/directory"
	"github.com/psykosocial/exchange/internal/journal"
	"github.com/psykosocial/exchange/internal/record"
	"github.com/psykosocial/exchange/internal/routing"
	"github.com/psykosocial/exchange/internal/store"
)

// reasonRerouted is the reason of the entries of a record routed again
// once its recipient was configured.
const reasonRerouted = "routed again: the recipient is configured now"

// maxRerouteGaps bounds the open gaps one Reroute works through; the rest
// wait for the next reload or start.
const maxRerouteGaps = 100_000

// rerouteGapPage is how many open gaps are read at a time.
const rerouteGapPage = 500

// RerouteReport says what one Reroute did.
type RerouteReport struct {
	// Records is how many record versions were routed again now.
	Records int `json:"records"`
	// Queued is how many mailbox messages that queued.
	Queued int `json:"queued"`
	// Waiting is how many record versions still wait: their recipient is
	// still not configured.
	Waiting int `json:"waiting"`
	// Done is how many had been routed again meanwhile (another replica)
	// or were superseded or withdrawn meanwhile: nothing was queued again.
	Done int `json:"done"`
	// Failed is how many could not be routed again now (logged; they stay
	// open for the next attempt).
	Failed int `json:"failed"`
}

// Reroute routes again, under the version in force, the stored record
// versions that were withheld from a recipient role only because its
// recipient was not configured (check recipient_not_configured: Region
// Østdanmark before its code is set), once the version configures it. The
// store keeps each such role as an open gap with the record; a later
// version or a withdrawal of the record closes it, so only the latest
// version of a record that is not withdrawn is routed again. Each record
// version is routed, judged and minimised as at intake, at the time of
// rerouting (consent must be in force now, when the recipient receives
// it), and only the recipients of its open roles get mailbox messages; the
// routed, withheld and queued entries and the closing of the gaps commit
// in one transaction, once: a second Reroute (a second reload, another
// replica) finds the gaps closed and queues nothing. It is a no-op while
// the version in force has a configuration gap.
func (p *Pipeline) Reroute(ctx context.Context) (RerouteReport, error) {
	var rep RerouteReport
	v := p.current()
	if len(v.Ref.Gaps(p.cfg.Clock.Now())) > 0 {
		return rep, nil
	}
	var after store.Gap
	seen := 0
	for seen < maxRerouteGaps {
		gs, err := p.cfg.Store.OpenGaps(ctx, after, rerouteGapPage)
		if err != nil {
			return rep, unavailable("the open configuration gaps could not be read", err)
		}
		if len(gs) == 0 {
			break
		}
		seen += len(gs)
		after = gs[len(gs)-1]
		// The gaps come ordered by record and version: one group each.
		for i := 0; i < len(gs); {
			j := i
			var roles []record.RecipientRole
			for j < len(gs) && gs[j].RecordID == gs[i].RecordID && gs[j].Version == gs[i].Version {
				roles = append(roles, record.RecipientRole(gs[j].Role))
				j++
			}
			queued, err := p.rerouteOne(ctx, v, gs[i].RecordID, gs[i].Version, roles)
			switch {
			case errors.Is(err, errStillWaiting):
				rep.Waiting++
			case errors.Is(err, store.ErrDuplicate):
				rep.Done++
			case err != nil:
				rep.Failed++
				p.log.ErrorContext(ctx, "a record could not be routed again; it waits for the next attempt",
					"record_id", gs[i].RecordID, "version", gs[i].Version, "err", err)
			default:
				rep.Records++
				rep.Queued += queued
			}
			i = j
		}
		if len(gs) < rerouteGapPage {
			break
		}
	}
	if rep != (RerouteReport{}) {
		p.log.InfoContext(ctx, "records routed again", "records", rep.Records, "mailbox_messages", rep.Queued,
			"waiting", rep.Waiting, "done_before", rep.Done, "failed", rep.Failed)
	}
	return rep, nil
}

// errStillWaiting: the version in force still cannot fill the role.
var errStillWaiting = errors.New("the recipient is still not configured")

// rerouteOne routes one stored record version again to its open roles and
// commits it; it returns how many mailbox messages it queued.
func (p *Pipeline) rerouteOne(ctx context.Context, v *version, recordID string, ver int, roles []record.RecipientRole) (int, error) {
	stored, err := p.cfg.Store.Record(ctx, recordID, ver)
	if err != nil {
		return 0, err
	}
	rec, err := record.Decode(stored.Body)
	if err != nil {
		return 0, err
	}
	evidence, err := p.cfg.Store.Evidence(ctx, stored.Sender, stored.MessageID)
	if err != nil {
		return 0, err
	}
	w := &work{p: p, v: v, ctx: ctx, now: p.cfg.Clock.Now(), held: map[string]map[string]bool{},
		in: &inbound{sender: stored.Sender, id: stored.MessageID, digest: sha256.Sum256(evidence)}}
	route, err := v.Router.Route(rec, stored.Sender, w.now)
	if err != nil {
		return 0, err
	}
	for _, o := range route.Omitted {
		if o.Reason.Code == routing.RegionNotConfigured && slices.Contains(roles, o.Role) {
			return 0, errStillWaiting
		}
	}
	open := func(role record.RecipientRole) bool { return slices.Contains(roles, role) }
	var cands []routing.Candidate
	for _, c := range route.Candidates {
		if open(c.Role) {
			cands = append(cands, c)
		}
	}
	route.Candidates, route.Omitted = cands, nil
	outs, err := v.Policy.EvaluateRoute(rec, route, w.now, links{w: w})
	if err != nil {
		return 0, err
	}
	base := journal.Entry{Actor: directory.GatewayID, RecordID: rec.RecordID, RecordVersion: rec.Version,
		MessageID: stored.MessageID, Subject: w.subject(rec), PayloadDigest: w.in.digest, Outcome: journal.OutcomeOK}
	if rec.Incident != nil {
		base.IncidentID = rec.Incident.ID
	}
	rr := &store.Reroute{RecordID: recordID, Version: ver}
	for _, role := range roles {
		rr.Roles = append(rr.Roles, string(role))
	}
	for _, c := range cands {
		e := base
		e.Event, e.Counterpart, e.RecipientRole, e.Reason = journal.EventRouted, c.Authority, c.Role, reasonRerouted
		rr.Journal = append(rr.Journal, e)
	}
	allowed := map[string][]consent.Decision{}
	var order []string
	for _, o := range outs {
		d := o.Decision
		if d.Effect != consent.Allow {
			e := base
			e.Event, e.Counterpart, e.RecipientRole, e.Purpose = journal.EventWithheld, d.Recipient, d.Role, d.Purpose
			e.Consent, e.Outcome, e.Reason = journalDecision(d), journal.OutcomeRefused, string(d.Check)
			rr.Journal = append(rr.Journal, e)
			continue
		}
		if _, ok := allowed[d.Recipient]; !ok {
			order = append(order, d.Recipient)
		}
		allowed[d.Recipient] = append(allowed[d.Recipient], d)
	}
	for _, to := range order {
		ds := allowed[to]
		view, err := consent.ViewOf(rec, ds...)
		if err != nil {
			return 0, err
		}
		id, err := newID()
		if err != nil {
			return 0, err
		}
		doc, err := w.encode(to, id, &adapters.Message{Kind: adapters.KindRegistration, Items: []adapters.Item{{Record: view}}})
		if err != nil {
			return 0, err
		}
		prio := store.PriorityNormal
		if view.Assessment != nil && view.Assessment.FollowUpPriority == record.PriorityAcute {
			prio = store.PriorityAcute
		}
		rr.Deliveries = append(rr.Deliveries, store.Delivery{ID: id, Recipient: to, View: doc, Priority: prio})
		digest := sha256.Sum256(doc)
		for _, d := range ds {
			e := base
			e.Event, e.Counterpart, e.RecipientRole, e.Purpose = journal.EventQueued, to, d.Role, d.Purpose
			e.MessageID, e.PayloadDigest, e.Consent, e.Fields = id, digest, journalDecision(d), d.Fields
			rr.Journal = append(rr.Journal, e)
		}
	}
	if len(rr.Journal) == 0 {
		// Configured now, yet routing finds nobody for the role: say so.
		for _, role := range roles {
			e := base
			e.Event, e.RecipientRole, e.Outcome = journal.EventWithheld, role, journal.OutcomeRefused
			e.Reason = "routed again: no recipient for the role now"
			rr.Journal = append(rr.Journal, e)
		}
	}
	if err := p.cfg.Store.Reroute(ctx, rr); err != nil {
		return 0, err
	}
	for _, d := range rr.Deliveries {
		p.notify.signal(d.Recipient)
	}
	return len(rr.Deliveries), nil
}
