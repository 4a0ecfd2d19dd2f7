#!/usr/bin/env bash
# test_truth.sh: no false alarms, no false passes on real processes: supervisor child states, restart intensity, ETS tables.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

start_cluster 1
N1=${NODES[0]}
ceval "$N1" 'demo_truth:start().' >/dev/null
kill_child() { ceval "$N1" "{_, P, _, _} = lists:keyfind($1, 1, supervisor:which_children(truth_sup)), exit(P, kill), timer:sleep(50)." >/dev/null; }

test_case "a child whose start returned ignore is reported, not a failure"
check "$N1" --supervisor truth_sup --json
expect_code 0
expect_json '.checks["supervisor:truth_sup"].status' pass
expect_json '.checks["supervisor:truth_sup"].children_stopped_count' 1
expect_json '.checks["supervisor:truth_sup"].children_stopped[0].child' sql_pool
expect_json '.checks["supervisor:truth_sup"].children_down_count' 0
expect_json '.checks["supervisor:truth_sup"].intensity' 3
expect_json '.checks["supervisor:truth_sup"].period_seconds' 60
expect_json '.checks["supervisor:truth_sup"].recent_restarts' 0
check "$N1" --supervisor truth_sup
expect_in "$OUT" "1 child not running (ignored or stopped): sql_pool in truth_sup"

test_case "--supervisor-strict fails on it"
check "$N1" --supervisor truth_sup --supervisor-strict --json
expect_code 4
expect_json '.checks["supervisor:truth_sup"].status' fail

test_case "terminate_child: stopped, not down"
ceval "$N1" 'supervisor:terminate_child(truth_sup, w2).' >/dev/null
check "$N1" --supervisor truth_sup --json
expect_code 0
expect_json '.checks["supervisor:truth_sup"].children_stopped_count' 2

test_case "a recent restart warns; at the restart intensity the check fails"
kill_child w1
check "$N1" --supervisor truth_sup --json
expect_code 0
expect_json '.checks["supervisor:truth_sup"].status' warn
expect_json '.checks["supervisor:truth_sup"].recent_restarts' 1
check "$N1" --supervisor truth_sup --strict --json
expect_code 4
kill_child w1
kill_child w1
check "$N1" --supervisor truth_sup --json
expect_code 4
expect_json '.checks["supervisor:truth_sup"].status' fail
expect_json '.checks["supervisor:truth_sup"].nearest_intensity.recent_restarts' 3
expect_in "$(jq -r '.checks["supervisor:truth_sup"].reason' <<<"$OUT")" "truth_sup: 3 restarts in the last 60 s (intensity 3: the next one terminates it)"

test_case "10,000 ETS tables: a healthy node on OTP 20+ (the table count is limited by memory only)"
ceval "$N1" 'Self = self(), P = spawn(fun() -> [ets:new(t, []) || _ <- lists:seq(1, 10000)], Self ! made, receive stop -> ok end end), register(ets_holder, P), receive made -> ok after 10000 -> timeout end.' >/dev/null
check "$N1" --json
expect_code 0
expect_json '.checks.limits.status' pass
expect_json '.metrics.ets_count > 10000' true
expect_json '.checks.limits.ets | [has("limit"), .limit, .count > 10000] | tostring' '[true,null,true]'

test_case "--check-mfa erlang:is_alive (true) passes; a textual reason reads as text"
check "$N1" --check-mfa erlang:is_alive,file:get_cwd,erlang:halt_not_there --json
expect_json '.checks["custom:erlang:is_alive"].status' pass
expect_json '.checks["custom:file:get_cwd"].detail | startswith("ok: /")' true
expect_json '.checks["custom:erlang:halt_not_there"].status' fail

test_case "a family of governors under a simple_one_for_one supervisor: 3, then 2,000 with one refusing"
ceval "$N1" 'demo_truth:start_tenants(3), timer:sleep(200).' >/dev/null  # past their boot state
check "$N1" --governors-under tenant_sup --json --timeout 10s  # bounded, not fast: the sanitized build is slow
expect_code 0
expect_json '.checks["governors:tenant_sup"].members' 3
expect_json '.checks["governors:tenant_sup"].states.stable' 3
expect_json '.checks["governors:tenant_sup"].kind' "supervisor demo_truth"
ceval "$N1" '[supervisor:start_child(tenant_sup, [T]) || T <- lists:seq(4, 2000)], timer:sleep(200).' >/dev/null
bad=$(ceval "$N1" '{_, P, _, _} = lists:nth(1234, supervisor:which_children(tenant_sup)), ok = demo_governor:set_state(P, refusing), pid_to_list(P).' | tr -d '"')
check "$N1" --governors-under tenant_sup --json --timeout 10s  # bounded, not fast: the sanitized build is slow
expect_code 4
expect_json '.checks["governors:tenant_sup"].members' 2000
expect_json '.checks["governors:tenant_sup"].states | tostring' '{"stable":1999,"refusing":1}'
expect_json '.checks["governors:tenant_sup"].flagged[0].state' refusing
pidnum=${bad#<}; pidnum=${pidnum%>}; pidnum=${pidnum#*.}
expect_in "$(jq -r '.checks["governors:tenant_sup"].flagged[0].governor' <<<"$OUT")" ".$pidnum>"
expect_le "${#OUT}" 20000 "JSON report bytes for 2,000 governors"
check "$N1" --governors-under tenant_sup --timeout 10s
expect_in "$OUT" "2000 governors: 1999 stable, 1 refusing"
# the one-round plan: 2,000 proofs and states fit the default --max-reply (process_info's values
# without their keys and stack locations), so one round trip, and the same verdict
check "$N1" --governors-under tenant_sup --json --timeout 10s --plan one-round
expect_json '[.round_trips, .plan, .plan_unused] | tostring' '[1,"one-round",0]'
expect_json '.checks["governors:tenant_sup"].states | tostring' '{"stable":1999,"refusing":1}'

test_case "gen_server governors: the mode from a map key and from a record element"
ceval "$N1" 'demo_truth:start_state_governors().' >/dev/null
check "$N1" --governor gs_map_gov --governor-state-field mode --json
expect_json '.checks["governor:gs_map_gov"].state' throttling
check "$N1" --governor gs_rec_gov --governor-state-field 2 --json
expect_json '.checks["governor:gs_rec_gov"].state' refusing
expect_code 4
check "$N1" --governor gs_map_gov --json
expect_json '.checks["governor:gs_map_gov"].state' null
expect_in "$(jq -r '.checks["governor:gs_map_gov"].reason' <<<"$OUT")" "state not readable"

test_case "global: and gproc: governors"
ceval "$N1" 'demo_truth:global_governor().' >/dev/null
check "$N1" --governor global:global_gov --json
expect_code 0
expect_json '.checks["governor:global:global_gov"].kind' "gen_statem demo_governor"
check "$N1" --governor gproc:cost_guard --json
expect_code 4
expect_json '.checks["governors:gproc:cost_guard"].reason' "gproc is not running on the target (no gproc module)"
check "$N1" --governor 'nope:x'
expect_code 1

finish
