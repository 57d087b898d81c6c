package envelope

import (
	"bytes"
	"context"
	"crypto"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/psykosocial/exchange/internal/testenv"
)

// interopDir holds the Node script and its lockfile (jose at an exact 6.x).
const interopDir = "../../conformance/interop"

// npmInstall installs the script's dependencies once per test binary, with
// npm ci from the lockfile, unless node_modules already has them (.ci/run
// installs them before go test; a laptop gets them on the first run).
var npmInstall = sync.OnceValues(func() ([]byte, error) {
	if _, err := os.Stat(filepath.Join(interopDir, "node_modules", "jose", "package.json")); err == nil {
		return nil, nil
	}
	cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund")
	cmd.Dir = interopDir
	return cmd.CombinedOutput()
})

// node returns a function that runs interop.mjs in a mode with a spec.
func node(t *testing.T) func(mode string, spec any) []byte {
	t.Helper()
	nodePath := testenv.RequireTool(t, "node", "apt-get install nodejs, or any Node.js >= 20")
	testenv.RequireTool(t, "npm", "apt-get install npm")
	if out, err := npmInstall(); err != nil {
		testenv.Missing(t, "cannot install conformance/interop/node_modules with npm ci: "+err.Error()+"\n"+string(out))
	}
	script, err := filepath.Abs(filepath.Join(interopDir, "interop.mjs"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	n := 0
	return func(mode string, spec any) []byte {
		t.Helper()
		n++
		path := filepath.Join(dir, "spec-"+strconv.Itoa(n)+".json")
		writeJSON(t, path, spec)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		var stderr bytes.Buffer
		cmd := exec.CommandContext(ctx, nodePath, script, mode, path)
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("node interop.mjs %s: %v\n%s", mode, err, stderr.String())
		}
		return out
	}
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// writeJWK writes key as a JWK file for one algorithm and returns its path.
func writeJWK(t *testing.T, name string, key crypto.PublicKey, alg string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name+".jwk")
	b, err := (&jose.JSONWebKey{Key: key, Algorithm: alg}).MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

type protectedHeaders struct {
	JWE     map[string]any `json:"jwe"`
	JWS     map[string]any `json:"jws"`
	Payload string         `json:"payload"`
}

// TestInteropGoSealsJoseOpens: npm jose decrypts and verifies what Seal makes.
func TestInteropGoSealsJoseOpens(t *testing.T) {
	run := node(t)
	for _, s := range suites(t) {
		t.Run(s.name, func(t *testing.T) {
			w := newWorld(t, s)
			sealed := w.seal(KindRegistration)
			envPath := filepath.Join(t.TempDir(), "envelope.jwe")
			if err := os.WriteFile(envPath, sealed.Envelope, 0o600); err != nil {
				t.Fatal(err)
			}
			out := run("open", map[string]string{
				"envelope":     envPath,
				"recipientKey": writeJWK(t, "recipient", s.recipient, string(s.keyAlg)),
				"senderKey":    writeJWK(t, "sender", s.sender.Public(), string(s.sigAlg)),
				"keyAlg":       string(s.keyAlg),
				"sigAlg":       string(s.sigAlg),
			})
			var got protectedHeaders
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			if got.Payload != payload {
				t.Errorf("payload %q", got.Payload)
			}
			if got.JWE["iss"] != sender || got.JWE["aud"] != recipient || got.JWE["cty"] != "JOSE" || got.JWE["alg"] != string(s.keyAlg) || got.JWE["enc"] != "A256GCM" {
				t.Errorf("JWE header %v", got.JWE)
			}
			want := map[string]any{"alg": string(s.sigAlg), "typ": TypRegistration, "cty": ContentTypeRegion, "kid": w.senderKey.KeyID(),
				"iss": sender, "aud": recipient, "iat": float64(t0.Unix()), "exp": float64(sealed.Header.Expires.Unix()), "jti": sealed.Header.ID}
			for k, v := range want {
				if got.JWS[k] != v {
					t.Errorf("JWS %s = %v, want %v", k, got.JWS[k], v)
				}
			}
		})
	}
}

// TestInteropJoseSealsGoOpens: Open accepts what npm jose makes with
// CompactSign inside CompactEncrypt and the same header parameters.
func TestInteropJoseSealsGoOpens(t *testing.T) {
	run := node(t)
	for _, s := range suites(t) {
		t.Run(s.name, func(t *testing.T) {
			w := newWorld(t, s)
			id := uuid(t)
			out := run("seal", map[string]any{
				"payload":      payload,
				"senderKey":    writeJWK(t, "sender", s.sender, string(s.sigAlg)),
				"recipientKey": writeJWK(t, "recipient", publicOf(s.recipient), string(s.keyAlg)),
				"sigAlg":       string(s.sigAlg),
				"keyAlg":       string(s.keyAlg),
				"jwsHeader": map[string]any{
					"typ": TypWithdrawal, "cty": ContentTypeRegion, "kid": w.senderKey.KeyID(),
					"iss": sender, "aud": recipient, "iat": t0.Unix(), "exp": t0.Unix() + 300, "jti": id,
				},
				"jweHeader": map[string]any{"kid": w.dec.KeyID(), "iss": sender, "aud": recipient},
			})
			got, err := w.opener.Open(context.Background(), bytes.TrimSpace(out), w.expect)
			if err != nil {
				t.Fatalf("Open: %v\n%s", err, out)
			}
			if string(got.Payload) != payload || got.Sender != sender || got.Header.ID != id || got.Header.Kind != KindWithdrawal {
				t.Errorf("opened %+v", got.Header)
			}
			if got.Digest != DigestOf([]byte(got.Signed)) {
				t.Error("digest")
			}
		})
	}
}

// TestInteropReceipt: npm jose verifies a receipt that SignReceipt makes,
// and its payload is the canonical bytes.
func TestInteropReceipt(t *testing.T) {
	run := node(t)
	for _, s := range suites(t) {
		t.Run(s.name, func(t *testing.T) {
			w := newWorld(t, s)
			token, r, err := w.sealer.SignReceipt(context.Background(), Receipt{
				MessageID: uuid(t), PayloadDigest: DigestOf([]byte("x")), Sender: GatewayID, Recipient: sender, Outcome: OutcomeReceived,
			})
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "receipt.jws")
			if err := os.WriteFile(path, token, 0o600); err != nil {
				t.Fatal(err)
			}
			out := run("verify", map[string]string{"token": path, "key": writeJWK(t, "sender", s.sender.Public(), string(s.sigAlg)), "sigAlg": string(s.sigAlg)})
			var got protectedHeaders
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			canon, _ := r.MarshalCanonical()
			if got.Payload != string(canon) || got.JWS["typ"] != TypReceipt || got.JWS["iss"] != sender || got.JWS["aud"] != GatewayID {
				t.Errorf("jose saw %+v", got)
			}
		})
	}
}
