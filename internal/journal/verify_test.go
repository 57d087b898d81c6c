package journal_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/psykosocial/exchange/internal/journal"
	"github.com/psykosocial/exchange/internal/journal/sqlite"
)

// exported builds a journal of 45 entries with checkpoints at 10, 20, 30,
// 40 and 45 and returns its full export and a query export.
func exported(t *testing.T) (full, query []byte, j *journal.Journal) {
	t.Helper()
	ctx := context.Background()
	j = newJournal(t, openSQLite(t), journal.Config{CheckpointEvery: 10})
	batch := make([]journal.Entry, 45)
	for i := range batch {
		batch[i] = sampleEntry(i)
	}
	if _, err := j.Append(ctx, batch...); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "checkpoints", func() bool { return strings.HasPrefix(sizes(t, j), "10 20 30 40") })
	if _, err := j.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	if s := sizes(t, j); s != "10 20 30 40 45" {
		t.Fatalf("checkpoints %s", s)
	}
	var fb, qb bytes.Buffer
	sum, err := j.Export(ctx, &fb, journal.ExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Entries != 45 || sum.Checkpoints != 5 || sum.Kind != journal.ExportFull {
		t.Fatalf("export summary %+v", sum)
	}
	sum, err = j.Export(ctx, &qb, journal.ExportOptions{Filter: &journal.Filter{Subjects: []string{subjectRef(3)}}})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Entries == 0 || sum.Kind != journal.ExportQuery {
		t.Fatalf("query export summary %+v", sum)
	}
	return fb.Bytes(), qb.Bytes(), j
}

func lines(b []byte) []string { return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") }

func unlines(l []string) []byte { return []byte(strings.Join(l, "\n") + "\n") }

// lineOfEntry is the index in lines of entry i (lines[0] is the header).
func lineOfEntry(t *testing.T, l []string, i int) int {
	t.Helper()
	p := fmt.Sprintf(`{"leaf_index":%d,`, i)
	for k, s := range l {
		if strings.HasPrefix(s, p) {
			return k
		}
	}
	t.Fatalf("no line for entry %d", i)
	return 0
}

func lineOfCheckpoint(t *testing.T, l []string, size int) int {
	t.Helper()
	for k, s := range l {
		if strings.HasPrefix(s, `{"checkpoint":`) && strings.Contains(s, fmt.Sprintf(`\n%d\n`, size)) {
			return k
		}
	}
	t.Fatalf("no checkpoint of size %d", size)
	return 0
}

// splitEntry returns the parts of an entry line around its leaf.
func splitEntry(t *testing.T, s string) (index int, proof string, leaf string) {
	t.Helper()
	var rest string
	if _, err := fmt.Sscanf(s, `{"leaf_index":%d,`, &index); err != nil {
		t.Fatal(err)
	}
	i := strings.Index(s, `,"entry":`)
	leaf = s[i+len(`,"entry":`) : len(s)-1]
	rest = s[:i]
	if k := strings.Index(rest, `,"proof":`); k >= 0 {
		proof = rest[k:]
	}
	return index, proof, leaf
}

// entryLine rebuilds an entry line with a correct leaf hash for leaf.
func entryLine(index int, proof, leaf string) string {
	h := journal.LeafHash([]byte(leaf))
	return fmt.Sprintf(`{"leaf_index":%d,"leaf_hash":"%s"%s,"entry":%s}`, index, base64.StdEncoding.EncodeToString(h[:]), proof, leaf)
}

// resign signs the checkpoint line's note again with key.
func resign(t *testing.T, line string, key ed25519.PrivateKey, edit func(string) string) string {
	t.Helper()
	var cl struct {
		Checkpoint string `json:"checkpoint"`
	}
	if err := json.Unmarshal([]byte(line), &cl); err != nil {
		t.Fatal(err)
	}
	text := cl.Checkpoint[:strings.LastIndex(cl.Checkpoint, "\n\n")+1]
	if edit != nil {
		text = edit(text)
	}
	signed, err := note.Sign(&note.Note{Text: text}, noteSigner(t, key))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]string{"checkpoint": string(signed)})
	return string(b)
}

func noteSigner(t *testing.T, key ed25519.PrivateKey) note.Signer {
	t.Helper()
	v, err := note.NewVerifier(vkeyOf(t, key))
	if err != nil {
		t.Fatal(err)
	}
	skey := fmt.Sprintf("PRIVATE+KEY+%s+%08x+%s", testOrigin, v.KeyHash(),
		base64.StdEncoding.EncodeToString(append([]byte{1}, key.Seed()...)))
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func editLeaf(leaf string) string {
	return strings.Replace(leaf, `"outcome":"ok"`, `"outcome":"refused"`, 1)
}

func TestVerifyFullExport(t *testing.T) {
	full, _, j := exported(t)
	vkey := j.VerifierKey()
	rep, err := journal.Verify(bytes.NewReader(full), journal.VerifyOptions{VerifierKey: vkey})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Entries != 45 || rep.Checkpoints != 5 || rep.Latest.Size != 45 || rep.Kind != journal.ExportFull {
		t.Fatalf("report %+v", rep)
	}
	// Dropping a checkpoint in the middle proves less but nothing false.
	l := lines(full)
	l = append(l[:lineOfCheckpoint(t, l, 20)], l[lineOfCheckpoint(t, l, 20)+1:]...)
	if rep, err := journal.Verify(bytes.NewReader(unlines(l)), journal.VerifyOptions{VerifierKey: vkey}); err != nil || rep.Checkpoints != 4 {
		t.Fatalf("without checkpoint 20: %+v, %v", rep, err)
	}
}

// TestVerifyTampered tampers with a full export in every way the issue
// lists and checks that Verify fails and names the place.
func TestVerifyTampered(t *testing.T) {
	full, _, j := exported(t)
	vkey := j.VerifierKey()
	type want struct {
		line      int    // 1-based line, 0 = at the end, -1 = don't care
		leafIndex int64  // -2 = don't care
		reason    string // substring
		rng       *[2]uint64
	}
	cases := []struct {
		name   string
		tamper func(t *testing.T, l []string) []byte
		opt    journal.VerifyOptions
		want   want
	}{
		{"truncated in the middle of a line", func(t *testing.T, l []string) []byte {
			b := unlines(l[:20])
			return append(b, l[20][:len(l[20])/2]...)
		}, journal.VerifyOptions{}, want{21, -1, "truncated", nil}},
		{"truncated at a line", func(t *testing.T, l []string) []byte {
			return unlines(l[:lineOfEntry(t, l, 33)])
		}, journal.VerifyOptions{}, want{0, 33, "truncated", nil}},
		{"truncated at a checkpoint, header edited", func(t *testing.T, l []string) []byte {
			k := lineOfCheckpoint(t, l, 30)
			l[0] = strings.Replace(l[0], `"tree_size":45`, `"tree_size":30`, 1)
			return unlines(l[:k+1])
		}, journal.VerifyOptions{MinTreeSize: 45}, want{0, -1, "less than the 45 required", nil}},
		{"edited entry", func(t *testing.T, l []string) []byte {
			k := lineOfEntry(t, l, 23)
			l[k] = editLeaf(l[k])
			return unlines(l)
		}, journal.VerifyOptions{}, want{-1, 23, "edited", nil}},
		{"edited entry with its leaf hash", func(t *testing.T, l []string) []byte {
			k := lineOfEntry(t, l, 23)
			i, p, leaf := splitEntry(t, l[k])
			l[k] = entryLine(i, p, editLeaf(leaf))
			return unlines(l)
		}, journal.VerifyOptions{}, want{-1, 20, "does not match entries 20 to 29", &[2]uint64{20, 30}}},
		{"entry changed to non-canonical JSON", func(t *testing.T, l []string) []byte {
			k := lineOfEntry(t, l, 7)
			i, p, leaf := splitEntry(t, l[k])
			l[k] = entryLine(i, p, strings.Replace(leaf, `"seq":7,`, `"seq": 7,`, 1))
			return unlines(l)
		}, journal.VerifyOptions{}, want{-1, 7, "not a canonical leaf", nil}},
		{"reordered entries", func(t *testing.T, l []string) []byte {
			a, b := lineOfEntry(t, l, 12), lineOfEntry(t, l, 13)
			l[a], l[b] = l[b], l[a]
			return unlines(l)
		}, journal.VerifyOptions{}, want{-1, 12, "entry 12 is missing", nil}},
		{"reordered and renumbered", func(t *testing.T, l []string) []byte {
			a, b := lineOfEntry(t, l, 12), lineOfEntry(t, l, 13)
			_, pa, la := splitEntry(t, l[a])
			_, pb, lb := splitEntry(t, l[b])
			la = strings.Replace(la, `"seq":12,`, `"seq":13,`, 1)
			lb = strings.Replace(lb, `"seq":13,`, `"seq":12,`, 1)
			l[a], l[b] = entryLine(12, pb, lb), entryLine(13, pa, la)
			return unlines(l)
		}, journal.VerifyOptions{}, want{-1, 10, "does not match entries 10 to 19", &[2]uint64{10, 20}}},
		{"seq edited to match a new position", func(t *testing.T, l []string) []byte {
			k := lineOfEntry(t, l, 5)
			l[k] = strings.Replace(l[k], `{"leaf_index":5,`, `{"leaf_index":6,`, 1)
			l = append(l[:k+1], l[k+1:]...)
			return unlines(l)
		}, journal.VerifyOptions{}, want{-1, 5, "entry 5 is missing", nil}},
		{"deleted entry", func(t *testing.T, l []string) []byte {
			k := lineOfEntry(t, l, 17)
			return unlines(append(l[:k], l[k+1:]...))
		}, journal.VerifyOptions{}, want{-1, 17, "entry 17 is missing", nil}},
		{"deleted entry, later ones renumbered", func(t *testing.T, l []string) []byte {
			k := lineOfEntry(t, l, 17)
			l = append(l[:k], l[k+1:]...)
			for n := k; n < len(l); n++ {
				if !strings.HasPrefix(l[n], `{"leaf_index":`) {
					continue
				}
				i, p, leaf := splitEntry(t, l[n])
				leaf = strings.Replace(leaf, fmt.Sprintf(`"seq":%d,`, i), fmt.Sprintf(`"seq":%d,`, i-1), 1)
				l[n] = entryLine(i-1, p, leaf)
			}
			return unlines(l)
		}, journal.VerifyOptions{}, want{-1, -1, "a checkpoint of size 20 stands after entry 18", nil}},
		{"entry repeated", func(t *testing.T, l []string) []byte {
			k := lineOfEntry(t, l, 5)
			l = append(l[:k+1], l[k:]...)
			return unlines(l)
		}, journal.VerifyOptions{}, want{-1, 5, "appears again", nil}},
		{"entry added after the last checkpoint", func(t *testing.T, l []string) []byte {
			e := sampleEntry(45)
			e.Seq, e.Time = 45, mustParseLeaf(t, l[1]).Time
			slices.Sort(e.Fields)
			slices.Sort(e.Consent.Clause)
			b, err := journal.MarshalLeaf(e)
			if err != nil {
				t.Fatal(err)
			}
			return unlines(append(l, entryLine(45, "", string(b))))
		}, journal.VerifyOptions{}, want{0, 46, "truncated", nil}},
		{"forged checkpoint", func(t *testing.T, l []string) []byte {
			k := lineOfCheckpoint(t, l, 30)
			l[k] = strings.Replace(l[k], `\n30\n`, `\n31\n`, 1)
			return unlines(l)
		}, journal.VerifyOptions{}, want{-1, -1, "does not verify", nil}},
		{"checkpoint signed by another key", func(t *testing.T, l []string) []byte {
			k := lineOfCheckpoint(t, l, 30)
			l[k] = resign(t, l[k], testKey(2), nil)
			return unlines(l)
		}, journal.VerifyOptions{}, want{-1, -1, "not signed by the key", nil}},
		{"replaced key", func(t *testing.T, l []string) []byte {
			for k := range l {
				if strings.HasPrefix(l[k], `{"checkpoint":`) {
					l[k] = resign(t, l[k], testKey(2), nil)
				}
			}
			return unlines(l)
		}, journal.VerifyOptions{}, want{-1, -1, "not signed by the key", nil}},
		{"checkpoint moved", func(t *testing.T, l []string) []byte {
			k := lineOfCheckpoint(t, l, 20)
			c := l[k]
			l = append(l[:k], l[k+1:]...)
			m := lineOfEntry(t, l, 25)
			l = append(l[:m+1], append([]string{c}, l[m+1:]...)...)
			return unlines(l)
		}, journal.VerifyOptions{}, want{-1, -1, "a checkpoint of size 20 stands after entry 25", nil}},
		{"last checkpoint removed", func(t *testing.T, l []string) []byte {
			return unlines(l[:len(l)-1])
		}, journal.VerifyOptions{}, want{0, 40, "covered by no checkpoint", nil}},
		{"garbage line", func(t *testing.T, l []string) []byte {
			l[9] = `{"note":"hello"}`
			return unlines(l)
		}, journal.VerifyOptions{}, want{10, -2, "neither an entry nor a checkpoint", nil}},
		{"another journal's header", func(t *testing.T, l []string) []byte {
			l[0] = strings.Replace(l[0], testOrigin, "other.example/log", 1)
			return unlines(l)
		}, journal.VerifyOptions{}, want{1, -1, "the key is of", nil}},
		{"empty", func(t *testing.T, l []string) []byte { return nil }, journal.VerifyOptions{}, want{1, -1, "empty", nil}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := c.tamper(t, lines(full))
			opt := c.opt
			opt.VerifierKey = vkey
			rep, err := journal.Verify(bytes.NewReader(in), opt)
			var ve *journal.VerifyError
			if !errors.As(err, &ve) || !errors.Is(err, journal.ErrVerify) {
				t.Fatalf("Verify accepted the tampered export (%+v) or gave %v", rep, err)
			}
			if c.want.line >= 0 && ve.Line != c.want.line {
				t.Errorf("line %d, want %d: %v", ve.Line, c.want.line, err)
			}
			if c.want.leafIndex != -2 && ve.LeafIndex != c.want.leafIndex {
				t.Errorf("entry %d, want %d: %v", ve.LeafIndex, c.want.leafIndex, err)
			}
			if !strings.Contains(err.Error(), c.want.reason) {
				t.Errorf("error %q lacks %q", err, c.want.reason)
			}
			if c.want.rng != nil && (ve.Range == nil || *ve.Range != *c.want.rng) {
				t.Errorf("range %v, want %v", ve.Range, *c.want.rng)
			}
		})
	}
	// The export re-signed with another key verifies with that key: only the
	// DPO's trusted key tells the replacement.
	l := lines(full)
	for k := range l {
		if strings.HasPrefix(l[k], `{"checkpoint":`) {
			l[k] = resign(t, l[k], testKey(2), nil)
		}
	}
	if _, err := journal.Verify(bytes.NewReader(unlines(l)), journal.VerifyOptions{VerifierKey: vkeyOf(t, testKey(2))}); err != nil {
		t.Fatalf("re-signed export with its own key: %v", err)
	}
}

func mustParseLeaf(t *testing.T, line string) journal.Entry {
	t.Helper()
	_, _, leaf := splitEntry(t, line)
	e, err := journal.ParseLeaf([]byte(leaf))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestVerifyQueryExport(t *testing.T) {
	_, query, j := exported(t)
	vkey := j.VerifierKey()
	rep, err := journal.Verify(bytes.NewReader(query), journal.VerifyOptions{VerifierKey: vkey})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Kind != journal.ExportQuery || rep.Entries == 0 || rep.Latest.Size != 45 {
		t.Fatalf("report %+v", rep)
	}
	if _, err := journal.Verify(bytes.NewReader(query), journal.VerifyOptions{VerifierKey: vkey, RequireFull: true}); !errors.Is(err, journal.ErrVerify) {
		t.Fatalf("RequireFull accepted a query export: %v", err)
	}
	l := lines(query)
	second := 3 // the second entry line
	idx, _, _ := splitEntry(t, l[second])
	cases := map[string]struct {
		tamper func(*testing.T, []string) []byte
		index  int64
		reason string
	}{
		"edited entry": {func(t *testing.T, l []string) []byte {
			l[second] = editLeaf(l[second])
			return unlines(l)
		}, int64(idx), "edited"},
		"edited entry with its leaf hash": {func(t *testing.T, l []string) []byte {
			i, p, leaf := splitEntry(t, l[second])
			l[second] = entryLine(i, p, editLeaf(leaf))
			return unlines(l)
		}, int64(idx), "inclusion proof"},
		"proof altered": {func(t *testing.T, l []string) []byte {
			i, p, leaf := splitEntry(t, l[second])
			other := sha256.Sum256([]byte("not a node"))
			start := len(`,"proof":["`)
			p = p[:start] + base64.StdEncoding.EncodeToString(other[:]) + p[start+44:]
			l[second] = entryLine(i, p, leaf)
			return unlines(l)
		}, int64(idx), "inclusion proof"},
		"forged checkpoint": {func(t *testing.T, l []string) []byte {
			l[1] = resign(t, l[1], testKey(2), nil)
			return unlines(l)
		}, -1, "not signed by the key"},
		"entries reordered": {func(t *testing.T, l []string) []byte {
			l[2], l[3] = l[3], l[2]
			return unlines(l)
		}, -2, "out of order"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := journal.Verify(bytes.NewReader(c.tamper(t, lines(query))), journal.VerifyOptions{VerifierKey: vkey})
			var ve *journal.VerifyError
			if !errors.As(err, &ve) {
				t.Fatalf("accepted or %v", err)
			}
			if c.index != -2 && ve.LeafIndex != c.index {
				t.Errorf("entry %d, want %d: %v", ve.LeafIndex, c.index, err)
			}
			if !strings.Contains(err.Error(), c.reason) {
				t.Errorf("error %q lacks %q", err, c.reason)
			}
		})
	}
}

// FuzzVerify: whatever the input, Verify returns a report or a
// *VerifyError, never panics, and accepts nothing with an entry the
// journal did not write.
func FuzzVerify(f *testing.F) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(f.TempDir(), "j.db"), sqlite.Options{})
	if err != nil {
		f.Fatal(err)
	}
	defer store.Close()
	// Deterministic, because fuzz workers run this setup again.
	clk := newFakeClock()
	j, err := journal.New(ctx, store, testKey(1), journal.Config{Origin: testOrigin, CheckpointEvery: 4, Clock: clk})
	if err != nil {
		f.Fatal(err)
	}
	batch := make([]journal.Entry, 10)
	for i := range batch {
		batch[i] = sampleEntry(i)
	}
	if _, err := j.Append(ctx, batch...); err != nil {
		f.Fatal(err)
	}
	if err := j.Close(ctx); err != nil {
		f.Fatal(err)
	}
	r := journal.NewReader(store, clk)
	var full, query bytes.Buffer
	if _, err := r.Export(ctx, &full, journal.ExportOptions{}); err != nil {
		f.Fatal(err)
	}
	if _, err := r.Export(ctx, &query, journal.ExportOptions{Filter: &journal.Filter{Authority: "region:1084"}}); err != nil {
		f.Fatal(err)
	}
	leaves := map[string]bool{}
	for _, l := range lines(full.Bytes()) {
		if strings.HasPrefix(l, `{"leaf_index":`) {
			leaves[l[strings.Index(l, `,"entry":`):]] = true
		}
	}
	vkey := vkeyOf(f, testKey(1))
	f.Add(full.Bytes())
	f.Add(query.Bytes())
	f.Fuzz(func(t *testing.T, in []byte) {
		rep, err := journal.Verify(bytes.NewReader(in), journal.VerifyOptions{VerifierKey: vkey})
		if err != nil {
			var ve *journal.VerifyError
			if !errors.As(err, &ve) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		for _, l := range lines(in) {
			if strings.HasPrefix(l, `{"leaf_index":`) && !leaves[l[strings.Index(l, `,"entry":`):]] {
				t.Fatalf("accepted an entry the journal did not write: %s (%+v)", l, rep)
			}
		}
	})
}
