package client

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/psykosocial/exchange/certs"
)

// FormatOf is the format of an authority by the kind its id names:
// region:… writes the region format, municipality:… and police:… theirs.
func FormatOf(authorityID string) string {
	kind, _, _ := strings.Cut(authorityID, ":")
	switch kind {
	case "region":
		return FormatRegion
	case "municipality":
		return FormatMunicipality
	case "police":
		return FormatPolice
	}
	return ""
}

// DevRootCAs reads the development CA's root certificate (the CA that
// issued the gateway's TLS certificate in serve --dev) from dataDir.
func DevRootCAs(dataDir string) (*x509.CertPool, error) {
	b, err := os.ReadFile(certs.Paths{DataDir: dataDir}.RootCert())
	if err != nil {
		return nil, fmt.Errorf("client: the development CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, errors.New("client: the development CA: no certificate in " + certs.Paths{DataDir: dataDir}.RootCert())
	}
	return pool, nil
}

// DevConfig is the configuration of authorityID from the development PKI
// that serve --dev creates in dataDir (its newest TLS, signing and
// encryption keys in pki/private/<authority>/), for the gateway at
// baseURL whose JWK Set is jwks. The caller sets Clock.
func DevConfig(dataDir, authorityID, baseURL string, jwks []byte) (Config, error) {
	p := certs.Paths{DataDir: dataDir}
	dir := p.Private(authorityID)
	cfg := Config{BaseURL: baseURL, Authority: authorityID, Format: FormatOf(authorityID), GatewayJWKS: jwks}
	tlsCert, tlsKey, err := newestPair(dir, "tls")
	if err != nil {
		return cfg, fmt.Errorf("client: %s: %w", authorityID, err)
	}
	if cfg.TLSCertificate, err = tls.LoadX509KeyPair(tlsCert, tlsKey); err != nil {
		return cfg, fmt.Errorf("client: %s: TLS certificate: %w", authorityID, err)
	}
	sigCert, sigKey, err := newestPair(dir, "signing")
	if err != nil {
		return cfg, fmt.Errorf("client: %s: %w", authorityID, err)
	}
	if cfg.SigningKey, err = certs.ReadKeyFile(sigKey); err != nil {
		return cfg, fmt.Errorf("client: %s: signing key: %w", authorityID, err)
	}
	if cfg.SigningCertificate, err = firstCert(sigCert); err != nil {
		return cfg, fmt.Errorf("client: %s: signing certificate: %w", authorityID, err)
	}
	_, encKey, err := newestPair(dir, "encryption")
	if err != nil {
		return cfg, fmt.Errorf("client: %s: %w", authorityID, err)
	}
	dec, err := certs.ReadKeyFile(encKey)
	if err != nil {
		return cfg, fmt.Errorf("client: %s: decryption key: %w", authorityID, err)
	}
	cfg.DecryptionKeys = append(cfg.DecryptionKeys, dec)
	if cfg.RootCAs, err = DevRootCAs(dataDir); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// newestPair finds the newest <use>-*.cert.pem in dir (by NotBefore) and
// its key file.
func newestPair(dir, use string) (certFile, keyFile string, err error) {
	ms, _ := filepath.Glob(filepath.Join(dir, use+"-*.cert.pem"))
	var newest time.Time
	for _, f := range ms {
		c, err := firstCert(f)
		if err != nil {
			continue
		}
		if certFile == "" || c.NotBefore.After(newest) {
			newest, certFile = c.NotBefore, f
		}
	}
	if certFile == "" {
		return "", "", fmt.Errorf("no %s certificate in %s", use, dir)
	}
	return certFile, strings.TrimSuffix(certFile, ".cert.pem") + ".key.pem", nil
}

// firstCert reads the first certificate of a PEM file.
func firstCert(path string) (*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	cs, err := certs.ParsePEMCertificates(b)
	if err != nil {
		return nil, err
	}
	if len(cs) == 0 {
		return nil, errors.New("no certificate in " + path)
	}
	return cs[0], nil
}
