#!/usr/bin/env bash
# Runs every integration test (test/integration/test_*.sh) against real BEAM nodes; fails if any fails.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
"$here/../fixtures/demo/build.sh" >/dev/null
(epmd -names >/dev/null 2>&1) || epmd -daemon
failed=()
for t in "$here"/test_*.sh; do
  echo "== $(basename "$t")${BP_SANITIZED:+ (sanitized)}"
  # BP_TEST_TIMEOUT (seconds, optional): a bound per test file, for slow runs such as scripts/valgrind.sh.
  if ! ${BP_TEST_TIMEOUT:+timeout "$BP_TEST_TIMEOUT"} bash "$t"; then failed+=("$(basename "$t")"); fi
done
if (( ${#failed[@]} > 0 )); then
  echo "integration: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "integration: all passed"
