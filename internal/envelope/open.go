package envelope

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/psykosocial/exchange/internal/clock"
)

// SenderKeys gives the pinned verification keys of an authority: the trust
// store, asked for the sender that mTLS authenticated. A kid in a message
// only selects among the keys returned here.
type SenderKeys interface {
	// VerificationKeys returns the keys that may sign for authorityID. An
	// unknown authority has none (an empty slice and a nil error); an error
	// means the store itself failed.
	VerificationKeys(ctx context.Context, authorityID string) ([]VerificationKey, error)
}

// ReplayCache remembers the message ids (jti) of each issuer.
type ReplayCache interface {
	// Seen records issuer's jti and reports whether it was already
	// recorded. An implementation remembers it at least until exp plus
	// the clock-skew leeway of the Opener, and records atomically: of two
	// concurrent calls with the same id, one returns false.
	Seen(ctx context.Context, issuer, jti string, exp time.Time) (bool, error)
}

// OpenerConfig configures an Opener. Build a new Opener when the keys rotate;
// share the ReplayCache between them.
type OpenerConfig struct {
	// DecryptionKeys are the recipient's own keys, the current first, then
	// previous ones still within rollover (at most 8). A JWE's kid, which
	// is required, picks one of them; no message is tried against each.
	DecryptionKeys []DecryptionKey
	// Senders gives the senders' pinned verification keys. Required for
	// Open and VerifyReceipt; OpenXML does not use it.
	Senders SenderKeys
	// Replay remembers message ids. Required for Open and OpenXML unless
	// ReplayByCaller is set.
	Replay ReplayCache
	// ReplayByCaller says that the caller, not the Opener, remembers the
	// message ids: Open and OpenXML then check everything but the replay
	// and record nothing, and the caller must refuse a used (issuer,
	// message id) itself before it acts on the message. The gateway sets
	// it: its store records the message id in the same transaction that
	// commits the message (store.Store.Commit), so a crash between opening
	// and committing never makes an honest retry look like a replay, and
	// the memory is shared by every replica and lasts until the signed
	// expiry. Replay must be nil when it is set.
	ReplayByCaller bool
	// Leeway is the tolerated clock skew; 0 means DefaultLeeway. At most 5 minutes.
	Leeway time.Duration
	// Clock is the time iat and exp are judged at. Required: NewOpener
	// refuses a nil Clock.
	Clock clock.Clock
}

// Opener opens envelopes and verifies receipts addressed to one recipient
// (or to several, when the caller's Expect says which). It is safe for
// concurrent use.
type Opener struct {
	keys     []DecryptionKey
	senders  SenderKeys
	replay   ReplayCache
	byCaller bool
	leeway   time.Duration
	clock    clock.Clock
}

// NewOpener validates cfg and returns an Opener.
func NewOpener(cfg OpenerConfig) (*Opener, error) {
	if len(cfg.DecryptionKeys) > maxDecryptionKeys {
		return nil, fmt.Errorf("envelope: %d decryption keys, at most %d", len(cfg.DecryptionKeys), maxDecryptionKeys)
	}
	seen := map[string]bool{}
	for i, k := range cfg.DecryptionKeys {
		if k.key == nil {
			return nil, fmt.Errorf("envelope: decryption key %d was not made by NewDecryptionKey", i)
		}
		if seen[k.kid] {
			return nil, fmt.Errorf("envelope: two decryption keys have the kid %q", k.kid)
		}
		seen[k.kid] = true
	}
	if cfg.Leeway < 0 || cfg.Leeway > maxLeeway {
		return nil, fmt.Errorf("envelope: leeway %s is not within [0, %s]", cfg.Leeway, maxLeeway)
	}
	if cfg.Clock == nil {
		return nil, errors.New("envelope: OpenerConfig.Clock is nil")
	}
	if cfg.ReplayByCaller && cfg.Replay != nil {
		return nil, errors.New("envelope: OpenerConfig.Replay must be nil with ReplayByCaller")
	}
	o := &Opener{
		keys:     slices.Clone(cfg.DecryptionKeys),
		senders:  cfg.Senders,
		replay:   cfg.Replay,
		byCaller: cfg.ReplayByCaller,
		leeway:   cfg.Leeway,
		clock:    cfg.Clock,
	}
	if o.leeway == 0 {
		o.leeway = DefaultLeeway
	}
	return o, nil
}

// Expect is what the caller knows before it opens a message: who sent it
// (the mTLS identity), whom it is for (the endpoint or mailbox), which
// kinds the endpoint takes and the sender's format.
type Expect struct {
	// Sender is the authenticated sender's authority id.
	Sender string
	// Recipient is the authority id the message must be addressed to.
	Recipient string
	// Kinds are the message kinds accepted (Open only; registration and/or
	// withdrawal). OpenXML leaves the kind to the signed XML.
	Kinds []Kind
	// ContentType is the sender's format, e.g. ContentTypeRegion.
	ContentType string
}

func (e Expect) check(xml bool) error {
	switch {
	case !ValidAuthorityID(e.Sender), !ValidAuthorityID(e.Recipient):
		return errors.New("envelope: Expect needs the sender's and the recipient's authority ids")
	case xml && !reXMLType.MatchString(e.ContentType),
		!xml && !reJSONType.MatchString(e.ContentType) && !(e.Sender == GatewayID && reXMLType.MatchString(e.ContentType)):
		return errors.New("envelope: Expect.ContentType is not a document content type of the right family")
	case xml && len(e.Kinds) != 0:
		return errors.New("envelope: OpenXML takes no Kinds: the signed XML says the kind")
	case !xml && len(e.Kinds) == 0:
		return errors.New("envelope: Expect.Kinds is empty")
	}
	for _, k := range e.Kinds {
		if k != KindRegistration && k != KindWithdrawal {
			return fmt.Errorf("envelope: Expect.Kinds: %q is not a message kind", k)
		}
	}
	return nil
}

// Opened is a message that passed every check of Open.
type Opened struct {
	// Payload is the sender's document, exactly as signed.
	Payload []byte
	// Sender is the verified sender's authority id: the signer, the JWE
	// and JWS iss, and the authenticated sender, all the same.
	Sender string
	// Header is the verified metadata from the JWS protected header.
	Header Header
	// Signed is the compact JWS: the sender's signed bytes, kept as evidence.
	Signed string
	// Digest is the SHA-256 of Signed: the payload digest of receipts and
	// the journal.
	Digest Digest
}

// OpenedXML is an XML message that passed every check of OpenXML. Its
// Header comes from the JWE, which the sender did not sign: the caller
// must verify the document's XML-DSig signature with the sender's pinned
// certificate and refuse the message unless the signed header names the
// same sender, recipient and message id.
type OpenedXML struct {
	// Payload is the signed XML document as received.
	Payload []byte
	// Header is the metadata from the JWE protected header.
	Header Header
	// Digest is the SHA-256 of Payload (the signed XML bytes).
	Digest Digest
}

// Open decrypts and verifies a JSON authority's envelope, applying the
// checks of SECURITY.md in this order, and refuses it with an *OpenError
// naming the first that fails:
//
//   - size: at most MaxEnvelopeBytes;
//   - the JWE protected header, decoded strictly (no duplicate, case
//     variant or unknown parameter; no zip, crit or key parameter): alg is
//     ECDH-ES+A256KW or RSA-OAEP-256, enc is A256GCM, cty is "JOSE", iss is
//     the expected sender and aud the expected recipient;
//   - the JWE has a kid, and it names one of the recipient's own keys, of
//     the JWE's alg; decrypt with that key alone;
//   - the JWS protected header, decoded strictly the same way, with every
//     required parameter; its alg is the algorithm of the sender's pinned
//     key that its kid selects; the signature verifies with that key;
//   - typ is one of the expected kinds; cty is the sender's format;
//   - iss and the one aud equal the expected ones and the JWE's;
//   - iat not later than now + leeway; exp later than now - leeway;
//     0 < exp - iat <= MaxLifetime; jti a lower-case UUID; provenance
//     complete and only from the gateway;
//   - the issuer's jti has not been seen before.
//
// A failure of the trust store or the replay cache is wrapped with
// ErrUnavailable. An invalid want is a plain error (a bug in the caller),
// as is a cancelled ctx.
func (o *Opener) Open(ctx context.Context, envelope []byte, want Expect) (*Opened, error) {
	if err := want.check(false); err != nil {
		return nil, err
	}
	if o.senders == nil || (o.replay == nil && !o.byCaller) {
		return nil, errors.New("envelope: Open needs OpenerConfig.Senders and Replay (or ReplayByCaller)")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	obj, outer, oerr := o.parseJWE(envelope, false)
	if oerr != nil {
		return nil, oerr
	}
	if outer.Cty != ContentTypeJOSE {
		return nil, refusef(CheckHeader, ErrContentType, "the JWE cty must be "+ContentTypeJOSE)
	}
	if outer.Iss != want.Sender {
		return nil, refusef(CheckIssuer, ErrIssuer, "the JWE iss is not the authenticated sender")
	}
	if outer.Aud != want.Recipient {
		return nil, refusef(CheckAudience, ErrAudience, "the JWE aud is not this recipient")
	}
	plaintext, oerr := o.decrypt(obj, outer)
	if oerr != nil {
		return nil, oerr
	}
	signed := string(plaintext)
	h, payload, oerr := o.verifyJWS(ctx, signed, want.Sender, false)
	if oerr != nil {
		return nil, oerr
	}

	kind, _ := kindOfTyp(h.Typ)
	if !slices.Contains(want.Kinds, kind) {
		return nil, refusef(CheckTyp, ErrTyp, "typ is not an expected message kind")
	}
	if h.Cty != want.ContentType {
		return nil, refusef(CheckHeader, ErrContentType, "cty is not the sender's format")
	}
	if h.Iss != want.Sender || h.Iss != outer.Iss {
		return nil, refusef(CheckIssuer, ErrIssuer, "the signed iss is not the authenticated sender")
	}
	if h.Aud != want.Recipient || h.Aud != outer.Aud {
		return nil, refusef(CheckAudience, ErrAudience, "the signed aud is not this recipient")
	}
	iat, oerr := numericDate(h.Iat, "iat")
	if oerr != nil {
		return nil, oerr
	}
	expires, oerr := numericDate(h.Exp, "exp")
	if oerr != nil {
		return nil, oerr
	}
	if oerr := checkTimes(iat, expires, o.clock.Now(), o.leeway); oerr != nil {
		return nil, oerr
	}
	if !ValidMessageID(h.Jti) {
		return nil, refusef(CheckID, ErrMessageID, "jti is not a lower-case UUID")
	}
	prov, oerr := provenance(h)
	if oerr != nil {
		return nil, oerr
	}
	if h.MailboxID != "" && (h.Iss != GatewayID || !ValidMessageID(h.MailboxID)) {
		return nil, refusef(CheckHeader, ErrHeader, "mailbox_id is a lower-case UUID sent by the gateway only")
	}
	if oerr := o.checkReplay(ctx, h.Iss, h.Jti, expires); oerr != nil {
		return nil, oerr
	}
	return &Opened{
		Payload: payload,
		Sender:  h.Iss,
		Header: Header{
			Kind: kind, ContentType: h.Cty, KeyID: h.Kid, Issuer: h.Iss, Audience: h.Aud,
			IssuedAt: iat, Expires: expires, ID: h.Jti, Provenance: prov, MailboxID: h.MailboxID,
		},
		Signed: signed,
		Digest: DigestOf(plaintext),
	}, nil
}

// OpenXML decrypts an XML authority's envelope (a JWE of the signed XML
// document, no JWS layer). It applies the size, JWE header, decryption,
// iat/exp and jti checks of Open to the JWE protected header (whose cty
// must be want.ContentType) and the replay check to its jti. The signature
// is the caller's to verify: see OpenedXML.
func (o *Opener) OpenXML(ctx context.Context, envelope []byte, want Expect) (*OpenedXML, error) {
	if err := want.check(true); err != nil {
		return nil, err
	}
	if o.replay == nil && !o.byCaller {
		return nil, errors.New("envelope: OpenXML needs OpenerConfig.Replay (or ReplayByCaller)")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	obj, h, oerr := o.parseJWE(envelope, true)
	if oerr != nil {
		return nil, oerr
	}
	if h.Cty != want.ContentType {
		return nil, refusef(CheckHeader, ErrContentType, "the JWE cty is not the sender's format")
	}
	if h.Iss != want.Sender {
		return nil, refusef(CheckIssuer, ErrIssuer, "the JWE iss is not the authenticated sender")
	}
	if h.Aud != want.Recipient {
		return nil, refusef(CheckAudience, ErrAudience, "the JWE aud is not this recipient")
	}
	iat, oerr := numericDate(h.Iat, "iat")
	if oerr != nil {
		return nil, oerr
	}
	expires, oerr := numericDate(h.Exp, "exp")
	if oerr != nil {
		return nil, oerr
	}
	if oerr := checkTimes(iat, expires, o.clock.Now(), o.leeway); oerr != nil {
		return nil, oerr
	}
	if !ValidMessageID(h.Jti) {
		return nil, refusef(CheckID, ErrMessageID, "jti is not a lower-case UUID")
	}
	plaintext, oerr := o.decrypt(obj, h)
	if oerr != nil {
		return nil, oerr
	}
	if oerr := o.checkReplay(ctx, h.Iss, h.Jti, expires); oerr != nil {
		return nil, oerr
	}
	return &OpenedXML{
		Payload: plaintext,
		Header: Header{
			ContentType: h.Cty, Issuer: h.Iss, Audience: h.Aud,
			IssuedAt: iat, Expires: expires, ID: h.Jti,
		},
		Digest: DigestOf(plaintext),
	}, nil
}

// parseJWE checks the size, decodes the protected header strictly, applies
// the allow-lists and hands the envelope to go-jose with the same lists.
func (o *Opener) parseJWE(envelope []byte, xml bool) (*jose.JSONWebEncryption, *jweHeader, *OpenError) {
	if len(envelope) == 0 {
		return nil, nil, refusef(CheckSize, ErrMalformed, "empty envelope")
	}
	if len(envelope) > MaxEnvelopeBytes {
		return nil, nil, refusef(CheckSize, ErrTooLarge, fmt.Sprintf("envelope larger than %d bytes", MaxEnvelopeBytes))
	}
	s := string(envelope)
	parts, ok := splitCompact(s, 5)
	if !ok {
		return nil, nil, refusef(CheckFormat, ErrMalformed, "a compact JWE has five parts")
	}
	var h jweHeader
	if oerr := decodeHeader(parts[0], &h); oerr != nil {
		return nil, nil, oerr
	}
	alg := jose.KeyAlgorithm(h.Alg)
	if !slices.Contains(keyAlgorithms, alg) {
		return nil, nil, refusef(CheckAlgorithm, ErrAlgorithm, "JWE alg "+quote(h.Alg)+" is not allowed")
	}
	if !slices.Contains(contentEncryption, jose.ContentEncryption(h.Enc)) {
		return nil, nil, refusef(CheckAlgorithm, ErrAlgorithm, "JWE enc "+quote(h.Enc)+" is not allowed")
	}
	if m := missing("kid", h.Kid, "cty", h.Cty, "iss", h.Iss, "aud", h.Aud); m != "" {
		return nil, nil, refusef(CheckHeader, ErrHeader, "the JWE lacks "+m)
	}
	if alg != jose.ECDH_ES_A256KW && (h.Epk != nil || h.Apu != "" || h.Apv != "") {
		return nil, nil, refusef(CheckHeader, ErrHeader, "epk, apu and apv belong to ECDH-ES only")
	}
	if xml {
		if m := missing("jti", h.Jti); m != "" || h.Iat == nil || h.Exp == nil {
			return nil, nil, refusef(CheckHeader, ErrHeader, "an XML envelope's JWE needs iat, exp and jti")
		}
	} else if h.Iat != nil || h.Exp != nil || h.Jti != "" {
		return nil, nil, refusef(CheckHeader, ErrHeader, "iat, exp and jti belong in the signed JWS header")
	}
	obj, err := jose.ParseEncryptedCompact(s, keyAlgorithms, contentEncryption)
	if err != nil {
		return nil, nil, refusef(CheckFormat, ErrMalformed, "not a compact JWE")
	}
	return obj, &h, nil
}

// decrypt decrypts obj with the one key of the recipient that h.Kid names
// (parseJWE requires a kid): a message is never tried against every key,
// which would let a sender probe the keys and cost the gateway one
// decryption per key.
func (o *Opener) decrypt(obj *jose.JSONWebEncryption, h *jweHeader) ([]byte, *OpenError) {
	alg := jose.KeyAlgorithm(h.Alg)
	for _, k := range o.keys {
		if k.kid != h.Kid {
			continue
		}
		if k.alg != alg {
			return nil, refusef(CheckDecrypt, ErrUnknownKey, "the JWE kid names a key of another algorithm")
		}
		plaintext, err := obj.Decrypt(k.key)
		if err != nil {
			return nil, refusef(CheckDecrypt, ErrDecrypt, "the key the JWE kid names does not decrypt it")
		}
		return plaintext, nil
	}
	return nil, refusef(CheckDecrypt, ErrUnknownKey, "the JWE kid names none of this recipient's keys")
}

// verifyJWS decodes the JWS header strictly, selects the sender's pinned
// key by kid and verifies. receipt selects the receipt's parameter set.
// It returns the header (values still to be checked) and the payload.
func (o *Opener) verifyJWS(ctx context.Context, signed, sender string, receipt bool) (*jwsHeader, []byte, *OpenError) {
	parts, ok := splitCompact(signed, 3)
	if !ok {
		return nil, nil, refusef(CheckFormat, ErrMalformed, "a compact JWS has three parts")
	}
	var h jwsHeader
	if oerr := decodeHeader(parts[0], &h); oerr != nil {
		return nil, nil, oerr
	}
	if !slices.Contains(signatureAlgorithms, jose.SignatureAlgorithm(h.Alg)) {
		return nil, nil, refusef(CheckAlgorithm, ErrAlgorithm, "JWS alg "+quote(h.Alg)+" is not allowed")
	}
	if m := missing("kid", h.Kid, "typ", h.Typ, "cty", h.Cty, "iss", h.Iss, "aud", h.Aud, "jti", h.Jti); m != "" {
		return nil, nil, refusef(CheckHeader, ErrHeader, "missing parameter "+m)
	}
	if h.Iat == nil {
		return nil, nil, refusef(CheckHeader, ErrHeader, "missing parameter iat")
	}
	if receipt {
		if h.Exp != nil || h.OrigIss != "" || h.OrigJti != "" || h.OrigDigest != "" || h.MailboxID != "" {
			return nil, nil, refusef(CheckHeader, ErrHeader, "a receipt has no exp, no provenance and no mailbox id")
		}
	} else if h.Exp == nil {
		return nil, nil, refusef(CheckHeader, ErrHeader, "missing parameter exp")
	}

	keys, err := o.senders.VerificationKeys(ctx, sender)
	if err != nil {
		return nil, nil, refuse(CheckKeys, fmt.Errorf("%w: trust store: %w", ErrUnavailable, err))
	}
	if len(keys) > maxSenderKeys {
		return nil, nil, refusef(CheckKeys, ErrUnavailable, fmt.Sprintf("the trust store has more than %d keys for one sender", maxSenderKeys))
	}
	var allowed []jose.SignatureAlgorithm
	var chosen []VerificationKey
	for _, k := range keys {
		if err := k.check(); err != nil {
			return nil, nil, refuse(CheckKeys, fmt.Errorf("%w: trust store: %w", ErrUnavailable, err))
		}
		if !slices.Contains(allowed, k.Algorithm) {
			allowed = append(allowed, k.Algorithm)
		}
		if k.KeyID == h.Kid {
			chosen = append(chosen, k)
		}
	}
	if len(keys) == 0 {
		return nil, nil, refusef(CheckSignature, ErrUnknownKey, "the sender has no pinned signing key")
	}
	if !slices.Contains(allowed, jose.SignatureAlgorithm(h.Alg)) {
		return nil, nil, refusef(CheckAlgorithm, ErrAlgorithm, "JWS alg is not the sender's")
	}
	if len(chosen) == 0 {
		return nil, nil, refusef(CheckSignature, ErrUnknownKey, "the kid names none of the sender's pinned keys")
	}
	jws, err := jose.ParseSignedCompact(signed, allowed)
	if err != nil {
		return nil, nil, refusef(CheckFormat, ErrMalformed, "not a compact JWS")
	}
	for _, k := range chosen {
		if k.Algorithm != jose.SignatureAlgorithm(h.Alg) {
			continue
		}
		if payload, err := jws.Verify(k.Key); err == nil {
			return &h, payload, nil
		}
	}
	return nil, nil, refusef(CheckSignature, ErrSignature, "no pinned key of the sender verifies the signature")
}

// provenance checks and returns the provenance parameters of h.
func provenance(h *jwsHeader) (*Provenance, *OpenError) {
	if h.OrigIss == "" && h.OrigJti == "" && h.OrigDigest == "" {
		return nil, nil
	}
	if h.Iss != GatewayID {
		return nil, refusef(CheckHeader, ErrProvenance, "only the gateway sends provenance")
	}
	d, err := ParseDigest(h.OrigDigest)
	p := &Provenance{Issuer: h.OrigIss, ID: h.OrigJti, Digest: d}
	if err != nil || p.check() != nil {
		return nil, refusef(CheckHeader, ErrProvenance, "orig_iss, orig_jti and orig_digest must all be present and well-formed")
	}
	return p, nil
}

// checkReplay asks the replay cache about issuer's jti; with
// ReplayByCaller it leaves the check to the caller.
func (o *Opener) checkReplay(ctx context.Context, issuer, jti string, exp time.Time) *OpenError {
	if o.byCaller {
		return nil
	}
	seen, err := o.replay.Seen(ctx, issuer, jti, exp)
	if err != nil {
		return refuse(CheckReplay, fmt.Errorf("%w: replay cache: %w", ErrUnavailable, err))
	}
	if seen {
		return refusef(CheckReplay, ErrReplay, "this message id was seen before")
	}
	return nil
}
