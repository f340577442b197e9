// Command loadgen measures what one lenticular process carries. It starts the
// built binary on a throwaway PostgreSQL database and a Redis database (or
// attaches to a server already running on loopback), seeds users and links
// through the public API, replays the traffic model of docs/capacity.md with
// vegeta at a fixed rate or as a ramp that searches for the highest rate
// meeting the latency objective, and prints throughput, latency quantiles per
// route, the error rate, and the server's CPU seconds and peak RSS.
//
// It only ever talks to loopback addresses, and every run is bounded in
// requests and time.
//
//	go tool task load            # fixed rate, default budget
//	go tool task load:capacity   # ramp + bisection under GOMAXPROCS=1, one core, GOMEMLIMIT=400MiB
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

type options struct {
	bin        string // built lenticular binary to start; empty with -target
	target     string // base URL of a running server (loopback only)
	pid        int    // that server's pid, for CPU and RSS figures
	metricsURL string // that server's METRICS_ADDR /metrics, for the hygiene figures

	adminURL string // PostgreSQL server where the throwaway database is created
	redisURL string // Redis database the server uses (flushed before the run)
	cpus     string // taskset core list for the server ("" = no pinning)
	nice     int    // scheduling niceness of the server (negative needs root)
	procs    int    // GOMAXPROCS for the server (0 = Go's default)
	memLimit string // GOMEMLIMIT for the server ("" = none)
	worker   string // WORKER for the server: off (production shape) or embedded
	logFile  string // server output ("" = a file in a temp directory)

	users, links int // seeded through the API

	rate        float64       // fixed-rate mode: requests per second
	duration    time.Duration // fixed-rate mode: how long
	ramp        bool          // ramp mode: find the highest passing rate
	rampStart   float64
	rampMax     float64
	rampFactor  float64
	bisect      int             // bisection steps after the first failing rate
	step        time.Duration   // ramp mode: duration of each step
	settle      time.Duration   // pause between steps
	p99         time.Duration   // objective: p99 below this and zero errors
	sloExclude  map[string]bool // routes left out of the p99 objective (still counted for errors)
	maxRequests uint64          // refuse a plan above this many requests
	maxDuration time.Duration   // refuse a plan longer than this
	hygiene     bool            // compare goroutines and DB pool before and after
	jsonOut     string          // write the report as JSON here ("-" = stdout)
	seed        int64
}

func main() {
	var o options
	flag.StringVar(&o.bin, "bin", "", "built lenticular binary to start (with a throwaway database); or use -target")
	flag.StringVar(&o.target, "target", "", "base URL of a running server on loopback, e.g. http://127.0.0.1:8080")
	flag.IntVar(&o.pid, "pid", 0, "with -target: the server's pid (CPU seconds, peak RSS)")
	flag.StringVar(&o.metricsURL, "metrics", "", "with -target: the server's /metrics URL (goroutines, DB pool)")
	flag.StringVar(&o.adminURL, "admin-url", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "PostgreSQL server for the throwaway database")
	flag.StringVar(&o.redisURL, "redis-url", "redis://127.0.0.1:6379/14", "Redis database for the server (flushed first; empty: no Redis)")
	flag.StringVar(&o.cpus, "cpus", "", "pin the server to these cores with taskset, e.g. 0")
	flag.IntVar(&o.nice, "nice", 0, "run the server under nice -n N (e.g. -10 on a busy shared machine; negative needs root)")
	flag.IntVar(&o.procs, "gomaxprocs", 0, "GOMAXPROCS for the server (0: default)")
	flag.StringVar(&o.memLimit, "memlimit", "", "GOMEMLIMIT for the server, e.g. 400MiB")
	flag.StringVar(&o.worker, "worker", "off", "WORKER for the server: off (a separate worker, as in production) or embedded")
	flag.StringVar(&o.logFile, "server-log", "", "file for the server's output (default: a temporary file, path printed)")
	flag.IntVar(&o.users, "users", 200, "users registered through the API before the run")
	flag.IntVar(&o.links, "links", 2000, "links saved through the API before the run")
	flag.Float64Var(&o.rate, "rate", 50, "fixed-rate mode: requests per second")
	flag.DurationVar(&o.duration, "duration", 30*time.Second, "fixed-rate mode: length of the run")
	flag.BoolVar(&o.ramp, "ramp", false, "ramp mode: increase the rate until the objective fails, then bisect")
	flag.Float64Var(&o.rampStart, "ramp-start", 25, "ramp mode: first rate")
	flag.Float64Var(&o.rampMax, "ramp-max", 1000, "ramp mode: never above this rate")
	flag.Float64Var(&o.rampFactor, "ramp-factor", 1.5, "ramp mode: rate multiplier between steps")
	flag.IntVar(&o.bisect, "bisect", 3, "ramp mode: bisection steps between the last passing and the first failing rate")
	flag.DurationVar(&o.step, "step", 20*time.Second, "ramp mode: length of each step")
	flag.DurationVar(&o.settle, "settle", 3*time.Second, "pause between steps")
	flag.DurationVar(&o.p99, "p99", 100*time.Millisecond, "objective: p99 below this, with zero errors")
	exclude := flag.String("slo-exclude", "", "comma-separated routes left out of the p99 objective, e.g. \"POST /v1/auth/login,POST /v1/auth/register\" (errors still count)")
	flag.Uint64Var(&o.maxRequests, "max-requests", 2_000_000, "refuse a plan that could send more requests than this")
	flag.DurationVar(&o.maxDuration, "max-duration", 30*time.Minute, "refuse a plan longer than this")
	flag.BoolVar(&o.hygiene, "hygiene", false, "report goroutines, DB connections and open files before and after the load (after the server idles)")
	flag.StringVar(&o.jsonOut, "json", "", "write the report as JSON to this file (- for stdout)")
	flag.Int64Var(&o.seed, "seed", 1, "random seed of the traffic")
	flag.Parse()
	o.sloExclude = map[string]bool{}
	for _, r := range strings.Split(*exclude, ",") {
		if r = strings.TrimSpace(r); r != "" {
			o.sloExclude[r] = true
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options, out io.Writer) error {
	if err := o.check(); err != nil {
		return err
	}
	var srv *server
	if o.bin != "" {
		var err error
		srv, err = startServer(ctx, o, out)
		if err != nil {
			return err
		}
		defer srv.stop(out)
		o.target, o.pid, o.metricsURL = srv.base, srv.pid, srv.metricsURL
	} else if err := loopbackOnly(o.target); err != nil {
		return err
	}

	rep := &report{
		Target: o.target, Started: time.Now().UTC(),
		Server: serverSettings{CPUs: o.cpus, Nice: o.nice, GOMAXPROCS: o.procs, GOMEMLIMIT: o.memLimit, Worker: o.worker},
		Model:  trafficModel(),
	}
	c := newClient(o.target)
	fmt.Fprintf(out, "seeding %d users and %d links through the API...\n", o.users, o.links)
	t0 := time.Now()
	st, err := seed(ctx, c, o.users, o.links, o.seed)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	rep.Seed = seedReport{Users: o.users, Links: len(st.linkIDs), Seconds: time.Since(t0).Seconds()}
	fmt.Fprintf(out, "seeded in %.1fs\n", rep.Seed.Seconds)

	if o.hygiene {
		h, err := scrapeIdle(ctx, c, o.metricsURL)
		if err != nil {
			return err
		}
		rep.HygieneBefore = &h
	}

	tr := newTraffic(st, o.target, o.seed)
	if o.ramp {
		err = rampRun(ctx, o, tr, rep, out)
	} else {
		var s stepReport
		s, err = attack(ctx, o, tr, o.rate, o.duration)
		rep.Steps = append(rep.Steps, s)
		printStep(out, s, o.p99, o.sloExclude)
	}
	if err != nil {
		return err
	}

	if o.hygiene {
		tr.closeIdle()
		h, err := scrapeIdle(ctx, c, o.metricsURL)
		if err != nil {
			return err
		}
		rep.HygieneAfter = &h
		printHygiene(out, *rep.HygieneBefore, h)
	}
	rep.Finished = time.Now().UTC()
	if srv != nil {
		rep.Server.PeakRSSMiB = srv.lifetimePeakMiB()
	}
	return writeJSON(o.jsonOut, rep, out)
}

func (o options) check() error {
	if (o.bin == "") == (o.target == "") {
		return errors.New("give exactly one of -bin (start the binary) and -target (a running server)")
	}
	if o.users < 2 || o.links < 1 {
		return errors.New("-users must be at least 2 and -links at least 1")
	}
	var plan time.Duration
	var reqs float64
	if o.ramp {
		if o.rampStart <= 0 || o.rampFactor <= 1 || o.rampMax < o.rampStart {
			return errors.New("ramp: need 0 < -ramp-start <= -ramp-max and -ramp-factor > 1")
		}
		steps := 0
		for r := o.rampStart; r <= o.rampMax; r *= o.rampFactor {
			steps++
			reqs += r * o.step.Seconds()
		}
		steps += o.bisect
		reqs += float64(o.bisect) * o.rampMax * o.step.Seconds()
		plan = time.Duration(steps) * (o.step + o.settle)
	} else {
		if o.rate <= 0 || o.duration <= 0 {
			return errors.New("-rate and -duration must be positive")
		}
		plan, reqs = o.duration, o.rate*o.duration.Seconds()
	}
	if plan > o.maxDuration {
		return fmt.Errorf("the plan takes up to %s, above -max-duration %s", plan, o.maxDuration)
	}
	if reqs > float64(o.maxRequests) {
		return fmt.Errorf("the plan may send %.0f requests, above -max-requests %d", reqs, o.maxRequests)
	}
	return nil
}

func writeJSON(path string, rep *report, out io.Writer) error {
	if path == "" {
		return nil
	}
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if path == "-" {
		_, err = out.Write(b)
		return err
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(out, "report written to %s\n", path)
	return nil
}
