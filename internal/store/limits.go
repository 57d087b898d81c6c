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
)
