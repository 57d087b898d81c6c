package refdata

import (
	"errors"
	"fmt"
)

// OutsideMunicipalDivision is the code of Ertholmene (Christiansø), which CPR and DAWA
// use in addresses but which lies outside the municipal and regional division. It is a
// valid residence code with no municipality and no region.
const OutsideMunicipalDivision = "0411"

// ErrInvalidMunicipalityCode is wrapped by the errors of NormalizeMunicipalityCode.
var ErrInvalidMunicipalityCode = errors.New("invalid municipality code")

// ErrInvalidCVR is wrapped by errors about CVR numbers that fail IsValidCVR.
var ErrInvalidCVR = errors.New("invalid CVR number")

// NormalizeMunicipalityCode returns the canonical 4-digit, zero-padded form of a
// municipality code: "101" and "0101" both give "0101". It accepts one to four ASCII
// digits and nothing else (no sign, no spaces). It checks the form only: whether a
// municipality has the code is for Data.Municipality to say.
func NormalizeMunicipalityCode(s string) (string, error) {
	switch {
	case s == "":
		return "", fmt.Errorf("%w %q: must not be empty", ErrInvalidMunicipalityCode, s)
	case len(s) > 4:
		return "", fmt.Errorf("%w %q: must have at most 4 digits", ErrInvalidMunicipalityCode, s)
	case !allDigits(s):
		return "", fmt.Errorf("%w %q: must contain only the digits 0-9", ErrInvalidMunicipalityCode, s)
	}
	return "0000"[len(s):] + s, nil
}

// IsValidCVR reports whether cvr is a well-formed Danish CVR number: exactly 8 ASCII
// digits, not starting with 0, whose modulus-11 check holds (the digits weighted
// 2,7,6,5,4,3,2,1 sum to a multiple of 11, as Danmarks Statistik describes it).
func IsValidCVR(cvr string) bool {
	if len(cvr) != 8 || !allDigits(cvr) || cvr[0] == '0' {
		return false
	}
	weights := [8]int{2, 7, 6, 5, 4, 3, 2, 1}
	sum := 0
	for i, w := range weights {
		sum += w * int(cvr[i]-'0')
	}
	return sum%11 == 0
}

// checkCVR is IsValidCVR with an error that says what is wrong.
func checkCVR(cvr string) error {
	switch {
	case len(cvr) != 8 || !allDigits(cvr):
		return fmt.Errorf("%w %q: must be exactly 8 digits", ErrInvalidCVR, cvr)
	case cvr[0] == '0':
		return fmt.Errorf("%w %q: must not start with 0", ErrInvalidCVR, cvr)
	case !IsValidCVR(cvr):
		return fmt.Errorf("%w %q: fails the modulus-11 check (weights 2,7,6,5,4,3,2,1)", ErrInvalidCVR, cvr)
	}
	return nil
}

// isCanonicalCode reports whether s is exactly 4 ASCII digits.
func isCanonicalCode(s string) bool {
	return len(s) == 4 && allDigits(s)
}

// allDigits reports whether s is non-empty and consists of ASCII digits only.
func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
