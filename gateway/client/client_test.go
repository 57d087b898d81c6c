package client_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/psykosocial/exchange/adapters"
	"github.com/psykosocial/exchange/adapters/region"
	"github.com/psykosocial/exchange/gateway/client"
	"github.com/psykosocial/exchange/internal/clock"
	"github.com/psykosocial/exchange/internal/envelope"
	"github.com/psykosocial/exchange/internal/record"
	"github.com/psykosocial/exchange/internal/refdata"
	"github.com/psykosocial/exchange/schemas"
)

// gateway is a real "gateway serve --dev" on loopback, built from this
// module and started once for the package's tests.
var gateway struct {
	base, data string
	err        error
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := func() int {
		if testing.Short() {
			return m.Run()
		}
		dir, err := os.MkdirTemp("", "client-test-")
		if err != nil {
			panic(err)
		}
		defer os.RemoveAll(dir)
		bin := filepath.Join(dir, "gateway")
		if out, err := exec.Command("go", "build", "-o", bin, "github.com/psykosocial/exchange/gateway/cmd/gateway").CombinedOutput(); err != nil {
			gateway.err = errors.New("go build: " + err.Error() + ": " + string(out))
			return m.Run()
		}
		gateway.data = filepath.Join(dir, "data")
		cmd := exec.Command(bin, "serve", "--dev", "-data", gateway.data, "-port", "0", "-operator-port", "0")
		stdout, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			gateway.err = err
			return m.Run()
		}
		defer func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() }()
		found := make(chan string, 1)
		go func() {
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				if l := sc.Text(); strings.HasPrefix(l, "listening on https://") {
					found <- strings.Fields(l)[2]
				}
			}
		}()
		select {
		case gateway.base = <-found:
		case <-time.After(2 * time.Minute):
			gateway.err = errors.New("serve --dev printed no banner")
		}
		return m.Run()
	}()
	os.Exit(code)
}

func newClient(t *testing.T, authority string) *client.Client {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs serve --dev")
	}
	if gateway.err != nil {
		t.Fatal(gateway.err)
	}
	roots, err := client.DevRootCAs(gateway.data)
	if err != nil {
		t.Fatal(err)
	}
	jwks, err := client.FetchJWKS(context.Background(), gateway.base, roots)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := client.DevConfig(gateway.data, authority, gateway.base, jwks)
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

// regionDoc is Region Hovedstaden's registration of an Aarhus resident,
// under a fresh record id, changed by edit.
func regionDoc(t *testing.T, id string, edit func(*record.Record)) []byte {
	t.Helper()
	ref, _ := refdata.Load(refdata.Config{})
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
	rec.RecordID = id
	if edit != nil {
		edit(rec)
	}
	doc, err := ra.Encode(&adapters.Message{Kind: adapters.KindRegistration, Items: []adapters.Item{{Record: rec}}})
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func newID(t *testing.T) string {
	id, err := envelope.NewMessageID(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestSubmitPullOpenAck(t *testing.T) {
	ctx := context.Background()
	reg := newClient(t, "region:1084")
	mun := newClient(t, "municipality:0751")
	rid := newID(t)

	sealed, err := reg.Seal(ctx, client.Document{Kind: client.KindRegistration, Payload: regionDoc(t, rid, nil)})
	if err != nil {
		t.Fatal(err)
	}
	ans, err := reg.SubmitSealed(ctx, sealed)
	if err != nil {
		t.Fatal(err)
	}
	if ans.HTTPStatus != 202 || ans.Status != client.StatusAccepted || len(ans.Items) != 1 || ans.Items[0].RecordID != rid ||
		ans.Receipt == nil || ans.Receipt.PayloadDigest != sealed.Digest {
		t.Fatalf("answer %+v", ans)
	}
	// The identical bytes again (a dropped connection): 200, the original receipt.
	again, err := reg.SubmitSealed(ctx, sealed)
	if err != nil {
		t.Fatal(err)
	}
	if again.HTTPStatus != 200 || again.Status != client.StatusAlreadyReceived || again.ReceiptToken != ans.ReceiptToken {
		t.Fatalf("resubmission %+v", again)
	}
	// The same record id and version with other content: 409 record-conflict, as a *Problem.
	_, err = reg.Submit(ctx, client.Document{Kind: client.KindRegistration, Payload: regionDoc(t, rid, func(r *record.Record) { r.Person.Phone = "+4528417799" })})
	var p *client.Problem
	if !errors.As(err, &p) || p.Status != 409 || p.Name() != "record-conflict" || p.Temporary() {
		t.Fatalf("conflicting content: %v", err)
	}

	// The residence municipality pulls (long-poll), opens and acknowledges.
	ds, err := mun.Pull(ctx, 10, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var got *client.Opened
	for _, d := range ds {
		o, err := mun.Open(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		if d.RecordID == rid {
			got = o
		}
		if err := mun.Ack(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	if got == nil || got.Kind != client.KindRegistration || got.Header.Provenance == nil || got.Header.Provenance.Issuer != "region:1084" ||
		!strings.Contains(string(got.Payload), rid) {
		t.Fatalf("the municipality's delivery: %+v", got)
	}
	if ds, err := mun.Pull(ctx, 10, 0); err != nil || len(ds) != 0 {
		t.Fatalf("after the acks: %v %v", ds, err)
	}
	// An ack repeated after a dropped connection gets the same answer, and
	// the message is still never delivered again.
	if err := mun.Ack(ctx, got); err != nil {
		t.Fatalf("a repeated ack: %v", err)
	}
	if ds, err := mun.Pull(ctx, 10, 0); err != nil || len(ds) != 0 {
		t.Fatalf("after the repeated ack: %v %v", ds, err)
	}
	// Another authority cannot open the municipality's delivery.
	other := newClient(t, "municipality:0101")
	if _, err := other.Open(ctx, got.Delivery); err == nil {
		t.Fatal("another authority opened the delivery")
	}
	// The client refuses an out-of-range pull without asking.
	if _, err := mun.Pull(ctx, 101, 0); err == nil {
		t.Fatal("max 101 accepted")
	}
	// The sender's status: the municipality delivered with its receipt's
	// digest; the municipality itself may not ask.
	st, err := reg.Status(ctx, rid)
	if err != nil {
		t.Fatal(err)
	}
	delivered := false
	for _, r := range st.Versions[0].Recipients {
		if r.Recipient == "municipality:0751" && r.State == client.StateDelivered && r.DeliveredAt != nil &&
			r.ReceiptDigest == hex.EncodeToString(got.Digest[:]) {
			delivered = true
		}
	}
	if st.Owner != "region:1084" || !delivered {
		t.Errorf("status %+v", st)
	}
	if _, err := mun.Status(ctx, rid); !errors.As(err, &p) || p.Status != 404 || p.Name() != "unknown-record" {
		t.Errorf("the recipient's status request: %v", err)
	}
}

func TestXMLSubmissionIsSignedAndChecked(t *testing.T) {
	ctx := context.Background()
	mun := newClient(t, "municipality:0657")
	// An XML document needs its header's message id.
	if _, err := mun.Submit(ctx, client.Document{Payload: []byte("<x/>")}); err == nil {
		t.Fatal("an XML document without a message id was sealed")
	}
	// A document the gateway cannot read: 400 with a problem type.
	_, err := mun.Submit(ctx, client.Document{Payload: []byte(`<?xml version="1.0"?><KommuneMeddelelse xmlns="urn:psykosocial:kommune:registrering:1" ID="m-x"/>`), MessageID: newID(t)})
	var p *client.Problem
	if !errors.As(err, &p) || p.Status < 400 || p.Status > 499 || p.Type == "" {
		t.Fatalf("an unreadable document: %v", err)
	}
}
