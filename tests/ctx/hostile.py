#!/usr/bin/python3
# SPDX-License-Identifier: MIT OR Apache-2.0
"""Hostile traffic for the context rules, sent as raw frames on IFACE.

XDP on the peer end sees them on ingress whatever the addresses say, so the
frames play both sides: a flood of FTP 227 replies naming random ports, DNS
answers with hundreds of records, CNAME loops, absurd lengths (DNS over TCP
length prefixes, SIP Content-Length, SDP with hundreds of m= lines), and
random bytes on every watched port. Deterministic (seeded).

Usage: hostile.py IFACE ROUNDS
"""
import random
import struct
import sys

from scapy.all import IP, TCP, UDP, Ether, Raw, conf, sendp

conf.verb = 0
CLI, SRV = "198.18.0.1", "198.18.0.2"
rnd = random.Random(4)


def tcp(src, sport, dst, dport, seq, payload):
    return Ether() / IP(src=src, dst=dst) / TCP(sport=sport, dport=dport, flags="PA", seq=seq) / Raw(payload)


def udp(src, sport, dst, dport, payload):
    return Ether() / IP(src=src, dst=dst) / UDP(sport=sport, dport=dport) / Raw(payload)


def pasv_flood(n_flows, per_flow):
    out = []
    for f in range(n_flows):
        cport, seq = 20000 + f, rnd.randrange(1 << 32)
        for _ in range(per_flow):
            p = rnd.randrange(1024, 65536)
            line = f"227 Entering Passive Mode (198,18,{rnd.randrange(256)},{rnd.randrange(256)},{p >> 8},{p & 255}).\r\n"
            out.append(tcp(SRV, 21, CLI, cport, seq, line.encode()))
            seq = (seq + len(line)) & 0xFFFFFFFF
    return out


def name(n):
    return b"".join(bytes([len(l)]) + l.encode() for l in n.split(".")) + b"\0"


def dns_msg(qid, qname, records):
    """records: (owner or None for the question name, type, rdata bytes)."""
    out = struct.pack(">HHHHHH", qid, 0x8180, 1, len(records), 0, 0) + name(qname) + struct.pack(">HH", 1, 1)
    for owner, rtype, rdata in records:
        out += (b"\xc0\x0c" if owner is None else name(owner)) + struct.pack(">HHIH", rtype, 1,
                                                                          rnd.randrange(1 << 32), len(rdata)) + rdata
    return out


def a(ip):
    return bytes(int(x) for x in ip.split("."))


def dns_answers(n):
    out = []
    for i in range(n):
        recs = [(None, 1, a(f"198.19.{r}.{i % 250 + 1}")) for r in range(80)]  # about 1300 bytes: one frame
        out.append(udp(SRV, 53, CLI, 30000 + i, dns_msg(i, f"h{i}.flood.test", recs)))
        loop = [(None, 5, name(f"b{i}.loop.test")), (f"b{i}.loop.test", 5, name(f"a{i}.loop.test")),
                (f"b{i}.loop.test", 1, a("198.19.255.1"))]
        out.append(udp(SRV, 53, CLI, 40000 + i, dns_msg(i, f"a{i}.loop.test", loop)))
    return out


def dns_tcp_absurd(n):
    out = []
    for i in range(n):
        seq = rnd.randrange(1 << 32)
        big = dns_msg(i, "big.test", [(None, 1, a(f"198.19.{r % 250}.{i + 1}")) for r in range(300)])
        # One message whose length prefix claims 64 KB, then one of hundreds of records.
        stream = (65535).to_bytes(2, "big") + big[:3000] + len(big).to_bytes(2, "big") + big
        for k in range(0, len(stream), 1000):
            out.append(tcp(SRV, 53, CLI, 50000 + i, (seq + k) & 0xFFFFFFFF, stream[k:k + 1000]))
    return out


def sip_absurd(n):
    out = []
    for i in range(n):
        body = "v=0\r\nc=IN IP4 198.18.0.1\r\n" + "".join(f"m=audio {rnd.randrange(1, 65536)} RTP/AVP 0\r\n"
                                                        for _ in range(40))
        msg = (f"INVITE sip:x@{SRV} SIP/2.0\r\nContent-Type: application/sdp\r\nContent-Length: 999999999\r\n\r\n"
               + body)
        out.append(udp(CLI, 5060, SRV, 5060, msg.encode()[:1400]))
        out.append(tcp(CLI, 41000 + i, SRV, 5060, rnd.randrange(1 << 32), msg.encode()[:1400]))
    return out


def garbage(n):
    out = []
    for i in range(n):
        for port in (21, 53, 5060, 554, 69):
            out.append(tcp(CLI, 42000 + i, SRV, port, rnd.randrange(1 << 32), rnd.randbytes(rnd.randrange(1, 1400))))
            out.append(udp(CLI, 42000 + i, SRV, port, rnd.randbytes(rnd.randrange(1, 1400))))
    return out


def main():
    iface, rounds = sys.argv[1], int(sys.argv[2])
    for r in range(rounds):
        frames = pasv_flood(40, 60) + dns_answers(30) + dns_tcp_absurd(10) + sip_absurd(20) + garbage(20)
        rnd.shuffle(frames)
        sendp(frames, iface=iface)
        print(f"round {r}: {len(frames)} frames", flush=True)


if __name__ == "__main__":
    main()
