#!/usr/bin/python3
# SPDX-License-Identifier: MIT OR Apache-2.0
"""Regenerates the negative captures in this directory (scapy, fixed seeds).

None of their flows may reach `signature` or `confirmed`: random or damaged
payload must stay unknown, or keep at most a port guess.

  random-tcp-well-known.pcap  full TCP connections (handshake, random bytes
                              both ways, FIN) to every TCP port in
                              include/pktspec/ports.def, IPv4 and IPv6
  random-udp-well-known.pcap  random datagrams both ways to every UDP port in
                              ports.def, including 1250-byte ones (QUIC size)
  random-ports.pcap           the same on ports nothing is guessed for
  corrupted-demo.pcap         ../demo.pcap with the first 16 payload bytes of
                              every packet replaced by random bytes
  truncated-demo.pcap         ../demo.pcap with every payload cut to 1..4 bytes:
                              fewer than any core signature reads (5 bytes
                              would keep a whole TLS record header, which the
                              midstream record rule takes as TLS evidence)

Usage: tests/captures/negative/make-negative.py   (no root needed)
"""
import os
import random
import re
import sys

from scapy.all import IP, TCP, UDP, Ether, IPv6, Raw, rdpcap, wrpcap  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
C4, S4, C6, S6 = "198.18.1.1", "198.18.1.2", "2001:db8:1::1", "2001:db8:1::2"
MAC_C, MAC_S = "02:00:00:00:01:01", "02:00:00:00:01:02"


def well_known_ports():
    ports = {"TCP": set(), "UDP": set()}
    with open(os.path.join(ROOT, "include", "pktspec", "ports.def")) as f:
        for m in re.finditer(r"^PKS_PORT\((TCP|UDP),\s*(\d+),", f.read(), re.M):
            ports[m.group(1)].add(int(m.group(2)))
    return {k: sorted(v) for k, v in ports.items()}


class Clock:
    def __init__(self):
        self.t = 1700000000.0

    def next(self):
        self.t += 0.001
        return self.t


def l3(v6, from_client):
    c, s = (C6, S6) if v6 else (C4, S4)
    src, dst = (c, s) if from_client else (s, c)
    eth = Ether(src=MAC_C if from_client else MAC_S, dst=MAC_S if from_client else MAC_C)
    return eth / (IPv6(src=src, dst=dst) if v6 else IP(src=src, dst=dst))


def tcp_conn(clock, v6, cport, sport, payloads):
    """A TCP connection: handshake, payloads [(from_client, bytes)], FIN both ways."""
    seq = {True: 1000, False: 5000}
    pkts = []

    def seg(fc, flags, data=b""):
        p = l3(v6, fc) / TCP(sport=cport if fc else sport, dport=sport if fc else cport, flags=flags,
                             seq=seq[fc], ack=seq[not fc] if "A" in flags else 0)
        if data:
            p = p / Raw(data)
        p.time = clock.next()
        pkts.append(p)
        seq[fc] += len(data) + (1 if ("S" in flags or "F" in flags) else 0)

    seg(True, "S")
    seg(False, "SA")
    seg(True, "A")
    for fc, data in payloads:
        seg(fc, "PA", data)
    seg(True, "FA")
    seg(False, "FA")
    seg(True, "A")
    return pkts


def udp_conv(clock, v6, cport, sport, payloads):
    pkts = []
    for fc, data in payloads:
        p = l3(v6, fc) / UDP(sport=cport if fc else sport, dport=sport if fc else cport) / Raw(data)
        p.time = clock.next()
        pkts.append(p)
    return pkts


def random_payloads(rng, n, maxlen, big=None):
    out = []
    for i in range(n):
        size = big if (big and i == 0) else rng.randint(1, maxlen)
        out.append((i % 2 == 0 if rng.random() < 0.75 else i % 2 == 1, rng.randbytes(size)))
    return out


def make_random(name, l4, ports, seed):
    rng, clock, pkts = random.Random(seed), Clock(), []
    for i, port in enumerate(ports):
        v6 = i % 2 == 1
        cport = rng.randint(32768, 60999)
        if l4 == "TCP":
            pkts += tcp_conn(clock, v6, cport, port, random_payloads(rng, 4, 200))
        else:
            pkts += udp_conv(clock, v6, cport, port, random_payloads(rng, 4, 300, big=1250 if i % 3 == 0 else None))
    wrpcap(os.path.join(HERE, name), pkts)
    return len(pkts)


def damage(name, seed, how):
    """Rewrites every payload of ../demo.pcap: 'corrupt' or 'truncate'."""
    rng, out = random.Random(seed), []
    for p in rdpcap(os.path.join(HERE, "..", "demo.pcap")):
        l4 = p.getlayer(TCP) or p.getlayer(UDP)
        # Not Raw: scapy dissects port 53 as DNS, and so on.
        load = bytes(l4.payload) if l4 is not None else b""
        if load:
            if how == "corrupt":
                k = min(16, len(load))
                load = rng.randbytes(k) + load[k:]
            else:
                load = load[:rng.randint(1, min(4, len(load)))]
            l4.remove_payload()
            l4.add_payload(Raw(load))
            # Lengths and checksums are recomputed for the new payload.
            for layer, fields in ((IP, ("len", "chksum")), (IPv6, ("plen",)), (TCP, ("chksum",)),
                                  (UDP, ("len", "chksum"))):
                if p.haslayer(layer):
                    for fld in fields:
                        setattr(p[layer], fld, None)
        q = Ether(bytes(p))
        q.time = p.time
        out.append(q)
    wrpcap(os.path.join(HERE, name), out)
    return len(out)


def main():
    ports = well_known_ports()
    taken = set(ports["TCP"]) | set(ports["UDP"])
    rng = random.Random(7)
    odd = []
    while len(odd) < 24:
        p = rng.randint(1024, 65535)
        if p not in taken and p not in odd:
            odd.append(p)
    made = {
        "random-tcp-well-known.pcap": make_random("random-tcp-well-known.pcap", "TCP", ports["TCP"], 1),
        "random-udp-well-known.pcap": make_random("random-udp-well-known.pcap", "UDP", ports["UDP"], 2),
        "random-ports-tcp.pcap": make_random("random-ports-tcp.pcap", "TCP", odd[:12], 3),
        "random-ports-udp.pcap": make_random("random-ports-udp.pcap", "UDP", odd[12:], 4),
        "corrupted-demo.pcap": damage("corrupted-demo.pcap", 5, "corrupt"),
        "truncated-demo.pcap": damage("truncated-demo.pcap", 6, "truncate"),
    }
    for name, n in made.items():
        path = os.path.join(HERE, name)
        print(f"wrote {path}: {n} packets, {os.path.getsize(path)} bytes")
        with open(path[:-5] + ".expect", "w") as f:
            f.write("# SPDX-License-Identifier: MIT OR Apache-2.0\n"
                    "# Made by make-negative.py: random or damaged payload. No flow may reach\n"
                    "# signature or confirmed; a port guess is the most it may keep.\n"
                    "* * * max:port\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
