package municipality

import (
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/psykosocial/exchange/adapters"
	"github.com/psykosocial/exchange/internal/clock"
	"github.com/psykosocial/exchange/internal/record"
	"github.com/psykosocial/exchange/internal/refdata"
)

// The repository paths the tests read.
var (
	schemaPath        = filepath.Join("..", "..", "schemas", SchemaFile)
	validDir          = filepath.Join("..", "..", "schemas", "examples", "municipality", "valid")
	invalidDir        = filepath.Join("..", "..", "schemas", "examples", "municipality", "invalid")
	commonExamplesDir = filepath.Join("..", "..", "schemas", "examples", "registration", "valid")
)

// fixedNow is the clock of every test.
func fixedNow() time.Time { return time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC) }

func newValidator(tb testing.TB) *record.Validator {
	tb.Helper()
	return newValidatorAt(tb, fixedNow())
}

// newValidatorAt is a validator whose clock stands at at.
func newValidatorAt(tb testing.TB, at time.Time) *record.Validator {
	tb.Helper()
	ref, err := refdata.Load(refdata.Config{})
	if err != nil {
		tb.Fatalf("refdata.Load: %v", err)
	}
	return record.NewValidator(ref, clock.Fixed(at))
}

func newAdapter(tb testing.TB) *Adapter {
	tb.Helper()
	return newAdapterAt(tb, fixedNow())
}

// newAdapterAt is an adapter whose validator's clock stands at at.
func newAdapterAt(tb testing.TB, at time.Time) *Adapter {
	tb.Helper()
	a, err := New(newValidatorAt(tb, at))
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	return a
}

// exampleFiles returns the sorted paths of the files in dir with the extension ext.
func exampleFiles(tb testing.TB, dir, ext string) []string {
	tb.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatalf("read %s: %v", dir, err)
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() && filepath.Ext(e.Name()) == ext {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	sort.Strings(out)
	if len(out) == 0 {
		tb.Fatalf("no %s files in %s", ext, dir)
	}
	return out
}

func readFile(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// testHeader is a header for messages the tests encode.
func testHeader() *adapters.Header {
	return &adapters.Header{
		MessageID:       "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0",
		Sender:          "gateway",
		Recipient:       "municipality:0851",
		IssuedAt:        time.Date(2026, 11, 25, 11, 0, 0, 0, time.UTC),
		ExpiresAt:       time.Date(2026, 12, 2, 11, 0, 0, 0, time.UTC),
		SenderReference: "gw-test-0001",
	}
}

// canonical returns the canonical JSON of r, failing the test on error.
func canonical(tb testing.TB, r *record.Record) string {
	tb.Helper()
	b, err := record.MarshalCanonical(r)
	if err != nil {
		tb.Fatalf("MarshalCanonical: %v", err)
	}
	return string(b)
}
