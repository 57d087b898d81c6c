package gateway

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// openAPI is what the route test reads of schemas/openapi.yaml.
type openAPI struct {
	OpenAPI      string                          `yaml:"openapi"`
	Paths        map[string]map[string]yaml.Node `yaml:"paths"`
	ProblemTypes []struct {
		Name   string `yaml:"name"`
		Status int    `yaml:"status"`
		Title  string `yaml:"title"`
	} `yaml:"x-problem-types"`
}

func readOpenAPI(t *testing.T) openAPI {
	t.Helper()
	b, err := os.ReadFile("../schemas/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc openAPI
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1.") {
		t.Fatalf("openapi %q, want 3.1.x", doc.OpenAPI)
	}
	return doc
}

// TestRoutesMatchOpenAPI checks every registered route against
// schemas/openapi.yaml and every documented operation against the routes.
func TestRoutesMatchOpenAPI(t *testing.T) {
	doc := readOpenAPI(t)
	methods := map[string]bool{"get": true, "put": true, "post": true, "delete": true, "options": true, "head": true, "patch": true, "trace": true}
	documented := map[string]bool{}
	for path, item := range doc.Paths {
		for m := range item {
			if methods[m] {
				documented[strings.ToUpper(m)+" "+path] = true
			}
		}
	}
	registered := map[string]bool{}
	for _, rt := range append(append([]route(nil), publicRoutes...), operatorRoutes...) {
		registered[rt.method+" "+rt.path] = true
	}
	for r := range registered {
		if !documented[r] {
			t.Errorf("route %s is not in schemas/openapi.yaml", r)
		}
	}
	for d := range documented {
		if !registered[d] {
			t.Errorf("schemas/openapi.yaml documents %s, which the gateway does not serve", d)
		}
	}
}

// TestProblemCatalogueMatchesOpenAPI checks the catalogue both ways.
func TestProblemCatalogueMatchesOpenAPI(t *testing.T) {
	doc := readOpenAPI(t)
	var inDoc, inGo []string
	for _, p := range doc.ProblemTypes {
		inDoc = append(inDoc, fmt.Sprintf("%s %d %q", p.Name, p.Status, p.Title))
	}
	for _, p := range ProblemTypes() {
		inGo = append(inGo, fmt.Sprintf("%s %d %q", p.Name, p.Status, p.Title))
	}
	sort.Strings(inDoc)
	sort.Strings(inGo)
	if strings.Join(inDoc, "\n") != strings.Join(inGo, "\n") {
		t.Errorf("x-problem-types in schemas/openapi.yaml differ from the catalogue:\nopenapi:\n%s\ngo:\n%s",
			strings.Join(inDoc, "\n"), strings.Join(inGo, "\n"))
	}
}
