// Package postgres runs the gateway's store on PostgreSQL (pgx/v5), where
// several gateway replicas share one database: the store's tables and the
// journal's live in one schema.
//
// Transactions run at READ COMMITTED with synchronous_commit on, so a
// committed intake is durable. Concurrency between replicas rests on the
// database: an insert of a replay row, a record owner or a record version
// that another transaction is inserting waits for it and then sees its
// row; a pull locks the rows it leases with FOR UPDATE SKIP LOCKED, so
// that concurrent pullers get disjoint messages; the journal's head row
// puts every journal append, the store's and the journal's own, in one
// order. A transaction aborted by a deadlock or serialization failure is
// retried.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/psykosocial/exchange/internal/journal"
	journalpg "github.com/psykosocial/exchange/internal/journal/postgres"
	"github.com/psykosocial/exchange/internal/store"
)

// Options configures a Backend.
type Options struct {
	// Schema holds the tables; "" means "public". It is created if missing.
	Schema string
}

// Backend is the store in PostgreSQL. It implements store.Backend.
type Backend struct {
	pool    *pgxpool.Pool
	schema  string
	t       tables
	journal *journalpg.Store
	owned   bool // Close closes the pool (OpenURL)
}

// tables are the quoted, schema-qualified table names.
type tables struct {
	migrations, dataKeys, replay, messages, owners, records, mailbox, deliveries, gaps string
}

var _ store.Backend = (*Backend)(nil)

var schemaName = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// Open migrates the schema of pool's database and returns the backend.
// Several processes may Open the same schema at once. The pool stays the
// caller's: Close does not close it.
func Open(ctx context.Context, pool *pgxpool.Pool, opt Options) (*Backend, error) {
	if pool == nil {
		return nil, errors.New("store/postgres: the pool is nil")
	}
	if opt.Schema == "" {
		opt.Schema = "public"
	}
	if len(opt.Schema) > maxSchemaName || !schemaName.MatchString(opt.Schema) {
		return nil, errors.New("store/postgres: the schema name must be lower-case letters, digits and _, at most 63")
	}
	q := pgx.Identifier{opt.Schema}.Sanitize() + "."
	b := &Backend{pool: pool, schema: opt.Schema, t: tables{
		migrations: q + "store_migrations", dataKeys: q + "store_data_keys", replay: q + "store_replay",
		messages: q + "store_messages", owners: q + "store_record_owners", records: q + "store_records", mailbox: q + "store_mailbox",
		deliveries: q + "store_deliveries", gaps: q + "store_gaps",
	}}
	if err := b.migrate(ctx); err != nil {
		return nil, err
	}
	js, err := journalpg.Open(ctx, pool, journalpg.Options{Schema: opt.Schema})
	if err != nil {
		return nil, fmt.Errorf("store/postgres: %w", err)
	}
	b.journal = js
	return b, nil
}

// OpenURL connects to the database at url (a PostgreSQL connection
// string), migrates it and returns the backend, which owns the pool: Close
// closes it.
func OpenURL(ctx context.Context, url string, opt Options) (*Backend, error) {
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("store/postgres: %w", err)
	}
	b, err := Open(ctx, pool, opt)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	b.owned = true
	return b, nil
}

// JournalStore implements store.Backend.
func (b *Backend) JournalStore() journal.Store { return b.journal }

// Close implements store.Backend: it closes the pool of OpenURL; a pool
// given to Open stays the caller's to close.
func (b *Backend) Close() error {
	if b.owned {
		b.pool.Close()
	}
	return nil
}

// Scrub implements store.Backend: nothing. The rows a purge deleted or
// emptied are dead tuples until VACUUM (autovacuum) reclaims their space;
// they were sealed, and SQL reads only live rows.
func (b *Backend) Scrub(context.Context) error { return nil }

// retryable reports a deadlock or serialization failure.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001")
}

// Write implements store.Backend.
func (b *Backend) Write(ctx context.Context, f func(store.Tx) error) error {
	var err error
	for range maxRetries {
		err = pgx.BeginFunc(ctx, b.pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SET LOCAL synchronous_commit TO on`); err != nil {
				return fmt.Errorf("store/postgres: begin: %w", err)
			}
			return f(&txn{tx: tx, b: b})
		})
		if !retryable(err) {
			return err
		}
	}
	return err
}

// Read implements store.Backend.
func (b *Backend) Read(ctx context.Context, f func(store.Tx) error) error {
	return pgx.BeginTxFunc(ctx, b.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		return f(&txn{tx: tx, b: b, readOnly: true})
	})
}

type txn struct {
	tx       pgx.Tx
	b        *Backend
	readOnly bool
}

var _ store.Tx = (*txn)(nil)

func (t *txn) exec(ctx context.Context, what, q string, args ...any) (pgconn.CommandTag, error) {
	tag, err := t.tx.Exec(ctx, q, args...)
	if err != nil {
		return tag, fmt.Errorf("store/postgres: %s: %w", what, err)
	}
	return tag, nil
}

func (t *txn) Savepoint(ctx context.Context) error {
	_, err := t.exec(ctx, "savepoint", `SAVEPOINT intake`)
	return err
}

func (t *txn) RollbackToSavepoint(ctx context.Context) error {
	if _, err := t.exec(ctx, "rollback to savepoint", `ROLLBACK TO SAVEPOINT intake`); err != nil {
		return err
	}
	return t.ReleaseSavepoint(ctx)
}

func (t *txn) ReleaseSavepoint(ctx context.Context) error {
	_, err := t.exec(ctx, "release savepoint", `RELEASE SAVEPOINT intake`)
	return err
}

func (t *txn) PutDataKey(ctx context.Context, id, wrapped []byte, created time.Time) error {
	_, err := t.exec(ctx, "store the data key", `INSERT INTO `+t.b.t.dataKeys+` (id, wrapped, created) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING`, id, wrapped, created)
	return err
}

func (t *txn) DataKey(ctx context.Context, id []byte) ([]byte, error) {
	var w []byte
	err := t.tx.QueryRow(ctx, `SELECT wrapped FROM `+t.b.t.dataKeys+` WHERE id = $1`, id).Scan(&w)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%w: data key %x is missing", store.ErrCorrupt, id)
	}
	if err != nil {
		return nil, fmt.Errorf("store/postgres: data key: %w", err)
	}
	return w, nil
}

func (t *txn) InsertReplay(ctx context.Context, r store.ReplayRow) (store.ReplayRow, bool, error) {
	tag, err := t.exec(ctx, "insert the replay row", `INSERT INTO `+t.b.t.replay+` (sender, message_id, digest, expires_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
		r.Sender, r.MessageID, r.Digest, r.ExpiresAt)
	if err != nil {
		return store.ReplayRow{}, false, err
	}
	if tag.RowsAffected() == 1 {
		return store.ReplayRow{}, true, nil
	}
	old := store.ReplayRow{Sender: r.Sender, MessageID: r.MessageID}
	if err := t.tx.QueryRow(ctx, `SELECT digest, expires_at FROM `+t.b.t.replay+` WHERE sender = $1 AND message_id = $2`, r.Sender, r.MessageID).Scan(&old.Digest, &old.ExpiresAt); err != nil {
		return store.ReplayRow{}, false, fmt.Errorf("store/postgres: read the replay row: %w", err)
	}
	return old, false, nil
}

func (t *txn) PurgeReplay(ctx context.Context, now time.Time) (int64, error) {
	tag, err := t.exec(ctx, "purge replay rows", `DELETE FROM `+t.b.t.replay+` WHERE expires_at <= $1`, now)
	return tag.RowsAffected(), err
}

func (t *txn) InsertMessage(ctx context.Context, m store.MessageRow) error {
	_, err := t.exec(ctx, "insert the message", `INSERT INTO `+t.b.t.messages+` (sender, message_id, digest, received_at, expires_at, evidence, receipt) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		m.Sender, m.ID, m.Digest, m.ReceivedAt, m.ExpiresAt, m.SealedEvidence, m.SealedReceipt)
	return err
}

func (t *txn) Message(ctx context.Context, sender, id string) (store.MessageRow, bool, error) {
	m := store.MessageRow{Sender: sender, ID: id}
	var purged *time.Time
	err := t.tx.QueryRow(ctx, `SELECT digest, received_at, expires_at, evidence, receipt, purged_at FROM `+t.b.t.messages+` WHERE sender = $1 AND message_id = $2`, sender, id).
		Scan(&m.Digest, &m.ReceivedAt, &m.ExpiresAt, &m.SealedEvidence, &m.SealedReceipt, &purged)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.MessageRow{}, false, nil
	}
	if err != nil {
		return store.MessageRow{}, false, fmt.Errorf("store/postgres: read the message: %w", err)
	}
	m.ReceivedAt, m.ExpiresAt = m.ReceivedAt.UTC(), m.ExpiresAt.UTC()
	if purged != nil {
		m.PurgedAt = purged.UTC()
	}
	return m, true, nil
}

func (t *txn) ClaimRecord(ctx context.Context, recordID, owner string, at time.Time) (string, error) {
	if _, err := t.exec(ctx, "claim the record", `INSERT INTO `+t.b.t.owners+` (record_id, owner, since) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, recordID, owner, at); err != nil {
		return "", err
	}
	var o string
	if err := t.tx.QueryRow(ctx, `SELECT owner FROM `+t.b.t.owners+` WHERE record_id = $1`, recordID).Scan(&o); err != nil {
		return "", fmt.Errorf("store/postgres: read the record owner: %w", err)
	}
	return o, nil
}

func (t *txn) InsertRecord(ctx context.Context, r store.RecordRow) (store.RecordRow, bool, error) {
	tag, err := t.exec(ctx, "insert the record", `INSERT INTO `+t.b.t.records+` (record_id, version, owner, sender, message_id, content_digest, body, stored_at, subject_key, subject_ref, incident_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING`,
		r.ID, r.Version, r.Owner, r.Sender, r.MessageID, r.ContentDigest, r.SealedBody, r.StoredAt, r.Subject.KeyID, r.Subject.Ref, r.IncidentID)
	if err != nil {
		return store.RecordRow{}, false, err
	}
	if tag.RowsAffected() == 1 {
		return store.RecordRow{}, true, nil
	}
	old, found, err := t.Record(ctx, r.ID, r.Version)
	if err == nil && !found {
		err = fmt.Errorf("store/postgres: record %q version %d vanished", r.ID, r.Version)
	}
	return old, false, err
}

func (t *txn) Record(ctx context.Context, id string, version int) (store.RecordRow, bool, error) {
	r := store.RecordRow{ID: id, Version: version}
	var purged *time.Time
	err := t.tx.QueryRow(ctx, `SELECT owner, sender, message_id, content_digest, body, stored_at, subject_key, subject_ref, incident_id, purged_at
		FROM `+t.b.t.records+` WHERE record_id = $1 AND version = $2`, id, version).
		Scan(&r.Owner, &r.Sender, &r.MessageID, &r.ContentDigest, &r.SealedBody, &r.StoredAt, &r.Subject.KeyID, &r.Subject.Ref, &r.IncidentID, &purged)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.RecordRow{}, false, nil
	}
	if err != nil {
		return store.RecordRow{}, false, fmt.Errorf("store/postgres: read the record: %w", err)
	}
	r.StoredAt = r.StoredAt.UTC()
	if purged != nil {
		r.PurgedAt = purged.UTC()
	}
	return r, true, nil
}

func (t *txn) InsertMailbox(ctx context.Context, rows []store.MailboxRow) error {
	var batch pgx.Batch
	for _, m := range rows {
		batch.Queue(`INSERT INTO `+t.b.t.mailbox+` (id, recipient, record_id, record_version, view, content_digest, priority, state, lease_until, deliveries, queued_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'queued', $8, 0, $8)`,
			m.ID, m.Recipient, m.RecordID, m.RecordVersion, m.SealedView, m.ContentDigest, int(m.Priority), m.QueuedAt)
	}
	if err := t.tx.SendBatch(ctx, &batch).Close(); err != nil {
		return fmt.Errorf("store/postgres: queue the mailbox messages: %w", err)
	}
	return nil
}

func (t *txn) ParkExhausted(ctx context.Context, recipient string, now time.Time, maxDeliveries int) ([]string, error) {
	rows, err := t.tx.Query(ctx, `UPDATE `+t.b.t.mailbox+` SET state = 'parked', parked_at = $2 WHERE seq IN (
			SELECT seq FROM `+t.b.t.mailbox+` WHERE recipient = $1 AND state = 'leased' AND lease_until <= $2 AND deliveries >= $3
			FOR UPDATE SKIP LOCKED)
		RETURNING id`, recipient, now, maxDeliveries)
	if err != nil {
		return nil, fmt.Errorf("store/postgres: park: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("store/postgres: park: %w", err)
	}
	return ids, nil
}

// parkedCols are the columns of a parked row as Parked and Requeue read it.
const parkedCols = `seq, id, recipient, record_id, record_version, content_digest, priority, state, lease_until, deliveries, queued_at, COALESCE(parked_at, lease_until)`

func scanParked(r pgx.Row) (store.MailboxRow, error) {
	var m store.MailboxRow
	var prio int
	var state string
	err := r.Scan(&m.Seq, &m.ID, &m.Recipient, &m.RecordID, &m.RecordVersion, &m.ContentDigest, &prio, &state, &m.LeaseUntil, &m.Deliveries, &m.QueuedAt, &m.ParkedAt)
	m.Priority, m.State = store.Priority(prio), store.State(state)
	m.LeaseUntil, m.QueuedAt, m.ParkedAt = m.LeaseUntil.UTC(), m.QueuedAt.UTC(), m.ParkedAt.UTC()
	return m, err
}

func (t *txn) Parked(ctx context.Context, limit int) ([]store.MailboxRow, error) {
	rows, err := t.tx.Query(ctx, `SELECT `+parkedCols+` FROM `+t.b.t.mailbox+` WHERE state = 'parked' ORDER BY seq LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("store/postgres: list parked: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.MailboxRow, error) { return scanParked(r) })
	if err != nil {
		return nil, fmt.Errorf("store/postgres: list parked: %w", err)
	}
	return out, nil
}

func (t *txn) Requeue(ctx context.Context, id string, now time.Time) (store.MailboxRow, bool, error) {
	m, err := scanParked(t.tx.QueryRow(ctx, `SELECT `+parkedCols+` FROM `+t.b.t.mailbox+` WHERE id = $1 AND state = 'parked' FOR UPDATE`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.MailboxRow{}, false, nil
	}
	if err != nil {
		return store.MailboxRow{}, false, fmt.Errorf("store/postgres: requeue: %w", err)
	}
	if _, err := t.exec(ctx, "requeue", `UPDATE `+t.b.t.mailbox+` SET state = 'queued', deliveries = 0, lease_until = $2, parked_at = NULL WHERE seq = $1`, m.Seq, now); err != nil {
		return store.MailboxRow{}, false, err
	}
	return m, true, nil
}

func (t *txn) Lease(ctx context.Context, recipient string, now, until time.Time, limit int) ([]store.MailboxRow, error) {
	rows, err := t.tx.Query(ctx, `UPDATE `+t.b.t.mailbox+` SET state = 'leased', lease_until = $1, deliveries = deliveries + 1
		WHERE seq IN (SELECT seq FROM `+t.b.t.mailbox+` WHERE recipient = $2 AND (state = 'queued' OR (state = 'leased' AND lease_until <= $3))
			ORDER BY priority DESC, seq LIMIT $4 FOR UPDATE SKIP LOCKED)
		RETURNING seq, id, recipient, record_id, record_version, view, content_digest, priority, state, lease_until, deliveries, queued_at`,
		until, recipient, now, limit)
	if err != nil {
		return nil, fmt.Errorf("store/postgres: lease: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.MailboxRow, error) {
		var m store.MailboxRow
		var prio int
		var state string
		err := r.Scan(&m.Seq, &m.ID, &m.Recipient, &m.RecordID, &m.RecordVersion, &m.SealedView, &m.ContentDigest, &prio, &state, &m.LeaseUntil, &m.Deliveries, &m.QueuedAt)
		m.Priority, m.State, m.LeaseUntil, m.QueuedAt = store.Priority(prio), store.State(state), m.LeaseUntil.UTC(), m.QueuedAt.UTC()
		return m, err
	})
	if err != nil {
		return nil, fmt.Errorf("store/postgres: lease: %w", err)
	}
	store.SortMailbox(out)
	return out, nil
}

func (t *txn) RecordDelivery(ctx context.Context, id string, digest []byte, at time.Time, keep int) error {
	if _, err := t.exec(ctx, "record the delivery", `INSERT INTO `+t.b.t.deliveries+` (mailbox_id, digest, sent_at) VALUES ($1, $2, $3)
		ON CONFLICT (mailbox_id, digest) DO UPDATE SET sent_at = excluded.sent_at`, id, digest, at); err != nil {
		return err
	}
	_, err := t.exec(ctx, "forget old deliveries", `DELETE FROM `+t.b.t.deliveries+` WHERE mailbox_id = $1 AND digest NOT IN (
		SELECT digest FROM `+t.b.t.deliveries+` WHERE mailbox_id = $1 ORDER BY sent_at DESC, digest DESC LIMIT $2)`, id, keep)
	return err
}

func (t *txn) Ack(ctx context.Context, recipient, id string, digest []byte, now time.Time) (store.AckResult, error) {
	var prev string
	var r store.AckResult
	// The recipient's own message, or one transferred from it: then only
	// the deliveries sent to it, before the transfer, count.
	err := t.tx.QueryRow(ctx, `SELECT m.state, m.record_id, m.record_version, m.recipient, COALESCE(m.transferred_from, ''),
		EXISTS (SELECT 1 FROM `+t.b.t.deliveries+` d WHERE d.mailbox_id = m.id AND (m.recipient = $2 OR d.sent_at < m.transferred_at)),
		EXISTS (SELECT 1 FROM `+t.b.t.deliveries+` d WHERE d.mailbox_id = m.id AND d.digest = $1 AND (m.recipient = $2 OR d.sent_at < m.transferred_at))
		FROM `+t.b.t.mailbox+` m WHERE m.id = $3 AND (m.recipient = $2 OR m.transferred_from = $2) FOR UPDATE OF m`, digest, recipient, id).
		Scan(&prev, &r.RecordID, &r.RecordVersion, &r.Recipient, &r.TransferredFrom, &r.Known, &r.Sent)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.AckResult{}, nil
	}
	if err != nil {
		return store.AckResult{}, fmt.Errorf("store/postgres: ack: %w", err)
	}
	r.Found, r.Prev = true, store.State(prev)
	if !r.Sent || r.Prev == store.StateDelivered {
		return r, nil
	}
	if _, err := t.exec(ctx, "ack", `UPDATE `+t.b.t.mailbox+` SET state = 'delivered', delivered_at = $1 WHERE id = $2`, now, id); err != nil {
		return store.AckResult{}, err
	}
	return r, nil
}

func (t *txn) Transfer(ctx context.Context, from, to string, now time.Time, limit int) ([]store.MailboxRow, error) {
	// FOR UPDATE waits for a transaction that holds a row (another
	// replica's transfer, an ack) and then re-checks the row: one moved
	// meanwhile is no longer from's and drops out.
	rows, err := t.tx.Query(ctx, `SELECT `+parkedCols+` FROM `+t.b.t.mailbox+` WHERE recipient = $1 AND state <> 'delivered'
		ORDER BY seq LIMIT $2 FOR UPDATE`, from, limit)
	if err != nil {
		return nil, fmt.Errorf("store/postgres: transfer: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.MailboxRow, error) { return scanParked(r) })
	if err != nil {
		return nil, fmt.Errorf("store/postgres: transfer: %w", err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	seqs := make([]int64, len(out))
	for i := range out {
		seqs[i] = out[i].Seq
		out[i].TransferredFrom, out[i].TransferredAt = from, now
		if out[i].State != store.StateParked {
			out[i].ParkedAt = time.Time{}
		}
	}
	if _, err := t.exec(ctx, "transfer", `UPDATE `+t.b.t.mailbox+` SET recipient = $1, transferred_from = $2, transferred_at = $3,
		state = CASE WHEN state = 'parked' THEN 'parked' ELSE 'queued' END,
		deliveries = CASE WHEN state = 'parked' THEN deliveries ELSE 0 END,
		lease_until = CASE WHEN state = 'parked' THEN lease_until ELSE $3 END
		WHERE seq = ANY($4)`, to, from, now, seqs); err != nil {
		return nil, err
	}
	return out, nil
}

func (t *txn) Waiting(ctx context.Context, limit int) ([]store.WaitingRow, error) {
	rows, err := t.tx.Query(ctx, `SELECT recipient, count(*), min(queued_at) FROM `+t.b.t.mailbox+`
		WHERE state <> 'delivered' GROUP BY recipient ORDER BY recipient LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("store/postgres: waiting: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.WaitingRow, error) {
		var w store.WaitingRow
		err := r.Scan(&w.Recipient, &w.Count, &w.OldestQueuedAt)
		w.OldestQueuedAt = w.OldestQueuedAt.UTC()
		return w, err
	})
	if err != nil {
		return nil, fmt.Errorf("store/postgres: waiting: %w", err)
	}
	return out, nil
}

// purgeMailboxCols are the columns a mailbox purge reads, its record's
// subject and incident joined.
const purgeMailboxCols = `m.seq, m.id, m.recipient, m.record_id, m.record_version, m.content_digest, m.state, r.subject_key, r.subject_ref, r.incident_id`

func (t *txn) PurgeDelivered(ctx context.Context, before time.Time, limit int) ([]store.PurgedMailbox, int64, error) {
	return t.purgeMailbox(ctx, `SELECT `+purgeMailboxCols+` FROM `+t.b.t.mailbox+` m JOIN `+t.b.t.records+` r ON r.record_id = m.record_id AND r.version = m.record_version
		WHERE m.state = 'delivered' AND m.delivered_at <= $1 ORDER BY m.delivered_at, m.seq LIMIT $2 FOR UPDATE OF m SKIP LOCKED`, before, limit)
}

func (t *txn) PurgeUndelivered(ctx context.Context, before, now time.Time, limit int) ([]store.PurgedMailbox, int64, error) {
	return t.purgeMailbox(ctx, `SELECT `+purgeMailboxCols+` FROM `+t.b.t.mailbox+` m JOIN `+t.b.t.records+` r ON r.record_id = m.record_id AND r.version = m.record_version
		WHERE m.state <> 'delivered' AND m.queued_at <= $1 AND (m.state <> 'leased' OR m.lease_until <= $2) ORDER BY m.queued_at, m.seq LIMIT $3 FOR UPDATE OF m SKIP LOCKED`,
		before, now, limit)
}

// purgeMailbox locks the mailbox messages q selects (skipping those
// another transaction holds: a lease, an ack, another purge) and deletes
// them with their recorded deliveries.
func (t *txn) purgeMailbox(ctx context.Context, q string, args ...any) ([]store.PurgedMailbox, int64, error) {
	rows, err := t.tx.Query(ctx, q, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("store/postgres: purge mailbox messages: %w", err)
	}
	var seqs []int64
	var ids []string
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.PurgedMailbox, error) {
		var m store.PurgedMailbox
		var seq int64
		var state string
		err := r.Scan(&seq, &m.ID, &m.Recipient, &m.RecordID, &m.RecordVersion, &m.ContentDigest, &state, &m.Subject.KeyID, &m.Subject.Ref, &m.IncidentID)
		m.State = store.State(state)
		seqs, ids = append(seqs, seq), append(ids, m.ID)
		return m, err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("store/postgres: purge mailbox messages: %w", err)
	}
	if len(out) == 0 {
		return nil, 0, nil
	}
	tag, err := t.exec(ctx, "purge deliveries", `DELETE FROM `+t.b.t.deliveries+` WHERE mailbox_id = ANY($1)`, ids)
	if err != nil {
		return nil, 0, err
	}
	if _, err := t.exec(ctx, "purge mailbox messages", `DELETE FROM `+t.b.t.mailbox+` WHERE seq = ANY($1)`, seqs); err != nil {
		return nil, 0, err
	}
	return out, tag.RowsAffected(), nil
}

func (t *txn) PurgeRecords(ctx context.Context, before, now time.Time, limit int) ([]store.RecordRow, error) {
	rows, err := t.tx.Query(ctx, `UPDATE `+t.b.t.records+` SET body = ''::bytea, purged_at = $1
		WHERE (record_id, version) IN (SELECT r.record_id, r.version FROM `+t.b.t.records+` r
			WHERE r.purged_at IS NULL AND r.stored_at <= $2 AND NOT EXISTS (SELECT 1 FROM `+t.b.t.mailbox+` m WHERE m.record_id = r.record_id)
			ORDER BY r.stored_at LIMIT $3 FOR UPDATE OF r SKIP LOCKED)
		RETURNING record_id, version, owner, sender, message_id, content_digest, stored_at, subject_key, subject_ref, incident_id`,
		now, before, limit)
	if err != nil {
		return nil, fmt.Errorf("store/postgres: purge records: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.RecordRow, error) {
		var r store.RecordRow
		err := row.Scan(&r.ID, &r.Version, &r.Owner, &r.Sender, &r.MessageID, &r.ContentDigest, &r.StoredAt, &r.Subject.KeyID, &r.Subject.Ref, &r.IncidentID)
		r.StoredAt, r.PurgedAt = r.StoredAt.UTC(), now
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("store/postgres: purge records: %w", err)
	}
	return out, nil
}

func (t *txn) PurgeMessages(ctx context.Context, before, now time.Time, limit int) ([]store.MessageRow, error) {
	rows, err := t.tx.Query(ctx, `UPDATE `+t.b.t.messages+` SET evidence = ''::bytea, receipt = ''::bytea, purged_at = $1
		WHERE (sender, message_id) IN (SELECT m.sender, m.message_id FROM `+t.b.t.messages+` m
			WHERE m.purged_at IS NULL AND m.received_at <= $2
				AND NOT EXISTS (SELECT 1 FROM `+t.b.t.records+` r WHERE r.sender = m.sender AND r.message_id = m.message_id AND r.purged_at IS NULL)
			ORDER BY m.received_at LIMIT $3 FOR UPDATE OF m SKIP LOCKED)
		RETURNING sender, message_id, digest, received_at, expires_at`,
		now, before, limit)
	if err != nil {
		return nil, fmt.Errorf("store/postgres: purge messages: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.MessageRow, error) {
		var m store.MessageRow
		err := row.Scan(&m.Sender, &m.ID, &m.Digest, &m.ReceivedAt, &m.ExpiresAt)
		m.ReceivedAt, m.ExpiresAt, m.PurgedAt = m.ReceivedAt.UTC(), m.ExpiresAt.UTC(), now
		return m, err
	})
	if err != nil {
		return nil, fmt.Errorf("store/postgres: purge messages: %w", err)
	}
	return out, nil
}

func (t *txn) AppendJournal(ctx context.Context, build func(journal.Head) (*journal.Batch, error)) error {
	if t.readOnly {
		return errors.New("store/postgres: a journal append in a read transaction")
	}
	_, err := t.b.journal.AppendTx(ctx, t.tx, build)
	return err
}

func (t *txn) InsertGaps(ctx context.Context, rows []store.GapRow) error {
	for _, g := range rows {
		if _, err := t.exec(ctx, "note the gap", `INSERT INTO `+t.b.t.gaps+` (record_id, version, role, noted_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
			g.RecordID, g.Version, g.Role, g.NotedAt); err != nil {
			return err
		}
	}
	return nil
}

func (t *txn) CloseGaps(ctx context.Context, recordID string, beforeVersion int, now time.Time, closedAs string) (int64, error) {
	tag, err := t.exec(ctx, "close the gaps", `UPDATE `+t.b.t.gaps+` SET closed_at = $1, closed_as = $2
		WHERE record_id = $3 AND closed_at IS NULL AND ($4 = 0 OR version < $4)`, now, closedAs, recordID, beforeVersion)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

func (t *txn) CloseGap(ctx context.Context, g store.GapRow, now time.Time, closedAs string) (bool, error) {
	tag, err := t.exec(ctx, "close the gap", `UPDATE `+t.b.t.gaps+` SET closed_at = $1, closed_as = $2
		WHERE record_id = $3 AND version = $4 AND role = $5 AND closed_at IS NULL`, now, closedAs, g.RecordID, g.Version, g.Role)
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() == 1, nil
}

func (t *txn) OpenGaps(ctx context.Context, after store.GapRow, limit int) ([]store.GapRow, error) {
	rows, err := t.tx.Query(ctx, `SELECT record_id, version, role, noted_at FROM `+t.b.t.gaps+`
		WHERE closed_at IS NULL AND (record_id, version, role) > ($1, $2, $3) ORDER BY record_id, version, role LIMIT $4`,
		after.RecordID, after.Version, after.Role, limit)
	if err != nil {
		return nil, fmt.Errorf("store/postgres: open gaps: %w", err)
	}
	defer rows.Close()
	var out []store.GapRow
	for rows.Next() {
		var g store.GapRow
		if err := rows.Scan(&g.RecordID, &g.Version, &g.Role, &g.NotedAt); err != nil {
			return nil, fmt.Errorf("store/postgres: open gaps: %w", err)
		}
		g.NotedAt = g.NotedAt.UTC()
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store/postgres: open gaps: %w", err)
	}
	return out, nil
}
