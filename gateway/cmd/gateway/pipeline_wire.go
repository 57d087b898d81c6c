package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/psykosocial/exchange/adapters"
	"github.com/psykosocial/exchange/certs"
	"github.com/psykosocial/exchange/gateway"
	"github.com/psykosocial/exchange/internal/clock"
	"github.com/psykosocial/exchange/internal/consent"
	"github.com/psykosocial/exchange/internal/directory"
	"github.com/psykosocial/exchange/internal/fault"
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

// newPipeline builds the pipeline from the parts. Until internal/pipeline
// has its constructor, the /v1 routes answer 503 and the gateway is not
// ready: nothing is accepted that could not be kept.
func newPipeline(p parts) (gateway.Pipeline, error) {
	_ = p
	return notWired{}, nil
}

// notWired answers every request as temporarily unavailable.
type notWired struct{}

func (notWired) err() error {
	e := fault.New(fault.ErrUnavailable, "unavailable", "", "the intake and delivery pipeline is not wired in this build")
	e.RetryAfter = time.Minute
	return e
}

func (n notWired) Submit(context.Context, pipeline.Submission) (pipeline.SubmitResult, error) {
	return pipeline.SubmitResult{}, n.err()
}

func (n notWired) Pull(context.Context, string, int, time.Duration) ([]pipeline.Delivery, error) {
	return nil, n.err()
}

func (n notWired) Ack(context.Context, string, string, []byte) error { return n.err() }

func (n notWired) Ready(context.Context) error { return n.err() }
