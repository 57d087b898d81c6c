// Package routing decides who may receive a registration record: from the
// record, the authority directory and the time of routing it derives the
// candidate recipients, each with its recipient role from the shared
// vocabulary (record.RecipientRole) and the reason it was chosen.
//
// The acute response happens where the incident was and follow-up happens
// where the person lives, so a record has up to five candidates:
//
//   - residence_municipality: the municipality of the person's Danish
//     address (/person/address/municipality_code);
//   - residence_region: the region that municipality belongs to at the
//     routing time;
//   - incident_municipality: the municipality where the incident happened
//     (/incident/municipality_code);
//   - incident_region: the region that municipality belongs to at the
//     routing time (not the region_code recorded at the time of the
//     incident: after 1 January 2027 the merged region is responsible);
//   - police_district: the police district covering the incident
//     municipality.
//
// Every person has a follow-up owner. A person living abroad, with an
// unknown residence or on Christiansø (0411, outside the municipal
// division) has no residence municipality; a documented, configurable rule
// (Owners, DefaultOwners, WithOwners) gives the residence roles to the
// authorities that keep follow-up: by default the incident municipality
// and region for persons abroad or of unknown residence, and Bornholms
// Regionskommune and its region for Christiansø residents (marked
// unconfirmed: the sources do not confirm it). The reason (FollowUpOwner)
// names the rule and why there is no residence.
//
// A role that yields no candidate is reported as an Omission with the
// reason: a refused registration carries no person and has no residence
// roles; an authority without a directory entry valid at the routing time
// is not a candidate; and the sender of a record never receives its own
// record.
//
// When one authority holds two roles (a resident of the incident
// municipality is routed to the same municipality as residence and as
// incident municipality), routing returns one candidate per role. Each is
// evaluated by the consent policy on its own, so the journal records both
// decisions; the delivery layer merges the allowed views of one authority
// into one message (see consent.ViewOf).
//
// Nothing here names an authority: every candidate comes from the
// reference data (package refdata) and the directory (package directory).
// The routing time is always passed in; the package never reads the clock.
package routing
