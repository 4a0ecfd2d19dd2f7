#!/usr/bin/env bash
# Benchmarks the Erlang API (src/beamprobe.erl + priv/beamprobe_nif.so) inside a demo node, next to a
# hand-written pure-Erlang health check; checks its scheduler hygiene; compares remote checks.
#
# Usage: bench/bench_nif.sh [N]        N calls per local contender (default 2000); about 45 s
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
  echo "| machine | |"
  echo "|---|---|"
  echo "| CPUs (\`nproc\`) | $(nproc) |"
  echo "| CPU model | $CPU_MODEL |"
  echo "| kernel (\`uname -r\`) | $(uname -r) |"
  echo "| Erlang/OTP | $OTP_VERSION (default flags: $(nproc) schedulers) |"
  echo "| beamprobe | commit $GIT_REV; beamprobe_nif.so sha256 $NIF_SHA..., src/beamprobe.erl sha256 $ERL_SHA..., priv/beamprobe sha256 $BP_SHA... |"
  echo "| load average before / after | $LOAD_BEFORE / $LOAD_AFTER |"
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
