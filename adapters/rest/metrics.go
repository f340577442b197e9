package rest

import (
	"time"

	"github.com/gin-gonic/gin"
)

// Metrics receives the router's measurements (platform/observability
// implements it). Nil in Deps records nothing.
type Metrics interface {
	RequestStarted()
	// RequestFinished gets the route template, or "unmatched": never a raw
	// path, which would make one series per URL.
	RequestFinished(method, route string, status int, d time.Duration)
	RateLimited(policy string)
}

// measure counts requests in flight and, when each one ends, its method,
// route template, status and duration. A panicking request is counted as
// the 500 recoverPanics answers.
func measure(m Metrics) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		m.RequestStarted()
		finished := false
		defer func() {
			if !finished {
				m.RequestFinished(c.Request.Method, route, 500, time.Since(start))
			}
		}()
		c.Next()
		finished = true
		m.RequestFinished(c.Request.Method, route, c.Writer.Status(), time.Since(start))
	}
}
