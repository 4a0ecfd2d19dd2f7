#!/usr/bin/env bash
# faults.sh: the chaos faults that take more than one step: a cut mid-RPC, the slow Kubernetes API, a partition and its healing (sourced by run.sh).

# dist_conns: established TCP connections from the probe's namespace to node 1's distribution port.
dist_conns() { in_ns p ss -Htn state established dst "$SUBNET.2" dport = :"$DIST_PORT" | wc -l; }

# cut_mid_rpc NODE: node 1's cost_guard answers sys:get_state after 1.5 s. Without a cut, check
# (--timeout 2500ms) waits for it and exits 0; cut once check's connection is up (both directions
# of the distribution port dropped in node 1's namespace), the reply never comes: exit 3 by the
# deadline, the governor reported as not answered in time (not as stuck).
cut_mid_rpc() {
  local gov=(--node "$1" --governor cost_guard --governor-timeout 2300ms) before
  node_eval 1 "demo_governor:hang(cost_guard, 1500)." >/dev/null
  runs 1 check 2500 "0" "${gov[@]}"
  row "no cut: waits for the slow governor" "$MS ms" "exit $RC" "$((MS >= 500 ? 0 : 1))"
  sleep 0.6
  before=$(dist_conns)
  node_eval 1 "demo_governor:hang(cost_guard, 1500)." >/dev/null
  (runs 1 check 2500 "3" "${gov[@]}" >"$WORK/midrpc.out"
   declare -p ROWS FAILS MS RC ERRTXT OUTTXT | sed 's/^declare -/declare -g -/' >"$WORK/midrpc.vars") &
  local pid=$!
  for _ in $(seq 100); do (($(dist_conns) > before)) && break; sleep 0.01; done
  sleep 0.1 # the handshake (a few ms here) is over, the calls are out
  in_ns 1 iptables -A INPUT -p tcp --dport "$DIST_PORT" -j DROP
  in_ns 1 iptables -A OUTPUT -p tcp --sport "$DIST_PORT" -j DROP
  wait "$pid" || true
  cat "$WORK/midrpc.out"
  # shellcheck disable=SC1091
  source "$WORK/midrpc.vars"
  expect_out "timed out after 2500 ms waiting for sys:get_state"
  in_ns 1 iptables -F INPUT
  in_ns 1 iptables -F OUTPUT
}

# k8s_start: the Kubernetes API stand-in (test_discover serve-k8s, HTTPS on the probe namespace's
# loopback; its prod/slow answers after 1.2 s); sets K8S (the beamprobe options that reach it).
k8s_start() {
  "$ROOT/test/fixtures/k8s_api_stub/certs.sh" "$WORK" >/dev/null 2>&1
  echo "bp-chaos-token-$$-$RANDOM" >"$WORK/token"
  ip netns exec "${NS_PREFIX}p" "$DISCOVER" serve-k8s "$WORK/srv.pem" "$WORK/srv.key" "$WORK/token" "$WORK/k8s.port" 2>"$WORK/k8s.err" &
  disown
  for _ in $(seq 50); do [[ -s $WORK/k8s.port ]] && break; sleep 0.1; done
  # shellcheck disable=SC2034 # read by run.sh
  K8S=(--k8s-api "https://127.0.0.1:$(cat "$WORK/k8s.port")" --k8s-token-file "$WORK/token" --k8s-ca-file "$WORK/ca.pem")
}

# cluster_until CODE SECS: run `cluster --nodes N1,N2,N3` every 0.3 s until it exits CODE; sets WAITED (ms).
cluster_until() {
  local want=$1 limit=$2 t0
  t0=$(date +%s%N)
  while :; do
    run_once cluster 1000 --nodes "$N1,$N2,$N3" --json
    WAITED=$(( ($(date +%s%N) - t0) / 1000000 ))
    [[ $RC == "$want" ]] && return 0
    ((WAITED < limit * 1000)) || return 1
    sleep 0.3
  done
}

# partition_and_heal: drop everything between node 1 and node 2 (in node 1's namespace); the nodes
# notice by net_ticktime (4 s), cluster reports it (exit 4); the rules go, the nodes ping each other
# back, cluster reports the healed mesh (exit 0).
partition_and_heal() {
  local verdict ok
  ok=1; cluster_until 0 5 && ok=0
  row "before: cluster exit 0" "$MS ms" "exit $RC" "$ok"
  in_ns 1 iptables -A INPUT -s "$SUBNET.3" -j DROP
  in_ns 1 iptables -A OUTPUT -d "$SUBNET.3" -j DROP
  ok=1; cluster_until 4 20 && ok=0
  verdict=$(jq -r .verdict <<<"$OUTTXT" 2>/dev/null || true)
  [[ $verdict == partitioned || $verdict == degraded ]] || ok=1
  row "cluster exit 4 (partitioned/degraded) once ticks time out" "after $WAITED ms; this run $MS ms" "exit $RC, $verdict" "$ok"
  row "that cluster run answers in <= 1100 ms" "$MS ms" "exit $RC" "$((MS <= 1100 ? 0 : 1))"
  in_ns 1 iptables -F INPUT
  in_ns 1 iptables -F OUTPUT
  fault "healed n1 - n2 (rules removed, net_adm:ping)"
  remesh
}

# remesh: every node pings the others; cluster must report the mesh converged again (10 s).
remesh() {
  local i j list ok=1
  for i in 1 2 3; do
    list=""
    for j in 1 2 3; do ((i == j)) || list+="${list:+,}'$(node_name "$j")'"; done
    node_eval "$i" "[net_adm:ping(N) || N <- [$list]]." >/dev/null || true
  done
  cluster_until 0 10 && ok=0
  row "mesh rejoined (net_adm:ping): cluster exit 0" "after $WAITED ms" "exit $RC, $(jq -r .verdict <<<"$OUTTXT" 2>/dev/null)" "$ok"
}

# serve_pending PORT TEXT: serve answers /health/live 200 and /health/ready 503 with a reason saying
# TEXT (a discovery source has not answered yet).
serve_pending() {
  local live ready code reason ok=1
  live=$(in_ns p curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$1/health/live" || true)
  ready=$(in_ns p curl -s -m 2 -w '\n%{http_code}' "http://127.0.0.1:$1/health/ready" || true)
  code=${ready##*$'\n'}
  reason=$(head -1 <<<"$ready" | jq -r '.reason // empty' 2>/dev/null || true)
  [[ $live == 200 && $code == 503 && $reason == *"$2"* ]] && ok=0
  row "serve /health/live 200, /health/ready 503 naming the source" "-" "HTTP $live, $code: ${reason:0:70}" "$ok"
}

# reload_while_fast PORT PID NAME LOGTEXT: SIGHUP serve PID (it discovers again, from the signal
# thread) and keep asking /health/live and /health during the reload (40 each, 20 a second);
# serve's log NAME must then say LOGTEXT.
reload_while_fast() {
  local port=$1 pid=$2 log="$WORK/serve-$3.log" text=$4 t0 ok=1
  t0=$(date +%s%N)
  kill -HUP "$pid"
  (for _ in $(seq 200); do grep -q "$text" "$log" && break; sleep 0.02; done
   echo $(( ($(date +%s%N) - t0) / 1000000 )) >"$WORK/reload.ms") &
  local waiter=$!
  live_fast "$port" 40 20/s
  wait "$waiter" || true
  grep -q "$text" "$log" && ok=0
  row "serve logs '$text' (reload done)" "after $(cat "$WORK/reload.ms") ms" "$(grep -o "reload.*" "$log" | tail -1 | cut -c1-80)" "$ok"
}
