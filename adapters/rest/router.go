// Package rest is the HTTP adapter: the Gin engine, the middleware chain of
// ARCHITECTURE.md, problem+json errors, and the typed huma operations from
// which /openapi.json is generated (one source of truth for the API).
package rest

import (
	"context"
	"log/slog"
	"maps"
	"net/http"
	"reflect"
	"slices"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humagin"
	"github.com/gin-gonic/gin"

	"github.com/lenticular/lenticular/modules/ratelimit"
	"github.com/lenticular/lenticular/platform/config"
)

// Routes is implemented by each module's handler set; the composition root
// collects them and the router registers them all.
type Routes interface {
	Register(api *API)
}

// Deps is everything the router needs.
type Deps struct {
	Config    *config.Config
	Logger    *slog.Logger
	Version   string
	Limiter   ratelimit.Limiter // shared (Redis) or in-process
	Fallback  ratelimit.Limiter // in-process, used when Limiter fails; may be nil
	Readiness []ReadinessCheck
	Routes    []Routes
	Identify  func(*http.Request) string
	// Authenticator checks the access tokens of operations with
	// Security: AuthRequired (see auth_middleware.go); nil refuses them all.
	Authenticator Authenticator
	// Metrics, when set, counts requests and rate-limit refusals.
	Metrics Metrics
	// Sentry installs the Sentry middleware (the process-wide client must
	// be initialised: platform/observability.InitSentry).
	Sentry bool
	// Draining reports that the process is shutting down; /readyz then
	// answers 503 so load balancers stop sending before the listener closes.
	Draining func() bool
}

// API wraps huma's API with the settings every operation shares.
type API struct {
	huma.API
	bodyLimit int64
	// deployed (staging, production) adds 403 https_required to the
	// documented answers of unsafe methods.
	deployed bool
}

// Register adds a typed operation with the API-wide defaults (body limit,
// problem responses) so modules cannot forget them. Every error status the
// chain can answer for the operation is documented with the problem codes
// it carries there and a sample body per code (apidocs.go): codes of the
// middleware are derived from the operation, those of its handler are
// declared with Codes in its Metadata.
func Register[I, O any](api *API, op huma.Operation, handler func(ctx context.Context, in *I) (*O, error)) {
	// Huma answers 413 when it has read MaxBodyBytes bytes, so one extra
	// byte lets a body of exactly BODY_LIMIT through.
	op.MaxBodyBytes = api.bodyLimit + 1
	input := reflect.TypeFor[I]()
	codes := operationCodes(&op, input, api.deployed)
	op.Errors = slices.Sorted(maps.Keys(codes))
	describeSecurity(&op)
	huma.Register(api.API, op, func(ctx context.Context, in *I) (*O, error) {
		out, err := handler(ctx, in)
		if err != nil {
			return nil, problemFor(ctx, err)
		}
		return out, nil
	})
	documentErrorResponses(api.OpenAPI(), &op, codes, exampleField(input))
}

// Gin's mode is process-wide; set it once rather than per router.
func init() { gin.SetMode(gin.ReleaseMode) }

// NewRouter builds the engine with the middleware order of ARCHITECTURE.md.
func NewRouter(d Deps) (*gin.Engine, *API) {
	cfg := d.Config
	log := d.Logger

	ips := ClientIPResolver{Trusted: cfg.TrustedProxies, Cloudflare: cfg.TrustedPlatform == "cloudflare"}
	engine := gin.New()
	engine.HandleMethodNotAllowed = true
	engine.RedirectTrailingSlash = false
	engine.RedirectFixedPath = false
	engine.ContextWithFallback = true

	engine.Use(recoverPanics(log))
	if d.Sentry {
		engine.Use(sentryHub())
	}
	engine.Use(requestID(log, d.Metrics))
	if d.Sentry {
		engine.Use(sentryScope())
	}
	engine.Use(accessLog(log))
	if d.Metrics != nil {
		engine.Use(measure(d.Metrics))
	}
	engine.Use(securityHeaders(cfg.Env.Deployed()))
	if cfg.Env.Deployed() {
		engine.Use(requireHTTPS(ips))
	}
	engine.Use(cors(cfg.CORSAllowedOrigins), bodyLimit(int64(cfg.BodyLimit)), clientIP(ips))
	policy := RatePolicy{
		Anon:     ratelimit.Limit{Rate: cfg.RateLimitAnon.Count, Period: cfg.RateLimitAnon.Window},
		User:     ratelimit.Limit{Rate: cfg.RateLimitUser.Count, Period: cfg.RateLimitUser.Window},
		Identify: d.Identify,
	}
	engine.Use(rateLimit(d.Limiter, d.Fallback, policy, log))

	engine.NoRoute(func(c *gin.Context) {
		abortWithProblem(c, NewProblem(http.StatusNotFound, "not_found", "no such resource"))
	})
	engine.NoMethod(func(c *gin.Context) {
		abortWithProblem(c, NewProblem(http.StatusMethodNotAllowed, "method_not_allowed", "see the Allow header"))
	})

	hcfg := huma.DefaultConfig("Lenticular API", d.Version)
	hcfg.OpenAPIPath = "" // served by serveSpec: huma's own handler caches the document without a lock
	hcfg.DocsPath = ""    // served by serveDocs with its own CSP
	hcfg.SchemasPath = "" // no $schema links in bodies: clients get plain JSON
	hcfg.CreateHooks = nil
	hcfg.Formats = map[string]huma.Format{"application/json": jsonFormat, "json": jsonFormat}
	hcfg.Info.Description = "Accounts, sessions, links and search. Errors are application/problem+json (RFC 9457) with a stable `code`."
	hcfg.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"bearer": {Type: "http", Scheme: "bearer", BearerFormat: "JWT", Description: bearerSchemeDoc},
		"cookie": {Type: "apiKey", In: "cookie", Name: AccessCookie, Description: cookieSchemeDoc},
	}
	api := &API{API: humagin.New(engine, hcfg), bodyLimit: int64(cfg.BodyLimit), deployed: cfg.Env.Deployed()}

	useAuthentication(api, d.Authenticator, log)
	registerOperations(api, d.Readiness, d.Draining)
	for _, r := range d.Routes {
		r.Register(api)
	}
	serveSpec(engine, api.OpenAPI())
	engine.GET("/docs", serveDocs)
	return engine, api
}
