#!/usr/bin/env bash
# test_cluster.sh: `beamprobe cluster` on real meshes: converged, nodes down, quorum, real partitions,
# an asymmetric view (held by a relay, test/fixtures/asym_epmd.erl), --wait.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/serve_lib.sh"

# 5 nodes that never reconnect on their own, so a partition made by hand stays made
NODE_ARGS=(-kernel dist_auto_connect never -kernel prevent_overlapping_partitions false)
start_cluster 5 -- "${NODE_ARGS[@]}"
A=${NODES[0]} B=${NODES[1]} C=${NODES[2]} D=${NODES[3]} E=${NODES[4]}
ALL="$A,$B,$C,$D,$E"
cl() { probe cluster --cookie-file "$COOKIE" "$@"; }
# await_peer NODE PEER true|false: wait (5 s at most) until PEER is (true) or is not (false) in
# NODE's nodes(); fails otherwise.
await_peer() {
  local got
  got=$(ceval "$1" "(fun W(K) -> M = lists:member('$2', nodes()),
      if M =:= $3; K =:= 0 -> M; true -> timer:sleep(20), W(K - 1) end end)(250).") || true
  [[ $got == "$3" ]]
}
# eval_is NODE EXPR WANT WHAT: EXPR evaluated on NODE prints WANT.
eval_is() {
  local got
  got=$(ceval "$1" "$2" 2>&1) || true
  if [[ $got == "$3" ]]; then ok "$4"; else fail "$4: $2 on $1 gave '$got', expected '$3'"; fi
}

test_case "3 and 5 nodes, full mesh: converged"
cl --nodes "$A,$B,$C" --json
expect_code 0
expect_json .verdict converged
cl --nodes "$ALL" --json
expect_code 0
expect_json .verdict converged
expect_json '[.nodes[] | select(.reachable)] | length' 5
expect_json '.matrix.rows | length' 5
expect_json '.quorum.holds' true
cl --nodes "$ALL"
expect_code 0
expect_in "$OUT" "converged"

test_case "serve: /health/cluster, cluster metrics, --ready-requires-quorum"
SLOG=$(mktemp)
launch_serve "$SLOG" "$BEAMPROBE" serve --listen 127.0.0.1:0 --cookie-file "$COOKIE" --nodes "$A,$B,$C" --interval 200ms \
  --ready-requires-quorum
[[ -n $PORT ]] || fail "serve did not start: $(cat "$SLOG")"
sleep 0.5
OUT=$(curl -s "http://127.0.0.1:$PORT/health/cluster")
expect_json .verdict converged
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/health/cluster")
[[ $code == 200 ]] && ok "/health/cluster 200" || fail "/health/cluster $code"
expect_in "$(curl -s "http://127.0.0.1:$PORT/metrics")" "beamprobe_cluster_partitions 1"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/health/ready")
[[ $code == 200 ]] && ok "ready with quorum" || fail "ready $code"
kill -TERM "$SPID"; wait "$SPID" || true
rm -f "$SLOG"

test_case "a partition made for real: two components, the larger keeps quorum"
for x in "$A" "$B"; do
  for y in "$C" "$D" "$E"; do
    ceval "$x" "erlang:disconnect_node('$y')." >/dev/null
  done
done
cl --nodes "$ALL" --json
expect_code 4
expect_json .verdict partitioned
expect_json '.partitions | length' 2
expect_json '.quorum.holds' true
for x in "$A" "$B"; do
  for y in "$C" "$D" "$E"; do
    ceval "$x" "net_kernel:connect_node('$y')." >/dev/null
  done
done
cl --nodes "$ALL" --json
expect_code 0
expect_json .verdict converged

test_case "an asymmetric view: X lists B, B does not list X"
# In OTP the two ends of a connection drop it together, so the one-way view is held by hand:
# an extra node X resolves B through asym_epmd (-epmd_module), i.e. connects to B through a TCP
# relay inside X; "freeze" closes the relay's socket to B but keeps X's. B sees the connection
# close and drops X at once; X keeps listing B until its tick times out (net_ticktime, 60 s).
mkdir -p "$DIR/asym"
"$NODE_ERLC" -Wall -Werror -o "$DIR/asym" "$ROOT/test/fixtures/asym_epmd.erl"
X=$("$CLUSTER" start-node "$DIR" "bp$$_asym" -- "${NODE_ARGS[@]}" -epmd_module asym_epmd -pa "$DIR/asym")
ceval "$X" "asym_epmd:relay('$B')." >/dev/null
ceval "$X" "erlang:disconnect_node('$B')." >/dev/null
await_peer "$B" "$X" false || fail "setup: $B still lists $X after the disconnect"
eval_is "$X" "net_kernel:connect_node('$B')." true "X connects to B"
eval_is "$X" "asym_epmd:relayed('$B')." "{ok,1}" "X -> B goes through the relay"
cl --nodes "$X,$B" --json
expect_code 0
expect_json .verdict converged
eval_is "$X" "asym_epmd:freeze('$B')." "{ok,1}" "relay frozen"
if await_peer "$B" "$X" false; then ok "$B dropped $X"; else fail "$B still lists $X after the freeze"; fi
if await_peer "$X" "$B" true; then ok "$X still lists $B"; else fail "$X no longer lists $B"; fi
cl --nodes "$X,$B" --json
expect_code 4
expect_json .verdict degraded
expect_json '.asymmetric | tojson' "[[\"$X\",\"$B\"]]"
expect_json "[.nodes[] | select(.node == \"$X\") | .sees | index(\"$B\") != null][0]" true
expect_json "[.nodes[] | select(.node == \"$B\") | .sees | index(\"$X\") != null][0]" false
expect_json '.partitions | length' 1
expect_in "$(jq -r .reason <<<"$OUT")" "asymmetric: $X sees $B but not the reverse"
cl --nodes "$X,$B"
expect_code 4
expect_in "$OUT" "asymmetric: $X sees $B (not back)"
expect_in "$OUT" "verdict: degraded"
cl --nodes "$ALL,$X" --json   # the whole cluster: that pair and no other
expect_code 4
expect_json '.asymmetric | tojson' "[[\"$X\",\"$B\"]]"
if await_peer "$X" "$B" true; then ok "$X still lists $B after the probes"; else fail "$X dropped $B during the probes"; fi
# X told to disconnect: nobody sees anybody across the pair, so no asymmetry (a missing link instead)
ceval "$X" "erlang:disconnect_node('$B')." >/dev/null
await_peer "$X" "$B" false || fail "$X still lists $B after the disconnect"
cl --nodes "$X,$B" --json
expect_code 4
expect_json '.asymmetric | length' 0
# healed (through the relay again): converged
eval_is "$X" "net_kernel:connect_node('$B')." true "X reconnects to B"
await_peer "$B" "$X" true || fail "$B does not list $X after the reconnect"
cl --nodes "$X,$B" --json
expect_code 0
expect_json .verdict converged
"$CLUSTER" kill-node "$DIR" "${X%@*}" >/dev/null

test_case "one node down: degraded, quorum holds; --allow-degraded exits 0"
"$CLUSTER" kill-node "$DIR" "${E%@*}" >/dev/null
cl --nodes "$ALL" --json
expect_code 4
expect_json .verdict degraded
expect_json '.quorum.holds' true
cl --nodes "$ALL" --allow-degraded
expect_code 0

test_case "two of five down: still quorum"
"$CLUSTER" kill-node "$DIR" "${D%@*}" >/dev/null
cl --nodes "$ALL" --json
expect_code 4
expect_json .verdict degraded
expect_json '.quorum.holds' true

test_case "three of five down: no quorum"
"$CLUSTER" kill-node "$DIR" "${C%@*}" >/dev/null
cl --nodes "$ALL" --json
expect_code 4
expect_json .verdict no_quorum
expect_json '.quorum.holds' false

test_case "nothing reachable: exit 2"
cl --nodes "ghost1_$$@$HOST,ghost2_$$@$HOST" --json
expect_code 2
expect_json .verdict unreachable

test_case "a SIGSTOPped member is reported within the deadline"
PID=$(cat "$DIR/${B%@*}.pid")
kill -STOP "$PID"
cl --nodes "$A,$B" --timeout 500ms --json
kill -CONT "$PID"
expect_code 4
expect_le "$MS" 800 "wall ms"
expect_json "[.nodes[] | select(.node == \"$B\") | .reachable][0]" false

test_case "a node added: --wait sees it join and converge"
"$CLUSTER" start-node "$DIR" "${C%@*}" >/dev/null
"$CLUSTER" start-node "$DIR" "${D%@*}" >/dev/null
WAITLOG=$(mktemp)
"$BEAMPROBE" cluster --cookie-file "$COOKIE" --nodes "$A,$B,$C,$D,$E" --wait 30s >"$WAITLOG" 2>&1 &
waiter=$!
sleep 1.5
"$CLUSTER" start-node "$DIR" "${E%@*}" >/dev/null
code=0; wait "$waiter" || code=$?
if [[ $code == 0 ]]; then ok "--wait exit 0"; else fail "--wait exit $code: $(cat "$WAITLOG")"; fi
expect_in "$(cat "$WAITLOG")" "joined"
expect_in "$(cat "$WAITLOG")" "converged"
rm -f "$WAITLOG"

test_case "--wait gives up with exit 4 when the cluster stays incomplete"
cl --nodes "$A,$B,ghost_$$@$HOST" --wait 2s
expect_code 4

test_case "EPMD discovery finds the cluster's nodes"
cl --epmd-host "$HOST" --expect-nodes "$ALL" --json
for x in "$A" "$B" "$C"; do
  expect_json "[.nodes[] | select(.node == \"$x\") | .reachable][0]" true
done

test_case "bad input"
cl
expect_code 1
cl --nodes "$A" --wait soon
expect_code 1
cl --epmd-host "no-such-host.invalid"
expect_code 1

finish
