# gnuplot script of bench/soak.sh: draws soak.csv (csv=..., png=..., title=..., warm=SECONDS given with -e) into one PNG.
# Columns: 1 t_s 2 epoch 3 rss_kb 4 fds 5 threads 6 probe_n 7 p50_ms 8 p99_ms 9 max_ms 10 c200 11 c503
#          12 c_other 13 c_connerr 14 wrk_200 15 wrk_503 16 wrk_other 17 churn_events
set terminal pngcairo size 1200,1150 font "DejaVu Sans,10"
set output png
set datafile separator ","
set datafile missing "NaN"
set multiplot layout 3,1 title title."\nx axis: minutes since serve started; dashed line: end of the warm-up" font ",12"
set grid
set key outside bottom center horizontal
set lmargin 12
set rmargin 12
unset xlabel
set xrange [0:*]
set arrow 1 from first warm/60.0, graph 0 to first warm/60.0, graph 1 nohead dashtype 2 lc rgb "gray50"

set title "beamprobe serve: resident memory and descriptors"
set ylabel "VmRSS (MiB)"
set y2label "open fds, threads"
set ytics nomirror
set y2tics
set yrange [0:*]
set y2range [0:*]
plot csv using ($1/60):($3/1024) skip 1 with lines lw 2 lc rgb "#1f77b4" title "VmRSS (MiB)", \
     csv using ($1/60):4 skip 1 axes x1y2 with steps lw 1.5 lc rgb "#d62728" title "open fds", \
     csv using ($1/60):5 skip 1 axes x1y2 with steps lw 1.5 lc rgb "#2ca02c" title "threads"

set title "latency of the curl probe (5 requests/s, new connection each), per 5 s interval (about 25 requests: p99 = max)"
set ylabel "ms"
unset y2label
unset y2tics
set ytics mirror
set logscale y
set yrange [*:*]
plot csv using ($1/60):9 skip 1 with points pt 7 ps 0.5 lc rgb "#555555" title "max", \
     csv using ($1/60):8 skip 1 with lines lw 1.5 lc rgb "#d62728" title "p99", \
     csv using ($1/60):7 skip 1 with lines lw 2 lc rgb "#1f77b4" title "p50"
unset logscale y

set title "answers per 5 s interval (curl probe + wrk load) and churn actions"
set ylabel "answers"
set y2label "churn actions"
set ytics nomirror
set y2tics 1
set yrange [0:*]
set y2range [0:6]
plot csv using ($1/60):($10+$14) skip 1 with steps lw 1.5 lc rgb "#2ca02c" title "200", \
     csv using ($1/60):($11+$15) skip 1 with steps lw 1.5 lc rgb "#ff7f0e" title "503", \
     csv using ($1/60):($12+$16+$13) skip 1 with steps lw 2 lc rgb "#d62728" title "other or no answer", \
     csv using ($1/60):17 skip 1 axes x1y2 with impulses lw 2 lc rgb "#9467bd" title "churn actions"
unset multiplot
