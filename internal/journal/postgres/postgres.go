// Package postgres keeps the audit journal in PostgreSQL (pgx/v5), in the
// service's own database, where several gateway processes append to one
// journal.
//
// The sequence stays total and gap-free across processes because every
// append transaction first locks the single row of journal_head (SELECT
// ... FOR UPDATE), which holds the tree size and its compact range. The
// transaction numbers its entries from that size, inserts them with the
// tree nodes they complete, and moves the head; a transaction that fails
// leaves no trace, so no number is ever skipped, and the row lock puts the
// appenders of all processes in one order. Appends commit with
// synchronous_commit on, so success means durable.
//
// The tables live in one schema (Options.Schema) and are named journal_*;
// triggers refuse any UPDATE or DELETE of entries, nodes and checkpoints.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/transparency-dev/merkle/compact"

	"github.com/psykosocial/exchange/internal/journal"
)

// schemaVersion is the version of the tables below; Open refuses a
// database with another.
const schemaVersion = "1"

// Options configures a Store.
type Options struct {
	// Schema holds the journal's tables; "" means "public". It is created
	// if missing.
	Schema string
	// ReadOnly uses an existing journal for reading only (export, audit):
	// nothing is created, and Append and AddCheckpoint fail. Give it a
	// pool whose role may only read, too.
	ReadOnly bool
}

// ErrReadOnly is returned by writes to a Store opened with ReadOnly.
var ErrReadOnly = errors.New("postgres: the journal was opened read-only")

// Store is the journal in PostgreSQL. It implements journal.Store.
type Store struct {
	pool     *pgxpool.Pool
	schema   string
	readOnly bool
	t        tables
}

// tables are the quoted, schema-qualified table names.
type tables struct {
	entries, nodes, head, checkpoints, meta string
}

var _ journal.Store = (*Store)(nil)

// schemaName is what Options.Schema may be: no quoting surprises.
var schemaName = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// Open creates the journal's tables in the pool's database if missing and
// returns the store. Several processes may Open the same schema at once.
// The pool stays the caller's.
func Open(ctx context.Context, pool *pgxpool.Pool, opt Options) (*Store, error) {
	if opt.Schema == "" {
		opt.Schema = "public"
	}
	if len(opt.Schema) > maxSchemaName || !schemaName.MatchString(opt.Schema) {
		return nil, errors.New("postgres: the schema name must be lower-case letters, digits and _")
	}
	s := &Store{pool: pool, schema: opt.Schema, readOnly: opt.ReadOnly, t: tablesOf(opt.Schema)}
	if opt.ReadOnly {
		var v string
		if err := pool.QueryRow(ctx, `SELECT value FROM `+s.t.meta+` WHERE key = 'schema_version'`).Scan(&v); err != nil || v != schemaVersion {
			if err == nil {
				err = fmt.Errorf("schema version %s, this program knows %s", v, schemaVersion)
			}
			return nil, fmt.Errorf("postgres: schema %s holds no journal of this version: %w", opt.Schema, err)
		}
		return s, nil
	}
	if err := s.migrate(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Store) migrate(ctx context.Context) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// Processes that start together create the tables one at a time.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('psykosocial journal schema ' || $1, 0))`, s.schema); err != nil {
			return fmt.Errorf("postgres: create tables: %w", err)
		}
		return Migrate(ctx, tx, s.schema)
	})
}

// Migrate creates the journal's tables, indexes and guards in schema (which
// it creates if missing) inside tx, and checks their schema version. The
// service's store calls it among its own migrations, under its own
// migration lock, so that the journal lives in the store's database; Open
// calls it in a transaction of its own.
func Migrate(ctx context.Context, tx pgx.Tx, schema string) error {
	if len(schema) > maxSchemaName || !schemaName.MatchString(schema) {
		return errors.New("postgres: the schema name must be lower-case letters, digits and _")
	}
	t := tablesOf(schema)
	ddl := []string{
		`CREATE SCHEMA IF NOT EXISTS ` + pgx.Identifier{schema}.Sanitize(),
		`CREATE TABLE IF NOT EXISTS ` + t.meta + ` (key text PRIMARY KEY, value text NOT NULL)`,
		`CREATE TABLE IF NOT EXISTS ` + t.entries + ` (
			seq         bigint PRIMARY KEY,
			time        timestamptz NOT NULL,
			event       text NOT NULL,
			actor       text NOT NULL,
			counterpart text NOT NULL,
			record_id   text NOT NULL,
			incident_id text NOT NULL,
			subject     text NOT NULL,
			leaf        bytea NOT NULL,
			leaf_hash   bytea NOT NULL)`,
		`CREATE INDEX IF NOT EXISTS journal_entries_subject ON ` + t.entries + ` (subject, seq)`,
		`CREATE INDEX IF NOT EXISTS journal_entries_record ON ` + t.entries + ` (record_id, seq)`,
		`CREATE INDEX IF NOT EXISTS journal_entries_incident ON ` + t.entries + ` (incident_id, seq)`,
		`CREATE INDEX IF NOT EXISTS journal_entries_actor ON ` + t.entries + ` (actor, seq)`,
		`CREATE INDEX IF NOT EXISTS journal_entries_counterpart ON ` + t.entries + ` (counterpart, seq)`,
		`CREATE INDEX IF NOT EXISTS journal_entries_event ON ` + t.entries + ` (event, seq)`,
		`CREATE INDEX IF NOT EXISTS journal_entries_time ON ` + t.entries + ` (time)`,
		`CREATE TABLE IF NOT EXISTS ` + t.nodes + ` (
			level smallint NOT NULL,
			idx   bigint NOT NULL,
			hash  bytea NOT NULL,
			PRIMARY KEY (level, idx))`,
		`CREATE TABLE IF NOT EXISTS ` + t.head + ` (
			id      int PRIMARY KEY CHECK (id = 1),
			size    bigint NOT NULL,
			compact bytea NOT NULL)`,
		`INSERT INTO ` + t.head + ` (id, size, compact) VALUES (1, 0, '') ON CONFLICT DO NOTHING`,
		`CREATE TABLE IF NOT EXISTS ` + t.checkpoints + ` (
			size      bigint PRIMARY KEY,
			root      bytea NOT NULL,
			signed_at timestamptz NOT NULL,
			note      bytea NOT NULL)`,
		`CREATE OR REPLACE FUNCTION ` + pgx.Identifier{schema}.Sanitize() + `.journal_append_only() RETURNS trigger
			LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'the journal is append-only (%)', TG_TABLE_NAME; END $$`,
	}
	for _, tbl := range []string{"journal_entries", "journal_nodes", "journal_checkpoints"} {
		ddl = append(ddl, `CREATE OR REPLACE TRIGGER `+tbl+`_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON `+
			pgx.Identifier{schema, tbl}.Sanitize()+` FOR EACH STATEMENT EXECUTE FUNCTION `+
			pgx.Identifier{schema}.Sanitize()+`.journal_append_only()`)
	}
	ddl = append(ddl, `INSERT INTO `+t.meta+` (key, value) VALUES ('schema_version', '`+schemaVersion+`') ON CONFLICT DO NOTHING`)
	for _, q := range ddl {
		if _, err := tx.Exec(ctx, q); err != nil {
			return fmt.Errorf("postgres: create tables: %w", err)
		}
	}
	var v string
	if err := tx.QueryRow(ctx, `SELECT value FROM `+t.meta+` WHERE key = 'schema_version'`).Scan(&v); err != nil {
		return fmt.Errorf("postgres: schema version: %w", err)
	}
	if v != schemaVersion {
		return fmt.Errorf("postgres: the journal tables are of schema version %s, this program knows %s", v, schemaVersion)
	}
	return nil
}

// tablesOf returns the quoted table names in schema.
func tablesOf(schema string) tables {
	q := pgx.Identifier{schema}.Sanitize() + "."
	return tables{
		entries: q + "journal_entries", nodes: q + "journal_nodes", head: q + "journal_head",
		checkpoints: q + "journal_checkpoints", meta: q + "journal_meta",
	}
}

// Append implements journal.Appender: one transaction that locks the head
// row, builds, inserts and moves the head, committed with
// synchronous_commit on.
func (s *Store) Append(ctx context.Context, build func(journal.Head) (*journal.Batch, error)) error {
	if s.readOnly {
		return ErrReadOnly
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL synchronous_commit TO on`); err != nil {
			return fmt.Errorf("postgres: begin: %w", err)
		}
		_, err := s.AppendTx(ctx, tx, build)
		return err
	})
}

// AppendTx appends inside tx, a transaction of the caller's on the Store's
// database (the service's store, which commits the entries together with
// its own rows): it locks the head row (so that appenders of every process
// take turns), calls build, inserts the batch's rows and nodes and moves the
// head. It returns the batch; the entries are durable once the caller
// commits tx (with synchronous_commit on).
func (s *Store) AppendTx(ctx context.Context, tx pgx.Tx, build func(journal.Head) (*journal.Batch, error)) (*journal.Batch, error) {
	if s.readOnly {
		return nil, ErrReadOnly
	}
	var size int64
	var comp []byte
	if err := tx.QueryRow(ctx, `SELECT size, compact FROM `+s.t.head+` WHERE id = 1 FOR UPDATE`).Scan(&size, &comp); err != nil {
		return nil, fmt.Errorf("postgres: lock the head: %w", err)
	}
	head, err := journal.ParseHead(uint64(size), comp)
	if err != nil {
		return nil, err
	}
	b, err := build(head)
	if err != nil {
		return nil, err
	}
	if err := s.insert(ctx, tx, b); err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, `UPDATE `+s.t.head+` SET size = $1, compact = $2 WHERE id = 1`,
		int64(b.Head.Size), b.Head.MarshalCompact()); err != nil {
		return nil, fmt.Errorf("postgres: move the head: %w", err)
	}
	return b, nil
}

func (s *Store) insert(ctx context.Context, tx pgx.Tx, b *journal.Batch) error {
	entryCols := []string{"seq", "time", "event", "actor", "counterpart", "record_id", "incident_id", "subject", "leaf", "leaf_hash"}
	entryRow := func(i int) []any {
		r := b.Rows[i]
		return []any{int64(r.Seq), r.Time, string(r.Event), r.Actor, r.Counterpart, r.RecordID, r.IncidentID, r.Subject, r.Leaf, r.LeafHash}
	}
	nodeRow := func(i int) []any {
		n := b.Nodes[i]
		return []any{int16(n.Level), int64(n.Index), n.Hash}
	}
	if len(b.Rows) >= copyThreshold {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{s.schema, "journal_entries"}, entryCols,
			pgx.CopyFromSlice(len(b.Rows), func(i int) ([]any, error) { return entryRow(i), nil })); err != nil {
			return fmt.Errorf("postgres: insert entries: %w", err)
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{s.schema, "journal_nodes"}, []string{"level", "idx", "hash"},
			pgx.CopyFromSlice(len(b.Nodes), func(i int) ([]any, error) { return nodeRow(i), nil })); err != nil {
			return fmt.Errorf("postgres: insert nodes: %w", err)
		}
		return nil
	}
	var batch pgx.Batch
	insE := `INSERT INTO ` + s.t.entries + ` (` + strings.Join(entryCols, ", ") + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`
	for i := range b.Rows {
		batch.Queue(insE, entryRow(i)...)
	}
	insN := `INSERT INTO ` + s.t.nodes + ` (level, idx, hash) VALUES ($1, $2, $3)`
	for i := range b.Nodes {
		batch.Queue(insN, nodeRow(i)...)
	}
	if err := tx.SendBatch(ctx, &batch).Close(); err != nil {
		return fmt.Errorf("postgres: insert entries: %w", err)
	}
	return nil
}

// Size implements journal.TreeReader.
func (s *Store) Size(ctx context.Context) (uint64, error) {
	var n int64
	if err := s.pool.QueryRow(ctx, `SELECT size FROM `+s.t.head+` WHERE id = 1`).Scan(&n); err != nil {
		return 0, fmt.Errorf("postgres: size: %w", err)
	}
	return uint64(n), nil
}

// Hashes implements journal.TreeReader with one query.
func (s *Store) Hashes(ctx context.Context, ids []compact.NodeID) ([][]byte, error) {
	var levels []int16
	var idxs []int64
	for _, id := range ids {
		levels = append(levels, int16(id.Level))
		idxs = append(idxs, int64(id.Index))
	}
	rows, err := s.pool.Query(ctx, `
		SELECT q.level, q.idx, COALESCE(n.hash, e.leaf_hash)
		FROM unnest($1::smallint[], $2::bigint[]) AS q(level, idx)
		LEFT JOIN `+s.t.nodes+` n ON q.level > 0 AND n.level = q.level AND n.idx = q.idx
		LEFT JOIN `+s.t.entries+` e ON q.level = 0 AND e.seq = q.idx`, levels, idxs)
	if err != nil {
		return nil, fmt.Errorf("postgres: hashes: %w", err)
	}
	defer rows.Close()
	found := make(map[compact.NodeID][]byte, len(ids))
	for rows.Next() {
		var level int16
		var idx int64
		var h []byte
		if err := rows.Scan(&level, &idx, &h); err != nil {
			return nil, fmt.Errorf("postgres: hashes: %w", err)
		}
		found[compact.NewNodeID(uint(level), uint64(idx))] = h
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: hashes: %w", err)
	}
	out := make([][]byte, len(ids))
	for i, id := range ids {
		out[i] = found[id]
	}
	return out, nil
}

// AddCheckpoint implements journal.CheckpointStore.
func (s *Store) AddCheckpoint(ctx context.Context, c journal.SignedCheckpoint) error {
	if s.readOnly {
		return ErrReadOnly
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO `+s.t.checkpoints+` (size, root, signed_at, note) VALUES ($1, $2, $3, $4) ON CONFLICT (size) DO NOTHING`,
		int64(c.Size), c.Root[:], c.SignedAt, c.Note)
	if err != nil {
		return fmt.Errorf("postgres: add checkpoint: %w", err)
	}
	return nil
}

// LatestCheckpoint implements journal.CheckpointStore.
func (s *Store) LatestCheckpoint(ctx context.Context) (journal.SignedCheckpoint, bool, error) {
	var note []byte
	err := s.pool.QueryRow(ctx, `SELECT note FROM `+s.t.checkpoints+` ORDER BY size DESC LIMIT 1`).Scan(&note)
	if errors.Is(err, pgx.ErrNoRows) {
		return journal.SignedCheckpoint{}, false, nil
	}
	if err != nil {
		return journal.SignedCheckpoint{}, false, fmt.Errorf("postgres: latest checkpoint: %w", err)
	}
	c, err := journal.ParseSignedCheckpoint(note)
	if err != nil {
		return journal.SignedCheckpoint{}, false, err
	}
	return c, true, nil
}

// Checkpoints implements journal.CheckpointStore.
func (s *Store) Checkpoints(ctx context.Context, after uint64, limit int) ([]journal.SignedCheckpoint, error) {
	rows, err := s.pool.Query(ctx, `SELECT note FROM `+s.t.checkpoints+` WHERE size > $1 ORDER BY size LIMIT $2`, int64(after), limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: checkpoints: %w", err)
	}
	notes, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return nil, fmt.Errorf("postgres: checkpoints: %w", err)
	}
	out := make([]journal.SignedCheckpoint, 0, len(notes))
	for _, n := range notes {
		c, err := journal.ParseSignedCheckpoint(n)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// Find implements journal.EntryReader.
func (s *Store) Find(ctx context.Context, f journal.Filter, from uint64, limit int) ([]journal.StoredLeaf, error) {
	var q strings.Builder
	args := []any{int64(from)}
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	q.WriteString(`SELECT seq, leaf, leaf_hash FROM ` + s.t.entries + ` WHERE seq >= $1`)
	switch len(f.Subjects) {
	case 0:
	case 1:
		q.WriteString(" AND subject = " + arg(f.Subjects[0]))
	default:
		q.WriteString(" AND subject = ANY(" + arg(f.Subjects) + "::text[])")
	}
	if f.RecordID != "" {
		q.WriteString(" AND record_id = " + arg(f.RecordID))
	}
	if f.IncidentID != "" {
		q.WriteString(" AND incident_id = " + arg(f.IncidentID))
	}
	if f.Authority != "" {
		a := arg(f.Authority)
		q.WriteString(" AND (actor = " + a + " OR counterpart = " + a + ")")
	}
	if len(f.Scope) > 0 {
		a := arg(f.Scope)
		q.WriteString(" AND (actor = ANY(" + a + "::text[]) OR counterpart = ANY(" + a + "::text[]))")
	}
	if len(f.Events) > 0 {
		ev := make([]string, len(f.Events))
		for i, e := range f.Events {
			ev[i] = string(e)
		}
		q.WriteString(" AND event = ANY(" + arg(ev) + "::text[])")
	}
	if !f.Since.IsZero() {
		q.WriteString(" AND time >= " + arg(f.Since.UTC()))
	}
	if !f.Until.IsZero() {
		q.WriteString(" AND time < " + arg(f.Until.UTC()))
	}
	q.WriteString(" ORDER BY seq LIMIT " + arg(limit))
	return s.leaves(ctx, q.String(), args...)
}

// Leaves implements journal.EntryReader.
func (s *Store) Leaves(ctx context.Context, from uint64, limit int) ([]journal.StoredLeaf, error) {
	return s.leaves(ctx, `SELECT seq, leaf, leaf_hash FROM `+s.t.entries+` WHERE seq >= $1 ORDER BY seq LIMIT $2`, int64(from), limit)
}

func (s *Store) leaves(ctx context.Context, q string, args ...any) ([]journal.StoredLeaf, error) {
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: read entries: %w", err)
	}
	defer rows.Close()
	var out []journal.StoredLeaf
	for rows.Next() {
		var l journal.StoredLeaf
		var seq int64
		if err := rows.Scan(&seq, &l.Leaf, &l.LeafHash); err != nil {
			return nil, fmt.Errorf("postgres: read entries: %w", err)
		}
		l.Seq = uint64(seq)
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: read entries: %w", err)
	}
	return out, nil
}

// LockSigner makes this process the only checkpoint signer among the
// gateway processes sharing the schema, for as long as it holds the lock
// (a session-level PostgreSQL advisory lock on a connection of its own).
// Without wait, ok is false, with no error, when another process holds it:
// that process signs, and this one picks its checkpoints up from the table.
// With wait, it waits until the other process has signed (it holds the lock
// only while it signs) or ctx ends; a wait that ends early closes its
// connection, so that a lock granted as the wait was cancelled cannot
// linger in the pool.
func (s *Store) LockSigner(ctx context.Context, wait bool) (unlock func(), ok bool, err error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("postgres: checkpoint signer lock: %w", err)
	}
	const key = `hashtextextended('psykosocial journal checkpoint signer ' || $1, 0)`
	if wait {
		if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(`+key+`)`, s.schema); err != nil {
			cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_ = conn.Conn().Close(cctx)
			cancel()
			conn.Release()
			return nil, false, fmt.Errorf("postgres: checkpoint signer lock: %w", err)
		}
		ok = true
	} else if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(`+key+`)`, s.schema).Scan(&ok); err != nil {
		conn.Release()
		return nil, false, fmt.Errorf("postgres: checkpoint signer lock: %w", err)
	}
	if !ok {
		conn.Release()
		return nil, false, nil
	}
	return func() {
		// A failed unlock ends the session so that the lock cannot linger.
		uctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := conn.Exec(uctx, `SELECT pg_advisory_unlock(`+key+`)`, s.schema); err != nil {
			_ = conn.Conn().Close(uctx)
		}
		conn.Release()
	}, true, nil
}
