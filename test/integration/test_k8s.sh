#!/usr/bin/env bash
# test_k8s.sh: deploy/k8s renders with kubectl kustomize (base and the exec-probes overlay), every object
# validates against the Kubernetes API schemas (kubernetes-models, from test/k8s/package-lock.json), and
# the security settings, RBAC, PDB, probes and NetworkPolicy hold (test/k8s/validate.mjs); a kit with one
# broken securityContext is caught. Downloads nothing: scripts/install-deps.sh ran npm ci in test/k8s.
# bp: packaging
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
K8S="$ROOT/deploy/k8s"
VALIDATE="$ROOT/test/k8s/validate.mjs"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

test_case "tools"
command -v kubectl >/dev/null || { fail "kubectl not found (it brings kustomize: see docs/K8S.md)"; finish; exit 1; }
[[ -d $ROOT/test/k8s/node_modules/kubernetes-models ]] \
  || { fail "test/k8s/node_modules missing: run scripts/install-deps.sh (npm ci in test/k8s)"; finish; exit 1; }
ok "kubectl $(kubectl version --client 2>/dev/null | sed -n 's/^Kustomize Version: //p' | sed 's/^/kustomize /')"

run_validate() { # run_validate VARIANT FILE: each line of validate.mjs becomes an ok or a FAIL
  local line out rc=0
  out=$(cd "$ROOT/test/k8s" && node "$VALIDATE" "$1" "$2" 2>&1) || rc=$?
  while IFS= read -r line; do
    case $line in
      ok\ *) ok "${line#ok }" ;;
      FAIL\ *) fail "${line#FAIL }" ;;
      *) [[ -n $line ]] && fail "validate.mjs: $line" ;;
    esac
  done <<<"$out"
  return $rc
}

for v in base exec; do
  dir=$K8S/base; [[ $v == exec ]] && dir=$K8S/overlays/exec-probes
  test_case "render $v"
  if kubectl kustomize "$dir" >"$TMP/$v.yaml" 2>"$TMP/$v.err"; then ok "$(grep -c '^kind:' "$TMP/$v.yaml") objects"
  else fail "$(head -c 800 "$TMP/$v.err")"; continue; fi
  test_case "$v"
  run_validate "$v" "$TMP/$v.yaml" || true
done

# The checks can fail: the same kit with one container allowed to escalate privileges, and with
# a Role granting one verb more, must each be refused.
test_case "a broken kit is refused"
mutate() { # mutate NAME SED_EXPR: copy the kit, edit base/$FILE, render, expect validate.mjs to fail on WHAT
  local name=$1 file=$2 expr=$3 what=$4 out
  rm -rf "$TMP/$name" && mkdir -p "$TMP/$name/deploy" && cp -r "$K8S" "$TMP/$name/deploy/k8s" \
    && cp -r "$ROOT/deploy/prometheus" "$TMP/$name/deploy/prometheus"
  sed -i "$expr" "$TMP/$name/deploy/k8s/base/$file"
  if cmp -s "$K8S/base/$file" "$TMP/$name/deploy/k8s/base/$file"; then fail "$name: the edit changed nothing"; return; fi
  kubectl kustomize "$TMP/$name/deploy/k8s/base" >"$TMP/$name.yaml" || { fail "$name: does not render"; return; }
  if out=$(cd "$ROOT/test/k8s" && node "$VALIDATE" base "$TMP/$name.yaml"); then fail "$name: accepted"
  elif grep -q "^FAIL .*$what" <<<"$out"; then ok "$name: $(grep -m1 '^FAIL' <<<"$out" | cut -c1-160)"
  else fail "$name: refused for another reason: $(grep -m1 '^FAIL' <<<"$out")"; fi
}
mutate privilege-escalation statefulset.yaml '0,/allowPrivilegeEscalation: false/s//allowPrivilegeEscalation: true/' \
  'allowPrivilegeEscalation is not false'
mutate rbac-delete rbac.yaml '0,/verbs: \["get", "list", "watch"\]/s//verbs: ["get", "list", "watch", "delete"]/' \
  'RBAC grants exactly'
mutate pdb-no-quorum pdb.yaml 's/minAvailable: 2/minAvailable: 1/' 'PDB keeps a quorum'
mutate schema statefulset.yaml '0,/runAsUser: 10001/s//runAsUser: "10001"/' 'schema StatefulSet/app'

finish
