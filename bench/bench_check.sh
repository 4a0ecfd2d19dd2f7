#!/usr/bin/env bash
# Benchmarks `beamprobe check` against erl_call and an escript ping on a fresh local 3-node demo cluster.
#
# Usage: bench/bench_check.sh [N]        N probes per contender (default 200)
#
# Contenders, run in interleaved rounds (the order rotates every round) against node 1:
#   A  beamprobe check, all checks (governors, supervisor, application, cluster size), --plan
#      one-round: one round trip
#   M  the same with --plan multi-round (the rounds of the collector, one after another)
#   U  the same with the default plan, auto (which picks by the TCP connect's time; main run only:
#      the delay proxy cannot delay a TCP connect, so auto would pick as on loopback)
#   B  erl_call fetching one fact (erlang:memory(total)), the way release scripts ask a node
#   C  erl_call fetching the facts A collects, one erl_call per fact
#   D  an escript that starts a hidden node and net_adm:ping/1s the target
# Per probe: wall time (median, p90), CPU user+sys of the probe's processes (wait4 rusage),
# peak RSS, CPU burnt by the target BEAM (all its threads' schedstat), target atom growth.
# Then round-trip evidence (strace, tcpdump) and a latency experiment (netem if the kernel
# has it, otherwise bench/delay_proxy.py, a userspace delaying EPMD + relay).
#
# Extra Debian packages, installed with apt-get only if missing: strace tcpdump python3
# (the project's own dependencies come from scripts/install-deps.sh, run if erl/jq/tc are missing).
#
# Environment: BENCH_WARMUP rounds not recorded (2); BENCH_SETTLE_MS pause after each probe
# before reading the target's CPU (10); BENCH_DELAY_MS one-way delay (20, 0 skips the
# experiment); BENCH_DELAY_REPS probes per contender in it (10); BENCH_BREAKDOWN_REPS rounds of
# the beamprobe-variants breakdown (min(N, 100)); BENCH_OUT results file (bench/results/
# check-DATE.md, per-probe samples in the .csv beside it); BENCH_KEEP=1 keeps the temp dir.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH="$ROOT/bench"
CLUSTER="$ROOT/test/fixtures/cluster.sh"
BP="$ROOT/priv/beamprobe"
RUNNER=(python3 "$BENCH/bench_runner.py")
EXTRA_PACKAGES=(strace tcpdump python3)

# shellcheck source=bench/lib.sh
. "$BENCH/lib.sh"

N=${1:-200}
WARMUP=${BENCH_WARMUP:-2}
SETTLE_MS=${BENCH_SETTLE_MS:-10}
DELAY_MS=${BENCH_DELAY_MS:-20}
DELAY_REPS=${BENCH_DELAY_REPS:-10}
BREAKDOWN_REPS=${BENCH_BREAKDOWN_REPS:-$((N < 100 ? N : 100))}
STAMP=$(date +%Y%m%d-%H%M%S)
OUT=${BENCH_OUT:-$ROOT/bench/results/check-$STAMP.md}
CSV="${OUT%.md}.csv"

[[ "$N" =~ ^[1-9][0-9]*$ ]] || die "N must be a positive integer (got '$N')"
[[ "$WARMUP" =~ ^[0-9]+$ && "$DELAY_REPS" =~ ^[1-9][0-9]*$ && "$DELAY_MS" =~ ^[0-9]+$
   && "$BREAKDOWN_REPS" =~ ^[1-9][0-9]*$ ]] \
  || die "BENCH_WARMUP, BENCH_DELAY_REPS, BENCH_BREAKDOWN_REPS and BENCH_DELAY_MS must be integers"

# ---------- tools ----------

ensure_packages erl jq tc
find_erl_call
ESCRIPT=$(command -v escript) || die "escript not found"
ensure_beamprobe

# ---------- cluster and cleanup ----------

PROXY_PIDS=()
TCPDUMP_PID=
NETEM=0
# cleanup_extra: run by bench_cleanup (bench/lib.sh) before it stops the cluster.
cleanup_extra() {
  local p
  [[ -n "${CHILD:-}" ]] && kill "$CHILD" 2>/dev/null || true
  for p in "${PROXY_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  [[ -n "$TCPDUMP_PID" ]] && kill "$TCPDUMP_PID" 2>/dev/null || true
  if ((NETEM)); then tc qdisc del dev lo root 2>/dev/null || say "warning: could not remove the netem qdisc on lo"; fi
}
bench_tmp bench_check

mkdir -p "$CL" "$(dirname "$OUT")"
private_beamprobe
cc -O2 -Wall -o "$TMP/measure" "$BENCH/measure.c" || die "cannot compile bench/measure.c"
PREFIX="bpbench$$"
say "starting a fresh 3-node demo cluster (${PREFIX}_1..3)"
start_cluster 3 "$PREFIX"
TARGET_PID=$(node_os_pid "$NODE")
DIST_PORT=$(epmd -names | awk -v n="${NODE%@*}" '$1 == "name" && $2 == n { print $5 }')
[[ -n "$DIST_PORT" ]] || die "$NODE is not registered with EPMD"

# ---------- contenders ----------

A_CHECKS=(--governor cost_guard,rollback_guard,backlog_valve --supervisor demo_sup --require-app demo --expect-size 3)
A_ARGS=(check "$NODE" --cookie-file "$COOKIE_FILE" "${A_CHECKS[@]}" --plan one-round)
U_ARGS=(check "$NODE" --cookie-file "$COOKIE_FILE" "${A_CHECKS[@]}")
GOVS=(cost_guard rollback_guard backlog_valve)
# The target's memory cgroup files, located the way beamprobe does (its own cgroup, v2 or v1).
CG_V2=$(awk -F: '$1 == "0" { print $3 }' "/proc/$TARGET_PID/cgroup")
CG_V1=$(awk -F: '$2 ~ /(^|,)memory(,|$)/ { print $3 }' "/proc/$TARGET_PID/cgroup")
if [[ -f /sys/fs/cgroup/cgroup.controllers && -f "/sys/fs/cgroup${CG_V2%/}/memory.max" ]]; then
  CG=("/sys/fs/cgroup${CG_V2%/}/memory.max" "/sys/fs/cgroup${CG_V2%/}/memory.current")
elif [[ -n "$CG_V1" && -f "/sys/fs/cgroup/memory${CG_V1%/}/memory.limit_in_bytes" ]]; then
  CG=("/sys/fs/cgroup/memory${CG_V1%/}/memory.limit_in_bytes" "/sys/fs/cgroup/memory${CG_V1%/}/memory.usage_in_bytes")
else
  CG=(/sys/fs/cgroup/memory.max /sys/fs/cgroup/memory.current)
fi
# One erl_call per fact beamprobe collects (see c_src/dist/collect.c); -a args are Erlang terms.
C_FACTS=(
  'erlang system_info [otp_release]' 'erlang system_info [version]' 'erlang system_info [start_time]'
  'erlang monotonic_time []' 'erlang nodes [visible]' 'erlang nodes [hidden]' 'erlang memory []'
  'file read_file ["/proc/self/cgroup"]' 'file read_file ["/proc/self/mountinfo"]'
  "file read_file [\"${CG[0]}\"]" "file read_file [\"${CG[1]}\"]"
  'erlang system_info [process_count]' 'erlang system_info [process_limit]'
  'erlang system_info [port_count]' 'erlang system_info [port_limit]'
  'erlang system_info [atom_count]' 'erlang system_info [atom_limit]'
  'erlang system_info [ets_count]' 'erlang system_info [ets_limit]'
  'erlang statistics [run_queue_lengths_all]' 'erlang system_info [schedulers_online]'
  'erlang system_info [dirty_cpu_schedulers_online]' 'erlang system_info [dirty_io_schedulers]'
  'application which_applications [5000]'
  'supervisor count_children [demo_sup]' 'supervisor which_children [demo_sup]'
  'supervisor count_children [demo_worker_sup]' 'supervisor which_children [demo_worker_sup]'
  'supervisor count_children [demo_governor_sup]' 'supervisor which_children [demo_governor_sup]'
)
for g in "${GOVS[@]}"; do C_FACTS+=("sys get_state [$g, 200]"); done

ESC="$TMP/ping.escript"
cat >"$ESC" <<'EOF'
#!/usr/bin/env escript
%% Benchmark contender D: start a hidden node named like a release script's, ping the target once.
%%! -hidden
main([Target]) ->
    {ok, _} = net_kernel:start([list_to_atom("bench_ping_" ++ os:getpid()), shortnames]),
    case net_adm:ping(list_to_atom(Target)) of
        pong -> halt(0);
        pang -> io:format(standard_error, "pang from ~s~n", [Target]), halt(1)
    end.
EOF
# Contender C also asks each governor for its pid's queue and memory, as A's second round does.
for g in "${GOVS[@]}"; do
  echo "erlang:process_info(whereis($g), [message_queue_len, memory])." >"$TMP/pinfo_$g.erl"
done

q() { printf '%q ' "$@"; }

# write_commands FILE SUFFIX ENVWORD...: the runner's commands file (ENVWORD like ERL_EPMD_PORT=N).
write_commands() {
  local f=$1 sfx=$2; shift 2
  local envw=("HOME=$CL/home" "$@") fact g
  {
    printf '#name A%s\tbeamprobe check, all checks\n' "$sfx"
    printf 'A%s\t-\t%s\n' "$sfx" "$(q "${envw[@]}" "$BP" "${A_ARGS[@]}" ${DELAYED_EXTRA:+--timeout 10s})"
    printf '#name M%s\tbeamprobe check, all checks, --plan multi-round\n' "$sfx"
    printf 'M%s\t-\t%s\n' "$sfx" "$(q "${envw[@]}" "$BP" "${U_ARGS[@]}" --plan multi-round ${DELAYED_EXTRA:+--timeout 10s})"
    if [[ -z "$sfx" ]]; then
      printf '#name U\tbeamprobe check, all checks, the default plan (auto)\n'
      printf 'U\t-\t%s\n' "$(q "${envw[@]}" "$BP" "${U_ARGS[@]}")"
    fi
    if [[ -n "$sfx" ]]; then
      printf '#name P%s\tbeamprobe check, plain (no governor/supervisor)\n' "$sfx"
      printf 'P%s\t-\t%s\n' "$sfx" "$(q "${envw[@]}" "$BP" check "$NODE" --cookie-file "$COOKIE_FILE" --timeout 10s)"
    fi
    printf '#name B%s\terl_call, one fact\n' "$sfx"
    printf 'B%s\t-\t%s\n' "$sfx" "$(q "${envw[@]}" "$ERL_CALL" -sname "$NODE" -a 'erlang memory [total]')"
    printf '#name C%s\terl_call, one call per fact\n' "$sfx"
    for fact in "${C_FACTS[@]}"; do
      printf 'C%s\t-\t%s\n' "$sfx" "$(q "${envw[@]}" "$ERL_CALL" -sname "$NODE" -a "$fact")"
    done
    for g in "${GOVS[@]}"; do
      printf 'C%s\t%s\t%s\n' "$sfx" "$TMP/pinfo_$g.erl" "$(q "${envw[@]}" "$ERL_CALL" -sname "$NODE" -e)"
    done
    printf '#name D%s\tescript net_adm:ping\n' "$sfx"
    printf 'D%s\t-\t%s\n' "$sfx" "$(q "${envw[@]}" "$ESCRIPT" "$ESC" "$NODE")"
  } >"$f"
}
write_commands "$TMP/main.cmds" ""
C_CALLS=$(grep -c $'^C\t' "$TMP/main.cmds")

# ---------- machine ----------

machine_facts
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

say "target $NODE (OS pid $TARGET_PID, distribution port $DIST_PORT); $N probes per contender, $WARMUP warm-up rounds"
say "C runs $C_CALLS erl_call invocations per probe; the main run takes roughly $((N * 7 / 10 + 10)) s"

# ---------- main run ----------

ATOMS_CMD=$(printf '%q ' "$BP" check "$NODE" --cookie-file "$COOKIE_FILE" --json)
T0=$SECONDS
run_child "${RUNNER[@]}" run --commands "$TMP/main.cmds" --rounds "$N" --warmup "$WARMUP" \
  --atoms-cmd "$ATOMS_CMD" --target-pid "$TARGET_PID" --settle-ms "$SETTLE_MS" \
  --tmpdir "$TMP" --measure "$TMP/measure" --out-json "$TMP/main.json" --samples-csv "$CSV" --log "$TMP/warmup.log" \
  || die "the main run failed (see above)"
MAIN_SECS=$((SECONDS - T0))
MAIN_TABLE=$("${RUNNER[@]}" table --json "$TMP/main.json" --ratios)
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
echo
echo "$MAIN_TABLE"
echo

# ---------- where beamprobe's time goes ----------

say "breakdown: beamprobe variants next to erl_call ($BREAKDOWN_REPS rounds)"
rt_of() { "$BP" check "$NODE" --cookie-file "$COOKIE_FILE" --json "$@" | jq -r .round_trips; }
RT_MULTI=$(rt_of "${A_CHECKS[@]}" --plan multi-round)
RT_FULL=$(rt_of "${A_CHECKS[@]}" --plan one-round)
AUTO_CHOICE=$("$BP" check "$NODE" --cookie-file "$COOKIE_FILE" --json "${A_CHECKS[@]}" | jq -r '"\(.round_trips) round trips, \(.plan_reason)"')
RT_PLAIN=$(rt_of)
RT_STARTUP=$(rt_of --probe startup)
{
  printf '#name T\t/bin/true (the cost of starting any process here)\n'
  printf 'T\t-\t%s\n' "$(q "$(type -P true)")"
  printf '#name V\tbeamprobe --version (process start and exit, no network)\n'
  printf 'V\t-\t%s\n' "$(q "$BP" --version)"
  printf '#name S\tbeamprobe check --probe startup (%s round trip)\n' "$RT_STARTUP"
  printf 'S\t-\t%s\n' "$(q "$BP" check "$NODE" --cookie-file "$COOKIE_FILE" --probe startup)"
  printf '#name P\tbeamprobe check, plain ready probe (%s round trips)\n' "$RT_PLAIN"
  printf 'P\t-\t%s\n' "$(q "$BP" check "$NODE" --cookie-file "$COOKIE_FILE")"
  printf '#name A\tA. beamprobe check, all checks (%s round trips)\n' "$RT_FULL"
  grep $'^A\t' "$TMP/main.cmds"
  printf '#name M\tM. the same, --plan multi-round (%s round trips)\n' "$RT_MULTI"
  grep $'^M\t' "$TMP/main.cmds"
  printf '#name U\tU. the same, the default plan (%s)\n' "$AUTO_CHOICE"
  grep $'^U\t' "$TMP/main.cmds"
  printf '#name B\tB. erl_call, one fact (1 round trip)\n'
  grep $'^B\t' "$TMP/main.cmds"
} >"$TMP/breakdown.cmds"
run_child "${RUNNER[@]}" run --commands "$TMP/breakdown.cmds" --rounds "$BREAKDOWN_REPS" --warmup 1 \
  --target-pid "$TARGET_PID" --settle-ms "$SETTLE_MS" --tmpdir "$TMP" --measure "$TMP/measure" \
  --out-json "$TMP/breakdown.json" --quiet || die "the breakdown run failed"
BREAKDOWN_TABLE=$("${RUNNER[@]}" table --json "$TMP/breakdown.json" --brief)
echo "$BREAKDOWN_TABLE"
echo

# ---------- side check: atoms and erl_call -R ----------

say "side check: target atoms over 50 calls of erl_call -R (random node names)"
atoms_now() { "$BP" check "$NODE" --cookie-file "$COOKIE_FILE" --json | jq -r .metrics.atom_count; }
R0=$(atoms_now)
HOME="$CL/home" "$ERL_CALL" -R -sname "$NODE" -a 'erlang node []' >/dev/null || die "erl_call -R failed"
R1=$(atoms_now)
for _ in $(seq 49); do HOME="$CL/home" "$ERL_CALL" -R -sname "$NODE" -a 'erlang node []' >/dev/null || die "erl_call -R failed"; done
R2=$(atoms_now)
SIDE_R="erl_call -R: first call $((R1 - R0)) atoms, next 49 calls $((R2 - R1)) atoms (atom_count $R0 -> $R1 -> $R2)"
echo "$SIDE_R"

# ---------- round trips: strace ----------

say "round-trip evidence: strace"
TRACE_SET=trace=connect,sendto,write,sendmsg,writev,read,recvfrom,recvmsg,readv
strace_one() { # LABEL EXPECT CMD...
  local label=$1 expect=$2; shift 2
  local t="$TMP/strace.$RANDOM"
  HOME="$CL/home" strace -f -yy -qq -e "$TRACE_SET" -o "$t" "$@" >/dev/null 2>"$t.err" \
    || { cat "$t.err" >&2; die "strace of $label failed"; }
  "${RUNNER[@]}" strace --trace "$t" --port "$DIST_PORT" --label "$label" --expect "$expect"
}
STRACE_OUT=$(
  strace_one "A, beamprobe check, all checks" "$RT_FULL" "$BP" "${A_ARGS[@]}"
  strace_one "beamprobe check, plain" "$RT_PLAIN" "$BP" check "$NODE" --cookie-file "$COOKIE_FILE"
  strace_one "B, erl_call one fact" 1 "$ERL_CALL" -sname "$NODE" -a 'erlang memory [total]'
)
echo "$STRACE_OUT"
echo "beamprobe --json round_trips: $RT_FULL (all checks), $RT_MULTI (all checks, --plan multi-round), $RT_PLAIN (plain check)"

# ---------- round trips: tcpdump ----------

TCPDUMP_OUT="tcpdump not run"
if tcpdump -D >/dev/null 2>&1; then
  say "round-trip evidence: tcpdump on lo, port $DIST_PORT"
  tcpdump -i lo -nn -U --immediate-mode -B 16384 -w "$TMP/a.pcap" "tcp port $DIST_PORT" </dev/null >/dev/null 2>"$TMP/tcpdump.err" &
  TCPDUMP_PID=$!
  for _ in $(seq 50); do grep -q 'listening on' "$TMP/tcpdump.err" 2>/dev/null && break; sleep 0.1; done
  "$BP" "${A_ARGS[@]}" >/dev/null || die "beamprobe check failed under tcpdump"
  sleep 1
  kill -INT "$TCPDUMP_PID" 2>/dev/null || true
  wait "$TCPDUMP_PID" 2>/dev/null || true
  TCPDUMP_PID=
  tcpdump -nn -r "$TMP/a.pcap" >"$TMP/a.txt" 2>/dev/null || true
  TCPDUMP_OUT=$("${RUNNER[@]}" pcap --text "$TMP/a.txt" --port "$DIST_PORT" --label "A, beamprobe check, all checks") \
    || TCPDUMP_OUT="tcpdump capture could not be analysed"
  echo "$TCPDUMP_OUT"
else
  say "tcpdump cannot capture here (needs root or CAP_NET_RAW); skipped"
fi

# ---------- delay experiment ----------

DELAY_MODE="skipped (BENCH_DELAY_MS=0)"
DELAY_TABLE=""
NETEM_ERR=""
if ((DELAY_MS > 0)); then
  DELAYED_EXTRA=1
  # A pause after each probe longer than the delayed close of its connection: erl_call reuses one
  # node name, and a fast undelayed call must not meet the target still holding the delayed one.
  DELAY_SETTLE_MS=$((4 * DELAY_MS + 20))
  if NETEM_ERR=$(tc qdisc add dev lo root netem delay "${DELAY_MS}ms" 2>&1); then
    NETEM=1
    tc qdisc del dev lo root
    NETEM=0
    DELAY_MODE="netem: tc qdisc add dev lo root netem delay ${DELAY_MS}ms (every packet on lo, both directions, SYNs included)"
    say "delay experiment with netem; baseline first, then with the qdisc"
    write_commands "$TMP/d0.cmds" 0
    write_commands "$TMP/d1.cmds" 1
    run_child "${RUNNER[@]}" run --commands "$TMP/d0.cmds" --rounds "$DELAY_REPS" --warmup 1 --settle-ms "$DELAY_SETTLE_MS" \
      --tmpdir "$TMP" --measure "$TMP/measure" --out-json "$TMP/d0.json" --quiet || die "delay baseline run failed"
    tc qdisc add dev lo root netem delay "${DELAY_MS}ms"
    NETEM=1
    run_child "${RUNNER[@]}" run --commands "$TMP/d1.cmds" --rounds "$DELAY_REPS" --warmup 1 --settle-ms "$DELAY_SETTLE_MS" \
      --tmpdir "$TMP" --measure "$TMP/measure" --out-json "$TMP/d1.json" --quiet || die "delayed run failed"
    tc qdisc del dev lo root
    NETEM=0
    jq -s '{contenders: (.[0].contenders + .[1].contenders)}' "$TMP/d0.json" "$TMP/d1.json" >"$TMP/delay.json"
  else
    say "netem unavailable ($NETEM_ERR); using bench/delay_proxy.py instead"
    DELAY_MODE="userspace proxy (bench/delay_proxy.py): netem is unavailable here (\`tc qdisc add dev lo root netem delay ${DELAY_MS}ms\` says: $(echo "$NETEM_ERR" | tr '\n' ' ' | sed 's/ *$//'))"
    start_proxy() { # DELAY_MS: starts a proxy, sets PROXY_PORT (not in $(...): the proxy must stay our child)
      local d=$1 port ready="$TMP/proxy.$1.ready"
      for port in $(shuf -i 20000-59999 -n 20); do
        rm -f "$ready"
        python3 "$BENCH/delay_proxy.py" --epmd-port "$port" --delay-ms "$d" --ready-file "$ready" \
          </dev/null >>"$TMP/proxy.err" 2>&1 &
        PROXY_PIDS+=($!)
        for _ in $(seq 50); do [[ -f "$ready" ]] && break; kill -0 "$!" 2>/dev/null || break; sleep 0.1; done
        [[ -f "$ready" ]] && { PROXY_PORT=$port; return 0; }
      done
      return 1
    }
    start_proxy 0 || die "could not start the delay proxy (see $TMP/proxy.err)"
    P0=$PROXY_PORT
    start_proxy "$DELAY_MS" || die "could not start the delay proxy (see $TMP/proxy.err)"
    P1=$PROXY_PORT
    # Both proxies run side by side: same relay overhead, only the delay differs; rounds interleave.
    write_commands "$TMP/d0.cmds" 0 "ERL_EPMD_PORT=$P0"
    write_commands "$TMP/d1.cmds" 1 "ERL_EPMD_PORT=$P1"
    cat "$TMP/d0.cmds" "$TMP/d1.cmds" >"$TMP/delay.cmds"
    say "delay experiment: $DELAY_REPS probes each, +${DELAY_MS} ms each way (C takes a while: $C_CALLS calls)"
    run_child "${RUNNER[@]}" run --commands "$TMP/delay.cmds" --rounds "$DELAY_REPS" --warmup 1 --settle-ms "$DELAY_SETTLE_MS" \
      --tmpdir "$TMP" --measure "$TMP/measure" --out-json "$TMP/delay.json" --quiet || die "delay experiment failed"
  fi
  DELAY_TABLE=$("${RUNNER[@]}" table --json "$TMP/delay.json" --delay "$DELAY_MS")
  echo
  echo "$DELAY_TABLE"
fi

# ---------- results file ----------

{
  echo "# beamprobe check benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "Command: \`bench/bench_check.sh $N\` (warm-up rounds $WARMUP, settle ${SETTLE_MS} ms); main run took ${MAIN_SECS} s."
  echo
  echo "| machine | |"
  echo "|---|---|"
  echo "| CPUs (\`nproc\`) | $(nproc) |"
  echo "| CPU model | $CPU_MODEL |"
  echo "| kernel (\`uname -r\`) | $(uname -r) |"
  echo "| Erlang/OTP | $OTP_VERSION (erl_call $ERL_CALL) |"
  echo "| beamprobe | $("$BP" --version 2>/dev/null | head -1), commit $GIT_REV, binary sha256 $BP_SHA... |"
  echo "| load average before / after the main run | $LOAD_BEFORE / $LOAD_AFTER |"
  echo
  echo "Target: \`$NODE\` of a fresh 3-node demo cluster; $N probes per contender in interleaved rounds."
  echo
  echo "$MAIN_TABLE"
  echo
  echo "## Contenders"
  echo
  echo "- A: \`priv/beamprobe ${A_ARGS[*]}\` (a copy of the binary taken at the start; $RT_FULL round trips after the handshake)"
  echo "- M: the same with \`--plan multi-round\` ($RT_MULTI round trips)"
  echo "- U: the same with the default plan, \`--plan auto\` ($AUTO_CHOICE)"
  echo "- B: \`HOME=CLUSTER/home erl_call -sname $NODE -a 'erlang memory [total]'\`"
  echo "- C: $C_CALLS invocations of \`erl_call -sname $NODE\`, one per fact:"
  echo "  $(printf "\`-a '%s'\`; " "${C_FACTS[@]}")"
  echo "  and for each governor \`-e\` with \`erlang:process_info(whereis(G), [message_queue_len, memory]).\`"
  echo "- D: \`escript ping.escript $NODE\`:"
  echo
  echo '```erlang'
  cat "$ESC"
  echo '```'
  echo
  echo "## Where beamprobe's time goes ($BREAKDOWN_REPS interleaved rounds)"
  echo
  echo "$BREAKDOWN_TABLE"
  echo
  echo "## Side check"
  echo
  echo "$SIDE_R."
  echo
  echo "## Round trips after the handshake"
  echo
  echo '```'
  echo "$STRACE_OUT"
  echo "beamprobe --json round_trips: $RT_FULL (all checks), $RT_MULTI (all checks, --plan multi-round), $RT_PLAIN (plain check)"
  echo "$TCPDUMP_OUT"
  echo '```'
  echo
  echo "## Delay experiment"
  echo
  echo "Mode: $DELAY_MODE."
  echo
  [[ -n "$DELAY_TABLE" ]] && echo "$DELAY_TABLE"
  echo
  echo "Per-probe samples: \`$(basename "$CSV")\`."
} >"$OUT"
say "results written to $OUT (samples: $CSV)"
