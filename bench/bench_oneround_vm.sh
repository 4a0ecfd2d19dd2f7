#!/usr/bin/env bash
# Measures inside the target VM what one probe's one-round request costs there: wall, reductions, evaluated expressions, decoding.
#
# Usage: bench/bench_oneround_vm.sh [N]    N evaluations of each captured request (default 40)
#
# Starts a 2-node demo cluster (node 1: 3 governors; node 2: a family of 2,000), captures the
# request of each probe below with call tracing (bench/oneround_vm.erl, compiled into the
# temporary directory and loaded on the nodes: measurement only), then evaluates it again N
# times in the node: the same calls the probe made, without the network.
#   plain    beamprobe check NODE1
#   full     --governor cost_guard,rollback_guard,backlog_valve --supervisor demo_sup --require-app demo --expect-size 2
#   family   beamprobe check NODE2 --governors-under tenant_sup (2,000 gen_statems; N/8 evaluations)
set -euo pipefail
# shellcheck source=test/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../test/integration/lib.sh"

runs=${1:-40}
start_cluster 2
N1=${NODES[0]} N2=${NODES[1]}
erlc -o "$DIR" "$ROOT/bench/oneround_vm.erl"
for n in "$N1" "$N2"; do ceval "$n" "code:add_patha(\"$DIR\"), {module, _} = code:load_file(oneround_vm), ok." >/dev/null; done
ceval "$N1" 'demo_truth:start_tenants(3), timer:sleep(200).' >/dev/null
ceval "$N2" 'demo_truth:start_tenants(3), [supervisor:start_child(tenant_sup, [T]) || T <- lists:seq(4, 2000)], timer:sleep(300).' >/dev/null

measure() { # NAME NODE EVALS ARGS...
  local name=$1 node=$2 evals=$3; shift 3
  ceval "$node" 'oneround_vm:capture().' >/dev/null
  "$BEAMPROBE" check "$node" --cookie-file "$COOKIE" --timeout 10s --json --plan one-round "$@" | jq -c '{round_trips, plan, plan_unused}' >"$DIR/$name.probe"
  ceval "$node" "oneround_vm:captured(\"$DIR/$name.req\")." >/dev/null
  echo "## $name: beamprobe check ${*:-(plain)}: $(cat "$DIR/$name.probe")"
  ceval "$node" "oneround_vm:measure(\"$DIR/$name.req\", $evals)."
  echo
}
echo "# $(date -u), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $runs evaluations each"
measure plain "$N1" "$runs"
measure full "$N1" "$runs" --governor cost_guard,rollback_guard,backlog_valve --supervisor demo_sup --require-app demo --expect-size 2
measure family "$N2" $(( runs / 8 > 0 ? runs / 8 : 1 )) --governors-under tenant_sup
