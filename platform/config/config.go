// Package config reads the service's settings from the environment once, at
// start-up, and refuses to start on anything missing or unsafe, so a bad
// deployment fails loudly instead of running half-configured.
package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"
)

// Env is the deployment environment named by APP_ENV.
type Env string

const (
	Development Env = "development"
	Test        Env = "test"
	Staging     Env = "staging"
	Production  Env = "production"
)

// Deployed reports whether the environment serves real users, where unsafe
// development conveniences are refused.
func (e Env) Deployed() bool { return e == Staging || e == Production }

// Config holds every setting. The env tags are the public names documented in
// README.md and configs/*.env; keep the three in step.
type Config struct {
	Env      Env    `env:"APP_ENV" envDefault:"development"`
	HTTPAddr string `env:"HTTP_ADDR" envDefault:":8080"`
	DataDir  string `env:"DATA_DIR" envDefault:"./data"`
	LogLevel string `env:"LOG_LEVEL" envDefault:"info"`

	DatabaseURL        Secret        `env:"DATABASE_URL"`
	DBMaxOpenConns     int           `env:"DB_MAX_OPEN_CONNS" envDefault:"20"`
	DBMaxIdleConns     int           `env:"DB_MAX_IDLE_CONNS" envDefault:"20"`
	DBStatementTimeout time.Duration `env:"DB_STATEMENT_TIMEOUT" envDefault:"30s"`
	// AutoMigrate is nil when unset; Load fills in the per-environment default.
	AutoMigrate *bool  `env:"AUTO_MIGRATE"`
	RedisURL    Secret `env:"REDIS_URL"`

	JWTSecret         Secret        `env:"JWT_SECRET"`
	JWTIssuer         string        `env:"JWT_ISSUER" envDefault:"lenticular"`
	JWTAudience       string        `env:"JWT_AUDIENCE" envDefault:"lenticular"`
	AccessTokenTTL    time.Duration `env:"ACCESS_TOKEN_TTL" envDefault:"15m"`
	RefreshTokenTTL   time.Duration `env:"REFRESH_TOKEN_TTL" envDefault:"720h"`
	RefreshReuseGrace time.Duration `env:"REFRESH_REUSE_GRACE" envDefault:"10s"`

	CORSAllowedOrigins []string      `env:"CORS_ALLOWED_ORIGINS" envSeparator:","`
	TrustedProxies     Prefixes      `env:"TRUSTED_PROXIES"`
	TrustedPlatform    string        `env:"TRUSTED_PLATFORM"`
	CookieSecure       bool          `env:"COOKIE_SECURE" envDefault:"true"`
	CookieDomain       string        `env:"COOKIE_DOMAIN"`
	BodyLimit          ByteSize      `env:"BODY_LIMIT" envDefault:"1MiB"`
	FrontendURL        string        `env:"FRONTEND_URL" envDefault:"http://localhost:3000"`
	ShutdownTimeout    time.Duration `env:"SHUTDOWN_TIMEOUT" envDefault:"20s"`
	// ShutdownDrainDelay is nil when unset; Load fills in the per-environment
	// default (0 in development and test, 5s when deployed).
	ShutdownDrainDelay *time.Duration `env:"SHUTDOWN_DRAIN_DELAY"`

	RateLimitAnon          RateSpec `env:"RATE_LIMIT_ANON" envDefault:"300/m"`
	RateLimitUser          RateSpec `env:"RATE_LIMIT_USER" envDefault:"1200/m"`
	RateLimitAuth          RateSpec `env:"RATE_LIMIT_AUTH" envDefault:"20/m"`
	RateLimitLoginFailures RateSpec `env:"RATE_LIMIT_LOGIN_FAILURES" envDefault:"10/15m"`

	Mailer         string `env:"MAILER" envDefault:"log"`
	MailFrom       string `env:"MAIL_FROM" envDefault:"Lenticular <no-reply@localhost>"`
	MailFileDir    string `env:"MAIL_FILE_DIR"`
	SMTPURL        Secret `env:"SMTP_URL"`
	SendGridAPIKey Secret `env:"SENDGRID_API_KEY"`

	SentryDSN              Secret  `env:"SENTRY_DSN"`
	SentryEnvironment      string  `env:"SENTRY_ENVIRONMENT"`
	SentryRelease          string  `env:"SENTRY_RELEASE"`
	SentryTracesSampleRate float64 `env:"SENTRY_TRACES_SAMPLE_RATE" envDefault:"0"`
	MetricsAddr            string  `env:"METRICS_ADDR"`
	// NearCacheTTL bounds how long an instance keeps the session states and
	// accounts it read in process (with REDIS_URL set; invalidated on every
	// instance by pub/sub on each write); 0 turns the near caches off.
	NearCacheTTL time.Duration `env:"NEAR_CACHE_TTL" envDefault:"1m"`
	// SlowQueryThreshold: queries at least this slow are logged; 0 disables.
	SlowQueryThreshold time.Duration `env:"SLOW_QUERY_THRESHOLD" envDefault:"200ms"`
	Worker             string        `env:"WORKER" envDefault:"embedded"`
}

// Load reads the process environment.
func Load() (*Config, error) { return LoadFrom(environ()) }

func environ() map[string]string {
	m := make(map[string]string)
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}

// LoadFrom reads the given variables instead of the process environment, so
// tests never depend on the machine they run on.
func LoadFrom(vars map[string]string) (*Config, error) {
	c := &Config{}
	err := env.ParseWithOptions(c, env.Options{
		Environment: vars,
	})
	if err != nil {
		return nil, explain(err)
	}
	c.applyDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Config) applyDefaults() {
	if c.AutoMigrate == nil {
		on := c.Env == Development || c.Env == Test
		c.AutoMigrate = &on
	}
	if c.ShutdownDrainDelay == nil {
		d := time.Duration(0)
		if c.Env.Deployed() {
			d = 5 * time.Second
		}
		c.ShutdownDrainDelay = &d
	}
	if c.MailFileDir == "" {
		c.MailFileDir = filepath.Join(c.DataDir, "mail")
	}
	for i, o := range c.CORSAllowedOrigins {
		c.CORSAllowedOrigins[i] = strings.TrimSuffix(strings.TrimSpace(o), "/")
	}
	if c.SentryEnvironment == "" {
		c.SentryEnvironment = string(c.Env)
	}
}

// DrainDelay is how long shutdown keeps serving (with /readyz at 503)
// before it closes the listener.
func (c *Config) DrainDelay() time.Duration {
	if c.ShutdownDrainDelay == nil {
		return 0
	}
	return *c.ShutdownDrainDelay
}

// MigrateOnStart reports whether serve applies pending migrations itself.
func (c *Config) MigrateOnStart() bool { return c.AutoMigrate != nil && *c.AutoMigrate }

// Embedded reports whether the service runs on the embedded SQLite database.
func (c *Config) Embedded() bool { return c.DatabaseURL == "" }

// SQLitePath is where the embedded database lives.
func (c *Config) SQLitePath() string { return filepath.Join(c.DataDir, "lenticular.db") }

// explain turns the library's field-named errors into one line per problem
// that names the environment variable, which is what an operator can fix.
func explain(err error) error {
	var agg env.AggregateError
	errs := []error{err}
	if errors.As(err, &agg) {
		errs = agg.Errors
	}
	keys := envKeys()
	msgs := make([]string, 0, len(errs))
	for _, e := range errs {
		var pe env.ParseError
		if errors.As(e, &pe) {
			msgs = append(msgs, fmt.Sprintf("%s: %v", keys[pe.Name], unwrapParse(pe.Err)))
			continue
		}
		msgs = append(msgs, e.Error())
	}
	return &Error{msg: strings.Join(msgs, "; ")}
}

func unwrapParse(err error) error {
	// strconv errors repeat the function name; the inner error is clearer.
	if u := errors.Unwrap(err); u != nil {
		return u
	}
	return err
}

func envKeys() map[string]string {
	t := reflect.TypeOf(Config{})
	keys := make(map[string]string, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		keys[f.Name] = strings.Split(f.Tag.Get("env"), ",")[0]
	}
	return keys
}

// Error is a configuration problem; its message is one line that names the
// variable and the reason.
type Error struct{ msg string }

func (e *Error) Error() string { return "invalid configuration: " + e.msg }
