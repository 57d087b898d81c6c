package directory

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/psykosocial/exchange/internal/refdata"
)

// The wire form of a document. Field order here is the order in the file.
type (
	wireDocument struct {
		Version     string          `json:"version"`
		GeneratedAt string          `json:"generated_at"`
		Authorities []wireAuthority `json:"authorities"`
		Operator    *wireOperator   `json:"operator,omitempty"`
	}
	wireOperator struct {
		Name         string        `json:"name"`
		CVR          string        `json:"cvr"`
		Certificates []wireBinding `json:"certificates"`
	}
	wireAuthority struct {
		ID           string        `json:"id"`
		Kind         string        `json:"kind"`
		Name         string        `json:"name"`
		Codes        wireCodes     `json:"codes"`
		CVR          string        `json:"cvr"`
		Format       string        `json:"format"`
		Mailbox      bool          `json:"mailbox"`
		Valid        wirePeriod    `json:"valid"`
		Certificates []wireBinding `json:"certificates"`
	}
	wireCodes struct {
		MunicipalityCode  string   `json:"municipality_code,omitempty"`
		RegionCode        string   `json:"region_code,omitempty"`
		PoliceDistrict    string   `json:"police_district,omitempty"`
		MunicipalityCodes []string `json:"municipality_codes,omitempty"`
	}
	wirePeriod struct {
		From string `json:"from,omitempty"`
		To   string `json:"to,omitempty"`
	}
	wireBinding struct {
		Use             string     `json:"use"`
		CertificateUUID string     `json:"certificate_uuid,omitempty"`
		SPKISHA256      string     `json:"spki_sha256,omitempty"`
		Valid           wirePeriod `json:"valid"`
	}
)

// Encode writes the directory as indented JSON ending in a newline. The output
// depends only on d: authorities in their order, fields in a fixed order, timestamps
// in RFC 3339 with the offset they carry, absent period bounds left out. Encode first
// checks d as Parse would, except against reference data, and refuses an invalid
// directory, so that Parse(Encode(d)) gives d back for any d that Parse accepts.
func (d *Directory) Encode() ([]byte, error) {
	rep := &report{}
	auths := make([]*scope, len(d.Authorities))
	for i, a := range d.Authorities {
		auths[i] = rep.newScope(i)
		auths[i].id = a.ID
	}
	validate(d, nil, rep.newScope(-1), auths)
	if len(rep.problems) > 0 {
		return nil, fmt.Errorf("directory: encode: %w", &ValidationError{Problems: rep.sorted()})
	}
	w := wireDocument{
		Version:     d.Version,
		GeneratedAt: formatTime(d.GeneratedAt),
		Authorities: make([]wireAuthority, len(d.Authorities)),
	}
	for i, a := range d.Authorities {
		wa := wireAuthority{
			ID:   a.ID,
			Kind: a.Kind,
			Name: a.Name,
			Codes: wireCodes{
				MunicipalityCode:  a.Codes.MunicipalityCode,
				RegionCode:        a.Codes.RegionCode,
				PoliceDistrict:    a.Codes.PoliceDistrict,
				MunicipalityCodes: a.Codes.MunicipalityCodes,
			},
			CVR:          a.CVR,
			Format:       a.Format,
			Mailbox:      a.Mailbox,
			Valid:        toWirePeriod(a.Valid),
			Certificates: make([]wireBinding, len(a.Certificates)),
		}
		for j, c := range a.Certificates {
			wa.Certificates[j] = toWireBinding(c)
		}
		w.Authorities[i] = wa
	}
	if op := d.Operator; op != nil {
		w.Operator = &wireOperator{Name: op.Name, CVR: op.CVR, Certificates: make([]wireBinding, len(op.Certificates))}
		for j, c := range op.Certificates {
			w.Operator.Certificates[j] = toWireBinding(c)
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(w); err != nil {
		return nil, fmt.Errorf("directory: encode: %w", err)
	}
	return buf.Bytes(), nil
}

// toWireBinding is the wire form of a certificate binding.
func toWireBinding(c CertificateBinding) wireBinding {
	return wireBinding{Use: c.Use, CertificateUUID: c.CertificateUUID, SPKISHA256: c.SPKISHA256, Valid: toWirePeriod(c.Valid)}
}

// toWirePeriod leaves zero bounds out.
func toWirePeriod(p refdata.Period) wirePeriod {
	var w wirePeriod
	if !p.From.IsZero() {
		w.From = formatTime(p.From)
	}
	if !p.To.IsZero() {
		w.To = formatTime(p.To)
	}
	return w
}

// formatTime writes t in RFC 3339 with its own offset and only the fractional
// seconds it has.
func formatTime(t time.Time) string {
	return t.Format(time.RFC3339Nano)
}
