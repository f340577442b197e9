package rest

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// bodyLimit refuses a declared oversize body before reading it and caps an
// undeclared (chunked) one. Huma enforces the same limit while it reads, so
// both paths answer 413 payload_too_large.
func bodyLimit(limit int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.ContentLength > limit {
			abortWithProblem(c, NewProblem(http.StatusRequestEntityTooLarge, "payload_too_large", "the request body is larger than the limit"))
			return
		}
		if c.Request.Body != nil && c.Request.Body != http.NoBody {
			// One byte more than the limit lets the reader see the excess
			// and answer 413 instead of a read error.
			c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit+1)
		}
		c.Next()
	}
}

// clientIP records the resolved client address for the limiter and the logs.
func clientIP(r ClientIPResolver) gin.HandlerFunc {
	return func(c *gin.Context) {
		Info(c.Request.Context()).ClientIP = r.Resolve(c.Request.RemoteAddr, c.GetHeader("X-Forwarded-For"), c.GetHeader("CF-Connecting-IP"))
		c.Next()
	}
}
