#!/usr/bin/python3
# SPDX-License-Identifier: MIT OR Apache-2.0
"""Random-payload flows, bare and in every encapsulation pktspec opens: none
may be named (issue 14: "random bytes get named").

Generates N flows of random payload into a pcap, with a seeded PRNG (the same
seed and count give the same bytes), and with --check replays it with
`pktspec replay --json` and asserts that no flow carried in it got a decided
verdict: confidence none or port (a port guess is undecided) is all a random
flow may have. The replay's "decided" flag is not the test: it also marks a
flow whose 4 payload packets each way used up the inspection budget with no
name. Only the tunnels' own outer flows (vxlan, gre, ...) are named, by their
headers, which are real.

Each flow draws:
  L4          TCP or UDP
  server port a port the project guesses (include/pktspec/ports.def, and the
              ports the signatures in bpf/sig/ test), or a random one (not a
              tunnel's UDP port)
  TCP shape   a handshake (SYN, SYN-ACK, ACK) before the payload, or picked
              up mid-stream (no SYN seen)
  payload     1-4 packets per direction (4: all the kernel inspects,
              PKS_INSPECT_MAX, so RTP's three-packet rule meets two triples),
              random bytes, 1-1400 each (40 % of them 1-64, 30 % 65-300,
              30 % 301-1400), either side first
  family      IPv4 or IPv6
  carrier     bare (half of the flows), or one of: PPPoE, MPLS (1-2 labels),
              GRE (keyed), gretap, ERSPAN II, ERSPAN III, VXLAN, Geneve,
              IP in IP (IPIP, 6in4, 4in6, 6in6 by the families), GTP-U;
              the outer family is drawn too
Headers are built with struct (scapy is too slow for 100,000 flows); TCP and
UDP checksums are zero (the classifier does not read them).

Usage: make-random-flows.py [--seed N] [--flows N] [--out FILE]
                            [--check PKTSPEC] [--plant I] [--max-report N]
  --seed   PRNG seed (default: a fresh one, printed)
  --flows  flows to generate (default 20000)
  --out    the pcap (default: a temporary file, removed after --check)
  --check  replay the pcap with this pktspec binary and check it; prints
           PASS:/FAIL: lines (tests/run) and exits 1 on a named flow
  --plant  the check's own test: flow I carries a real HTTP request instead
           of random bytes, and the check passes only if it names exactly
           that flow (http) and nothing else
Exit: 0 ok, 1 failure, 2 usage.

tools/accuracy.py imports run() for the larger set `make accuracy` runs.
"""
import argparse
import collections
import importlib.util
import ipaddress
import json
import os
import random
import re
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))

# Inner endpoints: a client and a server address per flow, from the flow's
# index; tunnel endpoints apart, so a flow is the tunnel's own or carried.
INNER4_C, INNER4_S = int(ipaddress.IPv4Address("198.18.0.0")), int(ipaddress.IPv4Address("198.19.0.0"))
INNER6_C = int(ipaddress.IPv6Address("2001:db8:1::"))
INNER6_S = int(ipaddress.IPv6Address("2001:db8:2::"))
TUN4 = (ipaddress.IPv4Address("198.19.255.1").packed, ipaddress.IPv4Address("198.19.255.2").packed)
TUN6 = (ipaddress.IPv6Address("2001:db8:ffff::1").packed, ipaddress.IPv6Address("2001:db8:ffff::2").packed)
MAC_C, MAC_S = bytes.fromhex("020000000101"), bytes.fromhex("020000000102")
TUNNEL_UDP_PORTS = {4789, 6081, 2152}
CARRIERS = ["pppoe", "mpls", "gre", "gretap", "erspan2", "erspan3", "vxlan", "geneve", "ipip", "gtpu"]
# The tunnels' own flows are named by their headers; nothing else may be.
TUNNEL_PROTOS = {"gre", "vxlan", "geneve", "ipip", "gtp-u"}


def _negative_helpers():
    """make-negative.py's well_known_ports() (one list of the guessed ports)."""
    spec = importlib.util.spec_from_file_location("make_negative", os.path.join(HERE, "make-negative.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def guessed_ports():
    """Every port the project guesses (ports.def) or a signature tests."""
    known = _negative_helpers().well_known_ports()
    extra = set()
    sig = os.path.join(ROOT, "bpf", "sig")
    for name in os.listdir(sig):
        if name.endswith(".h"):
            with open(os.path.join(sig, name)) as f:
                for m in re.finditer(r"port\s*[!=<>]=?\s*(\d{2,5})\b", f.read()):
                    extra.add(int(m.group(1)))
    extra = {p for p in extra if 20 <= p <= 65535} - TUNNEL_UDP_PORTS
    return {"TCP": sorted(set(known["TCP"]) | extra), "UDP": sorted(set(known["UDP"]) | extra)}


# ---- headers ------------------------------------------------------------

def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def eth(etype, body, fwd=True):
    return (MAC_S + MAC_C if fwd else MAC_C + MAC_S) + struct.pack("!H", etype) + body


def ipv4(src, dst, proto, body):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(body), 0, 0x4000, 64, proto, 0, src, dst)
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + body


def ipv6(src, dst, nh, body):
    return struct.pack("!IHBB16s16s", 6 << 28, len(body), nh, 64, src, dst) + body


def ip(v6, src, dst, proto, body):
    return ipv6(src, dst, proto, body) if v6 else ipv4(src, dst, proto, body)


def tcp(sport, dport, seq, ack, flags, body=b""):
    return struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 5 << 4, flags,
                       65535, 0, 0) + body


def udp(sport, dport, body):
    return struct.pack("!HHHH", sport, dport, 8 + len(body), 0) + body


FIN, SYN, RST, PSH, ACK = 1, 2, 4, 8, 16


# ---- carriers: an inner IP packet (family v6) into an Ethernet frame -------

class Carrier:
    def __init__(self, rng, kind):
        self.rng, self.kind = rng, kind
        self.outer6 = rng.random() < 0.5
        self.id = rng.randint(1, 0xFFFFFF)
        self.seq = 0

    def outer_ip(self, fwd, proto, body):
        a, b = TUN6 if self.outer6 else TUN4
        src, dst = (a, b) if fwd else (b, a)
        return eth(0x86DD if self.outer6 else 0x0800, ip(self.outer6, src, dst, proto, body), fwd)

    def outer_udp(self, fwd, port, body):
        # The tunnel's source port is fixed per kind: one outer flow each way.
        return self.outer_ip(fwd, 17, udp(50000 + port % 1000, port, body))

    def gre(self, fwd, ptype, body, seq=False):
        flags = 0x2000 | (0x1000 if seq else 0)  # K, S (RFC 2890)
        self.seq += 1
        h = struct.pack("!HHI", flags, ptype, self.id)
        if seq:
            h += struct.pack("!I", self.seq)
        return self.outer_ip(fwd, 47, h + body)

    def wrap(self, v6, fwd, inner):
        et = 0x86DD if v6 else 0x0800
        k = self.kind
        if k == "bare":
            return eth(et, inner, fwd)
        if k == "pppoe":
            ppp = b"\x00\x57" if v6 else (b"\x21" if self.rng.random() < 0.5 else b"\x00\x21")
            body = ppp + inner
            return eth(0x8864, struct.pack("!BBHH", 0x11, 0, self.id & 0xFFFF, len(body)) + body, fwd)
        if k == "mpls":
            labels = [(self.id & 0xFFFFF)] * (1 + (self.id & 1))
            stack = b"".join(struct.pack("!I", (lab << 12) | ((i == len(labels) - 1) << 8) | 64)
                             for i, lab in enumerate(labels))
            return eth(0x8847, stack + inner, fwd)
        l2 = eth(et, inner, fwd)
        if k == "gre":
            return self.gre(fwd, et, inner)
        if k == "gretap":
            return self.gre(fwd, 0x6558, l2)
        if k == "erspan2":
            # ERSPAN type II: version 1, VLAN 0, COS/En/T 0, session ID; index.
            h = struct.pack("!HHI", (1 << 12), self.id & 0x3FF, 0)
            return self.gre(fwd, 0x88BE, h + l2, seq=True)
        if k == "erspan3":
            # ERSPAN type III: version 2, session ID, timestamp, SGT/flags (no subheader).
            h = struct.pack("!HHIHH", (2 << 12), self.id & 0x3FF, 0, 0, 0)
            return self.gre(fwd, 0x22EB, h + l2, seq=True)
        if k == "vxlan":
            return self.outer_udp(fwd, 4789, struct.pack("!II", 0x08000000, self.id << 8) + l2)
        if k == "geneve":
            if self.id & 1:
                return self.outer_udp(fwd, 6081, struct.pack("!BBHI", 0, 0, 0x6558, self.id << 8) + l2)
            return self.outer_udp(fwd, 6081, struct.pack("!BBHI", 0, 0, et, self.id << 8) + inner)
        if k == "ipip":
            return self.outer_ip(fwd, 41 if v6 else 4, inner)
        if k == "gtpu":
            return self.outer_udp(fwd, 2152, struct.pack("!BBHI", 0x30, 0xFF, len(inner), self.id) + inner)
        raise ValueError(k)


def payload_len(rng):
    r = rng.random()
    if r < 0.4:
        return rng.randint(1, 64)
    if r < 0.7:
        return rng.randint(65, 300)
    return rng.randint(301, 1400)


class Writer:
    def __init__(self, f):
        self.f = f
        self.t = 1700000000_000000
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))

    def packet(self, frame):
        self.t += 100
        self.f.write(struct.pack("<IIII", self.t // 1000000, self.t % 1000000, len(frame), len(frame)))
        self.f.write(frame)


PLANTED = b"GET /index.html HTTP/1.1\r\nHost: www.example.test\r\nAccept: */*\r\n\r\n"


def flow(rng, i, ports, w, plant=False):
    """Writes flow i; returns its description. A planted flow is TCP and its
    client's first message a real HTTP request (the check's own test)."""
    v6 = rng.random() < 0.5
    l4 = "TCP" if rng.random() < 0.5 or plant else "UDP"
    if rng.random() < 0.5:
        sport = rng.choice(ports[l4])
    else:
        sport = rng.randint(1, 65535)
        while sport in TUNNEL_UDP_PORTS:
            sport = rng.randint(1, 65535)
    cport = rng.randint(1024, 65535)
    while cport in TUNNEL_UDP_PORTS:
        cport = rng.randint(1024, 65535)
    kind = "bare" if rng.random() < 0.5 else rng.choice(CARRIERS)
    car = Carrier(rng, kind)
    if v6:
        c, s = (INNER6_C + i).to_bytes(16, "big"), (INNER6_S + i).to_bytes(16, "big")
    else:
        c, s = (INNER4_C + (i & 0xFFFF)).to_bytes(4, "big"), (INNER4_S + (i >> 16)).to_bytes(4, "big")
    handshake = l4 == "TCP" and rng.random() < 0.5
    msgs = [True] * rng.randint(1, 4) + [False] * rng.randint(1, 4)
    first = rng.random() < 0.7 or plant  # the client speaks first, mostly
    rest = [m for m in msgs]
    rest.remove(first)
    rng.shuffle(rest)
    order = [first] + rest
    seq = {True: rng.getrandbits(32), False: rng.getrandbits(32)}
    proto = 6 if l4 == "TCP" else 17

    def send(fc, flags, data=b""):
        src, dst = (c, s) if fc else (s, c)
        a, b = (cport, sport) if fc else (sport, cport)
        if l4 == "TCP":
            seg = tcp(a, b, seq[fc], seq[not fc], flags, data)
            seq[fc] += len(data) + (1 if flags & (SYN | FIN) else 0)
        else:
            seg = udp(a, b, data)
        w.packet(car.wrap(v6, fc, ip(v6, src, dst, proto, seg)))

    if handshake:
        send(True, SYN)
        send(False, SYN | ACK)
        send(True, ACK)
    for n, fc in enumerate(order):
        data = rng.randbytes(payload_len(rng))
        send(fc, PSH | ACK if l4 == "TCP" else 0, PLANTED if plant and n == 0 else data)
    addr = ipaddress.IPv6Address if v6 else ipaddress.IPv4Address
    return {"l4": l4.lower(), "client": str(addr(c)), "client_port": cport, "server": str(addr(s)),
            "server_port": sport, "carrier": kind, "outer": "v6" if car.outer6 else "v4",
            "handshake": handshake, "index": i}


def generate(path, seed, n, plant=None):
    rng = random.Random(seed)
    ports = guessed_ports()
    flows = []
    with open(path, "wb", buffering=1 << 20) as f:
        w = Writer(f)
        for i in range(n):
            flows.append(flow(rng, i, ports, w, plant=(i == plant)))
    return flows


def endpoints(fl):
    return (fl["l4"], frozenset({(fl["client"], fl["client_port"]), (fl["server"], fl["server_port"])}))


def check(pktspec, path, flows):
    """Replays path; returns (named, missing, others, seconds): the flows
    named [(description, replay's flow)], the flows the replay lacks, and the
    replay's flows not generated (other than the tunnels' own)."""
    t0 = time.monotonic()
    n6 = max(65536, 2 * len(flows))
    r = subprocess.run([pktspec, "replay", "--json", "--max-flows", str(max(262144, 2 * len(flows))),
                        "--max-flows6", str(n6), path], capture_output=True, text=True)
    secs = time.monotonic() - t0
    if r.returncode != 0:
        raise RuntimeError(f"replay exited {r.returncode}: {r.stderr.strip()}")
    want = {endpoints(fl): fl for fl in flows}
    seen, named, others = set(), [], []
    for raw in r.stdout.splitlines():
        got = json.loads(raw)
        k = endpoints(got)
        fl = want.get(k)
        if fl is None:
            # Only the tunnels' own flows may be there besides ours.
            if got["proto"] not in TUNNEL_PROTOS:
                others.append(got)
            continue
        seen.add(k)
        # A name is a verdict beyond a port guess. "decided" alone is not
        # one: it also marks a flow whose inspection budget (PKS_INSPECT_MAX
        # payload packets each way) ran out with no name (confidence none).
        if got["confidence"] not in ("none", "port"):
            named.append((fl, got))
    missing = [fl for k, fl in want.items() if k not in seen]
    return named, missing, others, secs


def describe(fl, got=None):
    where = "bare" if fl["carrier"] == "bare" else f"in {fl['carrier']} ({fl['outer']} outer)"
    tail = f" = {got['proto']}/{got['confidence']}/{got['rule']}" if got else ""
    return (f"{fl['l4']} {fl['client']}:{fl['client_port']} -> {fl['server']}:{fl['server_port']} {where}"
            f"{' handshake' if fl['handshake'] else ' mid-stream'}{tail}")


def run(pktspec, seed, n, out=None, plant=None):
    """Generates n flows with seed (into out, or a temporary file removed
    afterwards) and checks them: check()'s answer plus the flows."""
    tmp = None
    if out is None:
        tmp = tempfile.mkdtemp(prefix="pks-random-")
        out = os.path.join(tmp, "random-flows.pcap")
    try:
        flows = generate(out, seed, n, plant)
        return check(pktspec, out, flows) + (flows,)
    finally:
        if tmp:
            if os.path.exists(out):
                os.unlink(out)
            os.rmdir(tmp)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--flows", type=int, default=20000)
    ap.add_argument("--out")
    ap.add_argument("--check", metavar="PKTSPEC")
    ap.add_argument("--plant", type=int, default=None)
    ap.add_argument("--max-report", type=int, default=50)
    try:
        args = ap.parse_args(argv)
    except SystemExit as e:
        return 2 if e.code else 0
    if args.flows < 1 or (args.plant is not None and not 0 <= args.plant < args.flows):
        print("make-random-flows.py: --flows must be at least 1 and --plant one of its flows", file=sys.stderr)
        return 2
    seed = args.seed if args.seed is not None else random.SystemRandom().randint(1, 2**31 - 1)
    t0 = time.monotonic()
    if not args.check:
        out = args.out or "random-flows.pcap"
        flows = generate(out, seed, args.flows, args.plant)
        print(f"seed {seed}: {len(flows)} random-payload flows written to {out} "
              f"({os.path.getsize(out)} bytes, {time.monotonic() - t0:.1f} s)")
        return 0
    try:
        named, missing, others, secs, flows = run(args.check, seed, args.flows, args.out, args.plant)
    except (OSError, RuntimeError) as e:
        print(f"FAIL: random_flows: {e} (seed {seed})")
        return 1
    by = collections.Counter(fl["carrier"] for fl in flows)
    print(f"seed {seed}: {len(flows)} random-payload flows, generated and replayed in "
          f"{time.monotonic() - t0:.1f} s (replay {secs:.1f} s); carriers: "
          + ", ".join(f"{k} {v}" for k, v in sorted(by.items())))
    ok = True
    if args.plant is not None:
        hit = [(fl, got) for fl, got in named if fl["index"] == args.plant and got["proto"] == "http"]
        if len(named) == 1 and hit:
            print(f"PASS: random_flows_check_sees_a_real_flow ({describe(*hit[0])})")
        else:
            ok = False
            print(f"FAIL: random_flows_check_sees_a_real_flow: planted flow {args.plant} "
                  f"{'named' if hit else 'not named http'}, {len(named)} named in all (seed {seed})")
            for fl, got in named[:args.max_report]:
                print("  " + describe(fl, got))
    elif named:
        ok = False
        print(f"FAIL: random_flows_none_named: {len(named)} of {len(flows)} random flows named "
              f"(reproduce: {os.path.relpath(__file__, ROOT)} --seed {seed} --flows {args.flows} --check PKTSPEC):")
        for fl, got in named[:args.max_report]:
            print("  " + describe(fl, got))
        if len(named) > args.max_report:
            print(f"  ... {len(named) - args.max_report} more")
    else:
        print(f"PASS: random_flows_none_named ({len(flows)} flows, seed {seed})")
    if missing or others:
        ok = False
        print(f"FAIL: random_flows_all_replayed: {len(missing)} generated flows not in the replay, "
              f"{len(others)} flows not generated (seed {seed}):")
        for fl in missing[:10]:
            print("  missing " + describe(fl))
        for got in others[:10]:
            print(f"  extra {got['l4']} {got['client']}:{got['client_port']} -> "
                  f"{got['server']}:{got['server_port']} = {got['proto']}")
    elif args.plant is None:
        print(f"PASS: random_flows_all_replayed ({len(flows)} flows, each once)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
