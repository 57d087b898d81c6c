package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/psykosocial/exchange/adapters"
	"github.com/psykosocial/exchange/internal/clock"
	"github.com/psykosocial/exchange/internal/directory"
	"github.com/psykosocial/exchange/internal/record"
	"github.com/psykosocial/exchange/internal/refdata"
	"github.com/psykosocial/exchange/internal/routing"
)

// maxInputBytes bounds a file given to validate; the adapters have their
// own, smaller limits and say so.
const maxInputBytes = 32 << 20

// refConfig holds the reference-data flags shared by several commands.
type refConfig struct {
	eastCode, eastCVR string
}

func (c *refConfig) register(fs *flag.FlagSet) {
	fs.StringVar(&c.eastCode, "east-region-code", "", "region code of Region Østdanmark (from 2027-01-01), until it is published")
	fs.StringVar(&c.eastCVR, "east-region-cvr", "", "CVR number of Region Østdanmark, until it is published")
}

// load loads the reference data; it warns on w when Region Østdanmark is
// configured with the made-up test values (refdata.TestEastRegion).
func (c *refConfig) load(w io.Writer) (*refdata.Data, error) {
	cfg := refdata.Config{EastRegionCode: c.eastCode, EastRegionCVR: c.eastCVR}
	ref, err := refdata.Load(cfg)
	if err != nil {
		return nil, fmt.Errorf("reference data: %w", err)
	}
	if cfg.UsesTestValues() {
		fmt.Fprintf(w, "warning: Region Østdanmark is configured with the made-up TEST values %s / %s: for development and tests only\n",
			refdata.TestEastRegionCode, refdata.TestEastRegionCVR)
	}
	return ref, nil
}

// fileReport is the -json output for one file.
type fileReport struct {
	File     string             `json:"file"`
	Format   string             `json:"format,omitempty"`
	Kind     string             `json:"kind,omitempty"`
	Rejected record.Problems    `json:"rejected,omitempty"`
	Items    []itemReport       `json:"items,omitempty"`
	Valid    bool               `json:"valid"`
	Error    string             `json:"error,omitempty"`
	Notice   *record.Withdrawal `json:"withdrawal,omitempty"`
}

type itemReport struct {
	Index    int             `json:"index"`
	RecordID string          `json:"record_id,omitempty"`
	Problems record.Problems `json:"problems,omitempty"`
	Warnings []string        `json:"warnings,omitempty"`
}

func runValidate(_ context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	format := fs.String("format", "", "format of the files (default: detect it from each file)")
	asJSON := fs.Bool("json", false, "print a JSON report (one object per line)")
	nowFlag := fs.String("now", "", "validate as of this instant, RFC 3339 with an offset, e.g. 2026-12-31T23:59:59+01:00 (default: now)")
	var rc refConfig
	rc.register(fs)
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "usage: gateway validate [-format NAME] [-json] [-now TIME] FILE... (FILE - reads standard input)")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return exitUsage
	}
	clk := e.clock
	if *nowFlag != "" {
		at, err := time.Parse(time.RFC3339, *nowFlag)
		if err != nil {
			fmt.Fprintf(e.stderr, "gateway validate: -now %q: not an RFC 3339 time with an offset such as 2026-12-31T23:59:59+01:00\n", *nowFlag)
			return exitUsage
		}
		clk = clock.Fixed(at)
	}
	ref, err := rc.load(e.stderr)
	if err != nil {
		fmt.Fprintln(e.stderr, "gateway validate:", err)
		return exitFailure
	}
	now := clk.Now()
	router, err := routing.New(ref, directory.Generate(ref, now))
	if err != nil {
		fmt.Fprintln(e.stderr, "gateway validate:", err)
		return exitFailure
	}
	reg, err := newRegistry(record.NewValidator(ref, clk))
	if err != nil {
		fmt.Fprintln(e.stderr, "gateway validate:", err)
		return exitFailure
	}
	if *format != "" {
		if _, ok := reg.ByFormat(*format); !ok {
			fmt.Fprintf(e.stderr, "gateway validate: unknown format %q (known: %v)\n", *format, reg.Formats())
			return exitUsage
		}
	}
	code := exitOK
	for _, name := range fs.Args() {
		rep := validateFile(e, reg, router, now, *format, name)
		if !rep.Valid {
			code = max(code, exitProblems)
		}
		if rep.Error != "" {
			code = exitFailure
		}
		if *asJSON {
			b, _ := json.Marshal(rep)
			fmt.Fprintf(e.stdout, "%s\n", b)
		} else {
			printReport(e.stdout, rep)
		}
	}
	return code
}

func readInput(e *env, name string) ([]byte, error) {
	var r io.Reader
	if name == "-" {
		r = e.stdin
	} else {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, maxInputBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxInputBytes {
		return nil, fmt.Errorf("larger than %d bytes", maxInputBytes)
	}
	return data, nil
}

func validateFile(e *env, reg *adapters.Registry, router *routing.Router, now time.Time, format, name string) fileReport {
	rep := fileReport{File: name}
	data, err := readInput(e, name)
	if err != nil {
		rep.Error = err.Error()
		return rep
	}
	var a adapters.Adapter
	if format != "" {
		a, _ = reg.ByFormat(format)
	} else if a, err = reg.Detect(data); err != nil {
		rep.Rejected = record.Problems{{Rule: "format.unknown", Message: fmt.Sprintf("%v (known formats: %v)", err, reg.Formats())}}
		return rep
	}
	rep.Format = a.Format()
	msg, err := a.Decode(data)
	if err != nil {
		var ps record.Problems
		if !errors.As(err, &ps) {
			ps = record.Problems{{Rule: "decode", Message: err.Error()}}
		}
		rep.Rejected = ps
		return rep
	}
	rep.Kind = string(msg.Kind)
	rep.Notice = msg.Withdrawal
	rep.Valid = true
	for _, it := range msg.Items {
		ir := itemReport{Index: it.Index, Problems: it.Problems, Warnings: it.Warnings}
		if it.Record != nil {
			ir.RecordID = it.Record.RecordID
			if len(it.Problems) == 0 {
				ir.Warnings = append(ir.Warnings, gapWarnings(router, it.Record, now)...)
			}
		}
		if len(it.Problems) > 0 {
			rep.Valid = false
		}
		rep.Items = append(rep.Items, ir)
	}
	return rep
}

// gapWarnings warns about the recipients a valid record cannot reach at
// the time now because configuration is missing: while Region Østdanmark's
// code and CVR are not configured, records for its 46 municipalities reach
// no region from 2027-01-01 (the service withholds them, journals the gap
// and routes them again once the configuration is complete).
func gapWarnings(router *routing.Router, rec *record.Record, now time.Time) []string {
	res, err := router.Route(rec, directory.GatewayID, now)
	if err != nil {
		return []string{"cannot route the record: " + err.Error()}
	}
	var out []string
	for _, o := range res.Omitted {
		if o.Reason.Code == routing.RegionNotConfigured {
			out = append(out, "the "+strings.ReplaceAll(string(o.Role), "_", " ")+" cannot be reached: "+o.Reason.String())
		}
	}
	return out
}

func printReport(w io.Writer, rep fileReport) {
	switch {
	case rep.Error != "":
		fmt.Fprintf(w, "%s: cannot read: %s\n", rep.File, rep.Error)
		return
	case len(rep.Rejected) > 0:
		fmt.Fprintf(w, "%s: REJECTED", rep.File)
		if rep.Format != "" {
			fmt.Fprintf(w, " (format %s)", rep.Format)
		}
		fmt.Fprintf(w, ", %d problem(s):\n", len(rep.Rejected))
		for _, p := range rep.Rejected {
			fmt.Fprintf(w, "  %s\n", p)
		}
		return
	}
	if rep.Kind == string(adapters.KindWithdrawal) {
		fmt.Fprintf(w, "%s: OK (format %s, withdrawal of record %s version %d, reason %s)\n",
			rep.File, rep.Format, rep.Notice.RecordID, rep.Notice.Version, rep.Notice.Reason)
		return
	}
	bad := 0
	for _, it := range rep.Items {
		if len(it.Problems) > 0 {
			bad++
		}
	}
	status := "OK"
	if bad > 0 {
		status = "INVALID"
	}
	fmt.Fprintf(w, "%s: %s (format %s, %s, %d record(s): %d valid, %d invalid)\n",
		rep.File, status, rep.Format, rep.Kind, len(rep.Items), len(rep.Items)-bad, bad)
	for _, it := range rep.Items {
		for _, p := range it.Problems {
			fmt.Fprintf(w, "  record %d: %s\n", it.Index, p)
		}
		for _, warn := range it.Warnings {
			fmt.Fprintf(w, "  record %d: warning: %s\n", it.Index, warn)
		}
	}
}
