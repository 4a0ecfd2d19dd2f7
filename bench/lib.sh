#!/usr/bin/env bash
# Shared setup of the bench/*.sh benchmarks: tools, binary, temp dir and cluster with cleanup, machine facts.
# Sourced after the script sets ROOT, BENCH, CLUSTER and BP (and EXTRA_PACKAGES for ensure_packages).

die() { echo "bench: error: $*" >&2; exit 1; }
say() { echo "bench: $*" >&2; }

as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

# ensure_packages TOOL...: runs scripts/install-deps.sh if a TOOL is missing, then installs the
# missing Debian packages of EXTRA_PACKAGES with apt-get.
ensure_packages() {
  local missing=() p t
  for t in "$@"; do
    if ! command -v "$t" >/dev/null; then
      "$ROOT/scripts/install-deps.sh" >&2 || die "scripts/install-deps.sh failed"
      break
    fi
  done
  for p in "${EXTRA_PACKAGES[@]}"; do
    dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^ii' || missing+=("$p")
  done
  ((${#missing[@]} == 0)) && return 0
  say "installing missing packages: ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 || die "apt-get update failed"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 \
    || die "apt-get install failed for: ${missing[*]}"
}

# find_erl_call: sets ERL_CALL, the newest erl_interface's erl_call or the one on PATH.
find_erl_call() {
  ERL_CALL=$(ls /usr/lib/erlang/lib/erl_interface-*/bin/erl_call 2>/dev/null | sort -V | tail -1 || true)
  [[ -x "$ERL_CALL" ]] || ERL_CALL=$(command -v erl_call || true)
  [[ -x "$ERL_CALL" ]] || die "erl_call not found"
}

# ensure_beamprobe: builds priv/beamprobe ($BP) if it is missing.
ensure_beamprobe() {
  [[ -x "$BP" ]] || { say "building priv/beamprobe"; make -s -C "$ROOT/c_src" >&2 || die "build failed"; }
  [[ -x "$BP" ]] || die "$BP missing after the build"
}

# bench_tmp NAME: sets TMP (a new temp dir) and CL (the cluster dir in it) and installs the traps:
# on exit bench_cleanup runs the script's cleanup_extra (if defined), stops the cluster, removes TMP.
# CLUSTER_STOP_VERBOSE=1 says so when stopping the cluster and warns if that fails.
bench_tmp() {
  TMP=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
  CL="$TMP/cluster"
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
}
bench_cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if declare -F cleanup_extra >/dev/null; then cleanup_extra || true; fi
  if [[ -d "$CL" ]]; then
    if [[ "${CLUSTER_STOP_VERBOSE:-0}" == 1 ]]; then
      say "stopping the cluster"
      "$CLUSTER" stop "$CL" >/dev/null 2>&1 || say "warning: cluster.sh stop $CL reported a problem"
    else
      "$CLUSTER" stop "$CL" >/dev/null 2>&1 || true
    fi
  fi
  if [[ "${BENCH_KEEP:-0}" == 1 ]]; then say "kept $TMP"; else rm -rf "$TMP"; fi
  exit "$rc"
}

CHILD=
# run_child CMD...: runs a long step in the background and waits, so a signal to this script
# interrupts the wait at once (bash defers traps until a foreground command ends).
run_child() {
  local rc=0
  "$@" &
  CHILD=$!
  wait "$CHILD" || rc=$?
  CHILD=
  return "$rc"
}

# private_beamprobe: benchmark a private copy, as others may rebuild priv/beamprobe meanwhile;
# sets BP_SHA (of the original) and points BP at the copy in TMP.
private_beamprobe() {
  cp "$BP" "$TMP/beamprobe"
  BP_SHA=$(sha256sum "$BP" | cut -c1-12)
  BP="$TMP/beamprobe"
}

# start_cluster COUNT PREFIX [-- ERL_ARGS...]: starts a fresh demo cluster in CL; sets NODES, NODE (the first) and COOKIE_FILE.
start_cluster() {
  "$CLUSTER" start "$CL" "$1" "$2" "${@:3}" >/dev/null 2>"$TMP/cluster.err" || { cat "$TMP/cluster.err" >&2; die "cluster start failed"; }
  mapfile -t NODES <"$CL/nodes"
  NODE=${NODES[0]}
  COOKIE_FILE="$CL/cookie"
}

# node_os_pid NODE: prints the OS pid of a cluster node's BEAM, or dies.
node_os_pid() {
  local p
  p=$(tr -dc '0-9' <"$CL/${1%@*}.pid")
  [[ -n "$p" && -d /proc/$p ]] || die "cannot find the OS pid of $1"
  echo "$p"
}

# machine_facts: sets OTP_VERSION, CPU_MODEL and GIT_REV (marked if c_src or include is modified).
machine_facts() {
  OTP_VERSION=$(erl -noshell -eval '{ok, V} = file:read_file(filename:join([code:root_dir(), "releases",
    erlang:system_info(otp_release), "OTP_VERSION"])), io:put_chars(string:trim(V)), halt().' 2>/dev/null || echo unknown)
  CPU_MODEL=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
  GIT_REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
  git -C "$ROOT" diff --quiet HEAD -- c_src include 2>/dev/null || GIT_REV="$GIT_REV (c_src/include modified)"
}

# machine_table OTP_TEXT [ROW...]: the results files' machine table (after machine_facts): CPUs, CPU model,
# kernel, Erlang/OTP as OTP_TEXT, then each ROW ("| name | value |") as given.
machine_table() {
  echo "| machine | |"
  echo "|---|---|"
  echo "| CPUs (\`nproc\`) | $(nproc) |"
  echo "| CPU model | $CPU_MODEL |"
  echo "| kernel (\`uname -r\`) | $(uname -r) |"
  echo "| Erlang/OTP | $1 |"
  shift
  local row
  for row in "$@"; do echo "$row"; done
}
