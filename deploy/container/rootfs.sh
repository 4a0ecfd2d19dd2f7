#!/bin/sh
# rootfs.sh BINARY DEST: stages a runtime root filesystem in DEST: the stripped binary, the shared libraries ldd lists for it, and libssl.so.3 with its own.
set -eu
bin=$1 dest=$2
mkdir -p "$dest/usr/local/bin"
cp "$bin" "$dest/usr/local/bin/beamprobe"
strip --strip-unneeded "$dest/usr/local/bin/beamprobe" 2>/dev/null || true
# ldd_paths FILE: the libraries ldd lists for FILE. Lines are "name => /path (addr)" or
# "/path (addr)"; linux-vdso has no file.
ldd_paths() { ldd "$1" | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^\//) { print $i; break } }'; }
# OpenSSL is not linked: the command loads libssl.so.3 (and libcrypto.so.3) when it needs it (serve,
# --dist-tls; c_src/cli/ssl_lazy.c), so it is staged with what ldd lists.
ssl=$(ldconfig -p | awk '$1 == "libssl.so.3" && !found++ { print $NF }')
[ -n "$ssl" ] || { echo "rootfs.sh: libssl.so.3 not found (install libssl3)" >&2; exit 1; }
# Copied to the same paths, symlinks resolved.
{ ldd_paths "$bin"; echo "$ssl"; ldd_paths "$ssl"; } | sort -u | while read -r lib; do
  mkdir -p "$dest$(dirname "$lib")"
  cp -L "$lib" "$dest$lib"
done
# libcurl is not linked: it is loaded only by --k8s-endpoints and notifications, which this image leaves out.
