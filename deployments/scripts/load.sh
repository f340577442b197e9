#!/usr/bin/env bash
# Load runs against the built binary on local PostgreSQL + Redis (see docs/capacity.md).
#
#   load.sh fixed     [loadgen flags]   fixed rate (default 50 req/s for 30 s)
#   load.sh capacity  [loadgen flags]   small-instance budget: one core, GOMAXPROCS=1,
#                                       GOMEMLIMIT=400MiB; ramp + bisection for the highest
#                                       rate with p99 < 100 ms and zero errors
#   load.sh soak      [loadgen flags]   10 minutes at a steady rate under the same budget,
#                                       goroutines / DB pool / open files before and after
#
# loadgen creates and drops its own database (lt_load_*) on ADMIN_URL's server and flushes
# Redis database 14 (REDIS_URL); it only ever targets loopback addresses.
set -euo pipefail
cd "$(dirname "$0")/../.."

mode="${1:-fixed}"; shift || true
bin=bin/lenticular
loadgen=bin/loadgen
out_dir="${LOAD_OUT:-bin}"
admin_url="${ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}"
redis_url="${REDIS_URL:-redis://127.0.0.1:6379/14}"

[ -x "$bin" ] || { echo "build the release binary first: go tool task build"; exit 1; }
go build -o "$loadgen" ./cmd/loadgen

pg_isready -q -h 127.0.0.1 -p 5432 || { echo "PostgreSQL is not running on 127.0.0.1:5432"; exit 1; }
redis-cli -u "${redis_url}" ping >/dev/null || { echo "Redis is not answering at ${redis_url}"; exit 1; }

# Server on core 0, load generator on core 1 (when there are two), so the
# generator does not steal the server's CPU budget.
budget=()
gen=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  budget=(-cpus 0)
  gen=(taskset -c 1)
else
  echo "note: taskset or a second core is missing; the server is limited by GOMAXPROCS only"
fi
budget+=(-gomaxprocs 1 -memlimit 400MiB)
# On a shared machine other work competes for core 0; LOAD_NICE=-10 (as root) gives the
# server and the generator priority over it, closer to a core of their own.
if [ -n "${LOAD_NICE:-}" ]; then
  budget+=(-nice "$LOAD_NICE")
  gen=(nice -n "$LOAD_NICE" "${gen[@]}")
fi

common=(-bin "$bin" -admin-url "$admin_url" -redis-url "$redis_url")
case "$mode" in
  fixed)
    exec "${gen[@]}" "$loadgen" "${common[@]}" -rate 50 -duration 30s -json "$out_dir/load.json" "$@" ;;
  capacity)
    exec "${gen[@]}" "$loadgen" "${common[@]}" "${budget[@]}" -ramp -ramp-start 25 -ramp-factor 1.5 \
      -step 20s -bisect 3 -json "$out_dir/capacity.json" "$@" ;;
  soak)
    exec "${gen[@]}" "$loadgen" "${common[@]}" "${budget[@]}" -rate 100 -duration 10m -hygiene \
      -json "$out_dir/soak.json" "$@" ;;
  *)
    echo "usage: $0 fixed|capacity|soak [loadgen flags]"; exit 2 ;;
esac
