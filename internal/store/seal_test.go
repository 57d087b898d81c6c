package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"testing"
	"time"
)

// memKeys wraps data keys by xor with a fixed pad: enough to test the sealer.
type memKeys struct{ made int }

func (m *memKeys) NewDataKey(context.Context) ([]byte, []byte, error) {
	m.made++
	k := make([]byte, 32)
	rand.Read(k)
	return bytes.Clone(k), xor(k), nil
}

func (m *memKeys) UnwrapDataKey(_ context.Context, w []byte) ([]byte, error) { return xor(w), nil }

func xor(b []byte) []byte {
	out := make([]byte, len(b))
	for i := range b {
		out[i] = b[i] ^ 0x5a
	}
	return out
}

func TestSealOpensOnlyWhereWritten(t *testing.T) {
	ctx := context.Background()
	keys := &memKeys{}
	s := &sealer{keys: keys, rand: rand.Reader, lifetime: time.Hour}
	now := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	k, err := s.key(ctx, now, 1)
	if err != nil {
		t.Fatal(err)
	}
	pt := []byte(`{"cpr":"1502851234"}`)
	sealed, err := s.seal(k, pt, tableRecords, "body", recordRowKey("r1", 1))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("1502851234")) {
		t.Fatal("the plaintext shows")
	}
	lookup := func(id []byte) ([]byte, error) {
		if !bytes.Equal(id, k.id) {
			return nil, errors.New("unknown key")
		}
		return k.wrapped, nil
	}
	s2 := &sealer{keys: keys, rand: rand.Reader, lifetime: time.Hour} // a fresh process: the key comes from storage
	got, err := s2.open(ctx, sealed, tableRecords, "body", recordRowKey("r1", 1), lookup)
	if err != nil || !bytes.Equal(got, pt) {
		t.Fatalf("open = %q, %v", got, err)
	}
	for _, c := range []struct{ table, column, row string }{
		{tableRecords, "body", recordRowKey("r1", 2)},
		{tableRecords, "body", recordRowKey("r2", 1)},
		{tableMailbox, "view", recordRowKey("r1", 1)},
		{tableRecords, "evidence", recordRowKey("r1", 1)},
	} {
		if _, err := s2.open(ctx, sealed, c.table, c.column, c.row, lookup); !errors.Is(err, ErrCorrupt) {
			t.Errorf("opened as %s.%s of %q: %v", c.table, c.column, c.row, err)
		}
	}
	tampered := bytes.Clone(sealed)
	tampered[len(tampered)-1] ^= 1
	if _, err := s2.open(ctx, tampered, tableRecords, "body", recordRowKey("r1", 1), lookup); !errors.Is(err, ErrCorrupt) {
		t.Errorf("tampered: %v", err)
	}
	if _, err := s2.open(ctx, sealed[:10], tableRecords, "body", recordRowKey("r1", 1), lookup); !errors.Is(err, ErrCorrupt) {
		t.Errorf("truncated: %v", err)
	}
	// The data key rotates by age, not per value.
	if k2, _ := s.key(ctx, now.Add(time.Minute), 1); k2 != k {
		t.Error("a new data key within its lifetime")
	}
	if k3, _ := s.key(ctx, now.Add(time.Hour), 1); k3 == k || keys.made != 2 {
		t.Error("no new data key after its lifetime")
	}
}
