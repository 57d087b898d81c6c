package client

import (
	"bytes"
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/psykosocial/exchange/internal/clock"
	"github.com/psykosocial/exchange/internal/envelope"
	"github.com/psykosocial/exchange/internal/record"
	"github.com/psykosocial/exchange/internal/xmlsig"
)

// Formats of the authorities, as the directory names them.
const (
	// FormatRegion is the regions' JSON format (sealed as JWS in JWE).
	FormatRegion = "region"
	// FormatMunicipality is the municipalities' XML format (XML-DSig in JWE).
	FormatMunicipality = "municipality"
	// FormatPolice is the police districts' XML format (XML-DSig in JWE).
	FormatPolice = "police"
)

// GatewayID is the gateway's authority id: the audience of every
// submission and the signer of receipts and deliveries.
const GatewayID = envelope.GatewayID

// Kind is what a submitted document asks of the gateway.
type Kind = envelope.Kind

// Message kinds.
const (
	// KindRegistration is a new record or a corrected version.
	KindRegistration = envelope.KindRegistration
	// KindWithdrawal is a withdrawal notice.
	KindWithdrawal = envelope.KindWithdrawal
)

// Limits of the client: each bounds what a gateway (or something posing
// as one) can make the client hold or wait for.
const (
	// maxAnswerBytes bounds a submission's or an ack's answer: a receipt
	// and the per-item results of a 1,000-person list.
	maxAnswerBytes = 4 << 20
	// maxPullBytes bounds a pull's answer: up to 100 sealed views.
	maxPullBytes = 64 << 20
	// maxJWKSBytes bounds the gateway's JWK Set.
	maxJWKSBytes = 64 << 10
	// requestTimeout bounds a request other than a long-poll.
	requestTimeout = 60 * time.Second
	// maxWait is the longest long-poll the gateway takes.
	maxWait = 30 * time.Second
)

// Config configures a Client. Every field but HTTPTimeout is required
// (SigningCertificate only for the XML formats).
type Config struct {
	// BaseURL is the gateway's public URL, e.g. https://127.0.0.1:8443.
	BaseURL string
	// Authority is the authority id the client acts for, e.g. region:1082.
	Authority string
	// Format is the authority's document format: FormatRegion,
	// FormatMunicipality or FormatPolice.
	Format string
	// TLSCertificate is the authority's TLS client certificate and key.
	TLSCertificate tls.Certificate
	// RootCAs verify the gateway's TLS certificate.
	RootCAs *x509.CertPool
	// SigningKey signs messages (JSON formats), XML documents (XML
	// formats) and acknowledgements.
	SigningKey crypto.Signer
	// SigningCertificate is the certificate of SigningKey, named in the
	// XML-DSig signature (XML formats).
	SigningCertificate *x509.Certificate
	// DecryptionKeys are the authority's message-decryption keys, the
	// current first (at most 8).
	DecryptionKeys []crypto.PrivateKey
	// GatewayJWKS is the gateway's JWK Set (FetchJWKS): its signing keys
	// verify receipts and deliveries, its encryption key is what
	// submissions are sealed to.
	GatewayJWKS []byte
	// Clock dates messages and judges the gateway's. Required.
	Clock clock.Clock
}

// Client is one authority's connection to the gateway. It is safe for
// concurrent use.
type Client struct {
	cfg        Config
	base       *url.URL
	http       *http.Client
	sealer     *envelope.Sealer
	opener     *envelope.Opener
	gatewayEnc envelope.EncryptionKey
	contentTy  string
}

// New checks cfg and returns a Client.
func New(cfg Config) (*Client, error) {
	switch {
	case cfg.BaseURL == "":
		return nil, errors.New("client: Config.BaseURL is required")
	case !envelope.ValidAuthorityID(cfg.Authority):
		return nil, fmt.Errorf("client: Config.Authority %q is not an authority id", cfg.Authority)
	case len(cfg.TLSCertificate.Certificate) == 0:
		return nil, errors.New("client: Config.TLSCertificate is required")
	case cfg.RootCAs == nil:
		return nil, errors.New("client: Config.RootCAs is required")
	case cfg.SigningKey == nil:
		return nil, errors.New("client: Config.SigningKey is required")
	case len(cfg.DecryptionKeys) == 0:
		return nil, errors.New("client: Config.DecryptionKeys is required")
	case cfg.Clock == nil:
		return nil, errors.New("client: Config.Clock is required")
	}
	ct, ok := map[string]string{FormatRegion: envelope.ContentTypeRegion, FormatMunicipality: envelope.ContentTypeMunicipality,
		FormatPolice: envelope.ContentTypePolice}[cfg.Format]
	if !ok {
		return nil, fmt.Errorf("client: Config.Format %q is not region, municipality or police", cfg.Format)
	}
	if cfg.Format != FormatRegion && cfg.SigningCertificate == nil {
		return nil, errors.New("client: Config.SigningCertificate is required for an XML format")
	}
	base, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	if err != nil || base.Scheme != "https" || base.Host == "" {
		return nil, fmt.Errorf("client: Config.BaseURL %q is not an https URL", cfg.BaseURL)
	}
	sig, enc, err := envelope.ParseJWKS(cfg.GatewayJWKS)
	if err != nil {
		return nil, fmt.Errorf("client: Config.GatewayJWKS: %w", err)
	}
	if len(sig) == 0 || len(enc) == 0 {
		return nil, errors.New("client: Config.GatewayJWKS has no signing or no encryption key")
	}
	sk, err := envelope.NewSigningKey(cfg.SigningKey, "")
	if err != nil {
		return nil, fmt.Errorf("client: Config.SigningKey: %w", err)
	}
	sealer, err := envelope.NewSealer(envelope.SealerConfig{Issuer: cfg.Authority, Key: sk, Clock: cfg.Clock})
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	var dks []envelope.DecryptionKey
	for i, k := range cfg.DecryptionKeys {
		dk, err := envelope.NewDecryptionKey(k, "")
		if err != nil {
			return nil, fmt.Errorf("client: Config.DecryptionKeys[%d]: %w", i, err)
		}
		dks = append(dks, dk)
	}
	replay, err := envelope.NewMemoryReplayCache(envelope.MemoryReplayCacheConfig{Clock: cfg.Clock})
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	opener, err := envelope.NewOpener(envelope.OpenerConfig{DecryptionKeys: dks, Senders: gatewayKeys(sig),
		Replay: replay, Clock: cfg.Clock})
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	tr := &http.Transport{
		TLSClientConfig:     &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: cfg.RootCAs, Certificates: []tls.Certificate{cfg.TLSCertificate}},
		ForceAttemptHTTP2:   true,
		TLSHandshakeTimeout: 10 * time.Second,
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     90 * time.Second,
	}
	return &Client{cfg: cfg, base: base, http: &http.Client{Transport: tr}, sealer: sealer, opener: opener,
		gatewayEnc: enc[0], contentTy: ct}, nil
}

// Authority is the authority id the client acts for.
func (c *Client) Authority() string { return c.cfg.Authority }

// Close releases idle connections.
func (c *Client) Close() { c.http.CloseIdleConnections() }

// gatewayKeys pins the gateway's published signing keys.
type gatewayKeys []envelope.VerificationKey

// VerificationKeys implements envelope.SenderKeys: only the gateway signs.
func (k gatewayKeys) VerificationKeys(_ context.Context, id string) ([]envelope.VerificationKey, error) {
	if id != GatewayID {
		return nil, nil
	}
	return k, nil
}

// FetchJWKS reads the gateway's JWK Set from baseURL (no client
// certificate), verifying its TLS certificate with roots. In production,
// compare it with the keys the operator publishes before pinning it.
func FetchJWKS(ctx context.Context, baseURL string, roots *x509.CertPool) ([]byte, error) {
	hc := &http.Client{Timeout: requestTimeout, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots}}}
	defer hc.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(baseURL, "/")+"/.well-known/jwks.json", nil)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("client: JWKS: %w", err)
	}
	defer resp.Body.Close()
	b, err := readBounded(resp.Body, maxJWKSBytes)
	if err != nil {
		return nil, fmt.Errorf("client: JWKS: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, problemOf(resp, b)
	}
	if _, _, err := envelope.ParseJWKS(b); err != nil {
		return nil, fmt.Errorf("client: JWKS: %w", err)
	}
	return b, nil
}

// Document is what Submit sends: a document in the authority's own format.
type Document struct {
	// Kind is registration or withdrawal (JSON formats; the XML formats
	// say it in the document itself).
	Kind Kind
	// Payload is the document: the JSON document, or the unsigned XML
	// document (Submit signs it) whose signed header names the authority
	// as sender, the gateway as recipient and MessageID.
	Payload []byte
	// MessageID is the message id, a lower-case UUID: required for the
	// XML formats (it must be the header's), random when empty otherwise.
	MessageID string
}

// Submit signs, seals and posts doc, and verifies the gateway's receipt.
// An answer of 202 (accepted) or 200 (already received: the identical
// message was committed before) returns the Answer; any other is a *Problem.
func (c *Client) Submit(ctx context.Context, doc Document) (*Answer, error) {
	sealed, err := c.Seal(ctx, doc)
	if err != nil {
		return nil, err
	}
	return c.SubmitSealed(ctx, sealed)
}

// Seal signs and seals doc to the gateway without sending it (to resend
// the identical bytes after a dropped connection, pass the result to
// SubmitSealed again).
func (c *Client) Seal(ctx context.Context, doc Document) (*envelope.Sealed, error) {
	m := envelope.Message{ContentType: c.contentTy, Recipient: GatewayID, To: c.gatewayEnc, ID: doc.MessageID}
	if c.cfg.Format == FormatRegion {
		if doc.Kind == "" {
			doc.Kind = KindRegistration
		}
		m.Kind, m.Payload = doc.Kind, doc.Payload
		s, err := c.sealer.Seal(ctx, m)
		if err != nil {
			return nil, fmt.Errorf("client: seal: %w", err)
		}
		return s, nil
	}
	if !envelope.ValidMessageID(doc.MessageID) {
		return nil, errors.New("client: an XML document needs its header's MessageID (a lower-case UUID)")
	}
	signed, err := xmlsig.SignDocument(doc.Payload, c.cfg.SigningKey, c.cfg.SigningCertificate)
	if err != nil {
		return nil, fmt.Errorf("client: XML-DSig: %w", err)
	}
	m.Payload = signed
	s, err := c.sealer.SealXML(ctx, m)
	if err != nil {
		return nil, fmt.Errorf("client: seal: %w", err)
	}
	return s, nil
}

// Status is what became of a submission.
type Status string

// Statuses of an Answer.
const (
	// StatusAccepted: committed now (202).
	StatusAccepted Status = "accepted"
	// StatusAlreadyReceived: the identical message was committed before
	// (200); the receipt is the original one.
	StatusAlreadyReceived Status = "already_received"
)

// ItemStatus is what became of one record of a submission.
type ItemStatus string

// Item statuses.
const (
	// ItemAccepted: the record was stored and routed.
	ItemAccepted ItemStatus = "accepted"
	// ItemAlreadyReceived: the record id and version were stored before
	// with the same content (Item.AlreadyIn); it is delivered no second time.
	ItemAlreadyReceived ItemStatus = "already_received"
	// ItemRejected: the record was refused (Item.Problems).
	ItemRejected ItemStatus = "rejected"
)

// Item is the result for one record of a submission.
type Item struct {
	// Index is the 0-based position of the record in the document.
	Index int `json:"index"`
	// RecordID and Version identify the record, when it could be read.
	RecordID string `json:"record_id,omitempty"`
	// Version is the record's version.
	Version int `json:"version,omitempty"`
	// Status is accepted, already_received or rejected.
	Status ItemStatus `json:"status"`
	// AlreadyIn is the message id that first carried the record.
	AlreadyIn string `json:"already_in,omitempty"`
	// Problems say why a rejected record was refused.
	Problems []FieldProblem `json:"problems,omitempty"`
}

// FieldProblem is one broken rule of a document, with its path.
type FieldProblem = record.Problem

// Answer is the gateway's answer to a submission, its receipt verified.
type Answer struct {
	// HTTPStatus is 202 (accepted) or 200 (already received).
	HTTPStatus int `json:"-"`
	// Status is accepted or already_received.
	Status Status `json:"status"`
	// MessageID is the submission's message id.
	MessageID string `json:"message_id"`
	// PayloadDigest is the SHA-256 of the signed bytes, as the gateway says.
	PayloadDigest string `json:"payload_digest"`
	// Items are the per-record results, in document order.
	Items []Item `json:"items"`
	// ReceiptToken is the gateway's signed receipt, a compact JWS: keep it
	// as evidence.
	ReceiptToken string `json:"receipt"`
	// Receipt is ReceiptToken verified with the gateway's pinned keys.
	Receipt *envelope.ReceiptV2 `json:"-"`
}

// SubmitSealed posts a sealed message and verifies the receipt against it.
func (c *Client) SubmitSealed(ctx context.Context, sealed *envelope.Sealed) (*Answer, error) {
	status, b, err := c.do(ctx, http.MethodPost, "/v1/messages", sealed.Envelope, maxAnswerBytes, requestTimeout)
	if err != nil {
		return nil, err
	}
	if status != http.StatusAccepted && status != http.StatusOK {
		return nil, fmt.Errorf("client: submit: unexpected status %d", status)
	}
	var a Answer
	if err := json.Unmarshal(b, &a); err != nil {
		return nil, fmt.Errorf("client: submit: the answer is not JSON: %w", err)
	}
	a.HTTPStatus = status
	rc, err := c.opener.VerifyReceiptV2(ctx, []byte(a.ReceiptToken), GatewayID)
	if err != nil {
		return nil, fmt.Errorf("client: submit: the receipt does not verify: %w", err)
	}
	switch {
	case rc.MessageID != sealed.Header.ID || a.MessageID != sealed.Header.ID:
		return nil, fmt.Errorf("client: submit: the receipt names message %s, not %s", rc.MessageID, sealed.Header.ID)
	case rc.PayloadDigest != sealed.Digest:
		return nil, errors.New("client: submit: the receipt names another payload digest than the message sent")
	case rc.Sender != c.cfg.Authority:
		return nil, fmt.Errorf("client: submit: the receipt names sender %s", rc.Sender)
	case len(rc.Items) != len(a.Items):
		return nil, fmt.Errorf("client: submit: the receipt has %d items, the answer %d", len(rc.Items), len(a.Items))
	}
	for i, it := range rc.Items {
		if ai := a.Items[i]; ai.Index != it.Index || ai.RecordID != it.RecordID || ai.Version != it.Version || string(ai.Status) != string(it.Status) {
			return nil, fmt.Errorf("client: submit: item %d of the answer differs from the signed receipt", i)
		}
	}
	if (status == http.StatusOK) != (a.Status == StatusAlreadyReceived) {
		return nil, fmt.Errorf("client: submit: status %d with %q", status, a.Status)
	}
	a.Receipt = rc
	return &a, nil
}

// Delivery is one pulled mailbox message, still sealed.
type Delivery struct {
	// MailboxID is the mailbox message's stable id: file it once however
	// often it arrives.
	MailboxID string `json:"mailbox_id"`
	// RecordID and Version identify the record the view is of.
	RecordID string `json:"record_id"`
	// Version is the record's version.
	Version int `json:"version"`
	// Kind is registration or withdrawal.
	Kind string `json:"kind"`
	// Deliveries counts how often it was delivered, this time included.
	Deliveries int `json:"deliveries"`
	// LeaseUntil is when it is delivered again without an ack.
	LeaseUntil time.Time `json:"lease_until"`
	// Message is the sealed message (a compact JWE), valid for minutes.
	Message string `json:"message"`
}

// Pull leases up to max (1 to 100) messages of the authority's own
// mailbox, waiting up to wait (whole seconds, at most 30) for the first.
func (c *Client) Pull(ctx context.Context, max int, wait time.Duration) ([]Delivery, error) {
	if max < 1 || max > 100 || wait < 0 || wait > maxWait {
		return nil, errors.New("client: pull: max is 1 to 100, wait 0 to 30 seconds")
	}
	path := "/v1/mailbox?max=" + strconv.Itoa(max) + "&wait=" + strconv.Itoa(int(wait/time.Second))
	status, b, err := c.do(ctx, http.MethodGet, path, nil, maxPullBytes, wait+requestTimeout)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("client: pull: unexpected status %d", status)
	}
	var ans struct {
		Messages []Delivery `json:"messages"`
	}
	if err := json.Unmarshal(b, &ans); err != nil {
		return nil, fmt.Errorf("client: pull: the answer is not JSON: %w", err)
	}
	return ans.Messages, nil
}

// Opened is a delivery whose signature verified and which was decrypted.
type Opened struct {
	// Delivery is what was pulled.
	Delivery Delivery
	// Kind is registration or withdrawal, from the signed header.
	Kind Kind
	// Payload is the document in the authority's own format.
	Payload []byte
	// Header is the gateway's signed metadata (message id, mailbox id,
	// provenance).
	Header envelope.Header
	// Digest is the SHA-256 of the gateway's signed bytes: the receipt names it.
	Digest envelope.Digest
}

// Open verifies the gateway's signature on d, decrypts it, and checks that
// it is addressed to this authority, in its format, under d's mailbox id.
func (c *Client) Open(ctx context.Context, d Delivery) (*Opened, error) {
	op, err := c.opener.Open(ctx, []byte(d.Message), envelope.Expect{Sender: GatewayID, Recipient: c.cfg.Authority,
		Kinds: []envelope.Kind{envelope.KindRegistration, envelope.KindWithdrawal}, ContentType: c.contentTy})
	if err != nil {
		return nil, fmt.Errorf("client: open delivery %s: %w", d.MailboxID, err)
	}
	if op.Header.MailboxID != d.MailboxID {
		return nil, fmt.Errorf("client: open delivery %s: the signed mailbox id is %s", d.MailboxID, op.Header.MailboxID)
	}
	if string(op.Header.Kind) != d.Kind {
		return nil, fmt.Errorf("client: open delivery %s: the signed kind is %s, the listing says %s", d.MailboxID, op.Header.Kind, d.Kind)
	}
	return &Opened{Delivery: d, Kind: op.Header.Kind, Payload: op.Payload, Header: op.Header, Digest: op.Digest}, nil
}

// Ack acknowledges an opened delivery with the authority's signed
// receipt (outcome received): it is never delivered again.
func (c *Client) Ack(ctx context.Context, o *Opened) error {
	tok, _, err := c.sealer.SignReceipt(ctx, envelope.Receipt{MessageID: o.Header.ID, PayloadDigest: o.Digest,
		Sender: GatewayID, Recipient: c.cfg.Authority, Outcome: envelope.OutcomeReceived})
	if err != nil {
		return fmt.Errorf("client: ack: %w", err)
	}
	status, _, err := c.do(ctx, http.MethodPost, "/v1/mailbox/"+url.PathEscape(o.Delivery.MailboxID)+"/ack", tok, maxAnswerBytes, requestTimeout)
	if err != nil {
		return err
	}
	if status != http.StatusNoContent {
		return fmt.Errorf("client: ack: unexpected status %d", status)
	}
	return nil
}

// do sends one request and returns a 2xx answer's body, or a *Problem.
func (c *Client) do(ctx context.Context, method, path string, body []byte, limit int64, timeout time.Duration) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base.String()+path, rd)
	if err != nil {
		return 0, nil, fmt.Errorf("client: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/jose")
	}
	req.Header.Set("Accept", "application/json, application/problem+json")
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("client: %s %s: %w", method, strings.SplitN(path, "?", 2)[0], err)
	}
	defer resp.Body.Close()
	b, err := readBounded(resp.Body, limit)
	if err != nil {
		return 0, nil, fmt.Errorf("client: %s %s: %w", method, strings.SplitN(path, "?", 2)[0], err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, nil, problemOf(resp, b)
	}
	return resp.StatusCode, b, nil
}

// readBounded reads at most limit bytes and refuses more.
func readBounded(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("the answer exceeds %d bytes", limit)
	}
	return b, nil
}
