package refdata_test

import (
	"fmt"
	"time"

	"github.com/psykosocial/exchange/internal/refdata"
)

func ExampleData_RegionOf() {
	// Without configuration, Region Østdanmark has no code yet.
	d, err := refdata.Load(refdata.Config{})
	if err != nil {
		panic(err)
	}
	code, err := refdata.NormalizeMunicipalityCode("101")
	if err != nil {
		panic(err)
	}
	for _, at := range []time.Time{
		time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC),
	} {
		r, _ := d.RegionOf(code, at)
		fmt.Printf("%s %s: %q %s (code configured: %v)\n", code, at.Format(time.DateOnly), r.Code, r.Name, r.CodeConfigured)
	}
	_, ok := d.RegionOf(refdata.OutsideMunicipalDivision, time.Now())
	fmt.Println("0411 has a region:", ok)
	// Output:
	// 0101 2026-06-01: "1084" Region Hovedstaden (code configured: true)
	// 0101 2027-06-01: "" Region Østdanmark (code configured: false)
	// 0411 has a region: false
}
