package region_test

import (
	"fmt"
	"time"

	"github.com/psykosocial/exchange/adapters/region"
	"github.com/psykosocial/exchange/internal/clock"
	"github.com/psykosocial/exchange/internal/record"
	"github.com/psykosocial/exchange/internal/refdata"
)

// A registration from a regional EPC system, with the regional quirks: a
// CPR number with a hyphen, municipality codes as numbers, an 8-digit phone
// number. The second record names a municipality that does not exist, and
// only that record is refused.
func ExampleAdapter_Decode() {
	ref, err := refdata.Load(refdata.Config{})
	if err != nil {
		panic(err)
	}
	a, err := region.New(record.NewValidator(ref, clock.Fixed(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))))
	if err != nil {
		panic(err)
	}

	doc := []byte(`{
  "meddelelsestype": "epc-registrering/v1",
  "registreringer": [
    {
      "registreringsId": "5a1e7c2b-3d4f-4a6b-9c8d-7e6f5a4b3c2d",
      "version": 1,
      "haendelse": {"id": "HST-2026-0614-KBH-BRAND", "kommunekode": 101},
      "person": {"cprNummer": "070786-1234", "telefon": "28417733", "adresse": {"kommunekode": 751}},
      "samtykke": {"registrering": "ikke_indhentet"}
    },
    {
      "registreringsId": "5a1e7c2b-3d4f-4a6b-9c8d-7e6f5a4b3c2e",
      "version": 1,
      "haendelse": {"id": "HST-2026-0614-KBH-BRAND", "kommunekode": 999},
      "samtykke": {"registrering": "ikke_indhentet"}
    }
  ]
}`)
	m, err := a.Decode(doc)
	if err != nil {
		fmt.Println("refused:", err)
		return
	}
	for _, it := range m.Items {
		if it.Record != nil {
			p := it.Record.Person
			fmt.Println(it.Index, it.Record.Incident.MunicipalityCode, p.CPR, p.Phone, p.Address.MunicipalityCode)
			continue
		}
		fmt.Println(it.Index, it.Problems)
	}
	// Output:
	// 0 0101 0707861234 +4528417733 0751
	// 1 /registreringer/1/haendelse/kommunekode (line 14): 0999 is not a Danish municipality code [schema.enum]
}
