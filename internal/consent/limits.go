package consent

// Limits on a policy document. Load refuses anything beyond them; the JSON
// Schema (schemas/consent-policy.v1.schema.json) states the same numbers.
const (
	// MaxPolicyBytes bounds a policy file: the default policy is under
	// 10 KB, and 5 roles times 3 purposes allow at most 15 rules.
	MaxPolicyBytes = 256 << 10
	// maxPolicyDepth is the deepest nesting allowed; the format nests 3 levels.
	maxPolicyDepth = 6
	// maxPolicyArray bounds every list: at most 15 rules can be distinct,
	// and a few more are accepted only to be reported as duplicates.
	maxPolicyArray = 64
	// maxTextRunes bounds a title, reference or description: a paragraph.
	maxTextRunes = 2000
	// maxIncidentPeriodDays bounds how long after an incident a legal basis
	// tied to it may be used: an incident period is days or weeks, never
	// an open-ended mandate.
	maxIncidentPeriodDays = 90
	// maxReportedProblems bounds the error of a badly broken policy.
	maxReportedProblems = 100
)
