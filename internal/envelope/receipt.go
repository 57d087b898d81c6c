package envelope

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/psykosocial/exchange/internal/strictjson"
)

// Outcome is what a receipt says happened to a message.
type Outcome string

// The outcomes.
const (
	// OutcomeAccepted: the gateway took the message into its care (its 202
	// answer): it was opened, checked and journaled, and will be routed.
	OutcomeAccepted Outcome = "accepted"
	// OutcomeReceived: the recipient opened the message and stored it (its
	// acknowledgement; the gateway journals the delivery).
	OutcomeReceived Outcome = "received"
	// OutcomeRejected: the recipient opened the message but refused it;
	// Reason says why.
	OutcomeRejected Outcome = "rejected"
)

// Receipt is a signed statement by a message's recipient about that message.
// The recipient signs it (iss = Recipient, aud = Sender).
type Receipt struct {
	// MessageID is the message's id (its jti, or the XML message id).
	MessageID string
	// PayloadDigest is the SHA-256 of the message's signed bytes (Opened.Digest).
	PayloadDigest Digest
	// Sender is the authority id of the message's sender.
	Sender string
	// Recipient is the authority id of the message's recipient, the signer.
	Recipient string
	// Time is when the outcome was decided, UTC, whole seconds.
	Time time.Time
	// Outcome is accepted, received or rejected.
	Outcome Outcome
	// Reason is a short code (lower-case letters, digits, '_' and '.'),
	// present only with OutcomeRejected.
	Reason string
}

// receiptTimeLayout is the one time form of a receipt: RFC 3339, UTC, whole seconds.
const receiptTimeLayout = "2006-01-02T15:04:05Z"

// receiptVersion is the v member of every receipt payload.
const receiptVersion = 1

var reReason = regexp.MustCompile(`^[a-z][a-z0-9_.]{0,63}$`)

// check reports whether r can be encoded canonically.
func (r *Receipt) check() error {
	switch {
	case !ValidMessageID(r.MessageID):
		return errors.New("message id is not a lower-case UUID")
	case r.PayloadDigest.IsZero():
		return errors.New("payload digest is unset")
	case !ValidAuthorityID(r.Sender), !ValidAuthorityID(r.Recipient):
		return errors.New("sender and recipient must be authority ids")
	case r.Time.IsZero() || r.Time.Nanosecond() != 0 || r.Time.UTC().Year() < 1970 || r.Time.UTC().Year() > 9999:
		return errors.New("time must be whole seconds between 1970 and 9999")
	case r.Outcome != OutcomeAccepted && r.Outcome != OutcomeReceived && r.Outcome != OutcomeRejected:
		return errors.New("outcome is not accepted, received or rejected")
	case r.Outcome == OutcomeRejected && !reReason.MatchString(r.Reason):
		return errors.New("a rejection needs a reason code of at most 64 characters [a-z0-9_.]")
	case r.Outcome != OutcomeRejected && r.Reason != "":
		return errors.New("only a rejection has a reason")
	}
	return nil
}

// MarshalCanonical returns the canonical payload of r. THESE BYTES NEVER
// CHANGE: receipts are evidence that is verified years later, and a golden
// test pins them. The form is one JSON object, no white space, members in
// exactly this order:
//
//	{"v":1,"message_id":M,"payload_digest":D,"sender":S,"recipient":R,"time":T,"outcome":O}
//
// with ,"reason":X before the closing brace when (and only when) the
// outcome is rejected. Every value is a string from a restricted alphabet
// (UUID, base64url, authority id, RFC 3339 UTC seconds "…Z", outcome,
// reason code), so no value ever needs escaping.
func (r Receipt) MarshalCanonical() ([]byte, error) {
	if err := r.check(); err != nil {
		return nil, fmt.Errorf("envelope: receipt: %w", err)
	}
	var b bytes.Buffer
	b.Grow(256)
	b.WriteString(`{"v":1,"message_id":"`)
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
	if r.Reason != "" {
		b.WriteString(`","reason":"`)
		b.WriteString(r.Reason)
	}
	b.WriteString(`"}`)
	return b.Bytes(), nil
}

// receiptJSON is the strict decoding target of a receipt payload.
type receiptJSON struct {
	V             int    `json:"v"`
	MessageID     string `json:"message_id"`
	PayloadDigest string `json:"payload_digest"`
	Sender        string `json:"sender"`
	Recipient     string `json:"recipient"`
	Time          string `json:"time"`
	Outcome       string `json:"outcome"`
	Reason        string `json:"reason"`
}

// parseReceipt decodes a canonical receipt payload; anything that does not
// re-encode to the same bytes is refused.
func parseReceipt(payload []byte) (*Receipt, error) {
	var j receiptJSON
	if err := strictjson.Unmarshal(payload, &j, strictjson.Limits{MaxBytes: maxReceiptBytes, MaxDepth: 1, MaxArray: 1, RejectEmptyStrings: true}); err != nil {
		return nil, errors.New("not a receipt object")
	}
	if j.V != receiptVersion {
		return nil, errors.New("unknown receipt version")
	}
	d, err := ParseDigest(j.PayloadDigest)
	if err != nil {
		return nil, errors.New("payload_digest is malformed")
	}
	t, err := time.Parse(receiptTimeLayout, j.Time)
	if err != nil {
		return nil, errors.New("time is malformed")
	}
	r := &Receipt{MessageID: j.MessageID, PayloadDigest: d, Sender: j.Sender, Recipient: j.Recipient,
		Time: t.UTC(), Outcome: Outcome(j.Outcome), Reason: j.Reason}
	canon, err := r.MarshalCanonical()
	if err != nil {
		return nil, errors.New("invalid member values")
	}
	if !bytes.Equal(canon, payload) {
		return nil, errors.New("not in canonical form")
	}
	return r, nil
}

// SignReceipt signs r as a compact JWS whose payload is r.MarshalCanonical()
// and whose protected header has alg, kid, typ psykosocial-receipt+jws, cty
// ContentTypeReceipt, iss (the Sealer's issuer, which must be r.Recipient),
// aud (r.Sender), iat (r.Time) and jti (a fresh receipt id). A receipt has
// no exp: it is evidence kept for years, and one replayed says nothing new.
// A zero r.Time means now. It returns the token and the receipt as signed.
func (s *Sealer) SignReceipt(ctx context.Context, r Receipt) ([]byte, Receipt, error) {
	if s.key == nil {
		return nil, Receipt{}, errors.New("envelope: SignReceipt needs SealerConfig.Key")
	}
	if r.Recipient != s.issuer {
		return nil, Receipt{}, errors.New("envelope: a receipt is signed by the message's recipient: Receipt.Recipient must be the Sealer's issuer")
	}
	if r.Time.IsZero() {
		r.Time = s.clock.Now().UTC().Truncate(time.Second)
	}
	payload, err := r.MarshalCanonical()
	if err != nil {
		return nil, Receipt{}, err
	}
	token, err := s.signReceiptPayload(ctx, payload, r.Recipient, r.Sender, r.Time)
	if err != nil {
		return nil, Receipt{}, err
	}
	return []byte(token), r, nil
}

// signReceiptPayload signs a canonical receipt payload with the header
// every receipt version shares.
func (s *Sealer) signReceiptPayload(ctx context.Context, payload []byte, recipient, sender string, at time.Time) ([]byte, error) {
	id, err := NewMessageID(s.rand)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	opts := (&jose.SignerOptions{}).
		WithType(TypReceipt).
		WithContentType(ContentTypeReceipt).
		WithHeader("iss", recipient).
		WithHeader("aud", sender).
		WithHeader("iat", at.Unix()).
		WithHeader("jti", id)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: s.key.alg, Key: s.key.signer}, opts)
	if err != nil {
		return nil, fmt.Errorf("envelope: SignReceipt: signer: %w", err)
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		return nil, fmt.Errorf("envelope: SignReceipt: sign: %w", err)
	}
	token, err := obj.CompactSerialize()
	if err != nil {
		return nil, fmt.Errorf("envelope: SignReceipt: serialize: %w", err)
	}
	return []byte(token), nil
}

// VerifyReceipt verifies a receipt signed by signer (the message's
// recipient: the gateway for a 202, a municipality for an acknowledgement)
// with signer's pinned keys, and returns it. It checks the size, the strict
// header (as Open does, without exp), alg and kid against the pinned keys,
// the signature, typ and cty, iss = signer = Recipient, aud = Sender, iat
// not in the future and equal to Time, and that the payload is canonical.
// The caller compares MessageID and PayloadDigest with its own record of
// the message. Receipts are not replay-checked: see SignReceipt.
func (o *Opener) VerifyReceipt(ctx context.Context, token []byte, signer string) (*Receipt, error) {
	payload, h, iat, err := o.verifyReceiptJWS(ctx, token, signer, maxReceiptBytes)
	if err != nil {
		return nil, err
	}
	r, perr := parseReceipt(payload)
	if perr != nil {
		return nil, refusef(CheckPayload, ErrReceipt, perr.Error())
	}
	if oerr := checkReceiptParties(r.Recipient, r.Sender, r.Time, h, iat); oerr != nil {
		return nil, oerr
	}
	return r, nil
}

// verifyReceiptJWS applies the checks every receipt version shares, up to
// the payload: size (at most maxBytes), the strict header, the pinned key,
// the signature, typ, cty, iss = signer, iat and jti.
func (o *Opener) verifyReceiptJWS(ctx context.Context, token []byte, signer string, maxBytes int) ([]byte, *jwsHeader, time.Time, error) {
	if !ValidAuthorityID(signer) {
		return nil, nil, time.Time{}, errors.New("envelope: VerifyReceipt: signer is not an authority id")
	}
	if o.senders == nil {
		return nil, nil, time.Time{}, errors.New("envelope: VerifyReceipt needs OpenerConfig.Senders")
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, time.Time{}, err
	}
	if len(token) == 0 || len(token) > maxBytes {
		return nil, nil, time.Time{}, refusef(CheckSize, ErrTooLarge, fmt.Sprintf("a receipt has 1 to %d bytes", maxBytes))
	}
	h, payload, oerr := o.verifyJWS(ctx, string(token), signer, true)
	if oerr != nil {
		return nil, nil, time.Time{}, oerr
	}
	if h.Typ != TypReceipt {
		return nil, nil, time.Time{}, refusef(CheckTyp, ErrTyp, "typ is not "+TypReceipt)
	}
	if h.Cty != ContentTypeReceipt {
		return nil, nil, time.Time{}, refusef(CheckHeader, ErrContentType, "cty is not "+ContentTypeReceipt)
	}
	if h.Iss != signer {
		return nil, nil, time.Time{}, refusef(CheckIssuer, ErrIssuer, "iss is not the expected signer")
	}
	iat, oerr := numericDate(h.Iat, "iat")
	if oerr != nil {
		return nil, nil, time.Time{}, oerr
	}
	if iat.After(o.clock.Now().Add(o.leeway)) {
		return nil, nil, time.Time{}, refusef(CheckIssuedAt, ErrNotYetValid, "iat is later than now plus the leeway")
	}
	if !ValidMessageID(h.Jti) {
		return nil, nil, time.Time{}, refusef(CheckID, ErrMessageID, "jti is not a lower-case UUID")
	}
	return payload, h, iat, nil
}

// checkReceiptParties checks a decoded receipt against its header: the
// recipient is the signer, the sender is aud, and time equals iat.
func checkReceiptParties(recipient, sender string, at time.Time, h *jwsHeader, iat time.Time) *OpenError {
	if recipient != h.Iss {
		return refusef(CheckIssuer, ErrIssuer, "the receipt's recipient is not its signer")
	}
	if sender != h.Aud {
		return refusef(CheckAudience, ErrAudience, "the receipt's sender is not its aud")
	}
	if !at.Equal(iat) {
		return refusef(CheckPayload, ErrReceipt, "time and iat differ")
	}
	return nil
}
