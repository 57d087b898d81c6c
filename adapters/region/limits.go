package region

import "github.com/psykosocial/exchange/internal/strictjson"

// The limits of a regional document, in one place. Each bounds a hostile
// document long before it costs anything; the reason is on the line.
const (
	// MaxDocumentBytes is the largest document Decode reads: a 1,000-person
	// list of fully filled, pretty-printed records is about 2.5 MiB.
	MaxDocumentBytes = 4 << 20
	// MaxRecords is the longest list of records in one document: an EPC
	// registers a few hundred people at the largest incidents.
	MaxRecords = 1000
	// MaxRecordBytes is the largest single record: a full record is about
	// 2 KiB, and free text (notes) is at most 4,000 characters.
	MaxRecordBytes = 64 << 10
	// maxRecordDepth is the deepest nesting inside a record:
	// record → samtykke → opfoelgning → tilladelser → a grant → kanaler
	// is 6 levels.
	maxRecordDepth = 8
	// maxRecordArray is the longest array inside a record: one grant per
	// recipient role (tilladelser) is at most 5, and the longest list of
	// codes (formaal) has 5 values.
	maxRecordArray = 16
	// maxProblems is the most problems reported for one record or for the
	// top level: enough to fix a document, and a bound on a hostile one
	// (a record of thousands of nulls).
	maxProblems = 50
	// maxScanDepth bounds the walk that locates members for line numbers;
	// records deeper than maxRecordDepth are refused anyway.
	maxScanDepth = 32
)

// recordLimits bound one record (or one withdrawal notice) of a document.
func recordLimits() strictjson.Limits {
	return strictjson.Limits{MaxBytes: MaxRecordBytes, MaxDepth: maxRecordDepth, MaxArray: maxRecordArray}
}

// Limits returns the strict-decoding limits of one record (or withdrawal
// notice) of a regional document; the document as a whole is at most
// MaxDocumentBytes and MaxRecords. The format is JSON and is not signed
// with XML-DSig: the JWS around it is bounded by the envelope.
func (a *Adapter) Limits() strictjson.Limits { return recordLimits() }
