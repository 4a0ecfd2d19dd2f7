#!/usr/bin/env bash
# test_startup.sh: the command loads OpenSSL only when it needs it (cli/ssl_lazy.c): not for --version, --help or a plain check; serve and check --dist-tls load it at start; a missing libssl is an error that says so.
# No node is needed: the check fails at once at EPMD (ERL_EPMD_PORT=1 on loopback, refused), and
# serve fails at once at listen on an address that is not this host's (192.0.2.1, TEST-NET-1).
# test_no_libssl.sh hides libssl from real runs against a node.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/bp-startup.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
export BEAMPROBE_COOKIE=startup-test-cookie

# bp ENV... -- ARG...: runs beamprobe alone with ENV (LD_DEBUG, LD_LIBRARY_PATH: not for the
# shell's own helpers); sets OUT, CODE and ERR like probe.
bp() {
  local envs=()
  while [[ $1 != -- ]]; do envs+=("$1"); shift; done
  shift
  set +e
  OUT=$(env "${envs[@]}" "$BEAMPROBE" "$@" 2>"$WORK/err")
  CODE=$?
  set -e
  ERR=$(<"$WORK/err")
}

test_case "beamprobe holds no OpenSSL code (linked: cli/ssl_lazy.c forwards to libssl.so.3)"
nm "$BEAMPROBE" >"$WORK/nm" || fail "nm failed"
if grep -q ' OPENSSL_init_ssl$' "$WORK/nm"; then fail "OPENSSL_init_ssl is linked in"; else ok; fi

test_case "--version loads no OpenSSL"
bp LD_DEBUG=files -- --version
expect_code 0
if [[ $ERR == *libssl* || $ERR == *libcrypto* ]]; then fail "loaded: $(grep -o 'file=lib[a-z]*\.so[.0-9]*' <<<"$ERR" | sort -u | tr '\n' ' ')"; else ok "no libssl, no libcrypto"; fi

test_case "a check without --dist-tls loads no OpenSSL"
bp ERL_EPMD_PORT=1 LD_DEBUG=files -- check --timeout 1s "n@127.0.0.1"
expect_code 2
expect_in "$ERR" "EPMD on 127.0.0.1:1 not reachable"
if [[ $ERR == *libssl* ]]; then fail "libssl loaded"; else ok "no libssl"; fi

test_case "--help loads no OpenSSL"
bp LD_DEBUG=files -- --help
expect_code 0
if [[ $ERR == *libssl* ]]; then fail "libssl loaded"; else ok "no libssl"; fi
bp LD_DEBUG=files -- check --help
expect_code 0
if [[ $ERR == *libssl* ]]; then fail "libssl loaded by check --help"; else ok "check --help: no libssl"; fi

# loaded: "file=libssl.so.3 ... dynamically loaded by", before the command's own message (both on stderr, in order)
loaded_before() { # loaded_before MESSAGE
  local at_ssl at_msg
  at_ssl=$(grep -n -m1 'file=libssl.so.3 \[0\];  dynamically loaded by' <<<"$ERR" | cut -d: -f1)
  at_msg=$(grep -nF -m1 "$1" <<<"$ERR" | cut -d: -f1)
  if [[ -n $at_ssl && -n $at_msg ]] && (( at_ssl < at_msg )); then ok "libssl loaded (line $at_ssl) before '$1' (line $at_msg)"
  else fail "libssl at line '${at_ssl}', '$1' at line '${at_msg}': ${ERR:0:600}"; fi
}

test_case "serve loads OpenSSL at start, TLS or not (a daemon must not exit at a later first use)"
# an address that is not this host's: serve fails at listen, after loading OpenSSL
bp LD_DEBUG=files -- serve --listen 192.0.2.1:0 --node "n@127.0.0.1"
expect_code 1
loaded_before "beamprobe serve: cannot listen on 192.0.2.1:0"

test_case "check --dist-tls loads OpenSSL before its first step"
bp ERL_EPMD_PORT=1 LD_DEBUG=files -- check --dist-tls --timeout 1s "n@127.0.0.1"
expect_code 2
loaded_before "EPMD on 127.0.0.1:1 not reachable"

test_case "libssl.so.3 that cannot be loaded: serve says so at start, exit 1; --version runs"
mkdir "$WORK/lib"
: >"$WORK/lib/libssl.so.3"
bp LD_LIBRARY_PATH="$WORK/lib" -- serve --listen 127.0.0.1:0 --node "n@127.0.0.1"
expect_code 1
expect_in "$ERR" "beamprobe serve: serve needs OpenSSL, which cannot be loaded: $WORK/lib/libssl.so.3"
bp LD_LIBRARY_PATH="$WORK/lib" -- --version
expect_code 0

finish
