package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	journalsqlite "github.com/psykosocial/exchange/internal/journal/sqlite"
)

// migration is one versioned step of the schema. Steps are applied in
// order, each in its own transaction with its row in store_migrations, and
// never changed once released: a change is a new step.
type migration struct {
	version int
	name    string
	apply   func(ctx context.Context, tx *sql.Tx) error
}

var migrations = []migration{
	{1, "journal tables", func(ctx context.Context, tx *sql.Tx) error { return journalsqlite.Migrate(ctx, tx) }},
	{2, "store tables", execAll(
		`CREATE TABLE store_data_keys (
			id         BLOB PRIMARY KEY,
			wrapped    BLOB NOT NULL,
			created_us INTEGER NOT NULL
		) WITHOUT ROWID`,
		`CREATE TABLE store_replay (
			sender     TEXT NOT NULL,
			message_id TEXT NOT NULL,
			digest     BLOB NOT NULL,
			expires_us INTEGER NOT NULL,
			PRIMARY KEY (sender, message_id)
		) WITHOUT ROWID`,
		`CREATE INDEX store_replay_expires ON store_replay (expires_us)`,
		`CREATE TABLE store_messages (
			sender      TEXT NOT NULL,
			message_id  TEXT NOT NULL,
			digest      BLOB NOT NULL,
			received_us INTEGER NOT NULL,
			expires_us  INTEGER NOT NULL,
			evidence    BLOB NOT NULL,
			receipt     BLOB NOT NULL,
			PRIMARY KEY (sender, message_id)
		) WITHOUT ROWID`,
		`CREATE TABLE store_record_owners (
			record_id TEXT PRIMARY KEY,
			owner     TEXT NOT NULL,
			since_us  INTEGER NOT NULL
		) WITHOUT ROWID`,
		`CREATE TABLE store_records (
			record_id      TEXT NOT NULL REFERENCES store_record_owners (record_id),
			version        INTEGER NOT NULL,
			owner          TEXT NOT NULL,
			sender         TEXT NOT NULL,
			message_id     TEXT NOT NULL,
			content_digest BLOB NOT NULL,
			body           BLOB NOT NULL,
			stored_us      INTEGER NOT NULL,
			PRIMARY KEY (record_id, version),
			FOREIGN KEY (sender, message_id) REFERENCES store_messages (sender, message_id)
		) WITHOUT ROWID`,
		`CREATE TABLE store_mailbox (
			seq            INTEGER PRIMARY KEY,
			id             TEXT NOT NULL UNIQUE,
			recipient      TEXT NOT NULL,
			record_id      TEXT NOT NULL,
			record_version INTEGER NOT NULL,
			view           BLOB NOT NULL,
			content_digest BLOB NOT NULL,
			priority       INTEGER NOT NULL,
			state          TEXT NOT NULL CHECK (state IN ('queued', 'leased', 'delivered', 'parked')),
			lease_until_us INTEGER NOT NULL,
			deliveries     INTEGER NOT NULL,
			queued_us      INTEGER NOT NULL,
			delivered_us   INTEGER,
			FOREIGN KEY (record_id, record_version) REFERENCES store_records (record_id, version)
		)`,
		`CREATE INDEX store_mailbox_pull ON store_mailbox (recipient, state, priority DESC, seq)`,
	)},
	{3, "parked mailbox messages", execAll(
		`ALTER TABLE store_mailbox ADD COLUMN parked_us INTEGER`,
		`CREATE INDEX store_mailbox_parked ON store_mailbox (seq) WHERE state = 'parked'`,
	)},
	{4, "delivery digests", execAll(
		`CREATE TABLE store_deliveries (
			mailbox_id TEXT NOT NULL REFERENCES store_mailbox (id),
			digest     BLOB NOT NULL,
			sent_us    INTEGER NOT NULL,
			PRIMARY KEY (mailbox_id, digest)
		) WITHOUT ROWID`,
	)},
	{5, "retention", execAll(
		`ALTER TABLE store_records ADD COLUMN subject_key TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE store_records ADD COLUMN subject_ref TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE store_records ADD COLUMN incident_id TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE store_records ADD COLUMN purged_us INTEGER`,
		`ALTER TABLE store_messages ADD COLUMN purged_us INTEGER`,
		`CREATE INDEX store_mailbox_delivered ON store_mailbox (delivered_us) WHERE state = 'delivered'`,
		`CREATE INDEX store_mailbox_undelivered ON store_mailbox (queued_us) WHERE state <> 'delivered'`,
		`CREATE INDEX store_mailbox_record ON store_mailbox (record_id, record_version)`,
		`CREATE INDEX store_records_stored ON store_records (stored_us) WHERE purged_us IS NULL`,
		`CREATE INDEX store_records_message ON store_records (sender, message_id) WHERE purged_us IS NULL`,
		`CREATE INDEX store_messages_received ON store_messages (received_us) WHERE purged_us IS NULL`,
	)},
	{6, "mailbox transfers to successors", execAll(
		`ALTER TABLE store_mailbox ADD COLUMN transferred_from TEXT`,
		`ALTER TABLE store_mailbox ADD COLUMN transferred_us INTEGER`,
		`CREATE INDEX store_mailbox_waiting ON store_mailbox (recipient, queued_us) WHERE state <> 'delivered'`,
	)},
	{7, "configuration gaps", execAll(
		`CREATE TABLE store_gaps (
			record_id TEXT NOT NULL,
			version   INTEGER NOT NULL,
			role      TEXT NOT NULL,
			noted_us  INTEGER NOT NULL,
			closed_us INTEGER,
			closed_as TEXT CHECK (closed_as IN ('rerouted', 'superseded', 'withdrawn')),
			PRIMARY KEY (record_id, version, role),
			FOREIGN KEY (record_id, version) REFERENCES store_records (record_id, version)
		) WITHOUT ROWID`,
		`CREATE INDEX store_gaps_open ON store_gaps (record_id, version, role) WHERE closed_us IS NULL`,
	)},
}

func execAll(stmts ...string) func(ctx context.Context, tx *sql.Tx) error {
	return func(ctx context.Context, tx *sql.Tx) error {
		for _, q := range stmts {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		return nil
	}
}

// migrate applies the steps the database lacks; it refuses a database of
// a later version than this program knows.
func migrate(ctx context.Context, w *sql.DB) error {
	if _, err := w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS store_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
	)`); err != nil {
		return fmt.Errorf("store/sqlite: migrations table: %w", err)
	}
	for _, m := range migrations {
		if err := applyOne(ctx, w, m); err != nil {
			return err
		}
	}
	var top int
	if err := w.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM store_migrations`).Scan(&top); err != nil {
		return fmt.Errorf("store/sqlite: migrations: %w", err)
	}
	if last := migrations[len(migrations)-1].version; top > last {
		return fmt.Errorf("store/sqlite: the database is of schema version %d, this program knows up to %d", top, last)
	}
	return nil
}

func applyOne(ctx context.Context, w *sql.DB, m migration) error {
	tx, err := w.BeginTx(ctx, nil) // BEGIN IMMEDIATE: one process migrates at a time
	if err != nil {
		return fmt.Errorf("store/sqlite: migration %d: %w", m.version, err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM store_migrations WHERE version = ?`, m.version).Scan(&n); err != nil {
		return fmt.Errorf("store/sqlite: migration %d: %w", m.version, err)
	}
	if n > 0 {
		return nil
	}
	if err := m.apply(ctx, tx); err != nil {
		return fmt.Errorf("store/sqlite: migration %d (%s): %w", m.version, m.name, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO store_migrations (version, name) VALUES (?, ?)`, m.version, m.name); err != nil {
		return fmt.Errorf("store/sqlite: migration %d: %w", m.version, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store/sqlite: migration %d: %w", m.version, err)
	}
	return nil
}

// SchemaVersion is the newest migration this program knows: a database it
// has migrated records that many steps in store_migrations.
func SchemaVersion() int { return migrations[len(migrations)-1].version }
