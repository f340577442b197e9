package gormdb

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/lenticular/lenticular/modules/links"
	"github.com/lenticular/lenticular/modules/search"
)

// headlineOptions asks ts_headline for a short fragment with the matches
// between the markers search.SnippetStart and search.SnippetStop.
const headlineOptions = `StartSel="` + search.SnippetStart + `", StopSel="` + search.SnippetStop + `", MaxWords=24, MinWords=8, MaxFragments=2, FragmentDelimiter=" … "`

// hitColumns are what both dialects' link search statements return per
// hit, in the order scanHit reads them: the link, its rank and snippet,
// and its submitter's public profile (NULLs when the user row is gone).
const hitColumns = `l.id, l.url, l.domain, l.title, l.submitted_by, l.submitted_at, l.saves_count, %s, %s,
	u.id, u.username, u.display_name, u.avatar_url, u.bio, u.created_at`

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
// never executed. The page's links and submitters are joined in the same
// statement: reading them by id afterwards took two more round trips,
// which cost the server and the database more than the search itself.
func (s *Search) searchLinksPostgres(ctx context.Context, q string, limit, offset int) ([]search.LinkHit, error) {
	text := strings.Join(search.Terms(q), " ")
	return s.queryHits(ctx, limit, linksQueryPostgres, text, limit, offset, headlineOptions)
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
// as long as the execution itself). The lexeme test is written out rather
// than calling lt_single_lexeme (migration 00012): PostgreSQL cannot inline
// that SQL function (its CASE is not strict), so each call planned its
// body again and parsed the query twice more.
//
// The snippet is the title's headline followed by the URL, whole.
// ts_headline of the title and URL together marked no word of the URL
// (the parser reads a URL as url, host and path tokens, not as words), so
// parsing the URL only cost time: a third of the headline's cost. For one
// lexeme the title's headline is read from link_terms (migration 00014:
// computed when the link is written, with lt_title_headline, whose
// options must stay these headlineOptions); other queries compute it for
// the page.
var linksQueryPostgres = compactSQL(`
	WITH p AS MATERIALIZED (
		SELECT CAST(? AS text) AS q, CAST(? AS bigint) AS lim, CAST(? AS bigint) AS off, CAST(? AS text) AS opts
	), v AS MATERIALIZED (
		SELECT x.tsq, p.lim, p.off, p.lim + p.off AS win, p.opts,
			CASE WHEN numnode(x.tsq) = 1 THEN (tsvector_to_array(to_tsvector('lt_english', p.q)))[1] END AS lexeme
		FROM p, LATERAL (SELECT plainto_tsquery('lt_english', p.q) AS tsq) x
	), hits AS (
		(SELECT t.link_id AS id, t.rank, t.snippet
		FROM link_terms t
		WHERE t.lexeme = (SELECT lexeme FROM v)
		ORDER BY t.rank DESC, t.link_id DESC
		LIMIT (SELECT win FROM v))
		UNION ALL
		(SELECT l.id, ts_rank_cd(l.search_vector, (SELECT tsq FROM v)) AS rank, NULL
		FROM links l
		WHERE (SELECT lexeme FROM v) IS NULL AND l.search_vector @@ (SELECT tsq FROM v))
		ORDER BY rank DESC, id DESC
		LIMIT (SELECT lim FROM v) OFFSET (SELECT off FROM v)
	)
	SELECT ` + fmt.Sprintf(hitColumns, `h.rank`, `CASE WHEN l.title = '' THEN l.url
		ELSE coalesce(h.snippet, ts_headline('lt_english', l.title, (SELECT tsq FROM v), (SELECT opts FROM v))) || ' · ' || l.url END`) + `
	FROM hits h JOIN links l ON l.id = h.id LEFT JOIN users u ON u.id = l.submitted_by
	ORDER BY h.rank DESC, h.id DESC`)

// linksQuerySQLite ranks with bm25, lower for better matches; the weights
// put the title above the domain above the URL, like the tsvector weights
// on PostgreSQL; equal ranks put the later link first (rowid, its
// insertion order). Its parameters are the FTS5 query, the limit, the
// offset and the FTS5 query again.
//
// The page is chosen from the full-text index alone, and only the page's
// rows are read again, one rowid lookup each (CROSS JOIN keeps that
// order), for their snippets, links and submitters: computing snippets and
// joining for every match before the ORDER BY took most of the statement's
// time (2,247 matches for "tuning" in the benchmark data).
var linksQuerySQLite = compactSQL(`
	WITH page AS (
		SELECT rowid AS seq, bm25(links_fts, 10.0, 4.0, 2.0) AS score
		FROM links_fts WHERE links_fts MATCH ?
		ORDER BY score, rowid DESC LIMIT ? OFFSET ?
	)
	SELECT ` + fmt.Sprintf(hitColumns, `-p.score`, `snippet(links_fts, -1, char(2), char(3), ' … ', 16)`) + `
	FROM page p CROSS JOIN links_fts ON links_fts.rowid = p.seq
		JOIN links l ON l.seq = p.seq LEFT JOIN users u ON u.id = l.submitted_by
	WHERE links_fts MATCH ?
	ORDER BY p.score, p.seq DESC`)

func (s *Search) searchLinksSQLite(ctx context.Context, q string, limit, offset int) ([]search.LinkHit, error) {
	match := FTSQuery(q, false)
	if match == "" {
		return nil, nil
	}
	return s.queryHits(ctx, limit, linksQuerySQLite, match, limit, offset, match)
}

// queryHits runs a link search statement (queryRows: a page is twenty
// rows of fifteen columns on every search) into a slice of the page's
// size: grown by append, it was a fifth of a search's allocations.
func (s *Search) queryHits(ctx context.Context, limit int, query string, args ...any) ([]search.LinkHit, error) {
	hits := make([]search.LinkHit, 0, limit)
	err := queryRows(ctx, s.db, query, args, func(rows *sql.Rows) error {
		h, err := scanHit(rows)
		hits = append(hits, h)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("search links: %w", err)
	}
	return hits, nil
}

// scanHit reads one row of hitColumns.
func scanHit(rows *sql.Rows) (search.LinkHit, error) {
	var (
		h                    search.LinkHit
		userID               uuid.NullUUID
		username             sql.NullString
		display, avatar, bio sql.NullString
		created              sql.NullTime
	)
	l := &h.Link
	if err := rows.Scan(&l.ID, &l.URL, &l.Domain, &l.Title, &l.SubmittedBy, &l.SubmittedAt, &l.SavesCount,
		&h.Rank, &h.Snippet, &userID, &username, &display, &avatar, &bio, &created); err != nil {
		return h, err
	}
	l.SubmittedAt = l.SubmittedAt.UTC()
	l.Submitter = links.Profile{ID: l.SubmittedBy}
	if userID.Valid {
		l.Submitter = profileRow{
			ID: userID.UUID, DisplayName: display.String, AvatarURL: avatar.String, Bio: bio.String, CreatedAt: created.Time,
		}.profile()
		if username.Valid {
			l.Submitter.Username = &username.String
		}
	}
	return h, nil
}
