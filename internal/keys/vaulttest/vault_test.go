package vaulttest

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	hclog "github.com/hashicorp/go-hclog"
	kv "github.com/hashicorp/vault-plugin-secrets-kv"
	"github.com/hashicorp/vault/api"
	"github.com/hashicorp/vault/builtin/logical/transit"
	vaulthttp "github.com/hashicorp/vault/http"
	"github.com/hashicorp/vault/sdk/logical"
	"github.com/hashicorp/vault/vault"

	"github.com/psykosocial/exchange/internal/clock"
	"github.com/psykosocial/exchange/internal/keys"
)

// The names the tests give the transit keys and KV paths (the provider's
// defaults, except the KV mount: the test core already has a KV v1 at
// "secret").
const (
	kvMount        = "kv"
	signingKey     = "gateway-signing"
	signingRSAKey  = "gateway-signing-rsa"
	journalKey     = "gateway-journal"
	dataKey        = "gateway-data"
	decryptionPath = "gateway/message-decryption"
	hmacPath       = "gateway/journal-hmac"
)

// gatewayPolicy is the least privilege the provider needs (the default
// policy, attached too, allows token lookup-self and renew-self).
const gatewayPolicy = `
path "transit/keys/*" { capabilities = ["read"] }
path "transit/sign/*" { capabilities = ["update"] }
path "transit/datakey/plaintext/gateway-data" { capabilities = ["update"] }
path "transit/decrypt/gateway-data" { capabilities = ["update"] }
path "kv/data/gateway/*" { capabilities = ["read"] }
`

// testVault is one in-process Vault with the gateway's keys in it.
type testVault struct {
	core  *vault.Core
	addr  string
	root  *api.Client
	token string // a token with gatewayPolicy
	// unsealKeys unseal the core again after a seal (startVault's core).
	unsealKeys [][]byte

	decCurrent  *ecdsa.PrivateKey
	decPrevious *rsa.PrivateKey
	hmac        []byte
}

// startVault starts Vault's core with only the transit and KV engines and
// serves its HTTP API on loopback (plain HTTP), then sets it up.
func startVault(t testing.TB) *testVault {
	t.Helper()
	core, unsealKeys, rootToken := vault.TestCoreUnsealedWithConfig(t, &vault.CoreConfig{
		LogicalBackends: map[string]logical.Factory{
			"transit": transit.Factory,
			"kv":      kv.Factory,
		},
		Logger: hclog.NewNullLogger(),
	})
	_, addr := vaulthttp.TestServer(t, core)

	cfg := api.DefaultConfig()
	cfg.Address = addr
	cfg.MaxRetries = 0
	root, err := api.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	root.SetToken(rootToken)
	tv := setupVault(t, core, addr, root)
	tv.unsealKeys = unsealKeys
	return tv
}

// setupVault mounts transit and KV v2 through the root client, creates the
// transit keys, stores the decryption keys and the HMAC secret in KV, and
// makes a token with gatewayPolicy.
func setupVault(t testing.TB, core *vault.Core, addr string, root *api.Client) *testVault {
	t.Helper()
	tv := &testVault{core: core, addr: addr, root: root}
	var err error
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(root.Sys().Mount("transit", &api.MountInput{Type: "transit"}))
	must(root.Sys().Mount(kvMount, &api.MountInput{Type: "kv", Options: map[string]string{"version": "2"}}))
	for name, typ := range map[string]string{
		signingKey:    "ecdsa-p256",
		signingRSAKey: "rsa-3072",
		journalKey:    "ed25519",
		dataKey:       "aes256-gcm96",
	} {
		_, err := root.Logical().Write("transit/keys/"+name, map[string]any{"type": typ})
		must(err)
	}

	tv.decCurrent, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(err)
	tv.decPrevious, err = rsa.GenerateKey(rand.Reader, 2048)
	must(err)
	tv.hmac = make([]byte, 32)
	rand.Read(tv.hmac)
	tv.putKV(t, decryptionPath, map[string]any{"current": pkcs8(t, tv.decCurrent), "previous": pkcs8(t, tv.decPrevious)})
	tv.putKV(t, hmacPath, map[string]any{"secret": base64.StdEncoding.EncodeToString(tv.hmac)})

	must(root.Sys().PutPolicy("gateway", gatewayPolicy))
	tv.token = tv.newToken(t, &api.TokenCreateRequest{Policies: []string{"gateway"}, TTL: "1h"})
	return tv
}

// putKV writes a KV v2 secret, waiting for a fresh KV v2 mount to finish
// its set-up (it refuses writes for a moment after mounting).
func (tv *testVault) putKV(t testing.TB, path string, data map[string]any) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := tv.root.KVv2(kvMount).Put(context.Background(), path, data)
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("KV put %s: %v", path, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// newToken creates a token and returns it.
func (tv *testVault) newToken(t testing.TB, req *api.TokenCreateRequest) string {
	t.Helper()
	s, err := tv.root.Auth().Token().Create(req)
	if err != nil {
		t.Fatal(err)
	}
	return s.Auth.ClientToken
}

// config returns the provider configuration for this Vault.
func (tv *testVault) config(token string) keys.VaultConfig {
	return keys.VaultConfig{
		Address:       tv.addr,
		Token:         token,
		KVMount:       kvMount,
		SigningRSAKey: signingRSAKey,
		// A real Vault's token TTLs run on the wall clock, so the
		// provider's token-file poll does too.
		Clock:  clock.System(),
		Logger: slog.New(slog.DiscardHandler),
	}
}

// provider starts a provider with the gateway token and closes it after the test.
func (tv *testVault) provider(t testing.TB) *keys.VaultProvider {
	t.Helper()
	p, err := keys.NewVaultProvider(t.Context(), tv.config(tv.token))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func pkcs8(t testing.TB, k crypto.PrivateKey) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// transitPublic reads a transit key's latest public key with the root token.
func (tv *testVault) transitPublic(t testing.TB, name string) string {
	t.Helper()
	s, err := tv.root.Logical().Read("transit/keys/" + name)
	if err != nil {
		t.Fatal(err)
	}
	latest := s.Data["latest_version"]
	return s.Data["keys"].(map[string]any)[fmt.Sprint(latest)].(map[string]any)["public_key"].(string)
}

// vaultVerifies asks Vault's transit/verify whether it accepts a signature.
func (tv *testVault) vaultVerifies(t testing.TB, path string, input, sig []byte, extra map[string]any) bool {
	t.Helper()
	body := map[string]any{"input": base64.StdEncoding.EncodeToString(input),
		"signature": "vault:v1:" + base64.StdEncoding.EncodeToString(sig)}
	for k, v := range extra {
		body[k] = v
	}
	s, err := tv.root.Logical().Write(path, body)
	if err != nil {
		t.Fatal(err)
	}
	ok, _ := s.Data["valid"].(bool)
	return ok
}

func TestSigningES256(t *testing.T) {
	tv := startVault(t)
	p := tv.provider(t)
	s, err := p.Signer(t.Context(), keys.PurposeMessageSigning)
	if err != nil {
		t.Fatal(err)
	}
	ts, ok := s.(*keys.TransitSigner)
	if !ok || ts.KeyName() != signingKey || ts.KeyVersion() != 1 {
		t.Fatalf("signer %T %+v, want the transit key %s v1", s, s, signingKey)
	}
	pub, ok := s.Public().(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		t.Fatalf("public key %T, want P-256", s.Public())
	}
	der, _ := x509.MarshalPKIXPublicKey(pub)
	if got, want := strings.TrimSpace(string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))),
		strings.TrimSpace(tv.transitPublic(t, signingKey)); got != want {
		t.Fatalf("Public() differs from transit/keys:\n%s\n%s", got, want)
	}

	signingInput := []byte("eyJhbGciOiJFUzI1NiJ9.eyJyZWNvcmQiOjF9")
	digest := sha256.Sum256(signingInput)
	sig, err := s.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if !ecdsa.VerifyASN1(pub, digest[:], sig) {
		t.Fatal("the ASN.1 DER signature does not verify")
	}
	// As a JOSE caller uses it: DER to the 64-byte r||s of ES256.
	var rs struct{ R, S *big.Int }
	if rest, err := asn1.Unmarshal(sig, &rs); err != nil || len(rest) != 0 {
		t.Fatalf("not ASN.1 DER: %v", err)
	}
	raw := make([]byte, 64)
	rs.R.FillBytes(raw[:32])
	rs.S.FillBytes(raw[32:])
	if !ecdsa.Verify(pub, digest[:], new(big.Int).SetBytes(raw[:32]), new(big.Int).SetBytes(raw[32:])) {
		t.Fatal("the ES256 r||s signature does not verify")
	}
	// Vault agrees.
	if !tv.vaultVerifies(t, "transit/verify/"+signingKey+"/sha2-256", digest[:], sig, map[string]any{"prehashed": true}) {
		t.Fatal("transit/verify refuses the signature")
	}
	// A wrong digest size never reaches Vault.
	if _, err := s.Sign(rand.Reader, digest[:20], crypto.SHA256); !errors.Is(err, keys.ErrUnsupported) {
		t.Fatalf("short digest: %v, want ErrUnsupported", err)
	}
}

func TestSigningPS256(t *testing.T) {
	tv := startVault(t)
	p := tv.provider(t)
	s, err := p.Signer(t.Context(), keys.PurposeMessageSigningRSA)
	if err != nil {
		t.Fatal(err)
	}
	pub, ok := s.Public().(*rsa.PublicKey)
	if !ok || pub.N.BitLen() != 3072 {
		t.Fatalf("public key %T, want RSA-3072", s.Public())
	}
	digest := sha256.Sum256([]byte("<Registration ID=\"r1\"/>"))

	pss := &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256}
	sig, err := s.Sign(rand.Reader, digest[:], pss)
	if err != nil {
		t.Fatal(err)
	}
	// PS256 (RFC 7518): salt length equal to the hash length.
	if err := rsa.VerifyPSS(pub, crypto.SHA256, digest[:], sig, pss); err != nil {
		t.Fatalf("PS256 signature: %v", err)
	}

	sig, err = s.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig); err != nil {
		t.Fatalf("RS256 (PKCS #1 v1.5) signature: %v", err)
	}
}

func TestSigningEd25519(t *testing.T) {
	tv := startVault(t)
	p := tv.provider(t)
	s, err := p.Signer(t.Context(), keys.PurposeJournalCheckpoint)
	if err != nil {
		t.Fatal(err)
	}
	pub, ok := s.Public().(ed25519.PublicKey)
	if !ok {
		t.Fatalf("public key %T, want Ed25519", s.Public())
	}
	if got := base64.StdEncoding.EncodeToString(pub); got != tv.transitPublic(t, journalKey) {
		t.Fatal("Public() differs from transit/keys")
	}
	checkpoint := []byte("psykosocial.example/journal\n1024\nRcd0DWWLu0ot3oWoHbX8a6NfxpbZkE0VMPnsY7e3xdI=\n")
	sig, err := s.Sign(rand.Reader, checkpoint, crypto.Hash(0))
	if err != nil {
		t.Fatal(err)
	}
	if !ed25519.Verify(pub, checkpoint, sig) {
		t.Fatal("the Ed25519 signature does not verify")
	}
	if _, err := s.Sign(rand.Reader, checkpoint, crypto.SHA256); !errors.Is(err, keys.ErrUnsupported) {
		t.Fatalf("Ed25519 with a hash: %v, want ErrUnsupported", err)
	}
}

func TestSignerWrongKeyType(t *testing.T) {
	tv := startVault(t)
	cfg := tv.config(tv.token)
	cfg.SigningKey = journalKey // an Ed25519 key where P-256 is needed
	_, err := keys.NewVaultProvider(t.Context(), cfg)
	if !errors.Is(err, keys.ErrInvalidKey) || !strings.Contains(err.Error(), "ecdsa-p256") {
		t.Fatalf("err = %v, want ErrInvalidKey naming ecdsa-p256", err)
	}
}

func TestDataKeys(t *testing.T) {
	tv := startVault(t)
	p := tv.provider(t)
	ctx := t.Context()
	pt, wrapped, err := p.NewDataKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(pt) != 32 || !strings.HasPrefix(string(wrapped), "vault:v1:") {
		t.Fatalf("data key of %d bytes, wrapped %q", len(pt), wrapped)
	}
	got, err := p.UnwrapDataKey(ctx, wrapped)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(pt) {
		t.Fatal("unwrapped key differs")
	}

	// Tampering: flip one bit of the ciphertext inside the base64.
	raw, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(string(wrapped), "vault:v1:"))
	raw[len(raw)-1] ^= 1
	tampered := []byte("vault:v1:" + base64.StdEncoding.EncodeToString(raw))
	for name, bad := range map[string][]byte{
		"tampered":     tampered,
		"not transit":  []byte("AAAA"),
		"bad base64":   []byte("vault:v1:!!!"),
		"wrong prefix": []byte("vault:1:" + base64.StdEncoding.EncodeToString(raw)),
		"empty":        nil,
	} {
		if _, err := p.UnwrapDataKey(ctx, bad); !errors.Is(err, keys.ErrDataKeyRejected) {
			t.Errorf("%s: err = %v, want ErrDataKeyRejected", name, err)
		}
	}

	// After a rotation, old keys still unwrap and new ones use version 2.
	if _, err := tv.root.Logical().Write("transit/keys/"+dataKey+"/rotate", nil); err != nil {
		t.Fatal(err)
	}
	if got, err := p.UnwrapDataKey(ctx, wrapped); err != nil || string(got) != string(pt) {
		t.Fatalf("unwrap after rotation: %v", err)
	}
	if _, w2, err := p.NewDataKey(ctx); err != nil || !strings.HasPrefix(string(w2), "vault:v2:") {
		t.Fatalf("new data key after rotation: %q, %v", w2, err)
	}
}

func TestKVLoads(t *testing.T) {
	tv := startVault(t)
	p := tv.provider(t)
	ctx := t.Context()

	decs, err := p.Decrypters(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(decs) != 2 || !tv.decCurrent.Equal(decs[0]) || !tv.decPrevious.Equal(decs[1]) {
		t.Fatalf("decrypters: %d keys, want [current P-256, previous RSA]", len(decs))
	}
	sec, err := p.HMACSecret(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if string(sec) != string(tv.hmac) {
		t.Fatal("HMAC secret differs from KV")
	}

	// Rollover in KV: a new current, the old current becomes previous.
	next, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tv.putKV(t, decryptionPath, map[string]any{"current": pkcs8(t, next), "previous": pkcs8(t, tv.decCurrent)})
	if err := p.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	decs, _ = p.Decrypters(ctx)
	if len(decs) != 2 || !next.Equal(decs[0]) || !tv.decCurrent.Equal(decs[1]) {
		t.Fatal("after the rollover: want [new, old current]")
	}

	// A broken KV value is refused and the keys in memory stay.
	tv.putKV(t, hmacPath, map[string]any{"secret": base64.StdEncoding.EncodeToString(make([]byte, 16))})
	if err := p.Reload(ctx); !errors.Is(err, keys.ErrInvalidKey) || !strings.Contains(err.Error(), "kv/data/"+hmacPath) {
		t.Fatalf("short HMAC secret: %v, want ErrInvalidKey naming the path", err)
	}
	if sec, _ := p.HMACSecret(ctx); string(sec) != string(tv.hmac) {
		t.Fatal("a failed reload replaced the HMAC secret")
	}

	// After Close nothing is served.
	p.Close()
	if _, err := p.HMACSecret(ctx); !errors.Is(err, keys.ErrNotConfigured) {
		t.Fatalf("HMACSecret after Close: %v", err)
	}
}

func TestTLS(t *testing.T) {
	cluster := vault.NewTestCluster(t, &vault.CoreConfig{
		LogicalBackends: map[string]logical.Factory{"transit": transit.Factory, "kv": kv.Factory},
		Logger:          hclog.NewNullLogger(),
	}, &vault.TestClusterOptions{HandlerFunc: vaulthttp.Handler, NumCores: 1, Logger: hclog.NewNullLogger()})
	cluster.Start()
	t.Cleanup(cluster.Cleanup)
	core := cluster.Cores[0]
	root, err := core.Client.Clone()
	if err != nil {
		t.Fatal(err)
	}
	root.SetToken(cluster.RootToken)
	addr := core.Client.Address()
	if !strings.HasPrefix(addr, "https://") {
		t.Fatalf("cluster address %s is not https", addr)
	}
	tv := setupVault(t, core.Core, addr, root)

	cfg := tv.config(tv.token)
	cfg.CACertPEM = cluster.CACertPEM
	p, err := keys.NewVaultProvider(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	s, err := p.Signer(t.Context(), keys.PurposeMessageSigning)
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte("over TLS"))
	sig, err := s.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil || !ecdsa.VerifyASN1(s.Public().(*ecdsa.PublicKey), digest[:], sig) {
		t.Fatalf("sign over TLS: %v", err)
	}

	// The CA as a file works too.
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, cluster.CACertPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg.CACertPEM, cfg.CACertFile = nil, caFile
	p2, err := keys.NewVaultProvider(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	p2.Close()

	// Without the CA, Vault's certificate is not trusted.
	cfg.CACertFile = ""
	_, err = keys.NewVaultProvider(t.Context(), cfg)
	if !errors.Is(err, keys.ErrVaultUnreachable) || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("untrusted certificate: %v, want ErrVaultUnreachable naming the certificate", err)
	}
}

func TestSealedVault(t *testing.T) {
	tv := startVault(t)
	p := tv.provider(t)
	s, err := p.Signer(t.Context(), keys.PurposeMessageSigning)
	if err != nil {
		t.Fatal(err)
	}
	if err := tv.root.Sys().Seal(); err != nil {
		t.Fatal(err)
	}

	_, err = keys.NewVaultProvider(t.Context(), tv.config(tv.token))
	if !errors.Is(err, keys.ErrVaultSealed) || !strings.Contains(err.Error(), tv.addr) {
		t.Fatalf("start against a sealed vault: %v, want ErrVaultSealed naming %s", err, tv.addr)
	}
	if err := p.Health(t.Context()); !errors.Is(err, keys.ErrVaultSealed) {
		t.Fatalf("Health: %v, want ErrVaultSealed", err)
	}
	digest := sha256.Sum256([]byte("m"))
	if _, err := s.Sign(rand.Reader, digest[:], crypto.SHA256); !errors.Is(err, keys.ErrVaultSealed) {
		t.Fatalf("sign with a sealed vault: %v, want ErrVaultSealed", err)
	}
	if _, _, err := p.NewDataKey(t.Context()); !errors.Is(err, keys.ErrVaultSealed) {
		t.Fatalf("data key with a sealed vault: %v, want ErrVaultSealed", err)
	}
}

func TestUnreachableVault(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there any more: connection refused

	start := time.Now()
	_, err = keys.NewVaultProvider(t.Context(), keys.VaultConfig{Address: addr, Token: "hvs.unused", Clock: clock.System()})
	if !errors.Is(err, keys.ErrVaultUnreachable) || !strings.Contains(err.Error(), addr) {
		t.Fatalf("err = %v, want ErrVaultUnreachable naming %s", err, addr)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v to notice a refused connection", d)
	}
}

func TestPermissionDenied(t *testing.T) {
	tv := startVault(t)
	if err := tv.root.Sys().PutPolicy("deny-all", `path "*" { capabilities = ["deny"] }`); err != nil {
		t.Fatal(err)
	}
	if err := tv.root.Sys().PutPolicy("kv-only", `path "kv/data/gateway/*" { capabilities = ["read"] }`); err != nil {
		t.Fatal(err)
	}
	if err := tv.root.Sys().PutPolicy("no-sign", strings.Replace(gatewayPolicy,
		`path "transit/sign/*" { capabilities = ["update"] }`, `path "transit/sign/*" { capabilities = ["deny"] }`, 1)); err != nil {
		t.Fatal(err)
	}
	noDefault := true
	tests := []struct {
		name string
		req  *api.TokenCreateRequest
		path string
	}{
		{"deny everything", &api.TokenCreateRequest{Policies: []string{"deny-all"}, NoDefaultPolicy: noDefault}, "auth/token/lookup-self"},
		{"no transit", &api.TokenCreateRequest{Policies: []string{"kv-only"}}, "transit/keys/" + signingKey},
		{"no KV", &api.TokenCreateRequest{Policies: []string{"default"}}, "kv/data/" + decryptionPath},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := keys.NewVaultProvider(t.Context(), tv.config(tv.newToken(t, tt.req)))
			if !errors.Is(err, keys.ErrVaultPermission) {
				t.Fatalf("err = %v, want ErrVaultPermission", err)
			}
			var ve *keys.VaultError
			if !errors.As(err, &ve) || ve.Path != tt.path || !strings.Contains(err.Error(), tt.path) {
				t.Fatalf("err = %v, want one naming %s", err, tt.path)
			}
		})
	}

	t.Run("sign denied", func(t *testing.T) {
		token := tv.newToken(t, &api.TokenCreateRequest{Policies: []string{"no-sign"}})
		p, err := keys.NewVaultProvider(t.Context(), tv.config(token))
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		s, err := p.Signer(t.Context(), keys.PurposeMessageSigning)
		if err != nil {
			t.Fatal(err)
		}
		digest := sha256.Sum256([]byte("m"))
		_, err = s.Sign(rand.Reader, digest[:], crypto.SHA256)
		want := "transit/sign/" + signingKey + "/sha2-256"
		if !errors.Is(err, keys.ErrVaultPermission) || !strings.Contains(err.Error(), want) {
			t.Fatalf("err = %v, want ErrVaultPermission naming %s", err, want)
		}
	})
}

func TestTokenRenewal(t *testing.T) {
	tv := startVault(t)
	const ttl = 3 * time.Second
	renewable := true
	req := func() *api.TokenCreateRequest {
		return &api.TokenCreateRequest{Policies: []string{"gateway"}, TTL: ttl.String(), ExplicitMaxTTL: "5m", Renewable: &renewable}
	}
	watched, control := tv.newToken(t, req()), tv.newToken(t, req())

	p, err := keys.NewVaultProvider(t.Context(), tv.config(watched))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	s, err := p.Signer(t.Context(), keys.PurposeMessageSigning)
	if err != nil {
		t.Fatal(err)
	}

	time.Sleep(2*ttl + time.Second) // well past the token's TTL

	digest := sha256.Sum256([]byte("m"))
	if _, err := s.Sign(rand.Reader, digest[:], crypto.SHA256); err != nil {
		t.Fatalf("sign past the TTL with renewal running: %v", err)
	}
	// The control token, equal but not renewed, has expired.
	cc, err := tv.root.Clone()
	if err != nil {
		t.Fatal(err)
	}
	cc.SetToken(control)
	if _, err := cc.Auth().Token().LookupSelf(); err == nil {
		t.Fatal("the control token is still valid: the test proves nothing")
	}
	// The watched token's TTL was extended.
	info, err := tv.root.Auth().Token().Lookup(watched)
	if err != nil {
		t.Fatal(err)
	}
	if left, _ := info.TokenTTL(); left <= 0 || left > ttl {
		t.Fatalf("watched token TTL %v, want in (0, %v]", left, ttl)
	}
}

func TestTokenFileReplacement(t *testing.T) {
	tv := startVault(t)
	renewable := true
	// A token that renewal cannot keep: its maximum TTL is near.
	first := tv.newToken(t, &api.TokenCreateRequest{Policies: []string{"gateway"}, TTL: "2s", ExplicitMaxTTL: "3s", Renewable: &renewable})
	second := tv.newToken(t, &api.TokenCreateRequest{Policies: []string{"gateway"}, TTL: "1h"})

	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte(first+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := tv.config("")
	cfg.TokenFile = file
	cfg.TokenFilePoll = 100 * time.Millisecond
	p, err := keys.NewVaultProvider(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	// The agent writes the next token (atomically, as Vault Agent does).
	tmp := file + ".new"
	if err := os.WriteFile(tmp, []byte(second+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, file); err != nil {
		t.Fatal(err)
	}

	time.Sleep(5 * time.Second) // past the first token's maximum TTL
	if _, _, err := p.NewDataKey(t.Context()); err != nil {
		t.Fatalf("after the first token expired: %v", err)
	}

	// A token file readable by others is refused at start.
	if err := os.Chmod(file, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := keys.NewVaultProvider(t.Context(), cfg); !errors.Is(err, keys.ErrInsecureFile) {
		t.Fatalf("world-readable token file: %v, want ErrInsecureFile", err)
	}
}

func BenchmarkTransitSign(b *testing.B) {
	tv := startVault(b)
	p := tv.provider(b)
	digest := sha256.Sum256([]byte("benchmark"))
	for _, bc := range []struct {
		name    string
		purpose keys.Purpose
		input   []byte
		opts    crypto.SignerOpts
	}{
		{"ES256", keys.PurposeMessageSigning, digest[:], crypto.SHA256},
		{"Ed25519", keys.PurposeJournalCheckpoint, []byte("checkpoint\n"), crypto.Hash(0)},
		{"PS256-RSA3072", keys.PurposeMessageSigningRSA, digest[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s, err := p.Signer(b.Context(), bc.purpose)
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := s.Sign(rand.Reader, bc.input, bc.opts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkUnwrapDataKey(b *testing.B) {
	tv := startVault(b)
	p := tv.provider(b)
	_, wrapped, err := p.NewDataKey(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := p.UnwrapDataKey(b.Context(), wrapped); err != nil {
			b.Fatal(err)
		}
	}
}
