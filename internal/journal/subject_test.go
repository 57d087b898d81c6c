package journal

import (
	"bytes"
	"errors"
	"testing"

	"github.com/psykosocial/exchange/internal/record"
)

// testSecret is the secret of the vectors below: bytes 0..31.
func testSecret() []byte {
	s := make([]byte, 32)
	for i := range s {
		s[i] = byte(i)
	}
	return s
}

// The vectors were computed independently with Python's hmac module, so
// that a DPO tool in another language can check its implementation.
func TestSubjectVectors(t *testing.T) {
	k, err := NewSubjectKey(testSecret())
	if err != nil {
		t.Fatal(err)
	}
	if k.ID() != "k78b2419c" {
		t.Fatalf("key id %s", k.ID())
	}
	keys, err := NewSubjectKeys(k)
	if err != nil {
		t.Fatal(err)
	}
	for _, cpr := range []string{"0101901234", "010190-1234"} {
		s, err := keys.CPR(cpr)
		if err != nil {
			t.Fatal(err)
		}
		if s != (Subject{KeyID: "k78b2419c", Ref: "7I7p8RcVYtx6uFYBQrnBdn612ov_3a-J1Y6J2j2xZq8"}) {
			t.Fatalf("CPR %s: %+v", cpr, s)
		}
	}
	birth := record.Date{Year: 1813, Month: 5, Day: 5}
	for _, name := range []string{"Søren Kierkegaard", "  SØREN \t KIERKEGAARD ", "S\u00d8ren  kierkegaard"} {
		s, err := keys.NameAndBirthDate(name, birth)
		if err != nil {
			t.Fatal(err)
		}
		if s.Ref != "b0U37ZGmLW4PEpemWL_HX5ASuTb2H8nbTIM49LF930c" {
			t.Fatalf("name %q and birth date: %+v", name, s)
		}
	}
}

func TestNormalizeName(t *testing.T) {
	for in, want := range map[string]string{
		"Søren Kierkegaard":        "søren kierkegaard",
		"  SØREN \t KIERKEGAARD\n": "søren kierkegaard",
		"So\u0308ren":              "s\u00f6ren", // o + combining diaeresis composes to ö
		"ÆBLE\u00a0GRØD":           "æble grød",  // no-break space is white space
		"":                         "",
		"   ":                      "",
	} {
		if got := NormalizeName(in); got != want {
			t.Errorf("NormalizeName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSubjectErrors(t *testing.T) {
	if _, err := NewSubjectKey(make([]byte, 31)); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("a 31-byte secret: %v", err)
	}
	k, _ := NewSubjectKey(testSecret())
	keys, _ := NewSubjectKeys(k)
	for _, cpr := range []string{"", "123", "3201901234", "01019O1234", "0101901234 "} {
		if _, err := keys.CPR(cpr); !errors.Is(err, ErrInvalidEntry) {
			t.Errorf("CPR %q: %v", cpr, err)
		}
	}
	if _, err := keys.NameAndBirthDate("  ", record.Date{Year: 1990, Month: 1, Day: 1}); !errors.Is(err, ErrInvalidEntry) {
		t.Errorf("empty name: %v", err)
	}
	if _, err := NewSubjectKeys(k, k); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("a repeated key: %v", err)
	}
}

// TestSubjectRotation: after a rotation new references use the new key,
// and a query by CPR looks for the references under every key.
func TestSubjectRotation(t *testing.T) {
	old, _ := NewSubjectKey(testSecret())
	fresh, _ := NewSubjectKey(bytes.Repeat([]byte{7}, 32))
	before, _ := NewSubjectKeys(old)
	after, err := NewSubjectKeys(fresh, old)
	if err != nil {
		t.Fatal(err)
	}
	s1, _ := before.CPR("0101901234")
	s2, _ := after.CPR("0101901234")
	if s1.Ref == s2.Ref || s2.KeyID != fresh.ID() || after.CurrentID() != fresh.ID() {
		t.Fatalf("rotation: %+v %+v", s1, s2)
	}
	refs, err := after.CPRRefs("0101901234")
	if err != nil {
		t.Fatal(err)
	}
	if len(refs) != 2 || refs[0] != s2 || refs[1] != s1 {
		t.Fatalf("CPRRefs = %+v", refs)
	}
	nrefs, err := after.NameAndBirthDateRefs("Ane Hansen", record.Date{Year: 2001, Month: 2, Day: 3})
	if err != nil || len(nrefs) != 2 || nrefs[0].KeyID != fresh.ID() || nrefs[1].KeyID != old.ID() {
		t.Fatalf("NameAndBirthDateRefs = %+v, %v", nrefs, err)
	}
}
