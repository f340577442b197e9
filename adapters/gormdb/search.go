package gormdb

import (
	"context"
	"fmt"
	"strings"

	"github.com/lenticular/lenticular/modules/links"
	"github.com/lenticular/lenticular/modules/search"
	"github.com/lenticular/lenticular/platform/database"
)

var (
	_ search.LinkIndex = (*Search)(nil)
	_ search.UserIndex = (*Search)(nil)
)

// Search implements the search ports: tsvector + GIN and pg_trgm on
// PostgreSQL, FTS5 on SQLite (migration 00011 of each dialect).
type Search struct{ db *database.DB }

// NewSearch returns the search indexes over db.
func NewSearch(db *database.DB) *Search { return &Search{db: db} }

// SearchLinks implements search.LinkIndex.
func (s *Search) SearchLinks(ctx context.Context, q string, limit, offset int) ([]search.LinkHit, error) {
	if s.db.Dialect == database.DialectSQLite {
		return s.searchLinksSQLite(ctx, q, limit, offset)
	}
	return s.searchLinksPostgres(ctx, q, limit, offset)
}

// SearchUsers implements search.UserIndex.
func (s *Search) SearchUsers(ctx context.Context, q string, limit int) ([]links.Profile, error) {
	if s.db.Dialect == database.DialectSQLite {
		return s.searchUsersSQLite(ctx, q, limit)
	}
	return s.searchUsersPostgres(ctx, q, limit)
}

// FTSQuery turns normalised text into an FTS5 query that matches rows
// holding every word: each word is a double-quoted string (a literal: "*",
// ":", "(", NEAR, AND, OR and quotes mean nothing inside one), optionally a
// prefix query. Words come from search.Terms, so they hold only letters,
// marks and digits; quotes are doubled all the same. It returns "" when the
// text has no word.
func FTSQuery(q string, prefix bool) string {
	terms := search.Terms(q)
	parts := make([]string, 0, len(terms))
	for _, t := range terms {
		p := `"` + strings.ReplaceAll(t, `"`, `""`) + `"`
		if prefix {
			p += "*"
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, " ")
}

// FTSPhrase quotes text as one FTS5 string (for the trigram index, where
// the whole text is matched as a substring).
func FTSPhrase(text string) string {
	return `"` + strings.ReplaceAll(text, `"`, `""`) + `"`
}

// likeEscape escapes LIKE's wildcards (with the default escape, "\").
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// typoThreshold is pg_trgm.word_similarity_threshold for typeahead: low
// enough that one wrong, missing or extra letter in a word of five or more
// letters still matches, high enough to keep noise out.
const typoThreshold = "0.45"

// usersQueryPostgres is typeahead's statement on PostgreSQL; its
// parameters are the text, the text with underscores as spaces, that
// text escaped for LIKE, and the limit.
//
// Each parameter is used once, in p, and everything derived from it is
// computed once per execution, in v; every use is a scalar subquery
// reading v, an InitPlan that the index scans take as their key. The
// statement is prepared, and in the generic plan PostgreSQL switches to
// after a few executions a bare lower(unaccent(...)) of a parameter would
// be computed again for every candidate row and sort key. The limit is
// read the same way, so that custom plans (where a constant LIMIT makes
// them look cheaper) do not win over the generic one and the statement is
// not planned again on every execution. unaccent is called with its
// dictionary rather than through lt_unaccent, the IMMUTABLE wrapper the
// generated columns need: PostgreSQL does not inline that wrapper (it
// calls a STABLE function), so each execution parsed and planned its body
// again, at every use. The text is compacted once: GORM scans it and the
// query logger formats it on every call.
var usersQueryPostgres = compactSQL(`
	WITH p AS MATERIALIZED (
		SELECT CAST(? AS text) AS q, CAST(? AS text) AS key, CAST(? AS text) AS pattern, CAST(? AS bigint) AS lim
	), v AS MATERIALIZED (
		SELECT f.key, p.lim,
			CASE WHEN p.q = p.key THEN f.key ELSE lower(unaccent('unaccent'::regdictionary, p.q)) END AS exact,
			CASE WHEN p.pattern = p.key THEN f.key ELSE lower(unaccent('unaccent'::regdictionary, p.pattern)) END AS pat,
			f.key !~ ' ' AND length(f.key) >= 3 AS fast
		FROM p, LATERAL (SELECT lower(unaccent('unaccent'::regdictionary, p.key)) AS key) f
	), tiers AS MATERIALIZED (
		(SELECT u.id AS user_id, 0 AS tier, length(u.search_key) AS len, u.username_normalized AS uname
		FROM users u
		WHERE (SELECT fast FROM v) AND u.search_username = (SELECT exact FROM v) AND u.deleted_at IS NULL
		ORDER BY length(u.search_key), u.username_normalized, u.id LIMIT (SELECT lim FROM v))
		UNION ALL
		(SELECT u.id, 1, length(u.search_key), u.username_normalized
		FROM users u
		WHERE (SELECT fast FROM v) AND u.search_display_name = (SELECT exact FROM v) AND u.deleted_at IS NULL
		ORDER BY length(u.search_key), u.username_normalized, u.id LIMIT (SELECT lim FROM v))
		UNION ALL
		(SELECT DISTINCT ON (w.len, w.uname, w.user_id) w.user_id, 2, w.len, w.uname
		FROM user_search_prefixes w
		WHERE (SELECT fast FROM v) AND w.first AND w.prefix = (SELECT left(key, 3) FROM v)
			AND w.word LIKE (SELECT pat || '%' FROM v)
		ORDER BY w.len, w.uname, w.user_id LIMIT (SELECT lim FROM v))
		UNION ALL
		(SELECT DISTINCT ON (w.len, w.uname, w.user_id) w.user_id, 3, w.len, w.uname
		FROM user_search_prefixes w
		WHERE (SELECT fast FROM v) AND w.prefix = (SELECT left(key, 3) FROM v)
			AND w.word LIKE (SELECT pat || '%' FROM v)
		ORDER BY w.len, w.uname, w.user_id LIMIT (SELECT lim FROM v))
	), ranked AS MATERIALIZED (
		SELECT DISTINCT ON (user_id) user_id, tier, len, uname FROM tiers ORDER BY user_id, tier
	), found AS (
		SELECT * FROM ranked
		UNION ALL
		(SELECT u.id, 4, length(u.search_key), u.username_normalized
		FROM users u
		WHERE (SELECT fast FROM v) AND (SELECT count(*) FROM ranked) < (SELECT lim FROM v)
			AND u.deleted_at IS NULL AND u.search_key LIKE (SELECT '%' || pat || '%' FROM v)
			AND NOT ' ' || u.search_key LIKE (SELECT '% ' || pat || '%' FROM v)
		ORDER BY length(u.search_key), u.username_normalized, u.id LIMIT (SELECT lim FROM v))
		UNION ALL
		(SELECT u.id,
			CASE
				WHEN u.search_username = (SELECT exact FROM v) THEN 0
				WHEN u.search_display_name = (SELECT exact FROM v) THEN 1
				WHEN u.search_key LIKE (SELECT pat || '%' FROM v) OR u.search_display_name LIKE (SELECT pat || '%' FROM v) THEN 2
				WHEN ' ' || u.search_key LIKE (SELECT '% ' || pat || '%' FROM v) THEN 3
				ELSE 4
			END AS tier,
			length(u.search_key), u.username_normalized
		FROM users u
		WHERE NOT (SELECT fast FROM v) AND u.deleted_at IS NULL AND u.search_key LIKE (SELECT '%' || pat || '%' FROM v)
		ORDER BY 2, 3, 4 NULLS LAST, 1 LIMIT (SELECT lim FROM v))
	)
	SELECT u.id, u.username, u.display_name, u.avatar_url, u.bio, u.created_at
	FROM found f JOIN users u ON u.id = f.user_id
	ORDER BY f.tier, f.len, f.uname NULLS LAST, f.user_id
	LIMIT (SELECT lim FROM v)`)

// typosQueryPostgres finds one-typo matches by word similarity (<%, the
// trigram index) that are not substring matches; its parameters are the
// text, the text escaped for LIKE, the text again and the limit. It runs
// with pg_trgm.word_similarity_threshold set to typoThreshold.
var typosQueryPostgres = compactSQL(`
	SELECT u.id, u.username, u.display_name, u.avatar_url, u.bio, u.created_at
	FROM users u
	WHERE u.deleted_at IS NULL AND (SELECT lower(unaccent('unaccent'::regdictionary, ?))) <% u.search_key
		AND u.search_key NOT LIKE (SELECT '%' || lower(unaccent('unaccent'::regdictionary, ?)) || '%')
	ORDER BY word_similarity((SELECT lower(unaccent('unaccent'::regdictionary, ?))), u.search_key) DESC,
		length(u.search_key), u.username_normalized NULLS LAST, u.id
	LIMIT ?`)

// compactSQL collapses runs of white space; the statements it is used on
// have no string literal holding two spaces in a row, nor comments.
func compactSQL(s string) string { return strings.Join(strings.Fields(s), " ") }

// On PostgreSQL every tier is computed in SQL from the stored, folded
// columns of migration 00011: exact username, exact display name, prefix,
// word prefix, substring. Only when that leaves room, and the text has
// four characters or more (a typo in three letters is just another word),
// one-typo matches follow, by word similarity (<%, the trigram index).
//
// When the folded text is one word of three characters or more (what
// typeahead sends), the tiers are read in result order instead of ranking
// every user containing the text: exact matches from the indexes on
// search_username and search_display_name, the prefix tiers from
// user_search_prefixes (migration 00013), a page each, and the substring
// tier through the trigram index only if fewer than limit users were
// found. Other text (several words, one or two characters) ranks every
// candidate from the trigram index. The branch that does not apply is a
// one-time filter of the generic plan and is never executed.
func (s *Search) searchUsersPostgres(ctx context.Context, q string, limit int) ([]links.Profile, error) {
	key := strings.ReplaceAll(q, "_", " ")
	rows, err := profilesOf(ctx, s.db, usersQueryPostgres, q, key, likeEscape(key), limit)
	if err != nil {
		return nil, fmt.Errorf("search users: %w", err)
	}
	if len(rows) < limit && len([]rune(key)) >= 4 {
		var typos []profileRow
		err := s.db.InTx(ctx, func(ctx context.Context) error {
			if err := s.db.Conn(ctx).Exec(`SELECT set_config('pg_trgm.word_similarity_threshold', ?, true)`, typoThreshold).Error; err != nil {
				return err
			}
			var err error
			typos, err = profilesOf(ctx, s.db, typosQueryPostgres, key, likeEscape(key), key, limit-len(rows))
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("search users: %w", err)
		}
		rows = append(rows, typos...)
	}
	out := make([]links.Profile, len(rows))
	for i, r := range rows {
		out[i] = r.profile()
	}
	return out, nil
}
