#!/usr/bin/env bash
# test_serve_ticks.sh: serve's persistent connection survives net_ticktime when probes are further apart.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# net_ticktime 2 s: the node drops a peer it has heard nothing from for about 2 s
# (the watcher counts only the probe's own node: cluster.sh eval connects as a hidden node too)
start_cluster 1 -- -kernel net_ticktime 2
N1=${NODES[0]}
ceval "$N1" 'spawn(fun() -> register(bp_watch, self()), net_kernel:monitor_nodes(true, [{node_type, all}]),
  Ours = fun(N) -> lists:prefix("beamprobe_", atom_to_list(N)) end,
  W = fun Loop(Ups, Downs) -> receive
    {nodeup, N, _} -> case Ours(N) of true -> Loop(Ups + 1, Downs); false -> Loop(Ups, Downs) end;
    {nodedown, N, _} -> case Ours(N) of true -> Loop(Ups, Downs + 1); false -> Loop(Ups, Downs) end;
    {get, P} -> P ! {Ups, Downs}, Loop(Ups, Downs) end end,
  W(0, 0) end), ok.' >/dev/null

LOG=$(mktemp)
"$BEAMPROBE" serve --listen 127.0.0.1:0 --cookie-file "$COOKIE" --node "$N1" --interval 6s 2>"$LOG" &
SPID=$!
trap 'kill -9 $SPID 2>/dev/null || true; rm -f "$LOG"; "$CLUSTER" stop "$DIR" >/dev/null 2>&1 || true; rm -rf "$DIR"' EXIT

test_case "one connection, kept across three tick periods between probes"
sleep 8 # one probe at start, one at 6 s; ticks every 0.5 s in between
counts=$(ceval "$N1" 'bp_watch ! {get, self()}, receive X -> X after 2000 -> timeout end.')
if [[ $counts == "{1,0}" ]]; then ok "nodeup 1, nodedown 0 (got $counts)"; else fail "nodeup/nodedown $counts, expected {1,0}"; fi
if grep -q "down $N1" "$LOG"; then fail "serve logged the node down: $(cat "$LOG")"; else ok "no down in the log"; fi
kill -TERM "$SPID"; wait "$SPID" || true

finish
