#!/usr/bin/python3
# SPDX-License-Identifier: MIT OR Apache-2.0
"""Hostile traffic for the name rules, sent as raw Ethernet frames.

Usage: names_flood.py IFACE SRC_MAC DST_MAC FLOWS

From 198.18.0.1 to 198.18.0.2, FLOWS flows of each kind:
  - TLS on 443: SYN, then a ClientHello record announcing a 16000-byte hello
    (within bounds, so the rule keeps reassembling) and seven more 1400-byte
    segments that never complete it;
  - TLS on 443: a ClientHello announcing a 16 MiB hello (absurd length);
  - QUIC on 443: three 1200-byte v1 Initials with random protected bytes
    (they never authenticate) and a truncated one.
Checksums are left zero: XDP reads the frames before anything checks them,
and the server's stack drops them afterwards.
"""
import os
import socket
import struct
import sys


def ipv4(proto, payload_len):
    total = 20 + payload_len
    return struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 0, 0x4000, 64, proto, 0,
                       socket.inet_aton("198.18.0.1"), socket.inet_aton("198.18.0.2"))


def tcp(sport, dport, seq, flags, payload=b""):
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, flags, 65535, 0, 0)
    return ipv4(6, len(hdr) + len(payload)) + hdr + payload


def udp(sport, dport, payload):
    hdr = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0)
    return ipv4(17, len(hdr) + len(payload)) + hdr + payload


def main():
    iface, src, dst, flows = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    eth = bytes.fromhex(dst.replace(":", "")) + bytes.fromhex(src.replace(":", "")) + b"\x08\x00"
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    sent = 0

    def send(frame):
        nonlocal sent
        s.send(eth + frame)
        sent += 1

    SYN, PSH_ACK = 0x02, 0x18
    for i in range(flows):
        # A hello that announces 16000 bytes (record 16004) and never ends.
        port = 20000 + i
        send(tcp(port, 443, 999, SYN))
        hello = b"\x16\x03\x01" + struct.pack("!H", 16004) + b"\x01" + (16000).to_bytes(3, "big")
        hello += b"\x03\x03" + os.urandom(1400 - len(hello) - 2)
        seq = 1000
        send(tcp(port, 443, seq, PSH_ACK, hello))
        seq += len(hello)
        for _ in range(7):
            chunk = os.urandom(1400)
            send(tcp(port, 443, seq, PSH_ACK, chunk))
            seq += len(chunk)
        # An absurd one: 16 MiB announced.
        port = 30000 + i
        send(tcp(port, 443, 999, SYN))
        send(tcp(port, 443, 1000, PSH_ACK, b"\x16\x03\x01\x00\x40\x01\xff\xff\xff\x03\x03" + os.urandom(53)))
        # QUIC v1 Initials that do not authenticate, and a truncated one.
        port = 40000 + i
        for n in range(4):
            dcid = os.urandom(8)
            body = os.urandom(1200 - 18)  # a padded 1200-byte datagram
            pkt = bytes([0xc3]) + struct.pack("!I", 1) + bytes([8]) + dcid + b"\x00" + b"\x00"
            pkt += struct.pack("!H", 0x4000 | len(body)) + body
            send(udp(port, 443, pkt if n < 3 else pkt[:100]))
    print(sent)


if __name__ == "__main__":
    main()
