package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	"github.com/redis/go-redis/v9"
)

// server is the lenticular process loadgen started, on its own throwaway
// database.
type server struct {
	cmd        *exec.Cmd
	pid        int
	base       string
	metricsURL string
	dbName     string
	adminURL   string
	dir        string
	exited     chan error
}

// startServer creates a uniquely named database on o.adminURL's server,
// flushes the Redis database, and starts the binary on free loopback ports,
// pinned and limited as asked. It returns once /readyz answers 200.
func startServer(ctx context.Context, o options, out io.Writer) (*server, error) {
	bin, err := filepath.Abs(o.bin)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("-bin: %w (build it first: go tool task build)", err)
	}
	if err := loopbackURL(o.adminURL); err != nil {
		return nil, fmt.Errorf("-admin-url: %w", err)
	}
	s := &server{adminURL: o.adminURL, exited: make(chan error, 1)}
	s.dbName = "lt_load_" + randomHex(6)
	if err := adminExec(ctx, o.adminURL, "CREATE DATABASE "+s.dbName); err != nil {
		return nil, fmt.Errorf("create the throwaway database: %w", err)
	}
	dbURL, err := withDatabase(o.adminURL, s.dbName)
	if err != nil {
		s.dropDB()
		return nil, err
	}
	if o.redisURL != "" {
		if err := flushRedis(ctx, o.redisURL); err != nil {
			s.dropDB()
			return nil, err
		}
	}
	if s.dir, err = os.MkdirTemp("", "lenticular-load-"); err != nil {
		s.dropDB()
		return nil, err
	}
	httpAddr, metricsAddr := freeAddr(), freeAddr()
	s.base = "http://" + httpAddr
	s.metricsURL = "http://" + metricsAddr + "/metrics"

	env := append(os.Environ(),
		"APP_ENV=test", // development's defaults, without the development secret file
		"HTTP_ADDR="+httpAddr,
		"METRICS_ADDR="+metricsAddr,
		"DATA_DIR="+s.dir,
		"DATABASE_URL="+dbURL,
		"REDIS_URL="+o.redisURL,
		"JWT_SECRET="+randomHex(32),
		"AUTO_MIGRATE=true",
		"WORKER="+o.worker,
		"MAILER=file",
		"LOG_LEVEL=info",
		"ACCESS_TOKEN_TTL=2h", // a run never needs a refresh to keep reading
		// Every simulated user comes from 127.0.0.1: the per-IP limits would
		// measure the limiter, not the service. The limiter still runs (and
		// still asks Redis) on every request; the per-user limit is as deployed.
		"RATE_LIMIT_ANON=1000000/m",
		"RATE_LIMIT_AUTH=1000000/m",
		"RATE_LIMIT_LOGIN_FAILURES=1000000/m",
	)
	if o.procs > 0 {
		env = append(env, "GOMAXPROCS="+strconv.Itoa(o.procs))
	}
	if o.memLimit != "" {
		env = append(env, "GOMEMLIMIT="+o.memLimit)
	}
	name, args := bin, []string{"serve"}
	if o.cpus != "" {
		// taskset execs the binary, so the pid is the server's.
		name, args = "taskset", append([]string{"-c", o.cpus, bin}, args...)
	}
	if o.nice != 0 {
		// nice and taskset exec what follows: the pid stays the server's.
		name, args = "nice", append([]string{"-n", strconv.Itoa(o.nice), name}, args...)
	}
	logPath := o.logFile
	if logPath == "" {
		logPath = filepath.Join(s.dir, "server.log")
	}
	logf, err := os.Create(logPath)
	if err != nil {
		s.cleanup()
		return nil, err
	}
	s.cmd = exec.Command(name, args...)
	s.cmd.Env, s.cmd.Stdout, s.cmd.Stderr = env, logf, logf
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := s.cmd.Start(); err != nil {
		logf.Close()
		s.cleanup()
		return nil, err
	}
	s.pid = s.cmd.Process.Pid
	go func() { s.exited <- s.cmd.Wait(); logf.Close() }()
	fmt.Fprintf(out, "server pid %d on %s (database %s, log %s; cpus=%q GOMAXPROCS=%d GOMEMLIMIT=%q WORKER=%s)\n",
		s.pid, s.base, s.dbName, logPath, o.cpus, o.procs, o.memLimit, o.worker)
	if err := s.waitReady(ctx, 60*time.Second); err != nil {
		s.stop(out)
		return nil, err
	}
	return s, nil
}

func (s *server) waitReady(ctx context.Context, within time.Duration) error {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		select {
		case err := <-s.exited:
			return fmt.Errorf("the server exited before it was ready: %v", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		res, err := http.Get(s.base + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return nil
			}
		}
	}
	return fmt.Errorf("the server was not ready within %s", within)
}

// stop sends SIGTERM, waits for a clean exit, and drops the database.
func (s *server) stop(out io.Writer) {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-s.exited:
			if err != nil {
				fmt.Fprintf(out, "server exit: %v\n", err)
			}
		case <-time.After(40 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.exited
			fmt.Fprintln(out, "server did not stop within 40s; killed")
		}
		s.cmd = nil
	}
	s.cleanup()
}

func (s *server) cleanup() {
	s.dropDB()
	if s.dir != "" {
		_ = os.RemoveAll(s.dir)
	}
}

func (s *server) dropDB() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = adminExec(ctx, s.adminURL, "DROP DATABASE IF EXISTS "+s.dbName+" WITH (FORCE)")
}

// lifetimePeakMiB is VmHWM: the process's peak resident set since the last
// reset (procStats resets it at the start of each step).
func (s *server) lifetimePeakMiB() float64 {
	p, _ := readProc(s.pid)
	return p.peakRSSMiB
}

func adminExec(ctx context.Context, adminURL, stmt string) error {
	db, err := sql.Open("pgx", adminURL)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, stmt)
	return err
}

func withDatabase(adminURL, name string) (string, error) {
	u, err := url.Parse(adminURL)
	if err != nil {
		return "", fmt.Errorf("-admin-url: %w", err)
	}
	u.Path = "/" + name
	return u.String(), nil
}

func flushRedis(ctx context.Context, redisURL string) error {
	if err := loopbackURL(redisURL); err != nil {
		return fmt.Errorf("-redis-url: %w", err)
	}
	opts, err := redis.ParseURL(redisURL)
	if err != nil {
		return fmt.Errorf("-redis-url: %w", err)
	}
	if opts.DB == 0 {
		return errors.New("-redis-url: refusing to flush database 0; pick a database of its own (default 14)")
	}
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	return rdb.FlushDB(ctx).Err()
}

// loopbackOnly refuses any target that is not on this machine.
func loopbackOnly(base string) error {
	if err := loopbackURL(base); err != nil {
		return fmt.Errorf("-target: %w", err)
	}
	return nil
}

func loopbackURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("%q is not a loopback address: loadgen only targets this machine", host)
}

func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// procStats are the figures /proc gives about the server.
type procStats struct {
	cpuSeconds float64 // utime + stime
	peakRSSMiB float64 // VmHWM
	rssMiB     float64 // VmRSS
}

const clockTicks = 100 // USER_HZ on Linux

func readProc(pid int) (procStats, error) {
	var p procStats
	if pid == 0 {
		return p, errors.New("no pid")
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return p, err
	}
	// Fields after the command name (which may contain spaces) in ")".
	rest := string(stat[strings.LastIndexByte(string(stat), ')')+2:])
	f := strings.Fields(rest)
	if len(f) > 12 {
		ut, _ := strconv.ParseFloat(f[11], 64)
		st, _ := strconv.ParseFloat(f[12], 64)
		p.cpuSeconds = (ut + st) / clockTicks
	}
	status, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return p, err
	}
	defer status.Close()
	sc := bufio.NewScanner(status)
	for sc.Scan() {
		line := sc.Text()
		for key, dst := range map[string]*float64{"VmHWM:": &p.peakRSSMiB, "VmRSS:": &p.rssMiB} {
			if strings.HasPrefix(line, key) {
				kb, _ := strconv.ParseFloat(strings.Fields(line)[1], 64)
				*dst = kb / 1024
			}
		}
	}
	return p, sc.Err()
}

// resetPeak makes VmHWM start again from the current RSS (clear_refs 5),
// so each step reports its own peak. It needs to own the process or root;
// without it the peak is the process's lifetime peak.
func resetPeak(pid int) bool {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0) == nil
}
