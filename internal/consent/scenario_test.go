package consent_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/psykosocial/exchange/internal/consent"
	"github.com/psykosocial/exchange/internal/record"
	"github.com/psykosocial/exchange/internal/refdata"
	"github.com/psykosocial/exchange/internal/routing"
)

// expect is what one candidate's decision must be.
type expect struct {
	recipient string
	effect    consent.Effect
	check     consent.Check            // for a withheld decision
	basis     consent.Basis            // the rule's basis
	givenBy   record.GivenBy           // who gave the consent a consent decision rests on
	has       []string                 // paths the view must disclose
	lacks     []string                 // paths the view must not disclose
	withheld  map[string]consent.Check // exactly the fields a safeguard kept out
}

const (
	pCPR       = "/person/cpr"
	pECPR      = "/person/ecpr"
	pName      = "/person/name"
	pBirth     = "/person/birth_date"
	pPhone     = "/person/phone"
	pEmail     = "/person/email"
	pAddress   = "/person/address"
	pProtected = "/person/address_protected"
	pLanguage  = "/person/language"
	pInterp    = "/person/interpreter_needed"
	pTitle     = "/incident/title"
	pIncMuni   = "/incident/municipality_code"
	pRelation  = "/relation"
	pPriority  = "/assessment/follow_up_priority"
	pNotes     = "/assessment/notes"
)

// healthAndContact is what no police view ever holds.
var healthAndContact = []string{pPhone, pEmail, pAddress, pLanguage, pInterp, pPriority, pNotes}

// TestScenarios routes and evaluates realistic records under the default
// policy and checks every decision, covering every rule and every check.
func TestScenarios(t *testing.T) {
	tests := []struct {
		name    string
		record  string
		edit    func(*record.Record)
		sender  string
		at      time.Time
		cfg     refdata.Config
		want    map[record.RecipientRole]expect
		omitted map[record.RecipientRole]routing.ReasonCode
	}{
		{
			name: "resident of Aarhus hurt in Copenhagen", record: "aarhus-resident-hurt-in-copenhagen",
			sender: "region:1084", at: june,
			want: map[record.RecipientRole]expect{
				record.RecipientResidenceMunicipality: {
					recipient: "municipality:0751", effect: consent.Allow, basis: consent.BasisConsent, givenBy: record.GivenBySelf,
					has:      []string{pCPR, pName, pBirth, pPhone, pAddress, pLanguage, pTitle, pIncMuni, pRelation, pPriority},
					lacks:    []string{pEmail, pNotes},
					withheld: map[string]consent.Check{pEmail: consent.CheckChannelNotConsented, pNotes: consent.CheckHealthNotesNotInRule},
				},
				record.RecipientResidenceRegion: {
					recipient: "region:1082", effect: consent.Allow, basis: consent.BasisConsent, givenBy: record.GivenBySelf,
					has:      []string{pCPR, pPhone, pAddress, pTitle, pRelation, pPriority, pNotes},
					lacks:    []string{pEmail},
					withheld: map[string]consent.Check{pEmail: consent.CheckChannelNotConsented},
				},
				record.RecipientIncidentMunicipality: {
					recipient: "municipality:0101", effect: consent.Allow, basis: consent.BasisLegal,
					has:      []string{pCPR, pName, pPhone, pLanguage, pTitle, pRelation, pPriority},
					lacks:    []string{pEmail, pAddress, pNotes},
					withheld: map[string]consent.Check{pEmail: consent.CheckChannelNotConsented, pNotes: consent.CheckHealthNotesNotInRule},
				},
				record.RecipientPoliceDistrict: {
					recipient: "police:koebenhavn", effect: consent.Allow, basis: consent.BasisLegal,
					has:   []string{pCPR, pName, pBirth, pTitle, pRelation},
					lacks: healthAndContact,
				},
			},
			omitted: map[record.RecipientRole]routing.ReasonCode{record.RecipientIncidentRegion: routing.IsSender},
		},
		{
			name: "relative living abroad", record: "relative-living-abroad",
			sender: "region:1084", at: june,
			want: map[record.RecipientRole]expect{
				record.RecipientIncidentMunicipality: {
					recipient: "municipality:0101", effect: consent.Allow, basis: consent.BasisLegal,
					has:   []string{pName, pBirth, pEmail, pLanguage, pRelation},
					lacks: []string{pAddress},
				},
				record.RecipientPoliceDistrict: {
					recipient: "police:koebenhavn", effect: consent.Allow, basis: consent.BasisLegal,
					has: []string{pName, pBirth, pRelation}, lacks: healthAndContact,
				},
			},
			omitted: map[record.RecipientRole]routing.ReasonCode{
				record.RecipientResidenceMunicipality: routing.LivesAbroad,
				record.RecipientResidenceRegion:       routing.LivesAbroad,
				record.RecipientIncidentRegion:        routing.IsSender,
			},
		},
		{
			name: "witness who refused follow-up", record: "witness-who-refused-follow-up",
			sender: "region:1082", at: time.Date(2026, 9, 3, 12, 0, 0, 0, cest),
			want: map[record.RecipientRole]expect{
				record.RecipientResidenceMunicipality: {recipient: "municipality:0461", effect: consent.Withhold, check: consent.CheckFollowUpNotGranted, basis: consent.BasisConsent, givenBy: record.GivenBySelf},
				record.RecipientResidenceRegion:       {recipient: "region:1083", effect: consent.Withhold, check: consent.CheckFollowUpNotGranted, basis: consent.BasisConsent, givenBy: record.GivenBySelf},
				record.RecipientIncidentMunicipality:  {recipient: "municipality:0657", effect: consent.Withhold, check: consent.CheckFollowUpRefused, basis: consent.BasisLegal},
				record.RecipientPoliceDistrict: {
					recipient: "police:midt_vestjylland", effect: consent.Allow, basis: consent.BasisLegal,
					has: []string{pCPR, pName, pRelation}, lacks: healthAndContact,
				},
			},
			omitted: map[record.RecipientRole]routing.ReasonCode{record.RecipientIncidentRegion: routing.IsSender},
		},
		{
			name: "police list without consent", record: "police-list-without-consent",
			sender: "police:nordjylland", at: time.Date(2026, 11, 2, 19, 0, 0, 0, cet),
			want: map[record.RecipientRole]expect{
				record.RecipientResidenceMunicipality: {recipient: "municipality:0851", effect: consent.Withhold, check: consent.CheckRegistrationNotObtained, basis: consent.BasisConsent},
				record.RecipientResidenceRegion:       {recipient: "region:1081", effect: consent.Withhold, check: consent.CheckRegistrationNotObtained, basis: consent.BasisConsent},
				record.RecipientIncidentMunicipality: {
					recipient: "municipality:0851", effect: consent.Allow, basis: consent.BasisLegal,
					has:      []string{pCPR, pName, pLanguage, pInterp, pTitle, pRelation},
					lacks:    []string{pPhone, pAddress},
					withheld: map[string]consent.Check{pPhone: consent.CheckChannelNotConsented},
				},
				record.RecipientIncidentRegion: {
					recipient: "region:1081", effect: consent.Allow, basis: consent.BasisLegal,
					has:      []string{pCPR, pName, pLanguage, pInterp, pTitle, pRelation},
					lacks:    []string{pPhone, pAddress},
					withheld: map[string]consent.Check{pPhone: consent.CheckChannelNotConsented},
				},
			},
			omitted: map[record.RecipientRole]routing.ReasonCode{record.RecipientPoliceDistrict: routing.IsSender},
		},
		{
			name: "consent expired", record: "aarhus-resident-hurt-in-copenhagen",
			edit:   func(r *record.Record) { r.Consent.FollowUp.ExpiresAt = ptr(time.Date(2026, 6, 15, 0, 0, 0, 0, cest)) },
			sender: "region:1084", at: june,
			want: map[record.RecipientRole]expect{
				record.RecipientResidenceMunicipality: {recipient: "municipality:0751", effect: consent.Withhold, check: consent.CheckConsentExpired, basis: consent.BasisConsent, givenBy: record.GivenBySelf},
				record.RecipientResidenceRegion:       {recipient: "region:1082", effect: consent.Withhold, check: consent.CheckConsentExpired, basis: consent.BasisConsent, givenBy: record.GivenBySelf},
				record.RecipientIncidentMunicipality: {
					recipient: "municipality:0101", effect: consent.Allow, basis: consent.BasisLegal,
					has: []string{pCPR, pName, pTitle}, lacks: []string{pPhone, pEmail},
					withheld: map[string]consent.Check{
						pPhone: consent.CheckChannelNotConsented, pEmail: consent.CheckChannelNotConsented,
						pNotes: consent.CheckHealthNotesNotInRule,
					},
				},
				record.RecipientPoliceDistrict: {recipient: "police:koebenhavn", effect: consent.Allow, basis: consent.BasisLegal, lacks: healthAndContact},
			},
			omitted: map[record.RecipientRole]routing.ReasonCode{record.RecipientIncidentRegion: routing.IsSender},
		},
		{
			name: "consent withdrawn after delivery", record: "consent-withdrawn-after-delivery",
			sender: "region:1084", at: time.Date(2026, 7, 2, 12, 0, 0, 0, cest),
			want: map[record.RecipientRole]expect{
				record.RecipientResidenceMunicipality: {recipient: "municipality:0630", effect: consent.Withhold, check: consent.CheckConsentWithdrawn, basis: consent.BasisConsent, givenBy: record.GivenBySelf},
				record.RecipientResidenceRegion:       {recipient: "region:1083", effect: consent.Withhold, check: consent.CheckConsentWithdrawn, basis: consent.BasisConsent, givenBy: record.GivenBySelf},
				record.RecipientIncidentMunicipality:  {recipient: "municipality:0101", effect: consent.Withhold, check: consent.CheckConsentWithdrawn, basis: consent.BasisLegal},
				record.RecipientPoliceDistrict:        {recipient: "police:koebenhavn", effect: consent.Withhold, check: consent.CheckConsentWithdrawn, basis: consent.BasisLegal},
			},
			omitted: map[record.RecipientRole]routing.ReasonCode{record.RecipientIncidentRegion: routing.IsSender},
		},
		{
			name: "child with guardian consent", record: "child-with-guardian-consent",
			sender: "region:1083", at: time.Date(2026, 8, 22, 12, 0, 0, 0, cest),
			want: map[record.RecipientRole]expect{
				record.RecipientResidenceMunicipality: {
					recipient: "municipality:0561", effect: consent.Allow, basis: consent.BasisConsent, givenBy: record.GivenByGuardian,
					has: []string{pCPR, pName, pBirth, pAddress, pRelation, pPriority},
				},
				record.RecipientIncidentMunicipality: {
					recipient: "municipality:0561", effect: consent.Allow, basis: consent.BasisLegal,
					has: []string{pCPR, pName, pPriority}, lacks: []string{pAddress},
				},
				record.RecipientPoliceDistrict: {recipient: "police:syd_soenderjylland", effect: consent.Allow, basis: consent.BasisLegal, lacks: healthAndContact},
			},
			omitted: map[record.RecipientRole]routing.ReasonCode{
				record.RecipientResidenceRegion: routing.IsSender,
				record.RecipientIncidentRegion:  routing.IsSender,
			},
		},
		{
			name: "consent given by a representative", record: "aarhus-resident-hurt-in-copenhagen",
			edit:   func(r *record.Record) { r.Consent.GivenBy = record.GivenByRepresentative },
			sender: "municipality:0101", at: june,
			want: map[record.RecipientRole]expect{
				record.RecipientResidenceMunicipality: {recipient: "municipality:0751", effect: consent.Allow, basis: consent.BasisConsent, givenBy: record.GivenByRepresentative,
					withheld: map[string]consent.Check{pEmail: consent.CheckChannelNotConsented, pNotes: consent.CheckHealthNotesNotInRule}},
				record.RecipientResidenceRegion: {recipient: "region:1082", effect: consent.Allow, basis: consent.BasisConsent, givenBy: record.GivenByRepresentative,
					has: []string{pNotes}, withheld: map[string]consent.Check{pEmail: consent.CheckChannelNotConsented}},
				record.RecipientIncidentRegion: {recipient: "region:1084", effect: consent.Allow, basis: consent.BasisLegal,
					withheld: map[string]consent.Check{pEmail: consent.CheckChannelNotConsented, pNotes: consent.CheckHealthNotesNotInRule}},
				record.RecipientPoliceDistrict: {recipient: "police:koebenhavn", effect: consent.Allow, basis: consent.BasisLegal},
			},
			omitted: map[record.RecipientRole]routing.ReasonCode{record.RecipientIncidentMunicipality: routing.IsSender},
		},
		{
			name: "protected address goes only to the residence municipality", record: "aarhus-resident-hurt-in-copenhagen",
			edit:   func(r *record.Record) { r.Person.AddressProtected = true },
			sender: "region:1084", at: june,
			want: map[record.RecipientRole]expect{
				record.RecipientResidenceMunicipality: {
					recipient: "municipality:0751", effect: consent.Allow, basis: consent.BasisConsent, givenBy: record.GivenBySelf,
					has:      []string{pAddress, pProtected},
					withheld: map[string]consent.Check{pEmail: consent.CheckChannelNotConsented, pNotes: consent.CheckHealthNotesNotInRule},
				},
				record.RecipientResidenceRegion: {
					recipient: "region:1082", effect: consent.Allow, basis: consent.BasisConsent, givenBy: record.GivenBySelf,
					has: []string{pProtected, pNotes}, lacks: []string{pAddress},
					withheld: map[string]consent.Check{pEmail: consent.CheckChannelNotConsented, pAddress: consent.CheckAddressProtected},
				},
				record.RecipientIncidentMunicipality: {
					recipient: "municipality:0101", effect: consent.Allow, basis: consent.BasisLegal,
					has: []string{pProtected}, lacks: []string{pAddress},
					withheld: map[string]consent.Check{pEmail: consent.CheckChannelNotConsented, pNotes: consent.CheckHealthNotesNotInRule},
				},
				record.RecipientPoliceDistrict: {recipient: "police:koebenhavn", effect: consent.Allow, basis: consent.BasisLegal, has: []string{pProtected}, lacks: healthAndContact},
			},
			omitted: map[record.RecipientRole]routing.ReasonCode{record.RecipientIncidentRegion: routing.IsSender},
		},
		{
			name: "Christiansø resident", record: "christiansoe-resident",
			sender: "region:1084", at: time.Date(2026, 7, 1, 16, 0, 0, 0, cest),
			want: map[record.RecipientRole]expect{
				record.RecipientIncidentMunicipality: {recipient: "municipality:0400", effect: consent.Allow, basis: consent.BasisLegal,
					has: []string{pCPR, pName, pPhone, pRelation}, lacks: []string{pAddress}},
				record.RecipientPoliceDistrict: {recipient: "police:bornholm", effect: consent.Allow, basis: consent.BasisLegal,
					has: []string{pCPR, pName}, lacks: healthAndContact},
			},
			omitted: map[record.RecipientRole]routing.ReasonCode{
				record.RecipientResidenceMunicipality: routing.OutsideMunicipalDivision,
				record.RecipientResidenceRegion:       routing.OutsideMunicipalDivision,
				record.RecipientIncidentRegion:        routing.IsSender,
			},
		},
		{
			name: "after the 2027 merger", record: "aarhus-resident-hurt-in-copenhagen",
			edit: func(r *record.Record) {
				occurred := time.Date(2027, 2, 27, 21, 40, 0, 0, cet)
				obtained := occurred.Add(90 * time.Minute)
				r.Incident.OccurredAt, r.Incident.RegionCode = &occurred, eastCode
				r.Registered.At, r.Registered.ByAuthority, r.Registered.ByRole = &obtained, "municipality:0101", record.RoleCrisisTeam
				r.Consent.Obtained.At, r.Consent.Obtained.By = &obtained, &record.ObtainedBy{Authority: "municipality:0101", Role: record.RoleCrisisTeam}
				r.Consent.FollowUp.ExpiresAt = ptr(time.Date(2028, 2, 27, 0, 0, 0, 0, cet))
				r.Person.Address = &record.Address{Street: "Algade 1", PostalCode: "4000", City: "Roskilde", MunicipalityCode: "0265"}
			},
			sender: "municipality:0101", at: time.Date(2027, 3, 2, 12, 0, 0, 0, cet), cfg: eastConfig,
			want: map[record.RecipientRole]expect{
				record.RecipientResidenceMunicipality: {recipient: "municipality:0265", effect: consent.Allow, basis: consent.BasisConsent, givenBy: record.GivenBySelf, has: []string{pAddress},
					withheld: map[string]consent.Check{pEmail: consent.CheckChannelNotConsented, pNotes: consent.CheckHealthNotesNotInRule}},
				record.RecipientResidenceRegion: {recipient: "region:" + eastCode, effect: consent.Allow, basis: consent.BasisConsent, givenBy: record.GivenBySelf,
					has: []string{pAddress, pNotes}, withheld: map[string]consent.Check{pEmail: consent.CheckChannelNotConsented}},
				record.RecipientIncidentRegion: {recipient: "region:" + eastCode, effect: consent.Allow, basis: consent.BasisLegal,
					has: []string{pCPR, pPhone}, lacks: []string{pAddress, pNotes},
					withheld: map[string]consent.Check{pEmail: consent.CheckChannelNotConsented, pNotes: consent.CheckHealthNotesNotInRule}},
				record.RecipientPoliceDistrict: {recipient: "police:koebenhavn", effect: consent.Allow, basis: consent.BasisLegal},
			},
			omitted: map[record.RecipientRole]routing.ReasonCode{record.RecipientIncidentMunicipality: routing.IsSender},
		},
		{
			name: "refused registration forwards nothing", record: "refused-registration-count-only",
			sender: "region:1082", at: time.Date(2026, 9, 3, 12, 0, 0, 0, cest),
			want: map[record.RecipientRole]expect{
				record.RecipientIncidentMunicipality: {recipient: "municipality:0657", effect: consent.Withhold, check: consent.CheckRegistrationRefused, basis: consent.BasisLegal},
				record.RecipientPoliceDistrict:       {recipient: "police:midt_vestjylland", effect: consent.Withhold, check: consent.CheckRegistrationRefused, basis: consent.BasisLegal},
			},
			omitted: map[record.RecipientRole]routing.ReasonCode{
				record.RecipientResidenceMunicipality: routing.NoPerson,
				record.RecipientResidenceRegion:       routing.NoPerson,
				record.RecipientIncidentRegion:        routing.IsSender,
			},
		},
		{
			name: "incident period over: follow-up on consent continues, acute support and identification end", record: "aarhus-resident-hurt-in-copenhagen",
			sender: "region:1084", at: time.Date(2026, 6, 21, 21, 40, 0, 0, cest),
			want: map[record.RecipientRole]expect{
				record.RecipientResidenceMunicipality: {recipient: "municipality:0751", effect: consent.Allow, basis: consent.BasisConsent, givenBy: record.GivenBySelf,
					withheld: map[string]consent.Check{pEmail: consent.CheckChannelNotConsented, pNotes: consent.CheckHealthNotesNotInRule}},
				record.RecipientResidenceRegion: {recipient: "region:1082", effect: consent.Allow, basis: consent.BasisConsent, givenBy: record.GivenBySelf,
					withheld: map[string]consent.Check{pEmail: consent.CheckChannelNotConsented}},
				record.RecipientIncidentMunicipality: {recipient: "municipality:0101", effect: consent.Withhold, check: consent.CheckIncidentPeriodEnded, basis: consent.BasisLegal},
				record.RecipientPoliceDistrict:       {recipient: "police:koebenhavn", effect: consent.Withhold, check: consent.CheckIncidentPeriodEnded, basis: consent.BasisLegal},
			},
			omitted: map[record.RecipientRole]routing.ReasonCode{record.RecipientIncidentRegion: routing.IsSender},
		},
		{
			name: "incident time unknown: no legal basis can be timed", record: "aarhus-resident-hurt-in-copenhagen",
			edit:   func(r *record.Record) { r.Incident.OccurredAt = nil },
			sender: "region:1084", at: june,
			want: map[record.RecipientRole]expect{
				record.RecipientResidenceMunicipality: {recipient: "municipality:0751", effect: consent.Allow, basis: consent.BasisConsent, givenBy: record.GivenBySelf,
					withheld: map[string]consent.Check{pEmail: consent.CheckChannelNotConsented, pNotes: consent.CheckHealthNotesNotInRule}},
				record.RecipientResidenceRegion: {recipient: "region:1082", effect: consent.Allow, basis: consent.BasisConsent, givenBy: record.GivenBySelf,
					withheld: map[string]consent.Check{pEmail: consent.CheckChannelNotConsented}},
				record.RecipientIncidentMunicipality: {recipient: "municipality:0101", effect: consent.Withhold, check: consent.CheckIncidentTimeUnknown, basis: consent.BasisLegal},
				record.RecipientPoliceDistrict:       {recipient: "police:koebenhavn", effect: consent.Withhold, check: consent.CheckIncidentTimeUnknown, basis: consent.BasisLegal},
			},
			omitted: map[record.RecipientRole]routing.ReasonCode{record.RecipientIncidentRegion: routing.IsSender},
		},
		{
			name: "consent names the residence municipality only", record: "aarhus-resident-hurt-in-copenhagen",
			edit: func(r *record.Record) {
				r.Consent.FollowUp.Grants = r.Consent.FollowUp.Grants[:1] // the residence municipality
			},
			sender: "region:1084", at: june,
			want: map[record.RecipientRole]expect{
				record.RecipientResidenceMunicipality: {recipient: "municipality:0751", effect: consent.Allow, basis: consent.BasisConsent, givenBy: record.GivenBySelf,
					withheld: map[string]consent.Check{pEmail: consent.CheckChannelNotConsented, pNotes: consent.CheckHealthNotesNotInRule}},
				record.RecipientResidenceRegion: {recipient: "region:1082", effect: consent.Withhold, check: consent.CheckRecipientNotConsented, basis: consent.BasisConsent, givenBy: record.GivenBySelf},
				record.RecipientIncidentMunicipality: {recipient: "municipality:0101", effect: consent.Allow, basis: consent.BasisLegal,
					withheld: map[string]consent.Check{pEmail: consent.CheckChannelNotConsented, pNotes: consent.CheckHealthNotesNotInRule}},
				record.RecipientPoliceDistrict: {recipient: "police:koebenhavn", effect: consent.Allow, basis: consent.BasisLegal},
			},
			omitted: map[record.RecipientRole]routing.ReasonCode{record.RecipientIncidentRegion: routing.IsSender},
		},
		{
			name: "consent names acute support only: no follow-up by the residence", record: "aarhus-resident-hurt-in-copenhagen",
			edit: func(r *record.Record) {
				for i := range r.Consent.FollowUp.Grants {
					r.Consent.FollowUp.Grants[i].Purposes = []record.Purpose{record.PurposeAcuteSupport}
				}
			},
			sender: "region:1084", at: june,
			want: map[record.RecipientRole]expect{
				record.RecipientResidenceMunicipality: {recipient: "municipality:0751", effect: consent.Withhold, check: consent.CheckPurposeNotConsented, basis: consent.BasisConsent, givenBy: record.GivenBySelf},
				record.RecipientResidenceRegion:       {recipient: "region:1082", effect: consent.Withhold, check: consent.CheckPurposeNotConsented, basis: consent.BasisConsent, givenBy: record.GivenBySelf},
				record.RecipientIncidentMunicipality: {recipient: "municipality:0101", effect: consent.Allow, basis: consent.BasisLegal,
					withheld: map[string]consent.Check{pEmail: consent.CheckChannelNotConsented, pNotes: consent.CheckHealthNotesNotInRule}},
				record.RecipientPoliceDistrict: {recipient: "police:koebenhavn", effect: consent.Allow, basis: consent.BasisLegal},
			},
			omitted: map[record.RecipientRole]routing.ReasonCode{record.RecipientIncidentRegion: routing.IsSender},
		},
		{
			name: "staff member with eCPR and an interpreter", record: "staff-member-with-ecpr",
			sender: "region:1085", at: time.Date(2026, 5, 11, 1, 0, 0, 0, cest),
			want: map[record.RecipientRole]expect{
				record.RecipientResidenceMunicipality: {recipient: "municipality:0265", effect: consent.Allow, basis: consent.BasisConsent, givenBy: record.GivenBySelf,
					has: []string{pECPR, pName, pPhone, pLanguage, pInterp, pAddress, pPriority}},
				record.RecipientIncidentMunicipality: {recipient: "municipality:0265", effect: consent.Allow, basis: consent.BasisLegal,
					has: []string{pECPR, pPhone, pInterp}, lacks: []string{pAddress}},
				record.RecipientPoliceDistrict: {recipient: "police:midt_vestsjaelland", effect: consent.Allow, basis: consent.BasisLegal,
					has: []string{pECPR}, lacks: healthAndContact},
			},
			omitted: map[record.RecipientRole]routing.ReasonCode{
				record.RecipientResidenceRegion: routing.IsSender,
				record.RecipientIncidentRegion:  routing.IsSender,
			},
		},
	}
	envs := map[refdata.Config]*env{}
	schema := recordSchema(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := envs[tc.cfg]
			if e == nil {
				e = newEnv(t, tc.cfg)
				envs[tc.cfg] = e
			}
			rec := example(t, tc.record)
			if tc.edit != nil {
				tc.edit(rec)
			}
			v := e.validator(tc.at)
			if probs := v.Validate(rec); probs != nil {
				t.Fatalf("the scenario's record is invalid: %v", probs)
			}
			res, out := e.decide(t, rec, tc.sender, tc.at)
			omitted := map[record.RecipientRole]routing.ReasonCode{}
			for _, o := range res.Omitted {
				omitted[o.Role] = o.Reason.Code
			}
			for role, code := range tc.omitted {
				if omitted[role] != code {
					t.Errorf("%s: omitted with %q, want %q", role, omitted[role], code)
				}
			}
			seen := map[record.RecipientRole]bool{}
			for _, o := range out {
				d := o.Decision
				seen[d.Role] = true
				w, ok := tc.want[d.Role]
				if !ok {
					t.Errorf("unexpected decision: %s", d)
					continue
				}
				for _, p := range checkOutcome(t, v, rec, o) {
					t.Errorf("%s: %s", d.Role, p)
				}
				if o.View != nil {
					if err := schemaAccepts(t, schema, []byte(canonical(t, o.View))); err != nil {
						t.Errorf("%s: the view fails schema v1: %v", d.Role, err)
					}
				}
				checkExpect(t, d, w)
			}
			for role := range tc.want {
				if !seen[role] {
					t.Errorf("%s: no decision", role)
				}
			}
		})
	}
}

func checkExpect(t *testing.T, d consent.Decision, w expect) {
	t.Helper()
	if d.Recipient != w.recipient || d.Effect != w.effect || d.Check != w.check || d.Basis != w.basis || d.GivenBy != w.givenBy {
		t.Errorf("%s: got %s/%s/%q/%s/given by %q, want %s/%s/%q/%s/given by %q\n%s", d.Role,
			d.Recipient, d.Effect, d.Check, d.Basis, d.GivenBy, w.recipient, w.effect, w.check, w.basis, w.givenBy, d)
	}
	for _, p := range w.has {
		if !slices.Contains(d.Fields, p) {
			t.Errorf("%s: %s is not disclosed: %v", d.Role, p, d.Fields)
		}
	}
	for _, p := range w.lacks {
		if slices.Contains(d.Fields, p) {
			t.Errorf("%s: %s is disclosed", d.Role, p)
		}
	}
	got := map[string]consent.Check{}
	for _, f := range d.Withheld {
		got[f.Path] = f.Check
	}
	if w.withheld == nil {
		w.withheld = map[string]consent.Check{}
	}
	if d.Effect == consent.Allow {
		if diff := cmp.Diff(w.withheld, got); diff != "" {
			t.Errorf("%s: withheld fields (-want +got):\n%s", d.Role, diff)
		}
	}
}

// The sentences a DPO reads, for the Aarhus resident's residence
// municipality and the witness's residence municipality.
func TestDecisionSentences(t *testing.T) {
	e := newEnv(t, refdata.Config{})
	_, out := e.decide(t, example(t, "aarhus-resident-hurt-in-copenhagen"), "region:1084", june)
	got := out[0].Decision.String()
	want := "Allowed: municipality:0751 receives record 3f6c1d2e-8a4b-4c7d-9e1f-2a3b4c5d6e7f version 1 as residence municipality " +
		"for psychosocial follow up, under rule residence-municipality-follow-up of policy dk-default-2026.1, " +
		"on the follow-up consent given by the person (/consent/follow_up/recipients/0, /consent/follow_up/purposes/0). " +
		"Disclosed: /schema, /record_id, /version, /incident/id, /incident/title, /incident/kind, /incident/occurred_at, " +
		"/incident/municipality_code, /incident/region_code, /incident/site, /registered, /person/cpr, /person/name, " +
		"/person/birth_date, /person/phone, /person/address, /person/language, /relation, /assessment/follow_up_priority, /consent. " +
		"Kept out of the view: /person/email (the email channel is not consented); " +
		"/assessment/notes (health data, which the rule does not disclose)."
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	_, out = e.decide(t, example(t, "witness-who-refused-follow-up"), "region:1082", time.Date(2026, 9, 3, 12, 0, 0, 0, cest))
	got = out[0].Decision.String()
	want = "Withheld: municipality:0461 does not receive record c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f version 2 as residence municipality " +
		"for psychosocial follow up, under rule residence-municipality-follow-up of policy dk-default-2026.1: " +
		"the person did not consent to follow-up contact."
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// A resident of the incident municipality is routed to the same authority
// twice; each role is decided on its own and ViewOf merges the views.
func TestSameAuthorityInTwoRoles(t *testing.T) {
	e := newEnv(t, refdata.Config{})
	rec := example(t, "child-with-guardian-consent")
	at := time.Date(2026, 8, 22, 12, 0, 0, 0, cest)
	_, out := e.decide(t, rec, "region:1083", at)
	var mine []consent.Decision
	for _, o := range out {
		if o.Decision.Recipient == "municipality:0561" {
			mine = append(mine, o.Decision)
		}
	}
	if len(mine) != 2 {
		t.Fatalf("got %d decisions for municipality:0561, want 2 (residence and incident)", len(mine))
	}
	merged, err := consent.ViewOf(rec, mine...)
	if err != nil {
		t.Fatal(err)
	}
	if merged.Person == nil || merged.Person.Address == nil || merged.Assessment == nil {
		t.Errorf("merged view lacks the address or priority: %s", canonical(t, merged))
	}
	if probs := e.validator(at).Validate(merged); probs != nil {
		t.Errorf("merged view is invalid: %v", probs)
	}
	police := out[len(out)-1].Decision
	if _, err := consent.ViewOf(rec, mine[0], police); err == nil {
		t.Error("ViewOf merged the decisions of two authorities")
	}
}

// A policy without a rule for a role withholds from that role: nothing is
// allowed that no rule allows.
func TestNoRuleWithholds(t *testing.T) {
	p := loadEdited(t, func(d *consent.Document) { d.Rules = d.Rules[:2] })
	e := newEnv(t, refdata.Config{})
	rec := example(t, "aarhus-resident-hurt-in-copenhagen")
	res, err := e.router.Route(rec, "region:1084", june)
	if err != nil {
		t.Fatal(err)
	}
	out, err := p.Evaluate(rec, res.Candidates, june)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range out {
		d := o.Decision
		switch d.Role {
		case record.RecipientResidenceMunicipality, record.RecipientResidenceRegion:
			if d.Effect != consent.Allow {
				t.Errorf("%s: %s", d.Role, d)
			}
		default:
			if d.Effect != consent.Withhold || d.Check != consent.CheckNoRule || d.RuleID != "" || o.View != nil {
				t.Errorf("%s: got %+v, want withheld by no_rule", d.Role, d)
			}
			if s := d.String(); !strings.Contains(s, "no rule of policy") {
				t.Errorf("%s: %s", d.Role, s)
			}
		}
	}
}
