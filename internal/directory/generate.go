package directory

import (
	"slices"
	"strings"
	"time"

	"github.com/psykosocial/exchange/internal/refdata"
)

// Generate builds the directory of every authority in the reference data: the 98
// municipalities, the regions (the five of today, and Region Østdanmark from 1 January
// 2027 if its code is configured) and the 12 police districts, which act under
// Rigspolitiet's CVR number. Validity periods are those of the reference data, so
// Region Hovedstaden and Region Sjælland end on 1 January 2027 whether or not
// Østdanmark's code is configured. Every authority receives through a mailbox and has
// no certificate bindings yet. Authorities are sorted by id, which orders them by
// kind and then code. generatedAt is recorded in UTC to the second.
func Generate(ref *refdata.Data, generatedAt time.Time) *Directory {
	d := &Directory{
		Version:     Version,
		GeneratedAt: generatedAt.UTC().Truncate(time.Second),
	}
	for _, m := range ref.Municipalities() {
		d.Authorities = append(d.Authorities, Authority{
			ID:           KindMunicipality + ":" + m.Code,
			Kind:         KindMunicipality,
			Name:         m.AuthorityName,
			Codes:        Codes{MunicipalityCode: m.Code},
			CVR:          m.CVR,
			Format:       FormatMunicipality,
			Mailbox:      true,
			Valid:        m.Valid,
			Certificates: []CertificateBinding{},
		})
	}
	for _, r := range ref.Regions(time.Time{}) {
		if !r.CodeConfigured {
			continue // no id without a code
		}
		d.Authorities = append(d.Authorities, Authority{
			ID:           KindRegion + ":" + r.Code,
			Kind:         KindRegion,
			Name:         r.Name,
			Codes:        Codes{RegionCode: r.Code},
			CVR:          r.CVR,
			Format:       FormatRegion,
			Mailbox:      true,
			Valid:        r.Valid,
			Certificates: []CertificateBinding{},
		})
	}
	for _, p := range ref.PoliceDistricts() {
		d.Authorities = append(d.Authorities, Authority{
			ID:           KindPolice + ":" + p.ID,
			Kind:         KindPolice,
			Name:         p.Name,
			Codes:        Codes{PoliceDistrict: p.ID, MunicipalityCodes: p.MunicipalityCodes},
			CVR:          p.CVR,
			Format:       FormatPolice,
			Mailbox:      true,
			Certificates: []CertificateBinding{},
		})
	}
	slices.SortFunc(d.Authorities, func(a, b Authority) int { return strings.Compare(a.ID, b.ID) })
	d.buildIndex()
	return d
}
