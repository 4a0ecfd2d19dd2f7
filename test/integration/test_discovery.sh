#!/usr/bin/env bash
# test_discovery.sh: discovery end to end: EPMD with real nodes, DNS through a real dnsmasq, the Kubernetes API stand-in as a process.
#
# Discovery runs through the `discover` command mode of the unit-test binary
# (test_discover discover epmd|dns|k8s ..., see test/c/test_discover.c), which
# calls the same library functions as `beamprobe cluster`.
#   EPMD: a real 2-node cluster; names found on the machine's EPMD are probed with `beamprobe check`;
#         stray registrations (`test_discover epmd-hold`) filtered by --node-basename; a fleet of 100
#         registered names that no node serves, probed at once by `beamprobe cluster`, and served
#         by `beamprobe serve` together with the two real nodes (102 targets).
#   DNS:  dnsmasq on a loopback port with its own hosts file, asked by beamprobe's own DNS client
#         (--dns-server); then the system resolver (getaddrinfo/getnameinfo) for real, in a private
#         mount+network namespace whose /etc/resolv.conf points at a dnsmasq on 127.0.0.1:53.
#   K8s:  `test_discover serve-k8s` (HTTPS, certificates made here by openssl) with the fixtures
#         of test/fixtures/k8s_api_stub: ready/not ready, 401, 404, malformed body, a slow answer;
#         then `beamprobe cluster` with --k8s-cluster-domain, --k8s-names and --k8s-source.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/serve_lib.sh"
# shellcheck source=test/integration/notify_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/notify_lib.sh" # start_receiver, wait_record (the alerts of dropped nodes)

BUILD=$ROOT/build
[[ -n ${BP_SANITIZED:-} ]] && BUILD=$ROOT/build-san
DISCOVER=${DISCOVER:-$BUILD/test_discover}
if [[ ! -x $DISCOVER ]]; then
  make -s -C "$ROOT/c_src" ${BP_SANITIZED:+SAN=1} tests >/dev/null
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/bp-disc.XXXXXX")
chmod 755 "$WORK" # dnsmasq may read its files as another user
BG_PIDS=()
cleanup() {
  local p
  for p in "${BG_PIDS[@]}"; do kill -CONT "$p" 2>/dev/null || true; kill "$p" 2>/dev/null || true; done
  for p in "${BG_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  if [[ -n ${DIR:-} ]]; then "$CLUSTER" stop "$DIR" >/dev/null 2>&1 || true; rm -rf "$DIR"; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# disc ARGS...: run one discovery; sets OUT, ERR, CODE (0 found, 2 error) and MS.
# shellcheck disable=SC2034 # CODE is read by expect_code (lib.sh)
disc() {
  local t0 t1
  t0=$(date +%s%N)
  set +e
  OUT=$("$DISCOVER" discover "$@" 2>"$WORK/err")
  CODE=$?
  set -e
  t1=$(date +%s%N)
  ERR=$(cat "$WORK/err")
  MS=$(( (t1 - t0) / 1000000 ))
  if [[ $ERR == *"Sanitizer"* || $ERR == *"runtime error"* ]]; then fail "sanitizer report: $ERR"; fi
}

expect_line() { # expect_line LINE: OUT has exactly this line
  if grep -Fxq -- "$1" <<<"$OUT"; then ok "has $1"; else fail "no line '$1' in: ${OUT:0:400} ${ERR:0:300}"; fi
}
expect_no_line() {
  if grep -Fxq -- "$1" <<<"$OUT"; then fail "unexpected line '$1'"; else ok "no $1"; fi
}
expect_lines() { # expect_lines N: OUT has N lines
  local n
  n=$(grep -c . <<<"$OUT" || true)
  if [[ $n == "$1" ]]; then ok "$1 lines"; else fail "$n lines, expected $1: ${OUT:0:300} ${ERR:0:300}"; fi
}

# cl ARGS...: beamprobe cluster with the test cluster's cookie (sets OUT, ERR, CODE, MS).
cl() { probe cluster --cookie-file "$COOKIE" "$@"; }

expect_cluster_nodes() { # expect_cluster_nodes NAME...: the cluster JSON in OUT probed exactly these nodes
  local got want
  got=$(jq -r '[.nodes[] | select(.probed) | .node] | sort | join(" ")' <<<"$OUT" 2>&1)
  want=$(printf '%s\n' "$@" | sort | paste -sd' ')
  if [[ $got == "$want" ]]; then ok "probed $#: ${want:0:120}"; else fail "probed '${got:0:300}', expected '${want:0:300}' (${ERR:0:300})"; fi
}

# hold NAME...: register NAMEs with the local EPMD (a port nothing serves) until release; sets HOLD_PID.
hold() {
  "$DISCOVER" epmd-hold "$@" >"$WORK/hold.out" 2>&1 &
  HOLD_PID=$!
  BG_PIDS+=("$HOLD_PID")
  for _ in $(seq 100); do grep -q ready "$WORK/hold.out" 2>/dev/null && return 0; sleep 0.05; done
  fail "epmd-hold did not register: $(cat "$WORK/hold.out")"
}
release() { kill "$HOLD_PID" 2>/dev/null || true; wait "$HOLD_PID" 2>/dev/null || true; }

# serve_bg NAME ARGS...: `beamprobe serve` on a free port in the background; sets SPID, PORT ("" if it did not start).
serve_bg() {
  SLOG="$WORK/serve-$1.log"
  shift
  launch_serve "$SLOG" "$BEAMPROBE" serve --listen 127.0.0.1:0 --cookie-file "$COOKIE" "$@"
  BG_PIDS+=("$SPID")
  [[ -n $PORT ]] || fail "serve did not start: $(cat "$SLOG")"
}

# fetch PATH: GET from that serve; sets OUT (the body) and HTTP (the status).
fetch() {
  OUT=$(curl -s -m 5 -w '\n%{http_code}' "http://127.0.0.1:$PORT$1" 2>/dev/null || true)
  HTTP=${OUT##*$'\n'}
  OUT=${OUT%$'\n'*}
}
expect_http() {
  if [[ $HTTP == "$1" ]]; then ok "HTTP $1"; else fail "HTTP $HTTP, expected $1: ${OUT:0:300}"; fi
}
expect_count() { # expect_count REGEX N: OUT has N lines matching REGEX
  local n
  n=$(grep -c -- "$1" <<<"$OUT" || true)
  if [[ $n == "$2" ]]; then ok "$2 lines like $1"; else fail "$n lines like $1, expected $2"; fi
}

# wait_reports N: until serve's /metrics covers a completed probe of each of N targets (its report age,
# and the metrics rebuilt after it), at most 15 s.
wait_reports() {
  local aged=0 rendered=0
  for _ in $(seq 300); do
    fetch /metrics
    aged=$(grep -c '^beamprobe_report_age_seconds{' <<<"$OUT" || true)
    rendered=$(grep -c '^beamprobe_probe_duration_seconds{' <<<"$OUT" || true)
    (( aged >= $1 && rendered >= $1 )) && { ok "every one of the $1 targets probed"; return 0; }
    sleep 0.05
  done
  fail "$aged and $rendered of $1 targets probed: $(tail -3 "$SLOG")"
}

# stop_serve: SIGTERM, expecting exit 0 within 1.5 s however many targets it probes.
stop_serve() {
  local t0 code=0
  t0=$(date +%s%N)
  kill -TERM "$SPID"
  wait "$SPID" || code=$?
  if [[ $code == 0 ]]; then ok "serve exit 0"; else fail "serve exit $code: $(tail -5 "$SLOG")"; fi
  expect_le $(( ($(date +%s%N) - t0) / 1000000 )) 1500 "ms to stop"
  if grep -q -e Sanitizer -e "runtime error" "$SLOG"; then fail "sanitizer report: $(head -20 "$SLOG")"; fi
}

# ---------- EPMD ----------

start_cluster 2
trap cleanup EXIT # start_cluster set its own trap; ours stops the cluster too

test_case "EPMD: every registered node, host kept as given"
disc epmd "$HOST"
expect_code 0
for n in "${NODES[@]}"; do expect_line "$n"; done
disc epmd 127.0.0.1
expect_code 0
for n in "${NODES[@]}"; do expect_line "${n%@*}@127.0.0.1"; done

test_case "EPMD: a discovered name is a probe target"
disc epmd "$HOST"
first=$(grep -Fx -- "${NODES[0]}" <<<"$OUT" || true)
check "$first" --json
expect_code 0
expect_json .node "${NODES[0]}"

test_case "EPMD: --node-basename keeps APP, APP-*, APP_*, APP<digit>*, not other registrations"
P="bp$$" # the cluster's nodes are ${P}_1, ${P}_2
hold "$P-extra" "${P}apple" "remsh$$" "rabbitmqcli-$$-$P"
disc epmd "$HOST" --basename "$P"
expect_code 0
expect_lines 3
for n in "${NODES[@]}"; do expect_line "$n"; done
expect_line "$P-extra@$HOST"
expect_no_line "${P}apple@$HOST"
expect_no_line "remsh$$@$HOST"
expect_no_line "rabbitmqcli-$$-$P@$HOST"
disc epmd "$HOST"
expect_line "remsh$$@$HOST" # without a basename: everything registered
expect_line "${P}apple@$HOST"
cl --epmd-host "$HOST" --node-basename "$P" --json --timeout 2s
expect_cluster_nodes "${NODES[@]}" "$P-extra@$HOST"
expect_json "[.nodes[] | select(.node == \"${NODES[0]}\") | .reachable][0]" true
expect_json "[.nodes[] | select(.node == \"$P-extra@$HOST\") | .reachable][0]" false
cl --epmd-host "$HOST" --node-basename "$P@x" --json
expect_code 1
expect_in "$ERR" "--node-basename"
release

test_case "EPMD: 100 discovered nodes (more than the old 64) probed at once by beamprobe cluster"
FLEET=()
for i in $(seq 100); do FLEET+=("bpfleet$$-$i"); done
hold "${FLEET[@]}"
cl --epmd-host 127.0.0.1 --node-basename "bpfleet$$" --json --timeout 3s
expect_code 2 # no node answers: every port refuses
expect_json .probed 100
expect_json '.nodes | length' 100
expect_json '[.nodes[] | select(.reachable)] | length' 0
expect_json '[.nodes[] | select(.node == "bpfleet'"$$"'-100@127.0.0.1")] | length' 1
expect_le "$MS" 2500 "ms"
release

test_case "EPMD: serve over 102 discovered targets: the 2 real nodes and 100 names nobody serves"
FLEET=()
for i in $(seq 100); do FLEET+=("$P-f$i"); done
hold "${FLEET[@]}"
serve_bg epmd --epmd-host "$HOST" --node-basename "$P" --interval 300ms --timeout 1s
if [[ -n $PORT ]]; then
  expect_in "$(cat "$SLOG")" "102 target(s)"
  wait_reports 102
  fetch /health/live
  expect_http 503 # 100 of them cannot be reached
  expect_json '.nodes | length' 102
  expect_json '.ok' false
  expect_json '[.nodes[] | select(.ok) | .node] | sort | join(" ")' "$(printf '%s\n' "${NODES[@]}" | sort | paste -sd' ')"
  expect_json "[.nodes[] | select(.node == \"$P-f100@$HOST\") | .ok][0]" false
  fetch /health
  expect_json '[.nodes[] | select(.status == "healthy")] | length' 2
  expect_json '[.nodes[] | .node] | unique | length' 102
  fetch /metrics
  expect_http 200
  expect_count '^beamprobe_up{' 102
  expect_count '^beamprobe_up{.*} 0$' 100
  for n in "${NODES[@]}"; do expect_count "^beamprobe_up{node=\"$n\"} 1$" 1; done
  expect_count '^# TYPE beamprobe_up gauge$' 1
  fetch /health/cluster
  expect_json .probed 102
  expect_json .reachable 2
  stop_serve
fi
release

test_case "EPMD: a killed node is gone from EPMD's list"
"$CLUSTER" kill-node "$DIR" "${NODES[1]%@*}" >/dev/null
for _ in $(seq 50); do epmd -names | grep -q "name ${NODES[1]%@*} " || break; sleep 0.1; done
disc epmd "$HOST"
expect_code 0
expect_line "${NODES[0]}"
expect_no_line "${NODES[1]}"

test_case "EPMD: nothing listening is a clear error, fast"
ERL_EPMD_PORT=1 disc epmd 127.0.0.1 --timeout 1000
expect_code 2
expect_in "$ERR" "no EPMD answered on 127.0.0.1:1"
expect_le "$MS" 500 "ms"

# ---------- DNS ----------

find_dnsmasq() {
  command -v dnsmasq 2>/dev/null || { [[ -x /usr/sbin/dnsmasq ]] && echo /usr/sbin/dnsmasq; } || true
}
DNSMASQ=$(find_dnsmasq)
if [[ -z $DNSMASQ && $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
  echo "  (dnsmasq missing: installing dnsmasq-base)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends dnsmasq-base >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null 2>&1 &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends dnsmasq-base >/dev/null 2>&1; } || true
  DNSMASQ=$(find_dnsmasq)
fi

# The zone: a headless Service with three pods, and two large ones (TCP fallback, list cap).
ZONE=prod.svc.cluster.local
{
  for i in 0 1 2; do echo "127.0.20.$((i + 1)) app-$i.app.$ZONE app.$ZONE"; done
  for i in $(seq 1 60); do echo "127.0.21.$i big-$i.big.$ZONE big.$ZONE"; done
  for i in $(seq 1 100); do echo "127.0.22.$i huge-$i.huge.$ZONE huge.$ZONE"; done
  for i in $(seq 0 1029); do echo "127.23.$((i / 250)).$((i % 250 + 1)) many.$ZONE"; done
} >"$WORK/hosts"
chmod 644 "$WORK/hosts"
DNS_USER=()
[[ $(id -u) == 0 ]] && DNS_USER=(--user=root)

# dnsmasq_args PORT LOG [HOSTS]: a self-contained dnsmasq: no config, no upstream, only our hosts file
# (WORK/hosts unless HOSTS); answers up to 512 bytes over UDP so that larger answers come truncated (TCP fallback).
dnsmasq_args() {
  echo --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts --no-poll --no-negcache \
    --addn-hosts="${3:-$WORK/hosts}" --local=/cluster.local/ --local=/in-addr.arpa/ \
    --listen-address=127.0.0.1 --bind-interfaces --port="$1" --edns-packet-max=512 \
    --pid-file= --log-facility="$2" --log-queries "${DNS_USER[@]}"
}

if [[ -z $DNSMASQ ]]; then
  echo "  SKIP  DNS discovery: dnsmasq is not installed and could not be installed (apt-get install dnsmasq-base)"
else
  # start_dnsmasq NAME HOSTS: a dnsmasq on a free loopback port answering NAME from the hosts file HOSTS;
  # sets STARTED_PORT and STARTED_PID (both empty when it did not start).
  start_dnsmasq() {
    local port pid
    STARTED_PORT="" STARTED_PID=""
    for _ in 1 2 3 4 5; do
      port=$(( 20000 + RANDOM % 20000 ))
      # shellcheck disable=SC2046
      "$DNSMASQ" $(dnsmasq_args "$port" "$WORK/dnsmasq-$port.log" "$2") 2>>"$WORK/dnsmasq.err" &
      pid=$!
      for _ in $(seq 50); do
        if ! kill -0 "$pid" 2>/dev/null; then break; fi
        if "$DISCOVER" discover dns "$1" x --server "127.0.0.1:$port" --timeout 300 >/dev/null 2>&1; then
          STARTED_PORT=$port; break
        fi
        sleep 0.1
      done
      if [[ -n $STARTED_PORT ]]; then BG_PIDS+=("$pid"); STARTED_PID=$pid; return 0; fi
      kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
    done
  }
  start_dnsmasq "app.$ZONE" "$WORK/hosts"
  DNS_PORT=$STARTED_PORT DNSMASQ_PID=$STARTED_PID
  if [[ -z $DNS_PORT ]]; then
    fail "dnsmasq did not start: $(tail -3 "$WORK/dnsmasq.err" 2>/dev/null)"
  else
    SERVER=127.0.0.1:$DNS_PORT

    test_case "DNS (--dns-server): A records of a headless Service as APP@ip"
    disc dns "app.$ZONE" app --server "$SERVER"
    expect_code 0
    expect_lines 3
    for i in 1 2 3; do expect_line "app@127.0.20.$i"; done

    test_case "DNS (--dns-server): --dns-by-hostname, names from PTR records"
    disc dns "app.$ZONE" app --server "$SERVER" --by-hostname
    expect_code 0
    expect_lines 3
    for i in 0 1 2; do expect_line "app@app-$i.app.$ZONE"; done

    test_case "DNS (--dns-server): a truncated UDP answer is asked again over TCP"
    disc dns "big.$ZONE" big --server "$SERVER"
    expect_code 0
    expect_lines 60
    expect_line "big@127.0.21.60"

    test_case "DNS (--dns-server): 100 addresses (more than the old 64); more than 1024 is an error"
    disc dns "huge.$ZONE" huge --server "$SERVER"
    expect_code 0
    expect_lines 100
    expect_line "huge@127.0.22.100"
    disc dns "many.$ZONE" many --server "$SERVER"
    expect_code 2
    expect_in "$ERR" "many.$ZONE has more than 1024 addresses"
    cl --dns "huge.$ZONE" --node-basename huge --dns-server "$SERVER" --json --timeout 2s
    expect_code 2
    expect_json .probed 100

    test_case "DNS (--dns-server): serve over 100 discovered targets answers for all; more than 1024 is refused"
    serve_bg dns --dns "huge.$ZONE" --node-basename huge --dns-server "$SERVER" --interval 500ms --timeout 1s
    if [[ -n $PORT ]]; then
      expect_in "$(cat "$SLOG")" "100 target(s)"
      wait_reports 100
      for p in /health/live /health/ready /health/startup; do
        fetch "$p"
        expect_http 503 # nothing serves these addresses
        expect_json '.nodes | length' 100
        expect_json '[.nodes[] | .node] | unique | length' 100
      done
      expect_json '.nodes[99].node' huge@127.0.22.100 # natural order: .9 before .10 before .100
      expect_json '.nodes[9].node' huge@127.0.22.10
      fetch /metrics
      expect_count '^beamprobe_up{node="huge@127\.0\.22\.[0-9]*"} 0$' 100
      expect_count '^beamprobe_report_age_seconds{' 100
      stop_serve
    fi
    probe serve --dns "many.$ZONE" --node-basename many --dns-server "$SERVER" --listen 127.0.0.1:0
    expect_code 1
    expect_in "$ERR" "many.$ZONE has more than 1024 addresses"

    test_case "DNS (--dns-server): no such name"
    disc dns "missing.$ZONE" app --server "$SERVER"
    expect_code 2
    expect_in "$ERR" "NXDOMAIN"

    test_case "DNS (--dns-server): a stopped server costs the deadline, not more"
    kill -STOP "$DNSMASQ_PID"
    disc dns "app.$ZONE" app --server "$SERVER" --timeout 600
    kill -CONT "$DNSMASQ_PID"
    expect_code 2
    expect_in "$ERR" "deadline"
    expect_le "$MS" "$(( ${BP_SANITIZED:+600} + 900 ))" "ms (600 ms deadline; process start and exit, more under the sanitizers)"

    test_case "DNS (--dns-server): nothing listening"
    disc dns "app.$ZONE" app --server 127.0.0.1:1 --timeout 1000
    expect_code 2
    expect_in "$ERR" "refused"
    expect_le "$MS" 500 "ms"

    # A second dnsmasq whose hosts file the tests edit (SIGHUP re-reads it): dyn.$ZONE is 127.0.0.1,
    # whose PTR name is this host, so that --dns-by-hostname names the cluster's first node.
    BASE=${NODES[0]%@*}
    printf '127.0.0.1 %s dyn.%s\n' "$HOST" "$ZONE" >"$WORK/dyn-hosts"
    chmod 644 "$WORK/dyn-hosts"
    start_dnsmasq "dyn.$ZONE" "$WORK/dyn-hosts"
    DYN_PORT=$STARTED_PORT DYN_PID=$STARTED_PID
    # wait_body PATH JQ WANT SECONDS: poll serve until jq JQ of PATH's body is WANT; sets WAITED (ms)
    wait_body() {
      local t0 got
      t0=$(date +%s%N)
      while :; do
        fetch "$1"
        got=$(jq -r "$2" <<<"$OUT" 2>/dev/null || true)
        [[ $got == "$3" ]] && { WAITED=$(( ($(date +%s%N) - t0) / 1000000 )); ok "$1: $2 is $3 after $WAITED ms"; return 0; }
        (( ($(date +%s%N) - t0) / 1000000 > $4 * 1000 )) && { fail "$1: $2 is '$got' after $4 s, expected $3 (${OUT:0:300})"; return 1; }
        sleep 0.1
      done
    }
    if [[ -z $DYN_PORT ]]; then
      fail "the second dnsmasq did not start: $(tail -3 "$WORK/dnsmasq.err" 2>/dev/null)"
    else
      test_case "DNS (serve): a silent DNS server at start: live 200, ready 503 naming it; ready once it answers"
      kill -STOP "$DYN_PID"
      T0=$(date +%s%N)
      serve_bg dyn --dns "dyn.$ZONE" --node-basename "$BASE" --dns-by-hostname --dns-server "127.0.0.1:$DYN_PORT" \
        --interval 300ms --timeout 500ms --rediscover 1s
      if [[ -n $PORT ]]; then
        fetch /health/live
        expect_le $(( ($(date +%s%N) - T0) / 1000000 )) "$(( ${BP_SANITIZED:+1500} + 2500 ))" "ms from start to the first /health/live answer"
        expect_http 200
        fetch /health/ready
        expect_http 503
        expect_json .reason "discovery --dns dyn.$ZONE: no answer from 127.0.0.1:$DYN_PORT for the A query of dyn.$ZONE before the deadline"
        expect_json '.discovery[0].ok' false
        expect_json '.nodes | length' 0
        for p in /health /health/startup /health/cluster; do fetch "$p"; expect_http 503; done
        fetch /metrics
        expect_http 200
        expect_count "^beamprobe_discovery_ok{source=\"--dns dyn.$ZONE\"} 0$" 1
        expect_count "^beamprobe_discovery_last_success_timestamp_seconds{source=\"--dns dyn.$ZONE\"} 0$" 1
        expect_in "$(cat "$SLOG")" "discovery --dns dyn.$ZONE failed: no answer from 127.0.0.1:$DYN_PORT"
        kill -CONT "$DYN_PID"
        wait_body /health/ready .ok true 20
        expect_json '.node' "${NODES[0]}" # one target: its own answer
        expect_in "$(cat "$SLOG")" "discovery --dns dyn.$ZONE answered again after"
        fetch /metrics
        expect_count "^beamprobe_discovery_ok{source=\"--dns dyn.$ZONE\"} 1$" 1
        expect_count "^beamprobe_discovery_nodes{source=\"--dns dyn.$ZONE\"} 1$" 1
        expect_count "^beamprobe_up{node=\"${NODES[0]}\"} 1$" 1

        test_case "DNS (serve --rediscover 1s): a node added to DNS is probed, a node removed is dropped, without SIGHUP"
        printf '127.0.30.1 dyn.%s\n' "$ZONE" >>"$WORK/dyn-hosts"
        kill -HUP "$DYN_PID"
        wait_body /health/ready '.nodes | length' 2 10
        # the added address is named by its PTR record: the hosts line's name
        expect_json '[.nodes[] | .node] | sort | join(" ")' "$(printf '%s\n' "$BASE@dyn.$ZONE" "${NODES[0]}" | LC_ALL=C sort | paste -sd' ')"
        expect_json .ok false # nothing serves 127.0.30.1
        expect_in "$(cat "$SLOG")" "targets changed: 2 target(s), 1 added, 0 removed"
        printf '127.0.0.1 %s dyn.%s\n' "$HOST" "$ZONE" >"$WORK/dyn-hosts"
        kill -HUP "$DYN_PID"
        wait_body /health/ready .ok true 10
        expect_json .node "${NODES[0]}"
        expect_in "$(cat "$SLOG")" "targets changed: 1 target(s), 0 added, 1 removed"
        fetch /metrics
        expect_count "^beamprobe_up{" 1
        if grep -q reload "$SLOG"; then fail "serve reloaded: $(grep reload "$SLOG")"; else ok "no reload (no SIGHUP)"; fi

        test_case "DNS (serve): a failure after answers keeps the nodes found before; ready stays"
        kill -STOP "$DYN_PID"
        for _ in $(seq 60); do grep -q "keeping its 1 node(s) found before" "$SLOG" && break; sleep 0.1; done
        expect_in "$(cat "$SLOG")" "discovery --dns dyn.$ZONE failed: no answer from 127.0.0.1:$DYN_PORT"
        expect_in "$(cat "$SLOG")" "keeping its 1 node(s) found before"
        fetch /health/ready
        expect_http 200
        fetch /metrics
        expect_count "^beamprobe_discovery_ok{source=\"--dns dyn.$ZONE\"} 0$" 1
        kill -CONT "$DYN_PID"
        stop_serve
      fi
    fi

    test_case "DNS (system resolver): getaddrinfo/getnameinfo through resolv.conf, in a private namespace"
    NS_CMD=()
    if unshare --mount --net true 2>/dev/null; then NS_CMD=(unshare --mount --net)
    elif unshare --map-root-user --mount --net true 2>/dev/null; then NS_CMD=(unshare --map-root-user --mount --net)
    fi
    if (( ${#NS_CMD[@]} == 0 )); then
      echo "  SKIP  system-resolver DNS test: cannot create a mount+network namespace (needs root or user namespaces)"
    else
      printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' >"$WORK/resolv.conf"
      cat >"$WORK/inns.sh" <<EOF
set -e
ip link set lo up
mount --bind "$WORK/resolv.conf" /etc/resolv.conf
"$DNSMASQ" $(dnsmasq_args 53 "$WORK/dnsmasq-ns.log") &
for _ in \$(seq 50); do
  "$DISCOVER" discover dns "app.$ZONE" app --timeout 300 >/dev/null 2>&1 && break
  sleep 0.1
done
echo "== plain"
"$DISCOVER" discover dns "app.$ZONE" app 2>&1 || true
echo "== by-hostname"
"$DISCOVER" discover dns "app.$ZONE" app --by-hostname 2>&1 || true
echo "== missing"
"$DISCOVER" discover dns "missing.$ZONE" app 2>&1 || true
kill %1
wait || true
EOF
      set +e
      NSOUT=$("${NS_CMD[@]}" bash "$WORK/inns.sh" 2>&1)
      set -e
      if [[ $NSOUT == *"Sanitizer"* || $NSOUT == *"runtime error"* ]]; then fail "sanitizer report: $NSOUT"; fi
      OUT=$(sed -n '/^== plain/,/^== by-hostname/p' <<<"$NSOUT")
      for i in 1 2 3; do expect_line "app@127.0.20.$i"; done
      OUT=$(sed -n '/^== by-hostname/,/^== missing/p' <<<"$NSOUT")
      for i in 0 1 2; do expect_line "app@app-$i.app.$ZONE"; done
      OUT=$(sed -n '/^== missing/,$p' <<<"$NSOUT")
      expect_in "$OUT" "does not resolve"
    fi
  fi
fi

# ---------- Kubernetes API stand-in ----------

if ! command -v openssl >/dev/null; then
  echo "  SKIP  Kubernetes discovery: openssl(1) missing (apt-get install openssl)"
else
  "$ROOT/test/fixtures/k8s_api_stub/certs.sh" "$WORK" >/dev/null 2>&1
  echo "bp-it-token-$$-$RANDOM" >"$WORK/token"
  echo "not-the-token" >"$WORK/wrong-token"
  BP_K8S_DYN_FILE="$WORK/dyn-slices.json" \
    "$DISCOVER" serve-k8s "$WORK/srv.pem" "$WORK/srv.key" "$WORK/token" "$WORK/k8s.port" 2>"$WORK/k8s.err" &
  STUB_PID=$!
  BG_PIDS+=("$STUB_PID")
  for _ in $(seq 50); do [[ -s $WORK/k8s.port ]] && break; sleep 0.1; done
  API="https://127.0.0.1:$(cat "$WORK/k8s.port" 2>/dev/null)"
  K8S=(--api "$API" --token "$WORK/token" --ca "$WORK/ca.pem")

  test_case "Kubernetes: ready and not-ready addresses of a StatefulSet's Service (EndpointSlices)"
  disc k8s prod/app app "${K8S[@]}"
  expect_code 0
  expect_line "ready app@app-0.app.prod.svc.cluster.local"
  expect_line "ready app@app-4.app.prod.svc.cluster.local"
  expect_line "not-ready app@app-3.app.prod.svc.cluster.local"
  expect_line "source endpointslices"
  disc k8s prod/app app "${K8S[@]}" --ip-names --source endpoints
  expect_code 0
  expect_line "ready app@10.244.1.10"
  expect_line "not-ready app@10.244.3.12"
  expect_line "source endpoints"

  test_case "Kubernetes: fallback to Endpoints when the API has no EndpointSlices"
  disc k8s old/app app "${K8S[@]}"
  expect_code 0
  expect_line "source endpoints"

  test_case "Kubernetes: 401 with a wrong token"
  disc k8s prod/app app --api "$API" --token "$WORK/wrong-token" --ca "$WORK/ca.pem"
  expect_code 2
  expect_in "$ERR" "unauthorized"
  expect_in "$ERR" "HTTP 401"
  if [[ $ERR == *not-the-token* ]]; then fail "the token appears in the message"; else ok "token not shown"; fi

  test_case "Kubernetes: 403, 404, malformed body, wrong CA"
  disc k8s prod/forbidden app "${K8S[@]}"
  expect_code 2
  expect_in "$ERR" "HTTP 403"
  disc k8s prod/missing app "${K8S[@]}"
  expect_code 2
  expect_in "$ERR" "prod/missing not found"
  disc k8s prod/garbage app "${K8S[@]}"
  expect_code 2
  expect_in "$ERR" "malformed JSON"
  disc k8s prod/app app --api "$API" --token "$WORK/token" --ca "$WORK/other.pem"
  expect_code 2
  expect_in "$ERR" "certificate"

  test_case "Kubernetes: a slow API costs the deadline, not more"
  disc k8s prod/slow app "${K8S[@]}" --timeout 500
  expect_code 2
  expect_in "$ERR" "deadline"
  expect_le "$MS" 800 "ms"
  sleep 1 # the stand-in answers one request at a time: let it finish that nap

  # dyn_pods N...: the stand-in's prod/dyn Service has ready pods at 127.0.31.N (nothing serves them)
  dyn_pods() {
    local eps="" n
    for n in "$@"; do eps+="${eps:+,}{\"addresses\":[\"127.0.31.$n\"],\"conditions\":{\"ready\":true}}"; done
    printf '{"kind":"EndpointSliceList","apiVersion":"discovery.k8s.io/v1","metadata":{},"items":[{"metadata":{"name":"dyn-a","namespace":"prod","labels":{"kubernetes.io/service-name":"dyn"}},"addressType":"IPv4","endpoints":[%s]}]}\n' \
      "$eps" >"$WORK/dyn-slices.json.tmp"
    mv "$WORK/dyn-slices.json.tmp" "$WORK/dyn-slices.json"
  }
  wait_targets() { # wait_targets N SECONDS: until serve's /metrics has N beamprobe_up samples
    local t0 n=-1
    t0=$(date +%s%N)
    while (( ($(date +%s%N) - t0) / 1000000 <= $2 * 1000 )); do
      fetch /metrics
      n=$(grep -c '^beamprobe_up{' <<<"$OUT" || true)
      [[ $n == "$1" ]] && { ok "$1 target(s) after $(( ($(date +%s%N) - t0) / 1000000 )) ms"; return 0; }
      sleep 0.1
    done
    fail "$n target(s) after $2 s, expected $1: $(tail -3 "$SLOG")"
  }

  test_case "Kubernetes (serve): API not answering at start: live 200, ready 503 naming it; the pods once it answers"
  dyn_pods 1 2
  SERVE_PIDS=()
  start_receiver am
  BG_PIDS+=("$RPID")
  kill -STOP "$STUB_PID"
  serve_bg k8sdyn --node-basename app --k8s-endpoints prod/dyn --k8s-names ip --k8s-api "$API" \
    --k8s-token-file "$WORK/token" --k8s-ca-file "$WORK/ca.pem" --interval 300ms --timeout 500ms --rediscover 1s \
    --alertmanager "http://127.0.0.1:$RPORT" --alert-resend-interval 1s
  if [[ -n $PORT ]]; then
    fetch /health/live
    expect_http 200
    fetch /health/ready
    expect_http 503
    expect_json .reason "discovery --k8s-endpoints prod/dyn: no answer from the Kubernetes API at $API before the deadline"
    kill -CONT "$STUB_PID"
    wait_targets 2 20
    fetch /health/ready
    expect_json '[.nodes[] | .node] | join(" ")' "app@127.0.31.1 app@127.0.31.2"
    expect_json 'has("reason")' false

    test_case "Kubernetes (serve --rediscover 1s): a pod added is probed, pods removed are dropped, without SIGHUP"
    dyn_pods 1 2 3
    wait_targets 3 10
    expect_in "$(cat "$SLOG")" "targets changed: 3 target(s), 1 added, 0 removed"
    if wait_record am '.body[] | select(.labels.alertname == "BeamprobeNodeDown" and .labels.node == "app@127.0.31.1")' 10; then
      ok "app@127.0.31.1 (nothing serves it) fires BeamprobeNodeDown"
    else fail "no BeamprobeNodeDown for app@127.0.31.1: $(tail -2 "$WORK/am.jsonl")"; fi
    DROP_T=$(date +%s.%N)
    dyn_pods 3
    wait_targets 1 10
    # shellcheck disable=SC2016 # jq variables
    if wait_record am "$(printf '.t > %s and (.t as $t | any(.body[]; .labels.node == "app@127.0.31.1" and ((.endsAt[0:19] + "Z" | fromdate) <= $t)))' "$DROP_T")" 10; then
      ok "the dropped node's alert resolved"
    else fail "no resolved alert for the dropped app@127.0.31.1: $(tail -2 "$WORK/am.jsonl")"; fi
    expect_count '^beamprobe_up{node="app@127.0.31.3"} 0$' 1
    expect_in "$(cat "$SLOG")" "targets changed: 1 target(s), 0 added, 2 removed"
    if grep -q reload "$SLOG"; then fail "serve reloaded"; else ok "no reload (no SIGHUP)"; fi
    stop_serve
  else
    kill -CONT "$STUB_PID"
  fi
  sleep 0.6 # the stand-in answers one request at a time: let a late one finish

  # kcl ARGS...: beamprobe cluster against the stand-in (every name it finds is unreachable here)
  kcl() {
    cl --node-basename app --k8s-api "$API" --k8s-token-file "$WORK/token" --k8s-ca-file "$WORK/ca.pem" \
      --json --timeout 500ms "$@"
  }
  D=k8s.example.org
  test_case "Kubernetes (beamprobe cluster): --k8s-cluster-domain names StatefulSet pods"
  kcl --k8s-endpoints prod/app --k8s-cluster-domain "$D"
  expect_code 2
  expect_cluster_nodes "app@app-0.app.prod.svc.$D" "app@app-1.app.prod.svc.$D" "app@app-4.app.prod.svc.$D" \
    "app@app-2.app.prod.svc.$D" "app@app-3.app.prod.svc.$D"
  kcl --k8s-endpoints prod/app
  expect_cluster_nodes app@app-{0,1,2,3,4}.app.prod.svc.cluster.local

  test_case "Kubernetes (beamprobe cluster): --k8s-names ip, --k8s-source endpoints"
  kcl --k8s-endpoints prod/app --k8s-names ip --k8s-source endpoints
  expect_code 2
  expect_cluster_nodes app@10.244.1.10 app@10.244.2.11 app@10.244.3.12 # the Endpoints object's 3, not the slices' 5
  kcl --k8s-endpoints prod/web # EndpointSlices only: its Endpoints object is missing
  expect_cluster_nodes app@10.244.5.2 app@10.244.5.10
  kcl --k8s-endpoints prod/web --k8s-source endpoints
  expect_code 1
  expect_in "$ERR" "prod/web not found"
  kcl --k8s-endpoints old/app --k8s-source slices
  expect_code 1
  expect_in "$ERR" "does not serve EndpointSlices"

  test_case "Kubernetes (beamprobe cluster): bad values are usage errors"
  kcl --k8s-endpoints prod/app --k8s-names hostnames
  expect_code 1
  expect_in "$ERR" "--k8s-names"
  expect_in "$ERR" "expected auto"
  kcl --k8s-endpoints prod/app --k8s-source both
  expect_code 1
  expect_in "$ERR" "expected auto, slices or endpoints"
  kcl --k8s-endpoints prod/app --k8s-cluster-domain "bad..domain"
  expect_code 1
  expect_in "$ERR" "--k8s-cluster-domain"

  test_case "Kubernetes: the stand-in stops cleanly"
  kill "$STUB_PID"
  set +e; wait "$STUB_PID"; code=$?; set -e
  if [[ $code == 0 ]]; then ok "exit 0"; else fail "stand-in exit $code: $(tail -5 "$WORK/k8s.err")"; fi
  if grep -q -e Sanitizer -e "runtime error" "$WORK/k8s.err"; then fail "sanitizer report: $(head -20 "$WORK/k8s.err")"; fi
fi

finish
