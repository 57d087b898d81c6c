package certs

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/psykosocial/exchange/internal/clock"
	"github.com/psykosocial/exchange/internal/directory"
	"github.com/psykosocial/exchange/internal/refdata"
)

// The development PKI's layout under its data directory. Everything here is
// for development and tests only: the CA keys lie unencrypted on disk.
const (
	pkiDir        = "pki"
	caDir         = "pki/ca"
	crlDir        = "pki/crl"
	certsDir      = "pki/certs"
	privateDir    = "pki/private"
	gatewayDir    = "pki/gateway"
	markerFile    = "pki/DEVELOPMENT-ONLY.txt"
	revokedFile   = "pki/ca/revoked.json"
	directoryFile = "directory.json"
)

// Validity of development certificates.
const (
	devRootValidity    = 10 * 365 * 24 * time.Hour
	devIssuingValidity = 5 * 365 * 24 * time.Hour
	devLeafValidity    = 2 * 365 * 24 * time.Hour
	devCRLValidity     = 30 * 24 * time.Hour
	devBackdate        = time.Hour // tolerate clocks slightly behind
	devRSABits         = 3072      // as real OCES3 authority certificates
)

const devMarker = `DEVELOPMENT ONLY.

This directory holds a development PKI made by "gateway certs init". Its CA
keys are unencrypted files. Never trust its CA in production: real authorities
present OCES3 certificates issued by Den Danske Stat (see certs/oces3).
`

// Paths locates the files of a development PKI.
type Paths struct {
	// DataDir is the data directory the PKI lives in.
	DataDir string
}

// CertificatesDir is where registered authority certificates lie (Config.CertificatesDir).
func (p Paths) CertificatesDir() string { return filepath.Join(p.DataDir, certsDir) }

// CRLDir is where the issuing CA's CRL lies (Config.CRLDir).
func (p Paths) CRLDir() string { return filepath.Join(p.DataDir, crlDir) }

// Directory is the authority directory with the certificate bindings.
func (p Paths) Directory() string { return filepath.Join(p.DataDir, directoryFile) }

// RootCert is the development root CA certificate (the trust anchor).
func (p Paths) RootCert() string { return filepath.Join(p.DataDir, caDir, "root.cert.pem") }

// IssuingCert is the development issuing CA certificate.
func (p Paths) IssuingCert() string { return filepath.Join(p.DataDir, caDir, "issuing.cert.pem") }

// Private is the directory holding an authority's (or the gateway's) keys and certificates.
func (p Paths) Private(authorityID string) string {
	return filepath.Join(p.DataDir, privateDir, fileSafe(authorityID))
}

// Gateway is the directory of the gateway's own keys and certificates.
func (p Paths) Gateway() string { return filepath.Join(p.DataDir, gatewayDir) }

func fileSafe(id string) string { return strings.NewReplacer(":", "_", "/", "_").Replace(id) }

// DevCA is a development certificate authority: a root and an issuing CA
// with the names of the OCES3 hierarchy's roles, marked as development.
type DevCA struct {
	paths      Paths
	root       *x509.Certificate
	issuing    *x509.Certificate
	issuingKey crypto.Signer
	clock      clock.Clock
	rand       io.Reader
}

// OpenDevCA loads the development CA under dataDir, creating it when it
// does not exist. created reports whether it was created now. clk (required)
// dates what the CA creates, issues and revokes, and is the Clock of its
// StoreConfig.
func OpenDevCA(dataDir string, clk clock.Clock) (ca *DevCA, created bool, err error) {
	if clk == nil {
		return nil, false, errors.New("dev CA: no clock")
	}
	p := Paths{DataDir: dataDir}
	ca = &DevCA{paths: p, clock: clk, rand: rand.Reader}
	for _, d := range []string{caDir, crlDir, certsDir, privateDir, gatewayDir} {
		if err := os.MkdirAll(filepath.Join(dataDir, d), 0o700); err != nil {
			return nil, false, fmt.Errorf("dev CA: %w", err)
		}
	}
	if err := os.WriteFile(filepath.Join(dataDir, markerFile), []byte(devMarker), 0o644); err != nil {
		return nil, false, fmt.Errorf("dev CA: %w", err)
	}
	rootKeyPath := filepath.Join(dataDir, caDir, "root.key.pem")
	issKeyPath := filepath.Join(dataDir, caDir, "issuing.key.pem")
	if _, err := os.Stat(p.IssuingCert()); err == nil {
		if ca.root, err = readCertFile(p.RootCert()); err != nil {
			return nil, false, err
		}
		if ca.issuing, err = readCertFile(p.IssuingCert()); err != nil {
			return nil, false, err
		}
		if ca.issuingKey, err = readKeyFile(issKeyPath); err != nil {
			return nil, false, err
		}
		return ca, false, nil
	}
	t := clk.Now()
	rootKey, err := ecdsa.GenerateKey(elliptic.P384(), ca.rand)
	if err != nil {
		return nil, false, err
	}
	rootTmpl := &x509.Certificate{
		SerialNumber:          randomSerial(ca.rand),
		Subject:               devCAName("Psykosocial gateway DEV rod-CA"),
		NotBefore:             t.Add(-devBackdate),
		NotAfter:              t.Add(devRootValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            1,
	}
	rootDER, err := x509.CreateCertificate(ca.rand, rootTmpl, rootTmpl, rootKey.Public(), rootKey)
	if err != nil {
		return nil, false, fmt.Errorf("dev CA: root: %w", err)
	}
	ca.root, _ = x509.ParseCertificate(rootDER)
	issKey, err := ecdsa.GenerateKey(elliptic.P256(), ca.rand)
	if err != nil {
		return nil, false, err
	}
	issTmpl := &x509.Certificate{
		SerialNumber:          randomSerial(ca.rand),
		Subject:               devCAName("Psykosocial gateway DEV udstedende-CA 1"),
		NotBefore:             t.Add(-devBackdate),
		NotAfter:              t.Add(devIssuingValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            0,
		MaxPathLenZero:        true,
	}
	issDER, err := x509.CreateCertificate(ca.rand, issTmpl, ca.root, issKey.Public(), rootKey)
	if err != nil {
		return nil, false, fmt.Errorf("dev CA: issuing CA: %w", err)
	}
	ca.issuing, _ = x509.ParseCertificate(issDER)
	ca.issuingKey = issKey
	for _, f := range []struct {
		path string
		fn   func() error
	}{
		{rootKeyPath, func() error { return writeKey(rootKeyPath, rootKey) }},
		{issKeyPath, func() error { return writeKey(issKeyPath, issKey) }},
		{p.RootCert(), func() error { return writeCert(p.RootCert(), rootDER) }},
		{p.IssuingCert(), func() error { return writeCert(p.IssuingCert(), issDER) }},
	} {
		if err := f.fn(); err != nil {
			return nil, false, fmt.Errorf("dev CA: write %s: %w", f.path, err)
		}
	}
	if err := ca.WriteCRL(); err != nil {
		return nil, false, err
	}
	return ca, true, nil
}

func devCAName(cn string) pkix.Name {
	return pkix.Name{
		Country:            []string{"DK"},
		Organization:       []string{"Psykosocial gateway (udvikling)"},
		OrganizationalUnit: []string{"DEVELOPMENT ONLY - not for production"},
		CommonName:         cn,
	}
}

// Root returns the CA's root certificate, the trust anchor of a dev store.
func (ca *DevCA) Root() *x509.Certificate { return ca.root }

// Issuing returns the CA's issuing certificate.
func (ca *DevCA) Issuing() *x509.Certificate { return ca.issuing }

// Paths returns the PKI's file layout.
func (ca *DevCA) Paths() Paths { return ca.paths }

// StoreConfig returns a trust store configuration for this PKI.
func (ca *DevCA) StoreConfig() Config {
	return Config{
		Roots:           []*x509.Certificate{ca.root},
		Intermediates:   []*x509.Certificate{ca.issuing},
		CertificatesDir: ca.paths.CertificatesDir(),
		CRLDir:          ca.paths.CRLDir(),
		RequireCRL:      true,
		Clock:           ca.clock,
	}
}

// KeyType selects the key algorithm of issued certificates.
type KeyType string

// Key types of development certificates.
const (
	KeyP256    KeyType = "p256"
	KeyRSA3072 KeyType = "rsa3072"
)

// Issued describes one certificate the CA issued.
type Issued struct {
	// AuthorityID is the authority (or "gateway") it was issued to.
	AuthorityID string
	// Use is signing, encryption, tls or dpo.
	Use string
	// Cert is the certificate.
	Cert *x509.Certificate
	// CertPath and KeyPath are where the certificate and its private key were written.
	CertPath, KeyPath string
}

func (ca *DevCA) newKey(kt KeyType) (crypto.Signer, error) {
	if kt == KeyRSA3072 {
		return rsa.GenerateKey(ca.rand, devRSABits)
	}
	return ecdsa.GenerateKey(elliptic.P256(), ca.rand)
}

// IssueAuthority issues an authority's signing, encryption and TLS client
// certificates and a DPO client certificate, all of the OCES3 subject shape
// (organizationIdentifier NTRDK-<CVR>, serialNumber UI:DK-O:G:<uuid>), and
// appends their bindings to a.Certificates. Existing bindings are kept:
// calling it again makes a rollover (both sets verify; the newest encrypts).
func (ca *DevCA) IssueAuthority(a *directory.Authority, kt KeyType) ([]Issued, error) {
	var out []Issued
	for _, use := range []string{directory.UseSigning, directory.UseEncryption, directory.UseTLS, directory.UseDPO} {
		key, err := ca.newKey(kt)
		if err != nil {
			return nil, err
		}
		u := newUUID(ca.rand)
		cn := fmt.Sprintf("%s - %s (DEV)", a.Name, use)
		if use == directory.UseDPO {
			cn = fmt.Sprintf("%s - databeskyttelsesrådgiver (DEV)", a.Name)
		}
		tmpl := ca.leafTemplate(oces3Subject(a.CVR, a.Name, cn, u), use, key.Public())
		is, err := ca.issue(a.ID, use, tmpl, key, filepath.Join(ca.paths.DataDir, certsDir, fmt.Sprintf("%s-%s-%s.pem", fileSafe(a.ID), use, u[:8])))
		if err != nil {
			return nil, err
		}
		a.Certificates = append(a.Certificates, directory.CertificateBinding{
			Use:             use,
			CertificateUUID: u,
			SPKISHA256:      SPKIFingerprint(is.Cert),
			Valid:           periodOf(is.Cert),
		})
		out = append(out, is)
	}
	return out, nil
}

// DevOperatorName and DevOperatorCVR are the gateway operator's entry in a
// development directory (the CVR is a test number that passes the
// modulus-11 check and belongs to no authority).
const (
	DevOperatorName = "Psykosocial gateway, drift (udvikling)"
	DevOperatorCVR  = "99990015"
)

// OperatorHolder is the private directory name of the operator's DPO keys
// (Paths.Private(OperatorHolder)).
const OperatorHolder = "operator"

// IssueOperatorDPO issues a DPO client certificate of the gateway operator
// (the OCES3 subject shape with op's CVR) and appends its binding to
// op.Certificates; the key and certificate go to Paths.Private(OperatorHolder).
// The certificate acts for directory.GatewayID and may read the whole journal.
func (ca *DevCA) IssueOperatorDPO(op *directory.Operator, kt KeyType) (Issued, error) {
	key, err := ca.newKey(kt)
	if err != nil {
		return Issued{}, err
	}
	u := newUUID(ca.rand)
	tmpl := ca.leafTemplate(oces3Subject(op.CVR, op.Name, op.Name+" - databeskyttelsesrådgiver (DEV)", u), directory.UseDPO, key.Public())
	is, err := ca.issue(OperatorHolder, directory.UseDPO, tmpl, key, filepath.Join(ca.paths.DataDir, certsDir, fmt.Sprintf("%s-%s-%s.pem", OperatorHolder, directory.UseDPO, u[:8])))
	if err != nil {
		return Issued{}, err
	}
	is.AuthorityID = directory.GatewayID
	op.Certificates = append(op.Certificates, directory.CertificateBinding{
		Use: directory.UseDPO, CertificateUUID: u, SPKISHA256: SPKIFingerprint(is.Cert), Valid: periodOf(is.Cert),
	})
	return is, nil
}

// IssueGateway issues the gateway's own TLS server, signing and encryption
// certificates (P-256) into Paths.Gateway, when they do not exist yet.
func (ca *DevCA) IssueGateway() ([]Issued, error) {
	var out []Issued
	for _, use := range []string{directory.UseTLS, directory.UseSigning, directory.UseEncryption} {
		certPath := filepath.Join(ca.paths.Gateway(), use+".cert.pem")
		if _, err := os.Stat(certPath); err == nil {
			continue
		}
		key, err := ca.newKey(KeyP256)
		if err != nil {
			return nil, err
		}
		tmpl := ca.leafTemplate(pkix.Name{Country: []string{"DK"}, Organization: []string{"Psykosocial gateway (udvikling)"},
			CommonName: "gateway - " + use + " (DEV)"}, use, key.Public())
		if use == directory.UseTLS {
			tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
			tmpl.DNSNames = []string{"localhost"}
			tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
		}
		is, err := ca.issue(directory.GatewayID, use, tmpl, key, certPath)
		if err != nil {
			return nil, err
		}
		out = append(out, is)
	}
	return out, nil
}

func (ca *DevCA) leafTemplate(subject pkix.Name, use string, pub crypto.PublicKey) *x509.Certificate {
	t := ca.clock.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          randomSerial(ca.rand),
		Subject:               subject,
		NotBefore:             t.Add(-devBackdate),
		NotAfter:              t.Add(devLeafValidity),
		BasicConstraintsValid: true,
	}
	_, isRSA := pub.(*rsa.PublicKey)
	switch use {
	case directory.UseSigning:
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	case directory.UseEncryption:
		if isRSA {
			tmpl.KeyUsage = x509.KeyUsageKeyEncipherment
		} else {
			tmpl.KeyUsage = x509.KeyUsageKeyAgreement
		}
	case directory.UseTLS, directory.UseDPO:
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		if isRSA {
			tmpl.KeyUsage |= x509.KeyUsageKeyEncipherment
		}
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	return tmpl
}

// issue signs tmpl with the issuing CA and writes the certificate to
// certPath (public) and the key and a copy of the certificate to the
// holder's private directory (0600 files).
func (ca *DevCA) issue(holder, use string, tmpl *x509.Certificate, key crypto.Signer, certPath string) (Issued, error) {
	der, err := x509.CreateCertificate(ca.rand, tmpl, ca.issuing, key.Public(), ca.issuingKey)
	if err != nil {
		return Issued{}, fmt.Errorf("dev CA: issue %s %s: %w", holder, use, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return Issued{}, err
	}
	privDir := ca.paths.Private(holder)
	if holder == directory.GatewayID {
		privDir = ca.paths.Gateway()
	}
	if err := os.MkdirAll(privDir, 0o700); err != nil {
		return Issued{}, err
	}
	base := use
	if holder != directory.GatewayID {
		base = fmt.Sprintf("%s-%s", use, cert.SerialNumber.Text(16)[:8])
	}
	keyPath := filepath.Join(privDir, base+".key.pem")
	if err := writeKey(keyPath, key); err != nil {
		return Issued{}, err
	}
	if err := writeCert(certPath, der); err != nil {
		return Issued{}, err
	}
	if certPath != filepath.Join(privDir, base+".cert.pem") {
		if err := writeCert(filepath.Join(privDir, base+".cert.pem"), der); err != nil {
			return Issued{}, err
		}
	}
	return Issued{AuthorityID: holder, Use: use, Cert: cert, CertPath: certPath, KeyPath: keyPath}, nil
}

// revocations is the CA's record of revoked serial numbers and its CRL number.
type revocations struct {
	CRLNumber int64             `json:"crl_number"`
	Revoked   []revocationEntry `json:"revoked"`
}

type revocationEntry struct {
	Serial string    `json:"serial"` // hex
	At     time.Time `json:"at"`
	Reason int       `json:"reason"`
}

func (ca *DevCA) readRevocations() (revocations, error) {
	var r revocations
	b, err := os.ReadFile(filepath.Join(ca.paths.DataDir, revokedFile))
	if errors.Is(err, fs.ErrNotExist) {
		return r, nil
	}
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("dev CA: %s: %w", revokedFile, err)
	}
	return r, nil
}

// Revoke adds a certificate's serial number to the issuing CA's revocations
// and writes a fresh CRL. reason is an RFC 5280 reason code (0: unspecified,
// 1: key compromise, 4: superseded, 5: cessation of operation).
func (ca *DevCA) Revoke(serial *big.Int, reason int) error {
	r, err := ca.readRevocations()
	if err != nil {
		return err
	}
	hex := serial.Text(16)
	for _, e := range r.Revoked {
		if e.Serial == hex {
			return ca.WriteCRL()
		}
	}
	r.Revoked = append(r.Revoked, revocationEntry{Serial: hex, At: ca.clock.Now().UTC().Truncate(time.Second), Reason: reason})
	if err := writeJSON(filepath.Join(ca.paths.DataDir, revokedFile), r); err != nil {
		return err
	}
	return ca.WriteCRL()
}

// WriteCRL writes a fresh CRL of the issuing CA (a new CRL number, valid
// for 30 days) to Paths.CRLDir, atomically.
func (ca *DevCA) WriteCRL() error {
	r, err := ca.readRevocations()
	if err != nil {
		return err
	}
	r.CRLNumber++
	t := ca.clock.Now()
	tmpl := &x509.RevocationList{
		Number:     big.NewInt(r.CRLNumber),
		ThisUpdate: t.Add(-time.Minute),
		NextUpdate: t.Add(devCRLValidity),
	}
	for _, e := range r.Revoked {
		n, ok := new(big.Int).SetString(e.Serial, 16)
		if !ok {
			return fmt.Errorf("dev CA: bad serial %q in %s", e.Serial, revokedFile)
		}
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries, x509.RevocationListEntry{
			SerialNumber: n, RevocationTime: e.At, ReasonCode: e.Reason,
		})
	}
	der, err := x509.CreateRevocationList(ca.rand, tmpl, ca.issuing, ca.issuingKey)
	if err != nil {
		return fmt.Errorf("dev CA: CRL: %w", err)
	}
	if err := writeJSON(filepath.Join(ca.paths.DataDir, revokedFile), r); err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(ca.paths.CRLDir(), "issuing.crl"), pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}), 0o644)
}

func periodOf(c *x509.Certificate) (p refdata.Period) {
	p.From = c.NotBefore.UTC()
	p.To = c.NotAfter.UTC()
	return p
}

func randomSerial(r io.Reader) *big.Int {
	b := make([]byte, 16)
	if _, err := io.ReadFull(r, b); err != nil {
		panic("certs: no randomness: " + err.Error())
	}
	b[0] &= 0x7f
	b[0] |= 0x40 // 127 bits, never short
	return new(big.Int).SetBytes(b)
}

func newUUID(r io.Reader) string {
	var b [16]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		panic("certs: no randomness: " + err.Error())
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
