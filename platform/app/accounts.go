package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/redis/go-redis/v9"
	"go.uber.org/fx"

	"github.com/lenticular/lenticular/adapters/gormdb"
	"github.com/lenticular/lenticular/adapters/memory"
	"github.com/lenticular/lenticular/adapters/redisstore"
	"github.com/lenticular/lenticular/adapters/rest"
	"github.com/lenticular/lenticular/modules/auth"
	"github.com/lenticular/lenticular/modules/notify"
	"github.com/lenticular/lenticular/modules/ratelimit"
	"github.com/lenticular/lenticular/modules/users"
	"github.com/lenticular/lenticular/platform/config"
	"github.com/lenticular/lenticular/platform/database"
)

// The users and auth modules: GORM stores bound to their ports, the
// session cache (Redis when REDIS_URL is set, in-process otherwise), the
// use cases, the HTTP routes, and the authenticator the router's
// middleware and per-user rate limit use.
var _ = feature(fx.Options(
	fx.Provide(
		provideBroadcast,
		provideUsers,
		fx.Annotate(gormdb.NewSessions, fx.As(new(auth.SessionStore))),
		fx.Annotate(gormdb.NewActionTokens, fx.As(new(auth.ActionTokenStore))),
		provideSessionCache,
		func(db *database.DB) users.Transactor { return db },
		provideHasher,
		provideAccessTokens,
		provideAuthService,
		func(s *auth.Service) users.SessionControl { return s },
		func(s *auth.Service) rest.Authenticator { return s },
		provideUsersService,
		fx.Annotate(provideAccountRoutes, fx.As(new(rest.Routes)), fx.ResultTags(`group:"routes"`)),
	),
))

// provideBroadcast returns the invalidation channel of the near caches:
// nil without Redis (one instance; the session cache is in process anyway)
// or with NEAR_CACHE_TTL=0.
func provideBroadcast(lc fx.Lifecycle, cfg *config.Config, rdb *redis.Client, log *slog.Logger) *redisstore.Broadcast {
	if rdb == nil || cfg.NearCacheTTL == 0 {
		return nil
	}
	b := redisstore.NewBroadcast(rdb, log, redisstore.BroadcastOptions{})
	lc.Append(fx.StartStopHook(b.Start, b.Stop))
	return b
}

// provideUsers puts the near cache in front of the accounts when there is
// a Broadcast. Without Redis there is none: several instances on one
// PostgreSQL without Redis could not invalidate each other's copies.
func provideUsers(db *database.DB, cfg *config.Config, bus *redisstore.Broadcast) users.Repository {
	repo := gormdb.NewUsers(db)
	if bus == nil {
		return repo
	}
	return redisstore.NewUserCache(repo, bus, 50_000, cfg.NearCacheTTL)
}

func provideSessionCache(rdb *redis.Client, cfg *config.Config, bus *redisstore.Broadcast) auth.SessionCache {
	switch {
	case rdb == nil:
		return memory.NewSessionCache()
	case bus == nil:
		return redisstore.NewSessionCache(rdb)
	}
	return redisstore.NewNearSessionCache(rdb, bus, cfg.NearCacheTTL)
}

// provideHasher uses OWASP's Argon2id parameters; tests replace the
// *auth.Hasher with cheaper ones through fx.Decorate.
func provideHasher() *auth.Hasher { return auth.NewHasher(auth.DefaultArgon2) }

func provideAccessTokens(cfg *config.Config) (*auth.Tokens, error) {
	if len(cfg.JWTSecret.Reveal()) < config.MinSecretBytes {
		// Development keeps a generated secret in DATA_DIR; elsewhere the
		// configuration already refused a missing one.
		if err := cfg.EnsureJWTSecret(); err != nil {
			return nil, err
		}
	}
	return auth.NewTokens(auth.TokenConfig{
		Secret: []byte(cfg.JWTSecret.Reveal()), Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience, TTL: cfg.AccessTokenTTL,
	}, nil)
}

// failover is a limiter that asks the shared one and falls back to the
// in-process one while Redis is unreachable, like the router's limits.
type failover struct {
	primary, fallback ratelimit.Limiter
	log               *slog.Logger
}

func (f failover) Allow(ctx context.Context, key string, l ratelimit.Limit) (ratelimit.Result, error) {
	res, err := f.primary.Allow(ctx, key, l)
	if err != nil && f.fallback != nil && !errors.Is(err, ratelimit.ErrInvalidLimit) {
		f.log.WarnContext(ctx, "shared rate limiter unavailable, using in-process limiter", "error", err)
		return f.fallback.Allow(ctx, key, l)
	}
	return res, err
}

func (f failover) Reset(ctx context.Context, key string) error {
	err := f.primary.Reset(ctx, key)
	if f.fallback != nil {
		_ = f.fallback.Reset(ctx, key)
	}
	return err
}

func rate(r config.RateSpec) ratelimit.Limit { return ratelimit.Limit{Rate: r.Count, Period: r.Window} }

type authParams struct {
	fx.In
	Config   *config.Config
	Log      *slog.Logger
	Users    users.Repository
	Sessions auth.SessionStore
	Tokens   auth.ActionTokenStore
	Cache    auth.SessionCache
	Tx       users.Transactor
	Mail     notify.Queue
	Limiters Limiters
	Hasher   *auth.Hasher
	Access   *auth.Tokens
}

func provideAuthService(p authParams) *auth.Service {
	return auth.NewService(auth.Deps{
		Users: p.Users, Sessions: p.Sessions, Tokens: p.Tokens, Cache: p.Cache, Tx: p.Tx, Mail: p.Mail,
		Limiter: failover{primary: p.Limiters.Shared, fallback: p.Limiters.Fallback, log: p.Log},
		Hasher:  p.Hasher, Access: p.Access, Log: p.Log,
	}, auth.Config{
		RefreshTTL:    p.Config.RefreshTokenTTL,
		ReuseGrace:    p.Config.RefreshReuseGrace,
		LoginFailures: rate(p.Config.RateLimitLoginFailures),
	})
}

func provideUsersService(repo users.Repository, tx users.Transactor, sc users.SessionControl, log *slog.Logger) *users.Service {
	return users.NewService(repo, tx, sc, log)
}

func provideAccountRoutes(cfg *config.Config, log *slog.Logger, a *auth.Service, u *users.Service, l Limiters) *rest.AccountRoutes {
	return &rest.AccountRoutes{
		Auth: a, Users: u, Limiter: l.Shared, Fallback: l.Fallback, Log: log,
		Settings: rest.AccountSettings{
			AccessTTL: cfg.AccessTokenTTL, RefreshTTL: cfg.RefreshTokenTTL,
			CookieSecure: cfg.CookieSecure, CookieDomain: cfg.CookieDomain,
			AuthLimit: rate(cfg.RateLimitAuth),
		},
	}
}

// CreateAdmin is `lenticular admin create`: it creates an administrator
// with a password that passes the policy (weak ones are refused), after
// applying pending migrations when AUTO_MIGRATE is on.
func CreateAdmin(ctx context.Context, cfg *config.Config, log *slog.Logger, email, password string) (users.User, error) {
	db, err := database.Open(ctx, database.Options{
		URL: cfg.DatabaseURL.Reveal(), DataDir: cfg.DataDir,
		MaxOpenConns: 2, MaxIdleConns: 1, StatementTimeout: cfg.DBStatementTimeout, Logger: log,
	})
	if err != nil {
		return users.User{}, err
	}
	defer db.Close()
	m, err := gormdb.NewMigrator(db)
	if err != nil {
		return users.User{}, err
	}
	if n, err := m.Pending(ctx); err != nil {
		return users.User{}, err
	} else if n > 0 {
		if !cfg.MigrateOnStart() {
			return users.User{}, fmt.Errorf("%d pending migrations: run `lenticular migrate up` first", n)
		}
		if _, err := m.Up(ctx); err != nil {
			return users.User{}, fmt.Errorf("migrate: %w", err)
		}
	}
	svc := auth.NewService(auth.Deps{Users: gormdb.NewUsers(db), Hasher: provideHasher(), Log: log}, auth.Config{})
	return svc.CreateAdmin(ctx, email, password)
}
