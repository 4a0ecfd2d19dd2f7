#!/usr/bin/env bash
# record_corpus.sh: writes fuzz_replies' seeds (test/fuzz/corpus/replies/) from real nodes' replies to every probe setup (run by hand, output committed).
#
#   test/fuzz/record_corpus.sh [RELEASE...]    (default: 25, the system's OTP; also 27 or 29 from scripts/otp-release.sh)
#
# For each release: a fresh 2-node demo cluster (test/fixtures/cluster.sh: unique names, a
# temporary cookie), mnesia started on both with a shared table and one on node 2 only, then
# build/record_replies (make -C c_src recorder) runs every setup of test/fuzz/replies.h against
# node 1 and writes corpus/replies/<release>-<setup>. The cluster is stopped on exit, whatever happens.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CLUSTER=$ROOT/test/fixtures/cluster.sh
OUT=$ROOT/test/fuzz/corpus/replies
REC=$ROOT/build/record_replies
releases=("$@")
(( ${#releases[@]} )) || releases=(25)

make -s -C "$ROOT/c_src" recorder
setups=$("$REC" 2>&1 | sed -n 's/^setups: //p' || true)  # its usage lists them
[[ -n $setups ]] || { echo "record_corpus: no setups from $REC" >&2; exit 1; }
mkdir -p "$OUT"
WORK=$(mktemp -d)
cleanup() { "$CLUSTER" stop "$WORK" >/dev/null 2>&1 || true; rm -rf "$WORK"; }
trap cleanup EXIT

for rel in "${releases[@]}"; do
  erl_bin=
  [[ $rel == 25 ]] || erl_bin=$("$ROOT/scripts/otp-release.sh" path "$rel")
  "$CLUSTER" stop "$WORK" >/dev/null 2>&1 || true
  BP_ERL=$erl_bin "$CLUSTER" start "$WORK" 2 "bpfz$$r$rel" >/dev/null
  mapfile -t nodes <"$WORK/nodes"
  "$CLUSTER" eval "$WORK" "${nodes[0]}" 'ok = mnesia:start().' >/dev/null
  "$CLUSTER" eval "$WORK" "${nodes[1]}" \
    "ok = mnesia:start(), {ok, _} = mnesia:change_config(extra_db_nodes, ['${nodes[0]}']), ok." >/dev/null
  "$CLUSTER" eval "$WORK" "${nodes[0]}" \
    "{atomic, ok} = mnesia:create_table(fz_both, [{ram_copies, ['${nodes[0]}', '${nodes[1]}']}]), {atomic, ok} = mnesia:create_table(fz_on2, [{ram_copies, ['${nodes[1]}']}]), ok." >/dev/null
  for s in $setups; do
    "$REC" "${nodes[0]}" "$WORK/cookie" "$s" "$OUT/$rel-$s"
    printf 'record_corpus: %-24s %7d bytes\n' "$rel-$s" "$(stat -c %s "$OUT/$rel-$s")"
  done
done
