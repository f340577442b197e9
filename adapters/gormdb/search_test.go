package gormdb_test

import (
	"testing"

	"github.com/google/uuid"

	"github.com/lenticular/lenticular/adapters/gormdb"
	"github.com/lenticular/lenticular/modules/search/searchtest"
	"github.com/lenticular/lenticular/platform/database"
)

func TestSearchContract(t *testing.T) {
	t.Parallel()
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			searchtest.Run(t, func(t *testing.T) searchtest.Harness {
				db := migrated(t, d.open)
				s := gormdb.NewSearch(db)
				return searchtest.Harness{
					Links: s, Users: s,
					Repo: gormdb.NewLinks(db), Profiles: gormdb.NewProfiles(db),
					NewUser:    func(t *testing.T, u, name string) uuid.UUID { return insertUser(t, db, u, name) },
					DeleteUser: func(t *testing.T, id uuid.UUID) { eraseUser(t, db, id) },
					Typos:      db.Dialect == database.DialectPostgres,
				}
			})
		})
	}
}
