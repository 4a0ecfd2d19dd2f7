#!/usr/bin/env bash
# Churn of bench/soak.sh: plans a seeded schedule of node kills, SIGSTOPs, governor flaps and serve reloads, and runs it.
#
# Usage:
#   soak_churn.sh plan SEED SECONDS NODES    prints the schedule: "T ACTION ARGS..." per line, T in
#                                            seconds from the start, sorted (same SEED, same schedule)
#   soak_churn.sh run SCHEDULE               runs it against the cluster and serve (environment below)
#
# Each kind of churn has its own period, drawn uniformly per event (seconds between two events):
#   kill    60-120  kill -9 a node (cluster.sh kill-node), restart it 2-8 s later (cluster.sh start-node)
#   stop    40-80   SIGSTOP a node, SIGCONT it 3-12 s later (then it reconnects to the others)
#   flap    15-30   one governor of a node to refusing (half the flaps) or warning|intervening|degraded,
#                   back to stable 3-10 s later
#   reload  60-120  serve's config loses one target (SIGHUP), gets it back 10-30 s later (SIGHUP)
# Nothing starts before 15 s, nothing ends after SECONDS - 5, and a node is in one churn at a time.
#
# Environment of `run`: CLUSTER (test/fixtures/cluster.sh), CL (cluster dir), SERVE_PID, CONF (the
# config file serve reads; CONF_DIR holds full.json and minus-I.json, I = 1..NODES), T0 (epoch seconds of
# T = 0), STOPFILE (stop after the current action once it exists), CHURN_LOG (one line per action:
# "epoch T action args... ok|failed|skipped").
set -uo pipefail

plan() {
  local seed=$1 secs=$2 n=$3
  awk -v seed="$seed" -v secs="$secs" 'function u(a, b) { return a + rand() * (b - a) }
    BEGIN { srand(seed)
      split("kill stop flap reload", kind, " "); split("60 40 15 60", lo, " "); split("120 80 30 120", hi, " ")
      for (k = 1; k <= 4; k++)
        for (t = 15 + u(0, lo[k]); t < secs - 5; t += u(lo[k], hi[k])) printf "%.1f %s\n", t, kind[k] }' \
  | sort -g -s \
  | awk -v seed="$seed" -v secs="$secs" -v n="$n" 'function u(a, b) { return a + rand() * (b - a) }
    function pick(t,   i, c, f) { c = 0; for (i = 1; i <= n; i++) if (busy[i] <= t) f[++c] = i
      return c ? f[int(rand() * c) + 1] : 0 }
    BEGIN { srand(seed + 1); split("cost_guard rollback_guard backlog_valve", gov, " ")
      split("refusing refusing refusing warning intervening degraded", st, " ") }
    $2 == "kill"   { d = u(2, 8); if ($1 + d + 10 > secs - 5 || !(i = pick($1))) next
                     printf "%.1f kill %d\n%.1f restart %d\n", $1, i, $1 + d, i; busy[i] = $1 + d + 15 }
    $2 == "stop"   { d = u(3, 12); if ($1 + d > secs - 5 || !(i = pick($1))) next
                     printf "%.1f stop %d\n%.1f cont %d\n", $1, i, $1 + d, i; busy[i] = $1 + d + 2 }
    $2 == "flap"   { d = u(3, 10); if ($1 + d > secs - 5 || !(i = pick($1))) next
                     g = gov[int(rand() * 3) + 1]
                     printf "%.1f flap %d %s %s\n%.1f flap %d %s stable\n", $1, i, g, st[int(rand() * 6) + 1], $1 + d, i, g
                     busy[i] = $1 + d + 1 }
    $2 == "reload" { d = u(10, 30); if ($1 + d > secs - 5 || $1 < rbusy) next
                     printf "%.1f reload-remove %d\n%.1f reload-full 0\n", $1, int(rand() * n) + 1, $1 + d; rbusy = $1 + d + 5 }' \
  | sort -g -s
}

node_name() { sed -n "${1}p" "$CL/nodes"; }
node_pid() { local s; s=$(node_name "$1"); [[ -f "$CL/${s%@*}.pid" ]] && tr -dc '0-9' <"$CL/${s%@*}.pid" 2>/dev/null; }
node_up() { local p; p=$(node_pid "$1"); [[ -n "$p" && -d /proc/$p ]]; }

# act ACTION I [ARGS]: one action; returns non-zero if it failed, 2 if skipped.
act() {
  local a=$1 i=$2 node p
  ((i > 0)) && node=$(node_name "$i")
  case "$a" in
    kill) node_up "$i" || return 2; "$CLUSTER" kill-node "$CL" "$node" >/dev/null 2>&1 ;;
    restart) node_up "$i" && return 2; "$CLUSTER" start-node "$CL" "$node" >/dev/null 2>>"$CHURN_LOG.err" ;;
    stop) node_up "$i" || return 2; kill -STOP "$(node_pid "$i")" ;;
    cont)
      p=$(node_pid "$i"); [[ -n "$p" ]] || return 2
      kill -CONT "$p" || return 1
      local all; all=$(sed "s/.*/'&'/" "$CL/nodes" | paste -sd,)
      "$CLUSTER" eval "$CL" "$node" "[net_kernel:connect_node(N) || N <- [$all]], ok." >/dev/null 2>&1 ;;
    flap) node_up "$i" || return 2; "$CLUSTER" eval "$CL" "$node" "ok = demo_governor:set_state($3, $4)." >/dev/null 2>&1 ;;
    reload-remove | reload-full)
      if [[ "$a" == reload-full ]]; then cp "$CONF_DIR/full.json" "$CONF.tmp"; else cp "$CONF_DIR/minus-$i.json" "$CONF.tmp"; fi
      mv "$CONF.tmp" "$CONF" && kill -HUP "$SERVE_PID" ;;
    *) return 1 ;;
  esac
}

run() {
  local t a i x y rc res
  trap - EXIT INT TERM
  while read -r t a i x y; do
    while [[ ! -e "$STOPFILE" ]] && awk -v now="$EPOCHREALTIME" -v due="$((T0))" -v t="$t" 'BEGIN { exit !(now < due + t) }'; do
      sleep 0.2
    done
    [[ -e "$STOPFILE" ]] && break
    rc=0; act "$a" "$i" "$x" "$y" || rc=$?
    case $rc in 0) res=ok ;; 2) res=skipped ;; *) res=failed ;; esac
    printf '%s %s %s %s %s %s %s\n' "$EPOCHSECONDS" "$t" "$a" "$i" "${x:--}" "${y:--}" "$res" >>"$CHURN_LOG"
  done <"$1"
}

case "${1:-}" in
  plan) [[ $# -eq 4 ]] || { echo "usage: soak_churn.sh plan SEED SECONDS NODES" >&2; exit 2; }; plan "$2" "$3" "$4" ;;
  run) [[ $# -eq 2 ]] || { echo "usage: soak_churn.sh run SCHEDULE" >&2; exit 2; }; run "$2" ;;
  *) echo "usage: soak_churn.sh plan SEED SECONDS NODES | run SCHEDULE" >&2; exit 2 ;;
esac
