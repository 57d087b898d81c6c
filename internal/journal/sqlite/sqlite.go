// Package sqlite keeps the audit journal in SQLite (modernc.org/sqlite,
// pure Go), in the service's own database file or one of its own.
//
// The database runs in WAL mode with synchronous=FULL, so a committed
// append survives a crash or power loss. All writes go through one
// connection (SQLite has one writer anyway); the journal's group commit
// turns many concurrent appends into one transaction. Reads use a separate
// pool of query-only connections, which WAL lets run beside the writer.
//
// The tables are named journal_*; triggers refuse any UPDATE or DELETE of
// entries, nodes and checkpoints, so that even a bug elsewhere in the
// service cannot rewrite the journal through this database handle.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/transparency-dev/merkle/compact"
	_ "modernc.org/sqlite" // the database/sql driver "sqlite"

	"github.com/psykosocial/exchange/internal/journal"
)

// schemaVersion is the version of the tables below; Open refuses a
// database with another.
const schemaVersion = "1"

// schema creates the journal's tables, indexes and guards if missing.
var schema = []string{
	`CREATE TABLE IF NOT EXISTS journal_meta (
		key   TEXT PRIMARY KEY,
		value TEXT NOT NULL
	) WITHOUT ROWID`,
	`CREATE TABLE IF NOT EXISTS journal_entries (
		seq         INTEGER PRIMARY KEY,
		time_us     INTEGER NOT NULL,
		event       TEXT NOT NULL,
		actor       TEXT NOT NULL,
		counterpart TEXT NOT NULL,
		record_id   TEXT NOT NULL,
		incident_id TEXT NOT NULL,
		subject     TEXT NOT NULL,
		leaf        BLOB NOT NULL,
		leaf_hash   BLOB NOT NULL
	)`,
	`CREATE INDEX IF NOT EXISTS journal_entries_subject ON journal_entries (subject, seq)`,
	`CREATE INDEX IF NOT EXISTS journal_entries_record ON journal_entries (record_id, seq)`,
	`CREATE INDEX IF NOT EXISTS journal_entries_incident ON journal_entries (incident_id, seq)`,
	`CREATE INDEX IF NOT EXISTS journal_entries_actor ON journal_entries (actor, seq)`,
	`CREATE INDEX IF NOT EXISTS journal_entries_counterpart ON journal_entries (counterpart, seq)`,
	`CREATE INDEX IF NOT EXISTS journal_entries_event ON journal_entries (event, seq)`,
	`CREATE INDEX IF NOT EXISTS journal_entries_time ON journal_entries (time_us)`,
	`CREATE TABLE IF NOT EXISTS journal_nodes (
		level INTEGER NOT NULL,
		idx   INTEGER NOT NULL,
		hash  BLOB NOT NULL,
		PRIMARY KEY (level, idx)
	) WITHOUT ROWID`,
	`CREATE TABLE IF NOT EXISTS journal_head (
		id      INTEGER PRIMARY KEY CHECK (id = 1),
		size    INTEGER NOT NULL,
		compact BLOB NOT NULL
	)`,
	`INSERT OR IGNORE INTO journal_head (id, size, compact) VALUES (1, 0, x'')`,
	`CREATE TABLE IF NOT EXISTS journal_checkpoints (
		size         INTEGER PRIMARY KEY,
		root         BLOB NOT NULL,
		signed_at_us INTEGER NOT NULL,
		note         BLOB NOT NULL
	)`,
	`CREATE TRIGGER IF NOT EXISTS journal_entries_append_only_u BEFORE UPDATE ON journal_entries
		BEGIN SELECT RAISE(ABORT, 'journal entries are append-only'); END`,
	`CREATE TRIGGER IF NOT EXISTS journal_entries_append_only_d BEFORE DELETE ON journal_entries
		BEGIN SELECT RAISE(ABORT, 'journal entries are append-only'); END`,
	`CREATE TRIGGER IF NOT EXISTS journal_nodes_append_only_u BEFORE UPDATE ON journal_nodes
		BEGIN SELECT RAISE(ABORT, 'journal nodes are append-only'); END`,
	`CREATE TRIGGER IF NOT EXISTS journal_nodes_append_only_d BEFORE DELETE ON journal_nodes
		BEGIN SELECT RAISE(ABORT, 'journal nodes are append-only'); END`,
	`CREATE TRIGGER IF NOT EXISTS journal_checkpoints_append_only_u BEFORE UPDATE ON journal_checkpoints
		BEGIN SELECT RAISE(ABORT, 'journal checkpoints are append-only'); END`,
	`CREATE TRIGGER IF NOT EXISTS journal_checkpoints_append_only_d BEFORE DELETE ON journal_checkpoints
		BEGIN SELECT RAISE(ABORT, 'journal checkpoints are append-only'); END`,
	`CREATE TRIGGER IF NOT EXISTS journal_head_no_delete BEFORE DELETE ON journal_head
		BEGIN SELECT RAISE(ABORT, 'the journal head is never deleted'); END`,
	`INSERT OR IGNORE INTO journal_meta (key, value) VALUES ('schema_version', '` + schemaVersion + `')`,
}

// Options configures a Store.
type Options struct {
	// ReadConns is the number of reader connections; 0 means 4.
	ReadConns int
	// BusyTimeout is how long a connection waits for a lock held by another
	// process before it fails; 0 means 5 seconds.
	BusyTimeout time.Duration
	// ReadOnly opens an existing journal for reading only (export, audit):
	// nothing is created, and Append and AddCheckpoint fail.
	ReadOnly bool
}

// ErrReadOnly is returned by writes to a Store opened with ReadOnly.
var ErrReadOnly = errors.New("sqlite: the journal was opened read-only")

// Store is the journal in one SQLite database. It implements journal.Store.
type Store struct {
	w *sql.DB // the one writer connection
	r *sql.DB // query-only readers

	insEntries, insNodes *sql.Stmt // rowsPerInsert-row inserts, prepared on w

	borrowed bool // w and r belong to the caller (OpenDB)
}

var _ journal.Store = (*Store)(nil)

// Open opens (creating if needed) the journal's tables in the SQLite
// database at path.
func Open(ctx context.Context, path string, opt Options) (*Store, error) {
	if path == "" || strings.ContainsAny(path, "?#") {
		return nil, errors.New("sqlite: the database path must be set and contain no '?' or '#'")
	}
	if opt.ReadConns == 0 {
		opt.ReadConns = defaultReadConns
	}
	if opt.BusyTimeout == 0 {
		opt.BusyTimeout = 5 * time.Second
	}
	base := url.Values{}
	base.Add("_pragma", "busy_timeout("+fmt.Sprint(opt.BusyTimeout.Milliseconds())+")")
	base.Add("_pragma", "journal_mode(WAL)")
	base.Add("_pragma", "synchronous(FULL)")
	// Statement journals of multi-row inserts stay in memory.
	base.Add("_pragma", "temp_store(MEMORY)")
	s := &Store{}
	if opt.ReadOnly {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("sqlite: %w", err)
		}
	} else {
		// The writer keeps the hot index pages of the journal in a 64 MiB cache.
		wq := url.Values{"_pragma": append(append([]string(nil), base["_pragma"]...), fmt.Sprintf("cache_size(-%d)", writerCacheKiB), fmt.Sprintf("wal_autocheckpoint(%d)", walAutocheckpointPages)), "_txlock": {"immediate"}}
		w, err := sql.Open("sqlite", path+"?"+wq.Encode())
		if err != nil {
			return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
		}
		w.SetMaxOpenConns(1)
		w.SetMaxIdleConns(1)
		w.SetConnMaxLifetime(0)
		w.SetConnMaxIdleTime(0)
		s.w = w
		if err := s.migrate(ctx); err != nil {
			w.Close()
			return nil, err
		}
		if s.insEntries, err = w.PrepareContext(ctx, multiInsert(insertEntriesSQL, entryValuesSQL, rowsPerInsert)); err == nil {
			s.insNodes, err = w.PrepareContext(ctx, multiInsert(insertNodesSQL, nodeValuesSQL, rowsPerInsert))
		}
		if err != nil {
			w.Close()
			return nil, fmt.Errorf("sqlite: prepare: %w", err)
		}
	}
	// Readers never write, and keep 16 MiB of pages each.
	rq := url.Values{"_pragma": append(append([]string(nil), base["_pragma"]...), "query_only(1)", fmt.Sprintf("cache_size(-%d)", readerCacheKiB))}
	r, err := sql.Open("sqlite", path+"?"+rq.Encode())
	if err != nil {
		s.closeWriter()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	r.SetMaxOpenConns(opt.ReadConns)
	r.SetMaxIdleConns(opt.ReadConns)
	s.r = r
	var v string
	if err := r.QueryRowContext(ctx, `SELECT value FROM journal_meta WHERE key = 'schema_version'`).Scan(&v); err != nil || v != schemaVersion {
		s.Close()
		if err == nil {
			err = fmt.Errorf("schema version %s, this program knows %s", v, schemaVersion)
		}
		return nil, fmt.Errorf("sqlite: %s holds no journal of this version: %w", path, err)
	}
	return s, nil
}

func (s *Store) closeWriter() error {
	if s.w == nil {
		return nil
	}
	return s.w.Close()
}

func (s *Store) migrate(ctx context.Context) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: create tables: %w", err)
	}
	defer tx.Rollback()
	if err := Migrate(ctx, tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: create tables: %w", err)
	}
	return nil
}

// Migrate creates the journal's tables, indexes and guards in tx if they
// are missing, and checks their schema version. The service's store calls
// it among its own migrations, so that the journal lives in the store's
// database; Open calls it in a transaction of its own.
func Migrate(ctx context.Context, tx *sql.Tx) error {
	for _, q := range schema {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("sqlite: create tables: %w", err)
		}
	}
	var v string
	if err := tx.QueryRowContext(ctx, `SELECT value FROM journal_meta WHERE key = 'schema_version'`).Scan(&v); err != nil {
		return fmt.Errorf("sqlite: schema version: %w", err)
	}
	if v != schemaVersion {
		return fmt.Errorf("sqlite: the journal tables are of schema version %s, this program knows %s", v, schemaVersion)
	}
	return nil
}

// OpenDB returns the journal over database handles that the caller (the
// service's store) owns: w is the one writer connection pool
// (SetMaxOpenConns(1), _txlock=immediate, WAL, synchronous=FULL), r the
// query-only readers. The journal's tables must exist (see Migrate). Close
// releases the journal's prepared statements, never the handles.
func OpenDB(ctx context.Context, w, r *sql.DB) (*Store, error) {
	if w == nil || r == nil {
		return nil, errors.New("sqlite: OpenDB needs the writer and reader handles")
	}
	s := &Store{w: w, r: r, borrowed: true}
	var v string
	if err := r.QueryRowContext(ctx, `SELECT value FROM journal_meta WHERE key = 'schema_version'`).Scan(&v); err != nil || v != schemaVersion {
		if err == nil {
			err = fmt.Errorf("schema version %s, this program knows %s", v, schemaVersion)
		}
		return nil, fmt.Errorf("sqlite: the database holds no journal of this version: %w", err)
	}
	var err error
	if s.insEntries, err = w.PrepareContext(ctx, multiInsert(insertEntriesSQL, entryValuesSQL, rowsPerInsert)); err == nil {
		s.insNodes, err = w.PrepareContext(ctx, multiInsert(insertNodesSQL, nodeValuesSQL, rowsPerInsert))
	}
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("sqlite: prepare: %w", err)
	}
	return s, nil
}

// Close closes the database handles (for a Store of OpenDB, only its
// prepared statements).
func (s *Store) Close() error {
	if s.borrowed {
		var errs []error
		for _, st := range []*sql.Stmt{s.insEntries, s.insNodes} {
			if st != nil {
				errs = append(errs, st.Close())
			}
		}
		return errors.Join(errs...)
	}
	return errors.Join(s.closeWriter(), s.r.Close())
}

// Append implements journal.Appender: BEGIN IMMEDIATE, read the head,
// build, insert, update the head, COMMIT (fsynced: synchronous=FULL).
func (s *Store) Append(ctx context.Context, build func(journal.Head) (*journal.Batch, error)) error {
	if s.w == nil {
		return ErrReadOnly
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	defer tx.Rollback()
	if _, err := s.AppendTx(ctx, tx, build); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	return nil
}

// AppendTx appends inside tx, a write transaction of the caller's on the
// Store's writer handle (the service's store, which commits the entries
// together with its own rows): it reads the head, calls build, inserts the
// batch's rows and nodes and moves the head. It returns the batch; the
// entries are durable once the caller commits tx.
func (s *Store) AppendTx(ctx context.Context, tx *sql.Tx, build func(journal.Head) (*journal.Batch, error)) (*journal.Batch, error) {
	if s.w == nil {
		return nil, ErrReadOnly
	}
	var size int64
	var comp []byte
	if err := tx.QueryRowContext(ctx, `SELECT size, compact FROM journal_head WHERE id = 1`).Scan(&size, &comp); err != nil {
		return nil, fmt.Errorf("sqlite: read the head: %w", err)
	}
	head, err := journal.ParseHead(uint64(size), comp)
	if err != nil {
		return nil, err
	}
	b, err := build(head)
	if err != nil {
		return nil, err
	}
	if err := s.insertRows(ctx, tx, b.Rows); err != nil {
		return nil, err
	}
	if err := s.insertNodes(ctx, tx, b.Nodes); err != nil {
		return nil, err
	}
	res, err := tx.ExecContext(ctx, `UPDATE journal_head SET size = ?, compact = ? WHERE id = 1 AND size = ?`,
		int64(b.Head.Size), b.Head.MarshalCompact(), size)
	if err != nil {
		return nil, fmt.Errorf("sqlite: update the head: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return nil, fmt.Errorf("sqlite: the head moved during the append")
	}
	return b, nil
}

const (
	insertEntriesSQL = `INSERT INTO journal_entries (seq, time_us, event, actor, counterpart, record_id, incident_id, subject, leaf, leaf_hash) VALUES `
	entryValuesSQL   = "(?,?,?,?,?,?,?,?,?,?)"
	insertNodesSQL   = `INSERT INTO journal_nodes (level, idx, hash) VALUES `
	nodeValuesSQL    = "(?,?,?)"
)

// multiInsert returns an INSERT of n rows.
func multiInsert(head, values string, n int) string {
	return head + strings.Repeat(values+",", n-1) + values
}

// insertChunks inserts rows in statements of rowsPerInsert rows (a
// statement prepared once on the writer) and one for the rest.
func insertChunks(ctx context.Context, tx *sql.Tx, full *sql.Stmt, head, values string, n int, args func(i int, dst []any) []any) error {
	var stmt *sql.Stmt
	if n >= rowsPerInsert {
		stmt = tx.StmtContext(ctx, full)
		defer stmt.Close()
	}
	buf := make([]any, 0, rowsPerInsert*10)
	for start := 0; start < n; start += rowsPerInsert {
		k := min(rowsPerInsert, n-start)
		buf = buf[:0]
		for i := start; i < start+k; i++ {
			buf = args(i, buf)
		}
		var err error
		if k == rowsPerInsert {
			_, err = stmt.ExecContext(ctx, buf...)
		} else {
			_, err = tx.ExecContext(ctx, multiInsert(head, values, k), buf...)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) insertRows(ctx context.Context, tx *sql.Tx, rows []journal.Row) error {
	err := insertChunks(ctx, tx, s.insEntries, insertEntriesSQL, entryValuesSQL, len(rows), func(i int, dst []any) []any {
		r := &rows[i]
		return append(dst, int64(r.Seq), r.Time.UnixMicro(), string(r.Event), r.Actor, r.Counterpart,
			r.RecordID, r.IncidentID, r.Subject, r.Leaf, r.LeafHash)
	})
	if err != nil {
		return fmt.Errorf("sqlite: insert entries: %w", err)
	}
	return nil
}

func (s *Store) insertNodes(ctx context.Context, tx *sql.Tx, nodes []journal.Node) error {
	err := insertChunks(ctx, tx, s.insNodes, insertNodesSQL, nodeValuesSQL, len(nodes), func(i int, dst []any) []any {
		n := &nodes[i]
		return append(dst, int64(n.Level), int64(n.Index), n.Hash)
	})
	if err != nil {
		return fmt.Errorf("sqlite: insert nodes: %w", err)
	}
	return nil
}

// Size implements journal.TreeReader.
func (s *Store) Size(ctx context.Context) (uint64, error) {
	var n int64
	if err := s.r.QueryRowContext(ctx, `SELECT size FROM journal_head WHERE id = 1`).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: size: %w", err)
	}
	return uint64(n), nil
}

// Hashes implements journal.TreeReader, with one query per level kind and
// up to hashesPerQuery ids.
func (s *Store) Hashes(ctx context.Context, ids []compact.NodeID) ([][]byte, error) {
	found := make(map[compact.NodeID][]byte, len(ids))
	var leaves, nodes []compact.NodeID
	for _, id := range ids {
		if id.Level == 0 {
			leaves = append(leaves, id)
		} else {
			nodes = append(nodes, id)
		}
	}
	for len(leaves) > 0 {
		chunk := leaves[:min(len(leaves), hashesPerQuery)]
		leaves = leaves[len(chunk):]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = int64(id.Index)
		}
		q := `SELECT 0, seq, leaf_hash FROM journal_entries WHERE seq IN (?` + strings.Repeat(",?", len(chunk)-1) + `)`
		if err := s.collectHashes(ctx, found, q, args); err != nil {
			return nil, err
		}
	}
	for len(nodes) > 0 {
		chunk := nodes[:min(len(nodes), hashesPerQuery)]
		nodes = nodes[len(chunk):]
		args := make([]any, 0, 2*len(chunk))
		for _, id := range chunk {
			args = append(args, int64(id.Level), int64(id.Index))
		}
		q := `SELECT level, idx, hash FROM journal_nodes WHERE (level, idx) IN (VALUES (?,?)` + strings.Repeat(",(?,?)", len(chunk)-1) + `)`
		if err := s.collectHashes(ctx, found, q, args); err != nil {
			return nil, err
		}
	}
	out := make([][]byte, len(ids))
	for i, id := range ids {
		out[i] = found[id]
	}
	return out, nil
}

func (s *Store) collectHashes(ctx context.Context, found map[compact.NodeID][]byte, q string, args []any) error {
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("sqlite: hashes: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var level, idx int64
		var h []byte
		if err := rows.Scan(&level, &idx, &h); err != nil {
			return fmt.Errorf("sqlite: hashes: %w", err)
		}
		found[compact.NewNodeID(uint(level), uint64(idx))] = h
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: hashes: %w", err)
	}
	return nil
}

// AddCheckpoint implements journal.CheckpointStore.
func (s *Store) AddCheckpoint(ctx context.Context, c journal.SignedCheckpoint) error {
	if s.w == nil {
		return ErrReadOnly
	}
	_, err := s.w.ExecContext(ctx, `INSERT OR IGNORE INTO journal_checkpoints (size, root, signed_at_us, note) VALUES (?, ?, ?, ?)`,
		int64(c.Size), c.Root[:], c.SignedAt.UnixMicro(), c.Note)
	if err != nil {
		return fmt.Errorf("sqlite: add checkpoint: %w", err)
	}
	return nil
}

// LatestCheckpoint implements journal.CheckpointStore.
func (s *Store) LatestCheckpoint(ctx context.Context) (journal.SignedCheckpoint, bool, error) {
	var note []byte
	err := s.r.QueryRowContext(ctx, `SELECT note FROM journal_checkpoints ORDER BY size DESC LIMIT 1`).Scan(&note)
	if errors.Is(err, sql.ErrNoRows) {
		return journal.SignedCheckpoint{}, false, nil
	}
	if err != nil {
		return journal.SignedCheckpoint{}, false, fmt.Errorf("sqlite: latest checkpoint: %w", err)
	}
	c, err := journal.ParseSignedCheckpoint(note)
	if err != nil {
		return journal.SignedCheckpoint{}, false, err
	}
	return c, true, nil
}

// Checkpoints implements journal.CheckpointStore.
func (s *Store) Checkpoints(ctx context.Context, after uint64, limit int) ([]journal.SignedCheckpoint, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT note FROM journal_checkpoints WHERE size > ? ORDER BY size LIMIT ?`, int64(after), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: checkpoints: %w", err)
	}
	defer rows.Close()
	var out []journal.SignedCheckpoint
	for rows.Next() {
		var note []byte
		if err := rows.Scan(&note); err != nil {
			return nil, fmt.Errorf("sqlite: checkpoints: %w", err)
		}
		c, err := journal.ParseSignedCheckpoint(note)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: checkpoints: %w", err)
	}
	return out, nil
}

// Find implements journal.EntryReader.
func (s *Store) Find(ctx context.Context, f journal.Filter, from uint64, limit int) ([]journal.StoredLeaf, error) {
	q, args := findQuery(f, from, limit)
	return s.leaves(ctx, q, args...)
}

// findQuery is Find's statement and arguments.
func findQuery(f journal.Filter, from uint64, limit int) (string, []any) {
	var q strings.Builder
	args := []any{int64(from)}
	q.WriteString(`SELECT seq, leaf, leaf_hash FROM journal_entries`)
	if f.RecordID != "" {
		// One record has a handful of entries: without statistics the
		// planner would rather walk the event index (every queued entry
		// of the journal, for the pipeline's question what a record was
		// queued to), a cost that grows with the journal.
		q.WriteString(` INDEXED BY journal_entries_record`)
	}
	q.WriteString(` WHERE seq >= ?`)
	in := func(col string, vals []string) {
		q.WriteString(" AND " + col + " IN (")
		for i, v := range vals {
			if i > 0 {
				q.WriteByte(',')
			}
			q.WriteByte('?')
			args = append(args, v)
		}
		q.WriteByte(')')
	}
	if len(f.Subjects) > 0 {
		in("subject", f.Subjects)
	}
	if f.RecordID != "" {
		q.WriteString(" AND record_id = ?")
		args = append(args, f.RecordID)
	}
	if f.IncidentID != "" {
		q.WriteString(" AND incident_id = ?")
		args = append(args, f.IncidentID)
	}
	if f.Authority != "" {
		q.WriteString(" AND (actor = ? OR counterpart = ?)")
		args = append(args, f.Authority, f.Authority)
	}
	if len(f.Scope) > 0 {
		marks := strings.TrimSuffix(strings.Repeat("?,", len(f.Scope)), ",")
		q.WriteString(" AND (actor IN (" + marks + ") OR counterpart IN (" + marks + "))")
		for range 2 {
			for _, a := range f.Scope {
				args = append(args, a)
			}
		}
	}
	if len(f.Events) > 0 {
		ev := make([]string, len(f.Events))
		for i, e := range f.Events {
			ev[i] = string(e)
		}
		in("event", ev)
	}
	if !f.Since.IsZero() {
		q.WriteString(" AND time_us >= ?")
		args = append(args, f.Since.UnixMicro())
	}
	if !f.Until.IsZero() {
		q.WriteString(" AND time_us < ?")
		args = append(args, f.Until.UnixMicro())
	}
	q.WriteString(" ORDER BY seq LIMIT ?")
	args = append(args, limit)
	return q.String(), args
}

// Leaves implements journal.EntryReader.
func (s *Store) Leaves(ctx context.Context, from uint64, limit int) ([]journal.StoredLeaf, error) {
	return s.leaves(ctx, `SELECT seq, leaf, leaf_hash FROM journal_entries WHERE seq >= ? ORDER BY seq LIMIT ?`, int64(from), limit)
}

func (s *Store) leaves(ctx context.Context, q string, args ...any) ([]journal.StoredLeaf, error) {
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read entries: %w", err)
	}
	defer rows.Close()
	var out []journal.StoredLeaf
	for rows.Next() {
		var l journal.StoredLeaf
		var seq int64
		if err := rows.Scan(&seq, &l.Leaf, &l.LeafHash); err != nil {
			return nil, fmt.Errorf("sqlite: read entries: %w", err)
		}
		l.Seq = uint64(seq)
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: read entries: %w", err)
	}
	return out, nil
}
