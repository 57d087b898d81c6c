package main

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/psykosocial/exchange/adapters"
	"github.com/psykosocial/exchange/certs"
	"github.com/psykosocial/exchange/gateway/client"
	"github.com/psykosocial/exchange/internal/clock"
	"github.com/psykosocial/exchange/internal/envelope"
	"github.com/psykosocial/exchange/internal/keys"
	"github.com/psykosocial/exchange/internal/xmlsafe"
	"github.com/psykosocial/exchange/internal/xmlsig"
)

// The steps of the cryptographic work of one message, in order.
const (
	stepSenderSeal     = "sender sign+seal"
	stepGatewayOpen    = "gateway open+verify"
	stepGatewayReceipt = "gateway receipt (sign, sender verifies)"
	stepGatewaySeal    = "gateway seal per recipient"
	stepRecipientOpen  = "recipient open+verify"
	stepRecipientAck   = "recipient receipt (sign, gateway verifies)"
)

var cryptoSteps = []string{stepSenderSeal, stepGatewayOpen, stepGatewayReceipt, stepGatewaySeal, stepRecipientOpen, stepRecipientAck}

// benchCrypto is the crypto floor: the pure cryptographic work of the
// sample's records, with the same keys, without HTTP, store or journal.
type benchCrypto struct {
	// Messages, Records and Deliveries are the sample's.
	Messages   int `json:"messages"`
	Records    int `json:"records"`
	Deliveries int `json:"deliveries"`
	// SingleRate is records/s on one goroutine; ParallelRate on Workers.
	SingleRate   float64 `json:"single_records_per_second"`
	ParallelRate float64 `json:"parallel_records_per_second"`
	Workers      int     `json:"workers"`
	// PerRecordMicros is each step's time per record on one goroutine.
	PerRecordMicros map[string]float64 `json:"per_record_microseconds"`
}

// floor is the crypto-only rate the end-to-end rate is compared with: the
// better of the two measurements (on a machine shared with other work
// the parallel one can come out lower).
func (c *benchCrypto) floor() float64 { return max(c.SingleRate, c.ParallelRate) }

// cryptoParty is one authority's keys as its own software holds them.
type cryptoParty struct {
	id, format, contentType string
	sealer                  *envelope.Sealer
	signer                  crypto.Signer
	cert                    *x509.Certificate
	verify                  envelope.VerificationKey
	// enc is the public key the gateway seals to; opener opens with the
	// private one and verifies the gateway's signature.
	enc    envelope.EncryptionKey
	opener *envelope.Opener
}

// cryptoKeys are the keys of every party of the sample.
type cryptoKeys map[string][]envelope.VerificationKey

// VerificationKeys implements envelope.SenderKeys.
func (k cryptoKeys) VerificationKeys(_ context.Context, id string) ([]envelope.VerificationKey, error) {
	return k[id], nil
}

// cryptoRun holds the gateway's keys and the parties'.
type cryptoRun struct {
	clock     clock.Clock
	gwSealer  *envelope.Sealer
	gwOpener  *envelope.Opener
	gwEnc     envelope.EncryptionKey
	parties   map[string]*cryptoParty
	verifiers map[string]*xmlsig.Verifier
	msgs      []*benchDoc
	views     map[string][]benchSampleView
}

// newCryptoRun loads the gateway's keys (the key directory of data) and
// each party's development keys.
func newCryptoRun(clk clock.Clock, data string, reg *adapters.Registry, msgs []*benchDoc, views map[string][]benchSampleView) (*cryptoRun, error) {
	kp, err := keys.NewFileProvider(keys.FileConfig{Dir: certs.Paths{DataDir: data}.Gateway()})
	if err != nil {
		return nil, err
	}
	ring, err := keyRing(context.Background(), kp)
	if err != nil {
		return nil, err
	}
	r := &cryptoRun{clock: clk, parties: map[string]*cryptoParty{}, verifiers: map[string]*xmlsig.Verifier{},
		msgs: msgs, views: views, gwEnc: ring.Decryption[0].EncryptionKey()}
	if r.gwSealer, err = envelope.NewSealer(envelope.SealerConfig{Issuer: envelope.GatewayID, Key: ring.Signing, Clock: clk}); err != nil {
		return nil, err
	}
	gwKeys := cryptoKeys{envelope.GatewayID: ring.VerificationKeys()}
	senders := cryptoKeys{}
	add := func(id string) error {
		if r.parties[id] != nil {
			return nil
		}
		cfg, err := client.DevConfig(data, id, "https://127.0.0.1", nil)
		if err != nil {
			return err
		}
		p := &cryptoParty{id: id, format: cfg.Format, signer: cfg.SigningKey, cert: cfg.SigningCertificate}
		ct, ok := contentTypes[cfg.Format]
		if !ok {
			return fmt.Errorf("%s: no content type for format %q", id, cfg.Format)
		}
		p.contentType = ct
		sk, err := envelope.NewSigningKey(cfg.SigningKey, "")
		if err != nil {
			return fmt.Errorf("%s: %w", id, err)
		}
		p.verify = sk.VerificationKey()
		if p.sealer, err = envelope.NewSealer(envelope.SealerConfig{Issuer: id, Key: sk, Clock: clk}); err != nil {
			return err
		}
		dk, err := envelope.NewDecryptionKey(cfg.DecryptionKeys[0], "")
		if err != nil {
			return fmt.Errorf("%s: %w", id, err)
		}
		p.enc = dk.EncryptionKey()
		if p.opener, err = envelope.NewOpener(envelope.OpenerConfig{DecryptionKeys: []envelope.DecryptionKey{dk},
			Senders: gwKeys, ReplayByCaller: true, Clock: clk}); err != nil {
			return err
		}
		senders[id] = []envelope.VerificationKey{p.verify}
		r.parties[id] = p
		return nil
	}
	for _, m := range msgs {
		if err := add(m.sender); err != nil {
			return nil, err
		}
		for _, id := range m.records {
			for _, v := range views[id] {
				if err := add(v.recipient); err != nil {
					return nil, err
				}
			}
		}
	}
	if r.gwOpener, err = envelope.NewOpener(envelope.OpenerConfig{DecryptionKeys: ring.Decryption, Senders: senders,
		ReplayByCaller: true, Clock: clk}); err != nil {
		return nil, err
	}
	for _, f := range []string{client.FormatMunicipality, client.FormatPolice} {
		a, ok := reg.ByFormat(f)
		if !ok {
			continue
		}
		la, ok := a.(interface{ Limits() xmlsafe.Limits })
		if !ok {
			return nil, fmt.Errorf("the %s adapter has no Limits()", f)
		}
		if r.verifiers[f], err = xmlsig.NewVerifier(xmlsig.VerifierConfig{Clock: clk, Limits: la.Limits()}); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// contentTypes are the formats' content types.
var contentTypes = map[string]string{client.FormatRegion: envelope.ContentTypeRegion,
	client.FormatMunicipality: envelope.ContentTypeMunicipality, client.FormatPolice: envelope.ContentTypePolice}

// one does the cryptographic work of one message and its deliveries, as
// the sender, the gateway and every recipient would, adding each step's
// time to steps (nil: not timed).
func (r *cryptoRun) one(ctx context.Context, m *benchDoc, steps map[string]time.Duration) error {
	t := r.clock.Now()
	lap := func(step string) {
		if steps != nil {
			now := r.clock.Now()
			steps[step] += now.Sub(t)
			t = now
		}
	}
	s := r.parties[m.sender]
	msg := envelope.Message{ContentType: s.contentType, Recipient: envelope.GatewayID, To: r.gwEnc, ID: m.doc.MessageID}
	var sealed *envelope.Sealed
	var err error
	if s.format == client.FormatRegion {
		msg.Kind, msg.Payload = envelope.KindRegistration, m.doc.Payload
		sealed, err = s.sealer.Seal(ctx, msg)
	} else {
		if msg.Payload, err = xmlsig.SignDocument(m.doc.Payload, s.signer, s.cert); err != nil {
			return fmt.Errorf("XML-DSig: %w", err)
		}
		sealed, err = s.sealer.SealXML(ctx, msg)
	}
	if err != nil {
		return err
	}
	lap(stepSenderSeal)

	want := envelope.Expect{Sender: m.sender, Recipient: envelope.GatewayID, ContentType: s.contentType}
	var digest envelope.Digest
	if s.format == client.FormatRegion {
		want.Kinds = []envelope.Kind{envelope.KindRegistration, envelope.KindWithdrawal}
		o, err := r.gwOpener.Open(ctx, sealed.Envelope, want)
		if err != nil {
			return fmt.Errorf("the gateway opens: %w", err)
		}
		digest = o.Digest
	} else {
		o, err := r.gwOpener.OpenXML(ctx, sealed.Envelope, want)
		if err != nil {
			return fmt.Errorf("the gateway opens: %w", err)
		}
		if _, err := r.verifiers[s.format].Verify(o.Payload, []*x509.Certificate{s.cert}); err != nil {
			return fmt.Errorf("the gateway verifies the XML signature: %w", err)
		}
		digest = o.Digest
	}
	lap(stepGatewayOpen)

	rc := envelope.ReceiptV2{MessageID: sealed.Header.ID, PayloadDigest: digest, Sender: m.sender, Recipient: envelope.GatewayID,
		Time: r.clock.Now().UTC().Truncate(time.Second), Outcome: envelope.OutcomeAccepted}
	for i, id := range m.records {
		rc.Items = append(rc.Items, envelope.ReceiptItem{Index: i, RecordID: id, Version: 1, Status: envelope.ItemAccepted})
	}
	tok, _, err := r.gwSealer.SignReceiptV2(ctx, rc)
	if err != nil {
		return fmt.Errorf("the gateway signs the receipt: %w", err)
	}
	if _, err := s.opener.VerifyReceiptV2(ctx, tok, envelope.GatewayID); err != nil {
		return fmt.Errorf("the sender verifies the receipt: %w", err)
	}
	lap(stepGatewayReceipt)

	for _, id := range m.records {
		for _, v := range r.views[id] {
			p := r.parties[v.recipient]
			d, err := r.gwSealer.Seal(ctx, envelope.Message{Kind: envelope.KindRegistration, ContentType: p.contentType,
				Recipient: p.id, To: p.enc, Payload: v.payload, MailboxID: v.mailboxID,
				Provenance: &envelope.Provenance{Issuer: m.sender, ID: sealed.Header.ID, Digest: digest}})
			if err != nil {
				return fmt.Errorf("the gateway seals to %s: %w", p.id, err)
			}
			lap(stepGatewaySeal)
			o, err := p.opener.Open(ctx, d.Envelope, envelope.Expect{Sender: envelope.GatewayID, Recipient: p.id,
				Kinds: []envelope.Kind{envelope.KindRegistration}, ContentType: p.contentType})
			if err != nil {
				return fmt.Errorf("%s opens: %w", p.id, err)
			}
			lap(stepRecipientOpen)
			ack, _, err := p.sealer.SignReceipt(ctx, envelope.Receipt{MessageID: o.Header.ID, PayloadDigest: o.Digest,
				Sender: envelope.GatewayID, Recipient: p.id, Outcome: envelope.OutcomeReceived})
			if err != nil {
				return fmt.Errorf("%s signs its receipt: %w", p.id, err)
			}
			if _, err := r.gwOpener.VerifyReceipt(ctx, ack, p.id); err != nil {
				return fmt.Errorf("the gateway verifies %s's receipt: %w", p.id, err)
			}
			lap(stepRecipientAck)
		}
	}
	return nil
}

// measure runs the sample on one goroutine and then on workers
// goroutines, each for at least minTime (and at least one pass).
func (r *cryptoRun) measure(ctx context.Context, workers int, minTime time.Duration) (*benchCrypto, error) {
	if len(r.msgs) == 0 {
		return nil, errors.New("the crypto sample is empty (no message was submitted)")
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	out := &benchCrypto{Messages: len(r.msgs), Workers: workers, PerRecordMicros: map[string]float64{}}
	for _, m := range r.msgs {
		out.Records += len(m.records)
		for _, id := range m.records {
			out.Deliveries += len(r.views[id])
		}
	}
	// One goroutine, timed by step.
	steps := map[string]time.Duration{}
	start := r.clock.Now()
	passes := 0
	for passes == 0 || r.clock.Now().Sub(start) < minTime {
		for _, m := range r.msgs {
			if err := r.one(ctx, m, steps); err != nil {
				return nil, err
			}
		}
		passes++
	}
	el := r.clock.Now().Sub(start)
	out.SingleRate = float64(passes*out.Records) / el.Seconds()
	for _, s := range cryptoSteps {
		out.PerRecordMicros[s] = float64(steps[s].Microseconds()) / float64(passes*out.Records)
	}
	// workers goroutines taking messages in turn.
	var next, records atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	start = r.clock.Now()
	end := start.Add(minTime)
	total := int64(len(r.msgs))
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= total && !r.clock.Now().Before(end) {
					return
				}
				m := r.msgs[i%total]
				if err := r.one(ctx, m, nil); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
				records.Add(int64(len(m.records)))
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	out.ParallelRate = float64(records.Load()) / r.clock.Now().Sub(start).Seconds()
	return out, nil
}
