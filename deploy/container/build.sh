#!/usr/bin/env bash
# build.sh: builds the image of deploy/container/Dockerfile with buildah FROM scratch from the locally built priv/beamprobe (no registry), then runs it with podman.
# Usage: deploy/container/build.sh [IMAGE]   (default localhost/beamprobe:latest)
# Environment: BEAMPROBE (the binary, default priv/beamprobe); BP_CONTAINER_STORE (a directory: use a private
# vfs image store there instead of the system's, as the tests do); BP_NO_RUN=1 (build only).
# Exit status: 0 built and ran; 3 built, but podman cannot run containers on this machine (said why); else failed.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${BEAMPROBE:-$root/priv/beamprobe}
image=${1:-localhost/beamprobe:latest}
store=()
[[ -n ${BP_CONTAINER_STORE:-} ]] && store=(--root "$BP_CONTAINER_STORE/root" --runroot "$BP_CONTAINER_STORE/run" --storage-driver vfs)

die() { echo "build.sh: $*" >&2; exit 1; }
[[ -x $bin ]] || die "$bin not found: build it first (make -C c_src)"
command -v buildah >/dev/null 2>&1 || die "buildah not found (Debian: apt-get install buildah)"

stage=$(mktemp -d "${TMPDIR:-/tmp}/bp-rootfs.XXXXXX")
ctr=
cleanup() { [[ -n $ctr ]] && buildah "${store[@]}" rm "$ctr" >/dev/null 2>&1; rm -rf "$stage"; }
trap cleanup EXIT

"$here/rootfs.sh" "$bin" "$stage"
ctr=$(buildah "${store[@]}" from scratch)
buildah "${store[@]}" copy "$ctr" "$stage/" / >/dev/null
# The same settings as the Dockerfile's final stage.
buildah "${store[@]}" config --user 65532:65532 --port 8080 \
  --entrypoint '["/usr/local/bin/beamprobe"]' --cmd '["--help"]' "$ctr"
buildah "${store[@]}" commit --quiet "$ctr" "$image" >/dev/null
ctr=
size=$(buildah "${store[@]}" inspect --type image --format '{{.ImageSize}}' "$image" 2>/dev/null || true)
[[ -n $size ]] || size=$(du -sb "$stage" | cut -f1)
echo "build.sh: built $image ($(awk -v b="$size" 'BEGIN { printf "%.1f MiB", b / 1048576 }'), $size bytes)"

[[ -n ${BP_NO_RUN:-} ]] && exit 0
command -v podman >/dev/null 2>&1 || die "podman not found (Debian: apt-get install podman)"
set +e
out=$(podman "${store[@]}" run --read-only --rm "$image" --version 2>&1)
rc=$?
set -e
echo "$out"
if (( rc != 0 )) && grep -qiE 'OCI (permission denied|runtime error)|user namespace|overlay|cannot set up namespace' <<<"$out"; then
  echo "build.sh: SKIPPED the run: podman cannot run containers on this machine (see the error above)" >&2
  exit 3
fi
(( rc == 0 )) || die "podman run failed (exit $rc)"
