package journal_test

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/psykosocial/exchange/internal/journal"
)

// countingSigner counts the checkpoints it signs.
type countingSigner struct {
	ed25519.PrivateKey
	n atomic.Int64
}

func (s *countingSigner) Sign(r io.Reader, msg []byte, o crypto.SignerOpts) ([]byte, error) {
	s.n.Add(1)
	return s.PrivateKey.Sign(r, msg, o)
}

// TestOneCheckpointSignerOnPostgreSQL: while another gateway process holds
// the PostgreSQL signer lock, this one does not call its signer; once the
// lock is free, it signs.
func TestOneCheckpointSignerOnPostgreSQL(t *testing.T) {
	ctx := context.Background()
	store := openPostgres(t)
	signer := &countingSigner{PrivateKey: testKey(1)}
	j, err := journal.New(ctx, store, signer, journal.Config{Origin: testOrigin, CheckpointEvery: 1000,
		CheckpointInterval: time.Hour, Clock: newFakeClock()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close(context.Background()) })
	for i := range 5 {
		if _, err := j.Append(ctx, sampleEntry(i)); err != nil {
			t.Fatal(err)
		}
	}
	// "Another process" takes the lock (the journal's own background
	// checkpointer may hold it for a moment).
	var unlock func()
	for deadline := time.Now().Add(5 * time.Second); unlock == nil; {
		u, ok, err := store.LockSigner(ctx, false)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			unlock = u
		} else if time.Now().After(deadline) {
			t.Fatal("could not take the signer lock")
		} else {
			time.Sleep(10 * time.Millisecond)
		}
	}
	// Entries appended while the other process holds the lock.
	for i := 5; i < 10; i++ {
		if _, err := j.Append(ctx, sampleEntry(i)); err != nil {
			t.Fatal(err)
		}
	}
	before := signer.n.Load()
	// Checkpoint waits for the other process; it gives up when its
	// context ends, without signing.
	wctx, wcancel := context.WithTimeout(ctx, 300*time.Millisecond)
	_, _ = j.Checkpoint(wctx)
	wcancel()
	if got := signer.n.Load(); got != before {
		t.Fatalf("signed %d checkpoints while another process held the signer lock", got-before)
	}
	if _, ok2, _ := store.LockSigner(ctx, false); ok2 {
		t.Fatal("the signer lock was granted twice")
	}
	unlock()
	c, err := j.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if signer.n.Load() == before || c.Size != 10 {
		t.Fatalf("after the lock was freed: %d signatures, checkpoint size %d", signer.n.Load()-before, c.Size)
	}
}
