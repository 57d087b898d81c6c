package consent

import (
	_ "embed"
	"fmt"
)

// defaultPolicy is the policy the gateway runs with unless configured
// otherwise. POLICY.md explains every rule of it.
//
//go:embed policy/default.v1.json
var defaultPolicy []byte

// DefaultJSON returns a copy of the default policy document, e.g. for an
// operator to start an edited policy from.
func DefaultJSON() []byte { return append([]byte(nil), defaultPolicy...) }

// Default loads the default policy, the rules of ../shared/DESIGN.md
// section 4 as Danish practice expects them.
func Default() (*Policy, error) {
	p, err := Load(defaultPolicy)
	if err != nil {
		return nil, fmt.Errorf("default policy: %w", err)
	}
	return p, nil
}
