package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
)

// MinSecretBytes is the shortest JWT_SECRET accepted: HS256 needs a key at
// least as long as its output to keep its strength.
const MinSecretBytes = 32

// Validate checks every rule that can be checked without touching the
// network, and reports all problems on one line.
func (c *Config) Validate() error {
	var errs []string
	add := func(key, format string, args ...any) {
		errs = append(errs, key+": "+fmt.Sprintf(format, args...))
	}
	switch c.Env {
	case Development, Test, Staging, Production:
	default:
		add("APP_ENV", "%q is not one of development, test, staging, production", c.Env)
	}
	if c.JWTSecret != "" && len(c.JWTSecret) < MinSecretBytes {
		add("JWT_SECRET", "must be at least %d bytes (it is %d)", MinSecretBytes, len(c.JWTSecret))
	}
	if c.JWTSecret == "" && c.Env != Development {
		add("JWT_SECRET", "is required in %s (at least %d random bytes, e.g. `openssl rand -base64 48`)", c.Env, MinSecretBytes)
	}
	if c.Env.Deployed() {
		if !c.CookieSecure {
			add("COOKIE_SECURE", "cannot be false in %s: cookies would travel over plain HTTP", c.Env)
		}
		if c.DatabaseURL == "" {
			add("DATABASE_URL", "must point at PostgreSQL in %s: the embedded SQLite database is for development only", c.Env)
		}
	}
	if c.DatabaseURL != "" {
		u, err := url.Parse(c.DatabaseURL.Reveal())
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			add("DATABASE_URL", "must be empty (embedded SQLite) or a postgres:// URL")
		}
	}
	if c.RedisURL != "" {
		u, err := url.Parse(c.RedisURL.Reveal())
		if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") {
			add("REDIS_URL", "must be empty (in-process limiter and cache) or a redis:// or rediss:// URL")
		}
	}
	for _, o := range c.CORSAllowedOrigins {
		if err := checkOrigin(o); err != nil {
			add("CORS_ALLOWED_ORIGINS", "%q %v", o, err)
		}
	}
	if c.TrustedPlatform != "" && c.TrustedPlatform != "cloudflare" {
		add("TRUSTED_PLATFORM", "%q is not empty or cloudflare", c.TrustedPlatform)
	}
	if u, err := url.Parse(c.FrontendURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		add("FRONTEND_URL", "%q is not an absolute http(s) URL", c.FrontendURL)
	}
	for key, d := range map[string]int64{
		"ACCESS_TOKEN_TTL": int64(c.AccessTokenTTL), "REFRESH_TOKEN_TTL": int64(c.RefreshTokenTTL),
		"SHUTDOWN_TIMEOUT": int64(c.ShutdownTimeout), "DB_STATEMENT_TIMEOUT": int64(c.DBStatementTimeout),
	} {
		if d <= 0 {
			add(key, "must be a positive duration")
		}
	}
	if d := c.DrainDelay(); d < 0 || d >= c.ShutdownTimeout {
		add("SHUTDOWN_DRAIN_DELAY", "must be at least 0 and shorter than SHUTDOWN_TIMEOUT")
	}
	if c.RefreshReuseGrace < 0 {
		add("REFRESH_REUSE_GRACE", "must not be negative")
	}
	if c.DBMaxOpenConns <= 0 || c.DBMaxIdleConns < 0 {
		add("DB_MAX_OPEN_CONNS", "pool sizes must be positive")
	}
	switch c.Mailer {
	case "log", "file":
	case "smtp":
		if c.SMTPURL == "" {
			add("SMTP_URL", "is required when MAILER=smtp (smtp://user:pass@host:587)")
		}
	case "sendgrid":
		if c.SendGridAPIKey == "" {
			add("SENDGRID_API_KEY", "is required when MAILER=sendgrid")
		}
	default:
		add("MAILER", "%q is not one of log, file, smtp, sendgrid", c.Mailer)
	}
	if !slices.Contains([]string{"embedded", "off"}, c.Worker) {
		add("WORKER", "%q is not embedded or off", c.Worker)
	}
	if c.NearCacheTTL < 0 {
		add("NEAR_CACHE_TTL", "must not be negative (0 turns the near caches off)")
	}
	if c.SlowQueryThreshold < 0 {
		add("SLOW_QUERY_THRESHOLD", "must not be negative (0 turns the slow-query log off)")
	}
	if c.MetricsAddr != "" {
		if _, port, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			add("METRICS_ADDR", "%q is not host:port (e.g. 127.0.0.1:9090) or empty", c.MetricsAddr)
		} else if c.MetricsAddr == c.HTTPAddr && port != "0" {
			add("METRICS_ADDR", "must differ from HTTP_ADDR: metrics and pprof never share the public listener")
		}
	}
	if c.SentryTracesSampleRate < 0 || c.SentryTracesSampleRate > 1 {
		add("SENTRY_TRACES_SAMPLE_RATE", "must be between 0 and 1")
	}
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, strings.ToLower(c.LogLevel)) {
		add("LOG_LEVEL", "%q is not one of debug, info, warn, error", c.LogLevel)
	}
	if len(errs) == 0 {
		return nil
	}
	slices.Sort(errs)
	return &Error{msg: strings.Join(errs, "; ")}
}

func checkOrigin(o string) error {
	if o == "*" || o == "null" {
		return errors.New("is not allowed: list exact origins")
	}
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return errors.New("is not an origin like https://app.example.com")
	}
	return nil
}
