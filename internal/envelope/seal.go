package envelope

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/psykosocial/exchange/internal/clock"
)

// SealerConfig configures a Sealer.
type SealerConfig struct {
	// Issuer is the sealing authority's id (iss), e.g. "gateway" or "region:1081".
	Issuer string
	// Key signs messages and receipts. Required for Seal and SignReceipt;
	// SealXML does not sign (the XML carries its own signature).
	Key *SigningKey
	// Lifetime is exp - iat of sealed messages; 0 means 2 minutes. At most MaxLifetime.
	Lifetime time.Duration
	// Clock gives iat (and exp) of sealed messages and receipts' times.
	// Required: NewSealer refuses a nil Clock.
	Clock clock.Clock
	// Rand is the source of message ids; crypto/rand when nil. (Keys and
	// nonces always come from crypto/rand inside go-jose and crypto.)
	Rand io.Reader
}

// Sealer seals messages from one authority. It is safe for concurrent use.
type Sealer struct {
	issuer   string
	key      *SigningKey
	lifetime time.Duration
	clock    clock.Clock
	rand     io.Reader
}

// NewSealer validates cfg and returns a Sealer.
func NewSealer(cfg SealerConfig) (*Sealer, error) {
	if !ValidAuthorityID(cfg.Issuer) {
		return nil, errors.New("envelope: SealerConfig.Issuer is not an authority id")
	}
	if cfg.Lifetime < 0 || cfg.Lifetime > MaxLifetime {
		return nil, fmt.Errorf("envelope: lifetime %s is not within (0, %s]", cfg.Lifetime, MaxLifetime)
	}
	if cfg.Clock == nil {
		return nil, errors.New("envelope: SealerConfig.Clock is nil")
	}
	s := &Sealer{issuer: cfg.Issuer, key: cfg.Key, lifetime: cfg.Lifetime, clock: cfg.Clock, rand: cfg.Rand}
	if s.lifetime == 0 {
		s.lifetime = defaultLifetime
	}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	return s, nil
}

// Message is what Seal and SealXML seal.
type Message struct {
	// Kind is registration or withdrawal (Seal); empty for SealXML.
	Kind Kind
	// ContentType is the payload's format: a +json type for Seal (e.g.
	// ContentTypeRegion), a +xml type for SealXML.
	ContentType string
	// Recipient is the recipient's authority id (aud).
	Recipient string
	// To is the recipient's encryption key.
	To EncryptionKey
	// Payload is the document, sealed unchanged.
	Payload []byte
	// ID is the message id (jti); a random UUID when empty.
	ID string
	// Provenance names the original message (Seal by the gateway only).
	Provenance *Provenance
	// MailboxID is the stable mailbox message id of a delivery (Seal by
	// the gateway only), a lower-case UUID, signed as mailbox_id.
	MailboxID string
}

// Sealed is a sealed message.
type Sealed struct {
	// Envelope is the compact JWE to send.
	Envelope []byte
	// Header is the metadata sealed into it.
	Header Header
	// Signed is the compact JWS inside (Seal); empty for SealXML.
	Signed string
	// Digest is the SHA-256 of the signed bytes: of Signed (Seal), or of
	// the XML payload (SealXML).
	Digest Digest
}

// Seal signs m.Payload as a compact JWS with the message metadata in its
// protected header and encrypts it to m.To in a compact JWE whose protected
// header repeats iss and aud (see the package documentation).
func (s *Sealer) Seal(ctx context.Context, m Message) (*Sealed, error) {
	if s.key == nil {
		return nil, errors.New("envelope: Seal needs SealerConfig.Key")
	}
	typ := m.Kind.Typ()
	if m.Kind != KindRegistration && m.Kind != KindWithdrawal {
		return nil, fmt.Errorf("envelope: Seal: kind %q is not registration or withdrawal", m.Kind)
	}
	if !reJSONType.MatchString(m.ContentType) && !(s.issuer == GatewayID && reXMLType.MatchString(m.ContentType)) {
		return nil, fmt.Errorf("envelope: Seal: content type %q is not a +json document type (the gateway also signs +xml deliveries)", m.ContentType)
	}
	if m.MailboxID != "" && (s.issuer != GatewayID || !ValidMessageID(m.MailboxID)) {
		return nil, errors.New("envelope: Seal: a mailbox id is a lower-case UUID sent by the gateway only")
	}
	if m.Provenance != nil {
		if s.issuer != GatewayID {
			return nil, fmt.Errorf("envelope: Seal: %w: only the gateway sends provenance", ErrProvenance)
		}
		if err := m.Provenance.check(); err != nil {
			return nil, fmt.Errorf("envelope: Seal: %w: incomplete or malformed", err)
		}
	}
	h, err := s.header(m)
	if err != nil {
		return nil, err
	}
	h.Kind, h.KeyID = m.Kind, s.key.kid
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	opts := (&jose.SignerOptions{}).
		WithType(jose.ContentType(typ)).
		WithContentType(jose.ContentType(m.ContentType)).
		WithHeader("iss", h.Issuer).
		WithHeader("aud", h.Audience).
		WithHeader("iat", h.IssuedAt.Unix()).
		WithHeader("exp", h.Expires.Unix()).
		WithHeader("jti", h.ID)
	if p := m.Provenance; p != nil {
		opts.WithHeader(paramOrigIssuer, p.Issuer).
			WithHeader(paramOrigID, p.ID).
			WithHeader(paramOrigDigest, p.Digest.String())
		h.Provenance = &Provenance{Issuer: p.Issuer, ID: p.ID, Digest: p.Digest}
	}
	if m.MailboxID != "" {
		opts.WithHeader(paramMailboxID, m.MailboxID)
		h.MailboxID = m.MailboxID
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: s.key.alg, Key: s.key.signer}, opts)
	if err != nil {
		return nil, fmt.Errorf("envelope: Seal: signer: %w", err)
	}
	obj, err := signer.Sign(m.Payload)
	if err != nil {
		return nil, fmt.Errorf("envelope: Seal: sign: %w", err)
	}
	signed, err := obj.CompactSerialize()
	if err != nil {
		return nil, fmt.Errorf("envelope: Seal: serialize JWS: %w", err)
	}
	env, err := encrypt([]byte(signed), m.To, ContentTypeJOSE, h, false)
	if err != nil {
		return nil, err
	}
	return &Sealed{Envelope: env, Header: *h, Signed: signed, Digest: DigestOf([]byte(signed))}, nil
}

// SealXML encrypts a signed XML document to m.To in a compact JWE whose
// protected header carries cty (m.ContentType), iss, aud, iat, exp and jti.
// It does not sign: the document carries its own XML-DSig signature, whose
// signed header must name the same sender, recipient and message id.
func (s *Sealer) SealXML(ctx context.Context, m Message) (*Sealed, error) {
	if m.Kind != "" || m.Provenance != nil || m.MailboxID != "" {
		return nil, errors.New("envelope: SealXML: the kind and the provenance of XML travel in its signed header, not in the envelope")
	}
	if !reXMLType.MatchString(m.ContentType) {
		return nil, fmt.Errorf("envelope: SealXML: content type %q is not a +xml document type", m.ContentType)
	}
	h, err := s.header(m)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	env, err := encrypt(m.Payload, m.To, m.ContentType, h, true)
	if err != nil {
		return nil, err
	}
	return &Sealed{Envelope: env, Header: *h, Digest: DigestOf(m.Payload)}, nil
}

// header checks what Seal and SealXML share and fills the metadata.
func (s *Sealer) header(m Message) (*Header, error) {
	if !ValidAuthorityID(m.Recipient) {
		return nil, errors.New("envelope: Message.Recipient is not an authority id")
	}
	if err := m.To.check(); err != nil {
		return nil, fmt.Errorf("envelope: Message.To: %w", err)
	}
	if len(m.Payload) == 0 || len(m.Payload) > MaxPayloadBytes {
		return nil, fmt.Errorf("envelope: the payload must have 1 to %d bytes", MaxPayloadBytes)
	}
	id := m.ID
	if id == "" {
		var err error
		if id, err = NewMessageID(s.rand); err != nil {
			return nil, err
		}
	} else if !ValidMessageID(id) {
		return nil, errors.New("envelope: Message.ID is not a lower-case UUID")
	}
	iat := s.clock.Now().UTC().Truncate(time.Second)
	return &Header{
		ContentType: m.ContentType,
		Issuer:      s.issuer,
		Audience:    m.Recipient,
		IssuedAt:    iat,
		Expires:     iat.Add(s.lifetime),
		ID:          id,
	}, nil
}

// encrypt makes the compact JWE of plaintext to the key to.
func encrypt(plaintext []byte, to EncryptionKey, cty string, h *Header, withTimes bool) ([]byte, error) {
	opts := (&jose.EncrypterOptions{}).
		WithContentType(jose.ContentType(cty)).
		WithHeader("iss", h.Issuer).
		WithHeader("aud", h.Audience)
	if withTimes {
		opts.WithHeader("iat", h.IssuedAt.Unix()).
			WithHeader("exp", h.Expires.Unix()).
			WithHeader("jti", h.ID)
	}
	enc, err := jose.NewEncrypter(jose.A256GCM, jose.Recipient{Algorithm: to.Algorithm, Key: to.Key, KeyID: to.KeyID}, opts)
	if err != nil {
		return nil, fmt.Errorf("envelope: encrypter: %w", err)
	}
	obj, err := enc.Encrypt(plaintext)
	if err != nil {
		return nil, fmt.Errorf("envelope: encrypt: %w", err)
	}
	s, err := obj.CompactSerialize()
	if err != nil {
		return nil, fmt.Errorf("envelope: serialize JWE: %w", err)
	}
	if len(s) > MaxEnvelopeBytes {
		return nil, fmt.Errorf("envelope: %w: the envelope would be %d bytes, recipients accept %d", ErrTooLarge, len(s), MaxEnvelopeBytes)
	}
	return []byte(s), nil
}
