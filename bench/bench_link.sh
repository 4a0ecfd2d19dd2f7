#!/usr/bin/env bash
# Wall time of `beamprobe check` over a real link (veths, 1500-byte MTU, delay added by the chaos hub) for each plan: what loopback's 64 KiB MTU hides.
#
# Usage: bench/bench_link.sh [OUT]       (root: network namespaces; OUT default bench/results/link-DATE.md)
#
# One demo node in its own network namespace, beamprobe in another, joined by veth pairs through
# test/chaos/hub.py, which delays every frame from the node by D ms (BENCH_DELAYS, default "200 20 2").
# For each delay, probe kind (plain: `check NODE`; full: 3 governors, demo_sup walked, --require-app)
# and plan (one-round, multi-round, auto), BENCH_REPS probes (default 5), interleaved: the median wall
# time (process start included) and the round trips after the handshake the report counts.
# BENCH_COMPARE=PATH also runs a second beamprobe binary (an older build) in the same loop. Then
# bench/bench_deflate.c: the request's parameters' sizes and what compressing them costs the probe;
# bench/inflate_cost.escript: what decoding them costs a node, compressed and not.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench
CLUSTER=$ROOT/test/fixtures/cluster.sh
BP=${BEAMPROBE:-$ROOT/priv/beamprobe}
EXTRA_PACKAGES=()
# shellcheck source=bench/lib.sh
. "$BENCH/lib.sh"
HERE=$ROOT/test/chaos # netns.sh finds hub.py there
# shellcheck source=test/chaos/netns.sh
. "$HERE/netns.sh"

[[ $(id -u) == 0 ]] || die "needs root (network namespaces, veth pairs)"
ns_probe_supported || die "this machine cannot make network namespaces with veth pairs and iptables rules"
[[ -x $BP ]] || die "$BP not built (make build)"
BINS=("$BP")
[[ -n ${BENCH_COMPARE:-} ]] && BINS+=("$BENCH_COMPARE")
DELAYS=(${BENCH_DELAYS:-200 20 2})
REPS=${BENCH_REPS:-5}
OUT=${1:-$ROOT/bench/results/link-$(date -u +%Y%m%d-%H%M%S).md}
"$ROOT/test/fixtures/demo/build.sh" >/dev/null

ns_workspace "bpln$$" link
net_up 1
node_start 1
nodes_ready 1
N1=$(node_name 1)
FULL=(--governor cost_guard,rollback_guard,backlog_valve --supervisor demo_sup --require-app demo)

machine_facts
{
  echo "# beamprobe check over a delayed link, by plan ($(date -u '+%Y-%m-%d %H:%M UTC'))"
  echo
  echo "Command: \`bench/bench_link.sh\` (BENCH_DELAYS=\"${DELAYS[*]}\", BENCH_REPS=$REPS), commit $GIT_REV."
  echo "Each probe a new process and connection; delay added to every frame from the node; veth MTU 1500."
  echo
  machine_table "$OTP_VERSION" "| load average at start | $(cut -d' ' -f1-3 /proc/loadavg) |"
  echo
  echo "| delay (ms, node to probe) | probe | binary | plan | median wall (ms) | min - max | round trips | plan run |"
  echo "|---:|---|---|---|---:|---|---:|---|"
} >"$OUT"
for d in "${DELAYS[@]}"; do
  hub v1 delay="$d"
  for kind in plain full; do
    extra=()
    [[ $kind == full ]] && extra=("${FULL[@]}")
    declare -A T=() R=() P=()
    for ((i = 0; i < REPS; i++)); do
      for b in "${!BINS[@]}"; do
        for plan in one-round multi-round auto; do
          t0=$(date +%s%N)
          out=$(ip netns exec "${NS_PREFIX}p" "${BINS[$b]}" check "$N1" --cookie-file "$WORK/cookie" \
                  --cnode-host "$SUBNET.1" --timeout 10s "${extra[@]}" --plan "$plan" --json || true)
          t1=$(date +%s%N)
          T[$b$plan]+="$(((t1 - t0) / 1000000)) "
          R[$b$plan]=$(jq -r '.round_trips // "-"' <<<"$out")
          P[$b$plan]=$(jq -r '.plan // "-"' <<<"$out")
        done
      done
    done
    for b in "${!BINS[@]}"; do
      for plan in one-round multi-round auto; do
        read -ra ts <<<"${T[$b$plan]}"
        med=$(printf '%s\n' "${ts[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
        range=$(printf '%s\n' "${ts[@]}" | sort -n | sed -n '1p;$p' | paste -sd- | sed 's/-/ - /')
        name=$([[ $b == 0 ]] && echo "${BINS[0]#"$ROOT/"}" || echo "${BINS[$b]}")
        echo "| $d | $kind | $name | $plan | $med | $range | ${R[$b$plan]} | ${P[$b$plan]} |" | tee -a "$OUT"
      done
    done
    unset T R P
  done
done
# what the compression costs the probe: bench/bench_deflate.c against the static library
make -s -C "$ROOT/c_src" >/dev/null
ERL_EI=$(erl -noshell -eval 'io:format("~s",[code:lib_dir(erl_interface)]),halt().')
cc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -I"$ROOT/c_src" -I"$ROOT/include" -I"$ERL_EI/include" \
  -o "$WORK/bench_deflate" "$BENCH/bench_deflate.c" "$ROOT/build/libbeamprobe.a" -L"$ERL_EI/lib" -lei -ljansson \
  -lssl -lcrypto -lpthread -lm
{
  echo
  echo "The one-round request's parameters, compressed (\`bench/bench_deflate.c\`, the probe's CPU):"
  echo
  "$WORK/bench_deflate" 20
  echo
  echo "What decoding them costs a node (\`bench/inflate_cost.escript\`, OTP $OTP_VERSION; samples of \`build/oneround_samples\`:"
  echo "0 a plain probe, 2 a startup probe, 3 every feature):"
  echo
  mkdir -p "$WORK/samples"
  "$ROOT/build/oneround_samples" "$WORK/samples"
  "$BENCH/inflate_cost.escript" "$WORK/samples/params_0.bin" "$WORK/samples/params_2.bin" "$WORK/samples/params_3.bin"
} | tee -a "$OUT"
say "results: $OUT"
