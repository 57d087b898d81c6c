package keys

// Purpose names what a key is for. Every key serves exactly one purpose,
// so that compromise or rotation of one never touches another.
type Purpose string

// The purposes of the gateway's keys (DESIGN.md section 7).
const (
	// PurposeTLS is the gateway's TLS server and client certificate.
	PurposeTLS Purpose = "tls"
	// PurposeMessageSigning signs outbound messages and receipts: a P-256
	// key (ES256, and ECDSA-SHA256 in XML-DSig).
	PurposeMessageSigning Purpose = "message-signing"
	// PurposeMessageSigningRSA signs for authorities that only verify RSA:
	// an RSA key of at least 2048 bits (PS256, RSA-SHA256 in XML-DSig).
	PurposeMessageSigningRSA Purpose = "message-signing-rsa"
	// PurposeMessageDecryption opens inbound messages: P-256 (ECDH-ES) or
	// RSA (RSA-OAEP) private keys, current and previous.
	PurposeMessageDecryption Purpose = "message-decryption"
	// PurposeJournalCheckpoint signs the audit journal's checkpoints: an
	// Ed25519 key.
	PurposeJournalCheckpoint Purpose = "journal-checkpoint"
	// PurposeJournalHMAC is the secret that pseudonymises subjects in the
	// journal (HMAC-SHA-256).
	PurposeJournalHMAC Purpose = "journal-hmac"
	// PurposeDataKey wraps the data keys that encrypt data at rest.
	PurposeDataKey Purpose = "data-key"
)

// String returns the purpose's name.
func (p Purpose) String() string { return string(p) }

// signing reports whether Signer serves the purpose.
func (p Purpose) signing() bool {
	switch p {
	case PurposeMessageSigning, PurposeMessageSigningRSA, PurposeJournalCheckpoint:
		return true
	}
	return false
}
