#!/usr/bin/env bash
# test_serve.sh: `beamprobe serve` against a real demo cluster, driven by curl: routes, failures, TLS, auth, signals.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/serve_lib.sh"

start_cluster 2
N1=${NODES[0]} N2=${NODES[1]}
serve_workspace serve

under_ms() { # under_ms SECONDS MS WHAT
  local ms
  ms=$(awk -v s="$1" 'BEGIN { printf "%d", s * 1000 }')
  if (( ms < $2 )); then ok "$3 in ${ms} ms"; else fail "$3 took ${ms} ms (limit $2)"; fi
}

GOVS=(--governor cost_guard,rollback_guard,backlog_valve --supervisor demo_sup --require-app demo)

test_case "every route and alias answers from the first report"
start_serve main --node "$N1" "${GOVS[@]}" --expect-peers "$N2" --interval 200ms --timeout 500ms
MAIN_LOG="$WORK/main.log"
if wait_code /health/ready 200 5; then ok "ready after ${WAITED_MS} ms"; else fail "never ready: $BODY"; fi
for p in /health/live /livez /live /health/ready /readyz /ready /healthz /health/startup /startupz /health /metrics; do
  http GET "$p"; expect_http 200
done
http GET /health/ready
expect_json_body() { OUT=$BODY; expect_json "$@"; }
expect_json_body .status healthy
expect_json_body .ok true
expect_json_body .stale false
expect_json_body '.age_seconds < 1' true
http GET /health
expect_json_body .schema_version 1
expect_json_body .node "$N1"
expect_json_body '.checks["governor:cost_guard"].status' pass
expect_json_body '.age_seconds >= 0' true
http HEAD /health/ready -I
expect_http 200
[[ -z $BODY || $BODY == HTTP* ]] && ok "HEAD has no body" || fail "HEAD returned a body"

test_case "unknown paths, methods, oversized headers"
http GET /nope; expect_http 404
http POST /health/ready; expect_http 405
http DELETE /metrics; expect_http 405
big=$(head -c 10000 /dev/zero | tr '\0' 'a')
http GET /health/ready -H "X-Big: $big"; expect_http 431

test_case "metrics pass promtool and carry the node label"
http GET /metrics
expect_in "$BODY" "beamprobe_up{node=\"$N1\"} 1"
expect_in "$BODY" "erlang_vm_memory_bytes{node=\"$N1\",kind=\"processes\"}"
expect_in "$BODY" "beamprobe_report_age_seconds{node=\"$N1\"}"
if command -v promtool >/dev/null; then
  if promtool check metrics <<<"$BODY" >"$WORK/promtool.out" 2>&1; then ok "promtool check metrics"
  else fail "promtool: $(cat "$WORK/promtool.out")"; fi
else
  fail "promtool not installed (scripts/install-deps.sh installs prometheus)"
fi

test_case "a governor turning refusing fails readiness, not liveness"
ceval "$N1" 'demo_governor:set_state(cost_guard, refusing).' >/dev/null
if wait_code /health/ready 503 3; then ok "ready 503 after ${WAITED_MS} ms"; else fail "ready stayed $CODE"; fi
http GET /health/live; expect_http 200
ceval "$N1" 'demo_governor:set_state(cost_guard, stable).' >/dev/null
if wait_code /health/ready 200 3; then ok "ready again"; else fail "ready stayed $CODE"; fi
expect_in "$(cat "$MAIN_LOG")" "state $N1: healthy -> unhealthy"

test_case "the transitions are kept: /health/history, since, and their metrics"
http GET /health/history
expect_http 200
expect_json_body '.capacity' 256
expect_json_body ".nodes[0].node" "$N1"
expect_json_body '[.nodes[0].transitions[] | select(.kind == "governor" and .name == "cost_guard") | .from + ">" + .to] | join(",")' "stable>refusing,refusing>stable"
expect_json_body '[.nodes[0].transitions[] | select(.kind == "check" and .name == "governor:cost_guard") | .to] | join(",")' "fail,pass"
expect_json_body '[.nodes[0].transitions[] | select(.kind == "node") | .to] | join(",")' "unhealthy,healthy"
expect_json_body '.nodes[0].transitions[0].time | test("^20[0-9-]+T[0-9:.]+Z$")' true
http GET "/health/history?node=$N1"; expect_http 200
http GET "/health/history?node=nobody@nowhere"; expect_http 404
http GET /health
expect_json_body '.checks["governor:cost_guard"].since | test("Z$")' true
expect_json_body '.checks["governor:cost_guard"].state_since | test("Z$")' true
http GET /metrics
expect_in "$BODY" "beamprobe_check_transitions_total{node=\"$N1\",check=\"governor:cost_guard\"} 2"
expect_in "$BODY" "# TYPE beamprobe_check_transitions_total counter"
expect_in "$BODY" "beamprobe_governor_state_since_seconds{node=\"$N1\",governor=\"cost_guard\"}"
expect_in "$BODY" "beamprobe_peer_connected{node=\"$N1\",peer=\"$N2\"} 1"
if promtool check metrics <<<"$BODY" >"$WORK/promtool.out" 2>&1; then ok "promtool check metrics"
else fail "promtool: $(cat "$WORK/promtool.out")"; fi

test_case "a killed target turns live and ready 503 within interval + timeout, and recovers"
"$CLUSTER" kill-node "$DIR" "${N1%@*}" >/dev/null
if wait_code /health/live 503 1; then
  ok "live 503 after ${WAITED_MS} ms"
  expect_le "$WAITED_MS" 900 "ms to notice (interval 200 + timeout 500 + slack)"
else fail "live stayed $CODE"; fi
http GET /health/ready; expect_http 503
# with several targets /metrics is rebuilt a moment after the probe routes see a report (paced)
if wait_in /metrics "beamprobe_up{node=\"$N1\"} 0" 2; then ok "/metrics says up 0 ${WAITED_MS} ms later"
else fail "/metrics kept up 1: ${BODY:0:300}"; fi
sleep 3 # down long enough for any backoff to have grown
"$CLUSTER" start-node "$DIR" "${N1%@*}" >/dev/null
if wait_code /health/ready 200 15; then
  ok "ready again ${WAITED_MS} ms after the restart"
  expect_le "$WAITED_MS" 1500 "ms from the node's return to ready (interval 200 + timeout 500 + slack)"
else fail "never recovered: $BODY"; fi
expect_in "$(cat "$MAIN_LOG")" "down $N1"
expect_in "$(cat "$MAIN_LOG")" "reconnected $N1"

test_case "a SIGSTOPped target: every route still answers fast, then stale/failing"
PID=$(cat "$DIR/${N1%@*}.pid")
kill -STOP "$PID"
for p in /health/live /health/ready /health /metrics; do
  http GET "$p"; under_ms "$SECS" 50 "GET $p"
done
if wait_code /health/live 503 3; then ok "live 503 after ${WAITED_MS} ms"; else fail "live stayed $CODE"; fi
for p in /health/live /health/ready /health /metrics; do
  http GET "$p"; under_ms "$SECS" 50 "GET $p while stopped"
done
kill -CONT "$PID"
if wait_code /health/ready 200 10; then ok "ready after SIGCONT"; else fail "ready stayed $CODE"; fi

test_case "1,000 idle connections do not slow the probes"
ulimit -n 4096 2>/dev/null || true
fds=()
for _ in $(seq 1000); do
  exec {fd}<>"/dev/tcp/127.0.0.1/$PORT" || break
  fds+=("$fd")
done
if (( ${#fds[@]} == 1000 )); then ok "1000 idle connections open"; else fail "only ${#fds[@]} connections opened"; fi
slowest_get /health/ready 20
expect_le "$WORST" 50 "worst ready latency (ms) of 20 with 1000 idle"
for fd in "${fds[@]}"; do exec {fd}>&-; done

test_case "SIGTERM: exit 0 within a second"
t0=$(date +%s%N)
kill -TERM "$SPID"
code=0; wait "$SPID" || code=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
if [[ $code == 0 ]]; then ok "exit 0"; else fail "exit $code"; fi
expect_le "$ms" 1000 "ms to exit"

test_case "bearer token guards /health and /metrics, not the probes"
echo "s3cr3t-token" >"$WORK/token"; chmod 600 "$WORK/token"
start_serve auth --node "$N2" --auth-token-file "$WORK/token" --interval 200ms
wait_code /health/ready 200 5 || true
http GET /health/ready; expect_http 200
http GET /health; expect_http 401
http GET /metrics -H "Authorization: Bearer wrong"; expect_http 401
http GET /health -H "Authorization: Bearer s3cr3t-token"; expect_http 200
http GET /metrics -H "Authorization: Bearer s3cr3t-token"; expect_http 200
http GET /health/history; expect_http 401
http GET /health/history -H "Authorization: Bearer s3cr3t-token"; expect_http 200
kill -TERM "$SPID"; wait "$SPID" || true

test_case "SIGHUP reloads the config file, keeps the old one when invalid"
cat >"$WORK/serve.json" <<JSON
{"node": ["$N2"], "interval": "200ms", "governor": "backlog_valve", "governor-fail-states": "refusing"}
JSON
start_serve reload --config "$WORK/serve.json"
wait_code /health/ready 200 5 || fail "not ready: $BODY"
ceval "$N2" 'demo_governor:set_state(backlog_valve, warning).' >/dev/null
sleep 0.5
http GET /health/ready; expect_http 200
cat >"$WORK/serve.json" <<JSON
{"node": ["$N2"], "interval": "200ms", "governor": "backlog_valve", "governor-fail-states": "warning"}
JSON
kill -HUP "$SPID"
if wait_code /health/ready 503 3; then ok "new fail state applies after SIGHUP"; else fail "ready stayed $CODE"; fi
echo '{"interval": "soon"' >"$WORK/serve.json"
kill -HUP "$SPID"
sleep 0.5
kill -0 "$SPID" && ok "still running after an invalid reload" || fail "died on an invalid reload"
expect_in "$(cat "$WORK/reload.log")" "kept the running configuration"
http GET /health/ready; expect_http 503
ceval "$N2" 'demo_governor:set_state(backlog_valve, stable).' >/dev/null

test_case "SIGHUP with a second target: answers for both, in the configured order"
cat >"$WORK/serve.json" <<JSON
{"node": ["$N2", "$N1"], "interval": "200ms"}
JSON
kill -HUP "$SPID"
if wait_code /health/ready 200 5; then ok "ready over both after ${WAITED_MS} ms"; else fail "ready stayed $CODE: $BODY"; fi
expect_json_body '.nodes | length' 2
expect_json_body '.nodes[0].node' "$N2"
expect_json_body '.nodes[1].node' "$N1"
expect_json_body '.ok' true
wait_in /metrics "beamprobe_up{node=\"$N1\"} 1" 2 || true # rebuilt a moment after the probe routes
expect_in "$BODY" "beamprobe_up{node=\"$N1\"} 1"
expect_in "$BODY" "beamprobe_up{node=\"$N2\"} 1"
expect_in "$(cat "$WORK/reload.log")" "configuration reloaded: 2 target(s)"
kill -TERM "$SPID"; wait "$SPID" || true

test_case "HTTPS and mutual TLS with generated certificates"
(
  cd "$WORK"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=bp-test-ca 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr -subj /CN=127.0.0.1 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >san.ext
  openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem -days 2 -extfile san.ext 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -keyout cli.key -out cli.csr -subj /CN=kubelet 2>/dev/null
  openssl x509 -req -in cli.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out cli.pem -days 2 2>/dev/null
)
start_serve tls --node "$N2" --interval 200ms --tls-cert "$WORK/srv.pem" --tls-key "$WORK/srv.key"
SCHEME=https
wait_code /health/ready 200 5 --cacert "$WORK/ca.pem" || true
http GET /health/ready --cacert "$WORK/ca.pem"; expect_http 200
http GET /health/ready --cacert "$WORK/ca.pem" --tls-max 1.1; [[ $CODE == 000 ]] && ok "TLS 1.1 refused" || fail "TLS 1.1 accepted ($CODE)"
SCHEME=http
http GET /health/ready; [[ $CODE != 200 ]] && ok "plain HTTP on the TLS port refused" || fail "plain HTTP accepted"
kill -TERM "$SPID"; wait "$SPID" || true

start_serve mtls --node "$N2" --interval 200ms --tls-cert "$WORK/srv.pem" --tls-key "$WORK/srv.key" --tls-client-ca "$WORK/ca.pem"
SCHEME=https
http GET /health/ready --cacert "$WORK/ca.pem"
[[ $CODE == 000 ]] && ok "no client certificate: refused" || fail "no client certificate: HTTP $CODE"
http GET /health/ready --cacert "$WORK/ca.pem" --cert "$WORK/cli.pem" --key "$WORK/cli.key"; expect_http 200
SCHEME=http
kill -TERM "$SPID"; wait "$SPID" || true

test_case "bad certificate or key: a startup error, exit 1"
echo "not a certificate" >"$WORK/bad.pem"
probe serve --listen 127.0.0.1:0 --cookie-file "$COOKIE" --node "$N2" --tls-cert "$WORK/bad.pem" --tls-key "$WORK/srv.key"
expect_code 1
probe serve --listen 127.0.0.1:0 --cookie-file "$COOKIE" --node "$N2" --tls-cert "$WORK/srv.pem" --tls-key "$WORK/cli.key"
expect_code 1
probe serve --listen 127.0.0.1:0 --cookie-file "$COOKIE"
expect_code 1
expect_in "$ERR" "--node"

finish
