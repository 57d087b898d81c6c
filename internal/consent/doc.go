// Package consent enforces the consent scope of the gateway: for every
// candidate recipient of a record (from package routing) it decides allow
// or withhold under a declarative, versioned policy, and for an allowed
// recipient builds the minimised view: the record with every field the
// recipient may not receive removed, itself a valid record of schema v1.
//
// # The policy
//
// A policy is a JSON document (format consent-policy/v1, JSON Schema
// schemas/consent-policy.v1.schema.json) with one rule per recipient role
// and purpose: the field groups the recipient may receive and the basis,
// either the person's follow-up consent or a legal basis named in the
// policy that holds for a number of days after the incident. Load decodes
// it strictly and refuses anything unclear: an unknown role, purpose or
// field group, a rule that would disclose health notes without consent,
// contact details without identity, contact or health data to the police.
// The default policy (Default, policy/default.v1.json) is the table of
// DESIGN.md section 4; POLICY.md explains every rule in plain language for
// a data-protection officer.
//
// # Decisions
//
// Evaluate returns one Decision per candidate and rule (EvaluateRoute adds
// a withheld decision, CheckRecipientNotConfigured, for every role whose
// recipient cannot be addressed because its code is not configured): a plain value the
// journal records as is (recipient, role, purpose, effect, rule id, policy
// version, the consent clause that allowed it or the check that withheld
// it, who gave the consent, the JSON Pointers disclosed and the fields a
// safeguard kept out). Decision.String derives a sentence from it.
//
// Some safeguards hold whatever the policy says: withdrawn consent
// withholds everything; a refused registration forwards nothing; a record
// without documented consent (a police list) forwards nothing that needs
// consent; the phone number goes only with the phone channel and the
// e-mail address only with the email channel, consented to the recipient
// (a consent rule: its role's grant; a legal-basis rule: any grant, and
// only on the rule's contact_legal_basis) and in force; a minor's contact
// goes to the guardian's channels, the minor's own phone and e-mail only
// when the policy's minors.own_contact says so; a protected address goes
// to no one but the residence municipality; assessment notes (health
// data) go only where the grant to a region role names a purpose that
// needs them; a relative's link to the affected person's record goes only
// to a recipient that holds that record (Links, EvaluateLinked), and the
// affected person's CPR number never leaves the gateway; and the consent
// block of a view carries only the grant to the recipient's own role, and
// none for the police. Anything no rule allows is withheld.
//
// # Corrections and withdrawals
//
// Reconcile compares the decisions recorded for earlier versions of a
// record with the decisions for a new version and says which authority gets
// a correction, which a withdrawal notice (and must delete), which a first
// delivery and which nothing; ReconcileWithdrawal does the same for a
// withdrawn record. An authority that has ceased since it received the
// record (the 2027 region merger) is replaced by its successor, which holds
// its records (Successions, Transfer).
//
// Time is always passed in; the package never reads the clock.
package consent
