package keys

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
)

// Sentinel errors: every error of this package wraps one of them, so
// callers match with errors.Is, never on strings.
var (
	// ErrNotConfigured: the provider holds no key for the purpose asked
	// (an optional file is absent, or no Vault key name is configured).
	ErrNotConfigured = errors.New("keys: no key configured for this purpose")
	// ErrUnsupported: the purpose or signing option is not one this
	// provider or key serves (e.g. Signer for the TLS purpose, or SHA-1).
	ErrUnsupported = errors.New("keys: unsupported purpose or option")
	// ErrInsecureFile: a key file that group or others may read, a symlink
	// that leaves the key directory, or something that is not a regular file.
	ErrInsecureFile = errors.New("keys: insecure key file")
	// ErrInvalidKey: a key or secret that cannot be parsed, or of the wrong
	// type, curve or size for its purpose.
	ErrInvalidKey = errors.New("keys: invalid key")
	// ErrDataKeyRejected: a wrapped data key that is malformed, tampered
	// with, or wrapped under a key this provider does not hold.
	ErrDataKeyRejected = errors.New("keys: wrapped data key rejected")
	// ErrVaultSealed: Vault answered, but it is sealed.
	ErrVaultSealed = errors.New("keys: vault is sealed")
	// ErrVaultUnreachable: no answer from Vault (connection refused, DNS,
	// time-out, TLS failure).
	ErrVaultUnreachable = errors.New("keys: vault is unreachable")
	// ErrVaultPermission: Vault refused the token on a path (HTTP 403).
	ErrVaultPermission = errors.New("keys: vault permission denied")
	// ErrVault: any other Vault failure (an unexpected status or answer).
	ErrVault = errors.New("keys: vault request failed")
)

// FileError is a refusal of one file of a [FileProvider]: it names the
// file and, for a permission refusal, its mode. It wraps a sentinel (Err)
// and, where there is one, the underlying error (Cause, e.g. an
// fs.ErrNotExist).
type FileError struct {
	// Path is the file's path.
	Path string
	// Mode is the file's permission bits when they are the reason, else 0.
	Mode fs.FileMode
	// Reason says what is wrong, for people.
	Reason string
	// Err is the sentinel: ErrInsecureFile, ErrInvalidKey or ErrNotConfigured.
	Err error
	// Cause is the underlying error, if any.
	Cause error
}

// Error implements error.
func (e *FileError) Error() string {
	s := fmt.Sprintf("keys: %s: %s", e.Path, e.Reason)
	if e.Cause != nil {
		s += ": " + e.Cause.Error()
	}
	return s
}

// Unwrap returns the sentinel and the cause.
func (e *FileError) Unwrap() []error {
	if e.Cause == nil {
		return []error{e.Err}
	}
	return []error{e.Err, e.Cause}
}

// VaultError is a failed Vault request: it names the server, the
// operation and the API path. It wraps a sentinel (Err: ErrVaultSealed,
// ErrVaultUnreachable, ErrVaultPermission, ErrDataKeyRejected or ErrVault)
// and the client's error (Cause).
type VaultError struct {
	// Address is the Vault server address.
	Address string
	// Op is what the provider was doing ("health", "sign", "read KV", ...).
	Op string
	// Path is the Vault API path (without /v1/), empty for connection-level failures.
	Path string
	// StatusCode is the HTTP status, 0 when there was no answer.
	StatusCode int
	// Err is the sentinel.
	Err error
	// Cause is the error of the Vault client, if any.
	Cause error
}

// Error implements error.
func (e *VaultError) Error() string {
	var s string
	switch {
	case errors.Is(e.Err, ErrVaultUnreachable):
		s = fmt.Sprintf("keys: vault at %s is unreachable (%s)", e.Address, e.Op)
	case errors.Is(e.Err, ErrVaultSealed):
		s = fmt.Sprintf("keys: vault at %s is sealed (%s)", e.Address, e.Op)
	case errors.Is(e.Err, ErrVaultPermission):
		s = fmt.Sprintf("keys: vault at %s denied permission on %s (%s): check the token's policy", e.Address, e.Path, e.Op)
	default:
		s = fmt.Sprintf("keys: vault at %s: %s %s", e.Address, e.Op, e.Path)
		if e.StatusCode != 0 {
			s += fmt.Sprintf(" (HTTP %d)", e.StatusCode)
		}
		if e.Err != ErrVault { // the bare sentinel adds nothing; a wrapped one has details
			s += ": " + strings.TrimPrefix(e.Err.Error(), "keys: ")
		}
	}
	if e.Cause != nil {
		s += ": " + e.Cause.Error()
	}
	return s
}

// Unwrap returns the sentinel and the cause.
func (e *VaultError) Unwrap() []error {
	if e.Cause == nil {
		return []error{e.Err}
	}
	return []error{e.Err, e.Cause}
}
