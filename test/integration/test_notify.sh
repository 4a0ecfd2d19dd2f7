#!/usr/bin/env bash
# test_notify.sh: serve's --notify-webhook (signed transitions) and --alertmanager (API v2 alerts) against a local receiver; a dead Alertmanager costs serve nothing.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/serve_lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/notify_lib.sh"

start_cluster 1
N1=${NODES[0]}
serve_workspace notify
GOV=cost_guard
printf 'hook-secret-42\n' >"$WORK/secret"; chmod 600 "$WORK/secret"
printf 'am-token-7\n' >"$WORK/amtoken"; chmod 600 "$WORK/amtoken"

# a closed port: bind one, note it, close it
DEAD=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')

start_receiver hook "$WORK/secret"
HOOK=$RPORT
start_receiver am
AM=$RPORT
start_serve notify --node "$N1" --governor "$GOV" --interval 200ms \
  --notify-webhook "http://127.0.0.1:$HOOK/hook" --notify-secret-file "$WORK/secret" \
  --alertmanager "http://127.0.0.1:$AM/" --alertmanager-token-file "$WORK/amtoken" \
  --alertmanager "http://127.0.0.1:$DEAD" --alert-resend-interval 1s --external-url "http://probe.example:9999/"
wait_code /health/ready 200 10 || fail "never ready: $BODY"

test_case "a governor pushed to refusing: a signed webhook per transition"
ceval "$N1" "demo_governor:set_state($GOV, refusing)." >/dev/null
if wait_record hook '.body.kind == "governor" and .body.to == "refusing"' 10; then
  ok "governor transition delivered"
  expect_json_rec() { local got; got=$(jq -r "$1" <<<"$REC"); if [[ $got == "$2" ]]; then ok "$1 = $2"; else fail "$1 = '$got', expected '$2' in $REC"; fi; }
  expect_json_rec .sig_ok true
  expect_json_rec .path /hook
  expect_json_rec .body.node "$N1"
  expect_json_rec .body.name "$GOV"
  expect_json_rec '.body.from' stable
  expect_json_rec '(.body.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$"))' true
  expect_json_rec '(.body.time_ms > 0)' true
else
  fail "no governor transition at the webhook: $(cat "$WORK/hook.jsonl")"
fi
if wait_record hook ".body.kind == \"check\" and .body.name == \"governor:$GOV\" and .body.to == \"fail\"" 5; then
  ok "check transition delivered"; expect_json_rec .sig_ok true
  expect_json_rec '(.body.reason | length > 0)' true
else fail "no check transition: $(cat "$WORK/hook.jsonl")"; fi

test_case "the same fault: an Alertmanager v2 alert"
if wait_record am ".body[] | select(.labels.check == \"governor:$GOV\" and .labels.severity == \"critical\")" 10; then
  ok "alert posted"
  A=$(jq -c ".body[] | select(.labels.check == \"governor:$GOV\")" <<<"$REC")
  expect_json_rec .path /api/v2/alerts
  expect_json_rec .auth "Bearer am-token-7"
  got=$(jq -r '[.labels.alertname, .labels.node, .annotations.generatorURL // .generatorURL] | join(" ")' <<<"$A")
  if [[ $got == "BeamprobeGovernorFailing $N1 http://probe.example:9999/health" ]]; then ok "labels and generatorURL"; else fail "got $got"; fi
  got=$(jq -r '(.annotations.summary | length > 0) and (.annotations.description | test("refusing"))' <<<"$A")
  [[ $got == true ]] && ok "summary and description" || fail "annotations: $A"
  got=$(jq -r '(.endsAt > .startsAt) and (.startsAt | test("Z$"))' <<<"$A")
  [[ $got == true ]] && ok "firing: endsAt ahead of startsAt" || fail "times: $A"
else
  fail "no alert: $(cat "$WORK/am.jsonl")"
fi

test_case "a firing alert is posted again every --alert-resend-interval"
sleep 2.5
n=$(jq -c ".body[] | select(.labels.check == \"governor:$GOV\")" "$WORK/am.jsonl" | wc -l)
if (( n >= 3 )); then ok "posted $n times in ~3 s"; else fail "posted $n times"; fi

test_case "healing: transitions back and the alert resolved"
HEAL_T=$(date +%s.%N)
ceval "$N1" "ok = demo_governor:set_state($GOV, stable)." >/dev/null
if wait_record hook '.body.kind == "governor" and .body.from == "refusing" and .body.to == "stable"' 10; then
  ok "governor back to stable"; expect_json_rec .sig_ok true
else fail "no healing transition: $(cat "$WORK/hook.jsonl")"; fi
if wait_record am "$(resolved_after "$HEAL_T" "governor:$GOV")" 10; then
  ok "resolved alert (posted after healing, endsAt not after its arrival)"
else fail "no resolved alert: $(tail -3 "$WORK/am.jsonl")"; fi

test_case "the dead Alertmanager: failures counted, serve unaffected"
dead_label="receiver=\"http://127.0.0.1:$DEAD/api/v2/alerts\""
failed=$(metric "beamprobe_notifications_failed_total{$dead_label}")
sent_am=$(metric "beamprobe_notifications_sent_total{receiver=\"http://127.0.0.1:$AM/api/v2/alerts\"}")
sent_hook=$(metric "beamprobe_notifications_sent_total{receiver=\"http://127.0.0.1:$HOOK/hook\"}")
if [[ -n $failed ]] && (( failed >= 2 )); then ok "failed_total $failed for the closed port"; else fail "failed_total '$failed'"; fi
if [[ -n $sent_am ]] && (( sent_am >= 3 )); then ok "sent_total $sent_am to the live Alertmanager"; else fail "sent_total '$sent_am'"; fi
if [[ -n $sent_hook ]] && (( sent_hook >= 4 )); then ok "sent_total $sent_hook to the webhook"; else fail "webhook sent_total '$sent_hook'"; fi
[[ -n $(metric beamprobe_notifications_dropped_total) ]] && ok "dropped_total exported" || fail "no dropped_total"
if grep -q "127.0.0.1:$DEAD" "$WORK/notify.log"; then ok "the failure is logged"; else fail "no log line: $(cat "$WORK/notify.log")"; fi
n=$(grep -c "127.0.0.1:$DEAD" "$WORK/notify.log" || true)
expect_le "$n" 3 "log lines about the dead receiver"
slowest_get /health/live 50
expect_le "$WORST" 100 "slowest of 50 /health/live (ms) while the Alertmanager is dead"

test_case "a node that cannot be reached: BeamprobeNodeDown"
"$CLUSTER" kill-node "$DIR" "$N1" >/dev/null
if wait_record am '.body[] | select(.labels.alertname == "BeamprobeNodeDown" and .labels.check == "connection")' 15; then
  ok "node-down alert"
else fail "no node-down alert: $(tail -3 "$WORK/am.jsonl")"; fi
if wait_record hook '.body.kind == "node" and .body.to == "down"' 10; then ok "node transition to down"; else fail "no node down transition"; fi

test_case "SIGTERM with a dead receiver still stops promptly"
t0=$(date +%s%N)
kill -TERM "$SPID"; wait "$SPID" || true
expect_le $(( ($(date +%s%N) - t0) / 1000000 )) 3000 "stop (ms)"
if grep -q -e Sanitizer -e 'runtime error' "$WORK/notify.log"; then fail "sanitizer: $(grep -A20 Sanitizer "$WORK/notify.log" | head -30)"; fi

test_case "a notify secret file readable by others is refused"
chmod 644 "$WORK/secret"
set +e
ERR=$(timeout 10 "$BEAMPROBE" serve --listen 127.0.0.1:0 --cookie-file "$COOKIE" --node "$N1" \
  --notify-webhook "http://127.0.0.1:$HOOK/" --notify-secret-file "$WORK/secret" 2>&1 >/dev/null)
CODE=$?
set -e
expect_code 1
expect_in "$ERR" "$WORK/secret"
if [[ $ERR == *hook-secret-42* ]]; then fail "the secret is in the message"; else ok "secret not shown"; fi

finish
