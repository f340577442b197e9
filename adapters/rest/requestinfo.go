package rest

import (
	"context"
	"net/netip"
)

// RequestInfo is what the middleware chain learns about a request, attached
// once to the request context so handlers, the error writer and the access
// log all read the same values without extra allocations per middleware.
type RequestInfo struct {
	ID       string
	ClientIP netip.Addr
	UserID   string
	Route    string
}

type requestInfoKey struct{}

// Info returns the request's RequestInfo, or an empty one outside a request.
func Info(ctx context.Context) *RequestInfo {
	if ri, ok := ctx.Value(requestInfoKey{}).(*RequestInfo); ok {
		return ri
	}
	return &RequestInfo{}
}

func withInfo(ctx context.Context, ri *RequestInfo) context.Context {
	return context.WithValue(ctx, requestInfoKey{}, ri)
}
