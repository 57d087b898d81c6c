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
	sites                = vocab.New("haendelse/sted", vocab.Sites()...)
	roles                = vocab.New("rolle", vocab.RegistrarRoles()...)
	relations            = vocab.New("relation/type", vocab.RelationTypes()...)
	priorities           = vocab.New("vurdering/opfoelgningsprioritet", vocab.Priorities()...)
	registrationConsents = vocab.New("samtykke/registrering",
		vocab.Pair("givet", record.RegistrationGranted),
		vocab.Pair("afvist", record.RegistrationRefused),
		vocab.Pair("ikke_indhentet", record.RegistrationNotObtained),
	)
	channels          = vocab.New("kanal", vocab.Channels()...)
	recipients        = vocab.New("modtager", vocab.RecipientRoles()...)
	purposes          = vocab.New("formaal", vocab.Purposes()...)
	kinships          = vocab.New("relation/slaegtskab", vocab.Kinships()...)
	guardianRelations = vocab.New("vaerge/relation", vocab.GuardianRelations()...)
	givenBys          = vocab.New("samtykke/givetAf", vocab.GivenBys()...)
	methods           = vocab.New("indhentet/metode", vocab.ConsentMethods()...)
	reasons           = vocab.New("tilbagetraekning/aarsag", vocab.WithdrawalReasons()...)
)
