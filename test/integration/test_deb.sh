#!/usr/bin/env bash
# make deb: lintian-clean (no errors, no warnings left unoverridden), the unpacked command runs, man page, completion and Depends (libc6, libssl3) present.
# bp: packaging
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
for t in dpkg-deb lintian; do
  command -v "$t" >/dev/null 2>&1 || fail "$t not installed (make deps)"
done

deb=$(make -s -C "$root" deb | tail -1)
[[ -f $deb && $deb == "$root"/build/deb/beamprobe_*.deb ]] || fail "make deb did not print a package in build/deb/: '$deb'"

# lintian: E (error) and W (warning) fail; overridden tags are reported as O only with --show-overrides.
lint=$(lintian --pedantic -I "$deb" 2>&1 | grep -v 'running with root privileges' || true)
bad=$(grep -E '^(E|W): ' <<<"$lint" || true)
[[ -z $bad ]] || fail "lintian: $bad"
[[ -z $lint ]] || echo "note: lintian info/pedantic: $lint"
echo "ok: lintian --pedantic -I: no errors or warnings"

# The package's contents: unpacked (no maintainer scripts), the command runs and agrees with the build's version.
dpkg-deb -x "$deb" "$tmp/root"
vsn=$("$tmp/root/usr/bin/beamprobe" --version) || fail "usr/bin/beamprobe --version failed"
[[ $vsn == "$("$root/priv/beamprobe" --version)" ]] || fail "packaged --version '$vsn' differs from priv/beamprobe"
[[ $(dpkg-deb -f "$deb" Version) == "$(awk '{print $2}' <<<"$vsn")" ]] || fail "package version != command version"
file -b "$tmp/root/usr/bin/beamprobe" | grep -q ', stripped' || fail "usr/bin/beamprobe is not stripped"
echo "ok: $vsn from the unpacked package"

contents=$(dpkg-deb -c "$deb" | awk '{print $6}')
for f in ./usr/bin/beamprobe ./usr/share/man/man1/beamprobe.1.gz ./usr/share/bash-completion/completions/beamprobe \
         ./usr/share/zsh/site-functions/_beamprobe ./usr/share/doc/beamprobe/copyright ./usr/share/doc/beamprobe/changelog.gz; do
  grep -qxF "$f" <<<"$contents" || fail "not in the package: $f"
done
dpkg-deb -c "$deb" | awk '$2 != "root/root" {exit 1}' || fail "files not owned by root/root"
page=$(zcat "$tmp/root/usr/share/man/man1/beamprobe.1.gz")
[[ $page == *'.Dt BEAMPROBE 1'* && $page == *'EXIT STATUS'* ]] || fail "the man page in the package is not beamprobe(1)"
grep -q 'beamprobe' "$tmp/root/usr/share/bash-completion/completions/beamprobe" || fail "bash completion empty"
head -1 "$tmp/root/usr/share/zsh/site-functions/_beamprobe" | grep -q '^#compdef beamprobe' || fail "zsh completion lacks #compdef"
echo "ok: man page, bash and zsh completion, copyright and changelog inside"

# Dependencies: libc6 from dpkg-shlibdeps (libm is in libc6), libssl3 required and libcurl4 recommended (both loaded with dlopen).
info=$(dpkg-deb -I "$deb")
grep -Eq '^ Depends: .*libc6 \(>= [0-9.]+\)' <<<"$info" || fail "dpkg -I: no versioned libc6 in Depends: $info"
# libssl3 is loaded with dlopen (c_src/cli/ssl_lazy.c), so dpkg-shlibdeps cannot see it: build-deb.sh adds it.
grep -Eq '^ Depends: .*libssl3 \(>= 3\.[0-9.]+\)' <<<"$info" || fail "dpkg -I: no versioned libssl3 in Depends: $info"
grep -q '^ Recommends: .*libcurl4' <<<"$info" || fail "dpkg -I: libcurl4 not recommended"
grep -q 'dlopen' <<<"$info" || fail "the description does not say libcurl is loaded with dlopen"
needed=$(objdump -p "$tmp/root/usr/bin/beamprobe" | awk '/NEEDED/ {print $2}' | sort | tr '\n' ' ')
[[ $needed == "libc.so.6 libm.so.6 " ]] || fail "the binary links more than libc and libm: $needed"
echo "ok: dpkg -I: $(grep -E '^ (Depends|Recommends):' <<<"$info" | tr -s ' ' | tr '\n' ';')"
