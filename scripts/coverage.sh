#!/usr/bin/env bash
# coverage.sh: runs the suites on the gcov build (build-cov) and reports c_src/'s line and branch coverage with gcovr.
#
#   scripts/coverage.sh                    unit + integration (the NIF's eunit suite among them), then the report
#   scripts/coverage.sh unit               unit tests only (quick iteration), then the report
#   scripts/coverage.sh report             the report of the counters already in build-cov
#
# Counters start from zero on every run that runs a suite. Reports: a text summary and a table per file
# on stdout (and in build-cov/coverage/coverage.txt), build-cov/coverage/index.html (per file, with the
# annotated sources), build-cov/coverage/summary.json. The counters of a process are written when it
# exits normally (exit, return from main, erlang:halt); a process killed by a signal writes nothing.
# Exit status: 1 if a suite failed (the report is still made), 2 if the build or gcovr failed.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
B=$ROOT/build-cov
OUT=$B/coverage
suites=("$@")
(( ${#suites[@]} > 0 )) || suites=(unit integration)

command -v gcovr >/dev/null || { echo "coverage: gcovr missing: run scripts/install-deps.sh" >&2; exit 2; }
failed=()
if [[ ${suites[*]} != report ]]; then
  make -s -C c_src COV=1 -j2 tests nif >/dev/null || { echo "coverage: build failed (make -C c_src COV=1)" >&2; exit 2; }
  find "$B" -name '*.gcda' -delete
  for s in "${suites[@]}"; do
    echo "== coverage: $s suite on build-cov"
    case $s in
      unit) scripts/run-unit.sh build-cov || failed+=(unit) ;;
      integration)
        BEAMPROBE=$B/beamprobe BP_NIF_SO=$B/beamprobe_nif.so DISCOVER=$B/test_discover \
          test/integration/run.sh || failed+=(integration) ;;
      *) echo "coverage: unknown suite '$s' (unit, integration, report)" >&2; exit 2 ;;
    esac
  done
fi

mkdir -p "$OUT"
rm -f "$OUT"/*.html
# the library, CLI and NIF objects only (the test programs' own counters are not c_src/'s)
gcovr -r "$ROOT/c_src" --object-directory "$ROOT/c_src" -j 2 --exclude-unreachable-branches \
  --txt "$OUT/coverage.txt" --html-details "$OUT/index.html" --html-title "beamprobe c_src/ coverage" \
  --json-summary "$OUT/summary.json" --print-summary "$B/obj" >"$OUT/summary.txt" \
  || { echo "coverage: gcovr failed" >&2; exit 2; }
cat "$OUT/coverage.txt"
echo
echo "per directory (lines, branches):"
jq -r '.files | group_by(.filename | split("/")[0]) | .[] |
  {d: (.[0].filename | split("/")[0]), lc: (map(.line_covered) | add), lt: (map(.line_total) | add),
   bc: (map(.branch_covered) | add), bt: (map(.branch_total) | add)} |
  "  \(.d)\t\(.lc)/\(.lt) lines \(if .lt > 0 then (1000 * .lc / .lt | floor) / 10 else 0 end)%\t\(.bc)/\(.bt) branches \(if .bt > 0 then (1000 * .bc / .bt | floor) / 10 else 0 end)%"' \
  "$OUT/summary.json" | column -t -s $'\t'
echo
echo "c_src/ overall:"
grep -E '^(lines|branches):' "$OUT/summary.txt"
echo "(HTML report: build-cov/coverage/index.html)"
if (( ${#failed[@]} > 0 )); then echo "coverage: FAILED suites: ${failed[*]}" >&2; exit 1; fi
