package xmlsig

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/binary"
	"encoding/pem"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/psykosocial/exchange/internal/clock"
)

// The test PKI is derived from fixed labels, not from randomness, so that
// every process of a test binary has the same certificates. Fuzzing needs
// this: the coordinator makes the seed documents and the workers verify
// them against their own copy of the pinned certificates.

// Times of the test PKI and the clock the tests verify at.
var (
	certNotBefore = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	certNotAfter  = time.Date(2029, 1, 1, 0, 0, 0, 0, time.UTC)
	testNow       = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
)

// testNS is the namespace of the test documents.
const testNS = "urn:test:xmlsig"

// authority is one signer of the test PKI.
type authority struct {
	name    string
	key     crypto.Signer
	cert    *x509.Certificate
	keyPEM  []byte // PKCS #8
	certPEM []byte
}

// pki is the test PKI: a tiny Ed25519 test CA (deterministic signatures)
// and the authorities it certified.
type pki struct {
	caCert  *x509.Certificate
	caPEM   []byte
	rsa     *authority // RSA-3072, like an OCES3 system certificate
	ec      *authority // P-256, the gateway's default key type
	ecNext  *authority // P-256, the same authority's next key (rollover)
	other   *authority // P-256, another authority
	rsaWeak *authority // RSA-1024, below the floor
}

var (
	pkiOnce sync.Once
	pkiVal  *pki
	pkiErr  error
)

// testPKI returns the test PKI, built once per test binary.
func testPKI(tb testing.TB) *pki {
	tb.Helper()
	pkiOnce.Do(func() { pkiVal, pkiErr = newPKI() })
	if pkiErr != nil {
		tb.Fatal(pkiErr)
	}
	return pkiVal
}

func newPKI() (*pki, error) {
	caKey := ed25519.NewKeyFromSeed(derive("ca", ed25519.SeedSize))
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{Country: []string{"DK"}, Organization: []string{"xmlsig test"}, CommonName: "xmlsig test CA"},
		NotBefore:             certNotBefore.AddDate(-1, 0, 0),
		NotAfter:              certNotAfter.AddDate(1, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		return nil, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	p := &pki{caCert: ca, caPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})}

	issue := func(name, cvr string, key crypto.Signer) (*authority, error) {
		serial := new(big.Int).SetBytes(derive("serial/"+name, 16))
		tmpl := &x509.Certificate{
			SerialNumber: serial,
			Subject: pkix.Name{
				Country:      []string{"DK"},
				Organization: []string{name},
				CommonName:   name + " - xmlsig test system",
				SerialNumber: "UI:DK-O:G:" + uuidOf("uuid/"+name),
				ExtraNames: []pkix.AttributeTypeAndValue{
					{Type: asn1.ObjectIdentifier{2, 5, 4, 97}, Value: "NTRDK-" + cvr},
				},
			},
			NotBefore: certNotBefore,
			NotAfter:  certNotAfter,
			KeyUsage:  x509.KeyUsageDigitalSignature,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, key.Public(), caKey)
		if err != nil {
			return nil, fmt.Errorf("certificate of %s: %w", name, err)
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, err
		}
		pk8, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return nil, err
		}
		return &authority{
			name: name, key: key, cert: cert,
			keyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk8}),
			certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		}, nil
	}

	rsaKey, err := deterministicRSA("rigspolitiet", 3072)
	if err != nil {
		return nil, err
	}
	weakKey, err := deterministicRSA("weak", 1024)
	if err != nil {
		return nil, err
	}
	for _, a := range []struct {
		dst       **authority
		name, cvr string
		key       crypto.Signer
	}{
		{&p.rsa, "Rigspolitiet", "17143611", rsaKey},
		{&p.ec, "Koebenhavns Kommune", "64942212", deterministicEC("koebenhavn")},
		{&p.ecNext, "Koebenhavns Kommune", "64942212", deterministicEC("koebenhavn/next")},
		{&p.other, "Aalborg Kommune", "29189420", deterministicEC("aalborg")},
		{&p.rsaWeak, "Odense Kommune", "35209115", weakKey},
	} {
		if *a.dst, err = issue(a.name, a.cvr, a.key); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// derive returns n bytes determined by label (SHA-256 in counter mode).
func derive(label string, n int) []byte {
	out := make([]byte, 0, n+sha256.Size)
	for i := uint32(0); len(out) < n; i++ {
		var ctr [4]byte
		binary.BigEndian.PutUint32(ctr[:], i)
		h := sha256.New()
		h.Write([]byte(label))
		h.Write(ctr[:])
		out = h.Sum(out)
	}
	return out[:n]
}

// uuidOf formats 16 bytes derived from label as a version 4 UUID.
func uuidOf(label string) string {
	b := derive(label, 16)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// deterministicEC returns the P-256 key whose scalar is derived from label.
func deterministicEC(label string) *ecdsa.PrivateKey {
	for i := 0; ; i++ {
		k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), derive(fmt.Sprintf("ec/%s/%d", label, i), 32))
		if err == nil {
			return k
		}
	}
}

// deterministicRSA returns an RSA key whose primes are the first primes at
// or above numbers derived from label. Only for tests: crypto/rsa's
// GenerateKey ignores its io.Reader since Go 1.26.
func deterministicRSA(label string, bits int) (*rsa.PrivateKey, error) {
	e := big.NewInt(65537)
	p := deterministicPrime(label+"/p", bits/2, e)
	q := deterministicPrime(label+"/q", bits/2, e)
	one := big.NewInt(1)
	pm1, qm1 := new(big.Int).Sub(p, one), new(big.Int).Sub(q, one)
	gcd := new(big.Int).GCD(nil, nil, pm1, qm1)
	lambda := new(big.Int).Div(new(big.Int).Mul(pm1, qm1), gcd)
	d := new(big.Int).ModInverse(e, lambda)
	if d == nil {
		return nil, fmt.Errorf("no inverse of e for %s", label)
	}
	key := &rsa.PrivateKey{
		PublicKey: rsa.PublicKey{N: new(big.Int).Mul(p, q), E: int(e.Int64())},
		D:         d,
		Primes:    []*big.Int{p, q},
	}
	if key.N.BitLen() != bits {
		return nil, fmt.Errorf("%s: modulus of %d bits", label, key.N.BitLen())
	}
	key.Precompute()
	if err := key.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", label, err)
	}
	return key, nil
}

// deterministicPrime returns the first prime p >= a bits-long number
// derived from label (top two bits set) with gcd(e, p-1) = 1.
func deterministicPrime(label string, bits int, e *big.Int) *big.Int {
	b := derive(label, bits/8)
	b[0] |= 0xc0
	b[len(b)-1] |= 1
	c := new(big.Int).SetBytes(b)
	two, one := big.NewInt(2), big.NewInt(1)
	for {
		if c.ProbablyPrime(20) && new(big.Int).GCD(nil, nil, e, new(big.Int).Sub(c, one)).Cmp(one) == 0 {
			return c
		}
		c.Add(c, two)
	}
}

// sampleDoc returns a ~2 KB municipal-like registration in the test
// namespace, with root ID id. The text mixes Danish letters, a protected
// address flag and escaped characters, like the real formats.
func sampleDoc(id string) []byte {
	return []byte(`<?xml version="1.0" encoding="UTF-8"?>
<Doc xmlns="urn:test:xmlsig" ID="` + id + `">
  <Header>
    <MessageID>2f9a0c41-6d7e-4b8a-9c0d-e1f2a3b4c5d6</MessageID>
    <Sender>municipality:0101</Sender>
    <Recipient>gateway</Recipient>
    <IssuedAt>2026-06-01T11:59:00Z</IssuedAt>
    <ExpiresAt>2026-06-01T12:04:00Z</ExpiresAt>
  </Header>
  <Incident>
    <IncidentID>KBH-2026-0601-BRAND</IncidentID>
    <Title>Brand i etageejendom, Nørrebrogade</Title>
    <Kind>brand</Kind>
    <OccurredAt>2026-06-01T09:42:00+02:00</OccurredAt>
    <MunicipalityCode>0101</MunicipalityCode>
  </Incident>
  <Registration>
    <RecordID>5a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c01</RecordID>
    <Version>1</Version>
    <RegisteredAt site="epc">2026-06-01T10:30:00+02:00</RegisteredAt>
    <CPR>2209914387</CPR>
    <Name>Sofie Lindberg Nørgaard</Name>
    <BirthDate>1991-09-22</BirthDate>
    <Phone>+4530405060</Phone>
    <Email>sofie.norgaard@example.dk</Email>
    <Address protected="true">
      <Street>Algade 31, 1. &amp; baghuset</Street>
      <PostCode>4000</PostCode>
      <City>Roskilde</City>
      <MunicipalityCode>0265</MunicipalityCode>
    </Address>
    <Relation>witness</Relation>
    <Assessment priority="days">Rystet, men klar til samtale &lt;24 t&gt;. Ønsker opringning.</Assessment>
    <Consent>
      <Registration>granted</Registration>
      <GivenBy>self</GivenBy>
      <Obtained by="municipality:0101" role="crisis_team" at="2026-06-01T10:35:00+02:00" method="signed_form"/>
      <FollowUp granted="true">
        <Channel>phone</Channel>
        <Channel>email</Channel>
        <Recipient>residence_municipality</Recipient>
        <Purpose>psychosocial_follow_up</Purpose>
        <ExpiresAt>2026-09-01T00:00:00+02:00</ExpiresAt>
      </FollowUp>
    </Consent>
  </Registration>
</Doc>
`)
}

// signed returns sampleDoc("d1") signed by a with SignDocument.
func signed(tb testing.TB, a *authority) []byte {
	tb.Helper()
	out, err := SignDocument(sampleDoc("d1"), a.key, a.cert)
	if err != nil {
		tb.Fatalf("SignDocument: %v", err)
	}
	return out
}

// mutate parses doc with etree, lets f change it, and writes it back with
// canonical escapes (as SignDocument does).
func mutate(tb testing.TB, doc []byte, f func(root, sig *etree.Element)) []byte {
	tb.Helper()
	d := etree.NewDocument()
	if err := d.ReadFromBytes(doc); err != nil {
		tb.Fatalf("mutate: %v", err)
	}
	root := d.Root()
	f(root, root.SelectElement("Signature"))
	d.WriteSettings = etree.WriteSettings{CanonicalText: true, CanonicalAttrVal: true}
	out, err := d.WriteToBytes()
	if err != nil {
		tb.Fatalf("mutate: %v", err)
	}
	return out
}

// find returns the first element below e with the path (etree syntax).
func find(tb testing.TB, e *etree.Element, path string) *etree.Element {
	tb.Helper()
	el := e.FindElement(path)
	if el == nil {
		tb.Fatalf("no element at %s", path)
	}
	return el
}

// canonicalBytes writes el as a standalone document, for comparing what
// two verifications returned.
func canonicalBytes(tb testing.TB, el *etree.Element) []byte {
	tb.Helper()
	d := etree.NewDocument()
	d.SetRoot(el.Copy())
	d.WriteSettings = etree.WriteSettings{CanonicalText: true, CanonicalAttrVal: true, CanonicalEndTags: true}
	out, err := d.WriteToBytes()
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// TestPKIIsDeterministic pins the property the fuzz test relies on: a
// second build of the test PKI yields the same certificates.
func TestPKIIsDeterministic(t *testing.T) {
	if testing.Short() {
		t.Skip("rebuilding the test PKI takes a second or two")
	}
	first := testPKI(t)
	again, err := newPKI()
	if err != nil {
		t.Fatal(err)
	}
	for _, pair := range [][2]*authority{{first.rsa, again.rsa}, {first.ec, again.ec}, {first.other, again.other}} {
		if !bytes.Equal(pair[0].cert.Raw, pair[1].cert.Raw) {
			t.Errorf("%s: the certificate differs between two builds", pair[0].name)
		}
	}
	if !strings.Contains(first.rsa.cert.Subject.SerialNumber, "UI:DK-O:G:") {
		t.Errorf("subject serialNumber %q is not OCES3-shaped", first.rsa.cert.Subject.SerialNumber)
	}
}

// testVerifier is a Verifier with the default limits whose clock stands
// still at now.
func testVerifier(t testing.TB, now time.Time) *Verifier {
	t.Helper()
	v, err := NewVerifier(VerifierConfig{Clock: clock.Fixed(now)})
	if err != nil {
		t.Fatal(err)
	}
	return v
}
