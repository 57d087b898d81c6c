package journal_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/psykosocial/exchange/internal/journal"
)

// TestCheckpointFormat pins the checkpoint body. THE FORMAT NEVER CHANGES:
// signed checkpoints in use carry it.
func TestCheckpointFormat(t *testing.T) {
	c := journal.Checkpoint{Origin: testOrigin, Size: 45, Root: sha256.Sum256([]byte("root")),
		SignedAt: time.Date(2026, 11, 25, 14, 30, 5, 0, time.UTC)}
	want := "test.psykosocial.dk/journal\n45\n" + base64.StdEncoding.EncodeToString(c.Root[:]) + "\nsigned-at 2026-11-25T14:30:05Z\n"
	if got := string(c.Marshal()); got != want {
		t.Fatalf("checkpoint body:\n%q\nwant\n%q", got, want)
	}
	back, err := journal.ParseCheckpoint([]byte(want))
	if err != nil || back != c {
		t.Fatalf("ParseCheckpoint = %+v, %v", back, err)
	}
	bad := map[string]string{
		"no signed-at":        strings.Replace(want, "signed-at 2026-11-25T14:30:05Z\n", "", 1),
		"extra line":          want + "other extension\n",
		"size leading zero":   strings.Replace(want, "\n45\n", "\n045\n", 1),
		"size negative":       strings.Replace(want, "\n45\n", "\n-45\n", 1),
		"root url base64":     strings.Replace(want, "=\n", "\n", 1),
		"time with offset":    strings.Replace(want, "14:30:05Z", "15:30:05+01:00", 1),
		"time with fraction":  strings.Replace(want, "14:30:05Z", "14:30:05.5Z", 1),
		"no final newline":    strings.TrimSuffix(want, "\n"),
		"origin with a space": strings.Replace(want, "test.psykosocial.dk/journal", "test journal", 1),
	}
	for name, in := range bad {
		if _, err := journal.ParseCheckpoint([]byte(in)); !errors.Is(err, journal.ErrInvalidCheckpoint) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestCheckpointNoteInterop checks a signed checkpoint with the reference
// signed-note implementation (golang.org/x/mod/sumdb/note) and with an
// independent verifier written from the C2SP signed-note specification.
func TestCheckpointNoteInterop(t *testing.T) {
	ctx := context.Background()
	clk := newFakeClock()
	j := newJournal(t, openSQLite(t), journal.Config{Clock: clk})
	if _, err := j.Append(ctx, sampleEntry(0), sampleEntry(1), sampleEntry(2)); err != nil {
		t.Fatal(err)
	}
	sc, err := j.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	vkey := j.VerifierKey()
	pub := testKey(1).Public().(ed25519.PublicKey)

	// The reference implementation.
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	n, err := note.Open(sc.Note, note.VerifierList(v))
	if err != nil {
		t.Fatal(err)
	}
	if n.Text != string(sc.Checkpoint.Marshal()) || len(n.Sigs) != 1 {
		t.Fatalf("note text %q, %d signatures", n.Text, len(n.Sigs))
	}
	if !sc.SignedAt.Equal(clk.Now()) || sc.Size != 3 {
		t.Fatalf("checkpoint %+v", sc.Checkpoint)
	}

	// The independent one.
	parts := strings.Split(vkey, "+")
	if len(parts) != 3 || parts[0] != testOrigin {
		t.Fatalf("verifier key %q", vkey)
	}
	keyBytes, _ := base64.StdEncoding.DecodeString(parts[2])
	if !bytes.Equal(keyBytes, append([]byte{0x01}, pub...)) {
		t.Fatalf("verifier key does not carry 0x01 || the public key")
	}
	kh := sha256.Sum256(append([]byte(testOrigin+"\n"), keyBytes...))
	i := bytes.LastIndex(sc.Note, []byte("\n\n"))
	text, sigs := sc.Note[:i+1], strings.Split(strings.TrimSuffix(string(sc.Note[i+2:]), "\n"), "\n")
	if len(sigs) != 1 || !strings.HasPrefix(sigs[0], "\u2014 "+testOrigin+" ") {
		t.Fatalf("signature lines %q", sigs)
	}
	sig, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(sigs[0], "\u2014 "+testOrigin+" "))
	if err != nil || len(sig) != 4+ed25519.SignatureSize {
		t.Fatalf("signature %v", err)
	}
	if binary.BigEndian.Uint32(sig[:4]) != binary.BigEndian.Uint32(kh[:4]) {
		t.Fatal("the key hash is not SHA-256(name || \\n || 0x01 || key)[:4]")
	}
	if !ed25519.Verify(pub, text, sig[4:]) {
		t.Fatal("the Ed25519 signature over the note text does not verify")
	}

	// OpenCheckpoint refuses another key and another origin.
	if _, err := journal.OpenCheckpoint(sc.Note, vkeyOf(t, testKey(2))); !errors.Is(err, journal.ErrInvalidCheckpoint) {
		t.Fatalf("another key: %v", err)
	}
	otherOrigin, _ := journal.VerifierKey("other.example/log", pub)
	if _, err := journal.OpenCheckpoint(sc.Note, otherOrigin); !errors.Is(err, journal.ErrInvalidCheckpoint) {
		t.Fatalf("another origin: %v", err)
	}
}
