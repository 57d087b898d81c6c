package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/psykosocial/exchange/internal/clock"
	"github.com/psykosocial/exchange/internal/store"
)

// purger is what the maintenance loop needs of the store (*store.Store).
type purger interface {
	Purge(ctx context.Context, r store.Retention) (store.PurgeReport, error)
	PurgeReplay(ctx context.Context) (int64, error)
}

// maintenance runs the store's retention purge and replay purge on a
// clock ticker. Every replica runs it: purges on several replicas at once
// share the rows (each takes rows no other holds) and journal each row
// once, so no election is needed.
type maintenance struct {
	store     purger
	clock     clock.Clock
	retention store.Retention
	interval  time.Duration
	log       *slog.Logger
	metrics   *maintenanceMetrics
	// ran, when set, is called after each run (tests wait on it).
	ran func()
}

// maintenanceMetrics are the loop's Prometheus metrics.
type maintenanceMetrics struct {
	purged      *prometheus.CounterVec
	runs        *prometheus.CounterVec
	lastSuccess prometheus.Gauge
}

// purgeKinds are the kind label's values of gateway_purged_total.
var purgeKinds = []string{"delivered", "undelivered", "deliveries", "record", "message", "replay"}

// newMaintenanceMetrics registers the loop's metrics on reg.
func newMaintenanceMetrics(reg prometheus.Registerer) (*maintenanceMetrics, error) {
	m := &maintenanceMetrics{
		purged: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_purged_total",
			Help: "Rows purged by retention, by kind: delivered and undelivered mailbox messages, their delivery digests, record bodies, " +
				"messages' evidence and receipts, and replay rows past their signed expiry.",
		}, []string{"kind"}),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_purge_runs_total",
			Help: "Retention purge runs, by outcome (ok, failed).",
		}, []string{"outcome"}),
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gateway_purge_last_success_timestamp_seconds",
			Help: "When the retention purge last completed (Unix time); alert when it lags far behind retention.interval.",
		}),
	}
	for _, k := range purgeKinds {
		m.purged.WithLabelValues(k)
	}
	m.runs.WithLabelValues("ok")
	m.runs.WithLabelValues("failed")
	for _, c := range []prometheus.Collector{m.purged, m.runs, m.lastSuccess} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// run purges now, then every interval, until ctx ends.
func (m *maintenance) run(ctx context.Context) {
	t := m.clock.NewTicker(m.interval)
	defer t.Stop()
	for {
		m.once(ctx)
		if m.ran != nil {
			m.ran()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C():
		}
	}
}

// once runs one purge of each kind; a failure is logged and counted, and
// the next tick tries again.
func (m *maintenance) once(ctx context.Context) {
	ok := true
	rep, err := m.store.Purge(ctx, m.retention)
	if err != nil {
		ok = false
		if ctx.Err() == nil {
			m.log.Error("retention purge failed; it is tried again at the next interval", "err", err)
		}
	}
	// The transactions committed before a failure count too.
	m.add("delivered", float64(rep.Delivered))
	m.add("undelivered", float64(rep.Undelivered))
	m.add("deliveries", float64(rep.Deliveries))
	m.add("record", float64(rep.Records))
	m.add("message", float64(rep.Messages))
	if rep.More {
		m.log.Info("retention purge: more is due than one run purges; it goes on at the next interval")
	}
	n, err := m.store.PurgeReplay(ctx)
	if err != nil {
		ok = false
		if ctx.Err() == nil {
			m.log.Error("replay purge failed; it is tried again at the next interval", "err", err)
		}
	}
	m.add("replay", float64(n))
	if m.metrics == nil {
		return
	}
	if ok {
		m.metrics.runs.WithLabelValues("ok").Inc()
		m.metrics.lastSuccess.Set(float64(m.clock.Now().Unix()))
	} else {
		m.metrics.runs.WithLabelValues("failed").Inc()
	}
}

func (m *maintenance) add(kind string, n float64) {
	if m.metrics != nil && n > 0 {
		m.metrics.purged.WithLabelValues(kind).Add(n)
	}
}
