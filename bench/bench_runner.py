# Measurement and statistics helper for bench_check.sh: interleaved timed runs, tables, syscall/packet round-trip counts.
"""
Subcommands (all output is markdown or JSON; bench_check.sh drives them):

  run    --commands FILE --rounds N [...]   interleaved rounds over the contenders in FILE,
                                            per-probe wall time, CPU, peak RSS, target cost
  table  --json FILE [--ratios|--brief|--delay MS]
                                            markdown table (and ratios) from a `run` result
  strace --trace FILE --port P               write/read bursts on the distribution socket
  pcap   --text FILE --port P                data segments and bursts of the probe's TCP connection

Commands file: `#name ID<TAB>title` lines declare contenders in table order; every other
non-empty line is `ID<TAB>STDIN<TAB>COMMAND`, one program invocation of contender ID
(several lines = several invocations per probe, run back to back).  COMMAND is shell words
(as printed by bash's printf %q), optionally starting with VAR=value words added to the
environment; STDIN is a file name or `-` for /dev/null.
"""
import argparse
import glob
import json
import math
import os
import re
import shlex
import statistics
import subprocess
import sys
import time


def parse_commands(path):
    names, steps = [], {}
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip():
                continue
            if line.startswith("#name "):
                cid, title = line[6:].split("\t", 1)
                names.append((cid, title))
                steps.setdefault(cid, [])
                continue
            cid, stdin, cmd = line.split("\t", 2)
            words = shlex.split(cmd)
            env = {}
            while words and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[0]):
                k, v = words.pop(0).split("=", 1)
                env[k] = v
            if not words:
                sys.exit(f"bench_runner: empty command for {cid}")
            steps.setdefault(cid, []).append({"argv": words, "env": env,
                                              "stdin": "/dev/null" if stdin == "-" else stdin})
    for cid, _ in names:
        if not steps.get(cid):
            sys.exit(f"bench_runner: contender {cid} has no command")
    return names, steps


def target_cpu_ns(pid):
    """CPU time of every thread of the target BEAM, in ns (schedstat is exact, not tick-sampled)."""
    if not pid:
        return 0
    total = 0
    for p in glob.glob(f"/proc/{pid}/task/*/schedstat"):
        try:
            with open(p) as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass  # a thread that just exited
    return total


def run_step(step, base_env, timeout_s, capture, measure, result):
    """Runs one invocation under the measure helper; returns (wall_ns, cpu_ns, maxrss_kib, status, output)."""
    env = dict(base_env)
    env.update(step["env"])
    argv = [measure, str(int(timeout_s * 1000)), result] + step["argv"]
    out_path = capture if capture else "/dev/null"
    fa = [(os.POSIX_SPAWN_OPEN, 0, step["stdin"], os.O_RDONLY, 0),
          (os.POSIX_SPAWN_OPEN, 1, out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
          (os.POSIX_SPAWN_DUP2, 1, 2)]
    pid = os.posix_spawn(measure, argv, env, file_actions=fa)
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"bench_runner: the measure helper failed ({status}) for {shlex.join(step['argv'])}")
    with open(result) as f:
        wall, cpu, rss, st = f.read().split()
    out = ""
    if capture:
        with open(capture, errors="replace") as f:
            out = f.read()
    return int(wall), int(cpu), int(rss), (int(st) if st.lstrip("-").isdigit() else st), out


def read_atoms(cmd, env):
    r = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30)
    try:
        return int(json.loads(r.stdout)["metrics"]["atom_count"])
    except (ValueError, KeyError, TypeError):
        sys.exit(f"bench_runner: could not read atom_count (exit {r.returncode}): {r.stderr.strip()[:400]}")


def pct(sorted_vals, p):
    """Nearest-rank percentile."""
    if not sorted_vals:
        return float("nan")
    k = max(1, math.ceil(p / 100.0 * len(sorted_vals)))
    return sorted_vals[k - 1]


def cmd_run(a):
    names, steps = parse_commands(a.commands)
    ids = [c for c, _ in names]
    env = dict(os.environ)
    atoms_cmd = shlex.split(a.atoms_cmd) if a.atoms_cmd else None
    capture = os.path.join(a.tmpdir, "step.out")
    result_path = os.path.join(a.tmpdir, "step.result")
    settle = a.settle_ms / 1000.0
    samples = []  # dicts
    log = open(a.log, "a") if a.log else None

    def fail(cid, step, rc, out):
        msg = (f"bench_runner: contender {cid} failed (exit {rc}): {shlex.join(step['argv'])}\n"
               f"{out.strip()[:2000]}")
        sys.exit(msg)

    total_rounds = a.warmup + a.rounds
    atoms = read_atoms(atoms_cmd, env) if atoms_cmd else None
    t_start = time.time()
    for r in range(total_rounds):
        warm = r < a.warmup
        k = r % len(ids)
        order = ids[k:] + ids[:k]  # rotate so no contender always follows the same one
        for cid in order:
            wall = cpu = 0
            rss = 0
            c0 = target_cpu_ns(a.target_pid)
            for step in steps[cid]:
                w, c, m, rc, out = run_step(step, env, a.timeout, capture if warm else None, a.measure, result_path)
                if rc != 0 or (warm and "badrpc" in out):
                    if not warm:  # rerun once with output captured, to say why
                        _, _, _, _, out = run_step(step, env, a.timeout, capture, a.measure, result_path)
                    fail(cid, step, rc, out)
                if warm and log:
                    log.write(f"--- {cid}: {shlex.join(step['argv'])}\n{out.strip()[:1500]}\n")
                wall += w
                cpu += c
                rss = max(rss, m)
            if settle:
                time.sleep(settle)  # let the target's schedulers stop spinning before reading its CPU
            c1 = target_cpu_ns(a.target_pid)
            after = read_atoms(atoms_cmd, env) if atoms_cmd else None
            if not warm:
                samples.append({"round": r - a.warmup, "id": cid, "wall_ns": wall, "cpu_ns": cpu,
                                "rss_kib": rss, "target_cpu_ns": c1 - c0,
                                "atoms": (after - atoms) if atoms_cmd else None})
            atoms = after
            if settle and atoms_cmd:
                time.sleep(settle)  # the atom read's own target work stays out of the next window
        if not a.quiet and (r + 1) % max(1, total_rounds // 10) == 0:
            print(f"bench_runner: round {r + 1}/{total_rounds} ({time.time() - t_start:.0f} s)", file=sys.stderr)
    if log:
        log.close()

    result = {"rounds": a.rounds, "warmup": a.warmup, "contenders": []}
    for cid, title in names:
        ss = [s for s in samples if s["id"] == cid]
        walls = sorted(s["wall_ns"] / 1e6 for s in ss)
        cpus = [s["cpu_ns"] / 1e6 for s in ss]
        rss = sorted(s["rss_kib"] for s in ss)
        tcpu = [s["target_cpu_ns"] / 1e6 for s in ss]
        atom_total = sum(s["atoms"] for s in ss) if atoms_cmd else None
        result["contenders"].append({
            "id": cid, "title": title, "calls_per_probe": len(steps[cid]), "n": len(ss),
            "wall_median_ms": statistics.median(walls), "wall_p90_ms": pct(walls, 90),
            "wall_min_ms": walls[0], "wall_max_ms": walls[-1], "wall_mean_ms": statistics.fmean(walls),
            "cpu_mean_ms": statistics.fmean(cpus), "cpu_median_ms": statistics.median(cpus),
            "rss_median_kib": statistics.median(rss), "rss_max_kib": rss[-1],
            "target_cpu_mean_ms": statistics.fmean(tcpu),
            "atoms_total": atom_total,
            "atoms_per_100": (atom_total * 100.0 / len(ss)) if atoms_cmd else None,
        })
    if a.samples_csv:
        with open(a.samples_csv, "w") as f:
            f.write("round,contender,wall_ms,cpu_ms,peak_rss_kib,target_cpu_ms,target_atoms_delta\n")
            for s in samples:
                f.write(f"{s['round']},{s['id']},{s['wall_ns'] / 1e6:.3f},{s['cpu_ns'] / 1e6:.3f},"
                        f"{s['rss_kib']},{s['target_cpu_ns'] / 1e6:.3f},"
                        f"{'' if s['atoms'] is None else s['atoms']}\n")
    with open(a.out_json, "w") as f:
        json.dump(result, f, indent=1)


def fmt(x, nd=1):
    if x is None:
        return "n/a"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:.{nd}f}"


def cmd_table(a):
    res = json.load(open(a.json))
    cs = {c["id"]: c for c in res["contenders"]}
    if a.delay:
        rtt = 2 * a.delay
        print(f"| contender | calls | median, no delay (ms) | median, +{a.delay:g} ms each way (ms) "
              f"| added (ms) | added / RTT ({rtt:g} ms) |")
        print("|---|---:|---:|---:|---:|---:|")
        for cid, c in cs.items():
            if cid.endswith("0"):
                d = cs.get(cid[:-1] + "1")
                if not d:
                    continue
                added = d["wall_median_ms"] - c["wall_median_ms"]
                print(f"| {c['title']} | {c['calls_per_probe']} | {fmt(c['wall_median_ms'])} "
                      f"| {fmt(d['wall_median_ms'])} | {fmt(added)} | {added / rtt:.1f} |")
        return
    if a.brief:
        print("| variant | median wall (ms) | p90 wall (ms) | CPU user+sys (ms) | target CPU (ms) |")
        print("|---|---:|---:|---:|---:|")
        for c in res["contenders"]:
            print(f"| {c['title']} | {fmt(c['wall_median_ms'], 2)} | {fmt(c['wall_p90_ms'], 2)} "
                  f"| {fmt(c['cpu_mean_ms'], 2)} | {fmt(c['target_cpu_mean_ms'], 2)} |")
        return
    print("| contender | programs run per probe | median wall (ms) | p90 wall (ms) "
          "| CPU user+sys per probe (ms) | peak RSS (KiB) | target CPU per probe (ms) "
          "| target atoms per 100 probes |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for c in res["contenders"]:
        atoms = "n/a" if c["atoms_per_100"] is None else f"{c['atoms_per_100']:+.0f}" \
            if c["atoms_per_100"] else "0"
        print(f"| {c['id']}. {c['title']} | {c['calls_per_probe']} | {fmt(c['wall_median_ms'], 2)} "
              f"| {fmt(c['wall_p90_ms'], 2)} | {fmt(c['cpu_mean_ms'], 2)} | {c['rss_median_kib']:,.0f} "
              f"| {fmt(c['target_cpu_mean_ms'], 2)} | {atoms} |")
    if a.ratios and all(k in cs for k in "ABCD"):
        A, B, C, D = (cs[k] for k in "ABCD")
        print()
        print(f"- A's median wall / B's: **{A['wall_median_ms'] / B['wall_median_ms']:.2f}x** "
              f"(target: within 1.3x); A's p90 / B's p90: {A['wall_p90_ms'] / B['wall_p90_ms']:.2f}x")
        print(f"- D's CPU / A's CPU: **{D['cpu_mean_ms'] / A['cpu_mean_ms']:.0f}x** less CPU for A "
              f"(target: at least 100x); B's CPU / A's: {B['cpu_mean_ms'] / A['cpu_mean_ms']:.2f}x")
        print(f"- target CPU per probe, A / B (erl_call one fact): **{A['target_cpu_mean_ms'] / B['target_cpu_mean_ms']:.2f}x**; "
              f"C / A: {C['target_cpu_mean_ms'] / A['target_cpu_mean_ms']:.1f}x")
        print(f"- C's median wall / A's: {C['wall_median_ms'] / A['wall_median_ms']:.1f}x; "
              f"C's CPU / A's: {C['cpu_mean_ms'] / A['cpu_mean_ms']:.1f}x; "
              f"D's median wall / A's: {D['wall_median_ms'] / A['wall_median_ms']:.0f}x")
        if "M" in cs:
            M = cs["M"]
            print(f"- A (one round) against M (the same checks, --plan multi-round): median wall "
                  f"{A['wall_median_ms'] / M['wall_median_ms']:.2f}x, CPU {A['cpu_mean_ms'] / M['cpu_mean_ms']:.2f}x, "
                  f"target CPU {A['target_cpu_mean_ms'] / M['target_cpu_mean_ms']:.2f}x; "
                  f"M's median wall / B's: {M['wall_median_ms'] / B['wall_median_ms']:.2f}x")


def bursts(events):
    """Collapses a list of 'W'/'R' into runs: ['W', 'R', 'W', ...]."""
    out = []
    for e in events:
        if not out or out[-1] != e:
            out.append(e)
    return out


def report_bursts(label, seq, sent="writes", received="reads"):
    b = bursts(seq)
    writes = b.count("W")
    after = max(0, writes - 2)
    print(f"{label}: {seq.count('W')} {sent} / {seq.count('R')} {received}; "
          f"sequence (W = probe sends, R = node sends): {' '.join(b)}; "
          f"send bursts: {writes} = 2 handshake + {after} after the handshake")
    return after


def cmd_strace(a):
    port = a.port
    sock = re.compile(r"(\w+)\(\d+<TCP:\[[0-9.]+:\d+->[0-9.]+:%d\]>" % port)
    seq, nw, nbytes = [], 0, 0
    for line in open(a.trace):
        m = sock.search(line)
        if not m or "= -1" in line:
            continue
        call = m.group(1)
        ret = re.search(r"= (\d+)\s*$", line)
        if call in ("write", "writev", "sendto", "sendmsg"):
            seq.append("W")
            nw += 1
            if ret and len(seq) > 0:
                nbytes += int(ret.group(1))
        elif call in ("read", "readv", "recvfrom", "recvmsg"):
            if ret and int(ret.group(1)) > 0:
                seq.append("R")
    if not seq:
        sys.exit(f"bench_runner: no traffic to port {port} in {a.trace}")
    after = report_bursts(a.label, seq, "writes", "non-empty reads on the distribution socket")
    if a.expect is not None and after != a.expect:
        print(f"  (MISMATCH: beamprobe's JSON says {a.expect} round trips)")


def cmd_pcap(a):
    # tcpdump -nn -r: "... IP 127.0.0.1.38672 > 127.0.0.1.40079: Flags [P.], seq 1:32, ack 1, ..., length 31"
    pat = re.compile(r"IP ([0-9.]+)\.(\d+) > ([0-9.]+)\.(\d+): Flags \[([^\]]*)\].*length (\d+)")
    conns = {}
    order = []
    for line in open(a.text):
        m = pat.search(line)
        if not m:
            continue
        sport, dport, flags, ln = int(m.group(2)), int(m.group(4)), m.group(5), int(m.group(6))
        if dport == a.port:
            key, d = sport, "W"
        elif sport == a.port:
            key, d = dport, "R"
        else:
            continue
        if key not in conns:
            conns[key] = {"syn": False, "seq": [], "pkts": 0}
            order.append(key)
        c = conns[key]
        c["pkts"] += 1
        if d == "W" and "S" in flags:
            c["syn"] = True
        if ln > 0:
            c["seq"].append(d)
    probe = [k for k in order if conns[k]["syn"]]
    if len(probe) != 1:
        sys.exit(f"bench_runner: expected one new connection to port {a.port} in the capture, saw {len(probe)}")
    c = conns[probe[0]]
    print(f"{a.label}: {c['pkts']} packets on the probe's TCP connection (handshake, data, ACKs, FIN)")
    report_bursts(a.label, c["seq"], "data segments sent", "received")


def main():
    ap = argparse.ArgumentParser(description="bench_check.sh helper")
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--commands", required=True)
    r.add_argument("--rounds", type=int, required=True)
    r.add_argument("--warmup", type=int, default=2)
    r.add_argument("--atoms-cmd", help="command printing beamprobe --json of the target")
    r.add_argument("--target-pid", type=int, default=0)
    r.add_argument("--settle-ms", type=float, default=10.0)
    r.add_argument("--timeout", type=float, default=60.0, help="per invocation, seconds")
    r.add_argument("--tmpdir", required=True)
    r.add_argument("--measure", required=True, help="the compiled bench/measure.c")
    r.add_argument("--out-json", required=True)
    r.add_argument("--samples-csv")
    r.add_argument("--log")
    r.add_argument("--quiet", action="store_true")
    t = sub.add_parser("table")
    t.add_argument("--json", required=True)
    t.add_argument("--ratios", action="store_true")
    t.add_argument("--brief", action="store_true", help="wall, CPU and target CPU only")
    t.add_argument("--delay", type=float, help="one-way delay (ms): print the delay table")
    s = sub.add_parser("strace")
    s.add_argument("--trace", required=True)
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--label", default="probe")
    s.add_argument("--expect", type=int)
    p = sub.add_parser("pcap")
    p.add_argument("--text", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--label", default="probe")
    a = ap.parse_args()
    {"run": cmd_run, "table": cmd_table, "strace": cmd_strace, "pcap": cmd_pcap}[a.cmd](a)


if __name__ == "__main__":
    main()
