package keys

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/psykosocial/exchange/internal/clock"
)

func TestParseTransitSignature(t *testing.T) {
	der := []byte{0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02}
	b64 := base64.StdEncoding.EncodeToString(der)
	tests := []struct {
		in      string
		version int
		sig     []byte
	}{
		{"vault:v1:" + b64, 1, der},
		{"vault:v42:" + b64, 42, der},
		{"vault:v123456789:" + b64, 123456789, der},
		{"", 0, nil},
		{"vault:v1:", 0, nil},
		{"vault:v0:" + b64, 0, nil},
		{"vault:v01:" + b64, 0, nil},
		{"vault:v-1:" + b64, 0, nil},
		{"vault:v+1:" + b64, 0, nil},
		{"vault:v1234567890:" + b64, 0, nil},
		{"vault:vx:" + b64, 0, nil},
		{"vault:v:" + b64, 0, nil},
		{"vault:1:" + b64, 0, nil},
		{"Vault:v1:" + b64, 0, nil},
		{"vault:v1" + b64, 0, nil},
		{" vault:v1:" + b64, 0, nil},
		{"vault:v1:" + b64 + "\n", 0, nil},
		{"vault:v1:" + strings.TrimRight(b64, "="), 0, nil}, // unpadded
		{"vault:v1:" + base64.RawURLEncoding.EncodeToString([]byte{0xfb, 0xff}), 0, nil}, // JWS marshaling is not asked for
		{"vault:v1:" + strings.Repeat("A", maxVaultSignatureBytes), 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			v, sig, err := parseTransitSignature(tt.in)
			if tt.sig == nil {
				if err == nil {
					t.Fatalf("accepted: version %d, %x", v, sig)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if v != tt.version || string(sig) != string(tt.sig) {
				t.Errorf("got v%d %x, want v%d %x", v, sig, tt.version, tt.sig)
			}
		})
	}
}

func TestTransitSignRequest(t *testing.T) {
	d256 := make([]byte, 32)
	d384 := make([]byte, 48)
	d512 := make([]byte, 64)
	b := base64.StdEncoding.EncodeToString
	tests := []struct {
		name   string
		kind   keyKind
		digest []byte
		opts   crypto.SignerOpts
		suffix string
		body   map[string]any // nil: refused
	}{
		{"ES256", kindECDSA, d256, crypto.SHA256, "/sha2-256",
			map[string]any{"input": b(d256), "prehashed": true, "key_version": 3, "marshaling_algorithm": "asn1"}},
		{"ES384 hash", kindECDSA, d384, crypto.SHA384, "/sha2-384",
			map[string]any{"input": b(d384), "prehashed": true, "key_version": 3, "marshaling_algorithm": "asn1"}},
		{"PS256", kindRSA, d256, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256}, "/sha2-256",
			map[string]any{"input": b(d256), "prehashed": true, "key_version": 3, "signature_algorithm": "pss", "salt_length": "hash"}},
		{"PSS auto salt", kindRSA, d256, &rsa.PSSOptions{Hash: crypto.SHA256}, "/sha2-256",
			map[string]any{"input": b(d256), "prehashed": true, "key_version": 3, "signature_algorithm": "pss", "salt_length": "auto"}},
		{"PSS salt 20", kindRSA, d512, &rsa.PSSOptions{SaltLength: 20, Hash: crypto.SHA512}, "/sha2-512",
			map[string]any{"input": b(d512), "prehashed": true, "key_version": 3, "signature_algorithm": "pss", "salt_length": "20"}},
		{"RS256", kindRSA, d256, crypto.SHA256, "/sha2-256",
			map[string]any{"input": b(d256), "prehashed": true, "key_version": 3, "signature_algorithm": "pkcs1v15"}},
		{"Ed25519", kindEd25519, []byte("checkpoint body\n"), crypto.Hash(0), "",
			map[string]any{"input": b([]byte("checkpoint body\n")), "key_version": 3}},
		{"Ed25519 options", kindEd25519, []byte("m"), &ed25519.Options{}, "",
			map[string]any{"input": b([]byte("m")), "key_version": 3}},
		{"Ed25519ph refused", kindEd25519, d512, &ed25519.Options{Hash: crypto.SHA512}, "", nil},
		{"Ed25519ctx refused", kindEd25519, []byte("m"), &ed25519.Options{Context: "x"}, "", nil},
		{"Ed25519 with a hash refused", kindEd25519, d256, crypto.SHA256, "", nil},
		{"ECDSA without hash refused", kindECDSA, d256, crypto.Hash(0), "", nil},
		{"SHA-1 refused", kindECDSA, make([]byte, 20), crypto.SHA1, "", nil},
		{"wrong digest size refused", kindECDSA, d384, crypto.SHA256, "", nil},
		{"nil options refused", kindECDSA, d256, nil, "", nil},
		{"PSS bad salt refused", kindRSA, d256, &rsa.PSSOptions{SaltLength: -7, Hash: crypto.SHA256}, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			suffix, body, err := transitSignRequest(tt.kind, 3, tt.digest, tt.opts)
			if tt.body == nil {
				if !errors.Is(err, ErrUnsupported) {
					t.Fatalf("err = %v, want ErrUnsupported", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if suffix != tt.suffix {
				t.Errorf("suffix %q, want %q", suffix, tt.suffix)
			}
			if diff := cmp.Diff(tt.body, body); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseTransitKey(t *testing.T) {
	ec := newP256(t)
	der, _ := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	ecPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	edB64 := base64.StdEncoding.EncodeToString(edPub)

	answer := func(typ string, latest any, keys map[string]any) map[string]any {
		return map[string]any{"type": typ, "latest_version": latest, "keys": keys}
	}
	entry := func(pub string) map[string]any { return map[string]any{"public_key": pub, "name": "x"} }
	tests := []struct {
		name    string
		data    map[string]any
		typ     string
		version int
		pub     crypto.PublicKey // nil: refused
	}{
		{"ecdsa latest 2", answer("ecdsa-p256", json.Number("2"), map[string]any{"1": entry("junk"), "2": entry(ecPEM)}), "ecdsa-p256", 2, &ec.PublicKey},
		{"ed25519", answer("ed25519", json.Number("1"), map[string]any{"1": entry(edB64)}), "ed25519", 1, edPub},
		{"no latest", answer("ed25519", nil, map[string]any{"1": entry(edB64)}), "", 0, nil},
		{"latest 0", answer("ed25519", json.Number("0"), map[string]any{"0": entry(edB64)}), "", 0, nil},
		{"latest missing", answer("ed25519", json.Number("2"), map[string]any{"1": entry(edB64)}), "", 0, nil},
		{"derived (empty)", answer("ed25519", json.Number("1"), map[string]any{"1": entry("")}), "", 0, nil},
		{"short ed25519", answer("ed25519", json.Number("1"), map[string]any{"1": entry(edB64[:20])}), "", 0, nil},
		{"PEM with trailer", answer("ecdsa-p256", json.Number("1"), map[string]any{"1": entry(ecPEM + "x")}), "", 0, nil},
		{"symmetric key", answer("aes256-gcm96", json.Number("1"), map[string]any{"1": json.Number("1700000000")}), "", 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			typ, v, pub, err := parseTransitKey(tt.data)
			if tt.pub == nil {
				if err == nil {
					t.Fatalf("accepted: %s v%d %T", typ, v, pub)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			eq, _ := pub.(interface{ Equal(crypto.PublicKey) bool })
			if typ != tt.typ || v != tt.version || eq == nil || !eq.Equal(tt.pub) {
				t.Errorf("got %s v%d %T", typ, v, pub)
			}
		})
	}
}

func TestVaultConfigValidation(t *testing.T) {
	clk := clock.Fixed(testNow)
	tests := []struct {
		name string
		cfg  VaultConfig
		ok   bool
	}{
		{"https", VaultConfig{Address: "https://vault.example:8200", Token: "t", Clock: clk}, true},
		{"http loopback", VaultConfig{Address: "http://127.0.0.1:8200", Token: "t", Clock: clk}, true},
		{"http localhost", VaultConfig{Address: "http://localhost:8200", Token: "t", Clock: clk}, true},
		{"http ::1", VaultConfig{Address: "http://[::1]:8200", Token: "t", Clock: clk}, true},
		{"http remote", VaultConfig{Address: "http://vault.example:8200", Token: "t", Clock: clk}, false},
		{"http private range", VaultConfig{Address: "http://10.0.0.5:8200", Token: "t", Clock: clk}, false},
		{"no address", VaultConfig{Token: "t", Clock: clk}, false},
		{"unix scheme", VaultConfig{Address: "unix:///run/vault.sock", Token: "t", Clock: clk}, false},
		{"no token", VaultConfig{Address: "https://vault.example", Clock: clk}, false},
		{"token and token file", VaultConfig{Address: "https://vault.example", Token: "t", TokenFile: "/x", Clock: clk}, false},
		{"no clock", VaultConfig{Address: "https://vault.example:8200", Token: "t"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.withDefaults().validate()
			if tt.ok != (err == nil) {
				t.Fatalf("validate = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrNotConfigured) {
				t.Errorf("err = %v, want ErrNotConfigured", err)
			}
		})
	}
	d := VaultConfig{}.withDefaults()
	if d.TransitMount != "transit" || d.KVMount != "secret" || d.SigningKey == "" || d.SigningRSAKey != "" ||
		d.JournalKey == "" || d.DataKey == "" || d.RequestTimeout <= 0 || d.DialTimeout <= 0 || d.Logger == nil {
		t.Errorf("defaults: %+v", d)
	}
}

func TestReadTokenFile(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name     string
		content  string
		mode     os.FileMode
		want     string
		sentinel error
	}{
		{"plain", "hvs.abc\n", 0o600, "hvs.abc", nil},
		{"readable", "hvs.abc\n", 0o640, "", ErrInsecureFile},
		{"empty", "\n", 0o600, "", ErrInvalidKey},
		{"two tokens", "a b", 0o600, "", ErrInvalidKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.name)
			writeFile(t, path, []byte(tt.content), tt.mode)
			got, err := readTokenFile(path)
			if tt.sentinel != nil {
				if !errors.Is(err, tt.sentinel) {
					t.Fatalf("err = %v, want %v", err, tt.sentinel)
				}
				if strings.Contains(err.Error(), "hvs.abc") {
					t.Errorf("the error shows the token: %v", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v", got, err)
			}
		})
	}
	if _, err := readTokenFile(filepath.Join(dir, "absent")); !errors.Is(err, ErrNotConfigured) {
		t.Errorf("absent token file: %v", err)
	}
}

// fakeVault answers the few Vault API paths the provider uses at start,
// with the status and body a test chooses per path.
type fakeVault struct {
	t      *testing.T
	routes map[string]func(w http.ResponseWriter, r *http.Request)
}

func (f *fakeVault) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h, ok := f.routes[r.Method+" "+r.URL.Path]
	if !ok {
		reply(w, http.StatusNotFound, map[string]any{"errors": []string{}})
		return
	}
	h(w, r)
}

func reply(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(body)
}

func answer(status int, body any) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) { reply(w, status, body) }
}

func healthy() func(http.ResponseWriter, *http.Request) {
	return answer(http.StatusOK, map[string]any{"initialized": true, "sealed": false})
}

func startFake(t *testing.T, routes map[string]func(http.ResponseWriter, *http.Request)) string {
	t.Helper()
	srv := httptest.NewServer(&fakeVault{t: t, routes: routes})
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestVaultStartErrors(t *testing.T) {
	ctx := context.Background()
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := "http://" + closed.Addr().String()
	closed.Close()

	sealed := startFake(t, map[string]func(http.ResponseWriter, *http.Request){
		"GET /v1/sys/health": answer(http.StatusOK, map[string]any{"initialized": true, "sealed": true}),
	})
	uninit := startFake(t, map[string]func(http.ResponseWriter, *http.Request){
		"GET /v1/sys/health": answer(http.StatusOK, map[string]any{"initialized": false, "sealed": true}),
	})
	denied := startFake(t, map[string]func(http.ResponseWriter, *http.Request){
		"GET /v1/sys/health":             healthy(),
		"GET /v1/auth/token/lookup-self": answer(http.StatusForbidden, map[string]any{"errors": []string{"permission denied"}}),
	})
	sealedLater := startFake(t, map[string]func(http.ResponseWriter, *http.Request){
		"GET /v1/sys/health":             healthy(),
		"GET /v1/auth/token/lookup-self": answer(http.StatusServiceUnavailable, map[string]any{"errors": []string{"Vault is sealed"}}),
	})
	kvDenied := startFake(t, map[string]func(http.ResponseWriter, *http.Request){
		"GET /v1/sys/health":                             healthy(),
		"GET /v1/auth/token/lookup-self":                 answer(http.StatusOK, map[string]any{"data": map[string]any{"ttl": 0, "renewable": false}}),
		"GET /v1/secret/data/gateway/message-decryption": answer(http.StatusForbidden, map[string]any{"errors": []string{"1 error occurred:\n\t* permission denied\n\n"}}),
	})
	kvMissing := startFake(t, map[string]func(http.ResponseWriter, *http.Request){
		"GET /v1/sys/health":             healthy(),
		"GET /v1/auth/token/lookup-self": answer(http.StatusOK, map[string]any{"data": map[string]any{"ttl": 0, "renewable": false}}),
	})
	broken := startFake(t, map[string]func(http.ResponseWriter, *http.Request){
		"GET /v1/sys/health":             healthy(),
		"GET /v1/auth/token/lookup-self": answer(http.StatusInternalServerError, map[string]any{"errors": []string{"internal error"}}),
	})

	tests := []struct {
		name     string
		addr     string
		sentinel error
		mentions []string
	}{
		{"unreachable", closedAddr, ErrVaultUnreachable, []string{closedAddr, "unreachable"}},
		{"sealed", sealed, ErrVaultSealed, []string{sealed, "sealed"}},
		{"not initialised", uninit, ErrVault, []string{"not initialised"}},
		{"token denied", denied, ErrVaultPermission, []string{"auth/token/lookup-self", "permission"}},
		{"sealed after health", sealedLater, ErrVaultSealed, []string{"sealed"}},
		{"KV denied", kvDenied, ErrVaultPermission, []string{"secret/data/gateway/message-decryption"}},
		{"KV missing", kvMissing, ErrNotConfigured, []string{"secret/data/gateway/message-decryption", "no such secret"}},
		{"server error", broken, ErrVault, []string{"HTTP 500"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := NewVaultProvider(ctx, VaultConfig{Address: tt.addr, Token: "s.secret-token-value", Clock: clock.Fixed(testNow)})
			if err == nil {
				p.Close()
				t.Fatal("started")
			}
			if !errors.Is(err, tt.sentinel) {
				t.Fatalf("err = %v, want %v", err, tt.sentinel)
			}
			var ve *VaultError
			if !errors.As(err, &ve) || ve.Address != tt.addr {
				t.Errorf("err = %#v, want a *VaultError naming %s", err, tt.addr)
			}
			for _, m := range tt.mentions {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("%q does not mention %q", err, m)
				}
			}
			if strings.Contains(err.Error(), "secret-token-value") {
				t.Errorf("the error shows the token: %v", err)
			}
		})
	}
}

// TestTransitSignerRefusesForeignSignatures checks that a signature that
// does not verify under the pinned public key (another key, another
// version) is never returned.
func TestTransitSignerRefusesForeignSignatures(t *testing.T) {
	pinned, other := newP256(t), newP256(t)
	der, _ := x509.MarshalPKIXPublicKey(&pinned.PublicKey)
	pubPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	signWith := func(k *ecdsa.PrivateKey, version int) func(http.ResponseWriter, *http.Request) {
		return func(w http.ResponseWriter, r *http.Request) {
			var body struct {
				Input string `json:"input"`
			}
			json.NewDecoder(r.Body).Decode(&body)
			digest, _ := base64.StdEncoding.DecodeString(body.Input)
			sig, err := ecdsa.SignASN1(rand.Reader, k, digest)
			if err != nil {
				t.Error(err)
			}
			reply(w, http.StatusOK, map[string]any{"data": map[string]any{
				"signature": fmt.Sprintf("vault:v%d:%s", version, base64.StdEncoding.EncodeToString(sig))}})
		}
	}
	keyAnswer := answer(http.StatusOK, map[string]any{"data": map[string]any{
		"type": "ecdsa-p256", "latest_version": 1, "keys": map[string]any{"1": map[string]any{"public_key": pubPEM}}}})

	tests := []struct {
		name string
		sign func(http.ResponseWriter, *http.Request)
		ok   bool
	}{
		{"pinned key", signWith(pinned, 1), true},
		{"another key", signWith(other, 1), false},
		{"another version", signWith(pinned, 2), false},
		{"garbage", answer(http.StatusOK, map[string]any{"data": map[string]any{"signature": "vault:v1:AAAA"}}), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := startFake(t, map[string]func(http.ResponseWriter, *http.Request){
				"GET /v1/transit/keys/gateway-signing":           keyAnswer,
				"PUT /v1/transit/sign/gateway-signing/sha2-256":  tt.sign,
				"POST /v1/transit/sign/gateway-signing/sha2-256": tt.sign,
			})
			cfg := VaultConfig{Address: addr, Token: "t", Clock: clock.Fixed(testNow)}.withDefaults()
			client, err := newVaultClient(cfg)
			if err != nil {
				t.Fatal(err)
			}
			p := &VaultProvider{cfg: cfg, client: client, log: cfg.Logger}
			s, err := p.Signer(context.Background(), PurposeMessageSigning)
			if err != nil {
				t.Fatal(err)
			}
			digest := sha256.Sum256([]byte("m"))
			sig, err := s.Sign(rand.Reader, digest[:], crypto.SHA256)
			if tt.ok {
				if err != nil || !ecdsa.VerifyASN1(&pinned.PublicKey, digest[:], sig) {
					t.Fatalf("sign: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrVault) || sig != nil {
				t.Fatalf("err = %v, want ErrVault and no signature", err)
			}
		})
	}
}

// TestTokenFilePollFollowsTheClock: once the token can no longer be
// renewed, the token file is read again each TokenFilePoll of the injected
// clock, not of the wall clock: with an hour's poll, advancing a fake clock
// by an hour picks up the new token at once.
func TestTokenFilePollFollowsTheClock(t *testing.T) {
	const oldToken, newToken = "hvs.old-token", "hvs.new-token"
	lookups := make(chan string, 4)
	addr := startFake(t, map[string]func(http.ResponseWriter, *http.Request){
		"GET /v1/auth/token/lookup-self": func(w http.ResponseWriter, r *http.Request) {
			lookups <- r.Header.Get("X-Vault-Token")
			reply(w, http.StatusOK, map[string]any{"data": map[string]any{"ttl": 3600, "renewable": false}})
		},
	})
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte(oldToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fake := clock.NewFake(testNow)
	cfg := VaultConfig{Address: addr, TokenFile: file, TokenFilePoll: time.Hour, Clock: fake}.withDefaults()
	client, err := newVaultClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	client.SetToken(oldToken)
	p := &VaultProvider{cfg: cfg, client: client, log: cfg.Logger}

	type result struct {
		token string
		ok    bool
	}
	done := make(chan result, 1)
	go func() {
		tok, _, ok := p.awaitNewToken(t.Context(), oldToken)
		done <- result{tok, ok}
	}()
	if !fake.WaitPending(t.Context().Done(), 1) {
		t.Fatal("awaitNewToken started no ticker on the injected clock")
	}
	// The agent writes the next token; nothing reads it until the poll is due.
	if err := os.WriteFile(file, []byte(newToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fake.Advance(time.Hour - time.Second)
	select {
	case <-lookups:
		t.Fatal("the token file was read before TokenFilePoll passed on the clock")
	case r := <-done:
		t.Fatalf("awaitNewToken returned %+v before TokenFilePoll passed on the clock", r)
	default:
	}
	fake.Advance(time.Second)
	if got := <-lookups; got != newToken {
		t.Fatalf("looked up with token %q, want the file's new token", got)
	}
	if r := <-done; !r.ok || r.token != newToken {
		t.Fatalf("awaitNewToken = %+v, want the new token", r)
	}
	if got := client.Token(); got != newToken {
		t.Fatalf("client token %q, want the new token", got)
	}
	if n := fake.Pending(); n != 0 {
		t.Fatalf("%d timers left pending: the ticker was not stopped", n)
	}
}
