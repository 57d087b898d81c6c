package main

import (
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/psykosocial/exchange/certs"
	"github.com/psykosocial/exchange/gateway"
	"github.com/psykosocial/exchange/internal/envelope"
	"github.com/psykosocial/exchange/internal/journal"
	"github.com/psykosocial/exchange/internal/keys"
	"github.com/psykosocial/exchange/internal/refdata"
	"github.com/psykosocial/exchange/internal/store"
	"github.com/psykosocial/exchange/internal/store/storeconfig"
)

// devClientAuthority is the authority whose development TLS certificate
// the start-up banner's curl line uses (Aalborg Kommune, a P-256 key).
const devClientAuthority = "municipality:0851"

// shutdownTimeout bounds a graceful shutdown: long-polls end at once
// (Server.Drain), and the longest submission (gateway.SubmitTimeout) or a
// pull that found messages finishes within it.
const shutdownTimeout = gateway.MaxWait + 5*time.Second

// keyProvider is what serve needs of a key provider (files or Vault).
type keyProvider interface {
	Signer(ctx context.Context, purpose keys.Purpose) (crypto.Signer, error)
	Decrypters(ctx context.Context) ([]crypto.PrivateKey, error)
	HMACSecret(ctx context.Context) ([]byte, error)
	NewDataKey(ctx context.Context) (plaintext, wrapped []byte, err error)
	UnwrapDataKey(ctx context.Context, wrapped []byte) ([]byte, error)
}

// tlsProvider is a key provider that holds the TLS certificate too (files).
type tlsProvider interface {
	TLSCertificate(ctx context.Context) (tls.Certificate, error)
}

// runServe runs the gateway service until ctx ends (SIGTERM, SIGINT).
func runServe(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	dev := fs.Bool("dev", false, "development: zero configuration, the development PKI created on first start, loopback only")
	cfgFile := fs.String("config", "", "configuration file (JSON; see gateway/cmd/gateway/gateway.example.json)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to `FILE` (go tool pprof -top FILE); gateway bench uses it")
	data := fs.String("data", defaultDataDir, "data directory (--dev)")
	port := fs.Int("port", 8443, "HTTPS port on 127.0.0.1 (--dev; 0 picks a free one)")
	opPort := fs.Int("operator-port", 9090, "operator (metrics) port on 127.0.0.1 (--dev; 0 picks a free one)")
	storeDriver := fs.String("store", storeconfig.DriverSQLite, "the store (--dev): sqlite (DIR/gateway.db) or postgres (GATEWAY_POSTGRES_URL; several replicas on one database)")
	pgSchema := fs.String("postgres-schema", "", "the PostgreSQL schema of the tables (--dev -store postgres; default public)")
	err := fs.Parse(args)
	devOnly := false // -store and -postgres-schema: the file says it with -config
	fs.Visit(func(f *flag.Flag) { devOnly = devOnly || f.Name == "store" || f.Name == "postgres-schema" })
	if err != nil || fs.NArg() > 0 || *dev == (*cfgFile != "") || (devOnly && !*dev) {
		fmt.Fprintln(e.stderr, "usage: gateway serve --dev [-data DIR] [-port N] [-operator-port N] [-store sqlite|postgres] [-postgres-schema NAME]\n       gateway serve -config FILE")
		return exitUsage
	}
	var c serveConfig
	if *dev {
		c = serveConfig{DataDir: *data,
			Listen:         net.JoinHostPort("127.0.0.1", strconv.Itoa(*port)),
			OperatorListen: net.JoinHostPort("127.0.0.1", strconv.Itoa(*opPort)),
			Store:          storeSettings{Driver: *storeDriver, PostgresSchema: *pgSchema},
			Log:            logSettings{Format: "text"}}
	} else if c, err = loadServeConfig(*cfgFile); err != nil {
		fmt.Fprintln(e.stderr, "gateway serve:", err)
		return exitFailure
	}
	c.applyEnv(e.getenvOrEmpty)
	c = c.withDefaults()
	if err := c.validate(*dev); err != nil {
		fmt.Fprintf(e.stderr, "gateway serve: configuration:\n  %s\n", strings.ReplaceAll(err.Error(), "\n", "\n  "))
		return exitFailure
	}
	stopProfile, err := startCPUProfile(*cpuProfile)
	if err != nil {
		fmt.Fprintln(e.stderr, "gateway serve:", err)
		return exitFailure
	}
	err = serve(ctx, e, c, *cfgFile, *dev)
	if perr := stopProfile(); err == nil {
		err = perr
	}
	if err != nil {
		fmt.Fprintln(e.stderr, "gateway serve:", err)
		return exitFailure
	}
	return exitOK
}

// newLogger makes the operational logger: JSON in production.
func newLogger(w io.Writer, s logSettings) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(s.Level))
	opts := &slog.HandlerOptions{Level: lvl}
	if s.Format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// serve wires the parts and serves until ctx ends.
func serve(ctx context.Context, e *env, c serveConfig, cfgFile string, dev bool) (err error) {
	log := newLogger(e.stderr, c.Log)
	ref, err := refdata.Load(c.refConfig())
	if err != nil {
		return fmt.Errorf("east_region_code/east_region_cvr: %w", err)
	}

	// Trust: the development PKI (created on first start) or the files.
	var trustCfg certs.Config
	var devCA *certs.DevCA
	if dev {
		rep, err := certs.InitDevPKI(certs.InitOptions{DataDir: c.DataDir, Ref: ref, Clock: e.clock})
		if err != nil {
			return fmt.Errorf("development PKI in %s: %w", c.DataDir, err)
		}
		if len(rep.Issued) > 0 {
			log.Info("development PKI created", "data_dir", c.DataDir, "certificates", len(rep.Issued))
		}
		if devCA, _, err = certs.OpenDevCA(c.DataDir, e.clock); err != nil {
			return fmt.Errorf("development CA: %w", err)
		}
		trustCfg = devCA.StoreConfig()
	} else if trustCfg, err = c.trustConfig(e); err != nil {
		return err
	}
	loader := &rulesLoader{e: e, c: c, cfgFile: cfgFile, dev: dev, trustCfg: trustCfg}
	rules, err := loader.load()
	if err != nil {
		return err
	}

	// Keys.
	var kp keyProvider
	switch c.Keys.Provider {
	case "vault":
		vp, err := keys.NewVaultProvider(ctx, keys.VaultConfig{Address: c.Keys.Vault.Address, TokenFile: c.Keys.Vault.TokenFile,
			CACertFile: c.Keys.Vault.CACertFile, Namespace: c.Keys.Vault.Namespace, TransitMount: c.Keys.Vault.TransitMount,
			KVMount: c.Keys.Vault.KVMount, Clock: e.clock, Logger: log.With("part", "keys")})
		if err != nil {
			return fmt.Errorf("keys.vault: %w", err)
		}
		defer vp.Close()
		kp = vp
	default:
		fp, err := keys.NewFileProvider(keys.FileConfig{Dir: c.Keys.Dir, Logger: log.With("part", "keys")})
		if err != nil {
			return fmt.Errorf("keys.dir: %w", err)
		}
		kp = fp
	}
	ring, err := keyRing(ctx, kp)
	if err != nil {
		return err
	}
	tlsCert, err := c.serverCertificate(ctx, kp, devCA)
	if err != nil {
		return err
	}

	// Store and journal in one database.
	backend, err := storeconfig.Open(ctx, c.storeConfig())
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer backend.Close()
	jsigner, err := kp.Signer(ctx, keys.PurposeJournalCheckpoint)
	if err != nil {
		return fmt.Errorf("keys: the journal checkpoint key: %w", err)
	}
	jr, err := journal.New(ctx, backend.JournalStore(), jsigner, journal.Config{Origin: c.Journal.Origin,
		CheckpointInterval: time.Duration(c.Journal.CheckpointInterval), Clock: e.clock, Logger: log.With("part", "journal")})
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if cerr := jr.Close(cctx); cerr != nil && err == nil {
			err = fmt.Errorf("journal: %w", cerr)
		}
	}()
	st, err := store.New(store.Config{Backend: backend, Journal: jr, Keys: kp, Clock: e.clock, Logger: log.With("part", "store")})
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	secret, err := kp.HMACSecret(ctx)
	if err != nil {
		return fmt.Errorf("keys: the journal HMAC secret: %w", err)
	}
	sk, err := journal.NewSubjectKey(secret)
	if err != nil {
		return fmt.Errorf("keys: the journal HMAC secret: %w", err)
	}
	subjects, err := journal.NewSubjectKeys(sk)
	if err != nil {
		return fmt.Errorf("keys: the journal HMAC secret: %w", err)
	}

	// The pipeline, with the rules in force journaled and what waited for
	// them routed again.
	pipe, err := newPipeline(parts{clock: e.clock, rules: rules, keys: kp, store: st, journal: jr, subjects: subjects,
		logger: log.With("part", "pipeline")})
	if err != nil {
		return err
	}
	if _, err := pipe.Start(ctx); err != nil {
		return fmt.Errorf("pipeline: %w", err)
	}
	reload := reloader(loader, pipe)
	reloadOnHangup(ctx, log.With("part", "reload"), reload)

	// The HTTP layer.
	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	audit := &gateway.Audit{Reader: journal.NewReader(backend.JournalStore(), e.clock), Journal: jr, Subjects: subjects,
		Successions: pipe, CursorKey: gateway.AuditCursorKey(secret)}
	srv, err := gateway.New(gateway.Config{Pipeline: pipe, Trust: pipe, Keys: ring, Gaps: pipe, Rules: pipe, Reload: reload, Registry: registry,
		Audit: audit, Clock: e.clock, Logger: log.With("part", "http")})
	if err != nil {
		return err
	}
	mm, err := newMaintenanceMetrics(registry)
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	// The retention purge and the succession step run beside the service
	// and stop before the store and the journal close.
	mctx, stopMaintenance := context.WithCancel(ctx)
	maintained := make(chan struct{})
	succeeded := make(chan struct{})
	go func() {
		defer close(maintained)
		(&maintenance{store: st, clock: e.clock, retention: c.retention(), interval: time.Duration(c.Retention.Interval),
			log: log.With("part", "retention"), metrics: mm}).run(mctx)
	}()
	// The succession step (succession.go): what waits for an authority
	// that ceased passes to its successor's mailbox.
	go func() {
		defer close(succeeded)
		runSuccession(mctx, e.clock, pipe, log.With("part", "succession"))
	}()
	defer func() {
		stopMaintenance()
		<-maintained
		<-succeeded
	}()
	clientCAs := x509.NewCertPool()
	for _, ca := range append(append([]*x509.Certificate(nil), trustCfg.Roots...), trustCfg.Intermediates...) {
		clientCAs.AddCert(ca)
	}
	pub := gateway.HTTPServer(srv.Handler(), gateway.TLSConfig(func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
		return &tlsCert, nil
	}, clientCAs), log.With("part", "http"))
	ops := gateway.HTTPServer(srv.OperatorHandler(), nil, log.With("part", "operator"))
	pln, err := net.Listen("tcp", c.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	oln, err := net.Listen("tcp", c.OperatorListen)
	if err != nil {
		pln.Close()
		return fmt.Errorf("operator_listen: %w", err)
	}
	printBanner(e.stdout, c, dev, pln.Addr().String(), oln.Addr().String(), devCA)
	log.Info("serving", "listen", pln.Addr().String(), "operator_listen", oln.Addr().String(), "store", c.Store.Driver, "keys", c.Keys.Provider,
		"retention_delivered_days", c.Retention.DeliveredDays, "retention_undelivered_days", c.Retention.UndeliveredDays,
		"retention_record_days", c.Retention.RecordDays, "retention_interval", time.Duration(c.Retention.Interval).String())

	errc := make(chan error, 2)
	go func() { errc <- pub.ServeTLS(pln, "", "") }()
	go func() { errc <- ops.Serve(oln) }()
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	log.Info("shutting down")
	srv.Drain() // waiting long-polls answer "nothing yet" now
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for _, s := range []*http.Server{pub, ops} {
		wg.Add(1)
		go func() { defer wg.Done(); _ = s.Shutdown(sctx) }()
	}
	wg.Wait()
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", serveErr)
	}
	return nil
}

// keyRing builds the gateway's published keys from the provider: the
// message-signing key and the decryption keys (current, then previous).
func keyRing(ctx context.Context, kp keyProvider) (*envelope.KeyRing, error) {
	signer, err := kp.Signer(ctx, keys.PurposeMessageSigning)
	if err != nil {
		return nil, fmt.Errorf("keys: the message-signing key: %w", err)
	}
	sk, err := envelope.NewSigningKey(signer, "")
	if err != nil {
		return nil, fmt.Errorf("keys: the message-signing key: %w", err)
	}
	decs, err := kp.Decrypters(ctx)
	if err != nil {
		return nil, fmt.Errorf("keys: the message-decryption keys: %w", err)
	}
	ring := &envelope.KeyRing{Signing: sk}
	for i, d := range decs {
		dk, err := envelope.NewDecryptionKey(d, "")
		if err != nil {
			return nil, fmt.Errorf("keys: message-decryption key %d: %w", i, err)
		}
		ring.Decryption = append(ring.Decryption, dk)
	}
	if err := ring.Validate(); err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	return ring, nil
}

// serverCertificate is the public listener's certificate: tls.cert_file
// or the key provider's; a development certificate gets the development
// issuing CA appended, so that a client trusting the root verifies it.
func (c serveConfig) serverCertificate(ctx context.Context, kp keyProvider, devCA *certs.DevCA) (tls.Certificate, error) {
	if c.TLS.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.TLS.CertFile, c.TLS.KeyFile)
		if err != nil {
			return cert, fmt.Errorf("tls.cert_file: %w", err)
		}
		return cert, nil
	}
	tp, ok := kp.(tlsProvider)
	if !ok {
		return tls.Certificate{}, errors.New("tls.cert_file: required: the key provider holds no TLS certificate")
	}
	cert, err := tp.TLSCertificate(ctx)
	if err != nil {
		return cert, fmt.Errorf("keys: the TLS certificate: %w", err)
	}
	if devCA != nil && len(cert.Certificate) == 1 {
		cert.Certificate = append(cert.Certificate, devCA.Issuing().Raw)
	}
	return cert, nil
}

// trustConfig is the trust store's configuration from the files.
func (c serveConfig) trustConfig(e *env) (certs.Config, error) {
	cfg := certs.Config{CertificatesDir: c.Trust.CertificatesDir, CRLDir: c.Trust.CRLDir,
		RequireCRL: *c.Trust.RequireCRL, Clock: e.clock}
	read := func(setting string, files []string) ([]*x509.Certificate, error) {
		var out []*x509.Certificate
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", setting, err)
			}
			cs, err := certs.ParsePEMCertificates(b)
			if err != nil {
				return nil, fmt.Errorf("%s: %s: %w", setting, f, err)
			}
			out = append(out, cs...)
		}
		return out, nil
	}
	var err error
	if len(c.Trust.Roots) == 0 {
		if cfg.Roots, cfg.Intermediates, err = certs.OCES3Anchors(); err != nil {
			return cfg, fmt.Errorf("trust.roots: the embedded OCES3 anchors: %w", err)
		}
	} else if cfg.Roots, err = read("trust.roots", c.Trust.Roots); err != nil {
		return cfg, err
	}
	more, err := read("trust.intermediates", c.Trust.Intermediates)
	if err != nil {
		return cfg, err
	}
	cfg.Intermediates = append(cfg.Intermediates, more...)
	return cfg, nil
}

// printBanner says where the gateway listens and, in development, where the
// client certificates are and one curl line that works.
func printBanner(w io.Writer, c serveConfig, dev bool, addr, opAddr string, ca *certs.DevCA) {
	if !dev {
		fmt.Fprintf(w, "gateway listening on https://%s (mutual TLS), operator metrics on http://%s/metrics\n", addr, opAddr)
		return
	}
	p := ca.Paths()
	db := "SQLite " + c.Store.SQLitePath
	if c.Store.Driver == storeconfig.DriverPostgres {
		schema := c.Store.PostgresSchema
		if schema == "" {
			schema = "public"
		}
		db = "PostgreSQL GATEWAY_POSTGRES_URL, schema " + schema
	}
	fmt.Fprintf(w, "gateway DEVELOPMENT mode: data in %s (%s; PKI %s, never trust its CA in production)\n",
		c.DataDir, db, filepath.Join(c.DataDir, "pki"))
	fmt.Fprintf(w, "listening on https://%s (mutual TLS for /v1; /healthz, /readyz and /.well-known/jwks.json need no client certificate)\n", addr)
	fmt.Fprintf(w, "operator metrics on http://%s/metrics\n", opAddr)
	fmt.Fprintf(w, "development client certificates: %s/<authority>/tls-*.cert.pem with tls-*.key.pem (CA %s)\n",
		filepath.Join(c.DataDir, "pki", "private"), p.RootCert())
	fmt.Fprintf(w, "data-protection officers (the audit API, POST /v1/audit/search): %s with dpo-*.key.pem; the operator's DPO, who sees all: %s\n",
		filepath.Join(c.DataDir, "pki", "private", "<authority>", "dpo-*.cert.pem"), filepath.Join(p.Private(certs.OperatorHolder), "dpo-*.cert.pem"))
	certFile, keyFile := devTLSFiles(p, devClientAuthority)
	if certFile != "" {
		fmt.Fprintf(w, "try (the mailbox of %s):\n  curl --cacert %s --cert %s --key %s https://%s/v1/mailbox\n",
			devClientAuthority, p.RootCert(), certFile, keyFile, addr)
	}
}

// devTLSFiles finds an authority's newest development TLS certificate and key.
func devTLSFiles(p certs.Paths, authorityID string) (certFile, keyFile string) {
	cs, _ := filepath.Glob(filepath.Join(p.Private(authorityID), "tls-*.cert.pem"))
	var newest time.Time
	for _, f := range cs {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		parsed, err := certs.ParsePEMCertificates(b)
		if err != nil || len(parsed) == 0 {
			continue
		}
		if k := strings.TrimSuffix(f, ".cert.pem") + ".key.pem"; parsed[0].NotBefore.After(newest) || certFile == "" {
			newest, certFile, keyFile = parsed[0].NotBefore, f, k
		}
	}
	return certFile, keyFile
}
