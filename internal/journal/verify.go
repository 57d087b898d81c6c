package journal

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"runtime"

	"github.com/transparency-dev/merkle/proof"
	"golang.org/x/mod/sumdb/note"

	"github.com/psykosocial/exchange/internal/strictjson"
)

// VerifyOptions configures Verify.
type VerifyOptions struct {
	// VerifierKey is the journal's note verifier key (see VerifierKey),
	// obtained from a trusted source, never from the export itself.
	VerifierKey string
	// RequireFull refuses query exports, which cannot prove completeness.
	RequireFull bool
	// MinTreeSize, when set, requires the export to reach at least this
	// tree size: a checkpoint the DPO knows independently guards against
	// an export cut short at a checkpoint.
	MinTreeSize uint64
}

// VerifyReport says what a verified export proves.
type VerifyReport struct {
	// Kind is ExportFull or ExportQuery.
	Kind string
	// Origin is the journal's origin.
	Origin string
	// Entries is the number of entries verified.
	Entries uint64
	// Checkpoints is the number of checkpoints verified.
	Checkpoints int
	// Latest is the last checkpoint of the export: every entry is proven
	// to be in its tree, and (for a full export) the tree holds exactly the
	// entries of the export.
	Latest Checkpoint
}

// Verify checks an export (as Export writes it) against the journal's
// public key, offline. For a full export it recomputes every leaf hash,
// rebuilds the tree, checks every checkpoint's signature and that its
// root is the root of the entries before it, and so that each checkpoint
// is consistent with the one before it; every entry must be covered by a
// checkpoint. For a query export it checks every entry's inclusion proof
// in the export's checkpoint. The first problem stops it: the error is a
// *VerifyError naming the line and entry.
func Verify(r io.Reader, opt VerifyOptions) (*VerifyReport, error) {
	v, err := note.NewVerifier(opt.VerifierKey)
	if err != nil {
		return nil, fmt.Errorf("%w: the verifier key: %w", ErrInvalidKey, err)
	}
	vr := &verifier{in: bufio.NewReaderSize(r, maxExportLineBytes+1), key: v, opt: opt}
	rep, err := vr.run()
	if err != nil {
		return nil, err
	}
	return rep, nil
}

type verifier struct {
	in   *bufio.Reader
	key  note.Verifier
	opt  VerifyOptions
	line int
}

func failAt(line int, index int64, reason string, err error) *VerifyError {
	return &VerifyError{Line: line, LeafIndex: index, Reason: reason, Err: err}
}

func (v *verifier) fail(index int64, reason string, err error) error {
	return failAt(v.line, index, reason, err)
}

// readLine returns the next line without its newline, or io.EOF; line is
// the line's number.
func readLine(in *bufio.Reader, line int) ([]byte, error) {
	b, err := in.ReadSlice('\n')
	if len(b) == 0 && err == io.EOF {
		return nil, io.EOF
	}
	switch {
	case errors.Is(err, bufio.ErrBufferFull):
		return nil, failAt(line, -1, fmt.Sprintf("the line is longer than %d bytes", maxExportLineBytes), nil)
	case err == io.EOF:
		return nil, failAt(line, -1, "the line is incomplete: the export is truncated", nil)
	case err != nil:
		return nil, failAt(line, -1, "reading the export", err)
	}
	return b[:len(b)-1], nil
}

func (v *verifier) run() (*VerifyReport, error) {
	v.line = 1
	b, err := readLine(v.in, 1)
	if err == io.EOF {
		return nil, v.fail(-1, "the export is empty", nil)
	}
	if err != nil {
		return nil, err
	}
	var h exportHeader
	if err := strictjson.Unmarshal(b, &h, strictjson.Limits{MaxBytes: maxExportLineBytes}); err != nil {
		return nil, v.fail(-1, "the first line is not an export header", err)
	}
	if h.JournalExport != ExportVersion {
		return nil, v.fail(-1, fmt.Sprintf("export format version %d is not known (this tool reads %d)", h.JournalExport, ExportVersion), nil)
	}
	if h.Origin != v.key.Name() {
		return nil, v.fail(-1, fmt.Sprintf("the export is of journal %q, the key is of %q", h.Origin, v.key.Name()), nil)
	}
	rep := &VerifyReport{Kind: h.Kind, Origin: h.Origin}
	switch h.Kind {
	case ExportFull:
		err = v.full(h, rep)
	case ExportQuery:
		if v.opt.RequireFull {
			return nil, v.fail(-1, "this is a query export, and a full export was required", nil)
		}
		err = v.query(h, rep)
	default:
		return nil, v.fail(-1, fmt.Sprintf("unknown export kind %q", h.Kind), nil)
	}
	if err != nil {
		return nil, err
	}
	if rep.Latest.Size < v.opt.MinTreeSize {
		v.line = 0
		return nil, v.fail(-1, fmt.Sprintf("the export reaches tree size %d, less than the %d required", rep.Latest.Size, v.opt.MinTreeSize), nil)
	}
	return rep, nil
}

var (
	entryLinePrefix      = []byte(`{"leaf_index":`)
	checkpointLinePrefix = []byte(`{"checkpoint":`)
)

// entryLine is a parsed entry line.
type entryLine struct {
	index    uint64
	leafHash [sha256.Size]byte
	proof    [][]byte
	leaf     []byte
}

// parseEntryLine reads {"leaf_index":N,"leaf_hash":"B64"[,"proof":[...]],"entry":LEAF}.
func parseEntryLine(b []byte, withProof bool) (entryLine, string) {
	var el entryLine
	p := leafParser{b: b}
	if !p.lit(`{"leaf_index":`) {
		return el, "expected {\"leaf_index\":"
	}
	idx, ok := p.uint(maxTreeSize - 1)
	if !ok {
		return el, "leaf_index is not an integer"
	}
	el.index = idx
	if !p.lit(`,"leaf_hash":"`) || p.pos+45 > len(b) || b[p.pos+44] != '"' {
		return el, "expected the leaf_hash"
	}
	if n, err := base64.StdEncoding.Strict().Decode(el.leafHash[:], b[p.pos:p.pos+44]); err != nil || n != sha256.Size {
		return el, "leaf_hash is not 32 bytes of standard base64"
	}
	p.pos += 45
	if withProof {
		if !p.lit(`,"proof":[`) {
			return el, "expected the proof"
		}
		for n := 0; !p.lit("]"); n++ {
			if n > 0 && !p.lit(",") {
				return el, "proof: expected , or ]"
			}
			if n >= 64 || !p.lit(`"`) || p.pos+45 > len(b) || b[p.pos+44] != '"' {
				return el, "proof: expected at most 64 hashes in standard base64"
			}
			h := make([]byte, sha256.Size)
			if n, err := base64.StdEncoding.Strict().Decode(h, b[p.pos:p.pos+44]); err != nil || n != sha256.Size {
				return el, "proof: a hash is not 32 bytes of standard base64"
			}
			el.proof = append(el.proof, h)
			p.pos += 45
		}
	}
	if !p.lit(`,"entry":`) || len(b) < p.pos+2 || b[len(b)-1] != '}' {
		return el, "expected the entry"
	}
	el.leaf = b[p.pos : len(b)-1]
	return el, ""
}

// lineKind tells the lines of an export apart.
type lineKind uint8

const (
	lineOther lineKind = iota
	lineEntry
	lineCheckpoint
)

// checkedLine is one line of an export after the checks that need no
// context: the syntax of the line, the entry's canonical form, its seq
// against its index and its hash against its leaf hash; a checkpoint's
// signature.
type checkedLine struct {
	line      int
	kind      lineKind
	entry     entryLine
	malformed string       // the entry line does not parse
	err       *VerifyError // a context-free check failed
	cp        Checkpoint
}

// check runs the context-free checks of one line. It may run on any
// goroutine.
func (v *verifier) check(line int, b []byte, withProof bool) checkedLine {
	cl := checkedLine{line: line}
	switch {
	case bytes.HasPrefix(b, entryLinePrefix):
		cl.kind = lineEntry
		el, problem := parseEntryLine(b, withProof)
		if problem != "" {
			cl.malformed = problem
			return cl
		}
		cl.entry = el
		seq, err := parseLeaf(el.leaf, nil)
		switch {
		case err != nil:
			cl.err = failAt(line, int64(el.index), "the entry is not a canonical leaf", err)
		case seq != el.index:
			cl.err = failAt(line, int64(el.index), fmt.Sprintf("the entry says seq %d but stands at leaf index %d", seq, el.index), nil)
		case LeafHash(el.leaf) != el.leafHash:
			cl.err = failAt(line, int64(el.index), "the entry does not match its leaf hash: it was edited", nil)
		}
	case bytes.HasPrefix(b, checkpointLinePrefix):
		cl.kind = lineCheckpoint
		var line exportCheckpoint
		if err := strictjson.Unmarshal(b, &line, strictjson.Limits{MaxBytes: maxExportLineBytes}); err != nil {
			cl.err = failAt(cl.line, -1, "the checkpoint line is malformed", err)
			return cl
		}
		c, err := openCheckpoint([]byte(line.Checkpoint), v.key)
		if err != nil {
			cl.err = failAt(cl.line, -1, "the checkpoint does not verify", err)
			return cl
		}
		cl.cp = c
	}
	return cl
}

// lineBatch is a run of consecutive lines checked together.
type lineBatch struct {
	first int    // the number of the first line
	buf   []byte // the lines' bytes
	ends  []int  // the end offset of each line in buf
	lines []checkedLine
	end   error // after the lines: io.EOF or a read error
	done  chan struct{}
}

// stream reads the export's remaining lines, checks them on every CPU and
// delivers the batches in order; the consumer hands each batch back with
// recycle once it is done with it. Closing stop ends it early.
func (v *verifier) stream(stop <-chan struct{}, withProof bool) (batches <-chan *lineBatch, recycle func(*lineBatch)) {
	workers := max(1, min(runtime.GOMAXPROCS(0), maxVerifyWorkers))
	work := make(chan *lineBatch, 2*workers)
	ordered := make(chan *lineBatch, 2*workers)
	free := make(chan *lineBatch, 4*workers)
	recycle = func(b *lineBatch) {
		select {
		case free <- b:
		default:
		}
	}
	go func() { // the reader
		defer close(ordered)
		defer close(work)
		line := v.line
		for {
			var b *lineBatch
			select {
			case b = <-free:
				b.buf, b.ends, b.end = b.buf[:0], b.ends[:0], nil
			default:
				b = &lineBatch{buf: make([]byte, 0, batchBytes+maxExportLineBytes), ends: make([]int, 0, batchLines)}
			}
			b.first, b.done = line+1, make(chan struct{})
			for len(b.ends) < batchLines && len(b.buf) < batchBytes {
				l, err := readLine(v.in, line+1)
				if err != nil {
					b.end = err
					break
				}
				line++
				b.buf = append(b.buf, l...)
				b.ends = append(b.ends, len(b.buf))
			}
			select {
			case work <- b:
			case <-stop:
				return
			}
			select {
			case ordered <- b:
			case <-stop:
				return
			}
			if b.end != nil {
				return
			}
		}
	}()
	for range workers {
		go func() {
			for b := range work {
				if cap(b.lines) < len(b.ends) {
					b.lines = make([]checkedLine, len(b.ends), batchLines)
				}
				b.lines = b.lines[:len(b.ends)]
				start := 0
				for i, end := range b.ends {
					b.lines[i] = v.check(b.first+i, b.buf[start:end:end], withProof)
					start = end
				}
				close(b.done)
			}
		}()
	}
	return ordered, recycle
}

func (v *verifier) full(h exportHeader, rep *VerifyReport) error {
	stop := make(chan struct{})
	defer close(stop)
	rng := newRangeFactory().NewEmptyRange(0)
	var next uint64
	var prev Checkpoint // the last checkpoint verified (size 0: none)
	batches, recycle := v.stream(stop, false)
	for b := range batches {
		<-b.done
		for _, cl := range b.lines {
			v.line = cl.line
			switch cl.kind {
			case lineEntry:
				if cl.malformed != "" {
					return v.fail(int64(next), "the entry line is malformed: "+cl.malformed, nil)
				}
				el := cl.entry
				switch {
				case el.index > next:
					return v.fail(int64(next), fmt.Sprintf("entry %d is missing (deleted or reordered): the next line holds entry %d", next, el.index), nil)
				case el.index < next:
					return v.fail(int64(el.index), fmt.Sprintf("entry %d appears again or out of order after entry %d", el.index, next-1), nil)
				}
				if cl.err != nil {
					return cl.err
				}
				if err := rng.Append(el.leafHash[:], nil); err != nil {
					return v.fail(int64(el.index), "the tree", err)
				}
				next++
			case lineCheckpoint:
				if cl.err != nil {
					return cl.err
				}
				c := cl.cp
				if c.Size != next {
					return v.fail(-1, fmt.Sprintf("a checkpoint of size %d stands after entry %d: entries are missing or reordered, or the checkpoint was moved", c.Size, int64(next)-1), nil)
				}
				if c.Size <= prev.Size {
					return v.fail(-1, fmt.Sprintf("the checkpoint of size %d does not follow the one of size %d", c.Size, prev.Size), nil)
				}
				root, err := rootOf(rng.End(), rng.Hashes())
				if err != nil {
					return v.fail(-1, "the tree", err)
				}
				if root != c.Root {
					e := failAt(cl.line, int64(prev.Size), fmt.Sprintf(
						"the signed root of the checkpoint of size %d does not match entries %d to %d: one of them was changed together with its leaf hash, or entries were replaced",
						c.Size, prev.Size, c.Size-1), nil)
					e.Range = &[2]uint64{prev.Size, c.Size}
					return e
				}
				prev = c
				rep.Checkpoints++
			default:
				return v.fail(int64(next), "the line is neither an entry nor a checkpoint", nil)
			}
		}
		if b.end != nil && b.end != io.EOF {
			return b.end
		}
		recycle(b)
	}
	v.line = 0
	rep.Entries, rep.Latest = next, prev
	switch {
	case rep.Checkpoints == 0:
		return v.fail(-1, "the export holds no checkpoint", nil)
	case next != h.TreeSize:
		return v.fail(int64(next), fmt.Sprintf("the export ends after %d entries, its header announces %d: it is truncated", next, h.TreeSize), nil)
	case prev.Size != next:
		return v.fail(int64(prev.Size), fmt.Sprintf("entries %d to %d are covered by no checkpoint", prev.Size, next-1), nil)
	}
	return nil
}

func (v *verifier) query(h exportHeader, rep *VerifyReport) error {
	stop := make(chan struct{})
	defer close(stop)
	var c Checkpoint
	haveCP := false
	var count uint64
	last := int64(-1)
	batches, recycle := v.stream(stop, true)
	for b := range batches {
		<-b.done
		for _, cl := range b.lines {
			v.line = cl.line
			if !haveCP {
				if cl.kind != lineCheckpoint {
					return v.fail(-1, "the second line of a query export must be its checkpoint", nil)
				}
				if cl.err != nil {
					return cl.err
				}
				c, haveCP = cl.cp, true
				if c.Size != h.TreeSize {
					return v.fail(-1, fmt.Sprintf("the checkpoint is of size %d, the header announces %d", c.Size, h.TreeSize), nil)
				}
				continue
			}
			if cl.kind != lineEntry {
				return v.fail(-1, "a query export holds one checkpoint, then entries", nil)
			}
			if cl.malformed != "" {
				return v.fail(-1, "the entry line is malformed: "+cl.malformed, nil)
			}
			el := cl.entry
			if int64(el.index) <= last {
				return v.fail(int64(el.index), "entries are out of order or repeated", nil)
			}
			if el.index >= c.Size {
				return v.fail(int64(el.index), fmt.Sprintf("the entry is outside the checkpoint of size %d", c.Size), nil)
			}
			if cl.err != nil {
				return cl.err
			}
			if err := proof.VerifyInclusion(hasher, el.index, c.Size, el.leafHash[:], el.proof, c.Root[:]); err != nil {
				return v.fail(int64(el.index), "the inclusion proof does not lead to the checkpoint's root", err)
			}
			last = int64(el.index)
			count++
		}
		if b.end != nil && b.end != io.EOF {
			return b.end
		}
		recycle(b)
	}
	if !haveCP {
		v.line = 0
		return v.fail(-1, "the export holds no checkpoint: it is truncated", nil)
	}
	rep.Checkpoints, rep.Latest, rep.Entries = 1, c, count
	return nil
}
