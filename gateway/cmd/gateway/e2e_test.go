package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/psykosocial/exchange/adapters"
	"github.com/psykosocial/exchange/adapters/region"
	"github.com/psykosocial/exchange/certs"
	"github.com/psykosocial/exchange/internal/clock"
	"github.com/psykosocial/exchange/internal/directory"
	"github.com/psykosocial/exchange/internal/envelope"
	"github.com/psykosocial/exchange/internal/record"
	"github.com/psykosocial/exchange/internal/refdata"
)

// authority is a development authority as a real client: its TLS client,
// its signing and decryption keys.
type authority struct {
	id     string
	client *http.Client
	sign   crypto.Signer
	dec    crypto.PrivateKey
}

func devAuthority(t *testing.T, p certs.Paths, id string) authority {
	t.Helper()
	one := func(pattern string) string {
		m, _ := filepath.Glob(filepath.Join(p.Private(id), pattern))
		if len(m) != 1 {
			t.Fatalf("%s: %s: %v", id, pattern, m)
		}
		return m[0]
	}
	pair, err := tls.LoadX509KeyPair(one("tls-*.cert.pem"), one("tls-*.key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	rootPEM, _ := os.ReadFile(p.RootCert())
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(rootPEM)
	sign, err := certs.ReadKeyFile(one("signing-*.key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	dec, err := certs.ReadKeyFile(one("encryption-*.key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	return authority{id: id, sign: sign, dec: dec, client: &http.Client{Timeout: 30 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{pair}}}}}
}

func (a authority) do(t *testing.T, method, url, ctype string, body []byte) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, url, bytes.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := a.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TestServeDevEndToEnd runs one record through the running gateway as real
// clients over mutual TLS: a region submits, the residence municipality
// pulls, opens and acknowledges with its signed receipt.
func TestServeDevEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("creates a development PKI")
	}
	data := t.TempDir()
	s := startDev(t, data)
	ctx := context.Background()
	clk := clock.System()
	paths := certs.Paths{DataDir: data}
	const sender, recipient = "region:1084", "municipality:0751"
	reg, mun := devAuthority(t, paths, sender), devAuthority(t, paths, recipient)

	// The region's own document: the Aarhus resident of the Copenhagen fire, a fresh record id.
	ref, _ := refdata.Load(refdata.Config{})
	ra, err := region.New(record.NewValidator(ref, clk))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("../../../schemas/examples/region/valid/aarhus-resident-hurt-in-copenhagen-fire.json")
	if err != nil {
		t.Fatal(err)
	}
	m, err := ra.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	rec := m.Records()[0]
	rec.RecordID, _ = envelope.NewMessageID(rand.Reader)
	doc, err := ra.Encode(&adapters.Message{Kind: adapters.KindRegistration, Items: []adapters.Item{{Record: rec}}})
	if err != nil {
		t.Fatal(err)
	}
	gwEncPEM, _ := os.ReadFile(filepath.Join(paths.Gateway(), "encryption.cert.pem"))
	gwEncCerts, _ := certs.ParsePEMCertificates(gwEncPEM)
	to, err := envelope.NewEncryptionKey(gwEncCerts[0].PublicKey, "")
	if err != nil {
		t.Fatal(err)
	}
	sk, _ := envelope.NewSigningKey(reg.sign, "")
	sealer, _ := envelope.NewSealer(envelope.SealerConfig{Issuer: sender, Key: sk, Clock: clk})
	mid, _ := envelope.NewMessageID(rand.Reader)
	sealed, err := sealer.Seal(ctx, envelope.Message{Kind: envelope.KindRegistration, ContentType: envelope.ContentTypeRegion,
		Recipient: directory.GatewayID, To: to, Payload: doc, ID: mid})
	if err != nil {
		t.Fatal(err)
	}

	// Submit: 202 with the receipt; the identical bytes again: 200, already received.
	code, body := reg.do(t, "POST", s.base+"/v1/messages", "application/jose", sealed.Envelope)
	var ans map[string]any
	if err := json.Unmarshal(body, &ans); err != nil || code != 202 || ans["status"] != "accepted" || ans["message_id"] != mid {
		t.Fatalf("submit: %d %s", code, body)
	}
	if r, _ := ans["receipt"].(string); strings.Count(r, ".") != 2 {
		t.Fatalf("receipt %q", ans["receipt"])
	}
	if code, body := reg.do(t, "POST", s.base+"/v1/messages", "application/jose", sealed.Envelope); code != 200 || !strings.Contains(string(body), `"already_received"`) {
		t.Fatalf("resubmit: %d %s", code, body)
	}
	// The region cannot read the municipality's mailbox: its own is empty.
	if code, body := reg.do(t, "GET", s.base+"/v1/mailbox", "", nil); code != 200 || string(body) != "{\"messages\":[]}\n" {
		t.Fatalf("the sender's mailbox: %d %s", code, body)
	}

	// The residence municipality pulls, opens with its key and acknowledges.
	code, body = mun.do(t, "GET", s.base+"/v1/mailbox?max=10&wait=2", "", nil)
	var pulled struct {
		Messages []struct {
			MailboxID string `json:"mailbox_id"`
			RecordID  string `json:"record_id"`
			Message   string `json:"message"`
		} `json:"messages"`
	}
	if err := json.Unmarshal(body, &pulled); err != nil || code != 200 || len(pulled.Messages) != 1 || pulled.Messages[0].RecordID != rec.RecordID {
		t.Fatalf("pull: %d %s", code, body)
	}
	got := pulled.Messages[0]
	jwks := getJWKS(t, s.base, mun.client)
	dk, _ := envelope.NewDecryptionKey(mun.dec, "")
	replay, _ := envelope.NewMemoryReplayCache(envelope.MemoryReplayCacheConfig{Clock: clk})
	opener, err := envelope.NewOpener(envelope.OpenerConfig{DecryptionKeys: []envelope.DecryptionKey{dk},
		Senders: jwksKeys(jwks), Replay: replay, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	op, err := opener.Open(ctx, []byte(got.Message), envelope.Expect{Sender: directory.GatewayID, Recipient: recipient,
		Kinds: []envelope.Kind{envelope.KindRegistration}, ContentType: envelope.ContentTypeMunicipality})
	if err != nil {
		t.Fatalf("the municipality opens its delivery: %v", err)
	}
	msk, _ := envelope.NewSigningKey(mun.sign, "")
	ms, _ := envelope.NewSealer(envelope.SealerConfig{Issuer: recipient, Key: msk, Clock: clk})
	receipt, _, err := ms.SignReceipt(ctx, envelope.Receipt{MessageID: op.Header.ID, PayloadDigest: op.Digest,
		Sender: directory.GatewayID, Recipient: recipient, Outcome: envelope.OutcomeReceived})
	if err != nil {
		t.Fatal(err)
	}
	if code, body := mun.do(t, "POST", s.base+"/v1/mailbox/"+got.MailboxID+"/ack", "application/jose", receipt); code != 204 {
		t.Fatalf("ack: %d %s", code, body)
	}
	// Acknowledged: never delivered again.
	if code, body := mun.do(t, "GET", s.base+"/v1/mailbox", "", nil); code != 200 || string(body) != "{\"messages\":[]}\n" {
		t.Fatalf("after the ack: %d %s", code, body)
	}
	// Another authority's ack of it is refused (not found or forbidden, never 2xx).
	if code, _ := reg.do(t, "POST", s.base+"/v1/mailbox/"+got.MailboxID+"/ack", "application/jose", receipt); code < 400 {
		t.Fatalf("a foreign ack: %d", code)
	}
	// The logs name no person of the record.
	if logs := s.stderr.String(); rec.Person != nil && (strings.Contains(logs, rec.Person.CPR) && rec.Person.CPR != "" || strings.Contains(logs, rec.Person.Name) && rec.Person.Name != "") {
		t.Errorf("the logs name the person")
	}
}

// getJWKS fetches the gateway's JWK Set.
func getJWKS(t *testing.T, base string, c *http.Client) []envelope.VerificationKey {
	t.Helper()
	resp, err := c.Get(base + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	sig, _, err := envelope.ParseJWKS(b)
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

// jwksKeys pins the gateway's published signing keys.
type jwksKeys []envelope.VerificationKey

func (k jwksKeys) VerificationKeys(_ context.Context, id string) ([]envelope.VerificationKey, error) {
	if id != directory.GatewayID {
		return nil, certs.ErrUnknownAuthority
	}
	return k, nil
}
