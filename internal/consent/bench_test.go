package consent_test

import (
	"testing"
	"time"

	"github.com/psykosocial/exchange/internal/directory"
	"github.com/psykosocial/exchange/internal/refdata"
)

// BenchmarkRouteAndEvaluate routes one record against the full national
// directory (98 municipalities, 5 regions, 12 police districts) and
// evaluates the default policy for every candidate, views included: the
// work the gateway does per record between validation and encoding.
//
//	go test -run='^$' -bench=RouteAndEvaluate -benchmem ./internal/consent/
func BenchmarkRouteAndEvaluate(b *testing.B) {
	e := newEnv(b, refdata.Config{})
	ref, err := refdata.Load(refdata.Config{})
	if err != nil {
		b.Fatal(err)
	}
	if n := len(directory.Generate(ref, june).Authorities); n != 115 {
		b.Fatalf("the national directory has %d authorities, want 115", n)
	}
	for _, bc := range []struct {
		name, record, sender string
		at                   time.Time
	}{
		{"aarhus-resident-hurt-in-copenhagen", "aarhus-resident-hurt-in-copenhagen", "region:1084", june},
		{"police-list-without-consent", "police-list-without-consent", "police:nordjylland", time.Date(2026, 11, 2, 19, 0, 0, 0, cet)},
		{"witness-who-refused-follow-up", "witness-who-refused-follow-up", "region:1082", time.Date(2026, 9, 3, 12, 0, 0, 0, cest)},
	} {
		rec := example(b, bc.record)
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				res, err := e.router.Route(rec, bc.sender, bc.at)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := e.policy.Evaluate(rec, res.Candidates, bc.at); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRoute and BenchmarkEvaluate split the work of one record.
func BenchmarkRoute(b *testing.B) {
	e := newEnv(b, refdata.Config{})
	rec := example(b, "aarhus-resident-hurt-in-copenhagen")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.router.Route(rec, "region:1084", june); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEvaluate is the consent half of BenchmarkRouteAndEvaluate.
func BenchmarkEvaluate(b *testing.B) {
	e := newEnv(b, refdata.Config{})
	rec := example(b, "aarhus-resident-hurt-in-copenhagen")
	res, err := e.router.Route(rec, "region:1084", june)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.policy.Evaluate(rec, res.Candidates, june); err != nil {
			b.Fatal(err)
		}
	}
}
