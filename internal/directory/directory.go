package directory

import (
	"slices"
	"time"

	"github.com/psykosocial/exchange/internal/refdata"
)

// Version is the format version of directory documents.
const Version = "directory/v1"

// Authority kinds: the prefix of an authority id.
const (
	// KindMunicipality is a municipality (kommune).
	KindMunicipality = "municipality"
	// KindRegion is a region.
	KindRegion = "region"
	// KindPolice is a police district (politikreds).
	KindPolice = "police"
	// KindGateway is the gateway itself. It appears in messages and the journal but
	// never in the directory.
	KindGateway = "gateway"
)

// DefaultCeasedGrace is how long an authority that has ceased (the 2027
// region merger) may still send what it registered before it ceased: the
// merger happens at midnight on New Year's Eve, in the middle of a shift,
// and a registration made at 23:50 is sent at 00:10. The trust store keeps
// its TLS and signing certificates for this long (certs.Config.CeasedGrace);
// routing.Router.Standing judges each record's act.
const DefaultCeasedGrace = 30 * 24 * time.Hour

// InForceOrCeasedWithin reports whether authority a is in force at the time
// at, or ceased less than grace before it (a negative grace: never). It
// returns when it ceased, zero while it is in force.
func (a Authority) InForceOrCeasedWithin(at time.Time, grace time.Duration) (ceasedAt time.Time, ok bool) {
	if a.Valid.Contains(at) {
		return time.Time{}, true
	}
	to := a.Valid.To
	if to.IsZero() || at.Before(to) || grace < 0 || !at.Before(to.Add(grace)) {
		return time.Time{}, false
	}
	return to, true
}

// GatewayID is the authority id of the gateway itself.
const GatewayID = "gateway"

// Message formats: which adapter an authority speaks.
const (
	// FormatRegion is the regions' JSON format.
	FormatRegion = "region"
	// FormatMunicipality is the municipalities' XML format.
	FormatMunicipality = "municipality"
	// FormatPolice is the police districts' XML format.
	FormatPolice = "police"
)

// Certificate uses.
const (
	// UseSigning is a certificate that signs messages and receipts.
	UseSigning = "signing"
	// UseEncryption is a certificate whose key messages to the authority are encrypted to.
	UseEncryption = "encryption"
	// UseTLS is a certificate the authority presents as a TLS client.
	UseTLS = "tls"
	// UseDPO is a TLS client certificate of the authority's data-protection
	// officer, who may read the journal rows of this authority.
	UseDPO = "dpo"
)

// Directory is the list of authorities the gateway exchanges records with. Treat it
// as read-only once Parse, Load or Generate has returned it; it is then safe for
// concurrent use.
type Directory struct {
	// Version is the format version, always Version.
	Version string
	// GeneratedAt is when the document was generated.
	GeneratedAt time.Time
	// Authorities lists the authorities, each id once.
	Authorities []Authority
	// Operator is the gateway operator's own entry, whose data-protection
	// officer sees the whole journal; nil when the directory has none.
	Operator *Operator

	index map[string]int // id -> position in Authorities
}

// Authority is one entry of the directory.
type Authority struct {
	// ID is the authority id, e.g. "municipality:0851"; see ParseID.
	ID string
	// Kind is KindMunicipality, KindRegion or KindPolice and equals the prefix of ID.
	Kind string
	// Name is the display name, e.g. "Aalborg Kommune". Never parse it.
	Name string
	// Codes holds the official codes of the authority.
	Codes Codes
	// CVR is the authority's CVR number; police districts have Rigspolitiet's.
	CVR string
	// Format is the message format the authority speaks (FormatRegion, ...).
	Format string
	// Mailbox reports whether the authority receives through a mailbox at the gateway.
	Mailbox bool
	// Valid is when the authority exists; the zero Period means always.
	Valid refdata.Period
	// Certificates lists the certificates allowed to act for the authority.
	Certificates []CertificateBinding
}

// Operator is the gateway operator: not an authority that exchanges records
// (it has no codes, format or mailbox), but the holder of the DPO
// certificates that may read every journal entry. A certificate bound here
// acts as GatewayID.
type Operator struct {
	// Name is the operator's display name.
	Name string
	// CVR is the operator's CVR number, which its certificates carry.
	CVR string
	// Certificates lists the operator's certificates; every one has use UseDPO.
	Certificates []CertificateBinding
}

// Codes holds the official codes of an authority. Which fields are set depends on the
// kind: MunicipalityCode for a municipality, RegionCode for a region, PoliceDistrict
// and MunicipalityCodes for a police district.
type Codes struct {
	// MunicipalityCode is the 4-digit code of a municipality, e.g. "0851".
	MunicipalityCode string
	// RegionCode is the 4-digit code of a region, e.g. "1081".
	RegionCode string
	// PoliceDistrict is the id of a police district, e.g. "nordjylland".
	PoliceDistrict string
	// MunicipalityCodes lists the codes of the municipalities a police district
	// covers, as in the reference data.
	MunicipalityCodes []string
}

// CertificateBinding allows one certificate to act for an authority. At least one of
// CertificateUUID and SPKISHA256 is set; when both are, both must match.
type CertificateBinding struct {
	// Use is UseSigning, UseEncryption, UseTLS or UseDPO.
	Use string
	// CertificateUUID is the lower-case UUID from the OCES3 subject serialNumber
	// "UI:DK-O:G:<uuid>".
	CertificateUUID string
	// SPKISHA256 is the SHA-256 of the DER SubjectPublicKeyInfo, 64 lower-case hex digits.
	SPKISHA256 string
	// Valid is when the binding holds; the zero Period means always.
	Valid refdata.Period
}

// Lookup returns the authority with the given id, whatever its validity.
func (d *Directory) Lookup(id string) (Authority, bool) {
	i := d.find(id)
	if i < 0 {
		return Authority{}, false
	}
	return cloneAuthority(d.Authorities[i]), true
}

// ValidAt returns the authority with the given id if it is valid at the time at.
func (d *Directory) ValidAt(id string, at time.Time) (Authority, bool) {
	a, ok := d.Lookup(id)
	if !ok || !a.Valid.Contains(at) {
		return Authority{}, false
	}
	return a, true
}

// ForMunicipality returns the municipality with the canonical 4-digit code if its
// entry is valid at the time at.
func (d *Directory) ForMunicipality(code string, at time.Time) (Authority, bool) {
	return d.ValidAt(KindMunicipality+":"+code, at)
}

// ForRegion returns the region with the given code if its entry is valid at the time
// at. It does not follow successors: for the region that covers a municipality at a
// given time, ask refdata.Data.RegionOf first.
func (d *Directory) ForRegion(code string, at time.Time) (Authority, bool) {
	return d.ValidAt(KindRegion+":"+code, at)
}

// ForPoliceDistrict returns the police district with the given id (e.g.
// "nordjylland") if its entry is valid at the time at.
func (d *Directory) ForPoliceDistrict(id string, at time.Time) (Authority, bool) {
	return d.ValidAt(KindPolice+":"+id, at)
}

// find returns the position of id in d.Authorities, or -1.
func (d *Directory) find(id string) int {
	if i, ok := d.index[id]; ok && i < len(d.Authorities) && d.Authorities[i].ID == id {
		return i
	}
	// Not indexed (built without Parse or Generate, or changed since): scan. A miss
	// costs a scan of about a hundred entries, which is cheaper than being wrong.
	for i, a := range d.Authorities {
		if a.ID == id {
			return i
		}
	}
	return -1
}

// buildIndex indexes the authorities by id; ids must be unique.
func (d *Directory) buildIndex() {
	d.index = make(map[string]int, len(d.Authorities))
	for i, a := range d.Authorities {
		d.index[a.ID] = i
	}
}

// cloneAuthority copies a so that callers cannot change the directory's slices.
func cloneAuthority(a Authority) Authority {
	a.Codes.MunicipalityCodes = slices.Clone(a.Codes.MunicipalityCodes)
	a.Certificates = slices.Clone(a.Certificates)
	return a
}
