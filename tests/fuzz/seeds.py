#!/usr/bin/python3
# SPDX-License-Identifier: MIT OR Apache-2.0
"""Seed corpora for the libFuzzer targets of tests/fuzz.

    seeds.py CAPTURE_DIR OUT_DIR

Reads every classic pcap under CAPTURE_DIR (Ethernet, VLAN tags, IPv4/IPv6,
TCP/UDP; other link types are skipped), splits its packets into flows and
directions, and writes one file per seed into OUT_DIR/TARGET/, in the input
format each target documents at its top; then adds a few written inputs of
its own. Only the standard library: it runs in the build, and nothing it
makes is committed.
"""
import hashlib
import os
import struct
import sys

MAX_PER_TARGET = 400


def pcap_packets(path):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        return
    linktype = struct.unpack(e + "I", data[20:24])[0]
    if linktype != 1:
        return
    off = 24
    while off + 16 <= len(data):
        _, _, caplen, _ = struct.unpack(e + "IIII", data[off:off + 16])
        off += 16
        yield data[off:off + caplen]
        off += caplen


def l4_payload(frame):
    """(l4, src, sport, dst, dport, seq, payload) of an Ethernet frame, or None."""
    off, etype = 14, struct.unpack(">H", frame[12:14])[0] if len(frame) >= 14 else 0
    while etype in (0x8100, 0x88A8) and len(frame) >= off + 4:
        etype = struct.unpack(">H", frame[off + 2:off + 4])[0]
        off += 4
    if etype == 0x0800 and len(frame) >= off + 20:
        ihl = (frame[off] & 15) * 4
        total = struct.unpack(">H", frame[off + 2:off + 4])[0]
        proto, src, dst = frame[off + 9], frame[off + 12:off + 16], frame[off + 16:off + 20]
        if struct.unpack(">H", frame[off + 6:off + 8])[0] & 0x1FFF:
            return None
        end, off = min(len(frame), off + total), off + ihl
    elif etype == 0x86DD and len(frame) >= off + 40:
        plen = struct.unpack(">H", frame[off + 4:off + 6])[0]
        proto, src, dst = frame[off + 6], frame[off + 8:off + 24], frame[off + 24:off + 40]
        end, off = min(len(frame), off + 40 + plen), off + 40
    else:
        return None
    if proto == 6 and end >= off + 20:
        sport, dport, seq = struct.unpack(">HHI", frame[off:off + 8])
        doff = (frame[off + 12] >> 4) * 4
        return 6, src, sport, dst, dport, seq, frame[off + doff:end]
    if proto == 17 and end >= off + 8:
        sport, dport = struct.unpack(">HH", frame[off:off + 4])
        return 17, src, sport, dst, dport, 0, frame[off + 8:end]
    return None


class Flow:
    def __init__(self, key, client):
        self.key = key
        self.client = client  # (addr, port) of the first sender
        self.server_port = 0
        self.packets = []  # (from_client, seq, payload)


def flows_of(path):
    flows = {}
    for frame in pcap_packets(path):
        p = l4_payload(frame)
        if not p:
            continue
        l4, src, sport, dst, dport, seq, payload = p
        key = (l4,) + tuple(sorted([(src, sport), (dst, dport)]))
        fl = flows.get(key)
        if fl is None:
            fl = flows[key] = Flow(key, (src, sport))
            fl.server_port = dport
        if payload:
            fl.packets.append(((src, sport) == fl.client, seq, payload))
    return list(flows.values())


def rec(data):
    data = data[:65535]
    return struct.pack(">H", len(data)) + data


class Out:
    def __init__(self, root):
        self.root = root
        self.count = {}

    def add(self, target, data):
        if self.count.get(target, 0) >= MAX_PER_TARGET:
            return
        d = os.path.join(self.root, target)
        os.makedirs(d, exist_ok=True)
        name = os.path.join(d, hashlib.sha1(data).hexdigest()[:16])
        if not os.path.exists(name):
            with open(name, "wb") as f:
                f.write(data)
            self.count[target] = self.count.get(target, 0) + 1


def stream(fl, from_client, limit=16384):
    return b"".join(p for c, _, p in fl.packets if c == from_client)[:limit]


def client_hello_msg(cstream):
    """The handshake messages of a client's first TLS records (the record headers removed)."""
    out, off = b"", 0
    while off + 5 <= len(cstream) and cstream[off] == 0x16:
        n = struct.unpack(">H", cstream[off + 3:off + 5])[0]
        out += cstream[off + 5:off + 5 + n]
        off += 5 + n
    return out


def crypto_frame(off, data):
    return bytes([0x06, 0x40 | off >> 8, off & 0xFF, 0x40 | len(data) >> 8, len(data) & 0xFF]) + data


def main():
    src, dst = sys.argv[1], sys.argv[2]
    out = Out(dst)
    hellos = []
    for root, _, files in sorted(os.walk(src)):
        for name in sorted(files):
            path = os.path.join(root, name)
            if not name.endswith(".pcap"):
                continue
            if os.path.getsize(path) <= 65536:
                out.add("pcap", open(path, "rb").read())
            for fl in flows_of(path):
                l4 = fl.key[0]
                sp = fl.client[1]
                seen = {True: 0, False: 0}
                for from_client, seq, payload in fl.packets:
                    nth = seen[from_client]
                    seen[from_client] += 1
                    if nth < 3:
                        a, b = (sp, fl.server_port) if from_client else (fl.server_port, sp)
                        out.add("sig", struct.pack(">HHBB", a, b, nth, 0) + payload[:200])
                    if l4 == 17 and 53 in (sp, fl.server_port) or 5353 in (sp, fl.server_port):
                        out.add("dns", payload)
                    if l4 == 17 and from_client and payload[:1] and payload[0] & 0xC0 == 0xC0:
                        quic = [p for c, _, p in fl.packets if c][:4]
                        out.add("quic", b"\x00" + b"".join(rec(p) for p in quic))
                    if b"SIP/2.0" in payload[:200] or b"RTSP/1.0" in payload[:200] or b"v=0" in payload:
                        out.add("sdp", payload)
                if l4 == 6 and 53 == fl.server_port:
                    s = stream(fl, False)
                    if len(s) > 2:
                        out.add("dns", s[2:])
                cs = stream(fl, True)
                ss = stream(fl, False)
                if cs[:1] == b"\x16":
                    out.add("tls", b"\x08\x02\x40\xa0" + cs)
                    out.add("tls", b"\x0a\x00" + cs)
                    hm = client_hello_msg(cs)
                    if hm:
                        hellos.append(hm)
                if ss[:1] == b"\x16":
                    out.add("tls", b"\x09\x01\x80" + ss)
                if cs[:4] in (b"GET ", b"POST", b"HEAD", b"PUT ", b"CONN", b"OPTI"):
                    out.add("http", b"\x00\x02\x30\x90" + cs[:8192])
                if cs or ss:
                    ev = b""
                    for from_client, seq, payload in fl.packets[:12]:
                        b0 = (0 if from_client else 4) | (8 if l4 == 17 else 0) | \
                             (0x10 if len(fl.key[1][0]) == 16 else 0)
                        ev += bytes([b0, 0]) + struct.pack(">H", fl.server_port) + rec(payload[:2048])
                    out.add("engine", ev)
    # The CRYPTO frames of a client Initial around the captured ClientHellos,
    # for fuzz_quic's sealing mode: whole, and split over two Initials.
    for hm in hellos[:40]:
        out.add("quic", b"\x01" + rec(crypto_frame(0, hm[:1100])))
        half = len(hm) // 2
        out.add("quic", b"\x05" + rec(crypto_frame(half, hm[half:1100])) + rec(crypto_frame(0, hm[:half])))
    written(out)


def written(out):
    """Inputs written by hand: what the captures lack."""
    dns_hdr = bytes.fromhex("abcd81800001000200000000")
    q = b"\x03www\x07example\x03com\x00\x00\x01\x00\x01"
    cname = b"\xc0\x0c\x00\x05\x00\x01\x00\x00\x00\x3c\x00\x06\x03cdn\xc0\x10"
    a = b"\xc0\x2b\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\xc6\x12\x00\x02"
    out.add("dns", dns_hdr + q + cname + a)
    out.add("dns", bytes.fromhex("abcd81800001000100000000") + q + b"\xc0\x0c\xc0\x0c")  # a pointer loop
    for t in (b"GET http://Example.COM:8080/x HTTP/1.1\r\nHost: a\r\n\r\n",
              b"CONNECT example.org:443 HTTP/1.1\r\n\r\n",
              b"GET / HTTP/1.0\r\nHost: [2001:db8::1]:80\r\nUser-Agent: x\r\n\r\n",
              b"HTTP/1.1 200 OK\r\n\r\n"):
        out.add("http", b"\x00\x01\x80" + t)
    sdp = (b"v=0\r\no=- 1 1 IN IP4 198.18.0.1\r\ns=-\r\nc=IN IP4 198.18.0.1\r\nt=0 0\r\n"
           b"m=audio 6000 RTP/AVP 0\r\na=rtcp:6001\r\nm=video 6002 RTP/AVP 96\r\nc=IN IP6 2001:db8::1\r\n")
    invite = (b"INVITE sip:b@198.18.0.2 SIP/2.0\r\nCall-ID: x\r\nContent-Type: application/sdp\r\n"
              b"Content-Length: %d\r\n\r\n" % len(sdp)) + sdp
    out.add("sdp", invite)
    rtsp_reply = b"RTSP/1.0 200 OK\r\nCSeq: 3\r\nTransport: RTP/AVP;unicast;client_port=5000-5001;server_port=6000-6001;source=198.18.0.2\r\n\r\n"
    out.add("sdp", rtsp_reply)
    # Engine events: FTP EPRT |2| from the client, an RTSP reply, SIP over TCP in two segments.
    def ev(b0, proto, port, data):
        return bytes([b0, proto]) + struct.pack(">H", port) + rec(data)
    protos = proto_numbers()
    out.add("engine", ev(0, protos.get("ftp", 0), 21, b"EPRT |2|2001:db8::1|40001|\r\n") +
            ev(0, protos.get("ftp", 0), 21, b"EPRT |2|::ffff:198.18.0.1|0|\r\nEPRT |1|1.2.3.4|5|\r\n"))
    out.add("engine", ev(0, protos.get("rtsp", 0), 554, b"SETUP rtsp://x/a RTSP/1.0\r\nCSeq: 3\r\n\r\n") +
            ev(4, protos.get("rtsp", 0), 554, rtsp_reply))
    out.add("engine", ev(0, protos.get("sip", 0), 5060, invite[:60]) + ev(0, protos.get("sip", 0), 5060, invite[60:]))
    out.add("engine", ev(8, protos.get("sip", 0), 5060, invite))
    out.add("engine", ev(12, protos.get("dns", 0), 53, dns_hdr + q + cname + a))
    # Configuration files: operator rules, policy, application lists (fuzz_conf's first byte).
    out.add("conf", b"\x00# rules\naddr 198.18.0.0/15 tcp port 80-90 proto http\n"
            b"host example.com app video\naddr 2001:db8::/32 udp port 53 proto dns\n")
    out.add("conf", b"\x01any app video mark 0x10\nproto dns confidence confirmed drop\n"
            b"proto http dscp ef\n")
    out.add("conf", b"\x02youtube.com video\n.example.org corp # comment\n")
    out.add("conf", b"\x03youtube.com video\ngooglevideo.com video\nexample.org corp\n")
    # Signatures: a DNS query on 53 and an IEC 104 STARTDT on 2404.
    out.add("sig", struct.pack(">HHBB", 40000, 53, 0, 0) + dns_hdr[:2] + b"\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00" + q)
    out.add("sig", struct.pack(">HHBB", 40000, 2404, 0, 0) + bytes.fromhex("680407000000"))


def proto_numbers():
    """Protocol numbers by name, from include/pktspec/protocols.def."""
    here = os.path.dirname(os.path.abspath(__file__))
    nums = {}
    try:
        with open(os.path.join(here, "..", "..", "include", "pktspec", "protocols.def")) as f:
            for line in f:
                if line.startswith("PKS_PROTO("):
                    parts = [x.strip() for x in line[len("PKS_PROTO("):].split(",")]
                    nums[parts[2].strip('"')] = int(parts[1], 0)
    except OSError:
        pass
    return nums


if __name__ == "__main__":
    main()
