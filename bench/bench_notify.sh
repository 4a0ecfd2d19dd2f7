#!/usr/bin/env bash
# Benchmarks serve's notifications: fault-to-receiver latency through --alertmanager (a real Alertmanager) and --notify-webhook, and /health/ready throughput with and without a dead or slow Alertmanager.
#
# Usage: bench/bench_notify.sh
#
# Starts a fresh 2-node demo cluster and, on loopback, a python3 receiver (the one of
# test/integration/notify_lib.sh) and a real Alertmanager (prometheus-alertmanager, group_wait 1s,
# group_interval 1s) routing to it. Latency: one `beamprobe serve --interval 500ms --alertmanager AM
# --notify-webhook RECEIVER` over both nodes; BENCH_TRIALS times each: the governor cost_guard of
# node 1 set to refusing (cluster.sh eval demo_governor:set_state) and back to stable, and node 2
# killed (cluster.sh kill-node) and restarted (start-node); the time from the fault to the arrival at
# the receiver of the webhook transition and of the Alertmanager's notification (firing, resolved).
# Throughput: three serve instances side by side (node 1, --interval 500ms, governor degraded, a warn
# state, so that a warning alert fires and is re-sent every --alert-resend-interval 1s while
# /health/ready answers 200): none without notifications,
# "dead" with --alertmanager on a closed port, "slow" with --alertmanager on a port that accepts
# connections and never answers; wrk -t2 -c50 -d BENCH_DURATION on /health/ready of each, the order
# rotating over BENCH_ROUNDS rounds; medians and ratios to "none".
#
# Environment: BENCH_TRIALS (5), BENCH_ROUNDS (3), BENCH_DURATION wrk seconds per run (5),
# BENCH_OUT results file (bench/results/notify-DATE.md, samples in the .tsv beside it),
# BENCH_KEEP=1 keeps the temporary directory. About 3 minutes with the defaults.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH="$ROOT/bench"
CLUSTER="$ROOT/test/fixtures/cluster.sh"
BP="$ROOT/priv/beamprobe"
LUA="$BENCH/wrk_report.lua"
EXTRA_PACKAGES=(wrk curl prometheus-alertmanager python3 jq)

# shellcheck source=bench/lib.sh
. "$BENCH/lib.sh"

TRIALS=${BENCH_TRIALS:-5}
ROUNDS=${BENCH_ROUNDS:-3}
DURATION=${BENCH_DURATION:-5}
STAMP=$(date +%Y%m%d-%H%M%S)
OUT=${BENCH_OUT:-$ROOT/bench/results/notify-$STAMP.md}
TSV="${OUT%.md}.tsv"

ensure_packages erl erlc wrk curl
ensure_beamprobe
bench_tmp bench-notify
private_beamprobe
machine_facts

# the receiver and Alertmanager helpers of the integration tests
WORK=$TMP
SERVE_PIDS=()
fail() { die "$*"; }
# shellcheck source=test/integration/notify_lib.sh
. "$ROOT/test/integration/notify_lib.sh"
cleanup_extra() { for p in "${SERVE_PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done; }

# serve NAME ARGS...: a serve instance on 127.0.0.1:0; sets SPORT (its port) and SPID.
serve() {
  local name=$1 log="$TMP/$1.log" port=; shift
  "$BP" serve --listen 127.0.0.1:0 --cookie-file "$COOKIE_FILE" "$@" >/dev/null 2>"$log" &
  SPID=$!
  SERVE_PIDS+=("$SPID")
  for _ in $(seq 100); do
    port=$(sed -n 's/.*listening on .*:\([0-9]*\) (.*/\1/p' "$log" | head -1)
    [[ -n $port ]] && break
    sleep 0.05
  done
  [[ -n $port ]] || die "serve $name did not start: $(cat "$log")"
  SPORT=$port
}
ceval() { "$CLUSTER" eval "$CL" "$1" "$2" >/dev/null; }
ms_since() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%d", (a - b) * 1000 }'; }
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%d\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

start_cluster 2 bnotify
N1=${NODES[0]}
N2=${NODES[1]}
start_receiver rcv
start_alertmanager "http://127.0.0.1:$RPORT/am" || die "no Alertmanager"
say "cluster $N1 $N2, receiver :$RPORT, Alertmanager :$AMPORT"
printf 'kind\tpath\ttrial\tms\n' >"$TSV"

# ---- latency ----
serve latency --node "$N1" --node "$N2" --governor cost_guard --interval 500ms \
  --alertmanager "http://127.0.0.1:$AMPORT" --notify-webhook "http://127.0.0.1:$RPORT/hook" --alert-resend-interval 30s
LATENCY_PID=$SPID
sleep 2
# measure KIND PATH T0 SELECT: append the ms from T0 to the first record after T0 matching SELECT to the TSV
measure() {
  if wait_record rcv ".t > $3 and ($4)" 20; then
    printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$TRIAL" "$(ms_since "$REC_T" "$3")" >>"$TSV"
  else
    say "warning: no $1 $2 notification in trial $TRIAL"
  fi
}
gov_am() { printf '.path == "/am" and any(.body.alerts[]; .status == "%s" and .labels.alertname == "BeamprobeGovernorFailing")' "$1"; }
for TRIAL in $(seq "$TRIALS"); do
  say "trial $TRIAL: governor refusing"
  T0=$(date +%s.%N); ceval "$N1" "ok = demo_governor:set_state(cost_guard, refusing)."
  measure governor-refusing webhook "$T0" '.path == "/hook" and .body.kind == "governor" and .body.to == "refusing"'
  measure governor-refusing alertmanager "$T0" "$(gov_am firing)"
  T0=$(date +%s.%N); ceval "$N1" "ok = demo_governor:set_state(cost_guard, stable)."
  measure governor-healed webhook "$T0" '.path == "/hook" and .body.kind == "governor" and .body.to == "stable"'
  measure governor-healed alertmanager "$T0" "$(gov_am resolved)"
  say "trial $TRIAL: node killed"
  T0=$(date +%s.%N); "$CLUSTER" kill-node "$CL" "$N2" >/dev/null 2>&1
  measure node-killed webhook "$T0" ".path == \"/hook\" and .body.kind == \"node\" and .body.to == \"down\""
  measure node-killed alertmanager "$T0" ".path == \"/am\" and any(.body.alerts[]; .status == \"firing\" and .labels.alertname == \"BeamprobeNodeDown\")"
  "$CLUSTER" start-node "$CL" "$N2" >/dev/null 2>&1 || die "restarting $N2 failed"
  wait_record rcv ".t > $T0 and .path == \"/am\" and any(.body.alerts[]; .status == \"resolved\" and .labels.alertname == \"BeamprobeNodeDown\")" 30 \
    || say "warning: node-down not resolved after the restart"
  sleep 1
done
kill -TERM "$LATENCY_PID" 2>/dev/null || true

# ---- throughput ----
DEAD=$(free_port)
python3 -c 'import socket, sys, time; s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1024); print(s.getsockname()[1], flush=True); time.sleep(86400)' >"$TMP/slow.port" 2>/dev/null &
SERVE_PIDS+=("$!")
for _ in $(seq 100); do SLOW=$(head -1 "$TMP/slow.port" 2>/dev/null); [[ -n $SLOW ]] && break; sleep 0.05; done
ceval "$N1" "ok = demo_governor:set_state(cost_guard, degraded)." # a warn state: an alert fires, ready stays 200
COMMON=(--node "$N1" --governor cost_guard --interval 500ms --alert-resend-interval 1s)
declare -A PORTS
serve none "${COMMON[@]}"; PORTS[none]=$SPORT
serve dead "${COMMON[@]}" --alertmanager "http://127.0.0.1:$DEAD"; PORTS[dead]=$SPORT
serve slow "${COMMON[@]}" --alertmanager "http://127.0.0.1:$SLOW"; PORTS[slow]=$SPORT
sleep 3
ORDER=(none dead slow)
for r in $(seq "$ROUNDS"); do
  for i in 0 1 2; do
    c=${ORDER[$(( (i + r) % 3 ))]}
    line=$(wrk -t2 -c50 -d"${DURATION}s" -s "$LUA" "http://127.0.0.1:${PORTS[$c]}/health/ready" | grep '^BENCH')
    reqs=$(sed 's/.*requests=\([0-9]*\).*/\1/' <<<"$line"); dur=$(sed 's/.*duration_us=\([0-9]*\).*/\1/' <<<"$line")
    p50=$(sed 's/.*p50_us=\([0-9]*\).*/\1/' <<<"$line"); p99=$(sed 's/.*p99_us=\([0-9]*\).*/\1/' <<<"$line")
    non2xx=$(sed 's/.*status=\([0-9]*\).*/\1/' <<<"$line")
    rps=$(( reqs * 1000000 / dur ))
    say "round $r $c: $rps req/s p50 ${p50} us p99 ${p99} us (non-2xx $non2xx)"
    printf 'rps\t%s\t%s\t%s\n' "$c" "$r" "$rps" >>"$TSV"
    printf 'p50_us\t%s\t%s\t%s\n' "$c" "$r" "$p50" >>"$TSV"
    printf 'p99_us\t%s\t%s\t%s\n' "$c" "$r" "$p99" >>"$TSV"
  done
done
counters() { curl -s "http://127.0.0.1:${PORTS[$1]}/metrics" | awk '/^beamprobe_notifications_(failed|dropped)_total/ { printf "%s %s; ", $1, $2 }'; }
DEAD_C=$(counters dead); SLOW_C=$(counters slow)

# ---- report ----
col() { awk -F'\t' -v k="$1" -v p="$2" '$1 == k && $2 == p { print $4 }' "$TSV" | median; }
{
  echo "# bench_notify $STAMP"
  echo
  echo "Command: \`bench/bench_notify.sh\` (BENCH_TRIALS=$TRIALS BENCH_ROUNDS=$ROUNDS BENCH_DURATION=$DURATION)."
  echo "Machine: $CPU_MODEL, $(nproc) cores; OTP $OTP_VERSION; $(prometheus-alertmanager --version 2>&1 | head -1); beamprobe $GIT_REV (sha256 $BP_SHA)."
  echo
  echo "## Fault to notification at the receiver (ms, median of $TRIALS; serve --interval 500ms, Alertmanager group_wait 1s, group_interval 1s)"
  echo
  echo "| fault | --notify-webhook | --alertmanager via Alertmanager | all webhook samples | all Alertmanager samples |"
  echo "|---|---:|---:|---|---|"
  for k in governor-refusing governor-healed node-killed; do
    all_w=$(awk -F'\t' -v k=$k '$1 == k && $2 == "webhook" { printf "%s ", $4 }' "$TSV")
    all_a=$(awk -F'\t' -v k=$k '$1 == k && $2 == "alertmanager" { printf "%s ", $4 }' "$TSV")
    echo "| $k | $(col $k webhook) | $(col $k alertmanager) | $all_w | $all_a |"
  done
  echo
  echo "## /health/ready throughput with and without a dead or slow Alertmanager (wrk -t2 -c50 -d${DURATION}s, median of $ROUNDS rounds)"
  echo
  echo "| serve | req/s | ratio to none | p50 µs | p99 µs |"
  echo "|---|---:|---:|---:|---:|"
  base=$(col rps none)
  for c in none dead slow; do
    v=$(col rps $c)
    echo "| $c | $v | $(awk -v a="$v" -v b="$base" 'BEGIN { printf "%.3f", a / b }') | $(col p50_us $c) | $(col p99_us $c) |"
  done
  echo
  echo "Counters after the runs: dead: $DEAD_C slow: $SLOW_C"
} >"$OUT"
cat "$OUT"
say "wrote $OUT and $TSV"
