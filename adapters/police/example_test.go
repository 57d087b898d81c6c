package police_test

import (
	"fmt"
	"time"

	"github.com/psykosocial/exchange/adapters/police"
	"github.com/psykosocial/exchange/internal/clock"
	"github.com/psykosocial/exchange/internal/record"
	"github.com/psykosocial/exchange/internal/refdata"
)

// A list of two persons from Fyns Politi: the first is valid, the second
// has a CPR number whose first six digits are not a date. The valid person
// proceeds; the other is refused with its path and line.
func ExampleAdapter_Decode() {
	ref, err := refdata.Load(refdata.Config{})
	if err != nil {
		panic(err)
	}
	a, err := police.New(record.NewValidator(ref, clock.Fixed(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))))
	if err != nil {
		panic(err)
	}

	doc := `<?xml version="1.0" encoding="UTF-8"?>
<Personliste xmlns="urn:psykosocial:politi:personliste:v1" ID="m-0e1d2c3b-4a59-4687-9a8b-7c6d5e4f3a2b">
  <Hoved>
    <MeddelelsesID>0e1d2c3b-4a59-4687-9a8b-7c6d5e4f3a2b</MeddelelsesID>
    <Afsender>police:fyn</Afsender>
    <Modtager>gateway</Modtager>
    <Udstedt>2026-11-21T18:00:00+01:00</Udstedt>
    <Udloeber>2026-11-22T18:00:00+01:00</Udloeber>
    <Journalnummer>2300-80150-00219-26</Journalnummer>
  </Hoved>
  <Haendelse>
    <HaendelsesID>FYN-2026-1121-SVENDBORG-OVERSV</HaendelsesID>
    <Haendelsestype>oversvoemmelse</Haendelsestype>
    <Kommunekode>0479</Kommunekode>
  </Haendelse>
  <Registrant>
    <Politikreds>fyn</Politikreds>
    <Funktion>patruljebetjent</Funktion>
  </Registrant>
  <Personer>
    <Person>
      <RegistreringsID>2b3c4d5e-6f70-4812-9a3b-4c5d6e7f8091</RegistreringsID>
      <Version>1</Version>
      <Registreret><Tidspunkt>2026-11-21T15:30:00+01:00</Tidspunkt></Registreret>
      <CPR>1108831234</CPR>
      <Navn>Jonas Møller</Navn>
      <Tilknytning><Type>beroert</Type></Tilknytning>
    </Person>
    <Person>
      <RegistreringsID>2b3c4d5e-6f70-4812-9a3b-4c5d6e7f8092</RegistreringsID>
      <Version>1</Version>
      <Registreret><Tidspunkt>2026-11-21T15:40:00+01:00</Tidspunkt></Registreret>
      <CPR>3102831234</CPR>
    </Person>
  </Personer>
</Personliste>`

	m, err := a.Decode([]byte(doc))
	if err != nil {
		fmt.Println("refused whole:", err)
		return
	}
	for _, it := range m.Items {
		if it.Record != nil {
			fmt.Println(it.Index, "valid:", it.Record.RecordID, it.Record.Registered.ByAuthority, it.Record.Consent.Registration)
			continue
		}
		for _, p := range it.Problems {
			fmt.Println(it.Index, "refused:", p)
		}
	}
	// Output:
	// 0 valid: 2b3c4d5e-6f70-4812-9a3b-4c5d6e7f8091 police:fyn not_obtained
	// 1 refused: /Personliste/Personer/Person[2]/CPR (line 33): the first six digits are not a real date (day 31, month 02, year 1983) [cpr.date]
}
