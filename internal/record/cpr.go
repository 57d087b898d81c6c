package record

import (
	"errors"
	"fmt"
	"time"
)

// CPRBirthDate returns the birth date encoded in a 10-digit CPR number
// (DDMMYYSSSS, no hyphen). The century comes from the 7th digit and the
// two-digit year, as the CPR office defines it:
//
//	7th digit 0-3:  19YY
//	7th digit 4, 9: 20YY when YY <= 36, else 19YY
//	7th digit 5-8:  20YY when YY <= 57, else 18YY
//
// There is deliberately no modulus-11 check: numbers issued since
// 1 October 2007 need not satisfy it and are fully valid.
func CPRBirthDate(cpr string) (Date, error) {
	if len(cpr) != 10 {
		return Date{}, errors.New("a CPR number has 10 digits")
	}
	var d [10]int
	for i := range 10 {
		ch := cpr[i]
		if ch < '0' || ch > '9' {
			return Date{}, errors.New("a CPR number has only digits")
		}
		d[i] = int(ch - '0')
	}
	day, month, yy, seventh := d[0]*10+d[1], d[2]*10+d[3], d[4]*10+d[5], d[6]
	var year int
	switch {
	case seventh <= 3:
		year = 1900 + yy
	case seventh == 4 || seventh == 9:
		if yy <= 36 {
			year = 2000 + yy
		} else {
			year = 1900 + yy
		}
	default:
		if yy <= 57 {
			year = 2000 + yy
		} else {
			year = 1800 + yy
		}
	}
	t := time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC)
	if month < 1 || month > 12 || day < 1 || t.Day() != day || t.Month() != time.Month(month) {
		return Date{}, fmt.Errorf("the first six digits are not a real date (day %02d, month %02d, year %d)", day, month, year)
	}
	return Date{year, time.Month(month), day}, nil
}
