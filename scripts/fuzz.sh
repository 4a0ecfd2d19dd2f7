#!/usr/bin/env bash
# Runs every libFuzzer target of build-fuzz/ for N seconds on a copy of its seed corpus; fails on any crash, leak or timeout.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     (make fuzz FUZZ_SECONDS=N, make fuzz-smoke)
#
# The targets are built by `make -C c_src FUZZ=1 fuzzers` (clang, -fsanitize=fuzzer,address,undefined).
# The committed corpus test/fuzz/corpus/<target>/ is only read: each run starts from a fresh copy
# in build-fuzz/corpus/<target>/, where libFuzzer adds what it finds; crash, leak and timeout
# inputs land in build-fuzz/artifacts/<target>/, the log in build-fuzz/logs/<target>.log.
# Prints the executions of each target (libFuzzer's stat::number_of_executed_units) and the total.
# test/fuzz/<target>.options: more libFuzzer options for one target (read after the defaults).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

seconds=${1:-60}
shift || true
[[ $seconds =~ ^[1-9][0-9]*$ ]] || { echo "fuzz: SECONDS must be a positive integer, not '$seconds'" >&2; exit 2; }
build=build-fuzz
targets=("$@")
if (( ${#targets[@]} == 0 )); then
  for src in test/fuzz/fuzz_*.c; do t=${src##*/fuzz_}; targets+=("${t%.c}"); done
fi

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:allocator_may_return_null=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
total=0
failed=()
printf '%-10s %14s %8s  %s\n' target executions seconds result
for t in "${targets[@]}"; do
  bin=$build/fuzz_$t
  [[ -x $bin ]] || { echo "fuzz: $bin is missing: run make -C c_src FUZZ=1 fuzzers" >&2; exit 2; }
  corpus=$build/corpus/$t
  artifacts=$build/artifacts/$t/
  log=$build/logs/$t.log
  rm -rf "$corpus" "$artifacts"
  mkdir -p "$corpus" "$artifacts" "$build/logs"
  [[ -d test/fuzz/corpus/$t ]] && cp test/fuzz/corpus/"$t"/* "$corpus"/
  opts=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048 -max_len=4096
        -print_final_stats=1 -detect_leaks=1 -artifact_prefix="$artifacts")
  [[ -f test/fuzz/$t.dict ]] && opts+=(-dict=test/fuzz/"$t".dict)
  if [[ -f test/fuzz/$t.options ]]; then read -ra more <test/fuzz/"$t".options; opts+=("${more[@]}"); fi
  # replies' seeds are healthy nodes' answers to the collector's calls in order: when the calls
  # change, the seeds stop lining up (the fuzzer would then mostly see timeouts): record them again
  if [[ $t == replies ]] && ! FUZZ_REPLIES_EXPECT_HEALTHY=1 "$bin" test/fuzz/corpus/replies/* >"$log" 2>&1; then
    grep -m1 -A3 'not healthy' "$log" >&2 || true
    echo "fuzz: the replies seeds no longer match the collector's calls: run test/fuzz/record_corpus.sh 25 27" >&2
    failed+=("$t")
    continue
  fi
  rc=0
  "$bin" "${opts[@]}" "$corpus" >"$log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  execs=${execs:-0}
  result=ok
  if (( rc != 0 )) || [[ -n $(ls -A "$artifacts") ]]; then
    result="FAILED (exit $rc; see $log and $artifacts)"
    failed+=("$t")
  fi
  total=$((total + execs))
  printf '%-10s %14s %8s  %s\n' "$t" "$execs" "$seconds" "$result"
done
printf '%-10s %14s\n' total "$total"
if (( ${#failed[@]} )); then
  echo "fuzz: FAILED: ${failed[*]}" >&2
  for t in "${failed[@]}"; do grep -m3 -E 'ERROR|SUMMARY|deadly signal' "$build/logs/$t.log" >&2 || true; done
  exit 1
fi
echo "fuzz: ${#targets[@]} targets, $seconds s each, no crash, leak or timeout"
