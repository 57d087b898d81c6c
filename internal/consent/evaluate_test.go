package consent_test

import (
	"errors"
	"os"
	"testing"
	"time"

	"github.com/psykosocial/exchange/internal/consent"
	"github.com/psykosocial/exchange/internal/record"
	"github.com/psykosocial/exchange/internal/refdata"
	"github.com/psykosocial/exchange/internal/routing"
)

func readPolicyMD() ([]byte, error) { return os.ReadFile("POLICY.md") }

// Bad input is an error, never a silent allow: no decision, no view.
func TestEvaluateRefusesBadInput(t *testing.T) {
	e := newEnv(t, refdata.Config{})
	good := example(t, "aarhus-resident-hurt-in-copenhagen")
	res, err := e.router.Route(good, "region:1084", june)
	if err != nil {
		t.Fatal(err)
	}
	edited := func(f func(*record.Record)) *record.Record {
		r := good.Clone()
		f(r)
		return r
	}
	cand := func(authority string, role record.RecipientRole) []routing.Candidate {
		return []routing.Candidate{{Authority: authority, Role: role}}
	}
	tests := []struct {
		name       string
		rec        *record.Record
		candidates []routing.Candidate
		want       error
	}{
		{"unknown recipient kind", good, cand("hospital:rigshospitalet", record.RecipientIncidentRegion), consent.ErrUnknownRecipient},
		{"unknown recipient role", good, cand("municipality:0751", "home_municipality"), consent.ErrUnknownRecipient},
		{"region in a municipality role", good, cand("region:1082", record.RecipientResidenceMunicipality), consent.ErrUnknownRecipient},
		{"police in a region role", good, cand("police:koebenhavn", record.RecipientIncidentRegion), consent.ErrUnknownRecipient},
		{"the gateway as recipient", good, cand("gateway", record.RecipientPoliceDistrict), consent.ErrUnknownRecipient},
		{"no record", nil, res.Candidates, consent.ErrInvalidInput},
		{"no consent block", edited(func(r *record.Record) { r.Consent = nil }), res.Candidates, consent.ErrInvalidConsent},
		{"a grant without recipient", edited(func(r *record.Record) { r.Consent.FollowUp.Grants[0].Recipient = "" }), res.Candidates, consent.ErrInvalidConsent},
		{"two grants to one role", edited(func(r *record.Record) {
			r.Consent.FollowUp.Grants[1].Recipient = r.Consent.FollowUp.Grants[0].Recipient
		}), res.Candidates, consent.ErrInvalidConsent},
		{"health purpose granted to a municipality", edited(func(r *record.Record) {
			r.Consent.FollowUp.Grants[0].Purposes = []record.Purpose{record.PurposePsychiatricFollowUp}
		}), res.Candidates, consent.ErrInvalidConsent},
		{"guardian consent without the guardian", edited(func(r *record.Record) { r.Consent.GivenBy = record.GivenByGuardian }), res.Candidates, consent.ErrInvalidConsent},
		{"channels although follow-up is refused", edited(func(r *record.Record) {
			r.Consent.FollowUp.Granted = ptr(false)
		}), res.Candidates, consent.ErrInvalidConsent},
		{"follow-up without registration consent", edited(func(r *record.Record) {
			r.Consent.Registration = record.RegistrationNotObtained
		}), res.Candidates, consent.ErrInvalidConsent},
		{"a grant without purposes", edited(func(r *record.Record) { r.Consent.FollowUp.Grants[0].Purposes = nil }), res.Candidates, consent.ErrInvalidConsent},
		{"follow-up without grants", edited(func(r *record.Record) { r.Consent.FollowUp.Grants = nil }), res.Candidates, consent.ErrInvalidConsent},
		{"follow-up without granted", edited(func(r *record.Record) { r.Consent.FollowUp.Granted = nil }), res.Candidates, consent.ErrInvalidConsent},
		{"unknown channel", edited(func(r *record.Record) { r.Consent.FollowUp.Grants[0].Channels = []record.Channel{"sms"} }), res.Candidates, consent.ErrInvalidConsent},
		{"unknown consented recipient role", edited(func(r *record.Record) {
			r.Consent.FollowUp.Grants = append(r.Consent.FollowUp.Grants, record.Grant{Recipient: "any_authority",
				Purposes: []record.Purpose{record.PurposeFollowUp}, Channels: []record.Channel{record.ChannelPhone}})
		}), res.Candidates, consent.ErrInvalidConsent},
		{"unknown registration value", edited(func(r *record.Record) { r.Consent.Registration = "yes" }), res.Candidates, consent.ErrInvalidConsent},
		{"documented consent without who gave it", edited(func(r *record.Record) { r.Consent.GivenBy = "" }), res.Candidates, consent.ErrInvalidConsent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := e.policy.Evaluate(tc.rec, tc.candidates, june)
			if !errors.Is(err, tc.want) || out != nil {
				t.Errorf("got %v, %v; want no outcomes and %v", out, err, tc.want)
			}
		})
	}
}

// Without an evaluation time neither expiry nor incident periods can be
// judged: the zero time is refused rather than taken as "long ago".
func TestEvaluateNeedsATime(t *testing.T) {
	e := newEnv(t, refdata.Config{})
	rec := example(t, "aarhus-resident-hurt-in-copenhagen")
	res, err := e.router.Route(rec, "region:1084", june)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := e.policy.Evaluate(rec, res.Candidates, time.Time{}); !errors.Is(err, consent.ErrInvalidInput) || out != nil {
		t.Errorf("got %v, %v; want ErrInvalidInput", out, err)
	}
}

func TestViewOfRefusesWhatIsNotAllowed(t *testing.T) {
	e := newEnv(t, refdata.Config{})
	rec := example(t, "witness-who-refused-follow-up")
	_, out := e.decide(t, rec, "region:1082", time.Date(2026, 9, 3, 12, 0, 0, 0, cest))
	withheld := out[0].Decision
	allowed := out[len(out)-1].Decision
	if withheld.Effect != consent.Withhold || allowed.Effect != consent.Allow {
		t.Fatalf("unexpected decisions: %s / %s", withheld, allowed)
	}
	forged := allowed
	forged.Fields = append([]string{"/person/phone"}, forged.Fields...)
	unknown := allowed
	unknown.Fields = append([]string{"/person/shoe_size"}, unknown.Fields...)
	other := allowed
	other.Version++
	for _, tc := range []struct {
		name string
		rec  *record.Record
		ds   []consent.Decision
	}{
		{"a withheld decision", rec, []consent.Decision{withheld}},
		{"no decision", rec, nil},
		{"no record", nil, []consent.Decision{allowed}},
		{"a decision about another version", rec, []consent.Decision{other}},
		{"a decision naming an unknown path", rec, []consent.Decision{unknown}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if v, err := consent.ViewOf(tc.rec, tc.ds...); !errors.Is(err, consent.ErrInvalidInput) || v != nil {
				t.Errorf("got %v, %v; want ErrInvalidInput", v, err)
			}
		})
	}
	// A recorded decision is the whole truth: a view rebuilt from an edited
	// decision holds what the edited decision lists, and the journal holds
	// the decision that was made, so an edit is visible there.
	v, err := consent.ViewOf(rec, forged)
	if err != nil {
		t.Fatal(err)
	}
	if v.Person == nil || v.Person.Phone == "" {
		t.Error("ViewOf ignored a listed field")
	}
}
