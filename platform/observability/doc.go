// Package observability holds what an operator needs to see a problem before
// a user reports it: Sentry error and performance reporting (with a scrubber
// that keeps secrets and personal data out of every event), Prometheus
// metrics, pprof on a private listener, and the tracing hooks for GORM,
// go-redis, outbound HTTP and River jobs.
//
// Nothing here is imported by modules: adapters and the composition root use
// it, and every hook is a no-op when Sentry or metrics are switched off.
package observability
