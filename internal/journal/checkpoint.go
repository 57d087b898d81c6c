package journal

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"golang.org/x/mod/sumdb/note"
)

// signedAtPrefix starts the extension line that carries the signing time.
const signedAtPrefix = "signed-at "

// Checkpoint is a commitment to the tree: the C2SP tlog-checkpoint body
//
//	<origin>
//	<tree size, decimal>
//	<root hash, standard base64>
//	signed-at <signing time, RFC 3339 UTC, seconds>
//
// (each line ends with a newline). The format of the body never changes:
// it is what checkpoints already signed contain.
type Checkpoint struct {
	// Origin names the journal (and is the name of its note key).
	Origin string
	// Size is the number of entries the checkpoint commits to.
	Size uint64
	// Root is the RFC 9162 root hash of the first Size leaves.
	Root [sha256.Size]byte
	// SignedAt is when the checkpoint was signed (UTC, whole seconds).
	SignedAt time.Time
}

// Marshal returns the checkpoint body (the text of the signed note).
func (c Checkpoint) Marshal() []byte {
	var b bytes.Buffer
	b.WriteString(c.Origin)
	b.WriteByte('\n')
	b.WriteString(strconv.FormatUint(c.Size, 10))
	b.WriteByte('\n')
	b.WriteString(base64.StdEncoding.EncodeToString(c.Root[:]))
	b.WriteByte('\n')
	b.WriteString(signedAtPrefix)
	b.WriteString(c.SignedAt.UTC().Format(time.RFC3339))
	b.WriteByte('\n')
	return b.Bytes()
}

// ParseCheckpoint parses a checkpoint body strictly: exactly the four lines
// that Marshal writes, in canonical form.
func ParseCheckpoint(text []byte) (Checkpoint, error) {
	bad := func(what string) (Checkpoint, error) {
		return Checkpoint{}, fmt.Errorf("%w: %s", ErrInvalidCheckpoint, what)
	}
	lines := strings.Split(string(text), "\n")
	if len(lines) != 5 || lines[4] != "" {
		return bad("the body is not four lines (origin, size, root hash, signed-at)")
	}
	var c Checkpoint
	c.Origin = lines[0]
	if err := checkOrigin(c.Origin); err != nil {
		return Checkpoint{}, err
	}
	size, err := strconv.ParseUint(lines[1], 10, 64)
	if err != nil || strconv.FormatUint(size, 10) != lines[1] || size >= maxTreeSize {
		return bad("the tree size is not a decimal number")
	}
	c.Size = size
	root, err := base64.StdEncoding.Strict().DecodeString(lines[2])
	if err != nil || len(root) != sha256.Size {
		return bad("the root hash is not 32 bytes of standard base64")
	}
	copy(c.Root[:], root)
	ts, ok := strings.CutPrefix(lines[3], signedAtPrefix)
	if !ok {
		return bad("the fourth line is not the signed-at extension")
	}
	t, err := time.Parse(time.RFC3339, ts)
	if err != nil || t.Format(time.RFC3339) != ts || t.Location() != time.UTC {
		return bad("signed-at is not an RFC 3339 UTC time in whole seconds")
	}
	c.SignedAt = t
	return c, nil
}

func checkOrigin(origin string) error {
	if origin == "" || len(origin) > maxOriginBytes || strings.ContainsRune(origin, '+') ||
		strings.IndexFunc(origin, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return fmt.Errorf("%w: the origin must be 1 to %d characters without spaces, controls or '+'", ErrInvalidCheckpoint, maxOriginBytes)
	}
	return nil
}

// SignedCheckpoint is a checkpoint and the signed note that carries it.
type SignedCheckpoint struct {
	Checkpoint
	// Note is the complete signed note: the body, a blank line, and the
	// signature lines.
	Note []byte
}

// ParseSignedCheckpoint parses a signed note as stored by the journal,
// without checking its signature: for storage implementations reading back
// what the journal wrote. Anything that crosses a trust boundary is opened
// with OpenCheckpoint instead.
func ParseSignedCheckpoint(signed []byte) (SignedCheckpoint, error) {
	i := bytes.LastIndex(signed, []byte("\n\n"))
	if i < 0 || len(signed) > maxNoteBytes {
		return SignedCheckpoint{}, fmt.Errorf("%w: not a signed note", ErrInvalidCheckpoint)
	}
	c, err := ParseCheckpoint(signed[:i+1])
	if err != nil {
		return SignedCheckpoint{}, err
	}
	return SignedCheckpoint{Checkpoint: c, Note: signed}, nil
}

// VerifierKey returns the note verifier key of the journal's Ed25519
// public key, named origin: "<origin>+<key hash>+<base64 key>", the string
// golang.org/x/mod/sumdb/note.NewVerifier (and any C2SP signed-note
// implementation) takes. A DPO passes it to gateway audit verify.
func VerifierKey(origin string, pub ed25519.PublicKey) (string, error) {
	if err := checkOrigin(origin); err != nil {
		return "", err
	}
	if len(pub) != ed25519.PublicKeySize {
		return "", fmt.Errorf("%w: not an Ed25519 public key", ErrInvalidKey)
	}
	vkey, err := note.NewEd25519VerifierKey(origin, pub)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidKey, err)
	}
	return vkey, nil
}

// noteSigner is the standard Ed25519 note signer over a crypto.Signer, so
// that the private key may stay in a key provider (Vault transit).
type noteSigner struct {
	name     string
	hash     uint32
	vkey     string
	signer   crypto.Signer
	verifier note.Verifier
}

var _ note.Signer = (*noteSigner)(nil)

// newNoteSigner wraps s, whose public key must be Ed25519 and which must
// sign the message itself (crypto.Hash(0)), as the note signer named origin.
func newNoteSigner(origin string, s crypto.Signer) (*noteSigner, error) {
	if s == nil {
		return nil, fmt.Errorf("%w: no checkpoint signer", ErrInvalidKey)
	}
	pub, ok := s.Public().(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: the checkpoint key must be Ed25519, not %T", ErrInvalidKey, s.Public())
	}
	vkey, err := VerifierKey(origin, pub)
	if err != nil {
		return nil, err
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidKey, err)
	}
	return &noteSigner{name: origin, hash: v.KeyHash(), vkey: vkey, signer: s, verifier: v}, nil
}

// Name is the key name: the journal's origin.
func (n *noteSigner) Name() string { return n.name }

// KeyHash is the note key hash of the Ed25519 public key.
func (n *noteSigner) KeyHash() uint32 { return n.hash }

// Sign signs msg with Ed25519. A signature that does not verify (a broken
// or misconfigured key provider) is an error, never a checkpoint.
func (n *noteSigner) Sign(msg []byte) ([]byte, error) {
	sig, err := n.signer.Sign(rand.Reader, msg, crypto.Hash(0))
	if err != nil {
		return nil, err
	}
	if !n.verifier.Verify(msg, sig) {
		return nil, errors.New("the key provider returned a signature that does not verify")
	}
	return sig, nil
}

// sign signs c as a note.
func (n *noteSigner) sign(c Checkpoint) (SignedCheckpoint, error) {
	msg, err := note.Sign(&note.Note{Text: string(c.Marshal())}, n)
	if err != nil {
		return SignedCheckpoint{}, err
	}
	return SignedCheckpoint{Checkpoint: c, Note: msg}, nil
}

// OpenCheckpoint verifies a signed checkpoint note with the verifier key
// (as VerifierKey returns it) and parses its body. The note must carry a
// valid signature of that key; signatures of other keys (witness
// cosignatures) are ignored. The origin must be the key's name.
func OpenCheckpoint(signed []byte, verifierKey string) (Checkpoint, error) {
	v, err := note.NewVerifier(verifierKey)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("%w: the verifier key: %w", ErrInvalidKey, err)
	}
	return openCheckpoint(signed, v)
}

func openCheckpoint(signed []byte, v note.Verifier) (Checkpoint, error) {
	if len(signed) > maxNoteBytes {
		return Checkpoint{}, fmt.Errorf("%w: the note is longer than %d bytes", ErrInvalidCheckpoint, maxNoteBytes)
	}
	n, err := note.Open(signed, note.VerifierList(v))
	if err != nil {
		var unknown *note.UnverifiedNoteError
		if errors.As(err, &unknown) {
			return Checkpoint{}, fmt.Errorf("%w: not signed by the key %s+%08x (signed by %s)", ErrInvalidCheckpoint, v.Name(), v.KeyHash(), signerNames(unknown.Note))
		}
		return Checkpoint{}, fmt.Errorf("%w: %w", ErrInvalidCheckpoint, err)
	}
	c, err := ParseCheckpoint([]byte(n.Text))
	if err != nil {
		return Checkpoint{}, err
	}
	if c.Origin != v.Name() {
		return Checkpoint{}, fmt.Errorf("%w: origin %q is not the key's name %q", ErrInvalidCheckpoint, c.Origin, v.Name())
	}
	return c, nil
}

func signerNames(n *note.Note) string {
	if n == nil || len(n.UnverifiedSigs) == 0 {
		return "no key"
	}
	var names []string
	for _, s := range n.UnverifiedSigs {
		names = append(names, fmt.Sprintf("%s+%08x", s.Name, s.Hash))
	}
	return strings.Join(names, ", ")
}
