package journal

import (
	"bytes"
	"encoding/base64"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/psykosocial/exchange/internal/record"
)

// LeafVersion is the version of the leaf encoding that MarshalLeaf writes.
//
// THE BYTES OF A VERSION NEVER CHANGE. Leaves already in a journal are
// hashed into signed checkpoints; an encoder that wrote them differently
// would make every existing journal fail verification. A new field or rule
// is a new version with its own "journal_entry" number, and ParseLeaf keeps
// reading every older one. TestLeafGolden pins version 1 byte for byte.
const LeafVersion = 1

// timeLayout is the leaf's time format: UTC, always six fractional digits.
const timeLayout = "2006-01-02T15:04:05.000000Z"

// The members of a version 1 leaf, in their fixed order. Every member is
// always present; an absent string is "", an absent version 0, no field
// paths [].
var leafV1Keys = [...]string{
	`{"journal_entry":`, `,"seq":`, `,"time":`, `,"event":`, `,"actor":`, `,"counterpart":`,
	`,"recipient_role":`, `,"purpose":`, `,"record_id":`, `,"record_version":`,
	`,"message_id":`, `,"incident_id":`, `,"subject":`, `,"subject_key":`,
	`,"consent_rule":`, `,"policy_version":`, `,"consent_basis":`, `,"legal_basis":`,
	`,"consent_clause":`, `,"consent_check":`, `,"given_by":`, `,"fields":`,
	`,"payload_digest":`, `,"outcome":`, `,"reason":`,
}

// MarshalLeaf returns the canonical leaf bytes (version 1) of e, after
// checking the entry rules; e.Time must be UTC with at most microsecond
// precision and Fields sorted without duplicates.
//
// The encoding is JSON with a fixed shape that any language can reproduce:
//   - one object, no white space, members exactly in the order
//     journal_entry, seq, time, event, actor, counterpart, recipient_role,
//     purpose, record_id, record_version, message_id, incident_id, subject,
//     subject_key, consent_rule, policy_version, consent_basis, legal_basis,
//     consent_clause, consent_check, given_by, fields, payload_digest,
//     outcome, reason; every member always present;
//   - journal_entry, seq and record_version are decimal integers without
//     leading zeros; journal_entry is 1;
//   - time is "YYYY-MM-DDTHH:MM:SS.ffffffZ" (UTC, six fractional digits);
//   - consent_clause and fields are arrays of strings, sorted by bytes, no
//     duplicates;
//   - payload_digest and subject are unpadded base64url of 32 bytes, or "";
//   - strings are UTF-8 without control characters, written as they are
//     except that '"' is written \" and '\' is written \\ (no other escapes).
//
// The leaf hash is SHA-256(0x00 || leaf), RFC 9162 section 2.1.1.
func MarshalLeaf(e Entry) ([]byte, error) {
	if field, reason := e.validate(); field != "" {
		return nil, &EntryError{Field: field, Reason: reason}
	}
	if field, reason := e.checkAssigned(); field != "" {
		return nil, &EntryError{Field: field, Reason: reason}
	}
	return appendLeaf(nil, &e), nil
}

// checkAssigned checks what the journal sets (Seq, Time) and the canonical
// form of Fields.
func (e *Entry) checkAssigned() (field, reason string) {
	if e.Seq >= maxTreeSize {
		return "seq", "too large"
	}
	if e.Time.Location() != time.UTC || e.Time.Nanosecond()%1000 != 0 || e.Time.Year() < 1 || e.Time.Year() > 9999 {
		return "time", "must be UTC, at most microsecond precision, years 1 to 9999"
	}
	for _, l := range []struct {
		name string
		v    []string
	}{{"consent_clause", e.Consent.Clause}, {"fields", e.Fields}} {
		for i := 1; i < len(l.v); i++ {
			if l.v[i-1] >= l.v[i] {
				return l.name, "must be sorted without duplicates"
			}
		}
	}
	return "", ""
}

// appendLeaf appends the version 1 leaf of e to dst. e must be valid.
func appendLeaf(dst []byte, e *Entry) []byte {
	k := &leafV1Keys
	dst = append(dst, k[0]...)
	dst = append(dst, '1')
	dst = append(dst, k[1]...)
	dst = strconv.AppendUint(dst, e.Seq, 10)
	dst = append(dst, k[2]...)
	dst = append(dst, '"')
	dst = e.Time.AppendFormat(dst, timeLayout)
	dst = append(dst, '"')
	dst = appendStr(append(dst, k[3]...), string(e.Event))
	dst = appendStr(append(dst, k[4]...), e.Actor)
	dst = appendStr(append(dst, k[5]...), e.Counterpart)
	dst = appendStr(append(dst, k[6]...), string(e.RecipientRole))
	dst = appendStr(append(dst, k[7]...), string(e.Purpose))
	dst = appendStr(append(dst, k[8]...), e.RecordID)
	dst = strconv.AppendInt(append(dst, k[9]...), int64(e.RecordVersion), 10)
	dst = appendStr(append(dst, k[10]...), e.MessageID)
	dst = appendStr(append(dst, k[11]...), e.IncidentID)
	dst = appendStr(append(dst, k[12]...), e.Subject.Ref)
	dst = appendStr(append(dst, k[13]...), e.Subject.KeyID)
	dst = appendStr(append(dst, k[14]...), e.Consent.Rule)
	dst = appendStr(append(dst, k[15]...), e.Consent.PolicyVersion)
	dst = appendStr(append(dst, k[16]...), e.Consent.Basis)
	dst = appendStr(append(dst, k[17]...), e.Consent.LegalBasis)
	dst = appendStrs(append(dst, k[18]...), e.Consent.Clause)
	dst = appendStr(append(dst, k[19]...), e.Consent.Check)
	dst = appendStr(append(dst, k[20]...), e.Consent.GivenBy)
	dst = appendStrs(append(dst, k[21]...), e.Fields)
	dst = append(dst, k[22]...)
	dst = append(dst, '"')
	if e.PayloadDigest != ([32]byte{}) {
		dst = base64.RawURLEncoding.AppendEncode(dst, e.PayloadDigest[:])
	}
	dst = append(dst, '"')
	dst = appendStr(append(dst, k[23]...), string(e.Outcome))
	dst = appendStr(append(dst, k[24]...), e.Reason)
	return append(dst, '}')
}

func appendStrs(dst []byte, ss []string) []byte {
	dst = append(dst, '[')
	for i, s := range ss {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendStr(dst, s)
	}
	return append(dst, ']')
}

func appendStr(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '"' || c == '\\' {
			dst = append(dst, '\\')
		}
		dst = append(dst, s[i])
	}
	return append(dst, '"')
}

// ParseLeaf decodes leaf bytes of a known version. It accepts only the
// canonical form: ParseLeaf(b) followed by MarshalLeaf gives b again. It
// checks the shape of every member but not that event types and the other
// vocabularies are known, so that a newer gateway's entries still parse.
// The error is a *LeafError.
func ParseLeaf(b []byte) (Entry, error) {
	var e Entry
	if _, err := parseLeaf(b, &e); err != nil {
		return Entry{}, err
	}
	return e, nil
}

// parseLeaf checks b, returns its sequence number and, when e is not nil,
// fills e.
func parseLeaf(b []byte, e *Entry) (uint64, error) {
	if len(b) > maxLeafBytes {
		return 0, &LeafError{Offset: 0, Reason: "longer than the largest leaf"}
	}
	p := leafParser{b: b}
	k := &leafV1Keys
	if !p.lit(k[0]) || !p.lit("1") {
		return 0, p.fail(`expected {"journal_entry":1 (the only leaf version there is)`)
	}
	if !p.lit(k[1]) {
		return 0, p.fail(`expected ,"seq":`)
	}
	seq, ok := p.uint(maxTreeSize - 1)
	if !ok {
		return 0, p.fail("seq: expected an integer without leading zeros")
	}
	if !p.lit(k[2]) || !p.lit(`"`) || p.pos+len(timeLayout)+1 > len(b) {
		return 0, p.fail(`expected ,"time":"`)
	}
	t, ok := parseLeafTime(b[p.pos : p.pos+len(timeLayout)])
	if !ok {
		return 0, p.fail("time: expected YYYY-MM-DDTHH:MM:SS.ffffffZ")
	}
	p.pos += len(timeLayout)
	if !p.lit(`"`) {
		return 0, p.fail(`time: expected "`)
	}
	var strs [18]string
	strIdx := 0
	str := func(key string) bool {
		if !p.lit(key) {
			return false
		}
		s, ok := p.str(e != nil)
		if ok && e != nil {
			strs[strIdx] = s
		}
		strIdx++
		return ok
	}
	// event .. record_id
	for i := 3; i <= 8; i++ {
		if !str(k[i]) {
			return 0, p.fail("expected the string member " + k[i][2:len(k[i])-2])
		}
	}
	if !p.lit(k[9]) {
		return 0, p.fail(`expected ,"record_version":`)
	}
	ver, ok := p.uint(1<<31 - 1)
	if !ok {
		return 0, p.fail("record_version: expected an integer without leading zeros")
	}
	for i := 10; i <= 17; i++ {
		if !str(k[i]) {
			return 0, p.fail("expected the string member " + k[i][2:len(k[i])-2])
		}
	}
	if !p.lit(k[18]) {
		return 0, p.fail(`expected ,"consent_clause":`)
	}
	clause, problem := p.strArray(e != nil, maxClauses)
	if problem != "" {
		return 0, p.fail("consent_clause: " + problem)
	}
	for i := 19; i <= 20; i++ {
		if !str(k[i]) {
			return 0, p.fail("expected the string member " + k[i][2:len(k[i])-2])
		}
	}
	if !p.lit(k[21]) {
		return 0, p.fail(`expected ,"fields":`)
	}
	fields, problem := p.strArray(e != nil, maxFields)
	if problem != "" {
		return 0, p.fail("fields: " + problem)
	}
	if !p.lit(k[22]) || !p.lit(`"`) {
		return 0, p.fail(`expected ,"payload_digest":"`)
	}
	var digest [32]byte
	if !p.lit(`"`) {
		if p.pos+44 > len(b) || !isB64Hash(string(b[p.pos:p.pos+43])) || b[p.pos+43] != '"' {
			return 0, p.fail("payload_digest: expected \"\" or 43 base64url characters")
		}
		if _, err := base64.RawURLEncoding.Decode(digest[:], b[p.pos:p.pos+43]); err != nil {
			return 0, p.fail("payload_digest: expected 43 base64url characters")
		}
		if digest == ([32]byte{}) {
			return 0, p.fail(`payload_digest: no digest is written ""`)
		}
		p.pos += 44
	}
	if !str(k[23]) {
		return 0, p.fail(`expected ,"outcome":`)
	}
	if !str(k[24]) {
		return 0, p.fail(`expected ,"reason":`)
	}
	if !p.lit("}") || p.pos != len(b) {
		return 0, p.fail("expected } at the end of the leaf")
	}
	if e == nil {
		return seq, nil
	}
	*e = Entry{
		Seq: seq, Time: t,
		Event: EventType(strs[0]), Actor: strs[1], Counterpart: strs[2],
		RecipientRole: record.RecipientRole(strs[3]), Purpose: record.Purpose(strs[4]),
		RecordID: strs[5], RecordVersion: int(ver), MessageID: strs[6], IncidentID: strs[7],
		Subject: Subject{Ref: strs[8], KeyID: strs[9]},
		Consent: Decision{Rule: strs[10], PolicyVersion: strs[11], Basis: strs[12], LegalBasis: strs[13],
			Clause: clause, Check: strs[14], GivenBy: strs[15]},
		Fields: fields, PayloadDigest: digest, Outcome: Outcome(strs[16]), Reason: strs[17],
	}
	if (e.Subject.Ref == "") != (e.Subject.KeyID == "") || (e.Subject.Ref != "" && !isSubjectRef(e.Subject.Ref)) {
		return 0, &LeafError{Offset: 0, Reason: "subject and subject_key: both or neither, and a 43-character reference"}
	}
	return seq, nil
}

// parseLeafTime reads "YYYY-MM-DDTHH:MM:SS.ffffffZ" exactly (a real date
// and time; no leap seconds), faster than time.Parse.
func parseLeafTime(b []byte) (time.Time, bool) {
	if len(b) != len(timeLayout) {
		return time.Time{}, false
	}
	num := func(from, to int) int {
		v := 0
		for i := from; i < to; i++ {
			c := b[i]
			if c < '0' || c > '9' {
				return -1
			}
			v = v*10 + int(c-'0')
		}
		return v
	}
	if b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' || b[19] != '.' || b[26] != 'Z' {
		return time.Time{}, false
	}
	y, mo, d, h, mi, sec, us := num(0, 4), num(5, 7), num(8, 10), num(11, 13), num(14, 16), num(17, 19), num(20, 26)
	if y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59 || us < 0 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(mo), d, h, mi, sec, us*1000, time.UTC)
	if t.Day() != d {
		return time.Time{}, false // 30 February
	}
	return t, true
}

// strArray reads an array of strings, sorted by bytes without duplicates,
// of at most max items.
func (p *leafParser) strArray(want bool, max int) ([]string, string) {
	if !p.lit("[") {
		return nil, "expected ["
	}
	var out []string
	var prev []byte
	for n := 0; ; n++ {
		if n == 0 && p.lit("]") {
			return out, ""
		}
		if n >= max {
			return nil, "too many items"
		}
		start := p.pos
		s, ok := p.str(want)
		if !ok {
			return nil, "expected a string"
		}
		raw := p.b[start:p.pos]
		if prev != nil && bytes.Compare(unquoteRaw(prev), unquoteRaw(raw)) >= 0 {
			return nil, "not sorted or repeated"
		}
		prev = raw
		if want {
			out = append(out, s)
		}
		if p.lit("]") {
			return out, ""
		}
		if !p.lit(",") {
			return nil, "expected , or ]"
		}
	}
}

// leafParser reads a leaf strictly, member by member.
type leafParser struct {
	b   []byte
	pos int
}

func (p *leafParser) fail(reason string) error { return &LeafError{Offset: p.pos, Reason: reason} }

func (p *leafParser) lit(s string) bool {
	if len(p.b)-p.pos >= len(s) && string(p.b[p.pos:p.pos+len(s)]) == s {
		p.pos += len(s)
		return true
	}
	return false
}

// uint reads a decimal integer without leading zeros, at most max.
func (p *leafParser) uint(max uint64) (uint64, bool) {
	start := p.pos
	var v uint64
	for p.pos < len(p.b) && p.b[p.pos] >= '0' && p.b[p.pos] <= '9' {
		if p.pos-start >= 19 {
			return 0, false
		}
		v = v*10 + uint64(p.b[p.pos]-'0')
		p.pos++
	}
	n := p.pos - start
	if n == 0 || (n > 1 && p.b[start] == '0') || v > max {
		return 0, false
	}
	return v, true
}

// str reads a string: UTF-8 without control characters, with \" and \\ as
// the only escapes. It returns the unescaped value when want is set.
func (p *leafParser) str(want bool) (string, bool) {
	if p.pos >= len(p.b) || p.b[p.pos] != '"' {
		return "", false
	}
	p.pos++
	start := p.pos
	escaped := false
	ascii := true
	for p.pos < len(p.b) {
		c := p.b[p.pos]
		switch {
		case c == '"':
			raw := p.b[start:p.pos]
			p.pos++
			if !ascii && !validText(raw) {
				return "", false
			}
			if !want {
				return "", true
			}
			if !escaped {
				return string(raw), true
			}
			return string(unquoteRaw(raw)), true
		case c == '\\':
			if p.pos+1 >= len(p.b) || (p.b[p.pos+1] != '"' && p.b[p.pos+1] != '\\') {
				return "", false
			}
			escaped = true
			p.pos += 2
		case c < 0x20 || c == 0x7f:
			return "", false
		default:
			if c >= utf8.RuneSelf {
				ascii = false
			}
			p.pos++
		}
	}
	return "", false
}

// validText reports whether raw is valid UTF-8 without C1 control characters
// (C0 and DEL are refused byte by byte by str).
func validText(raw []byte) bool {
	if !utf8.Valid(raw) {
		return false
	}
	for i := 0; i+1 < len(raw); i++ {
		if raw[i] == 0xC2 && raw[i+1] >= 0x80 && raw[i+1] <= 0x9F {
			return false
		}
	}
	return true
}

// unquoteRaw removes the surrounding quotes (if any) and resolves \" and \\.
func unquoteRaw(raw []byte) []byte {
	if len(raw) >= 2 && raw[0] == '"' && raw[len(raw)-1] == '"' {
		raw = raw[1 : len(raw)-1]
	}
	if bytes.IndexByte(raw, '\\') < 0 {
		return raw
	}
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); i++ {
		if raw[i] == '\\' && i+1 < len(raw) {
			i++
		}
		out = append(out, raw[i])
	}
	return out
}
