package municipality

import (
	"github.com/psykosocial/exchange/adapters/internal/vocab"
	"github.com/psykosocial/exchange/internal/record"
)

// The closed vocabularies of the format, each named by the XSD simple type
// that enumerates its codes. The codes are the same as the regional JSON
// format's, so that a municipality sees one Danish vocabulary; tests check
// them against record's vocabularies and the XSD enumerations. Read-only.
var (
	incidentKinds = vocab.New("HaendelsesArt",
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
	sites                = vocab.New("Registreringssted", vocab.Sites()...)
	roles                = vocab.New("Rolle", vocab.RegistrarRoles()...)
	relations            = vocab.New("TilknytningsArt", vocab.RelationTypes()...)
	priorities           = vocab.New("Prioritet", vocab.Priorities()...)
	registrationConsents = vocab.New("RegistreringsSamtykke",
		vocab.Pair("givet", record.RegistrationGranted),
		vocab.Pair("afvist", record.RegistrationRefused),
		vocab.Pair("ikke_indhentet", record.RegistrationNotObtained),
	)
	channels          = vocab.New("Kanal", vocab.Channels()...)
	recipientRoles    = vocab.New("Modtagerrolle", vocab.RecipientRoles()...)
	purposes          = vocab.New("Formaal", vocab.Purposes()...)
	kinships          = vocab.New("Slaegtskab", vocab.Kinships()...)
	guardianRelations = vocab.New("VaergeRelation", vocab.GuardianRelations()...)
	givenBys          = vocab.New("AfgivetAf", vocab.GivenBys()...)
	methods           = vocab.New("Metode", vocab.ConsentMethods()...)
	reasons           = vocab.New("Aarsag", vocab.WithdrawalReasons()...)
)
