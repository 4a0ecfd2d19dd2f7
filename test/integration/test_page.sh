#!/usr/bin/env bash
# test_page.sh: the status page (GET / and /status) of serve and of the in-VM server, in a real browser (headless
# Chromium driven by test/browser/page_test.js) against real nodes: partition, hostile state name, screenshots.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/serve_lib.sh"

ARTIFACTS=${ARTIFACTS:-$ROOT/build/artifacts/page}
mkdir -p "$ARTIFACTS"
HOSTILE='<img src=x onerror=alert(1)>'
INTERVAL_MS=1000

# 3 nodes that never reconnect on their own, so a partition made by hand stays made
start_cluster 3 -- -kernel dist_auto_connect never -kernel prevent_overlapping_partitions false
serve_workspace page
A=${NODES[0]} B=${NODES[1]} C=${NODES[2]}

test_case "serve: GET / and /status are the page, with a strict CSP and the auth rule of /health"
start_serve page --nodes "$A,$B,$C" --interval "${INTERVAL_MS}ms" --governor cost_guard
wait_code /health 200 10 || fail "serve never healthy: $BODY"
for p in / /status; do
  http GET "$p"; expect_http 200
  expect_in "$BODY" "<main id=\"main\">"
done
hdrs=$(curl -s -D - -o /dev/null "http://127.0.0.1:$PORT/")
expect_in "$hdrs" "Content-Type: text/html; charset=utf-8"
expect_in "$hdrs" "Content-Security-Policy: default-src 'none'; script-src 'sha256-"
if grep -qi "unsafe-inline" <<<"$hdrs"; then fail "unsafe-inline in the CSP"; else ok "no unsafe-inline"; fi

test_case "the page in headless Chromium: converged, then a real partition, then a hostile governor state"
if ! command -v chromium >/dev/null || [[ ! -d $ROOT/test/browser/node_modules/puppeteer-core ]]; then
  fail "chromium or puppeteer-core missing: run scripts/install-deps.sh"
else
  PARTITION="'$CLUSTER' eval '$DIR' '$A' \"erlang:disconnect_node('$C').\" >/dev/null &&
             '$CLUSTER' eval '$DIR' '$B' \"erlang:disconnect_node('$C').\" >/dev/null"
  HOSTILE_CMD="'$CLUSTER' eval '$DIR' '$B' \"sys:replace_state(cost_guard, fun({_, D}) -> {'$HOSTILE', D} end).\" >/dev/null"
  out=$(PAGE_URL="http://127.0.0.1:$PORT/" NODES="$A,$B,$C" INTERVAL_MS=$INTERVAL_MS ARTIFACTS="$ARTIFACTS" \
        PARTITION_CMD="$PARTITION" HOSTILE_CMD="$HOSTILE_CMD" HOSTILE="$HOSTILE" \
        node "$ROOT/test/browser/page_test.js" 2>&1) && rc=0 || rc=$?
  printf '%s\n' "$out" | grep -E '^  (ok|FAIL) ' || printf '%s\n' "$out" | tail -20
  PASSED=$((PASSED + $(grep -c '^  ok ' <<<"$out" || true)))
  FAILED=$((FAILED + $(grep -c '^  FAIL ' <<<"$out" || true)))
  (( rc == 0 )) || [[ $out == *"  FAIL "* ]] || fail "page_test.js exited $rc: $(tail -5 <<<"$out")"
  for f in converged partitioned; do
    [[ -s $ARTIFACTS/$f.png ]] && ok "screenshot $f.png" || fail "no screenshot $f.png"
  done
fi

test_case "cluster --format svg: the same picture, standalone"
OUT=$("$BEAMPROBE" cluster --cookie-file "$COOKIE" --nodes "$A,$B,$C" --format svg) || true
expect_in "$OUT" '<?xml version="1.0" encoding="UTF-8"?>'
expect_in "$OUT" "partition 2"
"$BEAMPROBE" cluster --cookie-file "$COOKIE" --nodes "$A" --format html >/dev/null 2>&1 && code=0 || code=$?
[[ $code == 1 ]] && ok "--format html refused (usage, exit 1)" || fail "--format html: exit $code, expected 1"
OUT=$("$BEAMPROBE" cluster --cookie-file "$COOKIE" --nodes "$A,$B,$C" --json) || true
expect_json .verdict partitioned

test_case "the in-VM server serves the same page under the same rule"
start_vm pagevm "{ok, P} = beamprobe:start_server(#{port => 0, interval => 200}),
                 io:format(\"port ~p~n\", [P]), receive stop -> ok end."
if wait_vm_port pagevm; then
  wait_code /health/live 200 10 || fail "in-VM server never live: $BODY"
  http GET /status; expect_http 200
  expect_in "$BODY" "data-verdict="
  hdrs=$(curl -s -D - -o /dev/null "http://127.0.0.1:$PORT/")
  expect_in "$hdrs" "Content-Security-Policy: default-src 'none'"
else
  fail "start_server: $(cat "$WORK/pagevm.log")"
fi
stop_vm pagevm

finish
