#!/usr/bin/env bash
# test_top.sh: check --top N on a real node: a long queue, a big heap and a busy loop each come first in their list, in one round trip, by both plans, leaving no atom and no process behind; bad values refused.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

start_cluster 1
N1=${NODES[0]}
PLAIN="bp$$_topplain@$HOST"
stop_plain() { erl_call -sname "${PLAIN%@*}" -c "$(cat "$COOKIE")" -q >/dev/null 2>&1 || true; }
# shellcheck disable=SC2064 # expanded now on purpose: the paths are known
trap "stop_plain; '$CLUSTER' stop '$DIR' >/dev/null 2>&1 || true; rm -rf '$DIR'" EXIT

# Three processes of the test, linked to nothing: they die with the node (cluster.sh stop, on EXIT).
ceval "$N1" '
  Q = spawn(fun() -> receive stop -> ok end end), [Q ! {msg, I} || I <- lists:seq(1, 1000)], register(top_queue, Q),
  B = spawn(fun() -> Big = lists:seq(1, 500000), receive stop -> length(Big) end end), register(top_big, B),
  Loop = fun L(N) -> L(N + 1) end,
  R = spawn(fun() -> Loop(0) end), register(top_busy, R),
  timer:sleep(100), ok.' >/dev/null

counts() { ceval "$N1" '{erlang:system_info(atom_count), erlang:system_info(process_count)}.'; }
# A node's first probe of any kind adds atoms (about 300 on OTP 25, --top or not: the distribution's
# and the request's first use); --top's own must add none, so the count starts after a plain probe.
check "$N1" >/dev/null
BEFORE=$(counts)

# first_of CATEGORY NAME MIN: the category's first entry is NAME, with a value of at least MIN
first_of() {
  local got
  got=$(jq -r ".top.$1[0] | \"\(.name) \(.value)\"" <<<"$OUT")
  local name=${got% *} value=${got#* }
  if [[ $name == "$2" && $value =~ ^[0-9]+$ ]] && (( value >= $3 )); then ok "$1: $2 first ($value)"
  else fail "$1: first is '$got', expected $2 with >= $3 (${OUT:0:400})"; fi
}

for plan in one-round multi-round; do
  test_case "--top 5, $plan plan"
  check "$N1" --json --top 5 --plan "$plan"
  expect_code 0
  expect_json '.plan' "$plan"
  if [[ $plan == one-round ]]; then
    expect_json '[.round_trips, .plan_unused] | @csv' '1,0'
  else # the --top request goes with round one's calls: no round of its own
    rounds=$(jq .round_trips <<<"$OUT")
    check "$N1" --json --plan "$plan"
    expect_json .round_trips "$rounds"
    check "$N1" --json --top 5 --plan "$plan"
  fi
  expect_json '.top.unavailable' null
  expect_json '.top.window_ms' 100
  expect_json '.top.message_queue_len | length' 5
  first_of message_queue_len top_queue 1000
  first_of memory top_big 4000000
  first_of reductions top_busy 1000
  expect_json '.top.message_queue_len[0].initial_call' 'erlang:apply/2'
  expect_json '(.top.processes > 5) and (.top.probe_memory_bytes > 0)' true
  expect_json '.status' healthy
done

test_case "--plan auto (the default) picks a plan as without --top"
check "$N1" --json
plain_plan=$(jq -r .plan <<<"$OUT")
check "$N1" --json --top 5
expect_json .plan "$plain_plan"
expect_json '.top.message_queue_len[0].name' top_queue

test_case "--top in the text report"
check "$N1" --top 3 --top-window 50ms --plan one-round
expect_code 0
expect_in "$OUT" "1 round trip)"
expect_in "$OUT" "ms window, probe process"
expect_in "$OUT" "longest message queues"
expect_in "$OUT" "top_queue"

test_case "the target keeps its atoms and its processes"
# the probe's connection process goes when the node sees the socket close: give it a moment
for _ in $(seq 20); do AFTER=$(counts); [[ $AFTER == "$BEFORE" ]] && break; sleep 0.1; done
if [[ $AFTER == "$BEFORE" ]]; then ok "{atoms, processes} $AFTER before and after"; else fail "before $BEFORE, after $AFTER"; fi

test_case "a node that never evaluated code: --top loads no module and makes no atom there"
HOME="$DIR/home" erl -sname "${PLAIN%@*}" -noshell -detached
for _ in $(seq 50); do "$BEAMPROBE" check "$PLAIN" --cookie-file "$COOKIE" --probe live >/dev/null 2>&1 && break; sleep 0.1; done
check "$PLAIN" >/dev/null # the first probe's own atoms (see above)
# through rpc (erl_call -a): nothing evaluated on the node
state() {
  erl_call -sname "${PLAIN%@*}" -c "$(cat "$COOKIE")" -a 'code all_loaded' | grep -oE '\{[a-z_0-9]+,' | sort | tr -d '\n'
  erl_call -sname "${PLAIN%@*}" -c "$(cat "$COOKIE")" -a 'erlang system_info [atom_count]'
}
before=$(state)
check "$PLAIN" --json --top 10 --plan one-round
expect_json '[.round_trips, .plan, .plan_unused, .top.unavailable] | tostring' '[1,"one-round",0,null]'
check "$PLAIN" --json --top 10 --plan multi-round
expect_json '.top.unavailable' null
after=$(state)
if [[ -n $before && $before == "$after" ]]; then ok "the same modules and atom count (${after##*,})"
else fail "before: $before; after: $after"; fi

test_case "without --top the report has no top"
check "$N1" --json
expect_json 'has("top")' false

test_case "bad values are refused"
for bad in "--top -1" "--top 51" "--top abc" "--top 5 --top-window 600ms" "--top 5 --timeout 150ms"; do
  # shellcheck disable=SC2086
  check "$N1" $bad
  expect_code 1
done
check "$N1" --top 51
expect_in "$ERR" "between 0 and 50"
check "$N1" --top 5 --top-window 600ms
expect_in "$ERR" "must be at most half of --timeout"
probe serve --top 5 --node "$N1"
expect_code 1
expect_in "$ERR" "does not apply to 'beamprobe serve'"
printf '{"node": ["%s"], "top": 5}\n' "$N1" >"$DIR/top.json"
probe serve --config "$DIR/top.json"
expect_code 1
expect_in "$ERR" "is for 'beamprobe check' alone"
probe cluster --top 5 "$N1"
expect_code 1
expect_in "$ERR" "does not apply to 'beamprobe cluster'"

finish
