package rest

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

const (
	apiCSP  = "default-src 'none'; frame-ancestors 'none'"
	hstsMax = "max-age=31536000; includeSubDomains"
)

// securityHeaders sets the headers of API.md on every answer, errors included.
func securityHeaders(hsts bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		h := c.Writer.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", apiCSP)
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if hsts {
			h.Set("Strict-Transport-Security", hstsMax)
		}
		c.Next()
	}
}

// requireHTTPS refuses plain HTTP in deployed environments. Whether the
// request came over TLS is read from the connection, or from
// X-Forwarded-Proto only when a trusted proxy sent it. Unsafe methods are
// refused rather than redirected: a redirect would hide that credentials
// already crossed the wire in clear. Health probes are exempt because
// platforms send them over the private network in plain HTTP.
func requireHTTPS(ips ClientIPResolver) gin.HandlerFunc {
	return func(c *gin.Context) {
		if isProbe(c.Request.URL.Path) || overTLS(c.Request, ips) {
			c.Next()
			return
		}
		if c.Request.Method == http.MethodGet || c.Request.Method == http.MethodHead {
			target := "https://" + c.Request.Host + c.Request.URL.RequestURI()
			c.Redirect(http.StatusPermanentRedirect, target)
			c.Abort()
			return
		}
		abortWithProblem(c, NewProblem(http.StatusForbidden, "https_required", "use HTTPS; credentials sent over plain HTTP may already be exposed"))
	}
}

func overTLS(r *http.Request, ips ClientIPResolver) bool {
	if r.TLS != nil {
		return true
	}
	proto := r.Header.Get("X-Forwarded-Proto")
	if proto == "" {
		return false
	}
	peer := parseHostAddr(r.RemoteAddr)
	return peer.IsValid() && ips.trusted(peer) && proto == "https"
}

func isProbe(path string) bool { return path == "/healthz" || path == "/readyz" }
