package pipeline

import (
	"context"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/psykosocial/exchange/internal/consent"
	"github.com/psykosocial/exchange/internal/fault"
	"github.com/psykosocial/exchange/internal/journal"
	"github.com/psykosocial/exchange/internal/record"
	"github.com/psykosocial/exchange/internal/store"
)

// RecipientState is what became of a record version for one recipient.
type RecipientState string

// Recipient states.
const (
	// StateQueued: a view waits in the recipient's mailbox (it may have
	// been pulled, but it is not acknowledged yet).
	StateQueued RecipientState = "queued"
	// StateDelivered: the recipient acknowledged the view with its signed
	// receipt (RecipientStatus.DeliveredAt and ReceiptDigest).
	StateDelivered RecipientState = "delivered"
	// StateWithheld: consent or policy withheld the record from the
	// recipient, or a notice to it waits (RecipientStatus.Withheld).
	StateWithheld RecipientState = "withheld"
	// StateWithdrawn: a withdrawal notice was sent to the recipient; it is
	// acknowledged when DeliveredAt is set.
	StateWithdrawn RecipientState = "withdrawn"
	// StatePurged: retention purged the mailbox message (a view or a
	// withdrawal notice) from the gateway (RecipientStatus.PurgedAt): after
	// its acknowledgement when DeliveredAt is set, and undelivered when it
	// is not.
	StatePurged RecipientState = "purged"
)

// RecordStatus is the sender's view of a record (GET
// /v1/records/{id}/status): per version, per recipient, what the gateway
// did. It is built from the journal and carries ids, roles, rules, times
// and digests only: never a CPR number, a name or any other content of the
// record.
type RecordStatus struct {
	// RecordID is the record's id.
	RecordID string `json:"record_id"`
	// Owner is the authority the record belongs to (the one that first
	// sent it).
	Owner string `json:"owner"`
	// Versions are the record's versions, oldest first.
	Versions []VersionStatus `json:"versions"`
}

// VersionStatus is what became of one version of a record.
type VersionStatus struct {
	// Version is the record's version.
	Version int `json:"version"`
	// ReceivedAt is when the gateway accepted the version.
	ReceivedAt time.Time `json:"received_at"`
	// MessageID is the sender's message that brought the version.
	MessageID string `json:"message_id"`
	// PurgedAt is when retention purged the version's body from the
	// gateway (its ids, times and digests remain).
	PurgedAt *time.Time `json:"purged_at,omitempty"`
	// Recipients are the recipients decided on, in journal order: one
	// entry per recipient and role (and per withdrawal notice).
	Recipients []RecipientStatus `json:"recipients"`
}

// RecipientStatus is one recipient's state for a record version.
type RecipientStatus struct {
	// Recipient is the recipient's authority id; empty when it cannot be
	// addressed yet (a region whose code is not configured).
	Recipient string `json:"recipient,omitempty"`
	// Role is why the recipient receives the record, if a role applies.
	Role record.RecipientRole `json:"role,omitempty"`
	// Purpose is the purpose of the disclosure, if any.
	Purpose record.Purpose `json:"purpose,omitempty"`
	// State is queued, delivered, withheld, withdrawn or purged.
	State RecipientState `json:"state"`
	// Correction is set when the view was sent as a correction of an
	// earlier version the recipient holds.
	Correction bool `json:"correction,omitempty"`
	// Rule and PolicyVersion name the consent rule that allowed (queued,
	// delivered) or withheld the disclosure, if a rule decided.
	Rule string `json:"rule,omitempty"`
	// PolicyVersion is the version of the policy that decided.
	PolicyVersion string `json:"policy_version,omitempty"`
	// MailboxID is the stable id of the mailbox message (a view or a
	// withdrawal notice), when one was queued.
	MailboxID string `json:"mailbox_id,omitempty"`
	// QueuedAt is when the mailbox message was committed.
	QueuedAt *time.Time `json:"queued_at,omitempty"`
	// DeliveredAt is when the recipient acknowledged the mailbox message.
	DeliveredAt *time.Time `json:"delivered_at,omitempty"`
	// ReceiptDigest is the SHA-256 (hex) of the delivery the recipient's
	// signed receipt acknowledged.
	ReceiptDigest string `json:"receipt_digest,omitempty"`
	// PurgedAt is when retention purged the mailbox message (StatePurged).
	PurgedAt *time.Time `json:"purged_at,omitempty"`
	// TransferredTo is the successor whose mailbox the message passed to
	// when the recipient ceased before acknowledging it (the 2027
	// merger); DeliveredAt is then the first acknowledgement of either.
	TransferredTo string `json:"transferred_to,omitempty"`
	// Withheld says why the record was withheld (StateWithheld).
	Withheld *Withholding `json:"withheld,omitempty"`
}

// Withholding is why a record was withheld from a recipient, in words.
type Withholding struct {
	// Check is the consent check that withheld it ("recipient_not_consented",
	// ...), empty for a notice that waits.
	Check string `json:"check,omitempty"`
	// Reason is the journal's reason: the check, or why a notice waits.
	Reason string `json:"reason,omitempty"`
	// Explanation says why, in Danish and English.
	Explanation consent.Text `json:"explanation"`
	// RuleDescription is the deciding rule's description in the current
	// policy, in Danish and English, when the rule is there.
	RuleDescription *consent.Text `json:"rule_description,omitempty"`
	// WithheldAt is when the decision was journaled.
	WithheldAt time.Time `json:"withheld_at"`
}

// statusEvents are the journal events a status is built from (delivered
// entries name the mailbox message, not the record: they are read apart).
var statusEvents = []journal.EventType{journal.EventReceived, journal.EventWithheld, journal.EventQueued,
	journal.EventCorrected, journal.EventWithdrawn, journal.EventPurged, journal.EventTransferred}

// maxStatusPages bounds the journal pages read for one status.
const maxStatusPages = 16

// pendingText explains a correction or withdrawal notice that waits.
var pendingText = consent.Text{
	DA: "meddelelsen venter: modtageren er ophørt, og dens efterfølger kan endnu ikke adresseres",
	EN: "the notice waits: the recipient has ceased and its successor cannot be addressed yet",
}

// Status is the status of record recordID for sender: only the record's
// owner (the authority that first sent it) or the successor of an owner
// that has ceased may ask; anyone else gets the same unknown-record fault
// as for a record that does not exist.
func (p *Pipeline) Status(ctx context.Context, sender, recordID string) (RecordStatus, error) {
	unknown := fault.New(fault.ErrNotFound, TypeUnknownRecord, "Unknown record", "no such record of yours")
	if sender == "" || recordID == "" || len(recordID) > 128 {
		return RecordStatus{}, unknown
	}
	entries, err := p.journalAll(ctx, journal.Filter{RecordID: recordID, Events: statusEvents})
	if err != nil {
		return RecordStatus{}, err
	}
	var first *journal.Entry
	for i := range entries {
		if entries[i].Event == journal.EventReceived {
			first = &entries[i]
			break
		}
	}
	if first == nil {
		return RecordStatus{}, unknown
	}
	owner := first.Actor
	if first.RecordVersion > 0 {
		sr, err := p.cfg.Store.Record(ctx, recordID, first.RecordVersion)
		switch {
		case err == nil:
			owner = sr.Owner
		case !errors.Is(err, store.ErrNotFound):
			return RecordStatus{}, unavailable("the store could not be read", err)
		}
	}
	if !p.actsFor(sender, owner) {
		return RecordStatus{}, unknown
	}

	out := RecordStatus{RecordID: recordID, Owner: owner, Versions: []VersionStatus{}}
	versions := map[int]int{} // version -> index in out.Versions
	version := func(e *journal.Entry) *VersionStatus {
		i, ok := versions[e.RecordVersion]
		if !ok {
			i = len(out.Versions)
			versions[e.RecordVersion] = i
			out.Versions = append(out.Versions, VersionStatus{Version: e.RecordVersion, Recipients: []RecipientStatus{}})
		}
		return &out.Versions[i]
	}
	type ref struct{ v, r int }
	byMailbox := map[string][]ref{} // mailbox id -> the recipient statuses it delivers
	corrected := map[string]bool{}  // mailbox ids sent as corrections
	moved := map[string]string{}    // mailbox id -> the successor it was transferred to
	earliest := map[string]time.Time{}
	var purged []*journal.Entry
	for i := range entries {
		e := &entries[i]
		switch e.Event {
		case journal.EventPurged:
			purged = append(purged, e)
			continue
		case journal.EventReceived:
			v := version(e)
			if v.MessageID == "" && !strings.HasPrefix(e.Reason, "withdrawal: ") {
				v.ReceivedAt, v.MessageID = e.Time.UTC(), e.MessageID
			}
			continue
		case journal.EventCorrected:
			corrected[e.MessageID] = true
			continue
		case journal.EventTransferred:
			moved[e.MessageID] = e.Counterpart
			if at, ok := earliest[e.Counterpart]; !ok || e.Time.Before(at) {
				earliest[e.Counterpart] = e.Time.UTC()
			}
			continue
		case journal.EventQueued:
			if e.Reason == reasonNotice {
				continue // its withdrawn entry stands for it
			}
		}
		v := version(e)
		t := e.Time.UTC()
		rs := RecipientStatus{Recipient: e.Counterpart, Role: e.RecipientRole, Purpose: e.Purpose,
			Rule: e.Consent.Rule, PolicyVersion: e.Consent.PolicyVersion}
		switch e.Event {
		case journal.EventWithheld:
			rs.State = StateWithheld
			rs.Withheld = p.withholding(e)
		case journal.EventQueued, journal.EventWithdrawn:
			rs.State, rs.MailboxID, rs.QueuedAt = StateQueued, e.MessageID, &t
			if e.Event == journal.EventWithdrawn {
				rs.State = StateWithdrawn
			}
			if e.Counterpart != "" {
				if at, ok := earliest[e.Counterpart]; !ok || t.Before(at) {
					earliest[e.Counterpart] = t
				}
			}
		}
		if rs.MailboxID != "" {
			byMailbox[rs.MailboxID] = append(byMailbox[rs.MailboxID], ref{versions[e.RecordVersion], len(v.Recipients)})
		}
		v.Recipients = append(v.Recipients, rs)
	}
	for id, refs := range byMailbox {
		for _, r := range refs {
			rs := &out.Versions[r.v].Recipients[r.r]
			rs.Correction = corrected[id] && rs.State == StateQueued
			rs.TransferredTo = moved[id]
		}
	}
	// Retention: a purged mailbox message is purged (its acknowledgement,
	// if any, is read below all the same); a purged body marks its version.
	for _, e := range purged {
		at := e.Time.UTC()
		if e.Reason == store.ReasonPurgedRecord {
			if i, ok := versions[e.RecordVersion]; ok {
				out.Versions[i].PurgedAt = &at
			}
			continue
		}
		for _, r := range byMailbox[e.MessageID] {
			rs := &out.Versions[r.v].Recipients[r.r]
			if rs.State == StateQueued || rs.State == StateWithdrawn {
				rs.State, rs.PurgedAt = StatePurged, &at
			}
		}
	}

	// The acknowledgements: the recipients' delivered entries name the
	// mailbox message; they are read per recipient from its first queueing.
	for recipient, since := range earliest {
		want := map[string]bool{}
		for id, refs := range byMailbox {
			if out.Versions[refs[0].v].Recipients[refs[0].r].Recipient == recipient || moved[id] == recipient {
				want[id] = true
			}
		}
		// The scan ends when every mailbox message is found acknowledged,
		// or after the bound: an acknowledgement later than that many of
		// the recipient's deliveries is not seen (the message shows queued).
		_, err := p.journalScan(ctx, journal.Filter{Authority: recipient, Events: []journal.EventType{journal.EventDelivered}, Since: since},
			func(a journal.Entry) bool {
				if a.Actor != recipient || !want[a.MessageID] {
					return false
				}
				delete(want, a.MessageID)
				at := a.Time.UTC()
				for _, r := range byMailbox[a.MessageID] {
					rs := &out.Versions[r.v].Recipients[r.r]
					rs.DeliveredAt, rs.ReceiptDigest = &at, hex.EncodeToString(a.PayloadDigest[:])
					if rs.State == StateQueued {
						rs.State = StateDelivered
					}
				}
				return len(want) == 0
			})
		if err != nil {
			return RecordStatus{}, err
		}
	}
	slices.SortStableFunc(out.Versions, func(a, b VersionStatus) int { return a.Version - b.Version })
	return out, nil
}

// actsFor reports whether sender may see the records of owner: it is the
// owner, or the successor of an owner that has ceased (the 2027 merger).
func (p *Pipeline) actsFor(sender, owner string) bool {
	if sender == owner {
		return true
	}
	succ, _, ceased := p.current().Router.Successor(owner, p.cfg.Clock.Now())
	return ceased && succ != "" && succ == sender
}

// withholding explains a withheld entry in words.
func (p *Pipeline) withholding(e *journal.Entry) *Withholding {
	w := &Withholding{Check: e.Consent.Check, Reason: e.Reason, WithheldAt: e.Time.UTC()}
	switch {
	case e.Consent.Check != "":
		w.Explanation = consent.Check(e.Consent.Check).Explanation()
	case strings.Contains(e.Reason, "pending: "):
		w.Explanation = pendingText
	default:
		w.Explanation = consent.CheckNoRule.Explanation()
	}
	if e.Consent.Rule != "" {
		if r, ok := p.current().Policy.Rule(e.Consent.Rule); ok && (r.Description != consent.Text{}) {
			d := r.Description
			w.RuleDescription = &d
		}
	}
	return w
}

// journalAll reads every entry matching f, at most maxStatusPages pages of
// maxJournalQuery; more is a fault of kind ErrUnavailable.
func (p *Pipeline) journalAll(ctx context.Context, f journal.Filter) ([]journal.Entry, error) {
	var out []journal.Entry
	complete, err := p.journalScan(ctx, f, func(e journal.Entry) bool {
		out = append(out, e)
		return false
	})
	if err != nil {
		return nil, err
	}
	if !complete {
		return nil, unavailable("the record's journal entries are too many to read at once", nil)
	}
	return out, nil
}

// journalScan calls visit with the entries matching f in order until visit
// returns true (done), the entries end, or maxStatusPages pages of
// maxJournalQuery were read; it reports whether it ended before the bound.
func (p *Pipeline) journalScan(ctx context.Context, f journal.Filter, visit func(journal.Entry) bool) (bool, error) {
	q := journal.Query{Filter: f, Limit: maxJournalQuery}
	for range maxStatusPages {
		page, err := p.cfg.Journal.Query(ctx, q)
		if err != nil {
			return false, unavailable("the journal could not be read", err)
		}
		for _, r := range page.Results {
			if visit(r.Entry) {
				return true, nil
			}
		}
		if !page.More {
			return true, nil
		}
		q.Cursor = page.Next
	}
	return false, nil
}
