package police

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/beevik/etree"
	"github.com/google/go-cmp/cmp"

	"github.com/psykosocial/exchange/adapters"
	"github.com/psykosocial/exchange/internal/refdata"
	"github.com/psykosocial/exchange/internal/testenv"
)

// xmllintVerdicts runs xmllint once over files and returns, per file,
// whether the schema accepts it. xmllint prints "FILE validates" for each
// valid file; a file that is invalid or not even well-formed does not get
// that line.
func xmllintVerdicts(t *testing.T, files []string) map[string]bool {
	t.Helper()
	xmllint := testenv.RequireTool(t, "xmllint", "apt-get install libxml2-utils")
	args := append([]string{"--noout", "--nonet", "--schema", schemaFile}, files...)
	cmd := exec.Command(xmllint, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	_ = cmd.Run() // the exit status is not 0 as soon as one file fails; the lines say which
	out := map[string]bool{}
	for _, f := range files {
		out[f] = false
	}
	for _, line := range strings.Split(stderr.String(), "\n") {
		if f, ok := strings.CutSuffix(line, " validates"); ok {
			if _, known := out[f]; known {
				out[f] = true
			}
		}
	}
	return out
}

// TestXSDAcceptsValidAndEncodedDocuments: the XSD accepts every valid
// example and everything Encode writes (the re-encoded examples, the common
// examples in lists from the gateway and from the police, withdrawals).
func TestXSDAcceptsValidAndEncodedDocuments(t *testing.T) {
	a := newAdapter(t)
	dir := t.TempDir()
	files := examples(t, validDir)
	write := func(name string, data []byte) {
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, data, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	for _, f := range examples(t, validDir) {
		m, err := a.Decode(readFile(t, f))
		if err != nil {
			t.Fatal(err)
		}
		ad := a
		if role := officerRoleOf(t, f); role != "" {
			ad = mustNew(t, newValidator(t), WithOfficerRole(role))
		}
		data, err := ad.Encode(m)
		if err != nil {
			t.Fatal(err)
		}
		write("encoded-"+filepath.Base(f), data)
	}
	for name, r := range commonExamples(t) {
		data, _ := roundTrip(t, a, gatewayHeader("nordjylland"), r)
		write("gateway-"+strings.TrimSuffix(name, ".json")+".xml", data)
		if g := r.Registered; g != nil && strings.HasPrefix(g.ByAuthority, policePrefix) {
			data, _ := roundTrip(t, a, policeHeader(strings.TrimPrefix(g.ByAuthority, policePrefix)), r)
			write("police-"+strings.TrimSuffix(name, ".json")+".xml", data)
		}
	}
	write("big-list.xml", bigList(t, a, 50))
	for i, f := range []string{"tilbagetraekning-fyn.xml", "tilbagetraekning-fra-gateway.xml"} {
		m, err := a.Decode(readFile(t, filepath.Join(validDir, f)))
		if err != nil {
			t.Fatal(err)
		}
		data, err := a.Encode(&adapters.Message{Kind: adapters.KindWithdrawal, Header: m.Header, Withdrawal: m.Withdrawal})
		if err != nil {
			t.Fatal(err)
		}
		write(fmt.Sprintf("withdrawal-%d.xml", i), data)
	}
	for f, ok := range xmllintVerdicts(t, files) {
		if !ok {
			out, _ := exec.Command("xmllint", "--noout", "--schema", schemaFile, f).CombinedOutput()
			t.Errorf("xmllint refuses %s:\n%s", f, out)
		}
	}
}

// TestXSDVerdictsOnInvalidExamples: xmllint refuses exactly the invalid
// examples that expect.json says the schema alone refuses; the others break
// rules only the adapter checks (CPR dates, the sender's district, ...).
func TestXSDVerdictsOnInvalidExamples(t *testing.T) {
	exp := loadExpect(t)
	files := examples(t, invalidDir)
	for f, accepted := range xmllintVerdicts(t, files) {
		want := exp[filepath.Base(f)].Xmllint
		got := "refuses"
		if accepted {
			got = "accepts"
		}
		if want != got {
			t.Errorf("%s: xmllint %s, expect.json says %q", filepath.Base(f), got, want)
		}
	}
}

// xsd loads the schema as an etree document.
func xsd(t *testing.T) *etree.Element {
	t.Helper()
	doc := etree.NewDocument()
	if err := doc.ReadFromFile(schemaFile); err != nil {
		t.Fatal(err)
	}
	return doc.Root()
}

// TestXSDVocabulariesMatchCode: every enumeration of the XSD lists exactly
// the Danish values of the adapter's vocabulary, in the same order; the
// police districts are those of the reference data.
func TestXSDVocabulariesMatchCode(t *testing.T) {
	root := xsd(t)
	ref, err := refdata.Load(refdata.Config{})
	if err != nil {
		t.Fatal(err)
	}
	var districts []string
	for _, d := range ref.PoliceDistricts() {
		districts = append(districts, d.ID)
	}
	slices.Sort(districts)
	want := map[string][]string{
		"Politikreds":           districts,
		"Funktion":              officerRoles.Codes(),
		"Haendelsestype":        incidentKinds.Codes(),
		"Registreringssted":     sites.Codes(),
		"Registrantrolle":       registrarRoles.Codes(),
		"Tilknytningstype":      relationTypes.Codes(),
		"Registreringssamtykke": registrationConsents.Codes(),
		"AfgivetAf":             givenBys.Codes(),
		"Samtykkemetode":        consentMethods.Codes(),
		"Kanal":                 channels.Codes(),
		"Modtagerrolle":         recipientRoles.Codes(),
		"Formaal":               purposes.Codes(),
		"Slaegtskab":            kinships.Codes(),
		"Vaergerelation":        guardianRelations.Codes(),
		"Aarsag":                withdrawalReasons.Codes(),
	}
	seen := map[string]bool{}
	for _, st := range root.SelectElements("simpleType") {
		name := st.SelectAttrValue("name", "")
		var got []string
		for _, e := range st.FindElements("./restriction/enumeration") {
			got = append(got, e.SelectAttrValue("value", ""))
		}
		if len(got) == 0 {
			continue
		}
		seen[name] = true
		if name == "Politikreds" {
			slices.Sort(got)
		}
		if diff := cmp.Diff(want[name], got); diff != "" {
			t.Errorf("enumeration %s (-code +xsd):\n%s", name, diff)
		}
	}
	for name := range want {
		if !seen[name] {
			t.Errorf("the XSD has no enumeration %s", name)
		}
	}
}

// TestXSDContentModelsMatchCode: the element sequences of the XSD are the
// content models the decoder enforces (names, order, occurrences).
func TestXSDContentModelsMatchCode(t *testing.T) {
	root := xsd(t)
	types := map[string]*etree.Element{}
	for _, ct := range root.SelectElements("complexType") {
		types[ct.SelectAttrValue("name", "")] = ct
	}
	global := map[string]*etree.Element{}
	for _, el := range root.SelectElements("element") {
		global[el.SelectAttrValue("name", "")] = el.SelectElement("complexType")
	}
	personer := global["Personliste"].FindElement("./sequence/element[@name='Personer']/complexType")
	for _, tc := range []struct {
		name  string
		ct    *etree.Element
		shape []child
	}{
		{"Personliste", global["Personliste"], listShape[:]},
		{"Tilbagetraekning", global["Tilbagetraekning"], withdrawalShape[:]},
		{"Personer", personer, personsShape[:]},
		{"Hoved", types["Hoved"], headerShape[:]},
		{"Haendelse", types["Haendelse"], incidentShape[:]},
		{"Registrant", types["Registrant"], registrantShape[:]},
		{"Person", types["Person"], personShape[:]},
		{"Registreret", types["Registreret"], registeredShape[:]},
		{"Adresse", types["Adresse"], addressShape[:]},
		{"Tilknytning", types["Tilknytning"], relationShape[:]},
		{"BeroertPerson", types["BeroertPerson"], affectedShape[:]},
		{"Samtykke", types["Samtykke"], consentShape[:]},
		{"Vaerge", types["Vaerge"], guardianShape[:]},
		{"Indhentet", types["Indhentet"], obtainedShape[:]},
		{"Opfoelgning", types["Opfoelgning"], followUpShape[:]},
		{"Tilladelse", types["Tilladelse"], grantShape[:]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.ct == nil {
				t.Fatal("not in the XSD")
			}
			got := flatten(t, tc.ct.SelectElement("sequence"), 1)
			if diff := cmp.Diff(tc.shape, got, cmp.AllowUnexported(child{})); diff != "" {
				t.Errorf("(-code +xsd):\n%s", diff)
			}
		})
	}
}

// flatten lists the elements of an XSD sequence (nested sequences
// included, their minOccurs applied), leaving out the ds:Signature reference.
func flatten(t *testing.T, seq *etree.Element, outerMin int) []child {
	t.Helper()
	occurs := func(el *etree.Element, attr string) int {
		v := el.SelectAttrValue(attr, "1")
		if v == "unbounded" {
			t.Fatalf("%s is unbounded", el.SelectAttrValue("name", "?"))
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	var out []child
	for _, el := range seq.ChildElements() {
		switch el.Tag {
		case "element":
			if el.SelectAttr("ref") != nil {
				continue
			}
			out = append(out, child{el.SelectAttrValue("name", ""), occurs(el, "minOccurs") * outerMin, occurs(el, "maxOccurs")})
		case "sequence":
			out = append(out, flatten(t, el, occurs(el, "minOccurs")*outerMin)...)
		default:
			t.Fatalf("unexpected %s in a sequence", el.Tag)
		}
	}
	return out
}

// TestXSDPatternsMatchCode: the patterns the adapter checks itself are the
// XSD's patterns, anchored.
func TestXSDPatternsMatchCode(t *testing.T) {
	root := xsd(t)
	want := map[string]string{
		"DokumentID":    reDocumentID.String(),
		"UUID":          reUUID.String(),
		"MyndighedsID":  reAuthority.String(),
		"Journalnummer": reJournal.String(),
		"Tidspunkt":     reDateTime.String(),
		"Dato":          reDate.String(),
		"Version":       reVersion.String(),
	}
	for name, re := range want {
		st := root.FindElement("./simpleType[@name='" + name + "']")
		if st == nil {
			t.Errorf("the XSD has no type %s", name)
			continue
		}
		p := st.FindElement("./restriction/pattern").SelectAttrValue("value", "")
		// XSD patterns are implicitly anchored; the XSD escapes - in classes.
		xsdRe := "^" + strings.ReplaceAll(p, `\-`, "-") + "$"
		if name == "MyndighedsID" {
			xsdRe = "^(" + p + ")$"
		}
		if xsdRe != strings.ReplaceAll(re, `\-`, "-") {
			t.Errorf("%s: XSD %s, code %s", name, xsdRe, re)
		}
	}
}
