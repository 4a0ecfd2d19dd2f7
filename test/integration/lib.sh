#!/usr/bin/env bash
# lib.sh: assertions and cluster helpers shared by the integration tests (sourced, not run).
# Every test starts real nodes through test/fixtures/cluster.sh and stops them on exit.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CLUSTER="$ROOT/test/fixtures/cluster.sh"
BEAMPROBE=${BEAMPROBE:-$ROOT/priv/beamprobe}
# The erl that runs the nodes under test: BP_ERL (e.g. $(scripts/otp-release.sh path 27)) or the
# system's; cluster.sh reads BP_ERL itself, NODE_ERL is for tests that start a VM of their own, and
# NODE_ERLC, the erlc beside it, compiles what those VMs load (OTP 29 refuses some OTP 25 code).
NODE_ERL=${BP_ERL:-erl}
NODE_ERLC=erlc
[[ -z ${BP_ERL:-} ]] || NODE_ERLC=$(dirname "$BP_ERL")/erlc
HOST=$(hostname -s)
PASSED=0
FAILED=0
CURRENT=""

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# Start a cluster of $1 nodes in a fresh directory; sets DIR, COOKIE, NODE1..; stops it on exit.
start_cluster() {
  local n=$1; shift
  DIR=$(mktemp -d "${TMPDIR:-/tmp}/bp-it.XXXXXX")
  # shellcheck disable=SC2064
  trap "'$CLUSTER' stop '$DIR' >/dev/null 2>&1 || true; rm -rf '$DIR'" EXIT
  "$CLUSTER" start "$DIR" "$n" "bp$$" "$@" >/dev/null
  COOKIE="$DIR/cookie"
  mapfile -t NODES <"$DIR/nodes"
}

ceval() { "$CLUSTER" eval "$DIR" "$1" "$2"; }

test_case() { CURRENT=$1; }

ok() { PASSED=$((PASSED + 1)); printf '  ok    %s\n' "$CURRENT${1:+: $1}"; }
fail() { FAILED=$((FAILED + 1)); printf '  FAIL  %s: %s\n' "$CURRENT" "$1"; }

# Run beamprobe with the cluster's cookie; sets OUT, ERR, CODE and MS (wall time).
probe() {
  local t0 t1 errf
  errf=$(mktemp)
  t0=$(date +%s%N)
  set +e
  OUT=$("$BEAMPROBE" "$@" 2>"$errf")
  CODE=$?
  set -e
  t1=$(date +%s%N)
  ERR=$(cat "$errf"); rm -f "$errf"
  MS=$(( (t1 - t0) / 1000000 ))
  if [[ $ERR == *"Sanitizer"* || $ERR == *"runtime error"* ]]; then
    fail "sanitizer report: $ERR"
  fi
}

check() { probe check --cookie-file "$COOKIE" "$@"; }

expect_code() {
  if [[ $CODE == "$1" ]]; then ok "exit $1"; else fail "exit $CODE, expected $1 (stderr: ${ERR:0:300}; stdout: ${OUT:0:300})"; fi
}

expect_in() { # expect_in HAYSTACK NEEDLE
  if [[ $1 == *"$2"* ]]; then ok "has '$2'"; else fail "'$2' not in: ${1:0:400}"; fi
}

expect_json() { # expect_json JQ_FILTER EXPECTED  (against $OUT)
  local got
  got=$(jq -r "$1" <<<"$OUT" 2>&1) || { fail "jq $1 failed: $got"; return; }
  if [[ $got == "$2" ]]; then ok "$1 = $2"; else fail "$1 = '$got', expected '$2'"; fi
}

expect_le() { # expect_le VALUE MAX WHAT
  if (( $1 <= $2 )); then ok "$3 $1 <= $2"; else fail "$3 $1 > $2"; fi
}

finish() {
  echo "  $PASSED passed, $FAILED failed"
  (( FAILED == 0 ))
}
