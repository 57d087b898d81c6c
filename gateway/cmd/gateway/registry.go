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
	reg, err := region.New(v)
	if err != nil {
		return nil, err
	}
	muni, err := municipality.New(v)
	if err != nil {
		return nil, err
	}
	pol, err := police.New(v)
	if err != nil {
		return nil, err
	}
	return adapters.NewRegistry(common.New(v), reg, muni, pol)
}
