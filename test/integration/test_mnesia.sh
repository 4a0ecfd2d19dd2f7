#!/usr/bin/env bash
# test_mnesia.sh: --mnesia on real nodes: two db nodes, one stopped, a table without a loaded copy, a node without mnesia.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

start_cluster 2
N1=${NODES[0]} N2=${NODES[1]}

test_case "a node that never loaded mnesia: a clear failure, and mnesia stays unloaded"
check "$N1" --mnesia --json
expect_code 4
expect_json '.checks.mnesia.reason' "mnesia is not running (not loaded)"
expect_json '.checks.mnesia.running' "not loaded"
loaded=$(ceval "$N1" 'erlang:module_loaded(mnesia).')
if [[ $loaded == false ]]; then ok "mnesia's code was not loaded by the probe"; else fail "module_loaded(mnesia) = $loaded"; fi

test_case "mnesia on two db nodes"
ceval "$N1" 'ok = mnesia:start().' >/dev/null
ceval "$N2" "ok = mnesia:start(), {ok, _} = mnesia:change_config(extra_db_nodes, ['$N1']), ok." >/dev/null
ceval "$N1" "{atomic, ok} = mnesia:create_table(t_both, [{ram_copies, ['$N1', '$N2']}]), {atomic, ok} = mnesia:create_table(t_on2, [{ram_copies, ['$N2']}]), ok." >/dev/null
check "$N1" --mnesia --json
expect_code 0
expect_json '.checks.mnesia.status' pass
expect_json '.checks.mnesia.db_nodes | length' 2
expect_json '.checks.mnesia.tables' 3
expect_json '.checks.mnesia.tables_not_loaded | length' 0
probe cluster --cookie-file "$COOKIE" --nodes "$N1,$N2" --mnesia --json
expect_code 0
expect_json .verdict converged

test_case "mnesia stopped on one db node: the other names it, and t_on2 has no loaded copy"
ceval "$N2" 'stopped = mnesia:stop().' >/dev/null
check "$N1" --mnesia --json
expect_code 4
expect_json '.checks.mnesia.missing_db_nodes | join(",")' "$N2"
expect_json '.checks.mnesia.tables_not_loaded | join(",")' t_on2
expect_in "$(jq -r .checks.mnesia.reason <<<"$OUT")" "1 of 2 db nodes not running mnesia: $N2; 1 table without a loaded copy: t_on2"
check "$N2" --mnesia --json
expect_code 4
expect_json '.checks.mnesia.reason' "mnesia is not running (no)"

test_case "cluster: each node's mnesia view beside the mesh"
probe cluster --cookie-file "$COOKIE" --nodes "$N1,$N2" --mnesia --json
expect_code 4
expect_json "[.nodes[] | {(.node): .mnesia.running}] | add | tostring" "{\"$N1\":\"yes\",\"$N2\":\"no\"}"
expect_json ".nodes[] | select(.node == \"$N1\") | .mnesia.running_db_nodes | join(\",\")" "$N1"
expect_json .verdict degraded
expect_in "$(jq -r .reason <<<"$OUT")" "mnesia incomplete as seen from $N1, $N2"
probe cluster --cookie-file "$COOKIE" --nodes "$N1,$N2" --mnesia
expect_in "$OUT" "mnesia (each node's view):"
expect_in "$OUT" "running on 1 of 2 db nodes, 1 tables without a loaded copy"
expect_in "$OUT" "not running (no)"

test_case "liveness never asks about mnesia"
check "$N1" --mnesia --probe live --json
expect_code 0
expect_json '.checks | has("mnesia")' false

finish
