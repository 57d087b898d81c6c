package directory

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/psykosocial/exchange/internal/refdata"
)

// The fields each object of the format may have, in the order they are checked.
var (
	documentFields    = []string{"version", "generated_at", "authorities", "operator"}
	operatorFields    = []string{"name", "cvr", "certificates"}
	authorityFields   = []string{"id", "kind", "name", "codes", "cvr", "format", "mailbox", "valid", "certificates"}
	codesFields       = []string{"municipality_code", "region_code", "police_district", "municipality_codes"}
	periodFields      = []string{"from", "to"}
	certificateFields = []string{"use", "certificate_uuid", "spki_sha256", "valid"}
)

// Load reads and parses the directory file at path; see Parse. The file may be at
// most 4 MiB.
func Load(path string, ref *refdata.Data) (*Directory, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("directory: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxDocumentBytes+1))
	if err != nil {
		return nil, fmt.Errorf("directory: read %s: %w", path, err)
	}
	if len(data) > maxDocumentBytes {
		return nil, fmt.Errorf("directory: %s: larger than the limit of %d bytes", path, maxDocumentBytes)
	}
	d, err := Parse(data, ref)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	return d, nil
}

// Parse decodes and checks a directory document strictly. It rejects invalid UTF-8,
// trailing data, unknown fields (matched exactly: "ID" is not "id"), duplicate keys,
// missing fields and wrong JSON types, and then checks the values: id form and
// uniqueness, kind matching the id, codes of the right shape that exist in ref, CVR
// numbers that pass the modulus-11 check and match ref, known formats and certificate
// uses, ordered validity periods, and certificates bound to one authority only.
//
// All problems are reported together in a *ValidationError (wrapped), each naming the
// authority and field. On error the directory is nil.
func Parse(data []byte, ref *refdata.Data) (*Directory, error) {
	if ref == nil {
		return nil, errors.New("directory: Parse needs reference data")
	}
	rep := &report{}
	doc := rep.newScope(-1)
	switch {
	case len(data) > maxDocumentBytes:
		doc.shape("", "%d bytes, more than the limit of %d", len(data), maxDocumentBytes)
	case !utf8.Valid(data):
		doc.shape("", "not valid UTF-8")
	default:
		dups, err := scanJSON(data)
		if err != nil {
			doc.shape("", "not valid JSON: %v", err)
			break
		}
		d, auths := decodeDocument(data, dups, rep, doc)
		validate(d, ref, doc, auths)
		if len(rep.problems) == 0 {
			d.buildIndex()
			return d, nil
		}
	}
	return nil, fmt.Errorf("directory: %w", &ValidationError{Problems: rep.sorted()})
}

// duplicateKey is where scanJSON found a key twice in one object.
type duplicateKey struct {
	index int    // authority index, or -1 outside the authorities
	field string // path relative to the authority or the document
}

// pathElem is one step of a JSON path: an object key or an array index.
type pathElem struct {
	key   string
	index int
	isKey bool
}

// jsonScan walks a JSON document token by token to find what encoding/json does not
// report: duplicate keys (it keeps the last), nesting that is too deep and trailing
// data.
type jsonScan struct {
	dec  *json.Decoder
	dups []duplicateKey
}

// scanJSON checks that data is one JSON value, nested at most maxDepth levels, and
// returns the duplicate keys it found.
func scanJSON(data []byte) ([]duplicateKey, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	s := &jsonScan{dec: dec}
	if err := s.value(nil); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("empty document")
		}
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("at byte %d: %w", se.Offset, err)
		}
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("trailing data after the document at byte %d", dec.InputOffset())
	}
	return s.dups, nil
}

// value consumes one JSON value at path.
func (s *jsonScan) value(path []pathElem) error {
	tok, err := s.dec.Token()
	if err != nil {
		return err
	}
	delim, ok := tok.(json.Delim)
	if !ok {
		return nil
	}
	if len(path) >= maxDepth {
		return fmt.Errorf("nested deeper than %d levels", maxDepth)
	}
	switch delim {
	case '{':
		seen := map[string]bool{}
		for s.dec.More() {
			tok, err := s.dec.Token()
			if err != nil {
				return err
			}
			key, ok := tok.(string)
			if !ok {
				return fmt.Errorf("object key is %T, not a string", tok)
			}
			if seen[key] {
				s.dups = append(s.dups, locate(append(path, pathElem{key: key, isKey: true})))
			}
			seen[key] = true
			if err := s.value(append(path, pathElem{key: key, isKey: true})); err != nil {
				return err
			}
		}
	case '[':
		for i := 0; s.dec.More(); i++ {
			if err := s.value(append(path, pathElem{index: i})); err != nil {
				return err
			}
		}
	}
	_, err = s.dec.Token() // the closing delimiter
	return err
}

// locate turns a path into an authority index and a field relative to it.
func locate(path []pathElem) duplicateKey {
	if len(path) >= 3 && path[0].isKey && path[0].key == "authorities" && !path[1].isKey {
		return duplicateKey{index: path[1].index, field: formatPath(path[2:])}
	}
	return duplicateKey{index: -1, field: formatPath(path)}
}

// formatPath writes a path as "codes.region_code" or "certificates[0].use".
func formatPath(path []pathElem) string {
	var b strings.Builder
	for i, p := range path {
		if !p.isKey {
			b.WriteString("[" + strconv.Itoa(p.index) + "]")
			continue
		}
		if i > 0 {
			b.WriteString(".")
		}
		b.WriteString(fieldName(p.key))
	}
	return b.String()
}

// plainKey is a key that can appear unquoted in a field path.
var plainKey = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// fieldName returns key for a field path, quoted if it is not plain.
func fieldName(key string) string {
	if plainKey.MatchString(key) {
		return key
	}
	return quoteShort(key)
}

// decodeDocument decodes the JSON shape of a document that scanJSON accepted,
// reporting shape problems. It returns what it could decode and one scope per
// authority.
func decodeDocument(data []byte, dups []duplicateKey, rep *report, doc *scope) (*Directory, []*scope) {
	d := &Directory{}
	byIndex := map[int][]string{}
	for _, k := range dups {
		if k.index < 0 {
			doc.shape(k.field, "duplicate key")
		} else {
			byIndex[k.index] = append(byIndex[k.index], k.field)
		}
	}
	top, ok := asObject(data)
	if !ok {
		doc.shape("", "must be a JSON object, not %s", describe(data))
		return d, nil
	}
	o := object{fields: top, s: doc}
	o.unknown(documentFields)
	d.Version = o.str("version", true)
	d.GeneratedAt = o.time("generated_at", true)
	raws, ok := o.array("authorities", true)
	if !ok {
		return d, nil
	}
	if len(raws) > maxAuthorities {
		doc.shape("authorities", "%d authorities, more than the limit of %d", len(raws), maxAuthorities)
		return d, nil
	}
	d.Authorities = make([]Authority, len(raws))
	auths := make([]*scope, len(raws))
	for i, raw := range raws {
		auths[i] = rep.newScope(i)
		d.Authorities[i] = decodeAuthority(raw, auths[i], byIndex[i])
	}
	if op, ok := o.object("operator", false); ok {
		op.unknown(operatorFields)
		d.Operator = &Operator{Name: op.str("name", true), CVR: op.str("cvr", true)}
		d.Operator.Certificates = decodeBindings(op, "certificates")
	}
	return d, auths
}

// decodeAuthority decodes the JSON shape of one authority, reporting shape problems
// and the duplicate keys scanJSON found in it.
func decodeAuthority(raw json.RawMessage, s *scope, dups []string) Authority {
	var a Authority
	fields, ok := asObject(raw)
	if !ok {
		s.shape("", "must be an object, not %s", describe(raw))
		return a
	}
	// Read the id first so that every problem can name the authority.
	if v, ok := fields["id"]; ok {
		if id, ok := asString(v); ok {
			s.id = id
		}
	}
	for _, f := range dups {
		s.shape(f, "duplicate key")
	}
	o := object{fields: fields, s: s}
	o.unknown(authorityFields)
	a.ID = o.str("id", true)
	a.Kind = o.str("kind", true)
	a.Name = o.str("name", true)
	if c, ok := o.object("codes", true); ok {
		c.unknown(codesFields)
		a.Codes.MunicipalityCode = c.str("municipality_code", false)
		a.Codes.RegionCode = c.str("region_code", false)
		a.Codes.PoliceDistrict = c.str("police_district", false)
		a.Codes.MunicipalityCodes = c.strings("municipality_codes")
	}
	a.CVR = o.str("cvr", true)
	a.Format = o.str("format", true)
	a.Mailbox = o.bool("mailbox", true)
	if v, ok := o.object("valid", true); ok {
		a.Valid = v.period()
	}
	a.Certificates = decodeBindings(o, "certificates")
	return a
}

// decodeBindings decodes the certificate bindings of the array field key
// of o (required), reporting shape problems; nil when it is unreadable.
func decodeBindings(o object, key string) []CertificateBinding {
	raws, ok := o.array(key, true)
	if !ok {
		return nil
	}
	if len(raws) > maxCertificates {
		o.s.shape(o.prefix+key, "%d bindings, more than the limit of %d", len(raws), maxCertificates)
		return nil
	}
	out := make([]CertificateBinding, 0, len(raws))
	for i, raw := range raws {
		prefix := fmt.Sprintf("%s%s[%d]", o.prefix, key, i)
		fields, ok := asObject(raw)
		if !ok {
			o.s.shape(prefix, "must be an object, not %s", describe(raw))
			out = append(out, CertificateBinding{})
			continue
		}
		c := object{fields: fields, s: o.s, prefix: prefix + "."}
		c.unknown(certificateFields)
		var b CertificateBinding
		b.Use = c.str("use", true)
		b.CertificateUUID = c.str("certificate_uuid", false)
		b.SPKISHA256 = c.str("spki_sha256", false)
		if v, ok := c.object("valid", true); ok {
			b.Valid = v.period()
		}
		out = append(out, b)
	}
	return out
}

// object reads the fields of one JSON object, reporting shape problems with field
// paths that start with prefix.
type object struct {
	fields map[string]json.RawMessage
	s      *scope
	prefix string
}

// unknown reports every field not in known, in sorted order.
func (o object) unknown(known []string) {
	var extra []string
	for k := range o.fields {
		if !slices.Contains(known, k) {
			extra = append(extra, k)
		}
	}
	slices.Sort(extra)
	for _, k := range extra {
		o.s.shape(o.prefix+fieldName(k), "unknown field (fields are matched exactly, case included)")
	}
}

// get returns the raw value of key, reporting it missing if required.
func (o object) get(key string, required bool) (json.RawMessage, bool) {
	v, ok := o.fields[key]
	if !ok && required {
		o.s.shape(o.prefix+key, "missing")
	}
	return v, ok
}

// str reads a string field.
func (o object) str(key string, required bool) string {
	v, ok := o.get(key, required)
	if !ok {
		return ""
	}
	s, ok := asString(v)
	if !ok {
		o.s.shape(o.prefix+key, "must be a string, not %s", describe(v))
	}
	return s
}

// bool reads a boolean field.
func (o object) bool(key string, required bool) bool {
	v, ok := o.get(key, required)
	if !ok {
		return false
	}
	switch string(bytes.TrimSpace(v)) {
	case "true":
		return true
	case "false":
		return false
	}
	o.s.shape(o.prefix+key, "must be true or false, not %s", describe(v))
	return false
}

// time reads an RFC 3339 timestamp field.
func (o object) time(key string, required bool) time.Time {
	v, ok := o.get(key, required)
	if !ok {
		return time.Time{}
	}
	s, ok := asString(v)
	if !ok {
		o.s.shape(o.prefix+key, "must be an RFC 3339 timestamp string, not %s", describe(v))
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		o.s.shape(o.prefix+key, "%s is not an RFC 3339 timestamp with an offset, such as 2027-01-01T00:00:00+01:00", quoteShort(s))
		return time.Time{}
	}
	return t
}

// object reads an object field.
func (o object) object(key string, required bool) (object, bool) {
	v, ok := o.get(key, required)
	if !ok {
		return object{}, false
	}
	fields, ok := asObject(v)
	if !ok {
		o.s.shape(o.prefix+key, "must be an object, not %s", describe(v))
		return object{}, false
	}
	return object{fields: fields, s: o.s, prefix: o.prefix + key + "."}, true
}

// array reads an array field.
func (o object) array(key string, required bool) ([]json.RawMessage, bool) {
	v, ok := o.get(key, required)
	if !ok {
		return nil, false
	}
	if firstByte(v) != '[' {
		o.s.shape(o.prefix+key, "must be an array, not %s", describe(v))
		return nil, false
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(v, &raws); err != nil {
		o.s.shape(o.prefix+key, "unreadable array: %v", err)
		return nil, false
	}
	return raws, true
}

// strings reads an optional array of strings; it is nil when absent and non-nil
// when present.
func (o object) strings(key string) []string {
	raws, ok := o.array(key, false)
	if !ok {
		return nil
	}
	out := make([]string, 0, len(raws))
	for i, v := range raws {
		s, ok := asString(v)
		if !ok {
			o.s.shape(fmt.Sprintf("%s%s[%d]", o.prefix, key, i), "must be a string, not %s", describe(v))
		}
		out = append(out, s)
	}
	return out
}

// period reads the fields of a validity period.
func (o object) period() refdata.Period {
	o.unknown(periodFields)
	return refdata.Period{From: o.time("from", false), To: o.time("to", false)}
}

// asObject decodes raw if it is a JSON object.
func asObject(raw []byte) (map[string]json.RawMessage, bool) {
	if firstByte(raw) != '{' {
		return nil, false
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, false
	}
	return m, true
}

// asString decodes raw if it is a JSON string (not null).
func asString(raw []byte) (string, bool) {
	if firstByte(raw) != '"' {
		return "", false
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

// firstByte returns the first non-space byte of raw, or 0.
func firstByte(raw []byte) byte {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	if len(raw) == 0 {
		return 0
	}
	return raw[0]
}

// describe names the JSON type of raw for messages.
func describe(raw []byte) string {
	switch c := firstByte(raw); {
	case c == '{':
		return "an object"
	case c == '[':
		return "an array"
	case c == '"':
		return "a string"
	case c == 't' || c == 'f':
		return "a boolean"
	case c == 'n':
		return "null"
	case c == '-' || (c >= '0' && c <= '9'):
		return "a number"
	}
	return "nothing"
}
