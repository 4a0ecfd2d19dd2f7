#!/usr/bin/env bash
# Report of bench/soak.sh: draws OUTDIR/soak.csv into soak.png and writes summary.md; exit 1 if the soak failed.
#
# Usage: bench/soak_report.sh OUTDIR
# Reads OUTDIR/meta.env (written by soak.sh), soak.csv, churn.log, wrk.txt and probe.log; may be run
# again on a finished or interrupted soak. Failed: an answer other than 200/503 (probe or wrk), a
# request without an answer (curl code 000, wrk socket errors) or serve dead before the end.
set -euo pipefail

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[[ $# -eq 1 && -f "$1/meta.env" && -f "$1/soak.csv" ]] || { echo "usage: soak_report.sh OUTDIR (with meta.env and soak.csv)" >&2; exit 2; }
OUT=$(cd "$1" && pwd)
CSV="$OUT/soak.csv"
# shellcheck source=/dev/null
. "$OUT/meta.env"   # CMD START_UTC DUR WARM SEED RATE CONNS PORT MACHINE OTP_VERSION CPU_MODEL BP_VERSION GIT_REV BP_SHA SERVE_DIED

# ---------- figures from the CSV ----------

# Columns: 1 t_s 2 epoch 3 rss_kb 4 fds 5 threads 6 probe_n 7 p50_ms 8 p99_ms 9 max_ms 10 c200 11 c503
#          12 c_other 13 c_connerr 14 wrk_200 15 wrk_503 16 wrk_other 17 churn_events
read -r SAMPLES LAST_T RSS_MIN RSS_MAX FD_MIN FD_MAX TH_MIN TH_MAX PN P200 P503 POTHER PERR W200 W503 WOTHER \
  WRSS_FIRST WRSS_LAST WRSS_MAX SLOPE_KB_H WARM_N < <(awk -F, -v warm="$WARM" 'NR == 1 { next }
  function mn(v, k) { if (!(k in lo) || v < lo[k]) lo[k] = v } function mx(v, k) { if (!(k in hi) || v > hi[k]) hi[k] = v }
  { n++; last = $1; mn($3, "r"); mx($3, "r"); mn($4, "f"); mx($4, "f"); mn($5, "t"); mx($5, "t")
    pn += $6; c200 += $10; c503 += $11; co += $12; ce += $13; w200 += $14; w503 += $15; wo += $16
    if ($1 >= warm) { if (!wn) wf = $3; wn++; wl = $3; mx($3, "w"); sx += $1; sy += $3; sxx += $1 * $1; sxy += $1 * $3 } }
  END { slope = (wn > 1 && wn * sxx - sx * sx > 0) ? (wn * sxy - sx * sy) / (wn * sxx - sx * sx) * 3600 : 0
    print n + 0, last + 0, lo["r"] + 0, hi["r"] + 0, lo["f"] + 0, hi["f"] + 0, lo["t"] + 0, hi["t"] + 0,
      pn + 0, c200 + 0, c503 + 0, co + 0, ce + 0, w200 + 0, w503 + 0, wo + 0, wf + 0, wl + 0, hi["w"] + 0,
      sprintf("%.1f", slope), wn + 0 }' "$CSV")

# med_max COLUMN: "median max" of a latency column over the intervals that had requests.
med_max() {
  awk -F, -v c="$1" 'NR > 1 && $c != "NaN" { print $c }' "$CSV" | sort -g \
    | awk '{ a[NR] = $1 } END { if (!NR) { print "n/a n/a"; exit }
        printf "%.2f %.2f\n", (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2), a[NR] }'
}
read -r P50_MED _ < <(med_max 7)
read -r P99_MED P99_MAX < <(med_max 8)
read -r _ LAT_MAX < <(med_max 9)
# PROBE_ALL: "p50 p99" (ms) over every answered probe request of the run.
read -r P50_ALL P99_ALL < <(awk '$3 != "000" && NF == 4 { print $4 * 1000 }' "$OUT/probe.log" | sort -g \
  | awk '{ a[NR] = $1 } END { if (!NR) { print "n/a n/a"; exit }
      printf "%.2f %.2f\n", a[int((NR * 50 + 99) / 100)], a[int((NR * 99 + 99) / 100)] }')

# wrk's own summary line (soak_wrk.lua's done()), if wrk got to print it.
WRK_LINE=$(grep -m1 '^WRK ' "$OUT/wrk.txt" 2>/dev/null || true)
wrk_field() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<" ${WRK_LINE#WRK }"; }
if [[ -n "$WRK_LINE" ]]; then
  WRK_REQS=$(wrk_field requests)
  WRK_SOCK=$(($(wrk_field connect) + $(wrk_field read) + $(wrk_field write) + $(wrk_field timeout)))
  WRK_SOCK_TXT="connect $(wrk_field connect), read $(wrk_field read), write $(wrk_field write), timeout $(wrk_field timeout)"
  WRK_LAT=$(awk -v a="$(wrk_field p50_us)" -v b="$(wrk_field p99_us)" -v c="$(wrk_field max_us)" \
    'BEGIN { printf "%.2f / %.2f / %.2f ms", a / 1000, b / 1000, c / 1000 }')
else
  WRK_REQS="n/a" WRK_SOCK=0 WRK_SOCK_TXT="n/a (wrk printed no summary)" WRK_LAT="n/a"
fi

CHURN_TXT=$(awk '{ n[$3]++; if ($7 != "ok") bad[$3 " " $7]++ }
  END { s = ""; split("kill restart stop cont flap reload-remove reload-full", k, " ")
    for (i = 1; i <= 7; i++) s = s (i > 1 ? ", " : "") k[i] " " (n[k[i]] + 0)
    for (b in bad) s = s "; " b " " bad[b]
    print s }' "$OUT/churn.log")
FLAPS_REFUSING=$(awk '$3 == "flap" && $6 == "refusing" && $7 == "ok"' "$OUT/churn.log" | wc -l)

# ---------- verdict ----------

OTHER=$((POTHER + WOTHER))
NOANSWER=$((PERR + WRK_SOCK))
REASONS=()
((OTHER == 0)) || REASONS+=("$OTHER answers other than 200/503")
((NOANSWER == 0)) || REASONS+=("$NOANSWER requests without an answer")
((SERVE_DIED == 0)) || REASONS+=("beamprobe serve died")
if ((${#REASONS[@]} == 0)); then VERDICT="pass"; RC=0; else VERDICT="**FAIL**: ${REASONS[0]}"; for r in "${REASONS[@]:1}"; do VERDICT+="; $r"; done; RC=1; fi
INTERRUPTED=""
((LAST_T + 10 >= DUR)) || INTERRUPTED=", stopped early"

# ---------- picture ----------

gnuplot -e "csv='$CSV'; png='$OUT/soak.png'; warm=$WARM; title='beamprobe serve soak, 5 demo nodes under churn, $START_UTC'" \
  "$BENCH/soak_plot.gp" 2>"$OUT/gnuplot.err" || echo "soak_report: gnuplot failed: $(head -c 300 "$OUT/gnuplot.err")" >&2
[[ -s "$OUT/gnuplot.err" ]] || rm -f "$OUT/gnuplot.err"
[[ -s "$OUT/churn.log.err" ]] || rm -f "$OUT/churn.log.err"

# ---------- summary ----------

kb() { awk -v k="$1" 'BEGIN { printf "%\047d kB (%.1f MiB)", k, k / 1024 }'; }
{
  echo "# Soak of beamprobe serve, $START_UTC"
  echo
  echo "Command: \`$CMD\`. Machine: $MACHINE; $CPU_MODEL; Erlang/OTP $OTP_VERSION; $BP_VERSION, commit $GIT_REV, binary sha256 $BP_SHA...."
  echo
  echo "Ran $LAST_T s of $DUR s planned$INTERRUPTED; $SAMPLES samples, one every 5 s. Warm-up left out of the RSS trend: the first $WARM s ($WARM_N samples after it)."
  echo "Load: wrk -t1 -c$CONNS paced to ~$RATE req/s (bench/soak_wrk.lua) plus a curl probe every 0.2 s, both over /health/ready, /health, /metrics. Churn seed $SEED (schedule.txt, churn.log)."
  echo
  echo "| figure | value |"
  echo "|---|---|"
  echo "| verdict | $VERDICT |"
  echo "| beamprobe serve | $(if ((SERVE_DIED)); then echo "**died**"; else echo "alive at the end"; fi) |"
  echo "| VmRSS after warm-up: first / last / max | $(kb "$WRSS_FIRST") / $(kb "$WRSS_LAST") / $(kb "$WRSS_MAX") |"
  echo "| VmRSS slope after warm-up (least squares) | $SLOPE_KB_H kB per hour |"
  echo "| VmRSS over the whole run: min / max | $(kb "$RSS_MIN") / $(kb "$RSS_MAX") |"
  echo "| open fds: min / max | $FD_MIN / $FD_MAX |"
  echo "| threads: min / max | $TH_MIN / $TH_MAX |"
  echo "| curl probe requests | $PN: 200 $P200, 503 $P503, other $POTHER, no answer $PERR |"
  echo "| wrk requests | $WRK_REQS: 200 $W200, 503 $W503, other $WOTHER; socket errors: $WRK_SOCK_TXT |"
  echo "| answers other than 200/503 | $OTHER |"
  echo "| probe latency p50, median of the intervals | $P50_MED ms |"
  echo "| probe latency p99: median / max of the intervals | $P99_MED / $P99_MAX ms |"
  echo "| probe latency over every answered probe request: p50 / p99 / max | $P50_ALL / $P99_ALL / $LAT_MAX ms |"
  echo "| wrk latency p50 / p99 / max (whole run, keep-alive) | $WRK_LAT |"
  echo "| churn actions | $CHURN_TXT (flaps to refusing: $FLAPS_REFUSING) |"
  echo
  echo "![soak](soak.png)"
  echo
  echo "Files: soak.csv (samples), soak.png, churn.log (epoch, planned t, action, node, args, result), schedule.txt, probe.log (epoch, path, status, seconds), wrk.txt, serve.log, serve.json."
} >"$OUT/summary.md"
echo "soak_report: $VERDICT; $OUT/summary.md, $OUT/soak.png" >&2
exit "$RC"
