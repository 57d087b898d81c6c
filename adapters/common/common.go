// Package common is the adapter of the common record itself: a JSON document
// that is one record (schema registration/v1) or one withdrawal notice
// (schema withdrawal/v1), exactly as schemas/ defines them. It lets tools and
// authorities that already speak the common schema use the gateway without a
// mapping, and it is the reference every other adapter's round trip is
// measured against.
//
// Mapping table: identity. Nothing is lost, nothing is defaulted. The
// message header travels in the JWS protected header, so Message.Header is nil.
package common

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/psykosocial/exchange/adapters"
	"github.com/psykosocial/exchange/internal/record"
)

// Format is this adapter's format name.
const Format = "common"

// Adapter decodes and encodes common records.
type Adapter struct {
	v *record.Validator
}

var _ adapters.Adapter = (*Adapter)(nil)

// New returns the adapter; v validates decoded records.
func New(v *record.Validator) *Adapter { return &Adapter{v: v} }

// Format implements adapters.Adapter.
func (a *Adapter) Format() string { return Format }

// Detect reports whether data is a JSON object that declares one of the
// common schemas in its schema member.
func (a *Adapter) Detect(data []byte) bool {
	head := data
	if len(head) > 4096 {
		head = head[:4096]
	}
	t := bytes.TrimSpace(head)
	if len(t) == 0 || t[0] != '{' {
		return false
	}
	return bytes.Contains(head, []byte(`"schema"`)) &&
		(bytes.Contains(head, []byte(`"`+record.SchemaV1+`"`)) || bytes.Contains(head, []byte(`"`+record.WithdrawalSchemaV1+`"`)))
}

// Decode decodes one record or one withdrawal notice. A document that does
// not decode (malformed, unknown or duplicate members, wrong types) is
// rejected whole; a record that decodes but breaks the rules is one item
// with its problems.
func (a *Adapter) Decode(data []byte) (*adapters.Message, error) {
	// The schema member picks the decoder; the strict decoder then refuses
	// anything a lenient probe let through (duplicates, case variants).
	if len(data) > record.MaxJSONBytes {
		return nil, record.Problems{{Rule: "json.limit", Message: fmt.Sprintf("document is %d bytes, the limit is %d", len(data), record.MaxJSONBytes)}}
	}
	var probe struct {
		Schema string `json:"schema"`
	}
	_ = json.Unmarshal(data, &probe)
	if probe.Schema == record.WithdrawalSchemaV1 {
		w, err := record.DecodeWithdrawal(data)
		if err != nil {
			return nil, err
		}
		if ps := a.v.ValidateWithdrawal(w); len(ps) > 0 {
			return nil, ps
		}
		return &adapters.Message{Format: Format, Kind: adapters.KindWithdrawal, Withdrawal: w}, nil
	}
	r, err := record.Decode(data)
	if err != nil {
		return nil, err
	}
	it := adapters.Item{Index: 0}
	if ps := a.v.Validate(r); len(ps) > 0 {
		it.Problems = ps
	} else {
		it.Record = r
	}
	return &adapters.Message{Format: Format, Kind: adapters.KindRegistration, Items: []adapters.Item{it}}, nil
}

// Encode writes the canonical encoding of the message's single record or
// withdrawal notice.
func (a *Adapter) Encode(m *adapters.Message) ([]byte, error) {
	switch m.Kind {
	case adapters.KindWithdrawal:
		if m.Withdrawal == nil {
			return nil, errors.New("common: withdrawal message without a notice")
		}
		return record.MarshalCanonicalWithdrawal(m.Withdrawal)
	case adapters.KindRegistration:
		rs := m.Records()
		if len(rs) != 1 {
			return nil, fmt.Errorf("common: a document holds exactly one record, the message has %d", len(rs))
		}
		return record.MarshalCanonical(rs[0])
	}
	return nil, fmt.Errorf("common: unknown message kind %q", m.Kind)
}
