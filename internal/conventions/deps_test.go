package conventions

import (
	"os"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/semver"
)

// minimums are the lowest versions without a known advisory, from
// SECURITY.md. The vulnerability database cannot be reached from the build
// machines, so this table is how the minimums are kept honest: raise it when
// an advisory is published.
var minimums = map[string]string{
	"github.com/go-jose/go-jose/v4":            "v4.1.9", // v4.1.4-v4.1.6: panics on hostile JWE, jwk private keys, CEK size
	"github.com/russellhaering/goxmldsig":      "v1.6.1", // v1.6.0: wrong Reference decided the digest; v1.6.1: C14N DoS
	"github.com/beevik/etree":                  "v1.7.0", // deep-nesting crash, XML injection on write, path panic
	"github.com/santhosh-tekuri/jsonschema/v6": "v6.0.1",
}

// requiredModules must be in go.mod once the part that uses them exists;
// listed here so that a removal is noticed.
var requiredModules = []string{
	"github.com/go-jose/go-jose/v4",
	"github.com/beevik/etree",
	"github.com/russellhaering/goxmldsig",
}

const minGo = "v1.26.6" // encoding/xml depth fix

func TestDependencyMinimums(t *testing.T) {
	data, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	f, err := modfile.Parse("go.mod", data, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range f.Require {
		got[r.Mod.Path] = r.Mod.Version
	}
	for _, r := range f.Replace {
		if _, watched := minimums[r.Old.Path]; watched {
			t.Errorf("go.mod replaces %s: a replace hides the version this test checks", r.Old.Path)
		}
	}
	for path, min := range minimums {
		v, ok := got[path]
		if !ok {
			continue
		}
		if semver.Compare(v, min) < 0 {
			t.Errorf("%s is %s, below the minimum %s (SECURITY.md)", path, v, min)
		}
	}
	for _, path := range requiredModules {
		if _, ok := got[path]; !ok {
			t.Errorf("go.mod lacks the required dependency %s", path)
		}
	}
}

func TestGoToolchainMinimum(t *testing.T) {
	v := runtime.Version() // "go1.26.8" or "devel ..."
	if !strings.HasPrefix(v, "go") {
		t.Skipf("development toolchain %q", v)
	}
	if semver.Compare("v"+strings.TrimPrefix(v, "go"), minGo) < 0 {
		t.Errorf("built with %s, below the minimum go%s (encoding/xml depth fix)", v, strings.TrimPrefix(minGo, "v"))
	}
}
