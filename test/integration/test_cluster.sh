#!/usr/bin/env bash
# test_cluster.sh: `beamprobe cluster` on real meshes: converged, nodes down, quorum, real partitions, --wait.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# 5 nodes that never reconnect on their own, so a partition made by hand stays made
start_cluster 5 -- -kernel dist_auto_connect never -kernel prevent_overlapping_partitions false
A=${NODES[0]} B=${NODES[1]} C=${NODES[2]} D=${NODES[3]} E=${NODES[4]}
ALL="$A,$B,$C,$D,$E"
cl() { probe cluster --cookie-file "$COOKIE" "$@"; }

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
"$BEAMPROBE" serve --listen 127.0.0.1:0 --cookie-file "$COOKIE" --nodes "$A,$B,$C" --interval 200ms \
  --ready-requires-quorum 2>"$SLOG" &
SPID=$!
for _ in $(seq 100); do PORT=$(sed -n 's/.*on port \([0-9]*\).*/\1/p' "$SLOG"); [[ -n $PORT ]] && break; sleep 0.05; done
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
