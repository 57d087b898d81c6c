package vocab

import "github.com/psykosocial/exchange/internal/record"

// The Danish codes the three formats share, one definition each: every
// format names its vocabulary after its own schema type (vocab.New), but the
// codes are the same, so that an authority that speaks two formats, and the
// mapping tables in the README, see one word for one value.

// Channels are the shared codes of record.Channel.
func Channels() []Code[record.Channel] {
	return []Code[record.Channel]{
		Pair("telefon", record.ChannelPhone),
		Pair("email", record.ChannelEmail),
		Pair("digital_post", record.ChannelDigitalPost),
	}
}

// ConsentMethods are the shared codes of record.ConsentMethod.
func ConsentMethods() []Code[record.ConsentMethod] {
	return []Code[record.ConsentMethod]{
		Pair("mundtligt_dokumenteret", record.MethodVerbalDocumented),
		Pair("underskrevet_blanket", record.MethodSignedForm),
		Pair("digitalt", record.MethodDigital),
	}
}

// GivenBys are the shared codes of record.GivenBy.
func GivenBys() []Code[record.GivenBy] {
	return []Code[record.GivenBy]{
		Pair("selv", record.GivenBySelf),
		Pair("vaerge", record.GivenByGuardian),
		Pair("repraesentant", record.GivenByRepresentative),
	}
}

// GuardianRelations are the shared codes of record.GuardianRelation.
func GuardianRelations() []Code[record.GuardianRelation] {
	return []Code[record.GuardianRelation]{
		Pair("foraelder", record.GuardianParent),
		Pair("foraeldremyndighedsindehaver", record.GuardianCustodian),
		Pair("andet", record.GuardianOther),
	}
}

// Kinships are the shared codes of record.Kinship.
func Kinships() []Code[record.Kinship] {
	return []Code[record.Kinship]{
		Pair("foraelder", record.KinshipParent),
		Pair("barn", record.KinshipChild),
		Pair("partner", record.KinshipPartner),
		Pair("soeskende", record.KinshipSibling),
		Pair("andet", record.KinshipOther),
	}
}

// Priorities are the shared codes of record.Priority.
func Priorities() []Code[record.Priority] {
	return []Code[record.Priority]{
		Pair("akut", record.PriorityAcute),
		Pair("dage", record.PriorityDays),
		Pair("uger", record.PriorityWeeks),
		Pair("ingen", record.PriorityNone),
	}
}

// Purposes are the shared codes of record.Purpose.
func Purposes() []Code[record.Purpose] {
	return []Code[record.Purpose]{
		Pair("psykosocial_opfoelgning", record.PurposeFollowUp),
		Pair("akut_psykosocial_stoette", record.PurposeAcuteSupport),
		Pair("identifikation_af_beroerte", record.PurposeIdentification),
		Pair("information_om_stoettetilbud", record.PurposeSupportInformation),
		Pair("psykiatrisk_opfoelgning", record.PurposePsychiatricFollowUp),
	}
}

// RecipientRoles are the shared codes of record.RecipientRole.
func RecipientRoles() []Code[record.RecipientRole] {
	return []Code[record.RecipientRole]{
		Pair("bopaelskommune", record.RecipientResidenceMunicipality),
		Pair("bopaelsregion", record.RecipientResidenceRegion),
		Pair("haendelseskommune", record.RecipientIncidentMunicipality),
		Pair("haendelsesregion", record.RecipientIncidentRegion),
		Pair("politikreds", record.RecipientPoliceDistrict),
	}
}

// RegistrarRoles are the shared codes of record.RegistrarRole.
func RegistrarRoles() []Code[record.RegistrarRole] {
	return []Code[record.RegistrarRole]{
		Pair("kop", record.RoleKOP),
		Pair("kriseteam", record.RoleCrisisTeam),
		Pair("politi", record.RolePolice),
		Pair("andet", record.RoleOther),
	}
}

// RelationTypes are the shared codes of record.RelationType.
func RelationTypes() []Code[record.RelationType] {
	return []Code[record.RelationType]{
		Pair("beroert", record.RelationAffected),
		Pair("paaroerende", record.RelationRelative),
		Pair("vidne", record.RelationWitness),
		Pair("personale", record.RelationStaff),
		Pair("tilskuer", record.RelationBystander),
	}
}

// Sites are the shared codes of record.Site.
func Sites() []Code[record.Site] {
	return []Code[record.Site]{
		Pair("skadested", record.SiteScene),
		Pair("epc", record.SiteEPC),
		Pair("hotline", record.SiteHotline),
		Pair("andet", record.SiteOther),
	}
}

// WithdrawalReasons are the shared codes of record.WithdrawalReason.
func WithdrawalReasons() []Code[record.WithdrawalReason] {
	return []Code[record.WithdrawalReason]{
		Pair("samtykke_tilbagekaldt", record.ReasonConsentWithdrawn),
		Pair("fejlregistrering", record.ReasonRegisteredInError),
		Pair("dublet", record.ReasonDuplicate),
		Pair("formaal_ophoert", record.ReasonPurposeEnded),
		Pair("modtager_ikke_laengere_ansvarlig", record.ReasonRecipientIncorrect),
	}
}
