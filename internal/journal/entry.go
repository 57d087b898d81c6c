package journal

import (
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/psykosocial/exchange/internal/record"
)

// EventType is the kind of step an entry records.
type EventType string

// Event types. Each names one step of the flow in DESIGN.md section 5, or an
// act on the journal or the keys themselves.
const (
	// EventReceived: a message was accepted from a sender (per record).
	EventReceived EventType = "received"
	// EventRejected: a message or one record of a batch was refused.
	EventRejected EventType = "rejected"
	// EventRouted: routing chose a candidate recipient and its role.
	EventRouted EventType = "routed"
	// EventWithheld: consent or policy withheld a record (or a view) from a recipient.
	EventWithheld EventType = "withheld"
	// EventQueued: a view was sealed and put in a recipient's mailbox.
	EventQueued EventType = "queued"
	// EventDelivered: the recipient acknowledged with a valid signed receipt.
	EventDelivered EventType = "delivered"
	// EventRedelivered: an unacknowledged message was offered again after its lease.
	EventRedelivered EventType = "redelivered"
	// EventExpired: a message expired undelivered.
	EventExpired EventType = "expired"
	// EventWithdrawn: a withdrawal notice was issued or propagated.
	EventWithdrawn EventType = "withdrawn"
	// EventCorrected: a corrected version of a record was propagated.
	EventCorrected EventType = "corrected"
	// EventPurged: personal data was purged by retention.
	EventPurged EventType = "purged"
	// EventAccessDenied: a request was denied (a mailbox, a journal row).
	EventAccessDenied EventType = "access_denied"
	// EventAuditQuery: a DPO queried the journal.
	EventAuditQuery EventType = "audit_query"
	// EventAuditExport: the journal, or a query's result, was exported.
	EventAuditExport EventType = "audit_export"
	// EventKeyRotated: a key changed; for the subject HMAC key the entry's
	// SubjectKey names the new key and Reason the one it replaces.
	EventKeyRotated EventType = "key_rotated"
	// EventRequeued: an operator put a parked mailbox message back in its
	// recipient's queue (gateway admin requeue); Reason says how often it
	// had been delivered without acknowledgement.
	EventRequeued EventType = "requeued"
	// EventTransferred: a mailbox message waiting for an authority that
	// ceased (the 2027 region merger) was moved to its successor's mailbox;
	// Counterpart is the successor, Reason names the ceased authority.
	EventTransferred EventType = "transferred"
	// EventConfigInForce: a version of the rules (the authority directory,
	// the consent policy, Region Østdanmark's settings) was put in force,
	// at start or by a reload: Consent.PolicyVersion is the policy's
	// version, PayloadDigest the SHA-256 of the directory file, Reason the
	// directory's version and the configuration gaps. A reload that was
	// refused has Outcome refused and Reason names the file and problem.
	EventConfigInForce EventType = "config_in_force"
)

// EventTypes lists every EventType that Append accepts.
func EventTypes() []EventType {
	return []EventType{EventReceived, EventRejected, EventRouted, EventWithheld, EventQueued,
		EventDelivered, EventRedelivered, EventExpired, EventWithdrawn, EventCorrected,
		EventPurged, EventAccessDenied, EventAuditQuery, EventAuditExport, EventKeyRotated, EventRequeued, EventTransferred,
		EventConfigInForce}
}

// Outcome is how a step ended.
type Outcome string

// Outcomes.
const (
	// OutcomeOK: the step was done.
	OutcomeOK Outcome = "ok"
	// OutcomeRefused: the step was refused by a rule (consent, policy,
	// validation, access control); Reason names the rule.
	OutcomeRefused Outcome = "refused"
	// OutcomeFailed: the step failed for a technical reason.
	OutcomeFailed Outcome = "failed"
)

// Outcomes lists every Outcome.
func Outcomes() []Outcome { return []Outcome{OutcomeOK, OutcomeRefused, OutcomeFailed} }

// Subject is the pseudonymous reference to the person an entry concerns:
// Ref is the unpadded base64url HMAC-SHA-256 computed by SubjectKeys, KeyID
// names the HMAC key it was computed with. The zero Subject means "no person".
type Subject struct {
	// KeyID names the HMAC secret (see SubjectKey.ID).
	KeyID string
	// Ref is the reference (43 base64url characters).
	Ref string
}

// IsZero reports whether s names no person.
func (s Subject) IsZero() bool { return s == Subject{} }

// Decision is the consent decision as the consent package records it
// (consent.Decision): the gateway copies RuleID, PolicyVersion, Basis,
// LegalBasis, Clause, Check and GivenBy into it, and the decision's
// disclosed fields into Entry.Fields.
type Decision struct {
	// Rule is the id of the policy rule that decided ("" when no rule covers the role).
	Rule string
	// PolicyVersion is the version of the policy that decided.
	PolicyVersion string
	// Basis is the rule's basis: "consent" or "legal_basis".
	Basis string
	// LegalBasis is the id of the rule's legal basis (legal_basis only).
	LegalBasis string
	// Clause lists the JSON Pointers of the consent members that allowed a
	// consent-based decision. The journal stores them sorted without duplicates.
	Clause []string
	// Check is the check that withheld the decision ("recipient_not_consented", ...).
	Check string
	// GivenBy is who gave the consent: "self", "guardian" or "representative".
	GivenBy string
}

// Entry is one journaled step. Seq and Time are set by the journal when the
// entry is appended; every other field comes from the caller. Optional
// fields are empty when they do not apply.
type Entry struct {
	// Seq is the sequence number, equal to the entry's leaf index in the
	// Merkle tree: 0 for the first entry, gap-free. Set by the journal.
	Seq uint64
	// Time is when the journal accepted the entry (UTC, microseconds). Set by the journal.
	Time time.Time
	// Event is the kind of step.
	Event EventType
	// Actor is the authority id that acted ("gateway", "region:1084", ...).
	Actor string
	// Counterpart is the other authority of the step, if any.
	Counterpart string
	// RecipientRole is why the counterpart receives the record, if it does.
	RecipientRole record.RecipientRole
	// Purpose is the purpose of the disclosure, if any.
	Purpose record.Purpose
	// RecordID is the record's id, if the step concerns a record.
	RecordID string
	// RecordVersion is the record's version (0 when there is no record).
	RecordVersion int
	// MessageID is the message id (JWS jti or XML header id), if any.
	MessageID string
	// IncidentID is the incident's id, if known.
	IncidentID string
	// Subject is the pseudonymous person reference, if the step concerns a person.
	Subject Subject
	// Consent is the consent decision that allowed or withheld the step, if any.
	Consent Decision
	// Fields are the JSON Pointers of the record members disclosed. The
	// journal stores them sorted and without duplicates.
	Fields []string
	// PayloadDigest is the SHA-256 of the signed bytes (as in receipts);
	// all zeros when there is no payload.
	PayloadDigest [sha256.Size]byte
	// Outcome is how the step ended.
	Outcome Outcome
	// Reason explains a refusal or failure: a rule id or a short sentence.
	// It must never hold personal data; text that looks like a CPR number
	// is refused.
	Reason string
}

// normalize returns a copy of e with Fields and Consent.Clause sorted and
// deduplicated, ready to be checked and encoded.
func (e Entry) normalize() Entry {
	e.Fields = sortedSet(e.Fields)
	e.Consent.Clause = sortedSet(e.Consent.Clause)
	return e
}

func sortedSet(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}

// validate checks the entry rules that the caller is responsible for. It
// does not look at Seq and Time, which the journal sets.
func (e *Entry) validate() (field, reason string) {
	if !slices.Contains(EventTypes(), e.Event) {
		return "event", "not a known event type"
	}
	if e.Actor == "" {
		return "actor", "is required"
	}
	if !isAuthority(e.Actor) {
		return "actor", "not an authority id (lower-case letters, digits and : _ . -, at most 64 bytes)"
	}
	if e.Counterpart != "" && !isAuthority(e.Counterpart) {
		return "counterpart", "not an authority id (lower-case letters, digits and : _ . -, at most 64 bytes)"
	}
	if e.RecipientRole != "" && !slices.Contains(record.RecipientRoles(), e.RecipientRole) {
		return "recipient_role", "not a recipient role of the shared vocabulary"
	}
	if e.Purpose != "" && !slices.Contains(record.Purposes(), e.Purpose) {
		return "purpose", "not a purpose of the shared vocabulary"
	}
	for _, f := range []struct{ name, v string }{
		{"record_id", e.RecordID}, {"message_id", e.MessageID}, {"incident_id", e.IncidentID},
	} {
		if !isID(f.v) {
			return f.name, fmt.Sprintf("not an id (printable ASCII without spaces, quotes or backslashes, at most %d bytes)", maxIDBytes)
		}
	}
	if e.RecordVersion < 0 {
		return "record_version", "is negative"
	}
	if e.RecordID == "" && e.RecordVersion != 0 {
		return "record_version", "is set without a record_id"
	}
	if !e.Subject.IsZero() {
		if !isSubjectRef(e.Subject.Ref) {
			return "subject", "not a subject reference (43 base64url characters from SubjectKeys)"
		}
		if !isKeyID(e.Subject.KeyID) {
			return "subject_key", "not a subject key id"
		}
	}
	for _, f := range []struct{ name, v string }{
		{"consent_rule", e.Consent.Rule}, {"policy_version", e.Consent.PolicyVersion}, {"legal_basis", e.Consent.LegalBasis},
	} {
		if !isText(f.v, maxConsentBytes) {
			return f.name, fmt.Sprintf("not text (valid UTF-8 without control characters, at most %d bytes)", maxConsentBytes)
		}
	}
	for _, f := range []struct{ name, v string }{
		{"consent_basis", e.Consent.Basis}, {"consent_check", e.Consent.Check}, {"given_by", e.Consent.GivenBy},
	} {
		if f.v != "" && !isAuthority(f.v) {
			return f.name, "not a name (lower-case letters, digits and : _ . -, at most 64 bytes)"
		}
	}
	if field, reason := checkPointers("consent_clause", e.Consent.Clause, maxClauses); field != "" {
		return field, reason
	}
	if field, reason := checkPointers("fields", e.Fields, maxFields); field != "" {
		return field, reason
	}
	if !slices.Contains(Outcomes(), e.Outcome) {
		return "outcome", "not a known outcome (ok, refused, failed)"
	}
	if !isText(e.Reason, maxReasonBytes) {
		return "reason", fmt.Sprintf("not text (valid UTF-8 without control characters, at most %d bytes)", maxReasonBytes)
	}
	if looksLikeCPR(e.Reason) {
		return "reason", "contains what looks like a CPR number: the journal holds no personal data in clear"
	}
	return "", ""
}

// checkPointers checks a list of JSON Pointers.
func checkPointers(name string, ps []string, max int) (field, reason string) {
	if len(ps) > max {
		return name, fmt.Sprintf("more than %d paths", max)
	}
	for _, p := range ps {
		if len(p) == 0 || p[0] != '/' || !isText(p, maxFieldPathBytes) {
			return name, fmt.Sprintf("not a JSON Pointer (starts with /, at most %d bytes)", maxFieldPathBytes)
		}
	}
	return "", ""
}

// isAuthority reports whether s has the shape of an authority id.
func isAuthority(s string) bool {
	if len(s) == 0 || len(s) > maxAuthorityBytes {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == ':' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// isID reports whether s is empty or an id of printable ASCII without
// space, '"' or '\'.
func isID(s string) bool {
	if len(s) > maxIDBytes {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// isText reports whether s is valid UTF-8 of at most max bytes without
// control characters (C0, DEL, C1).
func isText(s string, max int) bool {
	if len(s) > max || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// isKeyID reports whether s has the shape of SubjectKey.ID.
func isKeyID(s string) bool {
	if len(s) != subjectKeyIDLen || !strings.HasPrefix(s, "k") {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// isSubjectRef reports whether s is 43 unpadded base64url characters
// encoding 32 bytes.
func isSubjectRef(s string) bool { return isB64Hash(s) }

// isB64Hash reports whether s is the unpadded base64url form of 32 bytes.
func isB64Hash(s string) bool {
	if len(s) != 43 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	// The last character carries 2 bits of padding that must be zero.
	return strings.IndexByte("AEIMQUYcgkosw048", s[42]) >= 0
}

// looksLikeCPR reports whether s contains ten digits (optionally DDMMYY-SSSS)
// that are not part of a longer run of digits and begin with a real date.
func looksLikeCPR(s string) bool {
	digit := func(i int) bool { return i >= 0 && i < len(s) && s[i] >= '0' && s[i] <= '9' }
	for i := 0; i+10 <= len(s); i++ {
		if !digit(i) || digit(i-1) {
			continue
		}
		var d []byte
		j := i
		for j < len(s) && len(d) < 10 {
			switch {
			case digit(j):
				d = append(d, s[j])
			case s[j] == '-' && len(d) == 6:
			default:
				j = len(s) + 1
				continue
			}
			j++
		}
		if len(d) == 10 && !digit(j) {
			if _, err := record.CPRBirthDate(string(d)); err == nil {
				return true
			}
		}
	}
	return false
}

// ContainsCPR reports whether s contains what looks like a CPR number (ten
// digits, optionally DDMMYY-SSSS, not part of a longer run of digits,
// beginning with a real date): text that the journal refuses to hold.
func ContainsCPR(s string) bool { return looksLikeCPR(s) }
