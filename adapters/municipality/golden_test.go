package municipality

import (
	"flag"
	"path/filepath"
	"testing"

	"github.com/psykosocial/exchange/adapters/adaptertest"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/*.json from the current output")

// harness is the municipal format in the shared adapter harness.
func harness(tb testing.TB) adaptertest.Format {
	tb.Helper()
	return adaptertest.Format{Adapter: newAdapter(tb), Examples: filepath.Join(validDir, "*.xml"),
		Golden: filepath.Join("testdata", "golden"), Header: true}
}

// TestGolden decodes every valid example and compares it with its golden
// file (testdata/golden; -update rewrites them), and sends the records
// back through Encode and Decode.
func TestGolden(t *testing.T) {
	adaptertest.Golden(t, harness(t), *update)
}
