// Package refdata holds the official Danish reference data the gateway routes and
// validates by: the 98 municipalities (kommuner), the regions, the 12 police districts
// (politikredse), and the CVR numbers of the authorities behind them.
//
// The data is embedded in the binary from the CSV files in data/, whose sources are
// described in data/SOURCES.md. Load parses and checks it once at start; the returned
// *Data is immutable and safe for concurrent use.
//
// # Codes
//
// Municipality codes are 4-digit, zero-padded strings everywhere in this API ("0101"
// København, "0851" Aalborg), as CPR, DAGI and DAWA write them. Region codes are the
// 4-digit CPR authority codes "1081" to "1085". Police districts are identified by a
// short lower-case id such as "nordjylland". Use NormalizeMunicipalityCode to turn input
// such as "101" into the canonical form.
//
// Code 0411 (Ertholmene/Christiansø, OutsideMunicipalDivision) is valid in addresses but
// belongs to no municipality and no region.
//
// # Validity in time
//
// Regions carry validity periods. On 1 January 2027 (Danish time) Region Hovedstaden
// (1084) and Region Sjælland (1085) cease and their 46 municipalities belong to Region
// Østdanmark. That change is data (data/region_changes.csv); the new region's code and
// CVR number are not yet published and come from Config. Lookups that depend on the
// regional division take the time at which the answer must hold.
package refdata
