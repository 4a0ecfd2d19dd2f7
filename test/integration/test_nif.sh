#!/usr/bin/env bash
# test_nif.sh: the Erlang API (NIF) in a real demo node: eunit suite, JSON agreement with the CLI, 503 on a starved VM.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The node under test runs the demo app and loads beamprobe from a private code
# path whose priv/ holds the NIF of this build (the sanitized one under BP_SANITIZED, BP_NIF_SO if set,
# as make coverage sets it).
NIF_SO=${BP_NIF_SO:-$ROOT/priv/beamprobe_nif.so}
[[ -n ${BP_SANITIZED:-} ]] && NIF_SO=$ROOT/build-san/beamprobe_nif.so
[[ -f $NIF_SO ]] || { echo "test_nif: $NIF_SO missing: build it first (make -C c_src)" >&2; exit 1; }

start_cluster 3
N1=${NODES[0]} N2=${NODES[1]} N3=${NODES[2]}
APP=$DIR/lib/beamprobe
mkdir -p "$APP/ebin" "$APP/priv" "$DIR/tests"
ln -s "$NIF_SO" "$APP/priv/beamprobe_nif.so"
"$NODE_ERLC" -Werror -o "$APP/ebin" "$ROOT/src/beamprobe.erl"
cp "$ROOT/src/beamprobe.app.src" "$APP/ebin/beamprobe.app"
"$NODE_ERLC" -o "$DIR/tests" "$ROOT/test/erl/beamprobe_tests.erl"
"$NODE_ERLC" -Werror -o "$DIR/tests" "$ROOT/examples/inets_health.erl"

# A standalone node (not in the mesh) with the demo app and the API. Under the
# sanitizers it carries libasan, preloaded, and nothing else does.
UNDER=bp$$_api
under_env=(HOME="$DIR/home")
if [[ -n ${BP_SANITIZED:-} ]]; then
  under_env+=(LD_PRELOAD="$(gcc -print-file-name=libasan.so)"
              ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
              LSAN_OPTIONS="suppressions=$ROOT/test/erl/lsan_beam.supp:print_suppressions=0")
fi
run_under() { # run_under EXPR: evaluate EXPR in a fresh node under test, then halt with its status
  env "${under_env[@]}" "$NODE_ERL" -sname "$UNDER" -noshell -connect_all false -pa "$APP/ebin" "$DIR/tests" "$ROOT/test/fixtures/demo/ebin" \
    -eval "{ok, _} = application:ensure_all_started(demo),
           Stable = fun S(0) -> timeout; S(N) -> case demo:all_stable() of true -> ok; _ -> timer:sleep(50), S(N - 1) end end,
           ok = Stable(100), $1" 2>&1
}

# rounds of 3 calls in the cache's leak test, a warm-up then the measured run: 12,000 calls measured
# (a leak of 350 bytes a call shows in the VM's memory); under the sanitizers 3,000, where
# LeakSanitizer finds a C leak of any size
CALLS=${BP_NIF_CALLS:-$([[ -n ${BP_SANITIZED:-} ]] && echo 1000 || echo 4000)}
test_case "eunit: the API on a real node (peer $N2, SIGSTOPped $N3)"
kill -STOP "$(cat "$DIR/${N3%@*}.pid")"
set +e
EUNIT=$(run_under "application:set_env(beamprobe, test_peer, '$N2'),
  application:set_env(beamprobe, test_hung, '$N3'),
  application:set_env(beamprobe, test_calls, $CALLS),
  R = eunit:test(beamprobe_tests, [verbose]), halt(case R of ok -> 0; _ -> 1 end).")
CODE=$?
set -e
kill -CONT "$(cat "$DIR/${N3%@*}.pid")"
if [[ $CODE == 0 && $EUNIT == *"passed"* ]]; then
  ok "$(grep -Eo 'All [0-9]+ tests passed' <<<"$EUNIT" || echo passed)"
else
  fail "eunit exit $CODE"
  echo "$EUNIT" | tail -n 60
fi
# the demo and peer layers must have run, not only the VM-only tests
for t in local_report governor_state_is_judged health_unhealthy remote_peer remote_hung cluster \
         remote_hung_concurrent cluster_hung_concurrent jobs_at_the_cap jobs_cap_and_unload inets_example_test \
         handle_token_test; do
  if grep -Eq "beamprobe_tests: -?$t(/|\.\.\.)" <<<"$EUNIT"; then ok "ran $t"; else fail "eunit did not run $t"; fi
done
# the NIF jobs' measurements (caller latencies, file reads, VM threads)
grep -E '^  (check/2|cluster/1|cap |purge |the peer )' <<<"$EUNIT" || true
if [[ $EUNIT == *"Sanitizer"* || $EUNIT == *"runtime error"* ]]; then fail "sanitizer report in the node"; echo "$EUNIT" | grep -A30 Sanitizer | head -60; fi

if [[ -n ${BP_SANITIZED:-} ]]; then # the rest runs in the cluster's nodes, which carry no sanitizer runtime
  echo "test_nif: $PASSED passed, $FAILED failed (sanitized: API suite only)"
  (( FAILED == 0 )); exit
fi

test_case "check/1 in the VM and 'beamprobe check --json' agree on the same node"
GOV=cost_guard,rollback_guard,backlog_valve
ceval "$N2" "code:add_patha(\"$APP/ebin\"), file:write_file(\"$DIR/nif.json\",
  beamprobe:check(#{format => json, governor => [cost_guard, rollback_guard, backlog_valve],
                    supervisor => demo_sup, require_app => [demo], expect_peers => ['$N1', '$N3']}))." >/dev/null
check "$N2" --json --governor "$GOV" --supervisor demo_sup --require-app demo --expect-peers "$N1,$N3"
echo "$OUT" >"$DIR/cli.json"
# what must be equal: every check and its status, and the facts that do not move between two calls
facts='{status, node, checks: (.checks | map_values(.status)),
  governors: [.checks | to_entries[] | select(.key | startswith("governor:")) | {(.key): .value.state}],
  supervisors: [.checks | to_entries[] | select(.key | startswith("supervisor:")) | .value | del(.reason)],
  apps: .checks.applications.running, visible: .checks.membership.visible,
  limits: [.checks.limits | (.processes, .ports, .atoms, .ets) | .limit],
  identity: (.checks.identity | {otp_release, erts_version})}'
A=$(jq -S "$facts | del(.checks.limits)" "$DIR/nif.json" 2>&1) || A="bad JSON: $A"
B=$(jq -S "$facts | del(.checks.limits)" "$DIR/cli.json" 2>&1) || B="bad JSON: $B"
if [[ $A == "$B" && $A == *governor:cost_guard* ]]; then ok "same checks, statuses and facts"; else
  fail "reports differ"; diff <(echo "$A") <(echo "$B") | head -30; fi
expect_json() { local v; v=$(jq -r "$2" "$1"); if [[ $v == "$3" ]]; then ok "$2 = $3"; else fail "$2 = $v, expected $3"; fi; }
expect_json "$DIR/nif.json" '.checks.limits.fds.count > 0' true
expect_json "$DIR/cli.json" '.checks.limits.fds.count // "unknown"' unknown

test_case "in-VM server: /health/live answers 503 'VM unresponsive' while the schedulers are starved"
PORT=$(ceval "$N2" "{ok, P} = beamprobe:start_server(#{port => 0, vm_budget => 500, interval => 200}), P.")
if [[ $PORT =~ ^[0-9]+$ ]]; then ok "server on port $PORT"; else fail "start_server: $PORT"; PORT=1; fi
for _ in $(seq 30); do
  [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/health/live") == 200 ]] && break; sleep 0.1
done
probe_live() { curl -s -m 2 -o "$DIR/live.json" -w '%{http_code} %{time_total}' "http://127.0.0.1:$PORT/health/live" || true; }
read -r st _ <<<"$(probe_live)"
[[ $st == 200 ]] && ok "live 200 before" || fail "live $st before starving"
# high-priority busy loops on every scheduler for 3 s: normal processes get no time (they
# start 200 ms after this eval has returned: its own answer would wait for the starvation)
ceval "$N2" "spawn(fun() -> timer:sleep(200), [spawn_opt(fun() -> demo:spin(3000) end, [{priority, high}])
  || _ <- lists:seq(1, erlang:system_info(schedulers_online))] end), ok." >/dev/null
sleep 1.2
read -r st secs <<<"$(probe_live)"
if [[ $st == 503 ]] && grep -q 'VM unresponsive' "$DIR/live.json"; then ok "503 VM unresponsive in ${secs}s"; else
  fail "starved VM answered $st: $(cat "$DIR/live.json" 2>/dev/null)"; fi
awk -v s="$secs" 'BEGIN { exit !(s < 1.0) }' && ok "answered within 1 s" || fail "answer took ${secs}s"
recovered=
for _ in $(seq 60); do
  read -r st _ <<<"$(probe_live)"
  [[ $st == 200 ]] && { recovered=1; break; }; sleep 0.1
done
[[ -n $recovered ]] && ok "200 again once the schedulers are free" || fail "still $st after the starvation ended"
R=$(ceval "$N2" "beamprobe:stop_server().")
[[ $R == ok ]] && ok "stop_server" || fail "stop_server: $R"

echo "test_nif: $PASSED passed, $FAILED failed"
(( FAILED == 0 ))
