#!/usr/bin/env bash
# measure.sh: the chaos table: timed beamprobe runs, HTTP latency of serve, assertions as table rows (sourced by run.sh).

ROWS=()
FAILS=0
FAULT=""

fault() { FAULT=$1; }

# row EXPECTED MEASURED RESULT PASS(0|1): one line of the table, under the current fault.
row() {
  local verdict=pass
  [[ $4 == 0 ]] || { verdict=FAIL; FAILS=$((FAILS + 1)); }
  ROWS+=("$FAULT"$'\x1f'"$1"$'\x1f'"$2"$'\x1f'"$3"$'\x1f'"$verdict")
  printf '  %-4s %s: %s (%s; %s)\n' "$verdict" "$FAULT" "$1" "$2" "$3"
}

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print 0 }'; }
max_of() { sort -n | tail -1; }

# run_once SUBCMD TIMEOUT_MS ARGS...: one beamprobe run in the probe's namespace; sets RC, MS, ERRTXT, OUTTXT.
run_once() {
  local sub=$1 t=$2 t0 t1; shift 2
  t0=$(date +%s%N)
  set +e
  OUTTXT=$(timeout -k 1 $((t / 1000 + 10)) "${BP[@]}" "$sub" "${COMMON[@]}" --timeout "${t}ms" "$@" 2>"$WORK/err")
  RC=$?
  set -e
  t1=$(date +%s%N)
  MS=$(((t1 - t0) / 1000000))
  ERRTXT=$(cat "$WORK/err")
  if [[ $ERRTXT == *Sanitizer* || $ERRTXT == *"runtime error"* ]]; then row "no sanitizer report" "-" "${ERRTXT:0:200}" 1; fi
}

# runs N SUBCMD TIMEOUT_MS "CODES" ARGS...: N runs; each must exit with one of CODES, the median
# answer time be within TIMEOUT_MS + 100 ms and every one within TIMEOUT_MS + 500 ms. The time is the
# caller's (process start and `ip netns exec` included): beamprobe keeps its deadline, but a shared,
# loaded machine can hold any one process back 100 ms or more, which no design can promise away;
# a hang or a missed deadline still fails. Sets CODES_SEEN, MEDIAN, WORST.
runs() {
  local n=$1 sub=$2 t=$3 want=$4 i ok=0 times=() codes=()
  shift 4
  for ((i = 0; i < n; i++)); do
    run_once "$sub" "$t" "$@"
    times+=("$MS"); codes+=("$RC")
    [[ " $want " == *" $RC "* ]] || ok=1
  done
  MEDIAN=$(printf '%s\n' "${times[@]}" | median)
  WORST=$(printf '%s\n' "${times[@]}" | max_of)
  ((MEDIAN <= t + 100 && WORST <= t + 500)) || ok=1
  CODES_SEEN=$(IFS=,; echo "${codes[*]}")
  row "$sub exit {${want// /,}}, median <= $((t + 100)) ms (x$n)" "median $MEDIAN ms, max $WORST ms" "exit $CODES_SEEN" "$ok"
}

check_runs() { local n=$1 t=$2 want=$3; shift 3; runs "$n" check "$t" "$want" "$@"; }
cluster_run() { local t=$1 want=$2; shift 2; runs 1 cluster "$t" "$want" "$@"; }

slower_than() { # slower_than MS: the median of the last runs shows the fault (not a no-op)
  row "median >= $1 ms (the fault is applied)" "median $MEDIAN ms" "-" "$((MEDIAN >= $1 ? 0 : 1))"
}

at_least_healthy() { # at_least_healthy K: K of the last runs exited 0
  local n
  n=$(tr ',' '\n' <<<"$CODES_SEEN" | grep -c '^0$' || true)
  row "at least $1 runs healthy" "-" "$n healthy" "$((n >= $1 ? 0 : 1))"
}

expect_err() { # expect_err TEXT: the last run's stderr names the failing step
  local ok=1
  [[ $ERRTXT == *"$1"* ]] && ok=0
  row "stderr mentions '$1'" "-" "${ERRTXT:0:90}" "$ok"
}

expect_out() { # expect_out TEXT: the last run's report (stdout) says TEXT
  local ok=1 line
  [[ $OUTTXT == *"$1"* ]] && ok=0
  line=$(grep -F -m1 -- "$1" <<<"$OUTTXT" || true)
  row "report says '$1'" "-" "${line:0:90}" "$ok"
}

# serve_start NAME ARGS...: beamprobe serve in the probe's namespace on 127.0.0.1:0; sets PORT, SERVE_PID.
serve_start() {
  local name=$1 log="$WORK/serve-$1.log"; shift
  launch_serve "$log" "${BP[@]}" serve --listen 127.0.0.1:0 "${COMMON[@]}" "$@"
  # shellcheck disable=SC2034 # SERVE_PID is read by run.sh
  SERVE_PID=$SPID
  disown "$SPID"
  [[ -n $PORT ]] || row "serve $name starts" "-" "$(tail -3 "$log")" 1
}

# live_fast PORT [N [RATE]]: N (10) GETs each of /health/live and /health (one curl, one connection
# per request as a kubelet makes them, one after another, at most RATE a second, e.g. 20/s); the medians must be under 50 ms (the maximum is reported:
# a loaded shared machine can delay one answer, which serve's design cannot prevent).
live_fast() {
  local url="http://127.0.0.1:$1" n=${2:-10} urls=() out lm lx hm hx codes ok=1 rate=()
  [[ -n ${3:-} ]] && rate=(--rate "$3")
  for _ in $(seq "$n"); do urls+=(-o /dev/null "$url/health/live" -o /dev/null "$url/health"); done
  out=$(in_ns p curl "${rate[@]}" -H 'Connection: close' -s -m 5 -w '%{url_effective} %{http_code} %{time_total}\n' "${urls[@]}" || true)
  lm=$(awk '$1 ~ /live$/ { printf "%.1f\n", $3 * 1000 }' <<<"$out" | median)
  lx=$(awk '$1 ~ /live$/ { printf "%.1f\n", $3 * 1000 }' <<<"$out" | max_of)
  hm=$(awk '$1 ~ /health$/ { printf "%.1f\n", $3 * 1000 }' <<<"$out" | median)
  hx=$(awk '$1 ~ /health$/ { printf "%.1f\n", $3 * 1000 }' <<<"$out" | max_of)
  codes=$(awk '{ print $2 }' <<<"$out" | sort | uniq -c | awk '{ printf "%s%sx%s", (NR > 1 ? "," : ""), $1, $2 }')
  [[ $(wc -l <<<"$out") == $((2 * n)) && $codes != *000* ]] && awk -v a="${lm:-99}" -v b="${hm:-99}" 'BEGIN { exit !(a < 50 && b < 50) }' && ok=0
  row "serve /health/live, /health median < 50 ms (x$n)" "live ${lm}/${lx} ms, health ${hm}/${hx} ms (median/max)" "HTTP $codes" "$ok"
}

# serve_node_is PORT NODE STATUS SECS: /health gives NODE the status STATUS within SECS; STATUS is a
# regex matched against "STATUS[ incomplete]" (docs/SCHEMA.md: a check that timed out makes the
# report unhealthy and incomplete), e.g. healthy, "unhealthy( incomplete)?".
serve_node_is() {
  local port=$1 node=$2 want=$3 limit=$4 t0 got="" ok=1
  t0=$(date +%s%N)
  while (( ($(date +%s%N) - t0) / 1000000 < limit * 1000 )); do
    got=$(in_ns p curl -s -m 2 "http://127.0.0.1:$port/health" |
          jq -r --arg n "$node" '.nodes[] | select(.node == $n) | .status + (if .incomplete then " incomplete" else "" end)' \
            2>/dev/null || true)
    [[ $got =~ ^($want)$ ]] && { ok=0; break; }
    sleep 0.1
  done
  row "serve /health: $node $want within $limit s" "after $(( ($(date +%s%N) - t0) / 1000000 )) ms" "${got:-no entry}" "$ok"
}

summary() {
  local r
  echo
  printf '%-58s | %-44s | %-36s | %-24s | %s\n' "fault" "expected" "measured" "exit / HTTP" "result"
  printf '%s\n' "$(printf -- '-%.0s' $(seq 180))"
  for r in "${ROWS[@]}"; do
    IFS=$'\x1f' read -r f e m c v <<<"$r"
    printf '%-58s | %-44s | %-36s | %-24s | %s\n' "$f" "$e" "$m" "$c" "$v"
  done
  echo
  echo "chaos: ${#ROWS[@]} checks, $FAILS failed, $((SECONDS - T0)) s; load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
  ((FAILS == 0))
}
