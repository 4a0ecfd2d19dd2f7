#!/usr/bin/env bash
# test_real_names.sh: nodes reported by the names they state: bare alive names on this host, addresses, localhost, EPMD discovery, serve.
#
# A short-named cluster of 3 (NAME@$(hostname -s)) and one long-named node (-name NAME@127.0.0.1),
# probed by names they do not use: `check app` (the Kubernetes exec probe), `check app@localhost`,
# `cluster --epmd-host 127.0.0.1|localhost`, `cluster --nodes` by address, `serve --node app`.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/serve_lib.sh"

start_cluster 3
P="bp$$"
LDIR=$(mktemp -d "${TMPDIR:-/tmp}/bp-long.XXXXXX")
SPID=""
cleanup() {
  if [[ -n $SPID ]]; then kill "$SPID" 2>/dev/null || true; wait "$SPID" 2>/dev/null || true; fi
  "$CLUSTER" stop "$LDIR" >/dev/null 2>&1 || true
  "$CLUSTER" stop "$DIR" >/dev/null 2>&1 || true
  rm -rf "$LDIR" "$DIR"
}
trap cleanup EXIT # replaces start_cluster's trap: stops both clusters
BP_NODE_HOST=127.0.0.1 "$CLUSTER" start "$LDIR" 1 "bpl$$" >/dev/null
LONG="bpl$$_1@127.0.0.1"
cl() { probe cluster --cookie-file "$COOKIE" "$@"; }

test_case "check by the alive name alone (short names): the node's own name, given_as the alive name"
check "${P}_1" --json
expect_code 0
expect_json .node "${NODES[0]}"
expect_json .given_as "${P}_1"
expect_json .status healthy
check "${P}_1"
expect_code 0
expect_in "$(head -1 <<<"$OUT")" "${NODES[0]}: HEALTHY"
expect_in "$OUT" $'\n'"(given as ${P}_1)"$'\n'

test_case "check by the alive name alone (long names)"
probe check --cookie-file "$LDIR/cookie" "bpl$$_1" --json
expect_code 0
expect_json .node "$LONG"
expect_json .given_as "bpl$$_1"

test_case "the README's liveness exec probe"
check "${P}_2" --probe live --timeout 800ms
expect_code 0

test_case "an alive name nobody registered: exit 2, and what is registered"
check "nosuch$$" --json
expect_code 2
expect_json .node "nosuch$$"
expect_in "$(jq -r .checks.connection.reason <<<"$OUT")" "no node named nosuch$$ registered with EPMD on this host (localhost): registered are "
check "nosuch$$"
expect_code 2
expect_in "$OUT$ERR" "no node named nosuch$$ registered with EPMD on this host"

test_case "check NAME@localhost and NAME@127.0.0.1: the real name, the given one said once"
for given in "${P}_1@localhost" "${P}_1@127.0.0.1"; do
  check "$given" --json --expect-peers "${NODES[1]},${NODES[2]}"
  expect_code 0
  expect_json .node "${NODES[0]}"
  expect_json .given_as "$given"
  expect_json .checks.membership.status pass
done
check "${NODES[0]}" --json
expect_code 0
expect_json .given_as null

test_case "cluster --epmd-host 127.0.0.1 and localhost: converged on the nodes' own names"
for epmd in 127.0.0.1 localhost; do
  cl --epmd-host "$epmd" --node-basename "$P" --json
  expect_code 0
  expect_json .verdict converged
  expect_json '[.nodes[].node] | join(" ")' "${NODES[*]}"
  expect_json '[.nodes[].given_as] | join(" ")' "${P}_1@$epmd ${P}_2@$epmd ${P}_3@$epmd"
  expect_json '[.nodes[].sees | length] | join(" ")' "2 2 2"
done
cl --epmd-host 127.0.0.1 --node-basename "$P"
expect_code 0
expect_in "$OUT" "verdict: converged: all 3 expected nodes up, full mesh"
expect_in "$OUT" "given as: ${P}_1@127.0.0.1 is ${NODES[0]}, "

test_case "cluster --nodes and --expect-nodes by address, localhost and alive name"
cl --nodes "${P}_1@127.0.0.1,${P}_2,${P}_3@localhost" --expect-nodes "${P}_1@127.0.0.1,${NODES[1]},${P}_3@localhost" --json
expect_code 0
expect_json .verdict converged
expect_json '.expected.nodes | join(" ")' "${NODES[*]}"
expect_json '.nodes | length' 3

test_case "serve --node ALIVE: bodies, metrics labels and logs name the node as it states itself"
SLOG="$DIR/serve.log"
launch_serve "$SLOG" "$BEAMPROBE" serve --listen 127.0.0.1:0 --cookie-file "$COOKIE" --node "${P}_1" --interval 200ms
[[ -n $PORT ]] || fail "serve did not start: $(cat "$SLOG")"
for _ in $(seq 100); do
  OUT=$(curl -s -m 2 "http://127.0.0.1:$PORT/health" || true)
  [[ $(jq -r .node <<<"$OUT" 2>/dev/null) == "${NODES[0]}" ]] && break
  sleep 0.05
done
expect_json .node "${NODES[0]}"
expect_json .given_as "${P}_1"
OUT=$(curl -s -m 2 "http://127.0.0.1:$PORT/health/live" || true)
expect_json .node "${NODES[0]}"
OUT=$(curl -s -m 2 "http://127.0.0.1:$PORT/metrics" || true)
expect_in "$OUT" "beamprobe_up{node=\"${NODES[0]}\"} 1"
expect_in "$OUT" "beamprobe_report_age_seconds{node=\"${NODES[0]}\"}"
if grep -q "node=\"${P}_1\"" <<<"$OUT"; then fail "a label names ${P}_1"; else ok "no label names ${P}_1"; fi
kill -TERM "$SPID"
wait "$SPID" || fail "serve exit $?"
SPID=""
if grep -q -e Sanitizer -e "runtime error" "$SLOG"; then fail "sanitizer report: $(head -20 "$SLOG")"; fi

finish
