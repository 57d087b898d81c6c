package journal

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/psykosocial/exchange/internal/record"
)

// subjectKeyIDLen is the length of a SubjectKey.ID: "k" and 8 hex digits.
const subjectKeyIDLen = 9

// subjectKeyIDLabel separates the key id derivation from any other use of the secret.
const subjectKeyIDLabel = "psykosocial journal subject key id v1\n"

// SubjectKey is one HMAC secret for subject references, as the key provider
// hands it out (at least 32 bytes).
type SubjectKey struct {
	secret []byte
	id     string
}

// NewSubjectKey checks secret and derives its id. The id is "k" followed by
// the first 8 hex digits of SHA-256(label || secret): it names the secret in
// every entry without revealing it, and two different secrets never share
// an id by accident. The secret is copied.
func NewSubjectKey(secret []byte) (SubjectKey, error) {
	if len(secret) < minSubjectSecretBytes || len(secret) > maxSubjectSecretBytes {
		return SubjectKey{}, fmt.Errorf("%w: the subject HMAC secret must be %d to %d bytes, got %d",
			ErrInvalidKey, minSubjectSecretBytes, maxSubjectSecretBytes, len(secret))
	}
	sum := sha256.Sum256(append([]byte(subjectKeyIDLabel), secret...))
	return SubjectKey{secret: append([]byte(nil), secret...), id: "k" + hex.EncodeToString(sum[:4])}, nil
}

// ID names the key in entries (Subject.KeyID).
func (k SubjectKey) ID() string { return k.id }

func (k SubjectKey) ref(msg string) Subject {
	m := hmac.New(sha256.New, k.secret)
	m.Write([]byte(msg))
	return Subject{KeyID: k.id, Ref: base64.RawURLEncoding.EncodeToString(m.Sum(nil))}
}

// SubjectKeys computes subject references. The current key makes the
// references of new entries; previous keys are kept so that a query by CPR
// finds the entries written before a rotation (see README.md, "Rotating the
// subject key").
type SubjectKeys struct {
	current  SubjectKey
	previous []SubjectKey
}

// NewSubjectKeys returns the key ring with current as the key for new
// entries and previous (newest first) for queries only.
func NewSubjectKeys(current SubjectKey, previous ...SubjectKey) (*SubjectKeys, error) {
	if current.id == "" {
		return nil, fmt.Errorf("%w: no current subject key", ErrInvalidKey)
	}
	seen := map[string]bool{current.id: true}
	for _, p := range previous {
		if p.id == "" || seen[p.id] {
			return nil, fmt.Errorf("%w: a previous subject key is missing or repeated", ErrInvalidKey)
		}
		seen[p.id] = true
	}
	return &SubjectKeys{current: current, previous: append([]SubjectKey(nil), previous...)}, nil
}

// CurrentID is the id of the key new references are made with.
func (s *SubjectKeys) CurrentID() string { return s.current.id }

// CPR returns the reference of a CPR number under the current key: the
// HMAC-SHA-256 of its 10 digits (a hyphen after the sixth digit is removed
// first). The number must be 10 digits beginning with a real date.
func (s *SubjectKeys) CPR(cpr string) (Subject, error) {
	c, err := canonicalCPR(cpr)
	if err != nil {
		return Subject{}, err
	}
	return s.current.ref(c), nil
}

// NameAndBirthDate returns the reference of a person without a CPR number
// under the current key: the HMAC-SHA-256 of NormalizeName(name) + "|" +
// the ISO birth date (YYYY-MM-DD).
func (s *SubjectKeys) NameAndBirthDate(name string, birth record.Date) (Subject, error) {
	m, err := nameMessage(name, birth)
	if err != nil {
		return Subject{}, err
	}
	return s.current.ref(m), nil
}

// CPRRefs returns the references of a CPR number under every key, current
// first: the subjects a query by CPR must look for.
func (s *SubjectKeys) CPRRefs(cpr string) ([]Subject, error) {
	c, err := canonicalCPR(cpr)
	if err != nil {
		return nil, err
	}
	return s.all(c), nil
}

// NameAndBirthDateRefs returns the references of a name and birth date
// under every key, current first.
func (s *SubjectKeys) NameAndBirthDateRefs(name string, birth record.Date) ([]Subject, error) {
	m, err := nameMessage(name, birth)
	if err != nil {
		return nil, err
	}
	return s.all(m), nil
}

func (s *SubjectKeys) all(msg string) []Subject {
	out := []Subject{s.current.ref(msg)}
	for _, k := range s.previous {
		out = append(out, k.ref(msg))
	}
	return out
}

func canonicalCPR(cpr string) (string, error) {
	if len(cpr) == 11 && cpr[6] == '-' {
		cpr = cpr[:6] + cpr[7:]
	}
	if _, err := record.CPRBirthDate(cpr); err != nil {
		return "", fmt.Errorf("%w: not a CPR number: %w", ErrInvalidEntry, err)
	}
	return cpr, nil
}

func nameMessage(name string, birth record.Date) (string, error) {
	if len(name) > maxSubjectNameBytes {
		return "", fmt.Errorf("%w: the name is longer than %d bytes", ErrInvalidEntry, maxSubjectNameBytes)
	}
	n := NormalizeName(name)
	if n == "" {
		return "", fmt.Errorf("%w: the name is empty", ErrInvalidEntry)
	}
	if birth.Year < 1 || birth.Year > 9999 || birth.Month < 1 || birth.Month > 12 || birth.Day < 1 || birth.Day > 31 {
		return "", fmt.Errorf("%w: the birth date is not a date", ErrInvalidEntry)
	}
	return n + "|" + birth.String(), nil
}

// NormalizeName is the name form that subject references are computed
// from: Unicode NFC, lower case, every run of white space replaced by one
// space, trimmed (and NFC once more, since lower-casing may decompose).
// "  Søren   KIERKEGAARD " becomes "søren kierkegaard".
func NormalizeName(name string) string {
	s := strings.ToLower(norm.NFC.String(name))
	s = strings.Join(strings.FieldsFunc(s, unicode.IsSpace), " ")
	return norm.NFC.String(s)
}
