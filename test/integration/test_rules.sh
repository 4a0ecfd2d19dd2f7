#!/usr/bin/env bash
# test_rules.sh: the shipped Prometheus rules: promtool check and unit tests, runbook sections and links, test coverage per alert, generated operator objects in sync.
# Needs no running node: only promtool (Debian package prometheus, scripts/install-deps.sh).
# bp: deploy
set -euo pipefail
source "$(dirname "$0")/lib.sh"

PROM="$ROOT/deploy/prometheus"
RULES="$PROM/beamprobe.rules.yml"
TESTS="$PROM/beamprobe.rules.test.yml"
RUNBOOK="$ROOT/docs/RUNBOOK.md"
OPERATOR="$PROM/operator"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/bp-rules.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

if ! command -v promtool >/dev/null 2>&1; then
  test_case "promtool"; fail "promtool not found (Debian package prometheus: scripts/install-deps.sh)"
  finish; exit 1
fi

# One line per alert of the rules file: NAME<TAB>SEVERITY<TAB>RUNBOOK_URL<TAB>SUMMARY?<TAB>DESCRIPTION?
# (the rules file keeps a regular layout: "- alert:" items at one indentation, their keys below).
alerts_table() {
  awk '
    function flush() { if (name != "") print name "\t" sev "\t" url "\t" sum "\t" desc; name = "" }
    /^ *- (alert|record):/ { flush() }
    /^ *- alert:/        { name = $3; sev = ""; url = ""; sum = "no"; desc = "no" }
    /^ *- name:/         { flush() }
    name != "" && /^ *severity:/    { sev = $2 }
    name != "" && /^ *runbook_url:/ { url = $2 }
    name != "" && /^ *summary:/     { sum = "yes" }
    name != "" && /^ *description:/ { desc = "yes" }
    END { flush() }
  ' "$1"
}

# Anchors of the runbook's headings, as GitHub makes them: lower case, punctuation
# other than - and _ dropped, spaces turned into -.
runbook_anchors() {
  [[ -f $RUNBOOK ]] || return 0
  sed -n 's/^#\{1,6\} \(.*\)$/\1/p' "$RUNBOOK" | tr '[:upper:]' '[:lower:]' | sed 's/[^a-z0-9 _-]//g; s/ /-/g'
}

# One line per alert_rule_test entry of the test file: ALERTNAME<TAB>fires|silent.
test_cases() {
  awk '
    /^ *alertname:/ { name = $2; next }
    /^ *exp_alerts: *\[\] *$/ { if (name != "") print name "\tsilent"; name = ""; next }
    /^ *exp_alerts: *$/ { pending = name; name = ""; next }
    pending != "" && /^ *- exp_labels:/ { print pending "\tfires"; pending = ""; next }
    pending != "" && /[^ ]/ { pending = "" }
  ' "$1"
}

test_case "promtool check rules"
if out=$(promtool check rules "$RULES" 2>&1); then ok; else fail "$out"; fi

test_case "promtool test rules"
if out=$(cd "$PROM" && promtool test rules "$(basename "$TESTS")" 2>&1); then ok; else fail "$out"; fi

mapfile -t ALERTS < <(alerts_table "$RULES")
# Metrics the rules use that serve does not export yet (none now: the per-peer links,
# check transitions and governor time in state have landed). Alerts on such a metric
# stay silent until it exists.
PENDING=" "
test_case "every metric the rules use is one serve exports (c_src), or pending"
unknown=(); pending=()
while read -r m; do
  if grep -rqF -- "\"$m" "$ROOT/c_src" || grep -rqF -- "$m{" "$ROOT/c_src" || grep -rqF -- "$m " "$ROOT/c_src"; then continue; fi
  if [[ $PENDING == *" $m "* ]]; then pending+=("$m"); else unknown+=("$m"); fi
done < <(grep -oP '(?<![:\w])(beamprobe|erlang_vm)_\w+(?![:\w])' "$RULES" | sort -u)
if (( ${#unknown[@]} == 0 )); then ok "${pending[*]:+not exported yet: ${pending[*]}}"; else fail "no such metric in c_src: ${unknown[*]}"; fi

test_case "rules file has alerts"
if (( ${#ALERTS[@]} >= 15 )); then ok "${#ALERTS[@]} alerts"; else fail "only ${#ALERTS[@]} alerts parsed from $RULES"; fi

anchors=" $(runbook_anchors | tr '\n' ' ') "
cases=$(test_cases "$TESTS")
for row in "${ALERTS[@]}"; do
  IFS=$'\t' read -r name sev url sum desc <<<"$row"
  anchor=$(tr '[:upper:]' '[:lower:]' <<<"$name")
  test_case "$name"
  problems=()
  [[ $sev == critical || $sev == warning ]] || problems+=("severity '$sev' is not critical or warning")
  [[ $sum == yes && $desc == yes ]] || problems+=("summary or description annotation missing")
  [[ $anchors == *" $anchor "* ]] || problems+=("no section '$name' (anchor #$anchor) in docs/RUNBOOK.md")
  [[ $url =~ (^|/)docs/RUNBOOK\.md#$anchor$ ]] || problems+=("runbook_url '$url' is not docs/RUNBOOK.md#$anchor")
  [[ $anchors == *" ${url##*#} "* ]] || problems+=("runbook_url '$url' names no anchor of docs/RUNBOOK.md")
  grep -qx "$name"$'\t'fires <<<"$cases" || problems+=("no firing case (exp_alerts with exp_labels) in $(basename "$TESTS")")
  grep -qx "$name"$'\t'silent <<<"$cases" || problems+=("no silent case (exp_alerts: []) in $(basename "$TESTS")")
  if (( ${#problems[@]} == 0 )); then ok "severity, annotations, runbook section and link, firing and silent cases"; else
    for p in "${problems[@]}"; do fail "$p"; done
  fi
done

# The unit tests can fail: with any one alert renamed, its firing cases must no longer pass.
test_case "unit tests catch a missing alert"
cp "$TESTS" "$TMP/"
blind=()
for row in "${ALERTS[@]}"; do
  name=${row%%$'\t'*}
  sed "s/^\( *- alert: \)$name\$/\1${name}Renamed/" "$RULES" >"$TMP/$(basename "$RULES")"
  if (cd "$TMP" && promtool test rules "$(basename "$TESTS")" >/dev/null 2>&1); then blind+=("$name"); fi
done
if (( ${#blind[@]} == 0 )); then ok "each of ${#ALERTS[@]} renamed in turn: unit tests fail"; else fail "unit tests still pass without: ${blind[*]}"; fi

test_case "operator objects in sync with the rules file"
mkdir -p "$TMP/operator"
if ! out=$("$OPERATOR/generate.sh" "$TMP/operator" 2>&1); then fail "generate.sh failed: $out"
else
  drift=""
  for f in "$TMP"/operator/*.yaml; do
    d=$(diff -u "$OPERATOR/$(basename "$f")" "$f" 2>&1) || drift+="$d"$'\n'
  done
  extra=$(cd "$OPERATOR" && for f in *.yaml; do [[ -e $TMP/operator/$f ]] || echo "$f"; done)
  if [[ -z $drift && -z $extra ]]; then ok "prometheusrule, servicemonitor, podmonitor"; else
    fail "run deploy/prometheus/operator/generate.sh and commit: ${extra:+not generated: $extra; }${drift:0:1500}"
  fi
fi

# The PrometheusRule's spec, taken back out, is the rules file's groups, and promtool accepts it.
test_case "PrometheusRule spec.groups is the rules file's groups"
sed -n '/^spec:$/,$p' "$OPERATOR/prometheusrule.yaml" | tail -n +2 | sed 's/^  //' >"$TMP/spec.rules.yml"
if ! d=$(sed -n '/^groups:$/,$p' "$RULES" | diff - "$TMP/spec.rules.yml"); then fail "differs: ${d:0:800}"
elif ! out=$(promtool check rules "$TMP/spec.rules.yml" 2>&1); then fail "promtool: $out"
else ok; fi

test_case "ServiceMonitor and PodMonitor scrape port health, /metrics, every 15s, job beamprobe"
job=$(sed -n 's/.*absent(beamprobe_up{job="\([^"]*\)"}).*/\1/p' "$RULES")
problems=()
for f in servicemonitor podmonitor; do
  for want in "kind: $( [[ $f == servicemonitor ]] && echo ServiceMonitor || echo PodMonitor)" \
              "- port: health" "path: /metrics" "interval: 15s" "targetLabel: job" "replacement: $job" \
              "type: Bearer"; do
    grep -qF -- "$want" "$OPERATOR/$f.yaml" || problems+=("$f.yaml lacks '$want'")
  done
done
if (( ${#problems[@]} == 0 )); then ok; else fail "${problems[*]}"; fi

# End to end: a real Prometheus scraping a real serve of a 2-node cluster evaluates every
# rule without error, the recording rules give a series per node (and per limit), and an
# alert's labels match real series (a required application that does not exist).
test_case "rules on a real serve's /metrics"
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
start_cluster 2
trap '"$CLUSTER" stop "$DIR" >/dev/null 2>&1 || true; [[ -n ${SPID:-} ]] && kill "$SPID" 2>/dev/null; [[ -n ${PPID_PROM:-} ]] && kill "$PPID_PROM" 2>/dev/null; rm -rf "$DIR" "$TMP"' EXIT
SPORT=$(free_port); PPORT=$(free_port)
"$BEAMPROBE" serve --listen "127.0.0.1:$SPORT" --cookie-file "$COOKIE" --node "$(IFS=,; echo "${NODES[*]}")" \
  --memory-limit 1GiB --require-app nosuchapp 2>"$TMP/serve.log" &
SPID=$!
cat >"$TMP/prometheus.yml" <<PROM
global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: ["$RULES"]
scrape_configs:
  - job_name: $job
    static_configs: [{targets: ["127.0.0.1:$SPORT"]}]
PROM
prometheus --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/tsdb" \
  --web.listen-address="127.0.0.1:$PPORT" >"$TMP/prometheus.log" 2>&1 &
PPID_PROM=$!
promq() { curl -s -m 2 --data-urlencode "query=$1" "http://127.0.0.1:$PPORT/api/v1/query" | jq -r '.data.result | length' 2>/dev/null || echo 0; }
want=(
  "node:beamprobe_memory_used:ratio 2"
  "node:beamprobe_limit_used:ratio 6"
  "node:beamprobe_run_queue_per_scheduler:ratio 2"
  "job:beamprobe_nodes_up:sum == 2 1"
  "job:beamprobe_nodes_unhealthy:sum == 2 1"
  "ALERTS{alertname=\"BeamprobeApplicationMissing\"} 2"
  "ALERTS{alertname=\"BeamprobeNodeUnhealthy\"} 2"
  "ALERTS{alertname=\"BeamprobeNodeDown\"} 0"
)
missing=("${want[@]}")
for _ in $(seq 60); do
  missing=()
  for w in "${want[@]}"; do [[ $(promq "${w% *}") == "${w##* }" ]] || missing+=("${w% *}: $(promq "${w% *}") series, want ${w##* }"); done
  (( ${#missing[@]} == 0 )) && break
  sleep 0.5
done
bad_rules=$(curl -s -m 2 "http://127.0.0.1:$PPORT/api/v1/rules" | jq -r '.data.groups[].rules[] | select(.health != "ok") | "\(.name): \(.lastError)"' 2>&1)
if (( ${#missing[@]} == 0 )) && [[ -z $bad_rules ]]; then ok "recording rules and alerts on real series, every rule healthy"; else
  fail "${missing[*]} ${bad_rules} (prometheus log: $(tail -3 "$TMP/prometheus.log"))"
fi

finish
