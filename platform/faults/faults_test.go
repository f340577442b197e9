package faults

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/lenticular/lenticular/platform/observability"
)

// failFast is the longest a request may take while a dependency is down:
// it must fail (or succeed) promptly, never hang.
const failFast = 2 * time.Second

// TestPostgresRestart: PostgreSQL stops while traffic runs. /readyz turns 503
// within 2 s, requests that need the database answer 503
// database_unavailable promptly (never a 500, never a user error) while
// GET /v1/users/me keeps answering from the near caches, and after
// PostgreSQL is back everything recovers without restarting the service,
// the job queue included.
func TestPostgresRestart(t *testing.T) {
	t.Parallel()
	pg, rd := startPostgres(t), startRedis(t)
	svc := startBinary(t, pg.url(), rd.url(), map[string]string{"WORKER": "embedded"})
	token, _ := register(t, svc.base, "pg-restart@example.com")

	var down, up atomic.Int64 // unix nanos of the outage window
	tr := runTraffic(4, func(c *http.Client, i int) answer {
		switch i % 3 {
		case 0:
			return call(c, "GET", svc.base+"/v1/users/me", token, nil)
		case 1:
			return call(c, "GET", svc.base+"/v1/links?limit=5", "", nil)
		default:
			return call(c, "POST", svc.base+"/v1/links", token, map[string]string{"url": fmt.Sprintf("https://example.com/pg/%d", i)})
		}
	})
	time.Sleep(time.Second)

	pg.stop()
	down.Store(time.Now().UnixNano())
	turned := svc.waitReady(5*time.Second, 503)
	t.Logf("/readyz answered 503 %s after PostgreSQL stopped", turned.Round(time.Millisecond))
	if turned > 2*time.Second {
		t.Errorf("/readyz took %s to turn 503, want <= 2s", turned)
	}
	code, body := svc.ready()
	if checks, _ := body["checks"].(map[string]any); code != 503 || checks["database"] != "failing" {
		t.Errorf("/readyz during the outage = %d %v", code, body)
	}
	time.Sleep(2 * time.Second)

	up.Store(time.Now().UnixNano())
	pg.start()
	recovered := svc.waitReady(15*time.Second, 200)
	t.Logf("/readyz answered 200 %s after PostgreSQL started", recovered.Round(time.Millisecond))
	time.Sleep(1500 * time.Millisecond)
	recoveredAt := time.Now()
	time.Sleep(time.Second)
	answers := tr.finish()

	var ok, unavailable, during, after int
	for _, a := range answers {
		inOutage := a.at.UnixNano() >= down.Load() && a.at.UnixNano() < up.Load()
		if inOutage {
			during++
		}
		switch {
		case a.err != nil:
			t.Errorf("request failed without an answer: %v", a.err)
		case a.status == 503 && a.code == "database_unavailable":
			unavailable++
		case a.status < 300:
			ok++
		default:
			t.Errorf("answer %d %s %v (want 2xx or 503 database_unavailable)", a.status, a.code, a.body)
		}
		// GET /v1/users/me is answered from the near caches (Redis is up
		// and nothing can change the account while the database is down);
		// everything else needs the database.
		me := strings.HasSuffix(a.request, "/v1/users/me")
		switch {
		case inOutage && me && a.status != 200:
			t.Errorf("during the outage: %s = %d %v, want 200 from the near caches", a.request, a.status, a.body)
		case inOutage && !me && a.status != 503:
			t.Errorf("during the outage: %s = %d %v, want 503 database_unavailable", a.request, a.status, a.body)
		}
		if a.latency > failFast {
			t.Errorf("a request took %s (status %d): requests must fail fast", a.latency, a.status)
		}
		if a.at.After(recoveredAt) {
			after++
			if a.status >= 300 {
				t.Errorf("after recovery: %d %v", a.status, a.body)
			}
		}
	}
	t.Logf("%d answers: %d ok, %d 503 database_unavailable; %d sent during the outage, %d after recovery", len(answers), ok, unavailable, during, after)
	if during == 0 || unavailable == 0 || after == 0 {
		t.Errorf("the traffic did not cover the outage and the recovery")
	}

	// The job queue recovered too: a registration now sends its email.
	before := svc.mails()
	register(t, svc.base, "after-restart@example.com")
	deadline := time.Now().Add(20 * time.Second)
	for svc.mails() <= before && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if svc.mails() <= before {
		t.Error("no email sent for a registration after PostgreSQL came back: the job queue did not recover")
	}
}

// TestRedisOutage: Redis dies while traffic runs. The service keeps
// serving: rate limits fall back to the in-process limiter, session checks
// to the database (logout still revokes), /readyz reports redis failing but
// stays 200 "degraded"; when Redis returns, it is used again.
func TestRedisOutage(t *testing.T) {
	t.Parallel()
	pg, rd := startPostgres(t), startRedis(t)
	svc := startBinary(t, pg.url(), rd.url(), nil)
	token, _ := register(t, svc.base, "redis-outage@example.com")

	tr := runTraffic(4, func(c *http.Client, i int) answer {
		if i%2 == 0 {
			return call(c, "GET", svc.base+"/v1/users/me", token, nil)
		}
		return call(c, "GET", svc.base+"/v1/search/links?q=tune", "", nil)
	})
	time.Sleep(time.Second)
	rd.stop()

	// Readiness: still 200, degraded, naming redis.
	deadline := time.Now().Add(5 * time.Second)
	var code int
	var body map[string]any
	for time.Now().Before(deadline) {
		code, body = svc.ready()
		if body["status"] == "degraded" {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	checks, _ := body["checks"].(map[string]any)
	if code != 200 || body["status"] != "degraded" || checks["redis"] != "failing" || checks["database"] != "ok" {
		t.Fatalf("/readyz with Redis down = %d %v, want 200 degraded with redis failing", code, body)
	}

	// Rate limiting still applies (the in-process limiter's headers).
	a := call(httpClient, "GET", svc.base+"/v1/users/me", token, nil)
	if a.status != 200 {
		t.Errorf("GET /v1/users/me with Redis down = %d %v", a.status, a.body)
	}
	res, err := httpClient.Get(svc.base + "/v1/links")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.Header.Get("RateLimit-Limit") == "" {
		t.Error("no RateLimit headers with Redis down: the in-process limiter did not stand in")
	}

	// Sign-in, then logout, with Redis down: the revocation is in the
	// database, and the token is refused at once.
	other, _ := register(t, svc.base, "logout-while-redis-down@example.com")
	if a := call(httpClient, "GET", svc.base+"/v1/users/me", other, nil); a.status != 200 {
		t.Fatalf("new session with Redis down: %d %v", a.status, a.body)
	}
	if a := call(httpClient, "POST", svc.base+"/v1/auth/logout", other, nil); a.status != 204 {
		t.Fatalf("logout with Redis down = %d %v", a.status, a.body)
	}
	if a := call(httpClient, "GET", svc.base+"/v1/users/me", other, nil); a.status != 401 || a.code != "session_revoked" {
		t.Errorf("a logged-out token with Redis down = %d %s, want 401 session_revoked", a.status, a.code)
	}
	time.Sleep(time.Second)

	rd.start()
	deadline = time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if code, body = svc.ready(); code == 200 && body["status"] == "ok" {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if code != 200 || body["status"] != "ok" {
		t.Errorf("/readyz after Redis came back = %d %v", code, body)
	}
	// The revocation survives Redis's return (its cache restarted empty).
	if a := call(httpClient, "GET", svc.base+"/v1/users/me", other, nil); a.status != 401 {
		t.Errorf("a logged-out token after Redis came back = %d", a.status)
	}
	time.Sleep(500 * time.Millisecond)
	answers := tr.finish()
	bad := 0
	for _, a := range answers {
		// A request may wait once for Redis's 2 s dial timeout (platform/cache)
		// while the server is going or coming back; never longer.
		if a.err != nil || a.status != 200 || a.latency > failFast+time.Second {
			bad++
			if bad <= 5 {
				t.Errorf("during the Redis outage: %d %v %v after %s", a.status, a.body, a.err, a.latency)
			}
		}
	}
	t.Logf("%d answers while Redis stopped and came back, %d not 200", len(answers), bad)
}

// TestSIGTERMUnderLoad: SIGTERM during steady load. Every request the
// server accepted is answered successfully (in-flight requests finish);
// clients only see connections refused once the listener is closed; the
// process exits 0; jobs queued before the signal are all delivered, by this
// process or, if it stopped them, by the next one.
func TestSIGTERMUnderLoad(t *testing.T) {
	t.Parallel()
	pg, rd := startPostgres(t), startRedis(t)
	// The drain delay lets every keep-alive connection receive a
	// `Connection: close` answer before the listener closes; without it a
	// client can send a request on an idle connection at the instant the
	// server closes it (an EOF no server can prevent).
	const drainDelay = time.Second
	env := map[string]string{"WORKER": "embedded", "SHUTDOWN_DRAIN_DELAY": drainDelay.String()}
	svc := startBinary(t, pg.url(), rd.url(), env)
	token, _ := register(t, svc.base, "sigterm@example.com")

	var registered atomic.Int64
	registered.Store(1)
	tr := runTraffic(6, func(c *http.Client, i int) answer {
		switch i % 4 {
		case 0: // a registration queues an email job
			a := call(c, "POST", svc.base+"/v1/auth/register", "", map[string]string{
				"email": fmt.Sprintf("u%d@example.com", i), "password": "faults-Vq7#tide-harbour",
			})
			if a.status == 201 {
				registered.Add(1)
			}
			return a
		case 1:
			return call(c, "POST", svc.base+"/v1/links", token, map[string]string{"url": fmt.Sprintf("https://example.com/term/%d", i)})
		default:
			return call(c, "GET", svc.base+"/v1/users/me", token, nil)
		}
	})
	time.Sleep(2 * time.Second)
	signalled := time.Now()
	if err := svc.signal(syscall.SIGTERM, 30*time.Second); err != nil {
		t.Errorf("exit after SIGTERM: %v (want status 0)", err)
	}
	t.Logf("exited %s after SIGTERM", time.Since(signalled).Round(time.Millisecond))
	time.Sleep(200 * time.Millisecond)
	answers := tr.finish()

	var ok, refused int
	for _, a := range answers {
		switch {
		case a.err == nil && a.status < 300:
			ok++
		case a.err != nil && isRefused(a.err) && a.at.After(signalled):
			refused++ // the listener is closed: a new connection is refused, nothing was lost
		case a.err != nil && a.freshConn && isReset(a.err) && a.at.After(signalled.Add(drainDelay)):
			// A connection the kernel completed in the listener's backlog
			// as it closed: reset before the server could accept it, so the
			// request never reached the service (nothing was lost). Go's
			// Shutdown leaves accepted connections that have not sent a
			// request alone, so this cannot hide a dropped request.
			refused++
		default:
			t.Errorf("failed request around SIGTERM: status %d %v err %v (sent %s after the signal)",
				a.status, a.body, a.err, a.at.Sub(signalled).Round(time.Millisecond))
		}
	}
	t.Logf("%d requests: %d succeeded, %d refused after the listener closed", len(answers), ok, refused)
	if ok == 0 || refused == 0 {
		t.Error("the load did not straddle the shutdown")
	}

	// No job was left "running"; every queued email is delivered (by the
	// next process for those the first one had not started).
	if n := pg.sql("SELECT count(*) FROM river_job WHERE state = 'running'"); n != "0" {
		t.Errorf("%s jobs left running after a graceful stop", n)
	}
	sent := svc.mails()
	t.Logf("%d registrations, %d emails sent before the process exited", registered.Load(), sent)
	next := startBinary(t, pg.url(), rd.url(), map[string]string{"WORKER": "embedded", "DATA_DIR": svc.mailDir + "-next", "MAIL_FILE_DIR": svc.mailDir})
	deadline := time.Now().Add(30 * time.Second)
	for int64(next.mails()) < registered.Load() && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	if got := int64(next.mails()); got != registered.Load() {
		t.Errorf("%d emails for %d registrations", got, registered.Load())
	}
}

// isReset reports a connection closed under a request (EOF or RST).
func isReset(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET)
}

func isRefused(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial" || errors.Is(err, syscall.ECONNREFUSED)
}

// TestWorkerSIGKILL: a worker is killed with SIGKILL in the middle of
// sending an email. The job stays "running" until River's rescuer sees it
// stuck (RescueStuckJobsAfter, 5 minutes in the binary; the test ages the
// job's attempted_at instead of waiting), puts it back, and another worker
// sends the email. adapters/jobs's crash test proves the same with the
// rescuer's real timer on a shortened setting.
func TestWorkerSIGKILL(t *testing.T) {
	t.Parallel()
	pg, rd := startPostgres(t), startRedis(t)
	api := startBinary(t, pg.url(), rd.url(), map[string]string{"WORKER": "off"})

	// An SMTP server that accepts the connection and then never answers:
	// the first worker's job hangs in the middle of the send.
	smtp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { smtp.Close() })
	connected := make(chan struct{}, 1)
	go func() {
		for {
			c, err := smtp.Accept()
			if err != nil {
				return
			}
			fmt.Fprintf(c, "220 stall.example ESMTP\r\n")
			_, _ = bufio.NewReader(c).ReadString('\n') // EHLO, never answered
			select {
			case connected <- struct{}{}:
			default:
			}
			t.Cleanup(func() { c.Close() })
		}
	}()

	register(t, api.base, "sigkill@example.com") // queues the verification email
	worker := startBinary(t, pg.url(), rd.url(), map[string]string{
		"MAILER": "smtp", "SMTP_URL": "smtp://" + smtp.Addr().String() + "?tls=none",
	}, "worker")
	select {
	case <-connected:
	case <-time.After(30 * time.Second):
		t.Fatalf("the worker never started the send\n%s", tail(worker.logs(), 30))
	}
	if n := pg.sql("SELECT count(*) FROM river_job WHERE state = 'running'"); n != "1" {
		t.Fatalf("%s jobs running, want the one email", n)
	}
	_ = worker.signal(syscall.SIGKILL, 10*time.Second)

	// The job is stuck "running" with nobody working it. Age it past
	// RescueStuckJobsAfter, as if five minutes had passed.
	pg.sql("UPDATE river_job SET attempted_at = now() - interval '1 hour' WHERE state = 'running'")
	next := startBinary(t, pg.url(), rd.url(), nil, "worker")
	deadline := time.Now().Add(90 * time.Second)
	for next.mails() == 0 && time.Now().Before(deadline) {
		time.Sleep(250 * time.Millisecond)
	}
	if next.mails() != 1 {
		t.Fatalf("after the rescue: %d emails, want 1\n%s", next.mails(), tail(next.logs(), 30))
	}
	mail, _ := os.ReadDir(next.mailDir)
	b, _ := os.ReadFile(next.mailDir + "/" + mail[0].Name())
	if !strings.Contains(string(b), "sigkill@example.com") {
		t.Errorf("the rescued email is not the verification of sigkill@example.com:\n%.400s", b)
	}
	if st := pg.sql("SELECT state || ' ' || attempt FROM river_job"); st != "completed 2" {
		t.Errorf("job after rescue: %q, want completed on attempt 2", st)
	}
}

// TestNoLeaksAfterLoad: after a burst of mixed traffic and a moment idle,
// the server's goroutines, database connections in use and open files are
// back where they were (the CI-sized version of `task load:soak`).
func TestNoLeaksAfterLoad(t *testing.T) {
	t.Parallel()
	pg, rd := startPostgres(t), startRedis(t)
	svc := startBinary(t, pg.url(), rd.url(), map[string]string{"WORKER": "embedded"})
	token, refresh := register(t, svc.base, "leaks@example.com")

	// Warm up every path once (pools, lazily started goroutines).
	var accounts atomic.Int64
	load := func(d time.Duration) {
		var rt atomic.Value
		rt.Store(refresh)
		tr := runTraffic(8, func(c *http.Client, i int) answer {
			switch i % 6 {
			case 0:
				return call(c, "GET", svc.base+"/v1/links?sort=popular", token, nil)
			case 1:
				return call(c, "POST", svc.base+"/v1/links", token, map[string]string{"url": fmt.Sprintf("https://example.com/leak/%d", i), "title": "tuning notes"})
			case 2:
				return call(c, "GET", svc.base+"/v1/search/links?q=tuning", "", nil)
			case 3:
				return call(c, "GET", svc.base+"/v1/search/users?q=lea", "", nil)
			case 4:
				if i%60 == 4 {
					return call(c, "POST", svc.base+"/v1/auth/register", "", map[string]string{"email": fmt.Sprintf("leak%d@example.com", accounts.Add(1)), "password": "faults-Vq7#tide-harbour"})
				}
				fallthrough
			default:
				return call(c, "GET", svc.base+"/v1/users/me", token, nil)
			}
		})
		time.Sleep(d)
		for _, a := range tr.finish() {
			if a.err != nil || a.status >= 300 {
				t.Errorf("request under load: %d %v %v", a.status, a.body, a.err)
				break
			}
		}
	}
	load(2 * time.Second)
	before := scrape(t, svc)
	load(10 * time.Second)
	after := scrape(t, svc)
	t.Logf("before -> after: goroutines %.0f -> %.0f, db open %.0f -> %.0f, in use %.0f -> %.0f, open fds %.0f -> %.0f",
		before["go_goroutines"], after["go_goroutines"], before["go_sql_open_connections"], after["go_sql_open_connections"],
		before["go_sql_in_use_connections"], after["go_sql_in_use_connections"], before["process_open_fds"], after["process_open_fds"])
	if after["go_goroutines"] > before["go_goroutines"]+5 {
		t.Errorf("goroutines grew from %.0f to %.0f", before["go_goroutines"], after["go_goroutines"])
	}
	// The scrape itself reads the job queue's table, so one connection may be in use.
	if after["go_sql_in_use_connections"] > 1 {
		t.Errorf("%.0f database connections still in use when idle", after["go_sql_in_use_connections"])
	}
	if after["go_sql_open_connections"] > 20 {
		t.Errorf("%.0f database connections open, above the pool size", after["go_sql_open_connections"])
	}
	if after["process_open_fds"] > before["process_open_fds"]+5 {
		t.Errorf("open files grew from %.0f to %.0f", before["process_open_fds"], after["process_open_fds"])
	}
}

// scrape reads the private /metrics once the server is idle (clients'
// keep-alive connections closed).
func scrape(t *testing.T, svc *service) map[string]float64 {
	t.Helper()
	httpClient.CloseIdleConnections()
	time.Sleep(2 * time.Second)
	res, err := httpClient.Get(svc.metrics)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	vals, err := observability.SumMetrics(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return vals
}
