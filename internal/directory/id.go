package directory

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// ErrInvalidID is wrapped by the errors of ParseID.
var ErrInvalidID = errors.New("invalid authority id")

// policeIDPattern is the form of a police district id.
var policeIDPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)

// ParseID splits an authority id into its kind and code and checks their form:
// "municipality:0851" gives ("municipality", "0851"), "region:1081" gives ("region",
// "1081"), "police:nordjylland" gives ("police", "nordjylland"). The special id
// "gateway" gives (KindGateway, ""). Municipality and region codes must be exactly 4
// digits; district ids are lower-case letters, digits and underscores, starting with a
// letter. ParseID checks the form only, not whether the authority exists.
func ParseID(id string) (kind, code string, err error) {
	if id == GatewayID {
		return KindGateway, "", nil
	}
	kind, code, found := strings.Cut(id, ":")
	if !found {
		return "", "", fmt.Errorf("%w %s: want <kind>:<code> or %q", ErrInvalidID, quoteShort(id), GatewayID)
	}
	switch kind {
	case KindMunicipality, KindRegion:
		if !isFourDigits(code) {
			return "", "", fmt.Errorf("%w %s: a %s code must be exactly 4 digits", ErrInvalidID, quoteShort(id), kind)
		}
	case KindPolice:
		if !policeIDPattern.MatchString(code) {
			return "", "", fmt.Errorf("%w %s: a police district id must match %s", ErrInvalidID, quoteShort(id), policeIDPattern)
		}
	default:
		return "", "", fmt.Errorf("%w %s: kind %s is not %s, %s or %s", ErrInvalidID, quoteShort(id), quoteShort(kind), KindMunicipality, KindRegion, KindPolice)
	}
	return kind, code, nil
}

// isFourDigits reports whether s is exactly 4 ASCII digits.
func isFourDigits(s string) bool {
	if len(s) != 4 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
