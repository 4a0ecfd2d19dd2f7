#!/usr/bin/env bash
# Starts (or reuses) a local 3-node demo cluster and shows beamprobe's report of it; `demo.sh stop` stops it.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIR="$ROOT/.tmp/demo"
CLUSTER="$ROOT/test/fixtures/cluster.sh"
BP="$ROOT/priv/beamprobe"

if [[ ${1:-} == stop ]]; then
  [[ -d $DIR ]] && "$CLUSTER" stop "$DIR"
  rm -rf "$DIR"
  echo "demo: cluster stopped"
  exit 0
fi

[[ -x $BP && -f $ROOT/priv/beamprobe_nif.so ]] || make -s -C "$ROOT/c_src" >/dev/null
if [[ -f $DIR/nodes ]] && "$CLUSTER" status "$DIR" 2>/dev/null | grep -q ' up$' \
   && ! "$CLUSTER" status "$DIR" | grep -qv ' up$'; then
  echo "demo: reusing the running cluster in $DIR"
else
  [[ -d $DIR ]] && "$CLUSTER" stop "$DIR" >/dev/null 2>&1 || true
  rm -rf "$DIR"
  mkdir -p "$DIR"
  "$CLUSTER" start "$DIR" 3 demo >/dev/null
fi
mapfile -t NODES <"$DIR/nodes"
PEERS=$(IFS=,; echo "${NODES[*]}")

run() {
  printf '\n$ %s\n' "beamprobe $*"
  set +e
  "$BP" "$@"
  local code=$?
  set -e
  echo "(exit code $code)"
}

echo "demo: 3 nodes running the demo app: ${NODES[*]}"
echo "demo: cookie file $DIR/cookie"
COMMON=(--cookie-file "$DIR/cookie" --governor cost_guard,rollback_guard,backlog_valve
        --supervisor demo_sup --require-app demo --expect-peers "$PEERS")
run check "${NODES[0]}" "${COMMON[@]}"

echo
echo "demo: pushing backlog_valve on ${NODES[1]} to 'refusing' and probing it:"
"$CLUSTER" eval "$DIR" "${NODES[1]}" 'demo_governor:set_state(backlog_valve, refusing).' >/dev/null
run check "${NODES[1]}" "${COMMON[@]}"
"$CLUSTER" eval "$DIR" "${NODES[1]}" 'demo_governor:set_state(backlog_valve, stable).' >/dev/null

echo
echo "demo: the whole cluster at once (mesh, partitions, quorum):"
run cluster --cookie-file "$DIR/cookie" --nodes "$PEERS" --governor cost_guard,rollback_guard,backlog_valve

# The Erlang API, from inside a demo node: the same report, served by the VM itself.
APP="$DIR/lib/beamprobe"
mkdir -p "$APP/ebin" "$APP/priv"
ln -sf "$ROOT/priv/beamprobe_nif.so" "$APP/priv/beamprobe_nif.so"
erlc -o "$APP/ebin" "$ROOT/src/beamprobe.erl"
echo
echo "demo: the Erlang API inside ${NODES[0]} (what an application's /health handler returns):"
API='beamprobe:health(ready, #{governor => [cost_guard, rollback_guard, backlog_valve], supervisor => demo_sup})'
printf '\n> %s.\n' "$API"
"$CLUSTER" eval "$DIR" "${NODES[0]}" "code:add_patha(\"$APP/ebin\"), $API."

cat <<MSG

demo: the cluster keeps running. Try for example:
  $BP check ${NODES[2]} --cookie-file $DIR/cookie --json
  $BP check ${NODES[2]} --cookie-file $DIR/cookie --probe live
  $BP serve --cookie-file $DIR/cookie --node ${NODES[0]} --listen 127.0.0.1:8080   # then: curl localhost:8080/health/ready, or open http://localhost:8080/ (the status page)
  $CLUSTER eval $DIR ${NODES[0]} 'beamprobe:start_server(#{port => 8081}).'   # the in-VM server; curl localhost:8081/health/live
demo: stop it with: make demo-stop
MSG
