#!/usr/bin/env bash
# PutEvents throughput as a share of the HTTP floor (nginx answering a fixed 200), for both
# paths, plus idle memory and start-up time: `benches/floor.sh [SECONDS] [CONNECTIONS]`.
#
# - rule-only: the default bus with one matching rule and no target;
# - archived: a bus whose archive takes every event (durable acknowledgement);
# - idle RSS after start, with a data dir and with --in-memory;
# - start to first answered request, median of 5 starts.
# Uses ../shared/bench/floor/floor.sh (wrk + nginx, alternating in one run: the ratio is stable
# where requests/s are not). Installs nginx-light and wrk with apt-get when it can; otherwise
# says what is missing and exits 0. Never fails on a timing.
set -uo pipefail
secs=${1:-6}; conns=${2:-8}
root=$(cd "$(dirname "$0")/.." && pwd)
floor="${FLOOR_SH:-$root/../shared/bench/floor/floor.sh}"
if [ ! -x "$floor" ] && [ ! -f "$floor" ]; then
  echo "floor: $floor not found (set FLOOR_SH); skipping"; exit 0
fi
if ! command -v wrk >/dev/null || ! command -v nginx >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    (apt-get update -qq && apt-get install -y -qq nginx-light wrk) >/dev/null 2>&1
  fi
  if ! command -v wrk >/dev/null || ! command -v nginx >/dev/null; then
    echo "floor: needs wrk and nginx (apt-get install nginx-light wrk); skipping"; exit 0
  fi
fi
# FLOOR_BIN=path measures that binary as it is (e.g. a copy of the build before a change).
if [ -n "${FLOOR_BIN:-}" ]; then
  bin=$FLOOR_BIN
else
  (cd "$root" && cargo build --release --quiet) || { echo "floor: release build failed"; exit 1; }
  bin="$root/target/release/eventbridge-local"
  [ -n "${CARGO_TARGET_DIR:-}" ] && bin="$CARGO_TARGET_DIR/release/eventbridge-local"
fi
work=$(mktemp -d); pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$work"; }
trap cleanup EXIT

# Starts the server with the given flags; sets $pid and $port.
start() {
  "$bin" --port 0 "$@" >"$work/out" 2>"$work/err" &
  pid=$!; pids+=("$pid")
  for _ in $(seq 200); do
    port=$(sed -n 's|.*http://127.0.0.1:\([0-9]*\).*|\1|p' "$work/out" | head -1)
    [ -n "$port" ] && break; sleep 0.01
  done
}
call() { # call PORT OPERATION JSON
  curl -s -X POST "http://127.0.0.1:$1/" -H "X-Amz-Target: AWSEvents.$2" \
    -H "Content-Type: application/x-amz-json-1.1" \
    -H "Authorization: AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/events/aws4_request, SignedHeaders=host, Signature=x" \
    -d "$3" >/dev/null
}
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

echo "== idle memory"
start --data-dir "$work/data-idle"; sleep 1; echo "idle RSS, data dir: $(( $(rss_kib "$pid") / 1024 )) MiB ($(ls /proc/$pid/task | wc -l) threads)"; kill "$pid"; wait "$pid" 2>/dev/null
start --in-memory; sleep 1; echo "idle RSS, --in-memory: $(( $(rss_kib "$pid") / 1024 )) MiB"; kill "$pid"; wait "$pid" 2>/dev/null

echo "== start to first answered request (median of 9 starts; the binary's --version as the floor)"
# benches/startup.py times from spawning the process to its first 200 (a shell loop of curls
# would time curl's start-up as much as the server's).
python3 "$root/benches/startup.py" "$bin" 9 -- --data-dir "$work/data-start" | sed 's/^/data dir: /'
python3 "$root/benches/startup.py" "$bin" 9 -- --in-memory | sed 's/^/--in-memory: /'
echo "== rule-only: default bus, one matching rule, no target"
start --in-memory
call "$port" PutRule '{"Name":"floor","EventPattern":"{\"source\":[\"com.mycompany.myapp\"]}"}'
BUS=default bash "$floor" "http://127.0.0.1:$port/" "$secs" "$conns"
kill "$pid"; wait "$pid" 2>/dev/null

echo "== archived: a bus with an archive of every event (durable acks)"
start --data-dir "$work/data-archive"
call "$port" CreateEventBus '{"Name":"floor"}'
call "$port" CreateArchive '{"ArchiveName":"floor","EventSourceArn":"arn:aws:events:us-east-1:000000000000:event-bus/floor"}'
BUS=floor bash "$floor" "http://127.0.0.1:$port/" "$secs" "$conns"
echo "server RSS after the load: $(( $(rss_kib "$pid") / 1024 )) MiB"
