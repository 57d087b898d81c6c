package consent_test

import (
	"math/rand"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/quick"
	"time"

	"github.com/psykosocial/exchange/internal/consent"
	"github.com/psykosocial/exchange/internal/record"
	"github.com/psykosocial/exchange/internal/refdata"
)

// generated is one random record, sender and evaluation time.
type generated struct {
	rec    *record.Record
	sender string
	at     time.Time
}

// generator builds random records from the examples: person fields
// dropped, residence moved (abroad, Christiansø, anywhere), address
// protection, notes, every shape of consent (refused, not obtained,
// follow-up refused or granted with random channels, recipients, purposes
// and expiry, withdrawn), incident place and time, and an evaluation time
// up to a month after the incident. Consent is always self-consistent, so
// Evaluate must never fail; about half the records are valid against
// schema v1, which is when their views must be valid too.
type generator struct {
	examples []*record.Record
	munis    []string
	police   []string
}

func newGenerator(t testing.TB, e *env) *generator {
	g := &generator{}
	for _, n := range exampleNames(t) {
		if n != "minimised-view" {
			g.examples = append(g.examples, example(t, n))
		}
	}
	for _, m := range e.ref.Municipalities() {
		g.munis = append(g.munis, m.Code)
	}
	for _, p := range e.ref.PoliceDistricts() {
		g.police = append(g.police, "police:"+p.ID)
	}
	return g
}

func pick[T any](r *rand.Rand, vs []T) T { return vs[r.Intn(len(vs))] }

// subset returns a random non-empty subset of vs, in vocabulary order.
func subset[T any](r *rand.Rand, vs []T) []T {
	for {
		var out []T
		for _, v := range vs {
			if r.Intn(2) == 0 {
				out = append(out, v)
			}
		}
		if len(out) > 0 {
			return out
		}
	}
}

func (g *generator) generate(r *rand.Rand) generated {
	rec := pick(r, g.examples).Clone()
	in := rec.Incident
	if r.Intn(4) == 0 {
		in.MunicipalityCode, in.RegionCode = pick(r, g.munis), ""
	}
	if r.Intn(10) == 0 {
		in.OccurredAt = nil
	}
	base := time.Date(2026, 6, 14, 21, 40, 0, 0, cest)
	if in.OccurredAt != nil {
		base = *in.OccurredAt
	}
	at := base.Add(time.Duration(r.Int63n(int64(30 * 24 * time.Hour))))

	if p := rec.Person; p != nil {
		if r.Intn(3) == 0 {
			p.Phone = "+4512345678"
		} else if r.Intn(3) == 0 {
			p.Phone = ""
		}
		if r.Intn(3) == 0 {
			p.Email = "person@example.dk"
		} else if r.Intn(3) == 0 {
			p.Email = ""
		}
		p.AddressProtected = r.Intn(4) == 0
		switch r.Intn(6) {
		case 0:
			p.Address = nil
		case 1:
			p.Address = &record.Address{Street: "Storgatan 8", PostalCode: "211 34", City: "Malmö", Country: "SE"}
		case 2:
			p.Address = &record.Address{Street: "Christiansø 1", PostalCode: "3760", City: "Gudhjem", MunicipalityCode: refdata.OutsideMunicipalDivision}
		case 3:
			p.Address = &record.Address{Street: "Torvet 1", PostalCode: "8000", City: "Aarhus C", MunicipalityCode: pick(r, g.munis)}
		}
		if r.Intn(2) == 0 {
			rec.Assessment = &record.Assessment{FollowUpPriority: pick(r, record.Priorities()), Notes: "Søvnbesvær, påvirket."}
		}
	}
	g.consent(r, rec, at)
	sender := pick(r, []string{"gateway", pick(r, g.police)})
	if rec.Registered != nil && r.Intn(2) == 0 {
		sender = rec.Registered.ByAuthority
	}
	return generated{rec: rec, sender: sender, at: at}
}

// consent gives rec a random, self-consistent consent block.
func (g *generator) consent(r *rand.Rand, rec *record.Record, at time.Time) {
	cs := rec.Consent
	if cs.Registration == record.RegistrationRefused {
		return // the example keeps only what a count needs
	}
	if r.Intn(5) == 0 {
		rec.Consent = &record.Consent{Registration: record.RegistrationNotObtained}
		return
	}
	obtained := at.Add(-time.Duration(r.Int63n(int64(48 * time.Hour))))
	cs.Registration = record.RegistrationGranted
	cs.GivenBy = pick(r, record.GivenBys())
	cs.Obtained = &record.Obtained{By: &record.ObtainedBy{Authority: "region:1082", Role: record.RoleKOP}, At: &obtained, Method: record.MethodDigital}
	cs.WithdrawnAt = nil
	switch r.Intn(5) {
	case 0:
		cs.FollowUp = nil
	case 1:
		cs.FollowUp = &record.FollowUp{Granted: ptr(false)}
	default:
		cs.FollowUp = &record.FollowUp{Granted: ptr(true)}
		roles := slices.DeleteFunc(slices.Clone(record.RecipientRoles()), func(x record.RecipientRole) bool { return x == record.RecipientPoliceDistrict })
		for _, role := range subset(r, roles) {
			channels := subset(r, record.Channels())
			if rec.Person == nil || rec.Person.CPR == "" {
				channels = slices.DeleteFunc(channels, func(c record.Channel) bool { return c == record.ChannelDigitalPost })
				if len(channels) == 0 {
					channels = []record.Channel{record.ChannelEmail}
				}
			}
			purposes := subset(r, record.Purposes())
			if !record.IsRegionRole(role) {
				purposes = slices.DeleteFunc(purposes, func(p record.Purpose) bool { return slices.Contains(record.HealthPurposes(), p) })
				if len(purposes) == 0 {
					purposes = []record.Purpose{record.PurposeSupportInformation}
				}
			}
			cs.FollowUp.Grants = append(cs.FollowUp.Grants, record.Grant{Recipient: role, Purposes: purposes, Channels: channels})
		}
		if r.Intn(2) == 0 {
			cs.FollowUp.ExpiresAt = ptr(obtained.Add(time.Duration(1+r.Intn(72)) * time.Hour))
		}
	}
	cs.Guardian = nil
	if cs.GivenBy == record.GivenByGuardian {
		cs.Guardian = &record.Guardian{Name: "Karina Holm", Relation: record.GuardianParent}
		if r.Intn(4) != 0 {
			cs.Guardian.Phone = "+4531425364"
		}
		if r.Intn(4) != 0 {
			cs.Guardian.Email = "karina@example.dk"
		}
	}
	if r.Intn(5) == 0 {
		cs.WithdrawnAt = ptr(obtained.Add(time.Duration(r.Intn(48)) * time.Hour))
	}
	if rel := rec.Relation; rel != nil && rel.Type == record.RelationRelative && r.Intn(2) == 0 {
		rel.Affected = &record.AffectedPerson{CPR: "0101651234"}
		rel.Kinship = pick(r, record.Kinships())
	}
}

// checkProperties checks what must hold of every evaluation, and returns
// the problems found.
func checkProperties(t testing.TB, e *env, g generated, out []consent.Outcome) []string {
	t.Helper()
	ps := []string(nil)
	v := e.validator(g.at.Add(time.Hour))
	cs := g.rec.Consent
	fu := cs.FollowUp
	// inForce: channel ch of the role's grant (a consent rule), or of any
	// grant (a legal-basis rule naming a contact legal basis), in force.
	inForce := func(d consent.Decision, ch record.Channel) bool {
		if !fu.IsGranted() || cs.WithdrawnAt != nil || (fu.ExpiresAt != nil && !g.at.Before(*fu.ExpiresAt)) {
			return false
		}
		if d.Basis == consent.BasisLegal {
			return d.ContactLegalBasis != "" && slices.Contains(fu.AllChannels(), ch)
		}
		gr, i := fu.GrantFor(d.Role)
		return i >= 0 && slices.Contains(gr.Channels, ch)
	}
	grants := func(role record.RecipientRole, p record.Purpose) bool {
		gr, i := fu.GrantFor(role)
		return i >= 0 && slices.Contains(gr.Purposes, p)
	}
	for _, o := range out {
		d := o.Decision
		for _, p := range checkOutcome(t, v, g.rec, o) {
			ps = append(ps, string(d.Role)+": "+p)
		}
		if d.Effect != consent.Allow {
			continue
		}
		bad := func(why string) { ps = append(ps, string(d.Role)+": "+why+": "+d.String()) }
		if cs.WithdrawnAt != nil {
			bad("withdrawn consent yields allow")
		}
		if d.Basis == consent.BasisConsent && (cs.Registration != record.RegistrationGranted || !fu.IsGranted() || !grants(d.Role, d.Purpose)) {
			bad("a consent rule allows beyond the consent")
		}
		if cs.Registration == record.RegistrationRefused {
			bad("a refused registration is forwarded")
		}
		if slices.Contains(d.Fields, pNotes) && (d.Basis != consent.BasisConsent || !grants(d.Role, record.PurposePsychiatricFollowUp) || d.Purpose != record.PurposePsychiatricFollowUp) {
			bad("health notes without explicit consent to a health purpose for this role")
		}
		for path, ch := range map[string]record.Channel{pPhone: record.ChannelPhone, pEmail: record.ChannelEmail,
			"/consent/guardian/phone": record.ChannelPhone, "/consent/guardian/email": record.ChannelEmail} {
			if slices.Contains(d.Fields, path) && !inForce(d, ch) {
				bad(path + " without its channel consented to this recipient")
			}
		}
		if cs.GivenBy == record.GivenByGuardian && (slices.Contains(d.Fields, pPhone) || slices.Contains(d.Fields, pEmail)) {
			bad("a minor's own contact details travel although a guardian consented")
		}
		if d.Purpose == record.PurposeSupportInformation {
			for _, p := range d.Fields {
				if p == "/person/address" || strings.HasPrefix(p, "/incident/") && p != "/incident/id" || strings.HasPrefix(p, "/relation") || strings.HasPrefix(p, "/assessment") {
					bad("information-only consent discloses " + p)
				}
			}
		}
		if v := o.View; v != nil {
			if v.Relation != nil && (v.Relation.Affected != nil || v.Relation.RelativeOf != "") {
				bad("a view carries the link to the affected person without the recipient holding that record")
			}
			if v.Consent != nil && v.Consent.FollowUp != nil {
				if d.Role == record.RecipientPoliceDistrict {
					bad("the police see the consent's contact preferences")
				}
				for _, gr := range v.Consent.FollowUp.Grants {
					if gr.Recipient != d.Role {
						bad("the view carries the grant of another role, " + string(gr.Recipient))
					}
				}
			}
		}
		if slices.Contains(d.Fields, pAddress) && g.rec.Person.AddressProtected && d.Role != record.RecipientResidenceMunicipality {
			bad("protected address outside the residence municipality")
		}
		if d.Role == record.RecipientPoliceDistrict {
			for _, p := range healthAndContact {
				if slices.Contains(d.Fields, p) {
					bad("the police receive " + p)
				}
			}
		}
	}
	return ps
}

// TestProperties runs the properties over generated records: the view
// never holds a field the decision did not allow; withdrawn consent never
// yields allow; every decision has an explanation; and the safeguards hold.
func TestProperties(t *testing.T) {
	e := newEnv(t, refdata.Config{})
	g := newGenerator(t, e)
	valid, runs := 0, 0
	cfg := &quick.Config{
		MaxCount: 3000,
		Rand:     rand.New(rand.NewSource(20260614)),
		Values: func(args []reflect.Value, r *rand.Rand) {
			args[0] = reflect.ValueOf(g.generate(r))
		},
	}
	prop := func(gen generated) bool {
		runs++
		if e.validator(gen.at.Add(time.Hour)).Validate(gen.rec) == nil {
			valid++
		}
		res, err := e.router.Route(gen.rec, gen.sender, gen.at)
		if err != nil {
			t.Logf("route: %v", err)
			return false
		}
		out, err := e.policy.Evaluate(gen.rec, res.Candidates, gen.at)
		if err != nil {
			t.Logf("evaluate: %v", err)
			return false
		}
		if len(out) < len(res.Candidates) {
			t.Logf("%d decisions for %d candidates", len(out), len(res.Candidates))
			return false
		}
		if ps := checkProperties(t, e, gen, out); len(ps) > 0 {
			t.Log(canonical(t, gen.rec))
			for _, p := range ps {
				t.Log(p)
			}
			return false
		}
		return true
	}
	if err := quick.Check(prop, cfg); err != nil {
		t.Fatal(err)
	}
	if valid < runs/4 {
		t.Errorf("only %d of %d generated records are valid: the view-validity property is hardly tested", valid, runs)
	}
	t.Logf("%d runs, %d valid records", runs, valid)
}

// FuzzEvaluate decodes arbitrary records and checks the same properties on
// whatever routes and evaluates. Errors must come without outcomes.
func FuzzEvaluate(f *testing.F) {
	e := newEnv(f, refdata.Config{})
	for _, n := range exampleNames(f) {
		rec := example(f, n)
		b, err := record.MarshalCanonical(rec)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, int64(36))
	}
	f.Fuzz(func(t *testing.T, data []byte, hours int64) {
		rec, err := record.Decode(data)
		if err != nil {
			return
		}
		at := time.Date(2026, 6, 14, 0, 0, 0, 0, cest).Add(time.Duration(hours%(24*400)) * time.Hour)
		sender := "gateway"
		if rec.Registered != nil && rec.Registered.ByAuthority != "" {
			sender = rec.Registered.ByAuthority
		}
		res, err := e.router.Route(rec, sender, at)
		if err != nil {
			return
		}
		out, err := e.policy.Evaluate(rec, res.Candidates, at)
		if err != nil {
			if out != nil {
				t.Fatalf("error %v with outcomes", err)
			}
			return
		}
		for _, p := range checkProperties(t, e, generated{rec: rec, sender: sender, at: at}, out) {
			t.Error(p)
		}
	})
}
