package certs

import (
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/psykosocial/exchange/internal/clock"
	"github.com/psykosocial/exchange/internal/directory"
	"github.com/psykosocial/exchange/internal/keys"
	"github.com/psykosocial/exchange/internal/refdata"
)

// InitOptions configures InitDevPKI.
type InitOptions struct {
	// DataDir is the data directory; the PKI goes to DataDir/pki and the
	// directory with its bindings to DataDir/directory.json.
	DataDir string
	// Ref is the reference data the directory is generated from when DataDir has none.
	Ref *refdata.Data
	// RSA selects the authorities that get RSA-3072 keys (as real OCES3
	// certificates have) instead of P-256. Nil selects the first authority
	// of each kind in directory order, so the RSA path is always exercised.
	RSA func(a directory.Authority) bool
	// Clock dates the certificates, the CRL and a generated directory.
	// Required: InitDevPKI refuses a nil Clock.
	Clock clock.Clock
}

// InitReport says what InitDevPKI did.
type InitReport struct {
	// CACreated is set when the CA was created (not found on disk).
	CACreated bool
	// Authorities is the number of authorities in the directory.
	Authorities int
	// Issued lists the certificates issued by this run (empty on a rerun).
	Issued []Issued
	// GatewayKeys lists the other key files of the gateway written by this
	// run into Paths.Gateway (empty on a rerun).
	GatewayKeys []string
}

// InitDevPKI creates (or completes) a development PKI under opts.DataDir:
// the CA, the gateway's certificates, and signing, encryption, TLS and DPO
// certificates for every authority of the directory that has none yet,
// whose bindings it writes into the directory, and a DPO certificate of the
// gateway operator (the directory's operator entry, created with
// DevOperatorName and DevOperatorCVR when missing). It is idempotent: a second
// run issues nothing and only refreshes the CRL.
func InitDevPKI(opts InitOptions) (*InitReport, error) {
	if opts.Clock == nil {
		return nil, errors.New("dev PKI: InitOptions.Clock is nil")
	}
	ca, created, err := OpenDevCA(opts.DataDir, opts.Clock)
	if err != nil {
		return nil, err
	}
	rep := &InitReport{CACreated: created}
	dirPath := ca.Paths().Directory()
	dir, err := directory.Load(dirPath, opts.Ref)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		dir = directory.Generate(opts.Ref, opts.Clock.Now().UTC().Truncate(time.Second))
	case err != nil:
		return nil, fmt.Errorf("dev PKI: %w", err)
	}
	rsaFor := opts.RSA
	if rsaFor == nil {
		seen := map[string]bool{}
		rsaFor = func(a directory.Authority) bool {
			if seen[a.Kind] {
				return false
			}
			seen[a.Kind] = true
			return true
		}
	}
	for i := range dir.Authorities {
		a := &dir.Authorities[i]
		kt := KeyP256
		if rsaFor(*a) {
			kt = KeyRSA3072
		}
		if len(a.Certificates) > 0 {
			continue
		}
		issued, err := ca.IssueAuthority(a, kt)
		if err != nil {
			return nil, err
		}
		rep.Issued = append(rep.Issued, issued...)
	}
	if dir.Operator == nil {
		dir.Operator = &directory.Operator{Name: DevOperatorName, CVR: DevOperatorCVR}
	}
	if len(dir.Operator.Certificates) == 0 {
		is, err := ca.IssueOperatorDPO(dir.Operator, KeyP256)
		if err != nil {
			return nil, err
		}
		rep.Issued = append(rep.Issued, is)
	}
	gw, err := ca.IssueGateway()
	if err != nil {
		return nil, err
	}
	rep.Issued = append(rep.Issued, gw...)
	// The rest of the gateway's development key set (journal checkpoint key,
	// journal HMAC secret, data key-encryption key, RSA signing key) for the
	// file key provider, next to the certificates the CA just issued.
	if rep.GatewayKeys, err = keys.Generate(ca.Paths().Gateway(), opts.Clock); err != nil {
		return nil, fmt.Errorf("dev PKI: %w", err)
	}
	if len(rep.Issued) > 0 {
		if err := writeDirectory(dirPath, dir, opts.Ref); err != nil {
			return nil, err
		}
	}
	if err := ca.WriteCRL(); err != nil {
		return nil, err
	}
	rep.Authorities = len(dir.Authorities)
	return rep, nil
}

// IssueAuthority issues a new set of certificates for one authority of the
// development PKI under dataDir and adds their bindings to its directory
// (a rollover when it already has some), dated by clk (required).
func IssueAuthority(dataDir string, ref *refdata.Data, authorityID string, kt KeyType, clk clock.Clock) ([]Issued, error) {
	ca, _, err := OpenDevCA(dataDir, clk)
	if err != nil {
		return nil, err
	}
	dirPath := ca.Paths().Directory()
	dir, err := directory.Load(dirPath, ref)
	if err != nil {
		return nil, fmt.Errorf("dev PKI: %w (run certs init first)", err)
	}
	for i := range dir.Authorities {
		if dir.Authorities[i].ID != authorityID {
			continue
		}
		issued, err := ca.IssueAuthority(&dir.Authorities[i], kt)
		if err != nil {
			return nil, err
		}
		return issued, writeDirectory(dirPath, dir, ref)
	}
	return nil, fmt.Errorf("%w: %q is not in %s", ErrUnknownAuthority, authorityID, dirPath)
}

// writeDirectory encodes dir, checks that it parses back, and writes it atomically.
func writeDirectory(path string, dir *directory.Directory, ref *refdata.Data) error {
	b, err := dir.Encode()
	if err != nil {
		return err
	}
	if _, err := directory.Parse(b, ref); err != nil {
		return fmt.Errorf("dev PKI: the directory with its new bindings does not check: %w", err)
	}
	if err := writeFileAtomic(path, b, 0o644); err != nil {
		return fmt.Errorf("dev PKI: write %s: %w", path, err)
	}
	return nil
}
