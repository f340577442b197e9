package rest

import (
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/lenticular/lenticular/modules/ratelimit"
)

// RatePolicy is the general limit applied to every request: per user when
// the request is authenticated, per client IP otherwise.
type RatePolicy struct {
	Anon ratelimit.Limit
	User ratelimit.Limit
	// Identify returns the caller's user id from the request's credentials,
	// or "" when anonymous. Nil treats every request as anonymous.
	Identify func(*http.Request) string
}

// rateLimit enforces a policy. When the shared limiter cannot answer (Redis
// down) the in-process fallback keeps each instance protected rather than
// letting every request through.
func rateLimit(primary, fallback ratelimit.Limiter, p RatePolicy, log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		if isProbe(c.Request.URL.Path) {
			c.Next()
			return
		}
		ri := Info(c.Request.Context())
		key, limit := "ip:"+ri.ClientIP.String(), p.Anon
		if p.Identify != nil {
			if uid := p.Identify(c.Request); uid != "" {
				key, limit = "user:"+uid, p.User
				// Known before authentication runs, so that a refusal's
				// security event names the user; authentication sets it
				// again from the principal it establishes.
				ri.UserID = uid
			}
		}
		if !enforce(c, primary, fallback, key, limit, "general", log) {
			return
		}
		c.Next()
	}
}

// enforce counts one event and writes the RateLimit headers; on refusal it
// answers 429 and returns false.
func enforce(c *gin.Context, primary, fallback ratelimit.Limiter, key string, limit ratelimit.Limit, policy string, log *slog.Logger) bool {
	ctx := c.Request.Context()
	res, err := primary.Allow(ctx, key, limit)
	if err != nil && fallback != nil {
		log.Warn("shared rate limiter unavailable, using in-process limiter", "error", err)
		res, err = fallback.Allow(ctx, key, limit)
	}
	if err != nil {
		log.Error("rate limiter unavailable, request not limited", "error", err)
		return true
	}
	h := c.Writer.Header()
	h.Set("RateLimit-Limit", strconv.Itoa(res.Limit))
	h.Set("RateLimit-Remaining", strconv.Itoa(max(res.Remaining, 0)))
	h.Set("RateLimit-Reset", seconds(res.ResetAfter))
	if res.Allowed {
		return true
	}
	ri := Info(ctx)
	if ri.metrics != nil {
		ri.metrics.RateLimited(policy)
	}
	args := []any{"event", "rate_limited", "policy", policy, "request_id", ri.ID, "ip", ri.ClientIP.String()}
	if ri.UserID != "" {
		args = append(args, "user_id", ri.UserID)
	}
	log.Warn("security event", args...)
	abortWithProblem(c, NewProblem(http.StatusTooManyRequests, "rate_limited", "too many requests; retry later").
		WithHeader("Retry-After", seconds(res.RetryAfter)))
	return false
}

// seconds rounds up so a client that waits the advertised time is admitted.
func seconds(d time.Duration) string {
	return strconv.Itoa(int(math.Ceil(max(d, 0).Seconds())))
}
