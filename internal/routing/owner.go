package routing

import (
	"fmt"

	"github.com/psykosocial/exchange/internal/refdata"
)

// Owners says who keeps follow-up of a person without a residence
// municipality, so that every person has a follow-up owner: the residence
// roles (residence_municipality, residence_region) go to the owner, with a
// reason that names the rule (FollowUpOwner), and the person's consent to
// follow-up by the residence authorities is honoured by them. It is
// configuration: DefaultOwners documents the defaults.
type Owners struct {
	// Abroad is the owner of a person living abroad.
	Abroad Owner `json:"abroad"`
	// Unknown is the owner of a person whose residence is unknown (no
	// address, or a Danish address without a municipality code).
	Unknown Owner `json:"unknown"`
	// OutsideDivision is the owner of a person living on Christiansø
	// (0411, outside the municipal and regional division).
	OutsideDivision Owner `json:"outside_division"`
}

// Owner names the authorities that keep follow-up in one case.
type Owner struct {
	// Rule names the rule in reasons and the journal, e.g. "abroad-incident".
	Rule string `json:"rule"`
	// Municipality is the 4-digit code of the municipality that keeps
	// follow-up, its region then keeping the residence region's part; empty
	// means the incident municipality and region. "none" means that no
	// authority keeps it (the roles are omitted, as before this rule).
	Municipality string `json:"municipality,omitempty"`
	// Confirmed is false when the sources do not confirm the rule; reasons
	// say so, as for the police district of 0411.
	Confirmed bool `json:"confirmed"`
	// Note says where the rule comes from.
	Note string `json:"note"`
}

// OwnerNone, as Owner.Municipality, leaves the residence roles without a
// candidate.
const OwnerNone = "none"

// DefaultOwners are the default follow-up owners: the incident municipality
// and region keep follow-up of persons abroad or of unknown residence (they
// did the acute response, and DESIGN.md section 4 names them), and
// Christiansø residents go to Bornholms Regionskommune (0400) and its
// region, which serve the islands' residents in practice; the sources do
// not confirm the latter (see internal/refdata/data/SOURCES.md and
// outside_division.csv), so it is marked unconfirmed.
func DefaultOwners() Owners {
	return Owners{
		Abroad: Owner{Rule: "abroad-incident-authorities", Confirmed: true,
			Note: "A person living abroad has no Danish residence authority; the incident municipality and region keep follow-up (DESIGN.md section 4)."},
		Unknown: Owner{Rule: "unknown-residence-incident-authorities", Confirmed: true,
			Note: "A person of unknown residence cannot be routed by residence; the incident municipality and region keep follow-up until the residence is known (a correction routes it again)."},
		OutsideDivision: Owner{Rule: "christiansoe-bornholm", Municipality: "0400", Confirmed: false,
			Note: "Christiansø (0411) lies outside the municipal division; Bornholms Regionskommune is the nearest authority and is assumed to serve its residents. Not confirmed by the sources: re-check before release."},
	}
}

// check validates the owners against the reference data.
func (o Owners) check(ref *refdata.Data) error {
	for name, w := range map[string]Owner{"abroad": o.Abroad, "unknown": o.Unknown, "outside_division": o.OutsideDivision} {
		if w.Rule == "" {
			return fmt.Errorf("%w: owners.%s: the rule needs a name for the journal", ErrInvalidInput, name)
		}
		if w.Municipality == "" || w.Municipality == OwnerNone {
			continue
		}
		if _, ok := ref.Municipality(w.Municipality); !ok {
			return fmt.Errorf("%w: owners.%s: %q is not a Danish municipality code", ErrInvalidInput, name, w.Municipality)
		}
	}
	return nil
}

// Option configures a Router.
type Option func(*Router)

// WithOwners sets the follow-up owners of persons without a residence
// municipality (default: DefaultOwners).
func WithOwners(o Owners) Option { return func(r *Router) { r.owners = o } }
