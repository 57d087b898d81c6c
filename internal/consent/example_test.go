package consent_test

import (
	"fmt"
	"io/fs"
	"time"

	"github.com/psykosocial/exchange/internal/consent"
	"github.com/psykosocial/exchange/internal/directory"
	"github.com/psykosocial/exchange/internal/record"
	"github.com/psykosocial/exchange/internal/refdata"
	"github.com/psykosocial/exchange/internal/routing"
	"github.com/psykosocial/exchange/schemas"
)

// A resident of Aarhus hurt in a fire in Copenhagen, registered by the
// incident region's KOP: who receives what, and why.
func Example() {
	ref, err := refdata.Load(refdata.Config{})
	if err != nil {
		panic(err)
	}
	at := time.Date(2026, 6, 15, 10, 0, 0, 0, time.FixedZone("CEST", 2*3600))
	router, err := routing.New(ref, directory.Generate(ref, at))
	if err != nil {
		panic(err)
	}
	policy, err := consent.Default()
	if err != nil {
		panic(err)
	}
	data, err := fs.ReadFile(schemas.FS, "examples/registration/valid/aarhus-resident-hurt-in-copenhagen.json")
	if err != nil {
		panic(err)
	}
	rec, err := record.Decode(data)
	if err != nil {
		panic(err)
	}

	route, err := router.Route(rec, "region:1084", at)
	if err != nil {
		panic(err)
	}
	for _, o := range route.Omitted {
		fmt.Printf("%-22s %-18s %s\n", o.Role, "-", o.Reason.Code)
	}
	outcomes, err := policy.Evaluate(rec, route.Candidates, at)
	if err != nil {
		panic(err)
	}
	for _, o := range outcomes {
		d := o.Decision
		notes := o.View != nil && o.View.Assessment != nil && o.View.Assessment.Notes != ""
		fmt.Printf("%-22s %-18s %s %s (notes: %v)\n", d.Role, d.Recipient, d.Effect, d.RuleID, notes)
	}
	// Output:
	// incident_region        -                  is_sender
	// residence_municipality municipality:0751  allow residence-municipality-follow-up (notes: false)
	// residence_region       region:1082        allow residence-region-follow-up (notes: true)
	// incident_municipality  municipality:0101  allow incident-municipality-acute (notes: false)
	// police_district        police:koebenhavn  allow police-district-identification (notes: false)
}
