package rest

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"

	"github.com/gin-gonic/gin"
)

// HeaderRequestID carries the request id both ways.
const HeaderRequestID = "X-Request-ID"

// requestID echoes a sane incoming X-Request-ID (so a trace can cross
// services) and generates one otherwise; it also attaches RequestInfo.
func requestID(log *slog.Logger, metrics Metrics) gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader(HeaderRequestID)
		if !saneRequestID(id) {
			id = newRequestID()
		}
		ri := &RequestInfo{ID: id, log: log, metrics: metrics}
		c.Request = c.Request.WithContext(withInfo(c.Request.Context(), ri))
		c.Writer.Header().Set(HeaderRequestID, id)
		c.Next()
	}
}

// saneRequestID admits tokens that are safe to echo into headers and logs.
func saneRequestID(id string) bool {
	if len(id) == 0 || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		b := id[i]
		if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '-' || b == '_' || b == '.' || b == ':') {
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
