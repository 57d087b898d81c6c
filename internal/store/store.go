package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"time"

	"github.com/psykosocial/exchange/internal/clock"
	"github.com/psykosocial/exchange/internal/journal"
)

// Journal is what the store needs of the journal: entries prepared for an
// append inside the store's transaction (*journal.Journal implements it).
type Journal interface {
	PrepareAppend(entries ...journal.Entry) (*journal.TxAppend, error)
}

// Owners decides whether sender may store a new version of recordID, which
// belongs to owner (sender != owner). The default refuses: only the owner
// corrects or withdraws its records. This is the hook for the successor
// rule of the 2027 region merger (a successor acts for the authorities it
// succeeds), which the directory knows.
type Owners func(owner, sender, recordID string) bool

// Config configures a Store. Backend, Journal, Keys and Clock are required;
// the zero value of every other field is a safe default.
type Config struct {
	// Backend is the database (store/sqlite, store/postgres).
	Backend Backend
	// Journal appends the intakes' entries in the store's transactions.
	// It must run on Backend.JournalStore().
	Journal Journal
	// Keys gives the data keys that seal personal data at rest.
	Keys DataKeys
	// Clock is the store's time: commit times, expiry, leases.
	Clock clock.Clock
	// Rand is the source of nonces; nil means crypto/rand.
	Rand io.Reader
	// Logger receives operational logs (never personal data); nil discards them.
	Logger *slog.Logger
	// MaxLifetime caps how far ahead of now a message's signed expiry may
	// lie (replay rows are kept until then); 0 means 24 hours.
	MaxLifetime time.Duration
	// MaxDeliveries parks a mailbox message delivered this many times
	// without acknowledgement; 0 means 10.
	MaxDeliveries int
	// DataKeyLifetime is how long one data key seals new values; 0 means
	// one hour.
	DataKeyLifetime time.Duration
	// Owners lets an authority act for another's records (successors); nil
	// means only the owner.
	Owners Owners
}

func (c Config) withDefaults() (Config, error) {
	switch {
	case c.Backend == nil:
		return c, errors.New("store: Config.Backend is nil")
	case c.Journal == nil:
		return c, errors.New("store: Config.Journal is nil")
	case c.Keys == nil:
		return c, errors.New("store: Config.Keys is nil")
	case c.Clock == nil:
		return c, errors.New("store: Config.Clock is nil")
	case c.MaxLifetime < 0 || c.DataKeyLifetime < 0 || c.MaxDeliveries < 0:
		return c, errors.New("store: MaxLifetime, DataKeyLifetime and MaxDeliveries must not be negative")
	}
	if c.Rand == nil {
		c.Rand = rand.Reader
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.MaxLifetime == 0 {
		c.MaxLifetime = defaultMaxLifetime
	}
	if c.MaxDeliveries == 0 {
		c.MaxDeliveries = defaultMaxDeliveries
	}
	if c.DataKeyLifetime == 0 {
		c.DataKeyLifetime = defaultDataKeyLifetime
	}
	if c.Owners == nil {
		c.Owners = func(string, string, string) bool { return false }
	}
	return c, nil
}

// Store is the gateway's durable state over one Backend. It is safe for
// concurrent use; several Stores (in several processes) may share one
// PostgreSQL backend.
type Store struct {
	cfg  Config
	b    Backend
	seal *sealer
	log  *slog.Logger
}

// New returns a Store over cfg.Backend. It does not own the backend: Close
// the backend after the Store's last use.
func New(cfg Config) (*Store, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Store{cfg: cfg, b: cfg.Backend, log: cfg.Logger,
		seal: &sealer{keys: cfg.Keys, rand: cfg.Rand, lifetime: cfg.DataKeyLifetime}}, nil
}

// Table names, also the sealed values' additional data.
const (
	tableMessages = "store_messages"
	tableRecords  = "store_records"
	tableMailbox  = "store_mailbox"
)

func messageRowKey(sender, id string) string { return sender + "\x00" + id }
func recordRowKey(id string, version int) string {
	return id + "\x00" + strconv.Itoa(version)
}
func mailboxRowKey(id, recordID string, version int) string {
	return id + "\x00" + recordRowKey(recordID, version)
}

// sealedIntake is an intake checked and sealed, ready for the transaction.
type sealedIntake struct {
	in       *Intake
	msg      MessageRow
	records  []RecordRow
	mailbox  [][]MailboxRow
	notices  [][]MailboxRow
	prepared bool
}

// Commit commits whole intakes in one transaction (group commit) and
// returns an Outcome per intake. An intake that is refused (Outcome.Err)
// leaves no trace; the others commit. The error is non-nil (matching
// ErrUnavailable, or ErrInvalid for a malformed call) when nothing was
// committed at all; then every intake must be retried.
func (s *Store) Commit(ctx context.Context, intakes ...*Intake) ([]Outcome, error) {
	if len(intakes) == 0 || len(intakes) > maxIntakesPerCommit {
		return nil, &InputError{Field: "intakes", Reason: fmt.Sprintf("give 1 to %d intakes", maxIntakesPerCommit)}
	}
	now := s.cfg.Clock.Now().UTC().Truncate(time.Microsecond)
	outs := make([]Outcome, len(intakes))
	n := 0
	for i, in := range intakes {
		if in == nil {
			outs[i].Err = &InputError{Field: "intake", Reason: "is nil"}
			continue
		}
		if err := s.check(in, now); err != nil {
			outs[i].Err = err
			continue
		}
		if err := s.checkEntries(in); err != nil {
			if !errors.Is(err, journal.ErrInvalidEntry) {
				return nil, unavailable("commit", err)
			}
			outs[i].Err = fmt.Errorf("%w: %w", ErrInvalid, err)
			continue
		}
		n += 2 + len(in.Records)
		for _, r := range in.Records {
			n += len(r.Deliveries)
		}
		for _, w := range in.Withdrawals {
			n += len(w.Deliveries)
		}
	}
	key, err := s.seal.key(ctx, now, n)
	if err != nil {
		return nil, err
	}
	sealed := make([]*sealedIntake, len(intakes))
	for i, in := range intakes {
		if outs[i].Err != nil {
			continue
		}
		if sealed[i], err = s.sealIntake(key, in, now); err != nil {
			return nil, err
		}
	}
	var ta *journal.TxAppend
	var first []int // per intake: offset of its first entry in the append, or -1
	var counts []int
	err = s.b.Write(ctx, func(tx Tx) error {
		// Outcomes decided inside are reset on a retry.
		for i := range outs {
			if sealed[i] != nil {
				outs[i] = Outcome{}
			}
		}
		first, counts = make([]int, len(intakes)), make([]int, len(intakes))
		if err := tx.PutDataKey(ctx, key.id, key.wrapped, now); err != nil {
			return err
		}
		var entries []journal.Entry
		for i, si := range sealed {
			first[i] = -1
			if si == nil {
				continue
			}
			es, out, err := s.commitIntake(ctx, tx, si, now)
			if err != nil {
				return err
			}
			outs[i] = out
			if out.Err == nil && len(es) > 0 {
				first[i], counts[i] = len(entries), len(es)
				entries = append(entries, es...)
			}
		}
		ta = nil
		if len(entries) == 0 {
			return nil
		}
		var err error
		if ta, err = s.cfg.Journal.PrepareAppend(entries...); err != nil {
			return err
		}
		return tx.AppendJournal(ctx, ta.Build)
	})
	if err != nil {
		err = unavailable("commit", err)
		s.log.Error("store commit failed; nothing was written", "intakes", len(intakes), "err", err)
		return nil, err
	}
	if ta != nil {
		if err := ta.Committed(); err != nil {
			return nil, err
		}
		for i := range outs {
			if first[i] >= 0 {
				outs[i].JournalFirst = ta.First() + uint64(first[i])
				outs[i].JournalEntries = counts[i]
			}
		}
	}
	return outs, nil
}

// commitIntake writes one intake under a savepoint. A refusal rolls back to
// the savepoint and comes back in the Outcome; err is a database failure
// that fails the whole transaction.
func (s *Store) commitIntake(ctx context.Context, tx Tx, si *sealedIntake, now time.Time) ([]journal.Entry, Outcome, error) {
	m := si.in.Message
	if err := tx.Savepoint(ctx); err != nil {
		return nil, Outcome{}, err
	}
	refuse := func(e error) ([]journal.Entry, Outcome, error) {
		if err := tx.RollbackToSavepoint(ctx); err != nil {
			return nil, Outcome{}, err
		}
		return nil, Outcome{Err: e}, nil
	}
	prev, inserted, err := tx.InsertReplay(ctx, ReplayRow{Sender: m.Sender, MessageID: m.ID, Digest: m.Digest[:], ExpiresAt: m.ExpiresAt.UTC()})
	if err != nil {
		return nil, Outcome{}, err
	}
	if !inserted {
		if string(prev.Digest) != string(m.Digest[:]) {
			return refuse(&ConflictError{MessageID: m.ID, Reason: "another document was received under this message id"})
		}
		orig, found, err := tx.Message(ctx, m.Sender, m.ID)
		if err != nil {
			return nil, Outcome{}, err
		}
		dup := &AlreadyReceivedError{Sender: m.Sender, MessageID: m.ID}
		if found && orig.PurgedAt.IsZero() {
			rc, err := s.seal.open(ctx, orig.SealedReceipt, tableMessages, "receipt", messageRowKey(m.Sender, m.ID), func(id []byte) ([]byte, error) { return tx.DataKey(ctx, id) })
			if err != nil {
				return nil, Outcome{}, err
			}
			dup.Receipt = rc
		}
		return refuse(dup)
	}
	if err := tx.InsertMessage(ctx, si.msg); err != nil {
		return nil, Outcome{}, err
	}
	var out Outcome
	entries := append([]journal.Entry(nil), si.in.Journal...)
	for j, rr := range si.records {
		owner, err := tx.ClaimRecord(ctx, rr.ID, m.Sender, now)
		if err != nil {
			return nil, Outcome{}, err
		}
		if owner != m.Sender && !s.cfg.Owners(owner, m.Sender, rr.ID) {
			return refuse(&ConflictError{MessageID: m.ID, RecordID: rr.ID, Reason: "the record belongs to another authority", NotOwner: true})
		}
		rr.Owner = owner
		old, inserted, err := tx.InsertRecord(ctx, rr)
		if err != nil {
			return nil, Outcome{}, err
		}
		if !inserted {
			if string(old.ContentDigest) != string(rr.ContentDigest) {
				return refuse(&ConflictError{MessageID: m.ID, RecordID: rr.ID,
					Reason: fmt.Sprintf("version %d was received with other content", rr.Version)})
			}
			out.AlreadyStored = append(out.AlreadyStored, AlreadyStored{RecordID: rr.ID, Version: rr.Version, Sender: old.Sender, MessageID: old.MessageID})
			continue
		}
		if len(si.mailbox[j]) > 0 {
			if err := tx.InsertMailbox(ctx, si.mailbox[j]); err != nil {
				return nil, Outcome{}, err
			}
		}
		// A later version is routed on its own: the earlier versions'
		// gaps close; this version's gaps open.
		if _, err := tx.CloseGaps(ctx, rr.ID, rr.Version, now, GapSuperseded); err != nil {
			return nil, Outcome{}, err
		}
		if gaps := si.in.Records[j].Gaps; len(gaps) > 0 {
			rows := make([]GapRow, 0, len(gaps))
			for _, role := range gaps {
				rows = append(rows, GapRow{RecordID: rr.ID, Version: rr.Version, Role: role, NotedAt: now})
			}
			if err := tx.InsertGaps(ctx, rows); err != nil {
				return nil, Outcome{}, err
			}
		}
		entries = append(entries, si.in.Records[j].Journal...)
	}
	for j, w := range si.in.Withdrawals {
		if _, found, err := tx.Record(ctx, w.RecordID, w.Version); err != nil {
			return nil, Outcome{}, err
		} else if !found {
			return refuse(fmt.Errorf("%w: message %q withdraws record %q version %d, which is not stored", ErrNotFound, m.ID, w.RecordID, w.Version))
		}
		owner, err := tx.ClaimRecord(ctx, w.RecordID, m.Sender, now)
		if err != nil {
			return nil, Outcome{}, err
		}
		if owner != m.Sender && !s.cfg.Owners(owner, m.Sender, w.RecordID) {
			return refuse(&ConflictError{MessageID: m.ID, RecordID: w.RecordID, Reason: "the record belongs to another authority", NotOwner: true})
		}
		if len(si.notices[j]) > 0 {
			if err := tx.InsertMailbox(ctx, si.notices[j]); err != nil {
				return nil, Outcome{}, err
			}
		}
		if _, err := tx.CloseGaps(ctx, w.RecordID, 0, now, GapWithdrawn); err != nil {
			return nil, Outcome{}, err
		}
		entries = append(entries, w.Journal...)
	}
	if err := tx.ReleaseSavepoint(ctx); err != nil {
		return nil, Outcome{}, err
	}
	return entries, out, nil
}

// checkEntries applies the journal's entry rules to an intake's entries, so
// that a bad entry refuses its intake alone.
func (s *Store) checkEntries(in *Intake) error {
	all := append([]journal.Entry(nil), in.Journal...)
	var probes []journal.Entry
	for _, r := range in.Records {
		all = append(all, r.Journal...)
		// The record's subject and incident are journaled when it is
		// purged: they must pass the entry rules now.
		if !r.Subject.IsZero() || r.IncidentID != "" {
			probes = append(probes, journal.Entry{Event: journal.EventPurged, Actor: PurgeActor, RecordID: r.ID, RecordVersion: max(r.Version, 1),
				IncidentID: r.IncidentID, Subject: r.Subject, Outcome: journal.OutcomeOK})
		}
	}
	for len(probes) > 0 {
		n := min(len(probes), maxPurgeBatch)
		if _, err := s.cfg.Journal.PrepareAppend(probes[:n]...); err != nil {
			return err
		}
		probes = probes[n:]
	}
	for _, w := range in.Withdrawals {
		all = append(all, w.Journal...)
	}
	if len(all) == 0 {
		return nil
	}
	_, err := s.cfg.Journal.PrepareAppend(all...)
	return err
}

// check applies the input rules to an intake.
func (s *Store) check(in *Intake, now time.Time) error {
	m := in.Message
	switch {
	case !isAuthority(m.Sender):
		return &InputError{Field: "message.sender", Reason: fmt.Sprintf("not an authority id (lower-case letters, digits and : _ . -, at most %d bytes)", maxAuthorityBytes)}
	case !isID(m.ID):
		return &InputError{Field: "message.id", Reason: fmt.Sprintf("not an id (printable ASCII without spaces, quotes or backslashes, 1 to %d bytes)", maxIDBytes)}
	case m.Digest == [sha256.Size]byte{}:
		return &InputError{Field: "message.digest", Reason: "is required"}
	case len(m.Evidence) == 0 || len(m.Evidence) > maxEvidenceBytes:
		return &InputError{Field: "message.evidence", Reason: fmt.Sprintf("give 1 to %d bytes", maxEvidenceBytes)}
	case sha256.Sum256(m.Evidence) != m.Digest:
		return &InputError{Field: "message.digest", Reason: "is not the SHA-256 of the evidence"}
	case len(m.Receipt) == 0 || len(m.Receipt) > maxReceiptBytes:
		return &InputError{Field: "message.receipt", Reason: fmt.Sprintf("give 1 to %d bytes", maxReceiptBytes)}
	case m.ExpiresAt.IsZero():
		return &InputError{Field: "message.expires_at", Reason: "is required (the signed expiry)"}
	case !m.ExpiresAt.After(now):
		return fmt.Errorf("%w: message %q expired at %s", ErrExpired, m.ID, m.ExpiresAt.UTC().Format(time.RFC3339))
	case m.ExpiresAt.Sub(now) > s.cfg.MaxLifetime:
		return &InputError{Field: "message.expires_at", Reason: fmt.Sprintf("the signed lifetime exceeds the cap of %s", s.cfg.MaxLifetime)}
	case len(in.Records) > maxRecordsPerIntake:
		return &InputError{Field: "records", Reason: fmt.Sprintf("more than %d records in one message", maxRecordsPerIntake)}
	}
	seenRec := map[string]bool{}
	seenBox := map[string]bool{}
	for i, r := range in.Records {
		f := fmt.Sprintf("records[%d]", i)
		switch {
		case !isID(r.ID):
			return &InputError{Field: f + ".id", Reason: fmt.Sprintf("not an id (printable ASCII without spaces, quotes or backslashes, 1 to %d bytes)", maxIDBytes)}
		case r.Version < 1:
			return &InputError{Field: f + ".version", Reason: "must be 1 or more"}
		case seenRec[recordRowKey(r.ID, r.Version)]:
			return &InputError{Field: f, Reason: "the same record id and version twice in one message"}
		case len(r.Body) == 0 || len(r.Body) > maxRecordBytes:
			return &InputError{Field: f + ".body", Reason: fmt.Sprintf("give 1 to %d bytes", maxRecordBytes)}
		case len(r.Deliveries) > maxDeliveriesPerRecord:
			return &InputError{Field: f + ".deliveries", Reason: fmt.Sprintf("more than %d", maxDeliveriesPerRecord)}
		}
		if err := checkGaps(f+".gaps", r.Gaps); err != nil {
			return err
		}
		seenRec[recordRowKey(r.ID, r.Version)] = true
		for k, d := range r.Deliveries {
			g := fmt.Sprintf("%s.deliveries[%d]", f, k)
			switch {
			case !isID(d.ID):
				return &InputError{Field: g + ".id", Reason: fmt.Sprintf("not an id (printable ASCII without spaces, quotes or backslashes, 1 to %d bytes)", maxIDBytes)}
			case seenBox[d.ID]:
				return &InputError{Field: g + ".id", Reason: "the same mailbox message id twice"}
			case !isAuthority(d.Recipient):
				return &InputError{Field: g + ".recipient", Reason: "not an authority id"}
			case len(d.View) == 0 || len(d.View) > maxViewBytes:
				return &InputError{Field: g + ".view", Reason: fmt.Sprintf("give 1 to %d bytes", maxViewBytes)}
			case d.Priority != PriorityNormal && d.Priority != PriorityAcute:
				return &InputError{Field: g + ".priority", Reason: "neither normal nor acute"}
			}
			seenBox[d.ID] = true
		}
	}
	if len(in.Withdrawals) > maxRecordsPerIntake {
		return &InputError{Field: "withdrawals", Reason: fmt.Sprintf("more than %d in one message", maxRecordsPerIntake)}
	}
	for i, w := range in.Withdrawals {
		f := fmt.Sprintf("withdrawals[%d]", i)
		switch {
		case !isID(w.RecordID):
			return &InputError{Field: f + ".record_id", Reason: "not a record id"}
		case w.Version < 1:
			return &InputError{Field: f + ".version", Reason: "must be 1 or more"}
		case len(w.Deliveries) > maxDeliveriesPerRecord:
			return &InputError{Field: f + ".deliveries", Reason: fmt.Sprintf("more than %d", maxDeliveriesPerRecord)}
		}
		for k, d := range w.Deliveries {
			g := fmt.Sprintf("%s.deliveries[%d]", f, k)
			switch {
			case !isID(d.ID) || seenBox[d.ID]:
				return &InputError{Field: g + ".id", Reason: "not an id, or the same mailbox message id twice"}
			case !isAuthority(d.Recipient):
				return &InputError{Field: g + ".recipient", Reason: "not an authority id"}
			case len(d.View) == 0 || len(d.View) > maxViewBytes:
				return &InputError{Field: g + ".view", Reason: fmt.Sprintf("give 1 to %d bytes", maxViewBytes)}
			case d.Priority != PriorityNormal && d.Priority != PriorityAcute:
				return &InputError{Field: g + ".priority", Reason: "neither normal nor acute"}
			}
			seenBox[d.ID] = true
		}
	}
	return nil
}

func (s *Store) sealIntake(k *dataKey, in *Intake, now time.Time) (*sealedIntake, error) {
	m := in.Message
	mk := messageRowKey(m.Sender, m.ID)
	ev, err := s.seal.seal(k, m.Evidence, tableMessages, "evidence", mk)
	if err != nil {
		return nil, err
	}
	rc, err := s.seal.seal(k, m.Receipt, tableMessages, "receipt", mk)
	if err != nil {
		return nil, err
	}
	si := &sealedIntake{in: in, msg: MessageRow{Sender: m.Sender, ID: m.ID, Digest: m.Digest[:],
		ReceivedAt: now, ExpiresAt: m.ExpiresAt.UTC(), SealedEvidence: ev, SealedReceipt: rc}}
	for _, r := range in.Records {
		body, err := s.seal.seal(k, r.Body, tableRecords, "body", recordRowKey(r.ID, r.Version))
		if err != nil {
			return nil, err
		}
		cd := sha256.Sum256(r.Body)
		si.records = append(si.records, RecordRow{ID: r.ID, Version: r.Version, Sender: m.Sender, MessageID: m.ID,
			ContentDigest: cd[:], SealedBody: body, StoredAt: now, Subject: r.Subject, IncidentID: r.IncidentID})
		var box []MailboxRow
		for _, d := range r.Deliveries {
			v, err := s.seal.seal(k, d.View, tableMailbox, "view", mailboxRowKey(d.ID, r.ID, r.Version))
			if err != nil {
				return nil, err
			}
			vd := sha256.Sum256(d.View)
			box = append(box, MailboxRow{ID: d.ID, Recipient: d.Recipient, RecordID: r.ID, RecordVersion: r.Version,
				SealedView: v, ContentDigest: vd[:], Priority: d.Priority, State: StateQueued, QueuedAt: now})
		}
		si.mailbox = append(si.mailbox, box)
	}
	for _, w := range in.Withdrawals {
		var box []MailboxRow
		for _, d := range w.Deliveries {
			v, err := s.seal.seal(k, d.View, tableMailbox, "view", mailboxRowKey(d.ID, w.RecordID, w.Version))
			if err != nil {
				return nil, err
			}
			vd := sha256.Sum256(d.View)
			box = append(box, MailboxRow{ID: d.ID, Recipient: d.Recipient, RecordID: w.RecordID, RecordVersion: w.Version,
				SealedView: v, ContentDigest: vd[:], Priority: d.Priority, State: StateQueued, QueuedAt: now})
		}
		si.notices = append(si.notices, box)
	}
	return si, nil
}

// Pull leases up to max of recipient's waiting mailbox messages (acute
// first, then oldest) for lease, and parks those delivered
// Config.MaxDeliveries times without acknowledgement. A message leased to
// one puller is offered to no other until its lease ends. deliver makes
// each leased message's delivery in the same transaction, and the
// delivery's digest is recorded with the lease (the newest few per
// message are kept), so that any replica, before or after a restart,
// accepts the acknowledgement of a delivery that was sent.
func (s *Store) Pull(ctx context.Context, recipient string, max int, lease time.Duration, deliver DeliverFunc) (PullResult, error) {
	switch {
	case !isAuthority(recipient):
		return PullResult{}, &InputError{Field: "recipient", Reason: "not an authority id"}
	case max < 1 || max > maxPull:
		return PullResult{}, &InputError{Field: "max", Reason: fmt.Sprintf("give 1 to %d", maxPull)}
	case lease <= 0 || lease > maxLease:
		return PullResult{}, &InputError{Field: "lease", Reason: fmt.Sprintf("give a lease up to %s", maxLease)}
	case deliver == nil:
		return PullResult{}, &InputError{Field: "deliver", Reason: "a pull needs a delivery function"}
	}
	now := s.cfg.Clock.Now().UTC().Truncate(time.Microsecond)
	var res PullResult
	err := s.b.Write(ctx, func(tx Tx) error {
		res = PullResult{}
		parked, err := tx.ParkExhausted(ctx, recipient, now, s.cfg.MaxDeliveries)
		if err != nil {
			return err
		}
		res.Parked = parked
		rows, err := tx.Lease(ctx, recipient, now, now.Add(lease), max)
		if err != nil {
			return err
		}
		for _, r := range rows {
			view, err := s.seal.open(ctx, r.SealedView, tableMailbox, "view", mailboxRowKey(r.ID, r.RecordID, r.RecordVersion),
				func(id []byte) ([]byte, error) { return tx.DataKey(ctx, id) })
			if err != nil {
				return err
			}
			origin, err := s.origin(ctx, tx, r.RecordID, r.RecordVersion)
			if err != nil {
				return err
			}
			m := MailboxMessage{ID: r.ID, Recipient: r.Recipient, RecordID: r.RecordID,
				RecordVersion: r.RecordVersion, View: view, ContentDigest: [sha256.Size]byte(r.ContentDigest),
				Priority: r.Priority, Deliveries: r.Deliveries, LeaseUntil: r.LeaseUntil, QueuedAt: r.QueuedAt, Origin: origin}
			d, err := deliver(ctx, m)
			if err != nil {
				return err
			}
			if err := tx.RecordDelivery(ctx, r.ID, d[:], now, keptDeliveries); err != nil {
				return err
			}
			m.DeliveryDigest = d
			res.Messages = append(res.Messages, m)
		}
		return nil
	})
	if err != nil {
		return PullResult{}, unavailable("pull", err)
	}
	if len(res.Parked) > 0 {
		s.log.Warn("mailbox messages parked after too many deliveries", "recipient", recipient, "parked", len(res.Parked))
	}
	return res, nil
}

// origin reads, in tx, the submitted message a record version came in,
// with its digest and its evidence decrypted (none once purged); nil when
// the record or the message is not stored.
func (s *Store) origin(ctx context.Context, tx Tx, recordID string, version int) (*Origin, error) {
	r, found, err := tx.Record(ctx, recordID, version)
	if err != nil || !found {
		return nil, err
	}
	m, found, err := tx.Message(ctx, r.Sender, r.MessageID)
	if err != nil || !found {
		return nil, err
	}
	o := &Origin{Sender: m.Sender, MessageID: m.ID, Digest: [sha256.Size]byte(m.Digest)}
	if !m.PurgedAt.IsZero() {
		return o, nil
	}
	if o.Evidence, err = s.seal.open(ctx, m.SealedEvidence, tableMessages, "evidence", messageRowKey(m.Sender, m.ID),
		func(kid []byte) ([]byte, error) { return tx.DataKey(ctx, kid) }); err != nil {
		return nil, err
	}
	return o, nil
}

// Ack marks recipient's mailbox message id delivered, never to be delivered
// again, and journals entries (the delivered entry) in the same
// transaction, if digest names one of the message's recorded deliveries
// (Pull). Each entry that names no record is completed with the
// acknowledged message's record id and version. It fails with ErrNotFound
// when the recipient has no such message or no delivery of it is
// recorded, ErrOtherDelivery when digest names no delivery sent for it,
// and ErrDuplicate when it was acknowledged before (nothing is journaled
// then). An authority whose messages were transferred to its successor
// (Transfer) still acknowledges the deliveries it was sent before.
func (s *Store) Ack(ctx context.Context, recipient, id string, digest [sha256.Size]byte, entries ...journal.Entry) error {
	return s.AckWith(ctx, recipient, id, digest, func(a Acked) []journal.Entry {
		out := make([]journal.Entry, len(entries))
		for i, e := range entries {
			if e.RecordID == "" {
				e.RecordID, e.RecordVersion = a.RecordID, a.RecordVersion
			}
			if e.Subject == (journal.Subject{}) && e.RecordID == a.RecordID {
				e.Subject = a.Subject
			}
			if e.IncidentID == "" && e.RecordID == a.RecordID {
				e.IncidentID = a.IncidentID
			}
			out[i] = e
		}
		return out
	})
}

// Acked is the mailbox message an acknowledgement marks delivered, as
// AckWith gives it to its entry function.
type Acked struct {
	// ID is the mailbox message id.
	ID string
	// By is the acknowledging authority.
	By string
	// Recipient is whose mailbox the message is in: By, or By's successor
	// when the message was transferred from By (TransferredFrom == By).
	Recipient string
	// TransferredFrom is the authority the message was transferred from,
	// "" if none.
	TransferredFrom string
	// RecordID and RecordVersion name the record the message is of.
	RecordID      string
	RecordVersion int
	// Subject is the pseudonymous reference of the record's person (zero:
	// none, or a record stored before it was kept), and IncidentID its
	// incident: a DPO's search by CPR number finds the delivery.
	Subject journal.Subject
	// IncidentID is the record's incident id ("" when unknown).
	IncidentID string
}

// AckWith is Ack with the journal entries made, in the transaction, by
// entries from the message acknowledged (its record id and version, and
// whose mailbox it is in). entries may return none.
func (s *Store) AckWith(ctx context.Context, recipient, id string, digest [sha256.Size]byte, entries func(Acked) []journal.Entry) error {
	switch {
	case !isAuthority(recipient):
		return &InputError{Field: "recipient", Reason: "not an authority id"}
	case !isID(id):
		return &InputError{Field: "id", Reason: "not a mailbox message id"}
	case entries == nil:
		return &InputError{Field: "entries", Reason: "is nil"}
	}
	now := s.cfg.Clock.Now().UTC().Truncate(time.Microsecond)
	var ta *journal.TxAppend
	err := s.b.Write(ctx, func(tx Tx) error {
		ta = nil
		r, err := tx.Ack(ctx, recipient, id, digest[:], now)
		switch {
		case err != nil:
			return err
		case !r.Found:
			return fmt.Errorf("%w: no mailbox message %q for %s", ErrNotFound, id, recipient)
		case !r.Sent && !r.Known:
			return fmt.Errorf("%w: no delivery of mailbox message %q is recorded", ErrNotFound, id)
		case !r.Sent:
			return fmt.Errorf("%w: mailbox message %q", ErrOtherDelivery, id)
		case r.Prev == StateDelivered:
			return fmt.Errorf("%w: mailbox message %q was acknowledged before", ErrDuplicate, id)
		}
		a := Acked{ID: id, By: recipient, Recipient: r.Recipient, TransferredFrom: r.TransferredFrom,
			RecordID: r.RecordID, RecordVersion: r.RecordVersion}
		if rr, found, err := tx.Record(ctx, r.RecordID, r.RecordVersion); err != nil {
			return err
		} else if found {
			a.Subject, a.IncidentID = rr.Subject, rr.IncidentID
		}
		es := entries(a)
		if len(es) == 0 {
			return nil
		}
		if ta, err = s.cfg.Journal.PrepareAppend(es...); err != nil {
			if errors.Is(err, journal.ErrInvalidEntry) {
				return fmt.Errorf("%w: %w", ErrInvalid, err)
			}
			return err
		}
		return tx.AppendJournal(ctx, ta.Build)
	})
	if err != nil {
		return unavailable("ack", err)
	}
	if ta != nil {
		return ta.Committed()
	}
	return nil
}

// PurgeReplay forgets the replay rows of messages whose signed expiry has
// passed and returns how many it deleted. The service calls it
// periodically; a message past its expiry is refused anyway.
func (s *Store) PurgeReplay(ctx context.Context) (int64, error) {
	now := s.cfg.Clock.Now().UTC().Truncate(time.Microsecond)
	var n int64
	err := s.b.Write(ctx, func(tx Tx) error {
		var err error
		n, err = tx.PurgeReplay(ctx, now)
		return err
	})
	if err != nil {
		return 0, unavailable("purge replay", err)
	}
	return n, nil
}

// Record returns a stored record version, decrypted. A version whose body
// retention has purged is returned without it (Body nil, PurgedAt set):
// its owner, sender, message and content digest remain.
func (s *Store) Record(ctx context.Context, id string, version int) (StoredRecord, error) {
	if !isID(id) || version < 1 {
		return StoredRecord{}, &InputError{Field: "record", Reason: "not a record id and version"}
	}
	var out StoredRecord
	err := s.b.Read(ctx, func(tx Tx) error {
		r, found, err := tx.Record(ctx, id, version)
		if err != nil {
			return err
		}
		if !found {
			return fmt.Errorf("%w: record %q version %d", ErrNotFound, id, version)
		}
		out = StoredRecord{ID: r.ID, Version: r.Version, Owner: r.Owner, Sender: r.Sender, MessageID: r.MessageID,
			ContentDigest: [sha256.Size]byte(r.ContentDigest), StoredAt: r.StoredAt, PurgedAt: r.PurgedAt}
		if !r.PurgedAt.IsZero() {
			return nil
		}
		out.Body, err = s.seal.open(ctx, r.SealedBody, tableRecords, "body", recordRowKey(id, version),
			func(kid []byte) ([]byte, error) { return tx.DataKey(ctx, kid) })
		return err
	})
	if err != nil {
		return StoredRecord{}, unavailable("read record", err)
	}
	return out, nil
}

// Evidence returns the sender's signed bytes of a stored message,
// decrypted; ErrPurged once retention has purged them.
func (s *Store) Evidence(ctx context.Context, sender, id string) ([]byte, error) {
	if !isAuthority(sender) || !isID(id) {
		return nil, &InputError{Field: "message", Reason: "not a sender and message id"}
	}
	var out []byte
	err := s.b.Read(ctx, func(tx Tx) error {
		m, found, err := tx.Message(ctx, sender, id)
		if err != nil {
			return err
		}
		if !found {
			return fmt.Errorf("%w: message %q of %s", ErrNotFound, id, sender)
		}
		if !m.PurgedAt.IsZero() {
			return fmt.Errorf("%w: the evidence of message %q of %s was purged at %s", ErrPurged, id, sender, m.PurgedAt.Format(time.RFC3339))
		}
		out, err = s.seal.open(ctx, m.SealedEvidence, tableMessages, "evidence", messageRowKey(sender, id),
			func(kid []byte) ([]byte, error) { return tx.DataKey(ctx, kid) })
		return err
	})
	if err != nil {
		return nil, unavailable("read evidence", err)
	}
	return out, nil
}

// isID reports whether s is an id: 1 to maxIDBytes printable ASCII bytes
// without spaces, quotes or backslashes (the journal's rule).
func isID(s string) bool {
	if s == "" || len(s) > maxIDBytes {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c > '~' || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// isAuthority reports whether s is an authority id: lower-case letters,
// digits and : _ . -, at most maxAuthorityBytes (the journal's rule).
func isAuthority(s string) bool {
	if s == "" || len(s) > maxAuthorityBytes {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == ':' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}
