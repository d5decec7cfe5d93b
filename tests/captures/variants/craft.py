#!/usr/bin/python3
# SPDX-License-Identifier: MIT OR Apache-2.0
"""CRAFTED captures for protocol variants, other transports, flows picked up
mid-session and several protocols on one 5-tuple (issue 11), and negatives of
the same shapes with random evidence.

Each message is built with scapy from the specification or implementation its
signature cites (bpf/sig/*.h names it; the comment at each builder repeats
it). They are crafted because no Debian package here speaks the variant
(OpenSSL's pre-RFC DTLS 0x0100, mvfst's QUIC versions, Modbus user-defined
codes, a 64-byte OpenVPN tls-auth HMAC without a full OpenVPN PKI). Recorded
captures of the same shapes, where a Debian package produces them, are made
by make.sh in this directory.

Usage: craft.py OUTDIR [NAME...]   (each NAME.pcap is rewritten; default: all)
"""
import os
import random
import struct
import sys

from scapy.all import IP, TCP, UDP, Ether, Raw, wrpcap

CLI, SRV = "198.18.0.1", "198.18.0.2"
MAC_C, MAC_S = "02:00:00:00:00:01", "02:00:00:00:00:02"
T0 = 1767225600.0  # 2026-01-01: fixed, so the captures are reproducible


class Cap:
    """Packets of one capture; conversations are added with tcp() and udp()."""

    def __init__(self):
        self.pkts = []

    def _add(self, p):
        p.time = T0 + len(self.pkts) * 0.001
        self.pkts.append(p)

    def _eth(self, from_client):
        return Ether(src=MAC_C, dst=MAC_S) if from_client else Ether(src=MAC_S, dst=MAC_C)

    def udp(self, cport, sport, msgs):
        """msgs: (from_client, payload) datagrams between CLI:cport and SRV:sport."""
        for fc, data in msgs:
            src, dst, sp, dp = (CLI, SRV, cport, sport) if fc else (SRV, CLI, sport, cport)
            self._add(self._eth(fc) / IP(src=src, dst=dst) / UDP(sport=sp, dport=dp) / Raw(bytes(data)))

    def tcp(self, cport, sport, msgs, handshake=True):
        """One TCP connection with correct sequence numbers; without the
        handshake it starts mid-session (the capture began late)."""
        seq = {True: 1000, False: 5000}
        if handshake:
            self._add(self._eth(True) / IP(src=CLI, dst=SRV) / TCP(sport=cport, dport=sport, flags="S", seq=999))
            self._add(self._eth(False) / IP(src=SRV, dst=CLI) /
                      TCP(sport=sport, dport=cport, flags="SA", seq=4999, ack=1000))
            self._add(self._eth(True) / IP(src=CLI, dst=SRV) /
                      TCP(sport=cport, dport=sport, flags="A", seq=1000, ack=5000))
        for fc, data in msgs:
            src, dst, sp, dp = (CLI, SRV, cport, sport) if fc else (SRV, CLI, sport, cport)
            self._add(self._eth(fc) / IP(src=src, dst=dst) /
                      TCP(sport=sp, dport=dp, flags="PA", seq=seq[fc], ack=seq[not fc]) / Raw(bytes(data)))
            seq[fc] += len(data)

    def write(self, path):
        wrpcap(path, self.pkts)


RNG = random.Random(20261204)


def rnd(n):
    return bytes(RNG.randrange(256) for _ in range(n))


# ---- A: DTLS in OpenSSL's pre-RFC version (DTLS1_BAD_VER 0x0100) ----

def dtls_record(ctype, version, epoch, seq, body):
    """RFC 6347 4.1 DTLSPlaintext/DTLSCiphertext header and body."""
    return struct.pack(">BHH", ctype, version, epoch) + seq.to_bytes(6, "big") + struct.pack(">H", len(body)) + body


def dtls_hs(msg_type, mseq, body):
    """RFC 6347 4.2.2 handshake header, one unfragmented message."""
    n = len(body).to_bytes(3, "big")
    return bytes([msg_type]) + n + struct.pack(">H", mseq) + b"\0\0\0" + n + body


def dtls_client_hello(version):
    # RFC 6347 4.2.1 ClientHello: version, random, empty session and cookie, one suite, null compression.
    return dtls_hs(1, 0, struct.pack(">H", version) + bytes(range(32)) + b"\0\0" + b"\0\x02\xc0\x2b" + b"\x01\0")


def dtls_oldver(c):
    # OpenSSL's DTLS1_BAD_VER (0x0100, used by Cisco AnyConnect): hello, HelloVerifyRequest, then
    # epoch-1 application data both ways. The handshake names DTLS; nothing may say NTP.
    hvr = dtls_hs(3, 0, b"\x01\x00" + b"\x08" + bytes(range(8)))
    msgs = [(1, dtls_record(22, 0x0100, 0, 0, dtls_client_hello(0x0100))), (0, dtls_record(22, 0x0100, 0, 0, hvr))]
    for i in range(3):
        msgs.append((1, dtls_record(23, 0x0100, 1, i + 1, rnd(48 + 16 * i))))
        msgs.append((0, dtls_record(23, 0x0100, 1, i + 1, rnd(64))))
    c.udp(50100, 4433, msgs)


def dtls_oldver_negative(c):
    # DTLS 0x0100 application-data records without their handshake, to NTP's port and others: the
    # shape that was read as an NTP mode 7 request (0x17 = v2 mode 7, 0x01 = a sequence number).
    for i, port in enumerate((123, 123, 443, 4433, 40123)):
        c.udp(50110 + i, port, [(1, dtls_record(23, 0x0100, 1, 5 + i, rnd(40 + 8 * i)))])


# ---- B: variants ----

def quic_long(first, version, dcid, scid, total=1200):
    """RFC 9000 17.2 long header (RFC 8999 5.1 invariants), padded like a client's Initial (14.1)."""
    h = bytes([first]) + struct.pack(">I", version) + bytes([len(dcid)]) + dcid + bytes([len(scid)]) + scid
    h += b"\0" + b"\x44\x00"  # token length 0, a 2-byte packet length
    return h + rnd(total - len(h))


def quic_versions(c):
    # mvfst's QuicVersion values MVFST (0xfaceb002) and MVFST_D24 (0xfaceb001), and the v2 drafts'
    # provisional 0x709a50c4 (v2 packet types: Initial 0b01); each server answers in the same version.
    # One server port each: a second flow to a server already known would be "expected".
    for i, (ver, first, sfirst) in enumerate(((0xfaceb002, 0xc3, 0xe3), (0xfaceb001, 0xc0, 0xe0),
                                              (0x709a50c4, 0xd3, 0xf3))):
        d, s = rnd(8), rnd(8)
        c.udp(50200 + i, 443 + 1000 * i, [(1, quic_long(first, ver, d, s)), (0, quic_long(sfirst, ver, s, rnd(8), 300))])


def ovpn_sha512(op, sid, extra):
    # OpenVPN control packet with tls-auth SHA512: opcode/key 0, session ID, 64-byte HMAC, replay
    # packet ID and time, then the ack array and message packet ID (OpenVPN's ssl_pkt.h layout).
    return bytes([op << 3]) + sid + rnd(64) + struct.pack(">II", 1, 1767225600) + extra


def openvpn_sha512(c):
    csid, ssid = rnd(8), rnd(8)
    client = ovpn_sha512(7, csid, b"\0" + b"\0\0\0\0")
    server = ovpn_sha512(8, ssid, b"\x01" + b"\0\0\0\0" + csid + b"\0\0\0\0")
    assert len(client) == 86 and len(server) == 98
    c.udp(50300, 1194, [(1, client), (0, server)])
    c.udp(50301, 31194, [(1, ovpn_sha512(7, rnd(8), b"\0" + b"\0\0\0\0")), (0, server)])


def mbap(tid, unit, pdu):
    """Modbus Messaging on TCP/IP 3.1.3: MBAP header, then the PDU."""
    return struct.pack(">HHHB", tid, 0, len(pdu) + 1, unit) + pdu


def modbus_user(c):
    # Modbus Application Protocol V1.1b3 5: user-defined function codes 100 and 65, and 90 (UMAS).
    c.tcp(50400, 502, [(1, mbap(1, 1, b"\x64" + b"\x01\x02\x03\x04")), (0, mbap(1, 1, b"\x64\xaa\xbb"))])
    c.tcp(50401, 5020, [(1, mbap(2, 1, b"\x41\x0a")), (0, mbap(2, 1, b"\xc1\x01"))])
    c.tcp(50402, 1502, [(1, mbap(3, 0, b"\x5a\x00\x02")), (0, mbap(3, 0, b"\x5a\x00\xfe\x01\x02"))])


def bson_int(name, v):
    e = b"\x10" + name + b"\0" + struct.pack("<i", v)
    return struct.pack("<i", 4 + len(e) + 1) + e + b"\0"


def mongo(rid, to, op, body):
    """MongoDB wire protocol MsgHeader (little-endian) and body."""
    return struct.pack("<iiii", 16 + len(body), rid, to, op) + body


def mongodb_m1(c):
    # OP_QUERY (2004) and OP_MSG (2013) requests with responseTo -1; OP_REPLY (1) and OP_MSG answers.
    q = mongo(7, -1, 2004, struct.pack("<I", 0) + b"admin.$cmd\0" + struct.pack("<ii", 0, -1) + bson_int(b"isMaster", 1))
    r = mongo(99, 7, 1, struct.pack("<IqiI", 8, 0, 0, 1) + bson_int(b"ok", 1))
    c.tcp(50500, 27017, [(1, q), (0, r)])
    m = mongo(8, -1, 2013, b"\0\0\0\0\0" + bson_int(b"hello", 1))
    c.tcp(50501, 37017, [(1, m), (0, mongo(100, 8, 2013, b"\0\0\0\0\0" + bson_int(b"ok", 1)))])


def variants_negative(c):
    # The B shapes with their evidence random: QUIC long headers of unknown versions (even next to
    # mvfst's block), OpenVPN-sized resets with nothing or a wrong-sized answer, Modbus MBAP headers
    # with user codes whose length does not fit, MongoDB headers with other responseTo values.
    port = 51000
    for ver in (0xfaceb000, 0xfaceb020, 0xfacec002, RNG.randrange(1 << 32), RNG.randrange(1 << 32)):
        c.udp(port, 443, [(1, quic_long(0xc3, ver, rnd(8), rnd(8))), (0, rnd(300))])
        port += 1
    for answer in (None, 97, 99, 86):
        msgs = [(1, bytes([0x38]) + rnd(85))]
        if answer:
            msgs.append((0, bytes([0x40]) + rnd(answer - 1)))
        c.udp(port, 1194, msgs)
        port += 1
    for fc in (65, 72, 90, 100, 110):
        pdu = bytes([fc]) + rnd(RNG.randrange(1, 20))
        bad = mbap(RNG.randrange(65536), 1, pdu)[:-1]  # one byte short of its MBAP length
        c.tcp(port, 502, [(1, bad), (0, rnd(12))])
        port += 1
    for to in (-2, 1, 12345):
        c.tcp(port, 27017, [(1, mongo(9, to, 2013, b"\0\0\0\0\0" + bson_int(b"hello", 1))), (0, rnd(40))])
        port += 1


# ---- C: other transports ----

def stun_msg(mtype, tid, attrs=b""):
    """RFC 8489 5 header (magic cookie 0x2112A442) and attributes."""
    return struct.pack(">HHI", mtype, len(attrs), 0x2112A442) + tid + attrs


XOR_MAPPED = bytes.fromhex("0020000800011a2b3a1e4a03")


def stun_tcp(c):
    # STUN over TCP unframed (RFC 8489 6.2.2: a Binding request and its response; then an
    # Allocate request and a Send indication in one segment, RFC 8656), and framed by a 16-bit
    # length (RFC 6544 3 / RFC 4571 2), as ICE-TCP candidates send it.
    t1, t2, t3 = rnd(12), rnd(12), rnd(12)
    c.tcp(50600, 3478, [(1, stun_msg(0x0001, t1)), (0, stun_msg(0x0101, t1, XOR_MAPPED)),
                        (1, stun_msg(0x0003, t2, bytes.fromhex("0019000411000000")) + stun_msg(0x0016, rnd(12)))])
    req, rsp = stun_msg(0x0001, t3, bytes.fromhex("80220004") + b"ice!"), stun_msg(0x0101, t3, XOR_MAPPED)
    c.tcp(50601, 9000, [(1, struct.pack(">H", len(req)) + req), (0, struct.pack(">H", len(rsp)) + rsp)])


def rtp_pkt(seq, ts, ssrc, payload, pt=0):
    """RFC 3550 5.1 fixed header, version 2."""
    return struct.pack(">BBHII", 0x80, pt, seq, ts, ssrc) + payload


def rfc4571(pkt):
    return struct.pack(">H", len(pkt)) + pkt


def rtp_tcp(c):
    # RTP over TCP (RFC 4571 2): PCMU packets of one SSRC each way, an RTCP receiver report
    # (RFC 3550 6.4.2) framed the same way, two frames once in one segment.
    ssrc_c, ssrc_s = 0x5e1f0001, 0x5e1f0002
    msgs = []
    for i in range(4):
        msgs.append((1, rfc4571(rtp_pkt(1000 + i, 160 * i, ssrc_c, rnd(160)))))
        msgs.append((0, rfc4571(rtp_pkt(7000 + i, 160 * i, ssrc_s, rnd(160)))))
    msgs.append((1, rfc4571(rtp_pkt(1004, 640, ssrc_c, rnd(160))) + rfc4571(rtp_pkt(1005, 800, ssrc_c, rnd(160)))))
    c.tcp(50700, 5000, msgs)
    rr = struct.pack(">BBHI", 0x81, 201, 7, ssrc_c) + struct.pack(">IIIIII", ssrc_s, 0, 7003, 0, 0, 0)
    c.tcp(50701, 5001, [(1, rfc4571(rr))])


def rdp_udp(c):
    # MS-RDPEUDP 2.2.2.1/2.2.2.5: the client's SYN (snSourceAck -1, SYN | CORRELATION_ID | SYNEX,
    # MTUs 1232) and the server's SYN+ACK acknowledging its initial sequence number, both padded
    # to 1232 bytes (3.1.5.1.1), then data.
    isn, sisn = 0x1b2c3d4e, 0x5a6b7c8d
    syn = struct.pack(">IHHIHH", 0xFFFFFFFF, 64, 0x1801, isn, 1232, 1232) + rnd(16) + struct.pack(">HHI", 0x0101, 0, 0)
    synack = struct.pack(">IHHIHH", isn, 64, 0x1005, sisn, 1232, 1232) + struct.pack(">HHI", 0x0101, 0, 0)
    c.udp(50800, 3389, [(1, syn.ljust(1232, b"\0")), (0, synack.ljust(1232, b"\0")), (1, rnd(145)), (0, rnd(120))])


def ber(tag, content):
    """X.690 definite-length TLV."""
    n = len(content)
    head = bytes([n]) if n < 128 else bytes([0x81, n]) if n < 256 else bytes([0x82]) + struct.pack(">H", n)
    return bytes([tag]) + head + content


def cldap(c):
    # CLDAP "LDAP ping" (MS-ADTS 6.3.3): a searchRequest for the netlogon attribute with
    # (&(DnsDomain=..)(NtVer=..)) over UDP 389, answered by a searchResEntry and a searchResDone
    # in separate datagrams; then an RFC 1798 request with the user LDAPDN field.
    flt = ber(0xA0, ber(0xA3, ber(0x04, b"DnsDomain") + ber(0x04, b"example.test")) +
              ber(0xA3, ber(0x04, b"NtVer") + ber(0x04, b"\x06\0\0\0")))
    sr = (ber(0x04, b"") + ber(0x0A, b"\0") + ber(0x0A, b"\0") + ber(0x02, b"\0") + ber(0x02, b"\0") +
          ber(0x01, b"\0") + flt + ber(0x30, ber(0x04, b"Netlogon")))
    req = ber(0x30, ber(0x02, b"\x05") + ber(0x63, sr))
    ent = ber(0x30, ber(0x02, b"\x05") + ber(0x64, ber(0x04, b"") + ber(0x30, ber(0x30, ber(0x04, b"Netlogon") +
                                                                                ber(0x31, ber(0x04, rnd(90)))))))
    done = ber(0x30, ber(0x02, b"\x05") + ber(0x65, ber(0x0A, b"\0") + ber(0x04, b"") + ber(0x04, b"")))
    c.udp(50900, 389, [(1, req), (0, ent), (0, done)])
    c.udp(50901, 1389, [(1, ber(0x30, ber(0x02, b"\x06") + ber(0x04, b"cn=probe") + ber(0x63, sr)))])


def transports_negative(c):
    # The C shapes with random evidence: TCP segments starting with a 16-bit length that fits
    # followed by random bytes (one per segment, and RTP-versioned ones of changing SSRCs), STUN
    # headers with a wrong magic over TCP, digits-and-space then random bytes, 1232-byte datagrams
    # to 3389 with random headers, BER SEQUENCEs of the datagram's length with random contents
    # to 389.
    port = 52000
    for n in range(6):
        body = rnd(RNG.randrange(20, 200))
        c.tcp(port, 5000 + n, [(1, struct.pack(">H", len(body)) + body), (0, rnd(60))])
        port += 1
    c.tcp(port, 5010, [(1, rfc4571(bytes([0x80, 0]) + rnd(30))) for _ in range(4)])
    port += 1
    for _ in range(3):
        c.tcp(port, 3478, [(1, struct.pack(">HHI", 1, 8, RNG.randrange(1 << 32)) + rnd(20))])
        port += 1
    for _ in range(3):
        c.tcp(port, 601, [(1, str(RNG.randrange(10, 999)).encode() + b" " + rnd(60))])
        port += 1
    for _ in range(4):
        c.udp(port, 3389, [(1, rnd(1232)), (0, rnd(1232))])
        port += 1
    for _ in range(4):
        body = rnd(RNG.randrange(20, 100))
        c.udp(port, 389, [(1, ber(0x30, body))])
        port += 1


# ---- SIP after keepalives (RFC 5626 3.5.1: CRLF CRLF ping, CRLF pong) ----

def sip_keepalive(c):
    # Crafted: SIPp sends no keepalives. A UA behind NAT pings its proxy for a while
    # before its next request; the keepalives must not use up the inspection budget.
    # Over UDP, and over a TCP connection picked up mid-session.
    reg = (b"REGISTER sip:example.test SIP/2.0\r\nVia: SIP/2.0/UDP 198.18.0.1:5062;branch=z9hG4bK-ka1\r\n"
           b"Max-Forwards: 70\r\nFrom: <sip:ua@example.test>;tag=ka1\r\nTo: <sip:ua@example.test>\r\n"
           b"Call-ID: ka1@198.18.0.1\r\nCSeq: 2 REGISTER\r\nContact: <sip:ua@198.18.0.1:5062>\r\n"
           b"Expires: 3600\r\nContent-Length: 0\r\n\r\n")
    ok = (b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 198.18.0.1:5062;branch=z9hG4bK-ka1\r\n"
          b"From: <sip:ua@example.test>;tag=ka1\r\nTo: <sip:ua@example.test>;tag=srv\r\n"
          b"Call-ID: ka1@198.18.0.1\r\nCSeq: 2 REGISTER\r\nContent-Length: 0\r\n\r\n")
    pings = [m for _ in range(10) for m in ((1, b"\r\n\r\n"), (0, b"\r\n"))]
    c.udp(5062, 5060, pings + [(1, reg), (0, ok)])
    c.tcp(45062, 5060, pings + [(1, reg.replace(b"UDP", b"TCP")), (0, ok.replace(b"UDP", b"TCP"))],
          handshake=False)


CAPTURES = {
    "sip_keepalive": sip_keepalive,
    "dtls_oldver": dtls_oldver,
    "dtls_oldver_negative": dtls_oldver_negative,
    "quic_versions": quic_versions,
    "openvpn_sha512": openvpn_sha512,
    "modbus_user": modbus_user,
    "mongodb_m1": mongodb_m1,
    "variants_negative": variants_negative,
    "stun_tcp": stun_tcp,
    "rtp_tcp": rtp_tcp,
    "rdp_udp": rdp_udp,
    "cldap": cldap,
    "transports_negative": transports_negative,
}


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    out, names = sys.argv[1], sys.argv[2:] or sorted(CAPTURES)
    for name in names:
        if name not in CAPTURES:
            print(f"craft.py: unknown capture {name}", file=sys.stderr)
            return 2
        RNG.seed(name)  # per capture, so one can be rewritten alone
        c = Cap()
        CAPTURES[name](c)
        c.write(os.path.join(out, f"{name}.pcap"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
