package rest

import "context"

// Principal is the authenticated caller of a request, as the authentication
// middleware established it from a Bearer token or the access cookie.
type Principal struct {
	UserID    string
	SessionID string
	Role      string // user, moderator or admin
}

type principalKey struct{}

// CurrentUser returns the caller of an authenticated request.
func CurrentUser(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok && p.UserID != ""
}

// withPrincipal records the caller for handlers (and the user id for logs).
func withPrincipal(ctx context.Context, p Principal) context.Context {
	Info(ctx).UserID = p.UserID
	return context.WithValue(ctx, principalKey{}, p)
}

// Security requirements for huma operations: either transport works.
var (
	// AuthRequired marks an operation that needs a signed-in user.
	AuthRequired = []map[string][]string{{"bearer": {}}, {"cookie": {}}}
)
