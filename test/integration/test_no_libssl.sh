#!/usr/bin/env bash
# test_no_libssl.sh: with libssl.so.3 unloadable, serve refuses to start and check/cluster with --dist-tls fail before connecting, each saying why (exit 1); check, cluster without TLS and --version still work.
# The commands that will need OpenSSL load it at start (c_src/cli/ssl_lazy.c, bp_ssl_require): a
# daemon must never exit at a later first use. libssl is hidden from each run only, in a private
# mount namespace of its own (unshare -m: /dev/null bound over the library; the namespace, and the
# mount with it, goes when the run ends). Needs root and unshare.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [[ $(id -u) != 0 ]] || ! command -v unshare >/dev/null; then
  echo "  SKIP  libssl hidden in a mount namespace: needs root and unshare"
  exit 0
fi
SSL=$(ldconfig -p | awk '$1 == "libssl.so.3" && !found++ { print $NF }')
[[ -n $SSL ]] || { echo "  FAIL  libssl.so.3 not in ldconfig -p (install libssl3)"; exit 1; }
SSL_FILE=$(readlink -f "$SSL") # the mount point as /proc/self/mountinfo names it

start_cluster 1
NODE1=${NODES[0]}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/bp-nossl.XXXXXX")
trap '"$CLUSTER" stop "$DIR" >/dev/null 2>&1 || true; rm -rf "$DIR" "$WORK"' EXIT

# The command under test, run in a mount namespace where libssl.so.3 is an empty file.
cat >"$WORK/beamprobe" <<EOF
#!/bin/sh
exec unshare -m sh -c 'mount --bind /dev/null "\$0" && exec "\$@"' '$SSL' '$BEAMPROBE' "\$@"
EOF
chmod +x "$WORK/beamprobe"
BEAMPROBE="$WORK/beamprobe"

test_case "the namespace hides libssl from the run only"
probe --version
expect_code 0
if [[ -s $SSL_FILE ]] && ! grep -qF " $SSL_FILE " /proc/self/mountinfo; then ok "$SSL_FILE untouched here"; else fail "$SSL_FILE is mounted over here"; fi

test_case "serve refuses to start, before answering anything"
set +e
OUT=$(timeout 30 "$BEAMPROBE" serve --listen 127.0.0.1:0 --node "$NODE1" --cookie-file "$COOKIE" 2>"$WORK/err")
CODE=$?
set -e
ERR=$(<"$WORK/err")
expect_code 1
expect_in "$ERR" "beamprobe serve: serve needs OpenSSL, which cannot be loaded: $SSL"
expect_in "$ERR" "(install libssl3)"
if [[ -z $OUT && $ERR != *listening* ]]; then ok "nothing served"; else fail "it served: ${OUT:0:200} ${ERR:0:200}"; fi

test_case "check without TLS works against $NODE1"
check --json "$NODE1"
expect_code 0
expect_json .status healthy

test_case "cluster without TLS works"
probe cluster --cookie-file "$COOKIE" --json --nodes "$NODE1"
expect_code 0
expect_json .verdict converged

test_case "check --dist-tls fails before connecting, saying why"
check --dist-tls --tls-verify none "$NODE1"
expect_code 1
expect_in "$ERR" "beamprobe check: --dist-tls needs OpenSSL, which cannot be loaded: $SSL"
if [[ $ERR != *EPMD* && $ERR != *handshake* && $ERR != *TLS\ * ]]; then ok "no connection tried"; else fail "it connected: $ERR"; fi

test_case "cluster --dist-tls fails before connecting, saying why"
probe cluster --cookie-file "$COOKIE" --dist-tls --nodes "$NODE1"
expect_code 1
expect_in "$ERR" "beamprobe cluster: --dist-tls needs OpenSSL, which cannot be loaded: $SSL"
if [[ -z $OUT ]]; then ok "no report"; else fail "a report: ${OUT:0:200}"; fi

finish
