package certs_test

import (
	"context"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/psykosocial/exchange/certs"
	"github.com/psykosocial/exchange/internal/clock"
	"github.com/psykosocial/exchange/internal/directory"
	"github.com/psykosocial/exchange/internal/keys"
	"github.com/psykosocial/exchange/internal/refdata"
)

var testNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func TestRealOCES3(t *testing.T) {
	roots, inter, err := certs.OCES3Anchors()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("testdata/example-organisation-certificate.pem")
	if err != nil {
		t.Fatal(err)
	}
	cs, err := certs.ParsePEMCertificates(b)
	if err != nil {
		t.Fatal(err)
	}
	leaf := cs[0]
	id, err := certs.IdentityOf(leaf)
	if err != nil {
		t.Fatal(err)
	}
	if id.CVR != "19552101" || id.CertificateUUID != "bf204036-6f12-4d62-bcc7-5930618355c6" {
		t.Fatalf("identity = %+v, want CVR 19552101 and the certificate's UUID", id)
	}
	rootPool, interPool := x509.NewCertPool(), x509.NewCertPool()
	rootPool.AddCert(roots[0])
	interPool.AddCert(inter[0])
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: rootPool, Intermediates: interPool, CurrentTime: testNow,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		t.Fatalf("the real certificate does not chain to the real OCES3 anchors: %v", err)
	}
	if roots[0].Subject.CommonName != "Den Danske Stat OCES rod-CA" || inter[0].Subject.CommonName != "Den Danske Stat OCES udstedende-CA 1" {
		t.Errorf("anchor names: %q, %q", roots[0].Subject.CommonName, inter[0].Subject.CommonName)
	}
}

// devPKI is one development PKI shared by the tests that only read it
// (issuing 460 certificates, some RSA-3072, takes a second or two).
var (
	devOnce sync.Once
	devDir  string
	devErr  error
	devRep  *certs.InitReport
)

func sharedPKI(t *testing.T) (string, *refdata.Data) {
	t.Helper()
	ref, err := refdata.Load(refdata.Config{})
	if err != nil {
		t.Fatal(err)
	}
	devOnce.Do(func() {
		devDir, devErr = os.MkdirTemp("", "devpki-")
		if devErr == nil {
			devRep, devErr = certs.InitDevPKI(certs.InitOptions{DataDir: devDir, Ref: ref, Clock: clock.Fixed(testNow)})
		}
	})
	if devErr != nil {
		t.Fatal(devErr)
	}
	return devDir, ref
}

func TestMain(m *testing.M) {
	code := m.Run()
	if devDir != "" {
		os.RemoveAll(devDir)
	}
	os.Exit(code)
}

func openStore(t *testing.T, dataDir string, ref *refdata.Data, now time.Time) (*certs.Store, *directory.Directory) {
	t.Helper()
	ca, created, err := certs.OpenDevCA(dataDir, clock.Fixed(now))
	if err != nil || created {
		t.Fatalf("OpenDevCA: created=%v err=%v", created, err)
	}
	dir, err := directory.Load(ca.Paths().Directory(), ref)
	if err != nil {
		t.Fatal(err)
	}
	st, err := certs.NewStore(ca.StoreConfig(), dir)
	if err != nil {
		t.Fatal(err)
	}
	return st, dir
}

func TestInitDevPKI(t *testing.T) {
	dataDir, ref := sharedPKI(t)
	if !devRep.CACreated || devRep.Authorities != 115 {
		t.Fatalf("report = created %v, %d authorities", devRep.CACreated, devRep.Authorities)
	}
	// 115 authorities x 4 certificates, the operator's DPO certificate, plus the gateway's 3.
	if got := len(devRep.Issued); got != 115*4+1+3 {
		t.Fatalf("issued %d certificates", got)
	}
	st, dir := openStore(t, dataDir, ref, testNow)
	rsa := 0
	for _, a := range dir.Authorities {
		if len(a.Certificates) != 4 {
			t.Fatalf("%s has %d bindings", a.ID, len(a.Certificates))
		}
		sc, err := st.VerificationCertificates(a.ID)
		if err != nil {
			t.Fatalf("%s: %v", a.ID, err)
		}
		if sc[0].PublicKeyAlgorithm == x509.RSA {
			rsa++
		}
		got, err := st.Authenticate(sc[0], nil, directory.UseSigning)
		if err != nil || got.AuthorityID != a.ID || got.Identity.CVR != a.CVR {
			t.Fatalf("%s: Authenticate = %+v, %v", a.ID, got, err)
		}
		if _, err := st.Authenticate(sc[0], nil, directory.UseEncryption); !errors.Is(err, certs.ErrNotBound) {
			t.Fatalf("%s: a signing certificate authenticated for encryption: %v", a.ID, err)
		}
	}
	if rsa != 3 {
		t.Errorf("%d authorities have RSA keys, want 3 (one per kind)", rsa)
	}
	// DPO certificates act for their authority (the operator's for the
	// gateway) for use dpo only.
	dpos := 0
	for _, is := range devRep.Issued {
		if is.Use != directory.UseDPO {
			continue
		}
		dpos++
		got, err := st.Authenticate(is.Cert, nil, directory.UseDPO)
		if err != nil || got.AuthorityID != is.AuthorityID {
			t.Fatalf("DPO certificate of %s: Authenticate = %+v, %v", is.AuthorityID, got, err)
		}
		if _, err := st.Authenticate(is.Cert, nil, directory.UseTLS); !errors.Is(err, certs.ErrNotBound) {
			t.Fatalf("DPO certificate of %s authenticated for TLS: %v", is.AuthorityID, err)
		}
		if is.AuthorityID == directory.GatewayID && (dir.Operator == nil || len(dir.Operator.Certificates) != 1) {
			t.Fatalf("operator entry %+v", dir.Operator)
		}
	}
	if dpos != 116 {
		t.Errorf("%d DPO certificates, want 116 (115 authorities and the operator)", dpos)
	}
	if fi, err := os.Stat(filepath.Join(dataDir, "pki", "ca", "issuing.key.pem")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("CA key mode: %v %v", fi.Mode(), err)
	}
	if _, err := os.Stat(filepath.Join(dataDir, "pki", "DEVELOPMENT-ONLY.txt")); err != nil {
		t.Error("no development marker")
	}
	// The gateway's key directory serves every purpose through the file provider.
	ca, _, _ := certs.OpenDevCA(dataDir, clock.Fixed(testNow))
	kp, err := keys.NewFileProvider(keys.FileConfig{Dir: ca.Paths().Gateway()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, p := range []keys.Purpose{keys.PurposeMessageSigning, keys.PurposeJournalCheckpoint} {
		if _, err := kp.Signer(ctx, p); err != nil {
			t.Errorf("gateway %s key: %v", p, err)
		}
	}
	if _, err := kp.HMACSecret(ctx); err != nil {
		t.Error(err)
	}
	if _, err := kp.TLSCertificate(ctx); err != nil {
		t.Error(err)
	}
	if ds, err := kp.Decrypters(ctx); err != nil || len(ds) != 1 {
		t.Errorf("decrypters: %d, %v", len(ds), err)
	}
}

func TestInitIsIdempotent(t *testing.T) {
	dataDir, ref := sharedPKI(t)
	before, _ := os.ReadFile(filepath.Join(dataDir, "directory.json"))
	rep, err := certs.InitDevPKI(certs.InitOptions{DataDir: dataDir, Ref: ref, Clock: clock.Fixed(testNow)})
	if err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(filepath.Join(dataDir, "directory.json"))
	if rep.CACreated || len(rep.Issued) != 0 || string(before) != string(after) {
		t.Fatalf("rerun changed things: created %v, issued %d, directory changed %v", rep.CACreated, len(rep.Issued), string(before) != string(after))
	}
}

func TestPoliceDistrictsToldApartByCertificate(t *testing.T) {
	dataDir, ref := sharedPKI(t)
	st, _ := openStore(t, dataDir, ref, testNow)
	a, err := st.VerificationCertificates("police:nordjylland")
	if err != nil {
		t.Fatal(err)
	}
	b, err := st.VerificationCertificates("police:fyn")
	if err != nil {
		t.Fatal(err)
	}
	ia, _ := certs.IdentityOf(a[0])
	ib, _ := certs.IdentityOf(b[0])
	if ia.CVR != ib.CVR {
		t.Fatalf("police districts should share Rigspolitiet's CVR: %s vs %s", ia.CVR, ib.CVR)
	}
	ga, _ := st.Authenticate(a[0], nil, directory.UseSigning)
	gb, _ := st.Authenticate(b[0], nil, directory.UseSigning)
	if ga.AuthorityID != "police:nordjylland" || gb.AuthorityID != "police:fyn" {
		t.Fatalf("got %s and %s", ga.AuthorityID, gb.AuthorityID)
	}
}

// freshPKI makes a private PKI for tests that change it; RSA for no one (fast).
func freshPKI(t *testing.T) (string, *refdata.Data) {
	t.Helper()
	ref, err := refdata.Load(refdata.Config{})
	if err != nil {
		t.Fatal(err)
	}
	dataDir := t.TempDir()
	if _, err := certs.InitDevPKI(certs.InitOptions{DataDir: dataDir, Ref: ref, Clock: clock.Fixed(testNow),
		RSA: func(directory.Authority) bool { return false }}); err != nil {
		t.Fatal(err)
	}
	return dataDir, ref
}

func TestRevocationAfterReloadWithoutRestart(t *testing.T) {
	dataDir, ref := freshPKI(t)
	st, _ := openStore(t, dataDir, ref, testNow)
	sc, err := st.VerificationCertificates("municipality:0851")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Authenticate(sc[0], nil, directory.UseSigning); err != nil {
		t.Fatal(err)
	}
	ca, _, err := certs.OpenDevCA(dataDir, clock.Fixed(testNow))
	if err != nil {
		t.Fatal(err)
	}
	if err := ca.Revoke(sc[0].SerialNumber, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Authenticate(sc[0], nil, directory.UseSigning); err != nil {
		t.Fatalf("before reload the store still has the old CRL, got %v", err)
	}
	if err := st.Reload(); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Authenticate(sc[0], nil, directory.UseSigning); !errors.Is(err, certs.ErrRevoked) {
		t.Fatalf("after reload: %v, want ErrRevoked", err)
	}
	if _, err := st.VerificationCertificates("municipality:0851"); !errors.Is(err, certs.ErrNoCertificate) {
		t.Fatalf("a revoked certificate is still offered for verification: %v", err)
	}
}

func TestRollover(t *testing.T) {
	dataDir, ref := freshPKI(t)
	later := testNow.Add(24 * time.Hour)
	issued, err := certs.IssueAuthority(dataDir, ref, "region:1082", certs.KeyP256, clock.Fixed(later))
	if err != nil {
		t.Fatal(err)
	}
	st, _ := openStore(t, dataDir, ref, later.Add(time.Hour))
	sc, err := st.VerificationCertificates("region:1082")
	if err != nil || len(sc) != 2 {
		t.Fatalf("during rollover both signing certificates verify: %d, %v", len(sc), err)
	}
	enc, err := st.EncryptionCertificate("region:1082")
	if err != nil {
		t.Fatal(err)
	}
	var newEnc *x509.Certificate
	for _, is := range issued {
		if is.Use == directory.UseEncryption {
			newEnc = is.Cert
		}
	}
	if !enc.Equal(newEnc) {
		t.Fatal("encryption does not use the newest certificate")
	}
	for _, c := range sc {
		if got, err := st.Authenticate(c, nil, directory.UseSigning); err != nil || got.AuthorityID != "region:1082" {
			t.Fatalf("rollover certificate: %+v %v", got, err)
		}
	}
}

func TestAuthenticateRefusals(t *testing.T) {
	dataDir, ref := freshPKI(t)
	st, dir := openStore(t, dataDir, ref, testNow)
	sc, _ := st.VerificationCertificates("municipality:0101")
	leaf := sc[0]

	t.Run("expired certificate", func(t *testing.T) {
		old, _ := openStore(t, dataDir, ref, testNow.Add(3*365*24*time.Hour))
		if _, err := old.Authenticate(leaf, nil, directory.UseSigning); !errors.Is(err, certs.ErrUntrustedChain) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("stale CRL fails closed", func(t *testing.T) {
		late, _ := openStore(t, dataDir, ref, testNow.Add(40*24*time.Hour))
		if _, err := late.Authenticate(leaf, nil, directory.UseSigning); !errors.Is(err, certs.ErrNoCRL) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("foreign CA", func(t *testing.T) {
		other, _ := freshPKI(t)
		ost, _ := openStore(t, other, ref, testNow)
		oc, _ := ost.VerificationCertificates("municipality:0101")
		if _, err := st.Authenticate(oc[0], nil, directory.UseSigning); !errors.Is(err, certs.ErrUntrustedChain) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("binding to an authority with another CVR", func(t *testing.T) {
		id, _ := certs.IdentityOf(leaf)
		for i := range dir.Authorities {
			a := &dir.Authorities[i]
			switch a.ID {
			case "municipality:0101":
				a.Certificates = nil
			case "municipality:0851":
				a.Certificates = append(a.Certificates, directory.CertificateBinding{Use: directory.UseSigning, CertificateUUID: id.CertificateUUID})
			}
		}
		ca, _, _ := certs.OpenDevCA(dataDir, clock.Fixed(testNow))
		bad, err := certs.NewStore(ca.StoreConfig(), dir)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := bad.Authenticate(leaf, nil, directory.UseSigning); !errors.Is(err, certs.ErrCVRMismatch) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("certificate without OCES3 identity", func(t *testing.T) {
		ca, _, _ := certs.OpenDevCA(dataDir, clock.Fixed(testNow))
		gw, err := os.ReadFile(filepath.Join(ca.Paths().Gateway(), "signing.cert.pem"))
		if err != nil {
			t.Fatal(err)
		}
		c, _ := certs.ParsePEMCertificates(gw)
		if _, err := st.Authenticate(c[0], nil, directory.UseSigning); !errors.Is(err, certs.ErrNotOCES3) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("unknown authority", func(t *testing.T) {
		if _, err := st.Certificates("municipality:9999", directory.UseSigning); !errors.Is(err, certs.ErrUnknownAuthority) {
			t.Fatalf("got %v", err)
		}
	})
}

func TestKeyFilesArePrivate(t *testing.T) {
	dataDir, _ := sharedPKI(t)
	ca, _, _ := certs.OpenDevCA(dataDir, clock.Fixed(testNow))
	p := filepath.Join(ca.Paths().Gateway(), "signing.key.pem")
	if _, err := certs.ReadKeyFile(p); err != nil {
		t.Fatal(err)
	}
	cp := filepath.Join(t.TempDir(), "k.pem")
	b, _ := os.ReadFile(p)
	if err := os.WriteFile(cp, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := certs.ReadKeyFile(cp); err == nil || !strings.Contains(err.Error(), "readable by others") {
		t.Fatalf("a world-readable key was accepted: %v", err)
	}
}

func BenchmarkInitDevPKI(b *testing.B) {
	ref, _ := refdata.Load(refdata.Config{})
	for b.Loop() {
		dir := b.TempDir()
		if _, err := certs.InitDevPKI(certs.InitOptions{DataDir: dir, Ref: ref, Clock: clock.Fixed(testNow)}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAuthenticate(b *testing.B) {
	ref, _ := refdata.Load(refdata.Config{})
	dir := b.TempDir()
	if _, err := certs.InitDevPKI(certs.InitOptions{DataDir: dir, Ref: ref, Clock: clock.Fixed(testNow), RSA: func(directory.Authority) bool { return false }}); err != nil {
		b.Fatal(err)
	}
	ca, _, _ := certs.OpenDevCA(dir, clock.Fixed(testNow))
	d, _ := directory.Load(ca.Paths().Directory(), ref)
	st, _ := certs.NewStore(ca.StoreConfig(), d)
	sc, _ := st.VerificationCertificates("municipality:0851")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := st.Authenticate(sc[0], nil, directory.UseSigning); err != nil {
			b.Fatal(err)
		}
	}
}

// TestChainCacheFollowsTheClock: a certificate authenticated once is refused
// by the same store when the clock passes its end of validity.
func TestChainCacheFollowsTheClock(t *testing.T) {
	dataDir, ref := freshPKI(t)
	clk := clock.NewFake(testNow)
	ca, _, err := certs.OpenDevCA(dataDir, clk)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := directory.Load(ca.Paths().Directory(), ref)
	if err != nil {
		t.Fatal(err)
	}
	cfg := ca.StoreConfig()
	cfg.RequireCRL = false // only the chain's validity is under test
	st, err := certs.NewStore(cfg, dir)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := st.VerificationCertificates("municipality:0851")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Authenticate(sc[0], nil, directory.UseSigning); err != nil {
		t.Fatal(err)
	}
	clk.Set(sc[0].NotAfter.Add(time.Second))
	if _, err := st.Authenticate(sc[0], nil, directory.UseSigning); !errors.Is(err, certs.ErrUntrustedChain) {
		t.Fatalf("after expiry: %v, want ErrUntrustedChain", err)
	}
}

// TestClockIsRequired: no part of the trust store or the development PKI
// falls back to the wall clock.
func TestClockIsRequired(t *testing.T) {
	ref, err := refdata.Load(refdata.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := certs.NewStore(certs.Config{}, &directory.Directory{}); err == nil {
		t.Error("NewStore accepted a Config without a Clock")
	}
	dir := t.TempDir()
	if _, err := certs.InitDevPKI(certs.InitOptions{DataDir: dir, Ref: ref}); err == nil {
		t.Error("InitDevPKI accepted options without a Clock")
	}
	if _, _, err := certs.OpenDevCA(dir, nil); err == nil {
		t.Error("OpenDevCA accepted a nil clock")
	}
	if _, err := certs.IssueAuthority(dir, ref, "region:1082", certs.KeyP256, nil); err == nil {
		t.Error("IssueAuthority accepted a nil clock")
	}
}
