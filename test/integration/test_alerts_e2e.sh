#!/usr/bin/env bash
# test_alerts_e2e.sh: serve --alertmanager against a real Alertmanager routing to a local webhook receiver: a governor refusing and healed, a node killed.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/serve_lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/notify_lib.sh"

start_cluster 2
N1=${NODES[0]}
N2=${NODES[1]}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/bp-alerts.XXXXXX")
SERVE_PIDS=()
cleanup_alerts() {
  for p in "${SERVE_PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
  "$CLUSTER" stop "$DIR" >/dev/null 2>&1 || true
  rm -rf "$DIR"
}
trap cleanup_alerts EXIT
GOV=cost_guard

start_receiver hook
start_alertmanager "http://127.0.0.1:$RPORT/alertmanager" || { finish; exit $?; }

# One alert of the Alertmanager's webhook posts: status, labels; sel is a jq condition on an alert.
am_alert() { printf '.body.alerts | any(.[]; %s)' "$1"; }
rec_alert() { jq -c ".body.alerts[] | select($1)" <<<"$REC" | head -1; }

# ---- the direct path: serve --alertmanager ----------------------------------------------------
test_case "direct: serve pushes to the Alertmanager"
start_serve e2e --node "$N1" --node "$N2" --governor "$GOV" --interval 200ms \
  --alertmanager "http://127.0.0.1:$AMPORT" --alert-resend-interval 2s
wait_code /health/ready 200 15 || fail "never ready: $BODY"
sleep 0.5
ok "serve up with 2 targets"

test_case "direct: a governor pushed to refusing reaches the receiver through the Alertmanager"
T0=$(date +%s.%N)
ceval "$N1" "ok = demo_governor:set_state($GOV, refusing)." >/dev/null
sel=".status == \"firing\" and .labels.alertname == \"BeamprobeGovernorFailing\" and .labels.node == \"$N1\""
if wait_record hook "$(am_alert "$sel")" 15; then
  A=$(rec_alert "$sel")
  ms=$(awk -v a="$REC_T" -v b="$T0" 'BEGIN { printf "%d", (a - b) * 1000 }')
  ok "firing alert after $ms ms"
  expect_le "$ms" 3000 "fault to notification (ms), group_wait 1s"
  got=$(jq -r '[.labels.check, .labels.severity, (.annotations.description | test("refusing")), (.generatorURL | test("/health$"))] | join(" ")' <<<"$A")
  if [[ $got == "governor:$GOV critical true true" ]]; then ok "labels, description, generatorURL"; else fail "alert: $A"; fi
else
  fail "no firing alert at the receiver: $(tail -3 "$WORK/hook.jsonl"); AM: $(curl -s "http://127.0.0.1:$AMPORT/api/v2/alerts")"
fi

test_case "direct: healing resolves it"
T1=$(date +%s.%N)
ceval "$N1" "ok = demo_governor:set_state($GOV, stable)." >/dev/null
sel=".status == \"resolved\" and .labels.alertname == \"BeamprobeGovernorFailing\" and .labels.node == \"$N1\""
if wait_record hook ".t > $T1 and ($(am_alert "$sel"))" 15; then
  ms=$(awk -v a="$REC_T" -v b="$T1" 'BEGIN { printf "%d", (a - b) * 1000 }')
  ok "resolved after $ms ms"
  expect_le "$ms" 3000 "healing to resolved notification (ms)"
else
  fail "no resolved alert: $(tail -3 "$WORK/hook.jsonl")"
fi

test_case "direct: a node killed: its connection check fails"
T2=$(date +%s.%N)
"$CLUSTER" kill-node "$DIR" "$N2" >/dev/null
sel=".status == \"firing\" and .labels.alertname == \"BeamprobeNodeDown\" and .labels.node == \"$N2\" and .labels.check == \"connection\""
if wait_record hook ".t > $T2 and ($(am_alert "$sel"))" 15; then
  ms=$(awk -v a="$REC_T" -v b="$T2" 'BEGIN { printf "%d", (a - b) * 1000 }')
  ok "node-down alert after $ms ms"
  expect_le "$ms" 3000 "kill to notification (ms)"
  [[ $(rec_alert "$sel" | jq -r .labels.severity) == critical ]] && ok "severity critical" || fail "severity"
else
  fail "no node-down alert: $(tail -3 "$WORK/hook.jsonl")"
fi
sent=$(metric "beamprobe_notifications_sent_total{receiver=\"http://127.0.0.1:$AMPORT/api/v2/alerts\"}")
if [[ -n $sent ]] && (( sent >= 3 )); then ok "sent_total $sent"; else fail "sent_total '$sent'"; fi
failed=$(metric "beamprobe_notifications_failed_total{receiver=\"http://127.0.0.1:$AMPORT/api/v2/alerts\"}")
[[ $failed == 0 ]] && ok "no failed POSTs" || fail "failed_total '$failed': $(cat "$WORK/e2e.log")"
kill -TERM "$SPID"; wait "$SPID" || true
if grep -q -e Sanitizer -e 'runtime error' "$WORK/e2e.log"; then fail "sanitizer: $(grep -A20 Sanitizer "$WORK/e2e.log" | head -30)"; fi

# ---- the Prometheus path ------------------------------------------------------------------------
# >>> PROMETHEUS PATH: Prometheus scraping serve every 1 s, evaluating the shipped rules
# (deploy/prometheus/beamprobe.rules.yml, written on another branch; BP_RULES_FILE overrides the
# path) and sending to the same Alertmanager. Without that file in the tree it is skipped. The
# rules' `for:` durations (minutes) are cut to 1s in a copy, so the path runs in seconds.
prometheus_path() {
  local rules=${BP_RULES_FILE:-$ROOT/deploy/prometheus/beamprobe.rules.yml} pport
  test_case "prometheus path"
  if [[ ! -f $rules ]]; then
    echo "  skip  $rules is not in this tree: only the direct path was tested"
    return 0
  fi
  if promtool check rules "$rules" >"$WORK/promtool.out" 2>&1; then ok "promtool check rules"; else fail "promtool: $(cat "$WORK/promtool.out")"; fi
  sed -E 's/^([[:space:]]*)for: .*/\1for: 1s/' "$rules" >"$WORK/rules.yml"
  start_serve prom --node "$N1" --governor "$GOV" --interval 200ms
  pport=$(free_port)
  cat >"$WORK/prometheus.yml" <<YML
global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: ["$WORK/rules.yml"]
alerting:
  alertmanagers: [{static_configs: [{targets: ["127.0.0.1:$AMPORT"]}]}]
scrape_configs:
  - job_name: beamprobe
    static_configs: [{targets: ["127.0.0.1:$PORT"]}]
YML
  prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/prom-data" \
    --web.listen-address="127.0.0.1:$pport" >"$WORK/prometheus.log" 2>&1 &
  SERVE_PIDS+=("$!")
  disown "$!" 2>/dev/null || true
  for _ in $(seq 200); do curl -sf -m 1 "http://127.0.0.1:$pport/-/ready" >/dev/null 2>&1 && break; sleep 0.05; done
  sleep 2 # a few scrapes of the healthy node first
  local t0 sel
  t0=$(date +%s.%N)
  ceval "$N1" "ok = demo_governor:set_state($GOV, refusing)." >/dev/null
  sel=".status == \"firing\" and .labels.alertname == \"BeamprobeGovernorFailing\" and .labels.node == \"$N1\" and .labels.job == \"beamprobe\""
  if wait_record hook ".t > $t0 and ($(am_alert "$sel"))" 30; then
    ok "Prometheus's alert at the receiver after $(awk -v a="$REC_T" -v b="$t0" 'BEGIN { printf "%d", (a - b) * 1000 }') ms"
  else
    fail "no alert through Prometheus: $(curl -s "http://127.0.0.1:$pport/api/v1/alerts"; tail -3 "$WORK/prometheus.log")"
  fi
  t0=$(date +%s.%N)
  ceval "$N1" "ok = demo_governor:set_state($GOV, stable)." >/dev/null
  sel=".status == \"resolved\" and .labels.alertname == \"BeamprobeGovernorFailing\" and .labels.job == \"beamprobe\""
  if wait_record hook ".t > $t0 and ($(am_alert "$sel"))" 30; then ok "resolved through Prometheus"; else fail "not resolved through Prometheus"; fi
  kill -TERM "$SPID"; wait "$SPID" 2>/dev/null || true
}
prometheus_path

finish
