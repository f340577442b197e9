#!/usr/bin/env bash
# Measures how long the built binary takes from exec to /readyz 200 on a
# fresh embedded SQLite database, and its resident memory once idle.
set -euo pipefail
bin=${1:-bin/lenticular}
runs=${RUNS:-5}
port=${PORT:-18080}
for i in $(seq 1 "$runs"); do
  dir=$(mktemp -d)
  start=$(date +%s%N)
  DATA_DIR="$dir/data" HTTP_ADDR="127.0.0.1:$port" LOG_LEVEL=warn "$bin" serve 2>"$dir/log" &
  pid=$!
  until curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; do
    kill -0 "$pid" 2>/dev/null || { cat "$dir/log"; exit 1; }
    sleep 0.005
  done
  ready=$(( ($(date +%s%N) - start) / 1000000 ))
  sleep 1
  rss=$(awk '/VmRSS/ {print int($2/1024)}' "/proc/$pid/status")
  kill -TERM "$pid"; wait "$pid" || true
  rm -rf "$dir"
  echo "run $i: ready in ${ready} ms, idle RSS ${rss} MiB"
done
