#!/usr/bin/python3
# SPDX-License-Identifier: MIT OR Apache-2.0
"""webrtc.pcap: several protocols on one 5-tuple, spec-built with scapy.

No WebRTC stack is packaged here, so the capture is crafted from the
specifications: ICE connectivity checks (STUN Binding, RFC 8445 7.2, RFC 8489),
then DTLS-SRTP's handshake (RFC 5764, DTLS 1.2 records, RFC 6347), then SRTP
(RFC 3711: an RTP header, encrypted payload and an authentication tag) and a
consent freshness check (STUN, RFC 7675), all on one 5-tuple as RFC 7983
demultiplexes them.

  198.18.0.1:50000 <-> 198.18.0.2:50001  ICE both ways, DTLS client on .1, SRTP: dtls
  [2001:db8::1]:50010 <-> [2001:db8::2]:50011  the DTLS client is ICE's responder: dtls
  198.18.0.1:50020 <-> 198.18.0.2:50021  ICE then SRTP with no DTLS seen (SDES keys): rtp

Usage: make-webrtc.py OUTDIR   (writes OUTDIR/webrtc.pcap)
"""
import os
import random
import struct
import sys

from scapy.all import IP, UDP, Ether, IPv6, Raw, wrpcap

MAC_C, MAC_S = "02:00:00:00:00:01", "02:00:00:00:00:02"
T0 = 1767225600.0  # 2026-01-01, fixed so the capture is reproducible
MAGIC = 0x2112A442


def stun(msg_type, txid, attrs=b""):
    """A STUN message (RFC 8489 5): type, length, magic cookie, transaction ID, attributes."""
    return struct.pack("!HHI", msg_type, len(attrs), MAGIC) + txid + attrs


def attr(t, v):
    pad = (4 - len(v) % 4) % 4
    return struct.pack("!HH", t, len(v)) + v + b"\0" * pad


def binding_request(rng):
    # USERNAME (0x0006), PRIORITY (0x0024), ICE-CONTROLLING (0x802A) as RFC 8445 7.1.
    attrs = attr(0x0006, b"abcd:efgh") + attr(0x0024, struct.pack("!I", 0x6E7F1EFF)) + \
        attr(0x802A, rng.randbytes(8))
    return stun(0x0001, rng.randbytes(12), attrs)


def binding_response(req, ip, port):
    # XOR-MAPPED-ADDRESS (0x0020), IPv4 (RFC 8489 14.2).
    xport = port ^ (MAGIC >> 16)
    xaddr = struct.unpack("!I", bytes(int(x) for x in ip.split(".")))[0] ^ MAGIC
    return stun(0x0101, req[8:20], attr(0x0020, struct.pack("!BBHI", 0, 1, xport, xaddr)))


def dtls_record(content_type, seq, body, version=0xFEFD):
    return struct.pack("!BHHHI", content_type, version, 0, seq >> 32, seq & 0xFFFFFFFF) + \
        struct.pack("!H", len(body)) + body


def handshake(msg_type, seq, body):
    n = len(body)
    return struct.pack("!B", msg_type) + n.to_bytes(3, "big") + struct.pack("!H", seq) + \
        (0).to_bytes(3, "big") + n.to_bytes(3, "big") + body


def client_hello(rng):
    # DTLS 1.2 ClientHello (RFC 6347 4.2.1 adds the cookie field), use_srtp extension (RFC 5764 4.1.1).
    ext = struct.pack("!HH", 14, 5) + struct.pack("!HH", 2, 0x0001) + b"\0"
    body = struct.pack("!H", 0xFEFD) + rng.randbytes(32) + b"\0" + b"\0" + \
        struct.pack("!HH", 2, 0xC02B) + b"\x01\x00" + struct.pack("!H", len(ext)) + ext
    return dtls_record(22, 0, handshake(1, 0, body), version=0xFEFF)


def server_hello(rng):
    ext = struct.pack("!HH", 14, 5) + struct.pack("!HH", 2, 0x0001) + b"\0"
    body = struct.pack("!H", 0xFEFD) + rng.randbytes(32) + b"\0" + struct.pack("!H", 0xC02B) + b"\0" + \
        struct.pack("!H", len(ext)) + ext
    return dtls_record(22, 0, handshake(2, 0, body))


def srtp(rng, seq, ssrc):
    # RTP header (RFC 3550 5.1), payload type 111, then ciphertext and a 10-byte tag (RFC 3711 3.1).
    return struct.pack("!BBHII", 0x80, 111, seq, seq * 960, ssrc) + rng.randbytes(120) + rng.randbytes(10)


class Cap:
    def __init__(self):
        self.pkts = []

    def add(self, src, sport, dst, dport, payload):
        client = src in ("198.18.0.1", "2001:db8::1")
        ip = IPv6(src=src, dst=dst) if ":" in src else IP(src=src, dst=dst)
        p = Ether(src=MAC_C if client else MAC_S, dst=MAC_S if client else MAC_C) / ip / \
            UDP(sport=sport, dport=dport) / Raw(payload)
        p.time = T0 + len(self.pkts) * 0.005
        self.pkts.append(p)


def call(c, rng, a, ap, b, bp, dtls_client_is_a=True, with_dtls=True):
    # ICE: a checks b, b checks a (each answered).
    req = binding_request(rng)
    c.add(a, ap, b, bp, req)
    c.add(b, bp, a, ap, binding_response(req, "198.18.0.1", ap))
    req = binding_request(rng)
    c.add(b, bp, a, ap, req)
    c.add(a, ap, b, bp, binding_response(req, "198.18.0.2", bp))
    if with_dtls:
        x, xp, y, yp = (a, ap, b, bp) if dtls_client_is_a else (b, bp, a, ap)
        c.add(x, xp, y, yp, client_hello(rng))
        c.add(y, yp, x, xp, server_hello(rng))
    for i in range(6):
        c.add(a, ap, b, bp, srtp(rng, 100 + i, 0x11223344))
        c.add(b, bp, a, ap, srtp(rng, 500 + i, 0x55667788))
    req = binding_request(rng)  # consent freshness
    c.add(a, ap, b, bp, req)
    c.add(b, bp, a, ap, binding_response(req, "198.18.0.1", ap))


def main():
    if len(sys.argv) != 2:
        print("usage: make-webrtc.py OUTDIR", file=sys.stderr)
        return 2
    rng = random.Random(7983)
    c = Cap()
    call(c, rng, "198.18.0.1", 50000, "198.18.0.2", 50001)
    call(c, rng, "2001:db8::1", 50010, "2001:db8::2", 50011, dtls_client_is_a=False)
    call(c, rng, "198.18.0.1", 50020, "198.18.0.2", 50021, with_dtls=False)
    wrpcap(os.path.join(sys.argv[1], "webrtc.pcap"), c.pkts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
