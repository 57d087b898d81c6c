package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/psykosocial/exchange/certs"
	"github.com/psykosocial/exchange/internal/directory"
	"github.com/psykosocial/exchange/internal/fault"
	"github.com/psykosocial/exchange/internal/pipeline"
)

// mediaJOSE is the body type of the envelope routes (RFC 7515/7516 compact
// serialisation).
const mediaJOSE = "application/jose"

// route is one entry of the public route table: the mux patterns, the
// OpenAPI test and the metrics all come from it.
type route struct {
	method, path string
	// name labels the route in metrics and logs.
	name string
	// auth is the certificate use the route authenticates the TLS client
	// certificate for (directory.UseTLS, or UseDPO for the audit API);
	// "" takes none.
	auth  string
	serve func(s *Server, w http.ResponseWriter, r *http.Request, who certs.Authenticated) error
}

// publicRoutes is the public listener's route table.
var publicRoutes = []route{
	{http.MethodPost, "/v1/messages", "submit", directory.UseTLS, (*Server).submit},
	{http.MethodGet, "/v1/mailbox", "pull", directory.UseTLS, (*Server).pull},
	{http.MethodPost, "/v1/mailbox/{mailbox_id}/ack", "ack", directory.UseTLS, (*Server).ack},
	{http.MethodGet, "/v1/records/{record_id}/status", "status", directory.UseTLS, (*Server).status},
	{http.MethodPost, "/v1/audit/search", "audit_search", directory.UseDPO, (*Server).auditSearch},
	{http.MethodGet, "/v1/audit/checkpoints/latest", "audit_checkpoint", directory.UseDPO, (*Server).auditLatestCheckpoint},
	{http.MethodGet, "/v1/audit/consistency", "audit_consistency", directory.UseDPO, (*Server).auditConsistency},
	{http.MethodGet, "/.well-known/jwks.json", "jwks", "", (*Server).jwks},
	{http.MethodGet, "/healthz", "healthz", "", (*Server).healthz},
	{http.MethodGet, "/readyz", "readyz", "", (*Server).readyz},
}

// operatorRoutes is the operator listener's route table (OperatorHandler).
var operatorRoutes = []route{
	{method: http.MethodGet, path: "/metrics", name: "metrics"},
	{method: http.MethodPost, path: "/reload", name: "reload"},
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	methods := map[string][]string{}
	for _, rt := range publicRoutes {
		mux.Handle(rt.method+" "+rt.path, s.wrap(rt))
		methods[rt.path] = append(methods[rt.path], rt.method)
	}
	for path, ms := range methods {
		for _, m := range ms {
			if m == http.MethodGet {
				ms = append(ms, http.MethodHead)
			}
		}
		sort.Strings(ms)
		allow := strings.Join(ms, ", ")
		mux.Handle(path, s.wrap(route{name: "method_not_allowed", serve: func(*Server, http.ResponseWriter, *http.Request, certs.Authenticated) error {
			return &fault.Error{Kind: errMethod, Type: "method-not-allowed", Detail: allow}
		}}))
	}
	mux.Handle("/", s.wrap(route{name: "unmatched", serve: func(*Server, http.ResponseWriter, *http.Request, certs.Authenticated) error {
		return fault.New(fault.ErrNotFound, "not-found", "", "no such route")
	}}))
	return mux
}

// statusWriter remembers the status a handler answered with.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// wrap is the boundary of every route: authentication, the error answer
// (the one place errors become problem+json), panic recovery, metrics and
// the log line.
func (s *Server) wrap(rt route) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		start := s.cfg.Clock.Now()
		w := &statusWriter{ResponseWriter: rw}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.metrics.panics.Inc()
				s.log.Error("handler panic", "route", rt.name, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				if w.status == 0 {
					writeProblem(w, r, s.log, fmt.Errorf("panic in %s", rt.name))
				}
			}
			s.metrics.observe(rt.name, w.status, s.cfg.Clock.Now().Sub(start))
		}()
		var who certs.Authenticated
		var err error
		switch rt.auth {
		case directory.UseTLS:
			who, err = s.authenticate(r)
		case directory.UseDPO:
			who, err = s.authenticateDPO(r)
		}
		if err == nil {
			err = rt.serve(s, w, r, who)
		}
		if err != nil {
			if rt.name == "submit" {
				t, _ := answer(err)
				s.metrics.recordsRejected.WithLabelValues(senderKind(who.AuthorityID), t.Name).Inc()
			}
			writeProblem(w, r, s.log.With("route", rt.name, "authority", who.AuthorityID), err)
			return
		}
		s.log.Debug("request", "route", rt.name, "authority", who.AuthorityID, "status", w.status)
	})
}

// authenticate finds the authority the TLS client certificate acts for.
func (s *Server) authenticate(r *http.Request) (certs.Authenticated, error) {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return certs.Authenticated{}, fault.New(fault.ErrUnauthenticated, "client-certificate-required", "",
			"this route needs a TLS client certificate registered for your authority")
	}
	pc := r.TLS.PeerCertificates
	a, err := s.cfg.Trust.Authenticate(pc[0], pc[1:], directory.UseTLS)
	var ce *certs.CeasedError
	if errors.As(err, &ce) {
		// Registered for an authority whose grace period is over: say so,
		// and who holds its records now.
		if f := s.cfg.Pipeline.Ceased(ce.AuthorityID); f != nil {
			return certs.Authenticated{}, f
		}
	}
	if err != nil {
		why := "it is not accepted"
		for _, c := range []struct {
			err error
			why string
		}{
			{certs.ErrUntrustedChain, "it does not chain to a trusted CA"},
			{certs.ErrRevoked, "it is revoked"},
			{certs.ErrNoCRL, "no current CRL of its issuer is loaded"},
			{certs.ErrNotOCES3, "it lacks the OCES3 organisation identity"},
			{certs.ErrNotBound, "it is not registered as a TLS certificate of any authority"},
			{certs.ErrCVRMismatch, "its CVR is not the CVR of the authority it is registered for"},
		} {
			if errors.Is(err, c.err) {
				why = c.why
				break
			}
		}
		return certs.Authenticated{}, fault.Wrap(fault.ErrUnauthenticated, "client-certificate-rejected", "",
			"the client certificate is refused: "+why, err)
	}
	return a, nil
}

// senderKind is the metric label of an authority: its id's kind.
func senderKind(authorityID string) string {
	kind, _, _ := strings.Cut(authorityID, ":")
	switch kind {
	case "region", "municipality", "police":
		return kind
	case "":
		return "unauthenticated"
	}
	return "other"
}

// readJOSE reads a bounded application/jose body.
func readJOSE(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != mediaJOSE {
		return nil, fault.New(fault.ErrUnsupportedMedia, "unsupported-media-type", "",
			"the body must be "+mediaJOSE+" (a compact JWE)")
	}
	if r.ContentLength > limit {
		return nil, &http.MaxBytesError{Limit: limit}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, err
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			// The server's ReadTimeout cut a body that stalled.
			return nil, &fault.Error{Kind: errRequestTimeout, Type: "request-timeout",
				Detail: "the body did not arrive within the server's read time-out", Err: err}
		}
		return nil, fault.Wrap(fault.ErrMalformed, "malformed-request", "", "the body could not be read", err)
	}
	if len(body) == 0 {
		return nil, fault.New(fault.ErrMalformed, "malformed-request", "", "the body is empty")
	}
	return body, nil
}

// writeJSON answers v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("gateway: encode answer: %w", err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
	return nil
}

// receiptAnswer is the body of a submission's answer: the SubmitResult and
// the signed receipt as a compact JWS.
type receiptAnswer struct {
	pipeline.SubmitResult
	// Receipt is SubmitResult.Receipt as a string.
	Receipt string `json:"receipt"`
}

func (s *Server) submit(w http.ResponseWriter, r *http.Request, who certs.Authenticated) error {
	leave, err := s.admit.enter(who.AuthorityID)
	if err != nil {
		return err
	}
	defer leave()
	body, err := readJOSE(w, r, MaxSubmitBytes)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), SubmitTimeout)
	defer cancel()
	res, err := s.cfg.Pipeline.Submit(ctx, pipeline.Submission{Sender: who, Body: body})
	if err != nil {
		return err
	}
	kind := senderKind(who.AuthorityID)
	for _, it := range res.Items {
		if it.Status == pipeline.ItemRejected {
			reason := "rejected"
			if len(it.Problems) > 0 && it.Problems[0].Rule != "" {
				reason = clip(it.Problems[0].Rule, 64)
			}
			s.metrics.recordsRejected.WithLabelValues(kind, reason).Inc()
			continue
		}
		s.metrics.recordsReceived.WithLabelValues(kind).Inc()
	}
	status := http.StatusAccepted
	if res.Status == pipeline.StatusAlreadyReceived {
		status = http.StatusOK
	}
	if res.Items == nil {
		res.Items = []pipeline.ItemResult{}
	}
	return writeJSON(w, status, receiptAnswer{SubmitResult: res, Receipt: string(res.Receipt)})
}

// deliveryAnswer is one pulled message: the Delivery's metadata and the
// sealed message as a compact JWE.
type deliveryAnswer struct {
	pipeline.Delivery
	// Message is Delivery.Body as a string.
	Message string `json:"message"`
}

// pullAnswer is the body of a pull's answer.
type pullAnswer struct {
	Messages []deliveryAnswer `json:"messages"`
}

func (s *Server) pull(w http.ResponseWriter, r *http.Request, who certs.Authenticated) error {
	max, wait, err := pullParams(r)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), wait+AckTimeout)
	defer cancel()
	// A shutdown (Drain) ends the wait: the answer is "nothing yet".
	waitCtx, endWait := context.WithCancel(ctx)
	defer endWait()
	go func() {
		select {
		case <-s.draining:
			endWait()
		case <-waitCtx.Done():
		}
	}()
	ds, err := s.cfg.Pipeline.Pull(waitCtx, who.AuthorityID, max, wait)
	if err != nil {
		if ctx.Err() == nil && waitCtx.Err() != nil && errors.Is(err, fault.ErrUnavailable) {
			return writeJSON(w, http.StatusOK, pullAnswer{Messages: []deliveryAnswer{}})
		}
		return err
	}
	out := pullAnswer{Messages: make([]deliveryAnswer, 0, len(ds))}
	for _, d := range ds {
		out.Messages = append(out.Messages, deliveryAnswer{Delivery: d, Message: string(d.Body)})
	}
	return writeJSON(w, http.StatusOK, out)
}

// pullParams reads max (1 to MaxPull, default DefaultPull) and wait
// (whole seconds, 0 to MaxWait, default 0) and refuses anything else.
func pullParams(r *http.Request) (int, time.Duration, error) {
	bad := func(detail string) error {
		return fault.New(fault.ErrMalformed, "invalid-parameter", "", detail)
	}
	if len(r.URL.RawQuery) > maxQueryBytes {
		return 0, 0, bad("the query string is too long")
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return 0, 0, bad("the query string cannot be read")
	}
	max, wait := DefaultPull, time.Duration(0)
	for k, vs := range q {
		if len(vs) != 1 {
			return 0, 0, bad("each parameter may be given once")
		}
		n, err := strconv.Atoi(vs[0])
		switch k {
		case "max":
			if err != nil || n < 1 || n > MaxPull {
				return 0, 0, bad(fmt.Sprintf("max must be a whole number from 1 to %d", MaxPull))
			}
			max = n
		case "wait":
			if err != nil || n < 0 || n > int(MaxWait/time.Second) {
				return 0, 0, bad(fmt.Sprintf("wait must be a whole number of seconds from 0 to %d", int(MaxWait/time.Second)))
			}
			wait = time.Duration(n) * time.Second
		default:
			return 0, 0, bad("the parameters are max and wait only")
		}
	}
	return max, wait, nil
}

// validMailboxID bounds the path's mailbox id (or record id) before it
// reaches the pipeline; anything else is not found (nothing is echoed).
func validMailboxID(id string) bool {
	if id == "" || len(id) > maxMailboxIDBytes {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':') {
			return false
		}
	}
	return true
}

func (s *Server) ack(w http.ResponseWriter, r *http.Request, who certs.Authenticated) error {
	id := r.PathValue("mailbox_id")
	if !validMailboxID(id) {
		return fault.New(fault.ErrNotFound, "not-found", "", "no such mailbox message")
	}
	body, err := readJOSE(w, r, MaxAckBytes)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), AckTimeout)
	defer cancel()
	if err := s.cfg.Pipeline.Ack(ctx, who.AuthorityID, id, body); err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// status answers the sender's view of one of its records: per version and
// recipient, queued, delivered, withheld (the rule, in words) or withdrawn.
// A record that is not the caller's is not found, as one that does not
// exist: nothing says whether it does.
func (s *Server) status(w http.ResponseWriter, r *http.Request, who certs.Authenticated) error {
	id := r.PathValue("record_id")
	if !validMailboxID(id) || r.URL.RawQuery != "" {
		return fault.New(fault.ErrNotFound, pipeline.TypeUnknownRecord, "", "no such record of yours")
	}
	ctx, cancel := context.WithTimeout(r.Context(), AckTimeout)
	defer cancel()
	st, err := s.cfg.Pipeline.Status(ctx, who.AuthorityID, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, st)
}

func (s *Server) jwks(w http.ResponseWriter, _ *http.Request, _ certs.Authenticated) error {
	b, err := s.cfg.Keys.JWKS()
	if err != nil {
		return fmt.Errorf("gateway: JWKS: %w", err)
	}
	w.Header().Set("Content-Type", "application/jwk-set+json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(b)
	return nil
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request, _ certs.Authenticated) error {
	return writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyAnswer is the body of /readyz: whether the gateway is ready and the
// configuration gaps in words (a gap does not make it unready).
type readyAnswer struct {
	Status string `json:"status"`
	// Gaps says what configuration is missing, for the operator.
	Gaps []string `json:"configuration_gaps"`
}

// readyProblem is /readyz's problem+json: not-ready, with the gaps.
type readyProblem struct {
	problemBody
	Gaps []string `json:"configuration_gaps"`
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request, _ certs.Authenticated) error {
	gaps := []string{}
	for _, g := range s.cfg.Gaps.Gaps(s.cfg.Clock.Now()) {
		gaps = append(gaps, g.String())
	}
	ctx, cancel := context.WithTimeout(r.Context(), ReadyTimeout)
	defer cancel()
	err := s.cfg.Pipeline.Ready(ctx)
	if err == nil {
		return writeJSON(w, http.StatusOK, readyAnswer{Status: "ready", Gaps: gaps})
	}
	t, _ := lookupType("not-ready")
	detail := "a dependency (database, key provider or journal signer) is unusable; see the gateway's log"
	if fe, ok := fault.As(err); ok && fe.Detail != "" {
		detail = clip(fe.Detail, maxDetailBytes)
	}
	s.log.Warn("not ready", "err", err.Error())
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Retry-After", strconv.Itoa(int(RetryAfter/time.Second)))
	w.WriteHeader(t.Status)
	return json.NewEncoder(w).Encode(readyProblem{problemBody{Type: t.URI(), Title: t.Title, Status: t.Status, Detail: detail}, gaps})
}
