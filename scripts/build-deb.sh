#!/usr/bin/env bash
# Builds build/deb/beamprobe_<version>_<arch>.deb with dpkg-deb from a staged `make install PREFIX=/usr` tree.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=$root/build/deb
stage=$out/stage
die() { echo "build-deb: error: $*" >&2; exit 1; }
for t in dpkg-deb dpkg-architecture dpkg-shlibdeps strip gzip; do
  command -v "$t" >/dev/null 2>&1 || die "$t not found (make deps installs dpkg-dev)"
done

make -s -C "$root" build >/dev/null
version=$("$root/priv/beamprobe" --version | awk '{print $2}')
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+ ]] || die "cannot read the version from priv/beamprobe --version"
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
maintainer="beamprobe maintainers <maintainers@users.noreply.b-seed-174cd58b.example>"
# The date of the last commit, so that the same tree gives the same package (falls back to now).
date=$(git -C "$root" log -1 --format=%aD 2>/dev/null || date -R)
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(date -d "$date" +%s)}

rm -rf "$stage" && mkdir -p "$stage" "$out"
make -s -C "$root" install DESTDIR="$stage" PREFIX=/usr >/dev/null
doc=$stage/usr/share/doc/beamprobe
install -d "$doc" "$stage/DEBIAN"

# Debian policy: stripped binaries, compressed man pages and changelog, a machine-readable copyright file.
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$stage/usr/bin/beamprobe"
gzip -9n "$stage/usr/share/man/man1/beamprobe.1"
{
  echo "beamprobe ($version) unstable; urgency=medium"
  echo
  echo "  * Native package built from the beamprobe source tree; see CHANGELOG.md"
  echo "    of the source for the changes of this version."
  echo
  echo " -- $maintainer  $date"
} | gzip -9n > "$doc/changelog.gz"
{
  cat <<COPY
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: beamprobe
Source: https://github.com/beamprobe/beamprobe

Files: *
Copyright: 2026 the beamprobe authors
License: Apache-2.0
Comment: /usr/bin/beamprobe also contains, linked statically, erl_interface
 (Erlang/OTP, Apache-2.0) and jansson (MIT); their Debian packages
 erlang-dev and libjansson-dev carry their copyright files.

License: Apache-2.0
 Licensed under the Apache License, Version 2.0 (the "License");
 you may not use this file except in compliance with the License.
 You may obtain a copy of the License at
 .
     http://www.apache.org/licenses/LICENSE-2.0
 .
 Unless required by applicable law or agreed to in writing, software
 distributed under the License is distributed on an "AS IS" BASIS,
 WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
 See the License for the specific language governing permissions and
 limitations under the License.
 .
 On Debian systems, the complete text of the Apache License, Version 2.0
 can be found in "/usr/share/common-licenses/Apache-2.0".
COPY
} > "$doc/copyright"

# Lintian overrides, if a finding ever has to be justified rather than fixed, go to
# usr/share/lintian/overrides/beamprobe, one "beamprobe: tag [context]" line each with a "#" reason
# above it; `lintian --pedantic -I` finds nothing to override today (test/integration/test_deb.sh).

# Depends from the binary's ELF dependencies (libc6, which also provides libm), as dpkg-shlibdeps computes them;
# it wants a debian/control, so it runs in a scratch source tree.
shl=$(mktemp -d) && trap 'rm -rf "$shl"' EXIT
mkdir -p "$shl/debian" && printf 'Source: beamprobe\n\nPackage: beamprobe\nArchitecture: any\n' > "$shl/debian/control"
depends=$(cd "$shl" && dpkg-shlibdeps -O "$stage/usr/bin/beamprobe" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
[[ -n $depends ]] || die "dpkg-shlibdeps found no dependencies"
# OpenSSL is no ELF dependency: the command loads libssl.so.3 with dlopen (c_src/cli/ssl_lazy.c) for
# TLS, the page's hashes and tokens, so dpkg-shlibdeps does not see it and libssl3 is added here, at
# the version dpkg-shlibdeps would ask: the highest that libssl3's symbols file gives for the
# functions ssl_lazy.c forwards (the ones its object defines, but its own bp_*).
lazy=$root/build/obj/cli/ssl_lazy.o
syms=$(dpkg-query --control-path libssl3 symbols 2>/dev/null) || true
[[ -f $lazy ]] || die "$lazy not built"
[[ -n $syms && -f $syms ]] || die "libssl3's symbols file not found (install libssl3)"
ssl_min=$(nm --defined-only "$lazy" | awk '$2 == "T" && $3 !~ /^bp_/ { print $3 }' | awk -v f="$syms" '
  BEGIN { while ((getline l < f) > 0) { split(l, a, " "); sub(/@.*/, "", a[1]); v[a[1]] = a[2] } }
  !($1 in v) { print "libssl3 lacks " $1 > "/dev/stderr"; exit 1 }
  { print v[$1] }' | sort -V | tail -1) || die "a function ssl_lazy.c forwards is not in libssl3"
[[ $ssl_min =~ ^[0-9]+\.[0-9] ]] || die "no libssl3 version from $syms for $lazy"
depends="$depends, libssl3 (>= $ssl_min)"

size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
cat > "$stage/DEBIAN/control" <<CTRL
Package: beamprobe
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $size
Depends: $depends
Recommends: libcurl4
Suggests: bash-completion
Section: admin
Priority: optional
Homepage: https://github.com/beamprobe/beamprobe
Description: health probe for Erlang/OTP clusters
 beamprobe connects to Erlang/OTP nodes as a hidden C node over the
 distribution protocol and reports whether they are healthy: cluster
 membership, memory against the container's limit, process, port, atom
 and ETS limits, run queues, applications, supervisors and governors.
 It answers as a one-shot check (exit status for scripts and Kubernetes exec
 probes) or as a small HTTP server (probe routes, /health and Prometheus
 /metrics).
 .
 The command links only libc and libm dynamically (erl_interface and
 jansson are linked statically). It loads OpenSSL (libssl3) at run time
 with dlopen when it needs it (serve, TLS distribution), so that runs
 without TLS start faster, and libcurl (libcurl4) only for Kubernetes
 endpoint discovery (--k8s-endpoints): libssl3 is required, libcurl4
 only recommended.
 .
 The package also installs the beamprobe(1) man page and bash and zsh
 completion.
CTRL
(cd "$stage" && find usr -type f -print0 | sort -z | xargs -0 md5sum) > "$stage/DEBIAN/md5sums"
chmod 0644 "$stage/DEBIAN/control" "$stage/DEBIAN/md5sums"
find "$stage" -type d -exec chmod 0755 {} +

deb=$out/beamprobe_${version}_${arch}.deb
rm -f "$out"/beamprobe_*.deb
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null
echo "$deb"
