#!/usr/bin/env bash
# test_harm.sh: do no harm: probes pointed at the wrong processes leave every node, process and mailbox as it was.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

start_cluster 2
N1=${NODES[0]} N2=${NODES[1]}
ceval "$N1" 'demo_harm:start_all().' >/dev/null
ceval "$N1" 'demo_harm:mnesia_start().' >/dev/null

# {Name, Pid, QueueLen} of each registered name, as the node sees them; and whether every queue is empty.
procs() { ceval "$N1" "demo_harm:info([$(IFS=,; echo "$*")])."; }
empty() { ceval "$N1" "lists:all(fun({_, _, Q}) -> Q =:= 0 end, demo_harm:info([$(IFS=,; echo "$*")]))." | grep -q true; }
connected() { ceval "$N2" "lists:member('$N1', nodes())." | grep -q true; }

test_case "--supervisor on processes that are no supervisor: refused, node and process untouched"
# kernel's own processes, a gen_event, mnesia's own, and a user gen_server without a catch-all handle_call
TARGETS=(logger application_controller inet_db auth erl_epmd code_server rex erl_signal_server
         mnesia_locker mnesia_monitor harm_strict harm_hib harm_plain)
before=$(procs "${TARGETS[@]}")
for x in "${TARGETS[@]}"; do
  check "$N1" --supervisor "$x" --json --plan multi-round
  if [[ $CODE == 4 ]]; then ok "$x: exit 4 (multi-round plan)"; else fail "$x: multi-round exit $CODE, expected 4 (${ERR:0:200})"; fi
  check "$N1" --supervisor "$x" --json --plan one-round
  if [[ $(jq -c '[.round_trips, .plan, .plan_unused]' <<<"$OUT") == '[1,"one-round",0]' ]]; then ok "$x: one round, every answer used"
  else fail "$x: $(jq -c '[.round_trips, .plan, .plan_unused, .plan_reason]' <<<"$OUT")"; fi
  if [[ $CODE == 4 ]]; then ok "$x: exit 4"; else fail "$x: exit $CODE, expected 4 (${ERR:0:200})"; fi
  reason=$(jq -r ".checks[\"supervisor:$x\"].reason" <<<"$OUT")
  if [[ $reason == "$x is not a supervisor ("* ]]; then ok "$x: $reason"; else fail "$x: reason '$reason'"; fi
done
expect_in "$(check "$N1" --supervisor logger; echo "$OUT")" "logger is not a supervisor (gen_server logger_server)"
expect_in "$(check "$N1" --supervisor harm_plain; echo "$OUT")" "harm_plain is not a supervisor (a plain process (in demo_harm:plain_loop/0))"
after=$(procs "${TARGETS[@]}")
if [[ $before == "$after" && $before == *"<"* ]]; then ok "same ${#TARGETS[@]} pids"
else fail "processes changed:"$'\n'"$before"$'\n'"---"$'\n'"$after"; fi
if connected; then ok "$N1 still connected to $N2"; else fail "$N1 dropped off the distribution"; fi
if empty "${TARGETS[@]}"; then ok "every mailbox empty"; else fail "mailboxes: $after"; fi

test_case "real supervisors still pass: kernel_sup (a supervisor_bridge child is not walked), mnesia_sup"
check "$N1" --supervisor kernel_sup,mnesia_sup --json
expect_code 0
expect_json '.checks["supervisor:kernel_sup"].kind' "supervisor kernel"
expect_json '.checks["supervisor:mnesia_sup"].status' pass

test_case "--governor on processes of every kind, 100 probes each: mailboxes empty, pids unchanged"
GOVS=(harm_plain harm_proclib harm_strict harm_hib cost_guard erl_signal_server mnesia_locker)
before=$(procs "${GOVS[@]}")
runs=100
[[ -n ${BP_SANITIZED:-} ]] && runs=30
PLANS=(one-round multi-round) # every other probe by each plan
for ((i = 0; i < runs; i++)); do
  "$BEAMPROBE" check "$N1" --cookie-file "$COOKIE" --governor "$(IFS=,; echo "${GOVS[*]}")" --plan "${PLANS[i % 2]}" \
    >/dev/null 2>&1 || true
done
after=$(procs "${GOVS[@]}")
if [[ $before == "$after" && $before == *"<"* ]]; then ok "same pids after $runs probes"; else fail "changed:"$'\n'"$before"$'\n'"---"$'\n'"$after"; fi
if empty "${GOVS[@]}"; then ok "every mailbox empty"; else fail "mailboxes: $after"; fi
check "$N1" --governor "$(IFS=,; echo "${GOVS[*]}")" --json --plan one-round
# the target asked exactly what the collector then judged safe to ask: every answer used, one round
expect_json '[.round_trips, .plan, .plan_unused] | tostring' '[1,"one-round",0]'
for g in harm_plain harm_proclib mnesia_locker; do
  expect_json ".checks[\"governor:$g\"].status" fail
  r=$(jq -r ".checks[\"governor:$g\"].reason" <<<"$OUT")
  expect_in "$r" "$g does not handle system messages"
done
expect_json '.checks["governor:harm_plain"].kind' "a plain process (in demo_harm:plain_loop/0)"
expect_json '.checks["governor:harm_strict"].status' pass
expect_json '.checks["governor:harm_hib"].kind' "gen_server demo_harm"
expect_json '.checks["governor:harm_hib"].status' pass
expect_json '.checks["governor:cost_guard"].state' stable
expect_json '.checks["governor:erl_signal_server"].kind' "gen_event"

test_case "typo'd names, a new one per probe: no atom created on the target (binaries, or looked up as existing atoms)"
atoms() { check "$N2" --json; jq .metrics.atom_count <<<"$OUT"; }
a0=$(atoms)
runs=200
[[ -n ${BP_SANITIZED:-} ]] && runs=50
for ((i = 0; i < runs; i++)); do
  "$BEAMPROBE" check "$N2" --cookie-file "$COOKIE" --governor "typo_gov_$$_$i,global:typo_glob_$$_$i" \
    --supervisor "typo_sup_$$_$i" --governors-under "typo_fam_$$_$i" --plan "${PLANS[i % 2]}" >/dev/null 2>&1 || true
done
a1=$(atoms)
if [[ $a0 == "$a1" ]]; then ok "atom_count $a0 before and after $runs probes with new names"; else fail "atom_count $a0 -> $a1"; fi
check "$N2" --governor "typo_gov_$$_x" --json --plan one-round
expect_json '.checks["governor:typo_gov_'$$'_x"].reason' "not registered"
expect_json .round_trips 1
check "$N2" --governor "typo_gov_$$_x" --json --plan multi-round
expect_json '.checks["governor:typo_gov_'$$'_x"].reason' "not registered"

test_case "the whole demo check 1,000 times leaves processes, atoms, ETS tables and mailboxes as they were"
DEMO=(--governor cost_guard,rollback_guard,backlog_valve --supervisor demo_sup,kernel_sup --require-app demo)
counts() { check "$N2" --json "${DEMO[@]}"; jq -c '[.metrics.process_count, .metrics.atom_count, .metrics.ets_count]' <<<"$OUT"; }
qlens() { ceval "$N2" '[element(2, process_info(whereis(N), message_queue_len)) || N <- [cost_guard, rollback_guard, backlog_valve, demo_sup, kernel_sup, application_controller]].'; }
# erl_call's own node name is a new atom on the target: every ceval comes before or after the counts
q0=$(qlens); p0=$(ceval "$N2" '[whereis(N) || N <- [cost_guard, rollback_guard, backlog_valve, demo_sup, kernel_sup]].')
c0=$(counts)
runs=${BP_HARM_RUNS:-1000}
[[ -n ${BP_SANITIZED:-} ]] && runs=${BP_HARM_RUNS_SANITIZED:-200}
for ((i = 0; i < runs; i++)); do
  "$BEAMPROBE" check "$N2" --cookie-file "$COOKIE" "${DEMO[@]}" >/dev/null || { fail "probe $i failed"; break; }
done
c1=$(counts); q1=$(qlens); p1=$(ceval "$N2" '[whereis(N) || N <- [cost_guard, rollback_guard, backlog_valve, demo_sup, kernel_sup]].')
if [[ $c0 == "$c1" ]]; then ok "[processes, atoms, ets] $c0 before and after $runs probes"; else fail "[processes, atoms, ets] $c0 -> $c1"; fi
if [[ $q0 == "$q1" ]]; then ok "message queues $q0 unchanged"; else fail "message queues $q0 -> $q1"; fi
if [[ $p0 == "$p1" ]]; then ok "probed pids unchanged"; else fail "pids $p0 -> $p1"; fi

finish
