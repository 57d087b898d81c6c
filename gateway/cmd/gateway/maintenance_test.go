package main

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/psykosocial/exchange/internal/store"
	"github.com/psykosocial/exchange/internal/store/sqlite"
	"github.com/psykosocial/exchange/internal/testenv/storetest"
)

// sqliteDB is a SQLite database file for storetest.NewEnv.
type sqliteDB struct{ path string }

func (d sqliteDB) Open(t testing.TB) store.Backend {
	t.Helper()
	b, err := sqlite.Open(context.Background(), d.path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func (d sqliteDB) Find(t testing.TB, _ [][]byte) []string {
	t.Fatal("not searched here")
	return nil
}

// metricValue is the value of the metric family name with label kind=v
// (or with no labels when label is "").
func metricValue(t *testing.T, reg *prometheus.Registry, name, label, v string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			match := label == ""
			for _, l := range m.GetLabel() {
				match = match || l.GetName() == label && l.GetValue() == v
			}
			if !match {
				continue
			}
			if c := m.GetCounter(); c != nil {
				return c.GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	t.Fatalf("no metric %s{%s=%q}", name, label, v)
	return 0
}

// TestMaintenancePurgesOnItsTicker: the loop purges at start and on each
// tick of its clock; an acknowledged view goes 30 days after the ack and
// the replay row after its expiry, counted in gateway_purged_total.
func TestMaintenancePurgesOnItsTicker(t *testing.T) {
	e := storetest.NewEnv(t, sqliteDB{filepath.Join(t.TempDir(), "gateway.db")}, nil)
	const muni = "municipality:0851"
	e.MustCommit(t, storetest.Intake("region:1081", "m1", storetest.T0.Add(time.Hour), []string{"rec-1"}, muni))
	ctx := context.Background()
	res, err := e.Store.Pull(ctx, muni, 10, time.Minute, storetest.Deliver)
	if err != nil || len(res.Messages) != 1 {
		t.Fatalf("pull: %v %v", res, err)
	}
	if err := e.Store.Ack(ctx, muni, res.Messages[0].ID, res.Messages[0].DeliveryDigest); err != nil {
		t.Fatal(err)
	}

	reg := prometheus.NewRegistry()
	mm, err := newMaintenanceMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	ran := make(chan struct{}, 16)
	m := &maintenance{store: e.Store, clock: e.Clock, interval: 10 * time.Minute, log: slog.New(slog.DiscardHandler), metrics: mm,
		ran: func() {
			select {
			case ran <- struct{}{}:
			default:
			}
		}}
	mctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); m.run(mctx) }()
	defer func() { cancel(); <-done }()

	<-ran // the run at start: nothing due yet
	if got := metricValue(t, reg, "gateway_purged_total", "kind", "delivered"); got != 0 {
		t.Fatalf("purged at start: %v", got)
	}
	if got := metricValue(t, reg, "gateway_purge_runs_total", "outcome", "ok"); got != 1 {
		t.Fatalf("runs at start: %v", got)
	}
	e.Clock.Advance(30 * 24 * time.Hour)
	<-ran
	for kind, want := range map[string]float64{"delivered": 1, "deliveries": 1, "replay": 1, "undelivered": 0, "record": 0} {
		if got := metricValue(t, reg, "gateway_purged_total", "kind", kind); got != want {
			t.Errorf("gateway_purged_total{kind=%q} = %v, want %v", kind, got, want)
		}
	}
	if got := metricValue(t, reg, "gateway_purge_last_success_timestamp_seconds", "", ""); got < float64(storetest.T0.Add(30*24*time.Hour).Unix()) {
		t.Errorf("last success %v, not after the advance", got)
	}
}

// TestServeConfigRetention: the retention defaults are the store's, the
// file and the environment set them, and bad values are refused naming
// the setting (and the variable).
func TestServeConfigRetention(t *testing.T) {
	base := func() serveConfig {
		return serveConfig{Trust: trustSettings{CertificatesDir: "/etc/certs"}}
	}
	c := base().withDefaults()
	if err := c.validate(false); err != nil {
		t.Fatal(err)
	}
	if got := c.retention(); got != store.DefaultRetention() || time.Duration(c.Retention.Interval) != 10*time.Minute {
		t.Fatalf("the default retention %+v every %s, want %+v every 10m", got, time.Duration(c.Retention.Interval), store.DefaultRetention())
	}
	env := map[string]string{"GATEWAY_RETENTION_DELIVERED_DAYS": "7", "GATEWAY_RETENTION_UNDELIVERED_DAYS": "60",
		"GATEWAY_RETENTION_RECORD_DAYS": "365", "GATEWAY_RETENTION_INTERVAL": "1h"}
	c = base()
	c.applyEnv(func(k string) string { return env[k] })
	c = c.withDefaults()
	if err := c.validate(false); err != nil {
		t.Fatal(err)
	}
	const day = 24 * time.Hour
	if got := c.retention(); got != (store.Retention{Delivered: 7 * day, Undelivered: 60 * day, Records: 365 * day, BatchSize: 500}) ||
		time.Duration(c.Retention.Interval) != time.Hour {
		t.Fatalf("from the environment: %+v every %s", got, time.Duration(c.Retention.Interval))
	}
	if err := c.retention().Check(); err != nil {
		t.Fatalf("a valid configuration makes a retention the store refuses: %v", err)
	}

	for _, tc := range []struct {
		name   string
		mutate func(*serveConfig)
		env    map[string]string
		want   []string
	}{
		{"delivered negative", func(c *serveConfig) { c.Retention.DeliveredDays = -1 }, nil, []string{"retention.delivered_days:"}},
		{"undelivered too long", func(c *serveConfig) { c.Retention.UndeliveredDays = 4000 }, nil, []string{"retention.undelivered_days:"}},
		{"record negative", func(c *serveConfig) { c.Retention.RecordDays = -180 }, nil, []string{"retention.record_days:"}},
		{"interval short", func(c *serveConfig) { c.Retention.Interval = duration(10 * time.Second) }, nil, []string{"retention.interval:"}},
		{"interval long", func(c *serveConfig) { c.Retention.Interval = duration(48 * time.Hour) }, nil, []string{"retention.interval:"}},
		{"batch", func(c *serveConfig) { c.Retention.BatchSize = 6000 }, nil, []string{"retention.batch_size:"}},
		{"env days", nil, map[string]string{"GATEWAY_RETENTION_RECORD_DAYS": "half a year"}, []string{"retention.record_days:", "GATEWAY_RETENTION_RECORD_DAYS"}},
		{"env zero days", nil, map[string]string{"GATEWAY_RETENTION_DELIVERED_DAYS": "0"}, []string{"retention.delivered_days:", "GATEWAY_RETENTION_DELIVERED_DAYS"}},
		{"env interval", nil, map[string]string{"GATEWAY_RETENTION_INTERVAL": "600"}, []string{"retention.interval:", "GATEWAY_RETENTION_INTERVAL"}},
	} {
		c := base()
		c.applyEnv(func(k string) string { return tc.env[k] })
		c = c.withDefaults()
		if tc.mutate != nil {
			tc.mutate(&c)
		}
		err := c.validate(false)
		for _, w := range tc.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %v, want an error naming %s", tc.name, err, w)
			}
		}
	}
}
