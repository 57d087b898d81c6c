package main

import (
	"fmt"
	"log/slog"

	"github.com/psykosocial/exchange/adapters"
	"github.com/psykosocial/exchange/certs"
	"github.com/psykosocial/exchange/gateway"
	"github.com/psykosocial/exchange/internal/clock"
	"github.com/psykosocial/exchange/internal/consent"
	"github.com/psykosocial/exchange/internal/directory"
	"github.com/psykosocial/exchange/internal/journal"
	"github.com/psykosocial/exchange/internal/pipeline"
	"github.com/psykosocial/exchange/internal/record"
	"github.com/psykosocial/exchange/internal/refdata"
	"github.com/psykosocial/exchange/internal/routing"
	"github.com/psykosocial/exchange/internal/store"
)

// parts are what the pipeline is built from.
type parts struct {
	clock     clock.Clock
	certs     *certs.Store
	dir       *directory.Directory
	ref       *refdata.Data
	keys      keyProvider
	adapters  *adapters.Registry
	validator *record.Validator
	router    *routing.Router
	policy    *consent.Policy
	store     *store.Store
	journal   *journal.Journal
	subjects  *journal.SubjectKeys
	logger    *slog.Logger
}

// newPipeline builds the pipeline from the parts.
func newPipeline(p parts) (gateway.Pipeline, error) {
	pl, err := pipeline.New(pipeline.Config{Clock: p.clock, Certs: p.certs, Directory: p.dir, Ref: p.ref, Keys: p.keys,
		Adapters: p.adapters, Validator: p.validator, Router: p.router, Policy: p.policy, Store: p.store,
		Journal: p.journal, Subjects: p.subjects, Logger: p.logger})
	if err != nil {
		return nil, fmt.Errorf("pipeline: %w", err)
	}
	return pl, nil
}

// The binary serves the real pipeline through the gateway's interface.
var _ gateway.Pipeline = (*pipeline.Pipeline)(nil)
