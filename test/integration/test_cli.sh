#!/usr/bin/env bash
# test_cli.sh: the command of this build ($BEAMPROBE, sanitized or instrumented too): dispatch, usage errors, help, version, man page and completion output.
# (test_install.sh checks the installed page and scripts in depth, from priv/beamprobe only.)
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/bp-cli.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

test_case "no command: usage on stderr, exit 1"
probe
expect_code 1
expect_in "$ERR" "Usage: beamprobe COMMAND [OPTIONS]"
[[ -z $OUT ]] && ok "nothing on stdout" || fail "stdout: $OUT"

test_case "an unknown command: named, usage on stderr, exit 1"
probe frobnicate --now
expect_code 1
expect_in "$ERR" "beamprobe: unknown command 'frobnicate'"
expect_in "$ERR" "Run 'beamprobe COMMAND --help'"

test_case "version, --version: one line with the report schema"
for v in version --version; do
  probe "$v"
  expect_code 0
  [[ $OUT =~ ^beamprobe\ [0-9]+\.[0-9]+\.[0-9]+.*\(report\ schema\ [0-9]+\)$ ]] && ok "'$OUT'" || fail "$v said '$OUT'"
done

test_case "help, --help, -h: the command list on stdout"
for h in help --help -h; do
  probe "$h"
  expect_code 0
  for c in check serve cluster; do expect_in "$OUT" "  $c"; done
done

test_case "help COMMAND and COMMAND --help: that command's options and exit codes"
for c in check serve cluster; do
  probe help "$c"
  expect_code 0
  expect_in "$OUT" "Usage: beamprobe $c"
  expect_in "$OUT" "--cookie-file"
  A=$OUT
  probe "$c" --help
  expect_code 0
  [[ $OUT == "$A" ]] && ok "'$c --help' is 'help $c'" || fail "'$c --help' differs from 'help $c'"
done
probe check -h
expect_in "$OUT" "Exit codes:"
probe help nosuch
expect_code 0
expect_in "$OUT" "Usage: beamprobe COMMAND [OPTIONS]"

test_case "usage errors of the subcommands: exit 1 and a message naming the problem"
probe check
expect_code 1
expect_in "$ERR" "which node? give NODE as name@host"
probe check a@h b@h
expect_code 1
expect_in "$ERR" "give exactly one node; 'beamprobe cluster' probes several"
probe check --no-such-option a@h
expect_code 1
expect_in "$ERR" "--no-such-option"
probe cluster
expect_code 1
expect_in "$ERR" "beamprobe cluster: which nodes? give --nodes a@h,b@h or a discovery source"
probe cluster --nodes a@h --no-such-option
expect_code 1
expect_in "$ERR" "--no-such-option"
probe cluster --nodes a@h,b@h --cookie-file "$WORK/absent"
expect_code 1
expect_in "$ERR" "beamprobe cluster: "
expect_in "$ERR" "$WORK/absent"

test_case "manpage: mdoc on stdout; an extra argument is a usage error"
probe manpage
expect_code 0
expect_in "$OUT" ".Dt BEAMPROBE 1"
expect_in "$OUT" ".Sh EXIT STATUS"
probe manpage extra
expect_code 1
expect_in "$ERR" "Usage: beamprobe manpage"

test_case "completion bash|zsh: scripts their shells parse; another shell is a usage error"
probe completion bash
expect_code 0
bash -n <<<"$OUT" && ok "bash -n" || fail "bash -n rejects the bash completion"
expect_in "$OUT" "complete -F"
probe completion zsh
expect_code 0
if command -v zsh >/dev/null; then
  printf '%s\n' "$OUT" >"$WORK/_beamprobe"
  zsh -n "$WORK/_beamprobe" && ok "zsh -n" || fail "zsh -n rejects the zsh completion"
fi
expect_in "$OUT" "#compdef beamprobe"
probe completion fish
expect_code 1
expect_in "$ERR" "Usage: beamprobe completion bash|zsh"

finish
