package police

import (
	"github.com/psykosocial/exchange/adapters/internal/vocab"
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

// The closed vocabularies of the format, each named by the XSD simple type
// that enumerates its codes. Read-only.
var (
	incidentKinds = vocab.New("Haendelsestype",
		vocab.Pair("brand", record.KindFire),
		vocab.Pair("eksplosion", record.KindExplosion),
		vocab.Pair("faerdselsuheld", record.KindTrafficAccident),
		vocab.Pair("skyderi", record.KindShooting),
		vocab.Pair("vold", record.KindViolence),
		vocab.Pair("oversvoemmelse", record.KindFlood),
		vocab.Pair("ekstremt_vejr", record.KindSevereWeather),
		vocab.Pair("bygningskollaps", record.KindBuildingCollapse),
		vocab.Pair("udslip_farlige_stoffer", record.KindHazardousRelease),
		vocab.Pair("stort_arrangement", record.KindMassGathering),
		vocab.Pair("andet", record.KindOtherIncident),
	)
	sites = vocab.New("Registreringssted",
		vocab.Pair("skadested", record.SiteScene),
		vocab.Pair("epc", record.SiteEPC),
		vocab.Pair("hotline", record.SiteHotline),
		vocab.Pair("andet", record.SiteOther),
	)
	registrarRoles = vocab.New("Registrantrolle",
		vocab.Pair("kop", record.RoleKOP),
		vocab.Pair("kriseteam", record.RoleCrisisTeam),
		vocab.Pair("politi", record.RolePolice),
		vocab.Pair("andet", record.RoleOther),
	)
	relationTypes = vocab.New("Tilknytningstype",
		vocab.Pair("beroert", record.RelationAffected),
		vocab.Pair("paaroerende", record.RelationRelative),
		vocab.Pair("vidne", record.RelationWitness),
		vocab.Pair("personale", record.RelationStaff),
		vocab.Pair("forbipasserende", record.RelationBystander),
	)
	// registrationConsents has no not_obtained: a person without a Samtykke
	// block is how the format says that no consent was obtained.
	registrationConsents = vocab.New("Registreringssamtykke",
		vocab.Pair("givet", record.RegistrationGranted),
		vocab.Pair("afslaaet", record.RegistrationRefused),
	)
	givenBys = vocab.New("AfgivetAf",
		vocab.Pair("selv", record.GivenBySelf),
		vocab.Pair("vaerge", record.GivenByGuardian),
		vocab.Pair("repraesentant", record.GivenByRepresentative),
	)
	consentMethods = vocab.New("Samtykkemetode",
		vocab.Pair("mundtligt_dokumenteret", record.MethodVerbalDocumented),
		vocab.Pair("underskrevet_blanket", record.MethodSignedForm),
		vocab.Pair("digitalt", record.MethodDigital),
	)
	channels = vocab.New("Kanal",
		vocab.Pair("telefon", record.ChannelPhone),
		vocab.Pair("email", record.ChannelEmail),
		vocab.Pair("digital_post", record.ChannelDigitalPost),
	)
	recipientRoles = vocab.New("Modtagerrolle",
		vocab.Pair("bopaelskommune", record.RecipientResidenceMunicipality),
		vocab.Pair("bopaelsregion", record.RecipientResidenceRegion),
		vocab.Pair("haendelseskommune", record.RecipientIncidentMunicipality),
		vocab.Pair("haendelsesregion", record.RecipientIncidentRegion),
		vocab.Pair("politikreds", record.RecipientPoliceDistrict),
	)
	purposes = vocab.New("Formaal",
		vocab.Pair("psykosocial_opfoelgning", record.PurposeFollowUp),
		vocab.Pair("akut_psykosocial_stoette", record.PurposeAcuteSupport),
		vocab.Pair("identifikation_af_beroerte", record.PurposeIdentification),
		vocab.Pair("information_om_stoettetilbud", record.PurposeSupportInformation),
		vocab.Pair("psykiatrisk_opfoelgning", record.PurposePsychiatricFollowUp),
	)
	kinships = vocab.New("Slaegtskab",
		vocab.Pair("foraelder", record.KinshipParent),
		vocab.Pair("barn", record.KinshipChild),
		vocab.Pair("partner", record.KinshipPartner),
		vocab.Pair("soeskende", record.KinshipSibling),
		vocab.Pair("andet", record.KinshipOther),
	)
	guardianRelations = vocab.New("Vaergerelation",
		vocab.Pair("foraelder", record.GuardianParent),
		vocab.Pair("foraeldremyndighedsindehaver", record.GuardianCustodian),
		vocab.Pair("andet", record.GuardianOther),
	)
	withdrawalReasons = vocab.New("Aarsag",
		vocab.Pair("samtykke_tilbagekaldt", record.ReasonConsentWithdrawn),
		vocab.Pair("fejlregistrering", record.ReasonRegisteredInError),
		vocab.Pair("dublet", record.ReasonDuplicate),
		vocab.Pair("formaal_ophoert", record.ReasonPurposeEnded),
		vocab.Pair("modtager_ikke_laengere_ansvarlig", record.ReasonRecipientIncorrect),
	)
	officerRoles = vocab.New("Funktion",
		vocab.Pair("indsatsleder", RoleIncidentCommander),
		vocab.Pair("vagtchef", RoleDutyOfficer),
		vocab.Pair("patruljebetjent", RolePatrolOfficer),
		vocab.Pair("efterforsker", RoleInvestigator),
		vocab.Pair("familiekontakt", RoleFamilyLiaison),
	)
)
