package region

import (
	"strings"

	"github.com/psykosocial/exchange/internal/record"
)

// vocab is a closed vocabulary of the regional format: each Danish code and
// the common value it stands for, one to one, in the order of the common
// vocabulary. The tables below are read-only after package initialisation.
type vocab[T ~string] struct {
	danish []string
	common []T
	list   string // the Danish codes, comma separated, for messages
}

// pair is one Danish code and its common value.
type pair[T ~string] struct {
	danish string
	common T
}

func newVocab[T ~string](pairs []pair[T]) vocab[T] {
	v := vocab[T]{danish: make([]string, len(pairs)), common: make([]T, len(pairs))}
	for i, p := range pairs {
		v.danish[i], v.common[i] = p.danish, p.common
	}
	v.list = strings.Join(v.danish, ", ")
	return v
}

// toCommon returns the common value of a Danish code.
func (v vocab[T]) toCommon(s string) (T, bool) {
	for i, d := range v.danish {
		if d == s {
			return v.common[i], true
		}
	}
	return "", false
}

// toDanish returns the Danish code of a common value.
func (v vocab[T]) toDanish(t T) (string, bool) {
	for i, c := range v.common {
		if c == t {
			return v.danish[i], true
		}
	}
	return "", false
}

// The vocabularies of the format (Danish codes, ASCII: æ → ae, ø → oe, å → aa).
var (
	incidentKinds = newVocab([]pair[record.IncidentKind]{
		{"brand", record.KindFire},
		{"eksplosion", record.KindExplosion},
		{"faerdselsulykke", record.KindTrafficAccident},
		{"skyderi", record.KindShooting},
		{"vold", record.KindViolence},
		{"oversvoemmelse", record.KindFlood},
		{"ekstremt_vejr", record.KindSevereWeather},
		{"bygningskollaps", record.KindBuildingCollapse},
		{"farligt_udslip", record.KindHazardousRelease},
		{"stort_arrangement", record.KindMassGathering},
		{"andet", record.KindOtherIncident},
	})
	sites = newVocab([]pair[record.Site]{
		{"skadested", record.SiteScene},
		{"epc", record.SiteEPC},
		{"hotline", record.SiteHotline},
		{"andet", record.SiteOther},
	})
	roles = newVocab([]pair[record.RegistrarRole]{
		{"kop", record.RoleKOP},
		{"kriseteam", record.RoleCrisisTeam},
		{"politi", record.RolePolice},
		{"andet", record.RoleOther},
	})
	relations = newVocab([]pair[record.RelationType]{
		{"beroert", record.RelationAffected},
		{"paaroerende", record.RelationRelative},
		{"vidne", record.RelationWitness},
		{"personale", record.RelationStaff},
		{"tilskuer", record.RelationBystander},
	})
	priorities = newVocab([]pair[record.Priority]{
		{"akut", record.PriorityAcute},
		{"dage", record.PriorityDays},
		{"uger", record.PriorityWeeks},
		{"ingen", record.PriorityNone},
	})
	registrationConsents = newVocab([]pair[record.RegistrationConsent]{
		{"givet", record.RegistrationGranted},
		{"afvist", record.RegistrationRefused},
		{"ikke_indhentet", record.RegistrationNotObtained},
	})
	channels = newVocab([]pair[record.Channel]{
		{"telefon", record.ChannelPhone},
		{"email", record.ChannelEmail},
		{"digital_post", record.ChannelDigitalPost},
	})
	recipients = newVocab([]pair[record.RecipientRole]{
		{"bopaelskommune", record.RecipientResidenceMunicipality},
		{"bopaelsregion", record.RecipientResidenceRegion},
		{"haendelseskommune", record.RecipientIncidentMunicipality},
		{"haendelsesregion", record.RecipientIncidentRegion},
		{"politikreds", record.RecipientPoliceDistrict},
	})
	purposes = newVocab([]pair[record.Purpose]{
		{"psykosocial_opfoelgning", record.PurposeFollowUp},
		{"akut_psykosocial_stoette", record.PurposeAcuteSupport},
		{"identifikation_af_beroerte", record.PurposeIdentification},
	})
	givenBys = newVocab([]pair[record.GivenBy]{
		{"selv", record.GivenBySelf},
		{"vaerge", record.GivenByGuardian},
		{"repraesentant", record.GivenByRepresentative},
	})
	methods = newVocab([]pair[record.ConsentMethod]{
		{"mundtligt_dokumenteret", record.MethodVerbalDocumented},
		{"underskrevet_blanket", record.MethodSignedForm},
		{"digitalt", record.MethodDigital},
	})
	reasons = newVocab([]pair[record.WithdrawalReason]{
		{"samtykke_tilbagekaldt", record.ReasonConsentWithdrawn},
		{"fejlregistrering", record.ReasonRegisteredInError},
		{"dublet", record.ReasonDuplicate},
		{"formaal_ophoert", record.ReasonPurposeEnded},
		{"modtager_ikke_laengere_ansvarlig", record.ReasonRecipientIncorrect},
	})
)
