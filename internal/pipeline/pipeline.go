package pipeline

import (
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/psykosocial/exchange/adapters"
	"github.com/psykosocial/exchange/certs"
	"github.com/psykosocial/exchange/internal/clock"
	"github.com/psykosocial/exchange/internal/consent"
	"github.com/psykosocial/exchange/internal/directory"
	"github.com/psykosocial/exchange/internal/envelope"
	"github.com/psykosocial/exchange/internal/journal"
	"github.com/psykosocial/exchange/internal/keys"
	"github.com/psykosocial/exchange/internal/record"
	"github.com/psykosocial/exchange/internal/refdata"
	"github.com/psykosocial/exchange/internal/routing"
	"github.com/psykosocial/exchange/internal/store"
	"github.com/psykosocial/exchange/internal/xmlsafe"
)

// KeyProvider gives the gateway's own keys (*keys.FileProvider and the
// Vault provider implement it): the message-signing key and the
// message-decryption keys, current first.
type KeyProvider interface {
	// Signer returns the key of a signing purpose.
	Signer(ctx context.Context, purpose keys.Purpose) (crypto.Signer, error)
	// Decrypters returns the message-decryption keys, current first.
	Decrypters(ctx context.Context) ([]crypto.PrivateKey, error)
}

// Config configures a Pipeline. Every field but Logger, Limits and
// DirectoryDigest is required; New names the first one missing. Certs,
// Directory, Ref, Adapters, Validator, Router, Policy and DirectoryDigest
// are the first version of the rules in force (Rules); Reload replaces them.
type Config struct {
	// Clock is the time of every judgement: message times, leases, waits.
	Clock clock.Clock
	// Certs is the trust store: the senders' pinned signing certificates,
	// the recipients' encryption certificates, signer authentication.
	Certs *certs.Store
	// Directory is the authority directory: each recipient's format.
	Directory *directory.Directory
	// Ref is the reference data (configuration gaps).
	Ref *refdata.Data
	// Keys gives the gateway's signing key (keys.PurposeMessageSigning) and
	// decryption keys; they are read once by New.
	Keys KeyProvider
	// Adapters holds an adapter for every format in the directory.
	Adapters *adapters.Registry
	// Validator validates every record the adapters decode once more.
	Validator *record.Validator
	// Router routes records.
	Router *routing.Router
	// Policy decides consent and minimises views.
	Policy *consent.Policy
	// DirectoryDigest is the SHA-256 of the directory file, journaled with
	// the version in force; zero means the digest of Directory's encoding.
	DirectoryDigest [sha256.Size]byte
	// Store commits intakes and keeps the mailboxes.
	Store *store.Store
	// Journal is the audit journal on the store's database: rejections of
	// whole messages are appended to it directly, earlier decisions are
	// read from it.
	Journal *journal.Journal
	// Subjects pseudonymises the persons of journal entries.
	Subjects *journal.SubjectKeys
	// Limits bound the work; zero fields take the defaults of limits.go.
	Limits Limits
	// Logger receives operational logs (never a CPR number or a name); nil
	// discards them.
	Logger *slog.Logger
}

// Pipeline is the gateway's intake and delivery work. It is safe for
// concurrent use. The rules it decides by (Rules: directory, reference
// data, trust store, validator, adapters, router, consent policy) are one
// immutable version behind an atomic pointer: every operation takes the
// version in force when it starts and uses it to its end, and Reload puts
// a new one in force without a restart.
type Pipeline struct {
	cfg    Config
	lim    Limits
	log    *slog.Logger
	dks    []envelope.DecryptionKey // the gateway's own keys; replay memory is the store
	self   *envelope.Opener         // verifies the gateway's own receipts
	sealer *envelope.Sealer         // signs deliveries and receipts as the gateway
	signer crypto.Signer

	cur      atomic.Pointer[version]
	reloadMu sync.Mutex // one reload (or start) at a time
	seq      int        // versions put in force in this process; under reloadMu

	notify *notifier
}

// New validates cfg, reads the gateway's keys and returns a Pipeline with
// the rules of cfg in force (Start journals them).
func New(cfg Config) (*Pipeline, error) {
	for _, m := range []struct {
		name    string
		missing bool
	}{
		{"Clock", cfg.Clock == nil}, {"Certs", cfg.Certs == nil}, {"Directory", cfg.Directory == nil},
		{"Ref", cfg.Ref == nil}, {"Keys", cfg.Keys == nil}, {"Adapters", cfg.Adapters == nil},
		{"Validator", cfg.Validator == nil}, {"Router", cfg.Router == nil}, {"Policy", cfg.Policy == nil},
		{"Store", cfg.Store == nil}, {"Journal", cfg.Journal == nil}, {"Subjects", cfg.Subjects == nil},
	} {
		if m.missing {
			return nil, fmt.Errorf("pipeline: Config.%s is required", m.name)
		}
	}
	lim, err := cfg.Limits.withDefaults()
	if err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx := context.Background()
	signer, err := cfg.Keys.Signer(ctx, keys.PurposeMessageSigning)
	if err != nil {
		return nil, fmt.Errorf("pipeline: the gateway's message-signing key: %w", err)
	}
	sk, err := envelope.NewSigningKey(signer, "")
	if err != nil {
		return nil, fmt.Errorf("pipeline: the gateway's message-signing key: %w", err)
	}
	decs, err := cfg.Keys.Decrypters(ctx)
	if err != nil {
		return nil, fmt.Errorf("pipeline: the gateway's decryption keys: %w", err)
	}
	if len(decs) == 0 {
		return nil, errors.New("pipeline: the key provider has no message-decryption key")
	}
	var dks []envelope.DecryptionKey
	for i, d := range decs {
		k, err := envelope.NewDecryptionKey(d, "")
		if err != nil {
			return nil, fmt.Errorf("pipeline: decryption key %d: %w", i, err)
		}
		dks = append(dks, k)
	}
	sealer, err := envelope.NewSealer(envelope.SealerConfig{Issuer: directory.GatewayID, Key: sk,
		Lifetime: lim.DeliveryLifetime, Clock: cfg.Clock})
	if err != nil {
		return nil, fmt.Errorf("pipeline: sealer: %w", err)
	}
	self, err := envelope.NewOpener(envelope.OpenerConfig{Senders: selfKeys{sk.VerificationKey()}, ReplayByCaller: true, Clock: cfg.Clock})
	if err != nil {
		return nil, fmt.Errorf("pipeline: opener of own receipts: %w", err)
	}
	p := &Pipeline{cfg: cfg, lim: lim, log: log, dks: dks, self: self, sealer: sealer, signer: signer, notify: newNotifier()}
	v, err := p.build(Rules{Directory: cfg.Directory, DirectoryDigest: cfg.DirectoryDigest, Ref: cfg.Ref, Certs: cfg.Certs,
		Validator: cfg.Validator, Adapters: cfg.Adapters, Router: cfg.Router, Policy: cfg.Policy})
	if err != nil {
		return nil, err
	}
	p.seq = 1
	v.info.Seq = p.seq
	p.cur.Store(v)
	return p, nil
}

// Ready reports whether the pipeline can work now: the store answers, the
// key provider gives the signing key and it signs, and the journal's
// checkpoint key is there. It returns a fault of kind ErrUnavailable.
func (p *Pipeline) Ready(ctx context.Context) error {
	if _, err := p.cfg.Store.Record(ctx, readyProbeID, 1); err != nil && !errors.Is(err, store.ErrNotFound) {
		return unavailable("the database does not answer", err)
	}
	s, err := p.cfg.Keys.Signer(ctx, keys.PurposeMessageSigning)
	if err != nil {
		return unavailable("the key provider does not give the signing key", err)
	}
	d := sha256.Sum256([]byte("readiness"))
	if _, err := s.Sign(nil, d[:], crypto.SHA256); err != nil {
		return unavailable("the signing key does not sign", err)
	}
	if _, err := p.cfg.Keys.Signer(ctx, keys.PurposeJournalCheckpoint); err != nil {
		return unavailable("the journal signer is unusable", err)
	}
	return nil
}

// readyProbeID is a record id that is never stored: Ready reads it.
const readyProbeID = "readiness-probe"

// Gaps returns the configuration gaps at the time at (refdata.Data.Gaps):
// the service reports them in words and as a metric, without leaving service.
func (p *Pipeline) Gaps(at time.Time) []refdata.Gap { return p.current().Ref.Gaps(at) }

// Authenticate decides which authority a client certificate acts for, by
// the trust store in force (certs.Store.Authenticate): the HTTP layer
// authenticates its TLS clients through it, so a reloaded directory's
// certificate bindings take effect at once.
func (p *Pipeline) Authenticate(cert *x509.Certificate, extra []*x509.Certificate, use string) (certs.Authenticated, error) {
	return p.current().Certs.Authenticate(cert, extra, use)
}

// limited is an XML adapter that exports its parse limits for the verifier.
type limited interface {
	adapters.Adapter
	Limits() xmlsafe.Limits
}

// trustKeys gives the opener the pinned signing keys of an authority from
// the trust store; the gateway's own key is not in it.
type trustKeys struct{ st *certs.Store }

// VerificationKeys implements envelope.SenderKeys.
func (s trustKeys) VerificationKeys(_ context.Context, id string) ([]envelope.VerificationKey, error) {
	cs, err := s.st.VerificationCertificates(id)
	if errors.Is(err, certs.ErrUnknownAuthority) || errors.Is(err, certs.ErrNoCertificate) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := make([]envelope.VerificationKey, 0, len(cs))
	for _, c := range cs {
		k, err := envelope.NewVerificationKey(c.PublicKey, "")
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, nil
}

// selfKeys gives the gateway's own verification key, for its receipts.
type selfKeys struct{ key envelope.VerificationKey }

// VerificationKeys implements envelope.SenderKeys.
func (s selfKeys) VerificationKeys(_ context.Context, id string) ([]envelope.VerificationKey, error) {
	if id != directory.GatewayID {
		return nil, nil
	}
	return []envelope.VerificationKey{s.key}, nil
}

// contentType is the envelope content type of a directory format.
func contentType(format string) (string, bool) {
	switch format {
	case directory.FormatRegion:
		return envelope.ContentTypeRegion, true
	case directory.FormatMunicipality:
		return envelope.ContentTypeMunicipality, true
	case directory.FormatPolice:
		return envelope.ContentTypePolice, true
	}
	return "", false
}

// isXML reports whether a format is an XML format (XML-DSig signed).
func isXML(format string) bool {
	return format == directory.FormatMunicipality || format == directory.FormatPolice
}
