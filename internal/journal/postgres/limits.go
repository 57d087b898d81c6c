package postgres

// Limits of the PostgreSQL store.
const (
	// copyThreshold is the batch size from which COPY beats a pipelined
	// batch of INSERTs.
	copyThreshold = 64
	// maxSchemaName is PostgreSQL's identifier length.
	maxSchemaName = 63
)
