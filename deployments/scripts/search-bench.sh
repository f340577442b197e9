#!/usr/bin/env bash
# Search benchmark (issue "Links and search", Performance): seeds 10,000 users
# and 100,000 links, serves them, and measures GET /v1/search/users?q=<3
# letters> and GET /v1/search/links?q=<word> at 16 connections (wrk, closed
# loop, 3 s of warm-up first), on PostgreSQL and on SQLite, then prints the
# plans of the adapter's own statements (searchexplain).
#
#   bash deployments/scripts/search-bench.sh [BIN]
#
# BENCH_POSTGRES_URL: an admin URL of a PostgreSQL server (a database
# lenticular_bench is dropped and created on it). BENCH_USERS, BENCH_LINKS,
# BENCH_CONNS, BENCH_DURATION override the sizes; BENCH_DB_POOL is the
# server's DB_MAX_OPEN_CONNS (default 8: this machine has two cores, and
# more connections than a few per core of the database only make its
# backends wait for each other). Seeding 100,000 links takes about 40 s on
# PostgreSQL and 60 s on SQLite here.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${1:-bin/lenticular}
ADMIN_URL=${BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
USERS=${BENCH_USERS:-10000}
LINKS=${BENCH_LINKS:-100000}
CONNS=${BENCH_CONNS:-16}
DURATION=${BENCH_DURATION:-15s}
POOL=${BENCH_DB_POOL:-8}
PG_URL=${ADMIN_URL/\/postgres\?/\/lenticular_bench?}
command -v wrk >/dev/null || { echo "wrk is required (Debian: apt-get install -y wrk)"; exit 1; }
WORK=$(mktemp -d)
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

[ -x "$BIN" ] || go build -o "$BIN" ./cmd/lenticular
go build -o "$WORK/searchexplain" ./deployments/scripts/searchexplain

load() { # endpoint port
  local out
  SEARCH_ENDPOINT=$1 wrk -t1 -c"$CONNS" -d3s -s deployments/scripts/search-wrk.lua "http://127.0.0.1:$2" >/dev/null
  out=$(SEARCH_ENDPOINT=$1 wrk -t1 -c"$CONNS" -d"$DURATION" --latency -s deployments/scripts/search-wrk.lua "http://127.0.0.1:$2")
  echo "$out" | awk -v name="$1" '
    /Requests\/sec/ { rps = $2 }
    /^ +50%/ { p50 = $2 } /^ +90%/ { p90 = $2 } /^ +99%/ { p99 = $2 }
    /^ +Latency +[0-9]/ { max = $4 }
    /Non-2xx/ { bad = $NF }
    END { printf "%-6s rps=%s p50=%s p90=%s p99=%s max=%s non-2xx=%d\n", name, rps, p50, p90, p99, max, bad }'
  ! echo "$out" | grep -q "Non-2xx\|Socket errors"
}

serve_and_load() { # name port env...
  local name=$1 port=$2; shift 2
  env "$@" APP_ENV=development HTTP_ADDR="127.0.0.1:$port" RATE_LIMIT_ANON=100000000/m LOG_LEVEL=warn \
    DB_MAX_OPEN_CONNS="$POOL" DB_MAX_IDLE_CONNS="$POOL" "$BIN" serve >"$WORK/$name.log" 2>&1 &
  server=$!
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
  echo "== $name ($USERS users, $LINKS links, $CONNS connections, $DURATION per endpoint, DB pool $POOL)"
  load users "$port"
  load links "$port"
  kill "$server"; wait "$server" 2>/dev/null || true; server=""
}

echo "== seeding PostgreSQL"
psql -q "$ADMIN_URL" -c "DROP DATABASE IF EXISTS lenticular_bench WITH (FORCE)" -c "CREATE DATABASE lenticular_bench"
DATABASE_URL="$PG_URL" DATA_DIR="$WORK/pg" "$BIN" seed --users "$USERS" --links "$LINKS" 2>/dev/null
# Measure the steady state, not the write-back of the seed: the seed's
# pages are flushed now rather than by a checkpoint during the run.
psql -q "$PG_URL" -c "CHECKPOINT"
sync
serve_and_load postgres 18090 DATABASE_URL="$PG_URL" DATA_DIR="$WORK/pg"

echo "== seeding SQLite"
DATA_DIR="$WORK/sqlite" "$BIN" seed --users "$USERS" --links "$LINKS" 2>/dev/null
serve_and_load sqlite 18091 DATA_DIR="$WORK/sqlite"

echo "== EXPLAIN (ANALYZE, BUFFERS) on PostgreSQL: the adapter's statements, prepared, generic plans as the server runs them"
"$WORK/searchexplain" "$PG_URL"
echo "== EXPLAIN QUERY PLAN on SQLite"
"$WORK/searchexplain" "$WORK/sqlite"
