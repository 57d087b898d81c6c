package municipality_test

import (
	"fmt"
	"os"
	"time"

	"github.com/psykosocial/exchange/adapters"
	"github.com/psykosocial/exchange/adapters/municipality"
	"github.com/psykosocial/exchange/internal/clock"
	"github.com/psykosocial/exchange/internal/record"
	"github.com/psykosocial/exchange/internal/refdata"
)

func exampleValidator() *record.Validator {
	ref, err := refdata.Load(refdata.Config{})
	if err != nil {
		panic(err)
	}
	return record.NewValidator(ref, clock.Fixed(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)))
}

// A crisis team's list of three persons decodes into one item per person.
func ExampleAdapter_Decode() {
	a, err := municipality.New(exampleValidator())
	if err != nil {
		panic(err)
	}
	data, err := os.ReadFile("../../schemas/examples/municipality/valid/kriseteam-aalborg-busulykke-tre-personer.xml")
	if err != nil {
		panic(err)
	}
	m, err := a.Decode(data)
	if err != nil {
		fmt.Println("refused:", err)
		return
	}
	fmt.Println(m.Header.Sender, m.Header.SenderReference)
	for _, it := range m.Items {
		if it.Record != nil {
			fmt.Println(it.Index, it.Record.Relation.Type, it.Record.Person.Address.MunicipalityCode)
		} else {
			fmt.Println(it.Index, it.Problems)
		}
	}
	// Output:
	// municipality:0851 27.24.00-G01-118-26
	// 0 affected 0461
	// 1 relative 0461
	// 2 witness 0657
}

// The gateway sends a withdrawal notice to a municipality whose journal
// plan is configured with its own KLE classification.
func ExampleAdapter_Encode() {
	a, err := municipality.New(exampleValidator(),
		// illustrative, not an official KLE number
		municipality.WithRecipientClassification("municipality:0461", municipality.Classification{Subject: "12.34.56", Facet: "G01"}))
	if err != nil {
		panic(err)
	}
	withdrawnAt := time.Date(2026, 11, 20, 13, 30, 0, 0, time.UTC)
	out, err := a.Encode(&adapters.Message{
		Kind: adapters.KindWithdrawal,
		Header: &adapters.Header{
			MessageID: "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", Sender: "gateway", Recipient: "municipality:0461",
			IssuedAt: withdrawnAt, ExpiresAt: withdrawnAt.Add(7 * 24 * time.Hour),
		},
		Withdrawal: &record.Withdrawal{
			Schema: record.WithdrawalSchemaV1, RecordID: "a41c2f6e-5b3d-4e8a-9f10-7c6b5a493821", Version: 1,
			Reason: record.ReasonConsentWithdrawn, WithdrawnAt: &withdrawnAt,
		},
	})
	if err != nil {
		panic(err)
	}
	fmt.Print(string(out))
	// Output:
	// <?xml version="1.0" encoding="UTF-8"?>
	// <KommuneMeddelelse xmlns="urn:psykosocial:kommune:registrering:1" ID="m-9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d">
	//   <Hoved>
	//     <MeddelelsesID>9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d</MeddelelsesID>
	//     <Afsender>gateway</Afsender>
	//     <Modtager>municipality:0461</Modtager>
	//     <Udstedt>2026-11-20T13:30:00Z</Udstedt>
	//     <Udloeber>2026-11-27T13:30:00Z</Udloeber>
	//     <Sagsklassifikation>
	//       <Emne>12.34.56</Emne>
	//       <Handlingsfacet>G01</Handlingsfacet>
	//     </Sagsklassifikation>
	//   </Hoved>
	//   <Tilbagetraekning>
	//     <RegistreringsID>a41c2f6e-5b3d-4e8a-9f10-7c6b5a493821</RegistreringsID>
	//     <Version>1</Version>
	//     <Aarsag>samtykke_tilbagekaldt</Aarsag>
	//     <Tidspunkt>2026-11-20T13:30:00Z</Tidspunkt>
	//   </Tilbagetraekning>
	// </KommuneMeddelelse>
}
