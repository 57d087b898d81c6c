package certs_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/psykosocial/exchange/certs"
	"github.com/psykosocial/exchange/internal/clock"
	"github.com/psykosocial/exchange/internal/directory"
	"github.com/psykosocial/exchange/internal/refdata"
)

// TestCeasedAuthorityWithinGrace: Region Hovedstaden's TLS and signing
// certificates still authenticate after it ceased at the 2027 merger, for
// the grace period, marked with when it ceased; nothing is encrypted to it
// any more, and after the grace period it is unknown: its certificate is
// refused as one of an authority that ceased.
func TestCeasedAuthorityWithinGrace(t *testing.T) {
	ref, err := refdata.Load(refdata.TestEastRegion())
	if err != nil {
		t.Fatal(err)
	}
	issued := time.Date(2026, 12, 20, 12, 0, 0, 0, clock.Danish())
	merger := time.Date(2027, 1, 1, 0, 0, 0, 0, clock.Danish())
	dataDir := t.TempDir()
	if _, err := certs.InitDevPKI(certs.InitOptions{DataDir: dataDir, Ref: ref, Clock: clock.Fixed(issued),
		RSA: func(directory.Authority) bool { return false }}); err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(merger.Add(-time.Hour))
	ca, _, err := certs.OpenDevCA(dataDir, clk)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := directory.Load(ca.Paths().Directory(), ref)
	if err != nil {
		t.Fatal(err)
	}
	open := func(grace time.Duration) *certs.Store {
		cfg := ca.StoreConfig()
		cfg.RequireCRL = false // the development CRL lives 30 days; only the grace is under test
		cfg.CeasedGrace = grace
		st, err := certs.NewStore(cfg, dir)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	st := open(0)
	tlsCerts, err := st.Certificates("region:1084", directory.UseTLS)
	if err != nil {
		t.Fatal(err)
	}
	signing, err := st.VerificationCertificates("region:1084")
	if err != nil {
		t.Fatal(err)
	}
	a, err := st.Authenticate(tlsCerts[0], nil, directory.UseTLS)
	if err != nil || a.AuthorityID != "region:1084" || !a.CeasedAt.IsZero() {
		t.Fatalf("before the merger: %+v, %v", a, err)
	}

	clk.Set(merger.Add(10 * time.Minute))
	for _, use := range []string{directory.UseTLS, directory.UseSigning} {
		c := tlsCerts[0]
		if use == directory.UseSigning {
			c = signing[0]
		}
		a, err := st.Authenticate(c, nil, use)
		if err != nil || a.AuthorityID != "region:1084" || !a.CeasedAt.Equal(merger) {
			t.Fatalf("%s at 00:10: %+v, %v", use, a, err)
		}
	}
	if vs, err := st.VerificationCertificates("region:1084"); err != nil || len(vs) == 0 {
		t.Fatalf("signing certificates within the grace period: %v", err)
	}
	if _, err := st.EncryptionCertificate("region:1084"); !errors.Is(err, certs.ErrUnknownAuthority) || !strings.Contains(err.Error(), "ceased") {
		t.Fatalf("encryption to a ceased region: %v, want ErrUnknownAuthority naming it ceased", err)
	}
	if _, err := open(-1).Authenticate(tlsCerts[0], nil, directory.UseTLS); !errors.Is(err, certs.ErrNotBound) {
		t.Fatalf("without a grace period: %v, want ErrNotBound", err)
	}
	if _, err := open(5*time.Minute).Authenticate(tlsCerts[0], nil, directory.UseTLS); !errors.Is(err, certs.ErrNotBound) {
		t.Fatalf("after a 5-minute grace period: %v, want ErrNotBound", err)
	}

	clk.Set(merger.Add(directory.DefaultCeasedGrace - time.Second))
	if _, err := st.Authenticate(tlsCerts[0], nil, directory.UseTLS); err != nil {
		t.Fatalf("on the last second of the grace period: %v", err)
	}
	clk.Set(merger.Add(directory.DefaultCeasedGrace))
	_, err = st.Authenticate(tlsCerts[0], nil, directory.UseTLS)
	var ce *certs.CeasedError
	if !errors.Is(err, certs.ErrNotBound) || !errors.Is(err, certs.ErrCeased) || !errors.As(err, &ce) ||
		ce.AuthorityID != "region:1084" || !ce.CeasedAt.Equal(merger) || !ce.GraceEnded.Equal(merger.Add(directory.DefaultCeasedGrace)) {
		t.Fatalf("after the grace period: %v, want a CeasedError naming region:1084 (ErrNotBound, ErrCeased)", err)
	}
	if _, err := st.VerificationCertificates("region:1084"); !errors.Is(err, certs.ErrUnknownAuthority) {
		t.Fatalf("signing certificates after the grace period: %v", err)
	}
	// Region Østdanmark is in force, and the certificates issued for it in
	// December act for it from the first second of 2027.
	if _, err := st.EncryptionCertificate("region:" + refdata.TestEastRegionCode); err != nil {
		t.Fatalf("the successor's encryption certificate: %v", err)
	}
}
