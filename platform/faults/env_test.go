package faults

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lenticular/lenticular/platform/testenv"
)

// binary is the lenticular binary built once for the package.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lt-faults-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "lenticular")
	build := exec.Command("go", "build", "-o", binary, "../../cmd/lenticular")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build lenticular:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// need skips (fails under CI=true) when a server binary is missing.
func need(t *testing.T, what, path string) {
	t.Helper()
	if path != "" {
		return
	}
	msg := fmt.Sprintf("\n!!! FAULT TEST NOT RUN: %s not found (install postgresql and redis-server).", what)
	if testenv.InCI() {
		t.Fatal(msg + "\n!!! CI=true: a skipped test is a failure.")
	}
	t.Skip(msg)
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// ---- PostgreSQL: a throwaway cluster of the test's own ----

type postgres struct {
	t      *testing.T
	bin    string
	dir    string // owned by the server's user
	port   int
	asUser []string // runuser prefix when the tests run as root (initdb refuses root)
}

func pgBinDir() string {
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(matches) == 0 {
		if p, err := exec.LookPath("initdb"); err == nil {
			return filepath.Dir(p)
		}
		return ""
	}
	sort.Slice(matches, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(matches[i]))))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(matches[j]))))
		return vi < vj
	})
	return filepath.Dir(matches[len(matches)-1])
}

func startPostgres(t *testing.T) *postgres {
	t.Helper()
	bin := pgBinDir()
	need(t, "initdb/pg_ctl (/usr/lib/postgresql/*/bin)", bin)
	p := &postgres{t: t, bin: bin, port: freePort(t)}
	dir, err := os.MkdirTemp("", "lt-faults-pg-")
	if err != nil {
		t.Fatal(err)
	}
	p.dir = dir
	t.Cleanup(func() { os.RemoveAll(dir) })
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root needs a postgres user for initdb: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		p.asUser = []string{"runuser", "-u", "postgres", "--"}
	}
	p.run(30*time.Second, filepath.Join(bin, "initdb"), "-D", p.data(), "-U", "postgres", "--auth=trust",
		"-E", "UTF8", "--no-sync", "--no-instructions")
	p.start()
	t.Cleanup(func() {
		_ = p.cmd(10*time.Second, filepath.Join(p.bin, "pg_ctl"), "-D", p.data(), "-m", "immediate", "-w", "stop").Run()
	})
	return p
}

func (p *postgres) data() string { return filepath.Join(p.dir, "data") }

func (p *postgres) url() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", p.port)
}

func (p *postgres) cmd(timeout time.Duration, name string, args ...string) *exec.Cmd {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	p.t.Cleanup(cancel)
	all := append(append([]string{}, p.asUser...), name)
	all = append(all, args...)
	return exec.CommandContext(ctx, all[0], all[1:]...)
}

func (p *postgres) run(timeout time.Duration, name string, args ...string) {
	p.t.Helper()
	out, err := p.cmd(timeout, name, args...).CombinedOutput()
	if err != nil {
		p.t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
	}
}

func (p *postgres) start() {
	p.t.Helper()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c synchronous_commit=off", p.port, p.dir)
	p.run(60*time.Second, filepath.Join(p.bin, "pg_ctl"), "-D", p.data(), "-l", filepath.Join(p.dir, "server.log"), "-o", opts, "-w", "start")
}

// stop is a fast shutdown: sessions are terminated, the port closes.
func (p *postgres) stop() {
	p.t.Helper()
	p.run(60*time.Second, filepath.Join(p.bin, "pg_ctl"), "-D", p.data(), "-m", "fast", "-w", "stop")
}

// sql runs one statement through psql.
func (p *postgres) sql(stmt string) string {
	p.t.Helper()
	out, err := exec.Command(filepath.Join(p.bin, "psql"), "-h", "127.0.0.1", "-p", strconv.Itoa(p.port), "-U", "postgres",
		"-d", "postgres", "-Atq", "-c", stmt).CombinedOutput()
	if err != nil {
		p.t.Fatalf("psql %q: %v\n%s", stmt, err, out)
	}
	return strings.TrimSpace(string(out))
}

// ---- Redis: a throwaway redis-server of the test's own ----

type redisServer struct {
	t    *testing.T
	bin  string
	port int
	dir  string
	cmd  *exec.Cmd
	done chan struct{}
}

func startRedis(t *testing.T) *redisServer {
	t.Helper()
	bin, _ := exec.LookPath("redis-server")
	need(t, "redis-server", bin)
	r := &redisServer{t: t, bin: bin, port: freePort(t), dir: t.TempDir()}
	r.start()
	t.Cleanup(r.stop)
	return r
}

func (r *redisServer) url() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", r.port) }

func (r *redisServer) start() {
	r.t.Helper()
	r.cmd = exec.Command(r.bin, "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", r.dir)
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	r.done = make(chan struct{})
	go func(c *exec.Cmd, done chan struct{}) { _ = c.Wait(); close(done) }(r.cmd, r.done)
	for range 100 {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", r.port)); err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.t.Fatal("redis-server did not listen")
}

// stop kills the server at once, as a crash or a lost node would.
func (r *redisServer) stop() {
	if r.cmd == nil {
		return
	}
	_ = r.cmd.Process.Kill()
	<-r.done
	r.cmd = nil
}

// ---- the service: the built binary ----

type service struct {
	t       *testing.T
	cmd     *exec.Cmd
	base    string
	metrics string
	log     *bytes.Buffer
	logMu   *sync.Mutex
	exited  chan error
	mailDir string
}

type syncWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (s syncWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(b)
}

// startBinary runs `lenticular <args>` with the base environment plus env,
// and waits for /readyz when it serves HTTP.
func startBinary(t *testing.T, pgURL, redisURL string, env map[string]string, args ...string) *service {
	t.Helper()
	s := &service{t: t, log: &bytes.Buffer{}, logMu: &sync.Mutex{}, exited: make(chan error, 1)}
	vars := map[string]string{
		"APP_ENV": "test", "AUTO_MIGRATE": "true", "JWT_SECRET": strings.Repeat("f", 48),
		"DATABASE_URL": pgURL, "REDIS_URL": redisURL, "DATA_DIR": t.TempDir(),
		"MAILER": "file", "LOG_LEVEL": "info", "SHUTDOWN_TIMEOUT": "10s",
		"RATE_LIMIT_ANON": "100000/m", "RATE_LIMIT_AUTH": "100000/m", "RATE_LIMIT_USER": "100000/m",
	}
	vars["MAIL_FILE_DIR"] = filepath.Join(vars["DATA_DIR"], "mail")
	serving := len(args) == 0 || args[0] == "serve"
	if serving {
		vars["HTTP_ADDR"] = fmt.Sprintf("127.0.0.1:%d", freePort(t))
		vars["METRICS_ADDR"] = fmt.Sprintf("127.0.0.1:%d", freePort(t))
	}
	for k, v := range env {
		vars[k] = v
	}
	s.mailDir = vars["MAIL_FILE_DIR"]
	s.base, s.metrics = "http://"+vars["HTTP_ADDR"], "http://"+vars["METRICS_ADDR"]+"/metrics"
	s.cmd = exec.Command(binary, args...)
	for k, v := range vars {
		s.cmd.Env = append(s.cmd.Env, k+"="+v)
	}
	w := syncWriter{mu: s.logMu, w: s.log}
	s.cmd.Stdout, s.cmd.Stderr = w, w
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.exited <- s.cmd.Wait() }()
	t.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
		if t.Failed() {
			t.Logf("lenticular %v output (tail):\n%s", args, tail(s.logs(), 60))
		}
	})
	if serving {
		s.waitReady(60*time.Second, 200)
	}
	return s
}

func (s *service) logs() string {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	return s.log.String()
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// waitReady polls /readyz until it answers want.
func (s *service) waitReady(within time.Duration, want int) time.Duration {
	s.t.Helper()
	start := time.Now()
	for time.Since(start) < within {
		select {
		case err := <-s.exited:
			s.t.Fatalf("lenticular exited: %v\n%s", err, tail(s.logs(), 40))
		default:
		}
		if code, _ := s.ready(); code == want {
			return time.Since(start)
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("/readyz did not answer %d within %s\n%s", want, within, tail(s.logs(), 40))
	return 0
}

func (s *service) ready() (int, map[string]any) {
	c := &http.Client{Timeout: 3 * time.Second}
	res, err := c.Get(s.base + "/readyz")
	if err != nil {
		return 0, nil
	}
	defer res.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(res.Body).Decode(&body)
	return res.StatusCode, body
}

// signal sends sig and waits for the process to exit.
func (s *service) signal(sig os.Signal, within time.Duration) error {
	s.t.Helper()
	if err := s.cmd.Process.Signal(sig); err != nil {
		s.t.Fatal(err)
	}
	select {
	case err := <-s.exited:
		return err
	case <-time.After(within):
		s.t.Fatalf("lenticular did not exit within %s of %v", within, sig)
		return nil
	}
}

func (s *service) mails() int {
	entries, _ := os.ReadDir(s.mailDir)
	n := 0
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".eml") {
			n++
		}
	}
	return n
}

// ---- HTTP helpers ----

type answer struct {
	request string // method and URL
	status  int
	code    string // problem code
	body    map[string]any
	latency time.Duration
	err     error
	at      time.Time
	// freshConn: the request went out on a new connection (not a reused
	// keep-alive one).
	freshConn bool
}

var httpClient = &http.Client{Timeout: 10 * time.Second}

func call(c *http.Client, method, url, token string, body any) answer {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	var fresh bool
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		GotConn: func(info httptrace.GotConnInfo) { fresh = !info.Reused },
	}))
	start := time.Now()
	res, err := c.Do(req)
	a := answer{request: method + " " + url, at: start, err: err, freshConn: fresh}
	if err != nil {
		a.latency = time.Since(start)
		return a
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	a.latency = time.Since(start)
	a.status = res.StatusCode
	_ = json.Unmarshal(b, &a.body)
	if c, ok := a.body["code"].(string); ok {
		a.code = c
	}
	return a
}

// register creates an account and returns its access token.
func register(t *testing.T, base, email string) (access, refresh string) {
	t.Helper()
	a := call(httpClient, "POST", base+"/v1/auth/register", "", map[string]string{
		"email": email, "password": "faults-Vq7#tide-harbour",
	})
	if a.status != 201 {
		t.Fatalf("register %s: %d %v %v", email, a.status, a.body, a.err)
	}
	return a.body["access_token"].(string), a.body["refresh_token"].(string)
}

// traffic runs workers calling fn until stop is closed, collecting answers.
type traffic struct {
	mu      sync.Mutex
	answers []answer
	stop    chan struct{}
	wg      sync.WaitGroup
}

func runTraffic(workers int, fn func(c *http.Client, i int) answer) *traffic {
	tr := &traffic{stop: make(chan struct{})}
	for w := range workers {
		tr.wg.Go(func() {
			c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
			defer c.CloseIdleConnections()
			for i := 0; ; i++ {
				select {
				case <-tr.stop:
					return
				default:
				}
				a := fn(c, w*1_000_000+i)
				tr.mu.Lock()
				tr.answers = append(tr.answers, a)
				tr.mu.Unlock()
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
	return tr
}

func (tr *traffic) finish() []answer {
	close(tr.stop)
	tr.wg.Wait()
	return tr.answers
}
