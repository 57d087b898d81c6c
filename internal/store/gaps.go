package store

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/psykosocial/exchange/internal/journal"
)

// How a configuration gap of a record version was closed (store_gaps.closed_as).
const (
	// GapRerouted: the record version was routed again to the role's
	// recipient once it was configured (Reroute).
	GapRerouted = "rerouted"
	// GapSuperseded: a later version of the record was stored; it is
	// routed on its own.
	GapSuperseded = "superseded"
	// GapWithdrawn: the record was withdrawn: it is never routed again.
	GapWithdrawn = "withdrawn"
)

// Gap is a recipient role of a stored record version that routing could
// not fill because its recipient was not configured (Region Østdanmark's
// code, check recipient_not_configured): the record waits to be routed
// again to that role once the configuration is complete. It is open until
// Reroute closes it, or a later version or a withdrawal of the record does.
type Gap struct {
	// RecordID and Version name the stored record version.
	RecordID string
	Version  int
	// Role is the recipient role that was not filled.
	Role string
	// NotedAt is when the record version was committed.
	NotedAt time.Time
}

// GapRow is a row of store_gaps as a backend reads it; ClosedAs is "" while open.
type GapRow struct {
	// RecordID, Version and Role are the key.
	RecordID string
	Version  int
	Role     string
	// NotedAt is when the record version was committed.
	NotedAt time.Time
}

// Reroute is what routing a stored record version again gives: the
// mailbox messages to the recipients now configured and the journal
// entries (routed, withheld, queued), committed together with the closing
// of the record version's open gaps of Roles.
type Reroute struct {
	// RecordID and Version name the stored record version.
	RecordID string
	Version  int
	// Roles are the gaps closed: every one must be open.
	Roles []string
	// Deliveries are the new mailbox messages (none when every decision
	// withholds).
	Deliveries []Delivery
	// Journal are the entries; at least one.
	Journal []journal.Entry
}

// OpenGaps returns up to limit open gaps ordered by record id, version and
// role, after the gap after (the zero Gap: from the first). A caller pages
// with the last gap it got.
func (s *Store) OpenGaps(ctx context.Context, after Gap, limit int) ([]Gap, error) {
	if limit < 1 || limit > maxGapList {
		return nil, &InputError{Field: "limit", Reason: fmt.Sprintf("give 1 to %d", maxGapList)}
	}
	var rows []GapRow
	err := s.b.Read(ctx, func(tx Tx) error {
		var err error
		rows, err = tx.OpenGaps(ctx, GapRow{RecordID: after.RecordID, Version: after.Version, Role: after.Role}, limit)
		return err
	})
	if err != nil {
		return nil, unavailable("list gaps", err)
	}
	out := make([]Gap, 0, len(rows))
	for _, r := range rows {
		out = append(out, Gap(r))
	}
	return out, nil
}

// Reroute commits a record version routed again, in one transaction: it
// closes the version's open gaps of r.Roles (as GapRerouted), queues
// r.Deliveries and journals r.Journal. The gap's row is the guard that
// makes it happen once: when one of the gaps is no longer open (another
// replica or an earlier reload routed it, or a later version or a
// withdrawal closed it) nothing is written and the error matches
// ErrDuplicate.
func (s *Store) Reroute(ctx context.Context, r *Reroute) error {
	if err := s.checkReroute(r); err != nil {
		return err
	}
	if _, err := s.cfg.Journal.PrepareAppend(r.Journal...); err != nil {
		if errors.Is(err, journal.ErrInvalidEntry) {
			return fmt.Errorf("%w: %w", ErrInvalid, err)
		}
		return unavailable("reroute", err)
	}
	now := s.cfg.Clock.Now().UTC().Truncate(time.Microsecond)
	key, err := s.seal.key(ctx, now, len(r.Deliveries))
	if err != nil {
		return err
	}
	var box []MailboxRow
	for _, d := range r.Deliveries {
		v, err := s.seal.seal(key, d.View, tableMailbox, "view", mailboxRowKey(d.ID, r.RecordID, r.Version))
		if err != nil {
			return err
		}
		vd := sha256.Sum256(d.View)
		box = append(box, MailboxRow{ID: d.ID, Recipient: d.Recipient, RecordID: r.RecordID, RecordVersion: r.Version,
			SealedView: v, ContentDigest: vd[:], Priority: d.Priority, State: StateQueued, QueuedAt: now})
	}
	var ta *journal.TxAppend
	err = s.b.Write(ctx, func(tx Tx) error {
		ta = nil
		if _, found, err := tx.Record(ctx, r.RecordID, r.Version); err != nil {
			return err
		} else if !found {
			return fmt.Errorf("%w: record %q version %d is not stored", ErrNotFound, r.RecordID, r.Version)
		}
		for _, role := range r.Roles {
			closed, err := tx.CloseGap(ctx, GapRow{RecordID: r.RecordID, Version: r.Version, Role: role}, now, GapRerouted)
			if err != nil {
				return err
			}
			if !closed {
				return fmt.Errorf("%w: the gap of record %q version %d for %s is not open (routed again, superseded or withdrawn)",
					ErrDuplicate, r.RecordID, r.Version, role)
			}
		}
		if len(box) > 0 {
			if err := tx.PutDataKey(ctx, key.id, key.wrapped, now); err != nil {
				return err
			}
			if err := tx.InsertMailbox(ctx, box); err != nil {
				return err
			}
		}
		var err error
		if ta, err = s.cfg.Journal.PrepareAppend(r.Journal...); err != nil {
			return err
		}
		return tx.AppendJournal(ctx, ta.Build)
	})
	if err != nil {
		if errors.Is(err, ErrDuplicate) || errors.Is(err, ErrNotFound) {
			return err
		}
		return unavailable("reroute", err)
	}
	if err := ta.Committed(); err != nil {
		return err
	}
	s.log.Info("record routed again", "record_id", r.RecordID, "version", r.Version, "mailbox_messages", len(box))
	return nil
}

// checkReroute applies the input rules to a reroute.
func (s *Store) checkReroute(r *Reroute) error {
	switch {
	case r == nil:
		return &InputError{Field: "reroute", Reason: "is nil"}
	case !isID(r.RecordID):
		return &InputError{Field: "record_id", Reason: "not a record id"}
	case r.Version < 1:
		return &InputError{Field: "version", Reason: "must be 1 or more"}
	case len(r.Roles) == 0 || len(r.Roles) > maxGapsPerRecord:
		return &InputError{Field: "roles", Reason: fmt.Sprintf("give 1 to %d gaps to close", maxGapsPerRecord)}
	case len(r.Journal) == 0:
		return &InputError{Field: "journal", Reason: "is empty: a record routed again is journaled"}
	case len(r.Deliveries) > maxDeliveriesPerRecord:
		return &InputError{Field: "deliveries", Reason: fmt.Sprintf("more than %d", maxDeliveriesPerRecord)}
	}
	for i, role := range r.Roles {
		if !isAuthority(role) {
			return &InputError{Field: fmt.Sprintf("roles[%d]", i), Reason: "not a recipient role"}
		}
	}
	return checkDeliveries("deliveries", r.Deliveries, map[string]bool{})
}

// checkGaps applies the input rules to a record's gaps.
func checkGaps(field string, roles []string) error {
	if len(roles) > maxGapsPerRecord {
		return &InputError{Field: field, Reason: fmt.Sprintf("more than %d", maxGapsPerRecord)}
	}
	seen := map[string]bool{}
	for i, role := range roles {
		switch {
		case !isAuthority(role):
			return &InputError{Field: fmt.Sprintf("%s[%d]", field, i), Reason: "not a recipient role"}
		case seen[role]:
			return &InputError{Field: fmt.Sprintf("%s[%d]", field, i), Reason: "the same role twice"}
		}
		seen[role] = true
	}
	return nil
}

// checkDeliveries applies the input rules to mailbox messages; seen holds
// the mailbox ids met before in the same call.
func checkDeliveries(field string, ds []Delivery, seen map[string]bool) error {
	for k, d := range ds {
		g := fmt.Sprintf("%s[%d]", field, k)
		switch {
		case !isID(d.ID) || seen[d.ID]:
			return &InputError{Field: g + ".id", Reason: "not an id, or the same mailbox message id twice"}
		case !isAuthority(d.Recipient):
			return &InputError{Field: g + ".recipient", Reason: "not an authority id"}
		case len(d.View) == 0 || len(d.View) > maxViewBytes:
			return &InputError{Field: g + ".view", Reason: fmt.Sprintf("give 1 to %d bytes", maxViewBytes)}
		case d.Priority != PriorityNormal && d.Priority != PriorityAcute:
			return &InputError{Field: g + ".priority", Reason: "neither normal nor acute"}
		}
		seen[d.ID] = true
	}
	return nil
}
