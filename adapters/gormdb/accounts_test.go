package gormdb_test

import (
	"testing"

	"github.com/lenticular/lenticular/adapters/gormdb"
	"github.com/lenticular/lenticular/modules/auth/authtest"
	"github.com/lenticular/lenticular/modules/users"
	"github.com/lenticular/lenticular/modules/users/userstest"
)

func TestUsersContract(t *testing.T) {
	t.Parallel()
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			userstest.Run(t, func(t *testing.T) users.Repository { return gormdb.NewUsers(migrated(t, d.open)) })
		})
	}
}

func TestAuthStoresContract(t *testing.T) {
	t.Parallel()
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			authtest.RunStores(t, func(t *testing.T) authtest.Harness {
				db := migrated(t, d.open)
				return authtest.Harness{Users: gormdb.NewUsers(db), Sessions: gormdb.NewSessions(db), Tokens: gormdb.NewActionTokens(db)}
			})
		})
	}
}
