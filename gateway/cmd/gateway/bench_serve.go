package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// benchStartTimeout bounds the start of the gateway under test (the
// development PKI of about 115 authorities is made first, by certs init).
const benchStartTimeout = 3 * time.Minute

// benchClockTicks is the kernel's USER_HZ, the unit of utime and stime in
// /proc/PID/stat: 100 on every Linux architecture Go supports.
const benchClockTicks = 100

// benchServer is the gateway under test: a serve --dev child process that
// bench started, or one already running (-target).
type benchServer struct {
	// base is the public URL (https), metrics the operator /metrics URL
	// ("" when unknown).
	base, metrics string
	// data is the data directory with the development PKI.
	data string
	// store says which store serves, in words.
	store string
	// pid is the child's process id; 0 when bench did not start it.
	pid  int
	cmd  *exec.Cmd
	done chan error
	out  *benchBuffer
	// st is the store the child was told to use.
	st benchStore
	// logPath is the child's standard error (its log), in data.
	logPath string
	logFile *os.File
}

// benchBuffer collects a child's standard output for its banner.
type benchBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *benchBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *benchBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// benchStore is how the child serve is told which store to use.
type benchStore struct {
	// args are extra arguments of serve --dev, env extra environment.
	args, env []string
	// words describe the store for the report.
	words string
	// postgresURL and schema are the PostgreSQL database and the fresh
	// schema of the run ("" for SQLite), dropped afterwards.
	postgresURL, schema string
}

// benchStoreFor says how serve --dev runs on store ("sqlite" or
// "postgres"), in data: PostgreSQL at postgresURL (passed to the child as
// GATEWAY_POSTGRES_URL) in a fresh schema gateway_bench_<random>.
func benchStoreFor(store, data, postgresURL string) (benchStore, error) {
	switch store {
	case "sqlite":
		return benchStore{words: "sqlite (" + filepath.Join(data, "gateway.db") + ")"}, nil
	case "postgres":
		if postgresURL == "" {
			return benchStore{}, errors.New("-store postgres needs GATEWAY_POSTGRES_URL or GATEWAY_TEST_DATABASE_URL")
		}
		u, err := url.Parse(postgresURL)
		if err != nil {
			return benchStore{}, errors.New("-store postgres: the PostgreSQL URL does not parse")
		}
		var b [6]byte
		if _, err := rand.Read(b[:]); err != nil {
			return benchStore{}, err
		}
		schema := "gateway_bench_" + hex.EncodeToString(b[:])
		return benchStore{args: []string{"-store", "postgres", "-postgres-schema", schema},
			env:   []string{"GATEWAY_POSTGRES_URL=" + postgresURL},
			words: fmt.Sprintf("postgres (schema %s at %s%s)", schema, u.Host, u.Path), postgresURL: postgresURL, schema: schema}, nil
	}
	return benchStore{}, fmt.Errorf("-store %q is not sqlite or postgres", store)
}

// dropSchema drops the run's PostgreSQL schema.
func (st benchStore) dropSchema(ctx context.Context) error {
	if st.schema == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, st.postgresURL)
	if err != nil {
		return fmt.Errorf("drop the schema %s: %w", st.schema, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{st.schema}.Sanitize()+" CASCADE"); err != nil {
		return fmt.Errorf("drop the schema %s: %w", st.schema, err)
	}
	return nil
}

// startBenchServer starts "serve --dev" of bin in data on free loopback
// ports, after "certs init" (so that the CPU profile and the CPU figures
// of serve do not include making the development PKI), and waits for its
// banner. env is the child's whole environment.
func startBenchServer(ctx context.Context, e *env, bin, data string, st benchStore, env []string, cpuProfile string) (*benchServer, error) {
	s := &benchServer{data: data, store: st.words, st: st, out: &benchBuffer{}, done: make(chan error, 1),
		logPath: filepath.Join(data, "serve.log")}
	initCtx, cancel := context.WithTimeout(ctx, benchStartTimeout)
	defer cancel()
	init := exec.CommandContext(initCtx, bin, "certs", "init", "-data", data)
	init.Env = env
	if out, err := init.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("%s certs init -data %s: %w\n%s", bin, data, err, out)
	}
	lf, err := os.Create(s.logPath)
	if err != nil {
		return nil, fmt.Errorf("the log of serve: %w", err)
	}
	s.logFile = lf
	args := []string{"serve", "--dev", "-data", data, "-port", "0", "-operator-port", "0"}
	if cpuProfile != "" {
		args = append(args, "-cpuprofile", cpuProfile)
	}
	args = append(args, st.args...)
	s.cmd = exec.Command(bin, args...)
	s.cmd.Env = append(append([]string(nil), env...), st.env...)
	s.cmd.Stdout, s.cmd.Stderr = s.out, lf
	if err := s.cmd.Start(); err != nil {
		lf.Close()
		return nil, fmt.Errorf("start %s serve: %w", bin, err)
	}
	s.pid = s.cmd.Process.Pid
	go func() { s.done <- s.cmd.Wait() }()
	deadline := e.clock.Now().Add(benchStartTimeout)
	for {
		if s.base, s.metrics = parseServeBanner(s.out.String()); s.base != "" && s.metrics != "" {
			return s, nil
		}
		select {
		case err := <-s.done:
			lf.Close()
			hint := ""
			if len(st.args) > 0 {
				hint = fmt.Sprintf(" (does this serve take %v?)", st.args)
			}
			return nil, fmt.Errorf("serve ended at start (%v)%s: %s", err, hint, tailOf(s.logPath, 2000))
		case <-ctx.Done():
			s.stop(e)
			return nil, ctx.Err()
		case <-e.clock.After(20 * time.Millisecond):
		}
		if e.clock.Now().After(deadline) {
			s.stop(e)
			return nil, fmt.Errorf("serve printed no banner within %s: %s", benchStartTimeout, tailOf(s.logPath, 2000))
		}
	}
}

// parseServeBanner finds the listening and operator URLs in serve's banner.
func parseServeBanner(out string) (base, metricsURL string) {
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case strings.HasPrefix(sc.Text(), "listening on https://") && len(f) > 2:
			base = f[2]
		case strings.HasPrefix(sc.Text(), "operator metrics on http://") && len(f) > 3:
			metricsURL = f[3]
		}
	}
	return base, metricsURL
}

// stop ends a child serve gracefully (SIGINT: the journal signs its last
// checkpoint, the CPU profile is written), killing it when it hangs. It
// does nothing to a serve bench did not start.
func (s *benchServer) stop(e *env) error {
	if s.cmd == nil {
		return nil
	}
	defer s.logFile.Close()
	if err := s.cmd.Process.Signal(os.Interrupt); err != nil {
		return fmt.Errorf("stop serve: %w", err)
	}
	select {
	case err := <-s.done:
		if err != nil {
			return fmt.Errorf("serve did not stop cleanly (%w): %s", err, tailOf(s.logPath, 2000))
		}
		return nil
	case <-e.clock.After(shutdownTimeout + 10*time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
		return errors.New("serve did not shut down; killed")
	}
}

// tailOf is the last n bytes of a file, for an error message.
func tailOf(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// benchUsage is what one process used: CPU time and heap allocations.
type benchUsage struct {
	// CPU is user plus system CPU time.
	CPU time.Duration
	// AllocBytes and AllocObjects are the heap allocations so far (-1: unknown).
	AllocBytes, AllocObjects float64
}

// sub is u minus earlier.
func (u benchUsage) sub(earlier benchUsage) benchUsage {
	d := benchUsage{CPU: u.CPU - earlier.CPU, AllocBytes: -1, AllocObjects: -1}
	if u.AllocBytes >= 0 && earlier.AllocBytes >= 0 {
		d.AllocBytes, d.AllocObjects = u.AllocBytes-earlier.AllocBytes, u.AllocObjects-earlier.AllocObjects
	}
	return d
}

// selfUsage is this process's CPU time (getrusage) and allocations (runtime/metrics).
func selfUsage() benchUsage {
	var ru syscall.Rusage
	u := benchUsage{AllocBytes: -1, AllocObjects: -1}
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		u.CPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	ss := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}, {Name: "/gc/heap/allocs:objects"}}
	metrics.Read(ss)
	if ss[0].Value.Kind() == metrics.KindUint64 && ss[1].Value.Kind() == metrics.KindUint64 {
		u.AllocBytes, u.AllocObjects = float64(ss[0].Value.Uint64()), float64(ss[1].Value.Uint64())
	}
	return u
}

// serveUsage is the gateway's CPU time, from /proc/PID/stat when bench
// started it (cpuFrom "proc") and otherwise from its metrics
// (process_cpu_seconds_total), and its allocations from its metrics
// (go_memstats_alloc_bytes_total, go_memstats_mallocs_total).
func (s *benchServer) usage(ctx context.Context) (u benchUsage, cpuFrom string, err error) {
	u = benchUsage{AllocBytes: -1, AllocObjects: -1}
	var m map[string]float64
	if s.metrics != "" {
		if m, err = scrapeMetrics(ctx, s.metrics); err != nil {
			return u, "", err
		}
		if v, ok := m["go_memstats_alloc_bytes_total"]; ok {
			u.AllocBytes = v
		}
		if v, ok := m["go_memstats_mallocs_total"]; ok {
			u.AllocObjects = v
		}
		if u.AllocBytes < 0 || u.AllocObjects < 0 {
			u.AllocBytes, u.AllocObjects = -1, -1
		}
	}
	if s.pid != 0 {
		cpu, err := procCPU(s.pid)
		if err == nil {
			u.CPU = cpu
			return u, "/proc/" + strconv.Itoa(s.pid) + "/stat", nil
		}
	}
	if v, ok := m["process_cpu_seconds_total"]; ok {
		u.CPU = time.Duration(v * float64(time.Second))
		return u, "process_cpu_seconds_total of its /metrics", nil
	}
	return u, "", nil
}

// procCPU reads utime + stime of a process from /proc/PID/stat.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, fmt.Errorf("the CPU time of serve: %w", err)
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("the CPU time of serve: /proc stat has no command name")
	}
	f := strings.Fields(string(b[i+1:]))
	// After the name: state (3), ... utime (14), stime (15).
	if len(f) < 13 {
		return 0, errors.New("the CPU time of serve: /proc stat is too short")
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("the CPU time of serve: /proc stat utime or stime is not a number")
	}
	return time.Duration(ut+st) * time.Second / benchClockTicks, nil
}

// scrapeMetrics reads the samples of a Prometheus text page: an
// unlabelled one by its name, the labelled ones of a name summed as
// "sum:NAME".
func scrapeMetrics(ctx context.Context, url string) (map[string]float64, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("metrics: %s answered %d", url, resp.StatusCode)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(io.LimitReader(resp.Body, 16<<20))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		// A labelled series adds to "sum:NAME".
		name, labelled := line, false
		if i := strings.IndexByte(line, '{'); i >= 0 {
			j := strings.LastIndexByte(line, '}')
			if j < i {
				continue
			}
			name, line, labelled = line[:i], line[:i]+line[j+1:], true
		}
		key, val, ok := strings.Cut(line, " ")
		if !labelled {
			name = key
		}
		f := strings.Fields(val)
		if !ok || len(f) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(f[0], 64)
		switch {
		case err != nil:
		case labelled:
			out["sum:"+name] += v
		default:
			out[name] = v
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	return out, nil
}

// benchMachine describes the machine the figures were measured on.
type benchMachine struct {
	CPU        string `json:"cpu"`
	Cores      int    `json:"cores"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	Go         string `json:"go"`
	OS         string `json:"os"`
}

// machine reads the CPU model and count from /proc/cpuinfo.
func machine() benchMachine {
	m := benchMachine{Cores: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), Go: runtime.Version(),
		OS: runtime.GOOS + "/" + runtime.GOARCH}
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return m
	}
	n := 0
	for _, l := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case "processor":
			n++
		case "model name":
			if m.CPU == "" {
				m.CPU = strings.TrimSpace(v)
			}
		}
	}
	if n > 0 {
		m.Cores = n
	}
	return m
}
