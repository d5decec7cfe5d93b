#!/usr/bin/python3
# SPDX-License-Identifier: MIT OR Apache-2.0
"""Regenerates server-first-http.pcap (scapy; fixed addresses, no randomness).

An HTTP server on port 80 that speaks before its client: handshake, then the
server's response with no request before it. The context engine used to hand
the empty client stream to the HTTP request parser as (NULL, 0), which called
memchr(NULL, '\\n', 0): undefined behaviour that UBSan reports (issue 14).
tests/cli/test_cli.sh replays it; under .output/asan/pktspec (test_cli_asan.sh)
any sanitizer report fails the case.

Usage: tests/captures/negative/make-server-first.py   (no root needed)
"""
import os

from scapy.all import IP, TCP, Ether, Raw, wrpcap

HERE = os.path.dirname(os.path.abspath(__file__))
C, S = "198.18.1.1", "198.18.1.2"
MAC_C, MAC_S = "02:00:00:00:01:01", "02:00:00:00:01:02"
CPORT, SPORT = 40080, 80


def main():
    c2s = Ether(src=MAC_C, dst=MAC_S) / IP(src=C, dst=S)
    s2c = Ether(src=MAC_S, dst=MAC_C) / IP(src=S, dst=C)
    body = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nServer: first\r\n\r\n"
    pkts = [
        c2s / TCP(sport=CPORT, dport=SPORT, flags="S", seq=1000),
        s2c / TCP(sport=SPORT, dport=CPORT, flags="SA", seq=5000, ack=1001),
        c2s / TCP(sport=CPORT, dport=SPORT, flags="A", seq=1001, ack=5001),
        s2c / TCP(sport=SPORT, dport=CPORT, flags="PA", seq=5001, ack=1001) / Raw(body),
    ]
    for i, p in enumerate(pkts):
        p.time = 1700000000 + i / 1000
    wrpcap(os.path.join(HERE, "server-first-http.pcap"), pkts)


if __name__ == "__main__":
    main()
