package vaulttest

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/vault/vault"

	"github.com/psykosocial/exchange/adapters"
	"github.com/psykosocial/exchange/adapters/region"
	"github.com/psykosocial/exchange/certs"
	"github.com/psykosocial/exchange/gateway/client"
	"github.com/psykosocial/exchange/internal/clock"
	"github.com/psykosocial/exchange/internal/envelope"
	"github.com/psykosocial/exchange/internal/journal"
	"github.com/psykosocial/exchange/internal/keys"
	"github.com/psykosocial/exchange/internal/record"
	"github.com/psykosocial/exchange/internal/refdata"
	"github.com/psykosocial/exchange/schemas"
)

// serveBound bounds TestServeWithVault as a whole (the build included).
const serveBound = 4 * time.Minute

// lockedBuffer collects a child process's output for the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// gatewayBinary builds the gateway in the root module (with its own
// go.mod, not this module's dependency graph) into a temporary directory.
func gatewayBinary(t *testing.T, ctx context.Context) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "gateway")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./gateway/cmd/gateway")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build of the gateway: %v\n%s", err, out)
	}
	return bin
}

// gatewayEnv is this process's environment less every GATEWAY_ variable.
func gatewayEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GATEWAY_") {
			env = append(env, kv)
		}
	}
	return env
}

// runGateway runs one gateway command to its end.
func runGateway(t *testing.T, ctx context.Context, bin string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = gatewayEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("gateway %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// vaultGatewayConfig writes the configuration of "serve -config" with the
// Vault key provider of tv (plain HTTP on loopback, the token in a file),
// the SQLite store, and the development PKI of data as the trust files and
// the TLS certificate (Vault does not hold the TLS key).
func vaultGatewayConfig(t *testing.T, tv *testVault, data string) string {
	t.Helper()
	dir := t.TempDir()
	p := certs.Paths{DataDir: data}
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte(tv.token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var chain []byte
	for _, f := range []string{filepath.Join(p.Gateway(), keys.FileTLSCertificate), p.IssuingCert()} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		chain = append(chain, b...)
	}
	chainFile := filepath.Join(dir, "server.chain.pem")
	if err := os.WriteFile(chainFile, chain, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := map[string]any{
		"data_dir":        data,
		"listen":          "127.0.0.1:0",
		"operator_listen": "127.0.0.1:0",
		"keys": map[string]any{"provider": "vault", "vault": map[string]any{
			"address": tv.addr, "token_file": tokenFile, "kv_mount": kvMount}},
		"tls": map[string]any{"cert_file": chainFile, "key_file": filepath.Join(p.Gateway(), keys.FileTLSKey)},
		"trust": map[string]any{"roots": []string{p.RootCert()}, "intermediates": []string{p.IssuingCert()},
			"certificates_dir": p.CertificatesDir(), "crl_dir": p.CRLDir()},
		"journal": map[string]any{"checkpoint_interval": "1s"},
		"log":     map[string]any{"format": "text"},
	}
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "gateway.json")
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// regionRegistration is Region Hovedstaden's registration of an Aarhus
// resident (delivered to municipality:0751) under a fresh record id.
func regionRegistration(t *testing.T) (recordID string, doc []byte) {
	t.Helper()
	ref, err := refdata.Load(refdata.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ra, err := region.New(record.NewValidator(ref, clock.System()))
	if err != nil {
		t.Fatal(err)
	}
	b, err := schemas.FS.ReadFile("examples/region/valid/aarhus-resident-hurt-in-copenhagen-fire.json")
	if err != nil {
		t.Fatal(err)
	}
	m, err := ra.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	rec := m.Records()[0]
	if rec.RecordID, err = envelope.NewMessageID(rand.Reader); err != nil {
		t.Fatal(err)
	}
	if doc, err = ra.Encode(&adapters.Message{Kind: adapters.KindRegistration, Items: []adapters.Item{{Record: rec}}}); err != nil {
		t.Fatal(err)
	}
	return rec.RecordID, doc
}

// TestServeWithVault runs the gateway binary's "serve -config" with the
// Vault key provider against the real Vault: it is ready, publishes
// Vault's keys, and a registration round-trips (submit, pull, open, ack)
// with every gateway signature made by Vault's transit engine. With Vault
// sealed, /readyz fails and intake answers 503 with Retry-After, having
// kept nothing; unsealed, the same bytes are accepted, and the journal,
// its checkpoints signed by Vault, verifies offline.
func TestServeWithVault(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the gateway and runs it against Vault")
	}
	ctx, cancel := context.WithTimeout(t.Context(), serveBound)
	defer cancel()
	tv := startVault(t)
	bin := gatewayBinary(t, ctx)
	data := filepath.Join(t.TempDir(), "data")
	runGateway(t, ctx, bin, "certs", "init", "-data", data)

	cmd := exec.Command(bin, "serve", "-config", vaultGatewayConfig(t, tv, data))
	cmd.Env = gatewayEnv()
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() })
	var base string
	for base == "" {
		if m := regexp.MustCompile(`listening on (https://\S+)`).FindStringSubmatch(out.String()); m != nil {
			base = m[1]
			break
		}
		select {
		case err := <-done:
			t.Fatalf("serve ended at start: %v\n%s", err, out)
		case <-ctx.Done():
			t.Fatalf("no banner:\n%s", out)
		case <-time.After(20 * time.Millisecond):
		}
	}

	roots, err := client.DevRootCAs(data)
	if err != nil {
		t.Fatal(err)
	}
	anon := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	defer anon.CloseIdleConnections()
	readyz := func() (int, string, string) {
		t.Helper()
		resp, err := anon.Get(base + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Retry-After"), string(b)
	}
	if code, _, body := readyz(); code != http.StatusOK || !strings.Contains(body, `"ready"`) {
		t.Fatalf("readyz with Vault: %d %s\n%s", code, body, out)
	}

	// The published keys are Vault's: the transit signing key and the
	// current decryption key from KV.
	jwks, err := client.FetchJWKS(ctx, base, roots)
	if err != nil {
		t.Fatal(err)
	}
	sig, enc, err := envelope.ParseJWKS(jwks)
	if err != nil {
		t.Fatal(err)
	}
	vs, err := tv.provider(t).Signer(ctx, keys.PurposeMessageSigning)
	if err != nil {
		t.Fatal(err)
	}
	if len(sig) == 0 || !vs.Public().(*ecdsa.PublicKey).Equal(sig[0].Key) {
		t.Fatalf("the gateway's signing key is not Vault's transit key %s", signingKey)
	}
	if len(enc) == 0 || !tv.decCurrent.PublicKey.Equal(enc[0].Key) {
		t.Fatal("the gateway's encryption key is not the current decryption key in Vault's KV")
	}

	newClient := func(authority string) *client.Client {
		t.Helper()
		cfg, err := client.DevConfig(data, authority, base, jwks)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Clock = clock.System()
		c, err := client.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		return c
	}
	reg, mun := newClient("region:1084"), newClient("municipality:0751")
	roundTrip := func(sealed *envelope.Sealed, recordID string) {
		t.Helper()
		ans, err := reg.SubmitSealed(ctx, sealed) // the receipt verified against Vault's key
		if err != nil || ans.HTTPStatus != http.StatusAccepted || len(ans.Items) != 1 || ans.Items[0].Status != client.ItemAccepted {
			t.Fatalf("submit: %+v %v", ans, err)
		}
		ds, err := mun.Pull(ctx, 10, 5*time.Second)
		if err != nil || len(ds) != 1 || ds[0].RecordID != recordID {
			t.Fatalf("pull: %+v %v", ds, err)
		}
		o, err := mun.Open(ctx, ds[0]) // the delivery's signature by Vault's key
		if err != nil || !strings.Contains(string(o.Payload), recordID) {
			t.Fatalf("open: %v", err)
		}
		if err := mun.Ack(ctx, o); err != nil {
			t.Fatalf("ack: %v", err)
		}
		if ds, err := mun.Pull(ctx, 10, 0); err != nil || len(ds) != 0 {
			t.Fatalf("after the ack: %+v %v", ds, err)
		}
	}
	seal := func(doc []byte) *envelope.Sealed {
		t.Helper()
		s, err := reg.Seal(ctx, client.Document{Kind: client.KindRegistration, Payload: doc})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	rid, doc := regionRegistration(t)
	roundTrip(seal(doc), rid)

	// Vault sealed: not ready, and intake refuses with 503 and Retry-After.
	if err := tv.root.Sys().Seal(); err != nil {
		t.Fatal(err)
	}
	if code, retry, body := readyz(); code != http.StatusServiceUnavailable || retry == "" || !strings.Contains(body, "not-ready") {
		t.Errorf("readyz with Vault sealed: %d (Retry-After %q) %s", code, retry, body)
	}
	rid2, doc2 := regionRegistration(t)
	sealed2 := seal(doc2)
	_, err = reg.SubmitSealed(ctx, sealed2)
	var p *client.Problem
	if !errors.As(err, &p) || p.Status != http.StatusServiceUnavailable || p.RetryAfter <= 0 {
		t.Errorf("submit with Vault sealed: %v, want 503 with Retry-After", err)
	}
	if ds, err := mun.Pull(ctx, 10, 0); err == nil && len(ds) != 0 {
		t.Errorf("a delivery of the refused submission: %+v", ds)
	}

	// Unsealed: ready again without a restart, and the refused bytes are
	// accepted now (the refusal kept nothing).
	for _, k := range tv.unsealKeys {
		if _, err := vault.TestCoreUnseal(tv.core, k); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, _, body := readyz()
		if code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz after the unseal: %d %s\n%s", code, body, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
	roundTrip(sealed2, rid2)

	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve did not stop cleanly: %v\n%s", err, out)
		}
	case <-ctx.Done():
		t.Fatalf("serve did not stop:\n%s", out)
	}

	// The journal verifies offline with Vault's transit journal key.
	js, err := tv.provider(t).Signer(ctx, keys.PurposeJournalCheckpoint)
	if err != nil {
		t.Fatal(err)
	}
	vkey, err := journal.VerifierKey("exchange.psykosocial.dk/journal", js.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	export := filepath.Join(t.TempDir(), "export.jsonl")
	runGateway(t, ctx, bin, "audit", "export", "-sqlite", filepath.Join(data, "gateway.db"), "-o", export)
	if v := runGateway(t, ctx, bin, "audit", "verify", "-key", vkey, "-require-full", export); !strings.Contains(v, "OK") {
		t.Fatalf("audit verify: %s", v)
	}
	for _, secret := range []string{base64.StdEncoding.EncodeToString(tv.hmac), tv.token} {
		if strings.Contains(out.String(), secret) {
			t.Error("the gateway's log holds a Vault secret")
		}
	}
}
