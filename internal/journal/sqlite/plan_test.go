package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/psykosocial/exchange/internal/journal"
)

// TestFindPlans checks the index SQLite plans for Find's queries: a
// record's entries through the record index, whatever else the filter
// names. The pipeline asks what a record was queued to for every record it
// takes in; through the event index that walks every queued entry of the
// journal, a cost that grows with the journal (gateway bench's profile).
func TestFindPlans(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "j.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rid := "0d2a7e4c-5f1b-4c8e-9a3d-2b6f7e8c9d01"
	for _, c := range []struct {
		name string
		f    journal.Filter
		want string
	}{
		{"record and event", journal.Filter{RecordID: rid, Events: []journal.EventType{journal.EventQueued}}, "journal_entries_record"},
		{"record, incident and authority", journal.Filter{RecordID: rid, IncidentID: "inc-1", Authority: "region:1082"}, "journal_entries_record"},
		{"event only", journal.Filter{Events: []journal.EventType{journal.EventQueued}}, "journal_entries_event"},
		{"subject", journal.Filter{Subjects: []string{"s1", "s2"}}, "journal_entries_subject"},
	} {
		q, args := findQuery(c.f, 0, 1000)
		rows, err := s.r.QueryContext(ctx, "EXPLAIN QUERY PLAN "+q, args...)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		if p := strings.Join(plan, "; "); !strings.Contains(p, c.want) {
			t.Errorf("%s: plan %q, want %s", c.name, p, c.want)
		}
	}
}
