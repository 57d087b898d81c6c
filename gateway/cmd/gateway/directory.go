package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/psykosocial/exchange/internal/directory"
)

func runDirectory(ctx context.Context, e *env, args []string) int {
	return subcommands(ctx, e, "directory", args, map[string]func(context.Context, *env, []string) int{
		"generate": runDirectoryGenerate,
		"check":    runDirectoryCheck,
	})
}

// runDirectoryGenerate writes the national authority directory (98
// municipalities, 5 regions, 12 police districts, and Region Østdanmark
// from 2027-01-01 when its code is given) generated from the reference data.
func runDirectoryGenerate(_ context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("directory generate", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	out := fs.String("o", "-", "output file (- for standard output)")
	var rc refConfig
	rc.register(fs)
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return exitUsage
	}
	ref, err := rc.load(e.stderr)
	if err != nil {
		fmt.Fprintln(e.stderr, "gateway directory generate:", err)
		return exitFailure
	}
	d := directory.Generate(ref, e.clock.Now().UTC().Truncate(time.Second))
	b, err := d.Encode()
	if err != nil {
		fmt.Fprintln(e.stderr, "gateway directory generate:", err)
		return exitFailure
	}
	if *out == "-" {
		_, err = e.stdout.Write(b)
	} else {
		err = writeFileAtomic(*out, b, 0o644)
	}
	if err != nil {
		fmt.Fprintln(e.stderr, "gateway directory generate:", err)
		return exitFailure
	}
	if *out != "-" {
		fmt.Fprintf(e.stderr, "wrote %d authorities to %s\n", len(d.Authorities), *out)
	}
	return exitOK
}

// runDirectoryCheck parses and checks a directory file and prints every problem.
func runDirectoryCheck(_ context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("directory check", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var rc refConfig
	rc.register(fs)
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		fmt.Fprintln(e.stderr, "usage: gateway directory check [flags] FILE")
		return exitUsage
	}
	ref, err := rc.load(e.stderr)
	if err != nil {
		fmt.Fprintln(e.stderr, "gateway directory check:", err)
		return exitFailure
	}
	d, err := directory.Load(fs.Arg(0), ref)
	if err != nil {
		fmt.Fprintf(e.stdout, "%s: INVALID\n%v\n", fs.Arg(0), err)
		return exitProblems
	}
	fmt.Fprintf(e.stdout, "%s: OK (%d authorities)\n", fs.Arg(0), len(d.Authorities))
	return exitOK
}

// writeFileAtomic writes data to a temporary file next to name, syncs it
// and renames it into place, so that a reader never sees half a file.
func writeFileAtomic(name string, data []byte, perm os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if _, err := f.Write(data); err != nil {
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
