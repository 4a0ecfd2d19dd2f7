#!/usr/bin/env bash
# test_dist_tls.sh: TLS distribution (-proto_dist inet_tls) and IPv6 (inet6_tcp) for `check`,
# `cluster` and `serve`: real nodes with mutual TLS, server-only TLS, an expired and a wrong-name
# certificate, a plain node and IPv6-only nodes; every failure exits 2, says why, within --timeout.
# The fixtures are checked first with Erlang nodes as clients, so a failure there is the fixture's.
set -euo pipefail

# IPv6 by name needs a host that resolves to ::1 only. Debian's /etc/hosts has ip6-localhost;
# where it lacks it, run this test in a private mount namespace whose /etc/hosts adds it
# (the system's file is never changed).
if [[ -z ${BP_IPV6_HOST:-} && -z ${BP_HOSTS_NS:-} ]] && ! getent ahosts ip6-localhost >/dev/null 2>&1 \
   && command -v unshare >/dev/null && [[ $(id -u) == 0 ]]; then
  hosts=$(mktemp "${TMPDIR:-/tmp}/bp-hosts.XXXXXX")
  { cat /etc/hosts; printf '::1\tip6-localhost ip6-loopback\n'; } >"$hosts"
  exec unshare -m bash -c 'mount --bind "$1" /etc/hosts && rm -f "$1" && BP_HOSTS_NS=1 exec bash "$2"' \
    _ "$hosts" "${BASH_SOURCE[0]}"
fi
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/serve_lib.sh"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/bp-tls.XXXXXX")
PKI="$WORK/pki"
DIRS=() SERVE_PID=""
declare -A DIR_OF=() START_PID=()
cleanup() {
  local p
  [[ -z $SERVE_PID ]] || kill -9 "$SERVE_PID" 2>/dev/null || true
  # starts still under way (interrupted early): they stop their own nodes when terminated
  for p in "${START_PID[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${START_PID[@]}"; do wait "$p" 2>/dev/null || true; done
  for d in "${DIRS[@]}"; do "$CLUSTER" stop "$d" >/dev/null 2>&1 & done
  wait
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# fixture_fail WHAT: a fixture is broken; this is a failure of the test, never a skip.
fixture_fail() {
  FAILED=$((FAILED + 1))
  printf '  FAIL  fixture: %s\n' "$1"
  finish || true
  exit 1
}

TO_MS=1000
SLACK_MS=${BP_TLS_SLACK_MS:-300}
[[ -z ${BP_SANITIZED:-} ]] || SLACK_MS=${BP_TLS_SLACK_MS:-500}
FAST=(--timeout "${TO_MS}ms")          # failing probes: exit 2 within TO_MS + SLACK_MS
CA=(--tls-cafile "$PKI/ca.pem")
CLIENT=(--tls-certfile "$PKI/client.pem" --tls-keyfile "$PKI/client.key")

# IPv6: a host name that resolves to ::1 only (Debian's /etc/hosts has ip6-localhost).
v6_only() {
  local a
  a=$(getent ahosts "$1" 2>/dev/null | awk '{print $1}' | sort -u) || return 1
  [[ -n $a && $a == "::1" ]]
}
H6=${BP_IPV6_HOST:-}
if [[ -z $H6 ]]; then
  for h in ip6-localhost ip6-loopback localhost6; do if v6_only "$h"; then H6=$h; break; fi; done
fi
if [[ -z $H6 ]] || ! v6_only "$H6"; then
  fixture_fail "no host name resolves to ::1 only (tried ${BP_IPV6_HOST:-ip6-localhost ip6-loopback localhost6}); add '::1 ip6-localhost ip6-loopback' to /etc/hosts (Debian's default) or set BP_IPV6_HOST"
fi
V6IF=(-kernel inet_dist_use_interface '{0,0,0,0,0,0,0,1}')

"$ROOT/test/fixtures/tls/certs.sh" "$PKI" 2>"$WORK/certs.err" || fixture_fail "certs.sh: $(cat "$WORK/certs.err")"

# bg_start KEY N [VAR=VALUE...] -- ERL_ARGS...: cluster.sh start of N nodes in $WORK/KEY, in the
# background (collected by wait_started).
bg_start() {
  local key=$1 n=$2 envs=(); shift 2
  while [[ $# -gt 0 && $1 != -- ]]; do envs+=("$1"); shift; done
  local d="$WORK/$key"
  mkdir -p "$d"; DIRS+=("$d"); DIR_OF[$key]=$d
  env "${envs[@]}" "$CLUSTER" start "$d" "$n" "bp$$$key" "$@" >"$WORK/$key.start" 2>&1 &
  START_PID[$key]=$!
}
wait_started() {
  local key bad=""
  for key in "${!START_PID[@]}"; do
    if ! wait "${START_PID[$key]}"; then
      bad+=" $key"
      echo "--- cluster.sh start $key:"; cat "$WORK/$key.start"
      tail -n 20 "${DIR_OF[$key]}"/*.log 2>/dev/null || true
    fi
  done
  START_PID=()
  [[ -z $bad ]] || fixture_fail "nodes did not start:$bad (output above)"
}
TLS_ARGS=(-proto_dist inet_tls -ssl_dist_optfile)
bg_start mtls 2 -- "${TLS_ARGS[@]}" "$PKI/mtls.conf"           # mutual TLS, 2 nodes meshed over TLS
bg_start tls 1 -- "${TLS_ARGS[@]}" "$PKI/tls.conf"             # TLS, no client certificate asked
bg_start plain 1                                                # plain TCP distribution
bg_start exp 1 -- "${TLS_ARGS[@]}" "$PKI/expired.conf"         # serves expired.pem
bg_start wrong 1 -- "${TLS_ARGS[@]}" "$PKI/wrong.conf"         # serves a cert for not-this-host.example
bg_start v6 1 BP_NODE_HOST="$H6" -- -proto_dist inet6_tcp "${V6IF[@]}"          # NAME@ip6-localhost
bg_start v6lit 1 BP_NODE_HOST=::1 -- -proto_dist inet6_tcp "${V6IF[@]}"         # NAME@::1 (long name)
bg_start v6tls 1 BP_NODE_HOST="$H6" -- -proto_dist inet6_tls -ssl_dist_optfile "$PKI/tls.conf" "${V6IF[@]}"
wait_started

node_of() { sed -n "${2:-1}p" "${DIR_OF[$1]}/nodes"; }
MTLS1=$(node_of mtls 1) MTLS2=$(node_of mtls 2) TLS1=$(node_of tls) PLAIN=$(node_of plain)
EXP=$(node_of exp) WRONG=$(node_of wrong) V6=$(node_of v6) V6LIT=$(node_of v6lit) V6TLS=$(node_of v6tls)
for n in MTLS1 MTLS2 TLS1 PLAIN EXP WRONG V6 V6LIT V6TLS; do
  [[ -n ${!n} ]] || fixture_fail "no node name for $n"
done

# kcheck KEY ARGS...: beamprobe check with the cookie of KEY's nodes.
kcheck() { local d=${DIR_OF[$1]}; shift; probe check --cookie-file "$d/cookie" "$@"; }
# expect_refused NEEDLE: exit 2, NEEDLE on stderr, within the deadline.
expect_refused() {
  expect_code 2
  expect_in "$ERR" "$1"
  expect_le "$MS" $((TO_MS + SLACK_MS)) "wall ms"
}
# erl_ping KEY NODE ERL_ARGS...: net_adm:ping NODE from a throwaway hidden erl with KEY's cookie
# and ERL_ARGS (its -proto_dist and optfile); sets PING (pong|pang) and PING_LOG (its output).
erl_ping() {
  local d=${DIR_OF[$1]} node=$2; shift 2
  PING_LOG=$(HOME="$d/home" timeout 30 erl -sname "bp$$_ping_$RANDOM" -hidden -noinput -kernel net_setuptime 2 "$@" \
    -eval "P = net_adm:ping('$node'), catch logger_std_h:filesync(default), io:format(\"~n~p~n\", [P]), halt()." \
    2>&1 </dev/null) || true
  PING=$(grep -xE 'pong|pang' <<<"$PING_LOG" | tail -1) || true
}
expect_ping() { # expect_ping pong|pang WHAT KEY NODE ERL_ARGS...
  local want=$1 what=$2; shift 2
  erl_ping "$@"
  if [[ $PING == "$want" ]]; then ok "$what: $want"; else fail "$what: '$PING', expected $want: ${PING_LOG:0:400}"; fi
}

test_case "fixtures: Erlang clients see the TLS nodes as the tests need them"
expect_ping pong "mtls node, client certificate" mtls "$MTLS1" "${TLS_ARGS[@]}" "$PKI/client.conf"
expect_ping pang "mtls node, no client certificate" mtls "$MTLS1" "${TLS_ARGS[@]}" "$PKI/client_nocert.conf"
expect_ping pang "mtls node, plain TCP" mtls "$MTLS1"
expect_ping pong "tls node, no client certificate" tls "$TLS1" "${TLS_ARGS[@]}" "$PKI/client_nocert.conf"
expect_ping pang "tls node, plain TCP" tls "$TLS1"
expect_ping pong "plain node, plain TCP" plain "$PLAIN"
expect_ping pang "plain node, TLS" plain "$PLAIN" "${TLS_ARGS[@]}" "$PKI/client_nocert.conf"
expect_ping pang "expired node, verifying" exp "$EXP" "${TLS_ARGS[@]}" "$PKI/client_nocert.conf"
expect_in "$PING_LOG" "Certificate Expired"
expect_ping pong "expired node, not verifying" exp "$EXP" "${TLS_ARGS[@]}" "$PKI/expired.conf"
expect_ping pang "wrong-name node, verifying" wrong "$WRONG" "${TLS_ARGS[@]}" "$PKI/client_nocert.conf"
expect_in "$PING_LOG" "hostname_check_failed"
expect_ping pong "wrong-name node, not verifying" wrong "$WRONG" "${TLS_ARGS[@]}" "$PKI/wrong.conf"
got=$("$CLUSTER" eval "${DIR_OF[mtls]}" "$MTLS1" 'nodes().' 2>&1) || true
if [[ $got == "['$MTLS2']" || $got == "[$MTLS2]" ]]; then ok "$MTLS1 sees $MTLS2"; else fail "$MTLS1 nodes(): $got"; fi
expect_ping pong "IPv6 node over inet6_tcp" v6 "$V6" -proto_dist inet6_tcp
pid=$(cat "${DIR_OF[v6]}/${V6%@*}.pid")
listen=$(ss -Hltnp 2>/dev/null | grep "pid=$pid," | awk '{print $4}' | sort -u | tr '\n' ' ')
if [[ $listen =~ ^\[::1\]:[0-9]+\ $ ]]; then ok "$V6 listens on ::1 only ($listen)"; else fail "$V6 listens on '$listen', expected [::1]:PORT only"; fi
names=$(timeout 3 bash -c 'exec 3<>/dev/tcp/::1/4369 && printf "\x00\x01n" >&3 && cat <&3' 2>&1 | tail -c +5) || true
expect_in "$names" "name ${V6%@*} at port"

test_case "TLS, server-only: verified against the CA (--dist-tls --tls-cafile)"
kcheck tls "$TLS1" --dist-tls "${CA[@]}" --json
expect_code 0
expect_json .status healthy
expect_json .node "$TLS1"

test_case "mutual TLS with a client certificate"
kcheck mtls "$MTLS1" --dist-tls "${CA[@]}" "${CLIENT[@]}" --json --plan one-round
expect_code 0
expect_json .status healthy
expect_json .plan one-round   # the one-round request over TLS distribution
expect_json .plan_unused 0
kcheck mtls "$MTLS1" --dist-tls "${CA[@]}" "${CLIENT[@]}"
expect_code 0
expect_in "$OUT" "$MTLS1: HEALTHY"

test_case "mutual TLS without a client certificate"
kcheck mtls "$MTLS1" --dist-tls "${CA[@]}" "${FAST[@]}"
expect_refused "client certificate"

test_case "plain TCP to a TLS node"
kcheck tls "$TLS1" "${FAST[@]}"
expect_refused "--dist-tls"
kcheck mtls "$MTLS1" "${FAST[@]}"
expect_refused "--dist-tls"

test_case "TLS to a plain node"
kcheck plain "$PLAIN" --dist-tls "${CA[@]}" "${FAST[@]}"
expect_refused "does not speak TLS"

test_case "untrusted certificate (another CA)"
kcheck tls "$TLS1" --dist-tls --tls-cafile "$PKI/other_ca.pem" "${FAST[@]}"
expect_refused "certificate verify failed"

test_case "expired certificate"
kcheck exp "$EXP" --dist-tls "${CA[@]}" "${FAST[@]}"
expect_refused "certificate has expired"

test_case "certificate for another host name"
kcheck wrong "$WRONG" --dist-tls "${CA[@]}" "${FAST[@]}"
expect_refused "hostname mismatch"

test_case "--tls-verify none accepts the wrong name and the expired certificate"
kcheck wrong "$WRONG" --dist-tls --tls-verify none --json
expect_code 0
expect_json .status healthy
kcheck exp "$EXP" --dist-tls --tls-verify none --json
expect_code 0
expect_json .status healthy

test_case "--tls-server-name: the name the certificate must carry"
kcheck wrong "$WRONG" --dist-tls "${CA[@]}" --tls-server-name not-this-host.example --json
expect_code 0
expect_json .status healthy
kcheck tls "$TLS1" --dist-tls "${CA[@]}" --tls-server-name not-this-host.example "${FAST[@]}"
expect_refused "hostname mismatch"

test_case "cluster over mutual TLS"
probe cluster --cookie-file "${DIR_OF[mtls]}/cookie" --dist-tls "${CA[@]}" "${CLIENT[@]}" \
  --nodes "$MTLS1,$MTLS2" --json
expect_code 0
expect_json .verdict converged
expect_json '[.nodes[] | select(.reachable)] | length' 2

test_case "serve over mutual TLS"
SLOG="$WORK/serve.log"
launch_serve "$SLOG" "$BEAMPROBE" serve --listen 127.0.0.1:0 --cookie-file "${DIR_OF[mtls]}/cookie" --dist-tls "${CA[@]}" \
  "${CLIENT[@]}" --node "$MTLS1" --interval 200ms
SERVE_PID=$SPID
if [[ -z $PORT ]]; then
  fail "serve did not start: $(head -c 400 "$SLOG")"
else
  code=000
  for _ in $(seq 60); do
    code=$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/health/ready") || true
    [[ $code == 200 ]] && break
    sleep 0.05
  done
  if [[ $code == 200 ]]; then ok "/health/ready 200"; else fail "/health/ready $code (log: $(head -c 400 "$SLOG"))"; fi
fi
kill -TERM "$SERVE_PID" 2>/dev/null || true; wait "$SERVE_PID" 2>/dev/null || true; SERVE_PID=""

test_case "the NIF's remote check over mutual TLS (beamprobe:check/2)"
NIF_SO=${BP_NIF_SO:-$ROOT/priv/beamprobe_nif.so}
if [[ -n ${BP_SANITIZED:-} || ! -f $NIF_SO ]]; then
  echo "  note  NIF case runs with the regular build only (the sanitized NIF needs libasan in the VM; test_nif.sh covers that)"
else
  APP=$WORK/lib/beamprobe
  mkdir -p "$APP/ebin" "$APP/priv" && ln -sf "$NIF_SO" "$APP/priv/beamprobe_nif.so"
  erlc -o "$APP/ebin" "$ROOT/src/beamprobe.erl"
  nif_check() { # nif_check EXTRA_OPTS: print beamprobe:check/2's JSON (or error) for $MTLS1
    erl -noshell -pa "$APP/ebin" -eval "
      Opts = #{dist_tls => true, tls_cafile => <<\"$PKI/ca.pem\">>, format => json,
               cookie_file => <<\"${DIR_OF[mtls]}/cookie\">>, timeout => 1000 $1},
      case beamprobe:check('$MTLS1', Opts) of
          B when is_binary(B) -> io:format(\"~s\", [B]);
          E -> io:format(\"~p\", [E])
      end, halt()." 2>&1
  }
  OUT=$(nif_check ", tls_certfile => <<\"$PKI/client.pem\">>, tls_keyfile => <<\"$PKI/client.key\">>")
  st=$(jq -r .status <<<"$OUT" 2>/dev/null || true)
  [[ $st == healthy ]] && ok "healthy with the client certificate" || fail "check/2: ${OUT:0:300}"
  OUT=$(nif_check "")
  expect_in "$OUT" "client certificate"
fi

test_case "IPv6-only node by name ($V6)"
kcheck v6 "$V6" --json
expect_code 0
expect_json .status healthy
expect_json .node "$V6"
kcheck v6 "$V6" --inet6 --json
expect_code 0
expect_json .status healthy

test_case "IPv6 literal, long name ($V6LIT)"
kcheck v6lit "$V6LIT" --json
expect_code 0
expect_json .status healthy
expect_json .node "$V6LIT"
probe cluster --cookie-file "${DIR_OF[v6lit]}/cookie" --epmd-host ::1 --node-basename "${V6LIT%%@*}" --json
expect_code 0
expect_json '[.nodes[].node] | join(",")' "$V6LIT"

test_case "TLS over IPv6 ($V6TLS)"
kcheck v6tls "$V6TLS" --dist-tls "${CA[@]}" --json
expect_code 0
expect_json .status healthy

test_case "--inet6 to a node without an IPv6 address"
kcheck plain "$PLAIN" --inet6 "${FAST[@]}"
expect_code 2
expect_le "$MS" $((TO_MS + SLACK_MS)) "wall ms"

test_case "SIGSTOPped TLS node: exit 2 within --timeout"
pid=$(cat "${DIR_OF[tls]}/${TLS1%@*}.pid")
kill -STOP "$pid"
kcheck tls "$TLS1" --dist-tls "${CA[@]}" "${FAST[@]}" --json
kill -CONT "$pid"
expect_code 2
expect_json .status unhealthy
expect_in "$(jq -r .checks.connection.reason <<<"$OUT" 2>/dev/null)" "timed out after $TO_MS ms"
expect_le "$MS" $((TO_MS + SLACK_MS)) "wall ms"

finish
