#!/usr/bin/env bash
# serve_lib.sh: start `beamprobe serve` and talk HTTP to it with curl (sourced after lib.sh; needs WORK, COOKIE, SERVE_PIDS).

# start_serve NAME ARGS...: run serve on 127.0.0.1:0, wait for its port; sets PORT and SPID.
start_serve() {
  local name=$1; shift
  local log="$WORK/$name.log"
  "$BEAMPROBE" serve --listen 127.0.0.1:0 --cookie-file "$COOKIE" "$@" 2>"$log" &
  SPID=$!
  SERVE_PIDS+=("$SPID")
  PORT=
  for _ in $(seq 100); do
    PORT=$(sed -n 's/.*serving .* on port \([0-9]*\).*/\1/p' "$log" | head -1)
    [[ -n $PORT ]] && break
    kill -0 "$SPID" 2>/dev/null || break
    sleep 0.05
  done
  [[ -n $PORT ]] || { fail "serve $name did not start: $(cat "$log")"; return 1; }
}

# http METHOD PATH [curl args]: sets CODE, BODY, SECS (curl's total time)
SCHEME=http
http() {
  local method=$1 path=$2; shift 2
  local out
  out=$(curl -s -m 5 -X "$method" -o "$WORK/body" -w '%{http_code} %{time_total}' "$@" \
        "$SCHEME://127.0.0.1:$PORT$path" 2>/dev/null) || true
  CODE=${out%% *}
  SECS=${out##* }
  BODY=$(cat "$WORK/body" 2>/dev/null || true)
}

expect_http() { # expect_http CODE
  if [[ $CODE == "$1" ]]; then ok "HTTP $1"; else fail "HTTP $CODE, expected $1 (body: ${BODY:0:300})"; fi
}

wait_code() { # wait_code PATH CODE SECONDS: poll until PATH answers CODE
  local path=$1 want=$2 limit=$3 t0
  t0=$(date +%s%N)
  while :; do
    http GET "$path"
    [[ $CODE == "$want" ]] && { WAITED_MS=$(( ($(date +%s%N) - t0) / 1000000 )); return 0; }
    (( ($(date +%s%N) - t0) / 1000000 > limit * 1000 )) && return 1
    sleep 0.05
  done
}
