#!/usr/bin/env bash
# Runs every integration test (test/integration/test_*.sh) against real BEAM nodes; fails if any fails.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
"$here/../fixtures/demo/build.sh" >/dev/null
(epmd -names >/dev/null 2>&1) || epmd -daemon
failed=()
for t in "$here"/test_*.sh; do
  # A test marked "# bp: packaging" checks what make install/deb and deploy/ build from priv/beamprobe,
  # never $BEAMPROBE: the sanitized pass would run the very same thing again. One marked "# bp: deploy"
  # checks deploy/'s rules, dashboard and alert routing with a real Prometheus and Alertmanager; the
  # serve they use runs sanitized in test_serve.sh, test_notify.sh and the others.
  if [[ -n ${BP_SANITIZED:-} ]] && grep -qxE '# bp: (packaging|deploy)' "$t"; then
    echo "== $(basename "$t") skipped in the sanitized pass ($(grep -oxE '# bp: (packaging|deploy)' "$t" | cut -c7-), run above)"
    continue
  fi
  echo "== $(basename "$t")${BP_SANITIZED:+ (sanitized)}"
  start=$SECONDS
  # BP_TEST_TIMEOUT (seconds, optional): a bound per test file, for slow runs such as scripts/valgrind.sh.
  if ! ${BP_TEST_TIMEOUT:+timeout "$BP_TEST_TIMEOUT"} bash "$t"; then failed+=("$(basename "$t")"); fi
  echo "-- $(basename "$t"): $((SECONDS - start)) s"
done
if (( ${#failed[@]} > 0 )); then
  echo "integration: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "integration: all passed"
