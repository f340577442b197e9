// Package httpserver runs the public listener with timeouts that keep slow
// or malicious clients from holding connections, and shuts down gracefully:
// stop accepting, let in-flight requests finish, then return.
package httpserver

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// Drain is the shutting-down flag shared by the server and the readiness
// check.
type Drain struct{ on atomic.Bool }

// Draining reports whether shutdown has begun.
func (d *Drain) Draining() bool { return d != nil && d.on.Load() }

// Server is an http.Server bound to a listener of its own.
type Server struct {
	srv     *http.Server
	setting string
	ln      net.Listener
	log     *slog.Logger
	done    chan struct{}

	drain      *Drain
	drainDelay time.Duration
}

// DrainFirst makes Stop keep serving for delay before it closes the
// listener: /readyz already answers 503 (through d) so the load balancer
// stops routing here, and every answer carries `Connection: close`, so
// clients leave their keep-alive connections cleanly instead of racing a
// request against the server closing an idle one.
func (s *Server) DrainFirst(d *Drain, delay time.Duration) {
	s.drain, s.drainDelay = d, delay
	next := s.srv.Handler
	s.srv.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(&drainWriter{ResponseWriter: w, d: d}, r)
	})
}

// drainWriter decides on `Connection: close` when the answer's header is
// written, not when the request arrives: a request that started before the
// drain and answers during it (a slow sign-up) must close its connection
// too, or its client sends the next request on a connection that Shutdown
// closes as idle at that very moment.
type drainWriter struct {
	http.ResponseWriter
	d     *Drain
	wrote bool
}

func (w *drainWriter) mark() {
	if !w.wrote {
		w.wrote = true
		if w.d.Draining() {
			w.Header().Set("Connection", "close")
		}
	}
}

func (w *drainWriter) WriteHeader(code int) {
	w.mark()
	w.ResponseWriter.WriteHeader(code)
}

func (w *drainWriter) Write(b []byte) (int, error) {
	w.mark()
	return w.ResponseWriter.Write(b)
}

func (w *drainWriter) Flush() {
	w.mark()
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *drainWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Hijack keeps what Gin's writer asserts on its underlying writer working.
func (w *drainWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// New prepares the public server (HTTP_ADDR); nothing listens until Start.
func New(addr string, h http.Handler, log *slog.Logger) *Server {
	return NewFor("HTTP_ADDR", addr, h, log)
}

// NewFor prepares a server whose address comes from the named setting,
// which start-up errors and logs mention (METRICS_ADDR for the private
// listener).
func NewFor(setting, addr string, h http.Handler, log *slog.Logger) *Server {
	return &Server{
		setting: setting,
		srv: &http.Server{
			Addr:              addr,
			Handler:           h,
			ReadHeaderTimeout: 5 * time.Second,
			ReadTimeout:       30 * time.Second,
			WriteTimeout:      60 * time.Second,
			IdleTimeout:       120 * time.Second,
			MaxHeaderBytes:    64 << 10,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		},
		log:  log,
		done: make(chan struct{}),
	}
}

// Start binds the address (failing at once if it is taken) and serves in
// the background.
func (s *Server) Start() error {
	ln, err := net.Listen("tcp", s.srv.Addr)
	if err != nil {
		return fmt.Errorf("%s %s: %w", s.setting, s.srv.Addr, err)
	}
	s.ln = ln
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("http server stopped", "error", err)
		}
	}()
	s.log.Info("listening", "addr", ln.Addr().String(), "setting", s.setting)
	return nil
}

// Addr is the bound address (useful with HTTP_ADDR=127.0.0.1:0 in tests).
func (s *Server) Addr() string {
	if s.ln == nil {
		return s.srv.Addr
	}
	return s.ln.Addr().String()
}

// Stop closes the listener, waits for in-flight requests until ctx ends,
// then closes what is left.
func (s *Server) Stop(ctx context.Context) error {
	if s.ln == nil {
		return nil
	}
	if s.drain != nil {
		s.drain.on.Store(true)
		if s.drainDelay > 0 {
			s.log.Info("draining before closing the listener", "delay", s.drainDelay)
			select {
			case <-time.After(s.drainDelay):
			case <-ctx.Done():
			}
		}
	}
	err := s.srv.Shutdown(ctx)
	if err != nil {
		s.log.Warn("shutdown deadline passed; closing remaining connections", "error", err)
		_ = s.srv.Close()
	}
	<-s.done
	return err
}
