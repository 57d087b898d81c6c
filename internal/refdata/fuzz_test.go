package refdata

import (
	"strconv"
	"testing"
)

// FuzzNormalizeMunicipalityCode checks that a normalised code is 4 ASCII digits with
// the same numeric value as the input, that normalising is idempotent, and that an
// error comes with an empty result.
func FuzzNormalizeMunicipalityCode(f *testing.F) {
	for _, seed := range []string{"101", "0101", "411", "0", "", "00101", "1O1", " 1", "-1", "١٠١", "9999"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := NormalizeMunicipalityCode(in)
		if err != nil {
			if got != "" {
				t.Fatalf("NormalizeMunicipalityCode(%q) = %q with error %v", in, got, err)
			}
			return
		}
		if !isCanonicalCode(got) {
			t.Fatalf("NormalizeMunicipalityCode(%q) = %q, not 4 digits", in, got)
		}
		again, err := NormalizeMunicipalityCode(got)
		if err != nil || again != got {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", in, got, again, err)
		}
		a, errA := strconv.Atoi(in)
		b, errB := strconv.Atoi(got)
		if errA != nil || errB != nil || a != b || a < 0 {
			t.Fatalf("%q -> %q changes the value (%d, %v; %d, %v)", in, got, a, errA, b, errB)
		}
	})
}
