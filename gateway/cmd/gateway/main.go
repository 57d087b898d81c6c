// Command gateway is the psychosocial follow-up exchange gateway.
//
// Usage:
//
//	gateway version
//	gateway validate [-format NAME] [-json] FILE...
//	gateway directory generate [-o FILE] [-east-region-code CODE -east-region-cvr CVR]
//	gateway directory check FILE
//	gateway certs init|issue|revoke ...
//	gateway audit export|verify ...
//	gateway admin parked|requeue [-data DIR | -config FILE] ...
//	gateway admin reload [-config FILE | -operator HOST:PORT]
//	gateway serve --dev [-data DIR] [-port N] [-operator-port N]
//	gateway serve -config FILE
//	gateway demo [-target URL] [-data DIR]
//	gateway bench [-duration D] [-clients N] [-mix KIND=W,...] [-store sqlite|postgres] [-target URL -data DIR] [-json]
//
// Every subcommand follows the same convention: one word, then its own
// flags. main only parses arguments and wires parts;
// the work is done by the packages under internal/ and adapters/.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/psykosocial/exchange/internal/clock"
)

// command is one subcommand.
type command struct {
	summary string
	run     func(ctx context.Context, env *env, args []string) int
}

// env is what a subcommand may touch: its arguments come separately.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	// clock is the one clock of the process: clock.System() in main, a
	// fake in tests. Nothing below main reads the wall clock.
	clock clock.Clock
	// getenv reads the environment (os.Getenv in main; nil reads nothing).
	// Nothing below main reads the environment.
	getenv func(string) string
}

// getenvOrEmpty reads the environment variable name through e.getenv.
func (e *env) getenvOrEmpty(name string) string {
	if e.getenv == nil {
		return ""
	}
	return e.getenv(name)
}

// Exit codes.
const (
	exitOK       = 0
	exitProblems = 1 // the input has problems (validation failed)
	exitUsage    = 2 // the command line is wrong
	exitFailure  = 3 // the command could not do its work (I/O, configuration)
)

func commands() map[string]command {
	return map[string]command{
		"version":   {"print the version", runVersion},
		"validate":  {"detect the format of documents, decode and validate them, print every problem", runValidate},
		"directory": {"generate or check the authority directory", runDirectory},
		"certs":     {"development PKI: init, issue (rollover), revoke", runCerts},
		"audit":     {"audit journal: export it, verify an export offline", runAudit},
		"admin":     {"operator: list parked mailbox messages, requeue them (journaled); reload a running gateway's rules", runAdmin},
		"serve":     {"run the gateway service (--dev: zero configuration on loopback; -config FILE)", runServe},
		"demo":      {"drive a realistic incident through a running serve --dev as real clients, then verify the journal", runDemo},
		"bench":     {"load a real serve --dev over mutual TLS with a realistic mix; records/s, latencies, CPU per record, and the ratio to the crypto floor", runBench},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, clock: clock.System(), getenv: os.Getenv}, os.Args[1:])
	stop()
	os.Exit(code)
}

func run(ctx context.Context, e *env, args []string) int {
	cmds := commands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(e.stderr, cmds)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	c, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(e.stderr, "gateway: unknown command %q\n", args[0])
		usage(e.stderr, cmds)
		return exitUsage
	}
	return c.run(ctx, e, args[1:])
}

// subcommands runs the subcommand named by args[0] from subs, the way
// "gateway certs init" runs init of certs; name is the parent's name.
func subcommands(ctx context.Context, e *env, name string, args []string,
	subs map[string]func(context.Context, *env, []string) int) int {
	names := make([]string, 0, len(subs))
	for n := range subs {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(args) == 0 {
		fmt.Fprintf(e.stderr, "usage: gateway %s %s [flags]\n", name, strings.Join(names, "|"))
		return exitUsage
	}
	run, ok := subs[args[0]]
	if !ok {
		fmt.Fprintf(e.stderr, "gateway %s: unknown subcommand %q (%s)\n", name, args[0], strings.Join(names, ", "))
		return exitUsage
	}
	return run(ctx, e, args[1:])
}

func usage(w io.Writer, cmds map[string]command) {
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("usage: gateway COMMAND [flags] [args]\n\ncommands:\n")
	for _, n := range names {
		fmt.Fprintf(&b, "  %-10s %s\n", n, cmds[n].summary)
	}
	b.WriteString("\nRun 'gateway COMMAND -h' for a command's flags.\n")
	fmt.Fprint(w, b.String())
}
