// Package certs is the gateway's trust: which certificates it trusts, which
// authority a certificate acts for, revocation, and a development CA that
// issues a full test PKI of the same shape as the real one.
//
// Danish public-sector organisations are identified by OCES3 certificates
// (see PKI.md): the subject's organizationIdentifier (OID 2.5.4.97) is
// "NTRDK-<CVR>" and names the organisation; its serialNumber (2.5.4.5) is
// "UI:DK-O:G:<uuid>" and names the certificate. O and CN are display text
// and never parsed. Because an IT supplier may present its own certificate
// for an authority, and 12 police districts share Rigspolitiet's CVR, a
// certificate acts for an authority only when the authority directory binds
// that certificate (its UUID or SPKI fingerprint) to the authority, and the
// certificate's CVR is the authority's.
package certs

import (
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// OIDOrganizationIdentifier is the X.520 organizationIdentifier attribute
// (2.5.4.97), which Go's pkix.Name has no field for.
var OIDOrganizationIdentifier = asn1.ObjectIdentifier{2, 5, 4, 97}

// Identity is what a certificate says about who holds it.
type Identity struct {
	// CVR is the organisation's CVR number, from organizationIdentifier NTRDK-<CVR>.
	CVR string
	// CertificateUUID is the certificate's UUID, from serialNumber UI:DK-O:G:<uuid>, lower case.
	CertificateUUID string
	// SPKISHA256 is the hex SHA-256 of the certificate's SubjectPublicKeyInfo.
	SPKISHA256 string
}

// ErrNotOCES3 is returned when a certificate does not carry the OCES3
// organisation identity attributes.
var ErrNotOCES3 = errors.New("certificate lacks the OCES3 organisation identity")

var (
	reOrgID   = regexp.MustCompile(`^NTRDK-([0-9]{8})$`)
	reCertID  = regexp.MustCompile(`^UI:DK-O:G:([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$`)
	reOCES2   = regexp.MustCompile(`^CVR:([0-9]{8})-(FID|UID|RID):`)
	reOCES2In = regexp.MustCompile(`// CVR:([0-9]{8})`)
)

// SPKIFingerprint returns the hex SHA-256 of cert's SubjectPublicKeyInfo.
func SPKIFingerprint(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return hex.EncodeToString(sum[:])
}

// IdentityOf reads the OCES3 identity of cert. A retired OCES2 certificate
// is recognised and refused with an error that says so.
func IdentityOf(cert *x509.Certificate) (Identity, error) {
	id := Identity{SPKISHA256: SPKIFingerprint(cert)}
	orgID, serial := "", cert.Subject.SerialNumber
	for _, atv := range cert.Subject.Names {
		if atv.Type.Equal(OIDOrganizationIdentifier) {
			s, ok := atv.Value.(string)
			if !ok {
				return Identity{}, fmt.Errorf("%w: organizationIdentifier is not a string", ErrNotOCES3)
			}
			if orgID != "" {
				return Identity{}, fmt.Errorf("%w: more than one organizationIdentifier", ErrNotOCES3)
			}
			orgID = s
		}
	}
	if orgID == "" {
		if reOCES2.MatchString(serial) || anyMatch(reOCES2In, cert.Subject.Organization) {
			return Identity{}, fmt.Errorf("%w: this is a retired OCES2 certificate (OCES2 was retired on 31 October 2023); the authority needs an OCES3 certificate", ErrNotOCES3)
		}
		return Identity{}, fmt.Errorf("%w: no organizationIdentifier (2.5.4.97)", ErrNotOCES3)
	}
	m := reOrgID.FindStringSubmatch(orgID)
	if m == nil {
		return Identity{}, fmt.Errorf("%w: organizationIdentifier is not of the form NTRDK-<8-digit CVR>", ErrNotOCES3)
	}
	id.CVR = m[1]
	if m := reCertID.FindStringSubmatch(serial); m != nil {
		id.CertificateUUID = strings.ToLower(m[1])
	}
	return id, nil
}

func anyMatch(re *regexp.Regexp, ss []string) bool {
	for _, s := range ss {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

// oces3Subject builds an OCES3-shaped subject.
func oces3Subject(cvr, org, cn, certUUID string) pkix.Name {
	return pkix.Name{
		Country:      []string{"DK"},
		Organization: []string{org},
		CommonName:   cn,
		SerialNumber: "UI:DK-O:G:" + certUUID,
		ExtraNames: []pkix.AttributeTypeAndValue{
			{Type: OIDOrganizationIdentifier, Value: "NTRDK-" + cvr},
		},
	}
}
