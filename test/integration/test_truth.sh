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

finish
