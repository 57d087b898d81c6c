package sqlite

// Limits of the SQLite store.
const (
	// rowsPerInsert is how many rows one multi-row INSERT carries (10
	// parameters each, well under SQLite's 32,766): few statements per
	// transaction, each prepared once.
	rowsPerInsert = 100
	// hashesPerQuery bounds the node ids of one lookup (2 parameters each).
	hashesPerQuery = 400
	// writerCacheKiB is the writer's page cache: the hot index pages of a
	// growing journal stay in memory.
	writerCacheKiB = 65536
	// readerCacheKiB is each reader connection's page cache.
	readerCacheKiB = 16384
	// walAutocheckpointPages lets the WAL grow to 16 MiB before it is
	// copied back, so that hot pages are written back once per many commits.
	walAutocheckpointPages = 4096
	// defaultReadConns is the number of reader connections.
	defaultReadConns = 4
)
