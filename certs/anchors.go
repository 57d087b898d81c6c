package certs

import (
	"crypto/x509"
	"embed"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
)

//go:embed oces3/*.pem
var oces3FS embed.FS

// OCES3Anchors returns the production OCES3 CA certificates of "Den Danske
// Stat": the root CA (RSA 4096, 2021-2046) and issuing CA 1 (RSA 3072,
// 2021-2031, path length 0), as published for clients of Danish public
// web services. Never mix them with the OCES3 test hierarchy, whose names
// differ only by OU=Test - cti.
func OCES3Anchors() (roots, intermediates []*x509.Certificate, err error) {
	root, err := readPEMCert(oces3FS, "oces3/den-danske-stat-oces-rod-ca.pem")
	if err != nil {
		return nil, nil, err
	}
	issuing, err := readPEMCert(oces3FS, "oces3/den-danske-stat-oces-udstedende-ca-1.pem")
	if err != nil {
		return nil, nil, err
	}
	return []*x509.Certificate{root}, []*x509.Certificate{issuing}, nil
}

func readPEMCert(fsys fs.FS, name string) (*x509.Certificate, error) {
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, err
	}
	certs, err := ParsePEMCertificates(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(certs) != 1 {
		return nil, fmt.Errorf("%s: want one certificate, found %d", name, len(certs))
	}
	return certs[0], nil
}

// ParsePEMCertificates parses every CERTIFICATE block in b and refuses any
// other block type (a private key in a certificate file is a mistake to stop).
func ParsePEMCertificates(b []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("unexpected PEM block %q in a certificate file", block.Type)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse certificate: %w", err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("no PEM certificate found")
	}
	return out, nil
}
