package directory

// Limits on a directory document. Parse and Load refuse anything larger; the schema
// (schemas/directory.v1.schema.json) states the same numbers where it can.
const (
	// maxDocumentBytes bounds a directory file: 115 authorities with a few certificate
	// bindings each take well under 1 MiB.
	maxDocumentBytes = 4 << 20
	// maxAuthorities leaves room for more authorities than the 116 we know of without
	// accepting absurd input.
	maxAuthorities = 1000
	// maxCertificates per authority covers signing, encryption and TLS with rollover
	// overlap several times over.
	maxCertificates = 32
	// maxNameRunes bounds a display name; the longest real one is about 40.
	maxNameRunes = 200
	// maxDepth is the deepest nesting allowed; the format itself nests 6 levels.
	maxDepth = 8
	// maxReportedProblems bounds the error message of a badly broken document.
	maxReportedProblems = 100
)
