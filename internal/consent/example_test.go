package consent_test

import (
	"fmt"
	"io/fs"
	"slices"
	"time"

	"github.com/psykosocial/exchange/internal/consent"
	"github.com/psykosocial/exchange/internal/directory"
	"github.com/psykosocial/exchange/internal/record"
	"github.com/psykosocial/exchange/internal/refdata"
	"github.com/psykosocial/exchange/internal/routing"
	"github.com/psykosocial/exchange/schemas"
)

// A resident of Aarhus hurt in a fire in Copenhagen, registered by the
// incident region's KOP: who receives what, and why. Every role has a
// decision for each of its rules. The person consented to psychosocial
// follow-up by the residence municipality and region, by phone and Digital
// Post: both get the phone number and neither the assessment notes (no
// health purpose is consented); the incident municipality gets the phone
// number on the acute_contact legal basis during the incident period; the
// police get identity, incident and relation only.
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
		why := string(d.Check)
		if d.Effect == consent.Allow {
			notes := o.View.Assessment != nil && o.View.Assessment.Notes != ""
			why = fmt.Sprintf("phone: %v, notes: %v", o.View.Person.Phone != "", notes)
			if d.ContactLegalBasis != "" {
				why += ", contact on " + d.ContactLegalBasis
			}
		}
		fmt.Printf("%-22s %-18s %-8s %-34s %s\n", d.Role, d.Recipient, d.Effect, d.RuleID, why)
	}
	// Output:
	// incident_region        -                  is_sender
	// residence_municipality municipality:0751  allow    residence-municipality-follow-up   phone: true, notes: false
	// residence_municipality municipality:0751  withhold residence-municipality-information purpose_not_consented
	// residence_region       region:1082        allow    residence-region-follow-up         phone: true, notes: false
	// residence_region       region:1082        withhold residence-region-psychiatric       purpose_not_consented
	// incident_municipality  municipality:0101  withhold incident-municipality-follow-up    recipient_not_consented
	// incident_municipality  municipality:0101  allow    incident-municipality-acute        phone: true, notes: false, contact on acute_contact
	// police_district        police:koebenhavn  allow    police-district-identification     phone: false, notes: false
}

// holders is a consent.Links: the records each recipient received, as the
// service knows them from its deliveries.
type holders map[string][]string

func (h holders) Holds(recipient, recordID string) bool {
	return slices.Contains(h[recipient], recordID)
}

// A partner registered by the police, linked by the gateway to the record
// of the affected person, which the residence municipality received: the
// link travels to it, the other recipients get the kinship only, and the
// affected person's CPR number never leaves the gateway.
func ExamplePolicy_EvaluateLinked() {
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
	data, err := fs.ReadFile(schemas.FS, "examples/registration/valid/relative-named-by-cpr-before-the-affected.json")
	if err != nil {
		panic(err)
	}
	rec, err := record.Decode(data)
	if err != nil {
		panic(err)
	}
	const affected = "3f6c1d2e-8a4b-4c7d-9e1f-2a3b4c5d6e7f"
	rec.Relation.RelativeOf = affected // the gateway linked the two records

	route, err := router.Route(rec, "police:koebenhavn", at)
	if err != nil {
		panic(err)
	}
	outcomes, err := policy.EvaluateLinked(rec, route.Candidates, at, holders{"municipality:0751": {affected}})
	if err != nil {
		panic(err)
	}
	for _, o := range outcomes {
		if o.View == nil {
			continue
		}
		r := o.View.Relation
		fmt.Printf("%-18s relative_of: %-5v kinship: %s, affected: %v\n", o.Decision.Recipient, r.RelativeOf != "", r.Kinship, r.Affected != nil)
	}
	// Output:
	// municipality:0751  relative_of: true  kinship: partner, affected: false
	// municipality:0101  relative_of: false kinship: partner, affected: false
	// region:1084        relative_of: false kinship: partner, affected: false
}
