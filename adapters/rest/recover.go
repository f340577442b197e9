package rest

import (
	"errors"
	"log/slog"
	"net/http"
	"runtime/debug"

	"github.com/gin-gonic/gin"
)

// recoverPanics turns a panic into a problem+json 500; the stack goes to the
// log, never to the client.
func recoverPanics(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			rec := recover()
			if rec == nil {
				return
			}
			if err, ok := rec.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(rec) // the server's way to abort a response on purpose
			}
			log.Error("panic serving request", "request_id", Info(c.Request.Context()).ID,
				"panic", rec, "stack", string(debug.Stack()))
			if !c.Writer.Written() {
				abortWithProblem(c, NewProblem(http.StatusInternalServerError, "internal_error", ""))
			}
			c.Abort()
		}()
		c.Next()
	}
}
