// Package keys provides the gateway's keys by purpose: TLS, message
// signing (P-256 by default, RSA for authorities that only have RSA),
// message decryption (current and previous, for rollover), journal
// checkpoints (Ed25519), the journal's HMAC secret, and data keys for
// encryption at rest.
//
// Two providers implement the same method shapes:
//
//   - [FileProvider] reads PEM keys and secrets from one directory, one
//     file per purpose (see [NewFileProvider] for the layout). It refuses
//     key files that group or others may read and symlinks that leave the
//     directory. [Generate] writes a development key set.
//   - [VaultProvider] uses HashiCorp Vault: the transit engine signs and
//     makes data keys, so those private keys never leave Vault; KV v2 holds
//     the message-decryption keys (transit cannot do ECDH key agreement)
//     and the HMAC secret, which are loaded into memory at start and never
//     written to disk.
//
// Consumers declare the small interface they need, for example
//
//	type checkpointKeys interface {
//		Signer(ctx context.Context, p keys.Purpose) (crypto.Signer, error)
//	}
//
// and either provider satisfies it. Signers follow the crypto.Signer
// conventions: ECDSA signatures are ASN.1 DER (JOSE callers convert them to
// r||s), RSA signs PSS when the options are *rsa.PSSOptions and PKCS #1
// v1.5 otherwise, and Ed25519 signs the message itself (crypto.Hash(0)).
//
// Errors are typed: match them with errors.Is against the Err* values, or
// errors.As with [*FileError] and [*VaultError]. No key material is ever
// logged or put into an error.
package keys
