package main

import (
	"fmt"
	"log/slog"

	"github.com/psykosocial/exchange/gateway"
	"github.com/psykosocial/exchange/internal/clock"
	"github.com/psykosocial/exchange/internal/journal"
	"github.com/psykosocial/exchange/internal/pipeline"
	"github.com/psykosocial/exchange/internal/store"
)

// parts are what the pipeline is built from.
type parts struct {
	clock    clock.Clock
	rules    pipeline.Rules // the first version in force
	keys     keyProvider
	store    *store.Store
	journal  *journal.Journal
	subjects *journal.SubjectKeys
	logger   *slog.Logger
}

// newPipeline builds the pipeline from the parts.
func newPipeline(p parts) (*pipeline.Pipeline, error) {
	r := p.rules
	pl, err := pipeline.New(pipeline.Config{Clock: p.clock, Certs: r.Certs, Directory: r.Directory, DirectoryDigest: r.DirectoryDigest,
		Ref: r.Ref, Keys: p.keys, Adapters: r.Adapters, Validator: r.Validator, Router: r.Router, Policy: r.Policy, Store: p.store,
		Journal: p.journal, Subjects: p.subjects, Logger: p.logger})
	if err != nil {
		return nil, fmt.Errorf("pipeline: %w", err)
	}
	return pl, nil
}

// The binary serves the real pipeline through the gateway's interfaces.
var (
	_ gateway.Pipeline      = (*pipeline.Pipeline)(nil)
	_ gateway.Authenticator = (*pipeline.Pipeline)(nil)
	_ gateway.GapReporter   = (*pipeline.Pipeline)(nil)
	_ gateway.RulesReporter = (*pipeline.Pipeline)(nil)
)
