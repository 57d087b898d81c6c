package gateway

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/psykosocial/exchange/certs"
	"github.com/psykosocial/exchange/internal/clock"
	"github.com/psykosocial/exchange/internal/pipeline"
	"github.com/psykosocial/exchange/internal/refdata"
)

// Pipeline is the work the HTTP layer hands a request to. Every error it
// returns is a *fault.Error (internal/fault); *pipeline.Pipeline
// implements it.
type Pipeline interface {
	// Submit opens, verifies, decodes, validates, routes and commits one
	// signed message and returns the answer with the signed receipt.
	Submit(ctx context.Context, s pipeline.Submission) (pipeline.SubmitResult, error)
	// Pull leases up to max messages of recipient's mailbox, waiting up to
	// wait for the first one, each sealed to the recipient now.
	Pull(ctx context.Context, recipient string, max int, wait time.Duration) ([]pipeline.Delivery, error)
	// Ack marks recipient's mailbox message delivered on its signed receipt.
	Ack(ctx context.Context, recipient, mailboxID string, receipt []byte) error
	// Status is what became of sender's record recordID, per version and
	// recipient; a record that is not the sender's is not found.
	Status(ctx context.Context, sender, recordID string) (pipeline.RecordStatus, error)
	// Ready reports whether the database, the key provider and the journal
	// signer are usable.
	Ready(ctx context.Context) error
	// Ceased is the refusal (ceased-authority, naming the successor) of an
	// authority that has ceased, nil for one in force.
	Ceased(authority string) error
	// Mailboxes counts, per recipient kind, the mailbox messages not yet
	// acknowledged and when the oldest was queued (the mailbox gauges).
	Mailboxes(ctx context.Context) ([]pipeline.MailboxDepth, error)
}

// Authenticator decides which authority a client certificate acts for;
// *certs.Store implements it.
type Authenticator interface {
	Authenticate(cert *x509.Certificate, extra []*x509.Certificate, use string) (certs.Authenticated, error)
}

// KeySet gives the gateway's public keys as a JWK Set; *envelope.KeyRing
// implements it.
type KeySet interface {
	JWKS() ([]byte, error)
}

// GapReporter reports configuration gaps at an instant; *refdata.Data
// implements it.
type GapReporter interface {
	Gaps(at time.Time) []refdata.Gap
}

// Config configures a Server. Every field but Logger, Reload, Rules and
// Audit is required.
type Config struct {
	// Pipeline does the work of the /v1 routes and says whether the
	// gateway is ready.
	Pipeline Pipeline
	// Trust authenticates TLS client certificates (directory.UseTLS).
	Trust Authenticator
	// Keys are published at /.well-known/jwks.json.
	Keys KeySet
	// Gaps are reported by /readyz and as the gateway_config_gaps gauge.
	Gaps GapReporter
	// Reload, if set, reloads the rules on POST /reload of the operator
	// listener (without it the route answers 404).
	Reload Reloader
	// Rules, if set, is reported as gateway_config_info.
	Rules RulesReporter
	// Registry receives the metrics; a private registry, never the
	// default one. /metrics on the operator handler serves it.
	Registry *prometheus.Registry
	// Clock measures latencies and dates the gap report.
	Clock clock.Clock
	// Audit, if set, serves the data-protection officers' audit API
	// (/v1/audit/...); without it those routes answer 404.
	Audit *Audit
	// Admission bounds the submissions in flight, in all and per sender;
	// zero fields take the defaults of limits.go.
	Admission Admission
	// Logger receives one line per refused request and every internal
	// error (never a body, a CPR number or a name); nil discards.
	Logger *slog.Logger
}

// Server is the HTTP layer: a public handler (serve it over TLS with
// TLSConfig) and an operator handler.
type Server struct {
	cfg     Config
	log     *slog.Logger
	metrics *metrics
	public  http.Handler
	admit   *admission

	// draining is closed by Drain: waiting long-polls end at once.
	draining  chan struct{}
	drainOnce sync.Once
}

// New checks cfg and builds the handlers.
func New(cfg Config) (*Server, error) {
	switch {
	case cfg.Pipeline == nil:
		return nil, errors.New("gateway: Config.Pipeline is required")
	case cfg.Trust == nil:
		return nil, errors.New("gateway: Config.Trust is required")
	case cfg.Keys == nil:
		return nil, errors.New("gateway: Config.Keys is required")
	case cfg.Gaps == nil:
		return nil, errors.New("gateway: Config.Gaps is required")
	case cfg.Registry == nil:
		return nil, errors.New("gateway: Config.Registry is required")
	case cfg.Clock == nil:
		return nil, errors.New("gateway: Config.Clock is required")
	}
	if cfg.Audit != nil {
		if err := cfg.Audit.check(); err != nil {
			return nil, err
		}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	m, err := newMetrics(cfg.Registry, cfg.Gaps, cfg.Rules, cfg.Pipeline, cfg.Clock, log)
	if err != nil {
		return nil, fmt.Errorf("gateway: metrics: %w", err)
	}
	lim, err := cfg.Admission.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: log, metrics: m, admit: newAdmission(lim), draining: make(chan struct{})}
	if err := cfg.Registry.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "gateway_submissions_in_flight",
		Help: "Submissions being worked on now (bounded by the admission limits).",
	}, func() float64 { return float64(s.admit.inFlight()) })); err != nil {
		return nil, fmt.Errorf("gateway: metrics: %w", err)
	}
	s.public = s.routes()
	return s, nil
}

// Drain ends every long-poll that is waiting, now and from now on, with
// the answer it would give at the end of its wait: no messages yet, so
// that the case system polls again (another replica, or this one after its
// restart). Submissions, acknowledgements and pulls that have found
// messages finish as usual. Call it when a graceful shutdown begins,
// before http.Server.Shutdown, which otherwise waits for every long-poll's
// full wait.
func (s *Server) Drain() { s.drainOnce.Do(func() { close(s.draining) }) }

// Handler is the public listener's handler.
func (s *Server) Handler() http.Handler { return s.public }

// OperatorHandler is the operator listener's handler: GET /metrics and
// POST /reload. Serve it on loopback or an operators' network only.
func (s *Server) OperatorHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.cfg.Registry, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelError), MaxRequestsInFlight: 4, Timeout: 10 * time.Second,
	}))
	mux.HandleFunc("POST /reload", s.reload)
	return mux
}

// TLSConfig returns the public listener's TLS configuration: TLS 1.2 or
// newer, the server certificate from getCert (called per handshake, so a
// renewed certificate is used without a restart), and a client certificate
// requested from every client. The handshake does not judge it: the /v1
// routes authenticate it against the trust store (chain, CRL, OCES3
// identity, directory binding) and answer 401 problem+json when it is
// missing or refused, while /healthz, /readyz and the JWKS take none.
// clientCAs, if set, are named to the client as acceptable issuers: give
// the roots and the issuing CAs, since a client (Go's among them) sends its
// certificate only when its issuer is named.
func TLSConfig(getCert func(*tls.ClientHelloInfo) (*tls.Certificate, error), clientCAs *x509.CertPool) *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: getCert,
		ClientAuth:     tls.RequestClientCert,
		ClientCAs:      clientCAs,
		NextProtos:     []string{"h2", "http/1.1"},
	}
}

// HTTPServer returns an http.Server for h with the limits of limits.go.
func HTTPServer(h http.Handler, tlsConfig *tls.Config, log *slog.Logger) *http.Server {
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &http.Server{
		Handler:           h,
		TLSConfig:         tlsConfig,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
}
