#!/usr/bin/env bash
# test_oneround_safe.sh: the one-round request's real parameters decode with binary_to_term(B, [safe]) in a bare VM of every installed OTP release.
# The target decodes them so (c_src/dist/oneround.erl.src): an atom or an external fun a release's
# bare VM lacks makes that release refuse the request and the probe pay one more round (it did on
# OTP 27 and 29: erlang:display_nl, gen_statem). The samples are built by C itself
# (build/oneround_samples, beside the beamprobe under test: every feature of the request); each
# VM is `erl -boot start_clean -noshell`, the system's and each of scripts/otp-release.sh installed.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BIN_DIR=$(cd "$(dirname "$BEAMPROBE")" && pwd)
[[ $BIN_DIR == "$ROOT/priv" ]] && BIN_DIR="$ROOT/build"
SAMPLES="$BIN_DIR/oneround_samples"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/bp-orsafe.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# decode VM_ERL FILE...: one line per file, "ok" or "refused", as the VM's binary_to_term(B, [safe]) says
decode() {
  local erl=$1; shift
  local f
  for f in "$@"; do printf '%s\n' "$f"; done >"$WORK/files"
  "$erl" -boot start_clean -noshell -noinput -eval '
    {ok, L} = file:read_file("'"$WORK/files"'"),
    [io:format("~s~n", [try binary_to_term(element(2, file:read_file(F)), [safe]) of _ -> ok catch error:badarg -> refused end])
     || F <- string:lexemes(binary_to_list(L), "\n")],
    halt().' </dev/null
}

test_case "samples built"
if [[ ! -x $SAMPLES ]]; then
  fail "$SAMPLES is missing (make -C c_src builds it)"
  finish; exit 1
fi
"$SAMPLES" "$WORK"
mapfile -t FILES < <(ls "$WORK"/params_*.bin)
if (( ${#FILES[@]} >= 4 )); then ok "${#FILES[@]} configurations"; else fail "only ${#FILES[@]} samples"; fi

# a control the check must refuse: an atom no VM has (a name made up for this run)
NOVEL="bp_orsafe_$$_$RANDOM"
erl -noshell -noinput -eval "file:write_file(\"$WORK/novel.bin\", term_to_binary({1, '$NOVEL'})), halt()." </dev/null

VMS=("$(erl -noshell -noinput -eval 'io:format("~s", [erlang:system_info(otp_release)]), halt().' </dev/null) $(command -v erl)")
while read -r rel erl; do [[ -n $rel ]] && VMS+=("$rel $erl"); done < <("$ROOT/scripts/otp-release.sh" installed)
(( ${#VMS[@]} > 1 )) || echo "  note  only the system's OTP is installed: no other release checked (scripts/otp-release.sh fetch 27|29)"

for vm in "${VMS[@]}"; do
  rel=${vm%% *} erl=${vm#* }
  test_case "OTP $rel: the parameters decode with [safe] in a bare VM"
  got=$(decode "$erl" "${FILES[@]}" "$WORK/novel.bin")
  mapfile -t res <<<"$got"
  bad=()
  for i in "${!FILES[@]}"; do [[ ${res[$i]:-} == ok ]] || bad+=("$(basename "${FILES[$i]}"): ${res[$i]:-no answer}"); done
  if (( ${#bad[@]} == 0 )); then ok "${#FILES[@]} samples"; else fail "${bad[*]}"; fi
  test_case "OTP $rel: a new atom is refused (the check can fail)"
  if [[ ${res[${#FILES[@]}]:-} == refused ]]; then ok; else fail "got '${res[${#FILES[@]}]:-}' for an atom no VM has"; fi
done

finish
