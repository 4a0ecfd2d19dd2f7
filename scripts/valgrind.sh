#!/usr/bin/env bash
# Runs the unit tests and the integration suite under valgrind (memcheck) and summarises errors and definite leaks.
#
#   scripts/valgrind.sh [unit|integration|summary|all]     (make valgrind = all)
#
# Unit tests: each binary of build/ under valgrind --error-exitcode=99, one log per test in build/valgrind/unit/.
# Integration: BEAMPROBE is a wrapper that runs the check, cluster and serve commands of priv/beamprobe under
# valgrind (one log per process, build/valgrind/integration/<pid>.log) and any other command directly.
# The exit status is non-zero on a memory error, a definite leak or a failed unit test. Integration tests that
# fail only because valgrind slows the binary 20-50x are listed but do not fail the run (docs/RELIABILITY.md).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
OUT=$ROOT/build/valgrind
SUPP=$ROOT/analyze/valgrind.supp  # reports that are glibc's, not ours, each with its reason
VG=(valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite
    --show-leak-kinds=definite --num-callers=30 --suppressions="$SUPP")
what=${1:-all}

command -v valgrind >/dev/null || { echo "valgrind: not installed (scripts/install-deps.sh)" >&2; exit 1; }

unit() {
  make -s -C c_src tests >/dev/null
  rm -rf "$OUT/unit"; mkdir -p "$OUT/unit"
  local t name failed=()
  for t in build/test_*; do
    [[ -x $t && $t != *.d ]] || continue
    name=$(basename "$t")
    printf '== %s under valgrind\n' "$name"
    if ! timeout "${BP_TEST_TIMEOUT:-1200}" "${VG[@]}" --log-file="$OUT/unit/$name.log" "$t" >"$OUT/unit/$name.out" 2>&1; then
      failed+=("$name"); echo "   FAILED (exit status, see $OUT/unit/$name.{out,log})"
    fi
  done
  printf '%s\n' "${failed[@]}" >"$OUT/unit-failed.txt"
}

integration() {
  make -s -C c_src >/dev/null
  rm -rf "$OUT/integration"; mkdir -p "$OUT/integration"
  local wrap=$OUT/beamprobe
  # The wrapper keeps valgrind's exit status out of the tests' view (errors are counted from the logs).
  cat >"$wrap" <<WRAP
#!/bin/sh
# beamprobe under valgrind for the commands the integration tests probe with; written by scripts/valgrind.sh.
case "\$1" in
  check|cluster|serve)
    exec valgrind --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite --num-callers=30 \\
      --suppressions="$SUPP" \\
      --log-file="$OUT/integration/%p.log" "$ROOT/priv/beamprobe" "\$@" ;;
esac
exec "$ROOT/priv/beamprobe" "\$@"
WRAP
  chmod +x "$wrap"
  local log=$OUT/integration.txt
  set +e
  BEAMPROBE=$wrap BP_TEST_TIMEOUT=${BP_TEST_TIMEOUT:-1200} test/integration/run.sh 2>&1 | tee "$log"
  set -e
  grep -E '^  FAIL|^integration: FAILED' "$log" >"$OUT/integration-failed.txt" || true
}

# The first line of each kind of memcheck error report (leaks are counted from the leak summary).
MEMERR='^==[0-9]+== (Invalid (read|write|free)|Conditional jump|Use of uninitialised|Syscall param|Mismatched free|Source and destination overlap|Argument .* of function|Jump to the invalid)'

# summary: per log, memory-error reports and bytes definitely lost; non-zero if any.
summary() {
  local f errs lost bad=0 n=0 nosum=0
  shopt -s nullglob
  for f in "$OUT"/unit/*.log "$OUT"/integration/*.log; do
    n=$((n + 1))
    grep -q 'ERROR SUMMARY' "$f" || { nosum=$((nosum + 1)); continue; }  # killed (SIGKILL) before exit
    errs=$(grep -cE "$MEMERR" "$f" || true)
    lost=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$f" | tail -1 | tr -d ,)
    if (( errs > 0 || ${lost:-0} > 0 )); then
      bad=$((bad + 1))
      printf 'valgrind: %s: %s memory errors, %s bytes definitely lost (%s)\n' "${f#"$ROOT"/}" "$errs" "${lost:-0}" \
        "$(sed -n 's/^==[0-9]*== Command: //p' "$f" | head -1 | cut -c1-160)"
    fi
  done
  echo "valgrind: $n logs, $bad with errors or definite leaks, $nosum without a summary (process killed)"
  local uf=; [[ -f $OUT/unit-failed.txt ]] && uf=$(tr '\n' ' ' <"$OUT/unit-failed.txt" | sed 's/ *$//')
  [[ -n $uf ]] && echo "valgrind: unit tests failed: $uf"
  [[ -s $OUT/integration-failed.txt ]] && { echo "valgrind: integration failures (see docs/RELIABILITY.md for the slow ones):"; cat "$OUT/integration-failed.txt"; }
  (( bad == 0 )) && [[ -z $uf ]]
}

case $what in
  unit) unit; summary ;;
  integration) integration; summary ;;
  summary) summary ;;
  all) unit; integration; summary ;;
  *) echo "usage: $0 [unit|integration|summary|all]" >&2; exit 2 ;;
esac
