package store

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"fmt"
	"io"
	"sync"
	"time"
)

// DataKeys is what the store needs of the key provider (keys.FileProvider,
// the Vault provider): fresh AES-256 data keys, with their wrapped form to
// store, and unwrapping.
type DataKeys interface {
	// NewDataKey returns a fresh 32-byte data key and its wrapped form.
	NewDataKey(ctx context.Context) (plaintext, wrapped []byte, err error)
	// UnwrapDataKey returns the data key of a wrapped form.
	UnwrapDataKey(ctx context.Context, wrapped []byte) ([]byte, error)
}

// The sealed value format. These bytes are stored, so the format never
// changes; a new format gets a new version byte.
//
//	version (1 byte, 0x01) | data key id (8 bytes) | nonce (12 bytes) | AES-256-GCM ciphertext and tag
//
// The data key id is the first 8 bytes of SHA-256 of the wrapped data key
// (stored in store_data_keys). The additional data is
// "psykosocial/exchange store v1" 0x00 table 0x00 column 0x00 row key, the
// row key naming the row (record id and version, mailbox message id and
// record, or sender and message id), so a sealed value opens only where it
// was written.
const (
	sealVersion   = 0x01
	keyIDBytes    = 8
	nonceBytes    = 12
	sealHeader    = 1 + keyIDBytes + nonceBytes
	sealOverhead  = sealHeader + 16
	sealAADPrefix = "psykosocial/exchange store v1"
)

// dataKey is one unwrapped data key.
type dataKey struct {
	id      []byte
	wrapped []byte
	aead    cipher.AEAD
	created time.Time
	seals   int
}

// sealer seals under a current data key, rotated by age and use, and opens
// under any stored one.
type sealer struct {
	keys     DataKeys
	rand     io.Reader
	lifetime time.Duration

	mu      sync.Mutex
	current *dataKey
	cache   map[string]cipher.AEAD // data key id -> AEAD
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("%w: a data key of %d bytes, want 32", ErrCorrupt, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func keyIDOf(wrapped []byte) []byte {
	h := sha256.Sum256(wrapped)
	return h[:keyIDBytes]
}

// key returns the data key to seal n values with, making a new one when the
// current one is old or used up.
func (s *sealer) key(ctx context.Context, now time.Time, n int) (*dataKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.current
	if k == nil || now.Sub(k.created) >= s.lifetime || now.Before(k.created) || k.seals+n > dataKeyMaxSeals {
		pt, wrapped, err := s.keys.NewDataKey(ctx)
		if err != nil {
			return nil, &UnavailableError{Op: "new data key", Err: err}
		}
		aead, err := newAEAD(pt)
		clear(pt)
		if err != nil {
			return nil, &UnavailableError{Op: "new data key", Err: err}
		}
		k = &dataKey{id: keyIDOf(wrapped), wrapped: wrapped, aead: aead, created: now}
		s.current = k
		s.remember(string(k.id), aead)
	}
	k.seals += n
	return k, nil
}

func (s *sealer) remember(id string, aead cipher.AEAD) {
	if s.cache == nil || len(s.cache) >= maxCachedKeys {
		s.cache = map[string]cipher.AEAD{}
	}
	s.cache[id] = aead
}

func aad(table, column, row string) []byte {
	b := make([]byte, 0, len(sealAADPrefix)+len(table)+len(column)+len(row)+3)
	b = append(b, sealAADPrefix...)
	b = append(b, 0)
	b = append(b, table...)
	b = append(b, 0)
	b = append(b, column...)
	b = append(b, 0)
	return append(b, row...)
}

// seal encrypts plaintext under k for table, column and row.
func (s *sealer) seal(k *dataKey, plaintext []byte, table, column, row string) ([]byte, error) {
	out := make([]byte, sealHeader, sealOverhead+len(plaintext))
	out[0] = sealVersion
	copy(out[1:], k.id)
	if _, err := io.ReadFull(s.rand, out[1+keyIDBytes:sealHeader]); err != nil {
		return nil, &UnavailableError{Op: "seal", Err: err}
	}
	return k.aead.Seal(out, out[1+keyIDBytes:sealHeader], plaintext, aad(table, column, row)), nil
}

// open decrypts a sealed value of table, column and row; wrappedOf looks up
// the wrapped data key of an id not yet in memory.
func (s *sealer) open(ctx context.Context, sealed []byte, table, column, row string, wrappedOf func(id []byte) ([]byte, error)) ([]byte, error) {
	if len(sealed) < sealOverhead || sealed[0] != sealVersion {
		return nil, fmt.Errorf("%w: %s.%s of %q is not a sealed value", ErrCorrupt, table, column, row)
	}
	id := sealed[1 : 1+keyIDBytes]
	s.mu.Lock()
	aead := s.cache[string(id)]
	s.mu.Unlock()
	if aead == nil {
		wrapped, err := wrappedOf(id)
		if err != nil {
			return nil, err
		}
		pt, err := s.keys.UnwrapDataKey(ctx, wrapped)
		if err != nil {
			return nil, &UnavailableError{Op: "unwrap data key", Err: err}
		}
		aead, err = newAEAD(pt)
		clear(pt)
		if err != nil {
			return nil, err
		}
		s.mu.Lock()
		s.remember(string(id), aead)
		s.mu.Unlock()
	}
	pt, err := aead.Open(nil, sealed[1+keyIDBytes:sealHeader], sealed[sealHeader:], aad(table, column, row))
	if err != nil {
		return nil, fmt.Errorf("%w: %s.%s of %q does not authenticate (tampered with, or moved)", ErrCorrupt, table, column, row)
	}
	return pt, nil
}
