package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/psykosocial/exchange/adapters"
	"github.com/psykosocial/exchange/certs"
	"github.com/psykosocial/exchange/internal/consent"
	"github.com/psykosocial/exchange/internal/directory"
	"github.com/psykosocial/exchange/internal/envelope"
	"github.com/psykosocial/exchange/internal/journal"
	"github.com/psykosocial/exchange/internal/record"
	"github.com/psykosocial/exchange/internal/refdata"
	"github.com/psykosocial/exchange/internal/routing"
	"github.com/psykosocial/exchange/internal/xmlsig"
)

// Rules are one version of what the gateway decides by: the authority
// directory, the reference data (Region Østdanmark's settings), the trust
// store built on that directory, the validator and adapters on that
// reference data, the router and the consent policy. They are put in
// force together (New, Reload) and never changed once in force: an intake
// uses one version from its start to its commit.
type Rules struct {
	// Directory is the authority directory.
	Directory *directory.Directory
	// DirectoryDigest is the SHA-256 of the directory file's bytes; zero
	// means the digest of Directory's encoding.
	DirectoryDigest [sha256.Size]byte
	// Ref is the reference data.
	Ref *refdata.Data
	// Certs is the trust store built with Directory.
	Certs *certs.Store
	// Validator validates records against Ref.
	Validator *record.Validator
	// Adapters holds an adapter for every format in Directory.
	Adapters *adapters.Registry
	// Router routes records by Directory and Ref.
	Router *routing.Router
	// Policy decides consent.
	Policy *consent.Policy
}

// RulesInfo says which version of the rules is in force: what the
// config_in_force journal entry records and the operator sees.
type RulesInfo struct {
	// Seq counts the versions put in force by this process: 1 at start.
	Seq int `json:"seq"`
	// PolicyVersion is the consent policy's version (dk-default-2026.2).
	PolicyVersion string `json:"policy_version"`
	// DirectoryDigest is the SHA-256 of the directory file, hex.
	DirectoryDigest string `json:"directory_digest"`
	// DirectoryVersion is the directory's format version and generation time.
	DirectoryVersion string `json:"directory_version"`
	// Gaps are the configuration gaps at the time the version was put in
	// force, in words; none when nothing is missing.
	Gaps []string `json:"gaps"`
	// Since is when the version was put in force.
	Since time.Time `json:"since"`
}

// version is a Rules in force with what the pipeline builds on it.
type version struct {
	Rules
	info     RulesInfo
	opener   *envelope.Opener // verifies senders by Certs
	verifier map[string]*xmlsig.Verifier
}

// current is the version in force.
func (p *Pipeline) current() *version { return p.cur.Load() }

// InForce says which version of the rules is in force.
func (p *Pipeline) InForce() RulesInfo { return p.current().info }

// build checks r whole and builds a version of it; nothing is put in force.
func (p *Pipeline) build(r Rules) (*version, error) {
	for _, m := range []struct {
		name    string
		missing bool
	}{
		{"Directory", r.Directory == nil}, {"Ref", r.Ref == nil}, {"Certs", r.Certs == nil}, {"Validator", r.Validator == nil},
		{"Adapters", r.Adapters == nil}, {"Router", r.Router == nil}, {"Policy", r.Policy == nil},
	} {
		if m.missing {
			return nil, fmt.Errorf("pipeline: Config.%s is required", m.name)
		}
	}
	opener, err := envelope.NewOpener(envelope.OpenerConfig{DecryptionKeys: p.dks, Senders: trustKeys{st: r.Certs},
		ReplayByCaller: true, Clock: p.cfg.Clock})
	if err != nil {
		return nil, fmt.Errorf("pipeline: opener: %w", err)
	}
	v := &version{Rules: r, opener: opener, verifier: map[string]*xmlsig.Verifier{}}
	for _, f := range []string{directory.FormatMunicipality, directory.FormatPolice} {
		a, ok := r.Adapters.ByFormat(f)
		if !ok {
			continue
		}
		la, ok := a.(limited)
		if !ok {
			return nil, fmt.Errorf("pipeline: the %s adapter does not export its Limits()", f)
		}
		xv, err := xmlsig.NewVerifier(xmlsig.VerifierConfig{Clock: p.cfg.Clock, Limits: la.Limits()})
		if err != nil {
			return nil, fmt.Errorf("pipeline: verifier for %s: %w", f, err)
		}
		v.verifier[f] = xv
	}
	for _, a := range r.Directory.Authorities {
		if a.Kind == directory.KindGateway || !a.Mailbox && a.Format == "" {
			continue
		}
		if _, ok := r.Adapters.ByFormat(a.Format); !ok {
			return nil, fmt.Errorf("pipeline: no adapter for format %q of %s", a.Format, a.ID)
		}
	}
	digest := r.DirectoryDigest
	if digest == ([sha256.Size]byte{}) {
		b, err := r.Directory.Encode()
		if err != nil {
			return nil, fmt.Errorf("pipeline: the directory cannot be encoded: %w", err)
		}
		digest = sha256.Sum256(b)
	}
	v.DirectoryDigest = digest
	now := p.cfg.Clock.Now()
	v.info = RulesInfo{PolicyVersion: r.Policy.Version(), DirectoryDigest: hex.EncodeToString(digest[:]),
		DirectoryVersion: r.Directory.Version + " generated " + r.Directory.GeneratedAt.UTC().Format(time.RFC3339),
		Gaps:             []string{}, Since: now.UTC()}
	for _, g := range r.Ref.Gaps(now) {
		v.info.Gaps = append(v.info.Gaps, g.String())
	}
	return v, nil
}

// ReloadResult is what Start or Reload put in force and what it routed again.
type ReloadResult struct {
	// InForce is the version now in force.
	InForce RulesInfo `json:"in_force"`
	// Rerouted says what became of the records that waited for a
	// recipient to be configured.
	Rerouted RerouteReport `json:"rerouted"`
}

// Start journals the version of the rules New put in force
// (config_in_force) and routes again what waited for a recipient that it
// configures (Reroute). The service calls it once before it serves.
func (p *Pipeline) Start(ctx context.Context) (ReloadResult, error) {
	p.reloadMu.Lock()
	defer p.reloadMu.Unlock()
	v := p.current()
	if err := p.journalInForce(ctx, v); err != nil {
		return ReloadResult{}, err
	}
	p.log.InfoContext(ctx, "rules in force", inForceAttrs(v.info)...)
	rep, err := p.Reroute(ctx)
	return ReloadResult{InForce: v.info, Rerouted: rep}, err
}

// Reload checks r whole and, only if it holds, puts it in force in place
// of the version in force: the version is journaled (config_in_force)
// before it is swapped in, intakes that started before finish on the old
// version, and the records that waited for a recipient the new version
// configures are routed again (Reroute). A version that does not hold is
// refused, the refusal is journaled (outcome refused) and logged, and the
// old version stays in force.
func (p *Pipeline) Reload(ctx context.Context, r Rules) (ReloadResult, error) {
	p.reloadMu.Lock()
	defer p.reloadMu.Unlock()
	v, err := p.build(r)
	if err != nil {
		p.Refused(ctx, err)
		return ReloadResult{}, err
	}
	v.info.Seq = p.seq + 1
	if err := p.journalInForce(ctx, v); err != nil {
		return ReloadResult{}, err
	}
	p.seq++
	old := p.cur.Swap(v)
	p.log.InfoContext(ctx, "rules reloaded", append(inForceAttrs(v.info), "previous_policy_version", old.info.PolicyVersion,
		"previous_directory_digest", old.info.DirectoryDigest)...)
	rep, err := p.Reroute(ctx)
	return ReloadResult{InForce: v.info, Rerouted: rep}, err
}

// refusalJournalTimeout bounds the journaling of a refused reload.
const refusalJournalTimeout = 30 * time.Second

// Refused journals and logs a reload that was refused before it reached
// the pipeline (a file that does not parse, say): err names the file and
// the problem; the version in force stays. The journal entry is best
// effort: the refusal stands even when the journal cannot take it.
func (p *Pipeline) Refused(ctx context.Context, err error) {
	p.log.ErrorContext(ctx, "reload refused; the rules in force stay", "err", err,
		"policy_version", p.current().info.PolicyVersion, "directory_digest", p.current().info.DirectoryDigest)
	e := journal.Entry{Event: journal.EventConfigInForce, Actor: directory.GatewayID, Outcome: journal.OutcomeRefused,
		Reason: clipReason("reload refused, the version in force stays: " + err.Error())}
	// The refusal is journaled even if the operator's client has gone
	// away meanwhile: the journal must show every attempt to change the rules.
	jctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), refusalJournalTimeout)
	defer cancel()
	if _, jerr := p.cfg.Journal.Append(jctx, e); jerr != nil {
		p.log.ErrorContext(ctx, "journal: a refused reload could not be journaled", "err", jerr)
	}
}

// journalInForce journals a version as put in force.
func (p *Pipeline) journalInForce(ctx context.Context, v *version) error {
	gaps := "none"
	if len(v.info.Gaps) > 0 {
		var ws []string
		for _, g := range v.Ref.Gaps(v.info.Since) {
			state := "upcoming"
			if g.InForce {
				state = "in force"
			}
			ws = append(ws, fmt.Sprintf("%s not configured (%s; settings %s)", g.Region.Name, state, strings.Join(g.Settings, " and ")))
		}
		gaps = strings.Join(ws, "; ")
	}
	e := journal.Entry{Event: journal.EventConfigInForce, Actor: directory.GatewayID, Outcome: journal.OutcomeOK,
		Consent: journal.Decision{PolicyVersion: v.info.PolicyVersion}, PayloadDigest: v.DirectoryDigest,
		Reason: clipReason(fmt.Sprintf("version %d of this process; directory %s; configuration gaps: %s", v.info.Seq, v.info.DirectoryVersion, gaps))}
	if _, err := p.cfg.Journal.Append(ctx, e); err != nil {
		return unavailable("the version in force could not be journaled", err)
	}
	return nil
}

// inForceAttrs are the log attributes of a version in force.
func inForceAttrs(in RulesInfo) []any {
	return []any{"seq", in.Seq, "policy_version", in.PolicyVersion, "directory_digest", in.DirectoryDigest,
		"directory_version", in.DirectoryVersion, "configuration_gaps", len(in.Gaps)}
}

// clipReason makes s a journal reason: control characters become spaces
// and it is cut to the journal's bound on a rune boundary.
func clipReason(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	const max = 512
	if len(s) <= max {
		return s
	}
	cut := max - len("…")
	for cut > 0 && !utf8RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
