#!/usr/bin/python3
# SPDX-License-Identifier: MIT OR Apache-2.0
"""Regenerates the tunnel captures in this directory: crafted with scapy (no
implementation recorded), fixed seeds. Each holds DNS query/response pairs and
an HTTP exchange inside one encapsulation, so the inner flows are decided by
their payload, and the tunnel's own flow is named.

  pppoe.pcap     PPPoE session (IPv4 and IPv6 PPP protocols)
  mpls.pcap      two-label MPLS stack, IPv4 and IPv6 below it
  gre.pcap       keyed GRE with sequence numbers, IPv4 inside; gretap (Ethernet)
  vxlan.pcap     VXLAN, two VNIs carrying the same inner 5-tuple
  geneve.pcap    Geneve with an option, Ethernet inside
  ipip.pcap      IPv4 in IPv4 and IPv6 in IPv4 (6in4)
  gtpu.pcap      GTP-U G-PDU with an extension header
  nested.pcap    IPv4 in GRE in VXLAN (two tunnels), and three (not opened)
  ppp-link.pcap  DLT_PPP link type; hdlc-link.pcap: Cisco HDLC
  negative-*.pcap random bytes inside each encapsulation: never named

Usage: tests/captures/tunnels/make-tunnels.py   (no root needed)
"""
import os
import random

from scapy.all import (GRE, IP, TCP, UDP, Ether, IPv6, Raw, wrpcap,  # noqa: E402
                       PPPoE, PPP)
from scapy.contrib.mpls import MPLS
from scapy.layers.dns import DNS, DNSQR, DNSRR
from scapy.layers.vxlan import VXLAN

HERE = os.path.dirname(os.path.abspath(__file__))
C4, S4, C6, S6 = "198.18.1.1", "198.18.1.2", "2001:db8:1::1", "2001:db8:1::2"
T1, T2 = "198.18.9.1", "198.18.9.2"
MAC_C, MAC_S = "02:00:00:00:01:01", "02:00:00:00:01:02"


def dns_pair(ip_c, ip_s, sport=40000, qid=0x1234):
    q = UDP(sport=sport, dport=53) / DNS(id=qid, rd=1, qd=DNSQR(qname="example.test"))
    r = UDP(sport=53, dport=sport) / DNS(id=qid, qr=1, aa=1, qd=DNSQR(qname="example.test"),
                                        an=DNSRR(rrname="example.test", rdata="198.18.5.5"))
    return [ip_c / q, ip_s / r]


def http_conv(ip_c, ip_s, sport=41000):
    """A TCP handshake, an HTTP request and response."""
    seq_c, seq_s = 1000, 5000
    req = b"GET / HTTP/1.1\r\nHost: example.test\r\n\r\n"
    rsp = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
    return [
        ip_c / TCP(sport=sport, dport=80, flags="S", seq=seq_c),
        ip_s / TCP(sport=80, dport=sport, flags="SA", seq=seq_s, ack=seq_c + 1),
        ip_c / TCP(sport=sport, dport=80, flags="A", seq=seq_c + 1, ack=seq_s + 1),
        ip_c / TCP(sport=sport, dport=80, flags="PA", seq=seq_c + 1, ack=seq_s + 1) / Raw(req),
        ip_s / TCP(sport=80, dport=sport, flags="PA", seq=seq_s + 1, ack=seq_c + 1 + len(req)) / Raw(rsp),
    ]


def inner4():
    return dns_pair(IP(src=C4, dst=S4), IP(src=S4, dst=C4)) + http_conv(IP(src=C4, dst=S4), IP(src=S4, dst=C4))


def inner6():
    return dns_pair(IPv6(src=C6, dst=S6), IPv6(src=S6, dst=C6), sport=40006)


def random_inner(rng, n=8):
    return [Raw(bytes(rng.getrandbits(8) for _ in range(rng.randint(20, 200)))) for _ in range(n)]


def outer(fwd=True):
    e = Ether(src=MAC_C, dst=MAC_S) if fwd else Ether(src=MAC_S, dst=MAC_C)
    return e / (IP(src=T1, dst=T2) if fwd else IP(src=T2, dst=T1))


def fwd_of(p):
    """Whether an inner packet goes client -> server (its source is the client)."""
    if IP in p:
        return p[IP].src == C4
    if IPv6 in p:
        return p[IPv6].src == C6
    return True


def stamp(pkts):
    for i, p in enumerate(pkts):
        p.time = 1700000000.0 + i * 0.001
    return pkts


def write(name, pkts):
    wrpcap(os.path.join(HERE, name), stamp(pkts))


def pppoe(inner):
    out = []
    for p in inner:
        # IPv4 with a compressed protocol field (scapy writes 0x21), IPv6 with the full 0x0057.
        ppp = Raw(b"\x00\x57") if IPv6 in p else PPP(proto=0x0021)
        e = Ether(src=MAC_C, dst=MAC_S) if fwd_of(p) else Ether(src=MAC_S, dst=MAC_C)
        out.append(e / PPPoE(sessionid=7) / ppp / p)
    return out


def mpls(inner):
    out = []
    for p in inner:
        e = Ether(src=MAC_C, dst=MAC_S, type=0x8847)
        out.append(e / MPLS(label=100, s=0, ttl=64) / MPLS(label=200, s=1, ttl=64) / p)
    return out


def gre(inner, key, seq0=1):
    out = []
    for i, p in enumerate(inner):
        proto = 0x86DD if IPv6 in p else 0x0800
        out.append(outer(fwd_of(p)) / GRE(key_present=1, key=key, seqnum_present=1, seqence_number=seq0 + i,
                                          proto=proto) / p)
    return out


def gretap(inner, key):
    return [outer(fwd_of(p)) / GRE(key_present=1, key=key, proto=0x6558) /
            Ether(src=MAC_C, dst=MAC_S, type=0x86DD if IPv6 in p else 0x0800) / p for p in inner]


def vxlan(inner, vni, sport=50000):
    return [outer(fwd_of(p)) / UDP(sport=sport, dport=4789) / VXLAN(vni=vni, flags=0x08) /
            Ether(src=MAC_C, dst=MAC_S, type=0x86DD if IPv6 in p else 0x0800) / p for p in inner]


def geneve(inner, vni):
    # version 0, one 4-byte-unit option (length 2: 8 bytes), protocol 0x6558, VNI.
    hdr = bytes([0x02, 0x00, 0x65, 0x58]) + vni.to_bytes(3, "big") + b"\x00" + \
        bytes([0x01, 0x02, 0x03, 0x01]) + b"\x00\x00\x00\x00"
    return [outer(fwd_of(p)) / UDP(sport=50001, dport=6081) / Raw(hdr) /
            Ether(src=MAC_C, dst=MAC_S, type=0x86DD if IPv6 in p else 0x0800) / p for p in inner]


def ipip(inner):
    return [outer(fwd_of(p)) / p for p in inner]


def gtpu(inner, teid):
    out = []
    for p in inner:
        body = bytes(p)
        # v1, PT=1, E=1: seq, N-PDU, next ext 0x85 (PDU session container, 4 bytes), then none.
        opt = b"\x00\x01" + b"\x00" + b"\x85"
        ext = bytes([0x01, 0x10, 0x01, 0x00])
        length = len(opt) + len(ext) + len(body)
        hdr = bytes([0x34, 0xFF]) + length.to_bytes(2, "big") + teid.to_bytes(4, "big") + opt + ext
        out.append(outer(fwd_of(p)) / UDP(sport=2152, dport=2152) / Raw(hdr) / Raw(body))
    return out


def main():
    write("pppoe.pcap", pppoe(inner4() + inner6()))
    write("mpls.pcap", mpls(inner4() + inner6()))
    write("gre.pcap", gre(inner4(), key=42) + gretap(dns_pair(IP(src=C4, dst=S4), IP(src=S4, dst=C4), sport=40100), key=43))
    write("vxlan.pcap", vxlan(inner4(), vni=1001) + vxlan(inner4(), vni=1002, sport=50002))
    write("geneve.pcap", geneve(inner4() + inner6(), vni=77))
    write("ipip.pcap", ipip(inner4() + inner6()))
    write("gtpu.pcap", gtpu(inner4(), teid=0x01020304))
    # IPv4 in GRE in VXLAN: two tunnels, opened; one more (IPIP inside) is not.
    two = [Ether(src=MAC_C, dst=MAC_S) / p[IP] for p in gre(dns_pair(IP(src=C4, dst=S4), IP(src=S4, dst=C4)), key=5)]
    nested = vxlan([q[IP] for q in two], vni=9) if False else []
    for q in two:
        nested.append(outer(True) / UDP(sport=50003, dport=4789) / VXLAN(vni=9, flags=0x08) / q)
    three_inner = ipip(dns_pair(IP(src=C4, dst=S4), IP(src=S4, dst=C4), sport=40200))
    three = [outer(True) / UDP(sport=50004, dport=4789) / VXLAN(vni=10, flags=0x08) /
             Ether(src=MAC_C, dst=MAC_S) / IP(src="198.18.8.1", dst="198.18.8.2") / GRE(proto=0x0800) / q[IP]
             for q in three_inner]
    write("nested.pcap", nested + three)
    # Link types: PPP (address/control, 2-byte protocol) and Cisco HDLC.
    wrpcap(os.path.join(HERE, "ppp-link.pcap"),
           stamp([Raw(b"\xff\x03" + (b"\x00\x57" if IPv6 in p else b"\x00\x21") + bytes(p))
                  for p in inner4() + inner6()]), linktype=9)
    wrpcap(os.path.join(HERE, "hdlc-link.pcap"),
           stamp([Raw(b"\x0f\x00" + (b"\x86\xdd" if IPv6 in p else b"\x08\x00") + bytes(p))
                  for p in inner4() + inner6()]), linktype=104)
    rng = random.Random(11)
    write("negative-pppoe.pcap", [Ether(src=MAC_C, dst=MAC_S) / PPPoE(sessionid=7) / PPP(proto=0x0021) / r
                                  for r in random_inner(rng)])
    write("negative-mpls.pcap", [Ether(src=MAC_C, dst=MAC_S, type=0x8847) / MPLS(label=1, s=1) / r
                                 for r in random_inner(rng)])
    write("negative-gre.pcap", [outer() / GRE(proto=0x0800) / r for r in random_inner(rng)])
    write("negative-vxlan.pcap", [outer() / UDP(sport=50000, dport=4789) / VXLAN(vni=5, flags=0x08) / r
                                  for r in random_inner(rng)])
    write("negative-geneve.pcap", [outer() / UDP(sport=50001, dport=6081) /
                                   Raw(bytes([0, 0, 0x65, 0x58, 0, 0, 5, 0])) / r for r in random_inner(rng)])
    write("negative-gtpu.pcap", [outer() / UDP(sport=2152, dport=2152) /
                                 Raw(bytes([0x30, 0xFF, 0, 200, 0, 0, 0, 1])) / r for r in random_inner(rng)])
    write("negative-ipip.pcap", [Ether(src=MAC_C, dst=MAC_S) / IP(src=T1, dst=T2, proto=4) / r
                                 for r in random_inner(rng)])


if __name__ == "__main__":
    main()
