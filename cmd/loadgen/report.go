package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/lenticular/lenticular/platform/observability"
)

type report struct {
	Target        string         `json:"target"`
	Started       time.Time      `json:"started"`
	Finished      time.Time      `json:"finished"`
	Server        serverSettings `json:"server"`
	Model         []routeShare   `json:"model"`
	Seed          seedReport     `json:"seed"`
	Steps         []stepReport   `json:"steps"`
	Highest       *stepReport    `json:"highest_passing,omitempty"`
	HygieneBefore *hygiene       `json:"hygiene_before,omitempty"`
	HygieneAfter  *hygiene       `json:"hygiene_after,omitempty"`
}

type serverSettings struct {
	CPUs       string  `json:"cpus,omitempty"`
	Nice       int     `json:"nice,omitempty"`
	GOMAXPROCS int     `json:"gomaxprocs,omitempty"`
	GOMEMLIMIT string  `json:"gomemlimit,omitempty"`
	Worker     string  `json:"worker"`
	PeakRSSMiB float64 `json:"peak_rss_mib,omitempty"`
}

type seedReport struct {
	Users   int     `json:"users"`
	Links   int     `json:"links"`
	Seconds float64 `json:"seconds"`
}

type latency struct {
	P50  float64 `json:"p50_ms"`
	P95  float64 `json:"p95_ms"`
	P99  float64 `json:"p99_ms"`
	Max  float64 `json:"max_ms"`
	Mean float64 `json:"mean_ms"`
}

type routeReport struct {
	Route    string         `json:"route"`
	Requests uint64         `json:"requests"`
	Errors   uint64         `json:"errors"`
	Latency  latency        `json:"latency"`
	Codes    map[string]int `json:"status_codes"`
}

type stepReport struct {
	Rate          float64         `json:"rate"`
	Seconds       float64         `json:"seconds"`
	Requests      uint64          `json:"requests"`
	Throughput    float64         `json:"throughput"` // successful requests per second
	Errors        uint64          `json:"errors"`
	ErrorRate     float64         `json:"error_rate"`
	Latency       latency         `json:"latency"`
	ObjectiveP99  float64         `json:"objective_p99_ms"` // p99 over the routes the objective covers
	Routes        []routeReport   `json:"routes"`
	ErrorSamples  []string        `json:"error_samples,omitempty"`
	CPUSeconds    float64         `json:"server_cpu_seconds"`
	CPUPerRequest float64         `json:"server_cpu_ms_per_request"`
	PeakRSSMiB    float64         `json:"server_peak_rss_mib"`
	LoadAvg       float64         `json:"machine_load_avg_1m"` // other work on the machine competes for the same cores
	Pass          bool            `json:"pass"`
	Codes         map[string]int  `json:"status_codes"`
	routes        map[string]*agg `json:"-"`
}

type agg struct {
	m      vegeta.Metrics
	errors uint64
}

func lat(m *vegeta.Metrics) latency {
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	return latency{P50: ms(m.Latencies.P50), P95: ms(m.Latencies.P95), P99: ms(m.Latencies.P99), Max: ms(m.Latencies.Max), Mean: ms(m.Latencies.Mean)}
}

// attack runs the model at rate for d and measures it, with the server's
// CPU time and peak RSS over the same interval.
func attack(ctx context.Context, o options, tr *traffic, rate float64, d time.Duration) (stepReport, error) {
	s := stepReport{Rate: rate, routes: map[string]*agg{}}
	before, perr := readProc(o.pid)
	resetPeak(o.pid)
	atk := vegeta.NewAttacker(vegeta.Client(tr.http), vegeta.MaxWorkers(512))
	pacer := vegeta.ConstantPacer{Freq: int(rate + 0.5), Per: time.Second}
	var all, objective vegeta.Metrics
	results := atk.Attack(tr.next, pacer, d, fmt.Sprintf("%.0f/s", rate))
	errSamples := map[string]bool{}
loop:
	for {
		select {
		case <-ctx.Done():
			atk.Stop()
			for range results {
			}
			return s, ctx.Err()
		case r, ok := <-results:
			if !ok {
				break loop
			}
			tr.observe(r)
			route := routeOf(r.Method, r.URL)
			a := s.routes[route]
			if a == nil {
				a = &agg{}
				s.routes[route] = a
			}
			if r.Error != "" {
				a.errors++
				s.Errors++
				if len(errSamples) < 8 {
					msg := route + ": " + r.Error
					if len(r.Body) > 0 && len(r.Body) < 400 {
						msg += " " + string(r.Body)
					}
					errSamples[msg] = true
				}
			}
			r.Body = nil
			a.m.Add(r)
			all.Add(r)
			if !o.sloExclude[route] {
				objective.Add(r)
			}
		}
	}
	all.Close()
	objective.Close()
	after, _ := readProc(o.pid)
	s.LoadAvg = loadAvg()
	s.Seconds = all.Duration.Seconds()
	s.Requests = all.Requests
	s.Throughput = all.Throughput
	s.Latency = lat(&all)
	s.Codes = all.StatusCodes
	if s.Requests > 0 {
		s.ErrorRate = float64(s.Errors) / float64(s.Requests)
	}
	for msg := range errSamples {
		s.ErrorSamples = append(s.ErrorSamples, msg)
	}
	slices.Sort(s.ErrorSamples)
	for route, a := range s.routes {
		a.m.Close()
		s.Routes = append(s.Routes, routeReport{Route: route, Requests: a.m.Requests, Errors: a.errors, Latency: lat(&a.m), Codes: a.m.StatusCodes})
	}
	slices.SortFunc(s.Routes, func(a, b routeReport) int { return int(b.Requests) - int(a.Requests) })
	if perr == nil {
		s.CPUSeconds = after.cpuSeconds - before.cpuSeconds
		s.PeakRSSMiB = after.peakRSSMiB
		if s.Requests > 0 {
			s.CPUPerRequest = s.CPUSeconds * 1000 / float64(s.Requests)
		}
	}
	s.ObjectiveP99 = lat(&objective).P99
	s.Pass = s.Errors == 0 && s.Requests > 0 && time.Duration(s.ObjectiveP99*float64(time.Millisecond)) < o.p99
	return s, nil
}

// rampRun multiplies the rate by -ramp-factor until a step misses the
// objective (or -ramp-max), then bisects between the last passing and the
// first failing rate.
func rampRun(ctx context.Context, o options, tr *traffic, rep *report, out io.Writer) error {
	var best *stepReport
	lo, hi := 0.0, 0.0
	for r := o.rampStart; r <= o.rampMax; r *= o.rampFactor {
		s, err := attack(ctx, o, tr, r, o.step)
		if err != nil {
			return err
		}
		rep.Steps = append(rep.Steps, s)
		printStep(out, s, o.p99, o.sloExclude)
		if !s.Pass {
			hi = r
			break
		}
		lo, best = r, &rep.Steps[len(rep.Steps)-1]
		if !sleep(ctx, o.settle) {
			return ctx.Err()
		}
	}
	for i := 0; i < o.bisect && hi > 0 && hi-lo > 1; i++ {
		if !sleep(ctx, o.settle) {
			return ctx.Err()
		}
		mid := (lo + hi) / 2
		s, err := attack(ctx, o, tr, mid, o.step)
		if err != nil {
			return err
		}
		rep.Steps = append(rep.Steps, s)
		printStep(out, s, o.p99, o.sloExclude)
		if s.Pass {
			lo, best = mid, &rep.Steps[len(rep.Steps)-1]
		} else {
			hi = mid
		}
	}
	if best != nil {
		c := *best
		rep.Highest = &c
		fmt.Fprintf(out, "\nhighest passing rate: %.0f req/s (p99 %.1f ms, objective p99 %.1f ms, %d errors, %.2f ms server CPU per request)\n",
			c.Rate, c.Latency.P99, c.ObjectiveP99, c.Errors, c.CPUPerRequest)
	} else {
		fmt.Fprintf(out, "\nno rate passed the objective (p99 < %s, zero errors); lower -ramp-start\n", o.p99)
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}

func printStep(out io.Writer, s stepReport, objective time.Duration, excluded map[string]bool) {
	verdict := "PASS"
	if !s.Pass {
		verdict = "FAIL"
	}
	fmt.Fprintf(out, "\n== %.0f req/s for %.0fs: %d requests, %.1f ok/s, errors %d (%.2f%%), p50 %.1f ms, p95 %.1f ms, p99 %.1f ms, max %.0f ms  [%s: p99 < %s, zero errors]\n",
		s.Rate, s.Seconds, s.Requests, s.Throughput, s.Errors, 100*s.ErrorRate, s.Latency.P50, s.Latency.P95, s.Latency.P99, s.Latency.Max, verdict, objective)
	if len(excluded) > 0 {
		fmt.Fprintf(out, "   objective p99 (without %d excluded routes): %.1f ms\n", len(excluded), s.ObjectiveP99)
	}
	fmt.Fprintf(out, "   server: %.2f CPU s (%.0f%% of one core, %.2f ms per request), peak RSS %.1f MiB; machine load average %.2f on %d cores\n",
		s.CPUSeconds, 100*s.CPUSeconds/max(s.Seconds, 1e-9), s.CPUPerRequest, s.PeakRSSMiB, s.LoadAvg, machineCPUs())
	fmt.Fprintf(out, "   %-28s %8s %6s %8s %8s %8s\n", "route", "requests", "errors", "p50 ms", "p95 ms", "p99 ms")
	for _, r := range s.Routes {
		fmt.Fprintf(out, "   %-28s %8d %6d %8.1f %8.1f %8.1f\n", r.Route, r.Requests, r.Errors, r.Latency.P50, r.Latency.P95, r.Latency.P99)
	}
	for _, e := range s.ErrorSamples {
		fmt.Fprintf(out, "   error: %s\n", e)
	}
}

// hygiene is what the server's /metrics says about leaks.
type hygiene struct {
	Goroutines      float64 `json:"goroutines"`
	DBOpen          float64 `json:"db_open_connections"`
	DBInUse         float64 `json:"db_in_use_connections"`
	DBIdle          float64 `json:"db_idle_connections"`
	OpenFDs         float64 `json:"open_fds"`
	ResidentMiB     float64 `json:"resident_mib"`
	HeapInUseMiB    float64 `json:"heap_inuse_mib"`
	HTTPConnsActive float64 `json:"requests_in_flight"`
}

// scrapeIdle waits until the server has been idle for a moment (keep-alive
// connections closed, no request in flight), then reads /metrics.
func scrapeIdle(ctx context.Context, c *client, metricsURL string) (hygiene, error) {
	if metricsURL == "" {
		return hygiene{}, fmt.Errorf("-hygiene needs the server's /metrics (-metrics with -target)")
	}
	c.http.CloseIdleConnections()
	if !sleep(ctx, 3*time.Second) {
		return hygiene{}, ctx.Err()
	}
	res, err := http.Get(metricsURL)
	if err != nil {
		return hygiene{}, err
	}
	defer res.Body.Close()
	vals, err := observability.SumMetrics(res.Body)
	if err != nil {
		return hygiene{}, err
	}
	return hygiene{
		Goroutines: vals["go_goroutines"], DBOpen: vals["go_sql_open_connections"],
		DBInUse: vals["go_sql_in_use_connections"], DBIdle: vals["go_sql_idle_connections"],
		OpenFDs: vals["process_open_fds"], ResidentMiB: vals["process_resident_memory_bytes"] / (1 << 20),
		HeapInUseMiB: vals["go_memstats_heap_inuse_bytes"] / (1 << 20), HTTPConnsActive: vals["lenticular_http_requests_in_flight"],
	}, nil
}

func printHygiene(out io.Writer, b, a hygiene) {
	fmt.Fprintf(out, "\nhygiene (server idle, before -> after the load):\n")
	fmt.Fprintf(out, "   goroutines          %6.0f -> %6.0f\n", b.Goroutines, a.Goroutines)
	fmt.Fprintf(out, "   DB open / in use    %3.0f/%-2.0f -> %3.0f/%-2.0f (idle %.0f -> %.0f)\n", b.DBOpen, b.DBInUse, a.DBOpen, a.DBInUse, b.DBIdle, a.DBIdle)
	fmt.Fprintf(out, "   open files          %6.0f -> %6.0f\n", b.OpenFDs, a.OpenFDs)
	fmt.Fprintf(out, "   RSS / heap in use   %5.1f/%-5.1f -> %5.1f/%-5.1f MiB\n", b.ResidentMiB, b.HeapInUseMiB, a.ResidentMiB, a.HeapInUseMiB)
}

func loadAvg() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}

// machineCPUs counts the machine's processors (runtime.NumCPU counts only
// those this process may run on, one under taskset).
func machineCPUs() int {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return 0
	}
	return strings.Count(string(b), "\nprocessor") + map[bool]int{true: 1}[strings.HasPrefix(string(b), "processor")]
}
