package journal

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"

	"github.com/psykosocial/exchange/internal/clock"
)

// Query is one page of a search.
type Query struct {
	Filter
	// Cursor continues a previous search (Page.Next); "" starts at the
	// first entry. A cursor is valid only with the same Filter.
	Cursor string
	// Limit is the page size; 0 means 100, at most 1000.
	Limit int
	// Proofs asks for an inclusion proof of every result in the page's checkpoint.
	Proofs bool
}

// Result is one entry found, with what proves its inclusion: the leaf
// bytes (whose hash is the leaf hash), the leaf index, and, when asked
// for, the inclusion proof in the page's checkpoint.
type Result struct {
	// Entry is the decoded entry.
	Entry Entry
	// Leaf is the entry's leaf encoding.
	Leaf []byte
	// LeafIndex is the entry's index in the tree (= Entry.Seq).
	LeafIndex uint64
	// Covered reports whether the page's checkpoint includes the entry.
	// An entry newer than the latest checkpoint is covered by the next one.
	Covered bool
	// Proof is the inclusion proof of the leaf in the page's checkpoint
	// (Query.Proofs and Covered), hashes from the leaf upward.
	Proof [][]byte
}

// Page is one page of results.
type Page struct {
	// Results are the entries found, by increasing sequence number.
	Results []Result
	// More reports whether more entries matched when the page was read.
	More bool
	// Next continues the search after this page: with More, the next page;
	// without, the entries appended later.
	Next string
	// Checkpoint is the latest signed checkpoint when the page was read,
	// which the proofs lead to; nil before the first checkpoint.
	Checkpoint *SignedCheckpoint

	next uint64 // the sequence number Next starts from
}

// Reader queries a journal and builds proofs. It needs no key.
type Reader struct {
	entries EntryReader
	tree    TreeReader
	cps     CheckpointStore
	clock   clock.Clock // the time an export is written at
}

// NewReader returns a Reader over storage. clk tells the time an Export
// records in its header; NewReader panics when it is nil.
func NewReader(s interface {
	EntryReader
	TreeReader
	CheckpointStore
}, clk clock.Clock) *Reader {
	if clk == nil {
		panic("journal: NewReader with a nil clock")
	}
	return &Reader{entries: s, tree: s, cps: s, clock: clk}
}

// Query returns one page of the entries that match q.
func (r *Reader) Query(ctx context.Context, q Query) (*Page, error) {
	if err := q.Filter.check(); err != nil {
		return nil, err
	}
	limit := q.Limit
	switch {
	case limit == 0:
		limit = defaultPageSize
	case limit < 0 || limit > maxPageSize:
		return nil, fmt.Errorf("%w: the page size must be 1 to %d", ErrInvalidQuery, maxPageSize)
	}
	fp := q.Filter.fingerprint()
	from, err := parseCursor(q.Cursor, fp)
	if err != nil {
		return nil, err
	}
	// The checkpoint is read first: every result it covers can be proven.
	cp, haveCP, err := r.cps.LatestCheckpoint(ctx)
	if err != nil {
		return nil, unavailable("query", err)
	}
	var cpp *SignedCheckpoint
	if haveCP {
		cpp = &cp
	}
	page, err := r.page(ctx, q.Filter, from, limit, cpp, q.Proofs, maxTreeSize)
	if err != nil {
		return nil, err
	}
	page.Next = makeCursor(page.next, fp)
	return page, nil
}

// page reads up to limit results matching f from sequence number from,
// below end, with proofs in cp when asked.
func (r *Reader) page(ctx context.Context, f Filter, from uint64, limit int, cp *SignedCheckpoint, proofs bool, end uint64) (*Page, error) {
	rows, err := r.entries.Find(ctx, f, from, limit+1)
	if err != nil {
		return nil, unavailable("query", err)
	}
	page := &Page{Checkpoint: cp, next: from}
	if len(rows) > 0 && rows[len(rows)-1].Seq >= end {
		i := len(rows)
		for i > 0 && rows[i-1].Seq >= end {
			i--
		}
		rows = rows[:i]
	} else if len(rows) > limit {
		rows, page.More = rows[:limit], true
	}
	var proofIDs []compact.NodeID
	var proofNodes []proof.Nodes
	for _, row := range rows {
		lh := LeafHash(row.Leaf)
		if !bytes.Equal(lh[:], row.LeafHash) {
			return nil, fmt.Errorf("%w: entry %d does not match its stored leaf hash", ErrCorrupt, row.Seq)
		}
		e, err := ParseLeaf(row.Leaf)
		if err != nil || e.Seq != row.Seq {
			return nil, fmt.Errorf("%w: entry %d: %v", ErrCorrupt, row.Seq, err)
		}
		res := Result{Entry: e, Leaf: row.Leaf, LeafIndex: row.Seq, Covered: cp != nil && row.Seq < cp.Size}
		if proofs && res.Covered {
			n, err := proof.Inclusion(row.Seq, cp.Size)
			if err != nil {
				return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
			}
			proofNodes = append(proofNodes, n)
			proofIDs = append(proofIDs, n.IDs...)
		}
		page.Results = append(page.Results, res)
		page.next = row.Seq + 1
	}
	if len(proofIDs) > 0 {
		if err := r.fillProofs(ctx, page, proofIDs, proofNodes); err != nil {
			return nil, err
		}
	}
	return page, nil
}

// fillProofs fetches every node the page's proofs need in one read.
func (r *Reader) fillProofs(ctx context.Context, page *Page, ids []compact.NodeID, nodes []proof.Nodes) error {
	uniq := slices.Clone(ids)
	slices.SortFunc(uniq, func(a, b compact.NodeID) int {
		if a.Level != b.Level {
			return int(a.Level) - int(b.Level)
		}
		return cmpUint(a.Index, b.Index)
	})
	uniq = slices.Compact(uniq)
	hs, err := nodeHashes(ctx, r.tree, uniq)
	if err != nil {
		return err
	}
	byID := make(map[compact.NodeID][]byte, len(uniq))
	for i, id := range uniq {
		byID[id] = hs[i]
	}
	k := 0
	for i := range page.Results {
		if !page.Results[i].Covered {
			continue
		}
		n := nodes[k]
		k++
		h := make([][]byte, len(n.IDs))
		for j, id := range n.IDs {
			h[j] = byID[id]
		}
		p, err := n.Rehash(h, hasher.HashChildren)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
		page.Results[i].Proof = p
	}
	return nil
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// InclusionProof returns the proof that leaf index is in the tree of size.
func (r *Reader) InclusionProof(ctx context.Context, index, size uint64) ([][]byte, error) {
	if err := r.checkSize(ctx, size); err != nil {
		return nil, err
	}
	return inclusionProof(ctx, r.tree, index, size)
}

// ConsistencyProof returns the proof that the tree of size1 is a prefix of
// the tree of size2.
func (r *Reader) ConsistencyProof(ctx context.Context, size1, size2 uint64) ([][]byte, error) {
	if err := r.checkSize(ctx, size2); err != nil {
		return nil, err
	}
	return consistencyProof(ctx, r.tree, size1, size2)
}

// RootAt returns the root hash of the first size entries.
func (r *Reader) RootAt(ctx context.Context, size uint64) ([sha256.Size]byte, error) {
	if err := r.checkSize(ctx, size); err != nil {
		return [sha256.Size]byte{}, err
	}
	return rootAt(ctx, r.tree, size)
}

// LatestCheckpoint returns the latest signed checkpoint; the error matches
// ErrNoCheckpoint when none has been signed yet.
func (r *Reader) LatestCheckpoint(ctx context.Context) (SignedCheckpoint, error) {
	c, ok, err := r.cps.LatestCheckpoint(ctx)
	if err != nil {
		return SignedCheckpoint{}, unavailable("checkpoint", err)
	}
	if !ok {
		return SignedCheckpoint{}, ErrNoCheckpoint
	}
	return c, nil
}

// Checkpoints returns up to limit checkpoints larger than size after, by increasing size.
func (r *Reader) Checkpoints(ctx context.Context, after uint64, limit int) ([]SignedCheckpoint, error) {
	if limit <= 0 || limit > maxPageSize {
		return nil, fmt.Errorf("%w: the page size must be 1 to %d", ErrInvalidQuery, maxPageSize)
	}
	cs, err := r.cps.Checkpoints(ctx, after, limit)
	if err != nil {
		return nil, unavailable("checkpoints", err)
	}
	return cs, nil
}

func (r *Reader) checkSize(ctx context.Context, size uint64) error {
	n, err := r.tree.Size(ctx)
	if err != nil {
		return unavailable("size", err)
	}
	if size > n {
		return fmt.Errorf("%w: the journal has %d entries, not %d", ErrInvalidQuery, n, size)
	}
	return nil
}

func unavailable(op string, err error) error {
	return &UnavailableError{Op: op, Err: err}
}

// check validates the filter's shape.
func (f *Filter) check() error {
	bad := func(what string) error { return fmt.Errorf("%w: %s", ErrInvalidQuery, what) }
	if len(f.Subjects) > maxSubjectsPerQuery {
		return bad(fmt.Sprintf("more than %d subject references", maxSubjectsPerQuery))
	}
	for _, s := range f.Subjects {
		if !isSubjectRef(s) {
			return bad("a subject reference is not 43 base64url characters")
		}
	}
	if !isID(f.RecordID) || !isID(f.IncidentID) {
		return bad("a record or incident id is malformed")
	}
	if f.Authority != "" && !isAuthority(f.Authority) {
		return bad("the authority is not an authority id")
	}
	if len(f.Scope) > maxScopePerQuery {
		return bad(fmt.Sprintf("more than %d authorities in the scope", maxScopePerQuery))
	}
	for _, a := range f.Scope {
		if !isAuthority(a) {
			return bad("an authority of the scope is not an authority id")
		}
	}
	if len(f.Events) > maxEventsPerQuery {
		return bad(fmt.Sprintf("more than %d event types", maxEventsPerQuery))
	}
	for _, e := range f.Events {
		if !isAuthority(string(e)) { // same alphabet: lower case, digits, _
			return bad("an event type is malformed")
		}
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		return bad("since must be before until")
	}
	return nil
}

// fingerprint names the filter in its cursors.
func (f *Filter) fingerprint() [8]byte {
	var b strings.Builder
	subj := slices.Clone(f.Subjects)
	slices.Sort(subj)
	ev := make([]string, len(f.Events))
	for i, e := range f.Events {
		ev[i] = string(e)
	}
	slices.Sort(ev)
	tm := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339Nano)
	}
	fmt.Fprintf(&b, "%q|%q|%q|%q|%q|%q|%q", strings.Join(subj, ","), f.RecordID, f.IncidentID,
		f.Authority, strings.Join(ev, ","), tm(f.Since), tm(f.Until))
	if len(f.Scope) > 0 {
		sc := slices.Clone(f.Scope)
		slices.Sort(sc)
		fmt.Fprintf(&b, "|%q", strings.Join(sc, ","))
	}
	sum := sha256.Sum256([]byte(b.String()))
	var fp [8]byte
	copy(fp[:], sum[:8])
	return fp
}

// cursorPrefix versions the cursor format.
const cursorPrefix = "c1."

func makeCursor(from uint64, fp [8]byte) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], from)
	copy(b[8:], fp[:])
	return cursorPrefix + base64.RawURLEncoding.EncodeToString(b[:])
}

func parseCursor(c string, fp [8]byte) (uint64, error) {
	if c == "" {
		return 0, nil
	}
	rest, ok := strings.CutPrefix(c, cursorPrefix)
	b, err := base64.RawURLEncoding.Strict().DecodeString(rest)
	if !ok || err != nil || len(b) != 16 {
		return 0, fmt.Errorf("%w: the cursor is malformed", ErrInvalidQuery)
	}
	if !bytes.Equal(b[8:], fp[:]) {
		return 0, fmt.Errorf("%w: the cursor belongs to another query", ErrInvalidQuery)
	}
	from := binary.BigEndian.Uint64(b[:8])
	if from >= maxTreeSize {
		return 0, fmt.Errorf("%w: the cursor is malformed", ErrInvalidQuery)
	}
	return from, nil
}
