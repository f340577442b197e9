package observability

import (
	"database/sql"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Namespace prefixes every metric of the service.
const Namespace = "lenticular"

// Metrics is the service's Prometheus registry and the instruments the
// adapters update. Its methods are safe for concurrent use; a nil *Metrics
// is valid and records nothing.
type Metrics struct {
	Registry *prometheus.Registry

	requests     *prometheus.CounterVec
	duration     *prometheus.HistogramVec
	inFlight     prometheus.Gauge
	rateLimited  *prometheus.CounterVec
	jobs         *prometheus.CounterVec
	jobDuration  *prometheus.HistogramVec
	slowQueries  prometheus.Counter
	statusLabels [600]string
}

// NewMetrics registers the service's instruments, the Go runtime and
// process collectors and a build_info gauge carrying version.
func NewMetrics(version string) *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		Registry: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "http", Name: "requests_total",
			Help: "HTTP requests answered, by method, route template and status.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Subsystem: "http", Name: "request_duration_seconds",
			Help:    "Time from the first middleware to the last byte written, by method, route template and status.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route", "status"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: Namespace, Subsystem: "http", Name: "requests_in_flight",
			Help: "HTTP requests being served now.",
		}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "rate_limit", Name: "refusals_total",
			Help: "Requests refused with 429 rate_limited, by policy.",
		}, []string{"policy"}),
		jobs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "jobs", Name: "worked_total",
			Help: "Job attempts finished, by kind and outcome (completed, failed, discarded, cancelled, snoozed, panicked).",
		}, []string{"kind", "outcome"}),
		jobDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Subsystem: "jobs", Name: "duration_seconds",
			Help:    "Time one job attempt ran, by kind.",
			Buckets: []float64{.01, .05, .1, .5, 1, 5, 10, 30, 60},
		}, []string{"kind"}),
		slowQueries: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "db", Name: "slow_queries_total",
			Help: "Queries slower than SLOW_QUERY_THRESHOLD.",
		}),
	}
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: Namespace, Name: "build_info",
		Help:        "Always 1; the version label is the running build.",
		ConstLabels: prometheus.Labels{"version": version},
	})
	build.Set(1)
	reg.MustRegister(m.requests, m.duration, m.inFlight, m.rateLimited, m.jobs, m.jobDuration, m.slowQueries, build,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	// The general policy always has a series, so a rate() over it is 0,
	// not absent, before the first refusal.
	m.rateLimited.WithLabelValues("general")
	for s := range m.statusLabels {
		m.statusLabels[s] = strconv.Itoa(s)
	}
	return m
}

// RegisterDB exports the connection-pool statistics of db (go_sql_*
// metrics, labelled db_name).
func (m *Metrics) RegisterDB(name string, db *sql.DB) {
	if m == nil {
		return
	}
	m.Registry.MustRegister(collectors.NewDBStatsCollector(db, name))
}

// Register adds collectors (the job queue depth, for example).
func (m *Metrics) Register(cs ...prometheus.Collector) {
	if m == nil {
		return
	}
	m.Registry.MustRegister(cs...)
}

// RequestStarted counts a request in flight; call RequestFinished after it.
func (m *Metrics) RequestStarted() {
	if m != nil {
		m.inFlight.Inc()
	}
}

// RequestFinished records one answered request. route must be a route
// template (or "unmatched"), never a raw path: label values are kept
// forever and a path per user would exhaust Prometheus.
func (m *Metrics) RequestFinished(method, route string, status int, d time.Duration) {
	if m == nil {
		return
	}
	m.inFlight.Dec()
	st := "other"
	if status >= 0 && status < len(m.statusLabels) {
		st = m.statusLabels[status]
	}
	method = knownMethod(method)
	m.requests.WithLabelValues(method, route, st).Inc()
	m.duration.WithLabelValues(method, route, st).Observe(d.Seconds())
}

// RateLimited counts one 429 of the named policy.
func (m *Metrics) RateLimited(policy string) {
	if m != nil {
		m.rateLimited.WithLabelValues(policy).Inc()
	}
}

// SlowQuery counts one query over the slow-query threshold.
func (m *Metrics) SlowQuery() {
	if m != nil {
		m.slowQueries.Inc()
	}
}

// JobWorked records one finished job attempt.
func (m *Metrics) JobWorked(kind, outcome string, d time.Duration) {
	if m == nil {
		return
	}
	m.jobs.WithLabelValues(kind, outcome).Inc()
	m.jobDuration.WithLabelValues(kind).Observe(d.Seconds())
}

// knownMethod bounds the method label: a client can send any token as a
// method, and each distinct one would be a new series.
func knownMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return m
	}
	return "OTHER"
}
