package clock

import (
	"sync"
	"time"
	_ "time/tzdata" // the binary carries its zone data: Danish calendar days need no host files
)

// danishZone is the IANA zone of Danish civil time.
const danishZone = "Europe/Copenhagen"

var loadDanish = sync.OnceValue(func() *time.Location {
	loc, err := time.LoadLocation(danishZone)
	if err != nil {
		// time/tzdata is embedded, so this cannot happen in a built binary.
		panic("clock: " + danishZone + " is missing from the embedded zone data: " + err.Error())
	}
	return loc
})

// Danish is the location of Danish civil time (Europe/Copenhagen: CET, and
// CEST in summer), in which the calendar rules are judged.
func Danish() *time.Location { return loadDanish() }

// DanishDay is the Danish calendar day of instant t: 2026-12-31T23:30:00Z
// is 1 January 2027 in Denmark.
func DanishDay(t time.Time) (year int, month time.Month, day int) {
	return t.In(Danish()).Date()
}

// DanishMidnight is the instant at which the Danish calendar day
// year-month-day begins.
func DanishMidnight(year int, month time.Month, day int) time.Time {
	return time.Date(year, month, day, 0, 0, 0, 0, Danish())
}
