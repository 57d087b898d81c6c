package pipeline_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/psykosocial/exchange/adapters"
	"github.com/psykosocial/exchange/adapters/municipality"
	"github.com/psykosocial/exchange/adapters/police"
	"github.com/psykosocial/exchange/adapters/region"
	"github.com/psykosocial/exchange/certs"
	"github.com/psykosocial/exchange/internal/clock"
	"github.com/psykosocial/exchange/internal/consent"
	"github.com/psykosocial/exchange/internal/directory"
	"github.com/psykosocial/exchange/internal/envelope"
	"github.com/psykosocial/exchange/internal/journal"
	"github.com/psykosocial/exchange/internal/keys"
	"github.com/psykosocial/exchange/internal/pipeline"
	"github.com/psykosocial/exchange/internal/record"
	"github.com/psykosocial/exchange/internal/refdata"
	"github.com/psykosocial/exchange/internal/routing"
	"github.com/psykosocial/exchange/internal/store"
	"github.com/psykosocial/exchange/internal/store/postgres"
	"github.com/psykosocial/exchange/internal/store/sqlite"
	"github.com/psykosocial/exchange/internal/testenv"
	"github.com/psykosocial/exchange/internal/xmlsig"
)

// t0 is when every test starts: the dev PKI is issued then.
var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// pki is the development PKI, made once for the test binary in a
// temporary directory (making it costs seconds).
var pki struct {
	once sync.Once
	dir  string
	err  error
}

func devPKI(t *testing.T) string {
	t.Helper()
	pki.once.Do(func() {
		pki.dir, pki.err = os.MkdirTemp("", "pipeline-pki-")
		if pki.err != nil {
			return
		}
		var ref *refdata.Data
		// Region Østdanmark configured with the made-up test values, so
		// that the 2027 merger can be driven through the pipeline.
		if ref, pki.err = refdata.Load(refdata.TestEastRegion()); pki.err != nil {
			return
		}
		_, pki.err = certs.InitDevPKI(certs.InitOptions{DataDir: pki.dir, Ref: ref, Clock: clock.Fixed(t0),
			RSA: func(a directory.Authority) bool { return a.ID == "region:1082" }})
	})
	if pki.err != nil {
		t.Fatal(pki.err)
	}
	return pki.dir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if pki.dir != "" {
		os.RemoveAll(pki.dir)
	}
	os.Exit(code)
}

// env is a pipeline on real parts with the dev PKI and one store backend.
type env struct {
	t       *testing.T
	ctx     context.Context
	clock   *clock.Fake
	paths   certs.Paths
	certs   *certs.Store
	dir     *directory.Directory
	reg     *adapters.Registry
	region  *region.Adapter
	muni    *municipality.Adapter
	police  *police.Adapter
	backend store.Backend
	store   *store.Store
	journal *journal.Journal
	p       *pipeline.Pipeline
	gwEnc   envelope.EncryptionKey
	gwVer   envelope.VerificationKey
	// What the pipeline was built from, to build more (reload, replicas).
	keys     *keys.FileProvider
	subjects *journal.SubjectKeys
	trustCfg certs.Config
	ref      *refdata.Data
	policy   *consent.Policy
}

// backend opens a fresh database of the named kind.
type backendFunc func(t *testing.T) store.Backend

func sqliteBackend(t *testing.T) store.Backend {
	b, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "gateway.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func postgresBackend(t *testing.T) store.Backend {
	return postgresSchema(t, newPostgresSchema(t))
}

// newPostgresSchema names a fresh schema of the test database, dropped
// when t ends (it skips the test without PostgreSQL, or fails it under CI).
func newPostgresSchema(t *testing.T) string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	pool, err := pgxpool.New(ctx, testenv.DatabaseURL())
	if err == nil {
		err = pool.Ping(ctx)
	}
	if err != nil {
		if pool != nil {
			pool.Close()
		}
		testenv.Missing(t, fmt.Sprintf("PostgreSQL at %s (set GATEWAY_TEST_DATABASE_URL) is unreachable: %v", testenv.DatabaseURL(), err))
	}
	var r [6]byte
	rand.Read(r[:])
	schema := "pipeline_test_" + hex.EncodeToString(r[:])
	t.Cleanup(func() {
		defer pool.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := pool.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return schema
}

// postgresSchema opens a backend on schema of the test database (another
// process's view of the same data when the schema is in use).
func postgresSchema(t *testing.T, schema string) store.Backend {
	b, err := postgres.OpenURL(context.Background(), testenv.DatabaseURL(), postgres.Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// backends runs f once per store backend.
func backends(t *testing.T, f func(t *testing.T, e *env)) {
	for _, b := range []struct {
		name string
		open backendFunc
	}{{"sqlite", sqliteBackend}, {"postgres", postgresBackend}} {
		t.Run(b.name, func(t *testing.T) { f(t, newEnv(t, b.open)) })
	}
}

func newEnv(t *testing.T, open backendFunc) *env {
	t.Helper()
	return newEnvWith(t, open, nil)
}

// newEnvWith is newEnv with the trust store's configuration edited by edit
// (nil: as the development CA gives it).
func newEnvWith(t *testing.T, open backendFunc, edit func(*certs.Config)) *env {
	t.Helper()
	ctx := context.Background()
	data := devPKI(t)
	e := &env{t: t, ctx: ctx, clock: clock.NewFake(t0)}
	ref, err := refdata.Load(refdata.TestEastRegion())
	if err != nil {
		t.Fatal(err)
	}
	ca, _, err := certs.OpenDevCA(data, e.clock)
	if err != nil {
		t.Fatal(err)
	}
	e.paths = ca.Paths()
	if e.dir, err = directory.Load(e.paths.Directory(), ref); err != nil {
		t.Fatal(err)
	}
	cfg := ca.StoreConfig()
	if edit != nil {
		edit(&cfg)
	}
	e.trustCfg, e.ref = cfg, ref
	if e.certs, err = certs.NewStore(cfg, e.dir); err != nil {
		t.Fatal(err)
	}
	gwKeys, err := keys.NewFileProvider(keys.FileConfig{Dir: e.paths.Gateway()})
	if err != nil {
		t.Fatal(err)
	}
	v := record.NewValidator(ref, e.clock)
	if e.region, err = region.New(v); err != nil {
		t.Fatal(err)
	}
	if e.muni, err = municipality.New(v); err != nil {
		t.Fatal(err)
	}
	if e.police, err = police.New(v, police.WithOfficerRole(police.OfficerRoles()[0])); err != nil {
		t.Fatal(err)
	}
	if e.reg, err = adapters.NewRegistry(e.region, e.muni, e.police); err != nil {
		t.Fatal(err)
	}
	router, err := routing.New(ref, e.dir)
	if err != nil {
		t.Fatal(err)
	}
	policy, err := consent.Default()
	if err != nil {
		t.Fatal(err)
	}
	b := open(t)
	e.backend = b
	jkey, err := gwKeys.Signer(ctx, keys.PurposeJournalCheckpoint)
	if err != nil {
		t.Fatal(err)
	}
	if e.journal, err = journal.New(ctx, b.JournalStore(), jkey, journal.Config{Origin: "test.psykosocial.dk/journal", Clock: e.clock}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.journal.Close(context.Background()) })
	if e.store, err = store.New(store.Config{Backend: b, Journal: e.journal, Keys: gwKeys, Clock: e.clock}); err != nil {
		t.Fatal(err)
	}
	secret, err := gwKeys.HMACSecret(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sk, err := journal.NewSubjectKey(secret)
	if err != nil {
		t.Fatal(err)
	}
	subjects, err := journal.NewSubjectKeys(sk)
	if err != nil {
		t.Fatal(err)
	}
	e.keys, e.subjects, e.policy = gwKeys, subjects, policy
	e.p, err = pipeline.New(pipeline.Config{Clock: e.clock, Certs: e.certs, Directory: e.dir, Ref: ref, Keys: gwKeys,
		Adapters: e.reg, Validator: v, Router: router, Policy: policy, Store: e.store, Journal: e.journal, Subjects: subjects})
	if err != nil {
		t.Fatal(err)
	}
	encCert := readCert(t, filepath.Join(e.paths.Gateway(), "encryption.cert.pem"))
	if e.gwEnc, err = envelope.NewEncryptionKey(encCert.PublicKey, ""); err != nil {
		t.Fatal(err)
	}
	sigCert := readCert(t, filepath.Join(e.paths.Gateway(), "signing.cert.pem"))
	if e.gwVer, err = envelope.NewVerificationKey(sigCert.PublicKey, ""); err != nil {
		t.Fatal(err)
	}
	return e
}

// key reads an authority's private key of one use from the dev PKI.
func (e *env) key(id, use string) crypto.Signer {
	e.t.Helper()
	m, err := filepath.Glob(filepath.Join(e.paths.Private(id), use+"-*.key.pem"))
	if err != nil || len(m) != 1 {
		e.t.Fatalf("%s %s key: %v %v", id, use, m, err)
	}
	k, err := certs.ReadKeyFile(m[0])
	if err != nil {
		e.t.Fatal(err)
	}
	return k
}

func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := certs.ParsePEMCertificates(b)
	if err != nil {
		t.Fatal(err)
	}
	return cs[0]
}

// submit sends body as sender (the TLS identity).
func (e *env) submit(sender string, body []byte) (pipeline.SubmitResult, error) {
	return e.p.Submit(e.ctx, pipeline.Submission{Sender: certs.Authenticated{AuthorityID: sender, Use: directory.UseTLS}, Body: body})
}

// sealJSON signs and seals a JSON document of sender to the gateway.
func (e *env) sealJSON(sender string, kind envelope.Kind, doc []byte, id string) []byte {
	e.t.Helper()
	sk, err := envelope.NewSigningKey(e.key(sender, directory.UseSigning), "")
	if err != nil {
		e.t.Fatal(err)
	}
	s, err := envelope.NewSealer(envelope.SealerConfig{Issuer: sender, Key: sk, Clock: e.clock})
	if err != nil {
		e.t.Fatal(err)
	}
	sealed, err := s.Seal(e.ctx, envelope.Message{Kind: kind, ContentType: envelope.ContentTypeRegion, Recipient: directory.GatewayID,
		To: e.gwEnc, Payload: doc, ID: id})
	if err != nil {
		e.t.Fatal(err)
	}
	return sealed.Envelope
}

// signXML signs an XML document with sender's signing key.
func (e *env) signXML(sender string, unsigned []byte) []byte {
	e.t.Helper()
	cs, err := e.certs.VerificationCertificates(sender)
	if err != nil {
		e.t.Fatal(err)
	}
	signed, err := xmlsig.SignDocument(unsigned, e.key(sender, directory.UseSigning), cs[0])
	if err != nil {
		e.t.Fatal(err)
	}
	return signed
}

// sealXML seals a signed XML document of sender to the gateway.
func (e *env) sealXML(sender, ct string, signed []byte, id string) []byte {
	e.t.Helper()
	s, err := envelope.NewSealer(envelope.SealerConfig{Issuer: sender, Clock: e.clock})
	if err != nil {
		e.t.Fatal(err)
	}
	sealed, err := s.SealXML(e.ctx, envelope.Message{ContentType: ct, Recipient: directory.GatewayID, To: e.gwEnc, Payload: signed, ID: id})
	if err != nil {
		e.t.Fatal(err)
	}
	return sealed.Envelope
}

// newUUID is a fresh lower-case UUID.
func newUUID(t *testing.T) string {
	id, err := envelope.NewMessageID(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// received is one delivery opened by its recipient.
type received struct {
	d      pipeline.Delivery
	opened *envelope.Opened
}

// pull pulls recipient's mailbox and opens every delivery as the recipient.
func (e *env) pull(recipient string, wait time.Duration) []received {
	e.t.Helper()
	ds, err := e.p.Pull(e.ctx, recipient, 100, wait)
	if err != nil {
		e.t.Fatalf("pull %s: %v", recipient, err)
	}
	dk, err := envelope.NewDecryptionKey(e.key(recipient, directory.UseEncryption), "")
	if err != nil {
		e.t.Fatal(err)
	}
	replay, err := envelope.NewMemoryReplayCache(envelope.MemoryReplayCacheConfig{Clock: e.clock})
	if err != nil {
		e.t.Fatal(err)
	}
	o, err := envelope.NewOpener(envelope.OpenerConfig{DecryptionKeys: []envelope.DecryptionKey{dk},
		Senders: gatewayKeys{e.gwVer}, Replay: replay, Clock: e.clock})
	if err != nil {
		e.t.Fatal(err)
	}
	a, _ := e.dir.Lookup(recipient)
	ct := map[string]string{directory.FormatRegion: envelope.ContentTypeRegion, directory.FormatMunicipality: envelope.ContentTypeMunicipality,
		directory.FormatPolice: envelope.ContentTypePolice}[a.Format]
	var out []received
	for _, d := range ds {
		op, err := o.Open(e.ctx, d.Body, envelope.Expect{Sender: directory.GatewayID, Recipient: recipient,
			Kinds: []envelope.Kind{envelope.KindRegistration, envelope.KindWithdrawal}, ContentType: ct})
		if err != nil {
			e.t.Fatalf("%s opens delivery %s: %v", recipient, d.MailboxID, err)
		}
		if op.Header.MailboxID != d.MailboxID {
			e.t.Fatalf("signed mailbox id %q, delivery says %q", op.Header.MailboxID, d.MailboxID)
		}
		out = append(out, received{d: d, opened: op})
	}
	return out
}

// receipt is recipient's signed acknowledgement of a delivery.
func (e *env) receipt(recipient string, r received) []byte {
	e.t.Helper()
	sk, err := envelope.NewSigningKey(e.key(recipient, directory.UseSigning), "")
	if err != nil {
		e.t.Fatal(err)
	}
	s, err := envelope.NewSealer(envelope.SealerConfig{Issuer: recipient, Key: sk, Clock: e.clock})
	if err != nil {
		e.t.Fatal(err)
	}
	tok, _, err := s.SignReceipt(e.ctx, envelope.Receipt{MessageID: r.opened.Header.ID, PayloadDigest: r.opened.Digest,
		Sender: directory.GatewayID, Recipient: recipient, Outcome: envelope.OutcomeReceived})
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

// gatewayKeys gives a recipient the gateway's pinned signing key.
type gatewayKeys struct{ key envelope.VerificationKey }

func (g gatewayKeys) VerificationKeys(_ context.Context, id string) ([]envelope.VerificationKey, error) {
	if id != directory.GatewayID {
		return nil, nil
	}
	return []envelope.VerificationKey{g.key}, nil
}

// queued lists the recipients of queued entries of a record.
func (e *env) queued(recordID string) map[string]int {
	e.t.Helper()
	page, err := e.journal.Query(e.ctx, journal.Query{Filter: journal.Filter{RecordID: recordID, Events: []journal.EventType{journal.EventQueued}}, Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]int{}
	for _, r := range page.Results {
		out[r.Entry.Counterpart]++
	}
	return out
}
