package keys

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"fmt"
	"io"
)

// The file provider's wrapped data key. These bytes are stored next to
// the data they protect, so the format never changes; a new format gets a
// new version byte.
//
//	version (1 byte, 0x01) | KEK id (8 bytes) | nonce (12 bytes) | AES-256-GCM(data key) (32 + 16 bytes)
//
// The version and the KEK id are the additional authenticated data. The
// KEK id is the first 8 bytes of SHA-256("psykosocial/exchange keys KEK id
// v1" || KEK): it selects the key-encryption key (current or previous)
// without revealing anything about it.
const (
	wrapVersion     = 0x01
	kekIDBytes      = 8
	gcmNonceBytes   = 12
	gcmTagBytes     = 16
	wrapHeaderBytes = 1 + kekIDBytes
	wrappedKeyBytes = wrapHeaderBytes + gcmNonceBytes + dataKeyBytes + gcmTagBytes
	kekIDDomain     = "psykosocial/exchange keys KEK id v1"
)

// kek is a local key-encryption key.
type kek struct {
	id   [kekIDBytes]byte
	aead cipher.AEAD
}

// newKEK prepares an AES-256-GCM key-encryption key.
func newKEK(key []byte) (kek, error) {
	if len(key) != dataKeyBytes {
		return kek{}, fmt.Errorf("%w: key-encryption key of %d bytes, want %d", ErrInvalidKey, len(key), dataKeyBytes)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return kek{}, fmt.Errorf("%w: %w", ErrInvalidKey, err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return kek{}, fmt.Errorf("%w: %w", ErrInvalidKey, err)
	}
	h := sha256.New()
	h.Write([]byte(kekIDDomain))
	h.Write(key)
	var k kek
	copy(k.id[:], h.Sum(nil))
	k.aead = aead
	return k, nil
}

// wrap makes a fresh data key from rnd and wraps it under k.
func (k kek) wrap(rnd io.Reader) (plaintext, wrapped []byte, err error) {
	plaintext = make([]byte, dataKeyBytes)
	if _, err := io.ReadFull(rnd, plaintext); err != nil {
		return nil, nil, fmt.Errorf("keys: data key: %w", err)
	}
	wrapped = make([]byte, wrapHeaderBytes+gcmNonceBytes, wrappedKeyBytes)
	wrapped[0] = wrapVersion
	copy(wrapped[1:], k.id[:])
	nonce := wrapped[wrapHeaderBytes:]
	if _, err := io.ReadFull(rnd, nonce); err != nil {
		clear(plaintext)
		return nil, nil, fmt.Errorf("keys: data key nonce: %w", err)
	}
	wrapped = k.aead.Seal(wrapped, nonce, plaintext, wrapped[:wrapHeaderBytes])
	return plaintext, wrapped, nil
}

// unwrap opens a wrapped data key with whichever of keks wrapped it.
func unwrap(keks []kek, wrapped []byte) ([]byte, error) {
	if len(wrapped) != wrappedKeyBytes || wrapped[0] != wrapVersion {
		return nil, fmt.Errorf("%w: not a version-%d wrapped key of %d bytes", ErrDataKeyRejected, wrapVersion, wrappedKeyBytes)
	}
	for _, k := range keks {
		if [kekIDBytes]byte(wrapped[1:wrapHeaderBytes]) != k.id {
			continue
		}
		nonce := wrapped[wrapHeaderBytes : wrapHeaderBytes+gcmNonceBytes]
		pt, err := k.aead.Open(nil, nonce, wrapped[wrapHeaderBytes+gcmNonceBytes:], wrapped[:wrapHeaderBytes])
		if err != nil {
			return nil, fmt.Errorf("%w: authentication failed (tampered with)", ErrDataKeyRejected)
		}
		return pt, nil
	}
	return nil, fmt.Errorf("%w: wrapped under a key-encryption key this provider does not hold", ErrDataKeyRejected)
}
