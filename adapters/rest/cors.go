package rest

import (
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"
)

// cors answers only the configured origins, with credentials.
//
// Hand-written because gin-contrib/cors refuses every request from an unknown
// origin with 403, while the contract only withholds the CORS headers (the
// browser then blocks the read; non-browser clients are unaffected).
func cors(allowed []string) gin.HandlerFunc {
	const (
		allowHeaders  = "Authorization, Content-Type, X-CSRF-Token, X-Token-Transport, X-Request-ID"
		exposeHeaders = "X-Request-ID, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, Retry-After"
		allowMethods  = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
	)
	return func(c *gin.Context) {
		origin := c.GetHeader("Origin")
		if origin == "" {
			c.Next()
			return
		}
		h := c.Writer.Header()
		h.Add("Vary", "Origin")
		preflight := c.Request.Method == http.MethodOptions && c.GetHeader("Access-Control-Request-Method") != ""
		if !slices.Contains(allowed, origin) {
			if preflight {
				c.AbortWithStatus(http.StatusNoContent)
				return
			}
			c.Next()
			return
		}
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
		if preflight {
			h.Add("Vary", "Access-Control-Request-Method")
			h.Add("Vary", "Access-Control-Request-Headers")
			h.Set("Access-Control-Allow-Methods", allowMethods)
			h.Set("Access-Control-Allow-Headers", allowHeaders)
			h.Set("Access-Control-Max-Age", "600")
			c.AbortWithStatus(http.StatusNoContent)
			return
		}
		h.Set("Access-Control-Expose-Headers", exposeHeaders)
		c.Next()
	}
}
