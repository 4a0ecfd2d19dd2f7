#!/usr/bin/env bash
# run.sh: `make chaos`: beamprobe check, serve and cluster against demo nodes in network namespaces while the network misbehaves.
#
# Topology (test/chaos/netns.sh): one namespace per demo node (10.77.0.2-4, own loopback and epmd,
# -kernel net_ticktime 4), one for beamprobe (10.77.0.1), one for dnsmasq (10.77.0.53, naming
# the nodes' addresses app.chaos.test), all joined by veth pairs to a hub namespace where test/chaos/hub.py forwards
# the frames and adds delay, loss and reordering (this kernel has no sch_netem; hub.py does what
# `tc qdisc ... netem` would on the node's end of its veth). Cuts are iptables rules inside the
# node's namespace. Prints one table row per fault: what was expected, the answer time, the exit
# code or HTTP status, pass or fail. Skips (exit 0) when network namespaces cannot be made.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BEAMPROBE=${BEAMPROBE:-$ROOT/priv/beamprobe}
# shellcheck source=test/chaos/netns.sh
source "$HERE/netns.sh"
# shellcheck source=test/chaos/measure.sh
source "$HERE/measure.sh"
# shellcheck source=test/chaos/faults.sh
source "$HERE/faults.sh"
# shellcheck source=test/integration/serve_lib.sh
source "$ROOT/test/integration/serve_lib.sh" # listen_port

if [[ $(id -u) != 0 ]] || ! ns_probe_supported; then
  echo "chaos: SKIP: needs root, network namespaces (ip netns add), iptables, ethtool and python3"
  exit 0
fi
[[ -x $BEAMPROBE ]] || { echo "chaos: $BEAMPROBE not built (make build)" >&2; exit 1; }
DISCOVER=$ROOT/build/test_discover
make -s -C "$ROOT/c_src" "$DISCOVER" >/dev/null
"$ROOT/test/fixtures/demo/build.sh" >/dev/null

ns_workspace "bpch$$" chaos
T0=$SECONDS

net_up 3
for i in 1 2 3; do node_start "$i" -kernel net_ticktime 4; done
nodes_ready 3
N1=$(node_name 1) N2=$(node_name 2) N3=$(node_name 3)
BP=(ip netns exec "${NS_PREFIX}p" "$BEAMPROBE")
COMMON=(--cookie-file "$WORK/cookie" --cnode-host "$SUBNET.1")
echo "chaos: 3 nodes up in namespaces ${NS_PREFIX}1..3 ($((SECONDS - T0)) s; load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores)"

# the HTTP side: serve probing the three nodes over persistent connections
serve_start main --node "$N1,$N2,$N3" --interval 250ms --timeout 500ms
MAIN_PORT=$PORT
fault "none (baseline)"
serve_node_is "$MAIN_PORT" "$N1" healthy 5
check_runs 3 1000 "0" --node "$N1" --governor cost_guard --supervisor demo_sup
live_fast "$MAIN_PORT"

fault "delay 200 ms, --timeout 3s"
hub v1 delay=200
check_runs 3 3000 "0" --node "$N1"
slower_than 400  # 200 ms a round trip: the fault is really there
PLAIN=$MEDIAN
check_runs 3 3000 "0" --node "$N1" --plan auto --json --governor cost_guard,rollback_guard,backlog_valve \
  --supervisor demo_sup --require-app demo
expect_out '"plan": "one-round"' # --plan auto: a 200 ms connect, so the one round trip
# the full check's request (57 KB of parameters, 9 KB compressed) fits TCP's initial window: no
# round trip more than the plain probe's one (it cost two before the parameters were compressed)
row "full check (one request) within 100 ms of the plain probe" "$MEDIAN against $PLAIN ms" "-" \
  "$((MEDIAN - PLAIN < 100 ? 0 : 1))"
check_runs 1 3000 "0" --node "$N1" --plan auto --json
expect_out '"plan": "one-round"' # the plain probe too: its 3 KB request, one round trip wherever its cgroup is
live_fast "$MAIN_PORT"
serve_node_is "$MAIN_PORT" "$N1" healthy 3

fault "delay 200 ms, --timeout 500ms"
check_runs 3 500 "2" --node "$N1"
hub v1 clear

fault "loss 5%, --timeout 3s"
hub v1 loss=5
check_runs 5 3000 "0 2 3" --node "$N1"
at_least_healthy 3
live_fast "$MAIN_PORT"

fault "loss 30%, --timeout 1s"
hub v1 loss=30
check_runs 5 1000 "0 2 3" --node "$N1"
live_fast "$MAIN_PORT"
hub v1 clear

fault "reordering (30% early, others 20 ms late)"
hub v1 delay=20 reorder=30
check_runs 3 2000 "0" --node "$N1" --supervisor demo_sup --governor cost_guard,rollback_guard,backlog_valve
hub v1 clear

fault "cut in the handshake (TCP up, then nothing)"
# from the probe's address, the SYN gets through (TCP connects) and every later segment to the
# distribution port is dropped; serve's open connection is cut too, the mesh is not
in_ns 1 iptables -A INPUT -s "$SUBNET.1" -p tcp --dport "$DIST_PORT" --tcp-flags SYN,ACK,FIN,RST SYN -j ACCEPT
in_ns 1 iptables -A INPUT -s "$SUBNET.1" -p tcp --dport "$DIST_PORT" -j DROP
check_runs 3 1000 "2" --node "$N1"
live_fast "$MAIN_PORT"
serve_node_is "$MAIN_PORT" "$N1" "unhealthy( incomplete)?" 5
serve_node_is "$MAIN_PORT" "$N2" healthy 1
in_ns 1 iptables -F INPUT
serve_node_is "$MAIN_PORT" "$N1" healthy 2

fault "cut mid-RPC (governor answering in 1.5 s)"
cut_mid_rpc "$N1"
serve_node_is "$MAIN_PORT" "$N1" healthy 2  # serve's own connection was cut as well

fault "EPMD unreachable (4369 dropped)"
in_ns 1 iptables -A INPUT -p tcp --dport 4369 -j DROP
check_runs 3 1000 "2" --node "$N1"
expect_err "EPMD"
live_fast "$MAIN_PORT"
serve_node_is "$MAIN_PORT" "$N1" healthy 1  # its connection is up: EPMD is not asked again
in_ns 1 iptables -F INPUT

fault "link cut (every frame from node 1 lost)"
hub v1 loss=100
check_runs 3 1000 "2" --node "$N1"
serve_node_is "$MAIN_PORT" "$N1" "unhealthy( incomplete)?" 5
live_fast "$MAIN_PORT"
hub v1 clear
serve_node_is "$MAIN_PORT" "$N1" healthy 2  # a session that heard nothing in a round is dropped
remesh

fault "DNS server silent (discovery at start)"
serve_start dns --dns app.chaos.test --node-basename app --dns-server "$SUBNET.53" --interval 250ms --timeout 500ms
DNS_PORT=$PORT DNS_SERVE=$SERVE_PID
serve_node_is "$DNS_PORT" "$N2" healthy 5  # found through DNS while it answered
in_ns d iptables -A INPUT -p udp --dport 53 -j DROP
in_ns d iptables -A INPUT -p tcp --dport 53 -j DROP
cluster_run 1000 "1" --dns app.chaos.test --node-basename app --dns-server "$SUBNET.53"
expect_err "no answer from $SUBNET.53:53"

fault "DNS server silent: serve starting (not ready, asks again in the background)"
BOOT_T0=$(date +%s%N)
serve_start boot --dns app.chaos.test --node-basename app --dns-server "$SUBNET.53" --interval 250ms --timeout 500ms
BOOT_MS=$(( ($(date +%s%N) - BOOT_T0) / 1000000 ))
BOOT_PORT=$PORT
row "serve listens within --timeout + 500 ms" "after $BOOT_MS ms" "-" "$((BOOT_MS <= 1000 ? 0 : 1))"
serve_pending "$BOOT_PORT" "discovery --dns app.chaos.test: no answer from $SUBNET.53:53"
live_fast "$BOOT_PORT"

fault "DNS server silent (serve re-discovering on SIGHUP)"
reload_while_fast "$DNS_PORT" "$DNS_SERVE" dns "keeping its 3 node(s) found before"
serve_node_is "$DNS_PORT" "$N2" healthy 1

fault "DNS server answering again (serve started while it was silent)"
in_ns d iptables -F INPUT
serve_node_is "$BOOT_PORT" "$N2" healthy 20  # the next retry (1 s, 2 s, 4 s, ... apart) finds the nodes

fault "Kubernetes API answering in 1.2 s"
k8s_start
cluster_run 500 "1" --node-basename app --k8s-endpoints prod/slow "${K8S[@]}"
expect_err "before the deadline"
sleep 1 # the stand-in answers one request at a time
serve_start k8s --node-basename app --k8s-endpoints prod/slow "${K8S[@]}" --interval 250ms --timeout 2s
reload_while_fast "$PORT" "$SERVE_PID" k8s "configuration reloaded"

fault "partition n1 | n2 (iptables; noticed by net_ticktime 4 s)"
partition_and_heal

summary
