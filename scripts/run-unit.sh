#!/usr/bin/env bash
# Runs every cmocka unit-test binary of a build directory (build or build-san) and fails if any fails.
set -euo pipefail
dir=${1:-build}
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
shopt -s nullglob
tests=("$dir"/test_*)
bins=()
for t in "${tests[@]}"; do [[ -x $t && $t != *.d ]] && bins+=("$t"); done
if (( ${#bins[@]} == 0 )); then echo "run-unit: no unit tests in $dir" >&2; exit 1; fi
failed=0
for t in "${bins[@]}"; do
  if ! "$t"; then echo "run-unit: FAILED $t" >&2; failed=1; fi
done
exit $failed
