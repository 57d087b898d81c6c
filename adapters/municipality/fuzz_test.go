package municipality

import (
	"path/filepath"
	"testing"

	"github.com/psykosocial/exchange/adapters"
	"github.com/psykosocial/exchange/adapters/adaptertest"
	"github.com/psykosocial/exchange/internal/record"
)

// FuzzDecode checks the shared adapter properties (adaptertest.CheckDecode)
// for any input, seeded with every example and with the common examples
// encoded in the format.
func FuzzDecode(f *testing.F) {
	seeds, err := adaptertest.Seeds(filepath.Join(validDir, "*.xml"), filepath.Join(invalidDir, "*.xml"))
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range seeds {
		f.Add(s)
	}
	h := harness(f)
	for _, p := range exampleFiles(f, commonExamplesDir, ".json") {
		r, err := record.Decode(readFile(f, p))
		if err != nil {
			f.Fatal(err)
		}
		out, err := h.Adapter.Encode(&adapters.Message{Kind: adapters.KindRegistration, Header: testHeader(), Items: []adapters.Item{{Record: r}}})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(out)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := h.CheckDecode(data); err != nil {
			t.Fatal(err)
		}
	})
}
