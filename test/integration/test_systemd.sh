#!/usr/bin/env bash
# test_systemd.sh: the systemd units in deploy/systemd: verify clean, exposure score <= 2.0, shared hardening, the credential cookie.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/serve_lib.sh"

UNITS=$ROOT/deploy/systemd
MAX_EXPOSURE=${MAX_EXPOSURE:-2.0}

if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "  SKIP  systemd-analyze not found (Debian: apt-get install systemd, or scripts/install-deps.sh)"
  exit 0
fi

start_cluster 1
N1=${NODES[0]}
serve_workspace systemd

# Copies of the units whose ExecStart points at this build (verify checks the command exists);
# the template is verified as the instance of the cluster's node.
mkdir -p "$WORK/units"
unit_copy() { # unit_copy SRC DEST
  sed "s#/usr/local/bin/beamprobe#$BEAMPROBE#g" "$UNITS/$1" >"$WORK/units/$2"
}
unit_copy beamprobe.service beamprobe.service
unit_copy beamprobe@.service "beamprobe@${N1%@*}.service"

# exposure UNIT_FILE: the overall exposure level systemd-analyze security computes for it, offline.
exposure() {
  (cd "$(dirname "$1")" && systemd-analyze security --offline=yes "./$(basename "$1")" 2>&1) \
    | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p'
}

for unit in beamprobe.service "beamprobe@${N1%@*}.service"; do
  test_case "$unit: systemd-analyze verify is clean"
  set +e
  out=$(cd "$WORK/units" && systemd-analyze verify "./$unit" 2>&1)
  rc=$?
  set -e
  if (( rc == 0 )) && [[ -z $out ]]; then ok; else fail "rc $rc: $out"; fi

  test_case "$unit: exposure level at most $MAX_EXPOSURE"
  score=$(exposure "$WORK/units/$unit")
  if [[ -z $score ]]; then fail "no exposure level in systemd-analyze security output"
  elif awk -v s="$score" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(s <= m) }'; then ok "$score"
  else fail "exposure $score > $MAX_EXPOSURE"; fi
done

test_case "the scorer notices a unit without the hardening"
sed '/^# --- hardening/,/^# --- end hardening/d' "$WORK/units/beamprobe.service" >"$WORK/units/bare.service"
score=$(exposure "$WORK/units/bare.service")
if [[ -n $score ]] && awk -v s="$score" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(s > m) }'; then ok "unhardened: $score"
else fail "unhardened unit scored '$score'"; fi

test_case "both units carry the same hardening block"
block() { sed -n '/^# --- hardening/,/^# --- end hardening/p' "$UNITS/$1"; }
if [[ -n $(block beamprobe.service) ]] && diff <(block beamprobe.service) <(block beamprobe@.service) >"$WORK/diff"; then ok
else fail "hardening blocks differ or are missing: $(head -c 400 "$WORK/diff")"; fi

test_case "the hardening the deployment guide promises is there"
for want in DynamicUser=yes ProtectSystem=strict NoNewPrivileges=yes 'CapabilityBoundingSet=$' \
            'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX$' SystemCallFilter=@system-service MemoryMax= \
            'LoadCredential=cookie:/etc/beamprobe/cookie$' 'cookie-file \${CREDENTIALS_DIRECTORY}/cookie'; do
  if grep -q -- "$want" "$UNITS/beamprobe.service"; then ok "$want"; else fail "beamprobe.service lacks $want"; fi
done

# systemd hands a LoadCredential= file over with mode 0400, owned by the service's user: serve must accept
# it, and the template's bare alive name (%i) must reach the node on this host.
test_case "serve accepts a credential-mode (0400) cookie and a bare alive name"
install -m 0400 "$DIR/cookie" "$WORK/cookie"
COOKIE=$WORK/cookie
start_serve cred --node "${N1%@*}" --cnode-name "beamprobe_${N1%@*}" --interval 200ms
if wait_code /health/ready 200 10; then ok "ready in ${WAITED_MS} ms"; else fail "HTTP $CODE: ${BODY:0:300}"; fi

test_case "a group-readable cookie is refused"
chmod 0440 "$WORK/cookie"
set +e
ERR=$(timeout 5 "$BEAMPROBE" serve --node "${N1%@*}" --listen 127.0.0.1:0 --cookie-file "$WORK/cookie" 2>&1 >/dev/null)
CODE=$?
set -e
if [[ $CODE != 0 && $CODE != 124 && $ERR == *"group or others"* ]]; then ok; else fail "exit $CODE: ${ERR:0:300}"; fi

finish
