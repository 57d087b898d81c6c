package region

import (
	"github.com/psykosocial/exchange/adapters/internal/vocab"
	"github.com/psykosocial/exchange/internal/record"
)

// The vocabularies of the format, each named by the JSON Schema member
// (or $defs entry) that enumerates its codes, in the order of the common
// vocabulary. Read-only.
var (
	incidentKinds = vocab.New("haendelse/type",
		vocab.Pair("brand", record.KindFire),
		vocab.Pair("eksplosion", record.KindExplosion),
		vocab.Pair("faerdselsulykke", record.KindTrafficAccident),
		vocab.Pair("skyderi", record.KindShooting),
		vocab.Pair("vold", record.KindViolence),
		vocab.Pair("oversvoemmelse", record.KindFlood),
		vocab.Pair("ekstremt_vejr", record.KindSevereWeather),
		vocab.Pair("bygningskollaps", record.KindBuildingCollapse),
		vocab.Pair("farligt_udslip", record.KindHazardousRelease),
		vocab.Pair("stort_arrangement", record.KindMassGathering),
		vocab.Pair("andet", record.KindOtherIncident),
	)
	sites = vocab.New("haendelse/sted",
		vocab.Pair("skadested", record.SiteScene),
		vocab.Pair("epc", record.SiteEPC),
		vocab.Pair("hotline", record.SiteHotline),
		vocab.Pair("andet", record.SiteOther),
	)
	roles = vocab.New("rolle",
		vocab.Pair("kop", record.RoleKOP),
		vocab.Pair("kriseteam", record.RoleCrisisTeam),
		vocab.Pair("politi", record.RolePolice),
		vocab.Pair("andet", record.RoleOther),
	)
	relations = vocab.New("relation/type",
		vocab.Pair("beroert", record.RelationAffected),
		vocab.Pair("paaroerende", record.RelationRelative),
		vocab.Pair("vidne", record.RelationWitness),
		vocab.Pair("personale", record.RelationStaff),
		vocab.Pair("tilskuer", record.RelationBystander),
	)
	priorities = vocab.New("vurdering/opfoelgningsprioritet",
		vocab.Pair("akut", record.PriorityAcute),
		vocab.Pair("dage", record.PriorityDays),
		vocab.Pair("uger", record.PriorityWeeks),
		vocab.Pair("ingen", record.PriorityNone),
	)
	registrationConsents = vocab.New("samtykke/registrering",
		vocab.Pair("givet", record.RegistrationGranted),
		vocab.Pair("afvist", record.RegistrationRefused),
		vocab.Pair("ikke_indhentet", record.RegistrationNotObtained),
	)
	channels = vocab.New("kanal",
		vocab.Pair("telefon", record.ChannelPhone),
		vocab.Pair("email", record.ChannelEmail),
		vocab.Pair("digital_post", record.ChannelDigitalPost),
	)
	recipients = vocab.New("modtager",
		vocab.Pair("bopaelskommune", record.RecipientResidenceMunicipality),
		vocab.Pair("bopaelsregion", record.RecipientResidenceRegion),
		vocab.Pair("haendelseskommune", record.RecipientIncidentMunicipality),
		vocab.Pair("haendelsesregion", record.RecipientIncidentRegion),
		vocab.Pair("politikreds", record.RecipientPoliceDistrict),
	)
	purposes = vocab.New("formaal",
		vocab.Pair("psykosocial_opfoelgning", record.PurposeFollowUp),
		vocab.Pair("akut_psykosocial_stoette", record.PurposeAcuteSupport),
		vocab.Pair("identifikation_af_beroerte", record.PurposeIdentification),
		vocab.Pair("information_om_stoettetilbud", record.PurposeSupportInformation),
		vocab.Pair("psykiatrisk_opfoelgning", record.PurposePsychiatricFollowUp),
	)
	kinships = vocab.New("relation/slaegtskab",
		vocab.Pair("foraelder", record.KinshipParent),
		vocab.Pair("barn", record.KinshipChild),
		vocab.Pair("partner", record.KinshipPartner),
		vocab.Pair("soeskende", record.KinshipSibling),
		vocab.Pair("andet", record.KinshipOther),
	)
	guardianRelations = vocab.New("vaerge/relation",
		vocab.Pair("foraelder", record.GuardianParent),
		vocab.Pair("foraeldremyndighedsindehaver", record.GuardianCustodian),
		vocab.Pair("andet", record.GuardianOther),
	)
	givenBys = vocab.New("samtykke/givetAf",
		vocab.Pair("selv", record.GivenBySelf),
		vocab.Pair("vaerge", record.GivenByGuardian),
		vocab.Pair("repraesentant", record.GivenByRepresentative),
	)
	methods = vocab.New("indhentet/metode",
		vocab.Pair("mundtligt_dokumenteret", record.MethodVerbalDocumented),
		vocab.Pair("underskrevet_blanket", record.MethodSignedForm),
		vocab.Pair("digitalt", record.MethodDigital),
	)
	reasons = vocab.New("tilbagetraekning/aarsag",
		vocab.Pair("samtykke_tilbagekaldt", record.ReasonConsentWithdrawn),
		vocab.Pair("fejlregistrering", record.ReasonRegisteredInError),
		vocab.Pair("dublet", record.ReasonDuplicate),
		vocab.Pair("formaal_ophoert", record.ReasonPurposeEnded),
		vocab.Pair("modtager_ikke_laengere_ansvarlig", record.ReasonRecipientIncorrect),
	)
)
