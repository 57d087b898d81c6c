package journal

import (
	"errors"
	"fmt"
	"time"
)

// TxAppend is an append that runs inside a transaction of the caller's (the
// service's store), so that the entries commit together with the rows they
// describe: the store reads the head in its transaction, calls Build, writes
// the batch with the storage's AppendTx (journal/sqlite, journal/postgres)
// and, once its transaction has committed, calls Committed.
//
// The journal's own appends (Journal.Append) and transaction appends take
// turns on the head of the tree, in this process or another, exactly as
// appends of several processes do.
type TxAppend struct {
	j       *Journal
	entries []Entry
	first   uint64
	built   bool
}

// PrepareAppend checks entries against the entry rules and stamps them with
// the journal clock's time, for an append in the caller's transaction. An
// error matching ErrInvalidEntry names the entry and field at fault; one
// matching ErrUnavailable means the journal is closed.
func (j *Journal) PrepareAppend(entries ...Entry) (*TxAppend, error) {
	if len(entries) == 0 {
		return nil, &EntryError{Field: "entries", Reason: "nothing to append"}
	}
	if len(entries) > MaxTxEntries {
		return nil, &EntryError{Field: "entries", Reason: fmt.Sprintf("more than %d entries in one transaction", MaxTxEntries)}
	}
	j.qmu.Lock()
	closed := j.closed
	j.qmu.Unlock()
	if closed {
		return nil, &UnavailableError{Op: "append", Err: ErrClosed}
	}
	now := j.cfg.Clock.Now().UTC().Truncate(time.Microsecond)
	own := make([]Entry, len(entries))
	for i, e := range entries {
		e = e.normalize()
		if field, reason := e.validate(); field != "" {
			return nil, &EntryError{Index: i, Field: field, Reason: reason}
		}
		e.Seq, e.Time = 0, now
		own[i] = e
	}
	return &TxAppend{j: j, entries: own}, nil
}

// Len is the number of entries.
func (a *TxAppend) Len() int { return len(a.entries) }

// Build numbers the entries from head and extends the tree; it may be called
// again if the caller's transaction is retried. It refuses (ErrUnavailable)
// while too many entries wait for a checkpoint, as Journal.Append does.
func (a *TxAppend) Build(head Head) (*Batch, error) {
	if head.Size+uint64(len(a.entries)) > a.j.lastSigned.Load()+a.j.cfg.MaxUnsigned {
		a.j.kickCheckpointer()
		return nil, &UnavailableError{Op: "checkpoint lag", Err: errCheckpointLag}
	}
	b, err := NewBatch(head, a.entries)
	if err != nil {
		return nil, err
	}
	a.first, a.built = head.Size, true
	return b, nil
}

// First is the sequence number of the first entry, valid after a Build
// whose transaction committed.
func (a *TxAppend) First() uint64 { return a.first }

// Committed tells the journal that the caller's transaction committed the
// batch of the last Build, so that a checkpoint that has become due is
// signed without waiting for the next poll.
func (a *TxAppend) Committed() error {
	if !a.built {
		return errors.New("journal: Committed before Build")
	}
	end := a.first + uint64(len(a.entries))
	if every := a.j.cfg.CheckpointEvery; end/every != a.first/every {
		a.j.kickCheckpointer()
	}
	return nil
}
