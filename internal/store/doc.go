// Package store is the gateway's one durable store: the submitted messages
// and their evidence, the records, the recipients' mailboxes, the replay
// memory and the audit journal live in one database, and one transaction,
// owned by the store, commits a message with everything it causes.
//
// A [Store] runs on a [Backend]: package store/sqlite (pure Go SQLite in WAL
// mode, the embedded default) or store/postgres (pgx/v5, shared by several
// gateway replicas); package store/storeconfig chooses one from the
// configuration. Each backend migrates its tables at start (versioned,
// idempotent, recorded in store_migrations), the journal's tables
// (journal_*) among them, and gives the journal its storage
// ([Backend.JournalStore]) in the same database.
//
// # One transaction
//
// [Store.Commit] takes one or more whole intakes (group commit) and writes,
// in one transaction, for each intake: its replay row, the message with the
// sender's signed bytes as evidence and the receipt, its records, their
// mailbox messages, and the journal entries of all of them (through the
// journal's [journal.TxAppend] hook, which numbers the entries and extends
// the Merkle tree inside the store's transaction). It is all or nothing:
// never a delivery without its journal entry, never a journal entry for a
// message that was not stored, never a replay row for a message that was
// not stored. An intake that is refused (a replay, a conflict) is rolled
// back to its savepoint alone; the others of the group commit.
//
// # Replay protection and ownership
//
// Every (sender, message id) is remembered with the payload digest until
// the message's signed expiry, whose distance is capped
// ([Config.MaxLifetime]). An identical resubmission gets the original
// receipt ([ErrDuplicate], [AlreadyReceivedError]); another digest under a
// used id is [ErrConflict]. [Store.PurgeReplay] forgets rows past expiry. A
// record belongs to the authority that first sent it ([Config.Owners] is the
// hook for the successor rule); a record id and version already stored
// with the same content is reported as already received and queued no
// second time.
//
// # Mailboxes
//
// [Store.Pull] leases a recipient's waiting messages, acute first and then
// oldest, for a lease measured on the injected clock, and records the
// digest of each delivery (made by the caller's [DeliverFunc] in the same
// transaction); [Store.Ack] checks the acknowledged digest against those
// records, shared by every replica, and marks the message delivered, never
// to be delivered again; a message whose lease runs out is
// delivered again, and after [Config.MaxDeliveries] deliveries without an
// acknowledgement it is parked for the operator. [Store.Transfer] moves
// what waits for an authority that ceased to its successor's mailbox, each
// message journaled in the transaction that moves it; [Store.Waiting]
// counts what waits per recipient.
//
// # Retention
//
// [Store.Purge] deletes what a [Retention] no longer covers: acknowledged
// mailbox messages 30 days after their acknowledgement, unacknowledged
// ones 90 days after queueing, record bodies and the senders' evidence
// and receipts 180 days after receipt (longer while a mailbox message of
// the record remains), each purge journaled in its transaction. Purged
// records and messages keep their rows without personal data, so that
// ownership, withdrawals and duplicate detection still work. The journal
// is never purged.
//
// # Encryption at rest
//
// Record bytes, mailbox views, evidence and receipts are sealed with
// AES-256-GCM under data keys from the key provider ([DataKeys]); the
// wrapped data key is stored beside the data, and the table, column and row
// (record id, version, mailbox message id or sender and message id) are the
// additional data, so a sealed value cannot be moved to another row. A copy
// of the database alone reveals no CPR number or name.
package store
