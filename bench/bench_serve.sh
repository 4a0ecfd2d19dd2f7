#!/usr/bin/env bash
# Benchmarks `beamprobe serve` against an OTP inets httpd health handler with wrk: throughput, latency, CPU and RSS.
#
# Usage: bench/bench_serve.sh
#
# Starts a fresh 2-node demo cluster, then on loopback:
#   - beamprobe serve probing node 1 (--governor cost_guard,rollback_guard,backlog_valve
#     --supervisor demo_sup --require-app demo --interval 2s): it answers from its latest report;
#   - inside node 1 itself (the VM it judges), inets httpd with bench/inets_health.erl, which
#     gathers its facts per request (erlang:memory, process counts, which_applications,
#     count_children, sys:get_state of the 3 governors) as a typical Cowboy health handler does.
#     Two httpd instances: one with TCP_NODELAY on its sockets, one with inets' defaults.
# wrk runs every (server, path) pair for BENCH_DURATION with keep-alive and BENCH_CLOSE_DURATION
# with "Connection: close" (a new connection per request), then /health/ready of both with one
# connection (-t1 -c1, latency without queueing), in BENCH_ROUNDS rounds whose order rotates;
# medians are reported. beamprobe's VmRSS (RssAnon + RssFile) is read before any request and
# after each of its runs, topped up until it has answered BENCH_REQUESTS requests; "flat" means
# VmRSS grew by at most 64 kB over the last BENCH_REQUESTS requests. VmHWM at the end.
#
# Debian packages installed with apt-get only if missing: wrk curl (the project's own
# dependencies come from scripts/install-deps.sh, run if erl/erlc are missing).
#
# Environment: BENCH_ROUNDS (3), BENCH_DURATION keep-alive seconds per run (6),
# BENCH_CLOSE_DURATION seconds per Connection: close run and per one-connection run (4),
# BENCH_THREADS wrk threads (2), BENCH_CONNS wrk connections (50), BENCH_REQUESTS requests
# beamprobe must have answered before the last RSS reading (1000000), BENCH_OUT results file
# (bench/results/serve-DATE.md, per-run samples in the .tsv beside it), BENCH_KEEP=1 keeps the
# temporary directory. About 4 minutes with the defaults.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH="$ROOT/bench"
CLUSTER="$ROOT/test/fixtures/cluster.sh"
BP="$ROOT/priv/beamprobe"
LUA="$BENCH/wrk_report.lua"
EXTRA_PACKAGES=(wrk curl)

# shellcheck source=bench/lib.sh
. "$BENCH/lib.sh"

ROUNDS=${BENCH_ROUNDS:-3}
DURATION=${BENCH_DURATION:-6}
CLOSE_DURATION=${BENCH_CLOSE_DURATION:-4}
THREADS=${BENCH_THREADS:-2}
CONNS=${BENCH_CONNS:-50}
TARGET_REQS=${BENCH_REQUESTS:-1000000}
STAMP=$(date +%Y%m%d-%H%M%S)
OUT=${BENCH_OUT:-$ROOT/bench/results/serve-$STAMP.md}
TSV="${OUT%.md}.tsv"

for v in ROUNDS DURATION CLOSE_DURATION THREADS CONNS TARGET_REQS; do
  [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || die "BENCH_$v must be a positive integer (got '${!v}')"
done

# ---------- tools ----------

ensure_packages erl erlc
WRK=$(command -v wrk) || die "wrk not found"
ensure_beamprobe

# ---------- temp dir, cleanup ----------

SERVE_PID=
WRK_PID=
# cleanup_extra: run by bench_cleanup (bench/lib.sh) before it stops the cluster.
cleanup_extra() {
  [[ -n "$WRK_PID" ]] && kill "$WRK_PID" 2>/dev/null || true
  if [[ -n "$SERVE_PID" ]]; then
    kill -TERM "$SERVE_PID" 2>/dev/null || true
    wait "$SERVE_PID" 2>/dev/null || true
  fi
}
bench_tmp bench_serve

mkdir -p "$CL" "$TMP/ebin" "$TMP/www" "$(dirname "$OUT")"
private_beamprobe
erlc -Wall -o "$TMP/ebin" "$BENCH/inets_health.erl" || die "cannot compile bench/inets_health.erl"

# ---------- cluster, beamprobe serve, inets ----------

PREFIX="bpserve$$"
say "starting a fresh 2-node demo cluster (${PREFIX}_1..2)"
start_cluster 2 "$PREFIX"
BEAM_PID=$(node_os_pid "$NODE")

# shellcheck disable=SC2054  # the commas are beamprobe's list syntax
SERVE_ARGS=(serve --listen 127.0.0.1:0 --node "$NODE" --cookie-file "$COOKIE_FILE"
            --governor cost_guard,rollback_guard,backlog_valve --supervisor demo_sup --require-app demo --interval 2s)
"$BP" "${SERVE_ARGS[@]}" </dev/null >/dev/null 2>"$TMP/serve.err" &
SERVE_PID=$!
SERVE_T0=$SECONDS
BP_PORT=
for _ in $(seq 100); do
  BP_PORT=$(sed -n 's/.*listening on .*:\([0-9][0-9]*\) (.*/\1/p' "$TMP/serve.err" | head -1)
  [[ -n "$BP_PORT" ]] && grep -q 'first report' "$TMP/serve.err" && break
  kill -0 "$SERVE_PID" 2>/dev/null || { cat "$TMP/serve.err" >&2; die "beamprobe serve exited"; }
  sleep 0.05
done
[[ -n "$BP_PORT" ]] || { cat "$TMP/serve.err" >&2; die "beamprobe serve did not log its port"; }
say "beamprobe serve (pid $SERVE_PID) on port $BP_PORT"

rss_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
BEAM_RSS_BEFORE=$(rss_kb "$BEAM_PID" VmRSS)
start_inets() { # NODELAY(true|false): prints the bound port
  local out
  out=$("$CLUSTER" eval "$CL" "$NODE" "code:add_patha(\"$TMP/ebin\"), inets_health:start(\"$TMP/www\", 0, $1).") \
    || die "starting inets httpd in $NODE failed: $out"
  [[ "$out" =~ ^\{ok,([0-9]+)\}$ ]] || die "unexpected answer from inets_health:start: $out"
  echo "${BASH_REMATCH[1]}"
}
IN_PORT=$(start_inets true)
IN0_PORT=$(start_inets false)
say "inets httpd in $NODE (OS pid $BEAM_PID): port $IN_PORT (TCP_NODELAY), port $IN0_PORT (inets defaults)"

# ---------- contenders ----------

# key -> "server label|path|port|pid whose CPU is counted"
declare -A C_SERVER C_PATH C_PORT C_PID
add() { C_SERVER[$1]=$2; C_PATH[$1]=$3; C_PORT[$1]=$4; C_PID[$1]=$5; }
add bp_ready   "beamprobe serve"                      /health/ready        "$BP_PORT"  "$SERVE_PID"
add bp_metrics "beamprobe serve"                      /metrics             "$BP_PORT"  "$SERVE_PID"
add in_ready   "inets httpd, nodelay"                 /health/ready        "$IN_PORT"  "$BEAM_PID"
add in_metrics "inets httpd, nodelay"                 /metrics             "$IN_PORT"  "$BEAM_PID"
add in_cached  "inets httpd, nodelay, cached body"    /health/ready/cached "$IN_PORT"  "$BEAM_PID"
add in0_ready  "inets httpd, default socket options"  /health/ready        "$IN0_PORT" "$BEAM_PID"
KEEP_KEYS=(bp_ready in_ready bp_metrics in_metrics in_cached in0_ready)
CLOSE_KEYS=(bp_ready in_ready bp_metrics in_metrics in_cached)
LIGHT_KEYS=(bp_ready in_ready)
url() { echo "http://127.0.0.1:${C_PORT[$1]}${C_PATH[$1]}"; }

for k in "${KEEP_KEYS[@]}"; do
  code=$(curl -s -o "$TMP/body.$k" -w '%{http_code}' "$(url "$k")") || die "curl $(url "$k") failed"
  [[ "$code" == 200 ]] || die "$(url "$k") answered $code: $(head -c 300 "$TMP/body.$k")"
done

# ---------- machine ----------

machine_facts
INETS_VSN=$("$CLUSTER" eval "$CL" "$NODE" 'element(3, lists:keyfind(inets, 1, application:which_applications())).' | tr -d '"\n')
WRK_VSN=$("$WRK" --version 2>&1 | head -1 | awk '{print $2}' || true)
CLK_TCK=$(getconf CLK_TCK)
BP_THREADS=$(ls "/proc/$SERVE_PID/task" | wc -l)

# ---------- measurement ----------

cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
# rss_sample REQUESTS: "requests seconds-since-serve-started VmRSS RssAnon RssFile" (kB)
rss_sample() {
  echo "$1 $((SECONDS - SERVE_T0)) $(rss_kb "$SERVE_PID" VmRSS) $(rss_kb "$SERVE_PID" RssAnon) $(rss_kb "$SERVE_PID" RssFile)"
}
BP_REQS=0
RSS_SAMPLES=("$(rss_sample 0)")
printf 'round\tmode\tkey\tserver\tpath\trequests\tduration_us\trps\tp50_us\tp90_us\tp99_us\tp999_us\tmax_us\tbytes_per_response\tnon2xx\tsocket_errors\tserver_cpu_ms\twrk_cpu_ms\tbp_rss_kb\n' >"$TSV"

# run_wrk ROUND MODE KEY SECONDS: one wrk run, one line appended to the TSV.
run_wrk() {
  local round=$1 mode=$2 key=$3 secs=$4 hdr=() c0 c1 line rss="" t=$THREADS c=$CONNS
  [[ "$mode" == close ]] && hdr=(-H "Connection: close")
  [[ "$mode" == light ]] && { t=1; c=1; }
  c0=$(cpu_ticks "${C_PID[$key]}")
  local TIMEFORMAT='%U %S'
  { time "$WRK" -t"$t" -c"$c" -d"${secs}s" --latency -s "$LUA" "${hdr[@]}" "$(url "$key")" \
      >"$TMP/wrk.out" 2>&1; } 2>"$TMP/wrk.time" || { cat "$TMP/wrk.out" >&2; die "wrk failed on $(url "$key")"; }
  c1=$(cpu_ticks "${C_PID[$key]}")
  line=$(grep '^BENCH ' "$TMP/wrk.out") || { cat "$TMP/wrk.out" >&2; die "no summary from wrk"; }
  cat "$TMP/wrk.out" >>"$TMP/wrk.all"
  declare -A f
  local kv
  for kv in ${line#BENCH }; do f[${kv%%=*}]=${kv#*=}; done
  if [[ "$key" == bp_* ]]; then
    BP_REQS=$((BP_REQS + f[requests]))
    RSS_SAMPLES+=("$(rss_sample "$BP_REQS")")
    rss=$(echo "${RSS_SAMPLES[-1]}" | cut -d' ' -f3)
  fi
  awk -v r="$round" -v m="$mode" -v k="$key" -v s="${C_SERVER[$key]}" -v p="${C_PATH[$key]}" \
      -v n="${f[requests]}" -v d="${f[duration_us]}" -v p50="${f[p50_us]}" -v p90="${f[p90_us]}" \
      -v p99="${f[p99_us]}" -v p999="${f[p999_us]}" -v mx="${f[max_us]}" -v b="${f[bytes]}" \
      -v st="${f[status]}" -v se="$((f[connect] + f[read] + f[write] + f[timeout]))" \
      -v sc="$(( (c1 - c0) * 1000 / CLK_TCK ))" -v wt="$(cat "$TMP/wrk.time")" -v rss="$rss" 'BEGIN {
        split(wt, w, " ");
        printf "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%.0f\t%d\t%d\t%d\t%d\t%d\t%.0f\t%d\t%d\t%d\t%.0f\t%s\n",
          r, m, k, s, p, n, d, (d > 0 ? n * 1e6 / d : 0), p50, p90, p99, p999, mx, (n > 0 ? b / n : 0),
          st, se, sc, (w[1] + w[2]) * 1000, rss }' >>"$TSV"
  printf 'bench: %-6s round %s  %-38s %-21s %9.0f req/s  p50 %6.2f ms  p99 %6.2f ms\n' "$mode" "$round" \
    "${C_SERVER[$key]}" "${C_PATH[$key]}" "$(awk -v n="${f[requests]}" -v d="${f[duration_us]}" 'BEGIN { print n * 1e6 / d }')" \
    "$(awk -v x="${f[p50_us]}" 'BEGIN { print x / 1000 }')" "$(awk -v x="${f[p99_us]}" 'BEGIN { print x / 1000 }')" >&2
  sleep 0.5
}

# rotated ROUND KEYS...: KEYS rotated left by ROUND.
rotated() { local r=$1; shift; local a=("$@") n=$# i; for ((i = 0; i < n; i++)); do echo "${a[$(((i + r) % n))]}"; done; }

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
T0=$SECONDS
say "warm-up: 2 s keep-alive per contender (recorded in the TSV as round 0)"
for k in "${KEEP_KEYS[@]}"; do run_wrk 0 keepalive "$k" 2; done
IDX_WARM=$((${#RSS_SAMPLES[@]} - 1))
for ((r = 1; r <= ROUNDS; r++)); do
  say "round $r of $ROUNDS"
  for k in $(rotated "$r" "${KEEP_KEYS[@]}"); do run_wrk "$r" keepalive "$k" "$DURATION"; done
  for k in $(rotated "$r" "${CLOSE_KEYS[@]}"); do run_wrk "$r" close "$k" "$CLOSE_DURATION"; done
  for k in $(rotated "$r" "${LIGHT_KEYS[@]}"); do run_wrk "$r" light "$k" "$CLOSE_DURATION"; done
done
while ((BP_REQS < TARGET_REQS)); do
  say "beamprobe has answered $BP_REQS requests; topping up towards $TARGET_REQS"
  run_wrk top keepalive bp_ready "$DURATION"
done
MAIN_SECS=$((SECONDS - T0))
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
HWM_END=$(rss_kb "$SERVE_PID" VmHWM)
BEAM_RSS_AFTER=$(rss_kb "$BEAM_PID" VmRSS)
kill -0 "$SERVE_PID" 2>/dev/null || die "beamprobe serve died during the benchmark"

# ---------- tables ----------

# col_stat MODE KEY COLUMN: "median min max" of COLUMN over the measured rounds (1..ROUNDS).
col_stat() {
  awk -F'\t' -v m="$1" -v k="$2" -v c="$3" 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
    $1 ~ /^[0-9]+$/ && $1 > 0 && $2 == m && $3 == k { print $col[c] }' "$TSV" \
  | sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) { print "nan nan nan"; exit }
      med = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; print med, a[1], a[NR] }'
}
# total MODE KEY COLUMN: sum over the measured rounds.
total() {
  awk -F'\t' -v m="$1" -v k="$2" -v c="$3" 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
    $1 ~ /^[0-9]+$/ && $1 > 0 && $2 == m && $3 == k { s += $col[c] } END { print s + 0 }' "$TSV"
}
fmt_int() { # 1234567.8 -> 1,234,568
  awk -v x="$1" 'BEGIN { s = sprintf("%.0f", x); o = ""
    while (length(s) > 3) { o = "," substr(s, length(s) - 2) o; s = substr(s, 1, length(s) - 3) }
    print s o }'
}
ms() { awk -v x="$1" 'BEGIN { printf "%.2f", x / 1000 }'; }

table() { # MODE KEYS...
  local mode=$1 k rps p50 p99 reqs cpu wcpu dur nonok serr bpr; shift
  echo "| server | path | response bytes | req/s, median | req/s, min - max | p50 (ms) | p99 (ms) | server CPU per request (µs) | wrk CPU share | non-2xx / socket errors |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---|"
  for k in "$@"; do
    read -r rps rmin rmax < <(col_stat "$mode" "$k" rps)
    read -r p50 _ _ < <(col_stat "$mode" "$k" p50_us)
    read -r p99 _ _ < <(col_stat "$mode" "$k" p99_us)
    read -r bpr _ _ < <(col_stat "$mode" "$k" bytes_per_response)
    reqs=$(total "$mode" "$k" requests)
    cpu=$(total "$mode" "$k" server_cpu_ms)
    wcpu=$(total "$mode" "$k" wrk_cpu_ms)
    dur=$(total "$mode" "$k" duration_us)
    nonok=$(total "$mode" "$k" non2xx)
    serr=$(total "$mode" "$k" socket_errors)
    printf '| %s | `%s` | %s | %s | %s - %s | %s | %s | %s | %s | %s / %s |\n' \
      "${C_SERVER[$k]}" "${C_PATH[$k]}" "$(fmt_int "$bpr")" "$(fmt_int "$rps")" "$(fmt_int "$rmin")" "$(fmt_int "$rmax")" \
      "$(ms "$p50")" "$(ms "$p99")" \
      "$(awk -v c="$cpu" -v n="$reqs" 'BEGIN { printf "%.1f", (n > 0 ? c * 1000 / n : 0) }')" \
      "$(awk -v c="$wcpu" -v d="$dur" -v ncpu="$(nproc)" 'BEGIN { printf "%.0f%%", (d > 0 ? c * 1000 / d * 100 / ncpu : 0) }')" \
      "$nonok" "$serr"
  done
}
ratio() { # MODE KEY_A KEY_B: median req/s of A / that of B
  local a b
  read -r a _ _ < <(col_stat "$1" "$2" rps)
  read -r b _ _ < <(col_stat "$1" "$3" rps)
  awk -v a="$a" -v b="$b" 'BEGIN { printf "%.1f", (b > 0 ? a / b : 0) }'
}

KEEP_TABLE=$(table keepalive "${KEEP_KEYS[@]}")
CLOSE_TABLE=$(table close "${CLOSE_KEYS[@]}")
LIGHT_TABLE=$(table light "${LIGHT_KEYS[@]}")
read -r BP_LIGHT_P99 _ _ < <(col_stat light bp_ready p99_us)
read -r BP_RPS _ _ < <(col_stat keepalive bp_ready rps)
read -r BP_P99 _ _ < <(col_stat keepalive bp_ready p99_us)
R_KEEP=$(ratio keepalive bp_ready in_ready)
R_KEEP0=$(ratio keepalive bp_ready in0_ready)
R_CACHED=$(ratio keepalive bp_ready in_cached)
R_METRICS=$(ratio keepalive bp_metrics in_metrics)
R_CLOSE=$(ratio close bp_ready in_ready)

# RSS: the window is the last BENCH_REQUESTS requests, from the last reading at or before
# BP_REQS - TARGET_REQS to the end; flat means VmRSS grew by at most 64 kB in it.
IDX_WIN=0
for i in "${!RSS_SAMPLES[@]}"; do
  ((${RSS_SAMPLES[$i]%% *} <= BP_REQS - TARGET_REQS)) && IDX_WIN=$i
done
field() { echo "${RSS_SAMPLES[$1]}" | cut -d' ' -f"$2"; }
RSS0=$(field 0 3)
RSS_WARM=$(field "$IDX_WARM" 3)
RSS_WIN=$(field "$IDX_WIN" 3)
RSS_END=$(field -1 3)
WIN_REQS=$((BP_REQS - $(field "$IDX_WIN" 1)))
RSS_GROWTH=$((RSS_END - RSS_WIN))
if ((RSS_GROWTH <= 64)); then RSS_FLAT="flat (+$RSS_GROWTH kB over the last $(fmt_int "$WIN_REQS") requests)"
else RSS_FLAT="growing (+$RSS_GROWTH kB over the last $(fmt_int "$WIN_REQS") requests)"; fi
rss_row() { # LABEL INDEX
  printf '| %s | %s | %s | %s | %s | %s |\n' "$1" "$(field "$2" 2)" "$(fmt_int "$(field "$2" 1)")" \
    "$(fmt_int "$(field "$2" 3)")" "$(fmt_int "$(field "$2" 4)")" "$(fmt_int "$(field "$2" 5)")"
}
RSS_SERIES=$(printf '%s\n' "${RSS_SAMPLES[@]}" | awk '{ printf "%s%s s, %s req: %s", (NR > 1 ? "; " : ""), $2, $1, $3 } END { print "" }')
verdict() { if awk "BEGIN { exit !($1) }"; then echo met; else echo "**missed**"; fi; }

TARGETS=$(cat <<EOF
| target (from the issue) | measured | |
|---|---|---|
| \`/health/ready\` at least 50,000 req/s on loopback (keep-alive) | $(fmt_int "$BP_RPS") req/s (median) | $(verdict "$BP_RPS >= 50000") |
| at least 40x the inets handler | ${R_KEEP}x the per-request handler with TCP_NODELAY; ${R_KEEP0}x with inets' default socket options | $(verdict "$R_KEEP >= 40") (nodelay), $(verdict "$R_KEEP0 >= 40") (defaults) |
| p99 below 2 ms | $(ms "$BP_P99") ms under full load ($CONNS connections, median of the rounds' p99); $(ms "$BP_LIGHT_P99") ms with one connection | $(verdict "$BP_P99 < 2000") (full load), $(verdict "$BP_LIGHT_P99 < 2000") (one connection) |
| RSS below 10 MiB and flat | VmRSS $(fmt_int "$RSS_END") kB after $(fmt_int "$BP_REQS") requests, VmHWM $(fmt_int "$HWM_END") kB; $(fmt_int "$RSS0") kB before any request, $(fmt_int "$RSS_WARM") kB after warm-up; $RSS_FLAT | $(verdict "$RSS_END < 10240 && $HWM_END < 10240 && $RSS_GROWTH <= 64") |
EOF
)

RSS_TABLE=$(
  echo "| beamprobe serve | seconds since start | requests answered | VmRSS (kB) | RssAnon (kB) | RssFile (kB) |"
  echo "|---|---:|---:|---:|---:|---:|"
  rss_row "first report in, no HTTP request yet" 0
  rss_row "after the 2 s warm-up runs" "$IDX_WARM"
  rss_row "start of the last $(fmt_int "$TARGET_REQS")+ requests" "$IDX_WIN"
  rss_row "at the end" $((${#RSS_SAMPLES[@]} - 1))
  echo "| VmHWM at the end | | | $(fmt_int "$HWM_END") | | |"
)
echo
echo "Keep-alive ($THREADS wrk threads, $CONNS connections, ${DURATION} s per run, median of $ROUNDS rounds):"
echo
echo "$KEEP_TABLE"
echo
echo "New connection per request (Connection: close, ${CLOSE_DURATION} s per run, median of $ROUNDS rounds):"
echo
echo "$CLOSE_TABLE"
echo
echo "One connection, one request at a time (wrk -t1 -c1, keep-alive, ${CLOSE_DURATION} s per run, median of $ROUNDS rounds):"
echo
echo "$LIGHT_TABLE"
echo
echo "Ratios of median req/s: beamprobe/inets /health/ready ${R_KEEP}x (nodelay), ${R_KEEP0}x (inets defaults), ${R_CACHED}x (inets cached body); /metrics ${R_METRICS}x; Connection: close /health/ready ${R_CLOSE}x"
echo
echo "$RSS_TABLE"
echo
echo "$TARGETS"
echo

# ---------- results file ----------

{
  echo "# beamprobe serve vs an inets health handler, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "Command: \`bench/bench_serve.sh\` (BENCH_ROUNDS=$ROUNDS BENCH_DURATION=$DURATION BENCH_CLOSE_DURATION=$CLOSE_DURATION BENCH_THREADS=$THREADS BENCH_CONNS=$CONNS BENCH_REQUESTS=$TARGET_REQS); measurements took ${MAIN_SECS} s."
  echo
  echo "| machine | |"
  echo "|---|---|"
  echo "| CPUs (\`nproc\`) | $(nproc) |"
  echo "| CPU model | $CPU_MODEL |"
  echo "| kernel (\`uname -r\`) | $(uname -r) |"
  echo "| Erlang/OTP | $OTP_VERSION (inets $INETS_VSN) |"
  echo "| wrk | $WRK_VSN |"
  echo "| beamprobe | $("$BP" --version 2>/dev/null | head -1), commit $GIT_REV, binary sha256 $BP_SHA..., $BP_THREADS threads |"
  echo "| load average before / after | $LOAD_BEFORE / $LOAD_AFTER |"
  echo
  echo "Servers, both on 127.0.0.1, both judging \`$NODE\` of a fresh 2-node demo cluster:"
  echo
  echo "- \`beamprobe ${SERVE_ARGS[*]}\` (answers from its latest report, probed every 2 s)"
  echo "- inets httpd inside \`$NODE\` itself (OS pid $BEAM_PID), module \`bench/inets_health.erl\`, facts gathered per request;"
  echo "  port $IN_PORT with \`{socket_type, {ip_comm, [{nodelay, true}]}}\`, port $IN0_PORT with inets' default socket options."
  echo "  \`/health/ready/cached\` serves a body re-rendered every 2 s from ETS. Node RSS: $(fmt_int "$BEAM_RSS_BEFORE") kB before inets, $(fmt_int "$BEAM_RSS_AFTER") kB at the end."
  echo
  echo "wrk: \`wrk -t$THREADS -c$CONNS -d${DURATION}s --latency -s bench/wrk_report.lua URL\`; with \`-H 'Connection: close'\` and \`-d${CLOSE_DURATION}s\` for a new connection per request."
  echo "Rounds rotate the order of the contenders; req/s, p50 and p99 are medians over the $ROUNDS rounds (each p50/p99 from wrk's per-run latency histogram)."
  echo "Server CPU per request: user+sys of the server's OS process (/proc/PID/stat) over the runs divided by the requests (for inets: the whole BEAM of the node)."
  echo "wrk CPU share: wrk's user+sys over the runs' wall time, as a share of the machine's $(nproc) CPUs."
  echo
  echo "## Keep-alive"
  echo
  echo "$KEEP_TABLE"
  echo
  echo "## New connection per request (Connection: close)"
  echo
  echo "$CLOSE_TABLE"
  echo
  echo "## One connection, one request at a time (\`wrk -t1 -c1 -d${CLOSE_DURATION}s\`, keep-alive)"
  echo
  echo "$LIGHT_TABLE"
  echo
  echo "Ratios of median req/s, beamprobe / inets: \`/health/ready\` ${R_KEEP}x (nodelay), ${R_KEEP0}x (inets defaults), ${R_CACHED}x (inets cached body); \`/metrics\` ${R_METRICS}x; Connection: close \`/health/ready\` ${R_CLOSE}x."
  echo
  echo "## beamprobe serve memory"
  echo
  echo "$RSS_TABLE"
  echo
  echo "Every reading (seconds since serve started, requests answered: VmRSS kB): $RSS_SERIES."
  echo
  echo "## Against the targets"
  echo
  echo "$TARGETS"
  echo
  echo "Per-run samples: \`$(basename "$TSV")\`."
} >"$OUT"
say "results written to $OUT (per-run samples: $TSV)"
