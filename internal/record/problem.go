package record

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/psykosocial/exchange/internal/clock"
)

// Problem is one thing wrong with a document.
type Problem struct {
	// Pointer locates the member: an RFC 6901 JSON Pointer into the common
	// record or a JSON document, or an element path such as
	// /Registration/Person/CPR in an XML document.
	Pointer string `json:"pointer"`
	// Line is the 1-based line in the source document, 0 when unknown.
	Line int `json:"line,omitempty"`
	// Rule is a stable, machine-readable name of the rule that was broken.
	Rule string `json:"rule"`
	// Message is a human sentence saying what is wrong.
	Message string `json:"message"`
}

// String formats the problem as "pointer (line N): message [rule]".
func (p Problem) String() string {
	var b strings.Builder
	if p.Pointer == "" {
		b.WriteString("(document)")
	} else {
		b.WriteString(p.Pointer)
	}
	if p.Line > 0 {
		fmt.Fprintf(&b, " (line %d)", p.Line)
	}
	b.WriteString(": ")
	b.WriteString(p.Message)
	b.WriteString(" [")
	b.WriteString(p.Rule)
	b.WriteString("]")
	return b.String()
}

// Problems is every problem found in one document. It is an error so that
// decoders can return it as one; an empty Problems is not an error and is
// never returned as one.
type Problems []Problem

// Error lists the problems, one per line.
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Err returns ps as an error, or nil when there are none.
func (ps Problems) Err() error {
	if len(ps) == 0 {
		return nil
	}
	return ps
}

// Date is a calendar date without time or zone (JSON "YYYY-MM-DD").
type Date struct {
	// Year, Month and Day are the date's parts.
	Year  int
	Month time.Month
	Day   int
}

// ParseDate parses an ISO 8601 calendar date (YYYY-MM-DD) and refuses dates
// that do not exist (2023-02-29).
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil || len(s) != 10 {
		return Date{}, errors.New("not an existing calendar date of the form YYYY-MM-DD")
	}
	return Date{t.Year(), t.Month(), t.Day()}, nil
}

// String formats d as YYYY-MM-DD.
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day) }

// Time is midnight UTC at the start of d. Calendar rules do not use it:
// they compare Danish calendar days (DanishDateOf, AgeAt).
func (d Date) Time() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC) }

// MarshalText implements encoding.TextMarshaler.
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Date) UnmarshalText(b []byte) error {
	p, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = p
	return nil
}

// AgeAt is the person's age in whole years at instant t, judged on the
// Danish calendar day of t: a person born on 5 March turns 15 at midnight
// Danish time, so at 00:30 that day (23:30 UTC the day before) they are
// 15. Someone born on 29 February has their birthday on 1 March in other
// years.
func (d Date) AgeAt(t time.Time) int {
	y, m, day := clock.DanishDay(t)
	age := y - d.Year
	if m < d.Month || (m == d.Month && day < d.Day) {
		age--
	}
	return age
}

// DanishDateOf is the Danish calendar day of instant t, as a Date.
func DanishDateOf(t time.Time) Date {
	y, m, d := clock.DanishDay(t)
	return Date{Year: y, Month: m, Day: d}
}

// After reports whether d is a later calendar day than e.
func (d Date) After(e Date) bool {
	if d.Year != e.Year {
		return d.Year > e.Year
	}
	if d.Month != e.Month {
		return d.Month > e.Month
	}
	return d.Day > e.Day
}
