package main

import (
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/mod/sumdb/note"

	"github.com/psykosocial/exchange/internal/journal"
	"github.com/psykosocial/exchange/internal/journal/postgres"
	"github.com/psykosocial/exchange/internal/journal/sqlite"
)

// runAudit is "gateway audit": export the journal, verify an export.
//
//	gateway audit export (-sqlite FILE | -postgres URL [-schema NAME]) [-o FILE] [query flags]
//	gateway audit verify -key KEY|@FILE [-require-full] [-min-size N] [FILE]
func runAudit(ctx context.Context, e *env, args []string) int {
	return subcommands(ctx, e, "audit", args, map[string]func(context.Context, *env, []string) int{
		"export": runAuditExport,
		"verify": runAuditVerify,
	})
}

// listFlag collects a repeated flag.
type listFlag []string

// String implements flag.Value.
func (l *listFlag) String() string { return strings.Join(*l, ",") }

// Set implements flag.Value: each use of the flag adds a value.
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// runAuditExport writes the journal (or the entries of one query) as JSON
// Lines with its signed checkpoints. It opens the database read-only.
func runAuditExport(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("audit export", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	sqlitePath := fs.String("sqlite", "", "the SQLite database `FILE` that holds the journal")
	pgURL := fs.String("postgres", "", "the PostgreSQL connection `URL` of the journal's database")
	schema := fs.String("schema", "", "the PostgreSQL schema of the journal's tables (default public)")
	out := fs.String("o", "-", "output `FILE` (- for standard output)")
	var subjects, events listFlag
	fs.Var(&subjects, "subject", "only entries of this subject `REFERENCE` (repeat for the references under older keys)")
	fs.Var(&events, "event", "only entries of this event `TYPE` (repeatable)")
	recordID := fs.String("record", "", "only entries of this record `ID`")
	incident := fs.String("incident", "", "only entries of this incident `ID`")
	authority := fs.String("authority", "", "only entries where this authority `ID` is actor or counterpart")
	since := fs.String("since", "", "only entries at or after this RFC 3339 `TIME`")
	until := fs.String("until", "", "only entries before this RFC 3339 `TIME`")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 || (*sqlitePath == "") == (*pgURL == "") {
		fmt.Fprintln(e.stderr, "usage: gateway audit export (-sqlite FILE | -postgres URL [-schema NAME]) [-o FILE] [-subject REF]... [-record ID] [-incident ID] [-authority ID] [-event TYPE]... [-since TIME] [-until TIME]")
		return exitUsage
	}
	f := journal.Filter{Subjects: subjects, RecordID: *recordID, IncidentID: *incident, Authority: *authority}
	for _, ev := range events {
		f.Events = append(f.Events, journal.EventType(ev))
	}
	for _, t := range []struct {
		v   string
		dst *time.Time
	}{{*since, &f.Since}, {*until, &f.Until}} {
		if t.v == "" {
			continue
		}
		tm, err := time.Parse(time.RFC3339Nano, t.v)
		if err != nil {
			fmt.Fprintf(e.stderr, "gateway audit export: %q is not an RFC 3339 time\n", t.v)
			return exitUsage
		}
		*t.dst = tm
	}
	opt := journal.ExportOptions{}
	if len(subjects) > 0 || len(events) > 0 || *recordID != "" || *incident != "" || *authority != "" || *since != "" || *until != "" {
		opt.Filter = &f
	}

	reader, closeStore, err := openJournalReader(ctx, e, *sqlitePath, *pgURL, *schema)
	if err != nil {
		fmt.Fprintln(e.stderr, "gateway audit export:", err)
		return exitFailure
	}
	defer closeStore()
	var sum journal.ExportSummary
	if *out == "-" {
		sum, err = reader.Export(ctx, e.stdout, opt)
	} else {
		err = writeFileStream(*out, 0o600, func(w io.Writer) error {
			var err error
			sum, err = reader.Export(ctx, w, opt)
			return err
		})
	}
	if err != nil {
		fmt.Fprintln(e.stderr, "gateway audit export:", err)
		if errors.Is(err, journal.ErrInvalidQuery) {
			return exitUsage
		}
		return exitFailure
	}
	fmt.Fprintf(e.stderr, "exported %d entries and %d checkpoints (%s export, tree size %d)\n", sum.Entries, sum.Checkpoints, sum.Kind, sum.TreeSize)
	if sum.Unsigned > 0 {
		fmt.Fprintf(e.stderr, "%d newer entries are not exported: no checkpoint covers them yet\n", sum.Unsigned)
	}
	return exitOK
}

// openJournalReader opens the journal's store read-only; exports are dated
// by the process's clock.
func openJournalReader(ctx context.Context, e *env, sqlitePath, pgURL, schema string) (*journal.Reader, func(), error) {
	if sqlitePath != "" {
		s, err := sqlite.Open(ctx, sqlitePath, sqlite.Options{ReadOnly: true})
		if err != nil {
			return nil, nil, err
		}
		return journal.NewReader(s, e.clock), func() { s.Close() }, nil
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	pool, err := pgxpool.New(cctx, pgURL)
	if err != nil {
		return nil, nil, fmt.Errorf("postgres: %w", err)
	}
	s, err := postgres.Open(cctx, pool, postgres.Options{Schema: schema, ReadOnly: true})
	if err != nil {
		pool.Close()
		return nil, nil, err
	}
	return journal.NewReader(s, e.clock), pool.Close, nil
}

// runAuditVerify checks an export offline against the journal's public key.
func runAuditVerify(_ context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("audit verify", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	key := fs.String("key", "", "the journal's verifier `KEY` (origin+hash+base64), or @FILE to read it from a file")
	requireFull := fs.Bool("require-full", false, "refuse a query export (it cannot prove that no entry is missing)")
	minSize := fs.Uint64("min-size", 0, "require the export to reach at least this tree `SIZE` (from a checkpoint you know)")
	if err := fs.Parse(args); err != nil || fs.NArg() > 1 || *key == "" {
		fmt.Fprintln(e.stderr, "usage: gateway audit verify -key KEY|@FILE [-require-full] [-min-size N] [FILE]")
		return exitUsage
	}
	vkey := *key
	if name, ok := strings.CutPrefix(vkey, "@"); ok {
		b, err := os.ReadFile(name)
		if err != nil {
			fmt.Fprintln(e.stderr, "gateway audit verify:", err)
			return exitFailure
		}
		vkey = strings.TrimSpace(string(b))
	}
	if _, err := note.NewVerifier(vkey); err != nil {
		fmt.Fprintf(e.stderr, "gateway audit verify: the key is not a note verifier key (origin+hash+base64): %v\n", err)
		return exitUsage
	}
	name, in := "-", e.stdin
	if fs.NArg() == 1 && fs.Arg(0) != "-" {
		name = fs.Arg(0)
		f, err := os.Open(name)
		if err != nil {
			fmt.Fprintln(e.stderr, "gateway audit verify:", err)
			return exitFailure
		}
		defer f.Close()
		in = f
	}
	start := e.clock.Now()
	rep, err := journal.Verify(in, journal.VerifyOptions{VerifierKey: vkey, RequireFull: *requireFull, MinTreeSize: *minSize})
	switch {
	case errors.Is(err, journal.ErrInvalidKey):
		fmt.Fprintln(e.stderr, "gateway audit verify:", err)
		return exitUsage
	case err != nil:
		fmt.Fprintf(e.stdout, "%s: DOES NOT VERIFY\n%v\n", name, err)
		var ve *journal.VerifyError
		if !errors.As(err, &ve) {
			return exitFailure
		}
		return exitProblems
	}
	c := rep.Latest
	fmt.Fprintf(e.stdout, "%s: OK\n", name)
	switch rep.Kind {
	case journal.ExportFull:
		fmt.Fprintf(e.stdout, "  full export: all %d entries of journal %s up to its checkpoint of size %d, none missing\n", rep.Entries, rep.Origin, c.Size)
	default:
		fmt.Fprintf(e.stdout, "  query export: %d entries of journal %s, each proven to be in its checkpoint of size %d (a query export cannot prove that no entry is missing)\n", rep.Entries, rep.Origin, c.Size)
	}
	fmt.Fprintf(e.stdout, "  %d checkpoint signatures verified; latest: size %d, root %s, signed at %s\n",
		rep.Checkpoints, c.Size, base64.StdEncoding.EncodeToString(c.Root[:]), c.SignedAt.Format(time.RFC3339))
	fmt.Fprintf(e.stdout, "  (verified in %s)\n", e.clock.Now().Sub(start).Round(time.Millisecond))
	return exitOK
}

// writeFileStream writes a file through a temporary file next to it,
// synced and renamed into place, so that a reader never sees half of it.
func writeFileStream(name string, perm os.FileMode, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, name)
}
