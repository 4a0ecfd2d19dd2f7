#!/usr/bin/env bash
# Measures `beamprobe check --top 10` against a plain check on a node with 100,000 idle processes: wall, target CPU, reply size, the probe process's memory.
#
# Usage: bench/bench_top.sh [RUNS] [PROCS]    RUNS probes of each kind, interleaved (default 10);
#                                              PROCS idle processes spawned in the node (default 100000)
#
# One node (erl +P 300000); PROCS processes hibernated, spawned by the node itself. Each run
# (--plan one-round, --timeout 10s): a plain check, `--top 10` (window 100 ms) and `--top 10
# --top-window 1ms` (the window all but excluded), interleaved: wall time (ms, median), the node's CPU (utime+stime of its BEAM from
# /proc, 10 ms ticks: median of the runs), and the report's probe_memory_bytes. Then the request of
# each probe is captured by call tracing (bench/oneround_vm.erl, loaded on the node: measurement
# only) and evaluated again in the node: its reply's size (erlang:external_size) and reductions.
# Prints a Markdown report (bench/results/top-<date>.md keeps one).
set -euo pipefail
# shellcheck source=test/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../test/integration/lib.sh"

runs=${1:-10}
procs=${2:-100000}
start_cluster 1 -- +P 300000
N1=${NODES[0]}
PID=$(cat "$DIR/${N1%@*}.pid")
erlc -o "$DIR" "$ROOT/bench/oneround_vm.erl"
ceval "$N1" "code:add_patha(\"$DIR\"), {module, _} = code:load_file(oneround_vm), ok." >/dev/null
# compiled code, not a fun of the eval (which erl_eval would interpret): hibernated until a
# message wakes them (none comes: then they would return), killed with the node
ceval "$N1" "[erlang:spawn(erlang, hibernate, [lists, seq, [1, 1]]) || _ <- lists:seq(1, $procs)], erlang:system_info(process_count)." >"$DIR/count"
cpu() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
tck=$(getconf CLK_TCK)
median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

KINDS=(plain top top1)
args_of() {
  case $1 in
    plain) echo "" ;;
    top) echo "--top 10" ;;
    top1) echo "--top 10 --top-window 1ms" ;;
  esac
}
for k in "${KINDS[@]}"; do : >"$DIR/wall.$k"; : >"$DIR/cpu.$k"; : >"$DIR/mem.$k"; done
"$BEAMPROBE" check "$N1" --cookie-file "$COOKIE" --timeout 10s >/dev/null # warm-up (the first probe's atoms)
for ((i = 0; i < runs; i++)); do
  for k in "${KINDS[@]}"; do
    # shellcheck disable=SC2046
    c0=$(cpu); t0=$(date +%s%N)
    # shellcheck disable=SC2046
    out=$("$BEAMPROBE" check "$N1" --cookie-file "$COOKIE" --timeout 10s --plan one-round --json $(args_of "$k"))
    t1=$(date +%s%N); c1=$(cpu)
    echo $(( (t1 - t0) / 1000000 )) >>"$DIR/wall.$k"
    echo $(( (c1 - c0) * 1000 / tck )) >>"$DIR/cpu.$k"
    jq -r '.top.probe_memory_bytes // 0' <<<"$out" >>"$DIR/mem.$k"
    [[ $(jq -r '.round_trips' <<<"$out") == 1 ]] || echo "warning: $k took $(jq -r .round_trips <<<"$out") round trips" >&2
  done
done

# the request of each kind, captured and evaluated again in the node: reply bytes, reductions
inside() { # KIND
  ceval "$N1" 'oneround_vm:capture().' >/dev/null
  # shellcheck disable=SC2046
  "$BEAMPROBE" check "$N1" --cookie-file "$COOKIE" --timeout 10s --plan one-round $(args_of "$1") >/dev/null
  ceval "$N1" "oneround_vm:captured(\"$DIR/$1.req\")." >/dev/null
  ceval "$N1" "{ok, B} = file:read_file(\"$DIR/$1.req\"), Args = binary_to_term(B), Self = self(),
    spawn(fun() -> {reductions, R0} = process_info(self(), reductions), T0 = erlang:monotonic_time(microsecond),
                   Reply = apply(erl_eval, expr, Args), T1 = erlang:monotonic_time(microsecond),
                   {reductions, R1} = process_info(self(), reductions),
                   Self ! {r, erlang:external_size(Reply), R1 - R0, T1 - T0} end),
    receive {r, S, R, T} -> io_lib:format(\"~b ~b ~b\", [S, R, T]) end." | tr -d '"[]'
}

echo "# --top on $(($(tr -dc 0-9 <"$DIR/count"))) processes ($(date -u '+%Y-%m-%d %H:%M UTC'))"
echo
echo "Machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg); OTP $(erl -noshell -eval 'io:format("~s", [erlang:system_info(otp_release)]), halt().')."
echo "Command: bench/bench_top.sh $runs $procs ($runs runs of each, interleaved; medians)."
echo
echo "| probe | wall ms | target CPU ms | reply bytes | reductions (in-VM rerun) | in-VM rerun ms | probe process bytes |"
echo "|---|---|---|---|---|---|---|"
for k in "${KINDS[@]}"; do
  read -r size reds us < <(inside "$k")
  printf '| check %s | %s | %s | %s | %s | %s | %s |\n' "$(args_of "$k" | sed 's/^$/(plain)/')" \
    "$(median <"$DIR/wall.$k")" "$(median <"$DIR/cpu.$k")" "$size" "$reds" "$((us / 1000))" "$(median <"$DIR/mem.$k")"
done
