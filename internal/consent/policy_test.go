package consent_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/psykosocial/exchange/internal/consent"
	"github.com/psykosocial/exchange/internal/record"
	"github.com/psykosocial/exchange/schemas"
)

const schemaBase = "https://schemas.psykosocial.example/"

// policySchema compiles schemas/consent-policy.v1.schema.json, which refers
// to the vocabularies of the record schema.
func policySchema(t testing.TB) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	for _, f := range []string{schemas.RegistrationV1, "consent-policy.v1.schema.json"} {
		b, err := fs.ReadFile(schemas.FS, f)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if err := c.AddResource(schemaBase+f, doc); err != nil {
			t.Fatal(err)
		}
	}
	s, err := c.Compile(schemaBase + "consent-policy.v1.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// recordSchema compiles schemas/registration.v1.schema.json, the contract
// every view must meet.
func recordSchema(t testing.TB) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	b, err := fs.ReadFile(schemas.FS, schemas.RegistrationV1)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AddResource(schemaBase+schemas.RegistrationV1, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(schemaBase + schemas.RegistrationV1)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func schemaAccepts(t testing.TB, s *jsonschema.Schema, data []byte) error {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return err
	}
	return s.Validate(inst)
}

func defaultDoc(t testing.TB) consent.Document {
	t.Helper()
	p, err := consent.Default()
	if err != nil {
		t.Fatal(err)
	}
	return p.Document()
}

func encode(t testing.TB, d consent.Document) []byte {
	t.Helper()
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// loadEdited loads the default policy after edit.
func loadEdited(t testing.TB, edit func(*consent.Document)) *consent.Policy {
	t.Helper()
	d := defaultDoc(t)
	edit(&d)
	p, err := consent.Load(encode(t, d))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDefaultPolicy(t *testing.T) {
	p, err := consent.Default()
	if err != nil {
		t.Fatal(err)
	}
	if err := schemaAccepts(t, policySchema(t), consent.DefaultJSON()); err != nil {
		t.Errorf("the default policy fails its schema: %v", err)
	}
	// The default is the table of DESIGN.md section 4.
	type row struct {
		role    record.RecipientRole
		purpose record.Purpose
		basis   consent.Basis
		groups  []record.FieldGroup
		notes   bool
		contact string // contact legal basis
	}
	follow := []record.FieldGroup{record.GroupIdentity, record.GroupContact, record.GroupAddress, record.GroupIncident, record.GroupRelation, record.GroupAssessment}
	acute := []record.FieldGroup{record.GroupIdentity, record.GroupContact, record.GroupIncident, record.GroupRelation, record.GroupAssessment}
	want := map[string]row{
		"residence-municipality-follow-up":   {record.RecipientResidenceMunicipality, record.PurposeFollowUp, consent.BasisConsent, follow, false, ""},
		"residence-municipality-information": {record.RecipientResidenceMunicipality, record.PurposeSupportInformation, consent.BasisConsent, []record.FieldGroup{record.GroupIdentity, record.GroupContact}, false, ""},
		"residence-region-follow-up":         {record.RecipientResidenceRegion, record.PurposeFollowUp, consent.BasisConsent, follow, false, ""},
		"residence-region-psychiatric":       {record.RecipientResidenceRegion, record.PurposePsychiatricFollowUp, consent.BasisConsent, follow, true, ""},
		"incident-municipality-follow-up":    {record.RecipientIncidentMunicipality, record.PurposeFollowUp, consent.BasisConsent, follow, false, ""},
		"incident-region-follow-up":          {record.RecipientIncidentRegion, record.PurposeFollowUp, consent.BasisConsent, follow, false, ""},
		"incident-region-psychiatric":        {record.RecipientIncidentRegion, record.PurposePsychiatricFollowUp, consent.BasisConsent, follow, true, ""},
		"incident-municipality-acute":        {record.RecipientIncidentMunicipality, record.PurposeAcuteSupport, consent.BasisLegal, acute, false, "acute_contact"},
		"incident-region-acute":              {record.RecipientIncidentRegion, record.PurposeAcuteSupport, consent.BasisLegal, acute, false, "acute_contact"},
		"police-district-identification":     {record.RecipientPoliceDistrict, record.PurposeIdentification, consent.BasisLegal, []record.FieldGroup{record.GroupIdentity, record.GroupIncident, record.GroupRelation}, false, ""},
	}
	doc := p.Document()
	if len(doc.Rules) != len(want) {
		t.Fatalf("got %d rules, want %d", len(doc.Rules), len(want))
	}
	for _, r := range doc.Rules {
		w, ok := want[r.ID]
		if !ok {
			t.Errorf("unexpected rule %s", r.ID)
			continue
		}
		if r.Role != w.role || r.Purpose != w.purpose || r.Basis != w.basis || !slices.Equal(r.Groups, w.groups) || r.HealthNotes != w.notes || r.ContactLegalBasis != w.contact {
			t.Errorf("rule %s: got %s/%s/%s/%v/notes %v/contact %q, want %+v", r.ID, r.Role, r.Purpose, r.Basis, r.Groups, r.HealthNotes, r.ContactLegalBasis, w)
		}
		if r.Basis == consent.BasisLegal && (r.LegalBasis == "" || r.IncidentPeriodDays == 0) {
			t.Errorf("rule %s has no legal basis or period", r.ID)
		}
		if r.Description.DA == "" || r.Description.EN == "" || r.Description.DA == r.Description.EN {
			t.Errorf("rule %s is not explained in Danish and English", r.ID)
		}
		if got, ok := p.Rule(r.ID); !ok || got.ID != r.ID {
			t.Errorf("Rule(%q) not found", r.ID)
		}
	}
	if doc.Minors.OwnContact {
		t.Error("the default lets a minor's own contact details travel")
	}
	if p.Version() != doc.Version || p.Version() == "" {
		t.Errorf("Version() = %q", p.Version())
	}
}

// Every rule of the default policy, every legal basis and every check is
// explained in POLICY.md, and every rule, purpose and the minors' reason
// is quoted from the file in Danish and English, so that the DPO's
// document cannot fall behind the file.
func TestPolicyDocumentationCoversEveryRule(t *testing.T) {
	b, err := readPolicyMD()
	if err != nil {
		t.Fatal(err)
	}
	md := string(b)
	var names []string
	for _, r := range defaultDoc(t).Rules {
		names = append(names, "`"+r.ID+"`")
	}
	for _, lb := range defaultDoc(t).LegalBases {
		names = append(names, "`"+lb.ID+"`")
	}
	for _, c := range []consent.Check{
		consent.CheckNoRule, consent.CheckConsentWithdrawn, consent.CheckRegistrationRefused,
		consent.CheckRegistrationNotObtained, consent.CheckFollowUpNotGranted, consent.CheckConsentExpired,
		consent.CheckRecipientNotConsented, consent.CheckPurposeNotConsented, consent.CheckFollowUpRefused,
		consent.CheckIncidentTimeUnknown, consent.CheckIncidentPeriodEnded, consent.CheckChannelNotConsented,
		consent.CheckAddressProtected, consent.CheckHealthNotesNotInRule, consent.CheckHealthNotesNeedConsent,
		consent.CheckMinorOwnContact, consent.CheckLinkNotHeld, consent.CheckRecipientNotConfigured,
	} {
		names = append(names, "`"+string(c)+"`")
	}
	names = append(names, "`"+defaultDoc(t).Version+"`")
	for _, n := range names {
		if !strings.Contains(md, n) {
			t.Errorf("POLICY.md does not mention %s", n)
		}
	}
	// The explanations are quoted word for word, in both languages, so
	// that the DPO's document, the DPO page and the sender's status view
	// say the same thing.
	flat := strings.Join(strings.Fields(md), " ")
	quoted := func(what string, tx consent.Text) {
		for lang, s := range map[string]string{"da": tx.DA, "en": tx.EN} {
			if !strings.Contains(flat, strings.Join(strings.Fields(s), " ")) {
				t.Errorf("POLICY.md does not quote the %s text of %s: %q", lang, what, s)
			}
		}
	}
	doc := defaultDoc(t)
	for _, r := range doc.Rules {
		quoted("rule "+r.ID, r.Description)
	}
	for _, p := range doc.Purposes {
		quoted("purpose "+string(p.Purpose), p.Description)
	}
	quoted("minors", doc.Minors.Reason)
}

func TestLoadRefusesBadPolicies(t *testing.T) {
	s := policySchema(t)
	rule := func(i int, f func(*consent.Rule)) func(*consent.Document) {
		return func(d *consent.Document) { f(&d.Rules[i]) }
	}
	tests := []struct {
		name    string
		edit    func(*consent.Document)
		raw     func(string) string // edits the JSON text instead
		pointer string
		message string
		schema  bool // the JSON Schema refuses it too
	}{
		{name: "unknown field group", edit: rule(0, func(r *consent.Rule) { r.Groups = append(r.Groups, "health") }),
			pointer: "/rules/0/groups/6", message: `unknown field group "health"`, schema: true},
		{name: "rule that would leak health data without consent", edit: rule(7, func(r *consent.Rule) { r.HealthNotes = true }),
			pointer: "/rules/7/health_notes", message: "would leak health data without consent", schema: true},
		{name: "health notes for a purpose that does not need them", edit: func(d *consent.Document) { d.Purposes[2].HealthData = false },
			pointer: "/rules/3/health_notes", message: "not declared as needing health data"},
		{name: "health notes without the assessment group", edit: rule(3, func(r *consent.Rule) { r.Groups = r.Groups[:5] }),
			pointer: "/rules/3/health_notes", message: "needs the assessment group", schema: true},
		{name: "unknown recipient role", edit: rule(0, func(r *consent.Rule) { r.Role = "hospital" }),
			pointer: "/rules/0/role", message: `unknown recipient role "hospital"`, schema: true},
		{name: "unknown purpose", edit: rule(0, func(r *consent.Rule) { r.Purpose = "research" }),
			pointer: "/rules/0/purpose", message: `unknown purpose "research"`, schema: true},
		{name: "purpose not declared", edit: func(d *consent.Document) { d.Purposes = d.Purposes[:1] },
			pointer: "/rules/1/purpose", message: "not declared in /purposes"},
		{name: "unknown basis", edit: rule(0, func(r *consent.Rule) { r.Basis = "implied" }),
			pointer: "/rules/0/basis", message: `unknown basis "implied"`, schema: true},
		{name: "legal basis not declared", edit: rule(9, func(r *consent.Rule) { r.LegalBasis = "public_order" }),
			pointer: "/rules/9/legal_basis", message: `"public_order" is not declared`},
		{name: "legal basis without an incident period", edit: rule(7, func(r *consent.Rule) { r.IncidentPeriodDays = 0 }),
			pointer: "/rules/7/incident_period_days", message: "must be 1 to 90", schema: true},
		{name: "legal basis for longer than an incident period", edit: rule(7, func(r *consent.Rule) { r.IncidentPeriodDays = 365 }),
			pointer: "/rules/7/incident_period_days", message: "must be 1 to 90", schema: true},
		{name: "consent rule naming a legal basis", edit: rule(0, func(r *consent.Rule) { r.LegalBasis = "acute_care" }),
			pointer: "/rules/0/legal_basis", message: "only a rule with basis legal_basis", schema: true},
		{name: "consent rule with an incident period", edit: rule(0, func(r *consent.Rule) { r.IncidentPeriodDays = 7 }),
			pointer: "/rules/0/incident_period_days", message: "consent runs until it expires", schema: true},
		{name: "consent rule honouring a refusal", edit: rule(0, func(r *consent.Rule) { r.HonourFollowUpRefusal = true }),
			pointer: "/rules/0/honour_follow_up_refusal", message: "only a rule with basis legal_basis", schema: true},
		{name: "contact without identity", edit: rule(7, func(r *consent.Rule) { r.Groups = r.Groups[1:] }),
			pointer: "/rules/7/groups", message: "grants contact without identity", schema: true},
		{name: "contact to the police", edit: rule(9, func(r *consent.Rule) { r.Groups = append(r.Groups, record.GroupContact) }),
			pointer: "/rules/9/groups", message: "the police never receive contact preferences or health data", schema: true},
		{name: "health data to the police", edit: rule(9, func(r *consent.Rule) { r.Groups = append(r.Groups, record.GroupAssessment) }),
			pointer: "/rules/9/groups", message: "grants assessment to a police district", schema: true},
		{name: "field group listed twice", edit: rule(9, func(r *consent.Rule) { r.Groups = append(r.Groups, record.GroupIdentity) }),
			pointer: "/rules/9/groups/3", message: "listed twice", schema: true},
		{name: "rule id used twice", edit: rule(1, func(r *consent.Rule) { r.ID = "residence-municipality-follow-up" }),
			pointer: "/rules/1/id", message: "used twice"},
		{name: "two rules for one role and purpose", edit: rule(1, func(r *consent.Rule) { r.Purpose = record.PurposeFollowUp }),
			pointer: "/rules/1", message: "one rule per role and purpose"},
		{name: "health purpose for a municipality", edit: rule(3, func(r *consent.Rule) { r.Role = record.RecipientIncidentMunicipality }),
			pointer: "/rules/3/role", message: "region roles only"},
		{name: "contact legal basis without the contact group", edit: rule(9, func(r *consent.Rule) { r.ContactLegalBasis = "acute_contact" }),
			pointer: "/rules/9/contact_legal_basis", message: "needs the contact group"},
		{name: "consent rule naming a contact legal basis", edit: rule(0, func(r *consent.Rule) { r.ContactLegalBasis = "acute_contact" }),
			pointer: "/rules/0/contact_legal_basis", message: "only a rule with basis legal_basis", schema: true},
		{name: "contact legal basis not declared", edit: rule(8, func(r *consent.Rule) { r.ContactLegalBasis = "public_order" }),
			pointer: "/rules/8/contact_legal_basis", message: `"public_order" is not declared`},
		{name: "minors without a reason", edit: func(d *consent.Document) { d.Minors.Reason.DA = "" },
			pointer: "/minors/reason/da", message: "must not be empty", schema: true},
		{name: "no rules", edit: func(d *consent.Document) { d.Rules = nil },
			pointer: "/rules", message: "at least one rule", schema: true},
		{name: "rule without groups", edit: rule(9, func(r *consent.Rule) { r.Groups = []record.FieldGroup{} }),
			pointer: "/rules/9/groups", message: "at least one field group", schema: true},
		{name: "blank description", edit: rule(0, func(r *consent.Rule) { r.Description.DA = "   " }),
			pointer: "/rules/0/description/da", message: "must not be blank", schema: true},
		{name: "description longer than a paragraph", edit: rule(0, func(r *consent.Rule) { r.Description.EN = strings.Repeat("x", 2001) }),
			pointer: "/rules/0/description/en", message: "longer than 2000", schema: true},
		{name: "wrong format", edit: func(d *consent.Document) { d.Format = "consent-policy/v2" },
			pointer: "/format", message: `must be "consent-policy/v1"`, schema: true},
		{name: "version with spaces", edit: func(d *consent.Document) { d.Version = "new version" },
			pointer: "/version", message: "must be 1 to 64", schema: true},
		{name: "purpose declared twice", edit: func(d *consent.Document) { d.Purposes = append(d.Purposes, d.Purposes[0]) },
			pointer: "/purposes/5/purpose", message: "declared twice"},
		{name: "unknown member", raw: func(s string) string {
			return strings.Replace(s, `"basis": "consent"`, `"basis": "consent", "override": true`, 1)
		},
			pointer: "/rules/0/override", message: "", schema: true},
		{name: "case-variant member", raw: func(s string) string { return strings.Replace(s, `"groups"`, `"Groups"`, 1) },
			pointer: "/rules/0/Groups", message: "", schema: true},
		{name: "duplicate member", raw: func(s string) string {
			return strings.Replace(s, `"basis": "legal_basis"`, `"basis": "legal_basis", "basis": "consent"`, 1)
		}, pointer: "/rules/7/basis", message: ""},
		{name: "not JSON", raw: func(string) string { return "rules: []" }, pointer: "", message: "", schema: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var data []byte
			if tc.raw != nil {
				data = []byte(tc.raw(string(encode(t, defaultDoc(t)))))
			} else {
				d := defaultDoc(t)
				tc.edit(&d)
				data = encode(t, d)
			}
			p, err := consent.Load(data)
			if p != nil || !errors.Is(err, consent.ErrInvalidPolicy) {
				t.Fatalf("got %v, %v; want ErrInvalidPolicy", p, err)
			}
			var pe *consent.PolicyError
			if !errors.As(err, &pe) {
				t.Fatalf("got %T, want *PolicyError", err)
			}
			found := false
			for _, pr := range pe.Problems {
				if pr.Pointer == tc.pointer && strings.Contains(pr.Message, tc.message) {
					found = true
				}
			}
			if !found {
				t.Errorf("no problem at %q saying %q in:\n%v", tc.pointer, tc.message, err)
			}
			if !strings.Contains(err.Error(), tc.pointer+": ") && tc.pointer != "" {
				t.Errorf("the error does not name %s: %v", tc.pointer, err)
			}
			if serr := schemaAccepts(t, s, data); tc.schema && serr == nil {
				t.Error("the JSON Schema accepts it")
			}
		})
	}
}
