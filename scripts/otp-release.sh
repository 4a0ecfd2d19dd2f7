#!/usr/bin/env bash
# Installs (idempotently) and locates another OTP release for the tests: Debian's OTP in a private root.
#
# Usage:
#   otp-release.sh fetch REL   install OTP REL (if missing) under $BP_OTP_CACHE/REL; prints its erl
#   otp-release.sh path REL    print the erl of an installed OTP REL; exit 1 (and say so) if none
#   otp-release.sh installed   print "REL ERL" for each supported release installed (none: nothing)
#
# REL is 27 (Debian 13 "trixie", erlang 1:27.3.x) or 29 (Debian "forky", erlang 1:29.1.x; a moving
# target, testing's current version). The packages are downloaded with apt-get under a
# private apt state (the system's sources, lists and dpkg database are never touched), unpacked with
# dpkg -x into $BP_OTP_CACHE/REL/root together with trixie's C runtime (glibc, libstdc++, OpenSSL 3.5,
# ...), and every ELF file of the release is patched (patchelf, on the unpacked copies) to use that
# root's loader and libraries, so the release runs on Debian 12 beside the system's OTP 25. Only
# fetch downloads (scripts/install-deps.sh calls it); path never does, so tests call path.
# Environment: BP_OTP_CACHE (default /opt/beamprobe-otp), BP_OTP_MIRROR (default
# http://deb.debian.org/debian).
set -euo pipefail

CACHE=${BP_OTP_CACHE:-/opt/beamprobe-otp}
MIRROR=${BP_OTP_MIRROR:-http://deb.debian.org/debian}
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

# The Erlang applications the tests use (demo app, TLS distribution, mnesia, runtime_tools; eunit and
# inets for test_nif.sh under BP_ERL; erlang-dev for their include files) and the C
# runtime libraries the release's executables and NIFs load (readelf -d NEEDED, closed transitively;
# fetch fails if any library would still come from the system).
ERLANG_PKGS=(erlang-base erlang-crypto erlang-ssl erlang-public-key erlang-asn1 erlang-mnesia
             erlang-runtime-tools erlang-eunit erlang-inets erlang-dev)
LIB_PKGS=(libc6 libgcc-s1 libstdc++6 libtinfo6 zlib1g libsystemd0 libcap2 libzstd1 libssl3t64 libsctp1)

die() { echo "otp-release: error: $*" >&2; exit 1; }
say() { echo "otp-release: $*" >&2; }

suite_of() {
  case $1 in
    27) echo trixie ;;
    29) echo forky ;;
    *) die "unsupported OTP release '$1' (supported: 27, 29)" ;;
  esac
}

# installed REL: the erl of a complete install (of today's package list) that runs and reports REL.
installed() {
  local erl=$CACHE/$1/root/usr/lib/erlang/bin/erl got
  [[ -f $CACHE/$1/.complete && -x $erl && $(cat "$CACHE/$1/.complete") == "${ERLANG_PKGS[*]} ${LIB_PKGS[*]}" ]] \
    || return 1
  got=$("$erl" -noshell -noinput -eval 'io:format("~s", [erlang:system_info(otp_release)]), halt().' \
        2>/dev/null </dev/null) || return 1
  [[ $got == "$1" ]] || return 1
  echo "$erl"
}

cmd_installed() {
  [[ $# -eq 0 ]] || die "usage: installed"
  local rel erl
  for rel in 27 29; do
    if erl=$(installed "$rel" 2>/dev/null); then echo "$rel $erl"; fi
  done
  return 0
}

cmd_path() {
  [[ $# -eq 1 ]] || die "usage: path REL"
  suite_of "$1" >/dev/null
  installed "$1" || { say "OTP $1 is not installed under $CACHE/$1 (run: scripts/otp-release.sh fetch $1)"; return 1; }
}

# elf_files DIR: every ELF file (executables, shared objects) under DIR, symlinks excluded.
elf_files() {
  local f
  while IFS= read -r -d '' f; do
    [[ $(head -c 4 "$f" | od -An -tx1 | tr -d ' ') == 7f454c46 ]] && echo "$f"
  done < <(find "$1" -type f -print0)
}

# patch_release ROOT: point the release's executables at ROOT's loader and every release ELF file
# (executables, NIFs, drivers) at ROOT's libraries (DT_RPATH, which also covers their dependencies).
patch_release() {
  local root=$1 ld f rpath
  ld=$(readlink -f "$root/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2")
  [[ -f $ld ]] || die "no loader in $root"
  rpath="$root/lib/x86_64-linux-gnu:$root/usr/lib/x86_64-linux-gnu"
  while IFS= read -r f; do
    if patchelf --print-interpreter "$f" >/dev/null 2>&1; then
      patchelf --set-interpreter "$ld" "$f"
    fi
    patchelf --force-rpath --set-rpath "$rpath" "$f"
  done < <(elf_files "$root/usr/lib/erlang")
  # every library those files need must resolve inside ROOT (ld.so --list with ROOT's loader)
  local bad
  bad=$(while IFS= read -r f; do
          "$ld" --list "$f" 2>&1 | awk -v r="$root" -v f="$f" \
            '/=>/ && ($3 !~ "^" r) && $3 != "" {print f ": " $1 " => " $3} /not found/ {print f ": " $0}'
        done < <(elf_files "$root/usr/lib/erlang") | sort -u)
  [[ -z $bad ]] || die "libraries resolved outside $root:"$'\n'"$bad"
}

cmd_fetch() {
  [[ $# -eq 1 ]] || die "usage: fetch REL"
  local rel=$1 suite erl
  suite=$(suite_of "$rel")
  if erl=$(installed "$rel"); then say "OTP $rel already installed"; echo "$erl"; return 0; fi
  for c in apt-get dpkg patchelf flock; do command -v "$c" >/dev/null || die "$c not found (scripts/install-deps.sh installs patchelf)"; done
  [[ -r $KEYRING ]] || die "$KEYRING missing (Debian package debian-archive-keyring)"
  { mkdir -p "$CACHE" 2>/dev/null && [[ -w $CACHE ]]; } || die "cannot write $CACHE (run as root or set BP_OTP_CACHE)"
  exec 8>"$CACHE/.lock-$rel"
  flock 8
  if erl=$(installed "$rel"); then echo "$erl"; return 0; fi   # installed by a concurrent fetch
  STAGE="$CACHE/.stage-$rel.$$"; local stage=$STAGE
  rm -rf "$stage"; mkdir -p "$stage/apt/lists/partial" "$stage/apt/cache/archives/partial" "$stage/debs"
  trap 'rm -rf "$STAGE"' EXIT
  echo "deb [signed-by=$KEYRING] $MIRROR $suite main" >"$stage/apt/sources.list"
  local apt=(apt-get -q -o "Dir::Etc::sourcelist=$stage/apt/sources.list" -o Dir::Etc::sourceparts=-
             -o "Dir::State::Lists=$stage/apt/lists" -o "Dir::Cache=$stage/apt/cache"
             -o Debug::NoLocking=1 -o APT::Sandbox::User=root)
  say "apt-get update ($suite, private state in $stage/apt)"
  "${apt[@]}" update >"$stage/update.log" 2>&1 || die "apt-get update failed: $(tail -5 "$stage/update.log")"
  say "downloading ${ERLANG_PKGS[*]} ${LIB_PKGS[*]} from $suite"
  (cd "$stage/debs" && "${apt[@]}" download "${ERLANG_PKGS[@]}" "${LIB_PKGS[@]}") >"$stage/download.log" 2>&1 \
    || die "apt-get download failed: $(tail -5 "$stage/download.log")"
  local deb
  for deb in "$stage/debs"/*.deb; do dpkg -x "$deb" "$stage/root"; done
  # Debian's erl script sets ROOTDIR=/usr/lib/erlang whatever ERL_ROOTDIR says; the release lives
  # under $CACHE/$rel/root instead
  local final="$CACHE/$rel/root" f
  for f in "$stage/root/usr/lib/erlang/bin/erl" "$stage/root/usr/lib/erlang/erts-"*/bin/erl; do
    grep -Eq '^[[:space:]]*ROOTDIR=/usr/lib/erlang$' "$f" || die "no ROOTDIR=/usr/lib/erlang line in $f"
    sed -i -E "s|^([[:space:]]*)ROOTDIR=/usr/lib/erlang\$|\\1ROOTDIR=\"$final/usr/lib/erlang\"|" "$f"
  done
  rm -rf "${CACHE:?}/$rel"; mkdir -p "$CACHE/$rel"
  mv "$stage/root" "$final"
  patch_release "$final"
  (cd "$stage/debs" && ls) >"$CACHE/$rel/packages"
  erl="$final/usr/lib/erlang/bin/erl"
  local got
  got=$("$erl" -noshell -noinput -eval 'io:format("~s", [erlang:system_info(otp_release)]), halt().' </dev/null 2>&1) \
    || die "the installed erl does not run: $got"
  [[ $got == "$rel" ]] || die "the installed erl reports OTP '$got', expected $rel"
  echo "${ERLANG_PKGS[*]} ${LIB_PKGS[*]}" >"$CACHE/$rel/.complete"   # what installed() compares
  say "OTP $rel installed in $CACHE/$rel"
  echo "$erl"
}

[[ $# -ge 1 ]] || die "usage: otp-release.sh fetch|path REL, or installed"
cmd=$1; shift
case $cmd in
  fetch) cmd_fetch "$@" ;;
  path) cmd_path "$@" ;;
  installed) cmd_installed "$@" ;;
  *) die "unknown command '$cmd' (fetch|path|installed)" ;;
esac
