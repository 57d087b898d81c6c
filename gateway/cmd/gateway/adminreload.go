package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"

	"github.com/psykosocial/exchange/gateway"
	"github.com/psykosocial/exchange/internal/pipeline"
)

// maxReloadAnswerBytes bounds the operator listener's answer to a reload.
const maxReloadAnswerBytes = 1 << 20

// runAdminReload asks a running gateway to reload its rules (the
// directory, the consent policy and Region Østdanmark's settings), as
// SIGHUP does: POST /reload on its operator listener. It prints the version
// now in force and what was routed again, or why the reload was refused.
//
//	gateway admin reload [-config FILE | -operator HOST:PORT]
func runAdminReload(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("admin reload", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	cfgFile := fs.String("config", "", "the configuration `FILE` of serve -config: its operator_listen (GATEWAY_OPERATOR_LISTEN overrides it)")
	operator := fs.String("operator", "", "the operator listener's `HOST:PORT` (default "+defaultOperatorListen+")")
	asJSON := fs.Bool("json", false, "print the gateway's answer as JSON")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 || (*cfgFile != "" && *operator != "") {
		fmt.Fprintln(e.stderr, "usage: gateway admin reload [-config FILE | -operator HOST:PORT] [-json]")
		return exitUsage
	}
	addr := *operator
	if addr == "" {
		c := serveConfig{}
		if *cfgFile != "" {
			var err error
			if c, err = loadServeConfig(*cfgFile); err != nil {
				fmt.Fprintln(e.stderr, "gateway admin reload:", err)
				return exitFailure
			}
		}
		c.applyEnv(e.getenvOrEmpty)
		addr = c.withDefaults().OperatorListen
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		fmt.Fprintf(e.stderr, "gateway admin reload: operator listener %q is not host:port\n", addr)
		return exitUsage
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1" // a listener on every address answers on loopback
	}
	url := "http://" + net.JoinHostPort(host, port) + "/reload"
	rctx, cancel := context.WithTimeout(ctx, gateway.ReloadTimeout+gateway.ReadyTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, url, http.NoBody)
	if err != nil {
		fmt.Fprintln(e.stderr, "gateway admin reload:", err)
		return exitFailure
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintf(e.stderr, "gateway admin reload: is the gateway running? %v\n", err)
		return exitFailure
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxReloadAnswerBytes))
	if err != nil {
		fmt.Fprintln(e.stderr, "gateway admin reload:", err)
		return exitFailure
	}
	if *asJSON {
		e.stdout.Write(bytes.TrimSpace(body))
		fmt.Fprintln(e.stdout)
	}
	switch resp.StatusCode {
	case http.StatusOK:
		var res pipeline.ReloadResult
		if err := json.Unmarshal(body, &res); err != nil {
			fmt.Fprintln(e.stderr, "gateway admin reload: the answer does not read:", err)
			return exitFailure
		}
		if !*asJSON {
			printReload(e.stdout, res)
		}
		return exitOK
	default:
		var p struct {
			Title  string `json:"title"`
			Detail string `json:"detail"`
		}
		_ = json.Unmarshal(body, &p)
		fmt.Fprintf(e.stderr, "gateway admin reload: %s: %s: %s\n", resp.Status, p.Title, p.Detail)
		if resp.StatusCode == http.StatusUnprocessableEntity {
			return exitProblems
		}
		return exitFailure
	}
}

// printReload says what a reload put in force and routed again.
func printReload(w io.Writer, res pipeline.ReloadResult) {
	in := res.InForce
	fmt.Fprintf(w, "in force: version %d of this gateway process since %s\n", in.Seq, in.Since.Format("2006-01-02T15:04:05Z07:00"))
	fmt.Fprintf(w, "  consent policy %s\n  directory %s (sha-256 %s)\n", in.PolicyVersion, in.DirectoryVersion, in.DirectoryDigest)
	if len(in.Gaps) == 0 {
		fmt.Fprintln(w, "  configuration gaps: none")
	} else {
		fmt.Fprintf(w, "  configuration gaps:\n    %s\n", strings.Join(in.Gaps, "\n    "))
	}
	r := res.Rerouted
	fmt.Fprintf(w, "routed again: %d records (%d mailbox messages); %d still waiting for their recipient, %d done before, %d failed (see the gateway's log)\n",
		r.Records, r.Queued, r.Waiting, r.Done, r.Failed)
}
