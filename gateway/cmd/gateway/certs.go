package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"os"
	"strings"
	"time"

	"github.com/psykosocial/exchange/certs"
)

// defaultDataDir is where the embedded default keeps its state.
const defaultDataDir = "data"

func runCerts(ctx context.Context, e *env, args []string) int {
	return subcommands(ctx, e, "certs", args, map[string]func(context.Context, *env, []string) int{
		"init":   runCertsInit,
		"issue":  runCertsIssue,
		"revoke": runCertsRevoke,
	})
}

// runCertsInit creates the development PKI: CA, gateway certificates, and
// certificates for every authority of the national directory.
func runCertsInit(_ context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("certs init", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	data := fs.String("data", defaultDataDir, "data directory")
	var rc refConfig
	rc.register(fs)
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return exitUsage
	}
	ref, err := rc.load(e.stderr)
	if err != nil {
		fmt.Fprintln(e.stderr, "gateway certs init:", err)
		return exitFailure
	}
	start := e.clock.Now()
	rep, err := certs.InitDevPKI(certs.InitOptions{DataDir: *data, Ref: ref, Clock: e.clock})
	if err != nil {
		fmt.Fprintln(e.stderr, "gateway certs init:", err)
		return exitFailure
	}
	state := "completed"
	switch {
	case rep.CACreated:
		state = "created"
	case len(rep.Issued) == 0:
		state = "already complete"
	}
	fmt.Fprintf(e.stdout, "DEVELOPMENT-ONLY PKI %s in %s: %d authorities, %d certificates issued in %s; CRL refreshed.\n",
		state, *data, rep.Authorities, len(rep.Issued), e.clock.Now().Sub(start).Round(time.Millisecond))
	fmt.Fprintf(e.stdout, "Never trust its CA (%s/pki/ca/root.cert.pem) in production.\n", *data)
	return exitOK
}

// runCertsIssue issues a new set of certificates for one authority (a rollover).
func runCertsIssue(_ context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("certs issue", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	data := fs.String("data", defaultDataDir, "data directory")
	useRSA := fs.Bool("rsa", false, "RSA-3072 keys (as real OCES3 certificates) instead of P-256")
	var rc refConfig
	rc.register(fs)
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		fmt.Fprintln(e.stderr, "usage: gateway certs issue [-data DIR] [-rsa] AUTHORITY_ID")
		return exitUsage
	}
	ref, err := rc.load(e.stderr)
	if err != nil {
		fmt.Fprintln(e.stderr, "gateway certs issue:", err)
		return exitFailure
	}
	kt := certs.KeyP256
	if *useRSA {
		kt = certs.KeyRSA3072
	}
	issued, err := certs.IssueAuthority(*data, ref, fs.Arg(0), kt, e.clock)
	if err != nil {
		fmt.Fprintln(e.stderr, "gateway certs issue:", err)
		if errors.Is(err, certs.ErrUnknownAuthority) {
			return exitUsage
		}
		return exitFailure
	}
	for _, is := range issued {
		fmt.Fprintf(e.stdout, "%s %-10s serial %s  %s\n", is.AuthorityID, is.Use, is.Cert.SerialNumber.Text(16), is.CertPath)
	}
	return exitOK
}

// runCertsRevoke revokes a certificate (by file or hex serial) and writes a fresh CRL.
func runCertsRevoke(_ context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("certs revoke", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	data := fs.String("data", defaultDataDir, "data directory")
	reason := fs.Int("reason", 0, "RFC 5280 reason code (0 unspecified, 1 key compromise, 4 superseded, 5 cessation of operation)")
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		fmt.Fprintln(e.stderr, "usage: gateway certs revoke [-data DIR] [-reason N] CERT_FILE|HEX_SERIAL")
		return exitUsage
	}
	serial, err := serialOf(fs.Arg(0))
	if err != nil {
		fmt.Fprintln(e.stderr, "gateway certs revoke:", err)
		return exitUsage
	}
	ca, created, err := certs.OpenDevCA(*data, e.clock)
	if err == nil && created {
		err = fmt.Errorf("no development CA in %s (run certs init first)", *data)
	}
	if err == nil {
		err = ca.Revoke(serial, *reason)
	}
	if err != nil {
		fmt.Fprintln(e.stderr, "gateway certs revoke:", err)
		return exitFailure
	}
	fmt.Fprintf(e.stdout, "revoked serial %s; fresh CRL in %s\n", serial.Text(16), ca.Paths().CRLDir())
	return exitOK
}

func serialOf(arg string) (*big.Int, error) {
	if b, err := os.ReadFile(arg); err == nil {
		cs, err := certs.ParsePEMCertificates(b)
		if err != nil {
			return nil, err
		}
		return cs[0].SerialNumber, nil
	}
	n, ok := new(big.Int).SetString(strings.TrimPrefix(strings.ToLower(arg), "0x"), 16)
	if !ok || n.Sign() <= 0 {
		return nil, fmt.Errorf("%q is neither a certificate file nor a hexadecimal serial number", arg)
	}
	return n, nil
}
