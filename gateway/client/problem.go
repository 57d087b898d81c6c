package client

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ProblemBase is the prefix of the gateway's problem type URIs.
const ProblemBase = "https://exchange.psykosocial.dk/problems/"

// Problem is a refusal of the gateway: its problem+json document (RFC
// 9457) and the HTTP status. Match it with errors.As.
type Problem struct {
	// Status is the HTTP status code.
	Status int `json:"status"`
	// Type is the problem type URI (ProblemBase + Name()).
	Type string `json:"type"`
	// Title is the problem type's fixed title.
	Title string `json:"title"`
	// Detail says what happened to this request.
	Detail string `json:"detail,omitempty"`
	// Problems are the broken rules of an invalid document, with paths.
	Problems []FieldProblem `json:"problems,omitempty"`
	// Omitted counts problems left out of Problems.
	Omitted int `json:"problems_omitted,omitempty"`
	// RetryAfter is the wait a 503 or 429 asks for (zero otherwise).
	RetryAfter time.Duration `json:"-"`
}

// Name is the problem type's name, e.g. "record-conflict"; "" when the
// answer was not problem+json.
func (p *Problem) Name() string { return strings.TrimPrefix(p.Type, ProblemBase) }

// Temporary reports whether the request may be retried as is later, after
// RetryAfter: 503 (a dependency is down, or the gateway is busy) or 429
// (the authority has its share of submissions in progress).
func (p *Problem) Temporary() bool {
	return p.Status == http.StatusServiceUnavailable || p.Status == http.StatusTooManyRequests
}

// Error implements error.
func (p *Problem) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "gateway: %d", p.Status)
	if n := p.Name(); n != "" {
		fmt.Fprintf(&b, " %s", n)
	}
	if p.Title != "" {
		fmt.Fprintf(&b, ": %s", p.Title)
	}
	if p.Detail != "" {
		fmt.Fprintf(&b, ": %s", p.Detail)
	}
	for i, fp := range p.Problems {
		if i == 3 {
			fmt.Fprintf(&b, " (and %d more)", len(p.Problems)-3+p.Omitted)
			break
		}
		fmt.Fprintf(&b, "; %s: %s", fp.Pointer, fp.Message)
	}
	return b.String()
}

// problemOf makes the *Problem of a non-2xx answer.
func problemOf(resp *http.Response, body []byte) *Problem {
	p := &Problem{Status: resp.StatusCode}
	if mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err == nil && mt == "application/problem+json" {
		if err := json.Unmarshal(body, p); err != nil {
			p.Detail = "the problem+json answer cannot be read"
		}
		p.Status = resp.StatusCode
	} else {
		p.Title = http.StatusText(resp.StatusCode)
	}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s >= 0 {
		p.RetryAfter = time.Duration(s) * time.Second
	}
	return p
}
