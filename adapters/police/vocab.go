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
	sites          = vocab.New("Registreringssted", vocab.Sites()...)
	registrarRoles = vocab.New("Registrantrolle", vocab.RegistrarRoles()...)
	relationTypes  = vocab.New("Tilknytningstype",
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
	givenBys          = vocab.New("AfgivetAf", vocab.GivenBys()...)
	consentMethods    = vocab.New("Samtykkemetode", vocab.ConsentMethods()...)
	channels          = vocab.New("Kanal", vocab.Channels()...)
	recipientRoles    = vocab.New("Modtagerrolle", vocab.RecipientRoles()...)
	purposes          = vocab.New("Formaal", vocab.Purposes()...)
	kinships          = vocab.New("Slaegtskab", vocab.Kinships()...)
	guardianRelations = vocab.New("Vaergerelation", vocab.GuardianRelations()...)
	withdrawalReasons = vocab.New("Aarsag", vocab.WithdrawalReasons()...)
	officerRoles      = vocab.New("Funktion",
		vocab.Pair("indsatsleder", RoleIncidentCommander),
		vocab.Pair("vagtchef", RoleDutyOfficer),
		vocab.Pair("patruljebetjent", RolePatrolOfficer),
		vocab.Pair("efterforsker", RoleInvestigator),
		vocab.Pair("familiekontakt", RoleFamilyLiaison),
	)
)
