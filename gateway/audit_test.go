package gateway

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/psykosocial/exchange/certs"
	"github.com/psykosocial/exchange/internal/directory"
	"github.com/psykosocial/exchange/internal/envelope"
	"github.com/psykosocial/exchange/internal/journal"
)

// The region example's person (schemas/examples/region/valid/...): resident
// of Aarhus (municipality:0751, region:1082).
const (
	regionCPR = "070786-1234"
	aarhusDPO = "municipality:0751"
	odenseDPO = "municipality:0461"
)

// auditPage is an answer of POST /v1/audit/search as a client reads it.
type auditPage struct {
	Scope   []string `json:"scope"`
	SeesAll bool     `json:"sees_all"`
	Results []struct {
		LeafIndex uint64          `json:"leaf_index"`
		LeafHash  string          `json:"leaf_hash"`
		Entry     json.RawMessage `json:"entry"`
		Leaf      string          `json:"leaf"`
		Proof     *struct {
			TreeSize uint64   `json:"tree_size"`
			Hashes   []string `json:"hashes"`
		} `json:"proof"`
	} `json:"results"`
	More       bool             `json:"more"`
	NextCursor string           `json:"next_cursor"`
	Checkpoint *auditCheckpoint `json:"checkpoint"`
}

// leafEntry is what the tests read of an entry.
type leafEntry struct {
	Seq         uint64 `json:"seq"`
	Event       string `json:"event"`
	Actor       string `json:"actor"`
	Counterpart string `json:"counterpart"`
	RecordID    string `json:"record_id"`
	Subject     string `json:"subject"`
	Reason      string `json:"reason"`
}

// dpo is the HTTPS client of an authority's data-protection officer
// (certs.OperatorHolder: the operator's).
func (h *harness) dpo(holder string) *http.Client { return h.client(holder, directory.UseDPO) }

// search posts a search body as c.
func (h *harness) search(c *http.Client, body string) answer_ {
	h.t.Helper()
	return h.do(c, http.MethodPost, "/v1/audit/search", "application/json", []byte(body))
}

// searched decodes a 200 answer of a search.
func (h *harness) searched(c *http.Client, body string) auditPage {
	h.t.Helper()
	a := h.search(c, body)
	if a.status != http.StatusOK {
		h.t.Fatalf("search %s: %d %s", body, a.status, a.body)
	}
	var p auditPage
	must(h.t, json.Unmarshal(a.body, &p))
	return p
}

func entryOf(t *testing.T, raw json.RawMessage) leafEntry {
	t.Helper()
	var e leafEntry
	must(t, json.Unmarshal(raw, &e))
	return e
}

// exchange runs a demo-like exchange: the region's registration of the
// Aarhus resident (queued to Aarhus and Region Midtjylland, withheld from
// the police), Aarhus pulling and acknowledging it, and Vejle's three
// persons; then a signed checkpoint.
func (h *harness) exchange() {
	h.t.Helper()
	_, _, body := h.regionMessage()
	submitted(h.t, h.submit(regionSender, body), http.StatusAccepted)
	for _, r := range h.pull(aarhusDPO, "?max=100") {
		if a := h.ack(aarhusDPO, r.MailboxID, h.receipt(aarhusDPO, r)); a.status != http.StatusNoContent {
			h.t.Fatalf("ack: %d %s", a.status, a.body)
		}
	}
	id := newUUID(h.t)
	submitted(h.t, h.submit(muniSender, h.sealXML(muniSender, envelope.ContentTypeMunicipality, h.muniDoc(id), id)), http.StatusAccepted)
	_, err := h.journal.Checkpoint(h.ctx)
	must(h.t, err)
}

func TestAuditSearchByCPRIsScopedToTheDPOsAuthority(t *testing.T) {
	h := start(t)
	h.exchange()
	ref, err := h.subjects.CPR(regionCPR)
	must(t, err)

	// Aarhus's DPO finds its own disclosures of the person: every entry
	// names Aarhus as actor or counterpart, the queue and the delivery
	// among them.
	own := h.searched(h.dpo(aarhusDPO), `{"cpr":"`+regionCPR+`","include_proofs":true}`)
	if own.SeesAll || !slices.Equal(own.Scope, []string{aarhusDPO}) {
		t.Errorf("scope %v, sees all %v", own.Scope, own.SeesAll)
	}
	events := map[string]bool{}
	for _, r := range own.Results {
		e := entryOf(t, r.Entry)
		if e.Actor != aarhusDPO && e.Counterpart != aarhusDPO {
			t.Errorf("entry %d of %s/%s is not Aarhus's", e.Seq, e.Actor, e.Counterpart)
		}
		if e.Subject != ref.Ref {
			t.Errorf("entry %d is about another person", e.Seq)
		}
		events[e.Event] = true
	}
	if !events["queued"] {
		t.Fatalf("Aarhus's DPO sees events %v, want queued", events)
	}
	// The delivery's entry names the record, not the person: the record's
	// timeline shows it.
	var recordID string
	for _, r := range own.Results {
		if e := entryOf(t, r.Entry); e.Event == "queued" {
			recordID = e.RecordID
		}
	}
	timeline := h.searched(h.dpo(aarhusDPO), `{"record_id":"`+recordID+`","events":["delivered"]}`)
	if len(timeline.Results) != 1 || entryOf(t, timeline.Results[0].Entry).Actor != aarhusDPO {
		t.Fatalf("the record's delivery to Aarhus: %d results", len(timeline.Results))
	}

	// The inclusion proofs verify against the answer's checkpoint, whose
	// note verifies with the journal's key and is the latest checkpoint.
	if own.Checkpoint == nil {
		t.Fatal("no checkpoint in the answer")
	}
	cp, err := journal.OpenCheckpoint([]byte(own.Checkpoint.Note), h.journal.VerifierKey())
	must(t, err)
	proven := 0
	for _, r := range own.Results {
		leaf, err := base64.StdEncoding.DecodeString(r.Leaf)
		must(t, err)
		if !bytes.Equal(leaf, r.Entry) {
			t.Fatalf("entry %d: the leaf and the entry differ", r.LeafIndex)
		}
		if r.Proof == nil {
			continue
		}
		hs := make([][]byte, len(r.Proof.Hashes))
		for i, x := range r.Proof.Hashes {
			hs[i], err = base64.StdEncoding.DecodeString(x)
			must(t, err)
		}
		if err := journal.VerifyInclusion(leaf, r.LeafIndex, hs, cp); err != nil {
			t.Fatalf("entry %d: %v", r.LeafIndex, err)
		}
		// A proof of another leaf does not verify: the check can fail.
		if err := journal.VerifyInclusion(append(leaf, ' '), r.LeafIndex, hs, cp); err == nil {
			t.Fatal("a changed leaf verifies")
		}
		proven++
	}
	if proven == 0 {
		t.Fatal("no result carries a proof")
	}
	latest := h.do(h.dpo(aarhusDPO), http.MethodGet, "/v1/audit/checkpoints/latest", "", nil)
	var lc auditCheckpoint
	must(t, json.Unmarshal(latest.body, &lc))
	if latest.status != http.StatusOK || lc.Note != own.Checkpoint.Note || lc.Size != cp.Size {
		t.Errorf("latest checkpoint %d %+v, the answer's %+v", latest.status, lc, own.Checkpoint)
	}

	// Odense's DPO does not see the person's rows of Aarhus: the answer is
	// the one for a person who was never registered.
	other := h.searched(h.dpo(odenseDPO), `{"cpr":"`+regionCPR+`"}`)
	nobody := h.searched(h.dpo(odenseDPO), `{"cpr":"0101901234"}`)
	if len(other.Results) != 0 || other.More || len(nobody.Results) != 0 || nobody.More {
		t.Fatalf("Odense sees %d and %d results", len(other.Results), len(nobody.Results))
	}

	// The operator's DPO sees every entry of the person: more than Aarhus
	// (the receipt, routing and the region's side).
	all := h.searched(h.dpo(certs.OperatorHolder), `{"cpr":"0707861234","page_size":200}`)
	if !all.SeesAll || len(all.Scope) != 0 || len(all.Results) <= len(own.Results) {
		t.Fatalf("operator: sees all %v, %d results, Aarhus %d", all.SeesAll, len(all.Results), len(own.Results))
	}
	for _, r := range all.Results {
		if entryOf(t, r.Entry).Subject != ref.Ref {
			t.Fatalf("operator: entry %d is about another person", r.LeafIndex)
		}
	}

	// Every search is journaled audit_query with the person's reference,
	// the officer's certificate and no CPR number.
	qs := h.searched(h.dpo(certs.OperatorHolder), `{"events":["audit_query"],"page_size":200}`)
	byActor := map[string]int{}
	for _, r := range qs.Results {
		e := entryOf(t, r.Entry)
		byActor[e.Actor]++
		if !strings.Contains(e.Reason, "by certificate ") {
			t.Errorf("audit_query %d does not name the certificate: %q", e.Seq, e.Reason)
		}
	}
	if byActor[aarhusDPO] != 2 || byActor[odenseDPO] != 2 || byActor[directory.GatewayID] != 1 {
		t.Errorf("audit_query entries by actor: %v", byActor)
	}

	// A consistency proof links an older checkpoint to the newest.
	_, err = h.journal.Checkpoint(h.ctx)
	must(t, err)
	newer, err := h.reader.LatestCheckpoint(h.ctx)
	must(t, err)
	a := h.do(h.dpo(aarhusDPO), http.MethodGet, "/v1/audit/consistency?from="+strconv.FormatUint(cp.Size, 10)+"&to="+strconv.FormatUint(newer.Size, 10), "", nil)
	var cons consistencyAnswer
	must(t, json.Unmarshal(a.body, &cons))
	hs := make([][]byte, len(cons.Hashes))
	for i, x := range cons.Hashes {
		hs[i], err = base64.StdEncoding.DecodeString(x)
		must(t, err)
	}
	if a.status != http.StatusOK || cp.Size == newer.Size {
		t.Fatalf("consistency %d %s (sizes %d, %d)", a.status, a.body, cp.Size, newer.Size)
	}
	if err := journal.VerifyConsistency(hs, cp, newer.Checkpoint); err != nil {
		t.Fatalf("consistency proof: %v", err)
	}
}

func TestAuditPagination(t *testing.T) {
	h := start(t)
	h.exchange()
	op := h.dpo(certs.OperatorHolder)
	const filter = `"events":["routed","queued","withheld","delivered","received"]`
	whole := h.searched(op, `{`+filter+`,"page_size":200}`)
	if whole.More || len(whole.Results) < 7 {
		t.Fatalf("%d results in one page (more %v): too few to page", len(whole.Results), whole.More)
	}
	var want, got []uint64
	for _, r := range whole.Results {
		want = append(want, r.LeafIndex)
	}
	cursor, pages := "", 0
	for {
		body := `{` + filter + `,"page_size":3`
		if cursor != "" {
			body += `,"cursor":"` + cursor + `"`
		}
		p := h.searched(op, body+`}`)
		pages++
		if len(p.Results) > 3 {
			t.Fatalf("page of %d", len(p.Results))
		}
		for _, r := range p.Results {
			got = append(got, r.LeafIndex)
		}
		cursor = p.NextCursor
		if !p.More {
			break
		}
	}
	if !slices.Equal(got, want) || pages < 3 {
		t.Fatalf("%d pages gave %v, want %v", pages, got, want)
	}

	// A cursor changed in any way is refused, as is one given with other
	// filters or by another officer.
	first := h.searched(op, `{`+filter+`,"page_size":3}`)
	c := first.NextCursor
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	for name, bad := range map[string]string{
		"a character of the position changed": flip(c, 4),
		"a character of the MAC changed":      flip(c, len(c)-2),
		"truncated":                           c[:len(c)-3],
		"not a cursor":                        "c1.AAAAAAAAAAAAAAAAAAAAAA",
	} {
		p := problem(t, h.search(op, `{`+filter+`,"cursor":"`+bad+`"}`), http.StatusBadRequest, "invalid-cursor")
		if !strings.Contains(p.Detail, "cursor") {
			t.Errorf("%s: detail %q", name, p.Detail)
		}
	}
	problem(t, h.search(op, `{"events":["routed"],"cursor":"`+c+`"}`), http.StatusBadRequest, "invalid-cursor")
	problem(t, h.search(h.dpo(aarhusDPO), `{`+filter+`,"cursor":"`+c+`"}`), http.StatusBadRequest, "invalid-cursor")
}

func TestAuditRefusals(t *testing.T) {
	h := start(t)
	h.exchange()
	aarhus := h.dpo(aarhusDPO)

	// A municipality's TLS certificate is not a DPO's: 403, journaled.
	p := problem(t, h.search(h.as(aarhusDPO), `{"cpr":"`+regionCPR+`"}`), http.StatusForbidden, "audit-access-denied")
	if strings.Contains(p.Detail, "0707") {
		t.Errorf("detail echoes the CPR number: %q", p.Detail)
	}
	problem(t, h.do(h.as(muniSender), http.MethodGet, "/v1/audit/checkpoints/latest", "", nil), http.StatusForbidden, "audit-access-denied")
	problem(t, h.do(h.client("", ""), http.MethodGet, "/v1/audit/checkpoints/latest", "", nil), http.StatusUnauthorized, "client-certificate-required")
	denied := h.searched(h.dpo(certs.OperatorHolder), `{"events":["access_denied"]}`)
	actors := map[string]bool{}
	for _, r := range denied.Results {
		actors[entryOf(t, r.Entry).Actor] = true
	}
	if !actors[aarhusDPO] || !actors[muniSender] {
		t.Errorf("access_denied entries by %v, want %s and %s", actors, aarhusDPO, muniSender)
	}

	for _, tc := range []struct {
		name, body, ctype string
		status            int
		typ, detail       string
	}{
		{"short CPR", `{"cpr":"12345"}`, "", 400, "invalid-cpr", "10 digits"},
		{"CPR without a date", `{"cpr":"3213901234"}`, "", 400, "invalid-cpr", "valid date"},
		{"CPR with letters", `{"cpr":"07078612ab"}`, "", 400, "invalid-cpr", "10 digits"},
		{"CPR and name", `{"cpr":"` + regionCPR + `","name":"A B","birth_date":"1986-07-07"}`, "", 400, "invalid-filter", "not both"},
		{"name without birth date", `{"name":"Jonas"}`, "", 400, "invalid-filter", "birth_date"},
		{"bad birth date", `{"name":"Jonas","birth_date":"14-03-1992"}`, "", 400, "invalid-filter", "YYYY-MM-DD"},
		{"inverted time range", `{"since":"2026-12-01T00:00:00+01:00","until":"2026-11-01T00:00:00+01:00"}`, "", 400, "invalid-filter", "inverted"},
		{"time without offset", `{"since":"2026-12-01T00:00:00"}`, "", 400, "invalid-filter", "RFC 3339"},
		{"page too large", `{"page_size":201}`, "", 400, "invalid-filter", "1 to 200"},
		{"page of none", `{"page_size":0}`, "", 400, "invalid-filter", "1 to 200"},
		{"unknown event", `{"events":["deleted"]}`, "", 400, "invalid-filter", "events[0]"},
		{"unknown member", `{"cpr_number":"` + regionCPR + `"}`, "", 400, "invalid-filter", "/cpr_number"},
		{"record id with a space", `{"record_id":"a b"}`, "", 400, "invalid-filter", "record_id"},
		{"record id that is a CPR", `{"record_id":"0707861234"}`, "", 400, "invalid-filter", "CPR"},
		{"malformed authority", `{"authority":"Aarhus Kommune"}`, "", 400, "invalid-filter", "authority"},
		{"not JSON", `cpr=0707861234`, "", 400, "invalid-filter", "search object"},
		{"form body", `cpr=0707861234`, "application/x-www-form-urlencoded", 415, "unsupported-media-type", "application/json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ct := tc.ctype
			if ct == "" {
				ct = "application/json"
			}
			a := h.do(aarhus, http.MethodPost, "/v1/audit/search", ct, []byte(tc.body))
			p := problem(t, a, tc.status, tc.typ)
			if !strings.Contains(p.Detail, tc.detail) {
				t.Errorf("detail %q does not say %q", p.Detail, tc.detail)
			}
			for _, secret := range []string{"0707861234", "070786-1234", "3213901234", "Jonas"} {
				if bytes.Contains(a.body, []byte(secret)) {
					t.Errorf("the answer echoes %q: %s", secret, a.body)
				}
			}
		})
	}

	// SQL-looking text is data: it matches nothing and breaks nothing.
	for _, body := range []string{
		`{"record_id":"x'OR'1'='1"}`,
		`{"incident_id":"1;DROP/**/TABLE/**/journal_entries;--"}`,
		`{"name":"Robert'); DROP TABLE journal_entries;--","birth_date":"1990-01-01"}`,
	} {
		if p := h.searched(aarhus, body); len(p.Results) != 0 {
			t.Errorf("%s: %d results", body, len(p.Results))
		}
	}
	if p := h.searched(aarhus, `{"cpr":"`+regionCPR+`"}`); len(p.Results) == 0 {
		t.Error("the journal answers nothing after the SQL-looking searches")
	}

	// Consistency parameters.
	for _, q := range []string{"", "?from=1", "?from=0&to=1", "?from=5&to=2", "?from=1&to=99999999", "?from=x&to=2", "?from=1&to=2&cpr=0707861234"} {
		problem(t, h.do(aarhus, http.MethodGet, "/v1/audit/consistency"+q, "", nil), http.StatusBadRequest, "invalid-parameter")
	}
}

// TestAuditNeverRecordsTheCPR: after searches by CPR, good and bad, the
// number is in neither the logs nor the journal.
func TestAuditNeverRecordsTheCPR(t *testing.T) {
	h := start(t)
	h.exchange()
	for _, body := range []string{
		`{"cpr":"` + regionCPR + `","include_proofs":true}`,
		`{"cpr":"0707861234","page_size":1}`,
		`{"cpr":"0707861234","since":"2030-01-01T00:00:00Z","until":"2029-01-01T00:00:00Z"}`,
		`{"cpr":"0707861234","page_size":5000}`,
		`{"cpr":"0707861234","cursor":"a1.forged.mac"}`,
		`{"record_id":"0707861234"}`,
	} {
		h.search(h.dpo(aarhusDPO), body)
	}
	h.search(h.as(aarhusDPO), `{"cpr":"`+regionCPR+`"}`)
	_, err := h.journal.Checkpoint(h.ctx)
	must(t, err)
	var export bytes.Buffer
	_, err = h.reader.Export(context.Background(), &export, journal.ExportOptions{})
	must(t, err)
	for _, where := range []struct{ name, text string }{{"logs", h.logs.String()}, {"journal", export.String()}} {
		for _, cpr := range []string{"0707861234", "070786-1234"} {
			if strings.Contains(where.text, cpr) {
				t.Errorf("the %s hold the CPR number %s", where.name, cpr)
			}
		}
	}
	// The searches are there, refused ones included.
	if n := strings.Count(export.String(), `"event":"audit_query"`); n != 6 {
		t.Errorf("%d audit_query entries, want 6", n)
	}
	if !strings.Contains(export.String(), "refused: invalid-filter") || !strings.Contains(export.String(), "refused: invalid-cursor") {
		t.Error("the refused searches are not journaled with their problem type")
	}
}

// FuzzParseAuditSearch: the filter parser never panics, never echoes the
// CPR number it was given in an error, and what it accepts is within the
// limits.
func FuzzParseAuditSearch(f *testing.F) {
	for _, s := range []string{
		`{}`,
		`{"cpr":"070786-1234","include_proofs":true}`,
		`{"cpr":"0707861234","events":["queued","delivered"],"page_size":200}`,
		`{"name":"Jonas Nørgaard Bak","birth_date":"1992-03-14"}`,
		`{"record_id":"x'OR'1'='1","incident_id":"inc-1","authority":"municipality:0851"}`,
		`{"since":"2026-01-01T00:00:00+01:00","until":"2027-01-01T00:00:00+01:00"}`,
		`{"cursor":"a1.YzEuQUFBQQ.AAAA","page_size":0}`,
		`{"cpr":"3213901234"}`,
		`{"cpr":12}`,
		`{"cpr":"0707861234","cpr":"0707861234"}`,
		`[`,
		``,
	} {
		f.Add([]byte(s))
	}
	secret := bytes.Repeat([]byte{7}, 32)
	sk, err := journal.NewSubjectKey(secret)
	if err != nil {
		f.Fatal(err)
	}
	keys, err := journal.NewSubjectKeys(sk)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		s, err := parseAuditSearch(body, keys)
		if err != nil {
			_, fe := answer(err)
			var req struct {
				CPR string `json:"cpr"`
			}
			if json.Unmarshal(body, &req) == nil && len(req.CPR) >= 6 && strings.Contains(fe.Detail, req.CPR) {
				t.Fatalf("the error %q echoes the CPR number", fe.Detail)
			}
			if t, _ := answer(err); t.Status != http.StatusBadRequest {
				panic("a parse error that is not 400: " + t.Name)
			}
			return
		}
		if s.pageSize < 1 || s.pageSize > AuditMaxPageSize || len(s.filter.Subjects) > 16 ||
			(!s.filter.Since.IsZero() && !s.filter.Until.IsZero() && !s.filter.Since.Before(s.filter.Until)) {
			t.Fatalf("accepted out of limits: %+v", s)
		}
	})
}
