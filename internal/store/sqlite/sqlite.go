// Package sqlite runs the gateway's store on SQLite (modernc.org/sqlite,
// pure Go): one database file in the data directory holds the store's
// tables and the journal's.
//
// The database runs in WAL mode with synchronous=FULL, so a committed
// transaction survives a crash or power loss. All writes go through one
// connection with BEGIN IMMEDIATE (SQLite has one writer anyway), shared
// with the journal's own appends; reads use a pool of query-only
// connections beside it. A pull is one write transaction, so a message is
// leased to one puller at a time.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the database/sql driver "sqlite"

	"github.com/psykosocial/exchange/internal/journal"
	journalsqlite "github.com/psykosocial/exchange/internal/journal/sqlite"
	"github.com/psykosocial/exchange/internal/store"
)

// Options configures a Backend.
type Options struct {
	// ReadConns is the number of reader connections; 0 means 4.
	ReadConns int
	// BusyTimeout is how long a connection waits for a lock held by another
	// process; 0 means 5 seconds.
	BusyTimeout time.Duration
}

// Backend is the store in one SQLite database. It implements store.Backend.
type Backend struct {
	w, r    *sql.DB
	journal *journalsqlite.Store
}

var _ store.Backend = (*Backend)(nil)

// Open opens (creating if needed) the database at path and migrates it.
func Open(ctx context.Context, path string, opt Options) (*Backend, error) {
	if path == "" || strings.ContainsAny(path, "?#") {
		return nil, errors.New("store/sqlite: the database path must be set and contain no '?' or '#'")
	}
	if opt.ReadConns < 0 || opt.BusyTimeout < 0 {
		return nil, errors.New("store/sqlite: ReadConns and BusyTimeout must not be negative")
	}
	if opt.ReadConns == 0 {
		opt.ReadConns = defaultReadConns
	}
	if opt.BusyTimeout == 0 {
		opt.BusyTimeout = defaultBusyTimeout
	}
	pragmas := []string{
		fmt.Sprintf("busy_timeout(%d)", opt.BusyTimeout.Milliseconds()),
		"journal_mode(WAL)", "synchronous(FULL)", "temp_store(MEMORY)", "foreign_keys(1)",
		// Deleted content is overwritten with zeros, freed pages included,
		// so that purged data does not linger in the file (Scrub).
		"secure_delete(1)",
	}
	wq := url.Values{"_pragma": append(append([]string(nil), pragmas...), fmt.Sprintf("cache_size(-%d)", writerCacheKiB)), "_txlock": {"immediate"}}
	w, err := sql.Open("sqlite", path+"?"+wq.Encode())
	if err != nil {
		return nil, fmt.Errorf("store/sqlite: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := migrate(ctx, w); err != nil {
		w.Close()
		return nil, err
	}
	rq := url.Values{"_pragma": append(append([]string(nil), pragmas...), "query_only(1)", fmt.Sprintf("cache_size(-%d)", readerCacheKiB))}
	r, err := sql.Open("sqlite", path+"?"+rq.Encode())
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("store/sqlite: open %s: %w", path, err)
	}
	r.SetMaxOpenConns(opt.ReadConns)
	r.SetMaxIdleConns(opt.ReadConns)
	js, err := journalsqlite.OpenDB(ctx, w, r)
	if err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("store/sqlite: %w", err)
	}
	return &Backend{w: w, r: r, journal: js}, nil
}

// JournalStore implements store.Backend.
func (b *Backend) JournalStore() journal.Store { return b.journal }

// Close closes the database.
func (b *Backend) Close() error {
	return errors.Join(b.journal.Close(), b.w.Close(), b.r.Close())
}

// Scrub implements store.Backend: a TRUNCATE checkpoint copies the
// write-ahead log into the database (where secure_delete has zeroed what
// was deleted) and truncates it, so that the log's older page images of
// purged rows are gone too. It waits (busy_timeout) for readers of older
// snapshots and fails when they outlast it; the next scrub tries again.
func (b *Backend) Scrub(ctx context.Context) error {
	var busy, logFrames, done int
	if err := b.w.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logFrames, &done); err != nil {
		return fmt.Errorf("store/sqlite: checkpoint the WAL: %w", err)
	}
	if busy != 0 {
		return errors.New("store/sqlite: checkpoint the WAL: readers of older snapshots kept it from being truncated")
	}
	return nil
}

// Write implements store.Backend: BEGIN IMMEDIATE on the one writer
// connection, f, COMMIT (fsynced).
func (b *Backend) Write(ctx context.Context, f func(store.Tx) error) error {
	tx, err := b.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store/sqlite: begin: %w", err)
	}
	defer tx.Rollback()
	if err := f(&txn{tx: tx, b: b}); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store/sqlite: commit: %w", err)
	}
	return nil
}

// Read implements store.Backend on a reader connection.
func (b *Backend) Read(ctx context.Context, f func(store.Tx) error) error {
	tx, err := b.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("store/sqlite: begin: %w", err)
	}
	defer tx.Rollback()
	return f(&txn{tx: tx, b: b, readOnly: true})
}

// txn is one transaction.
type txn struct {
	tx       *sql.Tx
	b        *Backend
	readOnly bool
}

var _ store.Tx = (*txn)(nil)

func us(t time.Time) int64 { return t.UnixMicro() }
func fromUS(v int64) time.Time {
	return time.UnixMicro(v).UTC()
}

func (t *txn) exec(ctx context.Context, what, q string, args ...any) (sql.Result, error) {
	res, err := t.tx.ExecContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store/sqlite: %s: %w", what, err)
	}
	return res, nil
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
	_, err := t.exec(ctx, "store the data key", `INSERT OR IGNORE INTO store_data_keys (id, wrapped, created_us) VALUES (?, ?, ?)`, id, wrapped, us(created))
	return err
}

func (t *txn) DataKey(ctx context.Context, id []byte) ([]byte, error) {
	var w []byte
	err := t.tx.QueryRowContext(ctx, `SELECT wrapped FROM store_data_keys WHERE id = ?`, id).Scan(&w)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: data key %x is missing", store.ErrCorrupt, id)
	}
	if err != nil {
		return nil, fmt.Errorf("store/sqlite: data key: %w", err)
	}
	return w, nil
}

func (t *txn) InsertReplay(ctx context.Context, r store.ReplayRow) (store.ReplayRow, bool, error) {
	res, err := t.exec(ctx, "insert the replay row", `INSERT OR IGNORE INTO store_replay (sender, message_id, digest, expires_us) VALUES (?, ?, ?, ?)`,
		r.Sender, r.MessageID, r.Digest, us(r.ExpiresAt))
	if err != nil {
		return store.ReplayRow{}, false, err
	}
	if n, err := res.RowsAffected(); err != nil {
		return store.ReplayRow{}, false, fmt.Errorf("store/sqlite: insert the replay row: %w", err)
	} else if n == 1 {
		return store.ReplayRow{}, true, nil
	}
	old := store.ReplayRow{Sender: r.Sender, MessageID: r.MessageID}
	var exp int64
	if err := t.tx.QueryRowContext(ctx, `SELECT digest, expires_us FROM store_replay WHERE sender = ? AND message_id = ?`, r.Sender, r.MessageID).Scan(&old.Digest, &exp); err != nil {
		return store.ReplayRow{}, false, fmt.Errorf("store/sqlite: read the replay row: %w", err)
	}
	old.ExpiresAt = fromUS(exp)
	return old, false, nil
}

func (t *txn) PurgeReplay(ctx context.Context, now time.Time) (int64, error) {
	res, err := t.exec(ctx, "purge replay rows", `DELETE FROM store_replay WHERE expires_us <= ?`, us(now))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (t *txn) InsertMessage(ctx context.Context, m store.MessageRow) error {
	_, err := t.exec(ctx, "insert the message", `INSERT INTO store_messages (sender, message_id, digest, received_us, expires_us, evidence, receipt) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		m.Sender, m.ID, m.Digest, us(m.ReceivedAt), us(m.ExpiresAt), m.SealedEvidence, m.SealedReceipt)
	return err
}

func (t *txn) Message(ctx context.Context, sender, id string) (store.MessageRow, bool, error) {
	m := store.MessageRow{Sender: sender, ID: id}
	var rec, exp int64
	var purged sql.NullInt64
	err := t.tx.QueryRowContext(ctx, `SELECT digest, received_us, expires_us, evidence, receipt, purged_us FROM store_messages WHERE sender = ? AND message_id = ?`, sender, id).
		Scan(&m.Digest, &rec, &exp, &m.SealedEvidence, &m.SealedReceipt, &purged)
	if errors.Is(err, sql.ErrNoRows) {
		return store.MessageRow{}, false, nil
	}
	if err != nil {
		return store.MessageRow{}, false, fmt.Errorf("store/sqlite: read the message: %w", err)
	}
	m.ReceivedAt, m.ExpiresAt = fromUS(rec), fromUS(exp)
	if purged.Valid {
		m.PurgedAt = fromUS(purged.Int64)
	}
	return m, true, nil
}

func (t *txn) ClaimRecord(ctx context.Context, recordID, owner string, at time.Time) (string, error) {
	if _, err := t.exec(ctx, "claim the record", `INSERT OR IGNORE INTO store_record_owners (record_id, owner, since_us) VALUES (?, ?, ?)`, recordID, owner, us(at)); err != nil {
		return "", err
	}
	var o string
	if err := t.tx.QueryRowContext(ctx, `SELECT owner FROM store_record_owners WHERE record_id = ?`, recordID).Scan(&o); err != nil {
		return "", fmt.Errorf("store/sqlite: read the record owner: %w", err)
	}
	return o, nil
}

func (t *txn) InsertRecord(ctx context.Context, r store.RecordRow) (store.RecordRow, bool, error) {
	res, err := t.exec(ctx, "insert the record", `INSERT OR IGNORE INTO store_records (record_id, version, owner, sender, message_id, content_digest, body, stored_us, subject_key, subject_ref, incident_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.Version, r.Owner, r.Sender, r.MessageID, r.ContentDigest, r.SealedBody, us(r.StoredAt), r.Subject.KeyID, r.Subject.Ref, r.IncidentID)
	if err != nil {
		return store.RecordRow{}, false, err
	}
	if n, err := res.RowsAffected(); err != nil {
		return store.RecordRow{}, false, fmt.Errorf("store/sqlite: insert the record: %w", err)
	} else if n == 1 {
		return store.RecordRow{}, true, nil
	}
	old, found, err := t.Record(ctx, r.ID, r.Version)
	if err == nil && !found {
		err = fmt.Errorf("store/sqlite: record %q version %d vanished", r.ID, r.Version)
	}
	return old, false, err
}

func (t *txn) Record(ctx context.Context, id string, version int) (store.RecordRow, bool, error) {
	r := store.RecordRow{ID: id, Version: version}
	var at int64
	var purged sql.NullInt64
	err := t.tx.QueryRowContext(ctx, `SELECT owner, sender, message_id, content_digest, body, stored_us, subject_key, subject_ref, incident_id, purged_us
		FROM store_records WHERE record_id = ? AND version = ?`, id, version).
		Scan(&r.Owner, &r.Sender, &r.MessageID, &r.ContentDigest, &r.SealedBody, &at, &r.Subject.KeyID, &r.Subject.Ref, &r.IncidentID, &purged)
	if errors.Is(err, sql.ErrNoRows) {
		return store.RecordRow{}, false, nil
	}
	if err != nil {
		return store.RecordRow{}, false, fmt.Errorf("store/sqlite: read the record: %w", err)
	}
	r.StoredAt = fromUS(at)
	if purged.Valid {
		r.PurgedAt = fromUS(purged.Int64)
	}
	return r, true, nil
}

func (t *txn) InsertMailbox(ctx context.Context, rows []store.MailboxRow) error {
	for _, m := range rows {
		if _, err := t.exec(ctx, "queue the mailbox message", `INSERT INTO store_mailbox (id, recipient, record_id, record_version, view, content_digest, priority, state, lease_until_us, deliveries, queued_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, 0, ?)`,
			m.ID, m.Recipient, m.RecordID, m.RecordVersion, m.SealedView, m.ContentDigest, int(m.Priority), string(store.StateQueued), us(m.QueuedAt)); err != nil {
			return err
		}
	}
	return nil
}

func (t *txn) ParkExhausted(ctx context.Context, recipient string, now time.Time, maxDeliveries int) ([]string, error) {
	rows, err := t.tx.QueryContext(ctx, `UPDATE store_mailbox SET state = 'parked', parked_us = ? WHERE recipient = ? AND state = 'leased' AND lease_until_us <= ? AND deliveries >= ? RETURNING id`,
		us(now), recipient, us(now), maxDeliveries)
	if err != nil {
		return nil, fmt.Errorf("store/sqlite: park: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("store/sqlite: park: %w", err)
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// parkedCols are the columns of a parked row as Parked and Requeue read it.
const parkedCols = `seq, id, recipient, record_id, record_version, content_digest, priority, state, lease_until_us, deliveries, queued_us, COALESCE(parked_us, lease_until_us)`

func scanParked(sc interface{ Scan(...any) error }) (store.MailboxRow, error) {
	var m store.MailboxRow
	var prio int
	var state string
	var lease, queued, parked int64
	err := sc.Scan(&m.Seq, &m.ID, &m.Recipient, &m.RecordID, &m.RecordVersion, &m.ContentDigest, &prio, &state, &lease, &m.Deliveries, &queued, &parked)
	m.Priority, m.State, m.LeaseUntil, m.QueuedAt, m.ParkedAt = store.Priority(prio), store.State(state), fromUS(lease), fromUS(queued), fromUS(parked)
	return m, err
}

func (t *txn) Parked(ctx context.Context, limit int) ([]store.MailboxRow, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT `+parkedCols+` FROM store_mailbox WHERE state = 'parked' ORDER BY seq LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("store/sqlite: list parked: %w", err)
	}
	defer rows.Close()
	var out []store.MailboxRow
	for rows.Next() {
		m, err := scanParked(rows)
		if err != nil {
			return nil, fmt.Errorf("store/sqlite: list parked: %w", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store/sqlite: list parked: %w", err)
	}
	return out, nil
}

func (t *txn) Requeue(ctx context.Context, id string, now time.Time) (store.MailboxRow, bool, error) {
	m, err := scanParked(t.tx.QueryRowContext(ctx, `SELECT `+parkedCols+` FROM store_mailbox WHERE id = ? AND state = 'parked'`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.MailboxRow{}, false, nil
	}
	if err != nil {
		return store.MailboxRow{}, false, fmt.Errorf("store/sqlite: requeue: %w", err)
	}
	if _, err := t.exec(ctx, "requeue", `UPDATE store_mailbox SET state = 'queued', deliveries = 0, lease_until_us = 0, parked_us = NULL WHERE seq = ?`, m.Seq); err != nil {
		return store.MailboxRow{}, false, err
	}
	return m, true, nil
}

func (t *txn) Lease(ctx context.Context, recipient string, now, until time.Time, limit int) ([]store.MailboxRow, error) {
	rows, err := t.tx.QueryContext(ctx, `UPDATE store_mailbox SET state = 'leased', lease_until_us = ?, deliveries = deliveries + 1
		WHERE seq IN (SELECT seq FROM store_mailbox WHERE recipient = ? AND (state = 'queued' OR (state = 'leased' AND lease_until_us <= ?))
			ORDER BY priority DESC, seq LIMIT ?)
		RETURNING seq, id, recipient, record_id, record_version, view, content_digest, priority, state, lease_until_us, deliveries, queued_us`,
		us(until), recipient, us(now), limit)
	if err != nil {
		return nil, fmt.Errorf("store/sqlite: lease: %w", err)
	}
	defer rows.Close()
	var out []store.MailboxRow
	for rows.Next() {
		var m store.MailboxRow
		var prio int
		var state string
		var lease, queued int64
		if err := rows.Scan(&m.Seq, &m.ID, &m.Recipient, &m.RecordID, &m.RecordVersion, &m.SealedView, &m.ContentDigest, &prio, &state, &lease, &m.Deliveries, &queued); err != nil {
			return nil, fmt.Errorf("store/sqlite: lease: %w", err)
		}
		m.Priority, m.State, m.LeaseUntil, m.QueuedAt = store.Priority(prio), store.State(state), fromUS(lease), fromUS(queued)
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store/sqlite: lease: %w", err)
	}
	store.SortMailbox(out)
	return out, nil
}

func (t *txn) RecordDelivery(ctx context.Context, id string, digest []byte, at time.Time, keep int) error {
	if _, err := t.exec(ctx, "record the delivery", `INSERT INTO store_deliveries (mailbox_id, digest, sent_us) VALUES (?, ?, ?)
		ON CONFLICT (mailbox_id, digest) DO UPDATE SET sent_us = excluded.sent_us`, id, digest, us(at)); err != nil {
		return err
	}
	_, err := t.exec(ctx, "forget old deliveries", `DELETE FROM store_deliveries WHERE mailbox_id = ? AND digest NOT IN (
		SELECT digest FROM store_deliveries WHERE mailbox_id = ? ORDER BY sent_us DESC, digest DESC LIMIT ?)`, id, id, keep)
	return err
}

func (t *txn) Ack(ctx context.Context, recipient, id string, digest []byte, now time.Time) (store.AckResult, error) {
	var prev string
	var known, sent int
	var r store.AckResult
	// The recipient's own message, or one transferred from it: then only
	// the deliveries sent to it, before the transfer, count.
	err := t.tx.QueryRowContext(ctx, `SELECT m.state, m.record_id, m.record_version, m.recipient, COALESCE(m.transferred_from, ''),
		EXISTS (SELECT 1 FROM store_deliveries d WHERE d.mailbox_id = m.id AND (m.recipient = ? OR d.sent_us < m.transferred_us)),
		EXISTS (SELECT 1 FROM store_deliveries d WHERE d.mailbox_id = m.id AND d.digest = ? AND (m.recipient = ? OR d.sent_us < m.transferred_us))
		FROM store_mailbox m WHERE m.id = ? AND (m.recipient = ? OR m.transferred_from = ?)`,
		recipient, digest, recipient, id, recipient, recipient).
		Scan(&prev, &r.RecordID, &r.RecordVersion, &r.Recipient, &r.TransferredFrom, &known, &sent)
	if errors.Is(err, sql.ErrNoRows) {
		return store.AckResult{}, nil
	}
	if err != nil {
		return store.AckResult{}, fmt.Errorf("store/sqlite: ack: %w", err)
	}
	r.Found, r.Known, r.Sent, r.Prev = true, known != 0, sent != 0, store.State(prev)
	if !r.Sent || r.Prev == store.StateDelivered {
		return r, nil
	}
	if _, err := t.exec(ctx, "ack", `UPDATE store_mailbox SET state = 'delivered', delivered_us = ? WHERE id = ?`, us(now), id); err != nil {
		return store.AckResult{}, err
	}
	return r, nil
}

func (t *txn) Transfer(ctx context.Context, from, to string, now time.Time, limit int) ([]store.MailboxRow, error) {
	// One writer: the rows read are the rows updated.
	rows, err := t.tx.QueryContext(ctx, `SELECT `+parkedCols+` FROM store_mailbox WHERE recipient = ? AND state <> 'delivered'
		ORDER BY seq LIMIT ?`, from, limit)
	if err != nil {
		return nil, fmt.Errorf("store/sqlite: transfer: %w", err)
	}
	var out []store.MailboxRow
	for rows.Next() {
		m, err := scanParked(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("store/sqlite: transfer: %w", err)
		}
		m.TransferredFrom, m.TransferredAt = from, now
		if m.State != store.StateParked {
			m.ParkedAt = time.Time{}
		}
		out = append(out, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store/sqlite: transfer: %w", err)
	}
	for _, m := range out {
		if _, err := t.exec(ctx, "transfer", `UPDATE store_mailbox SET recipient = ?, transferred_from = ?, transferred_us = ?,
			state = CASE WHEN state = 'parked' THEN 'parked' ELSE 'queued' END,
			deliveries = CASE WHEN state = 'parked' THEN deliveries ELSE 0 END,
			lease_until_us = CASE WHEN state = 'parked' THEN lease_until_us ELSE 0 END
			WHERE seq = ?`, to, from, us(now), m.Seq); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (t *txn) Waiting(ctx context.Context, limit int) ([]store.WaitingRow, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT recipient, COUNT(*), MIN(queued_us) FROM store_mailbox
		WHERE state <> 'delivered' GROUP BY recipient ORDER BY recipient LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("store/sqlite: waiting: %w", err)
	}
	defer rows.Close()
	var out []store.WaitingRow
	for rows.Next() {
		var w store.WaitingRow
		var oldest int64
		if err := rows.Scan(&w.Recipient, &w.Count, &oldest); err != nil {
			return nil, fmt.Errorf("store/sqlite: waiting: %w", err)
		}
		w.OldestQueuedAt = fromUS(oldest)
		out = append(out, w)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store/sqlite: waiting: %w", err)
	}
	return out, nil
}

// purgeMailboxCols are the columns a mailbox purge reads, its record's
// subject and incident joined.
const purgeMailboxCols = `m.seq, m.id, m.recipient, m.record_id, m.record_version, m.content_digest, m.state, r.subject_key, r.subject_ref, r.incident_id`

func (t *txn) PurgeDelivered(ctx context.Context, before time.Time, limit int) ([]store.PurgedMailbox, int64, error) {
	return t.purgeMailbox(ctx, `SELECT `+purgeMailboxCols+` FROM store_mailbox m JOIN store_records r ON r.record_id = m.record_id AND r.version = m.record_version
		WHERE m.state = 'delivered' AND m.delivered_us <= ? ORDER BY m.delivered_us, m.seq LIMIT ?`, us(before), limit)
}

func (t *txn) PurgeUndelivered(ctx context.Context, before, now time.Time, limit int) ([]store.PurgedMailbox, int64, error) {
	return t.purgeMailbox(ctx, `SELECT `+purgeMailboxCols+` FROM store_mailbox m JOIN store_records r ON r.record_id = m.record_id AND r.version = m.record_version
		WHERE m.state <> 'delivered' AND m.queued_us <= ? AND (m.state <> 'leased' OR m.lease_until_us <= ?) ORDER BY m.queued_us, m.seq LIMIT ?`,
		us(before), us(now), limit)
}

// purgeMailbox deletes the mailbox messages q selects, with their
// recorded deliveries (the one writer: nobody else holds them).
func (t *txn) purgeMailbox(ctx context.Context, q string, args ...any) ([]store.PurgedMailbox, int64, error) {
	rows, err := t.tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("store/sqlite: purge mailbox messages: %w", err)
	}
	var out []store.PurgedMailbox
	var seqs []int64
	for rows.Next() {
		var m store.PurgedMailbox
		var seq int64
		var state string
		if err := rows.Scan(&seq, &m.ID, &m.Recipient, &m.RecordID, &m.RecordVersion, &m.ContentDigest, &state, &m.Subject.KeyID, &m.Subject.Ref, &m.IncidentID); err != nil {
			rows.Close()
			return nil, 0, fmt.Errorf("store/sqlite: purge mailbox messages: %w", err)
		}
		m.State = store.State(state)
		out, seqs = append(out, m), append(seqs, seq)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("store/sqlite: purge mailbox messages: %w", err)
	}
	var deliveries int64
	for i, m := range out {
		res, err := t.exec(ctx, "purge deliveries", `DELETE FROM store_deliveries WHERE mailbox_id = ?`, m.ID)
		if err != nil {
			return nil, 0, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return nil, 0, fmt.Errorf("store/sqlite: purge deliveries: %w", err)
		}
		deliveries += n
		if _, err := t.exec(ctx, "purge a mailbox message", `DELETE FROM store_mailbox WHERE seq = ?`, seqs[i]); err != nil {
			return nil, 0, err
		}
	}
	return out, deliveries, nil
}

func (t *txn) PurgeRecords(ctx context.Context, before, now time.Time, limit int) ([]store.RecordRow, error) {
	rows, err := t.tx.QueryContext(ctx, `UPDATE store_records SET body = x'', purged_us = ?
		WHERE (record_id, version) IN (SELECT r.record_id, r.version FROM store_records r
			WHERE r.purged_us IS NULL AND r.stored_us <= ? AND NOT EXISTS (SELECT 1 FROM store_mailbox m WHERE m.record_id = r.record_id)
			ORDER BY r.stored_us LIMIT ?)
		RETURNING record_id, version, owner, sender, message_id, content_digest, stored_us, subject_key, subject_ref, incident_id`,
		us(now), us(before), limit)
	if err != nil {
		return nil, fmt.Errorf("store/sqlite: purge records: %w", err)
	}
	defer rows.Close()
	var out []store.RecordRow
	for rows.Next() {
		var r store.RecordRow
		var at int64
		if err := rows.Scan(&r.ID, &r.Version, &r.Owner, &r.Sender, &r.MessageID, &r.ContentDigest, &at, &r.Subject.KeyID, &r.Subject.Ref, &r.IncidentID); err != nil {
			return nil, fmt.Errorf("store/sqlite: purge records: %w", err)
		}
		r.StoredAt, r.PurgedAt = fromUS(at), now
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store/sqlite: purge records: %w", err)
	}
	return out, nil
}

func (t *txn) PurgeMessages(ctx context.Context, before, now time.Time, limit int) ([]store.MessageRow, error) {
	rows, err := t.tx.QueryContext(ctx, `UPDATE store_messages SET evidence = x'', receipt = x'', purged_us = ?
		WHERE (sender, message_id) IN (SELECT m.sender, m.message_id FROM store_messages m
			WHERE m.purged_us IS NULL AND m.received_us <= ?
				AND NOT EXISTS (SELECT 1 FROM store_records r WHERE r.sender = m.sender AND r.message_id = m.message_id AND r.purged_us IS NULL)
			ORDER BY m.received_us LIMIT ?)
		RETURNING sender, message_id, digest, received_us, expires_us`,
		us(now), us(before), limit)
	if err != nil {
		return nil, fmt.Errorf("store/sqlite: purge messages: %w", err)
	}
	defer rows.Close()
	var out []store.MessageRow
	for rows.Next() {
		var m store.MessageRow
		var rec, exp int64
		if err := rows.Scan(&m.Sender, &m.ID, &m.Digest, &rec, &exp); err != nil {
			return nil, fmt.Errorf("store/sqlite: purge messages: %w", err)
		}
		m.ReceivedAt, m.ExpiresAt, m.PurgedAt = fromUS(rec), fromUS(exp), now
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store/sqlite: purge messages: %w", err)
	}
	return out, nil
}

func (t *txn) AppendJournal(ctx context.Context, build func(journal.Head) (*journal.Batch, error)) error {
	if t.readOnly {
		return errors.New("store/sqlite: a journal append in a read transaction")
	}
	_, err := t.b.journal.AppendTx(ctx, t.tx, build)
	return err
}

func (t *txn) InsertGaps(ctx context.Context, rows []store.GapRow) error {
	for _, g := range rows {
		if _, err := t.exec(ctx, "note the gap", `INSERT OR IGNORE INTO store_gaps (record_id, version, role, noted_us) VALUES (?, ?, ?, ?)`,
			g.RecordID, g.Version, g.Role, us(g.NotedAt)); err != nil {
			return err
		}
	}
	return nil
}

func (t *txn) CloseGaps(ctx context.Context, recordID string, beforeVersion int, now time.Time, closedAs string) (int64, error) {
	q := `UPDATE store_gaps SET closed_us = ?, closed_as = ? WHERE record_id = ? AND closed_us IS NULL`
	args := []any{us(now), closedAs, recordID}
	if beforeVersion > 0 {
		q += ` AND version < ?`
		args = append(args, beforeVersion)
	}
	res, err := t.exec(ctx, "close the gaps", q, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (t *txn) CloseGap(ctx context.Context, g store.GapRow, now time.Time, closedAs string) (bool, error) {
	res, err := t.exec(ctx, "close the gap", `UPDATE store_gaps SET closed_us = ?, closed_as = ? WHERE record_id = ? AND version = ? AND role = ? AND closed_us IS NULL`,
		us(now), closedAs, g.RecordID, g.Version, g.Role)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store/sqlite: close the gap: %w", err)
	}
	return n == 1, nil
}

func (t *txn) OpenGaps(ctx context.Context, after store.GapRow, limit int) ([]store.GapRow, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT record_id, version, role, noted_us FROM store_gaps
		WHERE closed_us IS NULL AND (record_id, version, role) > (?, ?, ?) ORDER BY record_id, version, role LIMIT ?`,
		after.RecordID, after.Version, after.Role, limit)
	if err != nil {
		return nil, fmt.Errorf("store/sqlite: open gaps: %w", err)
	}
	defer rows.Close()
	var out []store.GapRow
	for rows.Next() {
		var g store.GapRow
		var at int64
		if err := rows.Scan(&g.RecordID, &g.Version, &g.Role, &at); err != nil {
			return nil, fmt.Errorf("store/sqlite: open gaps: %w", err)
		}
		g.NotedAt = fromUS(at)
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store/sqlite: open gaps: %w", err)
	}
	return out, nil
}
