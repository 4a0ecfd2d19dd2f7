#!/usr/bin/env bash
# Measures serve's /health/ready throughput with and without the status page being polled (wrk, keep-alive).
#
# Usage: bench/bench_page_poll.sh [SECONDS]   each wrk run (default 10)
#
# Starts a 3-node demo cluster (test/fixtures/cluster.sh) and `beamprobe serve` on it
# (--interval 1s), then runs wrk (1 thread, 20 connections) on /health/ready three times:
# alone, while one poller fetches / every second (a browser tab), and while 4 pollers
# fetch / back to back (a worst case). Prints requests/s and latency p50/p99 per run.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SECS=${1:-10}
BEAMPROBE=${BEAMPROBE:-$ROOT/priv/beamprobe}
DIR=$(mktemp -d "${TMPDIR:-/tmp}/bp-pagepoll.XXXXXX")
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  "$ROOT/test/fixtures/cluster.sh" stop "$DIR" >/dev/null 2>&1 || true
  rm -rf "$DIR"
}
trap cleanup EXIT
"$ROOT/test/fixtures/demo/build.sh" >/dev/null
"$ROOT/test/fixtures/cluster.sh" start "$DIR" 3 "bpp$$" >/dev/null
"$BEAMPROBE" serve --listen 127.0.0.1:0 --cookie-file "$DIR/cookie" --nodes "$(paste -sd, "$DIR/nodes")" \
  --interval 1s 2>"$DIR/serve.log" &
PIDS+=($!)
PORT=
for _ in $(seq 100); do
  PORT=$(sed -n 's/.*listening on .*:\([0-9]*\) (.*/\1/p' "$DIR/serve.log" | head -1)
  [[ -n $PORT ]] && break
  sleep 0.05
done
[[ -n $PORT ]] || { echo "serve did not start: $(cat "$DIR/serve.log")" >&2; exit 1; }
sleep 2
URL=http://127.0.0.1:$PORT
echo "page size: $(curl -s "$URL/" | wc -c) bytes; $(nproc) cores; $(date -u '+%Y-%m-%d %H:%M UTC')"
run() { # run LABEL: one wrk run on /health/ready
  local out
  out=$(wrk -t1 -c20 -d"${SECS}s" --latency "$URL/health/ready")
  printf '| %s | %s | %s | %s |\n' "$1" "$(awk '/Requests\/sec/ {print $2}' <<<"$out")" \
    "$(awk '$1 == "50%" {print $2}' <<<"$out")" "$(awk '$1 == "99%" {print $2}' <<<"$out")"
}
poll() { # poll PAUSE: fetch / forever, PAUSE seconds apart
  while :; do curl -s -o /dev/null "$URL/"; sleep "$1"; done
}
echo "| /health/ready while | requests/s | p50 | p99 |"
echo "|---|---:|---:|---:|"
run "nothing else"
poll 1 & PIDS+=($!)
run "/ polled every second"
kill "${PIDS[-1]}"
for _ in 1 2 3 4; do poll 0 & PIDS+=($!); done
run "/ polled by 4 clients back to back"
