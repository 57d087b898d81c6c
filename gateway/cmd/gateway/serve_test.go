package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/psykosocial/exchange/internal/clock"
	"github.com/psykosocial/exchange/internal/envelope"
	"github.com/psykosocial/exchange/internal/testenv"
)

// syncBuffer is a bytes buffer safe for the server's goroutines and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// devServer runs "gateway serve --dev" in this process on free loopback
// ports until the test ends, and returns its banner.
type devServer struct {
	stdout, stderr *syncBuffer
	stop           func() int
	base, curl     string
	// metrics is the operator listener's /metrics URL.
	metrics string
}

func startDev(t *testing.T, data string) *devServer { return startDevEnv(t, data, nil) }

// startDevEnv is startDev with the environment variables of environ.
func startDevEnv(t *testing.T, data string, environ map[string]string) *devServer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &devServer{stdout: &syncBuffer{}, stderr: &syncBuffer{}}
	done := make(chan struct{})
	var code int
	// The system clock: curl and Go's TLS client judge the development
	// certificates at the wall-clock time.
	e := &env{stdin: strings.NewReader(""), stdout: s.stdout, stderr: s.stderr, clock: clock.System(),
		getenv: func(k string) string { return environ[k] }}
	go func() {
		defer close(done)
		code = run(ctx, e, []string{"serve", "--dev", "-data", data, "-port", "0", "-operator-port", "0"})
	}()
	s.stop = func() int {
		cancel()
		select {
		case <-done:
		case <-time.After(shutdownTimeout + 5*time.Second):
			t.Fatal("serve did not shut down")
		}
		return code
	}
	t.Cleanup(func() { s.stop() })
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			t.Fatalf("serve ended with %d: %s %s", code, s.stdout, s.stderr)
		case <-time.After(50 * time.Millisecond):
		}
		out := s.stdout.String()
		if !strings.Contains(out, "\n  curl ") {
			continue
		}
		sc := bufio.NewScanner(strings.NewReader(out))
		for sc.Scan() {
			line := sc.Text()
			if strings.HasPrefix(line, "listening on https://") {
				s.base = strings.Fields(line)[2]
			}
			if strings.HasPrefix(line, "operator metrics on http://") {
				s.metrics = strings.Fields(line)[3]
			}
			if strings.HasPrefix(line, "  curl ") {
				s.curl = strings.TrimSpace(line)
			}
		}
		return s
	}
	t.Fatalf("no banner: %s %s", s.stdout, s.stderr)
	return nil
}

func TestServeDevStartsWithZeroConfiguration(t *testing.T) {
	if testing.Short() {
		t.Skip("creates a development PKI")
	}
	data := t.TempDir()
	// Relative paths, as a newcomer's shell would have them.
	t.Chdir(data)
	s := startDev(t, "gateway-data")
	root, err := os.ReadFile(filepath.Join("gateway-data", "pki", "ca", "root.cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(root)
	anon := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	get := func(path string) (int, string, []byte) {
		resp, err := anon.Get(s.base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), b
	}
	if code, _, b := get("/healthz"); code != 200 {
		t.Fatalf("healthz %d %s", code, b)
	}
	code, _, b := get("/readyz")
	if !strings.Contains(string(b), "Østdanmark") {
		t.Errorf("readyz names no gap: %d %s", code, b)
	}
	if code, ct, b := get("/.well-known/jwks.json"); code != 200 || ct != "application/jwk-set+json" {
		t.Errorf("jwks %d %s", code, b)
	} else if sig, enc, err := envelope.ParseJWKS(b); err != nil || len(sig) == 0 || len(enc) == 0 {
		t.Errorf("jwks: %v", err)
	}
	if code, ct, b := get("/v1/mailbox"); code != 401 || ct != "application/problem+json" {
		t.Errorf("mailbox without a client certificate: %d %s", code, b)
	}

	// The banner's curl line works as printed (the recipe in the README).
	curl := testenv.RequireTool(t, "curl", "apt-get install curl")
	args := strings.Fields(s.curl)[1:]
	out, err := exec.Command(curl, append([]string{"-sS", "-w", "\n%{http_code}"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", s.curl, err, out)
	}
	body, status, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	status = strings.TrimSpace(status)
	var doc struct {
		Messages []json.RawMessage `json:"messages"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil || status != "200" || doc.Messages == nil {
		t.Fatalf("%s: %s %s", s.curl, status, body)
	}

	// The operator's DPO certificate the banner names searches the journal.
	if !strings.Contains(s.stderr.String()+s.stdout.String(), filepath.Join("gateway-data", "pki", "private", "operator", "dpo-*.cert.pem")) {
		t.Errorf("the banner does not name the operator's DPO certificate: %s", s.stderr.String())
	}
	dpoCerts, _ := filepath.Glob(filepath.Join("gateway-data", "pki", "private", "operator", "dpo-*.cert.pem"))
	if len(dpoCerts) != 1 {
		t.Fatalf("operator DPO certificates: %v", dpoCerts)
	}
	kp, err := tls.LoadX509KeyPair(dpoCerts[0], strings.TrimSuffix(dpoCerts[0], ".cert.pem")+".key.pem")
	if err != nil {
		t.Fatal(err)
	}
	dpo := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{kp}}}}
	resp, err := dpo.Post(s.base+"/v1/audit/search", "application/json", strings.NewReader(`{"events":["config_in_force"]}`))
	if err != nil {
		t.Fatal(err)
	}
	ab, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var page struct {
		SeesAll bool              `json:"sees_all"`
		Results []json.RawMessage `json:"results"`
	}
	if err := json.Unmarshal(ab, &page); err != nil || resp.StatusCode != 200 || !page.SeesAll || len(page.Results) == 0 {
		t.Errorf("the operator's DPO searches: %d %s", resp.StatusCode, ab)
	}

	if code := s.stop(); code != exitOK {
		t.Fatalf("shutdown: exit %d: %s", code, s.stderr)
	}
	// A second start reuses the PKI and the database.
	s2 := startDev(t, "gateway-data")
	if strings.Contains(s2.stderr.String(), "development PKI created") {
		t.Error("the second start created the PKI again")
	}
	if code := s2.stop(); code != exitOK {
		t.Fatalf("second shutdown: exit %d: %s", code, s2.stderr)
	}
}

func TestServeUsage(t *testing.T) {
	for _, args := range [][]string{{"serve"}, {"serve", "--dev", "-config", "x.json"}, {"serve", "--dev", "extra"},
		{"serve", "-config", "x.json", "-store", "postgres"}, {"serve", "-config", "x.json", "-postgres-schema", "gw"}} {
		if code, _, errs := runCmd(t, "", args...); code != exitUsage || !strings.Contains(errs, "usage: gateway serve") {
			t.Errorf("%v: code %d, stderr %q", args, code, errs)
		}
	}
}

func TestServeExampleConfigIsValid(t *testing.T) {
	c, err := loadServeConfig("gateway.example.json")
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"GATEWAY_POSTGRES_URL": "postgres://gw@db.internal/gateway?sslmode=verify-full",
		"GATEWAY_LISTEN": "10.0.0.5:8443"}
	c.applyEnv(func(k string) string { return env[k] })
	c = c.withDefaults()
	if err := c.validate(false); err != nil {
		t.Fatalf("the example with GATEWAY_POSTGRES_URL: %v", err)
	}
	if c.Listen != "10.0.0.5:8443" || c.Store.PostgresURL == "" || !*c.Trust.RequireCRL {
		t.Errorf("overrides or defaults not applied: %+v", c)
	}
	// Without the secret the error names the setting and the variable.
	c, _ = loadServeConfig("gateway.example.json")
	c = c.withDefaults()
	if err := c.validate(false); err == nil || !strings.Contains(err.Error(), "store.postgres_url") || !strings.Contains(err.Error(), "GATEWAY_POSTGRES_URL") {
		t.Errorf("no postgres URL: %v", err)
	}
}

func TestServeConfigErrorsNameTheSetting(t *testing.T) {
	base := func() serveConfig {
		return serveConfig{Trust: trustSettings{CertificatesDir: "/etc/certs"}}.withDefaults()
	}
	if err := base().validate(false); err != nil {
		t.Fatalf("the defaults: %v", err)
	}
	for _, c := range []struct {
		name    string
		mutate  func(*serveConfig)
		dev     bool
		setting string
	}{
		{"listen", func(c *serveConfig) { c.Listen = "nowhere" }, false, "listen:"},
		{"operator on every address", func(c *serveConfig) { c.OperatorListen = ":9090" }, false, "operator_listen:"},
		{"same address", func(c *serveConfig) { c.OperatorListen = c.Listen }, false, "operator_listen:"},
		{"driver", func(c *serveConfig) { c.Store.Driver = "mysql" }, false, "store.driver:"},
		{"postgres url with sqlite", func(c *serveConfig) { c.Store.PostgresURL = "postgres://x" }, false, "store.postgres_url:"},
		{"postgres schema with sqlite", func(c *serveConfig) { c.Store.PostgresSchema = "gw" }, false, "store.postgres_schema:"},
		{"postgres without url", func(c *serveConfig) { c.Store.Driver, c.Store.SQLitePath = "postgres", "" }, true, "GATEWAY_POSTGRES_URL"},
		{"provider", func(c *serveConfig) { c.Keys.Provider = "hsm" }, false, "keys.provider:"},
		{"vault address", func(c *serveConfig) { c.Keys.Provider = "vault" }, false, "keys.vault.address:"},
		{"vault tls", func(c *serveConfig) { c.Keys.Provider = "vault" }, false, "tls.cert_file:"},
		{"tls pair", func(c *serveConfig) { c.TLS.CertFile = "a.pem" }, false, "tls.key_file:"},
		{"east region half", func(c *serveConfig) { c.EastRegionCode = "1086" }, false, "east_region_code/east_region_cvr:"},
		{"test values", func(c *serveConfig) { c.EastRegionCode, c.EastRegionCVR = "1099", "99990007" }, false, "east_region_code:"},
		{"certificates", func(c *serveConfig) { c.Trust.CertificatesDir = "" }, false, "trust.certificates_dir:"},
		{"log level", func(c *serveConfig) { c.Log.Level = "loud" }, false, "log.level:"},
		{"log format", func(c *serveConfig) { c.Log.Format = "xml" }, false, "log.format:"},
	} {
		cfg := base()
		c.mutate(&cfg)
		err := cfg.validate(c.dev)
		if err == nil || !strings.Contains(err.Error(), c.setting) {
			t.Errorf("%s: %v, want an error naming %s", c.name, err, c.setting)
		}
	}
	// The test values are fine in --dev.
	cfg := base()
	cfg.EastRegionCode, cfg.EastRegionCVR = "1099", "99990007"
	if err := cfg.validate(true); err != nil {
		t.Errorf("test values in --dev: %v", err)
	}
	// The file is read strictly.
	dir := t.TempDir()
	for name, doc := range map[string]string{
		"unknown":   `{"listen": "127.0.0.1:1", "lisen": "x"}`,
		"duplicate": `{"listen": "127.0.0.1:1", "listen": "127.0.0.1:2"}`,
		"case":      `{"Listen": "127.0.0.1:1"}`,
		"duration":  `{"journal": {"checkpoint_interval": 10}}`,
	} {
		p := filepath.Join(dir, name+".json")
		os.WriteFile(p, []byte(doc), 0o600)
		if _, err := loadServeConfig(p); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
