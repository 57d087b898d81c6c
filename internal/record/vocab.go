package record

// The shared vocabularies of schema v1. Each closed vocabulary is defined
// once here and once in schemas/registration.v1.schema.json ($defs); a test
// keeps the two identical. Routing, the consent policy and the journal use
// these types, never string literals of their own.

// IncidentKind is what happened.
type IncidentKind string

// Incident kinds.
const (
	KindFire             IncidentKind = "fire"
	KindExplosion        IncidentKind = "explosion"
	KindTrafficAccident  IncidentKind = "traffic_accident"
	KindShooting         IncidentKind = "shooting"
	KindViolence         IncidentKind = "violence"
	KindFlood            IncidentKind = "flood"
	KindSevereWeather    IncidentKind = "severe_weather"
	KindBuildingCollapse IncidentKind = "building_collapse"
	KindHazardousRelease IncidentKind = "hazardous_release"
	KindMassGathering    IncidentKind = "mass_gathering"
	KindOtherIncident    IncidentKind = "other"
)

// IncidentKinds lists every IncidentKind in schema order.
func IncidentKinds() []IncidentKind {
	return []IncidentKind{KindFire, KindExplosion, KindTrafficAccident, KindShooting,
		KindViolence, KindFlood, KindSevereWeather, KindBuildingCollapse, KindHazardousRelease,
		KindMassGathering, KindOtherIncident}
}

// Site is where the person was registered.
type Site string

// Registration sites.
const (
	SiteScene   Site = "scene"
	SiteEPC     Site = "epc"
	SiteHotline Site = "hotline"
	SiteOther   Site = "other"
)

// Sites lists every Site.
func Sites() []Site {
	return []Site{SiteScene, SiteEPC, SiteHotline, SiteOther}
}

// RegistrarRole is the role of the person who registered the record or obtained consent.
type RegistrarRole string

// Registrar roles.
const (
	RoleKOP        RegistrarRole = "kop"
	RoleCrisisTeam RegistrarRole = "crisis_team"
	RolePolice     RegistrarRole = "police"
	RoleOther      RegistrarRole = "other"
)

// RegistrarRoles lists every RegistrarRole.
func RegistrarRoles() []RegistrarRole {
	return []RegistrarRole{RoleKOP, RoleCrisisTeam, RolePolice, RoleOther}
}

// RelationType is how the person is affected by the incident.
type RelationType string

// Relation types.
const (
	RelationAffected  RelationType = "affected"
	RelationRelative  RelationType = "relative"
	RelationWitness   RelationType = "witness"
	RelationStaff     RelationType = "staff"
	RelationBystander RelationType = "bystander"
)

// RelationTypes lists every RelationType.
func RelationTypes() []RelationType {
	return []RelationType{RelationAffected, RelationRelative, RelationWitness, RelationStaff, RelationBystander}
}

// Priority is the assessed urgency of follow-up.
type Priority string

// Follow-up priorities.
const (
	PriorityAcute Priority = "acute"
	PriorityDays  Priority = "days"
	PriorityWeeks Priority = "weeks"
	PriorityNone  Priority = "none"
)

// Priorities lists every Priority.
func Priorities() []Priority {
	return []Priority{PriorityAcute, PriorityDays, PriorityWeeks, PriorityNone}
}

// RegistrationConsent is the person's answer to being registered at all.
type RegistrationConsent string

// Registration consent values. NotObtained is what a police list carries
// when no consent was documented: later stages forward nothing that needs consent.
const (
	RegistrationGranted     RegistrationConsent = "granted"
	RegistrationRefused     RegistrationConsent = "refused"
	RegistrationNotObtained RegistrationConsent = "not_obtained"
)

// RegistrationConsents lists every RegistrationConsent.
func RegistrationConsents() []RegistrationConsent {
	return []RegistrationConsent{RegistrationGranted, RegistrationRefused, RegistrationNotObtained}
}

// Channel is a way the person consented to be contacted.
type Channel string

// Contact channels. DigitalPost (Digital Post / e-Boks) addresses the person by CPR number.
const (
	ChannelPhone       Channel = "phone"
	ChannelEmail       Channel = "email"
	ChannelDigitalPost Channel = "digital_post"
)

// Channels lists every Channel.
func Channels() []Channel {
	return []Channel{ChannelPhone, ChannelEmail, ChannelDigitalPost}
}

// RecipientRole is why an authority receives a record. Routing gives each
// candidate recipient one role; consent names roles; the journal records it.
type RecipientRole string

// Recipient roles.
const (
	RecipientResidenceMunicipality RecipientRole = "residence_municipality"
	RecipientResidenceRegion       RecipientRole = "residence_region"
	RecipientIncidentMunicipality  RecipientRole = "incident_municipality"
	RecipientIncidentRegion        RecipientRole = "incident_region"
	RecipientPoliceDistrict        RecipientRole = "police_district"
)

// RecipientRoles lists every RecipientRole.
func RecipientRoles() []RecipientRole {
	return []RecipientRole{RecipientResidenceMunicipality, RecipientResidenceRegion,
		RecipientIncidentMunicipality, RecipientIncidentRegion, RecipientPoliceDistrict}
}

// Purpose is what a recipient may use the record for.
type Purpose string

// Purposes.
const (
	PurposeFollowUp       Purpose = "psychosocial_follow_up"
	PurposeAcuteSupport   Purpose = "acute_psychosocial_support"
	PurposeIdentification Purpose = "identification_of_affected"
	// PurposeSupportInformation: information about support offers only (a
	// letter in Digital Post, an SMS with the hotline), no personal contact.
	PurposeSupportInformation Purpose = "support_information"
	// PurposePsychiatricFollowUp: follow-up by the region's psychiatry, the
	// one purpose that carries the assessment notes (health data); it can
	// be granted to region roles only.
	PurposePsychiatricFollowUp Purpose = "psychiatric_follow_up"
)

// Purposes lists every Purpose.
func Purposes() []Purpose {
	return []Purpose{PurposeFollowUp, PurposeAcuteSupport, PurposeIdentification, PurposeSupportInformation, PurposePsychiatricFollowUp}
}

// HealthPurposes are the purposes that need health data (GDPR art. 9):
// only they carry the assessment notes, and only region roles can be
// granted them.
func HealthPurposes() []Purpose { return []Purpose{PurposePsychiatricFollowUp} }

// IsRegionRole reports whether role is held by a region.
func IsRegionRole(role RecipientRole) bool {
	return role == RecipientResidenceRegion || role == RecipientIncidentRegion
}

// Kinship is how a relative is related to the affected person.
type Kinship string

// Kinship values.
const (
	KinshipParent  Kinship = "parent"
	KinshipChild   Kinship = "child"
	KinshipPartner Kinship = "partner"
	KinshipSibling Kinship = "sibling"
	KinshipOther   Kinship = "other"
)

// Kinships lists every Kinship.
func Kinships() []Kinship {
	return []Kinship{KinshipParent, KinshipChild, KinshipPartner, KinshipSibling, KinshipOther}
}

// GuardianRelation is how a guardian relates to the minor.
type GuardianRelation string

// Guardian relations.
const (
	GuardianParent    GuardianRelation = "parent"
	GuardianCustodian GuardianRelation = "custodian"
	GuardianOther     GuardianRelation = "other"
)

// GuardianRelations lists every GuardianRelation.
func GuardianRelations() []GuardianRelation {
	return []GuardianRelation{GuardianParent, GuardianCustodian, GuardianOther}
}

// GivenBy is who gave consent.
type GivenBy string

// Who gave consent. Persons under 15 need a guardian.
const (
	GivenBySelf           GivenBy = "self"
	GivenByGuardian       GivenBy = "guardian"
	GivenByRepresentative GivenBy = "representative"
)

// GivenBys lists every GivenBy.
func GivenBys() []GivenBy {
	return []GivenBy{GivenBySelf, GivenByGuardian, GivenByRepresentative}
}

// ConsentMethod is how consent was documented.
type ConsentMethod string

// Consent methods.
const (
	MethodVerbalDocumented ConsentMethod = "verbal_documented"
	MethodSignedForm       ConsentMethod = "signed_form"
	MethodDigital          ConsentMethod = "digital"
)

// ConsentMethods lists every ConsentMethod.
func ConsentMethods() []ConsentMethod {
	return []ConsentMethod{MethodVerbalDocumented, MethodSignedForm, MethodDigital}
}

// WithdrawalReason is why a record is withdrawn and must be deleted by its recipients.
type WithdrawalReason string

// Withdrawal reasons.
const (
	ReasonConsentWithdrawn   WithdrawalReason = "consent_withdrawn"
	ReasonRegisteredInError  WithdrawalReason = "registered_in_error"
	ReasonDuplicate          WithdrawalReason = "duplicate"
	ReasonPurposeEnded       WithdrawalReason = "purpose_ended"
	ReasonRecipientIncorrect WithdrawalReason = "recipient_no_longer_responsible"
)

// WithdrawalReasons lists every WithdrawalReason.
func WithdrawalReasons() []WithdrawalReason {
	return []WithdrawalReason{ReasonConsentWithdrawn, ReasonRegisteredInError,
		ReasonDuplicate, ReasonPurposeEnded, ReasonRecipientIncorrect}
}

// FieldGroup is a named set of record fields that a consent policy rule
// grants or withholds as a whole. The consent block always travels.
type FieldGroup string

// Field groups.
const (
	GroupIdentity   FieldGroup = "identity"
	GroupContact    FieldGroup = "contact"
	GroupAddress    FieldGroup = "address"
	GroupIncident   FieldGroup = "incident"
	GroupRelation   FieldGroup = "relation"
	GroupAssessment FieldGroup = "assessment"
)

// FieldGroups lists every FieldGroup.
func FieldGroups() []FieldGroup {
	return []FieldGroup{GroupIdentity, GroupContact, GroupAddress, GroupIncident, GroupRelation, GroupAssessment}
}

// GroupFields returns a fresh map from each field group to the JSON Pointers of the record
// members it covers. Members not listed here (record_id, version, schema,
// incident/id, registered, consent) travel with every view.
//
// Contact members are further limited per channel by the consent policy:
// /person/phone needs the phone channel, /person/email the email channel;
// for a minor whose guardian consented, the guardian's phone and e-mail
// take their place. /relation/affected (the affected person's CPR number or
// name and birth date, in a relative's record) is in no group: it never
// leaves the gateway. The consent block travels with every view, reduced to
// what the recipient may know: its own grants, and the guardian's name and
// relation (who consented), the guardian's phone and e-mail only with the
// contact group and their channel.
// /assessment/notes is health data (a special category) and is granted only
// where explicit consent names a purpose that needs it.
func GroupFields() map[FieldGroup][]string {
	return map[FieldGroup][]string{
		GroupIdentity:   {"/person/cpr", "/person/ecpr", "/person/name", "/person/birth_date", "/person/address_protected"},
		GroupContact:    {"/person/phone", "/person/email", "/person/language", "/person/interpreter_needed", "/consent/guardian/phone", "/consent/guardian/email"},
		GroupAddress:    {"/person/address"},
		GroupIncident:   {"/incident/title", "/incident/kind", "/incident/occurred_at", "/incident/municipality_code", "/incident/region_code", "/incident/site"},
		GroupRelation:   {"/relation/type", "/relation/relative_of", "/relation/kinship"},
		GroupAssessment: {"/assessment/follow_up_priority", "/assessment/notes"},
	}
}
