#!/usr/bin/env bash
# Compares the one-round and the multi-round plan of `beamprobe check` on a local demo node: rounds, wall, target CPU, and under delay.
#
# Usage: bench/bench_plans.sh [N]     N probes per plan, interleaved (default 100)
#
#   1. The full check (3 governors, demo_sup walked, --require-app, --expect-size), N probes per
#      plan, interleaved: round trips, mean wall time, and the target node's CPU (utime+stime of
#      its BEAM from /proc, 10 ms ticks, so averaged over the N probes).
#   2. --governors-under a simple_one_for_one family of 2,000 gen_statems: one probe per plan, then the
#      one-round plan under --max-reply 600KiB..1MiB (where its reply stops fitting one round).
#   3. The full check through bench/delay_proxy.py (BENCH_DELAY_MS one-way, default 5 ms),
#      BENCH_DELAY_REPS probes per plan (default 15): median duration_ms.
set -euo pipefail
# shellcheck source=test/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../test/integration/lib.sh"

runs=${1:-100}
DELAY_MS=${BENCH_DELAY_MS:-5}
DELAY_REPS=${BENCH_DELAY_REPS:-15}
start_cluster 2
N1=${NODES[0]}
PID=$(cat "$DIR/${N1%@*}.pid")
ceval "$N1" 'demo_truth:start_tenants(3), timer:sleep(200).' >/dev/null
FULL=(--governor cost_guard,rollback_guard,backlog_valve --supervisor demo_sup --require-app demo --expect-size 2)
PLANS=(one-round multi-round)
cpu() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
tck=$(getconf CLK_TCK)

echo "## 1. full check, $runs probes per plan, interleaved ($(date -u))"
declare -A W C
for plan in "${PLANS[@]}"; do W[$plan]=0; C[$plan]=0; done
for ((i = 0; i < runs; i++)); do
  for plan in "${PLANS[@]}"; do
    c0=$(cpu); t0=$(date +%s%N)
    "$BEAMPROBE" check "$N1" --cookie-file "$COOKIE" "${FULL[@]}" --plan "$plan" >/dev/null
    t1=$(date +%s%N); c1=$(cpu)
    W[$plan]=$(( ${W[$plan]} + (t1 - t0) / 1000 )); C[$plan]=$(( ${C[$plan]} + c1 - c0 ))
  done
done
for plan in "${PLANS[@]}"; do
  check "$N1" --json "${FULL[@]}" --plan "$plan"
  echo "$plan: $(jq .round_trips <<<"$OUT") round trips, wall $(( ${W[$plan]} / runs )) us/probe, target CPU $(( ${C[$plan]} * 1000000 / tck / runs )) us/probe"
done

echo "## 2. a family of 2,000 governors"
ceval "$N1" '[supervisor:start_child(tenant_sup, [T]) || T <- lists:seq(4, 2000)], timer:sleep(300).' >/dev/null
for plan in "${PLANS[@]}"; do
  c0=$(cpu); check "$N1" --json --governors-under tenant_sup --timeout 10s --plan "$plan"; c1=$(cpu)
  echo "$plan: $(jq .round_trips <<<"$OUT") round trips, wall $MS ms, target CPU $(( (c1 - c0) * 1000 / tck )) ms, members $(jq '.checks["governors:tenant_sup"].members' <<<"$OUT"), plan_unused $(jq .plan_unused <<<"$OUT")"
done
# the one-round reply's size, bounded from both sides: the smallest --max-reply that still takes one round
for mr in 600KiB 700KiB 800KiB 900KiB 1MiB; do
  check "$N1" --json --governors-under tenant_sup --timeout 10s --plan one-round --max-reply "$mr"
  echo "one-round, --max-reply $mr: $(jq .round_trips <<<"$OUT") round trips"
done

echo "## 3. full check, ${DELAY_MS} ms one-way delay (bench/delay_proxy.py), $DELAY_REPS probes per plan"
port=$(shuf -i 20000-59999 -n 1) ready="$DIR/proxy.ready"
python3 "$ROOT/bench/delay_proxy.py" --epmd-port "$port" --delay-ms "$DELAY_MS" --ready-file "$ready" </dev/null >"$DIR/proxy.log" 2>&1 &
proxy=$!
trap "kill $proxy 2>/dev/null; '$CLUSTER' stop '$DIR' >/dev/null 2>&1 || true; rm -rf '$DIR'" EXIT
for _ in $(seq 50); do [[ -f $ready ]] && break; sleep 0.1; done
for plan in "${PLANS[@]}"; do
  for ((i = 0; i < DELAY_REPS; i++)); do
    ERL_EPMD_PORT=$port "$BEAMPROBE" check "$N1" --cookie-file "$COOKIE" "${FULL[@]}" --plan "$plan" --json --timeout 10s \
      | jq -c '[.duration_ms, .round_trips]'
  done >"$DIR/$plan.delay"
  echo "$plan: $(jq -s '.[0][1]' "$DIR/$plan.delay") round trips, median duration_ms $(jq -s "map(.[0]) | sort | .[$((DELAY_REPS / 2))]" "$DIR/$plan.delay")"
done
