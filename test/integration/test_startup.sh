#!/usr/bin/env bash
# test_startup.sh: the command loads OpenSSL only when it needs it (cli/ssl_lazy.c): not for --version or a plain check, yes for serve's TLS; a missing libssl is an error that says so.
# No node is needed: the check fails at once at EPMD (ERL_EPMD_PORT=1 on loopback, refused), and
# serve fails at once on an unreadable certificate, after loading OpenSSL to read it.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/bp-startup.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
echo "not a certificate" >"$WORK/bad.pem"
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

test_case "serve with --tls-cert loads OpenSSL at its first use"
bp LD_DEBUG=files -- serve --listen 127.0.0.1:0 --node "n@127.0.0.1" --tls-cert "$WORK/bad.pem" --tls-key "$WORK/bad.pem"
expect_code 1
expect_in "$ERR" "file=libssl.so.3 [0];  dynamically loaded by"

test_case "libssl.so.3 that cannot be loaded: says so, exit 1"
mkdir "$WORK/lib"
: >"$WORK/lib/libssl.so.3"
bp LD_LIBRARY_PATH="$WORK/lib" -- serve --listen 127.0.0.1:0 --node "n@127.0.0.1" --tls-cert "$WORK/bad.pem" --tls-key "$WORK/bad.pem"
expect_code 1
expect_in "$ERR" "OpenSSL is needed here but cannot be loaded"
bp LD_LIBRARY_PATH="$WORK/lib" -- --version
expect_code 0

finish
