#!/usr/bin/env bash
# Load test of the accounts hot path against the built binary on PostgreSQL
# and Redis (wrk, 64 connections):
#   1. GET /healthz (static body) and GET /v1/users/me with a valid Bearer
#      token, same server, same run: throughput ratio and p99 latency.
#   2. The same two endpoints at a constant rate (open loop, ratelat) of
#      RATE_SHARE percent (default 25) of what /v1/users/me carried in 1:
#      their latency when the machine is not saturated.
#   3. 500 concurrent logins (Argon2id, m=19 MiB): peak RSS of the process.
# Usage: bench-me.sh [binary]; BENCH_DATABASE_URL and BENCH_REDIS_URL select
# the servers (defaults: local PostgreSQL, Redis db 14). A throwaway database
# is created and dropped.
set -euo pipefail
bin=${1:-bin/lenticular}
port=${PORT:-18081}
duration=${DURATION:-15s}
conns=${CONNS:-64}
threads=${THREADS:-2}
pg=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
redis_url=${BENCH_REDIS_URL:-redis://127.0.0.1:6379/14}
command -v wrk >/dev/null || { echo "wrk is required (Debian: apt-get install -y wrk)"; exit 1; }

db="lt_bench_$$"
psql "$pg" -qc "CREATE DATABASE $db" >/dev/null
base_url="${pg%%\?*}"; base_url="${base_url%/*}"
dburl="$base_url/$db?sslmode=disable"
dir=$(mktemp -d)
go build -o "$dir/ratelat" ./deployments/scripts/ratelat
cleanup() {
  [ -n "${pid:-}" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  psql "$pg" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT

APP_ENV=production JWT_SECRET=bench-secret-0123456789abcdef0123456789 \
DATABASE_URL="$dburl" REDIS_URL="$redis_url" AUTO_MIGRATE=true HTTP_ADDR="127.0.0.1:$port" \
DATA_DIR="$dir/data" LOG_LEVEL=error TRUSTED_PROXIES=127.0.0.1/32 \
RATE_LIMIT_ANON=1000000/s RATE_LIMIT_USER=1000000/s RATE_LIMIT_AUTH=1000000/s \
RATE_LIMIT_LOGIN_FAILURES=1000000/s \
  "$bin" serve 2>"$dir/log" &
# (set BENCH_KEEP_LOG=1 to print the server log on failure)
pid=$!
base="http://127.0.0.1:$port"
until curl -fs "$base/healthz" >/dev/null 2>&1; do
  kill -0 "$pid" 2>/dev/null || { cat "$dir/log"; exit 1; }
  sleep 0.05
done
# production refuses plain HTTP unless a trusted proxy (here: wrk on loopback)
# says the request came over https.
proto=(-H "X-Forwarded-Proto: https")

token=$(curl -s "${proto[@]}" -H 'Content-Type: application/json' \
  -d '{"email":"bench@example.com","password":"correct horse battery"}' "$base/v1/auth/register" |
  sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
[ -n "$token" ] || { echo "register failed"; cat "$dir/log"; exit 1; }

run() { # name, path, extra wrk args...
  local name=$1 path=$2; shift 2
  wrk -t"$threads" -c"$conns" -d"$duration" --latency "$@" "$base$path" > "$dir/$name.txt"
  local rps p99
  rps=$(awk '/Requests\/sec/ {print $2}' "$dir/$name.txt")
  p99=$(awk '$1=="99%" {print $2}' "$dir/$name.txt")
  non2xx=$(awk '/Non-2xx/ {print $4}' "$dir/$name.txt")
  echo "$name: ${rps} req/s, p99 ${p99}${non2xx:+, non-2xx $non2xx}" >&2
  echo "$rps $p99"
}
wrk -t1 -c8 -d3s -H "X-Forwarded-Proto: https" "$base/healthz" >/dev/null # warm up
read -r h_rps h_p99 < <(run healthz /healthz -H "X-Forwarded-Proto: https")
read -r m_rps m_p99 < <(run users_me /v1/users/me -H "X-Forwarded-Proto: https" -H "Authorization: Bearer $token")
awk -v m="$m_rps" -v h="$h_rps" 'BEGIN { printf "ratio /v1/users/me : /healthz = %.0f%%\n", 100*m/h }'

rate=$(awk -v m="$m_rps" -v s="${RATE_SHARE:-25}" 'BEGIN { printf "%d", m*s/100 }')
echo "at a constant ${rate} req/s (${RATE_SHARE:-25}% of /v1/users/me's closed-loop throughput):"
echo "  healthz:  $("$dir/ratelat" -url "$base/healthz" -rate "$rate" -d "$duration" -H "X-Forwarded-Proto: https")"
echo "  users_me: $("$dir/ratelat" -url "$base/v1/users/me" -rate "$rate" -d "$duration" -H "X-Forwarded-Proto: https" -H "Authorization: Bearer $token")"

# Peak RSS under 500 concurrent logins.
cat > "$dir/login.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"email":"bench@example.com","password":"correct horse battery"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Forwarded-Proto"] = "https"
LUA
before=$(awk '/VmHWM/ {print int($2/1024)}' "/proc/$pid/status")
wrk -t"$threads" -c500 -d"${LOGIN_DURATION:-15s}" --timeout 30s --latency -s "$dir/login.lua" "$base/v1/auth/login" > "$dir/login.txt"
peak=$(awk '/VmHWM/ {print int($2/1024)}' "/proc/$pid/status")
lrps=$(awk '/Requests\/sec/ {print $2}' "$dir/login.txt")
lp99=$(awk '$1=="99%" {print $2}' "$dir/login.txt")
lerr=$(awk '/Non-2xx/ {print $4}' "$dir/login.txt")
echo "500 concurrent logins: ${lrps} logins/s, p99 ${lp99}${lerr:+, non-2xx $lerr}; peak RSS ${peak} MiB (${before} MiB before)"
