package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/psykosocial/exchange/internal/fault"
	"github.com/psykosocial/exchange/internal/record"
)

// ProblemBase is the prefix of every problem type URI: a problem's type is
// ProblemBase + its name, e.g.
// https://exchange.psykosocial.dk/problems/unsupported-media-type.
const ProblemBase = "https://exchange.psykosocial.dk/problems/"

// ProblemType is one entry of the problem type catalogue: a stable name, a
// fixed title and the one HTTP status it is answered with.
type ProblemType struct {
	// Name is the last path segment of the type URI.
	Name string
	// Title is the short, fixed title (RFC 9457 "title").
	Title string
	// Status is the HTTP status code.
	Status int
}

// URI returns the problem type's URI.
func (p ProblemType) URI() string { return ProblemBase + p.Name }

// kindStatus maps every fault kind to its HTTP status: the one mapping of
// the taxonomy to HTTP.
var kindStatus = []struct {
	kind    error
	status  int
	generic string // the catalogue entry for an Error of this kind with an unknown type
}{
	{fault.ErrMalformed, http.StatusBadRequest, "malformed-request"},
	{fault.ErrUnauthenticated, http.StatusUnauthorized, "unauthenticated"},
	{fault.ErrForbidden, http.StatusForbidden, "forbidden"},
	{fault.ErrNotFound, http.StatusNotFound, "not-found"},
	{fault.ErrConflict, http.StatusConflict, "conflict"},
	{fault.ErrTooLarge, http.StatusRequestEntityTooLarge, "too-large"},
	{fault.ErrUnsupportedMedia, http.StatusUnsupportedMediaType, "unsupported-media-type"},
	{fault.ErrInvalid, http.StatusUnprocessableEntity, "invalid-content"},
	{fault.ErrUnavailable, http.StatusServiceUnavailable, "unavailable"},
	{fault.ErrRateLimited, http.StatusTooManyRequests, "rate-limited"},
}

// catalogue lists every problem type the gateway answers with, each with
// its status (a type answered with two statuses, such as bad-receipt, has
// an entry for each). Later issues extend it (and schemas/openapi.yaml,
// which a test keeps identical); a name is never reused for another meaning.
var catalogue = []ProblemType{
	// One generic type per fault kind.
	{"malformed-request", "The request cannot be read", http.StatusBadRequest},
	{"unauthenticated", "Authentication failed", http.StatusUnauthorized},
	{"forbidden", "Not allowed for this authority", http.StatusForbidden},
	{"not-found", "No such resource", http.StatusNotFound},
	{"conflict", "Conflicts with what was received before", http.StatusConflict},
	{"too-large", "The request is too large", http.StatusRequestEntityTooLarge},
	{"unsupported-media-type", "Unsupported media type", http.StatusUnsupportedMediaType},
	{"invalid-content", "The content breaks a rule", http.StatusUnprocessableEntity},
	{"unavailable", "Temporarily unavailable; retry later", http.StatusServiceUnavailable},
	{"rate-limited", "Too many submissions at once from this authority", http.StatusTooManyRequests},
	// The HTTP layer's own.
	{"client-certificate-required", "A client certificate is required", http.StatusUnauthorized},
	{"client-certificate-rejected", "The client certificate is not accepted", http.StatusUnauthorized},
	{"body-too-large", "The request body exceeds the limit", http.StatusRequestEntityTooLarge},
	{"invalid-parameter", "A query parameter is invalid", http.StatusBadRequest},
	{"method-not-allowed", "Method not allowed", http.StatusMethodNotAllowed},
	{"timeout", "The request took too long; retry later", http.StatusServiceUnavailable},
	{"request-timeout", "The request did not arrive in time", http.StatusRequestTimeout},
	{"not-ready", "The gateway is not ready", http.StatusServiceUnavailable},
	{"busy", "The gateway is busy", http.StatusServiceUnavailable},
	{"internal-error", "Internal error", http.StatusInternalServerError},
	{"reload-refused", "The new configuration is refused; the version in force stays", http.StatusUnprocessableEntity},
	// The audit API's (audit.go).
	{"audit-access-denied", "Not a data-protection officer's certificate", http.StatusForbidden},
	{"invalid-cpr", "The CPR number is malformed", http.StatusBadRequest},
	{"invalid-filter", "A search filter is invalid", http.StatusBadRequest},
	{"invalid-cursor", "The cursor is not valid for this search", http.StatusBadRequest},
	{"no-checkpoint", "No checkpoint has been signed yet", http.StatusNotFound},
	// The pipeline's (internal/pipeline/faults.go).
	{"bad-envelope", "The envelope cannot be opened or verified", http.StatusBadRequest},
	{"malformed-document", "The document cannot be read", http.StatusBadRequest},
	{"signer-mismatch", "The signer is not the authenticated sender", http.StatusForbidden},
	{"unknown-authority", "Unknown authority", http.StatusForbidden},
	{"ceased-authority", "The authority has ceased", http.StatusForbidden},
	{"mailbox-forbidden", "Not the caller's own mailbox", http.StatusForbidden},
	{"bad-receipt", "The receipt does not acknowledge this delivery", http.StatusForbidden},
	{"bad-receipt", "The receipt does not verify", http.StatusUnprocessableEntity},
	{"unknown-record", "No such record", http.StatusNotFound},
	{"unknown-message", "No such mailbox message", http.StatusNotFound},
	{"message-conflict", "Another document under a used message id", http.StatusConflict},
	{"record-conflict", "The record id and version were stored with other content", http.StatusConflict},
	{"not-owner", "The record belongs to another authority", http.StatusConflict},
	{"replayed-message", "The message was received before", http.StatusUnprocessableEntity},
	{"expired-message", "The message is outside its validity period", http.StatusUnprocessableEntity},
	{"invalid-record", "The record is invalid", http.StatusUnprocessableEntity},
	{"bad-request", "A parameter is out of range", http.StatusUnprocessableEntity},
	{"store-unavailable", "Temporarily unavailable; retry later", http.StatusServiceUnavailable},
}

// ProblemTypes returns a copy of the catalogue, in its order.
func ProblemTypes() []ProblemType { return append([]ProblemType(nil), catalogue...) }

// lookupType finds the catalogue entry of name; status 0 takes the first.
func lookupType(name string, status ...int) (ProblemType, bool) {
	for _, p := range catalogue {
		if p.Name == name && (len(status) == 0 || p.Status == status[0]) {
			return p, true
		}
	}
	return ProblemType{}, false
}

// problemBody is the problem+json document (RFC 9457) with one extension
// member: the problems of an invalid document, each bounded.
type problemBody struct {
	Type     string           `json:"type"`
	Title    string           `json:"title"`
	Status   int              `json:"status"`
	Detail   string           `json:"detail,omitempty"`
	Problems []record.Problem `json:"problems,omitempty"`
	// Omitted counts the problems beyond maxProblems that were left out.
	Omitted int `json:"problems_omitted,omitempty"`
}

// answer is what an error becomes: the one mapping from fault kinds (and
// the HTTP layer's own errors) to a status and a problem document.
func answer(err error) (ProblemType, *fault.Error) {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		t, _ := lookupType("body-too-large")
		return t, fault.New(fault.ErrTooLarge, t.Name, t.Title,
			"the body exceeds "+strconv.FormatInt(mbe.Limit, 10)+" bytes")
	}
	if errors.Is(err, context.DeadlineExceeded) {
		t, _ := lookupType("timeout")
		return t, &fault.Error{Kind: fault.ErrUnavailable, Type: t.Name, Title: t.Title, RetryAfter: RetryAfter, Err: err}
	}
	fe, ok := fault.As(err)
	if !ok {
		t, _ := lookupType("internal-error")
		return t, &fault.Error{Kind: errInternal, Type: t.Name, Title: t.Title, Err: err}
	}
	if fe.Kind == errMethod {
		t, _ := lookupType("method-not-allowed")
		return t, fe
	}
	if fe.Kind == errRequestTimeout {
		t, _ := lookupType("request-timeout")
		return t, fe
	}
	for _, k := range kindStatus {
		if !errors.Is(fe.Kind, k.kind) {
			continue
		}
		t, known := lookupType(fe.Type, k.status)
		if !known {
			t, _ = lookupType(k.generic)
		}
		return t, fe
	}
	t, _ := lookupType("internal-error")
	return t, &fault.Error{Kind: errInternal, Type: t.Name, Title: t.Title, Err: err}
}

// errInternal, errMethod and errRequestTimeout are the HTTP layer's kinds
// outside the taxonomy: a bug (500), a method the route does not take
// (405) and a request body the server's ReadTimeout cut (408).
var (
	errInternal       = errors.New("internal error")
	errMethod         = errors.New("method not allowed")
	errRequestTimeout = errors.New("request timeout")
)

// writeProblem answers err as problem+json, logs it (a client's mistake at
// Info, ours at Error; the cause only in the log) and returns the status
// and the problem type's name.
func writeProblem(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) (int, string) {
	t, fe := answer(err)
	body := problemBody{Type: t.URI(), Title: t.Title, Status: t.Status, Detail: clip(fe.Detail, maxDetailBytes)}
	for i, p := range fe.Problems {
		if i == maxProblems {
			body.Omitted = len(fe.Problems) - maxProblems
			break
		}
		body.Problems = append(body.Problems, record.Problem{
			Pointer: clip(p.Pointer, maxProblemFieldBytes), Line: p.Line,
			Rule: clip(p.Rule, maxProblemFieldBytes), Message: clip(p.Message, maxProblemFieldBytes),
		})
	}
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	if t.Status == http.StatusServiceUnavailable || t.Status == http.StatusTooManyRequests {
		wait := fe.RetryAfter
		if wait <= 0 {
			wait = RetryAfter
		}
		h.Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
	}
	if errors.Is(fe.Kind, errMethod) && fe.Detail != "" {
		h.Set("Allow", fe.Detail)
	}
	w.WriteHeader(t.Status)
	_ = json.NewEncoder(w).Encode(body)

	level := slog.LevelInfo
	if t.Status >= 500 {
		level = slog.LevelError
	}
	attrs := []any{"method", r.Method, "status", t.Status, "problem", t.Name}
	if fe.Err != nil && t.Status >= 500 {
		attrs = append(attrs, "err", fe.Err.Error())
	}
	log.Log(r.Context(), level, "request refused", attrs...)
	return t.Status, t.Name
}

// clip bounds s to at most n bytes of valid UTF-8, replacing invalid bytes
// and control characters with U+FFFD and marking a cut with "…", so that no
// client input is echoed back unbounded or raw.
func clip(s string, n int) string {
	var b strings.Builder
	for _, r := range s {
		if r == utf8.RuneError || r < 0x20 || r == 0x7f {
			r = '\uFFFD'
		}
		if b.Len()+utf8.RuneLen(r) > n {
			return cut(b.String(), n-len("…")) + "…"
		}
		b.WriteRune(r)
	}
	return b.String()
}

// cut returns the longest prefix of s of at most n bytes that ends on a
// rune boundary.
func cut(s string, n int) string {
	if n <= 0 {
		return ""
	}
	for n < len(s) && !utf8.RuneStart(s[n]) {
		n--
	}
	if n > len(s) {
		return s
	}
	return s[:n]
}
