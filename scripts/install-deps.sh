#!/usr/bin/env bash
# Installs (only if missing) the Debian packages needed to build and test beamprobe.
set -euo pipefail

PACKAGES=(
  erlang-nox erlang-dev rebar3 mandoc zsh bash-completion man-db
  libjansson-dev libssl-dev libcurl4-openssl-dev libcmocka-dev
  gcc make pkg-config jq hostname util-linux
  curl ca-certificates procps iproute2 iptables ethtool openssl prometheus dnsmasq-base python3
  prometheus-alertmanager wrk chromium nodejs kubectl
  systemd buildah podman
  dpkg-dev lintian patchelf
  gcovr
  clang libclang-rt-14-dev
  cppcheck clang-tidy clang-tools valgrind
  gnuplot-nox
)

# dpkg-dev (dpkg-shlibdeps, dpkg-architecture), lintian: make deb and test_deb.sh.
# iproute2 (ip netns), iptables, ethtool (veth offloads off), dnsmasq-base, python3: make chaos (test/chaos).
# clang, libclang-rt-14-dev (libFuzzer and the sanitizer runtimes): make fuzz and make fuzz-smoke.
# patchelf: scripts/otp-release.sh (OTP 27 from Debian 13 in a private root, for test_otp_releases.sh).
# cppcheck, clang, clang-tidy, clang-tools (scan-build): make analyze; valgrind: make valgrind.
# gcovr: the report of make coverage (scripts/coverage.sh); gnuplot-nox: the picture of bench/soak.sh.
# systemd: systemd-analyze for test_systemd.sh; buildah, podman: the image of test_container.sh (deploy/container).
die() { echo "install-deps: error: $*" >&2; exit 1; }

command -v dpkg-query >/dev/null 2>&1 || die "dpkg-query not found (this script supports Debian/Ubuntu only)"

installed=" $(dpkg-query -W -f='${db:Status-Abbrev}${Package} ' "${PACKAGES[@]}" 2>/dev/null || true)"
missing=()
for pkg in "${PACKAGES[@]}"; do
  [[ "$installed" == *" ii $pkg "* ]] || missing+=("$pkg")
done

# npm_deps DIR MODULE: the npm packages of test/DIR, from its committed package-lock.json, so that nothing
# is downloaded while tests run: test/browser (puppeteer-core, driving the system Chromium for test_page.sh;
# never a browser download) and test/k8s (kubernetes-models, validating deploy/k8s for test_k8s.sh, which
# renders with kubectl kustomize; the kubectl package above comes from the apt source this machine kind has
# configured, elsewhere see docs/K8S.md).
npm_deps() {
  local dir
  dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/test/$1"
  if [[ -d $dir/node_modules/$2 ]]; then
    echo "install-deps: $2 already installed"
  else
    command -v npm >/dev/null 2>&1 || die "npm not found (Debian: apt-get install npm, unless nodejs brings its own)"
    echo "install-deps: npm ci in test/$1 ($2)"
    (cd "$dir" && PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund) || die "npm ci failed in $dir"
  fi
}

browser_deps() {
  npm_deps browser puppeteer-core
  npm_deps k8s kubernetes-models
}

# OTP 27 (Debian 13's) and 29 (Debian forky's) beside the system's OTP, for test_otp_releases.sh:
# installed once under /opt/beamprobe-otp/REL (BP_OTP_CACHE) by scripts/otp-release.sh, which
# downloads only when one is missing. 27 is required; 29 follows Debian testing, which will move
# on to another release one day, so failing to get it only warns (the test then skips 29).
otp_releases() {
  local sudo=() fetch
  [[ "$(id -u)" -eq 0 ]] || sudo=(sudo)
  fetch=("${sudo[@]}" env ${BP_OTP_CACHE:+BP_OTP_CACHE="$BP_OTP_CACHE"}
         "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/otp-release.sh" fetch)
  "${fetch[@]}" 27 >/dev/null || die "scripts/otp-release.sh fetch 27 failed"
  if "${fetch[@]}" 29 >/dev/null; then
    echo "install-deps: OTP 27 and 29 in place"
  else
    echo "install-deps: warning: OTP 29 not installed (scripts/otp-release.sh fetch 29 failed); OTP 27 in place" >&2
  fi
}

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#PACKAGES[@]} packages already installed"
  browser_deps
  otp_releases
  exit 0
fi

SUDO=()
if [[ "$(id -u)" -ne 0 ]]; then
  command -v sudo >/dev/null 2>&1 || die "not root and sudo not available; install as root: ${missing[*]}"
  SUDO=(sudo)
fi

export DEBIAN_FRONTEND=noninteractive
echo "install-deps: missing: ${missing[*]}"
echo "install-deps: running apt-get update"
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update \
  || die "apt-get update failed"
echo "install-deps: running apt-get install -y --no-install-recommends ${missing[*]}"
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" \
  || die "apt-get install failed for: ${missing[*]}"
browser_deps
otp_releases
echo "install-deps: done"
