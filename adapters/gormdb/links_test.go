package gormdb_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/lenticular/lenticular/adapters/gormdb"
	"github.com/lenticular/lenticular/modules/links/linkstest"
	"github.com/lenticular/lenticular/platform/database"
)

// migrated opens a fresh database of the dialect with every migration applied.
func migrated(t *testing.T, open func(t *testing.T) *database.DB) *database.DB {
	t.Helper()
	db := open(t)
	m, err := gormdb.NewMigrator(db)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := m.Up(ctx); err != nil {
		t.Fatal(err)
	}
	return db
}

// insertUser adds a live user row the way the accounts module stores one.
func insertUser(t *testing.T, db *database.DB, username, displayName string) uuid.UUID {
	t.Helper()
	id := uuid.Must(uuid.NewV7())
	var uname, norm any
	if username != "" {
		uname, norm = username, strings.ToLower(username)
	}
	err := db.Gorm.Exec(`INSERT INTO users (id, email, email_normalized, username, username_normalized, display_name, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, id, id.String()+"@example.com", id.String()+"@example.com", uname, norm, displayName, time.Now().UTC()).Error
	if err != nil {
		t.Fatalf("insert user: %v", err)
	}
	return id
}

// eraseUser marks a user deleted and erases their personal data, as
// account deletion does.
func eraseUser(t *testing.T, db *database.DB, id uuid.UUID) {
	t.Helper()
	err := db.Gorm.Exec(`UPDATE users SET deleted_at = ?, username = NULL, username_normalized = NULL, display_name = ''
		WHERE id = ?`, time.Now().UTC(), id).Error
	if err != nil {
		t.Fatalf("erase user: %v", err)
	}
}

func TestLinksContract(t *testing.T) {
	t.Parallel()
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			linkstest.Run(t, func(t *testing.T) linkstest.Harness {
				db := migrated(t, d.open)
				return linkstest.Harness{
					Repo:       gormdb.NewLinks(db),
					Profiles:   gormdb.NewProfiles(db),
					NewUser:    func(t *testing.T, u, name string) uuid.UUID { return insertUser(t, db, u, name) },
					DeleteUser: func(t *testing.T, id uuid.UUID) { eraseUser(t, db, id) },
				}
			})
		})
	}
}
