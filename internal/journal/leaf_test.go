package journal

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/psykosocial/exchange/internal/record"
)

// goldenEntry is the entry whose leaf bytes TestLeafGolden pins.
func goldenEntry() Entry {
	return Entry{
		Seq:           42,
		Time:          time.Date(2026, 11, 25, 14, 30, 0, 123456000, time.UTC),
		Event:         EventQueued,
		Actor:         "gateway",
		Counterpart:   "municipality:0851",
		RecipientRole: record.RecipientResidenceMunicipality,
		Purpose:       record.PurposeFollowUp,
		RecordID:      "0b6f7c1e-8d1a-4f3e-9a57-5d2f8c9e1a23",
		RecordVersion: 2,
		MessageID:     "msg-7f3a",
		IncidentID:    "inc-2026-aalborg-fire",
		Subject:       Subject{KeyID: "k0a1b2c3d", Ref: "q2X8VZkq1S3o8rM1y0mK7T0Ck3w8aQ9xYvX4d2WZl0E"},
		Consent: Decision{Rule: "residence_municipality.follow_up", PolicyVersion: "2026-11-01 \"final\"", Basis: "consent",
			Clause: []string{"/consent/follow_up/purposes", "/consent/follow_up/recipients"}, GivenBy: "guardian"},
		Fields:        []string{"/incident/title", "/person/name", "/person/phone"},
		PayloadDigest: sha256.Sum256([]byte("signed bytes")),
		Outcome:       OutcomeOK,
		Reason:        `sendt til bopælskommunen \ ok`,
	}
}

// TestLeafGolden pins the version 1 leaf encoding. THESE BYTES NEVER
// CHANGE: journals in use hold leaves written this way, hashed into signed
// checkpoints. A change here breaks every existing journal's verification;
// add a new LeafVersion instead.
func TestLeafGolden(t *testing.T) {
	const want = `{"journal_entry":1,"seq":42,"time":"2026-11-25T14:30:00.123456Z","event":"queued",` +
		`"actor":"gateway","counterpart":"municipality:0851","recipient_role":"residence_municipality",` +
		`"purpose":"psychosocial_follow_up","record_id":"0b6f7c1e-8d1a-4f3e-9a57-5d2f8c9e1a23","record_version":2,` +
		`"message_id":"msg-7f3a","incident_id":"inc-2026-aalborg-fire",` +
		`"subject":"q2X8VZkq1S3o8rM1y0mK7T0Ck3w8aQ9xYvX4d2WZl0E","subject_key":"k0a1b2c3d",` +
		`"consent_rule":"residence_municipality.follow_up","policy_version":"2026-11-01 \"final\"",` +
		`"consent_basis":"consent","legal_basis":"","consent_clause":["/consent/follow_up/purposes","/consent/follow_up/recipients"],` +
		`"consent_check":"","given_by":"guardian",` +
		`"fields":["/incident/title","/person/name","/person/phone"],` +
		`"payload_digest":"1ureNGtC9wfBaEqj08ApqwgJFkuLh4_Mz1b-HYOz3B0","outcome":"ok",` +
		`"reason":"sendt til bopælskommunen \\ ok"}`
	got, err := MarshalLeaf(goldenEntry())
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Fatalf("leaf bytes changed:\n got %s\nwant %s", got, want)
	}
	// The leaf hash, as any RFC 9162 tool computes it: SHA-256(0x00 || leaf)
	// (computed independently with Python's hashlib).
	h := sha256.Sum256(append([]byte{0}, got...))
	if lh := LeafHash(got); lh != h {
		t.Fatalf("LeafHash is not SHA-256(0x00 || leaf)")
	}
	if hex.EncodeToString(h[:]) != goldenLeafHash {
		t.Fatalf("leaf hash changed: got %x, want %s", h, goldenLeafHash)
	}
}

// goldenLeafHash is the hex leaf hash of goldenEntry's leaf.
const goldenLeafHash = "b7d63e4a0dea9e06b9071da0f549a2c045b38b5be18b2ebf672e05f97ff49667"

func TestLeafRoundTrip(t *testing.T) {
	e := goldenEntry()
	b, err := MarshalLeaf(e)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseLeaf(b)
	if err != nil {
		t.Fatal(err)
	}
	b2, err := MarshalLeaf(got)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, b2) {
		t.Fatalf("round trip changed the leaf:\n%s\n%s", b, b2)
	}
	if got.Time != e.Time || got.Subject != e.Subject || got.PayloadDigest != e.PayloadDigest || got.Reason != e.Reason {
		t.Fatalf("round trip changed the entry: %+v", got)
	}
	// An entry with every optional field empty.
	min := Entry{Event: EventAuditQuery, Actor: "dpo:region:1084", Outcome: OutcomeOK, Time: e.Time}
	b, err = MarshalLeaf(min)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"fields":[],"payload_digest":"","outcome":"ok","reason":""}`) {
		t.Fatalf("empty members are not written as empty: %s", b)
	}
	if got, err := ParseLeaf(b); err != nil || got.Fields != nil || got.PayloadDigest != ([32]byte{}) {
		t.Fatalf("ParseLeaf(minimal) = %+v, %v", got, err)
	}
}

// TestEveryEventRoundTrips: each event of the vocabulary, the operator's
// requeued and config_in_force among them, encodes and parses back to itself.
func TestEveryEventRoundTrips(t *testing.T) {
	for _, ev := range EventTypes() {
		e := Entry{Event: ev, Actor: "gateway:operator", Counterpart: "municipality:0851", RecordID: "rec-1", RecordVersion: 1,
			MessageID: "mb-1", Outcome: OutcomeOK, Reason: "requeued after 10 deliveries", Time: goldenEntry().Time}
		b, err := MarshalLeaf(e)
		if err != nil {
			t.Fatalf("%s: %v", ev, err)
		}
		got, err := ParseLeaf(b)
		if err != nil || got.Event != ev {
			t.Fatalf("%s: ParseLeaf = %+v, %v", ev, got, err)
		}
	}
	for _, ev := range []EventType{EventRequeued, EventConfigInForce} {
		if !slices.Contains(EventTypes(), ev) {
			t.Fatalf("%s is not in the vocabulary", ev)
		}
	}
}

func TestParseLeafRejectsNonCanonical(t *testing.T) {
	good, err := MarshalLeaf(goldenEntry())
	if err != nil {
		t.Fatal(err)
	}
	g := string(good)
	cases := map[string]string{
		"space after colon":     strings.Replace(g, `"seq":42`, `"seq": 42`, 1),
		"leading zero":          strings.Replace(g, `"seq":42`, `"seq":042`, 1),
		"members reordered":     strings.Replace(g, `"event":"queued","actor":"gateway"`, `"actor":"gateway","event":"queued"`, 1),
		"other version":         strings.Replace(g, `"journal_entry":1`, `"journal_entry":2`, 1),
		"time without micros":   strings.Replace(g, `14:30:00.123456Z`, `14:30:00.123Z`, 1),
		"time with offset":      strings.Replace(g, `14:30:00.123456Z`, `14:30:00.123456+01:00`, 1),
		"unicode escape":        strings.Replace(g, `"actor":"gateway"`, `"actor":"gat\u0065way"`, 1),
		"fields unsorted":       strings.Replace(g, `"/incident/title","/person/name"`, `"/person/name","/incident/title"`, 1),
		"clause unsorted":       strings.Replace(g, `"/consent/follow_up/purposes","/consent/follow_up/recipients"`, `"/consent/follow_up/recipients","/consent/follow_up/purposes"`, 1),
		"fields repeated":       strings.Replace(g, `"/person/name","/person/phone"`, `"/person/name","/person/name"`, 1),
		"zero digest":           strings.Replace(g, `1ureNGtC9wfBaEqj08ApqwgJFkuLh4_Mz1b-HYOz3B0`, strings.Repeat("A", 43), 1),
		"padded digest":         strings.Replace(g, `1ureNGtC9wfBaEqj08ApqwgJFkuLh4_Mz1b-HYOz3B0"`, `1ureNGtC9wfBaEqj08ApqwgJFkuLh4_Mz1b-HYOz3B0="`, 1),
		"trailing data":         g + " ",
		"missing member":        strings.Replace(g, `"outcome":"ok",`, ``, 1),
		"control char":          strings.Replace(g, `sendt til`, "sendt\ttil", 1),
		"invalid utf-8":         strings.Replace(g, `bopæl`, "bop\xe6l", 1),
		"subject without key":   strings.Replace(g, `"subject_key":"k0a1b2c3d"`, `"subject_key":""`, 1),
		"negative version":      strings.Replace(g, `"record_version":2`, `"record_version":-2`, 1),
		"empty":                 "",
		"truncated":             g[:len(g)/2],
		"non-canonical bool":    strings.Replace(g, `"seq":42`, `"seq":true`, 1),
		"C1 control character":  strings.Replace(g, `bopæl`, "bop\u0085l", 1),
		"escaped slash in path": strings.Replace(g, `"/person/name"`, `"\/person/name"`, 1),
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			if in == g {
				t.Fatal("the case does not change the leaf")
			}
			_, err := ParseLeaf([]byte(in))
			var le *LeafError
			if !errors.As(err, &le) || !errors.Is(err, ErrMalformedLeaf) {
				t.Fatalf("ParseLeaf accepted or gave %v", err)
			}
		})
	}
}

func TestEntryRules(t *testing.T) {
	ok := goldenEntry()
	cases := []struct {
		name  string
		edit  func(*Entry)
		field string
	}{
		{"unknown event", func(e *Entry) { e.Event = "teleported" }, "event"},
		{"no actor", func(e *Entry) { e.Actor = "" }, "actor"},
		{"actor upper case", func(e *Entry) { e.Actor = "Gateway" }, "actor"},
		{"counterpart with space", func(e *Entry) { e.Counterpart = "region 1084" }, "counterpart"},
		{"unknown role", func(e *Entry) { e.RecipientRole = "neighbour" }, "recipient_role"},
		{"unknown purpose", func(e *Entry) { e.Purpose = "marketing" }, "purpose"},
		{"record id with quote", func(e *Entry) { e.RecordID = `a"b` }, "record_id"},
		{"long message id", func(e *Entry) { e.MessageID = strings.Repeat("m", maxIDBytes+1) }, "message_id"},
		{"negative version", func(e *Entry) { e.RecordVersion = -1 }, "record_version"},
		{"version without record", func(e *Entry) { e.RecordID = "" }, "record_version"},
		{"subject not a reference", func(e *Entry) { e.Subject.Ref = "0101901234" }, "subject"},
		{"subject without key id", func(e *Entry) { e.Subject.KeyID = "" }, "subject_key"},
		{"consent rule with newline", func(e *Entry) { e.Consent.Rule = "a\nb" }, "consent_rule"},
		{"consent basis not a name", func(e *Entry) { e.Consent.Basis = "Consent!" }, "consent_basis"},
		{"consent check with space", func(e *Entry) { e.Consent.Check = "no rule" }, "consent_check"},
		{"given by upper case", func(e *Entry) { e.Consent.GivenBy = "Self" }, "given_by"},
		{"clause not a pointer", func(e *Entry) { e.Consent.Clause = []string{"consent.follow_up"} }, "consent_clause"},
		{"too many clauses", func(e *Entry) { e.Consent.Clause = make([]string, maxClauses+1) }, "consent_clause"},
		{"field path not a pointer", func(e *Entry) { e.Fields = []string{"person.name"} }, "fields"},
		{"too many fields", func(e *Entry) { e.Fields = make([]string, maxFields+1) }, "fields"},
		{"no outcome", func(e *Entry) { e.Outcome = "" }, "outcome"},
		{"CPR in reason", func(e *Entry) { e.Reason = "person 010190-1234 refused" }, "reason"},
		{"CPR without hyphen in reason", func(e *Entry) { e.Reason = "cpr=0101901234" }, "reason"},
		{"long reason", func(e *Entry) { e.Reason = strings.Repeat("x", maxReasonBytes+1) }, "reason"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := ok
			c.edit(&e)
			_, err := MarshalLeaf(e)
			var ee *EntryError
			if !errors.As(err, &ee) || !errors.Is(err, ErrInvalidEntry) {
				t.Fatalf("MarshalLeaf accepted or gave %v", err)
			}
			if ee.Field != c.field {
				t.Fatalf("field %q, want %q (%v)", ee.Field, c.field, err)
			}
		})
	}
	// Digits that are not a CPR number are fine in a reason.
	for _, r := range []string{"HTTP 503 after 12345678901 bytes", "policy 2026-11-01", "9999999999 is not a date"} {
		e := ok
		e.Reason = r
		if _, err := MarshalLeaf(e); err != nil {
			t.Errorf("reason %q refused: %v", r, err)
		}
	}
}

func FuzzParseLeaf(f *testing.F) {
	good, _ := MarshalLeaf(goldenEntry())
	f.Add(good)
	min, _ := MarshalLeaf(Entry{Event: EventAuditQuery, Actor: "gateway", Outcome: OutcomeOK, Time: time.Unix(0, 0).UTC()})
	f.Add(min)
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := ParseLeaf(b)
		if err != nil {
			if !errors.Is(err, ErrMalformedLeaf) {
				t.Fatalf("error %v does not match ErrMalformedLeaf", err)
			}
			return
		}
		// Property: what parses is canonical, so it encodes back to itself.
		if again := appendLeaf(nil, &e); !bytes.Equal(again, b) {
			t.Fatalf("not canonical:\n in %q\nout %q", b, again)
		}
		if seq, err := parseLeaf(b, nil); err != nil || seq != e.Seq {
			t.Fatalf("the check-only parse disagrees: %d, %v", seq, err)
		}
	})
}
