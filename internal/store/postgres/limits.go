package postgres

// Limits of the PostgreSQL backend.
const (
	// maxSchemaName is PostgreSQL's identifier length.
	maxSchemaName = 63
	// maxRetries bounds the attempts of a transaction aborted by a
	// deadlock or serialization failure.
	maxRetries = 3
)
