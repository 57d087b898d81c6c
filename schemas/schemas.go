// Package schemas embeds the gateway's contracts: the JSON Schemas (2020-12)
// of the common record, the withdrawal notice, the authority formats and the
// authority directory; the XSDs of the XML formats; and the example documents.
// It imports nothing heavy so that any package and tool can read them.
package schemas

import "embed"

// FS holds every schema and example document, by file name relative to
// this directory (for example "registration.v1.schema.json" or
// "examples/registration/valid/minimised-view.json").
//
//go:embed *.json *.xsd examples
var FS embed.FS

// RegistrationV1 is the file name of the common record's JSON Schema.
const RegistrationV1 = "registration.v1.schema.json"

// WithdrawalV1 is the file name of the withdrawal notice's JSON Schema.
const WithdrawalV1 = "withdrawal.v1.schema.json"
