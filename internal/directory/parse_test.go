package directory

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// baseDocument returns a valid encoded directory with east configured and two
// certificate bindings on municipality:0851.
func baseDocument(t testing.TB) []byte {
	t.Helper()
	d := Generate(loadRef(t, true), generatedAt)
	i := d.find("municipality:0851")
	d.Authorities[i].Certificates = []CertificateBinding{
		{Use: UseSigning, CertificateUUID: "7d0c9e1a-2b3c-4d5e-8f90-a1b2c3d4e5f6"},
		{Use: UseTLS, SPKISHA256: strings.Repeat("ab", 32)},
	}
	d.Operator = &Operator{Name: "Gateway operator", CVR: "29189420", Certificates: []CertificateBinding{
		{Use: UseDPO, CertificateUUID: "0d0c9e1a-2b3c-4d5e-8f90-a1b2c3d4e5f6"},
	}}
	enc, err := d.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return enc
}

// mutate decodes doc generically, applies edit and encodes it again.
func mutate(t testing.TB, doc []byte, edit func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(doc, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// authority returns the generic object of the authority with the given id.
func authority(m map[string]any, id string) map[string]any {
	for _, a := range m["authorities"].([]any) {
		if a := a.(map[string]any); a["id"] == id {
			return a
		}
	}
	panic("no authority " + id)
}

// set returns an edit that sets key in the object of authority id (path through
// nested objects separated by dots).
func set(id, path string, v any) func(map[string]any) {
	return func(m map[string]any) {
		obj := authority(m, id)
		keys := strings.Split(path, ".")
		for _, k := range keys[:len(keys)-1] {
			obj = obj[k].(map[string]any)
		}
		obj[keys[len(keys)-1]] = v
	}
}

// del returns an edit that removes key from the object of authority id.
func del(id, path string) func(map[string]any) {
	return func(m map[string]any) {
		obj := authority(m, id)
		keys := strings.Split(path, ".")
		for _, k := range keys[:len(keys)-1] {
			obj = obj[k].(map[string]any)
		}
		delete(obj, keys[len(keys)-1])
	}
}

func edits(es ...func(map[string]any)) func(map[string]any) {
	return func(m map[string]any) {
		for _, e := range es {
			e(m)
		}
	}
}

const aalborg = "municipality:0851"

type badCase struct {
	name string
	// Exactly one of edit and raw is set: edit changes the decoded base document,
	// raw changes its text.
	edit func(map[string]any)
	raw  func(string) string
	// The problem that must be reported: its authority id ("" for the document or an
	// authority without id), field and a part of its message.
	authority, field, message string
	// schema reports whether the JSON Schema rejects the document too.
	schema bool
}

func badCases() []badCase {
	return []badCase{
		// Unknown and misspelt fields.
		{name: "unknown field", edit: set(aalborg, "colour", "red"), authority: aalborg, field: "colour", message: "unknown field", schema: true},
		{name: "field in other case", edit: edits(del(aalborg, "cvr"), set(aalborg, "CVR", "29189420")), authority: aalborg, field: "CVR", message: "unknown field", schema: true},
		{name: "unknown top-level field", edit: func(m map[string]any) { m["comment"] = "x" }, field: "comment", message: "unknown field", schema: true},
		{name: "unknown field in codes", edit: set(aalborg, "codes.dagi_id", "1"), authority: aalborg, field: "codes.dagi_id", message: "unknown field", schema: true},
		{name: "unknown field in valid", edit: set(aalborg, "valid.until", "2027-01-01T00:00:00Z"), authority: aalborg, field: "valid.until", message: "unknown field", schema: true},
		{name: "unknown field in binding", edit: func(m map[string]any) {
			authority(m, aalborg)["certificates"].([]any)[0].(map[string]any)["pem"] = "x"
		}, authority: aalborg, field: "certificates[0].pem", message: "unknown field", schema: true},
		// Missing fields and wrong types.
		{name: "missing name", edit: del(aalborg, "name"), authority: aalborg, field: "name", message: "missing", schema: true},
		{name: "missing id", edit: del(aalborg, "id"), field: "id", message: "missing", schema: true},
		{name: "missing valid", edit: del(aalborg, "valid"), authority: aalborg, field: "valid", message: "missing", schema: true},
		{name: "missing certificates", edit: del(aalborg, "certificates"), authority: aalborg, field: "certificates", message: "missing", schema: true},
		{name: "null name", edit: set(aalborg, "name", nil), authority: aalborg, field: "name", message: "must be a string, not null", schema: true},
		{name: "cvr as number", edit: set(aalborg, "cvr", 29189420), authority: aalborg, field: "cvr", message: "must be a string, not a number", schema: true},
		{name: "mailbox as string", edit: set(aalborg, "mailbox", "yes"), authority: aalborg, field: "mailbox", message: "must be true or false", schema: true},
		{name: "codes as string", edit: set(aalborg, "codes", "0851"), authority: aalborg, field: "codes", message: "must be an object", schema: true},
		{name: "authority as string", edit: func(m map[string]any) { m["authorities"].([]any)[0] = "municipality:0101" }, field: "", message: "must be an object", schema: true},
		{name: "municipality code as number", edit: set(aalborg, "codes.municipality_code", 851), authority: aalborg, field: "codes.municipality_code", message: "must be a string", schema: true},
		{name: "police codes not strings", edit: set("police:bornholm", "codes.municipality_codes", []any{400}), authority: "police:bornholm", field: "codes.municipality_codes[0]", message: "must be a string", schema: true},
		// Ids and kinds.
		{name: "unknown kind", edit: set(aalborg, "kind", "county"), authority: aalborg, field: "kind", message: `"county" is not one of`, schema: true},
		{name: "kind does not match id", edit: set(aalborg, "kind", KindRegion), authority: aalborg, field: "id", message: `prefix "municipality" does not match kind "region"`, schema: true},
		{name: "malformed id", edit: set(aalborg, "id", "municipality:851"), authority: "municipality:851", field: "id", message: "exactly 4 digits", schema: true},
		{name: "gateway listed", edit: set(aalborg, "id", "gateway"), authority: "gateway", field: "id", message: "gateway itself", schema: true},
		{name: "duplicate id", edit: func(m map[string]any) {
			as := m["authorities"].([]any)
			m["authorities"] = append(as, authority(m, aalborg))
		}, authority: aalborg, field: "id", message: "duplicate of authorities[", schema: false},
		// Codes.
		{name: "unknown municipality", edit: edits(set(aalborg, "codes.municipality_code", "0852"), set(aalborg, "id", "municipality:0852")), authority: "municipality:0852", field: "codes.municipality_code", message: "no municipality 0852", schema: false},
		{name: "Ertholmene", edit: edits(set(aalborg, "codes.municipality_code", "0411"), set(aalborg, "id", "municipality:0411")), authority: "municipality:0411", field: "codes.municipality_code", message: "outside the municipal division", schema: false},
		{name: "code differs from id", edit: set(aalborg, "codes.municipality_code", "0101"), authority: aalborg, field: "codes.municipality_code", message: `"0101" differs from "0851" in the id`, schema: false},
		{name: "non-canonical code", edit: set(aalborg, "codes.municipality_code", "851"), authority: aalborg, field: "codes.municipality_code", message: "exactly 4 digits", schema: true},
		{name: "code of another kind", edit: set(aalborg, "codes.region_code", "1081"), authority: aalborg, field: "codes.region_code", message: `not allowed for kind "municipality"`, schema: true},
		{name: "missing municipality code", edit: del(aalborg, "codes.municipality_code"), authority: aalborg, field: "codes.municipality_code", message: "missing", schema: true},
		{name: "unknown region", edit: edits(set("region:1081", "codes.region_code", "1089"), set("region:1081", "id", "region:1089")), authority: "region:1089", field: "codes.region_code", message: "no region 1089", schema: false},
		{name: "unknown police district", edit: edits(set("police:bornholm", "codes.police_district", "christiansoe"), set("police:bornholm", "id", "police:christiansoe")), authority: "police:christiansoe", field: "codes.police_district", message: `no police district "christiansoe"`, schema: false},
		{name: "district misses a municipality", edit: set("police:koebenhavn", "codes.municipality_codes", []any{"0101", "0147", "0185"}), authority: "police:koebenhavn", field: "codes.municipality_codes", message: "missing [0155]", schema: false},
		{name: "district has an extra municipality", edit: set("police:bornholm", "codes.municipality_codes", []any{"0400", "0411"}), authority: "police:bornholm", field: "codes.municipality_codes", message: "not in the district [0411]", schema: false},
		{name: "district repeats a municipality", edit: set("police:bornholm", "codes.municipality_codes", []any{"0400", "0400"}), authority: "police:bornholm", field: "codes.municipality_codes[1]", message: "repeats", schema: true},
		{name: "district without municipalities", edit: set("police:bornholm", "codes.municipality_codes", []any{}), authority: "police:bornholm", field: "codes.municipality_codes", message: "missing or empty", schema: true},
		// CVR numbers.
		{name: "cvr check digit", edit: set(aalborg, "cvr", "29189421"), authority: aalborg, field: "cvr", message: "fails the modulus-11 check", schema: false},
		{name: "cvr too short", edit: set(aalborg, "cvr", "2918942"), authority: aalborg, field: "cvr", message: "exactly 8 digits", schema: true},
		{name: "cvr leading zero", edit: set(aalborg, "cvr", "02918942"), authority: aalborg, field: "cvr", message: "must not start with 0", schema: true},
		{name: "cvr of another authority", edit: set(aalborg, "cvr", "29189382"), authority: aalborg, field: "cvr", message: "differs from 29189420, the CVR number of Aalborg Kommune", schema: false},
		{name: "police cvr not Rigspolitiet's", edit: set("police:fyn", "cvr", "29189420"), authority: "police:fyn", field: "cvr", message: "of Rigspolitiet", schema: false},
		// Other values.
		{name: "unknown format", edit: set(aalborg, "format", "soap"), authority: aalborg, field: "format", message: `"soap" is not one of`, schema: true},
		{name: "blank name", edit: set(aalborg, "name", "  "), authority: aalborg, field: "name", message: "missing or blank", schema: false},
		{name: "name with newline", edit: set(aalborg, "name", "Aalborg\nKommune"), authority: aalborg, field: "name", message: "control characters", schema: false},
		{name: "period reversed", edit: set(aalborg, "valid", map[string]any{"from": "2027-01-01T00:00:00+01:00", "to": "2026-01-01T00:00:00+01:00"}), authority: aalborg, field: "valid", message: "is not before to", schema: false},
		{name: "empty period", edit: set(aalborg, "valid", map[string]any{"from": "2027-01-01T00:00:00+01:00", "to": "2026-12-31T23:00:00Z"}), authority: aalborg, field: "valid", message: "is not before to", schema: false},
		{name: "date without time", edit: set(aalborg, "valid", map[string]any{"from": "2027-01-01"}), authority: aalborg, field: "valid.from", message: "not an RFC 3339 timestamp", schema: true},
		{name: "time without offset", edit: set(aalborg, "valid", map[string]any{"to": "2027-01-01T00:00:00"}), authority: aalborg, field: "valid.to", message: "not an RFC 3339 timestamp", schema: true},
		{name: "null bound", edit: set(aalborg, "valid", map[string]any{"to": nil}), authority: aalborg, field: "valid.to", message: "not null", schema: true},
		// Certificate bindings.
		{name: "binding without identifier", edit: set(aalborg, "certificates", []any{map[string]any{"use": "signing", "valid": map[string]any{}}}), authority: aalborg, field: "certificates[0]", message: "needs certificate_uuid or spki_sha256", schema: true},
		{name: "binding use", edit: set(aalborg, "certificates", []any{map[string]any{"use": "auth", "spki_sha256": strings.Repeat("ab", 32), "valid": map[string]any{}}}), authority: aalborg, field: "certificates[0].use", message: `"auth" is not one of`, schema: true},
		{name: "binding without valid", edit: set(aalborg, "certificates", []any{map[string]any{"use": "tls", "spki_sha256": strings.Repeat("ab", 32)}}), authority: aalborg, field: "certificates[0].valid", message: "missing", schema: true},
		{name: "upper-case uuid", edit: set(aalborg, "certificates", []any{map[string]any{"use": "tls", "certificate_uuid": "7D0C9E1A-2B3C-4D5E-8F90-A1B2C3D4E5F6", "valid": map[string]any{}}}), authority: aalborg, field: "certificates[0].certificate_uuid", message: "lower-case UUID", schema: true},
		{name: "uuid with prefix", edit: set(aalborg, "certificates", []any{map[string]any{"use": "tls", "certificate_uuid": "UI:DK-O:G:7d0c9e1a-2b3c-4d5e-8f90-a1b2c3d4e5f6", "valid": map[string]any{}}}), authority: aalborg, field: "certificates[0].certificate_uuid", message: "lower-case UUID", schema: true},
		{name: "short spki", edit: set(aalborg, "certificates", []any{map[string]any{"use": "tls", "spki_sha256": "abcd", "valid": map[string]any{}}}), authority: aalborg, field: "certificates[0].spki_sha256", message: "64 lower-case hex", schema: true},
		{name: "same binding twice", edit: set(aalborg, "certificates", []any{
			map[string]any{"use": "tls", "spki_sha256": strings.Repeat("ab", 32), "valid": map[string]any{}},
			map[string]any{"use": "tls", "spki_sha256": strings.Repeat("ab", 32), "valid": map[string]any{"from": "2026-01-01T00:00:00Z"}},
		}), authority: aalborg, field: "certificates[1]", message: "same certificate", schema: false},
		{name: "certificate bound to two authorities", edit: set("police:fyn", "certificates", []any{map[string]any{"use": "signing", "certificate_uuid": "7d0c9e1a-2b3c-4d5e-8f90-a1b2c3d4e5f6", "valid": map[string]any{}}}), authority: "police:fyn", field: "certificates[0].certificate_uuid", message: `already bound to authority "municipality:0851"`, schema: false},
		{name: "too many bindings", edit: func(m map[string]any) {
			var cs []any
			for i := range maxCertificates + 1 {
				cs = append(cs, map[string]any{"use": "tls", "spki_sha256": fmt.Sprintf("%064x", i), "valid": map[string]any{}})
			}
			set(aalborg, "certificates", cs)(m)
		}, authority: aalborg, field: "certificates", message: "more than the limit", schema: true},
		// The document.
		{name: "wrong version", edit: func(m map[string]any) { m["version"] = "directory/v2" }, field: "version", message: `"directory/v2", want "directory/v1"`, schema: true},
		{name: "missing generated_at", edit: func(m map[string]any) { delete(m, "generated_at") }, field: "generated_at", message: "missing", schema: true},
		{name: "authorities not an array", edit: func(m map[string]any) { m["authorities"] = map[string]any{} }, field: "authorities", message: "must be an array", schema: true},
		// Raw text.
		{name: "duplicate key", raw: func(s string) string {
			return strings.Replace(s, `"cvr": "29189420",`, `"cvr": "29189420", "cvr": "29189420",`, 1)
		}, authority: aalborg, field: "cvr", message: "duplicate key"},
		{name: "duplicate key in codes", raw: func(s string) string {
			return strings.Replace(s, `"region_code": "1081"`, `"region_code": "1081", "region_code": "1082"`, 1)
		}, authority: "region:1081", field: "codes.region_code", message: "duplicate key"},
		{name: "duplicate top-level key", raw: func(s string) string {
			return strings.Replace(s, `"version": "directory/v1",`, `"version": "directory/v1", "version": "directory/v1",`, 1)
		}, field: "version", message: "duplicate key"},
		{name: "trailing data", raw: func(s string) string { return s + "{}" }, message: "trailing data"},
		{name: "syntax error", raw: func(s string) string { return strings.Replace(s, `"mailbox": true,`, `"mailbox": true,,`, 1) }, message: "not valid JSON"},
		{name: "invalid UTF-8", raw: func(s string) string { return strings.Replace(s, "Aalborg Kommune", "Aalborg \xff", 1) }, message: "not valid UTF-8"},
		{name: "too deep", raw: func(s string) string {
			return strings.Replace(s, `"mailbox": true,`, `"mailbox": true, "x": [[[[[[[[]]]]]]]],`, 1)
		}, message: "nested deeper than"},
		{name: "empty", raw: func(string) string { return "" }, message: "empty document"},
		// The operator's entry.
		{name: "operator binds a TLS certificate", edit: func(m map[string]any) {
			m["operator"].(map[string]any)["certificates"].([]any)[0].(map[string]any)["use"] = UseTLS
		}, field: "operator.certificates[0].use", message: `is not "dpo"`},
		{name: "operator without cvr", edit: func(m map[string]any) { delete(m["operator"].(map[string]any), "cvr") }, field: "operator.cvr", message: "missing", schema: true},
		{name: "operator cvr fails modulus 11", edit: func(m map[string]any) { m["operator"].(map[string]any)["cvr"] = "29189421" }, field: "operator.cvr", message: "modulus-11"},
		{name: "unknown field in operator", edit: func(m map[string]any) { m["operator"].(map[string]any)["mailbox"] = true }, field: "operator.mailbox", message: "unknown field", schema: true},
		{name: "operator certificate bound to an authority too", edit: func(m map[string]any) {
			m["operator"].(map[string]any)["certificates"].([]any)[0].(map[string]any)["certificate_uuid"] = "7d0c9e1a-2b3c-4d5e-8f90-a1b2c3d4e5f6"
		}, field: "operator.certificates[0].certificate_uuid", message: "already bound to authority"},
		{name: "top-level array", raw: func(string) string { return "[]" }, message: "must be a JSON object, not an array"},
		{name: "top-level null", raw: func(string) string { return "null" }, message: "must be a JSON object, not null"},
	}
}

func TestParseRejects(t *testing.T) {
	ref := loadRef(t, true)
	base := baseDocument(t)
	if _, err := Parse(base, ref); err != nil {
		t.Fatalf("base document: %v", err)
	}
	schema := compileSchema(t)
	for _, tc := range badCases() {
		t.Run(tc.name, func(t *testing.T) {
			doc := tc.apply(t, base)
			d, err := Parse(doc, ref)
			if err == nil {
				t.Fatal("Parse succeeded")
			}
			if d != nil {
				t.Error("directory returned with an error")
			}
			var verr *ValidationError
			if !errors.As(err, &verr) {
				t.Fatalf("error %v is not a ValidationError", err)
			}
			if !tc.found(verr.Problems) {
				t.Errorf("no problem with authority %q, field %q, message containing %q in:\n%s", tc.authority, tc.field, tc.message, strings.Join(problemStrings(verr.Problems), "\n"))
			}
			if tc.authority != "" && !strings.Contains(err.Error(), fmt.Sprintf("authority %q", tc.authority)) {
				t.Errorf("error %q does not name authority %q", err, tc.authority)
			}
			if tc.edit != nil {
				if got := schemaValid(t, schema, doc); got == tc.schema {
					t.Errorf("schema accepts the document: %v; want %v", got, !tc.schema)
				}
			}
		})
	}
}

func (tc badCase) apply(t *testing.T, base []byte) []byte {
	t.Helper()
	if tc.edit != nil {
		return mutate(t, base, tc.edit)
	}
	doc := tc.raw(string(base))
	if doc == string(base) {
		t.Fatal("raw edit changed nothing")
	}
	return []byte(doc)
}

func (tc badCase) found(ps []Problem) bool {
	for _, p := range ps {
		if p.Authority == tc.authority && p.Field == tc.field && strings.Contains(p.Message, tc.message) {
			return true
		}
	}
	return false
}

func problemStrings(ps []Problem) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.String())
	}
	return out
}

func TestParseReportsAllProblems(t *testing.T) {
	ref := loadRef(t, true)
	doc := mutate(t, baseDocument(t), edits(
		set(aalborg, "cvr", "29189421"),
		set("region:1081", "format", "soap"),
		set("police:fyn", "mailbox", nil),
		func(m map[string]any) { m["version"] = "v1" },
	))
	_, err := Parse(doc, ref)
	var verr *ValidationError
	if !errors.As(err, &verr) {
		t.Fatalf("Parse: %v", err)
	}
	want := []string{
		`document: version: "v1", want "directory/v1"`,
		`authority "municipality:0851" (authorities[96]): cvr: 29189421 fails the modulus-11 check (weights 2,7,6,5,4,3,2,1)`,
		`authority "police:fyn" (authorities[99]): mailbox: must be true or false, not null`,
		`authority "region:1081" (authorities[110]): format: "soap" is not one of "region", "municipality", "police"`,
	}
	if got := problemStrings(verr.Problems); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "directory: invalid directory document: 4 problems: document: version") {
		t.Errorf("error %q", msg)
	}
}

func TestParseEastRegionNeedsConfiguration(t *testing.T) {
	doc, err := Generate(loadRef(t, true), generatedAt).Encode()
	if err != nil {
		t.Fatal(err)
	}
	_, err = Parse(doc, loadRef(t, false))
	if err == nil || !strings.Contains(err.Error(), `authority "region:1099"`) || !strings.Contains(err.Error(), "no region 1099") {
		t.Errorf("Parse with Østdanmark unconfigured: %v", err)
	}
}

func TestParseLimitsProblemsInMessage(t *testing.T) {
	ref := loadRef(t, false)
	doc := mutate(t, baseDocument(t), func(m map[string]any) {
		for _, a := range m["authorities"].([]any) {
			a.(map[string]any)["format"] = "soap"
		}
	})
	_, err := Parse(doc, ref)
	var verr *ValidationError
	if !errors.As(err, &verr) || len(verr.Problems) < 116 {
		t.Fatalf("Parse: %v", err)
	}
	if !strings.Contains(err.Error(), fmt.Sprintf("; and %d more", len(verr.Problems)-maxReportedProblems)) {
		t.Errorf("message not cut: %d bytes", len(err.Error()))
	}
}

func TestParseNeedsReferenceData(t *testing.T) {
	if d, err := Parse(baseDocument(t), nil); err == nil || d != nil {
		t.Errorf("Parse without reference data: %v, %v", d, err)
	}
}
