#!/usr/bin/env bash
# Search benchmark (issue "Links and search", Performance): seeds 10,000 users
# and 100,000 links, serves them, and measures GET /v1/search/users?q=<3
# letters> and GET /v1/search/links?q=<word> at 16 connections, on
# PostgreSQL and on SQLite, then prints EXPLAIN ANALYZE (PostgreSQL) and
# EXPLAIN QUERY PLAN (SQLite) of the queries behind them.
#
#   bash deployments/scripts/search-bench.sh [BIN]
#
# BENCH_POSTGRES_URL: an admin URL of a PostgreSQL server (a database
# lenticular_bench is dropped and created on it). BENCH_USERS, BENCH_LINKS,
# BENCH_CONNS, BENCH_DURATION override the sizes. Seeding 100,000 links
# takes about 30 s on PostgreSQL and 60 s on SQLite here.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${1:-bin/lenticular}
ADMIN_URL=${BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
USERS=${BENCH_USERS:-10000}
LINKS=${BENCH_LINKS:-100000}
CONNS=${BENCH_CONNS:-16}
DURATION=${BENCH_DURATION:-20s}
PG_URL=${ADMIN_URL/\/postgres\?/\/lenticular_bench?}
WORK=$(mktemp -d)
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

[ -x "$BIN" ] || go build -o "$BIN" ./cmd/lenticular
go build -o "$WORK/searchload" ./deployments/scripts/searchload

serve_and_load() { # name port env...
  local name=$1 port=$2; shift 2
  env "$@" APP_ENV=development HTTP_ADDR="127.0.0.1:$port" RATE_LIMIT_ANON=100000000/m LOG_LEVEL=warn "$BIN" serve >"$WORK/$name.log" 2>&1 &
  server=$!
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
  echo "== $name ($USERS users, $LINKS links, $CONNS connections, $DURATION per endpoint)"
  "$WORK/searchload" -base "http://127.0.0.1:$port" -c "$CONNS" -d "$DURATION"
  kill "$server"; wait "$server" 2>/dev/null || true; server=""
}

echo "== seeding PostgreSQL"
psql -q "$ADMIN_URL" -c "DROP DATABASE IF EXISTS lenticular_bench WITH (FORCE)" -c "CREATE DATABASE lenticular_bench"
DATABASE_URL="$PG_URL" DATA_DIR="$WORK/pg" "$BIN" seed --users "$USERS" --links "$LINKS" 2>/dev/null
serve_and_load postgres 18090 DATABASE_URL="$PG_URL" DATA_DIR="$WORK/pg"

echo "== seeding SQLite"
DATA_DIR="$WORK/sqlite" "$BIN" seed --users "$USERS" --links "$LINKS" 2>/dev/null
serve_and_load sqlite 18091 DATA_DIR="$WORK/sqlite"

echo "== EXPLAIN ANALYZE on PostgreSQL (the adapter's statements, prepared, generic plan as the server runs them; kept in step with adapters/gormdb/search.go by hand)"
psql -q "$PG_URL" <<'SQL'
SET plan_cache_mode = force_generic_plan;
PREPARE users_q(text, text, text, bigint) AS
WITH p AS MATERIALIZED (
	SELECT CAST($1 AS text) AS q, CAST($2 AS text) AS key, CAST($3 AS text) AS pattern, CAST($4 AS bigint) AS lim
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
LIMIT (SELECT lim FROM v);
-- a first execution loads the text search dictionaries into this fresh session, as the server's
-- long-lived connections already have
\o /dev/null
EXECUTE users_q('mar', 'mar', 'mar', 10);
\o
-- one word: exact lookups and a page of user_search_prefixes per tier; two words: every trigram candidate ranked
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) EXECUTE users_q('mar', 'mar', 'mar', 10);
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) EXECUTE users_q('maria li', 'maria li', 'maria li', 10);
BEGIN;
SELECT set_config('pg_trgm.word_similarity_threshold', '0.45', true);
PREPARE typos_q(text, text, int) AS
SELECT u.id FROM users u WHERE u.deleted_at IS NULL AND (SELECT lower(unaccent('unaccent'::regdictionary, $1))) <% u.search_key
  AND u.search_key NOT LIKE (SELECT '%' || lower(unaccent('unaccent'::regdictionary, $2)) || '%')
ORDER BY word_similarity((SELECT lower(unaccent('unaccent'::regdictionary, $1))), u.search_key) DESC, length(u.search_key), u.username_normalized NULLS LAST, u.id LIMIT $3;
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) EXECUTE typos_q('martinex', 'martinex', 10);
COMMIT;
PREPARE links_q(text, bigint, bigint, text) AS
WITH p AS MATERIALIZED (
	SELECT CAST($1 AS text) AS q, CAST($2 AS bigint) AS lim, CAST($3 AS bigint) AS off, CAST($4 AS text) AS opts
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
ORDER BY h.rank DESC, h.id DESC;
\o /dev/null
EXECUTE links_q('tuning', 21, 0, 'MaxWords=24, MinWords=8, MaxFragments=2');
\o
-- one word: a page of link_terms; two words: the GIN index and ranking of the intersection
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) EXECUTE links_q('tuning', 21, 0, 'MaxWords=24, MinWords=8, MaxFragments=2');
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) EXECUTE links_q('tuning postgresql', 21, 0, 'MaxWords=24, MinWords=8, MaxFragments=2');
SQL

if command -v sqlite3 >/dev/null; then
  echo "== EXPLAIN QUERY PLAN on SQLite (the sqlite3 shell may be older than the embedded SQLite)"
  sqlite3 "$WORK/sqlite/lenticular.db" \
    "EXPLAIN QUERY PLAN SELECT l.id, -bm25(links_fts, 10.0, 4.0, 2.0) FROM links_fts JOIN links l ON l.seq = links_fts.rowid WHERE links_fts MATCH '\"tuning\"' ORDER BY bm25(links_fts, 10.0, 4.0, 2.0), l.id DESC LIMIT 21;" \
    "EXPLAIN QUERY PLAN SELECT s.user_id FROM user_search_words w JOIN user_search s ON s.seq = w.rowid WHERE user_search_words MATCH '\"mar\"*' LIMIT 200;" || true
fi
