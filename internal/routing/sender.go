package routing

import (
	"errors"
	"fmt"
	"time"

	"github.com/psykosocial/exchange/internal/clock"
	"github.com/psykosocial/exchange/internal/directory"
)

// ErrCeasedSender is wrapped by Standing's errors: the sender has ceased,
// and either the act was performed after it ceased or the grace period for
// sending earlier acts is over.
var ErrCeasedSender = errors.New("routing: the sender has ceased")

// Standing is how the gateway records the sender of one record.
type Standing struct {
	// Sender is the authenticated sender's authority id.
	Sender string `json:"sender"`
	// CeasedAt is when the sender ceased; zero for an authority in force.
	CeasedAt time.Time `json:"ceased_at,omitzero"`
	// OnBehalfOf is, for a ceased sender, the authority that holds its
	// records now and on whose behalf it sends (region:<code> of Region
	// Østdanmark for region:1084 and region:1085); empty when that
	// authority's code is not configured or there is none.
	OnBehalfOf string `json:"on_behalf_of,omitempty"`
	// SuccessorName names that authority, also when its id is not configured.
	SuccessorName string `json:"successor_name,omitempty"`
}

// Standing decides whether sender may send, at the time sentAt, a record
// whose act (registered.at) it performed at actAt. An authority in force
// always may. One that has ceased may send what it registered before it
// ceased for grace after it ceased (directory.DefaultCeasedGrace when grace is
// zero; a negative grace allows nothing), recorded as sent on behalf of its
// successor; anything else is refused with an error that names the sender
// as ceased and names its successor.
func (r *Router) Standing(sender string, sentAt, actAt time.Time, grace time.Duration) (Standing, error) {
	st := Standing{Sender: sender}
	succ, name, ceased := r.Successor(sender, sentAt)
	if !ceased {
		return st, nil
	}
	if grace == 0 {
		grace = directory.DefaultCeasedGrace
	}
	st.CeasedAt = r.ceasedAt(sender)
	st.OnBehalfOf, st.SuccessorName = succ, name
	successor := "it has no successor"
	switch {
	case succ != "":
		successor = "its successor " + succ + " (" + name + ") holds its records and sends in its place"
	case name != "":
		successor = "its successor " + name + " holds its records, but its region code is not configured yet"
	}
	switch {
	case !actAt.Before(st.CeasedAt):
		return st, fmt.Errorf("%w: %s ceased at %s, before the act it sends (%s); %s",
			ErrCeasedSender, sender, danish(st.CeasedAt), danish(actAt), successor)
	case grace < 0 || !sentAt.Before(st.CeasedAt.Add(grace)):
		return st, fmt.Errorf("%w: %s ceased at %s, and the period in which it may still send what it registered before then ended at %s; %s",
			ErrCeasedSender, sender, danish(st.CeasedAt), danish(st.CeasedAt.Add(max(grace, 0))), successor)
	}
	return st, nil
}

// ceasedAt is when authority ceased (its reference or directory period ends).
func (r *Router) ceasedAt(authority string) time.Time {
	kind, code, err := directory.ParseID(authority)
	if err != nil {
		return time.Time{}
	}
	var index map[string]entry
	switch kind {
	case directory.KindRegion:
		if g, ok := r.ref.Region(code, time.Time{}); ok {
			return g.Valid.To
		}
		index = r.regions
	case directory.KindMunicipality:
		index = r.municipalities
	case directory.KindPolice:
		index = r.police
	}
	return index[code].valid.To
}

// danish writes an instant in Danish time for messages.
func danish(t time.Time) string { return t.In(clock.Danish()).Format("2006-01-02 15:04 MST") }
