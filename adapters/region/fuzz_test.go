package region_test

import (
	"testing"

	"github.com/psykosocial/exchange/adapters/adaptertest"
)

// FuzzDecode checks the shared adapter properties (adaptertest.CheckDecode)
// for any input, seeded with every example.
func FuzzDecode(f *testing.F) {
	seeds, err := adaptertest.Seeds(validFiles, invalidFiles)
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Add([]byte(`{"meddelelsestype":"epc-registrering/v1","registreringer":[null,{},[],"",1]}`))
	h := harness(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := h.CheckDecode(data); err != nil {
			t.Fatal(err)
		}
	})
}
