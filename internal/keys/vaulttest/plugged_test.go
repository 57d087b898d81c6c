package vaulttest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"

	"github.com/psykosocial/exchange/internal/clock"
	"github.com/psykosocial/exchange/internal/envelope"
	"github.com/psykosocial/exchange/internal/keys"
	"github.com/psykosocial/exchange/internal/xmlsig"
)

// testNow is the instant the tests that do not talk time with Vault are
// judged at.
var testNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// fixedKeys pins one verification key for one sender.
type fixedKeys struct {
	id  string
	key envelope.VerificationKey
}

func (f fixedKeys) VerificationKeys(_ context.Context, id string) ([]envelope.VerificationKey, error) {
	if id != f.id {
		return nil, keys.ErrNotConfigured
	}
	return []envelope.VerificationKey{f.key}, nil
}

// TestTransitSignerPluggedIntoJOSE seals with the gateway's signing key in
// Vault transit (go-jose through the crypto.Signer → OpaqueSigner adapter:
// DER to r||s) and opens with its public key: the private key never leaves Vault.
func TestTransitSignerPluggedIntoJOSE(t *testing.T) {
	tv := startVault(t)
	p := tv.provider(t)
	ctx := t.Context()
	s, err := p.Signer(ctx, keys.PurposeMessageSigning)
	if err != nil {
		t.Fatal(err)
	}
	sk, err := envelope.NewSigningKey(s, "")
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.Fixed(testNow) // transit signing does not depend on the time
	recipientKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	to, _ := envelope.NewEncryptionKey(recipientKey.Public(), "")
	dec, _ := envelope.NewDecryptionKey(recipientKey, "")
	sealer, err := envelope.NewSealer(envelope.SealerConfig{Issuer: "gateway", Key: sk, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	payload := []byte(`{"schema":"registration/v1"}`)
	sealed, err := sealer.Seal(ctx, envelope.Message{Kind: envelope.KindRegistration, ContentType: envelope.ContentTypeCommon,
		Recipient: "municipality:0851", To: to, Payload: payload})
	if err != nil {
		t.Fatal(err)
	}
	replay, _ := envelope.NewMemoryReplayCache(envelope.MemoryReplayCacheConfig{Clock: clk})
	opener, err := envelope.NewOpener(envelope.OpenerConfig{DecryptionKeys: []envelope.DecryptionKey{dec},
		Senders: fixedKeys{"gateway", sk.VerificationKey()}, Replay: replay, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	got, err := opener.Open(ctx, sealed.Envelope, envelope.Expect{Sender: "gateway", Recipient: "municipality:0851",
		Kinds: []envelope.Kind{envelope.KindRegistration}, ContentType: envelope.ContentTypeCommon})
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Payload) != string(payload) {
		t.Fatalf("payload %q", got.Payload)
	}
}

// TestTransitSignerPluggedIntoXMLDSig signs an XML document with the
// transit key as a crypto.Signer and verifies it with the certificate of
// its public key.
func TestTransitSignerPluggedIntoXMLDSig(t *testing.T) {
	tv := startVault(t)
	p := tv.provider(t)
	s, err := p.Signer(t.Context(), keys.PurposeMessageSigning)
	if err != nil {
		t.Fatal(err)
	}
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "gateway signing (test)"},
		NotBefore: testNow.Add(-time.Hour), NotAfter: testNow.Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, s.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	doc := []byte(`<?xml version="1.0" encoding="UTF-8"?><Doc xmlns="urn:test:xmlsig" ID="d1"><Text>fra Vault</Text></Doc>`)
	signed, err := xmlsig.SignDocument(doc, s, cert)
	if err != nil {
		t.Fatal(err)
	}
	v, err := xmlsig.NewVerifier(xmlsig.VerifierConfig{Clock: clock.Fixed(testNow)})
	if err != nil {
		t.Fatal(err)
	}
	got, err := v.Verify(signed, []*x509.Certificate{cert})
	if err != nil {
		t.Fatal(err)
	}
	if got.Element.FindElement("Text").Text() != "fra Vault" {
		t.Fatal("verified element lost its content")
	}
}
