package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	journalpg "github.com/psykosocial/exchange/internal/journal/postgres"
)

// migration is one versioned step of the schema, recorded by its row in
// store_migrations; never changed once released: a change is a new step.
// The missing steps are applied in order in one transaction.
type migration struct {
	version int
	name    string
	apply   func(ctx context.Context, tx pgx.Tx, b *Backend) error
}

var migrations = []migration{
	{1, "journal tables", func(ctx context.Context, tx pgx.Tx, b *Backend) error { return journalpg.Migrate(ctx, tx, b.schema) }},
	{2, "store tables", func(ctx context.Context, tx pgx.Tx, b *Backend) error {
		t := b.t
		for _, q := range []string{
			`CREATE TABLE ` + t.dataKeys + ` (
				id      bytea PRIMARY KEY,
				wrapped bytea NOT NULL,
				created timestamptz NOT NULL)`,
			`CREATE TABLE ` + t.replay + ` (
				sender     text NOT NULL,
				message_id text NOT NULL,
				digest     bytea NOT NULL,
				expires_at timestamptz NOT NULL,
				PRIMARY KEY (sender, message_id))`,
			`CREATE INDEX store_replay_expires ON ` + t.replay + ` (expires_at)`,
			`CREATE TABLE ` + t.messages + ` (
				sender      text NOT NULL,
				message_id  text NOT NULL,
				digest      bytea NOT NULL,
				received_at timestamptz NOT NULL,
				expires_at  timestamptz NOT NULL,
				evidence    bytea NOT NULL,
				receipt     bytea NOT NULL,
				PRIMARY KEY (sender, message_id))`,
			`CREATE TABLE ` + t.owners + ` (
				record_id text PRIMARY KEY,
				owner     text NOT NULL,
				since     timestamptz NOT NULL)`,
			`CREATE TABLE ` + t.records + ` (
				record_id      text NOT NULL REFERENCES ` + t.owners + ` (record_id),
				version        int NOT NULL,
				owner          text NOT NULL,
				sender         text NOT NULL,
				message_id     text NOT NULL,
				content_digest bytea NOT NULL,
				body           bytea NOT NULL,
				stored_at      timestamptz NOT NULL,
				PRIMARY KEY (record_id, version),
				FOREIGN KEY (sender, message_id) REFERENCES ` + t.messages + ` (sender, message_id))`,
			`CREATE TABLE ` + t.mailbox + ` (
				seq            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
				id             text NOT NULL UNIQUE,
				recipient      text NOT NULL,
				record_id      text NOT NULL,
				record_version int NOT NULL,
				view           bytea NOT NULL,
				content_digest bytea NOT NULL,
				priority       smallint NOT NULL,
				state          text NOT NULL CHECK (state IN ('queued', 'leased', 'delivered', 'parked')),
				lease_until    timestamptz NOT NULL,
				deliveries     int NOT NULL,
				queued_at      timestamptz NOT NULL,
				delivered_at   timestamptz,
				FOREIGN KEY (record_id, record_version) REFERENCES ` + t.records + ` (record_id, version))`,
			`CREATE INDEX store_mailbox_pull ON ` + t.mailbox + ` (recipient, state, priority DESC, seq)`,
		} {
			if _, err := tx.Exec(ctx, q); err != nil {
				return err
			}
		}
		return nil
	}},
	{3, "parked mailbox messages", func(ctx context.Context, tx pgx.Tx, b *Backend) error {
		for _, q := range []string{
			`ALTER TABLE ` + b.t.mailbox + ` ADD COLUMN parked_at timestamptz`,
			`CREATE INDEX store_mailbox_parked ON ` + b.t.mailbox + ` (seq) WHERE state = 'parked'`,
		} {
			if _, err := tx.Exec(ctx, q); err != nil {
				return err
			}
		}
		return nil
	}},
	{4, "delivery digests", func(ctx context.Context, tx pgx.Tx, b *Backend) error {
		_, err := tx.Exec(ctx, `CREATE TABLE `+b.t.deliveries+` (
			mailbox_id text NOT NULL REFERENCES `+b.t.mailbox+` (id),
			digest     bytea NOT NULL,
			sent_at    timestamptz NOT NULL,
			PRIMARY KEY (mailbox_id, digest))`)
		return err
	}},
	{5, "retention", func(ctx context.Context, tx pgx.Tx, b *Backend) error {
		t := b.t
		for _, q := range []string{
			`ALTER TABLE ` + t.records + ` ADD COLUMN subject_key text NOT NULL DEFAULT '',
				ADD COLUMN subject_ref text NOT NULL DEFAULT '',
				ADD COLUMN incident_id text NOT NULL DEFAULT '',
				ADD COLUMN purged_at timestamptz`,
			`ALTER TABLE ` + t.messages + ` ADD COLUMN purged_at timestamptz`,
			`CREATE INDEX store_mailbox_delivered ON ` + t.mailbox + ` (delivered_at) WHERE state = 'delivered'`,
			`CREATE INDEX store_mailbox_undelivered ON ` + t.mailbox + ` (queued_at) WHERE state <> 'delivered'`,
			`CREATE INDEX store_mailbox_record ON ` + t.mailbox + ` (record_id, record_version)`,
			`CREATE INDEX store_records_stored ON ` + t.records + ` (stored_at) WHERE purged_at IS NULL`,
			`CREATE INDEX store_records_message ON ` + t.records + ` (sender, message_id) WHERE purged_at IS NULL`,
			`CREATE INDEX store_messages_received ON ` + t.messages + ` (received_at) WHERE purged_at IS NULL`,
		} {
			if _, err := tx.Exec(ctx, q); err != nil {
				return err
			}
		}
		return nil
	}},
	{6, "mailbox transfers to successors", func(ctx context.Context, tx pgx.Tx, b *Backend) error {
		for _, q := range []string{
			`ALTER TABLE ` + b.t.mailbox + ` ADD COLUMN transferred_from text, ADD COLUMN transferred_at timestamptz`,
			`CREATE INDEX store_mailbox_waiting ON ` + b.t.mailbox + ` (recipient, queued_at) WHERE state <> 'delivered'`,
		} {
			if _, err := tx.Exec(ctx, q); err != nil {
				return err
			}
		}
		return nil
	}},
	{7, "configuration gaps", func(ctx context.Context, tx pgx.Tx, b *Backend) error {
		for _, q := range []string{
			`CREATE TABLE ` + b.t.gaps + ` (
				record_id text NOT NULL,
				version   integer NOT NULL,
				role      text NOT NULL,
				noted_at  timestamptz NOT NULL,
				closed_at timestamptz,
				closed_as text CHECK (closed_as IN ('rerouted', 'superseded', 'withdrawn')),
				PRIMARY KEY (record_id, version, role),
				FOREIGN KEY (record_id, version) REFERENCES ` + b.t.records + ` (record_id, version))`,
			`CREATE INDEX store_gaps_open ON ` + b.t.gaps + ` (record_id, version, role) WHERE closed_at IS NULL`,
		} {
			if _, err := tx.Exec(ctx, q); err != nil {
				return err
			}
		}
		return nil
	}},
}

// migrate applies the steps the schema lacks, under a transaction-scoped
// advisory lock so that replicas starting together migrate one at a time;
// it refuses a schema of a later version than this program knows.
func (b *Backend) migrate(ctx context.Context) error {
	return pgx.BeginFunc(ctx, b.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('psykosocial store schema ' || $1, 0))`, b.schema); err != nil {
			return fmt.Errorf("store/postgres: migration lock: %w", err)
		}
		for _, q := range []string{
			`CREATE SCHEMA IF NOT EXISTS ` + pgx.Identifier{b.schema}.Sanitize(),
			`CREATE TABLE IF NOT EXISTS ` + b.t.migrations + ` (
				version    int PRIMARY KEY,
				name       text NOT NULL,
				applied_at timestamptz NOT NULL DEFAULT now())`,
		} {
			if _, err := tx.Exec(ctx, q); err != nil {
				return fmt.Errorf("store/postgres: migrations table: %w", err)
			}
		}
		var top int
		if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM `+b.t.migrations).Scan(&top); err != nil {
			return fmt.Errorf("store/postgres: migrations: %w", err)
		}
		if last := migrations[len(migrations)-1].version; top > last {
			return fmt.Errorf("store/postgres: the schema is of version %d, this program knows up to %d", top, last)
		}
		for _, m := range migrations {
			if m.version <= top {
				continue
			}
			if err := m.apply(ctx, tx, b); err != nil {
				return fmt.Errorf("store/postgres: migration %d (%s): %w", m.version, m.name, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO `+b.t.migrations+` (version, name) VALUES ($1, $2)`, m.version, m.name); err != nil {
				return fmt.Errorf("store/postgres: migration %d: %w", m.version, err)
			}
		}
		return nil
	})
}

// SchemaVersion is the newest migration this program knows: a schema it
// has migrated records that many steps in store_migrations.
func SchemaVersion() int { return migrations[len(migrations)-1].version }
