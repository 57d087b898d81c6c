// Package police maps the police format — namespaced XML
// (urn:psykosocial:politi:personliste:v1, schemas/police-personlist.v1.xsd)
// exchanged between the 12 police districts and the gateway — to the common
// registration record and back.
//
// # Messages
//
// A Personliste is a person list for one incident: a header (Hoved), the
// incident once (Haendelse), the registering police district and officer
// role once (Registrant, only in lists a district sends), and up to
// MaxPersons persons (Personer/Person). A Tilbagetraekning is a withdrawal
// notice for one record. Both roots carry an ID attribute (Encode writes
// "m-" and the message id) and may begin with one enveloped ds:Signature,
// which Decode accepts and ignores (the envelope layer verifies it); a
// signature anywhere else, or a second one, refuses the document.
//
// The format is spoken in two directions only: a district sends to the
// gateway (Afsender police:<district>, Modtager gateway, Journalnummer and
// Registrant required, Registrant/Politikreds = the sender's district), and
// the gateway sends to a district (Afsender gateway, Modtager
// police:<district>, no Registrant: each person's Registreret names its
// registering authority, because the gateway forwards records that regions
// and municipalities registered).
//
// # Results per person
//
// Decode gives one adapters.Item per Person: a valid record, or the
// problems of that person with the path in the source document
// (/Personliste/Personer/Person[7]/CPR) and the line, while the other
// persons proceed. A problem in what the list gives once (root, header,
// incident, registrant, the Personer element, a misplaced signature), two
// persons with the same record id (adapters.RuleDuplicateRecord, naming
// both) and every refusal of the hardened parser refuse the list whole. A person's
// problems are its decoding problems (unknown element, order, wrong type,
// value outside a vocabulary) and the common validator's problems, whose
// JSON Pointers are mapped back to elements (paths.go); where a member has
// no element of its own the message keeps the common pointer. At most 100
// problems are listed per person or per document, then one saying that
// more were left out.
//
// # Element names
//
// Element names and vocabulary values are Danish, as Danish police and
// public-sector systems name them (Haendelse, Foedselsdato, Tilknytning,
// Samtykke, Journalnummer, Politikreds), written in ASCII: æ as ae, ø as oe,
// å as aa. ASCII names keep the format safe for every XML tool chain and
// for case systems that still restrict names to ASCII. Authority ids keep
// the authority directory's form (police:nordjylland, region:1082), because
// the journal and the directory name authorities that way.
//
// # Mapping: police → common
//
//	Hoved/MeddelelsesID               adapters.Header.MessageID
//	Hoved/Afsender, Modtager          Header.Sender, Header.Recipient
//	Hoved/Udstedt, Udloeber           Header.IssuedAt, Header.ExpiresAt
//	Hoved/Journalnummer               Header.SenderReference (police journal number)
//	Haendelse/HaendelsesID            incident.id          (every person of the list)
//	Haendelse/Titel                   incident.title
//	Haendelse/Haendelsestype          incident.kind        (brand=fire, eksplosion=explosion,
//	                                  faerdselsuheld=traffic_accident, skyderi=shooting, vold=violence,
//	                                  oversvoemmelse=flood, ekstremt_vejr=severe_weather,
//	                                  bygningskollaps=building_collapse,
//	                                  udslip_farlige_stoffer=hazardous_release,
//	                                  stort_arrangement=mass_gathering, andet=other)
//	Haendelse/Tidspunkt               incident.occurred_at
//	Haendelse/Kommunekode             incident.municipality_code (4 digits)
//	Registrant/Politikreds            registered.by_authority = "police:" + district
//	Registrant/Funktion               registered.by_role = police (see below)
//	Person/RegistreringsID            record_id
//	Person/Version                    version
//	Person/Registreret/Tidspunkt      registered.at
//	Person/Registreret/Myndighed      registered.by_authority (lists from the gateway only)
//	Person/Registreret/Rolle          registered.by_role (kop, kriseteam=crisis_team,
//	                                  politi=police, andet=other; lists from the gateway only)
//	Person/Registreret/Sted           incident.site (skadested=scene, epc, hotline, andet=other)
//	Person/CPR, ECPR                  person.cpr, person.ecpr
//	Person/Navn, Foedselsdato         person.name, person.birth_date
//	Person/Telefon, Email             person.phone, person.email
//	Person/Adresse/Vejadresse         person.address.street
//	Person/Adresse/Postnummer         person.address.postal_code
//	Person/Adresse/Postdistrikt       person.address.city
//	Person/Adresse/Landekode          person.address.country
//	Person/Adresse/Kommunekode        person.address.municipality_code
//	Person/Adressebeskyttelse         person.address_protected
//	Person/Sprog, Tolkebehov          person.language, person.interpreter_needed
//	Person/Tilknytning/Type           relation.type (beroert=affected, paaroerende=relative,
//	                                  vidne=witness, personale=staff, forbipasserende=bystander)
//	Person/Tilknytning/PaaroerendeTil relation.relative_of (record id of the affected person)
//	Tilknytning/BeroertPerson         relation.affected: the affected person by CPR, or by
//	                                  Navn and Foedselsdato, when the sender has no record id
//	BeroertPerson/CPR, Navn,          relation.affected.cpr, .name, .birth_date
//	  Foedselsdato
//	Tilknytning/Slaegtskab            relation.kinship (foraelder=parent, barn=child,
//	                                  partner, soeskende=sibling, andet=other)
//	Person/Samtykke                   consent; absent: consent.registration = not_obtained
//	Samtykke/Registrering             consent.registration (givet=granted, afslaaet=refused)
//	Samtykke/AfgivetAf                consent.given_by (selv=self, vaerge=guardian,
//	                                  repraesentant=representative)
//	Samtykke/Vaerge/Navn              consent.guardian.name (with AfgivetAf vaerge only)
//	Samtykke/Vaerge/Relation          consent.guardian.relation (foraelder=parent,
//	                                  foraeldremyndighedsindehaver=custodian, andet=other)
//	Samtykke/Vaerge/Telefon, Email    consent.guardian.phone, consent.guardian.email
//	Samtykke/Indhentet/Myndighed      consent.obtained.by.authority
//	Samtykke/Indhentet/Rolle          consent.obtained.by.role (as Registreret/Rolle)
//	Samtykke/Indhentet/Tidspunkt      consent.obtained.at
//	Samtykke/Indhentet/Metode         consent.obtained.method (mundtligt_dokumenteret=
//	                                  verbal_documented, underskrevet_blanket=signed_form,
//	                                  digitalt=digital)
//	Samtykke/Indhentet/Dokumentation  consent.obtained.evidence_ref
//	Samtykke/Opfoelgning/Givet        consent.follow_up.granted
//	Samtykke/Opfoelgning/Tilladelse   consent.follow_up.grants, one Tilladelse per
//	                                  recipient role, in order
//	Tilladelse/Modtager               grants[].recipient (bopaelskommune, bopaelsregion,
//	                                  haendelseskommune, haendelsesregion, politikreds:
//	                                  residence/incident municipality/region, police_district)
//	Tilladelse/Formaal                grants[].purposes (psykosocial_opfoelgning,
//	                                  akut_psykosocial_stoette, identifikation_af_beroerte,
//	                                  information_om_stoettetilbud=support_information,
//	                                  psykiatrisk_opfoelgning=psychiatric_follow_up)
//	Tilladelse/Kanal                  grants[].channels (telefon=phone, email, digital_post)
//	Samtykke/Opfoelgning/Udloeber     consent.follow_up.expires_at
//	Samtykke/Tilbagekaldt             consent.withdrawn_at
//	Tilbagetraekning/RegistreringsID  withdrawal record_id
//	Tilbagetraekning/Version, Aarsag  withdrawal version, reason (samtykke_tilbagekaldt=
//	                                  consent_withdrawn, fejlregistrering=registered_in_error,
//	                                  dublet=duplicate, formaal_ophoert=purpose_ended,
//	                                  modtager_ikke_laengere_ansvarlig=recipient_no_longer_responsible)
//	Tilbagetraekning/Tidspunkt        withdrawal withdrawn_at
//	Tilbagetraekning/HaendelsesID     withdrawal incident_id
//
// A minimised view (what the gateway sends a district) is encoded as it
// is: the police view has no consent.follow_up, so its Samtykke has no
// Opfoelgning; a guardian without the phone and e-mail the view withholds
// is a Vaerge with Navn and Relation only; no view carries
// relation.affected, so the lists the gateway sends hold no BeroertPerson.
// Lists from a district carry BeroertPerson when the police know the
// affected person only by CPR number, or by name and birth date.
//
// Defaulted: schema (registration/v1, withdrawal/v1); consent.registration
// not_obtained for a person without Samtykke; in a list from a district,
// registered.by_authority and by_role for every person from the Registrant.
//
// Lost (not carried by the format, dropped by Encode, absent after Decode):
//   - the officer role (Registrant/Funktion): it becomes registered.by_role =
//     police; each item carries a warning saying so. Encode writes the role
//     given by WithOfficerRole.
//   - incident.region_code: derived from the municipality by routing and by
//     the common validation; the format does not carry it.
//   - assessment (follow_up_priority and notes): health data, which the
//     consent policy never gives the police.
//   - consent.follow_up of a record whose registration consent is
//     not_obtained: such a person travels without a Samtykke block, and a
//     follow-up member beside not_obtained can only say "not granted".
//   - an empty person object ({}): it decodes as no person.
//
// Times are written in UTC (the instant is kept, the sender's zone offset
// is not); the canonical JSON of the common record is in UTC too.
// Municipality codes are 4-digit strings in the format, as in the record.
package police
