package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/psykosocial/exchange/internal/clock"
)

// asGatewayEnv makes the test binary the gateway binary: gateway bench
// starts "serve --dev" as a child process, and the test's child is this
// binary with this variable set (no separate build).
const asGatewayEnv = "GATEWAY_TEST_RUN_AS_GATEWAY"

func TestMain(m *testing.M) {
	if os.Getenv(asGatewayEnv) == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := run(ctx, &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, clock: clock.System(), getenv: os.Getenv}, os.Args[1:])
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// TestBenchDeliversEveryRecordOnce runs gateway bench briefly against the
// serve --dev it starts (a child process, over mutual TLS) and checks the
// report: every submitted record accepted, delivered to every recipient the
// gateway decided on and acknowledged exactly once (by the records' status
// and the pullers' counts), and every figure present. No timing is asserted.
func TestBenchDeliversEveryRecordOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("starts serve --dev with a new development PKI")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	out := &syncBuffer{}
	e := &env{stdin: strings.NewReader(""), stdout: out, stderr: out, clock: clock.System(),
		getenv: func(string) string { return "" }}
	const messages = 30 // two cycles of the default mix
	o := benchOptions{duration: 2 * time.Minute, messages: messages, clients: 3, mix: benchDefaultMix, policeList: 10,
		store: "sqlite", serveBin: exe, cryptoSample: 15, cryptoTime: 100 * time.Millisecond, drainTimeout: time.Minute,
		verify: true, verifyMax: 1000, serveEnv: []string{asGatewayEnv + "=1"}}
	rep, err := bench(context.Background(), e, o)
	if rep != nil {
		rep.print(out)
	}
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, out)
	}
	t.Log(out.String())

	records := 2 * (10 + 4 + 10)
	switch {
	case rep.Messages != messages || rep.Records != records || rep.Accepted != records:
		t.Errorf("%d messages, %d records, %d accepted; want %d, %d, %d", rep.Messages, rep.Records, rep.Accepted, messages, records, records)
	case rep.MessagesByKind[benchRegion] != 20 || rep.MessagesByKind[benchMunicipality] != 8 || rep.MessagesByKind[benchPolice] != 2:
		t.Errorf("messages by kind %v, want region 20, municipality 8, police 2", rep.MessagesByKind)
	case rep.Rejected != 0 || rep.Errors != 0:
		t.Errorf("%d rejected, %d errors: %v", rep.Rejected, rep.Errors, rep.FirstErrors)
	}
	// Every record reaches at least its residence municipality.
	if rep.Deliveries < records || rep.Acknowledged != rep.Deliveries {
		t.Errorf("%d deliveries, %d acknowledged, for %d records", rep.Deliveries, rep.Acknowledged, records)
	}
	v := rep.Verified
	if v == nil {
		t.Fatal("no verification")
	}
	if !v.OK || v.Sampled || v.MailboxDepth != 0 || v.Records != records || v.Recipients != rep.Deliveries || v.Delivered != rep.Deliveries ||
		v.Queued+v.Missing+v.Unexpected+v.Redelivered+v.AckedTwice+v.Unacked != 0 {
		t.Errorf("verified %+v, with %d deliveries", *v, rep.Deliveries)
	}
	if rep.Intake.N != messages || rep.Delivery.N != rep.Deliveries || len(rep.IntakeByKind) != 3 {
		t.Errorf("latencies of %d messages (%d kinds) and %d deliveries", rep.Intake.N, len(rep.IntakeByKind), rep.Delivery.N)
	}
	for _, l := range append([]benchLatency{rep.Intake, rep.Delivery}, rep.IntakeByKind[benchPolice]) {
		if !(l.P50 <= l.P95 && l.P95 <= l.P99 && l.P99 <= l.Max) || l.Max <= 0 {
			t.Errorf("percentiles out of order: %+v", l)
		}
	}
	if !rep.StartedServe || rep.ServePID == 0 || rep.Serve == nil || rep.Serve.CPUTotal <= 0 || rep.Serve.AllocObjects <= 0 ||
		!strings.HasPrefix(rep.Serve.From, "/proc/") || rep.Bench.CPUTotal <= 0 || rep.Bench.AllocObjects <= 0 {
		t.Errorf("the cost figures are incomplete: serve %+v, bench %+v", rep.Serve, rep.Bench)
	}
	if !strings.HasPrefix(rep.Store, "sqlite") || rep.Machine.Cores < 1 || rep.Mailboxes < 100 {
		t.Errorf("store %q, %d cores, %d mailboxes", rep.Store, rep.Machine.Cores, rep.Mailboxes)
	}
	c := rep.Crypto
	if c == nil || c.Messages != 15 || c.Records < c.Messages || c.Deliveries < c.Records || c.SingleRate <= 0 || c.ParallelRate <= 0 ||
		rep.RatioToCrypto <= 0 {
		t.Fatalf("crypto floor %+v, ratio %v", c, rep.RatioToCrypto)
	}
	for _, s := range cryptoSteps {
		if c.PerRecordMicros[s] <= 0 {
			t.Errorf("crypto step %q: %v µs", s, c.PerRecordMicros[s])
		}
	}
	for _, want := range []string{"end to end", "records/s", "p99", "crypto only", "ratio       end to end / crypto only", "verified    OK"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	// The JSON form carries the same.
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var back benchReport
	if err := json.Unmarshal(b, &back); err != nil || back.Accepted != rep.Accepted || back.Verified == nil || !back.Verified.OK ||
		back.Crypto == nil || back.RatioToCrypto != rep.RatioToCrypto {
		t.Errorf("the JSON report does not round-trip: %v", err)
	}
	if _, err := os.Stat(rep.Data); !os.IsNotExist(err) {
		t.Errorf("the temporary data directory %s is still there (%v)", rep.Data, err)
	}
}

func TestBenchUsage(t *testing.T) {
	for _, args := range [][]string{
		{"-clients", "0"},
		{"-duration", "0s"},
		{"-police-list", "1001"},
		{"-verify-max", "0"},
		{"-target", "https://127.0.0.1:8443"}, // without -data
		{"-target", "https://127.0.0.1:8443", "-data", "d", "-cpuprofile", "p"},
		{"extra"},
	} {
		out := &syncBuffer{}
		if code := run(context.Background(), &env{stdout: out, stderr: out, clock: clock.System()}, append([]string{"bench"}, args...)); code != exitUsage {
			t.Errorf("bench %v: exit %d, want %d: %s", args, code, exitUsage, out)
		}
	}
}

func TestParseBenchMix(t *testing.T) {
	for _, c := range []struct {
		in      string
		seq     string
		records int
		bad     string
	}{
		{in: benchDefaultMix, records: 64},
		{in: "region=2,police=1", seq: "region,police,region", records: 52},
		{in: "municipality=1", seq: "municipality", records: 1},
		{in: "region=0,police=0", bad: "every weight is 0"},
		{in: "region=1,region=2", bad: "given twice"},
		{in: "ambulance=1", bad: "not region, municipality or police"},
		{in: "region", bad: "not KIND=WEIGHT"},
		{in: "region=-1", bad: "not 0 to 1000"},
	} {
		m, err := parseBenchMix(c.in)
		if c.bad != "" {
			if err == nil || !strings.Contains(err.Error(), c.bad) {
				t.Errorf("%q: %v, want %q", c.in, err, c.bad)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%q: %v", c.in, err)
		}
		if c.seq != "" && strings.Join(m.seq, ",") != c.seq {
			t.Errorf("%q: cycle %v, want %s", c.in, m.seq, c.seq)
		}
		if n := m.recordsPerCycle(50); n != c.records {
			t.Errorf("%q: %d records per cycle, want %d", c.in, n, c.records)
		}
	}
	// The default cycle spreads the police list and the municipal
	// registrations among the regional records.
	m, _ := parseBenchMix(benchDefaultMix)
	if i := slices.Index(m.seq, benchPolice); len(m.seq) != 15 || i < 3 || i > 11 {
		t.Errorf("default cycle %v", m.seq)
	}
}

func TestLatencyOf(t *testing.T) {
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	l := latencyOf(ds)
	if l.N != 100 || l.P50 != 50 || l.P95 != 95 || l.P99 != 99 || l.Max != 100 {
		t.Errorf("%+v", l)
	}
	if l := latencyOf(nil); l.N != 0 || l.Max != 0 {
		t.Errorf("empty: %+v", l)
	}
}

func TestProcCPUAndMetrics(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	cpu, err := procCPU(os.Getpid())
	if err != nil || cpu < 0 {
		t.Fatalf("procCPU: %v, %v", cpu, err)
	}
	if _, err := procCPU(-1); err == nil {
		t.Error("the CPU time of no process")
	}
	base, metricsURL := parseServeBanner("gateway DEVELOPMENT mode: ...\nlistening on https://127.0.0.1:4443 (mutual TLS ...)\noperator metrics on http://127.0.0.1:9999/metrics\n")
	if base != "https://127.0.0.1:4443" || metricsURL != "http://127.0.0.1:9999/metrics" {
		t.Errorf("banner: %q %q", base, metricsURL)
	}
	page := "# HELP x\n# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total 12.5\n" +
		"go_memstats_mallocs_total 3e+06\ngateway_mailbox_depth{recipient_kind=\"region\"} 2\n" +
		"gateway_mailbox_depth{recipient_kind=\"municipality\"} 5\n"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, page) }))
	defer srv.Close()
	m, err := scrapeMetrics(context.Background(), srv.URL)
	if err != nil || m["process_cpu_seconds_total"] != 12.5 || m["go_memstats_mallocs_total"] != 3e6 || m["sum:gateway_mailbox_depth"] != 7 {
		t.Errorf("metrics %v, %v", m, err)
	}
}
