package consent

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/psykosocial/exchange/internal/record"
)

// Action is what a recipient gets when a record is corrected or withdrawn.
type Action string

// Actions.
const (
	// ActionCorrect: the recipient holds an earlier version and is still
	// allowed: it gets the new version's view, which replaces what it holds.
	ActionCorrect Action = "correct"
	// ActionWithdraw: the recipient holds an earlier version and is no
	// longer allowed, or the record is withdrawn: it gets a withdrawal
	// notice and must delete the record.
	ActionWithdraw Action = "withdraw"
	// ActionDeliver: the recipient did not hold the record and is allowed
	// now (e.g. the corrected address lies in another municipality): it
	// gets the new version as a first delivery.
	ActionDeliver Action = "deliver"
	// ActionNone: the recipient does not hold the record and is not allowed
	// now: it gets nothing.
	ActionNone Action = "none"
	// ActionPending: the authority that received the record has ceased and
	// the authority that now holds its records cannot be addressed yet (its
	// code is not configured, or it has no successor in the reference
	// data). Nothing can be sent; the notice is kept and reconciled again
	// once the configuration is complete (Because names the gap).
	ActionPending Action = "pending"
)

// Because is a stable, machine-readable name of why a notice has its action.
type Because string

// Why a notice has its action.
const (
	// StillAllowed (ActionCorrect): a decision for the new version allows.
	StillAllowed Because = "still_allowed"
	// NewlyAllowed (ActionDeliver): a decision for the new version allows.
	NewlyAllowed Because = "newly_allowed"
	// NoLongerAllowed (ActionWithdraw): every decision for the new version
	// withholds; Notice.Checks says which checks.
	NoLongerAllowed Because = "no_longer_allowed"
	// NoLongerCandidate (ActionWithdraw): routing no longer makes the
	// authority a candidate (the person moved, the directory changed).
	NoLongerCandidate Because = "no_longer_candidate"
	// RecordWithdrawn (ActionWithdraw): the record itself was withdrawn.
	RecordWithdrawn Because = "record_withdrawn"
	// NotAllowed (ActionNone): the recipient holds nothing and is not allowed.
	NotAllowed Because = "not_allowed"
	// SuccessorNotConfigured (ActionPending): the holder has ceased and its
	// successor's code is not configured (Region Østdanmark before
	// east-region-code and east-region-cvr are set).
	SuccessorNotConfigured Because = "successor_not_configured"
	// NoSuccessor (ActionPending): the holder has ceased and the reference
	// data names no successor.
	NoSuccessor Because = "no_successor"
)

// Successions says who holds the records of an authority that has ceased:
// after the 2027 merger Region Østdanmark holds what Region Hovedstaden and
// Region Sjælland received. routing.Router implements it from the reference
// data and the directory.
type Successions interface {
	// Successor reports whether authority has ceased by the time at and,
	// if it has, the id of the authority that holds its records at that
	// time ("" when its code is not configured or there is none) and that
	// authority's name ("" when there is none).
	Successor(authority string, at time.Time) (successor, name string, ceased bool)
}

// Transfer is the moment a correction or withdrawal is reconciled and who
// holds the records of the authorities that have ceased by then. Both are
// required: without them a notice would go to a dissolved authority.
type Transfer struct {
	// At is the time of the reconciliation.
	At time.Time
	// Successions resolves ceased holders to their successors.
	Successions Successions
}

// Notice says what one authority gets after a correction or a withdrawal.
type Notice struct {
	// Recipient is the authority id.
	Recipient string `json:"recipient"`
	// Action is what it gets.
	Action Action `json:"action"`
	// Because says why.
	Because Because `json:"because"`
	// RecordID is the record.
	RecordID string `json:"record_id"`
	// Version is the version the message carries: the new version for a
	// correction or delivery, the version withdrawn for a withdrawal notice.
	Version int `json:"version"`
	// HeldVersion is the version the recipient holds; 0 when it holds none.
	HeldVersion int `json:"held_version,omitempty"`
	// HeldRoles are the roles in which the recipient holds it.
	HeldRoles []record.RecipientRole `json:"held_roles,omitempty"`
	// Roles are the roles in which a decision for the new version allows.
	Roles []record.RecipientRole `json:"roles,omitempty"`
	// Checks are the checks that withheld the new version's decisions for
	// the recipient, each once, in the order of the first decision each
	// withheld (NoLongerAllowed, NotAllowed).
	Checks []Check `json:"checks,omitempty"`
	// WithdrawalReason is the reason of a withdrawn record (RecordWithdrawn).
	WithdrawalReason record.WithdrawalReason `json:"withdrawal_reason,omitempty"`
	// TransferredFrom lists, sorted, the ceased authorities that received
	// the record and whose records Recipient now holds as their successor
	// (region:1084 and region:1085 for Region Østdanmark). The journal names
	// both: the notice goes to Recipient on their behalf.
	TransferredFrom []string `json:"transferred_from,omitempty"`
	// SuccessorName names the successor of a pending notice
	// (SuccessorNotConfigured), whose id is not known yet.
	SuccessorName string `json:"successor_name,omitempty"`
}

// holding is what one authority holds or may hold.
type holding struct {
	held    []record.RecipientRole
	allowed []record.RecipientRole
	checks  []Check
	seen    bool     // appears among the new decisions
	from    []string // ceased holders whose holdings this one took over
	pending Because  // the holder has ceased and cannot be addressed
	name    string   // the successor's name, for a pending holding
}

// Reconcile says, for a new version rec of a record, what every authority
// gets, given the decisions recorded for the earlier versions (as the
// journal holds them, any number of versions) and the decisions Evaluate
// made for rec. An authority holds the record when a decision of the latest
// earlier version allowed it. Holders still allowed get a correction;
// holders no longer allowed (consent withdrawn or expired, incident period
// over, no longer routed to) get a withdrawal notice and must delete; new
// recipients get a first delivery; everyone else gets nothing. Notices are
// sorted by recipient.
//
// A holder that has ceased by tr.At (a region dissolved by the 2027
// merger) no longer exists to delete or correct anything: its successor,
// which holds its records, is treated as the holder and gets the notice,
// and Notice.TransferredFrom names the ceased authority. When the
// successor cannot be addressed yet, the holder's notice is ActionPending.
func Reconcile(earlier []Decision, rec *record.Record, next []Decision, tr Transfer) ([]Notice, error) {
	if rec == nil {
		return nil, fmt.Errorf("%w: Reconcile needs the new version of the record", ErrInvalidInput)
	}
	latest, hs, err := holders(earlier, rec.RecordID, tr)
	if err != nil {
		return nil, err
	}
	if len(earlier) > 0 && rec.Version <= latest {
		return nil, fmt.Errorf("%w: record %s version %d is not newer than the version %d already decided on", ErrInvalidInput, rec.RecordID, rec.Version, latest)
	}
	for _, d := range next {
		if d.RecordID != rec.RecordID || d.Version != rec.Version {
			return nil, fmt.Errorf("%w: a new decision is about record %s version %d, not %s version %d", ErrInvalidInput, d.RecordID, d.Version, rec.RecordID, rec.Version)
		}
		h := hs[d.Recipient]
		if h == nil {
			h = &holding{}
			hs[d.Recipient] = h
		}
		h.seen = true
		if d.Effect == Allow {
			h.allowed = appendRole(h.allowed, d.Role)
		} else if !slices.Contains(h.checks, d.Check) {
			// An authority's roles have several rules each, and several
			// of them may withhold for the same reason: name it once.
			h.checks = append(h.checks, d.Check)
		}
	}
	out := make([]Notice, 0, len(hs))
	for _, id := range sortedKeys(hs) {
		h := hs[id]
		n := Notice{Recipient: id, RecordID: rec.RecordID, Version: rec.Version, HeldRoles: h.held, Roles: h.allowed,
			TransferredFrom: h.from, SuccessorName: h.name}
		if len(h.held) > 0 {
			n.HeldVersion = latest
		}
		switch {
		case h.pending != "":
			n.Action, n.Because, n.Version = ActionPending, h.pending, latest
		case len(h.held) > 0 && len(h.allowed) > 0:
			n.Action, n.Because = ActionCorrect, StillAllowed
		case len(h.held) > 0 && h.seen:
			n.Action, n.Because, n.Checks = ActionWithdraw, NoLongerAllowed, h.checks
		case len(h.held) > 0:
			n.Action, n.Because = ActionWithdraw, NoLongerCandidate
		case len(h.allowed) > 0:
			n.Action, n.Because = ActionDeliver, NewlyAllowed
		default:
			n.Action, n.Because, n.Checks = ActionNone, NotAllowed, h.checks
		}
		if n.Action == ActionWithdraw {
			n.Version = latest
		}
		out = append(out, n)
	}
	return out, nil
}

// ReconcileWithdrawal says what every authority gets when the record is
// withdrawn (w): every authority that holds it gets a withdrawal notice and
// must delete it; everyone else gets nothing. Notices are sorted by
// recipient. A ceased holder's notice goes to its successor, as in Reconcile.
func ReconcileWithdrawal(earlier []Decision, w *record.Withdrawal, tr Transfer) ([]Notice, error) {
	if w == nil {
		return nil, fmt.Errorf("%w: ReconcileWithdrawal needs the withdrawal notice", ErrInvalidInput)
	}
	latest, hs, err := holders(earlier, w.RecordID, tr)
	if err != nil {
		return nil, err
	}
	out := make([]Notice, 0, len(hs))
	for _, id := range sortedKeys(hs) {
		h := hs[id]
		n := Notice{Recipient: id, RecordID: w.RecordID, Version: max(w.Version, latest), Action: ActionNone, Because: NotAllowed,
			TransferredFrom: h.from, SuccessorName: h.name}
		switch {
		case h.pending != "":
			n.Action, n.Because, n.WithdrawalReason = ActionPending, h.pending, w.Reason
			n.HeldVersion, n.HeldRoles = latest, h.held
		case len(h.held) > 0:
			n.Action, n.Because, n.WithdrawalReason = ActionWithdraw, RecordWithdrawn, w.Reason
			n.HeldVersion, n.HeldRoles = latest, h.held
		}
		out = append(out, n)
	}
	return out, nil
}

// holders returns the latest version among the earlier decisions and, for
// every authority they name, the roles in which the latest version allowed
// it. A holder that has ceased by tr.At is replaced by its successor, or
// marked pending when the successor cannot be addressed.
func holders(earlier []Decision, recordID string, tr Transfer) (int, map[string]*holding, error) {
	if tr.At.IsZero() || tr.Successions == nil {
		return 0, nil, fmt.Errorf("%w: reconciling needs its time and the successions of ceased authorities", ErrInvalidInput)
	}
	latest := 0
	for _, d := range earlier {
		if d.RecordID != recordID {
			return 0, nil, fmt.Errorf("%w: an earlier decision is about record %s, not %s", ErrInvalidInput, d.RecordID, recordID)
		}
		latest = max(latest, d.Version)
	}
	hs := map[string]*holding{}
	for _, d := range earlier {
		h := hs[d.Recipient]
		if h == nil {
			h = &holding{}
			hs[d.Recipient] = h
		}
		if d.Version == latest && d.Effect == Allow {
			h.held = appendRole(h.held, d.Role)
		}
	}
	for _, id := range sortedKeys(hs) {
		h := hs[id]
		succ, name, ceased := tr.Successions.Successor(id, tr.At)
		if !ceased || len(h.held) == 0 {
			continue
		}
		if succ == "" {
			h.pending, h.name = NoSuccessor, name
			if name != "" {
				h.pending = SuccessorNotConfigured
			}
			continue
		}
		// The successor holds the ceased authority's records, in the same roles.
		delete(hs, id)
		s := hs[succ]
		if s == nil {
			s = &holding{}
			hs[succ] = s
		}
		for _, r := range h.held {
			s.held = appendRole(s.held, r)
		}
		order := record.RecipientRoles()
		slices.SortFunc(s.held, func(a, b record.RecipientRole) int { return slices.Index(order, a) - slices.Index(order, b) })
		s.from = append(s.from, id)
		slices.Sort(s.from)
	}
	return latest, hs, nil
}

func appendRole(rs []record.RecipientRole, r record.RecipientRole) []record.RecipientRole {
	if slices.Contains(rs, r) {
		return rs
	}
	return append(rs, r)
}

func sortedKeys(hs map[string]*holding) []string {
	keys := make([]string, 0, len(hs))
	for k := range hs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// String is a sentence a data-protection officer can read, derived from
// the notice's fields only.
func (n Notice) String() string {
	rec := "record " + n.RecordID
	held := ""
	if n.HeldVersion > 0 {
		held = "version " + strconv.Itoa(n.HeldVersion) + ", held as " + roles(n.HeldRoles)
	}
	switch n.Action {
	case ActionCorrect:
		return n.Recipient + " gets a correction: " + rec + " version " + strconv.Itoa(n.Version) +
			" replaces " + held + transferred(n) + "; it is still allowed as " + roles(n.Roles) + "."
	case ActionDeliver:
		return n.Recipient + " gets " + rec + " version " + strconv.Itoa(n.Version) +
			" as a first delivery: it is now allowed as " + roles(n.Roles) + "."
	case ActionPending:
		s := n.Recipient + " received " + rec + " (" + held + ") but has ceased, and "
		if n.Because == SuccessorNotConfigured {
			s += "its successor " + n.SuccessorName + ", which holds its records, has no code configured yet"
		} else {
			s += "the reference data names no successor that holds its records"
		}
		return s + ": the notice waits and is reconciled again once the configuration is complete."
	case ActionWithdraw:
		s := n.Recipient + " gets a withdrawal notice and must delete " + rec + " (" + held + transferred(n) + "): "
		switch n.Because {
		case RecordWithdrawn:
			return s + "the record was withdrawn (" + words(string(n.WithdrawalReason)) + ")."
		case NoLongerCandidate:
			return s + "the new version is no longer routed to it."
		}
		return s + "it is no longer allowed (" + checks(n.Checks) + ")."
	}
	if len(n.Checks) > 0 {
		return n.Recipient + " gets nothing: it does not hold " + rec + " and is not allowed (" + checks(n.Checks) + ")."
	}
	return n.Recipient + " gets nothing: it does not hold " + rec + "."
}

// transferred says on whose behalf a successor holds the record.
func transferred(n Notice) string {
	if len(n.TransferredFrom) == 0 {
		return ""
	}
	return ", received by " + strings.Join(n.TransferredFrom, " and ") + ", which ceased and whose records it holds"
}

func roles(rs []record.RecipientRole) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = words(string(r))
	}
	return strings.Join(s, " and ")
}

func checks(cs []Check) string {
	s := make([]string, len(cs))
	for i, c := range cs {
		s[i] = c.explain()
	}
	return strings.Join(s, "; ")
}
