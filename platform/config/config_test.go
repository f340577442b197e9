package config

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const goodSecret = "0123456789abcdef0123456789abcdef"

func TestDefaults(t *testing.T) {
	c, err := LoadFrom(map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"env", c.Env, Development},
		{"addr", c.HTTPAddr, ":8080"},
		{"data dir", c.DataDir, "./data"},
		{"access ttl", c.AccessTokenTTL, 15 * time.Minute},
		{"refresh ttl", c.RefreshTokenTTL, 30 * 24 * time.Hour},
		{"grace", c.RefreshReuseGrace, 10 * time.Second},
		{"body limit", c.BodyLimit, ByteSize(1 << 20)},
		{"anon", c.RateLimitAnon, RateSpec{300, time.Minute}},
		{"user", c.RateLimitUser, RateSpec{1200, time.Minute}},
		{"auth", c.RateLimitAuth, RateSpec{20, time.Minute}},
		{"login failures", c.RateLimitLoginFailures, RateSpec{10, 15 * time.Minute}},
		{"mailer", c.Mailer, "log"},
		{"worker", c.Worker, "embedded"},
		{"cookie secure", c.CookieSecure, true},
		{"auto migrate", c.MigrateOnStart(), true},
		{"embedded", c.Embedded(), true},
		{"mail dir", c.MailFileDir, filepath.Join("data", "mail")},
		{"sentry env", c.SentryEnvironment, "development"},
		{"slow query threshold", c.SlowQueryThreshold, 200 * time.Millisecond},
		{"near cache ttl", c.NearCacheTTL, time.Minute},
		{"metrics addr", c.MetricsAddr, ""},
	}
	for _, tc := range checks {
		if tc.got != tc.want {
			t.Errorf("%s = %v, want %v", tc.name, tc.got, tc.want)
		}
	}
}

func TestAutoMigrateDefaultsPerEnvironment(t *testing.T) {
	prod := map[string]string{"APP_ENV": "production", "JWT_SECRET": goodSecret, "DATABASE_URL": "postgres://db/x"}
	c, err := LoadFrom(prod)
	if err != nil {
		t.Fatal(err)
	}
	if c.MigrateOnStart() {
		t.Error("production must not migrate on start by default")
	}
	prod["AUTO_MIGRATE"] = "true"
	if c, _ = LoadFrom(prod); !c.MigrateOnStart() {
		t.Error("AUTO_MIGRATE=true must be honoured")
	}
}

func TestDrainDelayDefaultsPerEnvironment(t *testing.T) {
	dev, _ := LoadFrom(map[string]string{})
	prod, err := LoadFrom(map[string]string{"APP_ENV": "production", "JWT_SECRET": goodSecret, "DATABASE_URL": "postgres://db/x"})
	if err != nil {
		t.Fatal(err)
	}
	if dev.DrainDelay() != 0 || prod.DrainDelay() != 5*time.Second {
		t.Errorf("drain delay: development %s, production %s", dev.DrainDelay(), prod.DrainDelay())
	}
	set, _ := LoadFrom(map[string]string{"SHUTDOWN_DRAIN_DELAY": "2s"})
	if set.DrainDelay() != 2*time.Second {
		t.Errorf("SHUTDOWN_DRAIN_DELAY=2s gave %s", set.DrainDelay())
	}
}

func TestInvalidSettingsNameTheVariable(t *testing.T) {
	deployed := func(env string, extra map[string]string) map[string]string {
		m := map[string]string{"APP_ENV": env, "JWT_SECRET": goodSecret, "DATABASE_URL": "postgres://db/app"}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	cases := []struct {
		name string
		vars map[string]string
		want string
	}{
		{"unknown env", map[string]string{"APP_ENV": "prod"}, "APP_ENV"},
		{"production without secret", deployed("production", map[string]string{"JWT_SECRET": ""}), "JWT_SECRET: is required"},
		{"staging short secret", deployed("staging", map[string]string{"JWT_SECRET": "short"}), "JWT_SECRET: must be at least 32 bytes"},
		{"test without secret", map[string]string{"APP_ENV": "test"}, "JWT_SECRET: is required"},
		{"insecure cookies in production", deployed("production", map[string]string{"COOKIE_SECURE": "false"}), "COOKIE_SECURE"},
		{"sqlite in staging", deployed("staging", map[string]string{"DATABASE_URL": ""}), "DATABASE_URL: must point at PostgreSQL"},
		{"mysql url", map[string]string{"DATABASE_URL": "mysql://x"}, "DATABASE_URL"},
		{"bad redis", map[string]string{"REDIS_URL": "http://x"}, "REDIS_URL"},
		{"bad duration", map[string]string{"ACCESS_TOKEN_TTL": "fifteen"}, "ACCESS_TOKEN_TTL"},
		{"zero duration", map[string]string{"ACCESS_TOKEN_TTL": "0s"}, "ACCESS_TOKEN_TTL"},
		{"bad rate", map[string]string{"RATE_LIMIT_ANON": "300"}, "RATE_LIMIT_ANON"},
		{"bad rate window", map[string]string{"RATE_LIMIT_AUTH": "20/fortnight"}, "RATE_LIMIT_AUTH"},
		{"bad body limit", map[string]string{"BODY_LIMIT": "lots"}, "BODY_LIMIT"},
		{"bad proxy", map[string]string{"TRUSTED_PROXIES": "10.0.0.0/8,nope"}, "TRUSTED_PROXIES"},
		{"bad platform", map[string]string{"TRUSTED_PLATFORM": "fastly"}, "TRUSTED_PLATFORM"},
		{"wildcard origin", map[string]string{"CORS_ALLOWED_ORIGINS": "*"}, "CORS_ALLOWED_ORIGINS"},
		{"origin with path", map[string]string{"CORS_ALLOWED_ORIGINS": "https://a.example/app"}, "CORS_ALLOWED_ORIGINS"},
		{"smtp without url", map[string]string{"MAILER": "smtp"}, "SMTP_URL"},
		{"sendgrid without key", map[string]string{"MAILER": "sendgrid"}, "SENDGRID_API_KEY"},
		{"unknown mailer", map[string]string{"MAILER": "pigeon"}, "MAILER"},
		{"unknown worker mode", map[string]string{"WORKER": "sometimes"}, "WORKER"},
		{"sample rate", map[string]string{"SENTRY_TRACES_SAMPLE_RATE": "2"}, "SENTRY_TRACES_SAMPLE_RATE"},
		{"frontend url", map[string]string{"FRONTEND_URL": "localhost:3000"}, "FRONTEND_URL"},
		{"negative near cache ttl", map[string]string{"NEAR_CACHE_TTL": "-1s"}, "NEAR_CACHE_TTL"},
		{"negative slow query threshold", map[string]string{"SLOW_QUERY_THRESHOLD": "-1ms"}, "SLOW_QUERY_THRESHOLD"},
		{"bad slow query threshold", map[string]string{"SLOW_QUERY_THRESHOLD": "fast"}, "SLOW_QUERY_THRESHOLD"},
		{"metrics addr without port", map[string]string{"METRICS_ADDR": "localhost"}, "METRICS_ADDR"},
		{"metrics on the public listener", map[string]string{"METRICS_ADDR": ":8080"}, "METRICS_ADDR: must differ from HTTP_ADDR"},
		{"bad bool", map[string]string{"COOKIE_SECURE": "maybe"}, "COOKIE_SECURE"},
		{"drain longer than shutdown", map[string]string{"SHUTDOWN_DRAIN_DELAY": "30s"}, "SHUTDOWN_DRAIN_DELAY"},
		{"negative drain", map[string]string{"SHUTDOWN_DRAIN_DELAY": "-1s"}, "SHUTDOWN_DRAIN_DELAY"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadFrom(tc.vars)
			if err == nil {
				t.Fatalf("expected an error naming %s", tc.want)
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.want) {
				t.Errorf("error %q does not mention %q", msg, tc.want)
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("error must be one line: %q", msg)
			}
		})
	}
}

func TestValidDeployedConfig(t *testing.T) {
	c, err := LoadFrom(map[string]string{
		"APP_ENV": "production", "JWT_SECRET": goodSecret, "DATABASE_URL": "postgresql://u:p@db:5432/app",
		"REDIS_URL": "rediss://default:pw@cache:6379", "TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.7 ,2001:db8::/32",
		"TRUSTED_PLATFORM": "cloudflare", "CORS_ALLOWED_ORIGINS": "https://app.example.com/,http://localhost:5173",
		"BODY_LIMIT": "512KiB",
	})
	if err != nil {
		t.Fatal(err)
	}
	wantProxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.1.7/32"), netip.MustParsePrefix("2001:db8::/32")}
	if fmt.Sprint(c.TrustedProxies) != fmt.Sprint(wantProxies) {
		t.Errorf("proxies = %v, want %v", c.TrustedProxies, wantProxies)
	}
	if got := strings.Join(c.CORSAllowedOrigins, " "); got != "https://app.example.com http://localhost:5173" {
		t.Errorf("origins = %q", got)
	}
	if c.BodyLimit != 512<<10 {
		t.Errorf("body limit = %d", c.BodyLimit)
	}
}

func TestParseRateSpec(t *testing.T) {
	cases := []struct {
		in   string
		want RateSpec
		ok   bool
	}{
		{"300/m", RateSpec{300, time.Minute}, true},
		{"10/15m", RateSpec{10, 15 * time.Minute}, true},
		{"5/30s", RateSpec{5, 30 * time.Second}, true},
		{"1/h", RateSpec{1, time.Hour}, true},
		{" 20 / 1m ", RateSpec{20, time.Minute}, true},
		{"100/1h30m", RateSpec{100, 90 * time.Minute}, true},
		{"300", RateSpec{}, false},
		{"0/m", RateSpec{}, false},
		{"-1/m", RateSpec{}, false},
		{"x/m", RateSpec{}, false},
		{"10/", RateSpec{}, false},
		{"10/d", RateSpec{}, false},
		{"10/-1m", RateSpec{}, false},
		{"10/0s", RateSpec{}, false},
	}
	for _, tc := range cases {
		got, err := ParseRateSpec(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseRateSpec(%q) = %v, %v; want %v ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestByteSize(t *testing.T) {
	cases := map[string]int64{"1048576": 1 << 20, "1MiB": 1 << 20, "64kib": 64 << 10, "2MB": 2e6, "10 KB": 10e3, "100B": 100}
	for in, want := range cases {
		var b ByteSize
		if err := b.UnmarshalText([]byte(in)); err != nil || int64(b) != want {
			t.Errorf("%q = %d, %v; want %d", in, b, err, want)
		}
	}
	for _, in := range []string{"", "0", "-5", "1TB", "MiB", "1.5MiB"} {
		var b ByteSize
		if err := b.UnmarshalText([]byte(in)); err == nil {
			t.Errorf("%q accepted as %d", in, b)
		}
	}
}

func TestSecretsNeverPrint(t *testing.T) {
	c, err := LoadFrom(map[string]string{"JWT_SECRET": goodSecret, "DATABASE_URL": "postgres://u:hunter2@db/x"})
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		out := fmt.Sprintf(format, *c)
		if strings.Contains(out, goodSecret) || strings.Contains(out, "hunter2") {
			t.Errorf("%s leaks a secret: %s", format, out)
		}
	}
	_, err = LoadFrom(map[string]string{"APP_ENV": "production", "JWT_SECRET": "short-but-secret", "DATABASE_URL": "postgres://u:hunter2@db/x"})
	if err == nil || strings.Contains(err.Error(), "short-but-secret") || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error leaks a secret: %v", err)
	}
}

func TestDevelopmentSecretIsGeneratedOnceAndKept(t *testing.T) {
	dir := t.TempDir()
	c, err := LoadFrom(map[string]string{"DATA_DIR": dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.EnsureJWTSecret(); err != nil {
		t.Fatal(err)
	}
	if len(c.JWTSecret) < MinSecretBytes {
		t.Fatalf("generated secret too short: %d", len(c.JWTSecret))
	}
	info, err := os.Stat(filepath.Join(dir, devSecretFile))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("secret file: %v %v", info, err)
	}
	again, _ := LoadFrom(map[string]string{"DATA_DIR": dir})
	if err := again.EnsureJWTSecret(); err != nil || again.JWTSecret != c.JWTSecret {
		t.Error("a restart must reuse the stored development secret")
	}
}
