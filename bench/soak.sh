#!/usr/bin/env bash
# Soak test: `beamprobe serve` against 5 real demo nodes under churn and steady paced HTTP load, sampled into a CSV, a PNG and a summary.
#
# Usage: bench/soak.sh DURATION [OUTDIR]
#   DURATION  seconds (180, 180s), minutes (30m) or hours (1h)
#   OUTDIR    results directory (default bench/results/soak-DATE/), created if missing
#
# Starts a fresh 5-node demo cluster (unique names, temporary cookie) and `beamprobe serve` on
# 127.0.0.1 probing all 5 every second (--config serve.json: governors cost_guard, rollback_guard,
# backlog_valve, supervisor demo_sup, application demo). For the whole duration:
#   - churn, planned up front from SOAK_SEED by bench/soak_churn.sh (its header has the periods):
#     kill -9 + restart of a node, SIGSTOP/SIGCONT of a node, governor flaps (refusing and back, via
#     erl_call), SIGHUP reloads of serve whose config drops one target and later gets it back;
#   - load: wrk -t1 -cSOAK_CONNS, paced by bench/soak_wrk.lua (delay()) to about SOAK_RATE req/s
#     over /health/ready, /health, /metrics (keep-alive);
#   - a latency probe: curl every 0.2 s (new connection each), rotating over the same paths;
#   - every 5 s one CSV row (soak.csv): serve's VmRSS, open fds, threads; p50/p99/max latency of the
#     probe's requests of the interval; status counts of the probe (200, 503, other, no answer) and
#     of wrk (200, 503, other); churn actions done in the interval.
# At the end, and when interrupted, it stops everything it started, draws soak.png with gnuplot
# (bench/soak_plot.gp) and writes summary.md. Also in OUTDIR: churn.log (each action and its
# result), schedule.txt, probe.log (every probe request), wrk.txt, serve.log, serve.json.
# Exit status: 0; 1 if an answer other than 200/503 came, a request got no answer (curl or wrk
# socket error) or serve died; 130 when interrupted (after the report).
#
# Environment: SOAK_SEED (15), SOAK_RATE wrk requests/s (75), SOAK_CONNS wrk connections (3),
# SOAK_WARMUP seconds left out of the RSS trend (min(300, DURATION/6)), BENCH_KEEP=1 keeps the temp dir.
# Debian packages: wrk, curl, gnuplot-nox (scripts/install-deps.sh, run if a tool is missing).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH="$ROOT/bench"
CLUSTER="$ROOT/test/fixtures/cluster.sh"
BP="$ROOT/priv/beamprobe"
CHURN="$BENCH/soak_churn.sh"
REPORT="$BENCH/soak_report.sh"
EXTRA_PACKAGES=()
N_NODES=5
INTERVAL=5

# shellcheck source=bench/lib.sh
. "$BENCH/lib.sh"

[[ $# -ge 1 && $# -le 2 ]] || die "usage: bench/soak.sh DURATION [OUTDIR]"
ARG1=$1
[[ "$1" =~ ^([1-9][0-9]*)([hms]?)$ ]] || die "bad DURATION '$1' (e.g. 180, 180s, 30m, 1h)"
case "${BASH_REMATCH[2]}" in
  h) DUR=$((BASH_REMATCH[1] * 3600)) ;;
  m) DUR=$((BASH_REMATCH[1] * 60)) ;;
  *) DUR=${BASH_REMATCH[1]} ;;
esac
((DUR >= 60)) || die "DURATION must be at least 60 s"
STAMP=$(date +%Y%m%d-%H%M%S)
OUT=${2:-$ROOT/bench/results/soak-$STAMP}
SEED=${SOAK_SEED:-15}
RATE=${SOAK_RATE:-75}
CONNS=${SOAK_CONNS:-3}
# shellcheck disable=SC2034  # read through ${!v} when meta.env is written
WARM=${SOAK_WARMUP:-$((DUR / 6 < 300 ? DUR / 6 : 300))}
for v in SEED RATE CONNS WARM; do [[ "${!v}" =~ ^[0-9]+$ ]] || die "SOAK_$v must be an integer (got '${!v}')"; done
((RATE > 0 && CONNS > 0)) || die "SOAK_RATE and SOAK_CONNS must be positive"

ensure_packages erl erlc wrk curl gnuplot
ensure_beamprobe
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
CSV="$OUT/soak.csv"

# ---------- cleanup: stop what runs, then report (also when interrupted) ----------

SERVE_PID='' WRK_PID='' PROBE_PID='' CHURN_PID='' REPORTED=0 SERVE_DIED=0 T0='' VERDICT_RC=0
stop_pid() { # stop_pid PID SIGNAL GRACE_SECONDS
  [[ -n "$1" ]] || return 0
  kill "-$2" "$1" 2>/dev/null || return 0
  for _ in $(seq $(($3 * 10))); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}
stop_all() {
  [[ -n "${STOPFILE:-}" ]] && touch "$STOPFILE"
  stop_pid "$PROBE_PID" TERM 2; PROBE_PID=
  stop_pid "$WRK_PID" INT 3; WRK_PID=
  if [[ -n "$CHURN_PID" ]]; then # let a restart in progress finish, so no node is left behind
    for _ in $(seq 400); do kill -0 "$CHURN_PID" 2>/dev/null || break; sleep 0.1; done
    stop_pid "$CHURN_PID" TERM 2; CHURN_PID=
  fi
  stop_pid "$SERVE_PID" TERM 3; SERVE_PID=
}
# report: records whether serve died, then bench/soak_report.sh draws and summarises (sets VERDICT_RC).
report() {
  printf 'SERVE_DIED=%q\n' "$SERVE_DIED" >>"$OUT/meta.env"
  VERDICT_RC=0
  "$REPORT" "$OUT" || VERDICT_RC=$?
}
# cleanup_extra: run by bench_cleanup (bench/lib.sh) before it stops the cluster.
# shellcheck disable=SC2317  # called from the EXIT trap
cleanup_extra() {
  stop_all
  if ((REPORTED == 0)) && [[ -n "$T0" ]]; then REPORTED=1; report || true; fi
}
bench_tmp soak
STOPFILE="$TMP/stop"
private_beamprobe
machine_facts

# ---------- cluster and serve ----------

PREFIX="bpsoak$$"
say "starting a fresh $N_NODES-node demo cluster (${PREFIX}_1..$N_NODES)"
start_cluster "$N_NODES" "$PREFIX" -- +S 1 +sbwt none +sbwtdcpu none +sbwtdio none

CONF="$TMP/serve.json"
mkdir -p "$TMP/conf"
# write_conf FILE SKIP: serve's config with every node but number SKIP (0: all).
write_conf() {
  local list="" i
  for i in "${!NODES[@]}"; do ((i + 1 == $2)) || list+="${list:+, }\"${NODES[$i]}\""; done
  printf '{"node": [%s], "interval": "1s", "governor": "cost_guard,rollback_guard,backlog_valve",\n "supervisor": "demo_sup", "require-app": "demo"}\n' "$list" >"$1"
}
write_conf "$TMP/conf/full.json" 0
for i in $(seq "$N_NODES"); do write_conf "$TMP/conf/minus-$i.json" "$i"; done
cp "$TMP/conf/full.json" "$CONF"
cp "$CONF" "$OUT/serve.json"

"$BP" serve --listen 127.0.0.1:0 --cookie-file "$COOKIE_FILE" --config "$CONF" </dev/null >/dev/null 2>"$OUT/serve.log" &
SERVE_PID=$!
PORT=
for _ in $(seq 200); do
  PORT=$(sed -n 's/.*listening on .*:\([0-9][0-9]*\) (.*/\1/p' "$OUT/serve.log" | head -1)
  [[ -n "$PORT" ]] && break
  kill -0 "$SERVE_PID" 2>/dev/null || { cat "$OUT/serve.log" >&2; die "beamprobe serve exited"; }
  sleep 0.05
done
[[ -n "$PORT" ]] || { cat "$OUT/serve.log" >&2; die "beamprobe serve did not log its port"; }
for _ in $(seq 100); do
  [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/health/ready") == 200 ]] && break
  sleep 0.1
done
[[ $(curl -s -o "$TMP/ready" -w '%{http_code}' "http://127.0.0.1:$PORT/health/ready") == 200 ]] \
  || die "serve is not ready over the 5 nodes: $(head -c 400 "$TMP/ready")"
say "beamprobe serve (pid $SERVE_PID) on port $PORT, ready over ${#NODES[@]} nodes"

# ---------- load, probe, churn ----------

. /etc/os-release
{ for v in CMD START_UTC DUR WARM SEED RATE CONNS PORT MACHINE OTP_VERSION CPU_MODEL BP_VERSION GIT_REV BP_SHA; do
    case $v in
      CMD) x="bench/soak.sh $ARG1 $OUT" ;;
      START_UTC) x=$(date -u '+%Y-%m-%d %H:%M UTC') ;;
      MACHINE) x="${PRETTY_NAME:-Linux}, $(nproc) CPUs, kernel $(uname -r)" ;;
      BP_VERSION) x=$("$BP" --version 2>/dev/null | head -1) ;;
      *) x=${!v} ;;
    esac
    printf '%s=%q\n' "$v" "$x"
  done; } >"$OUT/meta.env"
"$CHURN" plan "$SEED" "$DUR" "$N_NODES" >"$OUT/schedule.txt"
: >"$OUT/churn.log"; : >"$OUT/probe.log"; : >"$TMP/wrk.status"

probe_loop() {
  trap - EXIT INT TERM
  set +e
  local paths=(/health/ready /health /metrics) i=0 r
  while [[ ! -e "$STOPFILE" ]]; do
    r=$(curl -s -o /dev/null -m 5 -w '%{http_code} %{time_total}' "http://127.0.0.1:$PORT${paths[i % 3]}")
    printf '%s %s %s\n' "$EPOCHREALTIME" "${paths[i % 3]}" "$r" >>"$OUT/probe.log"
    i=$((i + 1))
    sleep 0.2
  done
}

T0=$EPOCHSECONDS
END=$((T0 + DUR))
"$(command -v wrk)" -t1 -c"$CONNS" -d"${DUR}s" --timeout 5s -s "$BENCH/soak_wrk.lua" "http://127.0.0.1:$PORT/" \
  -- "$((CONNS * 1000 / RATE))" "$TMP/wrk.status" </dev/null >"$OUT/wrk.txt" 2>&1 &
WRK_PID=$!
probe_loop &
PROBE_PID=$!
CLUSTER="$CLUSTER" CL="$CL" SERVE_PID="$SERVE_PID" CONF="$CONF" CONF_DIR="$TMP/conf" T0="$T0" \
  STOPFILE="$STOPFILE" CHURN_LOG="$OUT/churn.log" "$CHURN" run "$OUT/schedule.txt" </dev/null &
CHURN_PID=$!
say "soak for $DUR s (until $(date -u -d "@$END" '+%H:%M:%S UTC')), seed $SEED, wrk ~$RATE req/s over $CONNS connections; results in $OUT"

# ---------- sampling ----------

echo "t_s,epoch,rss_kb,fds,threads,probe_n,p50_ms,p99_ms,max_ms,c200,c503,c_other,c_connerr,wrk_200,wrk_503,wrk_other,churn_events" >"$CSV"
# shellcheck disable=SC2034  # advanced by name in new_lines
SEEN_PROBE=0 SEEN_WRK=0 SEEN_CHURN=0 LAST_SAMPLE=0
# new_lines FILE SEEN_VAR: prints the complete lines of FILE after the first $SEEN_VAR and advances it.
new_lines() {
  local n
  n=$(wc -l <"$1")
  ((n > ${!2})) && sed -n "$((${!2} + 1)),${n}p" "$1"
  printf -v "$2" '%s' "$n"
}
serve_alive() {
  local st
  st=$(awk '$1 == "State:" { print $2 }' "/proc/$SERVE_PID/status" 2>/dev/null) || return 1
  [[ -n "$st" && "$st" != Z && "$st" != X ]]
}
sample() {
  local now rss fds thr lat codes wrk churn
  now=$EPOCHSECONDS
  rss=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$SERVE_PID/status" 2>/dev/null || true)
  thr=$(awk '$1 == "Threads:" { print $2 }' "/proc/$SERVE_PID/status" 2>/dev/null || true)
  fds=$(find "/proc/$SERVE_PID/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
  new_lines "$OUT/probe.log" SEEN_PROBE >"$TMP/interval"
  lat=$(awk '$3 != "000" && NF == 4 { print $4 * 1000 }' "$TMP/interval" | sort -g \
    | awk '{ a[NR] = $1 } END { if (!NR) { print "0,NaN,NaN,NaN"; exit }
        p50 = a[int((NR * 50 + 99) / 100)]; p99 = a[int((NR * 99 + 99) / 100)]
        printf "%d,%.2f,%.2f,%.2f\n", NR, p50, p99, a[NR] }')
  codes=$(awk '{ if ($3 == 200) a++; else if ($3 == 503) b++; else if ($3 == "000" || NF < 4) e++; else o++ }
    END { printf "%d,%d,%d,%d", a, b, o, e }' "$TMP/interval")
  new_lines "$TMP/wrk.status" SEEN_WRK >"$TMP/interval.wrk"
  wrk=$(awk '{ if ($1 == 200) a++; else if ($1 == 503) b++; else o++ }
    END { printf "%d,%d,%d", a, b, o }' "$TMP/interval.wrk")
  new_lines "$OUT/churn.log" SEEN_CHURN >"$TMP/interval.churn"
  churn=$(wc -l <"$TMP/interval.churn")
  LAST_SAMPLE=$now
  echo "$((now - T0)),$now,$rss,$fds,$thr,$lat,$codes,$wrk,$churn" >>"$CSV"
}

next=$((T0 + INTERVAL))
while ((EPOCHSECONDS < END)); do
  while ((EPOCHSECONDS < next)); do run_child sleep 0.5; done
  serve_alive || { SERVE_DIED=1; say "beamprobe serve died"; break; }
  sample
  next=$((next + INTERVAL))
done
serve_alive || SERVE_DIED=1
((SERVE_DIED == 0 && EPOCHSECONDS > LAST_SAMPLE)) && sample
REPORTED=1
stop_all
report
exit "$VERDICT_RC"
