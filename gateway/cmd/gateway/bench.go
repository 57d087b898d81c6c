package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/psykosocial/exchange/certs"
	"github.com/psykosocial/exchange/internal/directory"
	"github.com/psykosocial/exchange/internal/record"
	"github.com/psykosocial/exchange/internal/refdata"
)

// benchOptions are the flags of gateway bench.
type benchOptions struct {
	duration     time.Duration
	messages     int
	clients      int
	rate         float64
	mix          string
	policeList   int
	store        string
	target, data string
	serveBin     string
	cpuProfile   string
	cryptoSample int
	cryptoTime   time.Duration
	drainTimeout time.Duration
	verify       bool
	verifyMax    int
	jsonOut      bool
	keep         bool
	// serveEnv is the child serve's environment (tests add to it).
	serveEnv []string
}

// runBench is "gateway bench": load a real serve --dev over mutual TLS
// with a realistic mix, and measure the same records' cryptographic work
// alone.
func runBench(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	o := benchOptions{}
	fs.DurationVar(&o.duration, "duration", 30*time.Second, "how long the clients submit")
	fs.IntVar(&o.messages, "messages", 0, "stop after `N` messages (0: only -duration bounds the run)")
	fs.IntVar(&o.clients, "clients", 4, "concurrent submitting clients")
	fs.Float64Var(&o.rate, "rate", 0, "submit at most `R` records/s on average (0: as fast as the clients go, a closed loop)")
	fs.StringVar(&o.mix, "mix", benchDefaultMix, "the mix in messages: `KIND=WEIGHT,...` of region (one JSON record), municipality (one XML registration), police (a list of -police-list)")
	fs.IntVar(&o.policeList, "police-list", 50, "persons per police list")
	fs.StringVar(&o.store, "store", "sqlite", "the store of the serve bench starts: sqlite or postgres")
	fs.StringVar(&o.target, "target", "", "the `URL` of a running serve --dev (with -data); empty: bench starts one in a temporary data directory")
	fs.StringVar(&o.data, "data", "", "the data `DIR` of the serve at -target (its development PKI)")
	fs.StringVar(&o.serveBin, "serve-bin", "", "the gateway binary bench starts (default: this one)")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write the CPU profile of the serve bench starts to `FILE` (go tool pprof -top FILE)")
	fs.IntVar(&o.cryptoSample, "crypto-sample", 30, "the crypto floor's sample: the first `N` messages of the run and their deliveries")
	fs.DurationVar(&o.cryptoTime, "crypto-time", 3*time.Second, "how long each crypto measurement (one goroutine, then one per core) runs at least")
	fs.DurationVar(&o.drainTimeout, "drain-timeout", 2*time.Minute, "how long after the last submission the mailboxes must be empty")
	fs.BoolVar(&o.verify, "verify", true, "afterwards check that every accepted record was delivered and acknowledged exactly once: its status, the pullers' counts, serve's mailbox depth")
	fs.IntVar(&o.verifyMax, "verify-max", 1000, "read the status of at most `N` records, evenly spread (each status read costs serve a journal query)")
	fs.BoolVar(&o.jsonOut, "json", false, "print the report as JSON")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary data directory (its serve.log and gateway.db)")
	usage := "usage: gateway bench [-duration D] [-messages N] [-clients N] [-rate R] [-mix KIND=W,...] [-store sqlite|postgres]\n" +
		"                     [-target URL -data DIR] [-cpuprofile FILE] [-json]"
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		fmt.Fprintln(e.stderr, usage)
		return exitUsage
	}
	switch {
	case o.duration <= 0 || o.clients < 1 || o.clients > 256 || o.messages < 0 || o.rate < 0:
		fmt.Fprintln(e.stderr, "gateway bench: -duration must be positive, -clients 1 to 256, -messages and -rate not negative")
		return exitUsage
	case o.policeList < 1 || o.policeList > 1000:
		fmt.Fprintln(e.stderr, "gateway bench: -police-list is 1 to 1000")
		return exitUsage
	case (o.target == "") != (o.data == ""):
		fmt.Fprintln(e.stderr, "gateway bench: -target and -data go together")
		return exitUsage
	case o.target != "" && o.cpuProfile != "":
		fmt.Fprintln(e.stderr, "gateway bench: -cpuprofile profiles the serve bench starts; without -target")
		return exitUsage
	case o.cryptoSample < 1 || o.verifyMax < 1:
		fmt.Fprintln(e.stderr, "gateway bench: -crypto-sample and -verify-max are at least 1")
		return exitUsage
	}
	rep, err := bench(ctx, e, o)
	if rep != nil {
		if o.jsonOut {
			enc := json.NewEncoder(e.stdout)
			enc.SetIndent("", "  ")
			_ = enc.Encode(rep)
		} else {
			rep.print(e.stdout)
		}
	}
	if err != nil {
		fmt.Fprintln(e.stderr, "gateway bench:", err)
		return exitFailure
	}
	return exitOK
}

// benchLatency are percentiles of one latency, in milliseconds.
type benchLatency struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50_ms"`
	P95 float64 `json:"p95_ms"`
	P99 float64 `json:"p99_ms"`
	Max float64 `json:"max_ms"`
}

// latencyOf is the percentiles of ds (nearest rank).
func latencyOf(ds []time.Duration) benchLatency {
	l := benchLatency{N: len(ds)}
	if len(ds) == 0 {
		return l
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	at := func(p float64) float64 {
		i := int(math.Ceil(p*float64(len(ds)))) - 1
		return float64(ds[max(i, 0)]) / float64(time.Millisecond)
	}
	l.P50, l.P95, l.P99, l.Max = at(0.50), at(0.95), at(0.99), at(1)
	return l
}

// benchPerRecord is one process's CPU time and allocations per record.
type benchPerRecord struct {
	// From says where the CPU time was read.
	From     string  `json:"from"`
	CPUMs    float64 `json:"cpu_ms_per_record"`
	CPUTotal float64 `json:"cpu_seconds"`
	// AllocKiB and AllocObjects per record (-1: unknown).
	AllocKiB     float64 `json:"alloc_kib_per_record"`
	AllocObjects float64 `json:"alloc_objects_per_record"`
}

func perRecord(u benchUsage, records int, from string) benchPerRecord {
	p := benchPerRecord{From: from, CPUTotal: u.CPU.Seconds(), AllocKiB: -1, AllocObjects: -1}
	if records == 0 {
		return p
	}
	p.CPUMs = float64(u.CPU) / float64(time.Millisecond) / float64(records)
	if u.AllocBytes >= 0 {
		p.AllocKiB, p.AllocObjects = u.AllocBytes/1024/float64(records), u.AllocObjects/float64(records)
	}
	return p
}

// benchReport is what a run measured.
type benchReport struct {
	Machine benchMachine `json:"machine"`
	Target  string       `json:"target"`
	// StartedServe: bench started serve --dev itself (pid).
	StartedServe bool    `json:"started_serve"`
	ServePID     int     `json:"serve_pid,omitempty"`
	Store        string  `json:"store"`
	Mix          string  `json:"mix"`
	PoliceList   int     `json:"police_list"`
	Clients      int     `json:"clients"`
	Rate         float64 `json:"rate_limit_records_per_second,omitempty"`
	Mailboxes    int     `json:"mailboxes"`
	// LoadSeconds is from the first submission to the last answer;
	// EndToEndSeconds to the last acknowledgement.
	LoadSeconds     float64 `json:"load_seconds"`
	EndToEndSeconds float64 `json:"end_to_end_seconds"`

	Messages       int            `json:"messages"`
	MessagesByKind map[string]int `json:"messages_by_kind"`
	Records        int            `json:"records"`
	Accepted       int            `json:"accepted"`
	Rejected       int            `json:"rejected"`
	Deliveries     int            `json:"deliveries"`
	Acknowledged   int            `json:"acknowledged"`
	Errors         int            `json:"errors"`
	// Retries are resubmissions after a 429 or 503 with Retry-After.
	Retries int `json:"retries"`
	// LeftOver are deliveries of earlier runs the warm-up acknowledged.
	LeftOver         int      `json:"left_over"`
	FirstErrors      []string `json:"first_errors,omitempty"`
	RecordsPerSec    float64  `json:"records_per_second"`
	MessagesPerSec   float64  `json:"messages_per_second"`
	DeliveriesPerSec float64  `json:"deliveries_per_second"`

	Intake       benchLatency            `json:"intake_latency"`
	IntakeByKind map[string]benchLatency `json:"intake_latency_by_kind"`
	Delivery     benchLatency            `json:"delivery_latency"`

	Bench benchPerRecord  `json:"bench_process"`
	Serve *benchPerRecord `json:"serve_process,omitempty"`

	Crypto *benchCrypto `json:"crypto"`
	// CryptoRate is the crypto-only rate compared with: Crypto.floor().
	CryptoRate float64 `json:"crypto_records_per_second"`
	// RatioToCrypto is RecordsPerSec / Crypto.floor().
	RatioToCrypto float64 `json:"ratio_end_to_end_to_crypto"`

	Verified *benchVerify `json:"verified,omitempty"`
	// Profile is the CPU profile of serve, when asked for.
	Profile string `json:"cpu_profile,omitempty"`
	// Data is the data directory (kept with -keep or -target).
	Data string `json:"data"`
}

// bench runs the benchmark.
func bench(ctx context.Context, e *env, o benchOptions) (rep *benchReport, err error) {
	mix, err := parseBenchMix(o.mix)
	if err != nil {
		return nil, err
	}
	rep = &benchReport{Machine: machine(), Mix: mix.String(), PoliceList: o.policeList, Clients: o.clients, Rate: o.rate,
		MessagesByKind: map[string]int{}, IntakeByKind: map[string]benchLatency{}}
	srv := &benchServer{base: o.target, data: o.data, store: "that of the serve at " + o.target}
	if o.target == "" {
		if srv, err = benchStartServe(ctx, e, o); err != nil {
			return nil, err
		}
		rep.StartedServe, rep.ServePID = true, srv.pid
		defer func() {
			if serr := srv.stop(e); serr != nil && err == nil {
				err = serr
			}
			if !o.keep {
				if derr := srv.st.dropSchema(context.WithoutCancel(ctx)); derr != nil && err == nil {
					err = derr
				}
			}
			if !o.keep {
				os.RemoveAll(srv.data)
			}
		}()
	}
	rep.Target, rep.Store, rep.Data, rep.Profile = srv.base, srv.store, srv.data, o.cpuProfile

	ref, err := refdata.Load(refdata.Config{})
	if err != nil {
		return nil, err
	}
	dir, err := directory.Load(certs.Paths{DataDir: srv.data}.Directory(), ref)
	if err != nil {
		return nil, fmt.Errorf("the development directory of %s: %w", srv.data, err)
	}
	v := record.NewValidator(ref, e.clock)
	reg, err := newRegistry(v)
	if err != nil {
		return nil, err
	}
	gen, err := newBenchGen(e.clock.Now(), e.clock, reg, v, o.policeList)
	if err != nil {
		return nil, err
	}
	l, err := newBenchLoad(ctx, e, o, mix, gen, srv, dir)
	if err != nil {
		return nil, err
	}
	defer l.close()
	rep.Mailboxes = len(l.mailboxes)

	if err := l.warmUp(ctx); err != nil {
		return nil, fmt.Errorf("warming up: %w", err)
	}
	self0 := selfUsage()
	serve0, cpuFrom, err := srv.usage(ctx)
	if err != nil {
		return nil, err
	}
	runErr := l.run(ctx)
	self1 := selfUsage()
	serve1, _, uerr := srv.usage(ctx)
	rep.fill(l)
	rep.Bench = perRecord(self1.sub(self0), rep.Accepted, "getrusage and runtime/metrics of this process")
	if uerr == nil && (srv.pid != 0 || srv.metrics != "") {
		p := perRecord(serve1.sub(serve0), rep.Accepted, cpuFrom)
		rep.Serve = &p
	}
	if runErr != nil {
		return rep, runErr
	}
	cr, err := newCryptoRun(e.clock, srv.data, reg, l.sample, l.sampleViews)
	if err != nil {
		return rep, fmt.Errorf("the crypto floor: %w", err)
	}
	if rep.Crypto, err = cr.measure(ctx, 0, o.cryptoTime); err != nil {
		return rep, fmt.Errorf("the crypto floor: %w", err)
	}
	if rep.CryptoRate = rep.Crypto.floor(); rep.CryptoRate > 0 {
		rep.RatioToCrypto = rep.RecordsPerSec / rep.CryptoRate
	}
	if o.verify {
		if rep.Verified, err = l.verify(ctx, srv, o.verifyMax); err != nil {
			return rep, err
		}
		if !rep.Verified.OK {
			return rep, errors.New("not every accepted record was delivered and acknowledged exactly once (see verified)")
		}
	}
	if rep.Errors > 0 || rep.Rejected > 0 {
		return rep, fmt.Errorf("%d errors and %d rejected records during the run (see first_errors)", rep.Errors, rep.Rejected)
	}
	return rep, nil
}

// benchStartServe starts serve --dev of the binary in a new temporary data
// directory, on the store asked for.
func benchStartServe(ctx context.Context, e *env, o benchOptions) (*benchServer, error) {
	bin := o.serveBin
	if bin == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("the gateway binary to start (give -serve-bin): %w", err)
		}
		bin = exe
	}
	data, err := os.MkdirTemp("", "gateway-bench-")
	if err != nil {
		return nil, fmt.Errorf("a temporary data directory: %w", err)
	}
	pgURL := e.getenvOrEmpty("GATEWAY_POSTGRES_URL")
	if pgURL == "" {
		pgURL = e.getenvOrEmpty("GATEWAY_TEST_DATABASE_URL")
	}
	st, err := benchStoreFor(o.store, data, pgURL)
	if err != nil {
		os.RemoveAll(data)
		return nil, err
	}
	// The child's environment is only what it needs: no GATEWAY_ setting
	// of this shell reaches it unless the store asks for it.
	env := append([]string(nil), o.serveEnv...)
	if tmp := e.getenvOrEmpty("TMPDIR"); tmp != "" {
		env = append(env, "TMPDIR="+tmp)
	}
	if o.cpuProfile != "" {
		if o.cpuProfile, err = filepath.Abs(o.cpuProfile); err != nil {
			os.RemoveAll(data)
			return nil, err
		}
	}
	srv, err := startBenchServer(ctx, e, bin, data, st, env, o.cpuProfile)
	if err != nil {
		os.RemoveAll(data)
		return nil, err
	}
	return srv, nil
}

// fill computes the load's figures.
func (r *benchReport) fill(l *benchLoad) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r.Errors, r.FirstErrors, r.Rejected = l.nerrs, l.errs, l.rejected
	r.Retries, r.LeftOver = int(l.retries.Load()), int(l.leftOver.Load())
	var intake []time.Duration
	byKind := map[string][]time.Duration{}
	last := l.start
	for _, m := range l.messages {
		r.Messages++
		r.MessagesByKind[m.kind]++
		r.Records += len(m.records)
		r.Accepted += len(m.acceptedIDs)
		d := m.answered.Sub(m.sent)
		intake = append(intake, d)
		byKind[m.kind] = append(byKind[m.kind], d)
		if m.answered.After(last) {
			last = m.answered
		}
	}
	r.LoadSeconds = last.Sub(l.start).Seconds()
	var delivery []time.Duration
	for _, d := range l.deliveries {
		r.Deliveries++
		if d.acks > 0 {
			r.Acknowledged++
			if d.ackedAt.After(last) {
				last = d.ackedAt
			}
		}
		if at, ok := l.answeredAt[d.recordID]; ok {
			// A delivery may be pulled before its sender has read the 202.
			delivery = append(delivery, max(d.pulledAt.Sub(at), 0))
		}
	}
	r.EndToEndSeconds = last.Sub(l.start).Seconds()
	if r.EndToEndSeconds > 0 {
		r.RecordsPerSec = float64(r.Accepted) / r.EndToEndSeconds
		r.MessagesPerSec = float64(r.Messages) / r.EndToEndSeconds
		r.DeliveriesPerSec = float64(r.Acknowledged) / r.EndToEndSeconds
	}
	r.Intake, r.Delivery = latencyOf(intake), latencyOf(delivery)
	for k, ds := range byKind {
		r.IntakeByKind[k] = latencyOf(ds)
	}
}

// print writes the report for people.
func (r *benchReport) print(w io.Writer) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	m := r.Machine
	p("machine     %d cores (%s), GOMAXPROCS %d, %s %s\n", m.Cores, m.CPU, m.GOMAXPROCS, m.Go, m.OS)
	if r.StartedServe {
		p("gateway     serve --dev started by bench (pid %d) at %s; store %s\n", r.ServePID, r.Target, r.Store)
	} else {
		p("gateway     %s (running already); store %s\n", r.Target, r.Store)
	}
	p("mix         %s (police lists of %d), %d clients", r.Mix, r.PoliceList, r.Clients)
	if r.Rate > 0 {
		p(", at most %.0f records/s", r.Rate)
	}
	p("; %d mailboxes pulled and acknowledged concurrently\n", r.Mailboxes)
	var kinds []string
	for _, k := range benchKinds {
		if n := r.MessagesByKind[k]; n > 0 {
			kinds = append(kinds, fmt.Sprintf("%d %s", n, k))
		}
	}
	p("submitted   %d messages (%s): %d records, %d accepted, %d rejected; %d resubmitted after 429/503; %d errors\n",
		r.Messages, strings.Join(kinds, ", "), r.Records, r.Accepted, r.Rejected, r.Retries, r.Errors)
	if r.LeftOver > 0 {
		p("            (and %d deliveries of earlier runs, acknowledged before the clock started)\n", r.LeftOver)
	}
	for _, e := range r.FirstErrors {
		p("  error: %s\n", e)
	}
	perRec := 0.0
	if r.Accepted > 0 {
		perRec = float64(r.Deliveries) / float64(r.Accepted)
	}
	p("delivered   %d deliveries (%.2f per record), %d acknowledged\n", r.Deliveries, perRec, r.Acknowledged)
	p("end to end  %.1f records/s (%.1f messages/s, %.1f deliveries/s): %d records in %.2f s from the first submission to the last acknowledgement (submissions for %.2f s)\n",
		r.RecordsPerSec, r.MessagesPerSec, r.DeliveriesPerSec, r.Accepted, r.EndToEndSeconds, r.LoadSeconds)
	lat := func(name string, l benchLatency) {
		p("  %-46s p50 %7.1f ms  p95 %7.1f ms  p99 %7.1f ms  max %7.1f ms  (n=%d)\n", name, l.P50, l.P95, l.P99, l.Max, l.N)
	}
	p("latency\n")
	lat("intake (submit -> 202 and verified receipt)", r.Intake)
	for _, k := range benchKinds {
		if l, ok := r.IntakeByKind[k]; ok {
			lat("  of "+k+" messages", l)
		}
	}
	lat("delivery (202 -> pulled)", r.Delivery)
	pr := func(name string, x benchPerRecord) {
		p("  %-8s %6.3f ms CPU/record (%.2f s, %s)", name, x.CPUMs, x.CPUTotal, x.From)
		if x.AllocKiB >= 0 {
			p(", %.1f KiB and %.0f allocations/record", x.AllocKiB, x.AllocObjects)
		}
		p("\n")
	}
	p("cost\n")
	pr("bench", r.Bench)
	if r.Serve != nil {
		pr("serve", *r.Serve)
		p("  %-8s %6.3f ms CPU/record\n", "total", r.Bench.CPUMs+r.Serve.CPUMs)
	}
	if c := r.Crypto; c != nil {
		p("crypto only %.1f records/s on one goroutine, %.1f records/s on %d (the first %d messages: %d records, %d deliveries; no HTTP, store or journal)\n",
			c.SingleRate, c.ParallelRate, c.Workers, c.Messages, c.Records, c.Deliveries)
		for _, s := range cryptoSteps {
			p("  %-46s %8.1f µs/record\n", s, c.PerRecordMicros[s])
		}
		p("ratio       end to end / crypto only (%.1f records/s, the better of the two) = %.3f\n", c.floor(), r.RatioToCrypto)
	}
	if v := r.Verified; v != nil {
		word := "OK"
		if !v.OK {
			word = "FAILED"
		}
		sampled := ""
		if v.Sampled {
			sampled = fmt.Sprintf(" (an even sample of the %d)", r.Accepted)
		}
		p("verified    %s: %d records' status read%s, their %d mailbox messages: %d delivered, %d queued, %d missing, %d unexpected; %d recipients withheld\n",
			word, v.Records, sampled, v.Recipients, v.Delivered, v.Queued, v.Missing, v.Unexpected, v.Withheld)
		p("            all %d pulled: %d redelivered, %d acknowledged twice, %d unacknowledged; mailbox depth after the run %.0f\n",
			r.Deliveries, v.Redelivered, v.AckedTwice, v.Unacked, v.MailboxDepth)
	}
	if r.Profile != "" {
		p("profile     %s (go tool pprof -top %s)\n", r.Profile, r.Profile)
	}
}
