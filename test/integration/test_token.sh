#!/usr/bin/env bash
# test_token.sh: serve's --auth-token-file is read strictly (mode, NUL, CR/LF, empty, too long) at start, from --config and on SIGHUP.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/serve_lib.sh"

start_cluster 1
N1=${NODES[0]}
serve_workspace token
SECRET=s3cr3t-token

# refused FILE NEEDLE [serve args]: serve must exit 1 at start, naming the file and the problem, never the token.
refused() {
  local file=$1 needle=$2; shift 2
  set +e
  ERR=$(timeout 10 "$BEAMPROBE" serve --listen 127.0.0.1:0 --cookie-file "$COOKIE" --node "$N1" "$@" 2>&1 >/dev/null)
  CODE=$?
  set -e
  expect_code 1
  expect_in "$ERR" "$needle"
  expect_in "$ERR" "$file"
  if [[ $ERR == *"$SECRET"* ]]; then fail "the token is in the message"; fi
  if [[ $ERR == *"Sanitizer"* || $ERR == *"runtime error"* ]]; then fail "sanitizer report: $ERR"; fi
}

# token NAME MODE: write stdin to WORK/NAME with MODE; prints the path.
token() { cat >"$WORK/$1"; chmod "$2" "$WORK/$1"; echo "$WORK/$1"; }

test_case "a token file with a NUL byte is refused"
F=$(printf '%s\0tail\n' "$SECRET" | token nul 600)
refused "$F" "NUL byte" --auth-token-file "$F"

test_case "a token file with CR or LF inside is refused"
F=$(printf '%s\r\nsecond\n' "$SECRET" | token crlf 600)
refused "$F" "line break (CR or LF)" --auth-token-file "$F"
F=$(printf 'abc\rdef\n' | token cr 600)
refused "$F" "line break (CR or LF)" --auth-token-file "$F"

test_case "a world-readable token file is refused"
F=$(printf '%s\n' "$SECRET" | token loose 644)
refused "$F" "mode 0644); run: chmod 600" --auth-token-file "$F"

test_case "an empty token file is refused"
F=$(printf '' | token empty 600)
refused "$F" "is empty" --auth-token-file "$F"

test_case "a 5,000-byte token is refused, not truncated"
F=$(head -c 5000 /dev/zero | tr '\0' k | token long 600)
refused "$F" "longer than 4095 bytes" --auth-token-file "$F"

test_case "the config file's auth-token-file key is read the same way"
F=$(printf '%s\n' "$SECRET" | token loose2 640)
printf '{"node": ["%s"], "auth-token-file": "%s"}\n' "$N1" "$F" >"$WORK/bad.json"
refused "$F" "group or others" --config "$WORK/bad.json"

test_case "a good 0600 token file with a trailing newline: the exact token only"
printf '%s\n' "$SECRET" | token good 600 >/dev/null
printf '{"node": ["%s"], "interval": "200ms", "auth-token-file": "%s"}\n' "$N1" "$WORK/good" >"$WORK/serve.json"
start_serve good --config "$WORK/serve.json"
wait_code /health/live 200 10 || fail "never live: $BODY"
http GET /health -H "Authorization: Bearer $SECRET"; expect_http 200
http GET /metrics -H "Authorization: Bearer $SECRET"; expect_http 200
http GET /health -H "Authorization: Bearer ${SECRET:0:6}"; expect_http 401
http GET /health -H "Authorization: Bearer ${SECRET}x"; expect_http 401
http GET /health; expect_http 401
for p in / /status; do # the status page shows what /health shows: the same rule
  http GET "$p"; expect_http 401
  http GET "$p" -H "Authorization: Bearer ${SECRET:0:6}"; expect_http 401
  http GET "$p" -H "Authorization: Bearer $SECRET"; expect_http 200
  expect_in "$BODY" "<main id=\"main\">"
done

test_case "SIGHUP with a bad token file keeps the old configuration and says why"
chmod 644 "$WORK/good"
kill -HUP "$SPID"
for _ in $(seq 50); do grep -q "kept the running configuration" "$WORK/good.log" && break; sleep 0.05; done
expect_in "$(cat "$WORK/good.log")" "kept the running configuration: --auth-token-file $WORK/good is accessible by group or others"
kill -0 "$SPID" && ok "still running" || fail "died on the reload"
http GET /health -H "Authorization: Bearer $SECRET"; expect_http 200
printf 'new-%s\n' "$SECRET" >"$WORK/good"; chmod 600 "$WORK/good"
kill -HUP "$SPID"
for _ in $(seq 50); do grep -q "configuration reloaded" "$WORK/good.log" && break; sleep 0.05; done
http GET /health -H "Authorization: Bearer new-$SECRET"; expect_http 200
http GET /health -H "Authorization: Bearer $SECRET"; expect_http 401
kill -TERM "$SPID"; wait "$SPID" || true
if grep -q -e Sanitizer -e 'runtime error' "$WORK/good.log"; then fail "sanitizer report: $(head -40 "$WORK/good.log")"; fi

test_case "the in-VM server reads auth_token_file the same way"
printf '%s\n' "$SECRET" >"$WORK/vmtoken"; chmod 644 "$WORK/vmtoken"
start_vm tokvm "{error, {usage, Why}} = beamprobe:start_server(#{port => 0, auth_token_file => \"$WORK/vmtoken\"}),
                io:format(\"refused: ~ts~n\", [Why]),
                ok = file:change_mode(\"$WORK/vmtoken\", 8#600),
                {ok, P} = beamprobe:start_server(#{port => 0, interval => 200, auth_token_file => \"$WORK/vmtoken\"}),
                io:format(\"port ~p~n\", [P]), receive stop -> ok end."
wait_vm_port tokvm || fail "the in-VM server did not start: $(cat "$WORK/tokvm.log")"
expect_in "$(cat "$WORK/tokvm.log")" "refused: --auth-token-file $WORK/vmtoken is accessible by group or others (mode 0644); run: chmod 600"
wait_code /health/live 200 10 || fail "in-VM server never live: $BODY"
http GET /health -H "Authorization: Bearer $SECRET"; expect_http 200
http GET /health -H "Authorization: Bearer ${SECRET:0:6}"; expect_http 401
http GET /health; expect_http 401
stop_vm tokvm

finish
