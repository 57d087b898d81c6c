package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/psykosocial/exchange/certs"
	"github.com/psykosocial/exchange/internal/clock"
	"github.com/psykosocial/exchange/internal/consent"
)

// writePolicy writes the default consent policy under another version.
func writePolicy(t *testing.T, path, version string) {
	t.Helper()
	b := bytes.Replace(consent.DefaultJSON(), []byte(`"version": "dk-default-2026.2"`), []byte(`"version": "`+version+`"`), 1)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// metricsText reads the operator listener's /metrics.
func metricsText(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestServeConfigReload runs serve -config in this process and reloads its
// consent policy without a restart: through "gateway admin reload" (POST
// /reload on the operator listener) and SIGHUP; a broken policy file is
// refused naming the file, and the version in force stays; /metrics names
// the version in force; the journal holds every version put in force and
// the refusal.
func TestServeConfigReload(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the service")
	}
	data := t.TempDir()
	if code, _, errs := runCmd(t, "", "certs", "init", "-data", data); code != exitOK {
		t.Fatalf("certs init: %d %s", code, errs)
	}
	ca, _, err := certs.OpenDevCA(data, clock.System())
	if err != nil {
		t.Fatal(err)
	}
	p := ca.Paths()
	policy := filepath.Join(data, "policy.json")
	writePolicy(t, policy, "dk-test-a")
	cfg := map[string]any{"data_dir": data, "listen": "127.0.0.1:0", "operator_listen": "127.0.0.1:0",
		"directory": p.Directory(), "consent_policy": policy, "log": map[string]any{"format": "text"},
		"trust": map[string]any{"roots": []string{p.RootCert()}, "intermediates": []string{p.IssuingCert()},
			"certificates_dir": p.CertificatesDir(), "crl_dir": p.CRLDir()}}
	b, _ := json.Marshal(cfg)
	cfgFile := filepath.Join(data, "gateway.json")
	if err := os.WriteFile(cfgFile, b, 0o644); err != nil {
		t.Fatal(err)
	}
	dirBytes, err := os.ReadFile(p.Directory())
	if err != nil {
		t.Fatal(err)
	}
	digest := fmt.Sprintf("%x", sha256.Sum256(dirBytes))

	ctx, cancel := context.WithCancel(context.Background())
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	e := &env{stdin: strings.NewReader(""), stdout: stdout, stderr: stderr, clock: clock.System()}
	done := make(chan int, 1)
	go func() { done <- run(ctx, e, []string{"serve", "-config", cfgFile}) }()
	defer func() {
		cancel()
		select {
		case <-done:
		case <-time.After(shutdownTimeout + 5*time.Second):
			t.Error("serve did not shut down")
		}
	}()
	var operator string
	for deadline := time.Now().Add(time.Minute); operator == "" && time.Now().Before(deadline); {
		select {
		case code := <-done:
			t.Fatalf("serve ended with %d: %s %s", code, stdout, stderr)
		case <-time.After(50 * time.Millisecond):
		}
		sc := bufio.NewScanner(strings.NewReader(stdout.String()))
		for sc.Scan() {
			if f := strings.Fields(sc.Text()); len(f) > 0 && f[0] == "gateway" && strings.Contains(sc.Text(), "operator metrics on http://") {
				operator = strings.TrimSuffix(strings.TrimPrefix(f[len(f)-1], "http://"), "/metrics")
			}
		}
	}
	if operator == "" {
		t.Fatalf("no banner: %s %s", stdout, stderr)
	}
	metrics := "http://" + operator + "/metrics"
	info := func(policy string) string {
		return `gateway_config_info{directory_digest="` + digest + `",policy_version="` + policy + `"} 1`
	}
	if m := metricsText(t, metrics); !strings.Contains(m, info("dk-test-a")) {
		t.Fatalf("/metrics does not name the version in force (%s):\n%s", info("dk-test-a"), m)
	}

	writePolicy(t, policy, "dk-test-b")
	code, out, errs := runCmd(t, "", "admin", "reload", "-operator", operator)
	if code != exitOK || !strings.Contains(out, "consent policy dk-test-b") || !strings.Contains(out, digest) {
		t.Fatalf("admin reload: %d\n%s%s", code, out, errs)
	}
	if err := os.WriteFile(policy, []byte(`{"version": `), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs = runCmd(t, "", "admin", "reload", "-operator", operator)
	if code != exitProblems || !strings.Contains(errs, "422") || !strings.Contains(errs, "consent_policy "+policy) {
		t.Fatalf("admin reload of a broken policy: %d, want %d naming the file\n%s%s", code, exitProblems, out, errs)
	}
	m := metricsText(t, metrics)
	if !strings.Contains(m, info("dk-test-b")) || !strings.Contains(m, `gateway_config_reloads_total{outcome="refused"} 1`) {
		t.Fatalf("/metrics after the refused reload:\n%s", m)
	}

	writePolicy(t, policy, "dk-test-c")
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(metricsText(t, metrics), info("dk-test-c")); {
		if time.Now().After(deadline) {
			t.Fatalf("SIGHUP did not put dk-test-c in force: %s", stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}

	cancel()
	<-done
	done <- 0 // for the deferred wait
	export := filepath.Join(data, "export.jsonl")
	if code, _, errs := runCmd(t, "", "audit", "export", "-sqlite", filepath.Join(data, "gateway.db"), "-o", export); code != exitOK {
		t.Fatalf("audit export: %d %s", code, errs)
	}
	b, err = os.ReadFile(export)
	if err != nil {
		t.Fatal(err)
	}
	var versions []string
	refused := 0
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		// Entries are exported as their canonical leaves; the event, the
		// policy version and the reason appear in them as written.
		line := sc.Text()
		if !strings.Contains(line, "config_in_force") {
			continue
		}
		if strings.Contains(line, "reload refused") {
			refused++
			if !strings.Contains(line, policy) {
				t.Errorf("the refusal does not name the file: %s", line)
			}
			continue
		}
		for _, v := range []string{"dk-test-a", "dk-test-b", "dk-test-c"} {
			if strings.Contains(line, v) {
				versions = append(versions, v)
			}
		}
	}
	if strings.Join(versions, " ") != "dk-test-a dk-test-b dk-test-c" || refused != 1 {
		t.Fatalf("config_in_force in the journal: %v and %d refused; want dk-test-a dk-test-b dk-test-c and 1\n%s", versions, refused, stderr)
	}
}
