package gormdb

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/google/uuid"
	"golang.org/x/text/unicode/norm"

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

// headlineOptions asks ts_headline for a short fragment with the matches
// between the markers search.SnippetStart and search.SnippetStop.
const headlineOptions = `StartSel="` + search.SnippetStart + `", StopSel="` + search.SnippetStop + `", MaxWords=24, MinWords=8, MaxFragments=2, FragmentDelimiter=" … "`

type hitRow struct {
	ID      uuid.UUID
	Rank    float64
	Snippet string
}

func toHits(rows []hitRow) []search.LinkHit {
	out := make([]search.LinkHit, len(rows))
	for i, r := range rows {
		out[i] = search.LinkHit{LinkID: r.ID, Rank: r.Rank, Snippet: r.Snippet}
	}
	return out
}

// The query is the normalised words joined by spaces through
// plainto_tsquery: whatever the user typed is text, never tsquery syntax,
// and a query of stop words only is empty and matches nothing.
//
// A query that comes down to one lexeme reads its page from link_terms
// (migration 00012): the same ts_rank_cd values, stored per lexeme in
// result order, so the page costs an index-only scan of limit+offset
// entries instead of ranking every matching link. Any other query ranks
// the links the GIN index finds; in the generic plan of the prepared
// statement the branch that does not apply is a one-time filter that is
// never executed.
func (s *Search) searchLinksPostgres(ctx context.Context, q string, limit, offset int) ([]search.LinkHit, error) {
	text := strings.Join(search.Terms(q), " ")
	var rows []hitRow
	if err := s.db.Conn(ctx).Raw(linksQueryPostgres, text, limit, offset, headlineOptions).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("search links: %w", err)
	}
	return toHits(rows), nil
}

// linksQueryPostgres is link search's statement on PostgreSQL; its
// parameters are the query's words, the limit, the offset and the
// ts_headline options. As in usersQueryPostgres, each parameter is used
// once and everything derived from it is computed once per execution, in
// v, read by scalar subqueries (InitPlans): in the generic plan of the
// prepared statement a bare plainto_tsquery of a parameter would be parsed
// again for every matching row (in ts_rank_cd and the recheck), and a
// constant LIMIT would make custom plans look cheaper, so that the
// statement would be planned again on every execution (some 0.4 ms here,
// as long as the execution itself).
var linksQueryPostgres = compactSQL(`
	WITH p AS MATERIALIZED (
		SELECT CAST(? AS text) AS q, CAST(? AS bigint) AS lim, CAST(? AS bigint) AS off, CAST(? AS text) AS opts
	), v AS MATERIALIZED (
		SELECT plainto_tsquery('lt_english', p.q) AS tsq, lt_single_lexeme(p.q) AS lexeme,
			p.lim, p.off, p.lim + p.off AS win, p.opts
		FROM p
	), hits AS (
		(SELECT t.link_id AS id, t.rank
		FROM link_terms t
		WHERE t.lexeme = (SELECT lexeme FROM v)
		ORDER BY t.rank DESC, t.link_id DESC
		LIMIT (SELECT win FROM v))
		UNION ALL
		(SELECT l.id, ts_rank_cd(l.search_vector, (SELECT tsq FROM v)) AS rank
		FROM links l
		WHERE (SELECT lexeme FROM v) IS NULL AND l.search_vector @@ (SELECT tsq FROM v))
		ORDER BY rank DESC, id DESC
		LIMIT (SELECT lim FROM v) OFFSET (SELECT off FROM v)
	)
	SELECT h.id, h.rank,
		ts_headline('lt_english', concat_ws(' · ', nullif(l.title, ''), l.url), (SELECT tsq FROM v), (SELECT opts FROM v)) AS snippet
	FROM hits h JOIN links l ON l.id = h.id
	ORDER BY h.rank DESC, h.id DESC`)

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

func (s *Search) searchLinksSQLite(ctx context.Context, q string, limit, offset int) ([]search.LinkHit, error) {
	match := FTSQuery(q, false)
	if match == "" {
		return nil, nil
	}
	var rows []hitRow
	// bm25 is lower for better matches; the weights put the title above
	// the domain above the URL, like the tsvector weights on PostgreSQL.
	err := s.db.Conn(ctx).Raw(`
		SELECT l.id, -bm25(links_fts, 10.0, 4.0, 2.0) AS rank,
			snippet(links_fts, -1, char(2), char(3), ' … ', 16) AS snippet
		FROM links_fts JOIN links l ON l.seq = links_fts.rowid
		WHERE links_fts MATCH ?
		ORDER BY bm25(links_fts, 10.0, 4.0, 2.0), l.id DESC
		LIMIT ? OFFSET ?`, match, limit, offset).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("search links: %w", err)
	}
	return toHits(rows), nil
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
	var rows []profileRow
	if err := s.db.Conn(ctx).Raw(usersQueryPostgres, q, key, likeEscape(key), limit).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("search users: %w", err)
	}
	args := map[string]any{"key": key, "pattern": likeEscape(key), "limit": limit}
	const (
		k        = `(SELECT lower(unaccent('unaccent'::regdictionary, @key)))`
		contains = `(SELECT '%' || lower(unaccent('unaccent'::regdictionary, @pattern)) || '%')`
		cols     = `u.id, u.username, u.display_name, u.avatar_url, u.bio, u.created_at`
	)
	if len(rows) < limit && len([]rune(key)) >= 4 {
		args["limit"] = limit - len(rows)
		var typos []profileRow
		err := s.db.InTx(ctx, func(ctx context.Context) error {
			tx := s.db.Conn(ctx)
			if err := tx.Exec(`SELECT set_config('pg_trgm.word_similarity_threshold', ?, true)`, typoThreshold).Error; err != nil {
				return err
			}
			return tx.Raw(`
				SELECT `+cols+` FROM users u
				WHERE u.deleted_at IS NULL AND `+k+` <% u.search_key AND u.search_key NOT LIKE `+contains+`
				ORDER BY word_similarity(`+k+`, u.search_key) DESC, length(u.search_key), u.username_normalized NULLS LAST, u.id
				LIMIT @limit`, args).Scan(&typos).Error
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

// userCandidates bounds how many FTS matches SQLite ranks per query.
const userCandidates = 200

// On SQLite the FTS5 indexes find candidates (word prefixes, and for three
// characters or more trigram substrings) and the tiers are computed here,
// with the same folding (case, accents) as the indexes.
func (s *Search) searchUsersSQLite(ctx context.Context, q string, limit int) ([]links.Profile, error) {
	words := FTSQuery(q, true)
	if words == "" {
		return nil, nil
	}
	const cols = `u.id, u.username, COALESCE(u.display_name, '') AS display_name, COALESCE(u.avatar_url, '') AS avatar_url, COALESCE(u.bio, '') AS bio, u.created_at`
	query := `SELECT ` + cols + ` FROM users u WHERE u.deleted_at IS NULL AND u.id IN (
		SELECT user_id FROM (SELECT s.user_id FROM user_search_words w JOIN user_search s ON s.seq = w.rowid
			WHERE user_search_words MATCH ? LIMIT ?)`
	args := []any{words, userCandidates}
	if len([]rune(q)) >= 3 {
		query += ` UNION SELECT user_id FROM (SELECT s.user_id FROM user_search_tri t JOIN user_search s ON s.seq = t.rowid
			WHERE user_search_tri MATCH ? LIMIT ?)`
		args = append(args, FTSPhrase(q), userCandidates)
	}
	query += `)`
	var rows []profileRow
	if err := s.db.Conn(ctx).Raw(query, args...).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("search users: %w", err)
	}
	return rankUsers(q, rows, limit), nil
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

// rankUsers orders candidates exact username > exact display name >
// prefix > word prefix > substring,
// then shorter names, then by username, and keeps the first limit.
func rankUsers(q string, rows []profileRow, limit int) []links.Profile {
	fq := fold(q)
	tier := func(r profileRow) int {
		u, d := "", fold(r.DisplayName)
		if r.Username != nil {
			u = fold(*r.Username)
		}
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
	type ranked struct {
		r    profileRow
		tier int
		name string
	}
	rs := make([]ranked, len(rows))
	for i, r := range rows {
		name := ""
		if r.Username != nil {
			name = strings.ToLower(*r.Username)
		}
		rs[i] = ranked{r, tier(r), name}
	}
	slices.SortStableFunc(rs, func(a, b ranked) int {
		if a.tier != b.tier {
			return a.tier - b.tier
		}
		la, lb := len(a.name)+len(a.r.DisplayName), len(b.name)+len(b.r.DisplayName)
		if la != lb {
			return la - lb
		}
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		return strings.Compare(a.r.ID.String(), b.r.ID.String())
	})
	if len(rs) > limit {
		rs = rs[:limit]
	}
	out := make([]links.Profile, len(rs))
	for i, r := range rs {
		out[i] = r.r.profile()
	}
	return out
}
