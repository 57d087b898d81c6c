package main

// Helpers of the tests that run the gateway binary as a child process
// (the replicas test here, the crash test behind its build tag).

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/psykosocial/exchange/certs"
	"github.com/psykosocial/exchange/internal/journal"
)

// buildGateway builds the binary of this package into a temporary directory.
func buildGateway(t *testing.T, ctx context.Context) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatal("the go tool is not on PATH")
	}
	bin := filepath.Join(t.TempDir(), "gateway")
	if out, err := exec.CommandContext(ctx, goTool, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// gatewayProc is one "gateway serve" child process.
type gatewayProc struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan error
	// base is the public listener's URL from the banner.
	base string
}

// bannerAddr finds the public listener in the banner of either mode.
var bannerAddr = regexp.MustCompile(`listening on (https://\S+)`)

// startGateway starts "serve --dev" of the binary on data and port and
// waits for its banner.
func startGateway(t *testing.T, bin, data string, port int) *gatewayProc {
	t.Helper()
	return startProc(t, bin, nil, "serve", "--dev", "-data", data, "-port", strconv.Itoa(port), "-operator-port", "0")
}

// startProc starts the binary with args and waits for the banner. The
// child gets this process's environment less every GATEWAY_ variable (no
// configuration of the environment's), plus environ ("NAME=value").
func startProc(t *testing.T, bin string, environ []string, args ...string) *gatewayProc {
	t.Helper()
	cmd := exec.Command(bin, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GATEWAY_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, environ...)
	p := &gatewayProc{cmd: cmd, out: &syncBuffer{}, done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- cmd.Wait() }()
	deadline := time.Now().Add(time.Minute)
	for {
		if m := bannerAddr.FindStringSubmatch(p.out.String()); m != nil {
			p.base = m[1]
			return p
		}
		select {
		case err := <-p.done:
			t.Fatalf("serve ended at start: %v\n%s", err, p.out)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.cmd.Process.Kill()
			t.Fatalf("no banner:\n%s", p.out)
		}
	}
}

// kill9 kills the process with SIGKILL and waits for it.
func (p *gatewayProc) kill9(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := <-p.done; err == nil {
		t.Fatal("serve ended normally, not killed")
	}
}

// stop ends the process gracefully (SIGINT): the journal signs its last checkpoint.
func (p *gatewayProc) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	p.wait(t)
}

// wait waits for the process to end cleanly after a SIGINT.
func (p *gatewayProc) wait(t *testing.T) {
	t.Helper()
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("serve did not stop cleanly: %v\n%s", err, p.out)
		}
	case <-time.After(shutdownTimeout + 10*time.Second):
		p.cmd.Process.Kill()
		t.Fatal("serve did not shut down")
	}
}

// devJournalVerifierKey is the note verifier key of the journal that the
// development key set in paths signs.
func devJournalVerifierKey(t *testing.T, paths certs.Paths) string {
	t.Helper()
	jkey, err := certs.ReadKeyFile(filepath.Join(paths.Gateway(), "journal.key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	vkey, err := journal.VerifierKey(defaultJournalOrigin, jkey.(ed25519.PrivateKey).Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	return vkey
}

// exportEntry is what the tests read of an exported entry.
type exportEntry struct {
	Event       string `json:"event"`
	Actor       string `json:"actor"`
	Counterpart string `json:"counterpart"`
	RecordID    string `json:"record_id"`
	MessageID   string `json:"message_id"`
}

// exportReport is what exportAndVerify saw.
type exportReport struct {
	entries []exportEntry
	// checkpoints is the number of signed checkpoints in the export.
	checkpoints int
	// verify is gateway audit verify's report.
	verify string
}

// exportAndVerify exports the whole journal with gateway audit export
// from source (-sqlite FILE, or -postgres URL -schema NAME), verifies it
// with gateway audit verify -require-full, and returns its entries.
func exportAndVerify(t *testing.T, vkey string, source ...string) []exportEntry {
	t.Helper()
	return exportAndVerifyReport(t, vkey, source...).entries
}

// exportAndVerifyReport is exportAndVerify with the checkpoints counted.
func exportAndVerifyReport(t *testing.T, vkey string, source ...string) exportReport {
	t.Helper()
	export := filepath.Join(t.TempDir(), "export.jsonl")
	args := append(append([]string{"audit", "export"}, source...), "-o", export)
	if code, _, errs := runCmd(t, "", args...); code != exitOK || strings.Contains(errs, "not exported") {
		t.Fatalf("audit export: %d %s", code, errs)
	}
	code, out, errs := runCmd(t, "", "audit", "verify", "-key", vkey, "-require-full", export)
	if code != exitOK {
		t.Fatalf("audit verify: %d\n%s%s", code, out, errs)
	}
	f, err := os.Open(export)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rep := exportReport{verify: out}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var line struct {
			Entry      *exportEntry    `json:"entry"`
			Checkpoint json.RawMessage `json:"checkpoint"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatal(err)
		}
		if line.Entry != nil {
			rep.entries = append(rep.entries, *line.Entry)
		}
		if line.Checkpoint != nil {
			rep.checkpoints++
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rep
}
