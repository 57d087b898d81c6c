package refdata

import "time"

// Period is a half-open validity period [From, To). A zero From means valid since
// always; a zero To means open-ended.
type Period struct {
	// From is the first instant of validity; the zero time means since always.
	From time.Time
	// To is the first instant at which the entry is no longer valid; the zero time
	// means open-ended.
	To time.Time
}

// Contains reports whether t lies within the period: From <= t < To, where a zero
// bound is unbounded. The zero time is before every non-zero From.
func (p Period) Contains(t time.Time) bool {
	if !p.From.IsZero() && t.Before(p.From) {
		return false
	}
	if !p.To.IsZero() && !t.Before(p.To) {
		return false
	}
	return true
}

// IsZero reports whether the period is unbounded at both ends (always valid).
func (p Period) IsZero() bool {
	return p.From.IsZero() && p.To.IsZero()
}
