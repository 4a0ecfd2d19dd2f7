#!/usr/bin/env bash
# test_oneround.sh: every probe kind in one round trip after the handshake (the one-round plan), and the multi-round fallback.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

start_cluster 2
N1=${NODES[0]} N2=${NODES[1]}
PLAIN="bp$$_plain@$HOST"
stop_plain() { erl_call -sname "${PLAIN%@*}" -c "$(cat "$COOKIE")" -q >/dev/null 2>&1 || true; }
trap "stop_plain; '$CLUSTER' stop '$DIR' >/dev/null 2>&1 || true; rm -rf '$DIR'" EXIT

ceval "$N1" 'demo_harm:start_all(), demo_truth:start_tenants(3), demo_truth:global_governor(), timer:sleep(200).' >/dev/null
ceval "$N1" 'demo_harm:mnesia_start().' >/dev/null

# one_round ARGS...: the probe takes one round trip, by the one-round plan, and every answer of the target was used
one_round() {
  check "$N1" --json --plan one-round "$@"
  local got
  got=$(jq -c '[.round_trips, .plan, .plan_unused]' <<<"$OUT")
  if [[ $got == '[1,"one-round",0]' ]]; then ok "1 round trip: $*"; else fail "$*: [round_trips, plan, plan_unused] = $got (${OUT:0:300})"; fi
}

test_case "each probe kind in one round trip"
one_round --probe startup
one_round --probe live
one_round
one_round --require-app demo --expect-size 2
one_round --check-mfa demo:check_ok
one_round --mnesia
expect_json '.checks.mnesia.status' pass

test_case "governors (a gen_statem, a hibernated gen_server, a plain process refused) in one round trip"
one_round --governor cost_guard,rollback_guard,backlog_valve
expect_json '.checks["governor:cost_guard"].state' stable
one_round --governor harm_hib,cost_guard,harm_plain
expect_json '.checks["governor:harm_hib"].kind' "gen_server demo_harm"
expect_json '.checks["governor:harm_hib"].status' pass
expect_json '.checks["governor:harm_plain"].status' fail
one_round --governor global:global_gov
expect_json '.checks["governor:global:global_gov"].kind' "gen_statem demo_governor"
one_round --governors-under tenant_sup
expect_json '.checks["governors:tenant_sup"].states.stable' 3
one_round --governor gproc:cost_guard
expect_json '.checks["governors:gproc:cost_guard"].reason' "gproc is not running on the target (no gproc module)"

test_case "supervisors walked to --supervisor-depth in one round trip"
one_round --supervisor kernel_sup,demo_sup --supervisor-depth 5
expect_json '.checks["supervisor:kernel_sup"].nested > 0' true
nested=$(jq '.checks["supervisor:kernel_sup"].nested' <<<"$OUT")
check "$N1" --json --supervisor kernel_sup,demo_sup --supervisor-depth 5 --plan multi-round
expect_json '.checks["supervisor:kernel_sup"].nested' "$nested"
one_round --supervisor logger,harm_strict
expect_json '.checks["supervisor:logger"].reason' "logger is not a supervisor (gen_server logger_server)"

test_case "everything at once: one round trip, the same verdicts as the multi-round plan"
ALL=(--governor cost_guard,rollback_guard,backlog_valve,harm_hib --supervisor demo_sup,kernel_sup --require-app demo
     --expect-size 2 --mnesia --check-mfa demo:check_ok --governors-under tenant_sup)
one_round "${ALL[@]}"
one=$(jq -c '[.status, (.checks | to_entries | map({(.key): .value.status}) | add)]' <<<"$OUT")
check "$N1" --json "${ALL[@]}" --plan multi-round
multi=$(jq -c '[.status, (.checks | to_entries | map({(.key): .value.status}) | add)]' <<<"$OUT")
if [[ $one == "$multi" ]]; then ok "same verdicts: $one"; else fail "one-round $one, multi-round $multi"; fi
expect_json .plan multi-round
expect_json .plan_reason "--plan multi-round"
expect_json '.round_trips > 3' true
probe check "$N1" --cookie-file "$COOKIE" "${ALL[@]}" --plan multi-round
expect_in "$OUT" "round trips, multi-round plan)"

test_case "--plan auto on loopback: the TCP connect is fast, so the multi-round plan, and the same verdicts"
check "$N1" --json "${ALL[@]}" --plan auto
auto=$(jq -c '[.status, (.checks | to_entries | map({(.key): .value.status}) | add)]' <<<"$OUT")
if [[ $auto == "$multi" ]]; then ok "same verdicts as both plans"; else fail "auto $auto, multi-round $multi"; fi
# a loopback connect takes some 0.05 ms; a preempted one may take longer, and then auto must say so
if [[ $(jq '.connect_rtt_ms < 0.5' <<<"$OUT") == true ]]; then
  expect_json .plan multi-round
  expect_json '.plan_reason | test("^auto: the TCP connect took [0-9.]+ ms, under 0.5 ms$")' true
else
  expect_json .plan one-round
  expect_json '.plan_reason | test("^auto: the TCP connect took [0-9.]+ ms, at least 0.5 ms$")' true
fi
probe check "$N1" --cookie-file "$COOKIE" --governor cost_guard --plan auto
if [[ $OUT != *"(multi-round plan:"* ]]; then ok "auto's choice is not reported as news in the text"; else fail "text: $OUT"; fi

test_case "a typo'd name creates no atom on the target, with either plan"
for plan in one-round multi-round; do
  # the first probe may make the fixed atoms of --mnesia's questions once (mnesia is not running there)
  check "$N2" --json --mnesia --plan "$plan" >/dev/null
  check "$N2" --json
  a0=$(jq .metrics.atom_count <<<"$OUT")
  for i in 1 2 3; do
    check "$N2" --governor "no_such_gov_${plan}_$$_$i,global:no_such_glob_${plan}_$$_$i" --supervisor "no_such_sup_${plan}_$$_$i" \
      --governors-under "no_such_fam_${plan}_$$_$i" --mnesia --plan "$plan" >/dev/null
  done
  check "$N2" --json
  a1=$(jq .metrics.atom_count <<<"$OUT")
  if [[ $a0 == "$a1" ]]; then ok "$plan: atom_count $a0 unchanged"; else fail "$plan: atom_count $a0 -> $a1"; fi
done

test_case "a node that never evaluated code: one round, and not one module loaded by the probe"
HOME="$DIR/home" erl -sname "${PLAIN%@*}" -noshell -detached
for _ in $(seq 50); do "$BEAMPROBE" check "$PLAIN" --cookie-file "$COOKIE" --probe live >/dev/null 2>&1 && break; sleep 0.1; done
# code:all_loaded/0 through rpc (erl_call -a): a remote call, nothing evaluated on the node
modules() { erl_call -sname "${PLAIN%@*}" -c "$(cat "$COOKIE")" -a 'code all_loaded' | grep -oE '\{[a-z_0-9]+,' | sort | tr -d '\n'; }
before=$(modules)
check "$PLAIN" --json --governor no_such_gov --governors-under no_such_fam --mnesia --require-app kernel --plan one-round
expect_json '[.round_trips, .plan, .plan_unused] | tostring' '[1,"one-round",0]'
after=$(modules)
if [[ -n $before && $before == "$after" ]]; then ok "the same $(grep -o '{' <<<"$before" | wc -l) modules loaded"
else fail "modules loaded by the probe: $(comm -13 <(tr ',' '\n' <<<"$before" | sort) <(tr ',' '\n' <<<"$after" | sort) | tr '\n' ' ')"; fi
# asking a supervisor its state: the supervisor itself loads sys to answer the system message (either plan)
check "$PLAIN" --json --supervisor kernel_sup --plan one-round
expect_json '[.round_trips, .plan, .plan_unused, .checks["supervisor:kernel_sup"].status] | tostring' '[1,"one-round",0,"pass"]'
new_modules=$(comm -13 <(tr ',' '\n' <<<"$after" | sort) <(modules | tr ',' '\n' | sort) | tr -d '\n')
if [[ $new_modules == "" || $new_modules == "{sys" ]]; then ok "nothing but sys loaded: '$new_modules'"; else fail "loaded: $new_modules"; fi
loaded=$(erl_call -sname "${PLAIN%@*}" -c "$(cat "$COOKIE")" -a 'erlang module_loaded [erl_anno]')
if [[ $loaded == false ]]; then ok "erl_anno (erl_lint's, for funs) still not loaded"; else fail "erl_anno loaded"; fi

finish
