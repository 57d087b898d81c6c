package consent_test

import (
	"reflect"
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

// expect is what one decision must be. Scenarios key it by rule id (the
// roles have several rules each), or by role for a decision without a
// rule (no_rule, recipient_not_configured).
type expect struct {
	recipient    string
	effect       consent.Effect
	check        consent.Check            // for a withheld decision
	contactBasis string                   // Decision.ContactLegalBasis
	has          []string                 // paths the view must disclose
	lacks        []string                 // paths the view must not disclose
	withheld     map[string]consent.Check // exactly the fields a safeguard kept out
}

// no is a decision withheld by check.
func no(recipient string, check consent.Check) expect {
	return expect{recipient: recipient, effect: consent.Withhold, check: check}
}

// The rules of the default policy.
const (
	rmFollowUp    = "residence-municipality-follow-up"
	rmInformation = "residence-municipality-information"
	rrFollowUp    = "residence-region-follow-up"
	rrPsychiatric = "residence-region-psychiatric"
	imFollowUp    = "incident-municipality-follow-up"
	irFollowUp    = "incident-region-follow-up"
	irPsychiatric = "incident-region-psychiatric"
	imAcute       = "incident-municipality-acute"
	irAcute       = "incident-region-acute"
	pdIdentify    = "police-district-identification"
)

const (
	pCPR           = "/person/cpr"
	pECPR          = "/person/ecpr"
	pName          = "/person/name"
	pBirth         = "/person/birth_date"
	pPhone         = "/person/phone"
	pEmail         = "/person/email"
	pAddress       = "/person/address"
	pProtected     = "/person/address_protected"
	pLanguage      = "/person/language"
	pInterp        = "/person/interpreter_needed"
	pTitle         = "/incident/title"
	pIncMuni       = "/incident/municipality_code"
	pRelType       = "/relation/type"
	pRelativeOf    = "/relation/relative_of"
	pKinship       = "/relation/kinship"
	pAffected      = "/relation/affected"
	pPriority      = "/assessment/follow_up_priority"
	pNotes         = "/assessment/notes"
	pGuardianPhone = "/consent/guardian/phone"
	pGuardianEmail = "/consent/guardian/email"
)

// healthAndContact is what no police view ever holds.
var healthAndContact = []string{pPhone, pEmail, pAddress, pLanguage, pInterp, pPriority, pNotes, pGuardianPhone, pGuardianEmail}

// Safeguards, short.
const (
	channel   = consent.CheckChannelNotConsented
	notInRule = consent.CheckHealthNotesNotInRule
	minorOwn  = consent.CheckMinorOwnContact
	notHeld   = consent.CheckLinkNotHeld
	pnc       = consent.CheckPurposeNotConsented
	rnc       = consent.CheckRecipientNotConsented
)

// aarhusID is the record id of the Aarhus resident of the examples, whom
// the relatives of the examples belong to.
const aarhusID = "3f6c1d2e-8a4b-4c7d-9e1f-2a3b4c5d6e7f"

// holders (example_test.go) is the Links of the scenarios.
var _ consent.Links = holders(nil)

// noAcuteContact switches acute contact off, as a data-protection officer
// would: contact_legal_basis removed from the acute rules, a new version.
func noAcuteContact(d *consent.Document) {
	d.Version = "dk-no-acute-contact-2026.2"
	for i := range d.Rules {
		d.Rules[i].ContactLegalBasis = ""
	}
}

// minorsOwnContact lets a minor's own phone and e-mail travel with their
// consented channels.
func minorsOwnContact(d *consent.Document) {
	d.Version = "dk-minors-own-contact-2026.2"
	d.Minors.OwnContact = true
}

// minorWithPhone gives the child of the examples a phone of her own, the
// guardian an e-mail address too, and consents the phone channel (not
// e-mail) to the residence municipality.
func minorWithPhone(r *record.Record) {
	r.Person.Phone = "+4520304050"
	r.Consent.Guardian.Email = "karina.holm@example.dk"
	r.Consent.FollowUp.Grants[0].Channels = []record.Channel{record.ChannelPhone, record.ChannelDigitalPost}
}

// linked is the relative named by CPR number once the gateway has linked
// the record to the affected person's (the Aarhus resident's) record.
func linked(r *record.Record) { r.Relation.RelativeOf = aarhusID }

// scenario is one record routed and evaluated, and every decision expected.
type scenario struct {
	name    string
	record  string
	edit    func(*record.Record)
	sender  string
	at      time.Time
	cfg     refdata.Config
	policy  func(*consent.Document) // edits the default policy
	links   consent.Links
	want    map[string]expect // by rule id; by role for a decision without a rule
	omitted map[record.RecipientRole]routing.ReasonCode
}

// day8 is the day after the 7-day incident period of the Vesterbro fire.
var day8 = time.Date(2026, 6, 22, 12, 0, 0, 0, cest)

func scenarios() []scenario {
	herning := time.Date(2026, 9, 3, 12, 0, 0, 0, cest)
	esbjerg := time.Date(2026, 8, 22, 12, 0, 0, 0, cest)
	// aarhusPlainFollowUp is what a safeguard keeps out of the Aarhus
	// resident's views when a rule gives the contact and assessment
	// groups: the e-mail address (only phone and Digital Post are
	// consented) and the notes (no health purpose is consented).
	aarhusPlainFollowUp := map[string]consent.Check{pEmail: channel, pNotes: notInRule}
	return []scenario{
		{
			name: "resident of Aarhus hurt in Copenhagen", record: "aarhus-resident-hurt-in-copenhagen",
			sender: "region:1084", at: june,
			want: map[string]expect{
				rmFollowUp: {
					recipient: "municipality:0751", effect: consent.Allow,
					has:      []string{pCPR, pName, pBirth, pPhone, pAddress, pLanguage, pTitle, pIncMuni, pRelType, pPriority},
					lacks:    []string{pEmail, pNotes},
					withheld: aarhusPlainFollowUp,
				},
				rmInformation: no("municipality:0751", pnc),
				// Plain psychosocial follow-up carries no health data.
				rrFollowUp: {
					recipient: "region:1082", effect: consent.Allow,
					has:      []string{pCPR, pPhone, pAddress, pTitle, pRelType, pPriority},
					lacks:    []string{pEmail, pNotes},
					withheld: aarhusPlainFollowUp,
				},
				rrPsychiatric: no("region:1082", pnc),
				imFollowUp:    no("municipality:0101", rnc),
				// The phone is consented to the residence authorities only;
				// the incident municipality gets it on acute_contact.
				imAcute: {
					recipient: "municipality:0101", effect: consent.Allow, contactBasis: "acute_contact",
					has:      []string{pCPR, pName, pPhone, pLanguage, pTitle, pRelType, pPriority},
					lacks:    []string{pEmail, pAddress, pNotes},
					withheld: aarhusPlainFollowUp,
				},
				pdIdentify: {
					recipient: "police:koebenhavn", effect: consent.Allow,
					has:   []string{pCPR, pName, pBirth, pTitle, pRelType},
					lacks: healthAndContact,
				},
			},
			omitted: map[record.RecipientRole]routing.ReasonCode{record.RecipientIncidentRegion: routing.IsSender},
		},
		{
			name: "relative living abroad: the incident municipality owns follow-up, the link stays with its holders", record: "relative-living-abroad",
			sender: "region:1084", at: june,
			want: map[string]expect{
				rmFollowUp:    no("municipality:0101", rnc),
				rmInformation: no("municipality:0101", rnc),
				imFollowUp:    no("municipality:0101", rnc),
				imAcute: {
					recipient: "municipality:0101", effect: consent.Allow, contactBasis: "acute_contact",
					has:      []string{pName, pBirth, pEmail, pLanguage, pRelType},
					lacks:    []string{pAddress, pRelativeOf},
					withheld: map[string]consent.Check{pRelativeOf: notHeld},
				},
				pdIdentify: {
					recipient: "police:koebenhavn", effect: consent.Allow,
					has: []string{pName, pBirth, pRelType}, lacks: append([]string{pRelativeOf}, healthAndContact...),
					withheld: map[string]consent.Check{pRelativeOf: notHeld},
				},
			},
			omitted: map[record.RecipientRole]routing.ReasonCode{
				record.RecipientResidenceRegion: routing.IsSender,
				record.RecipientIncidentRegion:  routing.IsSender,
			},
		},
		{
			name: "witness who refused follow-up", record: "witness-who-refused-follow-up",
			sender: "region:1082", at: herning,
			want: map[string]expect{
				rmFollowUp:    no("municipality:0461", consent.CheckFollowUpNotGranted),
				rmInformation: no("municipality:0461", consent.CheckFollowUpNotGranted),
				rrFollowUp:    no("region:1083", consent.CheckFollowUpNotGranted),
				rrPsychiatric: no("region:1083", consent.CheckFollowUpNotGranted),
				imFollowUp:    no("municipality:0657", consent.CheckFollowUpNotGranted),
				imAcute:       no("municipality:0657", consent.CheckFollowUpRefused),
				pdIdentify: {
					recipient: "police:midt_vestjylland", effect: consent.Allow,
					has: []string{pCPR, pName, pRelType}, lacks: healthAndContact,
				},
			},
			omitted: map[record.RecipientRole]routing.ReasonCode{record.RecipientIncidentRegion: routing.IsSender},
		},
		{
			name: "police list without consent", record: "police-list-without-consent",
			sender: "police:nordjylland", at: time.Date(2026, 11, 2, 19, 0, 0, 0, cet),
			want: map[string]expect{
				rmFollowUp:    no("municipality:0851", consent.CheckRegistrationNotObtained),
				rmInformation: no("municipality:0851", consent.CheckRegistrationNotObtained),
				rrFollowUp:    no("region:1081", consent.CheckRegistrationNotObtained),
				rrPsychiatric: no("region:1081", consent.CheckRegistrationNotObtained),
				imFollowUp:    no("municipality:0851", consent.CheckRegistrationNotObtained),
				irFollowUp:    no("region:1081", consent.CheckRegistrationNotObtained),
				irPsychiatric: no("region:1081", consent.CheckRegistrationNotObtained),
				// No channel is consented to anyone: acute_contact has none to give.
				imAcute: {
					recipient: "municipality:0851", effect: consent.Allow,
					has:      []string{pCPR, pName, pLanguage, pInterp, pTitle, pRelType},
					lacks:    []string{pPhone, pAddress},
					withheld: map[string]consent.Check{pPhone: channel},
				},
				irAcute: {
					recipient: "region:1081", effect: consent.Allow,
					has:      []string{pCPR, pName, pLanguage, pInterp, pTitle, pRelType},
					lacks:    []string{pPhone, pAddress},
					withheld: map[string]consent.Check{pPhone: channel},
				},
			},
			omitted: map[record.RecipientRole]routing.ReasonCode{record.RecipientPoliceDistrict: routing.IsSender},
		},
		{
			name: "consent expired", record: "aarhus-resident-hurt-in-copenhagen",
			edit:   func(r *record.Record) { r.Consent.FollowUp.ExpiresAt = ptr(time.Date(2026, 6, 15, 0, 0, 0, 0, cest)) },
			sender: "region:1084", at: june,
			want: map[string]expect{
				rmFollowUp:    no("municipality:0751", consent.CheckConsentExpired),
				rmInformation: no("municipality:0751", consent.CheckConsentExpired),
				rrFollowUp:    no("region:1082", consent.CheckConsentExpired),
				rrPsychiatric: no("region:1082", consent.CheckConsentExpired),
				imFollowUp:    no("municipality:0101", consent.CheckConsentExpired),
				// An expired consent covers no channel, for acute contact neither.
				imAcute: {
					recipient: "municipality:0101", effect: consent.Allow,
					has: []string{pCPR, pName, pTitle}, lacks: []string{pPhone, pEmail},
					withheld: map[string]consent.Check{pPhone: channel, pEmail: channel, pNotes: notInRule},
				},
				pdIdentify: {recipient: "police:koebenhavn", effect: consent.Allow, lacks: healthAndContact},
			},
			omitted: map[record.RecipientRole]routing.ReasonCode{record.RecipientIncidentRegion: routing.IsSender},
		},
		{
			name: "consent withdrawn after delivery", record: "consent-withdrawn-after-delivery",
			sender: "region:1084", at: time.Date(2026, 7, 2, 12, 0, 0, 0, cest),
			want: map[string]expect{
				rmFollowUp:    no("municipality:0630", consent.CheckConsentWithdrawn),
				rmInformation: no("municipality:0630", consent.CheckConsentWithdrawn),
				rrFollowUp:    no("region:1083", consent.CheckConsentWithdrawn),
				rrPsychiatric: no("region:1083", consent.CheckConsentWithdrawn),
				imFollowUp:    no("municipality:0101", consent.CheckConsentWithdrawn),
				imAcute:       no("municipality:0101", consent.CheckConsentWithdrawn),
				pdIdentify:    no("police:koebenhavn", consent.CheckConsentWithdrawn),
			},
			omitted: map[record.RecipientRole]routing.ReasonCode{record.RecipientIncidentRegion: routing.IsSender},
		},
		{
			name: "child with guardian consent to Digital Post only: the guardian's phone stays", record: "child-with-guardian-consent",
			sender: "region:1083", at: esbjerg,
			want: map[string]expect{
				rmFollowUp: {
					recipient: "municipality:0561", effect: consent.Allow,
					has:      []string{pCPR, pName, pBirth, pAddress, pRelType, pPriority},
					lacks:    []string{pGuardianPhone},
					withheld: map[string]consent.Check{pGuardianPhone: channel},
				},
				rmInformation: no("municipality:0561", pnc),
				imFollowUp:    no("municipality:0561", rnc),
				imAcute: {
					recipient: "municipality:0561", effect: consent.Allow,
					has: []string{pCPR, pName, pPriority}, lacks: []string{pAddress, pGuardianPhone},
					withheld: map[string]consent.Check{pGuardianPhone: channel},
				},
				pdIdentify: {recipient: "police:syd_soenderjylland", effect: consent.Allow, lacks: healthAndContact},
			},
			omitted: map[record.RecipientRole]routing.ReasonCode{
				record.RecipientResidenceRegion: routing.IsSender,
				record.RecipientIncidentRegion:  routing.IsSender,
			},
		},
		{
			name: "minor with guardian consent to the phone channel: the guardian's phone travels, the child's own does not", record: "child-with-guardian-consent",
			edit: minorWithPhone, sender: "region:1083", at: esbjerg,
			want: map[string]expect{
				rmFollowUp: {
					recipient: "municipality:0561", effect: consent.Allow,
					has:      []string{pCPR, pName, pAddress, pGuardianPhone},
					lacks:    []string{pPhone, pGuardianEmail},
					withheld: map[string]consent.Check{pPhone: minorOwn, pGuardianEmail: channel},
				},
				rmInformation: no("municipality:0561", pnc),
				imFollowUp:    no("municipality:0561", rnc),
				imAcute: {
					recipient: "municipality:0561", effect: consent.Allow, contactBasis: "acute_contact",
					has:      []string{pCPR, pName, pGuardianPhone},
					lacks:    []string{pPhone, pGuardianEmail, pAddress},
					withheld: map[string]consent.Check{pPhone: minorOwn, pGuardianEmail: channel},
				},
				pdIdentify: {recipient: "police:syd_soenderjylland", effect: consent.Allow, lacks: healthAndContact},
			},
			omitted: map[record.RecipientRole]routing.ReasonCode{
				record.RecipientResidenceRegion: routing.IsSender,
				record.RecipientIncidentRegion:  routing.IsSender,
			},
		},
		{
			name: "minor under a policy with minors.own_contact: the child's own phone travels with the channel", record: "child-with-guardian-consent",
			edit: minorWithPhone, policy: minorsOwnContact, sender: "region:1083", at: esbjerg,
			want: map[string]expect{
				rmFollowUp: {
					recipient: "municipality:0561", effect: consent.Allow,
					has:      []string{pPhone, pGuardianPhone},
					lacks:    []string{pGuardianEmail},
					withheld: map[string]consent.Check{pGuardianEmail: channel},
				},
				rmInformation: no("municipality:0561", pnc),
				imFollowUp:    no("municipality:0561", rnc),
				imAcute: {
					recipient: "municipality:0561", effect: consent.Allow, contactBasis: "acute_contact",
					has:      []string{pPhone, pGuardianPhone},
					lacks:    []string{pGuardianEmail},
					withheld: map[string]consent.Check{pGuardianEmail: channel},
				},
				pdIdentify: {recipient: "police:syd_soenderjylland", effect: consent.Allow, lacks: healthAndContact},
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
			want: map[string]expect{
				rmFollowUp:    {recipient: "municipality:0751", effect: consent.Allow, withheld: aarhusPlainFollowUp},
				rmInformation: no("municipality:0751", pnc),
				rrFollowUp:    {recipient: "region:1082", effect: consent.Allow, lacks: []string{pNotes}, withheld: aarhusPlainFollowUp},
				rrPsychiatric: no("region:1082", pnc),
				irFollowUp:    no("region:1084", rnc),
				irPsychiatric: no("region:1084", rnc),
				irAcute:       {recipient: "region:1084", effect: consent.Allow, contactBasis: "acute_contact", withheld: aarhusPlainFollowUp},
				pdIdentify:    {recipient: "police:koebenhavn", effect: consent.Allow},
			},
			omitted: map[record.RecipientRole]routing.ReasonCode{record.RecipientIncidentMunicipality: routing.IsSender},
		},
		{
			name: "protected address goes only to the residence municipality", record: "aarhus-resident-hurt-in-copenhagen",
			edit:   func(r *record.Record) { r.Person.AddressProtected = true },
			sender: "region:1084", at: june,
			want: map[string]expect{
				rmFollowUp: {
					recipient: "municipality:0751", effect: consent.Allow,
					has: []string{pAddress, pProtected}, withheld: aarhusPlainFollowUp,
				},
				rmInformation: no("municipality:0751", pnc),
				rrFollowUp: {
					recipient: "region:1082", effect: consent.Allow,
					has: []string{pProtected}, lacks: []string{pAddress, pNotes},
					withheld: map[string]consent.Check{pEmail: channel, pAddress: consent.CheckAddressProtected, pNotes: notInRule},
				},
				rrPsychiatric: no("region:1082", pnc),
				imFollowUp:    no("municipality:0101", rnc),
				imAcute: {
					recipient: "municipality:0101", effect: consent.Allow, contactBasis: "acute_contact",
					has: []string{pProtected}, lacks: []string{pAddress}, withheld: aarhusPlainFollowUp,
				},
				pdIdentify: {recipient: "police:koebenhavn", effect: consent.Allow, has: []string{pProtected}, lacks: healthAndContact},
			},
			omitted: map[record.RecipientRole]routing.ReasonCode{record.RecipientIncidentRegion: routing.IsSender},
		},
		{
			name: "Christiansø resident: Bornholm owns follow-up", record: "christiansoe-resident",
			sender: "region:1084", at: time.Date(2026, 7, 1, 16, 0, 0, 0, cest),
			want: map[string]expect{
				rmFollowUp:    no("municipality:0400", rnc),
				rmInformation: no("municipality:0400", rnc),
				imFollowUp:    no("municipality:0400", rnc),
				imAcute: {
					recipient: "municipality:0400", effect: consent.Allow, contactBasis: "acute_contact",
					has: []string{pCPR, pName, pPhone, pRelType}, lacks: []string{pAddress},
				},
				pdIdentify: {recipient: "police:bornholm", effect: consent.Allow, has: []string{pCPR, pName}, lacks: healthAndContact},
			},
			omitted: map[record.RecipientRole]routing.ReasonCode{
				record.RecipientResidenceRegion: routing.IsSender,
				record.RecipientIncidentRegion:  routing.IsSender,
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
			want: map[string]expect{
				rmFollowUp:    {recipient: "municipality:0265", effect: consent.Allow, has: []string{pAddress}, withheld: aarhusPlainFollowUp},
				rmInformation: no("municipality:0265", pnc),
				rrFollowUp:    {recipient: "region:" + eastCode, effect: consent.Allow, has: []string{pAddress}, lacks: []string{pNotes}, withheld: aarhusPlainFollowUp},
				rrPsychiatric: no("region:"+eastCode, pnc),
				irFollowUp:    no("region:"+eastCode, rnc),
				irPsychiatric: no("region:"+eastCode, rnc),
				irAcute: {
					recipient: "region:" + eastCode, effect: consent.Allow, contactBasis: "acute_contact",
					has: []string{pCPR, pPhone}, lacks: []string{pAddress, pNotes}, withheld: aarhusPlainFollowUp,
				},
				pdIdentify: {recipient: "police:koebenhavn", effect: consent.Allow},
			},
			omitted: map[record.RecipientRole]routing.ReasonCode{record.RecipientIncidentMunicipality: routing.IsSender},
		},
		{
			name: "refused registration forwards nothing", record: "refused-registration-count-only",
			sender: "region:1082", at: herning,
			want: map[string]expect{
				imFollowUp: no("municipality:0657", consent.CheckRegistrationRefused),
				imAcute:    no("municipality:0657", consent.CheckRegistrationRefused),
				pdIdentify: no("police:midt_vestjylland", consent.CheckRegistrationRefused),
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
			want: map[string]expect{
				rmFollowUp:    {recipient: "municipality:0751", effect: consent.Allow, withheld: aarhusPlainFollowUp},
				rmInformation: no("municipality:0751", pnc),
				rrFollowUp:    {recipient: "region:1082", effect: consent.Allow, withheld: aarhusPlainFollowUp},
				rrPsychiatric: no("region:1082", pnc),
				imFollowUp:    no("municipality:0101", rnc),
				imAcute:       no("municipality:0101", consent.CheckIncidentPeriodEnded),
				pdIdentify:    no("police:koebenhavn", consent.CheckIncidentPeriodEnded),
			},
			omitted: map[record.RecipientRole]routing.ReasonCode{record.RecipientIncidentRegion: routing.IsSender},
		},
		{
			name: "incident time unknown: no legal basis can be timed", record: "aarhus-resident-hurt-in-copenhagen",
			edit:   func(r *record.Record) { r.Incident.OccurredAt = nil },
			sender: "region:1084", at: june,
			want: map[string]expect{
				rmFollowUp:    {recipient: "municipality:0751", effect: consent.Allow, withheld: aarhusPlainFollowUp},
				rmInformation: no("municipality:0751", pnc),
				rrFollowUp:    {recipient: "region:1082", effect: consent.Allow, withheld: aarhusPlainFollowUp},
				rrPsychiatric: no("region:1082", pnc),
				imFollowUp:    no("municipality:0101", rnc),
				imAcute:       no("municipality:0101", consent.CheckIncidentTimeUnknown),
				pdIdentify:    no("police:koebenhavn", consent.CheckIncidentTimeUnknown),
			},
			omitted: map[record.RecipientRole]routing.ReasonCode{record.RecipientIncidentRegion: routing.IsSender},
		},
		{
			name: "consent names the residence municipality only", record: "aarhus-resident-hurt-in-copenhagen",
			edit:   func(r *record.Record) { r.Consent.FollowUp.Grants = r.Consent.FollowUp.Grants[:1] },
			sender: "region:1084", at: june,
			want: map[string]expect{
				rmFollowUp:    {recipient: "municipality:0751", effect: consent.Allow, withheld: aarhusPlainFollowUp},
				rmInformation: no("municipality:0751", pnc),
				rrFollowUp:    no("region:1082", rnc),
				rrPsychiatric: no("region:1082", rnc),
				imFollowUp:    no("municipality:0101", rnc),
				imAcute:       {recipient: "municipality:0101", effect: consent.Allow, contactBasis: "acute_contact", has: []string{pPhone}, withheld: aarhusPlainFollowUp},
				pdIdentify:    {recipient: "police:koebenhavn", effect: consent.Allow},
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
			want: map[string]expect{
				rmFollowUp:    no("municipality:0751", pnc),
				rmInformation: no("municipality:0751", pnc),
				rrFollowUp:    no("region:1082", pnc),
				rrPsychiatric: no("region:1082", pnc),
				imFollowUp:    no("municipality:0101", rnc),
				imAcute:       {recipient: "municipality:0101", effect: consent.Allow, contactBasis: "acute_contact", has: []string{pPhone}, withheld: aarhusPlainFollowUp},
				pdIdentify:    {recipient: "police:koebenhavn", effect: consent.Allow},
			},
			omitted: map[record.RecipientRole]routing.ReasonCode{record.RecipientIncidentRegion: routing.IsSender},
		},
		{
			name: "staff member with eCPR and an interpreter", record: "staff-member-with-ecpr",
			sender: "region:1085", at: time.Date(2026, 5, 11, 1, 0, 0, 0, cest),
			want: map[string]expect{
				rmFollowUp: {recipient: "municipality:0265", effect: consent.Allow,
					has: []string{pECPR, pName, pPhone, pLanguage, pInterp, pAddress, pPriority}},
				rmInformation: no("municipality:0265", pnc),
				imFollowUp:    no("municipality:0265", rnc),
				imAcute: {recipient: "municipality:0265", effect: consent.Allow, contactBasis: "acute_contact",
					has: []string{pECPR, pPhone, pInterp}, lacks: []string{pAddress}},
				pdIdentify: {recipient: "police:midt_vestsjaelland", effect: consent.Allow,
					has: []string{pECPR}, lacks: healthAndContact},
			},
			omitted: map[record.RecipientRole]routing.ReasonCode{
				record.RecipientResidenceRegion: routing.IsSender,
				record.RecipientIncidentRegion:  routing.IsSender,
			},
		},
		{
			name: "information only, by Digital Post: the residence municipality gets identity and no phone or e-mail", record: "information-only-digital-post",
			edit: func(r *record.Record) {
				r.Person.Phone, r.Person.Email = "+4522334455", "jonas.vestergaard@example.dk"
			},
			sender: "region:1084", at: june,
			want: map[string]expect{
				rmFollowUp: no("municipality:0751", pnc),
				rmInformation: {
					recipient: "municipality:0751", effect: consent.Allow,
					has:      []string{pCPR, pName, pBirth, pLanguage},
					lacks:    []string{pPhone, pEmail, pAddress, pTitle, pIncMuni, pRelType, pPriority},
					withheld: map[string]consent.Check{pPhone: channel, pEmail: channel},
				},
				rrFollowUp:    no("region:1082", rnc),
				rrPsychiatric: no("region:1082", rnc),
				imFollowUp:    no("municipality:0101", rnc),
				// Digital Post is the only channel consented to anyone:
				// acute contact has no phone or e-mail to give either.
				imAcute: {
					recipient: "municipality:0101", effect: consent.Allow,
					has:      []string{pCPR, pTitle, pPriority},
					lacks:    []string{pPhone, pEmail},
					withheld: map[string]consent.Check{pPhone: channel, pEmail: channel},
				},
				pdIdentify: {recipient: "police:koebenhavn", effect: consent.Allow, lacks: healthAndContact},
			},
			omitted: map[record.RecipientRole]routing.ReasonCode{record.RecipientIncidentRegion: routing.IsSender},
		},
		{
			name: "information for my municipality, psychiatric follow-up by the region: notes only to the region", record: "information-for-municipality-psychiatry-by-region",
			sender: "region:1084", at: june,
			want: map[string]expect{
				rmFollowUp: no("municipality:0751", pnc),
				rmInformation: {
					recipient: "municipality:0751", effect: consent.Allow,
					has:      []string{pCPR, pName, pBirth, pLanguage},
					lacks:    []string{pPhone, pEmail, pAddress, pTitle, pRelType, pPriority, pNotes},
					withheld: map[string]consent.Check{pPhone: channel, pEmail: channel},
				},
				rrFollowUp: no("region:1082", pnc),
				rrPsychiatric: {
					recipient: "region:1082", effect: consent.Allow,
					has:      []string{pCPR, pPhone, pAddress, pTitle, pRelType, pPriority, pNotes},
					lacks:    []string{pEmail},
					withheld: map[string]consent.Check{pEmail: channel},
				},
				imFollowUp: no("municipality:0101", rnc),
				imAcute: {
					recipient: "municipality:0101", effect: consent.Allow, contactBasis: "acute_contact",
					has: []string{pPhone}, lacks: []string{pEmail, pNotes}, withheld: aarhusPlainFollowUp,
				},
				pdIdentify: {recipient: "police:koebenhavn", effect: consent.Allow, lacks: healthAndContact},
			},
			omitted: map[record.RecipientRole]routing.ReasonCode{record.RecipientIncidentRegion: routing.IsSender},
		},
		{
			name: "psychiatric follow-up by the incident region continues after day 7", record: "follow-up-by-the-incident-region",
			sender: "municipality:0101", at: day8,
			want: map[string]expect{
				rmFollowUp:    {recipient: "municipality:0751", effect: consent.Allow, has: []string{pPhone, pAddress}, withheld: aarhusPlainFollowUp},
				rmInformation: no("municipality:0751", pnc),
				rrFollowUp:    no("region:1082", rnc),
				rrPsychiatric: no("region:1082", rnc),
				irFollowUp:    no("region:1084", pnc),
				irPsychiatric: {
					recipient: "region:1084", effect: consent.Allow,
					has:      []string{pCPR, pPhone, pAddress, pTitle, pRelType, pPriority, pNotes},
					lacks:    []string{pEmail},
					withheld: map[string]consent.Check{pEmail: channel},
				},
				irAcute:    no("region:1084", consent.CheckIncidentPeriodEnded),
				pdIdentify: no("police:koebenhavn", consent.CheckIncidentPeriodEnded),
			},
			omitted: map[record.RecipientRole]routing.ReasonCode{record.RecipientIncidentMunicipality: routing.IsSender},
		},
		{
			name: "follow-up by the incident municipality after day 7, a protected address withheld from it", record: "aarhus-resident-hurt-in-copenhagen",
			edit: func(r *record.Record) {
				r.Person.AddressProtected = true
				r.Consent.FollowUp.Grants[1].Recipient = record.RecipientIncidentMunicipality
			},
			sender: "region:1084", at: day8,
			want: map[string]expect{
				rmFollowUp:    {recipient: "municipality:0751", effect: consent.Allow, has: []string{pAddress, pProtected}, withheld: aarhusPlainFollowUp},
				rmInformation: no("municipality:0751", pnc),
				rrFollowUp:    no("region:1082", rnc),
				rrPsychiatric: no("region:1082", rnc),
				imFollowUp: {
					recipient: "municipality:0101", effect: consent.Allow,
					has:      []string{pCPR, pProtected, pPhone, pTitle, pRelType, pPriority},
					lacks:    []string{pAddress, pEmail, pNotes},
					withheld: map[string]consent.Check{pEmail: channel, pAddress: consent.CheckAddressProtected, pNotes: notInRule},
				},
				imAcute:    no("municipality:0101", consent.CheckIncidentPeriodEnded),
				pdIdentify: no("police:koebenhavn", consent.CheckIncidentPeriodEnded),
			},
			omitted: map[record.RecipientRole]routing.ReasonCode{record.RecipientIncidentRegion: routing.IsSender},
		},
		{
			name: "acute contact: both incident authorities get the phone consented to the residence authorities", record: "aarhus-resident-hurt-in-copenhagen",
			sender: "gateway", at: june,
			want: map[string]expect{
				rmFollowUp:    {recipient: "municipality:0751", effect: consent.Allow, has: []string{pPhone}, withheld: aarhusPlainFollowUp},
				rmInformation: no("municipality:0751", pnc),
				rrFollowUp:    {recipient: "region:1082", effect: consent.Allow, has: []string{pPhone}, withheld: aarhusPlainFollowUp},
				rrPsychiatric: no("region:1082", pnc),
				imFollowUp:    no("municipality:0101", rnc),
				imAcute:       {recipient: "municipality:0101", effect: consent.Allow, contactBasis: "acute_contact", has: []string{pPhone}, withheld: aarhusPlainFollowUp},
				irFollowUp:    no("region:1084", rnc),
				irPsychiatric: no("region:1084", rnc),
				irAcute:       {recipient: "region:1084", effect: consent.Allow, contactBasis: "acute_contact", has: []string{pPhone}, withheld: aarhusPlainFollowUp},
				pdIdentify:    {recipient: "police:koebenhavn", effect: consent.Allow, lacks: healthAndContact},
			},
		},
		{
			name: "acute contact switched off (no contact_legal_basis): no phone or e-mail to the incident authorities", record: "aarhus-resident-hurt-in-copenhagen",
			sender: "gateway", at: june, policy: noAcuteContact,
			want: map[string]expect{
				rmFollowUp:    {recipient: "municipality:0751", effect: consent.Allow, has: []string{pPhone}, withheld: aarhusPlainFollowUp},
				rmInformation: no("municipality:0751", pnc),
				rrFollowUp:    {recipient: "region:1082", effect: consent.Allow, has: []string{pPhone}, withheld: aarhusPlainFollowUp},
				rrPsychiatric: no("region:1082", pnc),
				imFollowUp:    no("municipality:0101", rnc),
				imAcute: {
					recipient: "municipality:0101", effect: consent.Allow,
					has: []string{pCPR, pLanguage}, lacks: []string{pPhone, pEmail},
					withheld: map[string]consent.Check{pPhone: channel, pEmail: channel, pNotes: notInRule},
				},
				irFollowUp:    no("region:1084", rnc),
				irPsychiatric: no("region:1084", rnc),
				irAcute: {
					recipient: "region:1084", effect: consent.Allow,
					has: []string{pCPR, pLanguage}, lacks: []string{pPhone, pEmail},
					withheld: map[string]consent.Check{pPhone: channel, pEmail: channel, pNotes: notInRule},
				},
				pdIdentify: {recipient: "police:koebenhavn", effect: consent.Allow, lacks: healthAndContact},
			},
		},
		{
			name: "relative named by CPR number: the kinship travels, the affected person's CPR number never", record: "relative-named-by-cpr-before-the-affected",
			sender: "police:koebenhavn", at: june,
			want: map[string]expect{
				rmFollowUp: {
					recipient: "municipality:0751", effect: consent.Allow,
					has:   []string{pName, pBirth, pPhone, pAddress, pTitle, pRelType, pKinship},
					lacks: []string{pAffected, pRelativeOf},
				},
				rmInformation: no("municipality:0751", pnc),
				rrFollowUp:    no("region:1082", rnc),
				rrPsychiatric: no("region:1082", rnc),
				imFollowUp:    no("municipality:0101", rnc),
				imAcute: {recipient: "municipality:0101", effect: consent.Allow, contactBasis: "acute_contact",
					has: []string{pName, pPhone, pRelType, pKinship}, lacks: []string{pAffected, pAddress}},
				irFollowUp:    no("region:1084", rnc),
				irPsychiatric: no("region:1084", rnc),
				irAcute: {recipient: "region:1084", effect: consent.Allow, contactBasis: "acute_contact",
					has: []string{pName, pPhone, pRelType, pKinship}, lacks: []string{pAffected, pAddress}},
			},
			omitted: map[record.RecipientRole]routing.ReasonCode{record.RecipientPoliceDistrict: routing.IsSender},
		},
		{
			name: "relative linked to the affected person's record, which no recipient holds: relative_of is withheld", record: "relative-named-by-cpr-before-the-affected",
			edit: linked, sender: "police:koebenhavn", at: june,
			want: map[string]expect{
				rmFollowUp: {
					recipient: "municipality:0751", effect: consent.Allow,
					has: []string{pRelType, pKinship}, lacks: []string{pAffected, pRelativeOf},
					withheld: map[string]consent.Check{pRelativeOf: notHeld},
				},
				rmInformation: no("municipality:0751", pnc),
				rrFollowUp:    no("region:1082", rnc),
				rrPsychiatric: no("region:1082", rnc),
				imFollowUp:    no("municipality:0101", rnc),
				imAcute: {recipient: "municipality:0101", effect: consent.Allow, contactBasis: "acute_contact",
					has: []string{pKinship}, lacks: []string{pAffected, pRelativeOf}, withheld: map[string]consent.Check{pRelativeOf: notHeld}},
				irFollowUp:    no("region:1084", rnc),
				irPsychiatric: no("region:1084", rnc),
				irAcute: {recipient: "region:1084", effect: consent.Allow, contactBasis: "acute_contact",
					has: []string{pKinship}, lacks: []string{pAffected, pRelativeOf}, withheld: map[string]consent.Check{pRelativeOf: notHeld}},
			},
			omitted: map[record.RecipientRole]routing.ReasonCode{record.RecipientPoliceDistrict: routing.IsSender},
		},
		{
			name: "relative linked to the affected person's record, which the residence municipality holds: relative_of travels to it alone", record: "relative-named-by-cpr-before-the-affected",
			edit: linked, links: holders{"municipality:0751": {aarhusID}, "region:1084": {"9b2e4f60-1c3d-4e5f-8a7b-6c5d4e3f2a10"}},
			sender: "police:koebenhavn", at: june,
			want: map[string]expect{
				rmFollowUp: {
					recipient: "municipality:0751", effect: consent.Allow,
					has: []string{pRelType, pRelativeOf, pKinship}, lacks: []string{pAffected},
				},
				rmInformation: no("municipality:0751", pnc),
				rrFollowUp:    no("region:1082", rnc),
				rrPsychiatric: no("region:1082", rnc),
				imFollowUp:    no("municipality:0101", rnc),
				imAcute: {recipient: "municipality:0101", effect: consent.Allow, contactBasis: "acute_contact",
					has: []string{pKinship}, lacks: []string{pAffected, pRelativeOf}, withheld: map[string]consent.Check{pRelativeOf: notHeld}},
				irFollowUp:    no("region:1084", rnc),
				irPsychiatric: no("region:1084", rnc),
				// The region holds another record of the incident, not the affected person's.
				irAcute: {recipient: "region:1084", effect: consent.Allow, contactBasis: "acute_contact",
					has: []string{pKinship}, lacks: []string{pAffected, pRelativeOf}, withheld: map[string]consent.Check{pRelativeOf: notHeld}},
			},
			omitted: map[record.RecipientRole]routing.ReasonCode{record.RecipientPoliceDistrict: routing.IsSender},
		},
	}
}

// TestScenarios routes and evaluates realistic records under the default
// policy (or an edit of it) and checks every decision of every rule,
// covering every rule and every check.
func TestScenarios(t *testing.T) {
	envs := map[refdata.Config]*env{}
	schema := recordSchema(t)
	for _, tc := range scenarios() {
		t.Run(tc.name, func(t *testing.T) {
			e := envs[tc.cfg]
			if e == nil {
				e = newEnv(t, tc.cfg)
				envs[tc.cfg] = e
			}
			policy := e.policy
			if tc.policy != nil {
				policy = loadEdited(t, tc.policy)
			}
			rec := example(t, tc.record)
			if tc.edit != nil {
				tc.edit(rec)
			}
			v := e.validator(tc.at)
			if probs := v.Validate(rec); probs != nil {
				t.Fatalf("the scenario's record is invalid: %v", probs)
			}
			res, err := e.router.Route(rec, tc.sender, tc.at)
			if err != nil {
				t.Fatal(err)
			}
			out, err := policy.EvaluateRoute(rec, res, tc.at, tc.links)
			if err != nil {
				t.Fatal(err)
			}
			omitted := map[record.RecipientRole]routing.ReasonCode{}
			for _, o := range res.Omitted {
				omitted[o.Role] = o.Reason.Code
			}
			if diff := cmp.Diff(tc.omitted, omitted, cmpEmptyMap); diff != "" {
				t.Errorf("omitted roles (-want +got):\n%s", diff)
			}
			seen := map[string]bool{}
			for _, o := range out {
				d := o.Decision
				key := d.RuleID
				if key == "" {
					key = string(d.Role)
				}
				if seen[key] {
					t.Errorf("%s: two decisions", key)
				}
				seen[key] = true
				for _, p := range checkOutcome(t, v, rec, o) {
					t.Errorf("%s: %s", key, p)
				}
				checkRule(t, policy, rec, d)
				if o.View != nil {
					if err := schemaAccepts(t, schema, []byte(canonical(t, o.View))); err != nil {
						t.Errorf("%s: the view fails schema v1: %v", key, err)
					}
				}
				w, ok := tc.want[key]
				if !ok {
					t.Errorf("unexpected decision: %s", d)
					continue
				}
				checkExpect(t, key, d, w)
			}
			for key := range tc.want {
				if !seen[key] {
					t.Errorf("%s: no decision", key)
				}
			}
		})
	}
}

// cmpEmptyMap treats a nil and an empty map as equal.
var cmpEmptyMap = cmp.FilterValues(func(a, b map[record.RecipientRole]routing.ReasonCode) bool {
	return len(a) == 0 && len(b) == 0
}, cmp.Ignore())

// checkRule checks that a decision is what its rule says: its role,
// purpose and basis, its legal basis, and who gave the consent a consent
// decision rests on.
func checkRule(t *testing.T, p *consent.Policy, rec *record.Record, d consent.Decision) {
	t.Helper()
	if d.RuleID == "" {
		return
	}
	r, ok := p.Rule(d.RuleID)
	if !ok {
		t.Errorf("%s: no such rule", d.RuleID)
		return
	}
	var givenBy record.GivenBy
	if r.Basis == consent.BasisConsent {
		givenBy = rec.Consent.GivenBy
	}
	if d.Role != r.Role || d.Purpose != r.Purpose || d.Basis != r.Basis || d.LegalBasis != r.LegalBasis || d.GivenBy != givenBy || d.PolicyVersion != p.Version() {
		t.Errorf("%s: decision %+v does not match its rule %+v (given by %q)", d.RuleID, d, r, givenBy)
	}
	if d.ContactLegalBasis != "" && d.ContactLegalBasis != r.ContactLegalBasis {
		t.Errorf("%s: contact legal basis %q, the rule names %q", d.RuleID, d.ContactLegalBasis, r.ContactLegalBasis)
	}
}

func checkExpect(t *testing.T, key string, d consent.Decision, w expect) {
	t.Helper()
	if d.Recipient != w.recipient || d.Effect != w.effect || d.Check != w.check || d.ContactLegalBasis != w.contactBasis {
		t.Errorf("%s: got %s/%s/%q/contact %q, want %s/%s/%q/contact %q\n%s", key,
			d.Recipient, d.Effect, d.Check, d.ContactLegalBasis, w.recipient, w.effect, w.check, w.contactBasis, d)
	}
	for _, p := range w.has {
		if !slices.Contains(d.Fields, p) {
			t.Errorf("%s: %s is not disclosed: %v", key, p, d.Fields)
		}
	}
	for _, p := range w.lacks {
		if slices.Contains(d.Fields, p) {
			t.Errorf("%s: %s is disclosed", key, p)
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
			t.Errorf("%s: withheld fields (-want +got):\n%s", key, diff)
		}
	}
}

// decision returns the decision of rule for recipient among out.
func decision(t *testing.T, out []consent.Outcome, rule, recipient string) consent.Outcome {
	t.Helper()
	for _, o := range out {
		if o.Decision.RuleID == rule && o.Decision.Recipient == recipient {
			return o
		}
	}
	t.Fatalf("no decision of rule %s for %s", rule, recipient)
	return consent.Outcome{}
}

// The police never see contact preferences: their view's consent block
// says who consented, how and when, and carries no follow_up block; the
// other recipients see their own grant only.
func TestConsentBlockPerView(t *testing.T) {
	e := newEnv(t, refdata.Config{})
	rec := example(t, "aarhus-resident-hurt-in-copenhagen")
	_, out := e.decide(t, rec, "region:1084", june)
	police := decision(t, out, pdIdentify, "police:koebenhavn").View
	if police.Consent == nil || police.Consent.FollowUp != nil {
		t.Fatalf("the police view's consent block: %+v", police.Consent)
	}
	if want := (record.Consent{Registration: rec.Consent.Registration, GivenBy: rec.Consent.GivenBy, Obtained: rec.Consent.Obtained}); !reflect.DeepEqual(*police.Consent, want) {
		t.Errorf("the police view's consent block:\n got  %+v\n want %+v", *police.Consent, want)
	}
	region := decision(t, out, rrFollowUp, "region:1082").View.Consent.FollowUp
	if region == nil || len(region.Grants) != 1 || !reflect.DeepEqual(region.Grants[0], rec.Consent.FollowUp.Grants[1]) ||
		!reflect.DeepEqual(region.ExpiresAt, rec.Consent.FollowUp.ExpiresAt) || !region.IsGranted() {
		t.Errorf("the residence region's follow-up block: %+v", region)
	}
	// The acute rule rests on a legal basis, not on a grant to its role.
	if acute := decision(t, out, imAcute, "municipality:0101").View.Consent; acute.FollowUp != nil {
		t.Errorf("the incident municipality sees grants to other roles: %+v", acute.FollowUp)
	}
}

// The sentences a DPO reads.
func TestDecisionSentences(t *testing.T) {
	e := newEnv(t, refdata.Config{})
	aarhus := example(t, "aarhus-resident-hurt-in-copenhagen")
	_, out := e.decide(t, aarhus, "region:1084", june)
	disclosedIncident := "/schema, /record_id, /version, /incident/id, /incident/title, /incident/kind, /incident/occurred_at, " +
		"/incident/municipality_code, /incident/region_code, /incident/site, /registered, "
	child := example(t, "child-with-guardian-consent")
	minorWithPhone(child)
	_, minor := e.decide(t, child, "region:1083", time.Date(2026, 8, 22, 12, 0, 0, 0, cest))
	relative := example(t, "relative-named-by-cpr-before-the-affected")
	linked(relative)
	_, rel := e.decide(t, relative, "police:koebenhavn", june)
	info := example(t, "information-only-digital-post")
	_, inf := e.decide(t, info, "region:1084", june)
	_, witness := e.decide(t, example(t, "witness-who-refused-follow-up"), "region:1082", time.Date(2026, 9, 3, 12, 0, 0, 0, cest))

	for _, tc := range []struct {
		name string
		o    consent.Outcome
		want string
	}{
		{"follow-up on consent", decision(t, out, rmFollowUp, "municipality:0751"),
			"Allowed: municipality:0751 receives record 3f6c1d2e-8a4b-4c7d-9e1f-2a3b4c5d6e7f version 1 as residence municipality " +
				"for psychosocial follow up, under rule residence-municipality-follow-up of policy dk-default-2026.2, " +
				"on the follow-up consent given by the person (/consent/follow_up/grants/0/recipient, /consent/follow_up/grants/0/purposes/0). " +
				"Disclosed: " + disclosedIncident + "/person/cpr, /person/name, " +
				"/person/birth_date, /person/phone, /person/address, /person/language, /relation/type, /assessment/follow_up_priority, /consent. " +
				"Kept out of the view: /person/email (the email channel is not consented to this recipient); " +
				"/assessment/notes (health data, which the rule does not disclose)."},
		{"acute contact on its own legal basis", decision(t, out, imAcute, "municipality:0101"),
			"Allowed: municipality:0101 receives record 3f6c1d2e-8a4b-4c7d-9e1f-2a3b4c5d6e7f version 1 as incident municipality " +
				"for acute psychosocial support, under rule incident-municipality-acute of policy dk-default-2026.2, " +
				"on legal basis acute_care within the incident period; contact details on legal basis acute_contact, " +
				"for the channels the person consented to for follow-up. " +
				"Disclosed: " + disclosedIncident + "/person/cpr, /person/name, " +
				"/person/birth_date, /person/phone, /person/language, /relation/type, /assessment/follow_up_priority, /consent. " +
				"Kept out of the view: /person/email (the email channel is not consented to this recipient); " +
				"/assessment/notes (health data, which the rule does not disclose)."},
		{"purpose not consented", decision(t, out, rrPsychiatric, "region:1082"),
			"Withheld: region:1082 does not receive record 3f6c1d2e-8a4b-4c7d-9e1f-2a3b4c5d6e7f version 1 as residence region " +
				"for psychiatric follow up, under rule residence-region-psychiatric of policy dk-default-2026.2: " +
				"the follow-up consent does not name this purpose."},
		{"information only", decision(t, inf, rmInformation, "municipality:0751"),
			"Allowed: municipality:0751 receives record 7c1e2d3f-4a5b-4c6d-8e7f-9a0b1c2d3e41 version 1 as residence municipality " +
				"for support information, under rule residence-municipality-information of policy dk-default-2026.2, " +
				"on the follow-up consent given by the person (/consent/follow_up/grants/0/recipient, /consent/follow_up/grants/0/purposes/0). " +
				"Disclosed: /schema, /record_id, /version, /incident/id, /registered, /person/cpr, /person/name, /person/birth_date, " +
				"/person/language, /consent."},
		{"a minor's contact goes to the guardian", decision(t, minor, rmFollowUp, "municipality:0561"),
			"Allowed: municipality:0561 receives record f6a7b8c9-d0e1-4f2a-9b3c-4d5e6f7a8b92 version 1 as residence municipality " +
				"for psychosocial follow up, under rule residence-municipality-follow-up of policy dk-default-2026.2, " +
				"on the follow-up consent given by the person's guardian (/consent/follow_up/grants/0/recipient, /consent/follow_up/grants/0/purposes/0). " +
				"Disclosed: " + disclosedIncident + "/person/cpr, /person/name, /person/birth_date, /person/address, " +
				"/relation/type, /assessment/follow_up_priority, /consent, /consent/guardian/phone. " +
				"Kept out of the view: /person/phone (a guardian consented for the person, so contact goes to the guardian's channels, not the person's own); " +
				"/consent/guardian/email (the email channel is not consented to this recipient)."},
		{"a relative's link stays with the holders of the affected person's record", decision(t, rel, imAcute, "municipality:0101"),
			"Allowed: municipality:0101 receives record 7c1e2d3f-4a5b-4c6d-8e7f-9a0b1c2d3e43 version 1 as incident municipality " +
				"for acute psychosocial support, under rule incident-municipality-acute of policy dk-default-2026.2, " +
				"on legal basis acute_care within the incident period; contact details on legal basis acute_contact, " +
				"for the channels the person consented to for follow-up. " +
				"Disclosed: " + disclosedIncident + "/person/name, /person/birth_date, /person/phone, /relation/type, /relation/kinship, /consent. " +
				"Kept out of the view: /relation/relative_of (the link to the affected person's record travels only to a recipient that received that record; the kinship travels)."},
		{"follow-up refused", decision(t, witness, rmFollowUp, "municipality:0461"),
			"Withheld: municipality:0461 does not receive record c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f version 2 as residence municipality " +
				"for psychosocial follow up, under rule residence-municipality-follow-up of policy dk-default-2026.2: " +
				"the person did not consent to follow-up contact."},
		{"follow-up refused, on a legal basis", decision(t, witness, imAcute, "municipality:0657"),
			"Withheld: municipality:0657 does not receive record c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f version 2 as incident municipality " +
				"for acute psychosocial support, under rule incident-municipality-acute of policy dk-default-2026.2: " +
				"the person refused follow-up contact, and the rule honours that refusal."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.o.Decision.String(); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

// A resident of the incident municipality is routed to the same authority
// twice; each rule of each role is decided on its own and ViewOf merges
// the allowed views: the union of their fields, and the consent block with
// the grants of both roles.
func TestSameAuthorityInTwoRoles(t *testing.T) {
	e := newEnv(t, refdata.Config{})
	rec := example(t, "child-with-guardian-consent")
	minorWithPhone(rec)
	at := time.Date(2026, 8, 22, 12, 0, 0, 0, cest)
	_, out := e.decide(t, rec, "region:1083", at)
	var mine, allowed []consent.Decision
	for _, o := range out {
		if d := o.Decision; d.Recipient == "municipality:0561" {
			mine = append(mine, d)
			if d.Effect == consent.Allow {
				allowed = append(allowed, d)
			}
		}
	}
	var rules []string
	for _, d := range allowed {
		rules = append(rules, d.RuleID)
	}
	if len(mine) != 4 || !slices.Equal(rules, []string{rmFollowUp, imAcute}) {
		t.Fatalf("municipality:0561: %d decisions, allowed by %v; want 4 (two rules per role), allowed by the residence follow-up and the acute rule", len(mine), rules)
	}
	if _, err := consent.ViewOf(rec, mine...); err == nil {
		t.Error("ViewOf built a view from withheld decisions")
	}
	merged, err := consent.ViewOf(rec, allowed...)
	if err != nil {
		t.Fatal(err)
	}
	if merged.Person == nil || merged.Person.Address == nil || merged.Assessment == nil || merged.Person.Phone != "" ||
		merged.Consent.Guardian.Phone == "" || merged.Consent.FollowUp == nil || len(merged.Consent.FollowUp.Grants) != 1 {
		t.Errorf("merged view: %s", canonical(t, merged))
	}
	if probs := e.validator(at).Validate(merged); probs != nil {
		t.Errorf("merged view is invalid: %v", probs)
	}
	police := decision(t, out, pdIdentify, "police:syd_soenderjylland").Decision
	if _, err := consent.ViewOf(rec, allowed[0], police); err == nil {
		t.Error("ViewOf merged the decisions of two authorities")
	}
}

// A policy without a rule for a role withholds from that role: nothing is
// allowed that no rule allows.
func TestNoRuleWithholds(t *testing.T) {
	p := loadEdited(t, func(d *consent.Document) {
		d.Rules = slices.DeleteFunc(d.Rules, func(r consent.Rule) bool {
			return r.Role != record.RecipientResidenceMunicipality && r.Role != record.RecipientResidenceRegion
		})
	})
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
	got := map[record.RecipientRole][]string{}
	for _, o := range out {
		d := o.Decision
		got[d.Role] = append(got[d.Role], string(d.Effect)+" "+d.RuleID+" "+string(d.Check))
		if d.RuleID == "" {
			if d.Effect != consent.Withhold || d.Check != consent.CheckNoRule || d.Purpose != "" || o.View != nil {
				t.Errorf("%s: got %+v, want withheld by no_rule", d.Role, d)
			}
			if s := d.String(); !strings.Contains(s, "no rule of policy") {
				t.Errorf("%s: %s", d.Role, s)
			}
		}
	}
	want := map[record.RecipientRole][]string{
		record.RecipientResidenceMunicipality: {"allow " + rmFollowUp + " ", "withhold " + rmInformation + " purpose_not_consented"},
		record.RecipientResidenceRegion:       {"allow " + rrFollowUp + " ", "withhold " + rrPsychiatric + " purpose_not_consented"},
		record.RecipientIncidentMunicipality:  {"withhold  no_rule"},
		record.RecipientPoliceDistrict:        {"withhold  no_rule"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("decisions by role (-want +got):\n%s", diff)
	}
}
