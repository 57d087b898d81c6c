package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/psykosocial/exchange/internal/journal"
	"github.com/psykosocial/exchange/internal/keys"
	"github.com/psykosocial/exchange/internal/store"
	"github.com/psykosocial/exchange/internal/store/storeconfig"
)

// operatorActor is the journal's actor of an operator's act through
// "gateway admin": the gateway's operators, not an authority of the
// exchange and never a person's name.
const operatorActor = "gateway:operator"

// Limits of the operator commands.
const (
	// maxParkedListed bounds one listing (the store's bound).
	maxParkedListed = 1000
	// maxRequeueIDs bounds the ids of one requeue (the store's bound: one
	// transaction, one journal append).
	maxRequeueIDs = 500
)

// runAdmin is "gateway admin": the operator's work on the mailboxes.
//
//	gateway admin parked [-data DIR [-store postgres [-postgres-schema NAME]] | -config FILE] [-max N] [-json]
//	gateway admin requeue [-data DIR [-store postgres [-postgres-schema NAME]] | -config FILE] MAILBOX_ID...
//	gateway admin reload [-config FILE | -operator HOST:PORT] [-json]
func runAdmin(ctx context.Context, e *env, args []string) int {
	return subcommands(ctx, e, "admin", args, map[string]func(context.Context, *env, []string) int{
		"parked":  runAdminParked,
		"requeue": runAdminRequeue,
		"reload":  runAdminReload,
	})
}

// adminFlags are the flags every admin subcommand takes: where the
// gateway's state is, as serve has it.
type adminFlags struct {
	data, config, store, pgSchema *string
}

func newAdminFlags(fs *flag.FlagSet) adminFlags {
	return adminFlags{
		data:     fs.String("data", defaultDataDir, "the data directory of serve --dev"),
		config:   fs.String("config", "", "the configuration `FILE` of serve -config (with its environment overrides)"),
		store:    fs.String("store", storeconfig.DriverSQLite, "the store of serve --dev: sqlite or postgres (GATEWAY_POSTGRES_URL)"),
		pgSchema: fs.String("postgres-schema", "", "the PostgreSQL schema of serve --dev -store postgres"),
	}
}

// serveConfig is the configuration serve would run with.
func (f adminFlags) serveConfig(e *env, fs *flag.FlagSet) (serveConfig, bool, error) {
	devSet := false
	fs.Visit(func(fl *flag.Flag) {
		devSet = devSet || fl.Name == "data" || fl.Name == "store" || fl.Name == "postgres-schema"
	})
	if devSet && *f.config != "" {
		return serveConfig{}, false, errors.New("give -data DIR [-store postgres -postgres-schema NAME] or -config FILE, not both")
	}
	dev := *f.config == ""
	var c serveConfig
	if dev {
		c = serveConfig{DataDir: *f.data, Store: storeSettings{Driver: *f.store, PostgresSchema: *f.pgSchema}}
	} else {
		var err error
		if c, err = loadServeConfig(*f.config); err != nil {
			return c, dev, err
		}
	}
	c.applyEnv(e.getenvOrEmpty)
	c = c.withDefaults()
	if err := c.validate(dev); err != nil {
		return c, dev, fmt.Errorf("configuration:\n  %s", strings.ReplaceAll(err.Error(), "\n", "\n  "))
	}
	if c.Store.Driver == storeconfig.DriverSQLite {
		if _, err := os.Stat(c.Store.SQLitePath); err != nil {
			return c, dev, fmt.Errorf("store.sqlite_path: no database at %s (has the gateway run with this data directory?)", c.Store.SQLitePath)
		}
	}
	return c, dev, nil
}

// operatorStore is the store and journal of a running (or stopped)
// gateway, opened by an operator command beside it.
type operatorStore struct {
	store   *store.Store
	journal *journal.Journal
	close   func() error
}

// openOperatorStore opens the database, the key provider and the journal
// as serve does; Close signs a checkpoint of what the command journaled.
func openOperatorStore(ctx context.Context, e *env, c serveConfig) (*operatorStore, error) {
	log := newLogger(e.stderr, logSettings{Level: "warn", Format: "text"})
	var closers []func() error
	closeAll := func() error {
		var errs []error
		for i := len(closers) - 1; i >= 0; i-- {
			errs = append(errs, closers[i]())
		}
		return errors.Join(errs...)
	}
	prov, closeKeys, err := openKeyProvider(ctx, e, c, log)
	if err != nil {
		return nil, err
	}
	closers = append(closers, closeKeys)
	backend, err := storeconfig.Open(ctx, c.storeConfig())
	if err != nil {
		closeAll()
		return nil, fmt.Errorf("store: %w", err)
	}
	closers = append(closers, backend.Close)
	jsigner, err := prov.Signer(ctx, keys.PurposeJournalCheckpoint)
	if err != nil {
		closeAll()
		return nil, fmt.Errorf("keys: the journal checkpoint key: %w", err)
	}
	jr, err := journal.New(ctx, backend.JournalStore(), jsigner, journal.Config{Origin: c.Journal.Origin,
		CheckpointInterval: time.Duration(c.Journal.CheckpointInterval), Clock: e.clock, Logger: log.With("part", "journal")})
	if err != nil {
		closeAll()
		return nil, fmt.Errorf("journal: %w", err)
	}
	closers = append(closers, func() error {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		return jr.Close(cctx)
	})
	st, err := store.New(store.Config{Backend: backend, Journal: jr, Keys: prov, Clock: e.clock, Logger: log.With("part", "store")})
	if err != nil {
		closeAll()
		return nil, fmt.Errorf("store: %w", err)
	}
	return &operatorStore{store: st, journal: jr, close: closeAll}, nil
}

// openKeyProvider opens the configured key provider (files or Vault).
func openKeyProvider(ctx context.Context, e *env, c serveConfig, log *slog.Logger) (keyProvider, func() error, error) {
	if c.Keys.Provider == "vault" {
		vp, err := keys.NewVaultProvider(ctx, keys.VaultConfig{Address: c.Keys.Vault.Address, TokenFile: c.Keys.Vault.TokenFile,
			CACertFile: c.Keys.Vault.CACertFile, Namespace: c.Keys.Vault.Namespace, TransitMount: c.Keys.Vault.TransitMount,
			KVMount: c.Keys.Vault.KVMount, Clock: e.clock, Logger: log.With("part", "keys")})
		if err != nil {
			return nil, nil, fmt.Errorf("keys.vault: %w", err)
		}
		return vp, vp.Close, nil
	}
	fp, err := keys.NewFileProvider(keys.FileConfig{Dir: c.Keys.Dir, Logger: log.With("part", "keys")})
	if err != nil {
		return nil, nil, fmt.Errorf("keys.dir: %w", err)
	}
	return fp, func() error { return nil }, nil
}

// parkedLine is one parked message as "admin parked -json" prints it.
type parkedLine struct {
	MailboxID     string    `json:"mailbox_id"`
	Recipient     string    `json:"recipient"`
	RecordID      string    `json:"record_id"`
	RecordVersion int       `json:"record_version"`
	Priority      string    `json:"priority"`
	Deliveries    int       `json:"deliveries"`
	QueuedAt      time.Time `json:"queued_at"`
	ParkedAt      time.Time `json:"parked_at"`
}

func priorityName(p store.Priority) string {
	if p == store.PriorityAcute {
		return "acute"
	}
	return "normal"
}

// runAdminParked lists the parked mailbox messages: where each waits and
// what it is of, never its content.
func runAdminParked(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("admin parked", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	af := newAdminFlags(fs)
	max := fs.Int("max", 100, fmt.Sprintf("list at most `N` messages (1 to %d), oldest first", maxParkedListed))
	asJSON := fs.Bool("json", false, "print one JSON object per message")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 || *max < 1 || *max > maxParkedListed {
		fmt.Fprintln(e.stderr, "usage: gateway admin parked [-data DIR [-store postgres [-postgres-schema NAME]] | -config FILE] [-max N] [-json]")
		return exitUsage
	}
	c, _, err := af.serveConfig(e, fs)
	if err != nil {
		fmt.Fprintln(e.stderr, "gateway admin parked:", err)
		return exitFailure
	}
	ops, err := openOperatorStore(ctx, e, c)
	if err != nil {
		fmt.Fprintln(e.stderr, "gateway admin parked:", err)
		return exitFailure
	}
	defer ops.close()
	ms, more, err := ops.store.Parked(ctx, *max)
	if err != nil {
		fmt.Fprintln(e.stderr, "gateway admin parked:", err)
		return exitFailure
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		for _, m := range ms {
			_ = enc.Encode(parkedLine{MailboxID: m.ID, Recipient: m.Recipient, RecordID: m.RecordID, RecordVersion: m.RecordVersion,
				Priority: priorityName(m.Priority), Deliveries: m.Deliveries, QueuedAt: m.QueuedAt, ParkedAt: m.ParkedAt})
		}
	} else {
		printParked(e.stdout, ms)
	}
	switch {
	case more:
		fmt.Fprintf(e.stderr, "%d parked mailbox messages listed; more are parked (raise -max, or requeue these first)\n", len(ms))
	default:
		fmt.Fprintf(e.stderr, "%d parked mailbox messages\n", len(ms))
	}
	return exitOK
}

func printParked(w io.Writer, ms []store.ParkedMessage) {
	if len(ms) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "MAILBOX ID\tRECIPIENT\tRECORD\tVERSION\tPRIORITY\tDELIVERIES\tQUEUED AT\tPARKED SINCE")
	for _, m := range ms {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%d\t%s\t%s\n", m.ID, m.Recipient, m.RecordID, m.RecordVersion, priorityName(m.Priority),
			m.Deliveries, m.QueuedAt.UTC().Format(time.RFC3339), m.ParkedAt.UTC().Format(time.RFC3339))
	}
	tw.Flush()
}

// requeuedEntry is the journal entry of the operator's requeue of m.
func requeuedEntry(m store.ParkedMessage) journal.Entry {
	return journal.Entry{Event: journal.EventRequeued, Actor: operatorActor, Counterpart: m.Recipient,
		RecordID: m.RecordID, RecordVersion: m.RecordVersion, MessageID: m.ID, Outcome: journal.OutcomeOK,
		Reason: fmt.Sprintf("requeued by the operator after %d deliveries without acknowledgement", m.Deliveries)}
}

// runAdminRequeue puts parked mailbox messages back in their recipients'
// queues, all or none, each journaled (requeued) in the same transaction.
func runAdminRequeue(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("admin requeue", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	af := newAdminFlags(fs)
	if err := fs.Parse(args); err != nil || fs.NArg() == 0 || fs.NArg() > maxRequeueIDs {
		fmt.Fprintf(e.stderr, "usage: gateway admin requeue [-data DIR [-store postgres [-postgres-schema NAME]] | -config FILE] MAILBOX_ID... (1 to %d ids)\n", maxRequeueIDs)
		return exitUsage
	}
	c, _, err := af.serveConfig(e, fs)
	if err != nil {
		fmt.Fprintln(e.stderr, "gateway admin requeue:", err)
		return exitFailure
	}
	ops, err := openOperatorStore(ctx, e, c)
	if err != nil {
		fmt.Fprintln(e.stderr, "gateway admin requeue:", err)
		return exitFailure
	}
	defer ops.close()
	done, err := ops.store.Requeue(ctx, fs.Args(), requeuedEntry)
	switch {
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrInvalid):
		fmt.Fprintln(e.stderr, "gateway admin requeue:", err)
		return exitProblems
	case err != nil:
		fmt.Fprintln(e.stderr, "gateway admin requeue:", err)
		return exitFailure
	}
	for _, m := range done {
		fmt.Fprintf(e.stdout, "requeued %s for %s (record %s version %d, parked after %d deliveries)\n",
			m.ID, m.Recipient, m.RecordID, m.RecordVersion, m.Deliveries)
	}
	fmt.Fprintf(e.stderr, "%d mailbox messages requeued, each journaled (event requeued)\n", len(done))
	return exitOK
}
