#!/usr/bin/env bash
# Static analysis of c_src/ (make analyze): cppcheck, clang-tidy and scan-build; fails on any unjustified finding.
#
#   scripts/analyze.sh [cppcheck|clang-tidy|scan-build|all]
#
# Suppressions, each with its reason: analyze/cppcheck-suppressions.txt, .clang-tidy, and inline
# "cppcheck-suppress ID" / "NOLINT(check)" comments followed by the reason. Outputs go to build/analyze/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
OUT=$ROOT/build/analyze
JOBS=${ANALYZE_JOBS:-2}
mkdir -p "$OUT"

# compile_commands.json from c_src/Makefile's own flags (make flags) for clang, one entry per source.
compile_db() {
  make -s -C c_src gen # the generated headers the sources include
  make -s -C c_src CC=clang flags | python3 -c '
import json, shlex, sys
cc, flags, nif, srcs = (sys.stdin.readline().strip() for _ in range(4))
root = sys.argv[1]
d = root + "/c_src"
# headers from outside the tree (ei.h, erl_nif.h) as system headers: their findings are not ours
def sysinc(args):
    return ["-isystem" + a[2:] if a.startswith("-I") and not a[2:].startswith(root + "/") else a for a in args]
db = [{"directory": d, "file": d + "/" + s,
       "arguments": [cc] + sysinc(shlex.split(flags) + (shlex.split(nif) if s.startswith("nif/") else []))
                    + ["-c", s]}
      for s in srcs.split()]
json.dump(db, open(sys.argv[2], "w"), indent=1)
print("analyze: compile_commands.json, %d sources" % len(db))' "$ROOT" "$OUT/compile_commands.json"
}

run_cppcheck() {
  echo "analyze: $(cppcheck --version)"
  mkdir -p "$OUT/cppcheck"
  cppcheck --project="$OUT/compile_commands.json" --cppcheck-build-dir="$OUT/cppcheck" -j "$JOBS" \
    --enable=warning,style,performance,portability --std=c11 --library=posix --inline-suppr \
    -DBP_ANALYZE_NO_BYTES \
    --suppressions-list=analyze/cppcheck-suppressions.txt --suppress=missingIncludeSystem \
    --error-exitcode=1 --quiet --template='{file}:{line}: {severity}: {message} [{id}]'
}

run_clang_tidy() {
  echo "analyze: $(clang-tidy --version | grep -o 'LLVM version [0-9.]*' | sed 's/LLVM/clang-tidy (LLVM)/')"
  # one clang-tidy per source, JOBS at a time; the checks and WarningsAsErrors come from .clang-tidy
  local srcs
  srcs=$(python3 -c 'import json,sys; print("\n".join(e["file"] for e in json.load(open(sys.argv[1]))))' \
           "$OUT/compile_commands.json")
  local rc=0
  printf '%s\n' "$srcs" | xargs -P "$JOBS" -n 4 clang-tidy -p "$OUT" --quiet >"$OUT/clang-tidy.txt" 2>&1 || rc=$?
  grep -v '^[0-9]* warnings\? generated\.$\|^Suppressed [0-9]* warnings\|^Use -header-filter\|^Use -system-headers' \
    "$OUT/clang-tidy.txt" || true
  echo "analyze: clang-tidy: $(grep -c ': error: ' "$OUT/clang-tidy.txt") findings (build/analyze/clang-tidy.txt)"
  return $rc
}

run_scan_build() {
  echo "analyze: scan-build (clang $(clang -dumpversion))"
  # a scratch build (build/analyze/sb) so that build/ and priv/ are left alone; -O0: the analysis
  # does not depend on it and the compile that scan-build runs beside it is then cheap
  rm -rf "$OUT/sb" "$OUT/scan-build"
  scan-build --status-bugs -o "$OUT/scan-build" --use-cc=clang \
    make -s -C c_src -j "$JOBS" CC=clang OPT=-O0 BUILD="$OUT/sb" PRIV="$OUT/sb/priv" all
}

what=${1:-all}
status=0
t0=$(date +%s)
compile_db
for tool in cppcheck clang-tidy scan-build; do
  [[ $what == all || $what == "$tool" ]] || continue
  t=$(date +%s)
  if "run_${tool//-/_}"; then r=passed; else r=FAILED; status=1; fi
  echo "analyze: $tool $r in $(( $(date +%s) - t )) s"
done
echo "analyze: total $(( $(date +%s) - t0 )) s"
exit $status
