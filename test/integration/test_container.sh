#!/usr/bin/env bash
# test_container.sh: deploy/container: the Dockerfile checked statically, the runtime root run read-only as 65532, the buildah image built and run with podman when possible.
# bp: packaging
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/serve_lib.sh"

C=$ROOT/deploy/container
MAX_MIB=${MAX_MIB:-15}
# The image carries the release build: the sanitized one (make sanitize) links the sanitizer runtimes
# and needs /proc, so the container is always made from priv/beamprobe.
BEAMPROBE=$ROOT/priv/beamprobe
start_cluster 1
N1=${NODES[0]}
serve_workspace container

test_case "Dockerfile: multi-stage, Debian 12 build, final stage without a shell, numeric non-root USER"
stages=$(grep -ciE '^FROM ' "$C/Dockerfile")
final=$(awk 'toupper($1) == "FROM" { s = "" } { s = s $0 "\n" } END { printf "%s", s }' "$C/Dockerfile")
if (( stages >= 2 )); then ok "$stages stages"; else fail "$stages FROM lines"; fi
if grep -qiE '^FROM debian:12( |$)' "$C/Dockerfile"; then ok "debian:12 build stage"; else fail "no debian:12 stage"; fi
if grep -qiE '^FROM (scratch|gcr.io/distroless/[a-z0-9-]*(:nonroot)?)( |$)' <<<"$final"; then ok "final: $(head -1 <<<"$final")"
else fail "final stage not FROM scratch/distroless: $(head -1 <<<"$final")"; fi
if ! grep -qiE '^(RUN|SHELL) ' <<<"$final"; then ok "no RUN/SHELL in the final stage"; else fail "the final stage runs a shell"; fi
user=$(grep -iE '^USER ' <<<"$final" | tail -1 | awk '{ print $2 }')
if [[ $user =~ ^[0-9]+(:[0-9]+)?$ && ${user%%:*} != 0 && ${user#*:} != 0 ]]; then ok "USER $user"
else fail "USER '$user' is not numeric and non-root"; fi
if grep -qE '^ENTRYPOINT \["/usr/local/bin/beamprobe"\]$' <<<"$final"; then ok "exec-form ENTRYPOINT"; else fail "ENTRYPOINT"; fi

test_case "rootfs.sh stages the binary, exactly the libraries ldd lists, and libssl.so.3 with its own"
"$C/rootfs.sh" "$BEAMPROBE" "$WORK/rootfs"
ssl=$(ldconfig -p | awk '$1 == "libssl.so.3" && !found++ { print $NF }')
want=$( (echo /usr/local/bin/beamprobe; ldd "$BEAMPROBE" | grep -oE '/[^ ]+'; echo "$ssl"; ldd "$ssl" | grep -oE '/[^ ]+') | sort -u)
got=$(cd "$WORK/rootfs" && find . -type f | sed 's#^\.##' | sort)
if [[ $got == "$want" ]]; then ok "$(wc -l <<<"$got") files"; else fail "staged: $got; expected: $want"; fi

# The image's root as a container runtime would give it: read-only, user 65532, /etc/hosts supplied by the runtime.
test_case "the runtime root works read-only as 65532: --version and a check of a demo node"
if [[ $(id -u) == 0 ]] && command -v unshare >/dev/null && command -v chroot >/dev/null; then
  mkdir -p "$WORK/rootfs/etc" "$WORK/rootfs/run/secrets"
  cp /etc/hosts "$WORK/rootfs/etc/hosts"
  install -m 0400 -o 65532 -g 65532 "$DIR/cookie" "$WORK/rootfs/run/secrets/cookie"
  in_root() {
    unshare -m sh -c 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec chroot --userspec=65532:65532 "$@"' \
      sh "$WORK/rootfs" "$WORK/rootfs" "$@"
  }
  set +e
  out=$(in_root /usr/local/bin/beamprobe --version 2>&1); rc=$?
  set -e
  if (( rc == 0 )) && [[ $out == beamprobe\ * ]]; then ok "$out"; else fail "exit $rc: $out"; fi
  set +e
  out=$(in_root /usr/local/bin/beamprobe check "$N1" --cookie-file /run/secrets/cookie --json 2>&1); rc=$?
  set -e
  if (( rc == 0 )) && [[ $(jq -r .status <<<"$out" 2>/dev/null) == healthy ]]; then ok "check $N1: healthy"
  else fail "exit $rc: ${out:0:300}"; fi
  # serve loads OpenSSL at start (c_src/cli/ssl_lazy.c) and reads its certificate with it: a bad one is its error
  echo "not a certificate" >"$WORK/rootfs/run/secrets/bad.pem"
  set +e
  out=$(in_root /usr/local/bin/beamprobe serve --listen 127.0.0.1:0 --node "$N1" --cookie-file /run/secrets/cookie \
    --tls-cert /run/secrets/bad.pem --tls-key /run/secrets/bad.pem 2>&1); rc=$?
  set -e
  if (( rc == 1 )) && [[ $out == *"cannot load the certificate"* ]]; then ok "OpenSSL loads in the root"
  else fail "exit $rc: ${out:0:300}"; fi
  set +e
  out=$(in_root /bin/sh -c true 2>&1); rc=$?
  set -e
  if (( rc != 0 )); then ok "no shell in the root"; else fail "/bin/sh runs in the root"; fi
else
  echo "  SKIP  read-only root as 65532: needs root, unshare and chroot"
fi

test_case "build.sh: the buildah image, under $MAX_MIB MiB, run read-only with podman"
if ! command -v buildah >/dev/null 2>&1; then
  echo "  SKIP  buildah not found (Debian: apt-get install buildah podman): image not built"
else
  export BP_CONTAINER_STORE=$WORK/store
  EXTRA_CLEANUP='buildah --root "$WORK/store/root" --runroot "$WORK/store/run" --storage-driver vfs rm -a >/dev/null 2>&1; chmod -R u+w "$WORK/store" 2>/dev/null || true'
  set +e
  out=$(BEAMPROBE=$BEAMPROBE timeout 300 "$C/build.sh" localhost/beamprobe-test:latest 2>&1); rc=$?
  set -e
  echo "$out" | sed 's/^/        /'
  bytes=$(sed -n 's/^build.sh: built .*, \([0-9]*\) bytes)$/\1/p' <<<"$out")
  if [[ -n $bytes ]] && (( bytes < MAX_MIB * 1048576 )); then ok "image $((bytes / 1024)) KiB"
  else fail "image size '${bytes}' (limit $MAX_MIB MiB)"; fi
  S=(--root "$WORK/store/root" --runroot "$WORK/store/run" --storage-driver vfs)
  cfg=$(buildah "${S[@]}" inspect --type image --format '{{.OCIv1.Config.User}} {{.OCIv1.Config.Entrypoint}}' localhost/beamprobe-test:latest 2>&1 || true)
  if [[ $cfg == "65532:65532 [/usr/local/bin/beamprobe]" ]]; then ok "config: $cfg"; else fail "config: $cfg"; fi
  case $rc in
    0) if [[ $out == *"beamprobe "[0-9]* ]]; then ok "podman run --read-only: --version"; else fail "no version in: $out"; fi
       install -m 0400 -o 65532 -g 65532 "$DIR/cookie" "$WORK/cookie"
       set +e
       out=$(podman "${S[@]}" run --read-only --rm --network host -v "$WORK/cookie:/run/secrets/cookie:ro" \
             localhost/beamprobe-test:latest check "$N1" --cookie-file /run/secrets/cookie --json 2>&1); rc=$?
       set -e
       if (( rc == 0 )); then ok "check $N1 from the container"; else fail "check from the container: exit $rc: ${out:0:300}"; fi ;;
    3) echo "  SKIP  podman run: this machine cannot run containers (build and image checked above)" ;;
    *) fail "build.sh exit $rc" ;;
  esac
fi

finish
