// Package region is the adapter of the regional EPC registration format: the
// JSON document that regional IT systems (the KOP's registration at the
// scene, in the evacuation and relatives centre (EPC) or by the hotline)
// send to the gateway and receive from it. The contract is
// schemas/region-registration.v1.schema.json; examples are in
// schemas/examples/region.
//
// # The document
//
// The document is the payload of the sender's JWS, whose protected header
// carries the message metadata (iss, aud, iat, exp, jti). The format has no
// header of its own, so a decoded Message has no Header, and Encode does not
// write one.
//
// A top-level object whose member "meddelelsestype" says what it is:
//
//	{"meddelelsestype": "epc-registrering/v1",     "registrering": {…}}          one record
//	{"meddelelsestype": "epc-registrering/v1",     "registreringer": [{…}, …]}   1 to 1,000 records
//	{"meddelelsestype": "epc-tilbagetraekning/v1", "tilbagetraekning": {…}}      a withdrawal notice
//
// Member names are Danish as regional systems write them, in ASCII
// (æ → ae, ø → oe, å → aa) and lowerCamelCase throughout: haendelse,
// cprNummer, paaroerendeTil, tilbagekaldtTidspunkt. Closed vocabularies use
// Danish codes in lower case with underscores (paaroerende, ikke_indhentet).
//
// # Mapping table
//
// Every member of the common record has a regional member, one to one (JSON
// Pointers relative to the record; MappingTable returns the same rows):
//
//	regional member                              common member                        conversion
//	/registreringsId                             /record_id
//	/version                                     /version
//	/haendelse                                   /incident
//	/haendelse/id                                /incident/id
//	/haendelse/titel                             /incident/title
//	/haendelse/type                              /incident/kind                       vocabulary
//	/haendelse/tidspunkt                         /incident/occurred_at                time
//	/haendelse/kommunekode                       /incident/municipality_code          municipality code
//	/haendelse/regionskode                       /incident/region_code                region code
//	/haendelse/sted                              /incident/site                       vocabulary
//	/registreret                                 /registered
//	/registreret/tidspunkt                       /registered/at                       time
//	/registreret/myndighed                       /registered/by_authority
//	/registreret/rolle                           /registered/by_role                  vocabulary
//	/person                                      /person
//	/person/cprNummer                            /person/cpr                          CPR number
//	/person/ecprNummer                           /person/ecpr
//	/person/navn                                 /person/name
//	/person/foedselsdato                         /person/birth_date
//	/person/telefon                              /person/phone                        phone number
//	/person/email                                /person/email
//	/person/adresse                              /person/address
//	/person/adresse/adresselinje                 /person/address/street
//	/person/adresse/postnummer                   /person/address/postal_code
//	/person/adresse/postdistrikt                 /person/address/city
//	/person/adresse/landekode                    /person/address/country
//	/person/adresse/kommunekode                  /person/address/municipality_code    municipality code
//	/person/adressebeskyttelse                   /person/address_protected            false is left out
//	/person/sprog                                /person/language
//	/person/tolkebehov                           /person/interpreter_needed           false is left out
//	/relation                                    /relation
//	/relation/type                               /relation/type                       vocabulary
//	/relation/paaroerendeTil                     /relation/relative_of
//	/relation/beroertPerson                      /relation/affected
//	/relation/beroertPerson/cprNummer            /relation/affected/cpr               CPR number
//	/relation/beroertPerson/navn                 /relation/affected/name
//	/relation/beroertPerson/foedselsdato         /relation/affected/birth_date
//	/relation/slaegtskab                         /relation/kinship                    vocabulary
//	/vurdering                                   /assessment
//	/vurdering/opfoelgningsprioritet             /assessment/follow_up_priority       vocabulary
//	/vurdering/notat                             /assessment/notes
//	/samtykke                                    /consent
//	/samtykke/registrering                       /consent/registration                vocabulary
//	/samtykke/opfoelgning                        /consent/follow_up
//	/samtykke/opfoelgning/givet                  /consent/follow_up/granted
//	/samtykke/opfoelgning/tilladelser            /consent/follow_up/grants            one per recipient role
//	/samtykke/opfoelgning/tilladelser/modtager   /consent/follow_up/grants/recipient  vocabulary
//	/samtykke/opfoelgning/tilladelser/formaal    /consent/follow_up/grants/purposes   vocabulary
//	/samtykke/opfoelgning/tilladelser/kanaler    /consent/follow_up/grants/channels   vocabulary
//	/samtykke/opfoelgning/udloeber               /consent/follow_up/expires_at        time
//	/samtykke/givetAf                            /consent/given_by                    vocabulary
//	/samtykke/vaerge                             /consent/guardian
//	/samtykke/vaerge/navn                        /consent/guardian/name
//	/samtykke/vaerge/relation                    /consent/guardian/relation           vocabulary
//	/samtykke/vaerge/telefon                     /consent/guardian/phone              phone number
//	/samtykke/vaerge/email                       /consent/guardian/email
//	/samtykke/indhentet                          /consent/obtained
//	/samtykke/indhentet/myndighed                /consent/obtained/by                 with rolle: obtained.by is flattened
//	/samtykke/indhentet/myndighed                /consent/obtained/by/authority
//	/samtykke/indhentet/rolle                    /consent/obtained/by/role            vocabulary
//	/samtykke/indhentet/tidspunkt                /consent/obtained/at                 time
//	/samtykke/indhentet/metode                   /consent/obtained/method             vocabulary
//	/samtykke/indhentet/dokumentationsreference  /consent/obtained/evidence_ref
//	/samtykke/tilbagekaldtTidspunkt              /consent/withdrawn_at                time
//
// Rows under tilladelser are the members of each item of the array: the
// pointer of a problem keeps the index
// (/samtykke/opfoelgning/tilladelser/1/kanaler/0 is
// /consent/follow_up/grants/1/channels/0).
//
// The common /schema is implied by meddelelsestype (Decode sets
// registration/v1). The common /consent/obtained/by is flattened into
// indhentet: Decode sets it when myndighed or rolle is present, and reports
// a missing obtained.by at /samtykke/indhentet/myndighed.
//
// The withdrawal notice (tilbagetraekning) maps to record.Withdrawal:
//
//	/registreringsId  /record_id
//	/version          /version
//	/aarsag           /reason        vocabulary
//	/tidspunkt        /withdrawn_at  time
//	/haendelsesId     /incident_id
//
// What the gateway sends a recipient is a minimised view of the common
// record, and Encode writes it as it is: a consent block with only the
// recipient's own tilladelse (no opfoelgning at all for the police), a
// vaerge without telefon or email where they are not disclosed, and a
// relation without beroertPerson (which never leaves the gateway).
//
// Lost: nothing. Every member of the common record and of the withdrawal
// notice is carried, and a test maps every common example record to this
// format and back and compares the canonical encodings. Defaulted: nothing;
// an absent member stays absent. Two differences of form, not of content:
// Encode writes times in UTC (the same instant; the sender's offset is not
// kept), and writes a registration of one record as "registrering", so a
// list of one ("registreringer": [{…}]) comes back as a single record.
//
// # Vocabularies
//
//	haendelse/type       brand fire, eksplosion explosion, faerdselsulykke traffic_accident,
//	                     skyderi shooting, vold violence, oversvoemmelse flood, ekstremt_vejr
//	                     severe_weather, bygningskollaps building_collapse, farligt_udslip
//	                     hazardous_release, stort_arrangement mass_gathering, andet other
//	haendelse/sted       skadested scene, epc epc, hotline hotline, andet other
//	rolle                kop kop, kriseteam crisis_team, politi police, andet other
//	relation/type        beroert affected, paaroerende relative, vidne witness,
//	                     personale staff, tilskuer bystander
//	relation/slaegtskab  foraelder parent, barn child, partner partner, soeskende sibling,
//	                     andet other
//	opfoelgningsprioritet  akut acute, dage days, uger weeks, ingen none
//	samtykke/registrering  givet granted, afvist refused, ikke_indhentet not_obtained
//	kanaler              telefon phone, email email, digital_post digital_post
//	modtager             bopaelskommune residence_municipality, bopaelsregion residence_region,
//	                     haendelseskommune incident_municipality, haendelsesregion
//	                     incident_region, politikreds police_district
//	formaal              psykosocial_opfoelgning psychosocial_follow_up,
//	                     akut_psykosocial_stoette acute_psychosocial_support,
//	                     identifikation_af_beroerte identification_of_affected,
//	                     information_om_stoettetilbud support_information,
//	                     psykiatrisk_opfoelgning psychiatric_follow_up
//	givetAf              selv self, vaerge guardian, repraesentant representative
//	vaerge/relation      foraelder parent, foraeldremyndighedsindehaver custodian,
//	                     andet other
//	metode               mundtligt_dokumenteret verbal_documented,
//	                     underskrevet_blanket signed_form, digitalt digital
//	aarsag               samtykke_tilbagekaldt consent_withdrawn, fejlregistrering
//	                     registered_in_error, dublet duplicate, formaal_ophoert purpose_ended,
//	                     modtager_ikke_laengere_ansvarlig recipient_no_longer_responsible
//
// An English (common) code in a regional document is refused like any other
// unknown code.
//
// # Conversions
//
// Decode accepts the forms regional systems write and converts them to the
// canonical form of the common record; Encode always writes the canonical
// form, which Decode accepts too:
//
//   - CPR number (person and beroertPerson): "070786-1234" (hyphen after
//     the birth date) becomes "0707861234". A hyphen anywhere else is
//     refused.
//   - Municipality code (kommunekode, incident and residence): a JSON number
//     (101) or a string of one to four digits ("101") is zero-padded to
//     four digits ("0101"); Encode writes the 4-digit string. A negative,
//     fractional or exponent number, or any other JSON type, is refused.
//   - Region code (regionskode): a JSON number (1084) becomes the string
//     "1084"; Encode writes the string.
//   - Phone (person and vaerge): 8 digits ("12345678") or four pairs separated by single spaces
//     ("12 34 56 78") is a Danish number and becomes "+4512345678"; anything
//     else must be E.164 already. Encode writes E.164.
//   - Times: RFC 3339 with an offset and every field in full
//     (2026-06-14T21:40:00+02:00; Go's parser alone would also take a
//     one-digit hour), in the years 1900 to 9999; Encode writes UTC
//     ("2026-06-14T19:40:00Z") and refuses a time outside those years.
//
// # Problems
//
// Decode refuses the document as a whole (nil Message, record.Problems as
// the error) only when it is malformed: larger than MaxDocumentBytes, not
// JSON, not an object, trailing data, an unknown, case-variant or repeated
// top-level member, a missing or unknown meddelelsestype, members that do
// not fit it, no record, more than MaxRecords records, or a withdrawal
// notice that is not valid. Otherwise each record is decoded strictly on
// its own (internal/strictjson: no unknown, duplicate or case-variant
// members) and validated (record.Validator); a bad record gives an Item
// with Problems and no Record, and the other records proceed.
//
// Every problem points into the source document with a JSON Pointer
// (/registreringer/3/person/cprNummer) and the line of that member, or of
// its nearest ancestor when the member is missing. Validation problems of
// the common record are mapped back through the mapping table; a pointer
// the table does not know keeps the common pointer in its message. Besides
// the rules of record.Validator and strictjson, the adapter refuses null
// (rule json.null: encoding/json would read it as absent), "" and []
// (json.empty: leave the member out instead), an unknown Danish code
// (schema.enum, listing the Danish codes) and a code member of the wrong
// JSON type (json.type). A validation problem at or below a member that
// already has one of these problems is not repeated. At most 50 problems
// are listed per record (and for the top level), and messages never quote
// more than a few characters of the input.
package region
