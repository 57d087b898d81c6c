package sqlite_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/psykosocial/exchange/internal/store"
	"github.com/psykosocial/exchange/internal/store/sqlite"
	"github.com/psykosocial/exchange/internal/testenv/storetest"
)

// db is one SQLite database file in a temporary directory.
type db struct{ path string }

func newDB(t testing.TB) storetest.DB {
	return &db{path: filepath.Join(t.TempDir(), "gateway.db")}
}

func (d *db) Open(t testing.TB) store.Backend {
	t.Helper()
	b, err := sqlite.Open(context.Background(), d.path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// Find searches every file of the database (the main file, the WAL and
// its index) byte for byte.
func (d *db) Find(t testing.TB, needles [][]byte) []string {
	t.Helper()
	files, err := filepath.Glob(d.path + "*")
	if err != nil {
		t.Fatal(err)
	}
	var sawWAL bool
	var found []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Ext(f) == ".db-wal" && len(b) > 0 {
			sawWAL = true
		}
		for _, n := range needles {
			if bytes.Contains(b, n) {
				found = append(found, filepath.Base(f)+": "+string(n))
			}
		}
	}
	if !sawWAL {
		t.Errorf("no WAL among %v: the search must include it", files)
	}
	return found
}

func TestStore(t *testing.T) { storetest.Run(t, newDB) }
