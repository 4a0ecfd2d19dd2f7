#!/usr/bin/env python3
# make_corpus.py: writes the seed corpora test/fuzz/corpus/<target>/ from the unit tests' inputs (run by hand, output committed).
"""Seeds for every fuzz target, taken from the inputs of test/c/test_*.c and test/fixtures:
string literals of the tests (HTTP requests, config JSON, token files, EPMD bodies), the
k8s API stub's JSON fixtures, and the binary messages the tests build (DNS replies, EPMD
and handshake packets, external terms via erl's term_to_binary). Each seed starts with the
target's option byte where the target has one (see the comment at the top of each fuzz_*.c).
Deterministic: running it again rewrites the same files."""
import base64
import os
import re
import shutil
import struct
import subprocess
import sys

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(TOP, "test", "fuzz", "corpus")
ESC = {"n": b"\n", "r": b"\r", "t": b"\t", "\\": b"\\", '"': b'"', "'": b"'", "0": b"\0", "a": b"\a"}


def c_strings(path):
    """Every run of adjacent C string literals in a file, decoded to bytes."""
    src = open(path, encoding="utf-8").read()
    out, i, n = [], 0, len(src)
    cur = None
    while i < n:
        c = src[i]
        if src.startswith("//", i):
            i = src.index("\n", i)
        elif src.startswith("/*", i):
            i = src.index("*/", i) + 2
        elif c == '"':
            i += 1
            buf = bytearray()
            while src[i] != '"':
                if src[i] == "\\":
                    e = src[i + 1]
                    if e == "x":
                        m = re.match(r"[0-9a-fA-F]{1,2}", src[i + 2:])
                        buf.append(int(m.group(0), 16))
                        i += 2 + len(m.group(0))
                        continue
                    if e in "01234567":
                        m = re.match(r"[0-7]{1,3}", src[i + 1:])
                        buf.append(int(m.group(0), 8))
                        i += 1 + len(m.group(0))
                        continue
                    buf += ESC.get(e, e.encode())
                    i += 2
                else:
                    buf += src[i].encode()
                    i += 1
            i += 1
            cur = (cur or b"") + bytes(buf)
        elif c in " \t\n" and cur is not None:
            i += 1
        elif c == "'":  # a character literal: skip it
            i = src.index("'", i + 3 if src[i + 1] == "\\" else i + 2) + 1
        else:
            if cur is not None:
                out.append(cur)
                cur = None
            i += 1
    return out


def write(target, seeds):
    d = os.path.join(OUT, target)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    seen = set()
    k = 0
    for s in seeds:
        if s in seen or len(s) > 4096:
            continue
        seen.add(s)
        with open(os.path.join(d, "seed-%03d" % k), "wb") as f:
            f.write(s)
        k += 1
    print("%-10s %d seeds" % (target, k))


def test(name):
    return os.path.join(TOP, "test", "c", name)


# ---------- HTTP: the requests of test_http_parse.c ----------
def http():
    reqs = [s for s in c_strings(test("test_http_parse.c")) if b" HTTP/" in s or b"\r\n" in s]
    # option byte: max_head 8 KiB (7) and a cut at the middle (15 << 3)
    return [bytes([7 | (15 << 3)]) + r for r in reqs] + [bytes([3 | (31 << 3)]) + reqs[0]]


# ---------- EPMD: NAMES bodies and PORT2_RESP replies ----------
def epmd():
    bodies = [s for s in c_strings(test("test_connect.c")) if s.startswith(b"name ")]
    seeds = [b"\x08" + b for b in bodies]
    seeds += [bytes([119, 0, 0x9c, 0x40, 77, 0, 0, 6, 0, 5, 0, 4]) + b"node" + b"\0\0", bytes([119, 1]),
              b"HTTP", bytes([119, 0, 0, 0])]
    return seeds


# ---------- handshake: status, challenge ('N' and old 'n'), ack ----------
def pkt(body, header=2):
    return (struct.pack(">H", len(body)) if header == 2 else struct.pack(">I", len(body))) + body


def challenge_n(name, flags=0x7FFFFFFF):
    return b"N" + struct.pack(">QIIH", flags, 0x42424242, 0, len(name)) + name


def handshake():
    name = b"node@127.0.0.1"
    ack = pkt(b"a" + b"\x13" * 16)
    seeds = []
    for flags in (0, 2):  # 2: the harness writes the right digest into the ack
        seeds.append(bytes([flags]) + pkt(b"sok") + pkt(challenge_n(name)) + ack)
    seeds.append(b"\x01" + pkt(b"sok", 4) + pkt(challenge_n(name), 4) + pkt(b"a" + b"\0" * 16, 4))
    seeds.append(b"\x00" + pkt(b"sok") + pkt(b"n" + struct.pack(">HII", 5, 0x3FFFF, 7) + name))
    for st in (b"snok", b"snot_allowed", b"salive", b"sok_simultaneous", b"snamed:"):
        seeds.append(b"\x00" + pkt(st))
    return seeds


# ---------- DNS replies, as test_discover.c builds them ----------
def dname(name):
    if name is None:
        return struct.pack(">H", 0xC00C)
    out = b""
    for label in name.split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def header(mid, flags, an):
    return struct.pack(">HHHHHH", mid, flags, 1, an, 0, 0)


def question(name, qtype):
    return dname(name) + struct.pack(">HH", qtype, 1)


def rr(owner, qtype, rdata):
    return dname(owner) + struct.pack(">HHIH", qtype, 1, 30, len(rdata)) + rdata


def a(owner, ip):
    return rr(owner, 1, bytes(int(x) for x in ip.split(".")))


def dns():
    A, PTR, RESP = 0, 1, 0x8180
    app, rev = "app.ns.svc", "1.0.0.10.in-addr.arpa"
    seeds = [
        bytes([A | (8 << 1)]) + header(7, RESP, 6) + question(app, 1) + rr(None, 5, dname("real.ns.svc"))
        + a("real.ns.svc", "10.0.0.2") + a("REAL.ns.svc", "10.0.0.1") + a("real.ns.svc", "10.0.0.2")
        + a("elsewhere.example", "192.0.2.1") + a(None, "10.0.0.3"),
        bytes([A | (2 << 1)]) + header(9, RESP | 3, 0) + question(app, 1),
        bytes([A | (2 << 1)]) + header(9, RESP | 2, 0) + question(app, 1),
        bytes([A | (2 << 1)]) + header(9, RESP, 0) + question(app, 1),
        bytes([A]) + header(9, RESP | 0x0200, 0),
        bytes([A | (8 << 1)]) + header(5, RESP, 1) + question(app, 1) + dname(None) + struct.pack(">HHIH", 1, 1, 0, 5)
        + b"\1" * 5,
        bytes([A | (8 << 1)]) + header(5, RESP, 1) + question(app, 1) + struct.pack(">HHHHHHHH", 0xC000 | 28, 1, 1,
                                                                                    0, 0, 4, 0, 0),
        bytes([PTR | 0x20]) + header(11, RESP, 1) + question(rev, 12) + rr(None, 12, dname("app-0.app.ns.svc.cluster.local")),
        bytes([PTR | (4 << 1)]) + header(11, RESP, 1) + question(rev, 12) + rr(None, 12, b"\3a.b\0"),
        bytes([A | (15 << 1)]) + header(12, RESP, 20) + question(app, 1)
        + b"".join(a(None, "10.1.0.%d" % (i + 1)) for i in range(20)),
    ]
    return seeds


# ---------- Kubernetes: the API stub's fixtures, the tests' bodies, tokens ----------
def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=")


def token(sub):
    head = b64url(b'{"alg":"RS256","kid":"test"}')
    claims = (b'{"aud":["https://kubernetes.default.svc"],"exp":4102444800,"iss":"https://kubernetes.default.svc",'
              b'"kubernetes.io":{"namespace":"prod","serviceaccount":{"name":"beamprobe"}},"sub":"' + sub + b'"}')
    return head + b"." + b64url(claims) + b".c2lnbmF0dXJlLW5vdC1jaGVja2Vk"


def k8s():
    fx = os.path.join(TOP, "test", "fixtures", "k8s_api_stub")
    seeds = []
    for f in sorted(os.listdir(fx)):
        if f.endswith(".json"):
            body = open(os.path.join(fx, f), "rb").read()
            mode = 1 if "slices" in f else 0
            seeds += [bytes([mode]) + body, bytes([mode | 4]) + body, bytes([mode | 8]) + body]
    for s in c_strings(test("test_discover.c")):
        if s.startswith(b"{") and b"kind" in s or s.startswith(b'{"subsets"'):
            seeds.append(bytes([1 if b"Slice" in s else 0]) + s)
    seeds += [bytes([2]) + token(b"system:serviceaccount:prod:beamprobe"), bytes([2]) + b"opaque-token",
              bytes([2]) + b"a.!!!.c", bytes([2]) + token(b"bad\\u0001sub"), bytes([2 | (3 << 2)]) + token(b"x")]
    return seeds


# ---------- configuration JSON ----------
def config():
    return [s for s in c_strings(test("test_config_file.c")) if s[:1] in (b"{", b"[")]


# ---------- cookie and token files ----------
def secret():
    seeds = [s for s in c_strings(test("test_token_file.c")) if 0 < len(s) < 64 and b"%" not in s
             and not s.startswith(b"/")]
    seeds += [b"S3CRET  \nsecond line\n", b"TOPSECRETVALUE\n", b"\n", b"HOMECOOKIE", b"A" * 300, b" x\n",
              b"A" * 255 + b"\n"]
    return seeds


# ---------- external terms: erl's term_to_binary of terms like the tests' ----------
TERMS = r"""[ok, {error, badarg}, 42, -1, 16#7fffffff, -16#80000000, 1 bsl 64, -(1 bsl 70), 3.14, -0.0,
 "string", [1, 2 | 3], [], <<"bin">>, <<1:3>>, #{a => 1, "k" => [x]}, {}, self(), make_ref(),
 hd(erlang:ports()), fun erlang:node/0, 'atom_with_ünïcode', [{a, 1}, {b, [{c, 2}]}],
 {reply, {ok, [{memory, 123456}, {process_count, 42}, {run_queue, 0}]}},
 {rex, {badrpc, {'EXIT', {undef, [{m, f, [], []}]}}}}, lists:seq(1, 300), list_to_binary(lists:seq(0, 255))]"""


def term():
    erl = shutil.which("erl")
    if not erl:
        sys.exit("make_corpus: erl is needed for the term seeds")
    code = ("Ts = %s, lists:foreach(fun(T) -> B = term_to_binary(T), "
            "io:format(\"~s~n\", [binary:encode_hex(B)]) end, Ts), "
            "io:format(\"~s~n\", [binary:encode_hex(term_to_binary(Ts, [compressed]))]), halt()." % TERMS)
    out = subprocess.run([erl, "-noshell", "-eval", code], check=True, capture_output=True, text=True).stdout
    seeds = []
    for line in out.split():
        b = bytes.fromhex(line)
        seeds += [b"\x01" + b, b"\x00" + b[1:]]  # versioned, and unversioned (no 131)
    seeds.append(b"\x02" + b"\x00".join(bytes.fromhex(l)[1:] for l in out.split()[:4]))
    return seeds


def main():
    for name, fn in (("http", http), ("epmd", epmd), ("handshake", handshake), ("dns", dns), ("k8s", k8s),
                     ("config", config), ("secret", secret), ("term", term)):
        write(name, fn())


if __name__ == "__main__":
    main()
