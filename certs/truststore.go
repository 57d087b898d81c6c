package certs

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/psykosocial/exchange/internal/clock"
	"github.com/psykosocial/exchange/internal/directory"
)

// Errors of the trust store, matched with errors.Is. The error text names
// the check that failed and never echoes more of the certificate than its
// subject's display name.
var (
	// ErrUntrustedChain: the certificate does not chain to a trust anchor.
	ErrUntrustedChain = errors.New("certificate does not chain to a trusted CA")
	// ErrRevoked: the certificate (or a CA above it) is on its issuer's CRL.
	ErrRevoked = errors.New("certificate is revoked")
	// ErrNoCRL: revocation is required but no fresh CRL of the issuer is loaded.
	ErrNoCRL = errors.New("no current CRL for the issuing CA")
	// ErrNotBound: no authority in the directory binds this certificate for this use.
	ErrNotBound = errors.New("certificate is not registered for any authority")
	// ErrCVRMismatch: the certificate's CVR is not the CVR of the authority it is bound to.
	ErrCVRMismatch = errors.New("certificate CVR differs from the authority's")
	// ErrUnknownAuthority: the authority id is not in the directory (or not valid now).
	ErrUnknownAuthority = errors.New("unknown authority")
	// ErrNoCertificate: the authority has no valid certificate for the use.
	ErrNoCertificate = errors.New("authority has no valid certificate for this use")
	// ErrCeased: the certificate is registered for an authority that has
	// ceased, and its grace period (Config.CeasedGrace) is over; the error
	// is a *CeasedError, which also matches ErrNotBound.
	ErrCeased = errors.New("certificate is registered for an authority that has ceased")
)

// CeasedError names the authority that has ceased, which a certificate is
// registered for, when it no longer acts for it. It matches ErrCeased and
// ErrNotBound.
type CeasedError struct {
	// AuthorityID is the authority the certificate was registered for.
	AuthorityID string
	// CeasedAt is when it ceased; GraceEnded when its certificates
	// stopped acting for it.
	CeasedAt, GraceEnded time.Time
}

// Error implements error.
func (e *CeasedError) Error() string {
	return fmt.Sprintf("%v: %s ceased at %s; its certificates acted for it until %s", ErrCeased, e.AuthorityID,
		e.CeasedAt.UTC().Format(time.RFC3339), e.GraceEnded.UTC().Format(time.RFC3339))
}

// Is makes the error match ErrCeased and ErrNotBound.
func (e *CeasedError) Is(target error) bool { return target == ErrCeased || target == ErrNotBound }

// Config configures a Store. Zero values are safe (no anchors trust
// nothing), except Clock, which is required.
type Config struct {
	// Roots are the trust anchors (root CA certificates).
	Roots []*x509.Certificate
	// Intermediates are issuing CA certificates that chains may use.
	Intermediates []*x509.Certificate
	// CertificatesDir holds the authorities' registered certificates as PEM
	// files (*.pem, any depth). Reloaded by Reload.
	CertificatesDir string
	// CRLDir holds the issuing CAs' CRLs (*.crl as DER or PEM). Reloaded by Reload.
	CRLDir string
	// RequireCRL makes a certificate untrusted unless a CRL of its issuer,
	// signed by that issuer and not past its NextUpdate, is loaded. Production
	// sets it; a laptop without CRLs may not.
	RequireCRL bool
	// Clock is the time chains, CRLs and directory bindings are judged at.
	// Required: NewStore refuses a nil Clock.
	Clock clock.Clock
	// CeasedGrace is how long after an authority has ceased (Region
	// Hovedstaden and Region Sjælland at the 2027 merger) its TLS and
	// signing certificates still authenticate, so that it can send what it
	// registered before it ceased; routing.Router.Standing then judges each
	// record's act. Zero means directory.DefaultCeasedGrace (30 days), a
	// negative value none. Never for encryption: nothing is sent to an
	// authority that has ceased.
	CeasedGrace time.Duration
}

// Authenticated is the result of authenticating a certificate.
type Authenticated struct {
	// AuthorityID is the authority the certificate acts for.
	AuthorityID string
	// Identity is what the certificate says about its holder.
	Identity Identity
	// Use is the binding's use (signing, encryption, tls).
	Use string
	// CeasedAt is when the authority ceased, for one that authenticates
	// within Config.CeasedGrace after it ceased; zero while it is in force.
	// The caller must judge every act it sends with routing.Router.Standing
	// and record it as sent on behalf of the successor.
	CeasedAt time.Time
}

// Store is the trust store: anchors, the registered certificates bound to
// authorities by the directory, and the CRLs. It is safe for concurrent use;
// Reload swaps certificates and CRLs atomically without a restart.
type Store struct {
	cfg   Config
	dir   *directory.Directory
	roots *x509.CertPool
	inter *x509.CertPool

	mu    sync.RWMutex
	byCVR map[string][]registered // registered certificates by CVR
	crls  map[string]loadedCRL    // by issuer RawSubject

	chainMu sync.Mutex
	chains  map[[32]byte]verifiedChains // chain verification results by certificate
}

// loadedCRL is a CRL whose signature was checked once, at load, against signer.
type loadedCRL struct {
	crl    *x509.RevocationList
	signer *x509.Certificate
}

// verifiedChains caches x509 chain building, the costly part of
// authentication (two signature checks per chain): the anchors never change
// for a Store, so a result holds while the time stays inside every chain
// certificate's validity. Revocation is checked on every call.
type verifiedChains struct {
	chains   [][]*x509.Certificate
	from, to time.Time // the intersection of the chain certificates' validity
}

// maxCachedChains bounds the chain cache: a few certificates per authority.
const maxCachedChains = 4096

// registered is a loaded certificate with its identity read once.
type registered struct {
	cert *x509.Certificate
	id   Identity
}

// NewStore builds a store and loads the certificates and CRLs once. It
// refuses a Config without a Clock.
func NewStore(cfg Config, dir *directory.Directory) (*Store, error) {
	if cfg.Clock == nil {
		return nil, errors.New("certs: Config.Clock is nil")
	}
	if cfg.CeasedGrace == 0 {
		cfg.CeasedGrace = directory.DefaultCeasedGrace
	}
	s := &Store{cfg: cfg, dir: dir, roots: x509.NewCertPool(), inter: x509.NewCertPool()}
	for _, c := range cfg.Roots {
		s.roots.AddCert(c)
	}
	for _, c := range cfg.Intermediates {
		s.inter.AddCert(c)
	}
	if err := s.Reload(); err != nil {
		return nil, err
	}
	return s, nil
}

// Reload reads the certificates and CRLs again. On error the store keeps
// what it had, so a half-written CRL never opens the gate.
func (s *Store) Reload() error {
	byCVR := map[string][]registered{}
	if s.cfg.CertificatesDir != "" {
		err := filepath.WalkDir(s.cfg.CertificatesDir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".pem") {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			cs, err := ParsePEMCertificates(b)
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			for _, c := range cs {
				// Certificates without an OCES3 identity (CAs, the gateway's
				// own) act for no authority and are not indexed.
				if id, err := IdentityOf(c); err == nil {
					byCVR[id.CVR] = append(byCVR[id.CVR], registered{cert: c, id: id})
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("load certificates: %w", err)
		}
	}
	crls := map[string]loadedCRL{}
	if s.cfg.CRLDir != "" {
		entries, err := os.ReadDir(s.cfg.CRLDir)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("load CRLs: %w", err)
		}
		for _, e := range entries {
			if e.IsDir() || !strings.HasSuffix(e.Name(), ".crl") {
				continue
			}
			path := filepath.Join(s.cfg.CRLDir, e.Name())
			crl, signer, err := s.loadCRL(path)
			if err != nil {
				return fmt.Errorf("load CRL %s: %w", path, err)
			}
			key := string(crl.RawIssuer)
			if prev, ok := crls[key]; !ok || crl.Number.Cmp(prev.crl.Number) > 0 {
				crls[key] = loadedCRL{crl: crl, signer: signer}
			}
		}
	}
	s.mu.Lock()
	s.byCVR, s.crls = byCVR, crls
	s.mu.Unlock()
	return nil
}

// loadCRL parses a CRL file and checks its signature against a known CA.
func (s *Store) loadCRL(path string) (*x509.RevocationList, *x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	if blk, _ := pem.Decode(b); blk != nil {
		if blk.Type != "X509 CRL" {
			return nil, nil, fmt.Errorf("unexpected PEM block %q", blk.Type)
		}
		b = blk.Bytes
	}
	crl, err := x509.ParseRevocationList(b)
	if err != nil {
		return nil, nil, err
	}
	for _, ca := range slices.Concat(s.cfg.Roots, s.cfg.Intermediates) {
		if bytes.Equal(ca.RawSubject, crl.RawIssuer) && crl.CheckSignatureFrom(ca) == nil {
			return crl, ca, nil
		}
	}
	return nil, nil, errors.New("CRL is not signed by a configured CA")
}

// verifyChain checks cert against the anchors at the store's time and the
// CRL of its issuer.
func (s *Store) verifyChain(cert *x509.Certificate, extra []*x509.Certificate) error {
	now := s.cfg.Clock.Now()
	inter := s.inter
	if len(extra) > 0 {
		inter = s.inter.Clone()
		for _, c := range extra {
			inter.AddCert(c)
		}
	}
	chains, err := s.buildChains(cert, inter, len(extra) == 0, now)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrUntrustedChain, displayName(cert), err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var lastErr error
	for _, chain := range chains {
		if lastErr = s.checkRevocation(chain, now); lastErr == nil {
			return nil
		}
	}
	return lastErr
}

// buildChains verifies cert's chains to the anchors at now, from the cache
// when it may.
func (s *Store) buildChains(cert *x509.Certificate, inter *x509.CertPool, cacheable bool, now time.Time) ([][]*x509.Certificate, error) {
	key := sha256.Sum256(cert.Raw)
	if cacheable {
		s.chainMu.Lock()
		v, ok := s.chains[key]
		s.chainMu.Unlock()
		if ok && !now.Before(v.from) && !now.After(v.to) {
			return v.chains, nil
		}
	}
	chains, err := cert.Verify(x509.VerifyOptions{
		Roots: s.roots, Intermediates: inter, CurrentTime: now,
		// OCES3 certificates carry no extended key usage.
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	if err != nil || !cacheable {
		return chains, err
	}
	v := verifiedChains{chains: chains, from: cert.NotBefore, to: cert.NotAfter}
	for _, ch := range chains {
		for _, c := range ch {
			if c.NotBefore.After(v.from) {
				v.from = c.NotBefore
			}
			if c.NotAfter.Before(v.to) {
				v.to = c.NotAfter
			}
		}
	}
	s.chainMu.Lock()
	if s.chains == nil || len(s.chains) >= maxCachedChains {
		s.chains = make(map[[32]byte]verifiedChains)
	}
	s.chains[key] = v
	s.chainMu.Unlock()
	return chains, nil
}

// checkRevocation checks the leaf against its issuer's CRL. The CAs above
// it are configured by the operator (Config.Roots, Config.Intermediates) and
// trusted as configured: a compromised CA is removed from the configuration.
func (s *Store) checkRevocation(chain []*x509.Certificate, now time.Time) error {
	if len(chain) < 2 {
		return nil // a trust anchor itself
	}
	c, issuer := chain[0], chain[1]
	l, ok := s.crls[string(issuer.RawSubject)]
	if !ok || !l.signer.Equal(issuer) {
		if s.cfg.RequireCRL {
			return fmt.Errorf("%w: %s", ErrNoCRL, displayName(issuer))
		}
		return nil
	}
	crl := l.crl
	if !crl.NextUpdate.IsZero() && now.After(crl.NextUpdate) && s.cfg.RequireCRL {
		return fmt.Errorf("%w: the CRL of %s expired at %s", ErrNoCRL, displayName(issuer), crl.NextUpdate.UTC().Format(time.RFC3339))
	}
	for _, r := range crl.RevokedCertificateEntries {
		if r.SerialNumber.Cmp(c.SerialNumber) == 0 && !r.RevocationTime.After(now) {
			return fmt.Errorf("%w: %s (serial %s) since %s", ErrRevoked, displayName(c), c.SerialNumber.Text(16), r.RevocationTime.UTC().Format(time.RFC3339))
		}
	}
	return nil
}

func displayName(c *x509.Certificate) string {
	n := c.Subject.CommonName
	if len(n) > 80 {
		n = n[:80]
	}
	return fmt.Sprintf("%q", n)
}

// bindingMatches reports whether b binds the certificate with identity id
// for use at time t.
func bindingMatches(b directory.CertificateBinding, id Identity, use string, t time.Time) bool {
	if b.Use != use || !b.Valid.Contains(t) {
		return false
	}
	if b.CertificateUUID == "" && b.SPKISHA256 == "" {
		return false
	}
	if b.CertificateUUID != "" && b.CertificateUUID != id.CertificateUUID {
		return false
	}
	if b.SPKISHA256 != "" && b.SPKISHA256 != id.SPKISHA256 {
		return false
	}
	return true
}

// Authenticate decides which authority cert acts for, for the given use
// (directory.UseSigning, UseEncryption, UseTLS, UseDPO): the chain must verify to an
// anchor at the current time, no CA on it may have revoked it, the
// certificate must carry the OCES3 identity, exactly one authority valid now
// must bind it for that use, and the CVRs must agree. extra holds
// intermediates the peer presented. For TLS and signing, an authority that
// ceased less than Config.CeasedGrace ago still counts (Authenticated.CeasedAt
// says when it ceased). For UseDPO a certificate bound in the directory's
// operator entry acts for directory.GatewayID: the operator's DPO.
func (s *Store) Authenticate(cert *x509.Certificate, extra []*x509.Certificate, use string) (Authenticated, error) {
	if err := s.verifyChain(cert, extra); err != nil {
		return Authenticated{}, err
	}
	id, err := IdentityOf(cert)
	if err != nil {
		return Authenticated{}, err
	}
	now := s.cfg.Clock.Now()
	var found []directory.Authority
	var ceased []time.Time
	for _, a := range s.dir.Authorities {
		at, ok := a.InForceOrCeasedWithin(now, s.grace(use))
		if !ok {
			continue
		}
		for _, b := range a.Certificates {
			if bindingMatches(b, id, use, now) {
				found = append(found, a)
				ceased = append(ceased, at)
				break
			}
		}
	}
	if op := s.dir.Operator; use == directory.UseDPO && op != nil {
		for _, b := range op.Certificates {
			if bindingMatches(b, id, use, now) {
				if len(found) > 0 {
					return Authenticated{}, fmt.Errorf("%w: %s is bound to the operator and to %s; a certificate acts for one", ErrNotBound, displayName(cert), found[0].ID)
				}
				if op.CVR != id.CVR {
					return Authenticated{}, fmt.Errorf("%w: certificate CVR %s, the operator has CVR %s", ErrCVRMismatch, id.CVR, op.CVR)
				}
				return Authenticated{AuthorityID: directory.GatewayID, Identity: id, Use: use}, nil
			}
		}
	}
	switch len(found) {
	case 0:
		if ce := s.ceasedBinding(id, use, now); ce != nil {
			return Authenticated{}, ce
		}
		return Authenticated{}, fmt.Errorf("%w: %s for use %s", ErrNotBound, displayName(cert), use)
	case 1:
	default:
		return Authenticated{}, fmt.Errorf("%w: %s is bound to %d authorities; a certificate acts for one", ErrNotBound, displayName(cert), len(found))
	}
	a := found[0]
	if a.CVR != id.CVR {
		return Authenticated{}, fmt.Errorf("%w: certificate CVR %s, %s has CVR %s", ErrCVRMismatch, id.CVR, a.ID, a.CVR)
	}
	return Authenticated{AuthorityID: a.ID, Identity: id, Use: use, CeasedAt: ceased[0]}, nil
}

// ceasedBinding finds the one authority that has ceased whose binding for
// use matches id (of the same CVR), for a certificate that acts for no
// authority now; nil when there is none, or more than one.
func (s *Store) ceasedBinding(id Identity, use string, now time.Time) *CeasedError {
	var out *CeasedError
	for _, a := range s.dir.Authorities {
		to := a.Valid.To
		if to.IsZero() || now.Before(to) || a.CVR != id.CVR {
			continue
		}
		for _, b := range a.Certificates {
			if bindingMatches(b, id, use, now) || bindingMatches(b, id, use, to.Add(-time.Nanosecond)) {
				if out != nil {
					return nil
				}
				out = &CeasedError{AuthorityID: a.ID, CeasedAt: to, GraceEnded: to.Add(max(s.grace(use), 0))}
				break
			}
		}
	}
	return out
}

// grace is how long after an authority ceased its certificates of use
// still act for it: Config.CeasedGrace for TLS and signing, none for
// encryption.
func (s *Store) grace(use string) time.Duration {
	if use == directory.UseTLS || use == directory.UseSigning {
		return s.cfg.CeasedGrace
	}
	return -1
}

// Certificates returns the registered certificates that act for the
// authority for use now: bound by the directory, within their own and their
// binding's validity, chained to an anchor and not revoked. Newest first
// (by NotBefore), so during a rollover the first is the one to encrypt to
// and all of them verify. The signing and TLS certificates of an authority
// that ceased less than Config.CeasedGrace ago are still returned; its
// encryption certificates are not.
func (s *Store) Certificates(authorityID, use string) ([]*x509.Certificate, error) {
	now := s.cfg.Clock.Now()
	a, ok := s.dir.Lookup(authorityID)
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownAuthority, authorityID)
	}
	if _, ok := a.InForceOrCeasedWithin(now, s.grace(use)); !ok {
		if to := a.Valid.To; !to.IsZero() && !now.Before(to) {
			return nil, fmt.Errorf("%w: %s ceased at %s", ErrUnknownAuthority, authorityID, to.UTC().Format(time.RFC3339))
		}
		return nil, fmt.Errorf("%w: %s is not in force at %s", ErrUnknownAuthority, authorityID, now.UTC().Format(time.RFC3339))
	}
	s.mu.RLock()
	candidates := s.byCVR[a.CVR]
	s.mu.RUnlock()
	var out []*x509.Certificate
	for _, r := range candidates {
		bound := false
		for _, b := range a.Certificates {
			if bindingMatches(b, r.id, use, now) {
				bound = true
				break
			}
		}
		if !bound || s.verifyChain(r.cert, nil) != nil {
			continue
		}
		out = append(out, r.cert)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: %s, %s", ErrNoCertificate, authorityID, use)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].NotBefore.After(out[j].NotBefore) })
	return out, nil
}

// EncryptionCertificate returns the newest valid encryption certificate of
// the authority: during a rollover, messages are encrypted to the new key.
func (s *Store) EncryptionCertificate(authorityID string) (*x509.Certificate, error) {
	cs, err := s.Certificates(authorityID, directory.UseEncryption)
	if err != nil {
		return nil, err
	}
	return cs[0], nil
}

// VerificationCertificates returns every valid signing certificate of the
// authority: during a rollover both the old and the new one verify.
func (s *Store) VerificationCertificates(authorityID string) ([]*x509.Certificate, error) {
	return s.Certificates(authorityID, directory.UseSigning)
}
