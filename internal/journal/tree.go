package journal

import (
	"context"
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
)

// hasher is the RFC 9162 (RFC 6962) SHA-256 tree hasher; it holds no state.
var hasher = rfc6962.DefaultHasher

// newRangeFactory returns the factory of compact ranges over hasher.
func newRangeFactory() *compact.RangeFactory {
	return &compact.RangeFactory{Hash: hasher.HashChildren}
}

// LeafHash returns the RFC 9162 hash of leaf bytes: SHA-256(0x00 || leaf).
func LeafHash(leaf []byte) [sha256.Size]byte {
	var h [sha256.Size]byte
	copy(h[:], hasher.HashLeaf(leaf))
	return h
}

// Head is the state of the tree that the next append extends: its size and
// the compact range of [0, Size), i.e. the roots of the perfect subtrees
// that cover the leaves, left to right (at most 64 hashes).
type Head struct {
	// Size is the number of entries, also the next sequence number.
	Size uint64
	// Compact are the compact range hashes.
	Compact [][]byte
}

// MarshalCompact returns the compact range hashes concatenated, for storage.
func (h Head) MarshalCompact() []byte {
	out := make([]byte, 0, len(h.Compact)*sha256.Size)
	for _, c := range h.Compact {
		out = append(out, c...)
	}
	return out
}

// ParseHead rebuilds a Head from its size and MarshalCompact bytes.
func ParseHead(size uint64, compactHashes []byte) (Head, error) {
	want := compact.RangeSize(0, size)
	if size >= maxTreeSize || len(compactHashes) != want*sha256.Size {
		return Head{}, fmt.Errorf("%w: a head of size %d has %d compact range bytes, want %d", ErrCorrupt, size, len(compactHashes), want*sha256.Size)
	}
	h := Head{Size: size, Compact: make([][]byte, want)}
	for i := range want {
		h.Compact[i] = compactHashes[i*sha256.Size : (i+1)*sha256.Size : (i+1)*sha256.Size]
	}
	return h, nil
}

// Root returns the root hash of the tree the head describes.
func (h Head) Root() ([sha256.Size]byte, error) {
	return rootOf(h.Size, h.Compact)
}

func rootOf(size uint64, hashes [][]byte) ([sha256.Size]byte, error) {
	var root [sha256.Size]byte
	if size == 0 {
		copy(root[:], hasher.EmptyRoot())
		return root, nil
	}
	r, err := newRangeFactory().NewRange(0, size, hashes)
	if err != nil {
		return root, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	h, err := r.GetRootHash(nil)
	if err != nil || len(h) != sha256.Size {
		return root, fmt.Errorf("%w: no root for size %d", ErrCorrupt, size)
	}
	copy(root[:], h)
	return root, nil
}

// Row is one entry as storage keeps it: the columns that queries select
// on, and the leaf bytes and leaf hash.
type Row struct {
	// Seq is the sequence number and leaf index.
	Seq uint64
	// Time is the entry's time (UTC, microseconds).
	Time time.Time
	// Event is the entry's event type (copied for the query indexes, as
	// are the fields below).
	Event EventType
	// Actor is the acting authority.
	Actor string
	// Counterpart is the other authority, or "".
	Counterpart string
	// RecordID is the record, or "".
	RecordID string
	// IncidentID is the incident, or "".
	IncidentID string
	// Subject is the subject reference (Subject.Ref), or "".
	Subject string
	// Leaf is the canonical leaf encoding.
	Leaf []byte
	// LeafHash is the RFC 9162 leaf hash of Leaf.
	LeafHash []byte
}

// Node is an internal node of the tree (level >= 1): the root of the
// perfect subtree over leaves [Index<<Level, (Index+1)<<Level).
type Node struct {
	// Level is the node's height above the leaves (>= 1).
	Level uint
	// Index is the node's position among the nodes of its level.
	Index uint64
	// Hash is the node's RFC 9162 hash.
	Hash []byte
}

// Batch is what one append transaction writes: the new rows, the internal
// nodes they complete, and the new head.
type Batch struct {
	// Rows are the new entries, by sequence number.
	Rows []Row
	// Nodes are the internal nodes that the new entries complete.
	Nodes []Node
	// Head is the head after the batch.
	Head Head
}

// NewBatch assigns the entries the sequence numbers that follow head,
// encodes their leaves and extends the tree. Entries must have passed the
// entry rules and carry their Time; NewBatch sets their Seq in place.
// Storage implementations call it (through the Journal's build function,
// or directly to generate test data).
func NewBatch(head Head, entries []Entry) (*Batch, error) {
	if head.Size+uint64(len(entries)) >= maxTreeSize {
		return nil, fmt.Errorf("%w: the tree is full", ErrCorrupt)
	}
	r, err := newRangeFactory().NewRange(0, head.Size, cloneHashes(head.Compact))
	if err != nil {
		return nil, fmt.Errorf("%w: the head: %w", ErrCorrupt, err)
	}
	b := &Batch{Rows: make([]Row, len(entries)), Nodes: make([]Node, 0, len(entries)+8)}
	visit := func(id compact.NodeID, hash []byte) {
		if id.Level > 0 {
			b.Nodes = append(b.Nodes, Node{Level: id.Level, Index: id.Index, Hash: hash})
		}
	}
	// One buffer for all leaves of the batch.
	buf := make([]byte, 0, 512*len(entries))
	for i := range entries {
		e := &entries[i]
		e.Seq = head.Size + uint64(i)
		start := len(buf)
		buf = appendLeaf(buf, e)
		leaf := buf[start:len(buf):len(buf)]
		if len(leaf) > maxLeafBytes { // unreachable with the entry rules' limits
			return nil, fmt.Errorf("%w: entry %d encodes to %d bytes", ErrCorrupt, e.Seq, len(leaf))
		}
		lh := hasher.HashLeaf(leaf)
		if err := r.Append(lh, visit); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
		b.Rows[i] = Row{Seq: e.Seq, Time: e.Time, Event: e.Event, Actor: e.Actor,
			Counterpart: e.Counterpart, RecordID: e.RecordID, IncidentID: e.IncidentID,
			Subject: e.Subject.Ref, Leaf: leaf, LeafHash: lh}
	}
	b.Head = Head{Size: r.End(), Compact: r.Hashes()}
	return b, nil
}

func cloneHashes(h [][]byte) [][]byte {
	out := make([][]byte, len(h))
	copy(out, h)
	return out
}

// nodeHashes fetches the hashes of ids and checks their sizes.
func nodeHashes(ctx context.Context, t TreeReader, ids []compact.NodeID) ([][]byte, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	hs, err := t.Hashes(ctx, ids)
	if err != nil {
		return nil, err
	}
	if len(hs) != len(ids) {
		return nil, fmt.Errorf("%w: asked for %d hashes, got %d", ErrCorrupt, len(ids), len(hs))
	}
	for i, h := range hs {
		if len(h) != sha256.Size {
			return nil, fmt.Errorf("%w: node (%d, %d) is missing", ErrCorrupt, ids[i].Level, ids[i].Index)
		}
	}
	return hs, nil
}

// rootAt computes the root hash of the first size leaves from stored nodes.
func rootAt(ctx context.Context, t TreeReader, size uint64) ([sha256.Size]byte, error) {
	hs, err := nodeHashes(ctx, t, compact.RangeNodes(0, size, nil))
	if err != nil {
		return [sha256.Size]byte{}, err
	}
	return rootOf(size, hs)
}

// inclusionProof builds the proof that leaf index is in the tree of size.
func inclusionProof(ctx context.Context, t TreeReader, index, size uint64) ([][]byte, error) {
	nodes, err := proof.Inclusion(index, size)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidQuery, err)
	}
	hs, err := nodeHashes(ctx, t, nodes.IDs)
	if err != nil {
		return nil, err
	}
	return nodes.Rehash(hs, hasher.HashChildren)
}

// consistencyProof builds the proof that the tree of size1 is a prefix of
// the tree of size2.
func consistencyProof(ctx context.Context, t TreeReader, size1, size2 uint64) ([][]byte, error) {
	nodes, err := proof.Consistency(size1, size2)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidQuery, err)
	}
	hs, err := nodeHashes(ctx, t, nodes.IDs)
	if err != nil {
		return nil, err
	}
	return nodes.Rehash(hs, hasher.HashChildren)
}

// VerifyInclusion checks an inclusion proof of leaf bytes at index in the
// tree of the checkpoint.
func VerifyInclusion(leaf []byte, index uint64, proofHashes [][]byte, c Checkpoint) error {
	lh := hasher.HashLeaf(leaf)
	return proof.VerifyInclusion(hasher, index, c.Size, lh, proofHashes, c.Root[:])
}

// VerifyConsistency checks that checkpoint a is a prefix of checkpoint b.
func VerifyConsistency(proofHashes [][]byte, a, b Checkpoint) error {
	return proof.VerifyConsistency(hasher, a.Size, b.Size, proofHashes, a.Root[:], b.Root[:])
}
