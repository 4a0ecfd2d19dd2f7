#!/usr/bin/env bash
# test_flood.sh: serve and the in-VM server under 5,000 idle + 1,000 slowloris connections: fresh probes still get 200 fast, memory and descriptors stay bounded.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/serve_lib.sh"

# The flood helper holds 6,000 sockets and serve as many until it evicts them: raise the
# descriptor limit before anything starts (nodes, serve and the helper inherit it).
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
IDLE=${BP_FLOOD_IDLE:-5000}
SLOW=${BP_FLOOD_SLOW:-1000}  # the same counts under the sanitizers: fast enough there too
PROBES=20
LIMIT_MS=100        # each fresh probe: 200 within this, sanitized or not
CAP=1024            # serve's default --max-connections
RSS_GROWTH_KB=$((32 * 1024))
# AddressSanitizer keeps freed memory in quarantine (256 MiB by default) and pads every
# allocation: the thousands of evicted connections' buffers show up in RSS for a while.
[[ -n ${BP_SANITIZED:-} ]] && RSS_GROWTH_KB=$((128 * 1024))
FLOOD=$ROOT/test/fixtures/flood.py
command -v python3 >/dev/null || { echo "test_flood: python3 missing (scripts/install-deps.sh)" >&2; exit 1; }

start_cluster 2
N1=${NODES[0]} N2=${NODES[1]}
FLOOD_PID=
EXTRA_CLEANUP='[[ -n $FLOOD_PID ]] && kill -9 "$FLOOD_PID" 2>/dev/null || true'
serve_workspace flood

# start_flood PORT: open the idle and slowloris connections, wait until all were attempted.
start_flood() {
  python3 "$FLOOD" 127.0.0.1 "$1" "$IDLE" "$SLOW" >"$WORK/flood.out" 2>"$WORK/flood.err" &
  FLOOD_PID=$!
  for _ in $(seq 1200); do
    grep -q '^ready' "$WORK/flood.out" && break
    kill -0 "$FLOOD_PID" 2>/dev/null || break
    sleep 0.05
  done
  if grep -q '^ready' "$WORK/flood.out"; then ok "flood: $(grep '^ready' "$WORK/flood.out")"
  else fail "flood helper did not get ready: $(cat "$WORK/flood.err")"; fi
  sleep 1.5 # at least one slowloris byte per connection
}

stop_flood() {
  echo "  flood at the end: $(tail -n 1 "$WORK/flood.out")"
  kill -TERM "$FLOOD_PID" 2>/dev/null || true
  wait "$FLOOD_PID" 2>/dev/null || true
  FLOOD_PID=
}

# proc_stats PID: sets RSS_KB and FDS of that process.
proc_stats() {
  RSS_KB=$(awk '/^VmRSS:/ { print $2 }' "/proc/$1/status")
  FDS=$(find "/proc/$1/fd" -mindepth 1 -maxdepth 1 | wc -l)
}

# fresh_probes PORT: PROBES new connections, each GET /health/live; each must be 200 within LIMIT_MS.
fresh_probes() {
  local out code us worst=0 bad=0 all=()
  for _ in $(seq "$PROBES"); do
    out=$(curl -s -m 2 -o /dev/null -H 'Connection: close' -w '%{http_code} %{time_total}' \
          "http://127.0.0.1:$1/health/live" 2>/dev/null) || true
    code=${out%% *}
    us=$(awk -v s="${out##* }" 'BEGIN { printf "%d", s * 1000000 }')
    all+=("$((us / 1000)).$(printf '%03d' $((us % 1000)))")
    [[ $code == 200 ]] || bad=$((bad + 1))
    (( us > worst )) && worst=$us
  done
  echo "  fresh /health/live latencies (ms): ${all[*]}"
  if (( bad == 0 )); then ok "$PROBES/$PROBES fresh probes answered 200"; else fail "$bad of $PROBES fresh probes were not 200"; fi
  expect_le "$worst" "$((LIMIT_MS * 1000 - 1))" "slowest fresh probe (us)"
}

# bounded PID FDS0 RSS0: descriptors at most the cap plus what the process had before; RSS growth bounded.
bounded() {
  proc_stats "$1"
  echo "  pid $1: fds $2 -> $FDS, VmRSS $3 kB -> $RSS_KB kB"
  if (( FDS >= CAP )); then ok "the cap was full during the flood ($FDS fds)"; else fail "only $FDS fds: the flood never filled the cap"; fi
  expect_le "$FDS" "$(( $2 + CAP + 8 ))" "fds"
  expect_le "$(( RSS_KB - $3 ))" "$RSS_GROWTH_KB" "RSS growth (kB)"
}

test_case "serve: fresh probes get 200 fast while idle and slowloris connections fill the cap"
# long timeouts: the flood holds the cap for the whole test, so eviction (not a timeout) must
# make room for each probe
start_serve flood --node "$N1" --interval 200ms --timeout 500ms --header-timeout 120s --idle-timeout 120s
wait_code /health/live 200 10 || fail "serve never live: $BODY"
proc_stats "$SPID"; FDS0=$FDS RSS0=$RSS_KB
start_flood "$PORT"
fresh_probes "$PORT"
bounded "$SPID" "$FDS0" "$RSS0"

test_case "serve: /health still tells the truth under the flood"
http GET /health; expect_http 200
OUT=$BODY; expect_json .status healthy
"$CLUSTER" kill-node "$DIR" "${N1%@*}" >/dev/null
if wait_code /health/live 503 5; then ok "live 503 ${WAITED_MS} ms after the node was killed (ill health, not capacity)"
else fail "live stayed $CODE after the node was killed"; fi
http GET /health; OUT=$BODY; expect_json '.status != "healthy"' true
stop_flood
kill -TERM "$SPID"; wait "$SPID" || true
if grep -q -e Sanitizer -e 'runtime error' "$WORK/flood.log"; then fail "sanitizer report: $(grep -A20 Sanitizer "$WORK/flood.log" | head -40)"; fi

test_case "in-VM server: fresh probes get 200 fast while idle and slowloris connections fill the cap"
start_vm floodvm "{ok, P} = beamprobe:start_server(#{port => 0, interval => 200, header_timeout => 120000,
                                                      idle_timeout => 120000}),
                  io:format(\"port ~p~n\", [P]), receive stop -> ok end."
if wait_vm_port floodvm; then ok "in-VM server on port $PORT"; else fail "start_server: $(cat "$WORK/floodvm.log")"; finish; exit; fi
wait_code /health/live 200 10 || fail "in-VM server never live: $BODY"
proc_stats "$VM_PID"; FDS0=$FDS RSS0=$RSS_KB
start_flood "$PORT"
fresh_probes "$PORT"
bounded "$VM_PID" "$FDS0" "$RSS0"
http GET /health; expect_http 200
OUT=$BODY; expect_json .status healthy
stop_flood
stop_vm floodvm

finish
