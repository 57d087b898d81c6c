package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// Recipient states of a RecipientStatus.
const (
	// StateQueued: the view waits in the recipient's mailbox, not yet acknowledged.
	StateQueued = "queued"
	// StateDelivered: the recipient acknowledged it with its signed receipt.
	StateDelivered = "delivered"
	// StateWithheld: consent or policy withheld the record (Withheld says why).
	StateWithheld = "withheld"
	// StateWithdrawn: a withdrawal notice was sent (acknowledged when DeliveredAt is set).
	StateWithdrawn = "withdrawn"
)

// RecordStatus is what became of one of the authority's records, per
// version and recipient (GET /v1/records/{record_id}/status). It carries
// ids, roles, rules, times and digests only.
type RecordStatus struct {
	// RecordID is the record's id.
	RecordID string `json:"record_id"`
	// Owner is the authority the record belongs to.
	Owner string `json:"owner"`
	// Versions are the record's versions, oldest first.
	Versions []VersionStatus `json:"versions"`
}

// VersionStatus is what became of one version.
type VersionStatus struct {
	// Version is the record's version.
	Version int `json:"version"`
	// ReceivedAt is when the gateway accepted it.
	ReceivedAt time.Time `json:"received_at"`
	// MessageID is the message that brought it.
	MessageID string `json:"message_id"`
	// Recipients are the recipients decided on, one per recipient and role.
	Recipients []RecipientStatus `json:"recipients"`
}

// RecipientStatus is one recipient's state for a version.
type RecipientStatus struct {
	// Recipient is the authority id; empty when it cannot be addressed yet.
	Recipient string `json:"recipient,omitempty"`
	// Role and Purpose are why and what for the recipient receives it.
	Role string `json:"role,omitempty"`
	// Purpose is the purpose of the disclosure.
	Purpose string `json:"purpose,omitempty"`
	// State is StateQueued, StateDelivered, StateWithheld or StateWithdrawn.
	State string `json:"state"`
	// Correction: the view corrects a version the recipient holds.
	Correction bool `json:"correction,omitempty"`
	// Rule and PolicyVersion name the consent rule that decided.
	Rule string `json:"rule,omitempty"`
	// PolicyVersion is the policy's version.
	PolicyVersion string `json:"policy_version,omitempty"`
	// MailboxID is the mailbox message (a view or a withdrawal notice).
	MailboxID string `json:"mailbox_id,omitempty"`
	// QueuedAt is when it was queued; DeliveredAt when it was acknowledged.
	QueuedAt *time.Time `json:"queued_at,omitempty"`
	// DeliveredAt is when the recipient acknowledged it.
	DeliveredAt *time.Time `json:"delivered_at,omitempty"`
	// ReceiptDigest is the SHA-256 (hex) the recipient's receipt acknowledged.
	ReceiptDigest string `json:"receipt_digest,omitempty"`
	// Withheld says why the record was withheld (StateWithheld).
	Withheld *Withholding `json:"withheld,omitempty"`
}

// Withholding is why a record was withheld, in words.
type Withholding struct {
	// Check is the consent check that withheld it.
	Check string `json:"check,omitempty"`
	// Reason is the journal's reason.
	Reason string `json:"reason,omitempty"`
	// Explanation says why, in Danish and English.
	Explanation Text `json:"explanation"`
	// RuleDescription is the rule's description, in Danish and English.
	RuleDescription *Text `json:"rule_description,omitempty"`
	// WithheldAt is when it was decided.
	WithheldAt time.Time `json:"withheld_at"`
}

// Text is words in Danish and English.
type Text struct {
	// DA is the Danish text; EN the English.
	DA string `json:"da"`
	// EN is the English text.
	EN string `json:"en"`
}

// Status asks what became of one of the authority's records. A record
// that is not the authority's is a *Problem 404 unknown-record, as one
// that does not exist.
func (c *Client) Status(ctx context.Context, recordID string) (*RecordStatus, error) {
	if recordID == "" {
		return nil, errors.New("client: status: no record id")
	}
	status, b, err := c.do(ctx, http.MethodGet, "/v1/records/"+url.PathEscape(recordID)+"/status", nil, maxAnswerBytes, requestTimeout)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("client: status: unexpected status %d", status)
	}
	var st RecordStatus
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("client: status: the answer is not JSON: %w", err)
	}
	return &st, nil
}
