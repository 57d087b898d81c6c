package directory

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzParse checks that Parse never panics, returns a directory or an error but never
// both, reports an error as a ValidationError, and that whatever it accepts encodes to
// a document it parses back to the same directory, with a stable encoding.
func FuzzParse(f *testing.F) {
	ref := loadRef(f, true)
	// Small, compact seeds: the fuzzer minimises every new interesting input for up
	// to a minute, roughly in proportion to the square of its length, and stalls on
	// the 40 kB generated directory.
	small := smallDocument(f)
	f.Add(small)
	for _, tc := range badCases() {
		if tc.raw != nil {
			if seed := tc.raw(string(small)); seed != string(small) {
				f.Add([]byte(seed))
			}
		}
	}
	f.Add([]byte(`{"version":"directory/v1","generated_at":"2026-01-01T00:00:00Z","authorities":[]}`))
	f.Add([]byte(`{"version":"directory/v1","generated_at":"2026-01-01T00:00:00Z","authorities":[{"id":"police:bornholm","kind":"police","name":"Bornholms Politi","codes":{"police_district":"bornholm","municipality_codes":["0400"]},"cvr":"17143611","format":"police","mailbox":false,"valid":{"to":"2030-01-01T00:00:00+01:00"},"certificates":[]},{"id":"region:1099","kind":"region","name":"Region Østdanmark","codes":{"region_code":"1099"},"cvr":"99990007","format":"region","mailbox":true,"valid":{"from":"2027-01-01T00:00:00+01:00"},"certificates":[]}]}`))
	f.Add([]byte(`{"version":"directory/v1","generated_at":"2026-01-01T00:00:00Z","authorities":[{"id":"region:1081","kind":"region","name":"Region Nordjylland","codes":{"region_code":"1081"},"cvr":"29190941","format":"region","mailbox":true,"valid":{"from":"2020-01-01T00:00:00.5+01:00"},"certificates":[{"use":"tls","spki_sha256":"0000000000000000000000000000000000000000000000000000000000000000","valid":{}}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Parse(data, ref)
		if (d == nil) == (err == nil) {
			t.Fatalf("Parse returned directory %v and error %v", d != nil, err)
		}
		if err != nil {
			var verr *ValidationError
			if !errors.As(err, &verr) || len(verr.Problems) == 0 {
				t.Fatalf("error %v is not a ValidationError with problems", err)
			}
			return
		}
		enc, err := d.Encode()
		if err != nil {
			t.Fatalf("Encode of a parsed directory: %v", err)
		}
		d2, err := Parse(enc, ref)
		if err != nil {
			t.Fatalf("Parse(Encode(d)): %v\n%s", err, enc)
		}
		if diff := cmp.Diff(d, d2, cmpDir); diff != "" {
			t.Fatalf("Parse(Encode(d)) differs (-want +got):\n%s", diff)
		}
		enc2, err := d2.Encode()
		if err != nil || !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding not stable: %v", err)
		}
	})
}

// smallDocument returns a valid compact directory document of one authority with a
// certificate binding.
func smallDocument(t testing.TB) []byte {
	t.Helper()
	full := Generate(loadRef(t, true), generatedAt)
	a, _ := full.Lookup(aalborg)
	a.Certificates = []CertificateBinding{{Use: UseTLS, SPKISHA256: strings.Repeat("ab", 32)}}
	d := &Directory{Version: full.Version, GeneratedAt: full.GeneratedAt, Authorities: []Authority{a}}
	enc, err := d.Encode()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, enc); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
