package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/psykosocial/exchange/certs"
	"github.com/psykosocial/exchange/internal/consent"
	"github.com/psykosocial/exchange/internal/directory"
	"github.com/psykosocial/exchange/internal/pipeline"
	"github.com/psykosocial/exchange/internal/record"
	"github.com/psykosocial/exchange/internal/refdata"
	"github.com/psykosocial/exchange/internal/routing"
)

// maxDirectoryBytes bounds the directory file serve reads (the directory
// package's own bound).
const maxDirectoryBytes = 4 << 20

// rulesLoader reads the rules serve decides by from their files: the
// directory file, the consent policy file and Region Østdanmark's settings
// (east_region_code, east_region_cvr) of the configuration file with their
// environment overrides. It reads them at start and again on each reload
// (SIGHUP, POST /reload on the operator listener); every other setting is
// read once, at start.
type rulesLoader struct {
	e        *env
	c        serveConfig // as at start
	cfgFile  string      // "" with --dev
	dev      bool
	trustCfg certs.Config
}

// eastSettings reads Region Østdanmark's settings as they are now: from the
// configuration file again (and the environment), or as at start under --dev.
func (l *rulesLoader) eastSettings() (refdata.Config, error) {
	c := l.c
	if l.cfgFile != "" {
		fresh, err := loadServeConfig(l.cfgFile)
		if err != nil {
			return refdata.Config{}, err
		}
		fresh.applyEnv(l.e.getenvOrEmpty)
		c.EastRegionCode, c.EastRegionCVR = fresh.EastRegionCode, fresh.EastRegionCVR
	}
	rc := c.refConfig()
	if rc.UsesTestValues() && !l.dev {
		return rc, fmt.Errorf("config %s: east_region_code: %s/%s are the made-up test values (refdata.TestEastRegion); refused outside --dev",
			l.cfgFile, rc.EastRegionCode, rc.EastRegionCVR)
	}
	return rc, nil
}

// load reads and checks every file of the rules and builds them; an error
// names the file or setting and the problem.
func (l *rulesLoader) load() (pipeline.Rules, error) {
	rc, err := l.eastSettings()
	if err != nil {
		return pipeline.Rules{}, err
	}
	ref, err := refdata.Load(rc)
	if err != nil {
		return pipeline.Rules{}, fmt.Errorf("east_region_code/east_region_cvr: %w", err)
	}
	dirBytes, err := readBounded(l.c.Directory, maxDirectoryBytes)
	if err != nil {
		return pipeline.Rules{}, fmt.Errorf("directory %s: %w", l.c.Directory, err)
	}
	dir, err := directory.Parse(dirBytes, ref)
	if err != nil {
		return pipeline.Rules{}, fmt.Errorf("directory %s: %w", l.c.Directory, err)
	}
	trust, err := certs.NewStore(l.trustCfg, dir)
	if err != nil {
		return pipeline.Rules{}, fmt.Errorf("trust (with directory %s): %w", l.c.Directory, err)
	}
	v := record.NewValidator(ref, l.e.clock)
	reg, err := newRegistry(v)
	if err != nil {
		return pipeline.Rules{}, fmt.Errorf("adapters: %w", err)
	}
	router, err := routing.New(ref, dir)
	if err != nil {
		return pipeline.Rules{}, fmt.Errorf("routing (directory %s): %w", l.c.Directory, err)
	}
	policyJSON, policyFile := consent.DefaultJSON(), "(embedded default)"
	if l.c.ConsentPolicy != "" {
		policyFile = l.c.ConsentPolicy
		if policyJSON, err = readBounded(l.c.ConsentPolicy, maxConfigBytes); err != nil {
			return pipeline.Rules{}, fmt.Errorf("consent_policy %s: %w", policyFile, err)
		}
	}
	policy, err := consent.Load(policyJSON)
	if err != nil {
		return pipeline.Rules{}, fmt.Errorf("consent_policy %s: %w", policyFile, err)
	}
	return pipeline.Rules{Directory: dir, DirectoryDigest: sha256.Sum256(dirBytes), Ref: ref, Certs: trust, Validator: v,
		Adapters: reg, Router: router, Policy: policy}, nil
}

// readBounded reads a file of at most max bytes.
func readBounded(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("larger than the limit of %d bytes", max)
	}
	return b, nil
}

// reloader reloads the rules into pipe: a refusal of the files is
// journaled and logged by the pipeline, and the version in force stays.
func reloader(l *rulesLoader, pipe *pipeline.Pipeline) func(ctx context.Context) (pipeline.ReloadResult, error) {
	return func(ctx context.Context) (pipeline.ReloadResult, error) {
		r, err := l.load()
		if err != nil {
			pipe.Refused(ctx, err)
			return pipeline.ReloadResult{}, err
		}
		return pipe.Reload(ctx, r)
	}
}

// reloadOnHangup reloads on every SIGHUP until ctx ends.
func reloadOnHangup(ctx context.Context, log *slog.Logger, reload func(context.Context) (pipeline.ReloadResult, error)) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		defer signal.Stop(hup)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				res, err := reload(ctx)
				if err != nil {
					if !errors.Is(err, context.Canceled) {
						log.Error("SIGHUP: reload refused; the version in force stays", "err", err)
					}
					continue
				}
				log.Info("SIGHUP: reloaded", "seq", res.InForce.Seq, "policy_version", res.InForce.PolicyVersion,
					"directory_digest", res.InForce.DirectoryDigest, "rerouted", res.Rerouted.Records)
			}
		}
	}()
}
