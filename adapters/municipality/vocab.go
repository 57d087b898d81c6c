package municipality

import (
	"strings"

	"github.com/psykosocial/exchange/internal/record"
)

// code is one Danish vocabulary code and the common value it stands for.
type code[T ~string] struct {
	danish string
	common T
}

// vocabulary is a closed vocabulary of the format: Danish codes (ASCII,
// æ → ae, ø → oe, å → aa) one to one with the common values, in the order
// of the common vocabulary. The codes are the same as the regional JSON
// format's, so that a municipality sees one Danish vocabulary. The tables
// are read-only after package initialisation; tests check them against
// record's vocabularies and the XSD enumerations.
type vocabulary[T ~string] struct {
	// xsdType is the name of the simple type that enumerates the codes in the XSD.
	xsdType string
	codes   []code[T]
	list    string // the Danish codes, comma separated, for messages
}

func newVocabulary[T ~string](xsdType string, codes ...code[T]) *vocabulary[T] {
	names := make([]string, len(codes))
	for i, c := range codes {
		names[i] = c.danish
	}
	return &vocabulary[T]{xsdType: xsdType, codes: codes, list: strings.Join(names, ", ")}
}

// common returns the common value of a Danish code.
func (v *vocabulary[T]) common(danish string) (T, bool) {
	for _, c := range v.codes {
		if c.danish == danish {
			return c.common, true
		}
	}
	return "", false
}

// danish returns the Danish code of a common value.
func (v *vocabulary[T]) danish(common T) (string, bool) {
	for _, c := range v.codes {
		if c.common == common {
			return c.danish, true
		}
	}
	return "", false
}

var (
	incidentKinds = newVocabulary("HaendelsesArt",
		code[record.IncidentKind]{"brand", record.KindFire},
		code[record.IncidentKind]{"eksplosion", record.KindExplosion},
		code[record.IncidentKind]{"faerdselsulykke", record.KindTrafficAccident},
		code[record.IncidentKind]{"skyderi", record.KindShooting},
		code[record.IncidentKind]{"vold", record.KindViolence},
		code[record.IncidentKind]{"oversvoemmelse", record.KindFlood},
		code[record.IncidentKind]{"ekstremt_vejr", record.KindSevereWeather},
		code[record.IncidentKind]{"bygningskollaps", record.KindBuildingCollapse},
		code[record.IncidentKind]{"farligt_udslip", record.KindHazardousRelease},
		code[record.IncidentKind]{"stort_arrangement", record.KindMassGathering},
		code[record.IncidentKind]{"andet", record.KindOtherIncident},
	)
	sites = newVocabulary("Registreringssted",
		code[record.Site]{"skadested", record.SiteScene},
		code[record.Site]{"epc", record.SiteEPC},
		code[record.Site]{"hotline", record.SiteHotline},
		code[record.Site]{"andet", record.SiteOther},
	)
	roles = newVocabulary("Rolle",
		code[record.RegistrarRole]{"kop", record.RoleKOP},
		code[record.RegistrarRole]{"kriseteam", record.RoleCrisisTeam},
		code[record.RegistrarRole]{"politi", record.RolePolice},
		code[record.RegistrarRole]{"andet", record.RoleOther},
	)
	relations = newVocabulary("TilknytningsArt",
		code[record.RelationType]{"beroert", record.RelationAffected},
		code[record.RelationType]{"paaroerende", record.RelationRelative},
		code[record.RelationType]{"vidne", record.RelationWitness},
		code[record.RelationType]{"personale", record.RelationStaff},
		code[record.RelationType]{"tilskuer", record.RelationBystander},
	)
	priorities = newVocabulary("Prioritet",
		code[record.Priority]{"akut", record.PriorityAcute},
		code[record.Priority]{"dage", record.PriorityDays},
		code[record.Priority]{"uger", record.PriorityWeeks},
		code[record.Priority]{"ingen", record.PriorityNone},
	)
	registrationConsents = newVocabulary("RegistreringsSamtykke",
		code[record.RegistrationConsent]{"givet", record.RegistrationGranted},
		code[record.RegistrationConsent]{"afvist", record.RegistrationRefused},
		code[record.RegistrationConsent]{"ikke_indhentet", record.RegistrationNotObtained},
	)
	channels = newVocabulary("Kanal",
		code[record.Channel]{"telefon", record.ChannelPhone},
		code[record.Channel]{"email", record.ChannelEmail},
		code[record.Channel]{"digital_post", record.ChannelDigitalPost},
	)
	recipientRoles = newVocabulary("Modtagerrolle",
		code[record.RecipientRole]{"bopaelskommune", record.RecipientResidenceMunicipality},
		code[record.RecipientRole]{"bopaelsregion", record.RecipientResidenceRegion},
		code[record.RecipientRole]{"haendelseskommune", record.RecipientIncidentMunicipality},
		code[record.RecipientRole]{"haendelsesregion", record.RecipientIncidentRegion},
		code[record.RecipientRole]{"politikreds", record.RecipientPoliceDistrict},
	)
	purposes = newVocabulary("Formaal",
		code[record.Purpose]{"psykosocial_opfoelgning", record.PurposeFollowUp},
		code[record.Purpose]{"akut_psykosocial_stoette", record.PurposeAcuteSupport},
		code[record.Purpose]{"identifikation_af_beroerte", record.PurposeIdentification},
	)
	givenBys = newVocabulary("AfgivetAf",
		code[record.GivenBy]{"selv", record.GivenBySelf},
		code[record.GivenBy]{"vaerge", record.GivenByGuardian},
		code[record.GivenBy]{"repraesentant", record.GivenByRepresentative},
	)
	methods = newVocabulary("Metode",
		code[record.ConsentMethod]{"mundtligt_dokumenteret", record.MethodVerbalDocumented},
		code[record.ConsentMethod]{"underskrevet_blanket", record.MethodSignedForm},
		code[record.ConsentMethod]{"digitalt", record.MethodDigital},
	)
	reasons = newVocabulary("Aarsag",
		code[record.WithdrawalReason]{"samtykke_tilbagekaldt", record.ReasonConsentWithdrawn},
		code[record.WithdrawalReason]{"fejlregistrering", record.ReasonRegisteredInError},
		code[record.WithdrawalReason]{"dublet", record.ReasonDuplicate},
		code[record.WithdrawalReason]{"formaal_ophoert", record.ReasonPurposeEnded},
		code[record.WithdrawalReason]{"modtager_ikke_laengere_ansvarlig", record.ReasonRecipientIncorrect},
	)
)
