package conventions

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/psykosocial/exchange"

// pkg is what the tests need to know of one package directory.
type pkg struct {
	dir       string
	hasDoc    bool
	imports   map[string]bool // production files only
	isCommand bool
}

func loadPackages(t *testing.T) map[string]*pkg {
	t.Helper()
	pkgs := map[string]*pkg{}
	fset := token.NewFileSet()
	err := filepath.WalkDir("../..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path != "../.." && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules") {
				return filepath.SkipDir
			}
			if path != "../.." {
				if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
					return filepath.SkipDir // a nested module is checked by its own tests
				}
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ParseComments|parser.ImportsOnly)
		if err != nil {
			return err
		}
		dir := filepath.ToSlash(filepath.Dir(path))
		p := pkgs[dir]
		if p == nil {
			p = &pkg{dir: dir, imports: map[string]bool{}}
			pkgs[dir] = p
		}
		if f.Doc != nil && strings.TrimSpace(f.Doc.Text()) != "" {
			p.hasDoc = true
		}
		p.isCommand = f.Name.Name == "main"
		for _, imp := range f.Imports {
			v, _ := strconv.Unquote(imp.Path.Value)
			p.imports[v] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) < 5 {
		t.Fatalf("found only %d packages; is the test running from internal/conventions?", len(pkgs))
	}
	return pkgs
}

func TestEveryPackageHasADocComment(t *testing.T) {
	for dir, p := range loadPackages(t) {
		if !p.hasDoc {
			t.Errorf("package in %s has no package doc comment", dir)
		}
	}
}

func TestImportDirection(t *testing.T) {
	for dir, p := range loadPackages(t) {
		rel := strings.TrimPrefix(dir, "../../")
		for imp := range p.imports {
			switch {
			case imp == "testing" || strings.HasPrefix(imp, "testing/"):
				if !strings.Contains(rel, "testenv") {
					t.Errorf("%s imports %s in production code", rel, imp)
				}
			case (strings.HasPrefix(rel, "adapters") || strings.HasPrefix(rel, "internal") || strings.HasPrefix(rel, "certs")) &&
				strings.HasPrefix(imp, module+"/gateway"):
				t.Errorf("%s imports the service (%s): the domain parts must not depend on it", rel, imp)
			case rel == "schemas" && strings.HasPrefix(imp, module):
				t.Errorf("schemas imports %s: it must stay a leaf", imp)
			case strings.HasPrefix(rel, "internal") && strings.HasPrefix(imp, module+"/adapters/"):
				t.Errorf("%s imports a specific adapter (%s): internal parts use the adapters interface only", rel, imp)
			}
		}
	}
}
