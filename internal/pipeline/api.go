// Package pipeline is the gateway's work on a message, without net/http:
// intake (mTLS identity → open the JWE → verify the JWS or the XML-DSig,
// the signer being the TLS-authenticated authority → replay check →
// adapter decode → validate → route → consent → per recipient: minimise →
// one durable commit → a signed receipt) and delivery (mailbox pull with
// sealing at pull, acknowledgement with the recipient's signed receipt).
// The HTTP layer (package gateway) calls it; every error it returns is a
// *fault.Error.
package pipeline

import (
	"time"

	"github.com/psykosocial/exchange/certs"
	"github.com/psykosocial/exchange/internal/record"
)

// Submission is one signed message as the HTTP layer received it.
type Submission struct {
	// Sender is the authority the TLS client certificate acts for
	// (certs.Store.Authenticate with directory.UseTLS); the message's
	// signer must be the same authority.
	Sender certs.Authenticated
	// Body is the request body: a compact JWE.
	Body []byte
}

// SubmitStatus says what became of a submission.
type SubmitStatus string

// Submission statuses.
const (
	// StatusAccepted: the message was committed durably now.
	StatusAccepted SubmitStatus = "accepted"
	// StatusAlreadyReceived: the same sender, message id and digest were
	// committed before: the original receipt is returned again.
	StatusAlreadyReceived SubmitStatus = "already_received"
)

// ItemStatus says what became of one record of a message.
type ItemStatus string

// Item statuses.
const (
	// ItemAccepted: the record was stored and routed.
	ItemAccepted ItemStatus = "accepted"
	// ItemAlreadyReceived: the record id and version were stored before
	// with the same content (ItemResult.AlreadyIn names the message); it
	// is delivered no second time.
	ItemAlreadyReceived ItemStatus = "already_received"
	// ItemRejected: the record was refused (ItemResult.Problems).
	ItemRejected ItemStatus = "rejected"
)

// ItemResult is the result for one record of a message (a batch such as a
// police list has one per person).
type ItemResult struct {
	// Index is the 0-based position of the record in the document.
	Index int `json:"index"`
	// RecordID and Version identify the record, when it could be read.
	RecordID string `json:"record_id,omitempty"`
	// Version is the record's version.
	Version int `json:"version,omitempty"`
	// Status is accepted, already_received or rejected.
	Status ItemStatus `json:"status"`
	// AlreadyIn is the message id that first carried the record
	// (ItemAlreadyReceived).
	AlreadyIn string `json:"already_in,omitempty"`
	// Problems say why a rejected record was refused, with their paths.
	Problems record.Problems `json:"problems,omitempty"`
}

// SubmitResult is the answer to a submission, sent only once everything is
// durably committed.
type SubmitResult struct {
	// Status is accepted or already_received.
	Status SubmitStatus `json:"status"`
	// MessageID is the sender's message id (jti, or the XML header's id).
	MessageID string `json:"message_id"`
	// PayloadDigest is the SHA-256 of the sender's signed bytes, hex.
	PayloadDigest string `json:"payload_digest"`
	// Items are the per-record results, in document order.
	Items []ItemResult `json:"items"`
	// Receipt is the gateway's signed receipt (a compact JWS).
	Receipt []byte `json:"-"`
}

// Delivery is one mailbox message as pulled: sealed to the recipient at
// pull time, a freshly signed message under the mailbox message's stable id.
type Delivery struct {
	// MailboxID is the mailbox message's stable id, carried in its signed
	// metadata: a case system files it once however often it arrives.
	MailboxID string `json:"mailbox_id"`
	// RecordID and Version identify the record the view is of.
	RecordID string `json:"record_id"`
	// Version is the record's version.
	Version int `json:"version"`
	// Kind is registration or withdrawal.
	Kind string `json:"kind"`
	// Deliveries counts how often this mailbox message was delivered,
	// this delivery included.
	Deliveries int `json:"deliveries"`
	// LeaseUntil is when the message is delivered again without an ack.
	LeaseUntil time.Time `json:"lease_until"`
	// Body is the sealed message (a compact JWE), valid for minutes.
	Body []byte `json:"-"`
}
