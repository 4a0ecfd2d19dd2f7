#!/usr/bin/env bash
# test_check.sh: `beamprobe check` against a real 3-node demo cluster: every check passing and failing.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

start_cluster 3
N1=${NODES[0]} N2=${NODES[1]} N3=${NODES[2]}
GOVS=(--governor cost_guard,rollback_guard,backlog_valve)
FULL=("${GOVS[@]}" --supervisor demo_sup --require-app demo --expect-peers "$N1,$N2,$N3" --json)

test_case "all checks pass on a healthy node"
check "$N1" "${FULL[@]}" --plan one-round
expect_code 0
expect_json .status healthy
expect_json .node "$N1"
expect_json '.checks | keys | length' 11
expect_json '[.checks[].status] | unique | join(",")' pass
expect_json '.checks["governor:cost_guard"].state' stable
expect_json '.checks.membership.visible | length' 2
expect_json '.metrics.memory.total > 0' true
# whereis, the proof of each process's kind, its questions, nested supervisors: all in one request
expect_json '.round_trips' 1
expect_json '.plan' one-round

test_case "human output"
check "$N1" "${GOVS[@]}" --supervisor demo_sup
expect_code 0
expect_in "$OUT" "$N1: HEALTHY"
expect_in "$OUT" "governor:backlog_valve"

test_case "governor pushed to refusing fails the node"
ceval "$N1" 'demo_governor:set_state(cost_guard, refusing).' >/dev/null
check "$N1" "${FULL[@]}"
expect_code 4
expect_json .status unhealthy
expect_json '.checks["governor:cost_guard"].status' fail
expect_json '.checks["governor:rollback_guard"].status' pass

test_case "governor degraded only warns (exit 0), --strict makes it fail"
ceval "$N1" 'demo_governor:set_state(cost_guard, degraded).' >/dev/null
check "$N1" "${FULL[@]}"
expect_code 0
expect_json .status degraded
check "$N1" "${FULL[@]}" --strict
expect_code 4
check "$N1" "${FULL[@]}" --governor-warn-states warning --governor-fail-states degraded
expect_code 4
ceval "$N1" 'demo_governor:set_state(cost_guard, stable).' >/dev/null

test_case "unresponsive governor is reported, within the deadline"
ceval "$N1" 'demo_governor:hang(rollback_guard, 1500).' >/dev/null
check "$N1" "${FULL[@]}" --governor-timeout 100ms
expect_code 4
expect_json '.checks["governor:rollback_guard"].status' fail
expect_in "$(jq -r '.checks["governor:rollback_guard"].reason' <<<"$OUT")" "unresponsive"
expect_json '.checks["governor:cost_guard"].status' pass
expect_le "$MS" 900 "wall ms"
sleep 1.5

test_case "unregistered governor"
check "$N1" --governor no_such_guard --json
expect_code 4
expect_json '.checks["governor:no_such_guard"].status' fail

test_case "a stopped supervisor child (terminate_child) is reported; it fails with --supervisor-strict"
ceval "$N1" 'demo:stop_worker(worker_2).' >/dev/null
check "$N1" "${FULL[@]}"
expect_code 0
expect_json '.checks["supervisor:demo_sup"].status' pass
expect_json '.checks["supervisor:demo_sup"].children_stopped[0].child' worker_2
expect_in "$(jq -r '.checks["supervisor:demo_sup"].reason' <<<"$OUT")" "1 child not running (ignored or stopped): worker_2"
check "$N1" "${FULL[@]}" --supervisor-strict
expect_code 4
expect_json '.checks["supervisor:demo_sup"].status' fail
ceval "$N1" 'demo:restart_worker(worker_2).' >/dev/null
check "$N1" "${FULL[@]}"
expect_code 0

test_case "missing supervisor"
check "$N1" --supervisor no_such_sup --json
expect_code 4
expect_json '.checks["supervisor:no_such_sup"].status' fail

test_case "required application stopped"
check "$N1" --require-app runtime_tools --json
expect_code 4
expect_json '.checks.applications.status' fail
ceval "$N1" 'application:ensure_all_started(runtime_tools).' >/dev/null
check "$N1" --require-app runtime_tools --json
expect_code 0
ceval "$N1" 'application:stop(runtime_tools).' >/dev/null
check "$N1" --require-app runtime_tools --probe startup --json
expect_code 4
expect_json .probe startup

test_case "missing peer and expected size"
check "$N1" --expect-peers "$N2,ghost@$HOST" --json
expect_code 4
expect_json '.checks.membership.status' fail
expect_in "$(jq -r '.checks.membership.reason' <<<"$OUT")" "ghost@$HOST"
check "$N1" --expect-size 4 --json
expect_code 4
check "$N1" --expect-size 3 --json
expect_code 0

test_case "liveness never depends on peers"
check "$N1" --expect-peers "ghost@$HOST" --probe live --json
expect_code 0
expect_json '.checks | has("membership")' false

test_case "too-low thresholds fail for real"
check "$N1" --atom-warn 0.001 --atom-fail 0.002 --json
expect_code 4
expect_json '.checks.limits.status' fail
check "$N1" --memory-limit 1MiB --json
expect_code 4
expect_json '.checks.memory.status' fail
expect_json '.checks.memory.limit_source' config
check "$N1" --process-warn 0.00001 --process-fail 0.9 --json   # ~60 of 262144 (OTP 25) or 1048576 (27)
expect_code 0
expect_json '.checks.limits.status' warn

test_case "custom checks: pass, warn, fail, crash"
check "$N1" --check-mfa demo:check_ok --check-mfa demo:check_tagged_ok --json
expect_code 0
check "$N1" --check-mfa demo:check_degraded --json
expect_code 0
expect_json '.checks["custom:demo:check_degraded"].status' warn
check "$N1" --check-mfa demo:check_bad --json
expect_code 4
check "$N1" --check-mfa demo:check_crash --check-mfa demo:check_ok --json
expect_code 4
expect_json '.checks["custom:demo:check_crash"].status' fail
expect_json '.checks["custom:demo:check_ok"].status' pass

test_case "checks that cannot complete in time: exit 3, partial report"
check "$N1" --check-mfa demo:check_slow --timeout 400ms --json
expect_code 3
expect_json .incomplete true
expect_json '.checks.memory.status' pass
expect_le "$MS" 700 "wall ms"

test_case "oversized reply refused, other checks still reported"
check "$N1" --check-mfa demo:big_reply --max-reply 4KiB --json
expect_code 4
expect_in "$(jq -r '.checks["custom:demo:big_reply"].reason' <<<"$OUT")" "max-reply"
expect_json '.checks.identity.status' pass

test_case "wrong cookie"
BAD=$(mktemp); echo wrong-cookie >"$BAD"; chmod 400 "$BAD"
probe check "$N1" --cookie-file "$BAD"
expect_code 2
expect_in "$ERR" "authentication failed (cookie mismatch)"
rm -f "$BAD"

test_case "cookie from the environment, never printed"
SECRET=$(cat "$COOKIE")
BEAMPROBE_COOKIE=$SECRET probe check "$N1" --json
expect_code 0
BEAMPROBE_COOKIE=not-the-cookie probe check "$N1" --json
expect_code 2
if [[ "$OUT$ERR" == *"not-the-cookie"* ]]; then fail "cookie printed"; else ok "cookie not printed"; fi

test_case "group-readable cookie file refused"
LOOSE=$(mktemp); cp "$COOKIE" "$LOOSE"; chmod 644 "$LOOSE"
probe check "$N1" --cookie-file "$LOOSE"
expect_code 1
expect_in "$ERR" "accessible by group or others"
rm -f "$LOOSE"

test_case "unknown node"
check "nosuch_$$@$HOST"
expect_code 2
expect_in "$ERR" "not registered with EPMD on $HOST"

test_case "host without EPMD"
ERL_EPMD_PORT=9 probe check "$N1" --cookie-file "$COOKIE"
expect_code 2
expect_in "$ERR" "EPMD on $HOST:9 not reachable"

test_case "bad flags"
probe check "$N1" --no-such-flag
expect_code 1
expect_in "$ERR" "--no-such-flag"
probe check "$N1" --timeout soon
expect_code 1
probe check
expect_code 1
probe check "$N1" --cookie secret
expect_code 1
if [[ $ERR == *secret* ]]; then fail "argv cookie echoed"; else ok "argv cookie not echoed"; fi
probe check --help
expect_code 0
expect_in "$OUT" "Exit codes"

test_case "SIGSTOPped node answers within --timeout + 200 ms"
PID=$(cat "$DIR/${N3%@*}.pid")
kill -STOP "$PID"
check "$N3" --timeout 500ms --json
kill -CONT "$PID"
expect_code 2
expect_json .status unhealthy
expect_in "$(jq -r .checks.connection.reason <<<"$OUT")" "timed out after 500 ms"
expect_le "$MS" 700 "wall ms"

test_case "concurrent probes share the name pool without colliding"
pids=()
for i in 1 2 3 4 5 6; do
  "$BEAMPROBE" check "$N2" --cookie-file "$COOKIE" --probe live >/dev/null 2>&1 & pids+=($!)
done
bad=0
for p in "${pids[@]}"; do wait "$p" || bad=$((bad + 1)); done
if (( bad == 0 )); then ok "6 concurrent probes all passed"; else fail "$bad of 6 concurrent probes failed"; fi

# The target's atoms, processes, ETS tables and mailboxes over 1,000 probes: test_harm.sh.

finish
