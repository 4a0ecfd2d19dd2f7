#!/usr/bin/env bash
# Benchmarks serve's notifications: fault-to-receiver latency through --notify-webhook, through --alertmanager (a real Alertmanager) and through a real Prometheus evaluating the shipped rules into the same Alertmanager, and /health/ready throughput with and without a dead or slow Alertmanager.
#
# Usage: bench/bench_notify.sh
#
# Starts a fresh 3-node demo cluster (-kernel dist_auto_connect never, so that a partition made by hand
# stays made) and, on loopback, a python3 receiver (the one of test/integration/notify_lib.sh), a real
# Alertmanager (prometheus-alertmanager, group_wait 1s, group_interval 1s) routing to it, and a real
# Prometheus (1 s scrape and evaluation interval; deploy/prometheus/beamprobe.rules.yml with every
# `for:` cut to 1s in a copy) scraping serve and alerting that Alertmanager. Latency: one
# `beamprobe serve --interval 500ms --expect-peers ALL --expect-nodes ALL --require-app demo
# --alertmanager AM --notify-webhook RECEIVER` over the three nodes; BENCH_TRIALS times each: the
# governor cost_guard of node 1 set to refusing and back to stable; application demo of node 2 stopped
# and started (cluster.sh eval); node 3 cut off from nodes 1 and 2 (erlang:disconnect_node on both
# sides) and reconnected; node 3 killed (cluster.sh kill-node) and restarted (start-node). For each,
# the time from the fault (or heal) to the arrival at the receiver of the webhook transition, of the
# Alertmanager's notification of serve's alert, and of the one of Prometheus's alert (firing, resolved).
# Throughput: three serve instances side by side (node 1, --interval 500ms, governor degraded, a warn
# state, so that a warning alert fires and is re-sent every --alert-resend-interval 1s while
# /health/ready answers 200): none without notifications,
# "dead" with --alertmanager on a closed port, "slow" with --alertmanager on a port that accepts
# connections and never answers; wrk -t2 -c50 -d BENCH_DURATION on /health/ready of each, the order
# rotating over BENCH_ROUNDS rounds; medians and ratios to "none".
#
# Environment: BENCH_TRIALS (5), BENCH_ROUNDS (3), BENCH_DURATION wrk seconds per run (5),
# BENCH_OUT results file (bench/results/notify-DATE.md, samples in the .tsv beside it),
# BENCH_KEEP=1 keeps the temporary directory. About 5 minutes with the defaults.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH="$ROOT/bench"
CLUSTER="$ROOT/test/fixtures/cluster.sh"
BP="$ROOT/priv/beamprobe"
LUA="$BENCH/wrk_report.lua"
EXTRA_PACKAGES=(wrk curl prometheus prometheus-alertmanager python3 jq)

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
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%d\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# 3 nodes that never reconnect on their own, so that a partition made by hand stays made
start_cluster 3 bnotify -- -kernel dist_auto_connect never -kernel prevent_overlapping_partitions false
N1=${NODES[0]}
N2=${NODES[1]}
N3=${NODES[2]}
ALL="$N1,$N2,$N3"
start_receiver rcv
start_alertmanager "http://127.0.0.1:$RPORT/am" || die "no Alertmanager"
say "cluster $ALL, receiver :$RPORT, Alertmanager :$AMPORT"
printf 'kind\tpath\ttrial\tms\n' >"$TSV"

# ---- latency ----
serve latency --nodes "$ALL" --governor cost_guard --interval 500ms \
  --expect-peers "$ALL" --expect-nodes "$ALL" --require-app demo \
  --alertmanager "http://127.0.0.1:$AMPORT" --notify-webhook "http://127.0.0.1:$RPORT/hook" --alert-resend-interval 30s
LATENCY_PID=$SPID
RULES=$ROOT/deploy/prometheus/beamprobe.rules.yml
start_prometheus "$RULES" "127.0.0.1:$SPORT" || die "no Prometheus"
say "Prometheus :$PPORT scraping serve :$SPORT"
sleep 3
# measure KIND PATH T0 SELECT: append the ms from T0 to the first record after T0 matching SELECT to the TSV
measure() {
  if wait_record rcv ".t > $3 and ($4)" 20; then
    printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$TRIAL" "$(ms_since "$REC_T" "$3")" >>"$TSV"
  else
    say "warning: no $1 $2 notification in trial $TRIAL"
  fi
}
# measure3 KIND T0 WEBHOOK_SELECT STATUS NODE DIRECT_ALERTNAME DIRECT_COND PROM_ALERTNAME PROM_COND:
# the three paths of one fault: serve's webhook, serve --alertmanager, Prometheus's rules (both through
# the Alertmanager)
measure3() {
  measure "$1" webhook "$2" ".path == \"/hook\" and $3"
  measure "$1" alertmanager "$2" ".path == \"/am\" and ($(am_notified direct "$4" "$6" "$5" "$7"))"
  measure "$1" prometheus "$2" ".path == \"/am\" and ($(am_notified prometheus "$4" "$8" "$5" "$9"))"
}
hook_check() { printf '.body.node == "%s" and .body.kind == "check" and .body.name == "%s" and .body.to == "%s"' "$@"; }
for TRIAL in $(seq "$TRIALS"); do
  say "trial $TRIAL: governor refusing"
  T0=$(date +%s.%N); ceval "$N1" "ok = demo_governor:set_state(cost_guard, refusing)."
  measure3 governor-refusing "$T0" '.body.kind == "governor" and .body.to == "refusing"' \
    firing "$N1" BeamprobeGovernorFailing '' BeamprobeGovernorFailing ''
  T0=$(date +%s.%N); ceval "$N1" "ok = demo_governor:set_state(cost_guard, stable)."
  measure3 governor-healed "$T0" '.body.kind == "governor" and .body.to == "stable"' \
    resolved "$N1" BeamprobeGovernorFailing '' BeamprobeGovernorFailing ''
  say "trial $TRIAL: required app stopped"
  T0=$(date +%s.%N); ceval "$N2" "ok = application:stop(demo)."
  measure3 app-stopped "$T0" "$(hook_check "$N2" applications fail)" \
    firing "$N2" BeamprobeCheckFailing '.labels.check == "applications"' BeamprobeApplicationMissing ''
  T0=$(date +%s.%N); ceval "$N2" "ok = application:start(demo)."
  measure3 app-restarted "$T0" "$(hook_check "$N2" applications pass)" \
    resolved "$N2" BeamprobeCheckFailing '.labels.check == "applications"' BeamprobeApplicationMissing ''
  say "trial $TRIAL: partition ($N3 cut off)"
  T0=$(date +%s.%N)
  ceval "$N3" "[erlang:disconnect_node(N) || N <- ['$N1', '$N2']]."
  ceval "$N1" "erlang:disconnect_node('$N3')."; ceval "$N2" "erlang:disconnect_node('$N3')."
  measure3 partition "$T0" "$(hook_check "$N1" membership fail)" \
    firing "$N1" BeamprobeCheckFailing '.labels.check == "membership"' BeamprobePartitioned ".labels.peer == \"$N3\""
  T0=$(date +%s.%N); ceval "$N3" "[true = net_kernel:connect_node(N) || N <- ['$N1', '$N2']]."
  measure3 partition-healed "$T0" "$(hook_check "$N1" membership pass)" \
    resolved "$N1" BeamprobeCheckFailing '.labels.check == "membership"' BeamprobePartitioned ".labels.peer == \"$N3\""
  say "trial $TRIAL: node killed"
  T0=$(date +%s.%N); "$CLUSTER" kill-node "$CL" "$N3" >/dev/null 2>&1
  measure3 node-killed "$T0" ".body.node == \"$N3\" and .body.kind == \"node\" and .body.to == \"down\"" \
    firing "$N3" BeamprobeNodeDown '' BeamprobeNodeDown ''
  "$CLUSTER" start-node "$CL" "$N3" >/dev/null 2>&1 || die "restarting $N3 failed"
  T0=$(date +%s.%N) # from the restarted node's joining the mesh
  measure3 node-restarted "$T0" ".body.node == \"$N3\" and .body.kind == \"node\" and .body.from == \"down\"" \
    resolved "$N3" BeamprobeNodeDown '' BeamprobeNodeDown ''
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
  echo "Machine: $CPU_MODEL, $(nproc) cores; OTP $OTP_VERSION; $(prometheus-alertmanager --version 2>&1 | head -1); $(prometheus --version 2>&1 | head -1); beamprobe $GIT_REV (sha256 $BP_SHA)."
  echo
  echo "## Fault to notification at the receiver (ms, median of $TRIALS)"
  echo
  echo "serve --interval 500ms; Alertmanager group_wait 1s, group_interval 1s; Prometheus scrape and evaluation interval 1s,"
  echo "the shipped rules (deploy/prometheus/beamprobe.rules.yml) with every for: cut to 1s. Restarts are timed from the"
  echo "restarted node's joining the mesh."
  echo
  echo "| fault | --notify-webhook | --alertmanager via Alertmanager | Prometheus rules via Alertmanager | webhook samples | --alertmanager samples | Prometheus samples |"
  echo "|---|---:|---:|---:|---|---|---|"
  for k in governor-refusing governor-healed app-stopped app-restarted partition partition-healed node-killed node-restarted; do
    all() { awk -F'\t' -v k="$k" -v p="$1" '$1 == k && $2 == p { printf "%s ", $4 }' "$TSV"; }
    echo "| $k | $(col "$k" webhook) | $(col "$k" alertmanager) | $(col "$k" prometheus) | $(all webhook) | $(all alertmanager) | $(all prometheus) |"
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
