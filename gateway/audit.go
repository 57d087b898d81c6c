package gateway

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/psykosocial/exchange/certs"
	"github.com/psykosocial/exchange/internal/directory"
	"github.com/psykosocial/exchange/internal/fault"
	"github.com/psykosocial/exchange/internal/journal"
	"github.com/psykosocial/exchange/internal/record"
	"github.com/psykosocial/exchange/internal/strictjson"
)

// The audit API's limits.
const (
	// AuditDefaultPageSize is the page size of a search that names none.
	AuditDefaultPageSize = 50
	// AuditMaxPageSize bounds one page of a search.
	AuditMaxPageSize = 200
	// AuditMaxBodyBytes bounds the body of POST /v1/audit/search.
	AuditMaxBodyBytes = 16 << 10
	// AuditTimeout bounds one audit request's work.
	AuditTimeout = 10 * time.Second
	// minCursorKeyBytes is the shortest accepted Audit.CursorKey.
	minCursorKeyBytes = 32
)

// Problem types of the audit API (catalogue in problem.go).
const (
	typeAuditAccessDenied = "audit-access-denied"
	typeInvalidCPR        = "invalid-cpr"
	typeInvalidFilter     = "invalid-filter"
	typeInvalidCursor     = "invalid-cursor"
	typeNoCheckpoint      = "no-checkpoint"
)

// JournalAppender appends entries to the audit journal; *journal.Journal
// implements it.
type JournalAppender interface {
	Append(ctx context.Context, entries ...journal.Entry) (uint64, error)
}

// Successions names the authorities whose records an authority holds
// because it succeeded them (the 2027 merger); *pipeline.Pipeline
// implements it.
type Successions interface {
	Predecessors(authority string, at time.Time) []string
}

// Audit is what the data-protection officers' routes (/v1/audit/...) read
// and write. Every field is required.
type Audit struct {
	// Reader queries the journal and builds its proofs.
	Reader *journal.Reader
	// Journal receives an audit_query entry for every search and an
	// access_denied entry for every refused certificate.
	Journal JournalAppender
	// Subjects turns a CPR number, or a name and birth date, into the
	// subject references the journal holds.
	Subjects *journal.SubjectKeys
	// Successions widens a DPO's scope to the authorities its own
	// authority succeeded.
	Successions Successions
	// CursorKey (at least 32 bytes) authenticates the search cursors, so
	// that a cursor changed by the client is refused.
	CursorKey []byte
}

func (a *Audit) check() error {
	switch {
	case a.Reader == nil:
		return errors.New("gateway: Audit.Reader is required")
	case a.Journal == nil:
		return errors.New("gateway: Audit.Journal is required")
	case a.Subjects == nil:
		return errors.New("gateway: Audit.Subjects is required")
	case a.Successions == nil:
		return errors.New("gateway: Audit.Successions is required")
	case len(a.CursorKey) < minCursorKeyBytes:
		return fmt.Errorf("gateway: Audit.CursorKey must be at least %d bytes", minCursorKeyBytes)
	}
	return nil
}

// auditRequest is the body of POST /v1/audit/search. Every member is
// optional; the set ones must all match.
type auditRequest struct {
	CPR           *string  `json:"cpr"`
	Name          *string  `json:"name"`
	BirthDate     *string  `json:"birth_date"`
	RecordID      *string  `json:"record_id"`
	IncidentID    *string  `json:"incident_id"`
	Authority     *string  `json:"authority"`
	Events        []string `json:"events"`
	Since         *string  `json:"since"`
	Until         *string  `json:"until"`
	PageSize      *int     `json:"page_size"`
	Cursor        *string  `json:"cursor"`
	IncludeProofs bool     `json:"include_proofs"`
}

// auditSearch is a parsed search: the journal filter (without the DPO's
// scope), the person's reference under the current key for the
// audit_query entry, and the paging.
type auditSearch struct {
	filter   journal.Filter
	subject  journal.Subject
	subjKind string // "cpr", "name_birth_date" or ""
	pageSize int
	cursor   string
	proofs   bool
}

// filterError is a 400 naming the member and the rule, never its value.
func filterError(typ, member, rule string) error {
	return fault.New(fault.ErrMalformed, typ, "", member+": "+rule)
}

// parseAuditSearch reads and checks the body of a search. The CPR number
// (or the name and birth date) becomes subject references here and goes
// no further; no error repeats a value of the request.
func parseAuditSearch(body []byte, keys *journal.SubjectKeys) (auditSearch, error) {
	var req auditRequest
	if err := strictjson.Unmarshal(body, &req, strictjson.Limits{MaxBytes: AuditMaxBodyBytes, MaxDepth: 4, MaxArray: 64, RejectNull: true}); err != nil {
		var se *strictjson.Error
		msg := "the body is not a search object"
		if errors.As(err, &se) {
			msg = "the body is not a search object: " + se.Rule
			if se.Pointer != "" {
				msg = "the member " + clip(se.Pointer, 64) + " is not allowed here (" + se.Rule + ")"
			}
		}
		return auditSearch{}, fault.Wrap(fault.ErrMalformed, typeInvalidFilter, "", msg, err)
	}
	s := auditSearch{pageSize: AuditDefaultPageSize, proofs: req.IncludeProofs}
	var refs []journal.Subject
	switch {
	case req.CPR != nil && (req.Name != nil || req.BirthDate != nil):
		return s, filterError(typeInvalidFilter, "cpr", "give cpr, or name and birth_date for a person without one, not both")
	case req.CPR != nil:
		r, err := keys.CPRRefs(*req.CPR)
		if err != nil {
			return s, filterError(typeInvalidCPR, "cpr", "a CPR number is 10 digits (DDMMYYSSSS, a hyphen after the sixth allowed) beginning with a valid date of birth")
		}
		refs, s.subjKind = r, "cpr"
	case req.Name != nil || req.BirthDate != nil:
		if req.Name == nil || req.BirthDate == nil {
			return s, filterError(typeInvalidFilter, "name", "name and birth_date go together (for a person without a CPR number)")
		}
		bd, err := record.ParseDate(*req.BirthDate)
		if err != nil {
			return s, filterError(typeInvalidFilter, "birth_date", "must be a date YYYY-MM-DD")
		}
		r, err := keys.NameAndBirthDateRefs(*req.Name, bd)
		if err != nil {
			return s, filterError(typeInvalidFilter, "name", "must be a name of at most 512 bytes, not blank")
		}
		refs, s.subjKind = r, "name_birth_date"
	}
	if len(refs) > 0 {
		s.subject = refs[0]
		for _, r := range refs {
			s.filter.Subjects = append(s.filter.Subjects, r.Ref)
		}
	}
	for _, m := range []struct {
		name string
		v    *string
		dst  *string
	}{{"record_id", req.RecordID, &s.filter.RecordID}, {"incident_id", req.IncidentID, &s.filter.IncidentID}} {
		if m.v == nil {
			continue
		}
		if !validJournalID(*m.v) {
			return s, filterError(typeInvalidFilter, m.name, "must be an id of 1 to 128 printable ASCII characters without spaces, double quotes or backslashes")
		}
		if journal.ContainsCPR(*m.v) {
			return s, filterError(typeInvalidFilter, m.name, "looks like a CPR number; search by cpr instead")
		}
		*m.dst = *m.v
	}
	if req.Authority != nil {
		if _, _, err := directory.ParseID(*req.Authority); err != nil {
			return s, filterError(typeInvalidFilter, "authority", `must be an authority id such as "municipality:0851", "region:1084", "police:nordjylland" or "gateway"`)
		}
		s.filter.Authority = *req.Authority
	}
	known := journal.EventTypes()
	for i, e := range req.Events {
		if !slices.Contains(known, journal.EventType(e)) {
			return s, filterError(typeInvalidFilter, "events["+strconv.Itoa(i)+"]", "is not a journal event type (received, routed, withheld, queued, delivered, withdrawn, purged, ...)")
		}
		if !slices.Contains(s.filter.Events, journal.EventType(e)) {
			s.filter.Events = append(s.filter.Events, journal.EventType(e))
		}
	}
	for _, m := range []struct {
		name string
		v    *string
		dst  *time.Time
	}{{"since", req.Since, &s.filter.Since}, {"until", req.Until, &s.filter.Until}} {
		if m.v == nil {
			continue
		}
		t, err := time.Parse(time.RFC3339, *m.v)
		if err != nil || t.Year() < 1970 || t.Year() > 9999 {
			return s, filterError(typeInvalidFilter, m.name, "must be an RFC 3339 time with an offset, such as 2027-01-01T00:00:00+01:00")
		}
		*m.dst = t
	}
	if !s.filter.Since.IsZero() && !s.filter.Until.IsZero() && !s.filter.Since.Before(s.filter.Until) {
		return s, filterError(typeInvalidFilter, "since", "must be before until (the time range is inverted or empty)")
	}
	if req.PageSize != nil {
		if *req.PageSize < 1 || *req.PageSize > AuditMaxPageSize {
			return s, filterError(typeInvalidFilter, "page_size", fmt.Sprintf("must be 1 to %d", AuditMaxPageSize))
		}
		s.pageSize = *req.PageSize
	}
	if req.Cursor != nil {
		s.cursor = *req.Cursor
	}
	return s, nil
}

// validJournalID reports whether id has the shape the journal holds record
// and incident ids in. Anything else of that shape (an apostrophe, SQL) is
// only data: it is compared, never interpreted.
func validJournalID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// AuditCursorKey derives the key of Audit.CursorKey from a gateway secret
// of at least 32 bytes (the journal HMAC secret of the key provider), so
// that every replica sharing the secret accepts the others' cursors.
func AuditCursorKey(secret []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("psykosocial audit cursor key v1"))
	return m.Sum(nil)
}

// cursorLabel separates the cursor MAC from any other use of the key.
const cursorLabel = "psykosocial audit cursor v1\n"

// auditCursorPrefix versions the audit cursor format.
const auditCursorPrefix = "a1."

// sealCursor wraps the journal's cursor with a MAC over it and the DPO's
// authority, so that a changed cursor, or one of another DPO, is refused.
func sealCursor(key []byte, authority, inner string) string {
	return auditCursorPrefix + base64.RawURLEncoding.EncodeToString([]byte(inner)) + "." +
		base64.RawURLEncoding.EncodeToString(cursorMAC(key, authority, inner))
}

// openCursor checks a cursor of sealCursor and returns the journal's.
func openCursor(key []byte, authority, c string) (string, error) {
	bad := fault.New(fault.ErrMalformed, typeInvalidCursor, "", "cursor: not a cursor this gateway gave you for this search (changed, truncated or of another officer)")
	rest, ok := strings.CutPrefix(c, auditCursorPrefix)
	if !ok || len(c) > 256 {
		return "", bad
	}
	in, mac, ok := strings.Cut(rest, ".")
	if !ok {
		return "", bad
	}
	inner, err1 := base64.RawURLEncoding.Strict().DecodeString(in)
	sum, err2 := base64.RawURLEncoding.Strict().DecodeString(mac)
	if err1 != nil || err2 != nil || !hmac.Equal(sum, cursorMAC(key, authority, string(inner))) {
		return "", bad
	}
	return string(inner), nil
}

func cursorMAC(key []byte, authority, inner string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(cursorLabel + authority + "\n" + inner))
	return m.Sum(nil)[:16]
}

// auditResult is one entry found: the leaf as the journal holds it (its
// hash is the leaf hash) and, when asked for, its inclusion proof.
type auditResult struct {
	LeafIndex uint64          `json:"leaf_index"`
	LeafHash  string          `json:"leaf_hash"`
	Entry     json.RawMessage `json:"entry"`
	Leaf      string          `json:"leaf,omitempty"`
	Proof     *auditProof     `json:"proof,omitempty"`
}

// auditProof is an inclusion proof of a leaf in the answer's checkpoint.
type auditProof struct {
	TreeSize uint64   `json:"tree_size"`
	Hashes   []string `json:"hashes"`
}

// auditCheckpoint is a signed checkpoint.
type auditCheckpoint struct {
	Origin   string    `json:"origin"`
	Size     uint64    `json:"size"`
	RootHash string    `json:"root_hash"`
	SignedAt time.Time `json:"signed_at"`
	Note     string    `json:"note"`
}

// auditAnswer is the body of a search's answer.
type auditAnswer struct {
	Scope      []string         `json:"scope"`
	SeesAll    bool             `json:"sees_all"`
	Results    []auditResult    `json:"results"`
	More       bool             `json:"more"`
	NextCursor string           `json:"next_cursor"`
	Checkpoint *auditCheckpoint `json:"checkpoint,omitempty"`
}

func checkpointAnswer(c journal.SignedCheckpoint) *auditCheckpoint {
	return &auditCheckpoint{Origin: c.Origin, Size: c.Size, RootHash: base64.StdEncoding.EncodeToString(c.Root[:]),
		SignedAt: c.SignedAt.UTC(), Note: string(c.Note)}
}

// auditConfigured answers 404 when the gateway runs without the audit API.
func (s *Server) auditConfigured() error {
	if s.cfg.Audit == nil {
		return fault.New(fault.ErrNotFound, "not-found", "", "the audit API is not configured on this gateway")
	}
	return nil
}

// scope is what a DPO may see: nil for the operator's (everything),
// otherwise its authority and those it succeeded.
func (s *Server) scope(who certs.Authenticated) []string {
	if who.AuthorityID == directory.GatewayID {
		return nil
	}
	return append([]string{who.AuthorityID}, s.cfg.Audit.Successions.Predecessors(who.AuthorityID, s.cfg.Clock.Now())...)
}

// auditSearch serves POST /v1/audit/search.
func (s *Server) auditSearch(w http.ResponseWriter, r *http.Request, who certs.Authenticated) error {
	if err := s.auditConfigured(); err != nil {
		return err
	}
	a := s.cfg.Audit
	ctx, cancel := context.WithTimeout(r.Context(), AuditTimeout)
	defer cancel()
	body, err := readJSONBody(w, r, AuditMaxBodyBytes)
	if err != nil {
		return err
	}
	q, err := parseAuditSearch(body, a.Subjects)
	if err != nil {
		s.journalQuery(ctx, who, auditSearch{}, 0, err)
		return err
	}
	jq := journal.Query{Filter: q.filter, Limit: q.pageSize, Proofs: q.proofs}
	scope := s.scope(who)
	jq.Filter.Scope = scope
	if q.cursor != "" {
		if jq.Cursor, err = openCursor(a.CursorKey, who.AuthorityID, q.cursor); err != nil {
			s.journalQuery(ctx, who, q, 0, err)
			return err
		}
	}
	page, err := a.Reader.Query(ctx, jq)
	if errors.Is(err, journal.ErrInvalidQuery) && jq.Cursor != "" {
		err = fault.Wrap(fault.ErrMalformed, typeInvalidCursor, "", "cursor: it belongs to another search; send the same filters as the first page", err)
	}
	if err != nil {
		var fe *fault.Error
		if !errors.As(err, &fe) {
			if errors.Is(err, journal.ErrInvalidQuery) {
				err = fault.Wrap(fault.ErrMalformed, typeInvalidFilter, "", "the search is refused by the journal", err)
			} else {
				err = fault.Wrap(fault.ErrUnavailable, "unavailable", "", "the journal cannot be read now", err)
			}
		}
		s.journalQuery(ctx, who, q, 0, err)
		return err
	}
	// The query is journaled before anything is answered: an answer the
	// journal does not know of is not given.
	if err := s.journalQuery(ctx, who, q, len(page.Results), nil); err != nil {
		return fault.Wrap(fault.ErrUnavailable, "unavailable", "", "the journal cannot record the search now", err)
	}
	ans := auditAnswer{Scope: scope, SeesAll: scope == nil, Results: make([]auditResult, 0, len(page.Results)), More: page.More,
		NextCursor: sealCursor(a.CursorKey, who.AuthorityID, page.Next)}
	if ans.Scope == nil {
		ans.Scope = []string{}
	}
	if page.Checkpoint != nil {
		ans.Checkpoint = checkpointAnswer(*page.Checkpoint)
	}
	for _, res := range page.Results {
		lh := journal.LeafHash(res.Leaf)
		ar := auditResult{LeafIndex: res.LeafIndex, LeafHash: base64.StdEncoding.EncodeToString(lh[:]), Entry: res.Leaf}
		if q.proofs {
			ar.Leaf = base64.StdEncoding.EncodeToString(res.Leaf)
			if res.Covered && page.Checkpoint != nil {
				p := &auditProof{TreeSize: page.Checkpoint.Size, Hashes: make([]string, len(res.Proof))}
				for i, h := range res.Proof {
					p.Hashes[i] = base64.StdEncoding.EncodeToString(h)
				}
				ar.Proof = p
			}
		}
		ans.Results = append(ans.Results, ar)
	}
	return writeJSONRaw(w, http.StatusOK, ans)
}

// journalQuery journals one search as audit_query: the DPO's authority,
// the certificate that acted, the filters (the person only as its subject
// reference) and the number of results, or the refusal's problem type.
func (s *Server) journalQuery(ctx context.Context, who certs.Authenticated, q auditSearch, results int, refused error) error {
	e := journal.Entry{Event: journal.EventAuditQuery, Actor: who.AuthorityID, Counterpart: q.filter.Authority,
		RecordID: q.filter.RecordID, IncidentID: q.filter.IncidentID, Subject: q.subject, Outcome: journal.OutcomeOK}
	var b strings.Builder
	b.WriteString("dpo search")
	if id := who.Identity.CertificateUUID; id != "" && !journal.ContainsCPR(id) {
		b.WriteString(" by certificate " + id)
	}
	if q.subjKind != "" {
		b.WriteString("; person by " + q.subjKind)
	}
	if len(q.filter.Events) > 0 {
		ev := make([]string, len(q.filter.Events))
		for i, x := range q.filter.Events {
			ev[i] = string(x)
		}
		b.WriteString("; events " + strings.Join(ev, ","))
	}
	if !q.filter.Since.IsZero() {
		b.WriteString("; since " + q.filter.Since.UTC().Format(time.RFC3339))
	}
	if !q.filter.Until.IsZero() {
		b.WriteString("; until " + q.filter.Until.UTC().Format(time.RFC3339))
	}
	if q.cursor != "" {
		b.WriteString("; next page")
	}
	if q.proofs {
		b.WriteString("; with proofs")
	}
	if refused != nil {
		t, _ := answer(refused)
		e.Outcome = journal.OutcomeRefused
		b.WriteString("; refused: " + t.Name)
	} else {
		fmt.Fprintf(&b, "; page size %d; %d results", q.pageSize, results)
	}
	e.Reason = clip(b.String(), 500)
	if _, err := s.cfg.Audit.Journal.Append(ctx, e); err != nil {
		s.log.Error("audit: journal the search", "authority", who.AuthorityID, "err", err)
		return err
	}
	return nil
}

// auditCheckpoint serves GET /v1/audit/checkpoints/latest.
func (s *Server) auditLatestCheckpoint(w http.ResponseWriter, r *http.Request, _ certs.Authenticated) error {
	if err := s.auditConfigured(); err != nil {
		return err
	}
	if r.URL.RawQuery != "" {
		return fault.New(fault.ErrMalformed, "invalid-parameter", "", "this route takes no query parameters")
	}
	ctx, cancel := context.WithTimeout(r.Context(), AuditTimeout)
	defer cancel()
	c, err := s.cfg.Audit.Reader.LatestCheckpoint(ctx)
	if errors.Is(err, journal.ErrNoCheckpoint) {
		return fault.New(fault.ErrNotFound, typeNoCheckpoint, "", "the journal has not signed a checkpoint yet")
	}
	if err != nil {
		return fault.Wrap(fault.ErrUnavailable, "unavailable", "", "the journal cannot be read now", err)
	}
	return writeJSONRaw(w, http.StatusOK, checkpointAnswer(c))
}

// consistencyAnswer is the body of GET /v1/audit/consistency.
type consistencyAnswer struct {
	From   uint64   `json:"from"`
	To     uint64   `json:"to"`
	Hashes []string `json:"hashes"`
}

// auditConsistency serves GET /v1/audit/consistency?from=N&to=M.
func (s *Server) auditConsistency(w http.ResponseWriter, r *http.Request, _ certs.Authenticated) error {
	if err := s.auditConfigured(); err != nil {
		return err
	}
	q := r.URL.Query()
	for k := range q {
		if k != "from" && k != "to" {
			return fault.New(fault.ErrMalformed, "invalid-parameter", "", "unknown parameter; this route takes from and to")
		}
	}
	size := func(name string) (uint64, error) {
		vs := q[name]
		if len(vs) != 1 {
			return 0, fault.New(fault.ErrMalformed, "invalid-parameter", "", name+": required once (a tree size, a checkpoint's size)")
		}
		n, err := strconv.ParseUint(vs[0], 10, 63)
		if err != nil || n == 0 {
			return 0, fault.New(fault.ErrMalformed, "invalid-parameter", "", name+": must be a tree size of 1 or more")
		}
		return n, nil
	}
	from, err := size("from")
	if err != nil {
		return err
	}
	to, err := size("to")
	if err != nil {
		return err
	}
	if from > to {
		return fault.New(fault.ErrMalformed, "invalid-parameter", "", "from must not be larger than to")
	}
	ctx, cancel := context.WithTimeout(r.Context(), AuditTimeout)
	defer cancel()
	hs, err := s.cfg.Audit.Reader.ConsistencyProof(ctx, from, to)
	if errors.Is(err, journal.ErrInvalidQuery) {
		return fault.Wrap(fault.ErrMalformed, "invalid-parameter", "", "to: larger than the journal", err)
	}
	if err != nil {
		return fault.Wrap(fault.ErrUnavailable, "unavailable", "", "the journal cannot be read now", err)
	}
	ans := consistencyAnswer{From: from, To: to, Hashes: make([]string, len(hs))}
	for i, h := range hs {
		ans.Hashes[i] = base64.StdEncoding.EncodeToString(h)
	}
	return writeJSONRaw(w, http.StatusOK, ans)
}

// authenticateDPO authenticates a data-protection officer: a certificate
// the directory binds for use dpo (an authority's DPO, or the operator's,
// who acts as the gateway). A certificate registered for an authority's
// other uses is refused 403 and journaled access_denied; one that acts for
// no authority is refused 401, also journaled.
func (s *Server) authenticateDPO(r *http.Request) (certs.Authenticated, error) {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return certs.Authenticated{}, fault.New(fault.ErrUnauthenticated, "client-certificate-required", "",
			"the audit API needs the TLS client certificate of a data-protection officer")
	}
	pc := r.TLS.PeerCertificates
	who, err := s.cfg.Trust.Authenticate(pc[0], pc[1:], directory.UseDPO)
	if err == nil {
		return who, nil
	}
	denied := journal.Entry{Event: journal.EventAccessDenied, Actor: directory.GatewayID, Outcome: journal.OutcomeRefused,
		Reason: "audit API: a client certificate that acts for no authority"}
	answerErr := fault.Wrap(fault.ErrUnauthenticated, "client-certificate-rejected", "",
		"the client certificate is refused: it is not a data-protection officer's certificate of any authority", err)
	other, oerr := s.cfg.Trust.Authenticate(pc[0], pc[1:], directory.UseTLS)
	if oerr == nil {
		denied.Actor = other.AuthorityID
		denied.Reason = "audit API: the certificate is not registered for use dpo"
		if id := other.Identity.CertificateUUID; id != "" && !journal.ContainsCPR(id) {
			denied.Reason += " (certificate " + id + ")"
		}
		answerErr = fault.Wrap(fault.ErrForbidden, typeAuditAccessDenied, "",
			"the audit API answers data-protection officers only; this certificate is registered for another use", err)
	}
	if s.cfg.Audit != nil {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), AuditTimeout)
		defer cancel()
		if _, jerr := s.cfg.Audit.Journal.Append(ctx, denied); jerr != nil {
			s.log.Error("audit: journal a refusal", "authority", denied.Actor, "err", jerr)
		}
	}
	return certs.Authenticated{AuthorityID: denied.Actor}, answerErr
}

// readJSONBody reads a bounded application/json body.
func readJSONBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return nil, fault.New(fault.ErrUnsupportedMedia, "unsupported-media-type", "", "the body must be application/json")
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
		return nil, fault.Wrap(fault.ErrMalformed, "malformed-request", "", "the body could not be read", err)
	}
	return body, nil
}

// writeJSONRaw is writeJSON without HTML escaping, so that the journal's
// leaves travel byte for byte as they were hashed.
func writeJSONRaw(w http.ResponseWriter, status int, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("gateway: encode answer: %w", err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
	return nil
}
