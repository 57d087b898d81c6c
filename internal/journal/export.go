package journal

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"
)

// ExportVersion is the version of the export format that Export writes.
const ExportVersion = 1

// Export kinds.
const (
	// ExportFull is the whole journal up to its latest checkpoint, with
	// every checkpoint: Verify rebuilds the tree and proves completeness.
	ExportFull = "full"
	// ExportQuery is the entries of one query, each with its inclusion
	// proof in the latest checkpoint: Verify proves each entry, not that
	// none is missing.
	ExportQuery = "query"
)

// exportHeader is the first line of an export.
type exportHeader struct {
	// JournalExport is the export format version.
	JournalExport int `json:"journal_export"`
	// Kind is ExportFull or ExportQuery.
	Kind string `json:"kind"`
	// Origin is the journal's origin (its checkpoints' first line).
	Origin string `json:"origin"`
	// TreeSize is the size of the last checkpoint in the export.
	TreeSize uint64 `json:"tree_size"`
	// ExportedAt is when the export was written (RFC 3339).
	ExportedAt string `json:"exported_at"`
	// Query describes the filter of a query export.
	Query *exportQuery `json:"query,omitempty"`
}

// exportQuery is a query export's filter, for the reader.
type exportQuery struct {
	Subjects   []string    `json:"subjects,omitempty"`
	RecordID   string      `json:"record_id,omitempty"`
	IncidentID string      `json:"incident_id,omitempty"`
	Authority  string      `json:"authority,omitempty"`
	Events     []EventType `json:"events,omitempty"`
	Since      string      `json:"since,omitempty"`
	Until      string      `json:"until,omitempty"`
}

// exportCheckpoint is a checkpoint line.
type exportCheckpoint struct {
	// Checkpoint is the signed note, verbatim.
	Checkpoint string `json:"checkpoint"`
}

// ExportOptions chooses what Export writes.
type ExportOptions struct {
	// Filter, when not nil, exports only the entries that match it (a
	// query export); nil exports the whole journal.
	Filter *Filter
}

// ExportSummary says what Export wrote.
type ExportSummary struct {
	// Kind is ExportFull or ExportQuery.
	Kind string
	// Entries is the number of entries written.
	Entries uint64
	// Checkpoints is the number of checkpoints written.
	Checkpoints int
	// TreeSize is the size of the last checkpoint written.
	TreeSize uint64
	// Unsigned is the number of entries left out because no checkpoint
	// covers them yet.
	Unsigned uint64
}

// Export writes the journal, or the entries of a query, as JSON Lines with
// their signed checkpoints (format in README.md). Only entries that a
// checkpoint covers are written; sign one first (Journal.Checkpoint) to
// export everything. The header's export time is the Reader's clock's
// now. The error matches ErrNoCheckpoint before the first checkpoint.
func (r *Reader) Export(ctx context.Context, w io.Writer, opt ExportOptions) (ExportSummary, error) {
	latest, err := r.LatestCheckpoint(ctx)
	if err != nil {
		return ExportSummary{}, err
	}
	size, err := r.tree.Size(ctx)
	if err != nil {
		return ExportSummary{}, unavailable("export", err)
	}
	h := exportHeader{JournalExport: ExportVersion, Kind: ExportFull, Origin: latest.Origin,
		TreeSize: latest.Size, ExportedAt: r.clock.Now().UTC().Format(time.RFC3339)}
	if opt.Filter != nil {
		if err := opt.Filter.check(); err != nil {
			return ExportSummary{}, err
		}
		h.Kind = ExportQuery
		h.Query = describeFilter(opt.Filter)
	}
	bw := bufio.NewWriterSize(w, 256<<10)
	sum := ExportSummary{Kind: h.Kind, TreeSize: latest.Size, Unsigned: size - latest.Size}
	if err := writeJSONLine(bw, h); err != nil {
		return sum, err
	}
	if opt.Filter != nil {
		err = r.exportQuery(ctx, bw, *opt.Filter, latest, &sum)
	} else {
		err = r.exportFull(ctx, bw, latest, &sum)
	}
	if err != nil {
		return sum, err
	}
	if err := bw.Flush(); err != nil {
		return sum, fmt.Errorf("journal: export: %w", err)
	}
	return sum, nil
}

func (r *Reader) exportFull(ctx context.Context, w *bufio.Writer, latest SignedCheckpoint, sum *ExportSummary) error {
	var cps []SignedCheckpoint
	var cpAfter uint64
	nextCP := func() (*SignedCheckpoint, error) {
		if len(cps) == 0 {
			var err error
			if cps, err = r.Checkpoints(ctx, cpAfter, maxPageSize); err != nil {
				return nil, err
			}
			if len(cps) == 0 {
				return nil, nil
			}
		}
		c := cps[0]
		if c.Size > latest.Size {
			return nil, nil
		}
		cps = cps[1:]
		cpAfter = c.Size
		return &c, nil
	}
	cp, err := nextCP()
	if err != nil {
		return err
	}
	line := make([]byte, 0, 4096)
	for from := uint64(0); from < latest.Size; {
		if err := ctx.Err(); err != nil {
			return err
		}
		leaves, err := r.entries.Leaves(ctx, from, int(min(exportChunk, latest.Size-from)))
		if err != nil {
			return unavailable("export", err)
		}
		if len(leaves) == 0 {
			return fmt.Errorf("%w: entries from %d are missing", ErrCorrupt, from)
		}
		for _, l := range leaves {
			if l.Seq != from {
				return fmt.Errorf("%w: entry %d is missing", ErrCorrupt, from)
			}
			line = appendEntryLine(line[:0], l, nil)
			if _, err := w.Write(line); err != nil {
				return fmt.Errorf("journal: export: %w", err)
			}
			from++
			sum.Entries++
			for cp != nil && cp.Size == from {
				if err := writeJSONLine(w, exportCheckpoint{Checkpoint: string(cp.Note)}); err != nil {
					return err
				}
				sum.Checkpoints++
				if cp, err = nextCP(); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (r *Reader) exportQuery(ctx context.Context, w *bufio.Writer, f Filter, latest SignedCheckpoint, sum *ExportSummary) error {
	if err := writeJSONLine(w, exportCheckpoint{Checkpoint: string(latest.Note)}); err != nil {
		return err
	}
	sum.Checkpoints = 1
	line := make([]byte, 0, 4096)
	for from := uint64(0); ; {
		if err := ctx.Err(); err != nil {
			return err
		}
		p, err := r.page(ctx, f, from, maxPageSize, &latest, true, latest.Size)
		if err != nil {
			return err
		}
		for _, res := range p.Results {
			lh := LeafHash(res.Leaf)
			line = appendEntryLine(line[:0], StoredLeaf{Seq: res.LeafIndex, Leaf: res.Leaf, LeafHash: lh[:]}, res.Proof)
			if _, err := w.Write(line); err != nil {
				return fmt.Errorf("journal: export: %w", err)
			}
			sum.Entries++
		}
		if !p.More {
			return nil
		}
		from = p.next
	}
}

// appendEntryLine appends one entry line:
//
//	{"leaf_index":N,"leaf_hash":"<base64>"[,"proof":["<base64>",...]],"entry":<leaf>}
func appendEntryLine(dst []byte, l StoredLeaf, proof [][]byte) []byte {
	dst = append(dst, `{"leaf_index":`...)
	dst = strconv.AppendUint(dst, l.Seq, 10)
	dst = append(dst, `,"leaf_hash":"`...)
	dst = base64.StdEncoding.AppendEncode(dst, l.LeafHash)
	dst = append(dst, '"')
	if proof != nil {
		dst = append(dst, `,"proof":[`...)
		for i, p := range proof {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, '"')
			dst = base64.StdEncoding.AppendEncode(dst, p)
			dst = append(dst, '"')
		}
		dst = append(dst, ']')
	}
	dst = append(dst, `,"entry":`...)
	dst = append(dst, l.Leaf...)
	return append(dst, "}\n"...)
}

func writeJSONLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("journal: export: %w", err)
	}
	if _, err := w.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("journal: export: %w", err)
	}
	return nil
}

func describeFilter(f *Filter) *exportQuery {
	q := &exportQuery{Subjects: f.Subjects, RecordID: f.RecordID, IncidentID: f.IncidentID,
		Authority: f.Authority, Events: f.Events}
	if !f.Since.IsZero() {
		q.Since = f.Since.UTC().Format(time.RFC3339Nano)
	}
	if !f.Until.IsZero() {
		q.Until = f.Until.UTC().Format(time.RFC3339Nano)
	}
	return q
}
