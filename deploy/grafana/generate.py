#!/usr/bin/env python3
# generate.py: writes beamprobe-dashboard.json (the Grafana dashboard of `beamprobe serve`'s /metrics) from the panel list below; --check only compares.
"""Generate the beamprobe Grafana dashboard.

    python3 deploy/grafana/generate.py          # rewrite beamprobe-dashboard.json
    python3 deploy/grafana/generate.py --check  # exit 1 if the committed JSON is not what this script writes

Standard library only. Every query filters on the dashboard's $job and $node variables
(sel() below); the metric names and labels are those of docs/METRICS.md.
"""
import json
import os
import sys

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "beamprobe-dashboard.json")
DS = {"type": "prometheus", "uid": "${datasource}"}

# Colours of the state sets, in order of severity (value = position + 1, see state_code()).
HEALTH = [("healthy", "green"), ("degraded", "yellow"), ("unhealthy", "red")]
CHECK = [("pass", "green"), ("warn", "yellow"), ("fail", "red")]


def sel(metric, *matchers):
    """metric{job=~"$job",node=~"$node",...}: the dashboard's filter plus extra matchers."""
    return "%s{%s}" % (metric, ",".join(['job=~"$job"', 'node=~"$node"'] + list(matchers)))


def state_code(metric, states, *matchers):
    """One number per state set: position + 1 of the state whose sample is 1 (1 = the first state).

    The samples of the other states are 0, so max() picks the current one's code."""
    parts = ["%s * %d" % (sel(metric, *(list(matchers) + ['status="%s"' % s])), i + 1)
             for i, (s, _) in enumerate(states)]
    return "max without (status) (%s)" % " or ".join(parts)


def state_mappings(states):
    return [{"type": "value",
             "options": {str(i + 1): {"text": s, "color": c, "index": i} for i, (s, c) in enumerate(states)}}]


def target(expr, legend, ref, instant=False):
    return {"datasource": DS, "editorMode": "code", "expr": expr, "legendFormat": legend,
            "range": not instant, "instant": instant, "refId": ref}


def thresholds(*steps):
    """steps: (value, colour) pairs after the base green."""
    return {"mode": "absolute",
            "steps": [{"color": "green", "value": None}] + [{"color": c, "value": v} for v, c in steps]}


LEGEND = {"displayMode": "list", "placement": "bottom", "showLegend": True}
TOOLTIP = {"mode": "multi", "sort": "desc"}


def timeseries(title, desc, targets, unit="short", steps=(), minimum=None, maximum=None):
    custom = {"drawStyle": "line", "lineInterpolation": "stepAfter", "lineWidth": 1, "fillOpacity": 0,
              "showPoints": "never", "spanNulls": False,
              "thresholdsStyle": {"mode": "dashed" if steps else "off"}}
    defaults = {"unit": unit, "custom": custom, "color": {"mode": "palette-classic"},
                "thresholds": thresholds(*steps), "mappings": []}
    if minimum is not None:
        defaults["min"] = minimum
    if maximum is not None:
        defaults["max"] = maximum
    return {"type": "timeseries", "title": title, "description": desc, "targets": targets,
            "fieldConfig": {"defaults": defaults, "overrides": []},
            "options": {"legend": LEGEND, "tooltip": TOOLTIP}}


def state_timeline(title, desc, targets, states):
    defaults = {"custom": {"fillOpacity": 80, "lineWidth": 0}, "color": {"mode": "thresholds"},
                "thresholds": thresholds(), "mappings": state_mappings(states)}
    return {"type": "state-timeline", "title": title, "description": desc, "targets": targets,
            "fieldConfig": {"defaults": defaults, "overrides": []},
            "options": {"mergeValues": True, "showValue": "auto", "alignValue": "left", "rowHeight": 0.9,
                        "legend": LEGEND, "tooltip": {"mode": "single", "sort": "none"}}}


def stat(title, desc, expr, steps):
    return {"type": "stat", "title": title, "description": desc, "targets": [target(expr, "", "A")],
            "fieldConfig": {"defaults": {"unit": "short", "color": {"mode": "thresholds"},
                                         "thresholds": thresholds(*steps), "mappings": []},
                            "overrides": []},
            "options": {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                        "colorMode": "background", "graphMode": "area", "justifyMode": "auto",
                        "orientation": "auto", "textMode": "auto"}}


def bargauge(title, desc, targets, unit="short"):
    return {"type": "bargauge", "title": title, "description": desc, "targets": targets,
            "fieldConfig": {"defaults": {"unit": unit, "min": 0, "decimals": 0, "color": {"mode": "thresholds"},
                                         "thresholds": thresholds((1, "yellow"), (5, "red")), "mappings": []},
                            "overrides": []},
            "options": {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                        "displayMode": "gradient", "orientation": "horizontal", "showUnfilled": True}}


def ratio(resource, used, limit, warn_flag):
    return timeseries(
        "%s / limit" % resource.capitalize(),
        "%s / %s per node. The limits check warns at --%s-warn (0.8) and fails at --%s-fail (0.9)."
        % (used, limit, warn_flag, warn_flag),
        [target("%s / %s" % (sel(used), sel(limit)), "{{node}}", "A")],
        unit="percentunit", steps=((0.8, "yellow"), (0.9, "red")), minimum=0)


GOVERNOR_CHECK_CODE = ('label_replace(%s, "governor", "$1", "check", "governor:(.*)")'
                       % state_code("beamprobe_check_status", CHECK, 'check=~"governor:.*"'))

# The dashboard, row by row: (row title, [(panel, width, height), ...]). Panels fill a row left to right.
LAYOUT = [
    ("Overview", [
        (stat(title, desc, expr, steps), 4, 4) for title, desc, expr, steps in [
            ("Nodes up", "Nodes whose last probe connected (beamprobe_up).",
             "sum(%s)" % sel("beamprobe_up"), ()),
            ("Nodes down", "Nodes whose last probe did not connect.",
             "count(%s == 0) or vector(0)" % sel("beamprobe_up"), ((1, "red"),)),
            ("Unhealthy nodes", "Nodes whose overall status is unhealthy.",
             "sum(%s)" % sel("beamprobe_health_status", 'status="unhealthy"'), ((1, "red"),)),
            ("Degraded nodes", "Nodes whose overall status is degraded.",
             "sum(%s)" % sel("beamprobe_health_status", 'status="degraded"'), ((1, "yellow"),)),
            ("Failing checks", "Checks failing, over all nodes.",
             "sum(%s)" % sel("beamprobe_check_status", 'status="fail"'), ((1, "red"),)),
            ("Incomplete reports", "Nodes whose last probe ran out of time before every check completed.",
             "sum(%s)" % sel("beamprobe_report_incomplete"), ((1, "yellow"),)),
        ]
    ]),
    ("Health and checks", [
        (state_timeline("Health per node",
                        "Overall status of each node (beamprobe_health_status): healthy, degraded or unhealthy.",
                        [target(state_code("beamprobe_health_status", HEALTH), "{{node}}", "A")], HEALTH), 24, 6),
        (state_timeline("Check status",
                        "Result of every check of every node (beamprobe_check_status): pass, warn or fail.",
                        [target(state_code("beamprobe_check_status", CHECK), "{{node}} {{check}}", "A")],
                        CHECK), 16, 10),
        (timeseries("Failing checks per node", "Number of checks with status fail (beamprobe_check_status).",
                    [target('sum without (check, status) (%s)'
                            % sel("beamprobe_check_status", 'status="fail"'), "{{node}}", "A")],
                    steps=((1, "red"),), minimum=0), 8, 10),
    ]),
    ("Governors", [
        (state_timeline(
            "Governor state",
            "Current state of each governor (beamprobe_governor_state == 1), one line per node, governor and "
            "state, coloured by the result of its governor:<name> check (pass, warn, fail).",
            [target("(%s == 1) * on (job, instance, node, governor) group_left () %s"
                    % (sel("beamprobe_governor_state"), GOVERNOR_CHECK_CODE),
                    "{{node}} {{governor}}: {{state}}", "A")], CHECK), 24, 8),
        (timeseries("Time in current state",
                    "Seconds each governor has been in its current state (beamprobe_governor_state_since_seconds).",
                    [target(sel("beamprobe_governor_state_since_seconds"), "{{node}} {{governor}}", "A")],
                    unit="s", minimum=0), 12, 8),
        (bargauge("Governor transitions (last hour)",
                  "Status changes of each governor:<name> check over the last hour "
                  "(beamprobe_check_transitions_total).",
                  [target("increase(%s[1h])" % sel("beamprobe_check_transitions_total", 'check=~"governor:.*"'),
                          "{{node}} {{check}}", "A", instant=True)]), 12, 8),
    ]),
    ("Memory and limits", [
        (timeseries("Memory vs limit",
                    "erlang:memory(total) (erlang_vm_memory_bytes, processes + system) and the limit the memory "
                    "check judges it against (beamprobe_memory_limit_bytes: --memory-limit or the cgroup's).",
                    [target("sum without (kind) (%s)" % sel("erlang_vm_memory_bytes"), "{{node}} used", "A"),
                     target("max without (source) (%s)" % sel("beamprobe_memory_limit_bytes"),
                            "{{node}} limit", "B")],
                    unit="bytes", minimum=0), 12, 8),
        (timeseries("Memory / limit",
                    "Memory use over its limit. The memory check warns at --memory-warn (0.8) and fails at "
                    "--memory-fail (0.9).",
                    [target("sum without (kind) (%s) / max without (source) (%s)"
                            % (sel("erlang_vm_memory_bytes"), sel("beamprobe_memory_limit_bytes")), "{{node}}", "A")],
                    unit="percentunit", steps=((0.8, "yellow"), (0.9, "red")), minimum=0), 12, 8),
    ] + [
        (ratio(resource, used, limit, flag), 6, 8) for resource, used, limit, flag in [
            ("processes", "erlang_vm_processes", "erlang_vm_process_limit", "process"),
            ("atoms", "erlang_vm_atoms", "erlang_vm_atom_limit", "atom"),
            ("ports", "erlang_vm_ports", "erlang_vm_port_limit", "port"),
        ]
    ] + [
        (timeseries("ETS tables",
                    "Number of ETS tables (erlang_vm_memory_ets_tables). No ratio: since OTP 20 the ETS table "
                    "limit (erlang_vm_ets_limit) is not enforced.",
                    [target(sel("erlang_vm_memory_ets_tables"), "{{node}}", "A")], minimum=0), 6, 8),
    ]),
    ("Schedulers", [
        (timeseries("Run queue per scheduler",
                    "Processes and ports ready to run on the normal run queues per online scheduler: the value the "
                    "schedulers check judges (warn at --run-queue-warn 10, fail at --run-queue-fail 50).",
                    [target("(%s - %s) / %s" % (sel("erlang_vm_statistics_run_queues_length"),
                                                sel("erlang_vm_statistics_dirty_cpu_run_queue_length"),
                                                sel("erlang_vm_schedulers_online")), "{{node}}", "A")],
                    steps=((10, "yellow"), (50, "red")), minimum=0), 12, 8),
        (timeseries("Dirty run queues", "Lengths of the dirty CPU and dirty I/O run queues.",
                    [target(sel("erlang_vm_statistics_dirty_cpu_run_queue_length"), "{{node}} dirty CPU", "A"),
                     target(sel("erlang_vm_statistics_dirty_io_run_queue_length"), "{{node}} dirty I/O", "B")],
                    minimum=0), 12, 8),
    ]),
    ("Cluster mesh", [
        (timeseries("Mesh completeness",
                    "Share of each node's peers it is connected to (beamprobe_peer_connected: 1 for a peer in "
                    "nodes(), 0 for an expected peer that is absent). 100% = the node sees every peer.",
                    [target("sum without (peer) (%s) / count without (peer) (%s)"
                            % (sel("beamprobe_peer_connected"), sel("beamprobe_peer_connected")), "{{node}}", "A")],
                    unit="percentunit", minimum=0, maximum=1), 12, 8),
        (timeseries("Connected nodes",
                    "Visible nodes (erlang:nodes(visible)) and hidden nodes other than the probe, per node.",
                    [target(sel("beamprobe_visible_nodes"), "{{node}} visible", "A"),
                     target(sel("beamprobe_hidden_nodes"), "{{node}} hidden", "B")], minimum=0), 12, 8),
    ]),
    ("Probe", [
        (timeseries("Report age",
                    "Time since each node's report was produced, at scrape time (beamprobe_report_age_seconds). "
                    "A growing age means the node's probes do not finish.",
                    [target(sel("beamprobe_report_age_seconds"), "{{node}}", "A")], unit="s", minimum=0), 12, 8),
        (timeseries("Probe duration", "Wall time of the probe behind each report (beamprobe_probe_duration_seconds).",
                    [target(sel("beamprobe_probe_duration_seconds"), "{{node}}", "A")], unit="s", minimum=0), 12, 8),
    ]),
]


def variable(name, label, query):
    return {"type": "query", "name": name, "label": label, "datasource": DS, "query": query,
            "definition": query, "refresh": 2, "multi": True, "includeAll": True, "allValue": ".*",
            "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
            "options": [], "regex": "", "sort": 1, "hide": 0}


def dashboard():
    panels, y, pid = [], 0, 1
    for row_title, row_panels in LAYOUT:
        panels.append({"type": "row", "title": row_title, "id": pid, "collapsed": False, "panels": [],
                       "datasource": DS, "gridPos": {"h": 1, "w": 24, "x": 0, "y": y}})
        pid, y, x, row_h = pid + 1, y + 1, 0, 0
        for panel, w, h in row_panels:
            if x + w > 24:
                x, y, row_h = 0, y + row_h, 0
            panels.append(dict(panel, id=pid, datasource=DS, gridPos={"h": h, "w": w, "x": x, "y": y}))
            pid, x, row_h = pid + 1, x + w, max(row_h, h)
        y += row_h
    return {
        "uid": "beamprobe",
        "title": "beamprobe",
        "description": "Health of Erlang/OTP nodes as probed by `beamprobe serve` (its /metrics, docs/METRICS.md). "
                       "Generated by deploy/grafana/generate.py; edit that, not this file.",
        "tags": ["beamprobe", "erlang", "beam"],
        "editable": True,
        "graphTooltip": 1,
        "schemaVersion": 37,
        "version": 1,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "timepicker": {},
        "timezone": "",
        "fiscalYearStartMonth": 0,
        "liveNow": False,
        "links": [],
        "annotations": {"list": [{"builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"},
                                  "enable": True, "hide": True, "iconColor": "rgba(0, 211, 255, 1)",
                                  "name": "Annotations & Alerts", "type": "dashboard"}]},
        "templating": {"list": [
            {"type": "datasource", "name": "datasource", "label": "Data source", "query": "prometheus",
             "current": {}, "options": [], "refresh": 1, "regex": "", "hide": 0, "includeAll": False,
             "multi": False},
            variable("job", "Job", "label_values(beamprobe_up, job)"),
            variable("node", "Node", 'label_values(beamprobe_up{job=~"$job"}, node)'),
        ]},
        "panels": panels,
    }


def main():
    text = json.dumps(dashboard(), indent=2, sort_keys=False) + "\n"
    if sys.argv[1:] == ["--check"]:
        try:
            with open(OUT, encoding="utf-8") as f:
                same = f.read() == text
        except FileNotFoundError:
            same = False
        if not same:
            print("%s is not what generate.py writes: run python3 %s" % (OUT, sys.argv[0]), file=sys.stderr)
            return 1
        return 0
    if sys.argv[1:]:
        print(__doc__, file=sys.stderr)
        return 2
    with open(OUT, "w", encoding="utf-8") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
