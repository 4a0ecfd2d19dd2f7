#!/usr/bin/env bash
# Benchmarks `beamprobe check` over TLS distribution against the same check over TCP and against a
# nodetool-style escript over TLS and over TCP.
#
# Usage: bench/bench_tls.sh [N]        N probes per contender (default 150); about 2.5 minutes
#
# Setup: a fresh test PKI (test/fixtures/tls/certs.sh) and two one-node demo clusters
# (test/fixtures/cluster.sh, each with its own temporary cookie), identical but for the transport:
#   TLS node  -proto_dist inet_tls -ssl_dist_optfile PKI/tls.conf (no client certificate required)
#   TCP node  plain TCP distribution
# Contenders, run in interleaved rounds (the order rotates every round):
#   A  beamprobe check --dist-tls --tls-cafile ca.pem, all checks, against the TLS node
#   B  beamprobe check, the same checks, against the TCP node
#   C  a nodetool-style escript over TLS against the TLS node: a hidden node started with
#      ERL_FLAGS="-proto_dist inet_tls -ssl_dist_optfile PKI/client.conf", net_adm:ping, then
#      rpc:call(Node, erlang, memory, [total]), printed
#   D  the same escript over plain TCP against the TCP node
# Per probe: wall time (median, p90), CPU user+sys of the probe's processes (wait4 rusage, through
# bench/measure.c), peak RSS. Then a breakdown of cheaper beamprobe variants over TLS and TCP
# (where the TLS handshake's cost shows), and the CPU each contender makes its target node burn
# (schedstat of the node's threads; separate shorter runs, one per node).
#
# Environment: BENCH_WARMUP rounds not recorded (2); BENCH_SETTLE_MS pause after each probe (10);
# BENCH_BREAKDOWN_REPS rounds of the breakdown (min(N, 100)); BENCH_TARGET_REPS rounds of each
# target-CPU run (min(N, 20)); BENCH_OUT results file (bench/results/tls-DATE.md, the main run's
# per-probe samples in the .csv beside it); BENCH_KEEP=1 keeps the temp dir.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH="$ROOT/bench"
CLUSTER="$ROOT/test/fixtures/cluster.sh"
CERTS="$ROOT/test/fixtures/tls/certs.sh"
BP="$ROOT/priv/beamprobe"
RUNNER=(python3 "$BENCH/bench_runner.py")
# shellcheck disable=SC2034  # read by ensure_packages (bench/lib.sh)
EXTRA_PACKAGES=(python3 openssl)

# shellcheck source=bench/lib.sh
. "$BENCH/lib.sh"

N=${1:-150}
WARMUP=${BENCH_WARMUP:-2}
SETTLE_MS=${BENCH_SETTLE_MS:-10}
BREAKDOWN_REPS=${BENCH_BREAKDOWN_REPS:-$((N < 100 ? N : 100))}
TARGET_REPS=${BENCH_TARGET_REPS:-$((N < 20 ? N : 20))}
STAMP=$(date +%Y%m%d-%H%M%S)
OUT=${BENCH_OUT:-$ROOT/bench/results/tls-$STAMP.md}
CSV="${OUT%.md}.csv"

[[ "$N" =~ ^[1-9][0-9]*$ ]] || die "N must be a positive integer (got '$N')"
[[ "$WARMUP" =~ ^[0-9]+$ && "$SETTLE_MS" =~ ^[0-9]+$ && "$BREAKDOWN_REPS" =~ ^[1-9][0-9]*$
   && "$TARGET_REPS" =~ ^[1-9][0-9]*$ ]] \
  || die "BENCH_WARMUP, BENCH_SETTLE_MS, BENCH_BREAKDOWN_REPS and BENCH_TARGET_REPS must be integers"
# Emulator flags from the caller's environment would change every Erlang contender (and the nodes).
unset ERL_FLAGS ERL_AFLAGS ERL_ZFLAGS

# ---------- tools ----------

ensure_packages erl jq
ESCRIPT=$(command -v escript) || die "escript not found"
ensure_beamprobe

# ---------- nodes and cleanup ----------

# cleanup_extra: run by bench_cleanup (bench/lib.sh) before it stops the TCP cluster ($CL).
cleanup_extra() {
  [[ -n "${CHILD:-}" ]] && kill "$CHILD" 2>/dev/null || true
  [[ -n "${CL_TLS:-}" && -d "$CL_TLS" ]] && { "$CLUSTER" stop "$CL_TLS" >/dev/null 2>&1 || say "warning: cluster.sh stop $CL_TLS reported a problem"; }
  return 0
}
bench_tmp bench_tls
CL_TLS="$TMP/cluster_tls"
PKI="$TMP/pki"
mkdir -p "$CL" "$CL_TLS" "$(dirname "$OUT")"
private_beamprobe
cc -O2 -Wall -o "$TMP/measure" "$BENCH/measure.c" || die "cannot compile bench/measure.c"
"$CERTS" "$PKI" 2>"$TMP/certs.err" || { cat "$TMP/certs.err" >&2; die "certs.sh failed"; }

PREFIX="bptls$$"
say "starting two one-node demo clusters: ${PREFIX}_tls_1 (TLS distribution) and ${PREFIX}_tcp_1 (TCP)"
"$CLUSTER" start "$CL_TLS" 1 "${PREFIX}_tls" -- -proto_dist inet_tls -ssl_dist_optfile "$PKI/tls.conf" \
  >/dev/null 2>"$TMP/cluster_tls.err" || { cat "$TMP/cluster_tls.err" >&2; die "TLS node start failed"; }
start_cluster 1 "${PREFIX}_tcp"
NODE_TCP=$NODE
NODE_TLS=$(head -1 "$CL_TLS/nodes")
COOKIE_TCP="$CL/cookie"
COOKIE_TLS="$CL_TLS/cookie"
PID_TCP=$(node_os_pid "$NODE_TCP")
PID_TLS=$(CL=$CL_TLS node_os_pid "$NODE_TLS")
PORT_TLS=$(epmd -names | awk -v n="${NODE_TLS%@*}" '$1 == "name" && $2 == n { print $5 }')
[[ -n "$PORT_TLS" ]] || die "$NODE_TLS is not registered with EPMD"

# ---------- contenders ----------

# shellcheck disable=SC2054  # commas inside an option value
CHECKS=(--governor cost_guard,rollback_guard,backlog_valve --supervisor demo_sup --require-app demo --expect-size 1)
TLS_OPTS=(--dist-tls --tls-cafile "$PKI/ca.pem")
A_ARGS=(check "$NODE_TLS" --cookie-file "$COOKIE_TLS" "${TLS_OPTS[@]}" "${CHECKS[@]}")
B_ARGS=(check "$NODE_TCP" --cookie-file "$COOKIE_TCP" "${CHECKS[@]}")
TLS_ERL_FLAGS="-proto_dist inet_tls -ssl_dist_optfile $PKI/client.conf"

ESC="$TMP/nodetool_tls.escript"
cat >"$ESC" <<'EOF'
#!/usr/bin/env escript
%% Benchmark contenders C and D: what a release script's nodetool does for `ping` + `rpc`.
%% A hidden node with a per-run name; the transport comes from the emulator flags (ERL_FLAGS),
%% the cookie from $HOME/.erlang.cookie.
%%! -hidden
main([Target]) ->
    {ok, _} = net_kernel:start([list_to_atom("bench_tls_" ++ os:getpid()), shortnames]),
    Node = list_to_atom(Target),
    case net_adm:ping(Node) of
        pong ->
            case rpc:call(Node, erlang, memory, [total], 5000) of
                Total when is_integer(Total) -> io:format("~b~n", [Total]), halt(0);
                Bad -> io:format(standard_error, "rpc:call failed: ~p~n", [Bad]), halt(1)
            end;
        pang -> io:format(standard_error, "pang from ~s~n", [Target]), halt(1)
    end.
EOF

q() { printf '%q ' "$@"; }
A_CMD=$(q "$BP" "${A_ARGS[@]}")
B_CMD=$(q "$BP" "${B_ARGS[@]}")
C_CMD=$(q "HOME=$CL_TLS/home" "ERL_FLAGS=$TLS_ERL_FLAGS" "$ESCRIPT" "$ESC" "$NODE_TLS")
D_CMD=$(q "HOME=$CL/home" "$ESCRIPT" "$ESC" "$NODE_TCP")
{
  printf '#name A\tbeamprobe check over TLS\nA\t-\t%s\n' "$A_CMD"
  printf '#name B\tbeamprobe check over TCP\nB\t-\t%s\n' "$B_CMD"
  printf '#name C\tnodetool-style escript over TLS\nC\t-\t%s\n' "$C_CMD"
  printf '#name D\tnodetool-style escript over TCP\nD\t-\t%s\n' "$D_CMD"
} >"$TMP/main.cmds"

# Markdown tables and ratios from the runner's JSON results (python3 is needed by the runner anyway).
cat >"$TMP/report.py" <<'EOF'
import json, sys

def load(p):
    return {c["id"]: c for c in json.load(open(p))["contenders"]}

def f(x, nd=2):
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.{nd}f}"

mode = sys.argv[1]
if mode == "main":
    cs = load(sys.argv[2])
    print("| contender | median wall (ms) | p90 wall (ms) | CPU user+sys, median (ms) | CPU user+sys, mean (ms) "
          "| peak RSS, median (KiB) |")
    print("|---|---:|---:|---:|---:|---:|")
    for c in cs.values():
        print(f"| {c['id']}. {c['title']} | {f(c['wall_median_ms'])} | {f(c['wall_p90_ms'])} "
              f"| {f(c['cpu_median_ms'])} | {f(c['cpu_mean_ms'])} | {c['rss_median_kib']:,.0f} |")
    A, B, C, D = (cs[k] for k in "ABCD")
    ab = A["wall_median_ms"] / B["wall_median_ms"]
    ca = C["cpu_mean_ms"] / A["cpu_mean_ms"]
    ca_med = C["cpu_median_ms"] / A["cpu_median_ms"]
    print()
    print(f"- A / B, median wall: **{ab:.2f}x** (target: within 3x: {'met' if ab <= 3 else 'MISSED'}); "
          f"p90: {A['wall_p90_ms'] / B['wall_p90_ms']:.2f}x; CPU (median): "
          f"{A['cpu_median_ms'] / B['cpu_median_ms']:.2f}x; peak RSS: {A['rss_median_kib'] / B['rss_median_kib']:.2f}x")
    print(f"- C / A, CPU: **{ca:.0f}x** less CPU for A, means (target: at least 50x: "
          f"{'met' if ca >= 50 else 'MISSED'}); {ca_med:.0f}x on medians; "
          f"wall (median): {C['wall_median_ms'] / A['wall_median_ms']:.0f}x; "
          f"peak RSS: {C['rss_median_kib'] / A['rss_median_kib']:.1f}x")
    print(f"- what TLS adds, median wall: beamprobe +{A['wall_median_ms'] - B['wall_median_ms']:.2f} ms, "
          f"escript +{C['wall_median_ms'] - D['wall_median_ms']:.0f} ms (C / D {C['wall_median_ms'] / D['wall_median_ms']:.2f}x); "
          f"CPU (means): beamprobe +{A['cpu_mean_ms'] - B['cpu_mean_ms']:.2f} ms, "
          f"escript +{C['cpu_mean_ms'] - D['cpu_mean_ms']:.0f} ms (C / D {C['cpu_mean_ms'] / D['cpu_mean_ms']:.2f}x)")
    print(f"- D / B, CPU (means): {D['cpu_mean_ms'] / B['cpu_mean_ms']:.0f}x")
    print()
    print(f"RATIOS ab={ab:.2f} ca={ca:.0f} ca_med={ca_med:.0f}", file=sys.stderr)
elif mode == "breakdown":
    cs = load(sys.argv[2])
    print("| variant | median wall (ms) | p90 wall (ms) | CPU user+sys, median (ms) | peak RSS, median (KiB) |")
    print("|---|---:|---:|---:|---:|")
    for c in cs.values():
        print(f"| {c['title']} | {f(c['wall_median_ms'])} | {f(c['wall_p90_ms'])} | {f(c['cpu_median_ms'])} "
              f"| {c['rss_median_kib']:,.0f} |")
elif mode == "target":
    cs = {**load(sys.argv[2]), **load(sys.argv[3])}
    print("| contender | target node | target CPU per probe, mean (ms) | median wall in this run (ms) |")
    print("|---|---|---:|---:|")
    for k in "ABCD":
        c = cs[k]
        print(f"| {k}. {c['title']} | {'TLS' if k in 'AC' else 'TCP'} | {f(c['target_cpu_mean_ms'])} "
              f"| {f(c['wall_median_ms'])} |")
    print()
    print(f"- target CPU, A / B: {cs['A']['target_cpu_mean_ms'] / cs['B']['target_cpu_mean_ms']:.2f}x; "
          f"C / A: {cs['C']['target_cpu_mean_ms'] / cs['A']['target_cpu_mean_ms']:.2f}x; "
          f"C / D: {cs['C']['target_cpu_mean_ms'] / cs['D']['target_cpu_mean_ms']:.2f}x")
EOF
report() { python3 "$TMP/report.py" "$@"; }

# ---------- machine ----------

machine_facts
TLS_SESSION=$(openssl s_client -connect "127.0.0.1:$PORT_TLS" -CAfile "$PKI/ca.pem" -brief </dev/null 2>&1 \
  | awk -F': ' '/^Protocol version/ { v = $2 } /^Ciphersuite/ { c = $2 } /^Server Temp Key/ { k = $2 }
                END { if (v != "") printf "%s, %s, key exchange %s", v, c, k }') || true
[[ -n "$TLS_SESSION" ]] || TLS_SESSION="not determined (openssl s_client failed)"
RT_A=$("$BP" "${A_ARGS[@]}" --json | jq -r .round_trips) || die "A does not pass against $NODE_TLS"
RT_B=$("$BP" "${B_ARGS[@]}" --json | jq -r .round_trips) || die "B does not pass against $NODE_TCP"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

say "TLS node $NODE_TLS (OS pid $PID_TLS, port $PORT_TLS: $TLS_SESSION), TCP node $NODE_TCP (OS pid $PID_TCP)"
say "$N probes per contender, $WARMUP warm-up rounds; the main run takes roughly $((N * 6 / 10 + 5)) s"

# ---------- main run ----------

T0=$SECONDS
run_child "${RUNNER[@]}" run --commands "$TMP/main.cmds" --rounds "$N" --warmup "$WARMUP" \
  --settle-ms "$SETTLE_MS" --tmpdir "$TMP" --measure "$TMP/measure" --out-json "$TMP/main.json" \
  --samples-csv "$CSV" --log "$TMP/warmup.log" || die "the main run failed (see above)"
MAIN_SECS=$((SECONDS - T0))
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
MAIN_TABLE=$(report main "$TMP/main.json" 2>"$TMP/ratios")
read -r _ AB CA CA_MED <"$TMP/ratios"
AB=${AB#ab=} CA=${CA#ca=} CA_MED=${CA_MED#ca_med=}
# the main run reads no target's CPU or atoms: keep only the columns it measured
cut -d, -f1-5 "$CSV" >"$TMP/samples.csv" && cat "$TMP/samples.csv" >"$CSV"
echo
echo "$MAIN_TABLE"
echo

# ---------- breakdown ----------

say "breakdown: cheaper beamprobe variants over TLS and TCP ($BREAKDOWN_REPS rounds)"
# shellcheck disable=SC2016  # the backquotes are markdown in the titles
{
  printf '#name T\t`/bin/true` (starting any process here)\nT\t-\t%s\n' "$(q "$(type -P true)")"
  printf '#name V\t`beamprobe --version` (no network)\nV\t-\t%s\n' "$(q "$BP" --version)"
  printf '#name S0\t`check --probe startup` over TCP (1 round trip)\nS0\t-\t%s\n' \
    "$(q "$BP" check "$NODE_TCP" --cookie-file "$COOKIE_TCP" --probe startup)"
  printf '#name S1\t`check --probe startup` over TLS\nS1\t-\t%s\n' \
    "$(q "$BP" check "$NODE_TLS" --cookie-file "$COOKIE_TLS" "${TLS_OPTS[@]}" --probe startup)"
  printf '#name S3\t`check --probe startup` over TLS, `--tls-verify none` (still loads ca.pem)\nS3\t-\t%s\n' \
    "$(q "$BP" check "$NODE_TLS" --cookie-file "$COOKIE_TLS" "${TLS_OPTS[@]}" --tls-verify none --probe startup)"
  printf '#name S2\t`check --probe startup` over TLS, `--tls-verify none`, no `--tls-cafile` (system CA store)\nS2\t-\t%s\n' \
    "$(q "$BP" check "$NODE_TLS" --cookie-file "$COOKIE_TLS" --dist-tls --tls-verify none --probe startup)"
  printf '#name P0\t`check`, plain ready probe, over TCP\nP0\t-\t%s\n' \
    "$(q "$BP" check "$NODE_TCP" --cookie-file "$COOKIE_TCP")"
  printf '#name P1\t`check`, plain ready probe, over TLS\nP1\t-\t%s\n' \
    "$(q "$BP" check "$NODE_TLS" --cookie-file "$COOKIE_TLS" "${TLS_OPTS[@]}")"
} >"$TMP/breakdown.cmds"
run_child "${RUNNER[@]}" run --commands "$TMP/breakdown.cmds" --rounds "$BREAKDOWN_REPS" --warmup 1 \
  --settle-ms "$SETTLE_MS" --tmpdir "$TMP" --measure "$TMP/measure" --out-json "$TMP/breakdown.json" \
  --samples-csv "${OUT%.md}-breakdown.csv" --quiet || die "the breakdown run failed"
BREAKDOWN_TABLE=$(report breakdown "$TMP/breakdown.json")
cut -d, -f1-5 "${OUT%.md}-breakdown.csv" >"$TMP/samples.csv" && cat "$TMP/samples.csv" >"${OUT%.md}-breakdown.csv"
echo "$BREAKDOWN_TABLE"
echo

# ---------- target CPU ----------

say "target CPU: $TARGET_REPS rounds of A and C against the TLS node, then of B and D against the TCP node"
grep -e $'^#name [AC]\t' -e $'^[AC]\t' "$TMP/main.cmds" >"$TMP/target_tls.cmds"
grep -e $'^#name [BD]\t' -e $'^[BD]\t' "$TMP/main.cmds" >"$TMP/target_tcp.cmds"
run_child "${RUNNER[@]}" run --commands "$TMP/target_tls.cmds" --rounds "$TARGET_REPS" --warmup 1 \
  --target-pid "$PID_TLS" --settle-ms "$SETTLE_MS" --tmpdir "$TMP" --measure "$TMP/measure" \
  --out-json "$TMP/target_tls.json" --quiet || die "the target-CPU run on the TLS node failed"
run_child "${RUNNER[@]}" run --commands "$TMP/target_tcp.cmds" --rounds "$TARGET_REPS" --warmup 1 \
  --target-pid "$PID_TCP" --settle-ms "$SETTLE_MS" --tmpdir "$TMP" --measure "$TMP/measure" \
  --out-json "$TMP/target_tcp.json" --quiet || die "the target-CPU run on the TCP node failed"
TARGET_TABLE=$(report target "$TMP/target_tls.json" "$TMP/target_tcp.json")
echo "$TARGET_TABLE"
echo
TOTAL_SECS=$SECONDS

# ---------- results file ----------

{
  echo "# beamprobe check over TLS distribution, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "Command: \`bench/bench_tls.sh $N\` (warm-up rounds $WARMUP, settle ${SETTLE_MS} ms); main run ${MAIN_SECS} s, whole script ${TOTAL_SECS} s."
  echo
  echo "| machine | |"
  echo "|---|---|"
  echo "| CPUs (\`nproc\`) | $(nproc) |"
  echo "| CPU model | $CPU_MODEL |"
  echo "| kernel (\`uname -r\`) | $(uname -r) |"
  echo "| Erlang/OTP | $OTP_VERSION |"
  echo "| OpenSSL (\`openssl version\`) | $(openssl version) |"
  echo "| beamprobe | $("$BP" --version 2>/dev/null | head -1), commit $GIT_REV, binary sha256 $BP_SHA... |"
  echo "| load average before / after the main run | $LOAD_BEFORE / $LOAD_AFTER |"
  echo
  echo "Targets: \`$NODE_TLS\` (\`-proto_dist inet_tls -ssl_dist_optfile tls.conf\`, TLS session as seen by"
  echo "\`openssl s_client\`: $TLS_SESSION) and \`$NODE_TCP\` (plain TCP), each a fresh one-node demo"
  echo "cluster; $N probes per contender in interleaved rounds. beamprobe round trips after the handshake:"
  echo "$RT_A over TLS, $RT_B over TCP."
  echo
  echo "$MAIN_TABLE"
  echo
  echo "## Contenders"
  echo
  echo "- A: \`priv/beamprobe ${A_ARGS[*]}\` (a copy of the binary taken at the start)"
  echo "- B: \`priv/beamprobe ${B_ARGS[*]}\`"
  echo "- C: \`HOME=TLS_CLUSTER/home ERL_FLAGS='$TLS_ERL_FLAGS' escript nodetool_tls.escript $NODE_TLS\`"
  echo "- D: \`HOME=TCP_CLUSTER/home escript nodetool_tls.escript $NODE_TCP\`"
  echo
  echo '```erlang'
  cat "$ESC"
  echo '```'
  echo
  echo "## Breakdown ($BREAKDOWN_REPS interleaved rounds)"
  echo
  echo "$BREAKDOWN_TABLE"
  echo
  echo "## Target CPU ($TARGET_REPS interleaved rounds per node)"
  echo
  echo "$TARGET_TABLE"
  echo
  echo "Per-probe samples: \`$(basename "$CSV")\` (main run), \`$(basename "${OUT%.md}-breakdown.csv")\` (breakdown)."
} >"$OUT"
say "A/B wall ${AB}x (target <= 3x), C/A CPU ${CA}x on means, ${CA_MED}x on medians (target >= 50x)"
say "results written to $OUT (samples: $CSV); ${TOTAL_SECS} s in all"
