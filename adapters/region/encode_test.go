package region_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/psykosocial/exchange/adapters"
	"github.com/psykosocial/exchange/adapters/region"
	"github.com/psykosocial/exchange/internal/clock"
	"github.com/psykosocial/exchange/internal/record"
)

// TestEncodeIsDeterministic encodes the same records with different time
// zones and fresh copies and expects the same bytes.
func TestEncodeIsDeterministic(t *testing.T) {
	a := newAdapter(t)
	for _, ex := range examples(t, validDir) {
		t.Run(ex.name, func(t *testing.T) {
			m, err := a.Decode(ex.data)
			if err != nil {
				t.Fatal(err)
			}
			first, err := a.Encode(m)
			if err != nil {
				t.Fatal(err)
			}
			// The same instants in another zone give the same bytes.
			zone := time.FixedZone("UTC-7", -7*3600)
			for _, it := range m.Items {
				shift(it.Record, zone)
			}
			if m.Withdrawal != nil && m.Withdrawal.WithdrawnAt != nil {
				w := m.Withdrawal.WithdrawnAt.In(zone)
				m.Withdrawal.WithdrawnAt = &w
			}
			for range 3 {
				again, err := a.Encode(m)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(first, again) {
					t.Fatalf("encodings differ:\n%s\n%s", first, again)
				}
			}
			if !bytes.HasPrefix(first, []byte(`{"meddelelsestype":`)) {
				t.Errorf("the discriminator is not first: %.60s", first)
			}
		})
	}
}

func shift(r *record.Record, zone *time.Location) {
	in := func(p **time.Time) {
		if *p != nil {
			t := (*p).In(zone)
			*p = &t
		}
	}
	if r.Incident != nil {
		in(&r.Incident.OccurredAt)
	}
	if r.Registered != nil {
		in(&r.Registered.At)
	}
	if c := r.Consent; c != nil {
		in(&c.WithdrawnAt)
		if c.FollowUp != nil {
			in(&c.FollowUp.ExpiresAt)
		}
		if c.Obtained != nil {
			in(&c.Obtained.At)
		}
	}
}

func TestEncodeRefuses(t *testing.T) {
	a := newAdapter(t)
	valid := func() *record.Record {
		m, err := a.Decode(single(`"registreringsId":"5a1e7c2b-3d4f-4a6b-9c8d-7e6f5a4b3c2d","version":1,"haendelse":{"id":"X1","type":"brand"},` + minimalConsent))
		if err != nil || m.Items[0].Record == nil {
			t.Fatalf("%v %v", err, m.Items[0].Problems)
		}
		return m.Items[0].Record
	}
	at := time.Date(2026, 7, 2, 8, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		msg  *adapters.Message
		is   error
	}{
		{"nil message", nil, nil},
		{"no records", &adapters.Message{Kind: adapters.KindRegistration}, nil},
		{"item without record", &adapters.Message{Kind: adapters.KindRegistration, Items: []adapters.Item{{Problems: record.Problems{{Rule: "x"}}}}}, nil},
		{"unknown kind", &adapters.Message{Kind: "correction", Items: []adapters.Item{{Record: valid()}}}, nil},
		{"withdrawal without notice", &adapters.Message{Kind: adapters.KindWithdrawal}, nil},
		{"withdrawal with records", &adapters.Message{Kind: adapters.KindWithdrawal, Items: []adapters.Item{{Record: valid()}},
			Withdrawal: &record.Withdrawal{Schema: record.WithdrawalSchemaV1, RecordID: "5a1e7c2b-3d4f-4a6b-9c8d-7e6f5a4b3c2d", Version: 1, Reason: record.ReasonDuplicate, WithdrawnAt: &at}}, nil},
		{"registration with notice", &adapters.Message{Kind: adapters.KindRegistration, Items: []adapters.Item{{Record: valid()}},
			Withdrawal: &record.Withdrawal{}}, nil},
		{"unknown incident kind", func() *adapters.Message {
			r := valid()
			r.Incident.Kind = "meteor"
			return &adapters.Message{Kind: adapters.KindRegistration, Items: []adapters.Item{{Record: r}}}
		}(), region.ErrNoCode},
		{"unknown channel", func() *adapters.Message {
			r := valid()
			g := true
			r.Consent.FollowUp = &record.FollowUp{Granted: &g, Grants: []record.Grant{{Recipient: record.RecipientResidenceMunicipality,
				Purposes: []record.Purpose{record.PurposeFollowUp}, Channels: []record.Channel{"sms"}}}}
			return &adapters.Message{Kind: adapters.KindRegistration, Items: []adapters.Item{{Record: r}}}
		}(), region.ErrNoCode},
		{"unknown recipient", func() *adapters.Message {
			r := valid()
			g := true
			r.Consent.FollowUp = &record.FollowUp{Granted: &g, Grants: []record.Grant{{Recipient: "neighbour",
				Purposes: []record.Purpose{record.PurposeFollowUp}, Channels: []record.Channel{record.ChannelEmail}}}}
			return &adapters.Message{Kind: adapters.KindRegistration, Items: []adapters.Item{{Record: r}}}
		}(), region.ErrNoCode},
		{"unknown kinship", func() *adapters.Message {
			r := valid()
			r.Relation = &record.Relation{Type: record.RelationRelative, Kinship: "cousin"}
			return &adapters.Message{Kind: adapters.KindRegistration, Items: []adapters.Item{{Record: r}}}
		}(), region.ErrNoCode},
		{"unknown guardian relation", func() *adapters.Message {
			r := valid()
			r.Consent.GivenBy = record.GivenByGuardian
			r.Consent.Guardian = &record.Guardian{Name: "Anna Holm", Relation: "aunt"}
			return &adapters.Message{Kind: adapters.KindRegistration, Items: []adapters.Item{{Record: r}}}
		}(), region.ErrNoCode},
		{"unknown reason", &adapters.Message{Kind: adapters.KindWithdrawal,
			Withdrawal: &record.Withdrawal{Schema: record.WithdrawalSchemaV1, RecordID: "5a1e7c2b-3d4f-4a6b-9c8d-7e6f5a4b3c2d", Version: 1, Reason: "bored", WithdrawnAt: &at}}, region.ErrNoCode},
		{"time before 1900", func() *adapters.Message {
			r := valid()
			old := time.Date(1850, 1, 1, 0, 0, 0, 0, time.UTC)
			r.Incident.OccurredAt = &old
			return &adapters.Message{Kind: adapters.KindRegistration, Items: []adapters.Item{{Record: r}}}
		}(), nil},
		{"other schema", func() *adapters.Message {
			r := valid()
			r.Schema = "registration/v2"
			return &adapters.Message{Kind: adapters.KindRegistration, Items: []adapters.Item{{Record: r}}}
		}(), nil},
		{"too many records", func() *adapters.Message {
			m := &adapters.Message{Kind: adapters.KindRegistration}
			for i := range region.MaxRecords + 1 {
				m.Items = append(m.Items, adapters.Item{Index: i, Record: valid()})
			}
			return m
		}(), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := a.Encode(tt.msg)
			if err == nil || out != nil {
				t.Fatalf("Encode = %q, %v; want an error", out, err)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v does not wrap %v", err, tt.is)
			}
		})
	}
}

// TestDocumentLimits checks the limits of a whole document.
func TestDocumentLimits(t *testing.T) {
	a := newAdapter(t)
	// Each record once: a message holds no record id twice.
	rec := func(i int) string {
		return fmt.Sprintf(`{"registreringsId":"5a1e7c2b-3d4f-4a6b-9c8d-%012x","version":1,"haendelse":{"id":"X1"},`, i) + minimalConsent + `}`
	}
	list := func(n int) []byte {
		recs := make([]string, n)
		for i := range recs {
			recs[i] = rec(i)
		}
		return []byte(`{"meddelelsestype":"epc-registrering/v1","registreringer":[` + strings.Join(recs, ",") + `]}`)
	}
	t.Run("MaxRecords records", func(t *testing.T) {
		m, err := a.Decode(list(region.MaxRecords))
		if err != nil || len(m.Records()) != region.MaxRecords {
			t.Fatalf("Decode: %v", err)
		}
	})
	tests := map[string]struct {
		data []byte
		rule string
	}{
		"one record too many": {list(region.MaxRecords + 1), "json.limit"},
		"document too large":  {append(single(`"x":"`+strings.Repeat("a", region.MaxDocumentBytes)), `"}}`...), "json.limit"},
		"deeply nested":       {[]byte(`{"meddelelsestype":"epc-registrering/v1","registrering":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`), "json.syntax"},
		"empty":               {nil, "json.syntax"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			m, err := a.Decode(tt.data)
			var ps record.Problems
			if m != nil || !errors.As(err, &ps) || len(ps) != 1 || ps[0].Rule != tt.rule {
				t.Fatalf("Decode = %v, %v; want one %s problem", m, err, tt.rule)
			}
			if len(ps[0].Message) > 200 {
				t.Errorf("message of %d bytes", len(ps[0].Message))
			}
		})
	}
}

// TestWithdrawalRoundTrip encodes every withdrawal reason and decodes it again.
func TestWithdrawalRoundTrip(t *testing.T) {
	a := newAdapter(t)
	at := time.Date(2026, 7, 2, 10, 0, 0, 0, time.FixedZone("CEST", 2*3600))
	for i, reason := range record.WithdrawalReasons() {
		t.Run(string(reason), func(t *testing.T) {
			w := &record.Withdrawal{Schema: record.WithdrawalSchemaV1, RecordID: "5a1e7c2b-3d4f-4a6b-9c8d-7e6f5a4b3c2d",
				Version: i + 1, Reason: reason, WithdrawnAt: &at}
			if i%2 == 0 {
				w.IncidentID = fmt.Sprintf("HST-2026-%04d", i)
			}
			out, err := a.Encode(&adapters.Message{Kind: adapters.KindWithdrawal, Withdrawal: w})
			if err != nil {
				t.Fatal(err)
			}
			m, err := a.Decode(out)
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			want, _ := record.MarshalCanonicalWithdrawal(w)
			got, _ := record.MarshalCanonicalWithdrawal(m.Withdrawal)
			if m.Kind != adapters.KindWithdrawal || !bytes.Equal(got, want) {
				t.Errorf("got %s, want %s", got, want)
			}
		})
	}
}

// TestHostileDocumentsAreCheap checks that documents built to produce many
// problems are refused quickly, with a bounded list of problems.
func TestHostileDocumentsAreCheap(t *testing.T) {
	a := newAdapter(t)
	tests := map[string][]byte{
		"thousands of nulls in a record": single(`"x":[` + strings.Repeat("null,", 12000) + `null]`),
		"thousands of unknown members":   []byte(`{` + strings.Repeat(`"x":1,`, 200000) + `"meddelelsestype":"epc-registrering/v1"}`),
		"thousands of bad records": []byte(`{"meddelelsestype":"epc-registrering/v1","registreringer":[` +
			strings.Repeat(`{"a":null,"b":"","c":[]},`, region.MaxRecords-1) + `{}]}`),
		"thousands of lines": single(strings.Repeat("\n", 60000) + `"x":null`),
	}
	for name, data := range tests {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			m, err := a.Decode(data)
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("Decode took %v", d)
			}
			var ps record.Problems
			if err != nil && !errors.As(err, &ps) {
				t.Fatal(err)
			}
			if m != nil {
				for _, it := range m.Items {
					ps = append(ps, it.Problems...)
					if len(it.Problems) > 50 {
						t.Errorf("item %d has %d problems", it.Index, len(it.Problems))
					}
				}
			} else if len(ps) > 50 {
				t.Errorf("%d problems", len(ps))
			}
			if len(ps) == 0 {
				t.Error("no problem")
			}
		})
	}
}

// TestLongNamesAreNotEchoed checks that a long unknown member name does
// not come back in full in the message.
func TestLongNamesAreNotEchoed(t *testing.T) {
	a := newAdapter(t)
	long := strings.Repeat("x", 5000)
	for name, doc := range map[string][]byte{
		"top level": []byte(`{"meddelelsestype":"epc-registrering/v1","` + long + `":1}`),
		"record":    single(`"` + long + `":1`),
	} {
		t.Run(name, func(t *testing.T) {
			m, err := a.Decode(doc)
			var ps record.Problems
			if err != nil {
				errors.As(err, &ps)
			} else {
				ps = m.Items[0].Problems
			}
			if len(ps) != 1 || ps[0].Rule != "json.unknown_field" || len(ps[0].Message) > 250 {
				t.Errorf("problems %.300v", ps)
			}
		})
	}
}

// TestEncodeMinimisedViews encodes views as the gateway reduces them for a
// recipient (internal/consent): the police get no follow-up block at all,
// a municipality only its own grant, a guardian travels without the phone
// and e-mail the view does not disclose, and a relation never carries the
// affected person. Each is written, accepted by the schema and decoded
// back unchanged.
func TestEncodeMinimisedViews(t *testing.T) {
	a := newAdapter(t)
	s := compileSchema(t)
	decode := func(name string) *record.Record {
		t.Helper()
		b, err := os.ReadFile(filepath.Join("..", "..", "schemas", "examples", "region", "valid", name))
		if err != nil {
			t.Fatal(err)
		}
		m, err := a.Decode(b)
		if err != nil || m.Items[0].Record == nil {
			t.Fatalf("%s: %v %v", name, err, m.Items[0].Problems)
		}
		return m.Items[0].Record
	}
	tests := map[string]func() *record.Record{
		"police view of a minor": func() *record.Record {
			r := decode("vejle-flood-minor-with-guardian-contact.json")
			r.Consent.FollowUp = nil
			r.Consent.Guardian.Phone, r.Consent.Guardian.Email = "", ""
			r.Assessment = nil
			return r
		},
		"municipality view of per-recipient grants": func() *record.Record {
			r := decode("odense-fire-information-for-municipality-psychiatry-by-region.json")
			r.Consent.FollowUp.Grants = r.Consent.FollowUp.Grants[:1]
			r.Assessment.Notes = ""
			return r
		},
		"relative without the affected person": func() *record.Record {
			r := decode("herning-crash-relative-names-affected-by-cpr.json")
			r.Relation.Affected = nil
			return r
		},
		"guardian with e-mail only": func() *record.Record {
			r := decode("vejle-flood-minor-with-guardian-contact.json")
			r.Consent.Guardian.Phone = ""
			r.Consent.FollowUp.Grants[0].Channels = []record.Channel{record.ChannelEmail}
			return r
		},
	}
	for name, view := range tests {
		t.Run(name, func(t *testing.T) {
			r := view()
			if ps := record.NewValidator(mustRef(t), clock.Fixed(now())).Validate(r); len(ps) > 0 {
				t.Fatalf("the view is not valid: %v", ps)
			}
			out, err := a.Encode(&adapters.Message{Kind: adapters.KindRegistration, Items: []adapters.Item{{Record: r}}})
			if err != nil {
				t.Fatal(err)
			}
			if err := validateSchema(s, out); err != nil {
				t.Errorf("the schema refuses the encoding: %v\n%s", err, out)
			}
			for _, absent := range []string{`"beroertPerson"`, `"tilladelser":null`, `"telefon":""`, `"email":""`} {
				if bytes.Contains(out, []byte(absent)) {
					t.Errorf("the encoding holds %s: %s", absent, out)
				}
			}
			m, err := a.Decode(out)
			if err != nil || m.Items[0].Record == nil {
				t.Fatalf("Decode: %v %v\n%s", err, m.Items[0].Problems, out)
			}
			if got, want := canonical(t, m.Items[0].Record), canonical(t, r); got != want {
				t.Errorf("changed:\n got %s\nwant %s", got, want)
			}
		})
	}
}
