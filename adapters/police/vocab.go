package police

import (
	"strings"

	"github.com/psykosocial/exchange/internal/record"
)

// OfficerRole is the function of the police officer who registered the
// persons of a list (the Registrant/Funktion element). The common record
// keeps only registered.by_role = police; the specific role is not carried
// further.
type OfficerRole string

// Officer roles (Danish values as the format writes them).
const (
	// RoleIncidentCommander is the police incident commander at the scene (ILPOL).
	RoleIncidentCommander OfficerRole = "indsatsleder"
	// RoleDutyOfficer is the district's duty officer.
	RoleDutyOfficer OfficerRole = "vagtchef"
	// RolePatrolOfficer is a patrol officer.
	RolePatrolOfficer OfficerRole = "patruljebetjent"
	// RoleInvestigator is an investigator.
	RoleInvestigator OfficerRole = "efterforsker"
	// RoleFamilyLiaison is a family liaison officer.
	RoleFamilyLiaison OfficerRole = "familiekontakt"
)

// OfficerRoles lists every OfficerRole in schema order.
func OfficerRoles() []OfficerRole {
	return []OfficerRole{RoleIncidentCommander, RoleDutyOfficer, RolePatrolOfficer, RoleInvestigator, RoleFamilyLiaison}
}

// vocab maps a closed Danish vocabulary of the format to a common one. The
// tables below are read-only.
type vocab[T ~string] struct {
	pairs []pair[T]
}

type pair[T ~string] struct {
	danish string
	common T
}

func (v vocab[T]) toCommon(s string) (T, bool) {
	for _, p := range v.pairs {
		if p.danish == s {
			return p.common, true
		}
	}
	var zero T
	return zero, false
}

func (v vocab[T]) toDanish(c T) (string, bool) {
	for _, p := range v.pairs {
		if p.common == c {
			return p.danish, true
		}
	}
	return "", false
}

// values lists the Danish values, comma separated, for messages.
func (v vocab[T]) values() string {
	s := make([]string, len(v.pairs))
	for i, p := range v.pairs {
		s[i] = p.danish
	}
	return strings.Join(s, ", ")
}

var (
	incidentKinds = vocab[record.IncidentKind]{[]pair[record.IncidentKind]{
		{"brand", record.KindFire},
		{"eksplosion", record.KindExplosion},
		{"faerdselsuheld", record.KindTrafficAccident},
		{"skyderi", record.KindShooting},
		{"vold", record.KindViolence},
		{"oversvoemmelse", record.KindFlood},
		{"ekstremt_vejr", record.KindSevereWeather},
		{"bygningskollaps", record.KindBuildingCollapse},
		{"udslip_farlige_stoffer", record.KindHazardousRelease},
		{"stort_arrangement", record.KindMassGathering},
		{"andet", record.KindOtherIncident},
	}}
	sites = vocab[record.Site]{[]pair[record.Site]{
		{"skadested", record.SiteScene},
		{"epc", record.SiteEPC},
		{"hotline", record.SiteHotline},
		{"andet", record.SiteOther},
	}}
	registrarRoles = vocab[record.RegistrarRole]{[]pair[record.RegistrarRole]{
		{"kop", record.RoleKOP},
		{"kriseteam", record.RoleCrisisTeam},
		{"politi", record.RolePolice},
		{"andet", record.RoleOther},
	}}
	relationTypes = vocab[record.RelationType]{[]pair[record.RelationType]{
		{"beroert", record.RelationAffected},
		{"paaroerende", record.RelationRelative},
		{"vidne", record.RelationWitness},
		{"personale", record.RelationStaff},
		{"forbipasserende", record.RelationBystander},
	}}
	// registrationConsents has no not_obtained: a person without a Samtykke
	// block is how the format says that no consent was obtained.
	registrationConsents = vocab[record.RegistrationConsent]{[]pair[record.RegistrationConsent]{
		{"givet", record.RegistrationGranted},
		{"afslaaet", record.RegistrationRefused},
	}}
	givenBys = vocab[record.GivenBy]{[]pair[record.GivenBy]{
		{"selv", record.GivenBySelf},
		{"vaerge", record.GivenByGuardian},
		{"repraesentant", record.GivenByRepresentative},
	}}
	consentMethods = vocab[record.ConsentMethod]{[]pair[record.ConsentMethod]{
		{"mundtligt_dokumenteret", record.MethodVerbalDocumented},
		{"underskrevet_blanket", record.MethodSignedForm},
		{"digitalt", record.MethodDigital},
	}}
	channels = vocab[record.Channel]{[]pair[record.Channel]{
		{"telefon", record.ChannelPhone},
		{"email", record.ChannelEmail},
		{"digital_post", record.ChannelDigitalPost},
	}}
	recipientRoles = vocab[record.RecipientRole]{[]pair[record.RecipientRole]{
		{"bopaelskommune", record.RecipientResidenceMunicipality},
		{"bopaelsregion", record.RecipientResidenceRegion},
		{"haendelseskommune", record.RecipientIncidentMunicipality},
		{"haendelsesregion", record.RecipientIncidentRegion},
		{"politikreds", record.RecipientPoliceDistrict},
	}}
	purposes = vocab[record.Purpose]{[]pair[record.Purpose]{
		{"psykosocial_opfoelgning", record.PurposeFollowUp},
		{"akut_psykosocial_stoette", record.PurposeAcuteSupport},
		{"identifikation_af_beroerte", record.PurposeIdentification},
	}}
	withdrawalReasons = vocab[record.WithdrawalReason]{[]pair[record.WithdrawalReason]{
		{"samtykke_tilbagekaldt", record.ReasonConsentWithdrawn},
		{"fejlregistrering", record.ReasonRegisteredInError},
		{"dublet", record.ReasonDuplicate},
		{"formaal_ophoert", record.ReasonPurposeEnded},
		{"modtager_ikke_laengere_ansvarlig", record.ReasonRecipientIncorrect},
	}}
	officerRoles = vocab[OfficerRole]{[]pair[OfficerRole]{
		{"indsatsleder", RoleIncidentCommander},
		{"vagtchef", RoleDutyOfficer},
		{"patruljebetjent", RolePatrolOfficer},
		{"efterforsker", RoleInvestigator},
		{"familiekontakt", RoleFamilyLiaison},
	}}
)
