package rest

import (
	"context"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humagin"

	"github.com/lenticular/lenticular/modules/auth"
)

// Authentication for every module's operations. What other handler files
// use, and which stays stable:
//
//   - Security: AuthRequired on a huma.Operation makes the middleware below
//     authenticate the request (Bearer token, or the lt_access cookie plus
//     X-CSRF-Token on unsafe methods) before the handler runs, and answer
//     401 authentication_required / invalid_token / session_revoked or
//     403 csrf_failed itself. Register documents those answers (and
//     403 forbidden for RequireRole) on the operation (apidocs.go).
//   - Metadata: RequireRole("moderator", "admin") on the same operation
//     also requires one of the roles: 403 forbidden otherwise, logged as
//     the permission_denied security event.
//   - CurrentUser(ctx) in the handler returns the Principal.
//
//	rest.Register(api, huma.Operation{
//		Method: http.MethodDelete, Path: "/v1/links/{id}",
//		Security: rest.AuthRequired, Metadata: rest.RequireRole("moderator", "admin"),
//	}, handler)

// Authenticator verifies access tokens (auth.Service implements it).
type Authenticator interface {
	// Authenticate checks the token and its session: auth.ErrInvalidToken
	// or auth.ErrSessionRevoked for a token that must be refused, another
	// error when the check itself failed.
	Authenticate(ctx context.Context, token string) (auth.Principal, error)
	// Identify is the cheap check (signature and expiry) used to key the
	// per-user rate limit; "" when the token is not valid.
	Identify(token string) string
}

// Cookie and header names of the cookie transport (API.md).
const (
	AccessCookie    = "lt_access"
	RefreshCookie   = "lt_refresh"
	CSRFCookie      = "lt_csrf"
	CSRFHeader      = "X-CSRF-Token"
	TransportHeader = "X-Token-Transport"
)

// rolesKey is the operation metadata key RequireRole sets.
const rolesKey = "lenticular:roles"

// RequireRole returns operation metadata that restricts the operation to
// callers with one of roles (use it with Security: AuthRequired).
func RequireRole(roles ...string) map[string]any {
	return map[string]any{rolesKey: slices.Clone(roles)}
}

func requiredRoles(op *huma.Operation) []string {
	if op == nil || op.Metadata == nil {
		return nil
	}
	roles, _ := op.Metadata[rolesKey].([]string)
	return roles
}

// needsAuth reports whether op is protected.
func needsAuth(op *huma.Operation) bool {
	return op != nil && (len(op.Security) > 0 || requiredRoles(op) != nil)
}

// principalKey2 carries the module-level principal next to Principal.
type authPrincipalKey struct{}

func authPrincipal(ctx context.Context) (auth.Principal, bool) {
	p, ok := ctx.Value(authPrincipalKey{}).(auth.Principal)
	return p, ok
}

// credentials finds the access token of a request: a Bearer token first,
// else the access cookie. viaCookie tells the CSRF rule to apply.
func credentials(r *http.Request) (token string, viaCookie, present bool) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, _ := strings.Cut(h, " ")
		if strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(tok), false, true
		}
		return "", false, true
	}
	if c, err := r.Cookie(AccessCookie); err == nil && c.Value != "" {
		return c.Value, true, true
	}
	return "", false, false
}

func unsafeMethod(m string) bool {
	return m != http.MethodGet && m != http.MethodHead && m != http.MethodOptions
}

// csrfOK is the double-submit check: the X-CSRF-Token header must equal the
// lt_csrf cookie, which only scripts of the site's own origin can read.
func csrfOK(r *http.Request) bool {
	c, err := r.Cookie(CSRFCookie)
	h := r.Header.Get(CSRFHeader)
	return err == nil && c.Value != "" && h != "" && subtle.ConstantTimeCompare([]byte(c.Value), []byte(h)) == 1
}

// IdentifyCaller returns the RatePolicy.Identify hook: the user id of a
// request's access token (Bearer or cookie), checked cheaply.
func IdentifyCaller(a Authenticator) func(*http.Request) string {
	if a == nil {
		return nil
	}
	return func(r *http.Request) string {
		tok, _, ok := credentials(r)
		if !ok || tok == "" {
			return ""
		}
		return a.Identify(tok)
	}
}

// useAuthentication installs the authentication middleware on every
// operation registered after it.
func useAuthentication(api *API, a Authenticator, log *slog.Logger) {
	api.UseMiddleware(func(hctx huma.Context, next func(huma.Context)) {
		op := hctx.Operation()
		if !needsAuth(op) {
			next(hctx)
			return
		}
		c := humagin.Unwrap(hctx)
		r := c.Request
		ctx := r.Context()
		event := func(name string, args ...any) {
			log.WarnContext(ctx, "security event", append([]any{"event", name}, args...)...)
		}
		invalid := func(detail string) {
			abortWithProblem(c, NewProblem(http.StatusUnauthorized, "invalid_token", detail).
				WithHeader("WWW-Authenticate", `Bearer error="invalid_token"`))
		}
		tok, viaCookie, present := credentials(r)
		if !present {
			abortWithProblem(c, NewProblem(http.StatusUnauthorized, "authentication_required", "sign in to use this resource").
				WithHeader("WWW-Authenticate", "Bearer"))
			return
		}
		if tok == "" || a == nil {
			event("token_invalid", "reason", "malformed_authorization")
			invalid("the access token is not valid")
			return
		}
		if viaCookie && unsafeMethod(r.Method) && !csrfOK(r) {
			event("csrf_failed")
			abortWithProblem(c, NewProblem(http.StatusForbidden, "csrf_failed", "send the X-CSRF-Token header equal to the lt_csrf cookie"))
			return
		}
		p, err := a.Authenticate(ctx, tok)
		switch {
		case errors.Is(err, auth.ErrSessionRevoked):
			event("token_invalid", "reason", "session_revoked")
			abortWithProblem(c, NewProblem(http.StatusUnauthorized, "session_revoked", "this session was signed out").
				WithHeader("WWW-Authenticate", `Bearer error="invalid_token"`))
			return
		case errors.Is(err, auth.ErrInvalidToken):
			event("token_invalid", "reason", "invalid")
			invalid("the access token is not valid")
			return
		case err != nil:
			abortWithProblem(c, problemFor(ctx, err))
			return
		}
		ctx = withPrincipal(ctx, Principal{UserID: p.UserID.String(), SessionID: p.SessionID.String(), Role: string(p.Role)})
		ctx = context.WithValue(ctx, authPrincipalKey{}, p)
		if roles := requiredRoles(op); roles != nil && !slices.Contains(roles, string(p.Role)) {
			log.WarnContext(ctx, "security event", "event", "permission_denied", "user_id", p.UserID.String(),
				"role", string(p.Role), "required", strings.Join(roles, ","))
			abortWithProblem(c, NewProblem(http.StatusForbidden, "forbidden", "your role does not allow this"))
			return
		}
		c.Request = r.WithContext(ctx)
		next(huma.WithContext(hctx, ctx))
	})
}
