// Package directory is the gateway's list of authorities: every municipality, region
// and police district it exchanges records with, with its official codes, CVR number,
// message format, validity period and the certificates allowed to act for it.
//
// The directory is a JSON file in the format "directory/v1", described field by field
// for operators in README.md and as JSON Schema in schemas/directory.v1.schema.json.
// Generate builds the default directory from the reference data (package refdata);
// Parse and Load read an edited one strictly and report every problem at once, each
// naming the authority and field; Encode writes one back.
//
// Authorities are named by ids of the form "municipality:0851", "region:1081" and
// "police:nordjylland" (see ParseID); "gateway" names the gateway itself. Entries carry
// half-open validity periods, and lookups by code take the time at which the entry
// must be valid: on 1 January 2027 Region Hovedstaden and Region Sjælland give way to
// Region Østdanmark.
package directory
