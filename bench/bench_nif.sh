#!/usr/bin/env bash
# Benchmarks the Erlang API (src/beamprobe.erl + priv/beamprobe_nif.so) inside a demo node, next to a
# hand-written pure-Erlang health check; checks its scheduler hygiene; compares remote checks.
#
# Usage: bench/bench_nif.sh [N]        N calls per local contender (default 2000); about 45 s
#        bench/bench_nif.sh percall [N]
#                                      the cost of one call (time and reductions) of health(ready), health(live)
#                                      and check(#{}) in two builds side by side, next to plain Erlang (below)
#
# The script starts one demo node as the remote target (test/fixtures/cluster.sh, with a temporary
# cookie) and one benchmark node (demo application + beamprobe from a private copy of src/beamprobe.erl
# and priv/beamprobe_nif.so, same cookie), which runs bench/bench_nif.erl:
#   1. local latency, interleaved rotating rounds: beamprobe:check(#{}), check(#{probe => live}),
#      check with governors + supervisor, health(live), metrics(), each next to a hand-written twin
#      (bench_nif:erl_ready/0, erl_live/0, erl_full/0, erl_health_live/0, erl_metrics/0);
#   2. scheduler hygiene: erlang:system_monitor long_schedule (1 ms, OTP's floor) over BENCH_HYGIENE_CALLS
#      API calls, the same number of hand-written calls, BENCH_EDGE_CALLS calls of each edge input
#      (JSON and text formats; custom-check replies of 55 KB to 600 KB and an 800-worker supervisor,
#      around the NIF's 64 KiB dirty threshold) and a positive control; then every NIF call timed
#      with call tracing;
#   3. remote: beamprobe:check(Node, #{}) vs `priv/beamprobe check` spawned per call (open_port) vs
#      rpc:call of the same BIFs, BENCH_REMOTE_CALLS interleaved rounds.
# Both nodes are stopped by a trap on exit, failure or Ctrl-C; should the script die without running
# it (SIGKILL, or a SIGTERM that bash 5.2 sometimes does not trap while it waits for the node), the
# benchmark node notices within 250 ms, halts the target node, removes the temp dir and halts; it
# also halts after BENCH_LIMIT_S seconds in any case.
#
# Environment: BENCH_WARMUP (warm-up rounds, 50; 10 at most for the remote part), BENCH_HYGIENE_CALLS
# (10000), BENCH_EDGE_CALLS (200), BENCH_REMOTE_CALLS (500), BENCH_LIMIT_S (300), BENCH_OUT (results
# file, bench/results/nif-DATE.md; every sample in the .csv beside it), BENCH_KEEP=1 keeps the temp dir.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH="$ROOT/bench"
CLUSTER="$ROOT/test/fixtures/cluster.sh"
BP="$ROOT/priv/beamprobe"
NIF_SO="$ROOT/priv/beamprobe_nif.so"
EXTRA_PACKAGES=()

# shellcheck source=bench/lib.sh
. "$BENCH/lib.sh"

# ---------- percall: two builds side by side ----------

# bench/bench_nif.sh percall [N]: builds the NIF of BENCH_BASE (a git ref, default main: "before") from a
# `git archive` of it in the temp dir, and uses this tree's priv/beamprobe_nif.so and src/beamprobe.erl
# ("after", built if missing); starts one plain node per build (own temporary cookie through HOME), and a
# driver node that runs bench_nif:percall/1 over them: BENCH_PERCALL_ROUNDS (5) interleaved rounds of N
# (10000) calls per contender and build. Writes bench/results/nif-percall-DATE.md (BENCH_OUT). About
# 2 s per 1000 calls and round while the "before" build costs ~1 ms per health call.
percall_main() {
  local n=${1:-10000} rounds=${BENCH_PERCALL_ROUNDS:-5} base=${BENCH_BASE:-main} out
  out=${BENCH_OUT:-$ROOT/bench/results/nif-percall-$(date +%Y%m%d-%H%M%S).md}
  [[ "$n" =~ ^[1-9][0-9]*$ && "$rounds" =~ ^[1-9][0-9]*$ ]] || die "N and BENCH_PERCALL_ROUNDS must be positive integers"
  ensure_packages erl erlc
  [[ -f "$NIF_SO" ]] || make -s -C "$ROOT/c_src" nif >&2 || die "build failed"
  local base_rev
  base_rev=$(git -C "$ROOT" rev-parse --short "$base") || die "no git ref $base"
  cleanup_extra() { local p; for p in "${PC_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
  PC_PIDS=()
  bench_tmp bench_nif_percall
  say "building the NIF of $base ($base_rev) in $TMP/base"
  mkdir -p "$TMP/base" "$TMP/home" "$TMP/ebin"
  git -C "$ROOT" archive "$base" | tar -x -C "$TMP/base" || die "git archive $base failed"
  make -s -C "$TMP/base/c_src" -j2 nif >&2 || die "cannot build the NIF of $base"
  head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$TMP/home/.erlang.cookie"
  chmod 400 "$TMP/home/.erlang.cookie"
  erlc -Wall -o "$TMP/ebin" "$BENCH/bench_nif.erl" || die "cannot compile bench/bench_nif.erl"
  local which src so nodes=() prefix="bpnifpc$$"
  for which in before after; do
    if [[ $which == before ]]; then src="$TMP/base"; so="$TMP/base/priv/beamprobe_nif.so"; else src="$ROOT"; so="$NIF_SO"; fi
    mkdir -p "$TMP/$which/beamprobe/ebin" "$TMP/$which/beamprobe/priv"
    cp "$so" "$TMP/$which/beamprobe/priv/beamprobe_nif.so"
    erlc -o "$TMP/$which/beamprobe/ebin" "$src/src/beamprobe.erl" || die "cannot compile $src/src/beamprobe.erl"
    cp "$src/src/beamprobe.app.src" "$TMP/$which/beamprobe/ebin/beamprobe.app"
    # each node halts on its own after BENCH_LIMIT_S, should both the trap and the driver fail
    env HOME="$TMP/home" erl -sname "${prefix}_$which" -noshell -noinput -connect_all false -pa "$TMP/$which/beamprobe/ebin" "$TMP/ebin" \
      -eval "spawn(fun() -> timer:sleep(${BENCH_LIMIT_S:-900} * 1000), halt(3) end)" >&2 &
    PC_PIDS+=("$!")
    nodes+=("'${prefix}_$which@$(hostname -s)'")
  done
  machine_facts
  local load_before load_after frag="$TMP/percall.md" t0=$SECONDS
  load_before=$(cut -d' ' -f1-3 /proc/loadavg)
  say "driver: $rounds rounds of $n calls per contender in ${nodes[*]}"
  run_child env HOME="$TMP/home" erl -sname "${prefix}_ctl" -noshell -noinput -connect_all false -pa "$TMP/ebin" -eval "
    Nodes = [${nodes[0]}, ${nodes[1]}],
    Up = fun U(0) -> false; U(K) -> case lists:all(fun(Nd) -> net_adm:ping(Nd) =:= pong end, Nodes) of
                                      true -> true; false -> timer:sleep(200), U(K - 1) end end,
    true = Up(100),
    bench_nif:percall(#{nodes => Nodes, n => $n, rounds => $rounds, md => \"$frag\",
                        labels => [\"$base ($base_rev)\", \"this tree ($GIT_REV)\"]})." \
    || die "the driver failed (see above)"
  load_after=$(cut -d' ' -f1-3 /proc/loadavg)
  mkdir -p "$(dirname "$out")"
  {
    echo "# beamprobe NIF: the cost of one call, two builds side by side, $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo
    echo "Command: \`BENCH_BASE=$base bench/bench_nif.sh percall $n\` (BENCH_PERCALL_ROUNDS=$rounds); $((SECONDS - t0)) s."
    echo
    machine_table "$OTP_VERSION (default flags: $(nproc) schedulers)" "| load average before / after | $load_before / $load_after |"
    echo
    echo "Two plain nodes (\`erl -sname ... -noshell\`, no application started), one per build, driven by a third"
    echo "(\`bench/bench_nif.erl\`, percall/1). Time: wall time per call, the mean over a block of calls; the table"
    echo "gives the median over the rounds. Reductions: the caller's \`process_info(self(), reductions)\` around"
    echo "the block, per call (the NIFs charge their time with \`enif_consume_timeslice\`, 1% of a slice per 10 µs)."
    echo
    cat "$frag"
  } >"$out"
  cat "$frag"
  say "results written to $out"
}

if [[ ${1:-} == percall ]]; then
  shift
  percall_main "$@"
  exit 0
fi

N=${1:-2000}
WARMUP=${BENCH_WARMUP:-50}
HYGIENE_N=${BENCH_HYGIENE_CALLS:-10000}
EDGE_N=${BENCH_EDGE_CALLS:-200}
REMOTE_N=${BENCH_REMOTE_CALLS:-500}
LIMIT_S=${BENCH_LIMIT_S:-300}
STAMP=$(date +%Y%m%d-%H%M%S)
OUT=${BENCH_OUT:-$ROOT/bench/results/nif-$STAMP.md}
CSV="${OUT%.md}.csv"

for v in "$N" "$HYGIENE_N" "$EDGE_N" "$REMOTE_N" "$LIMIT_S"; do
  [[ "$v" =~ ^[1-9][0-9]*$ ]] || die "N, BENCH_HYGIENE_CALLS, BENCH_EDGE_CALLS, BENCH_REMOTE_CALLS and BENCH_LIMIT_S must be positive integers (got '$v')"
done
[[ "$WARMUP" =~ ^[0-9]+$ ]] || die "BENCH_WARMUP must be an integer"

# ---------- tools and build ----------

ensure_packages erl erlc
if [[ ! -x "$BP" || ! -f "$NIF_SO" ]]; then
  say "building priv/beamprobe and priv/beamprobe_nif.so"
  make -s -C "$ROOT/c_src" >&2 || die "build failed"
fi
[[ -x "$BP" && -f "$NIF_SO" ]] || die "$BP or $NIF_SO missing after the build"

# ---------- nodes and cleanup ----------

# cleanup_extra: run by bench_cleanup (bench/lib.sh) before it stops the target node.
cleanup_extra() { if [[ -n "${CHILD:-}" ]]; then kill "$CHILD" 2>/dev/null || true; fi; }
bench_tmp bench_nif
mkdir -p "$CL" "$(dirname "$OUT")"

# Private copies: others may rebuild priv/ or edit src/ meanwhile.
private_beamprobe
APP="$TMP/lib/beamprobe"
mkdir -p "$APP/ebin" "$APP/priv" "$TMP/ebin"
cp "$NIF_SO" "$APP/priv/beamprobe_nif.so"
NIF_SHA=$(sha256sum "$NIF_SO" | cut -c1-12)
ERL_SHA=$(sha256sum "$ROOT/src/beamprobe.erl" | cut -c1-12)
erlc -o "$APP/ebin" "$ROOT/src/beamprobe.erl" || die "cannot compile src/beamprobe.erl"
cp "$ROOT/src/beamprobe.app.src" "$APP/ebin/beamprobe.app"
erlc -Wall -o "$TMP/ebin" "$BENCH/bench_nif.erl" || die "cannot compile bench/bench_nif.erl"
"$ROOT/test/fixtures/demo/build.sh" >&2 || die "cannot compile the demo app"

PREFIX="bpnif$$"
say "starting the target node ${PREFIX}_1 (test/fixtures/cluster.sh)"
start_cluster 1 "$PREFIX"
TARGET=$NODE
BENCH_NODE="${PREFIX}_api"

machine_facts
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------- the benchmark node ----------

say "benchmark node $BENCH_NODE (demo app + beamprobe), target $TARGET; $N rounds locally, $HYGIENE_N calls for hygiene, $REMOTE_N remote rounds"
FRAG="$TMP/nif.md"
EXPR="{ok, _} = application:ensure_all_started(demo),
  bench_nif:main(#{md => \"$FRAG\", csv => \"$TMP/samples.csv\", target => '$TARGET', cli => \"$BP\",
                   cookie_file => \"$COOKIE_FILE\", local_n => $N, hygiene_n => $HYGIENE_N,
                   edge_n => $EDGE_N, remote_n => $REMOTE_N, warmup => $WARMUP, limit_s => $LIMIT_S,
                   parent => $$, tmp => \"$TMP\"})."
T0=$SECONDS
run_child env HOME="$CL/home" erl -sname "$BENCH_NODE" -noshell -noinput \
  -pa "$APP/ebin" "$TMP/ebin" "$ROOT/test/fixtures/demo/ebin" -eval "$EXPR" \
  || die "the benchmark node failed (see above)"
RUN_SECS=$((SECONDS - T0))
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
[[ -s "$FRAG" && -s "$TMP/samples.csv" ]] || die "the benchmark node wrote no results"
mv "$TMP/samples.csv" "$CSV"

# ---------- results file ----------

{
  echo "# beamprobe Erlang API (NIF) benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "Command: \`bench/bench_nif.sh $N\` (warm-up rounds $WARMUP, hygiene calls $HYGIENE_N, edge calls $EDGE_N, remote rounds $REMOTE_N); the benchmark node ran ${RUN_SECS} s, the whole script $SECONDS s."
  echo
  machine_table "$OTP_VERSION (default flags: $(nproc) schedulers)" \
    "| beamprobe | commit $GIT_REV; beamprobe_nif.so sha256 $NIF_SHA..., src/beamprobe.erl sha256 $ERL_SHA..., priv/beamprobe sha256 $BP_SHA... |" \
    "| load average before / after | $LOAD_BEFORE / $LOAD_AFTER |"
  echo
  echo "Benchmark node \`$BENCH_NODE\`: the demo application (demo_sup, 3 governors) and beamprobe, started with"
  echo "\`erl -sname $BENCH_NODE -noshell\` and nothing else. Remote target: \`$TARGET\`, a demo node of"
  echo "\`test/fixtures/cluster.sh\`. Driver and hand-written checks: \`bench/bench_nif.erl\`."
  echo
  cat "$FRAG"
  echo "Samples: \`$(basename "$CSV")\` (part, contender, call number, µs)."
} >"$OUT"
cat "$FRAG"
say "results written to $OUT (samples: $CSV)"
