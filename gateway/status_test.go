package gateway

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/psykosocial/exchange/internal/pipeline"
)

// status asks for a record's status over HTTP as authority.
func (h *harness) status(authority, recordID string) answer_ {
	h.t.Helper()
	return h.do(h.as(authority), "GET", "/v1/records/"+recordID+"/status", "", nil)
}

// recordStatus decodes a 200 status answer and checks that it carries no
// CPR number, name or other personal data of the region's example person.
func (h *harness) recordStatus(authority, recordID string) pipeline.RecordStatus {
	h.t.Helper()
	a := h.status(authority, recordID)
	if a.status != http.StatusOK || a.header.Get("Content-Type") != "application/json" || a.header.Get("Cache-Control") != "no-store" {
		h.t.Fatalf("status as %s: %d (%s) %s", authority, a.status, a.header.Get("Content-Type"), a.body)
	}
	for _, pd := range []string{"070786-1234", "0707861234", "Mette", "Kjærgaard", "Lund", "28417733", "mette.lund", "Skovvejen", "Røgforgiftning"} {
		if bytes.Contains(a.body, []byte(pd)) {
			h.t.Errorf("the status carries personal data %q: %s", pd, a.body)
		}
	}
	var st pipeline.RecordStatus
	must(h.t, json.Unmarshal(a.body, &st))
	return st
}

// byRecipient indexes a version's recipients: a recipient queued for one
// purpose and withheld for another is indexed by its queued entry.
func byRecipient(v pipeline.VersionStatus) map[string]pipeline.RecipientStatus {
	out := map[string]pipeline.RecipientStatus{}
	for _, r := range v.Recipients {
		if prev, ok := out[r.Recipient]; ok && prev.State != pipeline.StateWithheld {
			continue
		}
		out[r.Recipient] = r
	}
	return out
}

func TestRecordStatusOverHTTP(t *testing.T) {
	h := start(t)
	id, msgID, body := h.regionMessage()
	submitted(t, h.submit(regionSender, body), http.StatusAccepted)

	// Queued: the residence municipality and region; the police district
	// and the incident municipality withheld (the incident period ended).
	st := h.recordStatus(regionSender, id)
	if st.RecordID != id || st.Owner != regionSender || len(st.Versions) != 1 {
		t.Fatalf("status %+v", st)
	}
	v := st.Versions[0]
	if v.Version != 1 || v.MessageID != msgID || v.ReceivedAt.IsZero() {
		t.Errorf("version %+v", v)
	}
	rs := byRecipient(v)
	queued := []string{"municipality:0751", "region:1082"}
	for _, to := range queued {
		r := rs[to]
		if r.State != pipeline.StateQueued || r.MailboxID == "" || r.QueuedAt == nil || r.DeliveredAt != nil || r.ReceiptDigest != "" || r.Rule == "" || r.Withheld != nil {
			t.Errorf("%s: %+v", to, r)
		}
	}
	police := rs["police:koebenhavn"]
	switch w := police.Withheld; {
	case police.State != pipeline.StateWithheld || police.Rule != "police-district-identification" || w == nil:
		t.Fatalf("police: %+v", police)
	case w.Check != "incident_period_ended" || w.Explanation.EN != "the incident period the legal basis covers has ended" ||
		w.Explanation.DA == "" || w.RuleDescription == nil || w.RuleDescription.DA == "" || w.RuleDescription.EN == "":
		t.Errorf("police withheld: %+v", w)
	case police.MailboxID != "" || police.DeliveredAt != nil:
		t.Errorf("a withheld recipient has a delivery: %+v", police)
	}

	// Anyone but the owner, a recipient of the record included, learns
	// nothing: the answer is the one for a record that does not exist.
	unknown := h.status(regionSender, newUUID(t))
	problem(t, unknown, http.StatusNotFound, "unknown-record")
	for _, other := range []string{"municipality:0751", muniSender, policeSender} {
		a := h.status(other, id)
		problem(t, a, http.StatusNotFound, "unknown-record")
		if !bytes.Equal(a.body, unknown.body) {
			t.Errorf("%s: the answer differs from an unknown record's: %s vs %s", other, a.body, unknown.body)
		}
	}
	problem(t, h.status(regionSender, "not%20an%20id"), http.StatusNotFound, "unknown-record")
	problem(t, h.do(h.client("", ""), "GET", "/v1/records/"+id+"/status", "", nil), http.StatusUnauthorized, "client-certificate-required")

	// Delivered once the recipients acknowledge: the time and the digest
	// of the delivery each receipt acknowledged.
	digests := map[string]string{}
	for _, to := range queued {
		for _, r := range h.pull(to, "?max=100") {
			if r.RecordID != id {
				continue
			}
			digests[to] = hex.EncodeToString(r.opened.Digest[:])
			if a := h.ack(to, r.MailboxID, h.receipt(to, r)); a.status != http.StatusNoContent {
				t.Fatalf("%s acks: %d %s", to, a.status, a.body)
			}
		}
	}
	st = h.recordStatus(regionSender, id)
	rs = byRecipient(st.Versions[0])
	for _, to := range queued {
		r := rs[to]
		if r.State != pipeline.StateDelivered || r.DeliveredAt == nil || r.ReceiptDigest != digests[to] || digests[to] == "" {
			t.Errorf("%s after ack: %+v (delivered %s)", to, r, digests[to])
		}
	}
	if rs["police:koebenhavn"].State != pipeline.StateWithheld {
		t.Errorf("police after acks: %+v", rs["police:koebenhavn"])
	}
	if v := h.requests("status", http.StatusNotFound); v < 4 {
		t.Errorf("status 404s counted %v", v)
	}
}
