package gormdb

import (
	"context"
	"database/sql/driver"
	"fmt"
	"strings"
	"unicode"

	sqlitedriver "github.com/glebarez/go-sqlite"
	"golang.org/x/text/unicode/norm"

	"github.com/lenticular/lenticular/modules/links"
)

// SQLite has no unaccent, so typeahead's tiers are computed by a Go
// function the statement calls for each candidate: the order is decided in
// the database and only the page is read back. (The candidates were once
// the first 200 index matches, ranked here, which lost an exact match
// behind 200 longer names sharing its prefix.) Only queries call it:
// triggers and migrations do not, so the file stays usable by any SQLite
// tool.
func init() {
	sqlitedriver.MustRegisterDeterministicScalarFunction("lt_user_tier", 3,
		func(_ *sqlitedriver.FunctionContext, args []driver.Value) (driver.Value, error) {
			var s [3]string
			for i, a := range args {
				switch v := a.(type) {
				case string:
					s[i] = v
				case []byte:
					s[i] = string(v)
				case nil:
				default:
					return nil, fmt.Errorf("lt_user_tier: argument %d is %T, want text", i+1, a)
				}
			}
			return int64(userTier(fold(s[0]), fold(s[1]), s[2])), nil
		})
}

// On SQLite the FTS5 indexes find the candidates (word prefixes, and for
// three characters or more trigram substrings) and lt_user_tier ranks them
// with the same folding (case, accents) as the indexes.
func (s *Search) searchUsersSQLite(ctx context.Context, q string, limit int) ([]links.Profile, error) {
	query, args := usersQuerySQLite(q, limit)
	if query == "" {
		return nil, nil
	}
	rows, err := profilesOf(ctx, s.db, query, args...)
	if err != nil {
		return nil, fmt.Errorf("search users: %w", err)
	}
	out := make([]links.Profile, len(rows))
	for i, r := range rows {
		out[i] = r.profile()
	}
	return out, nil
}

// userCandidates bounds how many matches of each FTS5 query below are
// ranked, so that a one-letter query costs the same among 10,000 users or
// a million: each ranked candidate costs two foldings in Go, and SQLite
// serves one query at a time.
const userCandidates = 500

// usersQuerySQLite is typeahead's statement on SQLite for q and its
// arguments; "" when q has no word. Order: tier (userTier), then shorter
// names (bytes of username and display name), then username, then id.
//
// The candidates: the exact username (an index lookup); the display names
// that start with q's words, shortest first, so that an exact display name
// is never cut off; up to userCandidates names that start with q, and as
// many that have a word starting with q (and, for three characters or
// more, as many holding q), in index order. So the exact tiers are always
// complete; the prefix and substring tiers are when fewer names than that
// match, which at three letters is most of them (1,029 of 10,000 seeded
// users start a word with "mar").
func usersQuerySQLite(q string, limit int) (string, []any) {
	words := FTSQuery(q, true)
	if words == "" {
		return "", nil
	}
	fq := fold(q)
	phrase := FTSPhrase(q)
	candidates := `SELECT s.seq FROM users u JOIN user_search s ON s.user_id = u.id WHERE u.username_normalized = ?
		UNION SELECT seq FROM (SELECT s.seq FROM user_search_words w JOIN user_search s ON s.seq = w.rowid
			WHERE user_search_words MATCH ? ORDER BY length(s.display_name) LIMIT ?)
		UNION SELECT seq FROM (SELECT rowid AS seq FROM user_search_words WHERE user_search_words MATCH ? LIMIT ?)
		UNION SELECT seq FROM (SELECT rowid AS seq FROM user_search_words WHERE user_search_words MATCH ? LIMIT ?)`
	args := []any{strings.ReplaceAll(fq, " ", "_"), "display_name : ^" + phrase, limit,
		"^" + phrase + "*", userCandidates, words, userCandidates}
	if len([]rune(q)) >= 3 {
		candidates += `
		UNION SELECT seq FROM (SELECT rowid AS seq FROM user_search_tri WHERE user_search_tri MATCH ? LIMIT ?)`
		args = append(args, phrase, userCandidates)
	}
	args = append(args, fq, limit)
	return `SELECT u.id, u.username, COALESCE(u.display_name, '') AS display_name, COALESCE(u.avatar_url, '') AS avatar_url,
			COALESCE(u.bio, '') AS bio, u.created_at
		FROM (` + candidates + `) c
		JOIN user_search s ON s.seq = c.seq
		JOIN users u ON u.id = s.user_id
		WHERE u.deleted_at IS NULL
		ORDER BY lt_user_tier(COALESCE(u.username, ''), COALESCE(u.display_name, ''), ?),
			length(CAST(COALESCE(u.username, '') AS BLOB)) + length(CAST(COALESCE(u.display_name, '') AS BLOB)),
			lower(COALESCE(u.username, '')), u.id
		LIMIT ?`, args
}

// fold lower-cases s and strips its diacritics (José -> jose), and reads
// underscores as spaces.
func fold(s string) string {
	d := norm.NFD.String(strings.ToLower(s))
	var b strings.Builder
	for _, r := range d {
		switch {
		case unicode.Is(unicode.Mn, r):
		case r == '_':
			b.WriteRune(' ')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// userTier ranks a user whose folded username is u and display name d for
// the folded text fq: exact username 0, exact display name 1, prefix 2,
// word prefix 3, substring 4, other candidates 5.
func userTier(u, d, fq string) int {
	key := u + " " + d
	switch {
	case u == fq:
		return 0
	case d == fq:
		return 1
	case strings.HasPrefix(u, fq) || strings.HasPrefix(d, fq):
		return 2
	case strings.Contains(" "+key, " "+fq):
		return 3
	case strings.Contains(key, fq):
		return 4
	}
	return 5
}
