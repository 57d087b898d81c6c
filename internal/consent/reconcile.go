package consent

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

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
)

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
	// the recipient, in decision order (NoLongerAllowed, NotAllowed).
	Checks []Check `json:"checks,omitempty"`
	// WithdrawalReason is the reason of a withdrawn record (RecordWithdrawn).
	WithdrawalReason record.WithdrawalReason `json:"withdrawal_reason,omitempty"`
}

// holding is what one authority holds or may hold.
type holding struct {
	held    []record.RecipientRole
	allowed []record.RecipientRole
	checks  []Check
	seen    bool // appears among the new decisions
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
func Reconcile(earlier []Decision, rec *record.Record, next []Decision) ([]Notice, error) {
	if rec == nil {
		return nil, fmt.Errorf("%w: Reconcile needs the new version of the record", ErrInvalidInput)
	}
	latest, hs, err := holders(earlier, rec.RecordID)
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
		} else {
			h.checks = append(h.checks, d.Check)
		}
	}
	out := make([]Notice, 0, len(hs))
	for _, id := range sortedKeys(hs) {
		h := hs[id]
		n := Notice{Recipient: id, RecordID: rec.RecordID, Version: rec.Version, HeldRoles: h.held, Roles: h.allowed}
		if len(h.held) > 0 {
			n.HeldVersion = latest
		}
		switch {
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
// must delete it; everyone else gets nothing. Notices are sorted by recipient.
func ReconcileWithdrawal(earlier []Decision, w *record.Withdrawal) ([]Notice, error) {
	if w == nil {
		return nil, fmt.Errorf("%w: ReconcileWithdrawal needs the withdrawal notice", ErrInvalidInput)
	}
	latest, hs, err := holders(earlier, w.RecordID)
	if err != nil {
		return nil, err
	}
	out := make([]Notice, 0, len(hs))
	for _, id := range sortedKeys(hs) {
		h := hs[id]
		n := Notice{Recipient: id, RecordID: w.RecordID, Version: max(w.Version, latest), Action: ActionNone, Because: NotAllowed}
		if len(h.held) > 0 {
			n.Action, n.Because, n.WithdrawalReason = ActionWithdraw, RecordWithdrawn, w.Reason
			n.HeldVersion, n.HeldRoles = latest, h.held
		}
		out = append(out, n)
	}
	return out, nil
}

// holders returns the latest version among the earlier decisions and, for
// every authority they name, the roles in which the latest version allowed it.
func holders(earlier []Decision, recordID string) (int, map[string]*holding, error) {
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
			" replaces " + held + "; it is still allowed as " + roles(n.Roles) + "."
	case ActionDeliver:
		return n.Recipient + " gets " + rec + " version " + strconv.Itoa(n.Version) +
			" as a first delivery: it is now allowed as " + roles(n.Roles) + "."
	case ActionWithdraw:
		s := n.Recipient + " gets a withdrawal notice and must delete " + rec + " (" + held + "): "
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
