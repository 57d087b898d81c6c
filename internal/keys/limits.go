package keys

import "time"

// Limits of this package, each with its reason.
const (
	// maxKeyFileBytes caps what is read from one key, certificate or
	// secret file: an RSA-8192 key with a certificate chain fits well
	// within it, and a mistaken path (a log file, a device) is refused.
	maxKeyFileBytes = 64 << 10
	// minHMACSecretBytes is the shortest journal HMAC secret: the full
	// 256-bit strength of HMAC-SHA-256.
	minHMACSecretBytes = 32
	// maxHMACSecretBytes is the longest: longer secrets are hashed by HMAC
	// anyway and add nothing.
	maxHMACSecretBytes = 1024
	// dataKeyBytes is the size of a data key and of the file provider's
	// key-encryption key: AES-256.
	dataKeyBytes = 32
	// minRSABits is the smallest RSA key accepted for signing or
	// decryption (RFC 7518 requires 2048 for PS256 and RSA-OAEP).
	minRSABits = 2048
	// maxRSABits is the largest RSA key accepted: bigger keys only cost CPU.
	maxRSABits = 8192
	// devRSABits is the size of the RSA key Generate writes, as real OCES3
	// authority certificates have.
	devRSABits = 3072
	// devTLSValidity is how long Generate's self-signed development TLS
	// certificate is valid.
	devTLSValidity = 2 * 365 * 24 * time.Hour
	// maxVaultSignatureBytes caps a transit signature string: an RSA-8192
	// signature in base64 with its prefix is about 1.4 KB.
	maxVaultSignatureBytes = 4096
	// maxTokenFileBytes caps a Vault token file.
	maxTokenFileBytes = 4096
)
