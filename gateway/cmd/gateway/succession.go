package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/psykosocial/exchange/internal/clock"
	"github.com/psykosocial/exchange/internal/pipeline"
)

// successionInterval is how often serve moves what waits in the mailboxes
// of authorities that ceased (the 2027 region merger) to their
// successors': within a minute of midnight the successor has them even if
// it has not pulled (its own pull moves them at once). An idle round costs
// one short write transaction per ceased authority per replica.
const successionInterval = time.Minute

// successor is what the succession step needs of the pipeline
// (*pipeline.Pipeline implements it).
type successor interface {
	TransferCeased(ctx context.Context) []pipeline.Transferred
}

var _ successor = (*pipeline.Pipeline)(nil)

// runSuccession runs the succession step at once and then every
// successionInterval on clk, until ctx ends. Every replica runs it: the
// store moves each message once whoever runs it. A failure is logged and
// tried again at the next tick; messages whose successor is not
// configured yet wait, and are logged once a round as pending.
func runSuccession(ctx context.Context, clk clock.Clock, p successor, log *slog.Logger) {
	t := clk.NewTicker(successionInterval)
	defer t.Stop()
	for {
		for _, tr := range p.TransferCeased(ctx) {
			switch {
			case tr.Err != nil:
				log.Error("succession: the mailbox of a ceased authority did not pass to its successor", "from", tr.From, "to", tr.To, "moved", tr.Moved, "err", tr.Err)
			case tr.To == "" && tr.SuccessorName != "":
				log.Debug("succession: the successor is not configured; the ceased authority's mailbox waits", "from", tr.From, "successor", tr.SuccessorName)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C():
		}
	}
}
