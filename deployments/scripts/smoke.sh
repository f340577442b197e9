#!/usr/bin/env bash
# Container smoke test without Docker.
#
# Builds the release binary exactly as deployments/Dockerfile does, then runs
# it the way the distroless image would: in an empty root filesystem (no
# shell, no libc, nothing but the binary, the CA bundle and tzdata), read-only
# except for a tmpfs /tmp and a writable DATA_DIR, as uid/gid 65532, as PID 1
# of its own namespaces. bubblewrap (Debian package `bubblewrap`) builds the
# sandbox. The script:
#   1. checks `version` prints the version injected with -ldflags,
#   2. runs `migrate up` on a fresh embedded database,
#   3. runs `serve` (AUTO_MIGRATE off, so the migrations must already be there),
#      waits for GET /readyz 200 and checks its body,
#   4. sends SIGTERM and requires exit status 0 within SMOKE_STOP_SECONDS.
# Any failure exits non-zero with the service's log; nothing is skipped.
#
# Namespaces: run as root, the script first drops to uid 65532 with setpriv
# and starts bwrap unprivileged, so the process is uid 65532 inside and
# outside the sandbox. Where unprivileged user namespaces are refused (for
# example Ubuntu 24.04's AppArmor restriction), it says so and starts bwrap as
# root with --uid/--gid 65532 instead: still a non-root process in an empty
# filesystem, with its uid mapped to root outside. Set SMOKE_MODE=unprivileged
# or SMOKE_MODE=root to force one.
set -euo pipefail
cd "$(dirname "$0")/../.."

log() { printf '=== smoke: %s\n' "$*"; }
fail() { printf '=== smoke: FAIL: %s\n' "$*" >&2; exit 1; }

uid=65532
gid=65532
stop_seconds=${SMOKE_STOP_SECONDS:-10}
ready_seconds=${SMOKE_READY_SECONDS:-30}
version=${VERSION:-smoke-$(git rev-parse --short HEAD 2>/dev/null || echo local)}

if ! command -v bwrap >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "installing bubblewrap"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null
  fi
  command -v bwrap >/dev/null || fail "bwrap not found: install bubblewrap (apt-get install bubblewrap)"
fi
command -v curl >/dev/null || fail "curl is required"

work=$(mktemp -d)
chmod 755 "$work"
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

log "building the release binary (as deployments/Dockerfile does), version ${version}"
CGO_ENABLED=0 go build -tags nomsgpack -trimpath -ldflags "-s -w -X main.version=${version}" -o "$work/lenticular" ./cmd/lenticular
chmod 755 "$work/lenticular"
# The image must stay under 50 MB: distroless/static-debian12 adds about 2 MB.
size=$(stat -c %s "$work/lenticular")
max=${SMOKE_MAX_BINARY_BYTES:-47500000}
log "binary: ${size} bytes (limit ${max}, so the image stays under 50 MB)"
[ "$size" -le "$max" ] || fail "binary is ${size} bytes, over ${max}: see what grew with go version -m and go tool nm -size -sort size"

mkdir -p "$work/data"
chmod 700 "$work/data"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:%s:%s:nonroot:/home/nonroot:/sbin/nologin\n' "$uid" "$gid" >"$work/passwd"
printf 'root:x:0:\nnonroot:x:%s:\n' "$gid" >"$work/group"
chmod 644 "$work/passwd" "$work/group"

# The sandbox: an empty tmpfs root with only these mounts, then made read-only.
sandbox_args=(
  --unshare-all --share-net
  --uid "$uid" --gid "$gid"
  --die-with-parent --new-session --as-pid-1
  --proc /proc
  --dev /dev
  --ro-bind "$work/lenticular" /usr/local/bin/lenticular
  --ro-bind /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
  --ro-bind "$work/passwd" /etc/passwd
  --ro-bind "$work/group" /etc/group
  --tmpfs /tmp
  --bind "$work/data" /data
  --chdir /data
  --clearenv
  --setenv PATH /usr/local/bin
  --setenv HOME /home/nonroot
  --setenv DATA_DIR /data
  --setenv APP_ENV development
  --setenv AUTO_MIGRATE false
  --setenv LOG_LEVEL info
)
if [ -d /usr/share/zoneinfo ]; then
  sandbox_args+=(--ro-bind /usr/share/zoneinfo /usr/share/zoneinfo)
fi
sandbox_args+=(--remount-ro /)

# mode: unprivileged (bwrap itself runs as 65532) or root (bwrap runs as root
# and maps the process to 65532). launcher is the command that starts bwrap;
# setpriv execs it, so a background launch's $! is bwrap's PID.
mode=${SMOKE_MODE:-}
set_launcher() {
  case "$mode" in
    unprivileged)
      if [ "$(id -u)" = 0 ]; then
        chown "$uid:$gid" "$work/data"
        launcher=(setpriv --reuid "$uid" --regid "$gid" --clear-groups bwrap)
      else
        launcher=(bwrap)
      fi
      ;;
    root)
      [ "$(id -u)" = 0 ] || fail "SMOKE_MODE=root needs root"
      chown 0:0 "$work/data"
      launcher=(bwrap)
      ;;
    *) fail "unknown SMOKE_MODE=${mode}" ;;
  esac
}
if [ -z "$mode" ]; then
  mode=unprivileged
  set_launcher
  if [ "$(id -u)" = 0 ] && ! "${launcher[@]}" "${sandbox_args[@]}" -- /usr/local/bin/lenticular help >/dev/null 2>"$work/probe.err"; then
    log "unprivileged user namespaces are refused here ($(head -c 200 "$work/probe.err")); running bwrap as root with --uid ${uid}"
    mode=root
    set_launcher
  fi
else
  set_launcher
fi
log "sandbox mode: ${mode}"

log "the sandbox has nothing but the binary"
for probe in /bin/sh /usr/bin/env /lib/x86_64-linux-gnu/libc.so.6; do
  if "${launcher[@]}" "${sandbox_args[@]}" -- "$probe" >/dev/null 2>&1; then fail "${probe} ran inside the sandbox"; fi
done
if "${launcher[@]}" "${sandbox_args[@]}" --setenv DATA_DIR /usr/local -- /usr/local/bin/lenticular migrate up >/dev/null 2>&1; then
  fail "the binary wrote outside DATA_DIR: the root filesystem is not read-only"
fi

log "version"
got=$("${launcher[@]}" "${sandbox_args[@]}" -- /usr/local/bin/lenticular version) || fail "version exited non-zero"
[ "$got" = "$version" ] || fail "version printed '${got}', want '${version}'"
echo "$got"

log "migrate up"
"${launcher[@]}" "${sandbox_args[@]}" -- /usr/local/bin/lenticular migrate up >"$work/migrate.log" 2>&1 \
  || { cat "$work/migrate.log"; fail "migrate up exited non-zero"; }
tail -n 3 "$work/migrate.log"

# A free loopback port: one nothing answers on.
port=""
for _ in $(seq 1 50); do
  p=$((20000 + RANDOM % 20000))
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then port=$p; break; fi
done
[ -n "$port" ] || fail "no free loopback port"

log "serve on 127.0.0.1:${port}"
"${launcher[@]}" "${sandbox_args[@]}" --setenv HTTP_ADDR "127.0.0.1:${port}" -- /usr/local/bin/lenticular serve >"$work/serve.log" 2>&1 &
pid=$!

body=""
deadline=$((SECONDS + ready_seconds))
until body=$(curl -fsS --max-time 2 "http://127.0.0.1:${port}/readyz" 2>/dev/null); do
  if ! kill -0 "$pid" 2>/dev/null; then cat "$work/serve.log"; fail "serve exited before /readyz answered"; fi
  if [ "$SECONDS" -ge "$deadline" ]; then cat "$work/serve.log"; fail "/readyz did not answer 200 within ${ready_seconds}s"; fi
  sleep 0.1
done
echo "GET /readyz -> ${body}"
for want in '"status":"ok"' '"database":"ok"' '"migrations":"ok"'; do
  case "$body" in *"$want"*) ;; *) cat "$work/serve.log"; fail "/readyz body lacks ${want}" ;; esac
done
health=$(curl -fsS --max-time 2 "http://127.0.0.1:${port}/healthz") || fail "/healthz did not answer 200"
echo "GET /healthz -> ${health}"

# The service is PID 1 of the sandbox (--as-pid-1), a child of the bwrap
# monitor: signal it, as `docker stop` signals the container's PID 1.
child=""
for _ in $(seq 1 20); do
  child=$(ps -o pid= --ppid "$pid" | tr -d ' ' | head -n 1)
  [ -n "$child" ] && break
  sleep 0.1
done
[ -n "$child" ] || fail "could not find the service process under bwrap (pid ${pid})"
child_uid=$(awk '/^Uid:/ {print $2}' "/proc/${child}/status")
log "service pid ${child} runs as host uid ${child_uid}"
if [ "$mode" = unprivileged ] && [ "$child_uid" != "$uid" ]; then fail "service runs as uid ${child_uid}, want ${uid}"; fi

log "SIGTERM"
start=$SECONDS
kill -TERM "$child"
status=0
for _ in $(seq 1 $((stop_seconds * 10))); do
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$pid" 2>/dev/null; then
  cat "$work/serve.log"
  fail "serve still running ${stop_seconds}s after SIGTERM"
fi
wait "$pid" || status=$?
pid=""
tail -n 5 "$work/serve.log"
[ "$status" -eq 0 ] || { cat "$work/serve.log"; fail "serve exited with status ${status} after SIGTERM, want 0"; }
log "stopped cleanly in $((SECONDS - start))s with status 0"

log "files written (all under DATA_DIR):"
(cd "$work/data" && find . -maxdepth 2 | sort)
log "PASS"
