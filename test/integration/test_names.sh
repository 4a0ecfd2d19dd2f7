#!/usr/bin/env bash
# test_names.sh: long node names (-name x@127.0.0.1) and the probe's own C-node name options.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DIR=$(mktemp -d "${TMPDIR:-/tmp}/bp-names.XXXXXX")
mkdir -p "$DIR/home"
head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' >"$DIR/home/.erlang.cookie"
chmod 400 "$DIR/home/.erlang.cookie"
COOKIE="$DIR/home/.erlang.cookie"
NAME="bplong$$"
NODE="$NAME@127.0.0.1"
HOME="$DIR/home" erl -name "$NODE" -noinput -noshell -eval "file:write_file(\"$DIR/pid\", os:getpid())" >/dev/null 2>&1 &
disown
trap 'kill -9 "$(cat "$DIR/pid" 2>/dev/null)" 2>/dev/null || true; rm -rf "$DIR"' EXIT
for _ in $(seq 100); do [[ -s $DIR/pid ]] && epmd -names | grep -q "name $NAME " && break; sleep 0.1; done

test_case "long node name"
check "$NODE" --json
expect_code 0
expect_json .node "$NODE"
expect_json .checks.identity.status pass

test_case "custom C-node name prefix"
check "$NODE" --cnode-name opsprobe --json
expect_code 0
check "$NODE" --cnode-name 'bad name!'
expect_code 1

test_case "pool exhausted: the probe waits for a free name until its deadline, then says so"
# a probe of a SIGSTOPped node holds the only name of a pool of 1 for its whole timeout
kill -STOP "$(cat "$DIR/pid")"
"$BEAMPROBE" check "$NODE" --cookie-file "$COOKIE" --cnode-name holdme --cnode-pool 1 --timeout 800ms >/dev/null 2>&1 &
holder=$!
sleep 0.2
check "$NODE" --cnode-name holdme --cnode-pool 1 --timeout 300ms --json
wait "$holder" || true
kill -CONT "$(cat "$DIR/pid")"
expect_code 2
expect_in "$(jq -r .checks.connection.reason <<<"$OUT")" "probe names holdme_0..holdme_0 are in use"
check "$NODE" --cnode-name holdme --cnode-pool 1 --json
expect_code 0

finish
