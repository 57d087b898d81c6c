package envelope

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/psykosocial/exchange/internal/strictjson"
)

// ItemStatus is what became of one record of a message, in a version 2
// receipt.
type ItemStatus string

// Item statuses of a version 2 receipt.
const (
	// ItemAccepted: the record was stored and routed.
	ItemAccepted ItemStatus = "accepted"
	// ItemAlreadyReceived: the record id and version were stored before
	// with the same content, by the message ReceiptItem.AlreadyIn.
	ItemAlreadyReceived ItemStatus = "already_received"
	// ItemRejected: the record was refused.
	ItemRejected ItemStatus = "rejected"
)

// ReceiptItem is the result for one record of a message.
type ReceiptItem struct {
	// Index is the 0-based position of the record in the document.
	Index int
	// RecordID is the record's id (a lower-case UUID), or "" when it could
	// not be read.
	RecordID string
	// Version is the record's version, or 0 when it could not be read.
	Version int
	// Status is accepted, already_received or rejected.
	Status ItemStatus
	// AlreadyIn is the message id that first carried the record
	// (ItemAlreadyReceived only).
	AlreadyIn string
}

// ReceiptV2 is version 2 of the receipt: the gateway's answer to an intake
// (its 202), naming the message, the payload digest and the result of every
// record of the message (a batch such as a police list has one per person).
// The gateway signs it (iss = Recipient = "gateway", aud = Sender).
type ReceiptV2 struct {
	// MessageID is the message's id (its jti, or the XML message id).
	MessageID string
	// PayloadDigest is the SHA-256 of the sender's signed bytes.
	PayloadDigest Digest
	// Sender is the authority id of the message's sender.
	Sender string
	// Recipient is the signer: the gateway.
	Recipient string
	// Time is when the message was committed, UTC, whole seconds.
	Time time.Time
	// Outcome is OutcomeAccepted: the message was committed durably.
	Outcome Outcome
	// Items are the per-record results, in document order (none for a
	// withdrawal).
	Items []ReceiptItem
}

// receiptV2Version is the v member of a version 2 receipt payload.
const receiptV2Version = 2

// check reports whether r can be encoded canonically.
func (r *ReceiptV2) check() error {
	switch {
	case !ValidMessageID(r.MessageID):
		return errors.New("message id is not a lower-case UUID")
	case r.PayloadDigest.IsZero():
		return errors.New("payload digest is unset")
	case !ValidAuthorityID(r.Sender), !ValidAuthorityID(r.Recipient):
		return errors.New("sender and recipient must be authority ids")
	case r.Time.IsZero() || r.Time.Nanosecond() != 0 || r.Time.UTC().Year() < 1970 || r.Time.UTC().Year() > 9999:
		return errors.New("time must be whole seconds between 1970 and 9999")
	case r.Outcome != OutcomeAccepted:
		return errors.New("a version 2 receipt has outcome accepted")
	case len(r.Items) > maxReceiptItems:
		return fmt.Errorf("at most %d items", maxReceiptItems)
	}
	for i, it := range r.Items {
		switch {
		case it.Index != i:
			return fmt.Errorf("item %d: index must be %d (document order, one item per record)", i, i)
		case it.RecordID != "" && !ValidMessageID(it.RecordID):
			return fmt.Errorf("item %d: record id is not a lower-case UUID", i)
		case it.Version < 0 || it.Version > maxReceiptVersion:
			return fmt.Errorf("item %d: version out of range", i)
		case it.Status != ItemAccepted && it.Status != ItemAlreadyReceived && it.Status != ItemRejected:
			return fmt.Errorf("item %d: unknown status", i)
		case it.Status != ItemRejected && (it.RecordID == "" || it.Version == 0):
			return fmt.Errorf("item %d: an accepted record has its id and version", i)
		case (it.Status == ItemAlreadyReceived) != (it.AlreadyIn != ""):
			return fmt.Errorf("item %d: already_in goes with already_received, and only with it", i)
		case it.AlreadyIn != "" && !ValidMessageID(it.AlreadyIn):
			return fmt.Errorf("item %d: already_in is not a lower-case UUID", i)
		}
	}
	return nil
}

// MarshalCanonical returns the canonical payload of r. THESE BYTES NEVER
// CHANGE: receipts are evidence that is verified years later, and a golden
// test pins them. The form is one JSON object, no white space, members in
// exactly this order:
//
//	{"v":2,"message_id":M,"payload_digest":D,"sender":S,"recipient":R,"time":T,"outcome":"accepted","items":[I,...]}
//
// where each item is
//
//	{"index":N,"record_id":ID,"version":V,"status":S,"already_in":M}
//
// with record_id and version left out when the record could not be read
// (0 and ""), and already_in only with already_received. Every string is
// from a restricted alphabet (UUID, base64url, authority id, RFC 3339 UTC
// seconds, status), so no value ever needs escaping; numbers are plain
// decimal integers.
func (r ReceiptV2) MarshalCanonical() ([]byte, error) {
	if err := r.check(); err != nil {
		return nil, fmt.Errorf("envelope: receipt v2: %w", err)
	}
	var b bytes.Buffer
	b.Grow(256 + 96*len(r.Items))
	b.WriteString(`{"v":2,"message_id":"`)
	b.WriteString(r.MessageID)
	b.WriteString(`","payload_digest":"`)
	b.WriteString(r.PayloadDigest.String())
	b.WriteString(`","sender":"`)
	b.WriteString(r.Sender)
	b.WriteString(`","recipient":"`)
	b.WriteString(r.Recipient)
	b.WriteString(`","time":"`)
	b.WriteString(r.Time.UTC().Format(receiptTimeLayout))
	b.WriteString(`","outcome":"`)
	b.WriteString(string(r.Outcome))
	b.WriteString(`","items":[`)
	for i, it := range r.Items {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"index":`)
		b.WriteString(strconv.Itoa(it.Index))
		if it.RecordID != "" {
			b.WriteString(`,"record_id":"`)
			b.WriteString(it.RecordID)
			b.WriteByte('"')
		}
		if it.Version != 0 {
			b.WriteString(`,"version":`)
			b.WriteString(strconv.Itoa(it.Version))
		}
		b.WriteString(`,"status":"`)
		b.WriteString(string(it.Status))
		b.WriteByte('"')
		if it.AlreadyIn != "" {
			b.WriteString(`,"already_in":"`)
			b.WriteString(it.AlreadyIn)
			b.WriteByte('"')
		}
		b.WriteByte('}')
	}
	b.WriteString(`]}`)
	return b.Bytes(), nil
}

// receiptV2JSON is the strict decoding target of a version 2 payload.
type receiptV2JSON struct {
	V             int    `json:"v"`
	MessageID     string `json:"message_id"`
	PayloadDigest string `json:"payload_digest"`
	Sender        string `json:"sender"`
	Recipient     string `json:"recipient"`
	Time          string `json:"time"`
	Outcome       string `json:"outcome"`
	Items         []struct {
		Index     int    `json:"index"`
		RecordID  string `json:"record_id"`
		Version   int    `json:"version"`
		Status    string `json:"status"`
		AlreadyIn string `json:"already_in"`
	} `json:"items"`
}

// parseReceiptV2 decodes a canonical version 2 payload; anything that does
// not re-encode to the same bytes is refused.
func parseReceiptV2(payload []byte) (*ReceiptV2, error) {
	var j receiptV2JSON
	if err := strictjson.Unmarshal(payload, &j, strictjson.Limits{MaxBytes: maxReceiptV2Bytes, MaxDepth: 3, MaxArray: maxReceiptItems, RejectEmptyStrings: true}); err != nil {
		return nil, errors.New("not a receipt object")
	}
	if j.V != receiptV2Version {
		return nil, errors.New("not a version 2 receipt")
	}
	d, err := ParseDigest(j.PayloadDigest)
	if err != nil {
		return nil, errors.New("payload_digest is malformed")
	}
	t, err := time.Parse(receiptTimeLayout, j.Time)
	if err != nil {
		return nil, errors.New("time is malformed")
	}
	r := &ReceiptV2{MessageID: j.MessageID, PayloadDigest: d, Sender: j.Sender, Recipient: j.Recipient,
		Time: t.UTC(), Outcome: Outcome(j.Outcome), Items: make([]ReceiptItem, len(j.Items))}
	for i, it := range j.Items {
		r.Items[i] = ReceiptItem{Index: it.Index, RecordID: it.RecordID, Version: it.Version, Status: ItemStatus(it.Status), AlreadyIn: it.AlreadyIn}
	}
	canon, err := r.MarshalCanonical()
	if err != nil {
		return nil, errors.New("invalid member values")
	}
	if !bytes.Equal(canon, payload) {
		return nil, errors.New("not in canonical form")
	}
	return r, nil
}

// SignReceiptV2 signs r as a compact JWS whose payload is
// r.MarshalCanonical(), with the header of SignReceipt (typ
// psykosocial-receipt+jws, cty ContentTypeReceipt, iss = r.Recipient, which
// must be the Sealer's issuer, aud = r.Sender, iat = r.Time, a fresh jti).
// A zero r.Time means now. It returns the token and the receipt as signed.
func (s *Sealer) SignReceiptV2(ctx context.Context, r ReceiptV2) ([]byte, ReceiptV2, error) {
	if s.key == nil {
		return nil, ReceiptV2{}, errors.New("envelope: SignReceiptV2 needs SealerConfig.Key")
	}
	if r.Recipient != s.issuer {
		return nil, ReceiptV2{}, errors.New("envelope: a receipt is signed by the message's recipient: ReceiptV2.Recipient must be the Sealer's issuer")
	}
	if r.Time.IsZero() {
		r.Time = s.clock.Now().UTC().Truncate(time.Second)
	}
	payload, err := r.MarshalCanonical()
	if err != nil {
		return nil, ReceiptV2{}, err
	}
	token, err := s.signReceiptPayload(ctx, payload, r.Recipient, r.Sender, r.Time)
	if err != nil {
		return nil, ReceiptV2{}, err
	}
	return token, r, nil
}

// VerifyReceiptV2 verifies a version 2 receipt signed by signer (the
// gateway) with signer's pinned keys, with the checks of VerifyReceipt, and
// returns it. A version 1 receipt is refused here (VerifyReceipt reads it).
func (o *Opener) VerifyReceiptV2(ctx context.Context, token []byte, signer string) (*ReceiptV2, error) {
	payload, h, iat, err := o.verifyReceiptJWS(ctx, token, signer, maxReceiptV2Bytes)
	if err != nil {
		return nil, err
	}
	r, perr := parseReceiptV2(payload)
	if perr != nil {
		return nil, refusef(CheckPayload, ErrReceipt, perr.Error())
	}
	if oerr := checkReceiptParties(r.Recipient, r.Sender, r.Time, h, iat); oerr != nil {
		return nil, oerr
	}
	return r, nil
}
