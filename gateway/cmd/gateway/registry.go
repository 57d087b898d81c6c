package main

import (
	"github.com/psykosocial/exchange/adapters"
	"github.com/psykosocial/exchange/adapters/common"
	"github.com/psykosocial/exchange/adapters/municipality"
	"github.com/psykosocial/exchange/adapters/police"
	"github.com/psykosocial/exchange/adapters/region"
	"github.com/psykosocial/exchange/internal/record"
)

// newRegistry registers every authority format explicitly, in the order
// Detect tries them.
func newRegistry(v *record.Validator) (*adapters.Registry, error) {
	muni, err := municipality.New(v, municipality.Options{})
	if err != nil {
		return nil, err
	}
	return adapters.NewRegistry(
		common.New(v),
		region.New(v),
		muni,
		police.New(v),
	)
}
