#!/bin/sh
# rootfs.sh BINARY DEST: stages a runtime root filesystem in DEST: the stripped binary and exactly the shared libraries ldd lists for it.
set -eu
bin=$1 dest=$2
mkdir -p "$dest/usr/local/bin"
cp "$bin" "$dest/usr/local/bin/beamprobe"
strip --strip-unneeded "$dest/usr/local/bin/beamprobe" 2>/dev/null || true
# Lines are "name => /path (addr)" or "/path (addr)"; linux-vdso has no file. Copied to the same path, symlinks resolved.
ldd "$bin" | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^\//) { print $i; break } }' | while read -r lib; do
  mkdir -p "$dest$(dirname "$lib")"
  cp -L "$lib" "$dest$lib"
done
# libcurl is not linked: it is loaded only by --k8s-endpoints and notifications, which this image leaves out.
