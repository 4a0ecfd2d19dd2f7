#!/usr/bin/env bash
# make install/uninstall into a scratch DESTDIR: the command's version (agreeing with the NIF and app.src),
# the man page (lint-clean) and both completion scripts cover every --help option; bash completes it.
# bp: packaging
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

make -s -C "$root" install DESTDIR="$tmp" PREFIX=/usr >/dev/null
bin=$tmp/usr/bin/beamprobe
page=$tmp/usr/share/man/man1/beamprobe.1
bashc=$tmp/usr/share/bash-completion/completions/beamprobe
zshc=$tmp/usr/share/zsh/site-functions/_beamprobe
for f in "$bin" "$page" "$bashc" "$zshc"; do [[ -f $f ]] || fail "not installed: $f"; done
[[ -x $bin ]] || fail "$bin is not executable"
[[ ! -e $tmp/usr/lib/beamprobe_nif.so && -z $(find "$tmp" -name '*.so') ]] || fail "the NIF was installed system-wide"

# One version: the command, the NIF (beamprobe:version()) and src/beamprobe.app.src.
cmd_vsn=$("$bin" --version | awk '{print $2}')
[[ $cmd_vsn =~ ^[0-9]+\.[0-9]+\.[0-9]+ ]] || fail "--version says '$("$bin" --version)'"
app_vsn=$(erl -noshell -eval '{ok, [{application, _, P}]} = file:consult(hd(init:get_plain_arguments())),
  io:format("~s", [proplists:get_value(vsn, P)]), halt().' -extra "$root/src/beamprobe.app.src")
mkdir -p "$tmp/app/ebin" && ln -s "$root/priv" "$tmp/app/priv"   # priv/ beside ebin/, as in a release
erlc -o "$tmp/app/ebin" "$root/src/beamprobe.erl"
nif_vsn=$(erl -noshell -pa "$tmp/app/ebin" -eval 'io:format("~s", [beamprobe:version()]), halt().') \
  || fail "beamprobe:version() failed"
[[ $cmd_vsn == "$app_vsn" ]] || fail "command $cmd_vsn, app.src $app_vsn"
[[ $nif_vsn == "$app_vsn" ]] || fail "NIF $nif_vsn, app.src $app_vsn"
grep -q "^## \[$app_vsn\]" "$root/CHANGELOG.md" || fail "CHANGELOG.md has no section for $app_vsn"
echo "ok: one version $cmd_vsn (command, NIF, app.src, CHANGELOG)"

# The man page: lint-clean (mandoc.db notes about this machine's pages of erl and epmd aside), renders.
lint=$(mandoc -T lint "$page" 2>&1 | grep -v 'mandoc.db' || true)
[[ -z $lint ]] || fail "mandoc -T lint: $lint"
rendered=$(MANWIDTH=200 man -l "$page" 2>/dev/null | col -b)
[[ $rendered == *"EXIT STATUS"* && $rendered == *EXAMPLES* && $rendered == *ENVIRONMENT* && $rendered == *FILES* ]] \
  || fail "man -l: sections missing"

# Every option --help shows (of every command) is in the page and in both completion scripts.
opts=$(for c in check serve cluster; do "$bin" "$c" --help; done | grep -oE '^ +(-[a-zA-Z], )?--[a-z0-9-]+' \
  | grep -oE -- '--[a-z0-9-]+' | sort -u)
n=0
for o in $opts; do
  n=$((n + 1))
  grep -qF -- "$o" <<<"$rendered" || fail "man page lacks $o"
  grep -qE -- "(^| |')$o( |\||\)|=|')" "$bashc" || fail "bash completion lacks $o"
  grep -qE -- "'\*?$o[=[]" "$zshc" || fail "zsh completion lacks $o"
done
((n > 40)) || fail "only $n options found in --help"
echo "ok: $n options of --help in the man page and both completion scripts"

# bash completes `beamprobe check --gov` to --governor (and its siblings), and a value of --tls-verify.
complete_words() {
  bash --norc --noprofile -c 'source "$1"; shift
    complete -p beamprobe >/dev/null || exit 3
    COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
    _beamprobe; printf "%s\n" "${COMPREPLY[@]}"' _ "$bashc" "$@"
}
got=$(complete_words beamprobe check --gov)
grep -qx -- --governor <<<"$got" || fail "bash: 'beamprobe check --gov' completes to: $got"
got=$(complete_words beamprobe check --tls-verify p)
[[ $got == peer ]] || fail "bash: --tls-verify p completes to: $got"
got=$(complete_words beamprobe ch)
[[ $got == check ]] || fail "bash: 'beamprobe ch' completes to: $got"
got=$(complete_words beamprobe cluster --list)
[[ -z $(grep -- --listen <<<"$got") ]] || fail "bash: cluster offers serve's --listen"
echo "ok: bash completion"

# zsh loads the completion without error, by compinit from its directory and by source.
out=$(zsh -fc "fpath=('$(dirname "$zshc")' \$fpath); autoload -U compinit; compinit -u; \
  source '$zshc'; print \${_comps[beamprobe]}" 2>&1) || fail "zsh: $out"
[[ $out == _beamprobe ]] || fail "zsh: beamprobe not bound to _beamprobe: $out"
echo "ok: zsh completion loads"

make -s -C "$root" uninstall DESTDIR="$tmp" PREFIX=/usr >/dev/null
rm -rf "$tmp/app"
left=$(find "$tmp" -type f)
[[ -z $left ]] || fail "make uninstall left: $left"
echo "ok: make uninstall removes everything"
echo "test_install: all passed"
