package record_test

import (
	"strings"
	"testing"
	"time"

	"github.com/psykosocial/exchange/internal/clock"
	"github.com/psykosocial/exchange/internal/record"
	"github.com/psykosocial/exchange/internal/refdata"
)

// dk is an instant written in Danish time.
func dk(y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, clock.Danish())
}

// TestAgeOnTheDanishCalendar: ages turn at Danish midnight, whatever the
// instant's zone, in winter (CET) and summer (CEST).
func TestAgeOnTheDanishCalendar(t *testing.T) {
	tests := []struct {
		birth string
		at    time.Time
		want  int
	}{
		{"2011-11-25", dk(2026, 11, 25, 0, 30).UTC(), 15}, // 23:30 UTC the day before
		{"2011-11-25", dk(2026, 11, 24, 23, 59).UTC(), 14},
		{"2011-06-15", dk(2026, 6, 15, 0, 30).UTC(), 15}, // CEST: 22:30 UTC the day before
		{"2011-06-15", dk(2026, 6, 14, 23, 59), 14},
		{"2012-02-29", dk(2027, 2, 28, 23, 0), 14}, // a leap-day child's birthday is 1 March
		{"2012-02-29", dk(2027, 3, 1, 0, 0), 15},
		{"2012-01-01", dk(2027, 1, 1, 0, 0).UTC(), 15}, // the first instant of 2027
		{"2012-01-01", dk(2026, 12, 31, 23, 59), 14},
	}
	for _, tt := range tests {
		d, err := record.ParseDate(tt.birth)
		if err != nil {
			t.Fatal(err)
		}
		if got := d.AgeAt(tt.at); got != tt.want {
			t.Errorf("born %s, at %s: age %d, want %d", tt.birth, tt.at.Format(time.RFC3339), got, tt.want)
		}
	}
}

// childRecord is a valid example record of a child consenting itself at
// the given instant, born on birth.
func childRecord(t *testing.T, birth string, consentAt time.Time) *record.Record {
	t.Helper()
	r := readExample(t, "aarhus-resident-hurt-in-copenhagen.json")
	d, err := record.ParseDate(birth)
	if err != nil {
		t.Fatal(err)
	}
	r.Person.BirthDate = &d
	r.Person.CPR = ""
	r.Person.ECPR = ""
	for i := range r.Consent.FollowUp.Grants {
		r.Consent.FollowUp.Grants[i].Channels = []record.Channel{record.ChannelPhone}
	}
	r.Consent.GivenBy = record.GivenBySelf
	at := consentAt
	r.Consent.Obtained.At = &at
	reg := consentAt
	r.Registered.At = &reg
	occurred := consentAt.Add(-2 * time.Hour)
	r.Incident.OccurredAt = &occurred
	r.Incident.RegionCode = ""
	if r.Consent.FollowUp.ExpiresAt != nil {
		exp := consentAt.AddDate(1, 0, 0)
		r.Consent.FollowUp.ExpiresAt = &exp
	}
	return r
}

// TestDanishCalendarRules are the two cases a new user found rejected:
// a person who turns 15 at midnight and consents at 00:30, and a newborn
// registered at 00:40 on its birth day.
func TestDanishCalendarRules(t *testing.T) {
	t.Run("15 at midnight consents at 00:30", func(t *testing.T) {
		at := dk(2026, 11, 25, 0, 30)
		v := newValidatorAt(t, at.Add(time.Hour), refdata.Config{})
		if ps := v.Validate(childRecord(t, "2011-11-25", at.UTC())); len(ps) != 0 {
			t.Fatalf("a 15-year-old consenting for themselves was refused: %v", ps)
		}
		// One minute before midnight they were 14 and need a guardian.
		before := dk(2026, 11, 24, 23, 59)
		ps := v.Validate(childRecord(t, "2011-11-25", before))
		if len(ps) != 1 || ps[0].Rule != "consent.guardian_required" || !strings.Contains(ps[0].Message, "was 14") {
			t.Fatalf("a 14-year-old consenting for themselves: %v", ps)
		}
	})
	t.Run("newborn registered at 00:40 on its birth day", func(t *testing.T) {
		now := dk(2026, 11, 25, 0, 40) // 23:40 UTC on the 24th
		v := newValidatorAt(t, now, refdata.Config{})
		r := childRecord(t, "2026-11-25", now.Add(-time.Minute))
		r.Consent.GivenBy = record.GivenByGuardian
		r.Consent.Guardian = &record.Guardian{Name: "Sofie Lund", Relation: record.GuardianParent, Phone: "+4520304050"}
		if ps := v.Validate(r); len(ps) != 0 {
			t.Fatalf("a newborn registered on its birth day was refused: %v", ps)
		}
		// Born tomorrow (Danish time) is in the future.
		tomorrow, _ := record.ParseDate("2026-11-26")
		r.Person.BirthDate = &tomorrow
		ps := v.Validate(r)
		if len(ps) != 1 || ps[0].Pointer != "/person/birth_date" || ps[0].Rule != "time.future" || !strings.Contains(ps[0].Message, "today is 2026-11-25") {
			t.Fatalf("a birth date tomorrow: %v", ps)
		}
	})
}

// TestActsOfCeasedAuthorities: an act is judged at the time it was
// performed; Region Hovedstaden and Region Sjælland perform none from
// 2027-01-01T00:00+01:00, and the error names the successor.
func TestActsOfCeasedAuthorities(t *testing.T) {
	merger := dk(2027, 1, 1, 0, 0)
	week := merger.Add(7 * 24 * time.Hour)
	east := refdata.TestEastRegion() // made-up test values, not the real ones
	tests := []struct {
		name      string
		cfg       refdata.Config
		by        string
		at        time.Time
		ptr, rule string
		want      string // substring of the single problem; "" for valid
	}{
		{"Hovedstaden registers its last second", east, "region:1084", merger.Add(-time.Second), "", "", ""},
		{"Hovedstaden registers at the first second of 2027", east, "region:1084", merger, "/registered/by_authority", "authority.ceased",
			"names region:1084 (Region Hovedstaden), which had ceased at the time of the registration (2027-01-01 00:00 CET): it ceased at 2027-01-01 00:00 CET; its successor region:1099 (Region Østdanmark)"},
		{"Sjælland registers a week later", east, "region:1085", week, "/registered/by_authority", "authority.ceased", "Region Sjælland"},
		{"Sjælland without a configured successor", refdata.Config{}, "region:1085", week, "/registered/by_authority", "authority.ceased",
			"its successor Region Østdanmark holds its records and acts in its place, but its region code is not configured yet"},
		{"Østdanmark registers in 2027", east, "region:1099", week, "", "", ""},
		{"Østdanmark registers before it exists", east, "region:1099", merger.Add(-time.Hour), "/registered/by_authority", "authority.not_yet", "did not exist yet at the time of the registration (2026-12-31 23:00 CET): it exists only from 2027-01-01 00:00 CET"},
		{"a municipality registers through the merger", east, "municipality:0101", week, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newValidatorAt(t, week.Add(time.Hour), tt.cfg)
			r := readExample(t, "aarhus-resident-hurt-in-copenhagen.json")
			r.Incident.RegionCode = ""
			occurred := tt.at.Add(-3 * time.Hour)
			r.Incident.OccurredAt = &occurred
			at := tt.at
			r.Registered.At = &at
			r.Registered.ByAuthority = tt.by
			obtained := tt.at.Add(-time.Hour) // consent obtained by the same authority an hour earlier
			r.Consent.Obtained.At = &obtained
			r.Consent.Obtained.By.Authority = tt.by
			ps := v.Validate(r)
			if tt.want == "" {
				if len(ps) != 0 {
					t.Fatalf("unexpected problems: %v", ps)
				}
				return
			}
			// The consent, obtained by the same authority an hour earlier,
			// breaks the same rule unless that was before the merger.
			if consentOK := obtained.Before(merger); consentOK && len(ps) == 1 {
				ps = append(ps, record.Problem{Pointer: "/consent/obtained/by/authority", Rule: tt.rule})
			}
			if len(ps) != 2 || ps[0].Pointer != tt.ptr || ps[0].Rule != tt.rule || !strings.Contains(ps[0].Message, tt.want) ||
				ps[1].Pointer != "/consent/obtained/by/authority" || ps[1].Rule != tt.rule {
				t.Fatalf("problems %v, want one at %s [%s] containing %q and one at the consent's authority", ps, tt.ptr, tt.rule, tt.want)
			}
		})
	}
	t.Run("consent obtained by a ceased region", func(t *testing.T) {
		v := newValidatorAt(t, week.Add(time.Hour), east)
		r := readExample(t, "aarhus-resident-hurt-in-copenhagen.json")
		r.Incident.RegionCode = ""
		r.Registered.ByAuthority = "region:1099"
		reg := week
		r.Registered.At = &reg
		r.Consent.Obtained.By.Authority = "region:1084"
		obtained := merger.Add(time.Minute)
		r.Consent.Obtained.At = &obtained
		ps := v.Validate(r)
		if len(ps) != 1 || ps[0].Pointer != "/consent/obtained/by/authority" || ps[0].Rule != "authority.ceased" || !strings.Contains(ps[0].Message, "which had ceased at the time consent was obtained (2027-01-01 00:01 CET)") {
			t.Fatalf("problems %v", ps)
		}
		// Obtained at 23:50 on New Year's Eve, registered by the successor in January: valid.
		obtained = merger.Add(-10 * time.Minute)
		if ps := v.Validate(r); len(ps) != 0 {
			t.Fatalf("consent obtained by Hovedstaden before it ceased: %v", ps)
		}
	})
}
