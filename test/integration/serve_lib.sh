#!/usr/bin/env bash
# serve_lib.sh: start `beamprobe serve` or an in-VM server and talk HTTP to them with curl (sourced after lib.sh; needs DIR, WORK, COOKIE, SERVE_PIDS).

# serve_workspace NAME: a work directory (WORK) and the list of serve processes (SERVE_PIDS), both
# cleaned up on exit with the cluster of start_cluster; EXTRA_CLEANUP (a command) runs first.
serve_workspace() {
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/bp-$1.XXXXXX")
  SERVE_PIDS=()
  trap serve_cleanup EXIT
}

serve_cleanup() {
  [[ -n ${EXTRA_CLEANUP:-} ]] && eval "$EXTRA_CLEANUP"
  for p in "${SERVE_PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
  "$CLUSTER" stop "$DIR" >/dev/null 2>&1 || true
  rm -rf "$DIR"
}

# listen_port LOG PID: print the port serve (process PID, logging to LOG) listens on, once it says
# so; up to 15 s (a sanitized serve on a busy machine starts slowly); fails if PID exits first.
listen_port() {
  local port
  for _ in $(seq 300); do
    port=$(sed -n 's/.*listening on .*:\([0-9]*\) (.*/\1/p' "$1" | head -1)
    [[ -n $port ]] && { echo "$port"; return 0; }
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

# launch_serve LOG COMMAND...: run COMMAND (a serve on port 0) in the background, its stderr in LOG,
# and wait for its port; sets SPID, and PORT ("" when it did not start). LOG is made first: the
# background job creates it only when it runs, and the poll must not read a missing file.
launch_serve() {
  local log=$1; shift
  : >"$log"
  "$@" 2>"$log" &
  SPID=$!
  PORT=$(listen_port "$log" "$SPID") || PORT=""
}

# start_serve NAME ARGS...: run serve on 127.0.0.1:0, wait for its port; sets PORT and SPID.
start_serve() {
  local name=$1; shift
  local log="$WORK/$name.log"
  launch_serve "$log" "$BEAMPROBE" serve --listen 127.0.0.1:0 --cookie-file "$COOKIE" "$@"
  SERVE_PIDS+=("$SPID")
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

slowest_get() { # slowest_get PATH N: GET PATH N times, each must answer 200; sets WORST (ms)
  WORST=0
  local ms
  for _ in $(seq "$2"); do
    http GET "$1"
    [[ $CODE == 200 ]] || fail "$1 answered $CODE"
    ms=$(awk -v s="$SECS" 'BEGIN { printf "%d", s * 1000 }')
    (( ms > WORST )) && WORST=$ms
  done
  return 0
}

expect_http() { # expect_http CODE
  if [[ $CODE == "$1" ]]; then ok "HTTP $1"; else fail "HTTP $CODE, expected $1 (body: ${BODY:0:300})"; fi
}

poll_get() { # poll_get PATH SECONDS PRED ARG: GET PATH until `PRED ARG` holds (sets WAITED_MS); 1 on timeout
  local path=$1 limit=$2 t0
  shift 2
  t0=$(date +%s%N)
  while :; do
    http GET "$path"
    "$@" && { WAITED_MS=$(( ($(date +%s%N) - t0) / 1000000 )); return 0; }
    (( ($(date +%s%N) - t0) / 1000000 > limit * 1000 )) && return 1
    sleep 0.05
  done
}
code_is() { [[ $CODE == "$1" ]]; }
body_has() { [[ $BODY == *"$1"* ]]; }
wait_code() { poll_get "$1" "$3" code_is "$2"; } # wait_code PATH CODE SECONDS
wait_in() { poll_get "$1" "$3" body_has "$2"; }  # wait_in PATH STRING SECONDS

# start_vm NAME EXPR: a standalone demo node (unique name, the cluster's cookie; under BP_SANITIZED
# libasan preloaded, as in test_nif.sh) with the Erlang API and this build's NIF, evaluating EXPR
# once the demo app runs; its output goes to WORK/NAME.log. Sets VM_PID (in SERVE_PIDS: killed on
# exit). EXPR starts the in-VM server and prints "port N" (wait_vm_port), then waits.
start_vm() {
  local name=$1 expr=$2 nif=${BP_NIF_SO:-$ROOT/priv/beamprobe_nif.so} app=$DIR/lib/beamprobe env_=(HOME="$DIR/home")
  [[ -n ${BP_SANITIZED:-} ]] && nif=$ROOT/build-san/beamprobe_nif.so
  if [[ ! -f $app/ebin/beamprobe.beam ]]; then
    mkdir -p "$app/ebin" "$app/priv"
    ln -sf "$nif" "$app/priv/beamprobe_nif.so"
    "$NODE_ERLC" -Werror -o "$app/ebin" "$ROOT/src/beamprobe.erl"
    cp "$ROOT/src/beamprobe.app.src" "$app/ebin/beamprobe.app"
  fi
  [[ -n ${BP_SANITIZED:-} ]] && env_+=(LD_PRELOAD="$(gcc -print-file-name=libasan.so)" ASAN_OPTIONS="detect_leaks=0:abort_on_error=1")
  env "${env_[@]}" "$NODE_ERL" -sname "bp$$_$name" -noshell -connect_all false -pa "$app/ebin" "$ROOT/test/fixtures/demo/ebin" \
    -eval "{ok, _} = application:ensure_all_started(demo), $expr" >"$WORK/$name.log" 2>&1 &
  VM_PID=$!
  SERVE_PIDS+=("$VM_PID")
}

# wait_vm_port NAME: wait until WORK/NAME.log says "port N"; sets PORT (empty if the node died first).
wait_vm_port() {
  PORT=
  for _ in $(seq 200); do
    PORT=$(sed -n 's/^port \([0-9]*\)$/\1/p' "$WORK/$1.log" 2>/dev/null)
    [[ -n $PORT ]] && return 0
    kill -0 "$VM_PID" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

# stop_vm NAME: stop the node (SIGTERM: init:stop, so that a coverage build's NIF writes its counters;
# SIGKILL if it still runs after 5 s) and fail on a sanitizer report in its output.
stop_vm() {
  kill -TERM "$VM_PID" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$VM_PID" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$VM_PID" 2>/dev/null || true
  wait "$VM_PID" 2>/dev/null || true
  if grep -q -e Sanitizer -e 'runtime error' "$WORK/$1.log"; then
    fail "sanitizer report in the VM: $(grep -A20 Sanitizer "$WORK/$1.log" | head -40)"
  fi
}
