#!/usr/bin/python3
# SPDX-License-Identifier: MIT OR Apache-2.0
"""Spec-built captures for UDP protocols no Debian package here can produce.

Each capture is built with scapy from the specification its signature cites
(named next to each function), because no implementation of it runs in this
test environment: no mDNS/LLMNR responder without systemd-resolved or avahi
and D-Bus, no NetBIOS name server without the full samba package, no UPnP
device, no NAT-PMP gateway, no DHCPv6 client in the packaged busybox, no
L2TP/IKE daemon light enough (xl2tpd needs kernel PPP, strongswan a full
PKI), no BitTorrent client, no gQUIC stack, no RTP/RTCP sender outside a
full SIP call. For NTP (chrony), TFTP (tftpd-hpa), SNMP (snmpd), syslog
(logger), SIP (sipp), STUN (coturn), CoAP (libcoap), memcached, Kerberos,
RADIUS, WireGuard, OpenVPN and ONC RPC the packages are installed, but
recording them in namespaces did not produce packets in this environment in
the time available, so these captures are spec-built too: replacing them with
recordings is open work (make.sh's record() is the place).

Usage: craft.py OUTDIR [NAME...]   (make.sh calls it; each NAME.pcap is rewritten)
"""
import os
import struct
import sys

from scapy.all import DNS, DNSQR, DNSRR, IP, IPv6, UDP, Ether, Raw, wrpcap
from scapy.layers.dhcp6 import (DHCP6_Advertise, DHCP6_Reply, DHCP6_Request, DHCP6_Solicit, DHCP6OptClientId,
                                DHCP6OptElapsedTime, DHCP6OptIA_NA, DHCP6OptServerId, DUID_LL)
from scapy.layers.netbios import NBNSHeader, NBNSQueryRequest, NBNSQueryResponse, NBNS_ADD_ENTRY

C4, S4 = "198.18.0.1", "198.18.0.2"
C6, S6 = "2001:db8::1", "2001:db8::2"
MAC_C, MAC_S = "02:00:00:00:00:01", "02:00:00:00:00:02"
T0 = 1767225600.0  # 2026-01-01, a fixed clock so captures are reproducible


class Cap:
    """Datagrams of one capture, each (src, sport, dst, dport, payload)."""

    def __init__(self):
        self.pkts = []

    def add(self, src, sport, dst, dport, payload):
        mac_src, mac_dst = (MAC_C, MAC_S) if src in (C4, C6) or src.startswith("198.18.0.1") else (MAC_S, MAC_C)
        ip = IPv6(src=src, dst=dst) if ":" in src else IP(src=src, dst=dst)
        p = Ether(src=mac_src, dst=mac_dst) / ip / UDP(sport=sport, dport=dport) / Raw(bytes(payload))
        p.time = T0 + len(self.pkts) * 0.01
        self.pkts.append(p)

    def write(self, path):
        wrpcap(path, self.pkts)


def nb_name(name, suffix):
    """RFC 1001 14.1 first-level encoding, as the 0x20-length label."""
    raw = name.upper().ljust(15)[:15].encode() + bytes([suffix])
    return bytes([32]) + bytes(b for c in raw for b in (0x41 + (c >> 4), 0x41 + (c & 15))) + b"\0"


def mdns(c):
    # RFC 6762 5.1, 6, 18: a multicast query with a known answer (ID 0) and the
    # multicast response (AA, no question): two one-way flows.
    q = DNS(id=0, rd=0, qd=DNSQR(qname="_ipp._tcp.local", qtype="PTR"),
            an=DNSRR(rrname="_ipp._tcp.local", type="PTR", ttl=4500, rdata="old._ipp._tcp.local"))
    c.add("198.18.0.1", 5353, "224.0.0.251", 5353, bytes(q))
    r = DNS(id=0, qr=1, aa=1, rd=0, qd=None, an=DNSRR(rrname="_ipp._tcp.local", type="PTR", ttl=4500,
                                             rdata="printer._ipp._tcp.local"))
    c.add("198.18.0.2", 5353, "224.0.0.251", 5353, bytes(r))


def mdns_unicast(c):
    # RFC 6762 5.1, 6.7: a one-shot query with two questions from a port other
    # than 5353, answered by unicast to that port without the questions.
    q1 = DNS(id=0x1c2b, rd=0, qd=[DNSQR(qname="printer.local", qtype="A"), DNSQR(qname="printer.local", qtype="AAAA")])
    c.add(C4, 49152, S4, 5353, bytes(q1))
    r1 = DNS(id=0x1c2b, qr=1, aa=1, rd=0, qd=None, an=DNSRR(rrname="printer.local", type="A", ttl=120, rdata=S4))
    c.add(S4, 5353, C4, 49152, bytes(r1))


def llmnr(c):
    # RFC 4795 2.1: a query (one question) and the unicast response echoing it.
    q = DNS(id=0x7a11, rd=0, qd=DNSQR(qname="fileserver", qtype="A"))
    c.add(C4, 50000, S4, 5355, bytes(q))
    r = DNS(id=0x7a11, qr=1, rd=0, qd=DNSQR(qname="fileserver", qtype="A"),
            an=DNSRR(rrname="fileserver", type="A", ttl=30, rdata=S4))
    c.add(S4, 5355, C4, 50000, bytes(r))


def netbios(c):
    # RFC 1002 4.2.12/4.2.13: name query and positive response; 4.4.1: a direct group datagram.
    q = NBNSHeader(NAME_TRN_ID=0x2f01, NM_FLAGS="RD", QDCOUNT=1) / NBNSQueryRequest(QUESTION_NAME="FILESERVER")
    c.add(C4, 137, S4, 137, bytes(q))
    r = NBNSHeader(NAME_TRN_ID=0x2f01, RESPONSE=1, NM_FLAGS="AA+RD", QDCOUNT=0, ANCOUNT=1) / \
        NBNSQueryResponse(RR_NAME="FILESERVER", ADDR_ENTRY=[NBNS_ADD_ENTRY(NB_ADDRESS=S4)])
    c.add(S4, 137, C4, 137, bytes(r))
    body = nb_name("CLIENT", 0) + nb_name("WORKGROUP", 0x1e) + b"\xffSMB%" + bytes(27)
    d = struct.pack(">BBH4sHHH", 0x11, 0x02, 0x2f02, bytes([198, 18, 0, 1]), 138, len(body), 0) + body
    c.add(C4, 138, "198.18.0.255", 138, d)


def ssdp(c):
    # UPnP Device Architecture 2.0 1.3.2/1.3.3: unicast M-SEARCH and its response.
    c.add(C4, 50001, S4, 1900, b"M-SEARCH * HTTP/1.1\r\nHOST: 198.18.0.2:1900\r\nMAN: \"ssdp:discover\"\r\n"
          b"ST: upnp:rootdevice\r\n\r\n")
    c.add(S4, 1900, C4, 50001, b"HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=1800\r\nEXT:\r\n"
          b"LOCATION: http://198.18.0.2:8080/desc.xml\r\nST: upnp:rootdevice\r\n"
          b"USN: uuid:00000000-0000-0000-0000-000000000001::upnp:rootdevice\r\n\r\n")


def ssdp_notify(c):
    # UPnP Device Architecture 2.0 1.2.2: a multicast advertisement, one way.
    c.add(S4, 1901, "239.255.255.250", 1900, b"NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n"
          b"NT: upnp:rootdevice\r\nNTS: ssdp:alive\r\n\r\n")


def dhcpv6(c):
    # RFC 8415 18.2.1, 18.3.9: SOLICIT/ADVERTISE/REQUEST/REPLY between link-local-free test addresses.
    cid = DHCP6OptClientId(duid=DUID_LL(lladdr=MAC_C))
    sid = DHCP6OptServerId(duid=DUID_LL(lladdr=MAC_S))
    c.add(C6, 546, S6, 547, bytes(DHCP6_Solicit(trid=0x5a1e01) / cid / DHCP6OptElapsedTime() / DHCP6OptIA_NA(iaid=1)))
    c.add(S6, 547, C6, 546, bytes(DHCP6_Advertise(trid=0x5a1e01) / cid / sid / DHCP6OptIA_NA(iaid=1)))
    c.add(C6, 546, S6, 547, bytes(DHCP6_Request(trid=0x5a1e02) / cid / sid / DHCP6OptElapsedTime() / DHCP6OptIA_NA(iaid=1)))
    c.add(S6, 547, C6, 546, bytes(DHCP6_Reply(trid=0x5a1e02) / cid / sid / DHCP6OptIA_NA(iaid=1)))


def nat_pmp(c):
    # RFC 6886 3.2/3.3: external address request/response, UDP mapping request/response.
    c.add(C4, 50002, S4, 5351, b"\x00\x00")
    c.add(S4, 5351, C4, 50002, struct.pack(">BBHI4s", 0, 128, 0, 1200, bytes([203, 0, 113, 7])))
    c.add(C4, 50002, S4, 5351, struct.pack(">BBHHHI", 0, 1, 0, 6881, 6881, 7200))
    c.add(S4, 5351, C4, 50002, struct.pack(">BBHIHHI", 0, 129, 0, 1201, 6881, 6881, 7200))


def l2tp(c):
    # RFC 2661 3.1, 4.4, 5.1, 6.1-6.3: SCCRQ, SCCRP, SCCCN, ZLB; AVPs Message Type, Protocol Version, Host Name, Assigned Tunnel ID.
    def avp(attr, value):
        return struct.pack(">HHH", 0x8000 | (6 + len(value)), 0, attr) + value
    def ctl(tid, sid, ns, nr, avps):
        body = b"".join(avps)
        return struct.pack(">HHHHHH", 0xc802, 12 + len(body), tid, sid, ns, nr) + body
    c.add(C4, 1701, S4, 1701, ctl(0, 0, 0, 0, [avp(0, b"\x00\x01"), avp(2, b"\x01\x00"), avp(7, b"lac"),
                                              avp(9, b"\x00\x11")]))
    c.add(S4, 1701, C4, 1701, ctl(0x11, 0, 0, 1, [avp(0, b"\x00\x02"), avp(2, b"\x01\x00"), avp(7, b"lns"),
                                                 avp(9, b"\x00\x22")]))
    c.add(C4, 1701, S4, 1701, ctl(0x22, 0, 1, 1, [avp(0, b"\x00\x03")]))
    c.add(S4, 1701, C4, 1701, ctl(0x11, 0, 1, 2, []))


def ike(c):
    # RFC 7296 1.2, 3.1-3.4: IKE_SA_INIT request/response on 500, then IKE_AUTH
    # on 4500 behind the RFC 3948 2.2 non-ESP marker (Encrypted payload, opaque here).
    ispi, rspi = bytes.fromhex("8a1b2c3d4e5f6071"), bytes.fromhex("1f2e3d4c5b6a7988")
    def hdr(r, np, xchg, flags, mid, body):
        return ispi + r + struct.pack(">BBBBII", np, 0x20, xchg, flags, mid, 28 + len(body)) + body
    sa = struct.pack(">BBH", 34, 0, 4 + 44) + struct.pack(">BBHBBBB", 0, 0, 44, 1, 1, 0, 4) + \
        struct.pack(">BBHBBH", 3, 0, 8, 1, 0, 12) + struct.pack(">BBHBBH", 3, 0, 8, 3, 0, 12) + \
        struct.pack(">BBHBBH", 3, 0, 8, 2, 0, 5) + struct.pack(">BBHBBH", 0, 0, 8, 4, 0, 31)
    ke = struct.pack(">BBHHH", 40, 0, 8 + 32, 31, 0) + bytes(range(32))
    nonce = struct.pack(">BBH", 0, 0, 4 + 32) + bytes(range(100, 132))
    c.add(C4, 500, S4, 500, hdr(bytes(8), 33, 34, 0x08, 0, sa + ke + nonce))
    c.add(S4, 500, C4, 500, hdr(rspi, 33, 34, 0x20, 0, sa + ke + nonce))
    enc = struct.pack(">BBH", 35, 0, 4 + 96) + bytes((i * 7) & 0xff for i in range(96))
    c.add(C4, 4500, S4, 4500, bytes(4) + hdr(rspi, 46, 35, 0x08, 1, enc))
    c.add(S4, 4500, C4, 4500, bytes(4) + hdr(rspi, 46, 35, 0x20, 1, enc))


def bittorrent(c):
    # BEP 5: ping and find_node queries with responses; BEP 29: uTP SYN and STATE.
    nid, sid = b"abcdefghij0123456789", b"ZYXWVUTSRQ9876543210"
    c.add(C4, 6881, S4, 6881, b"d1:ad2:id20:" + nid + b"e1:q4:ping1:t2:aa1:y1:qe")
    c.add(S4, 6881, C4, 6881, b"d1:rd2:id20:" + sid + b"e1:t2:aa1:y1:re")
    c.add(C4, 51413, S4, 51413, struct.pack(">BBHIIIHH", 0x41, 0, 0x3039, 1000, 0, 1048576, 1, 0))
    c.add(S4, 51413, C4, 51413, struct.pack(">BBHIIIHH", 0x21, 0, 0x3039, 2000, 1000, 1048576, 500, 1))


def rtp_rtcp(c):
    # RFC 3550 5.1 and 6.4: a G.711 stream each way (20 ms, 160 samples) and
    # RTCP sender reports with SDES CNAME on the next port pair.
    for i in range(4):
        for (src, dst, sp, dp, ssrc, seq0) in ((C4, S4, 40000, 30000, 0x1a2b3c4d, 100),
                                               (S4, C4, 30000, 40000, 0x5e6f7081, 9000)):
            hdr = struct.pack(">BBHII", 0x80 if i else 0x80, 0, seq0 + i, 160 * i, ssrc)
            c.add(src, sp, dst, dp, hdr + bytes([0xd5]) * 160)
    for (src, dst, sp, dp, ssrc) in ((C4, S4, 40001, 30001, 0x1a2b3c4d), (S4, C4, 30001, 40001, 0x5e6f7081)):
        sr = struct.pack(">BBHIIIIII", 0x80, 200, 6, ssrc, 0xeeb26a53, 0, 640, 4, 640)
        cname = b"user@host"
        sdes_body = struct.pack(">IBB", ssrc, 1, len(cname)) + cname
        sdes_body += bytes(4 - len(sdes_body) % 4)
        sdes = struct.pack(">BBH", 0x81, 202, len(sdes_body) // 4) + sdes_body
        c.add(src, sp, dst, dp, sr + sdes)


def gquic(c):
    # Google QUIC Q046 (Chromium quic_versions.h; header per
    # draft-ietf-quic-invariants-05): client long header, 8-byte DCID, padded
    # to 1350 bytes; server long header of the same version. Payload opaque.
    cid = bytes.fromhex("c1a2b3c4d5e6f708")
    c.add(C4, 50003, S4, 443, b"\xc3Q046\x50" + cid + b"\x00\x00\x00\x01" + bytes(1350 - 18))
    c.add(S4, 443, C4, 50003, b"\xc3Q046\x05" + cid + b"\x00\x00\x00\x01" + bytes(50))
    # Q043 public header (flags 0x0d: version, 8-byte CID, 1-byte packet
    # number), to a port no guess names: found by payload alone.
    c.add(C4, 50004, S4, 8443, b"\x0d" + cid + b"Q043\x01" + bytes(1350 - 14))


def openvpn(c):
    # OpenVPN's control channel (ssl_pkt.h, reliable.c): plain client hard reset
    # V2, server hard reset V2 acking the client's session, client ACK.
    cs, ss = bytes.fromhex("11223344556677aa"), bytes.fromhex("99887766554433bb")
    c.add(C4, 50005, S4, 1194, b"\x38" + cs + b"\x00" + bytes(4))
    c.add(S4, 1194, C4, 50005, b"\x40" + ss + b"\x01" + bytes(4) + cs + bytes(4))
    c.add(C4, 50005, S4, 1194, b"\x28" + cs + b"\x01" + bytes(4) + ss)


def ntp(c):
    # RFC 5905 7.3, 8: client (mode 3) and server (mode 4) whose origin timestamp
    # echoes the client's transmit timestamp.
    tx = struct.pack(">II", 0xed0c2f00, 0x8a3b1c00)
    c.add(C4, 50010, S4, 123, bytes([0x23, 0, 6, 0xec]) + bytes(36) + tx)
    c.add(S4, 123, C4, 50010, bytes([0x24, 2, 6, 0xe9]) + struct.pack(">II", 0x00000100, 0x00000200) +
          bytes([127, 0, 0, 1]) + struct.pack(">II", 0xed0c2e00, 0) + tx + struct.pack(">IIII", 0xed0c2f00,
                                                                                      0x8b000000, 0xed0c2f00, 0x8c000000))


def tftp(c):
    # RFC 1350 5 and RFC 2347: RRQ on 69; DATA block 1 from the server's new port, the client's ACK.
    c.add(C4, 50011, S4, 69, b"\x00\x01hello.txt\x00octet\x00")
    c.add(S4, 50999, C4, 50011, b"\x00\x03\x00\x01hello over tftp\n")
    c.add(C4, 50011, S4, 50999, b"\x00\x04\x00\x01")


def snmp(c):
    # RFC 3416 3 (BER per X.690): v2c GetRequest and GetResponse for sysDescr.0.
    c.add(C4, 50012, S4, 161, bytes.fromhex("302602010104067075626c6963a01902014d020100020100300e300c06082b060102"
                                            "010101000500"))
    c.add(S4, 161, C4, 50012, bytes.fromhex("302b02010104067075626c6963a21e02014d0201000201003013301106082b06010201"
                                            "01010004054c696e7578"))


def syslog(c):
    # RFC 5426 over RFC 5424 and RFC 3164 message formats.
    c.add(C4, 50013, S4, 514, b"<13>1 2026-01-01T00:00:00.000000+00:00 client pktspec - - - hello 5424")
    c.add(C4, 50014, S4, 514, b"<13>Jan  1 00:00:00 client pktspec: hello 3164")


def sip(c):
    # RFC 3261 7, 17: INVITE, 100 Trying, 200 OK, ACK.
    via = b"Via: SIP/2.0/UDP 198.18.0.1:5061;branch=z9hG4bK-1\r\nCall-ID: 1@198.18.0.1\r\nCSeq: 1 INVITE\r\n"
    c.add(C4, 5061, S4, 5060, b"INVITE sip:service@198.18.0.2:5060 SIP/2.0\r\n" + via +
          b"From: <sip:sipp@198.18.0.1:5061>;tag=1\r\nTo: <sip:service@198.18.0.2:5060>\r\nContent-Length: 0\r\n\r\n")
    c.add(S4, 5060, C4, 5061, b"SIP/2.0 100 Trying\r\n" + via + b"Content-Length: 0\r\n\r\n")
    c.add(S4, 5060, C4, 5061, b"SIP/2.0 200 OK\r\n" + via + b"Content-Length: 0\r\n\r\n")
    c.add(C4, 5061, S4, 5060, b"ACK sip:service@198.18.0.2:5060 SIP/2.0\r\n" + via + b"Content-Length: 0\r\n\r\n")


def stun(c):
    # RFC 8489 6, 14.2: Binding request and success response with XOR-MAPPED-ADDRESS.
    tid = bytes.fromhex("a1b2c3d4e5f60718293a4b5c")
    c.add(C4, 50015, S4, 3478, struct.pack(">HHI", 0x0001, 0, 0x2112A442) + tid)
    xport = 50015 ^ 0x2112
    xaddr = bytes(a ^ b for a, b in zip(bytes([198, 18, 0, 1]), bytes.fromhex("2112a442")))
    c.add(S4, 3478, C4, 50015, struct.pack(">HHI", 0x0101, 12, 0x2112A442) + tid +
          struct.pack(">HHBBH", 0x0020, 8, 0, 1, xport) + xaddr)


def coap(c):
    # RFC 7252 3, 5.10, 6.5: CON GET /.well-known/core and the piggybacked ACK 2.05.
    c.add(C4, 50016, S4, 5683, bytes.fromhex("42011a2bc0de") + b"\xbb.well-known\x04core")
    c.add(S4, 5683, C4, 50016, bytes.fromhex("62451a2bc0de") + b"\xc1\x28\xff</time>;ct=0")


def memcached(c):
    # memcached protocol.txt, "UDP protocol": frame header, set/get and replies.
    c.add(C4, 50017, S4, 11211, struct.pack(">HHHH", 1, 0, 1, 0) + b"set k 0 60 5\r\nhello\r\n")
    c.add(S4, 11211, C4, 50017, struct.pack(">HHHH", 1, 0, 1, 0) + b"STORED\r\n")
    c.add(C4, 50017, S4, 11211, struct.pack(">HHHH", 2, 0, 1, 0) + b"get k\r\n")
    c.add(S4, 11211, C4, 50017, struct.pack(">HHHH", 2, 0, 1, 0) + b"VALUE k 0 5\r\nhello\r\nEND\r\n")


def der(tag, body):
    n = len(body)
    return bytes([tag]) + (bytes([n]) if n < 128 else b"\x81" + bytes([n]) if n < 256 else
                           b"\x82" + n.to_bytes(2, "big")) + body


def kerberos(c):
    # RFC 4120 5.4.1, 5.9.1 (DER): AS-REQ for alice@EXAMPLE.ORG, KRB-ERROR PREAUTH_REQUIRED (25).
    i = lambda v: der(0x02, bytes([v]))
    gs = lambda s: der(0x1b, s)
    cname = der(0xa1, der(0x30, der(0xa0, i(1)) + der(0xa1, der(0x30, gs(b"alice")))))
    sname = der(0xa3, der(0x30, der(0xa0, i(2)) + der(0xa1, der(0x30, gs(b"krbtgt") + gs(b"EXAMPLE.ORG")))))
    body = der(0xa4, der(0x30, der(0xa0, der(0x03, b"\x00\x50\x00\x00\x10")) + cname + der(0xa2, gs(b"EXAMPLE.ORG")) +
                         sname + der(0xa5, der(0x18, b"20370913024805Z")) + der(0xa7, der(0x02, b"\x12\x34\x56\x78")) +
                         der(0xa8, der(0x30, i(18) + i(17)))))
    c.add(C4, 50018, S4, 88, der(0x6a, der(0x30, der(0xa1, i(5)) + der(0xa2, i(10)) + body)))
    err = der(0x30, der(0xa0, i(5)) + der(0xa1, i(30)) + der(0xa4, der(0x18, b"20260101000000Z")) +
              der(0xa5, i(0)) + der(0xa6, i(25)) + der(0xa9, gs(b"EXAMPLE.ORG")) + sname.replace(b"\xa3", b"\xaa", 1))
    c.add(S4, 88, C4, 50018, der(0x7e, err))


def radius(c):
    # RFC 2865 3, 5: Access-Request (User-Name, User-Password, NAS-IP-Address) and Access-Accept.
    attrs = bytes([1, 7]) + b"alice" + bytes([2, 18]) + bytes(range(16)) + bytes([4, 6, 198, 18, 0, 1])
    c.add(C4, 50019, S4, 1812, struct.pack(">BBH", 1, 0x2a, 20 + len(attrs)) + bytes(range(16, 32)) + attrs)
    c.add(S4, 1812, C4, 50019, struct.pack(">BBH", 2, 0x2a, 20) + bytes(range(32, 48)))


def wireguard(c):
    # WireGuard paper 5.4.2, 5.4.3, 5.4.6: initiation (148), response naming the
    # initiator's index (92), and transport data both ways (keys opaque).
    c.add(C4, 50020, S4, 51820, b"\x01\x00\x00\x00" + struct.pack("<I", 0x11223344) + bytes(range(140)))
    c.add(S4, 51820, C4, 50020, b"\x02\x00\x00\x00" + struct.pack("<II", 0x55667788, 0x11223344) + bytes(range(80)))
    c.add(C4, 50020, S4, 51820, b"\x04\x00\x00\x00" + struct.pack("<IQ", 0x55667788, 0) + bytes(range(48)))
    c.add(S4, 51820, C4, 50020, b"\x04\x00\x00\x00" + struct.pack("<IQ", 0x11223344, 0) + bytes(range(48)))


def rpc(c):
    # RFC 5531 9, RFC 1833: rpcbind GETPORT call for NFS v3/UDP and its accepted reply.
    c.add(C4, 50021, S4, 111, struct.pack(">IIIIIIIIII", 0x5eed0001, 0, 2, 100000, 2, 3, 0, 0, 0, 0) +
          struct.pack(">IIII", 100003, 3, 17, 0))
    c.add(S4, 111, C4, 50021, struct.pack(">IIIIIII", 0x5eed0001, 1, 0, 0, 0, 0, 2049))


def negative(c):
    # Negative capture: random bytes (fixed seed) to every well-known UDP port
    # pktspec guesses and to random ports, two datagrams each way; then every
    # other crafted first message longer than 8 bytes truncated to 8 bytes
    # (syslog aside: a prefix of a syslog line is still a syslog line). None
    # may reach signature.
    import random
    rnd = random.Random(20260101)
    ports = [53, 67, 69, 88, 111, 123, 137, 138, 161, 443, 500, 514, 547, 1194, 1701, 1812, 1900, 3478, 4500,
             5060, 5351, 5353, 5355, 5683, 6881, 11211, 51820] + [rnd.randrange(1024, 65535) for _ in range(13)]
    for i, port in enumerate(ports):
        for k in range(4):
            data = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 300)))
            if k & 1:
                c.add(S4, port, C4, 30000 + i, data)
            else:
                c.add(C4, 30000 + i, S4, port, data)
    for j, name in enumerate(n for n in sorted(CAPTURES) if n not in ("negative", "syslog")):
        sub = Cap()
        CAPTURES[name](sub)
        p = sub.pkts[0]
        if len(p[UDP].payload) > 8:
            c.add(C4, 31000 + j, S4, p[UDP].dport, bytes(p[UDP].payload)[:8])


CAPTURES = {"mdns": mdns, "mdns_unicast": mdns_unicast, "ssdp_notify": ssdp_notify, "llmnr": llmnr, "netbios": netbios, "ssdp": ssdp, "dhcpv6": dhcpv6, "nat_pmp": nat_pmp,
            "l2tp": l2tp, "ike": ike, "bittorrent": bittorrent, "rtp_rtcp": rtp_rtcp, "gquic": gquic,
            "openvpn": openvpn, "ntp": ntp, "tftp": tftp, "snmp": snmp, "syslog": syslog, "sip": sip, "stun": stun,
            "coap": coap, "memcached": memcached, "kerberos": kerberos, "radius": radius, "wireguard": wireguard,
            "rpc": rpc, "negative": negative}


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    out, names = sys.argv[1], sys.argv[2:] or sorted(CAPTURES)
    for name in names:
        if name not in CAPTURES:
            print(f"craft.py: unknown capture {name}", file=sys.stderr)
            return 2
        c = Cap()
        CAPTURES[name](c)
        c.write(os.path.join(out, f"{name}.pcap"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
