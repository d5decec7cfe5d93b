#!/usr/bin/env python3
# SPDX-License-Identifier: MIT OR Apache-2.0
# dns_answer.py IFACE NAME ADDR [syn]: sends out of IFACE a DNS answer (from
# 198.18.0.2 port 53 to 198.18.0.1) naming IPv4 ADDR NAME; with "syn", a TCP
# SYN from 198.18.0.1 to ADDR port 443 instead. For pks_daemon_mark (common.sh).
import random, struct, sys
from scapy.all import IP, TCP, UDP, Ether, Raw, conf, sendp
conf.verb = 0
iface, name, addr = sys.argv[1:4]
qname = b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\x00"
msg = struct.pack(">HHHHHH", 7, 0x8180, 1, 1, 0, 0) + qname + struct.pack(">HH", 1, 1) + \
    b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 300, 4) + bytes(int(b) for b in addr.split("."))
if len(sys.argv) > 4:
    sendp([Ether() / IP(src="198.18.0.1", dst=addr) / TCP(sport=random.randint(40000, 60000), dport=443, flags="S")],
          iface=iface)
else:
    sendp([Ether() / IP(src="198.18.0.2", dst="198.18.0.1") / UDP(sport=53, dport=33999) / Raw(msg)], iface=iface)
