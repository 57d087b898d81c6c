//go:build crash

// The crash test of the service: run it with
//
//	go test -tags crash -run TestCrashKill9 -count=1 ./gateway/cmd/gateway/
//
// (-crash.kills N and -crash.clients N for more). It takes 10 to 20
// seconds on the development machine (it builds the binary and starts it
// seven times), so it stays out of go test ./... behind the build tag; -short
// skips it. Everything runs on loopback; the test as a whole is bounded by
// crashBound.

package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/psykosocial/exchange/adapters"
	"github.com/psykosocial/exchange/adapters/region"
	"github.com/psykosocial/exchange/certs"
	"github.com/psykosocial/exchange/internal/clock"
	"github.com/psykosocial/exchange/internal/directory"
	"github.com/psykosocial/exchange/internal/envelope"
	"github.com/psykosocial/exchange/internal/journal"
	"github.com/psykosocial/exchange/internal/record"
	"github.com/psykosocial/exchange/internal/refdata"
)

var (
	crashKills   = flag.Int("crash.kills", 5, "how many times the crash test kills serve (SIGKILL)")
	crashClients = flag.Int("crash.clients", 4, "concurrent submitting clients of the crash test")
)

// crashBound bounds the whole crash test.
const crashBound = 4 * time.Minute

// submission is one sealed message and its record.
type submission struct {
	recordID, messageID string
	body                []byte
}

// submitter seals region documents as a real client would (the code of
// TestServeDevEndToEnd).
type submitter struct {
	doc    func(recordID string) ([]byte, error)
	sealer *envelope.Sealer
	to     envelope.EncryptionKey
}

func (s *submitter) next(ctx context.Context) (submission, error) {
	rid, err := envelope.NewMessageID(rand.Reader)
	if err != nil {
		return submission{}, err
	}
	doc, err := s.doc(rid)
	if err != nil {
		return submission{}, err
	}
	mid, err := envelope.NewMessageID(rand.Reader)
	if err != nil {
		return submission{}, err
	}
	sealed, err := s.sealer.Seal(ctx, envelope.Message{Kind: envelope.KindRegistration, ContentType: envelope.ContentTypeRegion,
		Recipient: directory.GatewayID, To: s.to, Payload: doc, ID: mid})
	if err != nil {
		return submission{}, err
	}
	return submission{recordID: rid, messageID: mid, body: sealed.Envelope}, nil
}

// post sends one request; err is a transport failure (the process died).
func post(c *http.Client, method, url, ctype string, body []byte) (int, []byte, error) {
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	return resp.StatusCode, b, err
}

// TestCrashKill9: clients submit concurrently while serve --dev is killed
// (SIGKILL) at random moments and restarted; every client retries the
// identical bytes until it gets an answer. Afterwards every submission
// answered 202 (or 200, already received: its earlier try committed)
// arrives exactly once in each of its recipients' mailboxes, nothing else
// is in any mailbox, and the journal exports and verifies.
func TestCrashKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and kills it")
	}
	start := time.Now()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rnd := mrand.New(mrand.NewPCG(seed, seed>>1))
	ctx, cancel := context.WithTimeout(context.Background(), crashBound)
	defer cancel()

	dir := t.TempDir()
	bin := buildGateway(t, ctx)
	data := filepath.Join(dir, "data")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	base := "https://127.0.0.1:" + strconv.Itoa(port)

	proc := startGateway(t, bin, data, port)
	t.Cleanup(func() { proc.cmd.Process.Kill() })

	// The region's document and its sealer.
	paths := certs.Paths{DataDir: data}
	const sender = "region:1084"
	reg := devAuthority(t, paths, sender)
	reg.client.Timeout = 15 * time.Second
	clk := clock.System()
	ref, _ := refdata.Load(refdata.Config{})
	ra, err := region.New(record.NewValidator(ref, clk))
	if err != nil {
		t.Fatal(err)
	}
	example, err := os.ReadFile("../../../schemas/examples/region/valid/aarhus-resident-hurt-in-copenhagen-fire.json")
	if err != nil {
		t.Fatal(err)
	}
	m, err := ra.Decode(example)
	if err != nil {
		t.Fatal(err)
	}
	rec := m.Records()[0]
	gwEncPEM, _ := os.ReadFile(filepath.Join(paths.Gateway(), "encryption.cert.pem"))
	gwEncCerts, _ := certs.ParsePEMCertificates(gwEncPEM)
	to, err := envelope.NewEncryptionKey(gwEncCerts[0].PublicKey, "")
	if err != nil {
		t.Fatal(err)
	}
	sk, _ := envelope.NewSigningKey(reg.sign, "")
	sealer, _ := envelope.NewSealer(envelope.SealerConfig{Issuer: sender, Key: sk, Clock: clk})
	sub := &submitter{sealer: sealer, to: to, doc: func(rid string) ([]byte, error) {
		r := rec
		r.RecordID = rid
		return ra.Encode(&adapters.Message{Kind: adapters.KindRegistration, Items: []adapters.Item{{Record: r}}})
	}}

	// The clients: each submits, retrying the identical bytes on a
	// transport failure, a 503 or a 429 (the admission limits: several
	// clients of one authority) until it is answered, then the next.
	var (
		mu       sync.Mutex
		accepted = map[string]string{} // record id -> message id
		answered = map[int]int{}       // status -> count
		fails    []string
		n202     atomic.Int64
		stopping atomic.Bool
		wg       sync.WaitGroup
	)
	for range *crashClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stopping.Load() && ctx.Err() == nil {
				s, err := sub.next(ctx)
				if err != nil {
					mu.Lock()
					fails = append(fails, "seal: "+err.Error())
					mu.Unlock()
					return
				}
				for tries := 0; ctx.Err() == nil; tries++ {
					code, body, err := post(reg.client, "POST", base+"/v1/messages", "application/jose", s.body)
					if err != nil || code == http.StatusServiceUnavailable || code == http.StatusTooManyRequests {
						time.Sleep(time.Duration(20+mrand.IntN(30)) * time.Millisecond)
						continue
					}
					var ans struct {
						Status    string `json:"status"`
						MessageID string `json:"message_id"`
					}
					_ = json.Unmarshal(body, &ans)
					mu.Lock()
					answered[code]++
					switch {
					case code == http.StatusAccepted && ans.Status == "accepted", code == http.StatusOK && ans.Status == "already_received":
						accepted[s.recordID] = s.messageID
						if code == http.StatusAccepted {
							n202.Add(1)
						}
					default:
						fails = append(fails, fmt.Sprintf("message %s (try %d): %d %s", s.messageID, tries, code, body))
					}
					mu.Unlock()
					break
				}
			}
		}()
	}

	// Kill at random moments, each after some progress since the last start.
	for round := range *crashKills {
		want := n202.Load() + 10
		for n202.Load() < want {
			if ctx.Err() != nil {
				t.Fatalf("round %d: no progress (%d accepted)\n%s", round, n202.Load(), proc.out)
			}
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(time.Duration(rnd.IntN(400)) * time.Millisecond)
		proc.kill9(t)
		t.Logf("round %d: killed after %d accepted", round, n202.Load())
		proc = startGateway(t, bin, data, port)
	}
	want := n202.Load() + 10
	for n202.Load() < want && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
	stopping.Store(true)
	wg.Wait()
	mu.Lock()
	if len(fails) > 0 {
		t.Fatalf("%d submissions answered wrongly, e.g. %s", len(fails), fails[0])
	}
	t.Logf("%d records accepted (answers %v) through %d kills", len(accepted), answered, *crashKills)
	mu.Unlock()
	proc.stop(t)

	// The journal: every accepted record queued to its recipients, nothing
	// else queued; it verifies.
	vkey := devJournalVerifierKey(t, paths)
	db := filepath.Join(data, "gateway.db")
	queued := map[string]map[string]int{} // record id -> recipient -> queued entries
	for _, e := range exportAndVerify(t, vkey, "-sqlite", db) {
		if e.Event != string(journal.EventQueued) {
			continue
		}
		if _, ok := accepted[e.RecordID]; !ok {
			t.Errorf("record %s was queued but its submission was not accepted", e.RecordID)
		}
		if queued[e.RecordID] == nil {
			queued[e.RecordID] = map[string]int{}
		}
		queued[e.RecordID][e.Counterpart]++
	}
	recipients := map[string]bool{}
	for rid := range accepted {
		if len(queued[rid]) == 0 || queued[rid]["municipality:0751"] != 1 {
			t.Errorf("accepted record %s: queued %v, want once to its residence municipality at least", rid, queued[rid])
		}
		for r, n := range queued[rid] {
			recipients[r] = true
			if n != 1 {
				t.Errorf("record %s queued %d times to %s", rid, n, r)
			}
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	// Every recipient pulls and acknowledges its whole mailbox.
	proc = startGateway(t, bin, data, port)
	dir2, err := directory.Load(filepath.Join(data, "directory.json"), ref)
	if err != nil {
		t.Fatal(err)
	}
	jwks := getJWKS(t, base, reg.client)
	got := map[string]map[string]int{} // record id -> recipient -> deliveries
	acks := 0
	for r := range recipients {
		for _, rid := range drainMailbox(t, ctx, base, devAuthority(t, paths, r), dir2, jwks) {
			if got[rid] == nil {
				got[rid] = map[string]int{}
			}
			got[rid][r]++
			acks++
		}
	}
	for rid := range accepted {
		for r := range queued[rid] {
			if got[rid][r] != 1 {
				t.Errorf("record %s arrived %d times at %s, want once", rid, got[rid][r], r)
			}
		}
	}
	for rid, by := range got {
		if _, ok := accepted[rid]; !ok {
			t.Errorf("record %s arrived at %v but was not accepted", rid, by)
		}
	}
	proc.stop(t)
	if logs := proc.out.String(); rec.Person != nil && rec.Person.CPR != "" && strings.Contains(logs, rec.Person.CPR) {
		t.Error("the logs name the person's CPR number")
	}

	// Nothing else is in any mailbox, everything is delivered, and the
	// journal, with the acknowledgements, still verifies.
	sdb, err := sql.Open("sqlite", "file:"+db+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer sdb.Close()
	var rows, undelivered int
	if err := sdb.QueryRow(`SELECT count(*), count(*) FILTER (WHERE state <> 'delivered') FROM store_mailbox`).Scan(&rows, &undelivered); err != nil {
		t.Fatal(err)
	}
	if rows != acks || undelivered != 0 {
		t.Errorf("store_mailbox holds %d messages (%d not delivered); %d were acknowledged", rows, undelivered, acks)
	}
	delivered := 0
	for _, e := range exportAndVerify(t, vkey, "-sqlite", db) {
		if e.Event == string(journal.EventDelivered) {
			delivered++
		}
	}
	if delivered != acks {
		t.Errorf("%d delivered entries in the journal for %d acknowledgements", delivered, acks)
	}
	t.Logf("%d deliveries to %d recipients acknowledged; the journal verifies; %s", acks, len(recipients), time.Since(start).Round(time.Second))
}

// drainMailbox pulls a's mailbox until it is empty, opens every delivery
// (the gateway's signature, addressed to a) and acknowledges it with a's
// signed receipt; it returns the record id of each delivery.
func drainMailbox(t *testing.T, ctx context.Context, base string, a authority, dir *directory.Directory, jwks []envelope.VerificationKey) []string {
	t.Helper()
	da, ok := dir.Lookup(a.id)
	if !ok {
		t.Fatalf("%s is not in the directory", a.id)
	}
	ctype := map[string]string{directory.FormatRegion: envelope.ContentTypeRegion, directory.FormatMunicipality: envelope.ContentTypeMunicipality,
		directory.FormatPolice: envelope.ContentTypePolice}[da.Format]
	clk := clock.System()
	dk, _ := envelope.NewDecryptionKey(a.dec, "")
	replay, _ := envelope.NewMemoryReplayCache(envelope.MemoryReplayCacheConfig{Clock: clk})
	opener, err := envelope.NewOpener(envelope.OpenerConfig{DecryptionKeys: []envelope.DecryptionKey{dk}, Senders: jwksKeys(jwks), Replay: replay, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	sk, _ := envelope.NewSigningKey(a.sign, "")
	rs, _ := envelope.NewSealer(envelope.SealerConfig{Issuer: a.id, Key: sk, Clock: clk})
	var out []string
	for ctx.Err() == nil {
		code, body, err := post(a.client, "GET", base+"/v1/mailbox?max=100", "", nil)
		if err != nil || code != 200 {
			t.Fatalf("pull of %s: %d %v %s", a.id, code, err, body)
		}
		var pulled struct {
			Messages []struct {
				MailboxID string `json:"mailbox_id"`
				RecordID  string `json:"record_id"`
				Message   string `json:"message"`
			} `json:"messages"`
		}
		if err := json.Unmarshal(body, &pulled); err != nil {
			t.Fatal(err)
		}
		if len(pulled.Messages) == 0 {
			return out
		}
		for _, m := range pulled.Messages {
			op, err := opener.Open(ctx, []byte(m.Message), envelope.Expect{Sender: directory.GatewayID, Recipient: a.id,
				Kinds: []envelope.Kind{envelope.KindRegistration}, ContentType: ctype})
			if err != nil {
				t.Fatalf("%s opens its delivery: %v", a.id, err)
			}
			receipt, _, err := rs.SignReceipt(ctx, envelope.Receipt{MessageID: op.Header.ID, PayloadDigest: op.Digest,
				Sender: directory.GatewayID, Recipient: a.id, Outcome: envelope.OutcomeReceived})
			if err != nil {
				t.Fatal(err)
			}
			if code, body, err := post(a.client, "POST", base+"/v1/mailbox/"+m.MailboxID+"/ack", "application/jose", receipt); err != nil || code != 204 {
				t.Fatalf("ack of %s by %s: %d %v %s", m.MailboxID, a.id, code, err, body)
			}
			out = append(out, m.RecordID)
		}
	}
	t.Fatalf("draining %s: %v", a.id, ctx.Err())
	return nil
}
