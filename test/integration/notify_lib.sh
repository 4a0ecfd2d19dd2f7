#!/usr/bin/env bash
# notify_lib.sh: a local HTTP receiver for notification tests (sourced after lib.sh; needs WORK): records every POST as a JSON line.

# start_receiver NAME [KEYFILE]: a python3 receiver on 127.0.0.1:0 appending one JSON line per POST
# ({"t": unix seconds, "path", "sig", "sig_ok" (HMAC-SHA256 of the body under KEYFILE's first line),
# "body": parsed JSON}) to WORK/NAME.jsonl; sets RPORT and RPID (killed on exit through SERVE_PIDS).
start_receiver() {
  local name=$1 key=${2:-}
  cat >"$WORK/receiver.py" <<'PY'
import hashlib, hmac, http.server, json, sys, time
out, key = sys.argv[1], (open(sys.argv[2], "rb").read().rstrip(b"\r\n") if len(sys.argv) > 2 and sys.argv[2] else None)
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        sig = self.headers.get("X-Beamprobe-Signature")
        ok = key is not None and sig == "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()
        rec = {"t": time.time(), "path": self.path, "sig": sig, "sig_ok": ok,
               "auth": self.headers.get("Authorization"), "body": json.loads(body)}
        with open(out, "a") as f:
            f.write(json.dumps(rec) + "\n")
        self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers()
    def log_message(self, *a): pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
PY
  : >"$WORK/$name.jsonl"
  python3 "$WORK/receiver.py" "$WORK/$name.jsonl" "$key" >"$WORK/$name.port" 2>"$WORK/$name.err" &
  RPID=$!
  disown "$RPID" 2>/dev/null || true # killed through SERVE_PIDS, without a "Killed" line
  SERVE_PIDS+=("$RPID")
  RPORT=
  for _ in $(seq 100); do
    RPORT=$(head -1 "$WORK/$name.port" 2>/dev/null)
    [[ -n $RPORT ]] && return 0
    sleep 0.05
  done
  fail "receiver $name did not start: $(cat "$WORK/$name.err")"
  return 1
}

# wait_record NAME JQ_SELECT SECONDS: wait until a line of WORK/NAME.jsonl matches (jq -e select);
# sets REC (the first matching line) and REC_T (its arrival time, unix seconds).
wait_record() {
  local name=$1 sel=$2 limit=$3 t0
  t0=$(date +%s%N)
  while :; do
    REC=$(jq -c "select($sel)" "$WORK/$name.jsonl" 2>/dev/null | head -1)
    [[ -n $REC ]] && { REC_T=$(jq -r .t <<<"$REC"); return 0; }
    (( ($(date +%s%N) - t0) / 1000000 > limit * 1000 )) && return 1
    sleep 0.05
  done
}

# resolved_after T CHECK: the wait_record selector of a post that arrived after unix time T carrying CHECK's
# alert resolved (endsAt, to the second, not after the post's arrival; a firing alert's lies ahead).
resolved_after() {
  printf '.t > %s and (.t as $t | any(.body[]; .labels.check == "%s" and ((.endsAt[0:19] + "Z" | fromdate) <= $t)))' "$1" "$2"
}

# metric NAME_WITH_LABELS: the value of one sample in serve's /metrics (empty when absent).
metric() {
  curl -s -m 5 "http://127.0.0.1:$PORT/metrics" | awk -v m="$1" '$1 == m { print $2 }'
}

# free_port: a TCP port nobody listens on (bound once, then closed).
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# start_alertmanager HOOK_URL: a real Alertmanager (prometheus-alertmanager) on 127.0.0.1 routing every
# alert to HOOK_URL (group_wait 1s, group_interval 1s, repeat_interval 4h, send_resolved), no gossip;
# grouped by job too, so that Prometheus's alerts (job "beamprobe") and serve's own (no job) of the same
# alertname, node and check are notified independently, each path with its own group_wait;
# sets AMPORT and AMPID (killed on exit through SERVE_PIDS). 1 when it is not installed or does not start.
start_alertmanager() {
  local hook=$1 bin=${ALERTMANAGER:-/usr/bin/prometheus-alertmanager}
  [[ -x $bin ]] || { echo "  skip  $bin not installed (apt-get install prometheus-alertmanager)"; return 1; }
  mkdir -p "$WORK/am-data"
  cat >"$WORK/alertmanager.yml" <<YML
route:
  receiver: hook
  group_by: [alertname, node, check, job]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 4h
receivers:
  - name: hook
    webhook_configs:
      - url: $hook
        send_resolved: true
YML
  AMPORT=$(free_port)
  launch_ready alertmanager "$AMPORT" "$bin" --config.file="$WORK/alertmanager.yml" --storage.path="$WORK/am-data" \
    --web.listen-address="127.0.0.1:$AMPORT" --cluster.listen-address= || { AMPID=$LAUNCHED; return 1; }
  AMPID=$LAUNCHED
}

# launch_ready NAME PORT CMD...: run CMD in the background (output in WORK/NAME.log, pid in LAUNCHED and
# SERVE_PIDS) and wait up to 10 s until 127.0.0.1:PORT/-/ready answers; 1 (and a failure) otherwise.
launch_ready() {
  local name=$1 port=$2; shift 2
  "$@" >"$WORK/$name.log" 2>&1 &
  LAUNCHED=$!
  disown "$LAUNCHED" 2>/dev/null || true # killed through SERVE_PIDS, without a "Killed" line
  SERVE_PIDS+=("$LAUNCHED")
  for _ in $(seq 200); do
    curl -sf -m 1 "http://127.0.0.1:$port/-/ready" >/dev/null 2>&1 && return 0
    kill -0 "$LAUNCHED" 2>/dev/null || break
    sleep 0.05
  done
  fail "$name did not start: $(tail -5 "$WORK/$name.log")"
  return 1
}

# start_prometheus RULES TARGET: a real Prometheus (Debian's `prometheus`) on 127.0.0.1 scraping serve
# at TARGET (host:port, job "beamprobe") every 1 s and evaluating, every 1 s, a copy of RULES with every
# `for:` cut to 1s (WORK/rules.yml), alerting the Alertmanager at AMPORT; sets PPORT (killed on exit
# through SERVE_PIDS). 1 when it is not installed or does not start.
start_prometheus() {
  local rules=$1 target=$2 bin=${PROMETHEUS:-/usr/bin/prometheus}
  [[ -x $bin ]] || { echo "  skip  $bin not installed (apt-get install prometheus)"; return 1; }
  sed -E 's/^([[:space:]]*)for: .*/\1for: 1s/' "$rules" >"$WORK/rules.yml"
  PPORT=$(free_port)
  cat >"$WORK/prometheus.yml" <<YML
global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: ["$WORK/rules.yml"]
alerting:
  alertmanagers: [{static_configs: [{targets: ["127.0.0.1:$AMPORT"]}]}]
scrape_configs:
  - job_name: beamprobe
    static_configs: [{targets: ["$target"]}]
YML
  launch_ready prometheus "$PPORT" "$bin" --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/prom-data" \
    --web.listen-address="127.0.0.1:$PPORT"
}

# am_notified PATH STATUS ALERTNAME NODE [JQ_COND]: the wait_record condition "an Alertmanager webhook
# post carries an alert with this status, alertname and node (and JQ_COND)", from PATH: `direct`
# (serve --alertmanager: no job label) or `prometheus` (Prometheus's rules: job "beamprobe").
am_notified() {
  local job='.labels.job == null'
  [[ $1 == prometheus ]] && job='.labels.job == "beamprobe"'
  printf '.body.alerts | any(.[]; .status == "%s" and .labels.alertname == "%s" and .labels.node == "%s" and %s%s)' \
    "$2" "$3" "$4" "$job" "${5:+ and $5}"
}

# ms_since T1 T0: milliseconds from unix time T0 to T1 (both with fractions).
ms_since() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%d", (a - b) * 1000 }'; }
