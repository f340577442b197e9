package gormdb_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/lenticular/lenticular/adapters/gormdb"
	"github.com/lenticular/lenticular/modules/search"
	"github.com/lenticular/lenticular/modules/search/searchtest"
	"github.com/lenticular/lenticular/platform/database"
)

// FuzzFTSQuery: whatever the text, the FTS5 queries built from it are
// accepted by SQLite's FTS5 parser (no syntax error), on the links index and
// on both user indexes, and a non-empty query quotes every word.
func FuzzFTSQuery(f *testing.F) {
	for _, s := range searchtest.Hostile {
		f.Add(s)
	}
	f.Add(`tuning "postgres" NEAR(a b) title:x* -y`)
	db, err := database.Open(context.Background(), database.Options{DataDir: filepath.Join(f.TempDir(), "data")})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { db.Close() })
	for _, q := range []string{
		`CREATE VIRTUAL TABLE l USING fts5(title, domain, url, tokenize='porter unicode61 remove_diacritics 2')`,
		`CREATE VIRTUAL TABLE w USING fts5(username, display_name, tokenize='unicode61 remove_diacritics 2', prefix='1 2 3')`,
		`CREATE VIRTUAL TABLE t USING fts5(username, display_name, tokenize='trigram remove_diacritics 1')`,
		`INSERT INTO l VALUES ('A "quoted" NEAR title', 'example.com', 'https://example.com/a-b')`,
		`INSERT INTO w VALUES ('o_brien', 'O''Brien "Q"')`,
		`INSERT INTO t VALUES ('o_brien', 'O''Brien "Q"')`,
	} {
		if _, err := db.SQL.Exec(q); err != nil {
			f.Fatal(err)
		}
	}
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
			table := "l"
			if prefix {
				table = "w"
			}
			var n int
			if err := db.SQL.QueryRow(`SELECT count(*) FROM `+table+` WHERE `+table+` MATCH ?`, match).Scan(&n); err != nil {
				t.Fatalf("MATCH %q (from %q): %v", match, in, err)
			}
		}
		if q != "" {
			var n int
			if err := db.SQL.QueryRow(`SELECT count(*) FROM t WHERE t MATCH ?`, gormdb.FTSPhrase(q)).Scan(&n); err != nil {
				t.Fatalf("trigram MATCH of %q: %v", q, err)
			}
		}
	})
}
