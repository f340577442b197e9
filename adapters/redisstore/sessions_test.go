package redisstore_test

import (
	"testing"

	"github.com/lenticular/lenticular/adapters/redisstore"
	"github.com/lenticular/lenticular/modules/auth"
	"github.com/lenticular/lenticular/modules/auth/authtest"
)

func TestSessionCacheContract(t *testing.T) {
	t.Parallel()
	newRedis(t)
	authtest.RunCache(t, func(t *testing.T) auth.SessionCache { return redisstore.NewSessionCache(newRedis(t)) })
}
