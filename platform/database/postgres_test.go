package database_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lenticular/lenticular/platform/database"
	"github.com/lenticular/lenticular/platform/testenv"
)

func openPostgres(t *testing.T, o database.Options) *database.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	db, err := database.Open(ctx, o)
	if err != nil {
		t.Fatalf("Open PostgreSQL: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db
}

func TestOpenPostgres(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name             string
		opts             database.Options
		wantTimeout      string
		wantMaxOpenConns int
	}{
		{"defaults", database.Options{}, "30s", 20},
		{"explicit", database.Options{MaxOpenConns: 4, MaxIdleConns: 2, ConnMaxLifetime: time.Minute, StatementTimeout: 1500 * time.Millisecond}, "1500ms", 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := tt.opts
			o.URL = testenv.FreshPostgres(t)
			db := openPostgres(t, o)
			if db.Dialect != database.DialectPostgres {
				t.Errorf("Dialect = %q, want %q", db.Dialect, database.DialectPostgres)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := db.Ping(ctx); err != nil {
				t.Fatalf("Ping: %v", err)
			}
			var timeout string
			if err := db.Gorm.WithContext(ctx).Raw("SHOW statement_timeout").Scan(&timeout).Error; err != nil {
				t.Fatal(err)
			}
			if timeout != tt.wantTimeout {
				t.Errorf("statement_timeout = %q, want %q", timeout, tt.wantTimeout)
			}
			if got := db.SQL.Stats().MaxOpenConnections; got != tt.wantMaxOpenConns {
				t.Errorf("MaxOpenConnections = %d, want %d", got, tt.wantMaxOpenConns)
			}
		})
	}
}

func TestPostgresStatementTimeoutEnforced(t *testing.T) {
	t.Parallel()
	db := openPostgres(t, database.Options{URL: testenv.FreshPostgres(t), StatementTimeout: 200 * time.Millisecond})
	start := time.Now()
	err := db.Gorm.Exec("SELECT pg_sleep(5)").Error
	if err == nil || !strings.Contains(err.Error(), "statement timeout") {
		t.Fatalf("pg_sleep(5) with a 200ms statement_timeout: err = %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("statement ran %v despite the timeout", d)
	}
}

func TestPostgresGormLoggerOmitsArguments(t *testing.T) {
	t.Parallel()
	var buf syncBuffer
	l := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	db := openPostgres(t, database.Options{URL: testenv.FreshPostgres(t), Logger: l})
	checkFailedQueryLog(t, db, &buf)
}

// An unreachable server makes Open fail within seconds, not hang, and the
// error does not carry the password.
func TestOpenPostgresUnreachable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		addr func(t *testing.T) string
	}{
		{"closed port", closedPort},
		{"server that never answers", silentServer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			const password = "s3cr3t-Passw0rd"
			u := "postgres://app:" + password + "@" + tt.addr(t) + "/app?sslmode=disable"
			start := time.Now()
			db, err := database.Open(context.Background(), database.Options{URL: u})
			elapsed := time.Since(start)
			if err == nil {
				db.Close()
				t.Fatal("Open succeeded against an unreachable server")
			}
			if elapsed > database.DefaultConnectTimeout+3*time.Second {
				t.Errorf("Open took %v to fail, want about %v at most", elapsed, database.DefaultConnectTimeout)
			}
			if strings.Contains(err.Error(), password) {
				t.Errorf("error leaks the password: %v", err)
			}
			if !strings.Contains(err.Error(), "DATABASE_URL") {
				t.Errorf("error does not name DATABASE_URL: %v", err)
			}
			t.Logf("failed after %v: %v", elapsed.Round(time.Millisecond), err)
		})
	}
}

func closedPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// silentServer accepts connections and never says anything.
func silentServer(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// Ping reports an outage and recovers when the server comes back, without
// reopening the DB. The outage is simulated with a TCP proxy in front of the
// test server so the shared server itself is never stopped.
func TestPostgresPingRecoversAfterOutage(t *testing.T) {
	t.Parallel()
	fresh := testenv.FreshPostgres(t)
	u, err := url.Parse(fresh)
	if err != nil {
		t.Fatal(err)
	}
	p := newProxy(t, u.Host)
	u.Host = p.addr
	db := openPostgres(t, database.Options{URL: u.String()})

	ping := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		return db.Ping(ctx)
	}
	if err := ping(); err != nil {
		t.Fatalf("Ping before the outage: %v", err)
	}
	// Fill the pool with a few idle connections that the outage will break.
	for range 3 {
		if err := db.Gorm.Exec("SELECT 1").Error; err != nil {
			t.Fatal(err)
		}
	}

	p.stop()
	start := time.Now()
	if err := ping(); err == nil {
		t.Fatal("Ping succeeded while the server was unreachable")
	} else {
		t.Logf("Ping during the outage failed after %v: %v", time.Since(start).Round(time.Millisecond), err)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("Ping during the outage took %v, want it bounded by its context", d)
	}

	p.start()
	if err := ping(); err != nil {
		t.Fatalf("first Ping after the server returned: %v", err)
	}
	if err := db.Gorm.Exec("SELECT 1").Error; err != nil {
		t.Fatalf("query after the server returned: %v", err)
	}
}

// proxy forwards TCP connections to target; stop closes the listener and
// every forwarded connection, start listens again on the same address.
type proxy struct {
	t      *testing.T
	target string
	addr   string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]struct{}
}

func newProxy(t *testing.T, target string) *proxy {
	p := &proxy{t: t, target: target, conns: map[net.Conn]struct{}{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(p.stop)
	return p
}

func (p *proxy) start() {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatalf("proxy restart on %s: %v", p.addr, err)
	}
	p.serve(ln)
}

func (p *proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns[c], p.conns[up] = struct{}{}, struct{}{}
			p.mu.Unlock()
			go func() { io.Copy(up, c); up.Close() }()
			go func() { io.Copy(c, up); c.Close() }()
		}
	}()
}

func (p *proxy) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}
