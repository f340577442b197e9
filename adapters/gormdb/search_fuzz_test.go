package gormdb_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/lenticular/lenticular/adapters/gormdb"
	"github.com/lenticular/lenticular/modules/links"
	"github.com/lenticular/lenticular/modules/search"
	"github.com/lenticular/lenticular/modules/search/searchtest"
	"github.com/lenticular/lenticular/platform/database"
)

// FuzzFTSQuery: whatever the text, the FTS5 queries built from it are
// well formed (every word quoted), and the adapter's own search statements
// over the migrated SQLite schema answer it without an error: FTS5's
// parser never sees syntax, and lt_user_tier takes any text.
func FuzzFTSQuery(f *testing.F) {
	for _, s := range searchtest.Hostile {
		f.Add(s)
	}
	f.Add(`tuning "postgres" NEAR(a b) title:x* -y`)
	ctx := context.Background()
	db, err := database.Open(ctx, database.Options{DataDir: filepath.Join(f.TempDir(), "data")})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { db.Close() })
	m, err := gormdb.NewMigrator(db)
	if err != nil {
		f.Fatal(err)
	}
	if _, err := m.Up(ctx); err != nil {
		f.Fatal(err)
	}
	user := uuid.Must(uuid.NewV7())
	if err := db.Gorm.Exec(`INSERT INTO users (id, email, email_normalized, username, username_normalized, display_name, created_at)
		VALUES (?, 'o@example.com', 'o@example.com', 'o_brien', 'o_brien', 'O''Brien "Q" (NEAR)', ?)`, user, time.Now().UTC()).Error; err != nil {
		f.Fatal(err)
	}
	const u = "https://example.com/a-b"
	if _, err := gormdb.NewLinks(db).Save(ctx, links.NewLink{
		ID: uuid.Must(uuid.NewV7()), URL: u, Hash: links.HashURL(u), Domain: links.Host(u), Title: `A "quoted" NEAR title: x*`,
	}, user, u, time.Now()); err != nil {
		f.Fatal(err)
	}
	idx := gormdb.NewSearch(db)
	f.Fuzz(func(t *testing.T, in string) {
		q := search.Normalize(in)
		for _, prefix := range []bool{false, true} {
			match := gormdb.FTSQuery(q, prefix)
			if match == "" {
				if len(search.Terms(q)) != 0 {
					t.Fatalf("FTSQuery(%q) is empty but the text has words", q)
				}
				continue
			}
			if !utf8.ValidString(match) || !strings.HasPrefix(match, `"`) {
				t.Fatalf("FTSQuery(%q) = %q", q, match)
			}
		}
		if _, err := idx.SearchLinks(ctx, q, 20, 0); err != nil {
			t.Fatalf("SearchLinks(%q): %v", q, err)
		}
		if _, err := idx.SearchUsers(ctx, q, 20); err != nil {
			t.Fatalf("SearchUsers(%q): %v", q, err)
		}
	})
}
