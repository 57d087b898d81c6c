package region

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/psykosocial/exchange/adapters"
	"github.com/psykosocial/exchange/internal/record"
	"github.com/psykosocial/exchange/internal/strictjson"
)

// FormatName is the format's name in the authority directory.
const FormatName = "region"

// Adapter converts the regional EPC registration format to and from the
// common record. It is safe for concurrent use.
type Adapter struct {
	v *record.Validator
}

var _ adapters.Adapter = (*Adapter)(nil)

// Option configures an Adapter in New. The regional format has no options
// yet; the type gives New the same shape as the other adapters' New.
type Option func(*Adapter)

// New returns an adapter that validates decoded records with v. It checks
// v and opts once, here; its errors wrap adapters.ErrInvalidOptions.
func New(v *record.Validator, opts ...Option) (*Adapter, error) {
	if v == nil {
		return nil, fmt.Errorf("%w: region: a validator is required", adapters.ErrInvalidOptions)
	}
	a := &Adapter{v: v}
	for _, o := range opts {
		o(a)
	}
	return a, nil
}

// Format returns FormatName.
func (a *Adapter) Format() string { return FormatName }

// Detect reports whether data is a JSON object whose member
// "meddelelsestype" is TypeRegistration or TypeWithdrawal. It reads the top
// level only up to that member (Encode writes it first) and never more
// than MaxDocumentBytes. A common record ("schema": "registration/v1") has
// no such member and is not claimed.
func (a *Adapter) Detect(data []byte) bool {
	if len(data) > MaxDocumentBytes {
		data = data[:MaxDocumentBytes]
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return false
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		if tok == memberType {
			v, err := dec.Token()
			return err == nil && (v == TypeRegistration || v == TypeWithdrawal)
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return false
		}
	}
	return false
}

// Decode reads a regional document. A registration gives one item per
// record, in document order, each with a valid record or the problems that
// kept it out (pointers into the source document, with lines). A withdrawal
// notice gives Message.Withdrawal. The document is refused as a whole (nil
// message, record.Problems as the error) when it is malformed: not JSON
// (anywhere, records included), too large, not an object, an unknown or
// repeated top-level member, a missing or unknown meddelelsestype, no
// record, too many records, two records with the same registreringsId
// (adapters.RuleDuplicateRecord, naming both), or an invalid withdrawal notice. The format has no message header (the JWS
// protected header carries it): Message.Header is nil.
func (a *Adapter) Decode(data []byte) (*adapters.Message, error) {
	return adapters.Clipped(a.decode(data))
}

func (a *Adapter) decode(data []byte) (*adapters.Message, error) {
	if len(data) > MaxDocumentBytes {
		return nil, record.Problems{{Rule: "json.limit",
			Message: fmt.Sprintf("the document is %d bytes, the limit is %d", len(data), MaxDocumentBytes)}}
	}
	src := &source{data: data}
	env, ps := readEnvelope(src)
	if ps != nil {
		return nil, ps
	}
	if env.typ == TypeWithdrawal {
		w, ps := a.decodeWithdrawal(src, *env.withdrawal)
		if ps != nil {
			return nil, ps
		}
		return &adapters.Message{Format: FormatName, Kind: adapters.KindWithdrawal, Withdrawal: w}, nil
	}
	msg := &adapters.Message{Format: FormatName, Kind: adapters.KindRegistration, Items: make([]adapters.Item, len(env.records))}
	ids := make([]string, len(env.records))
	for i, sp := range env.records {
		it, id, malformed := a.decodeRecord(src, sp, i)
		if malformed != nil {
			return nil, record.Problems{*malformed}
		}
		msg.Items[i], ids[i] = it, id
	}
	if ps := adapters.DuplicateRecords(ids, func(i int) (string, int) {
		p := locate(src, env.records[i], record.Problems{{Pointer: "/" + memberRecordID}})[0]
		return p.Pointer, p.Line
	}); ps != nil {
		return nil, ps
	}
	return msg, nil
}

// memberRecordID is the member of a record that holds its record id.
const memberRecordID = "registreringsId"

// decodeRecord decodes and validates one record, and returns its record id
// as written ("" when it could not be read). It returns the problem that
// refuses the whole document when the record is not even JSON.
func (a *Adapter) decodeRecord(src *source, sp span, index int) (adapters.Item, string, *record.Problem) {
	it := adapters.Item{Index: index}
	if len(sp.raw) > MaxRecordBytes {
		if malformed := checkSyntax(src, sp); malformed != nil {
			return it, "", malformed
		}
		it.Problems = locate(src, sp, record.Problems{{Rule: "json.limit",
			Message: fmt.Sprintf("the record is %d bytes, the limit is %d", len(sp.raw), MaxRecordBytes)}})
		return it, "", nil
	}
	ps := emptiness(sp.raw)
	var w wireRecord
	if err := strictjson.Unmarshal(sp.raw, &w, recordLimits()); err != nil {
		if malformed := checkSyntax(src, sp); malformed != nil {
			return it, "", malformed
		}
		it.Problems = locate(src, sp, append(ps, strictProblem(err)))
		return it, "", nil
	}
	m := mapper{ps: ps}
	r := m.toRecord(&w)
	ps = fold(m.ps, a.v.Validate(r), recordPaths)
	if len(ps) > 0 {
		it.Problems = locate(src, sp, ps)
		return it, r.RecordID, nil
	}
	it.Record = r
	return it, r.RecordID, nil
}

// checkSyntax returns the syntax error of a record that strict decoding
// refused, or nil. Strict decoding stops at its first problem, so the rest
// of the record is checked here; a record that is not JSON makes the whole
// document malformed.
func checkSyntax(src *source, sp span) *record.Problem {
	if json.Valid(sp.raw) {
		return nil
	}
	p := syntaxProblem(src, sp.pointer, sp.off)
	return &p
}

// decodeWithdrawal decodes and validates a withdrawal notice.
func (a *Adapter) decodeWithdrawal(src *source, sp span) (*record.Withdrawal, record.Problems) {
	ps := emptiness(sp.raw)
	var w wireWithdrawal
	if err := strictjson.Unmarshal(sp.raw, &w, recordLimits()); err != nil {
		if malformed := checkSyntax(src, sp); malformed != nil {
			return nil, record.Problems{*malformed}
		}
		return nil, locate(src, sp, append(ps, strictProblem(err)))
	}
	m := mapper{ps: ps}
	n := m.toWithdrawal(&w)
	ps = fold(m.ps, a.v.ValidateWithdrawal(n), withdrawalPaths)
	if len(ps) > 0 {
		return nil, locate(src, sp, ps)
	}
	return n, nil
}

// emptiness refuses what strict decoding lets through but the format does
// not: null (encoding/json reads it as absent), "" and [] (the format
// leaves an empty member out instead).
func emptiness(raw []byte) record.Problems {
	nulls, empties := emptyMembers(raw)
	var ps record.Problems
	for _, n := range nulls {
		ps = append(ps, record.Problem{Pointer: n.pointer, Rule: "json.null", Message: "must not be null: leave the member out"})
	}
	for _, e := range empties {
		ps = append(ps, record.Problem{Pointer: e.pointer, Rule: "json.empty", Message: "must not be empty: leave the member out"})
	}
	return ps
}

// strictProblem turns a strict decoding error into a problem.
func strictProblem(err error) record.Problem {
	var se *strictjson.Error
	if errors.As(err, &se) {
		// strictjson quotes unknown member names in full: keep a long
		// attacker-chosen name out of the message.
		return record.Problem{Pointer: se.Pointer, Rule: se.Rule, Message: adapters.Clip(se.Message)}
	}
	return record.Problem{Rule: "json.syntax", Message: "malformed JSON"}
}

// fold adds the validation problems (pointers into the common record) to
// the conversion problems (pointers into the regional record), mapping each
// pointer to the member that carries it. A validation problem at or below a
// member that already has a conversion problem is the same fault seen
// again, and is left out.
func fold(conv, valid record.Problems, table []fieldPath) record.Problems {
	ps := conv
	for _, p := range valid {
		src, ok := sourcePath(table, p.Pointer)
		if !ok {
			p.Message += " (common member " + p.Pointer + ")"
		}
		p.Pointer = src
		if covered(conv, src) {
			continue
		}
		if msg := patternMessage(src); msg != "" && p.Rule == "schema.pattern" {
			p.Message = msg
		}
		ps = append(ps, p)
	}
	return ps
}

// patternMessage says what the format accepts at a member where it accepts
// more than the common record (see Conversions in the package doc), or "".
func patternMessage(src string) string {
	switch src {
	case "/person/cprNummer", "/relation/beroertPerson/cprNummer":
		return "is not a CPR number: 10 digits, or 6 and 4 digits separated by a hyphen (070786-1234)"
	case "/person/telefon", "/samtykke/vaerge/telefon":
		return "is not a phone number: E.164 (+4512345678) or 8 Danish digits (12345678 or 12 34 56 78)"
	case "/haendelse/kommunekode", "/person/adresse/kommunekode":
		return `is not a municipality code: 1 to 4 digits, as a string or a number ("0101", "101" or 101)`
	}
	return ""
}

// covered reports whether a problem in ps is at ptr or at one of its ancestors.
func covered(ps record.Problems, ptr string) bool {
	for _, p := range ps {
		if p.Pointer == ptr || p.Pointer == "" || strings.HasPrefix(ptr, p.Pointer+"/") {
			return true
		}
	}
	return false
}

// locate makes the pointers of ps absolute (prefixed with the pointer of the
// span) and adds the line of each member, or of its nearest ancestor that
// the document has.
func locate(src *source, sp span, ps record.Problems) record.Problems {
	if len(ps) > maxProblems {
		ps = ps[:maxProblems]
	}
	offs := offsets(sp.raw)
	for i := range ps {
		p := ps[i].Pointer
		for {
			if off, ok := offs[p]; ok {
				ps[i].Line = src.line(sp.off + off)
				break
			}
			j := strings.LastIndexByte(p, '/')
			if j < 0 {
				break
			}
			p = p[:j]
		}
		ps[i].Pointer = sp.pointer + ps[i].Pointer
	}
	return ps
}

// Encode writes m as a regional document: a registration of one record
// ("registrering"), or of several ("registreringer"), or a withdrawal
// notice ("tilbagetraekning"). The records must be valid (possibly
// minimised) common records. Codes are written in their canonical form
// (CPR without hyphen, 4-digit municipality codes as strings, E.164 phone
// numbers) and times in UTC, so that equal input gives equal bytes.
// m.Header is not written: the JWS protected header carries the metadata.
func (a *Adapter) Encode(m *adapters.Message) ([]byte, error) {
	if m == nil {
		return nil, errors.New("region: encode: no message")
	}
	doc := wireDocument{}
	switch m.Kind {
	case adapters.KindRegistration:
		if m.Withdrawal != nil {
			return nil, errors.New("region: encode: a registration carries no withdrawal notice")
		}
		if len(m.Items) == 0 {
			return nil, errors.New("region: encode: a registration needs at least one record")
		}
		if len(m.Items) > MaxRecords {
			return nil, fmt.Errorf("region: encode: %d records, the limit is %d", len(m.Items), MaxRecords)
		}
		doc.Type = TypeRegistration
		list := make([]*wireRecord, len(m.Items))
		for i, it := range m.Items {
			if it.Record == nil {
				return nil, fmt.Errorf("region: encode: item %d has no record", i)
			}
			w, err := fromRecord(it.Record)
			if err != nil {
				return nil, fmt.Errorf("region: encode: item %d: %w", i, err)
			}
			list[i] = w
		}
		if len(list) == 1 {
			doc.Record = list[0]
		} else {
			doc.Records = list
		}
	case adapters.KindWithdrawal:
		if m.Withdrawal == nil {
			return nil, errors.New("region: encode: a withdrawal message needs its notice")
		}
		if len(m.Items) > 0 {
			return nil, errors.New("region: encode: a withdrawal message carries no records")
		}
		w, err := fromWithdrawal(m.Withdrawal)
		if err != nil {
			return nil, fmt.Errorf("region: encode: %w", err)
		}
		doc.Type, doc.Withdrawal = TypeWithdrawal, w
	default:
		return nil, fmt.Errorf("region: encode: unknown message kind %q", adapters.Clip(string(m.Kind)))
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&doc); err != nil {
		return nil, fmt.Errorf("region: encode: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// toStamp returns t for writing (nil stays nil); stamps are written in UTC.
func toStamp(t *time.Time) *stamp {
	if t == nil {
		return nil
	}
	return &stamp{*t}
}
