#!/usr/bin/env bash
# test_otp_releases.sh: check, cluster, serve and TLS distribution against OTP 27 nodes and mixed 25/27 clusters.
# OTP 27 is Debian 13's, installed by scripts/otp-release.sh fetch 27 (scripts/install-deps.sh); without
# it the test skips, saying so. The demo app's beams are compiled by the system's OTP 25 and load on 27.
# The same runs against OTP 29 (Debian forky's, scripts/otp-release.sh fetch 29) when installed;
# BP_OTP_RELEASE=27 or 29 runs one release only.
# BP_OTP_CORE=1 also runs the core tests (check, cluster, serve, TLS, mnesia, truth, NIF) on that release's nodes.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/serve_lib.sh"

# without BP_OTP_RELEASE: once per release scripts/install-deps.sh installs (27, and 29 when it could)
if [[ -z ${BP_OTP_RELEASE:-} ]]; then
  rc=0
  for rel in 27 29; do
    echo "  --- OTP $rel"
    BP_OTP_RELEASE=$rel bash "${BASH_SOURCE[0]}" || rc=1
  done
  exit $rc
fi
REL=$BP_OTP_RELEASE
if ! NEW_ERL=$("$ROOT/scripts/otp-release.sh" path "$REL" 2>/dev/null); then
  echo "  skip  OTP $REL is not installed (scripts/otp-release.sh fetch $REL; scripts/install-deps.sh installs 27 and 29): nothing tested"
  exit 0
fi
BASE_OTP=$(erl -noshell -noinput -eval 'io:format("~s", [erlang:system_info(otp_release)]), halt().' </dev/null)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/bp-otp.XXXXXX")
PKI="$WORK/pki"
DIRS=() SPID=""
cleanup() {
  local d
  [[ -z $SPID ]] || kill -9 "$SPID" 2>/dev/null || true
  for d in "${DIRS[@]}"; do "$CLUSTER" stop "$d" >/dev/null 2>&1 & done
  wait
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fixture_fail() { FAILED=$((FAILED + 1)); printf '  FAIL  fixture: %s\n' "$1"; finish || true; exit 1; }

# mixed KEY OTP_FIRST OTP_REST N ERL_ARGS...: a cluster in WORK/KEY of N nodes, the first started by
# OTP_FIRST's erl, the others (start-node, joining the mesh) by OTP_REST's; prints nothing.
erl_of() { if [[ $1 == "$REL" ]]; then echo "$NEW_ERL"; else echo erl; fi; }
mixed() {
  local key=$1 first=$2 rest=$3 n=$4 i; shift 4
  local d="$WORK/$key"
  mkdir -p "$d"
  BP_ERL=$(erl_of "$first") "$CLUSTER" start "$d" 1 "bp$$$key" -- "$@" >"$WORK/$key.start" 2>&1 \
    || { cat "$WORK/$key.start"; tail -n 20 "$d"/*.log; fixture_fail "$key: first node did not start"; }
  for i in $(seq 2 "$n"); do
    BP_ERL=$(erl_of "$rest") "$CLUSTER" start-node "$d" "bp$$${key}_$i" >>"$WORK/$key.start" 2>&1 \
      || { cat "$WORK/$key.start"; tail -n 20 "$d"/*.log; fixture_fail "$key: node $i did not start"; }
  done
}
otp_of() { "$CLUSTER" eval "$1" "$2" 'erlang:system_info(otp_release).' 2>&1 | tr -d '"'; }

"$ROOT/test/fixtures/tls/certs.sh" "$PKI" 2>"$WORK/certs.err" || fixture_fail "certs.sh: $(cat "$WORK/certs.err")"
# the main cluster: base release, REL, REL (no automatic reconnects, so a partition made by hand stays made);
# the TLS cluster: REL then the base release, mutual TLS. Both start at once.
DIRS+=("$WORK/mesh" "$WORK/tls")   # made by the background starts below
mixed mesh "$BASE_OTP" "$REL" 3 -kernel dist_auto_connect never -kernel prevent_overlapping_partitions false &
mesh_pid=$!
mixed tls "$REL" "$BASE_OTP" 2 -proto_dist inet_tls -ssl_dist_optfile "$PKI/mtls.conf" &
tls_pid=$!
wait "$mesh_pid" || exit 1
wait "$tls_pid" || exit 1
DIR=$WORK/mesh COOKIE=$WORK/mesh/cookie
mapfile -t NODES <"$DIR/nodes"
A=${NODES[0]} B=${NODES[1]} C=${NODES[2]}
mapfile -t TNODES <"$WORK/tls/nodes"
TNEW=${TNODES[0]} TBASE=${TNODES[1]}

test_case "the nodes run the releases asked for"
got="$(otp_of "$DIR" "$A") $(otp_of "$DIR" "$B") $(otp_of "$DIR" "$C") $(otp_of "$WORK/tls" "$TNEW") $(otp_of "$WORK/tls" "$TBASE")"
if [[ $got == "$BASE_OTP $REL $REL $REL $BASE_OTP" ]]; then ok "$got"; else fail "otp_release of $A $B $C $TNEW $TBASE: $got"; fi

test_case "check on an OTP $REL node: every check passes"
# OTP 27's supervisors hibernate once started in erlang:hibernate/3 (empty stack: their kind is proven
# by their module's -behaviour, which the one-round request reads in the same round); OTP 29's
# hibernate inside gen_server:loop_hibernate/4 (stack kept); 25's wait in gen_server:loop/7
hib=$(ceval "$B" '[element(2, hd(erlang:process_info(whereis(S), [current_function]))) || S <- [demo_sup, demo_worker_sup]].')
case $hib in
  "[{erlang,hibernate,3},{erlang,hibernate,3}]") ok "demo's supervisors hibernate (erlang:hibernate/3)" ;;
  "[{gen_server,loop_hibernate,4},{gen_server,loop_hibernate,4}]") ok "demo's supervisors hibernate (gen_server:loop_hibernate/4)" ;;
  *) fail "demo's supervisors: $hib" ;;
esac
GOVS=(--governor cost_guard,rollback_guard,backlog_valve)
check "$B" "${GOVS[@]}" --supervisor demo_sup --require-app demo,kernel,stdlib --expect-peers "$A,$C" --json --plan one-round
expect_code 0
expect_json .status healthy
expect_json '.checks.identity.otp_release' "$REL"
expect_json '[.checks[].status] | unique | join(",")' pass
expect_json '.checks["governor:cost_guard"].state' stable
expect_json '.checks["supervisor:demo_sup"].kind' "supervisor demo_sup"
expect_json '.checks.membership.visible | length' 2
expect_json '.metrics.ets_count > 0' true
expect_json '.checks.limits.ets.limit' null   # the ETS count is not limited since OTP 20
expect_json '.round_trips' 1   # the one-round request runs on this release too
expect_json '.plan' one-round
expect_json '.plan_unused' 0
check "$B" "${GOVS[@]}" --supervisor demo_sup --plan multi-round --json
expect_code 0
expect_json '.round_trips' 6   # woken by the probe above: the names' atoms, whereis, proof, questions, then the nested level's proof and questions
expect_json '[.checks[].status] | unique | join(",")' pass

test_case "OTP $REL: kernel's own supervisors, strictly (kernel_sup's on_load child is stopped by design)"
check "$B" --supervisor kernel_sup,logger_sup,net_sup,kernel_safe_sup --supervisor-strict --json
expect_code 0
expect_json '.checks["supervisor:kernel_sup"].status' pass
expect_json '.checks["supervisor:kernel_sup"].children_stopped | length' 0
expect_json '.checks["supervisor:net_sup"].status' pass
check "$A" --supervisor kernel_sup,logger_sup,net_sup,kernel_safe_sup --supervisor-strict --json
expect_code 0

test_case "OTP $REL: a governor pushed to refusing, a stopped child, a stopped application"
ceval "$B" 'demo_governor:set_state(cost_guard, refusing).' >/dev/null
ceval "$B" 'demo:stop_worker(worker_2).' >/dev/null
check "$B" "${GOVS[@]}" --supervisor demo_sup --supervisor-strict --json
expect_code 4
expect_json '.checks["governor:cost_guard"].status' fail
expect_json '.checks["supervisor:demo_sup"].children_stopped[0].child' worker_2
ceval "$B" 'demo_governor:set_state(cost_guard, stable).' >/dev/null
ceval "$B" 'demo:restart_worker(worker_2).' >/dev/null
check "$B" "${GOVS[@]}" --supervisor demo_sup --supervisor-strict --json
expect_code 0
check "$B" --require-app runtime_tools --json
expect_code 4
expect_json '.checks.applications.status' fail

test_case "OTP $REL: memory and limits thresholds"
check "$B" --memory-limit 1MiB --json
expect_code 4
expect_json '.checks.memory.status' fail
check "$B" --atom-warn 0.001 --atom-fail 0.002 --json
expect_code 4
expect_json '.checks.limits.status' fail

test_case "OTP $REL: mnesia on two $REL db nodes"
ceval "$B" 'ok = mnesia:start().' >/dev/null
ceval "$C" "ok = mnesia:start(), {ok, _} = mnesia:change_config(extra_db_nodes, ['$B']), ok." >/dev/null
ceval "$B" "{atomic, ok} = mnesia:create_table(t_otp, [{ram_copies, ['$B', '$C']}]), ok." >/dev/null
check "$B" --mnesia --json
expect_code 0
expect_json '.checks.mnesia.db_nodes | length' 2
expect_json '.checks.mnesia.tables' 2
# mnesia running and gproc absent, in the one-round request: mnesia's atoms and gproc's travel as
# binaries, and a release's bare VM need not have them (test_oneround_safe.sh)
check "$B" --mnesia --governor gproc:bp_tag,cost_guard --json --plan one-round
expect_json '.round_trips' 1
expect_json '.plan' one-round
expect_json '.plan_unused' 0
expect_json '.checks.mnesia.tables' 2
expect_json '.checks["governor:cost_guard"].state' stable
ceval "$C" 'stopped = mnesia:stop().' >/dev/null
check "$B" --mnesia --json
expect_code 4
expect_json '.checks.mnesia.missing_db_nodes | join(",")' "$C"

test_case "cluster $BASE_OTP/$REL/$REL: converged"
probe cluster --cookie-file "$COOKIE" --nodes "$A,$B,$C" --json
expect_code 0
expect_json .verdict converged
expect_json '[.nodes[].report.checks.identity.otp_release] | join(",")' "$BASE_OTP,$REL,$REL"

test_case "cluster $BASE_OTP/$REL/$REL: the $BASE_OTP node cut off, then healed"
for y in "$B" "$C"; do ceval "$A" "erlang:disconnect_node('$y')." >/dev/null; done
probe cluster --cookie-file "$COOKIE" --nodes "$A,$B,$C" --json
expect_code 4
expect_json .verdict partitioned
expect_json '.partitions | length' 2
expect_json '.quorum.holds' true
expect_json "[.nodes[] | select(.node == \"$A\") | .sees | length][0]" 0
for y in "$B" "$C"; do ceval "$A" "net_kernel:connect_node('$y')." >/dev/null; done
probe cluster --cookie-file "$COOKIE" --nodes "$A,$B,$C" --json
expect_code 0
expect_json .verdict converged

test_case "serve over $BASE_OTP/$REL/$REL"
SLOG="$WORK/serve.log"
launch_serve "$SLOG" "$BEAMPROBE" serve --listen 127.0.0.1:0 --cookie-file "$COOKIE" --nodes "$A,$B,$C" --interval 200ms
[[ -n $PORT ]] || fixture_fail "serve did not start: $(head -c 400 "$SLOG")"
code=000
for _ in $(seq 60); do
  code=$(curl -s -m 2 -o "$WORK/cluster.json" -w '%{http_code}' "http://127.0.0.1:$PORT/health/cluster") || true
  [[ $code == 200 ]] && break
  sleep 0.1
done
OUT=$(cat "$WORK/cluster.json" 2>/dev/null || true)
if [[ $code == 200 ]]; then ok "/health/cluster 200"; else fail "/health/cluster $code: ${OUT:0:300}"; fi
expect_json .verdict converged
metrics=$(curl -s -m 2 "http://127.0.0.1:$PORT/metrics") || true
expect_in "$metrics" "otp_release=\"$REL\""
expect_in "$metrics" "otp_release=\"$BASE_OTP\""
kill -TERM "$SPID" 2>/dev/null || true; wait "$SPID" 2>/dev/null || true; SPID=""

test_case "TLS distribution: an OTP $REL node with mutual TLS"
TCOOKIE=$WORK/tls/cookie
CA=(--tls-cafile "$PKI/ca.pem")
CLIENT=(--tls-certfile "$PKI/client.pem" --tls-keyfile "$PKI/client.key")
probe check --cookie-file "$TCOOKIE" "$TNEW" --dist-tls "${CA[@]}" "${CLIENT[@]}" --governor cost_guard \
  --supervisor demo_sup --json --plan one-round
expect_code 0
expect_json .status healthy
expect_json '.checks.identity.otp_release' "$REL"
expect_json '.round_trips' 1   # the one-round request over TLS distribution too
expect_json '.plan' one-round
expect_json '.plan_unused' 0
probe check --cookie-file "$TCOOKIE" "$TNEW" --dist-tls "${CA[@]}" --timeout 1s
expect_code 2
expect_in "$ERR" "client certificate"
probe check --cookie-file "$TCOOKIE" "$TNEW" --timeout 1s
expect_code 2
expect_in "$ERR" "--dist-tls"

test_case "TLS distribution: cluster $REL/$BASE_OTP over mutual TLS"
probe cluster --cookie-file "$TCOOKIE" --dist-tls "${CA[@]}" "${CLIENT[@]}" --nodes "$TNEW,$TBASE" --json
expect_code 0
expect_json .verdict converged
expect_json '[.nodes[].report.checks.identity.otp_release] | join(",")' "$REL,$BASE_OTP"

test_case "the NIF built against OTP $BASE_OTP loads in an OTP $REL VM and probes the mixed cluster"
NIF_SO=$ROOT/priv/beamprobe_nif.so
if [[ -n ${BP_SANITIZED:-} || ! -f $NIF_SO ]]; then
  echo "  note  NIF case runs with the regular build only (the sanitized NIF needs libasan in the VM)"
else
  APP=$WORK/lib/beamprobe
  mkdir -p "$APP/ebin" "$APP/priv" && ln -sf "$NIF_SO" "$APP/priv/beamprobe_nif.so"
  "$(dirname "$NEW_ERL")/erlc" -o "$APP/ebin" "$ROOT/src/beamprobe.erl"
  # the report map printed by OTP $REL's own json module
  OUT=$(HOME="$DIR/home" timeout 30 "$NEW_ERL" -noshell -sname "bp$$_nif" -pa "$APP/ebin" -eval "
    R = beamprobe:cluster(#{node => ['$A', '$B', '$C'], timeout => 3000}),
    io:format(\"~s\", [try json:encode(R) catch _:_ -> io_lib:format(\"~p\", [R]) end]), halt()." 2>&1) || true
  expect_json .verdict converged
  expect_json '[.nodes[].report.checks.identity.otp_release] | join(",")' "$BASE_OTP,$REL,$REL"
  [[ $OUT == "{"* ]] || echo "  nif output: ${OUT:0:400}"
fi

# BP_OTP_CORE=1: the core integration tests once more with every node on OTP $REL (about 90 s more,
# so not by default; docs/RELIABILITY.md, "OTP releases", has the last results)
if [[ -n ${BP_OTP_CORE:-} ]]; then
  for t in test_check test_cluster test_serve test_dist_tls test_mnesia test_truth test_nif; do
    test_case "$t.sh with OTP $REL nodes"
    if BP_ERL=$NEW_ERL bash "$ROOT/test/integration/$t.sh" >"$WORK/$t.out" 2>&1; then
      ok "$(tail -1 "$WORK/$t.out")"
    else
      fail "$(grep -F '  FAIL' "$WORK/$t.out" | head -5)"
    fi
  done
fi

finish
