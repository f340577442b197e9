package memory

import (
	"testing"

	"github.com/lenticular/lenticular/modules/auth"
	"github.com/lenticular/lenticular/modules/auth/authtest"
)

func TestAuthStoresContract(t *testing.T) {
	t.Parallel()
	authtest.RunStores(t, func(*testing.T) authtest.Harness {
		u := NewUsers()
		return authtest.Harness{Users: u, Sessions: NewSessions(u), Tokens: NewActionTokens()}
	})
}

func TestSessionCacheContract(t *testing.T) {
	t.Parallel()
	authtest.RunCache(t, func(*testing.T) auth.SessionCache { return NewSessionCache() })
}
