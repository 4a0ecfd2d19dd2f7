#!/usr/bin/env bash
# Benchmarks `beamprobe cluster` on 3, 10 and 30 nodes of one local lean cluster against an rpc:multicall escript and per-node erl_call.
#
# Usage: bench/bench_cluster.sh [N]        N interleaved rounds (default 30; about 70 s in all)
#
# Starts one fresh cluster of lean nodes (test/fixtures/cluster.sh, stopped again by a trap on
# exit, failure or Ctrl-C), checks that it is a full mesh, then for the first 3, first 10 and
# all nodes (BENCH_SIZES) runs, in interleaved rounds whose order rotates every round:
#   B<n>  beamprobe cluster --nodes <the n nodes> (one process, all nodes probed concurrently)
#   E<n>  an escript: boots a hidden BEAM node, rpc:multicall(Nodes, erlang, nodes, []),
#         checks that every node sees the others
#   C<n>  erl_call -sname NODE -a 'erlang nodes []' once per node, one after the other
# plus two references: V, `beamprobe --version` (the cost of starting the binary: exec, dynamic
# linking), and B1, beamprobe cluster on node 1 alone (the fixed cost of one run).
# Per probe: wall time (median, p90) and CPU user+sys of the process and the children it waited
# for (wait4 rusage, bench/measure.c); a contender of several programs (C) is the sum of them.
# Writes bench/results/cluster-DATE.md (machine, commands, tables) and the per-probe samples in
# the .csv beside it, and prints the tables.  A second, shorter pass (BENCH_CPU_ROUNDS) reads the
# CPU all the cluster's BEAMs spent per probe (their threads' schedstat, idle rate subtracted).
#
# Environment: BENCH_NODES cluster size (30); BENCH_SIZES node counts compared ("3 10 30", each
# at most BENCH_NODES); BENCH_WARMUP rounds not recorded (2); BENCH_SETTLE_MS pause after each
# probe (20); BENCH_CPU_ROUNDS rounds of the cluster-CPU pass (10); BENCH_CPU_SETTLE_MS pause
# after each probe there before the CPU is read (100); BENCH_ERL_ARGS emulator flags of every
# node (lean: one scheduler of each kind, one async thread, 4096 processes, small heaps);
# BP_CLUSTER_TIMEOUT bound of the cluster start in s (120 here); BENCH_OUT results file;
# BENCH_KEEP=1 keeps the temporary directory.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH="$ROOT/bench"
CLUSTER="$ROOT/test/fixtures/cluster.sh"
BP="$ROOT/priv/beamprobe"
RUNNER=(python3 "$BENCH/bench_runner.py")

# shellcheck source=bench/lib.sh
. "$BENCH/lib.sh"

ROUNDS=${1:-30}
NODES_N=${BENCH_NODES:-30}
read -r -a SIZES <<<"${BENCH_SIZES:-3 10 30}"
WARMUP=${BENCH_WARMUP:-2}
SETTLE_MS=${BENCH_SETTLE_MS:-20}
CPU_ROUNDS=${BENCH_CPU_ROUNDS:-10}
CPU_SETTLE_MS=${BENCH_CPU_SETTLE_MS:-100}
read -r -a ERL_ARGS <<<"${BENCH_ERL_ARGS:-+S 1 +SDcpu 1 +SDio 1 +A 1 +P 4096 +hms 233}"
export BP_CLUSTER_TIMEOUT=${BP_CLUSTER_TIMEOUT:-120}
BP_TIMEOUT=5s   # beamprobe's deadline per node; generous, so a slow moment on 2 shared cores is not a failure
STAMP=$(date +%Y%m%d-%H%M%S)
OUT=${BENCH_OUT:-$ROOT/bench/results/cluster-$STAMP.md}
CSV="${OUT%.md}.csv"

[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || die "N must be a positive integer (got '$ROUNDS')"
[[ "$NODES_N" =~ ^[1-9][0-9]*$ && "$WARMUP" =~ ^[0-9]+$ && "$SETTLE_MS" =~ ^[0-9]+$
   && "$CPU_ROUNDS" =~ ^[1-9][0-9]*$ && "$CPU_SETTLE_MS" =~ ^[0-9]+$ ]] \
  || die "BENCH_NODES, BENCH_WARMUP, BENCH_SETTLE_MS, BENCH_CPU_ROUNDS and BENCH_CPU_SETTLE_MS must be integers"
((${#SIZES[@]} > 0)) || die "BENCH_SIZES is empty"
for s in "${SIZES[@]}"; do
  [[ "$s" =~ ^[1-9][0-9]*$ ]] && ((s <= NODES_N)) || die "BENCH_SIZES: '$s' is not a node count of 1..$NODES_N"
done

# ---------- tools ----------

for t in erl escript epmd jq python3 cc; do command -v "$t" >/dev/null || die "$t not found (scripts/install-deps.sh installs the project's tools)"; done
find_erl_call
ESCRIPT=$(command -v escript)
ensure_beamprobe

# ---------- cluster and cleanup ----------

# cleanup_extra: run by bench_cleanup (bench/lib.sh) before it stops the cluster.
cleanup_extra() {
  if [[ -n "${CHILD:-}" ]]; then kill "$CHILD" 2>/dev/null || true; wait "$CHILD" 2>/dev/null || true; fi
}
CLUSTER_STOP_VERBOSE=1
bench_tmp bench_cluster

mkdir -p "$CL" "$(dirname "$OUT")"
private_beamprobe
cc -O2 -Wall -o "$TMP/measure" "$BENCH/measure.c" || die "cannot compile bench/measure.c"

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
PREFIX="bpcl$$"
say "starting $NODES_N lean nodes (${PREFIX}_1..$NODES_N; erl ${ERL_ARGS[*]}; up to ${BP_CLUSTER_TIMEOUT}s)"
T0=$SECONDS
run_child "$CLUSTER" start "$CL" "$NODES_N" "$PREFIX" -- "${ERL_ARGS[@]}" >/dev/null 2>"$TMP/cluster.err" \
  || { cat "$TMP/cluster.err" >&2; die "cluster start failed"; }
START_SECS=$((SECONDS - T0))
mapfile -t NODES <"$CL/nodes"
((${#NODES[@]} == NODES_N)) || die "cluster.sh listed ${#NODES[@]} nodes, not $NODES_N"
COOKIE_FILE="$CL/cookie"
ALL=$(IFS=,; echo "${NODES[*]}")

# mesh_check LABEL: one beamprobe cluster run over every node must find the full mesh.
mesh_check() {
  local j
  j=$("$BP" cluster --nodes "$ALL" --cookie-file "$COOKIE_FILE" --timeout "$BP_TIMEOUT" --json) \
    || die "$1: beamprobe cluster over all $NODES_N nodes did not say converged: $(jq -r .reason <<<"$j" 2>/dev/null)"
  jq -e --argjson n "$NODES_N" '.verdict == "converged" and .probed == $n and .reachable == $n
      and (.matrix.nodes | length) == $n and ([.nodes[].sees | length] | min) == $n - 1
      and (.partitions | length) == 1' <<<"$j" >/dev/null \
    || die "$1: the cluster is not a full mesh of $NODES_N nodes: $(jq -c '{verdict, reason}' <<<"$j")"
  echo "$1: $(jq -r '"verdict \(.verdict): \(.reason); every node sees \([.nodes[].sees | length] | min) peers"' <<<"$j")"
}
MESH_BEFORE=$(mesh_check "before the run")
say "cluster up in ${START_SECS}s; $MESH_BEFORE"
BEAM_RSS_MIB=0
: >"$TMP/pids"
for n in "${NODES[@]}"; do
  p=$(node_os_pid "$n")
  echo "$p" >>"$TMP/pids"
  r=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null || echo 0)
  BEAM_RSS_MIB=$((BEAM_RSS_MIB + ${r:-0} / 1024))
done

# ---------- contenders ----------

ESC="$TMP/multicall.escript"
cat >"$ESC" <<'EOF'
#!/usr/bin/env escript
%% Benchmark contender E: boot a hidden node, ask every target for nodes() with rpc:multicall, check the mesh.
%%! -hidden
main(Names) ->
    {ok, _} = net_kernel:start([list_to_atom("bench_mc_" ++ os:getpid()), shortnames]),
    Nodes = [list_to_atom(N) || N <- Names],
    case rpc:multicall(Nodes, erlang, nodes, [], 5000) of
        {Replies, []} when length(Replies) =:= length(Nodes) ->
            Partial = [R || R <- Replies, not is_list(R) orelse length(Nodes -- R) > 1],
            case Partial of
                [] -> halt(0);
                _ -> io:format(standard_error, "not a full mesh: ~p~n", [Partial]), halt(1)
            end;
        {Replies, Bad} ->
            io:format(standard_error, "bad nodes ~p, replies ~p~n", [Bad, Replies]), halt(1)
    end.
EOF

q() { printf '%q ' "$@"; }
subset() { local IFS=,; echo "${NODES[*]:0:$1}"; }
{
  printf '#name V\tbeamprobe --version (process start and exit, no network; reference)\n'
  printf 'V\t-\t%s\n' "$(q "$BP" --version)"
  if [[ " ${SIZES[*]} " != *" 1 "* ]]; then
    printf '#name B1\tbeamprobe cluster, node 1 alone (reference)\n'
    printf 'B1\t-\t%s\n' "$(q "$BP" cluster --nodes "$(subset 1)" --cookie-file "$COOKIE_FILE" --timeout "$BP_TIMEOUT")"
  fi
  for s in "${SIZES[@]}"; do
    printf '#name B%s\tbeamprobe cluster, %s nodes\n' "$s" "$s"
    printf 'B%s\t-\t%s\n' "$s" "$(q "$BP" cluster --nodes "$(subset "$s")" --cookie-file "$COOKIE_FILE" --timeout "$BP_TIMEOUT")"
    printf '#name E%s\tescript rpc:multicall, %s nodes\n' "$s" "$s"
    printf 'E%s\t-\t%s\n' "$s" "$(q "HOME=$CL/home" "$ESCRIPT" "$ESC" "${NODES[@]:0:$s}")"
    printf '#name C%s\terl_call per node, %s nodes\n' "$s" "$s"
    for n in "${NODES[@]:0:$s}"; do
      printf 'C%s\t-\t%s\n' "$s" "$(q "HOME=$CL/home" "$ERL_CALL" -sname "$n" -a 'erlang nodes []')"
    done
  done
} >"$TMP/cluster.cmds"

# ---------- machine ----------

machine_facts
MEM_GIB=$(awk '/^MemTotal:/ { printf "%.0f", $2 / 1048576 }' /proc/meminfo)
OS_NAME=$(. /etc/os-release 2>/dev/null && echo "${PRETTY_NAME:-unknown}" || echo unknown)

# ---------- the run ----------

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
say "$ROUNDS rounds (+$WARMUP warm-up) over $(grep -c '^#name' "$TMP/cluster.cmds") contenders, sizes ${SIZES[*]}"
T0=$SECONDS
run_child "${RUNNER[@]}" run --commands "$TMP/cluster.cmds" --rounds "$ROUNDS" --warmup "$WARMUP" \
  --settle-ms "$SETTLE_MS" --tmpdir "$TMP" --measure "$TMP/measure" --out-json "$TMP/run.json" \
  --samples-csv "$CSV" --log "$TMP/warmup.log" || die "the run failed (see above)"
RUN_SECS=$((SECONDS - T0))
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------- the cluster's CPU per probe ----------

# A shorter second pass: the same contenders, but the window around each probe also reads the
# CPU every BEAM of the cluster spent (all threads' schedstat), minus its idle rate over the window.
say "cluster CPU per probe: $CPU_ROUNDS more rounds, ${CPU_SETTLE_MS} ms settle"
cat >"$TMP/cluster_cpu.py" <<'EOF'
# Sums the CPU of every cluster BEAM over each probe's window (bench_runner.py's parser and spawner).
import os, statistics, sys, time
bench, cmds, pidf, measure, tmp, rounds, settle = sys.argv[1:8]
sys.path.insert(0, bench)
import bench_runner as br
names, steps = br.parse_commands(cmds)
pids = [int(l) for l in open(pidf) if l.strip()]
settle = int(settle) / 1000.0
def cluster_ns():
    return sum(br.target_cpu_ns(p) for p in pids)
t0, c0 = time.monotonic(), cluster_ns()
time.sleep(3.0)
idle = (cluster_ns() - c0) / (time.monotonic() - t0)   # ns of CPU per s, the idle cluster
ids = [c for c, _ in names]
got = {c: [] for c in ids}
env = dict(os.environ)
res = os.path.join(tmp, "cpu.result")
for r in range(int(rounds) + 1):
    k = r % len(ids)
    for cid in ids[k:] + ids[:k]:
        t0, c0 = time.monotonic(), cluster_ns()
        for st in steps[cid]:
            _, _, _, rc, _ = br.run_step(st, env, 60, None, measure, res)
            if rc != 0:
                sys.exit(f"bench: {cid} failed (exit {rc}) in the cluster-CPU pass")
        time.sleep(settle)
        used = cluster_ns() - c0 - idle * (time.monotonic() - t0)
        if r > 0:   # round 0 is a warm-up
            got[cid].append(used / 1e6)
print(f"Idle cluster: {idle / 1e6:.1f} ms of CPU per second ({len(pids)} BEAMs), subtracted over each window.")
print()
print("| contender | nodes probed | cluster CPU per probe, median (ms) | p90 (ms) | per node probed (ms) |")
print("|---|---:|---:|---:|---:|")
for cid, title in names:
    v = sorted(got[cid])
    n = int(cid[1:]) if cid[1:].isdigit() else 0
    per = f"{statistics.median(v) / n:.2f}" if n else "-"
    print(f"| {title.split(',')[0].split(' (')[0]} | {n} | {statistics.median(v) + 0.0:.1f} "
          f"| {br.pct(v, 90) + 0.0:.1f} | {per} |")
EOF
run_child python3 "$TMP/cluster_cpu.py" "$BENCH" "$TMP/cluster.cmds" "$TMP/pids" "$TMP/measure" "$TMP" \
  "$CPU_ROUNDS" "$CPU_SETTLE_MS" >"$TMP/cpu.md" || die "the cluster-CPU pass failed"
CPU_TABLE=$(cat "$TMP/cpu.md")
echo "$CPU_TABLE"
MESH_AFTER=$(mesh_check "after the run")

TABLES=$(python3 - "$TMP/run.json" "${SIZES[@]}" <<'EOF'
# Renders the markdown tables of bench_cluster.sh from bench_runner.py's JSON.
import json, sys
res = json.load(open(sys.argv[1]))
sizes = [int(s) for s in sys.argv[2:]]
c = {x["id"]: x for x in res["contenders"]}
def f(x):
    return f"{x:,.0f}" if x >= 100 else f"{x:.1f}"
print(f"Medians and p90 over {res['rounds']} interleaved rounds; CPU is user+sys of the programs (median).")
print()
print("| nodes | contender | programs per probe | median wall (ms) | p90 wall (ms) | CPU (ms) | peak RSS (KiB) |")
print("|---:|---|---:|---:|---:|---:|---:|")
if "V" in c:
    x = c["V"]
    print(f"| 0 | beamprobe --version (start, no network) | 1 | {f(x['wall_median_ms'])} "
          f"| {f(x['wall_p90_ms'])} | {f(x['cpu_median_ms'])} | {x['rss_max_kib']:,.0f} |")
rows = [1] + [s for s in sizes if s != 1]
for s in rows:
    for k in "BEC":
        x = c.get(f"{k}{s}")
        if x:
            print(f"| {s} | {x['title'].split(',')[0]} | {x['calls_per_probe']} | {f(x['wall_median_ms'])} "
                  f"| {f(x['wall_p90_ms'])} | {f(x['cpu_median_ms'])} | {x['rss_max_kib']:,.0f} |")
print()
print("Side by side (median wall / CPU; the ratios are the contender's over beamprobe's):")
print()
print("| nodes | beamprobe wall / CPU (ms) | escript wall / CPU (ms) | erl_call wall / CPU (ms) "
      "| escript / beamprobe, wall | erl_call / beamprobe, wall | escript / beamprobe, CPU | erl_call / beamprobe, CPU |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|")
for s in sizes:
    b, e, k = c[f"B{s}"], c[f"E{s}"], c[f"C{s}"]
    print(f"| {s} | {f(b['wall_median_ms'])} / {f(b['cpu_median_ms'])} | {f(e['wall_median_ms'])} / {f(e['cpu_median_ms'])} "
          f"| {f(k['wall_median_ms'])} / {f(k['cpu_median_ms'])} "
          f"| {e['wall_median_ms'] / b['wall_median_ms']:.1f}x | {k['wall_median_ms'] / b['wall_median_ms']:.1f}x "
          f"| {e['cpu_median_ms'] / b['cpu_median_ms']:.1f}x | {k['cpu_median_ms'] / b['cpu_median_ms']:.1f}x |")
print()
print("Growth of beamprobe cluster (ms per node added: the median's increase over the previous row, divided by the nodes added):")
print()
print("| nodes | median wall (ms) | p90 wall (ms) | wall per node added | wall x vs previous (nodes x) | CPU (ms) | CPU per node added |")
print("|---:|---:|---:|---:|---:|---:|---:|")
prev = None
for s in rows:
    b = c[f"B{s}"]
    if prev is None:
        extra = ("-", "-", "-")
    else:
        p, ps = prev
        dn = s - ps
        extra = (f"{(b['wall_median_ms'] - p['wall_median_ms']) / dn:.2f}",
                 f"{b['wall_median_ms'] / p['wall_median_ms']:.2f}x ({s / ps:.2f}x)",
                 f"{(b['cpu_median_ms'] - p['cpu_median_ms']) / dn:.2f}")
    print(f"| {s} | {f(b['wall_median_ms'])} | {f(b['wall_p90_ms'])} | {extra[0]} | {extra[1]} | {f(b['cpu_median_ms'])} | {extra[2]} |")
    prev = (b, s)
big = max(sizes)
b = c[f"B{big}"]
ok = b["wall_median_ms"] < 50
print()
print(f"Target (issue): {big} nodes, full mesh, under 50 ms wall: median **{f(b['wall_median_ms'])} ms** "
      f"({'met' if ok else 'missed'}), p90 {f(b['wall_p90_ms'])} ms "
      f"({'under' if b['wall_p90_ms'] < 50 else 'over'} 50 ms); "
      f"fastest {f(b['wall_min_ms'])} ms.")
EOF
) || die "could not render the tables"

echo
echo "$TABLES"
echo

# ---------- results file ----------

{
  echo "# beamprobe cluster benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "Command: \`bench/bench_cluster.sh $ROUNDS\` (BENCH_SIZES=\"${SIZES[*]}\", warm-up rounds $WARMUP, settle ${SETTLE_MS} ms); the run took ${RUN_SECS} s."
  echo
  echo "| machine | |"
  echo "|---|---|"
  echo "| CPUs (\`nproc\`) | $(nproc) |"
  echo "| CPU model | $CPU_MODEL |"
  echo "| memory | $MEM_GIB GiB |"
  echo "| kernel (\`uname -r\`) | $(uname -r) |"
  echo "| OS | $OS_NAME |"
  echo "| Erlang/OTP | $OTP_VERSION (erl_call $ERL_CALL) |"
  echo "| beamprobe | $("$BP" --version 2>/dev/null | head -1), commit $GIT_REV, binary sha256 $BP_SHA... |"
  echo "| load average at start / before the run / after it | $LOAD_START / $LOAD_BEFORE / $LOAD_AFTER |"
  echo
  echo "Cluster: $NODES_N nodes \`${PREFIX}_1..$NODES_N@$(hostname -s)\` on this machine, erl flags \`${ERL_ARGS[*]}\`,"
  echo "up and meshed in ${START_SECS} s, $BEAM_RSS_MIB MiB RSS in all. $MESH_BEFORE. $MESH_AFTER."
  echo "The n-node contenders probe the first n nodes."
  echo
  echo "$TABLES"
  echo
  echo "## The cluster's CPU per probe ($CPU_ROUNDS rounds, ${CPU_SETTLE_MS} ms settle)"
  echo
  echo "$CPU_TABLE"
  echo
  echo "## Contenders"
  echo
  echo "- B\<n\>: \`beamprobe cluster --nodes <first n> --cookie-file CLUSTER/cookie --timeout $BP_TIMEOUT\` (a copy of priv/beamprobe taken at the start)"
  echo "- E\<n\>: \`HOME=CLUSTER/home escript multicall.escript <first n>\`:"
  echo
  echo '```erlang'
  cat "$ESC"
  echo '```'
  echo
  echo "- C\<n\>: \`HOME=CLUSTER/home erl_call -sname NODE -a 'erlang nodes []'\` for each of the first n nodes, one after the other (the figures are the sums)"
  echo
  echo "Per-probe samples: \`$(basename "$CSV")\`."
} >"$OUT"
say "results written to $OUT (samples: $CSV)"
