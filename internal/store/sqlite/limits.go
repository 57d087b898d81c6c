package sqlite

import "time"

// Limits of the SQLite backend.
const (
	// writerCacheKiB is the writer's page cache: the hot index pages stay in memory.
	writerCacheKiB = 65536
	// readerCacheKiB is each reader connection's page cache.
	readerCacheKiB = 16384
	// defaultReadConns is the number of reader connections.
	defaultReadConns = 4
	// defaultBusyTimeout is how long a connection waits for another
	// process's lock.
	defaultBusyTimeout = 5 * time.Second
)
