#!/usr/bin/env python3
# hub.py: a userspace Ethernet hub with netem-like faults (delay, loss, reordering) per port, for make chaos.
"""Userspace Ethernet hub with per-port faults (this machine's kernel has no sch_netem).

  hub.py serve CTL_SOCKET IFACE...        forward frames between the interfaces (run in the hub
                                          namespace; each IFACE is the hub end of a veth pair)
  hub.py ctl CTL_SOCKET IFACE clear       no fault on frames coming in from IFACE
  hub.py ctl CTL_SOCKET IFACE [delay=MS] [loss=PCT] [reorder=PCT]
                                          faults on the frames coming in from IFACE, i.e. what
                                          `tc qdisc add dev eth0 root netem delay MS loss PCT
                                          reorder PCT` does on the other end of that veth: each
                                          frame is dropped with probability loss, else held for
                                          delay ms, except (reorder) a share sent at once
  hub.py ctl CTL_SOCKET IFACE stats       frames forwarded, dropped and held from IFACE

Frames are forwarded by learned source MAC (flooded while unknown). The veths must have their
offloads off (ethtool -K DEV tx off sg off tso off gso off gro off): frames are read and written
whole, as on the wire.
"""
import heapq
import os
import random
import select
import socket
import sys
import time

ETH_P_ALL = 3
PACKET_OUTGOING = 4


def parse_fault(args):
    fault = {"delay": 0.0, "loss": 0.0, "reorder": 0.0}
    for arg in args:
        if arg == "clear":
            continue
        key, _, value = arg.partition("=")
        if key not in fault:
            raise ValueError("unknown fault " + key)
        fault[key] = float(value)
    return fault


class Hub:
    def __init__(self, ctl_path, ifaces):
        self.ifaces = ifaces
        self.socks = {}
        self.byname = {}
        for name in ifaces:
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
            s.bind((name, 0))
            s.setblocking(False)
            self.socks[s.fileno()] = (name, s)
            self.byname[name] = s
        self.faults = {name: parse_fault([]) for name in ifaces}
        self.stats = {name: {"fwd": 0, "drop": 0, "held": 0} for name in ifaces}
        self.macs = {}
        self.queue = []
        self.seq = 0
        self.rnd = random.Random(int(os.environ.get("BP_CHAOS_SEED", "15")))
        self.ctl = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.ctl.bind(ctl_path)
        self.ctl.listen(8)

    def send(self, outs, frame):
        for name in outs:
            try:
                self.byname[name].send(frame)
            except OSError:
                pass  # a full or vanished interface: the frame is lost, as on a wire

    def receive(self, name, s):
        while True:
            try:
                frame, addr = s.recvfrom(65535)
            except BlockingIOError:
                return
            if addr[2] == PACKET_OUTGOING or len(frame) < 14:
                continue
            dst, src = frame[0:6], frame[6:12]
            self.macs[src] = name
            known = self.macs.get(dst)
            if known == name:
                continue
            outs = [known] if known else [n for n in self.ifaces if n != name]
            fault, st = self.faults[name], self.stats[name]
            if fault["loss"] and self.rnd.random() * 100 < fault["loss"]:
                st["drop"] += 1
                continue
            delay = fault["delay"]
            if fault["reorder"] and self.rnd.random() * 100 < fault["reorder"]:
                delay = 0.0
            st["fwd"] += 1
            if delay <= 0:
                self.send(outs, frame)
            else:
                st["held"] += 1
                self.seq += 1
                heapq.heappush(self.queue, (time.monotonic() + delay / 1000.0, self.seq, outs, frame))

    def command(self):
        conn, _ = self.ctl.accept()
        with conn:
            conn.settimeout(2)
            words = conn.recv(4096).decode().split()
            try:
                name, rest = words[0], words[1:]
                if name not in self.faults:
                    raise ValueError("no interface " + name)
                if rest == ["stats"]:
                    reply = "ok " + " ".join("%s=%d" % kv for kv in self.stats[name].items())
                else:
                    self.faults[name] = parse_fault(rest)
                    reply = "ok"
            except (ValueError, IndexError) as e:
                reply = "error " + str(e)
            conn.sendall((reply + "\n").encode())

    def run(self):
        fds = list(self.socks) + [self.ctl.fileno()]
        while True:
            timeout = None
            if self.queue:
                timeout = max(0.0, self.queue[0][0] - time.monotonic())
            ready, _, _ = select.select(fds, [], [], timeout)
            for fd in ready:
                if fd == self.ctl.fileno():
                    self.command()
                else:
                    self.receive(*self.socks[fd])
            now = time.monotonic()
            while self.queue and self.queue[0][0] <= now:
                _, _, outs, frame = heapq.heappop(self.queue)
                self.send(outs, frame)


def ctl(path, args):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(path)
    s.sendall(" ".join(args).encode())
    reply = s.recv(4096).decode().strip()
    print(reply)
    return 0 if reply.startswith("ok") else 1


def main(argv):
    if len(argv) >= 3 and argv[0] == "serve":
        Hub(argv[1], argv[2:]).run()
        return 0
    if len(argv) >= 3 and argv[0] == "ctl":
        return ctl(argv[1], argv[2:])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
