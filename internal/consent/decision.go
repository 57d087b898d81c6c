package consent

import (
	"strconv"
	"strings"
	"time"

	"github.com/psykosocial/exchange/internal/record"
)

// Effect is the outcome of a decision.
type Effect string

// Effects.
const (
	// Allow: the recipient receives the minimised view (Decision.Fields).
	Allow Effect = "allow"
	// Withhold: the recipient receives nothing.
	Withhold Effect = "withhold"
)

// Check names a check of the policy: for a withheld decision the check that
// withheld it, for a withheld field (Decision.Withheld) the safeguard that
// removed it. The names are stable; the journal records them.
type Check string

// Checks that withhold a whole decision, in the order they are applied.
const (
	// CheckNoRule: no rule of the policy covers the role (and, with
	// Decision.Purpose set, the purpose). Anything not allowed is withheld.
	CheckNoRule Check = "no_rule"
	// CheckConsentWithdrawn: consent was withdrawn (/consent/withdrawn_at).
	// It withholds every rule, whatever its basis.
	CheckConsentWithdrawn Check = "consent_withdrawn"
	// CheckRegistrationRefused: the person refused registration: nothing
	// but the count is kept, and nothing is forwarded.
	CheckRegistrationRefused Check = "registration_refused"
	// CheckRegistrationNotObtained: no consent was documented (a police
	// list): nothing that needs consent is forwarded.
	CheckRegistrationNotObtained Check = "registration_not_obtained"
	// CheckFollowUpNotGranted: the person did not consent to follow-up contact.
	CheckFollowUpNotGranted Check = "follow_up_not_granted"
	// CheckConsentExpired: follow-up consent expired (/consent/follow_up/expires_at).
	CheckConsentExpired Check = "consent_expired"
	// CheckRecipientNotConsented: the consent does not name the recipient role.
	CheckRecipientNotConsented Check = "recipient_not_consented"
	// CheckPurposeNotConsented: the consent does not name the rule's purpose.
	CheckPurposeNotConsented Check = "purpose_not_consented"
	// CheckFollowUpRefused: the person explicitly refused follow-up
	// contact, and the legal-basis rule honours that refusal.
	CheckFollowUpRefused Check = "follow_up_refused"
	// CheckIncidentTimeUnknown: a legal-basis rule needs the incident time
	// (/incident/occurred_at) to know whether its period has ended.
	CheckIncidentTimeUnknown Check = "incident_time_unknown"
	// CheckIncidentPeriodEnded: the incident period of a legal-basis rule has ended.
	CheckIncidentPeriodEnded Check = "incident_period_ended"
	// CheckRecipientNotConfigured: routing found the recipient's role but
	// the recipient itself has no code configured yet (Region Østdanmark
	// before east-region-code and east-region-cvr are set). Decision.Recipient
	// is empty and RecipientName names it; Decision.Settings names the
	// configuration. The service routes such records again once the
	// configuration is complete, so nothing is lost without a word.
	CheckRecipientNotConfigured Check = "recipient_not_configured"
)

// Safeguards that withhold single fields of an allowed decision.
const (
	// CheckChannelNotConsented: the phone number (the person's or the
	// guardian's) goes only with the phone channel, the e-mail address only
	// with the email channel, each consented to this recipient and in
	// force: for a consent rule in the grant of the recipient's role, for a
	// legal-basis rule in any grant and only when the rule names a
	// contact_legal_basis.
	CheckChannelNotConsented Check = "channel_not_consented"
	// CheckAddressProtected: a protected address goes to no one but the
	// residence municipality.
	CheckAddressProtected Check = "address_protected"
	// CheckHealthNotesNotInRule: the rule does not disclose health notes.
	CheckHealthNotesNotInRule Check = "health_notes_not_in_rule"
	// CheckHealthNotesNeedConsent: health notes go only where explicit
	// consent names a purpose that needs them.
	CheckHealthNotesNeedConsent Check = "health_notes_need_consent"
	// CheckMinorOwnContact: a guardian consented, so contact goes to the
	// guardian's channels; the minor's own phone and e-mail are withheld
	// unless the policy's minors.own_contact says otherwise.
	CheckMinorOwnContact Check = "minor_own_contact"
	// CheckLinkNotHeld: the record id of the affected person a relative
	// belongs to travels only to a recipient that also received the
	// affected person's record; otherwise only the kinship does.
	CheckLinkNotHeld Check = "link_not_held"
)

// WithheldField is a field the rule's groups cover that a safeguard removed
// from the view.
type WithheldField struct {
	// Path is the JSON Pointer of the field.
	Path string `json:"path"`
	// Check is the safeguard that removed it.
	Check Check `json:"check"`
}

// Decision is the policy's answer for one recipient, role and purpose. It
// is a plain value: the journal records it as is, and Reconcile and ViewOf
// work from a recorded copy. String derives a sentence from it.
type Decision struct {
	// RecordID and Version identify the record decided on.
	RecordID string `json:"record_id"`
	// Version is the record's version.
	Version int `json:"version"`
	// Recipient is the authority id of the recipient; empty only with
	// CheckRecipientNotConfigured.
	Recipient string `json:"recipient"`
	// RecipientName names a recipient whose id is not configured
	// (CheckRecipientNotConfigured), e.g. "Region Østdanmark".
	RecipientName string `json:"recipient_name,omitempty"`
	// Settings names the configuration a CheckRecipientNotConfigured
	// decision waits for.
	Settings []string `json:"settings,omitempty"`
	// Role is the recipient role.
	Role record.RecipientRole `json:"role"`
	// Purpose is the purpose of the rule; empty with CheckNoRule.
	Purpose record.Purpose `json:"purpose,omitempty"`
	// Effect is Allow or Withhold.
	Effect Effect `json:"effect"`
	// RuleID is the rule applied; empty with CheckNoRule.
	RuleID string `json:"rule_id,omitempty"`
	// PolicyVersion is the version of the policy that decided.
	PolicyVersion string `json:"policy_version"`
	// Basis is the basis of the rule.
	Basis Basis `json:"basis,omitempty"`
	// LegalBasis is the id of the rule's legal basis (BasisLegal only).
	LegalBasis string `json:"legal_basis,omitempty"`
	// ContactLegalBasis is the legal basis on which a legal-basis decision
	// discloses contact details (the rule's contact_legal_basis): set only
	// when the view carries a phone number or e-mail address.
	ContactLegalBasis string `json:"contact_legal_basis,omitempty"`
	// Clause lists the JSON Pointers of the consent members that allowed a
	// consent-based decision: the recipient role and the purpose in
	// /consent/follow_up.
	Clause []string `json:"clause,omitempty"`
	// Check is the check that withheld the decision (Withhold only).
	Check Check `json:"check,omitempty"`
	// GivenBy is who gave the consent a consent-based decision rests on:
	// the person, a guardian or a representative.
	GivenBy record.GivenBy `json:"given_by,omitempty"`
	// Fields lists the JSON Pointers of every member the view discloses,
	// in document order, including those that travel with every view
	// (/schema, /record_id, /version, /incident/id, /registered, /consent).
	// Empty when withheld.
	Fields []string `json:"fields,omitempty"`
	// Withheld lists the fields of the rule's groups that the record has
	// but a safeguard kept out of the view, with the safeguard.
	Withheld []WithheldField `json:"withheld,omitempty"`
	// At is the time of the decision: consent expiry and incident periods
	// are judged at this instant.
	At time.Time `json:"at"`
}

// String is a sentence a data-protection officer can read, derived from
// the decision's fields only.
func (d Decision) String() string {
	var b strings.Builder
	if d.Effect == Allow {
		b.WriteString("Allowed: ")
		b.WriteString(d.Recipient)
		b.WriteString(" receives ")
	} else {
		b.WriteString("Withheld: ")
		if d.Recipient == "" {
			b.WriteString(d.RecipientName)
		} else {
			b.WriteString(d.Recipient)
		}
		b.WriteString(" does not receive ")
	}
	b.WriteString("record " + d.RecordID + " version " + strconv.Itoa(d.Version) + " as " + words(string(d.Role)))
	if d.Purpose != "" {
		b.WriteString(" for " + words(string(d.Purpose)))
	}
	if d.Check == CheckRecipientNotConfigured {
		b.WriteString(": " + d.Check.explain())
		if len(d.Settings) > 0 {
			b.WriteString(" (settings " + strings.Join(d.Settings, " and ") + ")")
		}
		b.WriteString("; the record is routed to it again once the configuration is complete.")
		return b.String()
	}
	if d.RuleID == "" {
		b.WriteString(": no rule of policy " + d.PolicyVersion + " lets a " + words(string(d.Role)) +
			" receive records, and anything no rule allows is withheld.")
		return b.String()
	}
	b.WriteString(", under rule " + d.RuleID + " of policy " + d.PolicyVersion)
	if d.Effect != Allow {
		b.WriteString(": " + d.Check.explain() + ".")
		return b.String()
	}
	switch d.Basis {
	case BasisConsent:
		b.WriteString(", on the follow-up consent given by " + givenByText(d.GivenBy))
		if len(d.Clause) > 0 {
			b.WriteString(" (" + strings.Join(d.Clause, ", ") + ")")
		}
	case BasisLegal:
		b.WriteString(", on legal basis " + d.LegalBasis + " within the incident period")
		if d.ContactLegalBasis != "" {
			b.WriteString("; contact details on legal basis " + d.ContactLegalBasis + ", for the channels the person consented to for follow-up")
		}
	}
	b.WriteString(". Disclosed: " + strings.Join(d.Fields, ", ") + ".")
	if len(d.Withheld) > 0 {
		b.WriteString(" Kept out of the view: ")
		for i, w := range d.Withheld {
			if i > 0 {
				b.WriteString("; ")
			}
			b.WriteString(w.Path + " (" + w.explain() + ")")
		}
		b.WriteString(".")
	}
	return b.String()
}

// explain says, in words, why the check withheld a decision.
func (c Check) explain() string {
	switch c {
	case CheckConsentWithdrawn:
		return "the person withdrew consent, which stops every disclosure"
	case CheckRegistrationRefused:
		return "the person refused registration"
	case CheckRegistrationNotObtained:
		return "no consent was documented, so nothing that needs consent is forwarded"
	case CheckFollowUpNotGranted:
		return "the person did not consent to follow-up contact"
	case CheckConsentExpired:
		return "the follow-up consent has expired"
	case CheckRecipientNotConsented:
		return "the follow-up consent does not name this recipient role"
	case CheckPurposeNotConsented:
		return "the follow-up consent does not name this purpose"
	case CheckFollowUpRefused:
		return "the person refused follow-up contact, and the rule honours that refusal"
	case CheckIncidentTimeUnknown:
		return "the record does not say when the incident happened, so the incident period cannot be established"
	case CheckIncidentPeriodEnded:
		return "the incident period the legal basis covers has ended"
	case CheckNoRule:
		return "no rule allows it"
	case CheckRecipientNotConfigured:
		return "the recipient's region code and CVR number are not configured yet, so it cannot be addressed"
	}
	return "unexplained check " + string(c)
}

// explain says, in words, why the field was kept out of the view.
func (w WithheldField) explain() string {
	switch w.Check {
	case CheckChannelNotConsented:
		ch := "phone"
		if w.Path == fEmail.path() || w.Path == fGuardianEmail.path() {
			ch = "email"
		}
		return "the " + ch + " channel is not consented to this recipient"
	case CheckAddressProtected:
		return "the address is protected and goes to no one but the residence municipality"
	case CheckHealthNotesNotInRule:
		return "health data, which the rule does not disclose"
	case CheckHealthNotesNeedConsent:
		return "health data, which goes only where explicit consent names a purpose that needs it"
	case CheckMinorOwnContact:
		return "a guardian consented for the person, so contact goes to the guardian's channels, not the person's own"
	case CheckLinkNotHeld:
		return "the link to the affected person's record travels only to a recipient that received that record; the kinship travels"
	}
	return "unexplained safeguard " + string(w.Check)
}

func givenByText(g record.GivenBy) string {
	switch g {
	case record.GivenBySelf:
		return "the person"
	case record.GivenByGuardian:
		return "the person's guardian"
	case record.GivenByRepresentative:
		return "the person's representative"
	}
	return "an unrecorded party"
}

// words turns a vocabulary value into words: "residence_municipality"
// becomes "residence municipality".
func words(s string) string { return strings.ReplaceAll(s, "_", " ") }
