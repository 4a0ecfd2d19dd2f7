#!/usr/bin/env bash
# Start-up cost of the beamprobe command against /bin/true: wall, CPU, page faults, time to the first network syscall.
#
# Usage: bench/bench_startup.sh [N]        N runs per contender (default 400)
#
# Contenders, run in interleaved rounds (one run of each per round, the order rotating), each
# spawned by bench/measure.c (wall time, user+sys CPU from wait4):
#   true      /bin/true
#   version   beamprobe --version
#   badflag   beamprobe check --no-such-flag      (a check that fails in argument parsing)
#   refused   beamprobe check n@127.0.0.1 with ERL_EPMD_PORT=1: the whole check up to its first
#             network step, which fails at once (connection refused on loopback; no node needed)
#   tls       beamprobe serve --tls-cert BAD: loads OpenSSL at start (c_src/cli/ssl_lazy.c), reads the
#             certificate, which fails: what a run that needs OpenSSL pays for loading it
# With BENCH_VARIANTS=1 the binary is also relinked from the build's objects (make VAR=...)
# to price the linker choices, each run as "version" in the same rounds:
#   static    LAZY_SSL=0: OpenSSL linked statically, as before ssl_lazy.c (and tls-static: "tls" with it)
#   nopie     -no-pie (no relative relocations to apply at start: what PIE costs)
#   relr      -z pack-relative-relocs (the same relocations, packed: DT_RELR, glibc >= 2.36)
#   lazy      no -z now (symbols bound on first call: what full RELRO's -z now costs)
# Then, if perf works here, `perf stat -r N` of each (task-clock, page faults), and with strace the
# time from execve to the first AF_INET socket() of a real check (median of BENCH_STRACE_REPS)
# against /bin/true's execve to exit_group.
#
# Extra Debian packages, installed with apt-get only if missing: strace.
# Environment: BENCH_VARIANTS (0), BENCH_STRACE_REPS (50), BENCH_OUT results file
# (bench/results/startup-DATE.md), BENCH_KEEP=1 keeps the temp dir.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH="$ROOT/bench"
CLUSTER="$ROOT/test/fixtures/cluster.sh"
BP="$ROOT/priv/beamprobe"
EXTRA_PACKAGES=(strace)

# shellcheck source=bench/lib.sh
. "$BENCH/lib.sh"

N=${1:-400}
VARIANTS=${BENCH_VARIANTS:-0}
STRACE_REPS=${BENCH_STRACE_REPS:-50}
STAMP=$(date -u +%Y%m%d-%H%M%S)
OUT=${BENCH_OUT:-$BENCH/results/startup-$STAMP.md}

ensure_packages cc strace
ensure_beamprobe
bench_tmp bench-startup
cc -O2 -Wall -o "$TMP/measure" "$BENCH/measure.c" || die "cannot compile bench/measure.c"

# The environment of every contender: EPMD on a port where nothing listens, a cookie.
export ERL_EPMD_PORT=1 BEAMPROBE_COOKIE=benchcookie
echo "not a certificate" >"$TMP/bad.pem"
declare -A CMD
NAMES=(true version badflag refused tls)
CMD[true]="/bin/true"
CMD[version]="$BP --version"
CMD[badflag]="$BP check --no-such-flag"
CMD[refused]="$BP check --timeout 1s n@127.0.0.1"
CMD[tls]="$BP serve --listen 127.0.0.1:0 --node n@127.0.0.1 --tls-cert $TMP/bad.pem --tls-key $TMP/bad.pem"

if [[ "$VARIANTS" == 1 ]]; then
  relink() { # relink NAME MAKE-VARIABLE...: priv/beamprobe's link with the variables, as NAME
    local name=$1; shift
    make -s -C "$ROOT/c_src" "$TMP/bp-$name" BIN="$TMP/bp-$name" "$@" >&2 || die "relink $name failed"
    NAMES+=("$name"); CMD[$name]="$TMP/bp-$name --version"
  }
  relink static LAZY_SSL=0
  relink nopie LDFLAGS=-no-pie
  relink relr LDFLAGS=-Wl,-z,pack-relative-relocs
  # the Makefile's -z now comes first on the line; a later -z lazy undoes it
  relink lazy LDFLAGS=-Wl,-z,lazy
  NAMES+=(tls-static); CMD[tls-static]="$TMP/bp-static ${CMD[tls]#"$BP" }"
fi

say "$N interleaved rounds of: ${NAMES[*]}"
: >"$TMP/samples.csv"
for ((r = 0; r < N; r++)); do
  k=${#NAMES[@]}
  for ((i = 0; i < k; i++)); do
    name=${NAMES[(i + r) % k]}
    # shellcheck disable=SC2086
    "$TMP/measure" 5000 "$TMP/one" ${CMD[$name]} >/dev/null 2>&1 || true
    read -r wall cpu rss status <"$TMP/one"
    echo "$name,$wall,$cpu,$rss,$status" >>"$TMP/samples.csv"
  done
done

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
col() { awk -F, -v n="$1" -v c="$2" '$1 == n { print $c }' "$TMP/samples.csv"; }
TRUE_WALL=$(col true 2 | median)
TRUE_CPU=$(col true 3 | median)

machine_facts
{
  echo "# Start-up, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "Machine: $CPU_MODEL, $(nproc) cores, $(. /etc/os-release && echo "$PRETTY_NAME"), shared; git $GIT_REV."
  echo "Binary: $BP ($(stat -c %s "$BP") bytes; size: $(size "$BP" | awk 'NR == 2 { print "text " $1 ", data " $2 ", bss " $3 }'))."
  echo "Command: bench/bench_startup.sh $N$([[ "$VARIANTS" == 1 ]] && echo " (BENCH_VARIANTS=1)")"
  echo
  echo "Interleaved rounds, bench/measure.c, medians of $N runs each:"
  echo
  echo "| contender | wall (ms) | - /bin/true (ms) | CPU user+sys (ms) | - /bin/true (ms) | peak RSS (KiB) | exit |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  for name in "${NAMES[@]}"; do
    w=$(col "$name" 2 | median); c=$(col "$name" 3 | median); m=$(col "$name" 4 | median)
    s=$(col "$name" 5 | sort | uniq -c | sort -rn | awk 'NR == 1 { print $2 }')
    awk -v n="$name" -v w="$w" -v c="$c" -v m="$m" -v s="$s" -v tw="$TRUE_WALL" -v tc="$TRUE_CPU" 'BEGIN {
      printf "| %s | %.3f | %+.3f | %.3f | %+.3f | %d | %s |\n", n, w / 1e6, (w - tw) / 1e6, c / 1e6, (c - tc) / 1e6, m, s }'
  done

  if perf stat -e task-clock true >/dev/null 2>&1; then
    echo
    echo "perf stat -r $N -e task-clock,page-faults (one contender after another, not interleaved):"
    echo
    echo "| contender | task-clock (ms) | page faults | elapsed (ms) |"
    echo "|---|---:|---:|---:|"
    for name in "${NAMES[@]}"; do
      # shellcheck disable=SC2086
      { perf stat -r "$N" -e task-clock,page-faults ${CMD[$name]} 2>&1 >/dev/null || true; } | awk -v n="$name" '
        /task-clock/ { t = $1 } /page-faults/ { p = $1 } /elapsed/ { e = $1 * 1000 }
        END { printf "| %s | %s | %s | %.3f |\n", n, t, p, e }'
    done
  fi

  echo
  echo "strace -ttt --seccomp-bpf, median of $STRACE_REPS: execve to the first AF_INET socket() of a"
  echo "real check (\"refused\"), against /bin/true's execve to exit_group:"
  echo
  for which in true check; do
    for ((i = 0; i < STRACE_REPS; i++)); do
      if [[ $which == true ]]; then
        strace -ttt --seccomp-bpf -f -e trace=execve,exit_group -o "$TMP/st" /bin/true
        awk '/execve\(/ && !s { s = $2 } /exit_group\(/ { e = $2 } END { printf "%.0f\n", (e - s) * 1e6 }' "$TMP/st"
      else
        strace -ttt --seccomp-bpf -f -e trace=execve,socket \
          -o "$TMP/st" "$BP" check --timeout 1s n@127.0.0.1 >/dev/null 2>&1 || true
        awk '/execve\(/ && !s { s = $2 } /socket\(AF_INET/ && !e { e = $2 } END { printf "%.0f\n", (e - s) * 1e6 }' "$TMP/st"
      fi
    done | median | awk -v w="$which" '{ printf "- %s: %d us\n", (w == "true" ? "/bin/true, execve to exit_group" : "beamprobe check, execve to socket(AF_INET)"), $1 }'
  done
} >"$OUT"
cp "$TMP/samples.csv" "${OUT%.md}.csv"
cat "$OUT"
say "results: $OUT"
