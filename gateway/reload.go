package gateway

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/psykosocial/exchange/internal/fault"
	"github.com/psykosocial/exchange/internal/pipeline"
)

// ReloadTimeout bounds one reload on the operator listener: reading and
// checking the files, journaling the version and routing again what waited.
const ReloadTimeout = 5 * time.Minute

// Reloader reloads the rules from their files (serve: the directory, the
// consent policy and Region Østdanmark's settings) and puts them in force;
// an error names the file and the problem, and the version in force stays.
type Reloader func(ctx context.Context) (pipeline.ReloadResult, error)

// RulesReporter says which version of the rules is in force;
// *pipeline.Pipeline implements it.
type RulesReporter interface {
	InForce() pipeline.RulesInfo
}

// typeReloadRefused is the problem type of a refused reload.
const typeReloadRefused = "reload-refused"

// reload serves POST /reload on the operator listener: 200 with what was
// put in force and routed again, or 422 reload-refused naming the file and
// the problem (the version in force stays).
func (s *Server) reload(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Reload == nil {
		writeProblem(w, r, s.log, fault.New(fault.ErrNotFound, "not-found", "", "this gateway has nothing to reload"))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), ReloadTimeout)
	defer cancel()
	res, err := s.cfg.Reload(ctx)
	if err != nil {
		s.metrics.reloads.WithLabelValues("refused").Inc()
		if _, ok := fault.As(err); !ok || !errors.Is(err, fault.ErrUnavailable) {
			err = fault.Wrap(fault.ErrInvalid, typeReloadRefused, "", err.Error(), err)
		}
		s.log.Warn("reload refused", "err", err.Error())
		writeProblem(w, r, s.log, err)
		return
	}
	s.metrics.reloads.WithLabelValues("ok").Inc()
	_ = writeJSON(w, http.StatusOK, res)
}

// configInfoDesc describes the version-in-force info metric.
var configInfoDesc = prometheus.NewDesc("gateway_config_info",
	"The version of the rules in force: always 1, labelled with the consent policy's version and the directory file's SHA-256 "+
		"(hex).",
	[]string{"policy_version", "directory_digest"}, nil)

// configCollector reports the version in force at each scrape.
type configCollector struct{ rules RulesReporter }

// Describe implements prometheus.Collector.
func (c *configCollector) Describe(ch chan<- *prometheus.Desc) { ch <- configInfoDesc }

// Collect implements prometheus.Collector.
func (c *configCollector) Collect(ch chan<- prometheus.Metric) {
	in := c.rules.InForce()
	ch <- prometheus.MustNewConstMetric(configInfoDesc, prometheus.GaugeValue, 1, in.PolicyVersion, in.DirectoryDigest)
}
