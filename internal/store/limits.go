package store

import "time"

// Limits of the store. Every input is bounded here; a missing limit is a bug.
const (
	// maxIDBytes bounds message, record and mailbox message ids (UUIDs and
	// JWT ids are far shorter); the journal has the same bound.
	maxIDBytes = 128
	// maxAuthorityBytes bounds an authority id, as in the journal.
	maxAuthorityBytes = 64
	// maxIntakesPerCommit bounds the intakes of one group commit.
	maxIntakesPerCommit = 1000
	// maxRecordsPerIntake bounds the records of one message: a police list
	// of a few thousand persons.
	maxRecordsPerIntake = 5000
	// maxDeliveriesPerRecord bounds the mailbox messages of one record: the
	// candidate recipients of routing are a handful.
	maxDeliveriesPerRecord = 64
	// maxEvidenceBytes bounds the sender's signed bytes: the envelope caps
	// a sealed payload at 4 MiB; an XML list may be somewhat larger.
	maxEvidenceBytes = 8 << 20
	// maxRecordBytes bounds one canonical record.
	maxRecordBytes = 1 << 20
	// maxViewBytes bounds one encoded recipient view.
	maxViewBytes = 1 << 20
	// maxReceiptBytes bounds a signed receipt (a batch's per-item results
	// included).
	maxReceiptBytes = 4 << 20
	// maxPull bounds the messages of one pull.
	maxPull = 500
	// maxParkedList bounds the parked messages one listing returns.
	maxParkedList = 1000
	// maxRequeue bounds the messages one requeue puts back (and so its
	// journal entries, far below a journal transaction's limit).
	maxRequeue = 500
	// maxTransfer bounds the mailbox messages one transaction of Transfer
	// moves to a successor (and so its journal entries); Transfer goes on
	// in further transactions until none is left.
	maxTransfer = 500
	// maxWaitingRecipients bounds the recipients Waiting reports: the
	// directory has about 120 authorities.
	maxWaitingRecipients = 10_000
	// keptDeliveries is how many deliveries (digest and time sent) are
	// remembered per mailbox message for its ack: the newest ones. With the
	// default of 10 deliveries before parking, an ack of any but the
	// oldest of a long run of redeliveries is still recognised.
	keptDeliveries = 8
	// maxGapList bounds the open gaps one listing returns.
	maxGapList = 1000
	// maxGapsPerRecord bounds the unfilled recipient roles of one record
	// version: there are five roles.
	maxGapsPerRecord = 8
	// maxLease bounds a lease.
	maxLease = 24 * time.Hour
	// dataKeyMaxSeals bounds the values sealed under one data key, far
	// below the 2^32 random nonces AES-GCM allows per key.
	dataKeyMaxSeals = 1 << 20
	// maxCachedKeys bounds the unwrapped data keys kept in memory.
	maxCachedKeys = 4096
	// maxPurgeBatch bounds the rows (and so the journal entries) of one
	// purge transaction.
	maxPurgeBatch = 5000
	// maxPurgeBatches bounds the transactions of one Purge call per kind
	// of row; what is left is purged by the next call (PurgeReport.More).
	maxPurgeBatches = 200
)

// Retention bounds (Retention.Check).
const (
	// MinRetention is the shortest retention of any kind: a day, so that
	// a misconfiguration cannot purge a message before its recipient had
	// a working day to fetch it.
	MinRetention = 24 * time.Hour
	// MaxRetention is the longest retention of any kind: ten years.
	MaxRetention = 10 * 365 * 24 * time.Hour
)

// Defaults of Config, applied by Config.withDefaults.
const (
	// defaultMaxLifetime caps how far in the future a message's signed
	// expiry may lie, which bounds how long its replay row is kept.
	defaultMaxLifetime = 24 * time.Hour
	// defaultMaxDeliveries parks a message delivered this often without ack.
	defaultMaxDeliveries = 10
	// defaultDataKeyLifetime is how long one data key seals new values.
	defaultDataKeyLifetime = time.Hour
	// defaultPurgeBatch is the rows of one purge transaction.
	defaultPurgeBatch = 500
)

// Default retention (DefaultRetention; the reasons are on Retention).
const (
	// DefaultDeliveredRetention keeps an acknowledged view 30 days.
	DefaultDeliveredRetention = 30 * 24 * time.Hour
	// DefaultUndeliveredRetention keeps a view never acknowledged 90 days.
	DefaultUndeliveredRetention = 90 * 24 * time.Hour
	// DefaultRecordRetention keeps a record version's body and a message's
	// evidence and receipt 180 days.
	DefaultRecordRetention = 180 * 24 * time.Hour
)
