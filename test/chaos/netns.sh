#!/usr/bin/env bash
# netns.sh: the chaos topology (network namespaces, veths, a fault-injecting hub, demo nodes) and its teardown (sourced by run.sh).
#
# Namespaces, all named $NS_PREFIX* (unique per run): ${NS_PREFIX}h (the hub: test/chaos/hub.py joins
# the hub ends of the veths), ${NS_PREFIX}p (beamprobe, 10.77.0.1), ${NS_PREFIX}1..N (one demo node
# each, app@10.77.0.(1+i): one name on every host, as in a StatefulSet; its own loopback and epmd),
# ${NS_PREFIX}d (10.77.0.53, dnsmasq answering app.chaos.test with the nodes' addresses; a fault
# drops its queries). In each leaf namespace the veth end is eth0; in the hub it is v<leaf>.

SUBNET=10.77.0
DIST_PORT=9100

# ns_probe_supported: can this machine make a network namespace, a veth pair in it and an iptables
# rule there (a quick add/del), and are the tools there?
ns_probe_supported() {
  local probe="bpchk$$" rc=0
  for tool in ip iptables ethtool python3 dnsmasq erl_call curl jq; do
    command -v "$tool" >/dev/null || { echo "chaos: $tool not found" >&2; return 1; }
  done
  ip netns add "$probe" 2>/dev/null || return 1
  { ip -n "$probe" link add name a type veth peer name b &&
    ip netns exec "$probe" iptables -A INPUT -p tcp --dport 4369 -j DROP; } >/dev/null 2>&1 || rc=1
  ip netns del "$probe" 2>/dev/null || true
  return $rc
}

# ns_workspace PREFIX TAG: the run's names (NS_PREFIX=PREFIX), a temporary WORK directory with a
# fresh cookie (WORK/cookie, and WORK/home/.erlang.cookie for the nodes), and an EXIT trap that
# deletes the namespaces, everything in them, and WORK, whatever happens.
ns_workspace() {
  NS_PREFIX=$1
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/bp-$2.XXXXXX")
  chmod 755 "$WORK"
  NS_MADE=()
  trap 'net_down; rm -rf "$WORK"' EXIT
  mkdir -p "$WORK/home"
  (umask 277 && head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$WORK/cookie" && cp "$WORK/cookie" "$WORK/home/.erlang.cookie")
}

in_ns() { local ns=$1; shift; ip netns exec "$NS_PREFIX$ns" "$@"; }

# leaf NAME IP: a namespace with loopback and eth0 (IP/24) linked to the hub as vNAME.
leaf() {
  local name=$1 ip=$2 ns=$NS_PREFIX$1
  ip netns add "$ns"
  NS_MADE+=("$ns")
  ip link add eth0 netns "$ns" type veth peer name "v$name" netns "${NS_PREFIX}h"
  in_ns "$name" ip link set lo up
  in_ns "$name" ip addr add "$ip/24" dev eth0
  in_ns "$name" ethtool -K eth0 tx off sg off tso off gso off gro off >/dev/null 2>&1 || true
  in_ns "$name" ip link set eth0 up
  in_ns h ethtool -K "v$name" tx off sg off tso off gso off gro off >/dev/null 2>&1 || true
  in_ns h ip link set "v$name" up
  HUB_PORTS+=("v$name")
}

# net_up NODES: the hub, the probe's namespace, NODES node namespaces and the DNS server.
net_up() {
  local i
  NS_MADE=() HUB_PORTS=()
  ip netns add "${NS_PREFIX}h"
  NS_MADE+=("${NS_PREFIX}h")
  leaf p "$SUBNET.1"
  for i in $(seq "$1"); do leaf "$i" "$SUBNET.$((1 + i))"; done
  leaf d "$SUBNET.53"
  for i in $(seq "$1"); do echo "$SUBNET.$((1 + i)) app.chaos.test"; done >"$WORK/hosts"
  # background jobs run ip itself, not in_ns: a function would leave a subshell behind to report the kill
  ip netns exec "${NS_PREFIX}d" dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts --no-poll --no-negcache \
    --addn-hosts="$WORK/hosts" --listen-address="$SUBNET.53" --bind-interfaces --port=53 --pid-file= \
    --log-facility="$WORK/dnsmasq.log" --user=root &
  disown
  HUB_CTL=$WORK/hub.sock
  ip netns exec "${NS_PREFIX}h" python3 "$HERE/hub.py" serve "$HUB_CTL" "${HUB_PORTS[@]}" 2>"$WORK/hub.log" &
  disown
  for _ in $(seq 100); do [[ -S $HUB_CTL ]] && break; sleep 0.05; done
  [[ -S $HUB_CTL ]] || { echo "chaos: the hub did not start: $(cat "$WORK/hub.log")" >&2; return 1; }
}

# hub IFACE ARGS...: set or read the faults on the frames coming from IFACE (hub.py ctl).
hub() { python3 "$HERE/hub.py" ctl "$HUB_CTL" "$@" >/dev/null; }

# net_down: kill every process in our namespaces (the nodes, their epmds, the hub, anything we
# started there), then delete the namespaces (their veths go with them).
net_down() {
  local ns p
  for ns in "${NS_MADE[@]}"; do
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -CONT "$p" 2>/dev/null || true; kill -KILL "$p" 2>/dev/null || true; done
  done
  for ns in "${NS_MADE[@]}"; do
    for _ in $(seq 40); do [[ -z $(ip netns pids "$ns" 2>/dev/null) ]] && break; sleep 0.05; done
    ip netns del "$ns" 2>/dev/null || true
  done
  NS_MADE=()
}

# node_start I [ERL_ARGS...]: epmd and demo node app@IP in namespace I (does not wait).
node_start() {
  local i=$1; shift
  in_ns "$i" epmd -daemon
  (cd "$WORK" && exec ip netns exec "$NS_PREFIX$i" env HOME="$WORK/home" BP_PIDFILE="$WORK/n$i.pid" \
     ERL_CRASH_DUMP="$WORK/n$i.crashdump" erl -name "app@$SUBNET.$((1 + i))" -noinput \
     -pa "$ROOT/test/fixtures/demo/ebin" -kernel inet_dist_listen_min $DIST_PORT inet_dist_listen_max $DIST_PORT \
     "$@" -eval 'demo:boot()' </dev/null >"$WORK/n$i.log" 2>&1) &
  disown
}

node_name() { echo "app@$SUBNET.$((1 + $1))"; }

# node_eval I 'Expr.': evaluate Expr on node I from the probe's namespace (erl_call, 10 s bound).
node_eval() {
  local out
  out=$(echo "$2" | in_ns p env HOME="$WORK/home" timeout -k 1 12 erl_call -name "ctl$RANDOM@$SUBNET.1" \
          -n "$(node_name "$1")" -timeout 10 -e 2>&1) || { echo "chaos: eval on node $1 failed: $out" >&2; return 1; }
  echo "$out"
}

# nodes_ready N: wait (20 s) until the N nodes wrote their pid files, then mesh them.
nodes_ready() {
  local i list=""
  for i in $(seq "$1"); do
    for _ in $(seq 400); do [[ -s $WORK/n$i.pid ]] && break; sleep 0.05; done
    [[ -s $WORK/n$i.pid ]] || { echo "chaos: node $i did not start: $(tail -5 "$WORK/n$i.log")" >&2; return 1; }
    list+="${list:+,}'$(node_name "$i")'"
  done
  for i in $(seq "$1"); do
    [[ $(node_eval "$i" "demo:join([$list], 15000).") == "{ok, {ok, $(($1 - 1))}}" ]] ||
      { echo "chaos: node $i did not join the mesh" >&2; return 1; }
  done
}
