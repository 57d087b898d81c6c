package gateway

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/psykosocial/exchange/internal/clock"
	"github.com/psykosocial/exchange/internal/pipeline"
	"github.com/psykosocial/exchange/internal/refdata"
)

// metrics are the HTTP layer's Prometheus metrics, on the registry the
// binary gives (never the default one). Labels stay low-cardinality: route
// names, status codes, authority kinds, problem type names and rule ids.
type metrics struct {
	requests        *prometheus.CounterVec
	latency         *prometheus.HistogramVec
	recordsReceived *prometheus.CounterVec
	recordsRejected *prometheus.CounterVec
	panics          prometheus.Counter
	reloads         *prometheus.CounterVec
}

// mailboxReporter counts the waiting mailbox messages (Pipeline.Mailboxes).
type mailboxReporter interface {
	Mailboxes(ctx context.Context) ([]pipeline.MailboxDepth, error)
}

func newMetrics(reg prometheus.Registerer, gaps GapReporter, rules RulesReporter, boxes mailboxReporter, clk clock.Clock, log *slog.Logger) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_http_requests_total",
			Help: "HTTP requests answered, by route and status code.",
		}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gateway_http_request_duration_seconds",
			Help:    "Time from a request's headers to the end of its answer, by route (a long-poll includes its wait).",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"route"}),
		recordsReceived: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_records_received_total",
			Help: "Records accepted from senders (already received ones included), by sender kind (region, municipality, police).",
		}, []string{"sender_kind"}),
		recordsRejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_records_rejected_total",
			Help: "Records, or whole messages, refused, by sender kind and reason (the problem type, or the rule a refused record of a batch broke).",
		}, []string{"sender_kind", "reason"}),
		panics: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gateway_http_panics_total",
			Help: "Handler panics turned into a 500: each is a bug to alert on.",
		}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_config_reloads_total",
			Help: "Reloads asked for on the operator listener, by outcome: ok (put in force) or refused (the version in force stays).",
		}, []string{"outcome"}),
	}
	cs := []prometheus.Collector{m.requests, m.latency, m.recordsReceived, m.recordsRejected, m.panics, m.reloads}
	if rules != nil {
		cs = append(cs, &configCollector{rules: rules})
	}
	if gaps != nil {
		cs = append(cs, &gapCollector{gaps: gaps, clock: clk})
	}
	if boxes != nil {
		cs = append(cs, &mailboxCollector{boxes: boxes, clock: clk, log: log})
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// gapDesc describes the configuration gap gauge.
var gapDesc = prometheus.NewDesc("gateway_config_gaps",
	"Configuration gaps (reference data the gateway needs but configuration lacks, such as Region Østdanmark's code and CVR), "+
		"by state: in_force (records are withheld now) or upcoming. Alert on in_force > 0.",
	[]string{"state"}, nil)

// gapCollector reports the configuration gaps as of each scrape, on the
// injected clock.
type gapCollector struct {
	gaps  GapReporter
	clock clock.Clock
}

// Describe implements prometheus.Collector.
func (g *gapCollector) Describe(ch chan<- *prometheus.Desc) { ch <- gapDesc }

// Collect implements prometheus.Collector.
func (g *gapCollector) Collect(ch chan<- prometheus.Metric) {
	inForce, upcoming := countGaps(g.gaps.Gaps(g.clock.Now()))
	ch <- prometheus.MustNewConstMetric(gapDesc, prometheus.GaugeValue, float64(inForce), "in_force")
	ch <- prometheus.MustNewConstMetric(gapDesc, prometheus.GaugeValue, float64(upcoming), "upcoming")
}

// The mailbox gauges: what waits for the case systems, by recipient kind.
var (
	mailboxDepthDesc = prometheus.NewDesc("gateway_mailbox_depth",
		"Mailbox messages not yet acknowledged (queued, leased or parked), by recipient kind (region, municipality, police).",
		[]string{"recipient_kind"}, nil)
	mailboxAgeDesc = prometheus.NewDesc("gateway_mailbox_oldest_age_seconds",
		"Age of the oldest mailbox message not yet acknowledged, by recipient kind; 0 when none waits.",
		[]string{"recipient_kind"}, nil)
)

// mailboxCollector reports the mailbox gauges from one store query per
// scrape, bounded by MailboxScrapeTimeout; when the query fails the scrape
// goes on without them (logged), so the other metrics stay visible.
type mailboxCollector struct {
	boxes mailboxReporter
	clock clock.Clock
	log   *slog.Logger
}

// Describe implements prometheus.Collector.
func (m *mailboxCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- mailboxDepthDesc
	ch <- mailboxAgeDesc
}

// Collect implements prometheus.Collector.
func (m *mailboxCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), MailboxScrapeTimeout)
	defer cancel()
	ds, err := m.boxes.Mailboxes(ctx)
	if err != nil {
		m.log.Warn("metrics: the mailboxes could not be counted", "err", err)
		return
	}
	now := m.clock.Now()
	for _, d := range ds {
		age := 0.0
		if d.Depth > 0 && !d.Oldest.IsZero() {
			age = max(now.Sub(d.Oldest).Seconds(), 0)
		}
		ch <- prometheus.MustNewConstMetric(mailboxDepthDesc, prometheus.GaugeValue, float64(d.Depth), d.Kind)
		ch <- prometheus.MustNewConstMetric(mailboxAgeDesc, prometheus.GaugeValue, age, d.Kind)
	}
}

func countGaps(gs []refdata.Gap) (inForce, upcoming int) {
	for _, g := range gs {
		if g.InForce {
			inForce++
		} else {
			upcoming++
		}
	}
	return inForce, upcoming
}

// observe records one answered request.
func (m *metrics) observe(route string, status int, d time.Duration) {
	m.requests.WithLabelValues(route, statusLabel(status)).Inc()
	m.latency.WithLabelValues(route).Observe(d.Seconds())
}

func statusLabel(code int) string {
	if code < 100 || code > 599 {
		return "other"
	}
	const digits = "0123456789"
	return string([]byte{digits[code/100], digits[code/10%10], digits[code%10]})
}
