package region

import (
	"encoding/json"
	"io/fs"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/psykosocial/exchange/adapters/internal/vocab"
	"github.com/psykosocial/exchange/internal/record"
	"github.com/psykosocial/exchange/schemas"
)

// checkVocab checks that v maps every common value of all, one to one, and
// that the schema's enum at ptr lists v's Danish codes in the same order.
func checkVocab[T ~string](t *testing.T, name string, v *vocab.Vocab[T], all []T, schemaEnum []string) {
	t.Helper()
	if !slices.Equal(v.Values(), all) {
		t.Errorf("%s: common values %v, want %v", name, v.Values(), all)
	}
	seen := map[string]bool{}
	for _, d := range v.Codes() {
		if seen[d] {
			t.Errorf("%s: Danish code %q twice", name, d)
		}
		seen[d] = true
		back, ok := v.Common(d)
		if again, _ := v.Danish(back); !ok || again != d {
			t.Errorf("%s: %q does not map back and forth", name, d)
		}
	}
	if !slices.Equal(v.Codes(), schemaEnum) {
		t.Errorf("%s: schema enum %v, want %v", name, schemaEnum, v.Codes())
	}
}

func TestVocabularies(t *testing.T) {
	b, err := fs.ReadFile(schemas.FS, "region-registration.v1.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Defs map[string]struct {
			Enum       []string `json:"enum"`
			Properties map[string]struct {
				Enum []string `json:"enum"`
			} `json:"properties"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	prop := func(def, name string) []string { return s.Defs[def].Properties[name].Enum }
	checkVocab(t, "incident kind", incidentKinds, record.IncidentKinds(), prop("haendelse", "type"))
	checkVocab(t, "site", sites, record.Sites(), prop("haendelse", "sted"))
	checkVocab(t, "role", roles, record.RegistrarRoles(), s.Defs["rolle"].Enum)
	checkVocab(t, "relation", relations, record.RelationTypes(), prop("relation", "type"))
	checkVocab(t, "priority", priorities, record.Priorities(), prop("vurdering", "opfoelgningsprioritet"))
	checkVocab(t, "registration consent", registrationConsents, record.RegistrationConsents(), prop("samtykke", "registrering"))
	checkVocab(t, "channel", channels, record.Channels(), s.Defs["kanal"].Enum)
	checkVocab(t, "recipient", recipients, record.RecipientRoles(), s.Defs["modtager"].Enum)
	checkVocab(t, "purpose", purposes, record.Purposes(), s.Defs["formaal"].Enum)
	checkVocab(t, "kinship", kinships, record.Kinships(), prop("relation", "slaegtskab"))
	checkVocab(t, "guardian relation", guardianRelations, record.GuardianRelations(), prop("vaerge", "relation"))
	checkVocab(t, "given by", givenBys, record.GivenBys(), prop("samtykke", "givetAf"))
	checkVocab(t, "method", methods, record.ConsentMethods(), prop("indhentet", "metode"))
	checkVocab(t, "reason", reasons, record.WithdrawalReasons(), prop("tilbagetraekning", "aarsag"))
}

// TestSourcePath checks the mapping of common pointers back to the source.
func TestSourcePath(t *testing.T) {
	tests := []struct {
		common, want string
		ok           bool
	}{
		{"", "", true},
		{"/person/cpr", "/person/cprNummer", true},
		{"/consent/follow_up/grants", "/samtykke/opfoelgning/tilladelser", true},
		{"/consent/follow_up/grants/3", "/samtykke/opfoelgning/tilladelser/3", true},
		{"/consent/follow_up/grants/1/recipient", "/samtykke/opfoelgning/tilladelser/1/modtager", true},
		{"/consent/follow_up/grants/0/channels", "/samtykke/opfoelgning/tilladelser/0/kanaler", true},
		{"/consent/follow_up/grants/4/purposes/2", "/samtykke/opfoelgning/tilladelser/4/formaal/2", true},
		{"/consent/follow_up/grants/1/unknown", "/samtykke/opfoelgning/tilladelser/1", false},
		{"/consent/guardian/phone", "/samtykke/vaerge/telefon", true},
		{"/relation/affected/cpr", "/relation/beroertPerson/cprNummer", true},
		{"/consent/obtained/by/role", "/samtykke/indhentet/rolle", true},
		{"/consent/obtained/by", "/samtykke/indhentet/myndighed", true},
		{"/person/address/unknown", "/person/adresse", false},
		{"/nothing", "", false},
	}
	for _, tt := range tests {
		got, ok := sourcePath(recordPaths, tt.common)
		if got != tt.want || ok != tt.ok {
			t.Errorf("sourcePath(%q) = %q, %v; want %q, %v", tt.common, got, ok, tt.want, tt.ok)
		}
	}
}

// TestRecordPathsCoverTheRecord checks that the mapping table names every
// member of the common record type, found by encoding a record with every
// member set.
func TestRecordPathsCoverTheRecord(t *testing.T) {
	for _, fp := range recordPaths {
		if fp.common == "" {
			t.Error("empty common pointer")
		}
	}
	// Every JSON member name of the common record types appears in the table.
	members := map[string]bool{}
	for _, fp := range recordPaths {
		members[fp.common] = true
	}
	for _, want := range commonMembers(t) {
		if !members[want] {
			t.Errorf("the mapping table lacks %s", want)
		}
	}
}

// commonMembers lists the JSON Pointer of every member of record.Record,
// walking its Go type (json tags), so that a member added to the common
// record fails this package's tests until the format carries it.
func commonMembers(t *testing.T) []string {
	t.Helper()
	var out []string
	var walk func(rt reflect.Type, prefix string)
	walk = func(rt reflect.Type, prefix string) {
		for rt.Kind() == reflect.Pointer || rt.Kind() == reflect.Slice {
			rt = rt.Elem()
		}
		if rt.Kind() != reflect.Struct || rt == reflect.TypeFor[time.Time]() || rt == reflect.TypeFor[record.Date]() {
			return
		}
		for i := range rt.NumField() {
			f := rt.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" || name == "-" {
				continue
			}
			p := prefix + "/" + name
			out = append(out, p)
			walk(f.Type, p)
		}
	}
	walk(reflect.TypeFor[record.Record](), "")
	if len(out) < 40 {
		t.Fatalf("found only %d members", len(out))
	}
	return out
}
