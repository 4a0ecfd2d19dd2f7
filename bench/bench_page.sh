#!/usr/bin/env bash
# Benchmarks the status page's server-side render (time and size) for 3, 30 and 300 nodes (bench/bench_page.c).
#
# Usage: bench/bench_page.sh [ROUNDS]     renders per size (default 200; 300 nodes: ROUNDS / 10)
#
# BENCH_TRANSITIONS: changes per node and per governor in the last hour ("20 2": a churning and a calm cluster).
#
# Builds libbeamprobe.a (make -C c_src) and bench_page against it, then for each size in
# BENCH_SIZES ("3 30 300") prints: nodes, page bytes, render time median and p90 (µs), mesh
# analysis median (µs). Synthetic nodes: the unit tests' realistic healthy snapshot, one
# governor, a full mesh, 20 transitions each in the last hour. Writes bench/results/page-DATE.md.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROUNDS=${1:-200}
SIZES=${BENCH_SIZES:-3 30 300}
make -s -C "$ROOT/c_src" >/dev/null
ERL_EI=$(erl -noshell -eval 'io:format("~s",[code:lib_dir(erl_interface)]),halt().')
BIN=$ROOT/build/bench_page
cc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -I"$ROOT/c_src" -I"$ROOT/include" -I"$ROOT/test/c" \
  -I"$ERL_EI/include" -o "$BIN" "$ROOT/bench/bench_page.c" "$ROOT/build/libbeamprobe.a" \
  -L"$ERL_EI/lib" -lei -ljansson -lssl -lcrypto -lpthread -lm
OUT=${BENCH_OUT:-$ROOT/bench/results/page-$(date -u +%Y-%m-%d).md}
mkdir -p "$(dirname "$OUT")"
{
  echo "# status page render, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(uname -sr)"
  echo "Command: bench/bench_page.sh $ROUNDS"
  echo
  echo "| nodes | changes/h per node | page size | render median | render p90 | mesh analysis median |"
  echo "|---:|---:|---:|---:|---:|---:|"
  for tn in ${BENCH_TRANSITIONS:-20 2}; do
  for n in $SIZES; do
    r=$ROUNDS; (( n >= 300 )) && r=$(( ROUNDS / 10 > 5 ? ROUNDS / 10 : 5 ))
    read -r nodes bytes med p90 ana < <("$BIN" "$n" "$r" "$tn")
    printf '| %s | %s | %s B (%.1f KiB) | %s µs | %s µs | %s µs |\n' "$nodes" "$tn" "$bytes" \
      "$(echo "$bytes / 1024" | bc -l)" "$med" "$p90" "$ana"
  done
  done
} | tee "$OUT"
