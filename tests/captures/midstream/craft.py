#!/usr/bin/python3
# SPDX-License-Identifier: MIT OR Apache-2.0
"""CRAFTED captures of flows picked up mid-session (issue 11 item 3): TCP
conversations whose handshake is not in the capture, on each protocol's
port, and DTLS records without their handshake; plus near misses that must
stay unnamed (among them text lines, bpf/sig/midtext.h). Each message is built with scapy from the specification
bpf/sig/midstream.h cites for its frame header (the builder's comment repeats
it). Crafted, not recorded: a recording would only be cut the same way, and
these keep the frames' exact shapes (chained messages, encrypted SMB3,
64-bit WebSocket lengths) fixed.

Usage: craft.py OUTDIR [NAME...]   (each NAME.pcap is rewritten; default: all)
"""
import importlib.util
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("variants_craft", os.path.join(HERE, "..", "variants", "craft.py"))
_v = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_v)
Cap, rnd, dtls_record = _v.Cap, _v.rnd, _v.dtls_record


# ---- MQTT 3.1.1 2.2 fixed header, 3.3 PUBLISH, 3.4 PUBACK, 3.12/3.13 PINGREQ/PINGRESP ----

def mqtt(first, body):
    n, rl = len(body), b""
    while True:
        b, n = n & 0x7f, n >> 7
        rl += bytes([b | (0x80 if n else 0)])
        if not n:
            return bytes([first]) + rl + body


def mqtt_publish(topic, payload, qos=0, pid=1):
    t = struct.pack(">H", len(topic)) + topic
    return mqtt(0x30 | (qos << 1), t + (struct.pack(">H", pid) if qos else b"") + payload)


def mqtt_mid(c):
    # A subscriber's connection seen after CONNECT: deliveries (one above 127 bytes: a 2-byte
    # Remaining Length), a QoS 1 publish with its PUBACK, then keepalive pings.
    c.tcp(51883, 1883, [
        (0, mqtt_publish(b"sensors/t1", b"21.5")),
        (0, mqtt_publish(b"sensors/log", b"x" * 300)),
        (1, mqtt_publish(b"cmd/valve", b"open", qos=1, pid=9)),
        (0, mqtt(0x40, struct.pack(">H", 9))),
        (1, b"\xc0\x00"), (0, b"\xd0\x00"),
    ], handshake=False)


# ---- RFC 6455 5.2 base framing ----

def ws(b0, data, mask=None):
    n = len(data)
    if n < 126:
        h = bytes([b0, (0x80 if mask else 0) | n])
    elif n < 65536:
        h = bytes([b0, (0x80 if mask else 0) | 126]) + struct.pack(">H", n)
    else:
        h = bytes([b0, (0x80 if mask else 0) | 127]) + struct.pack(">Q", n)
    if mask:
        data = bytes(x ^ mask[i & 3] for i, x in enumerate(data))
        h += mask
    return h + data


def websocket_mid(c):
    # A WebSocket connection on 80 after its upgrade: server text frames (one with a 16-bit
    # length), the client's masked frames, a ping and its pong.
    c.tcp(51080, 80, [
        (0, ws(0x81, b'{"price":101.5}')),
        (0, ws(0x82, rnd(200))),
        (1, ws(0x81, b'{"sub":"eur"}', mask=b"\x1f\x2e\x3d\x4c")),
        (0, ws(0x89, b"hb")),
        (1, ws(0x8a, b"hb", mask=b"\x01\x02\x03\x04")),
    ], handshake=False)


# ---- MS-TDS 2.2.3.1 packet header ----

def tds(ptype, body, spid=0, pid=1, status=1):
    return struct.pack(">BBHHBB", ptype, status, 8 + len(body), spid, pid, 0) + body


def mssql_mid(c):
    # SQL batches (UTF-16 text after the ALL_HEADERS block) and tabular results.
    q = struct.pack("<IIHQI", 22, 18, 2, 0, 1) + "SELECT name FROM sys.tables".encode("utf-16-le")
    c.tcp(51433, 1433, [
        (1, tds(1, q)), (0, tds(4, rnd(90), spid=53)),
        (1, tds(1, q)), (0, tds(4, rnd(120), spid=53)),
    ], handshake=False)


# ---- AMQP 0-9-1 2.3.5 frames, 4.2.6 content header ----

def amqp(ftype, chan, payload):
    return struct.pack(">BHI", ftype, chan, len(payload)) + payload + b"\xce"


def amqp_mid(c):
    # basic.publish + content header + body in one segment, basic.deliver back, heartbeats.
    pub = struct.pack(">HHH", 60, 40, 0) + b"\x00" + b"\x05tasks" + b"\x00"
    hdr = struct.pack(">HHQH", 60, 0, 5, 0)
    deliver = struct.pack(">HH", 60, 60) + b"\x08ctag-one" + struct.pack(">Q", 1) + b"\x00\x00\x05tasks"
    c.tcp(55672, 5672, [
        (1, amqp(1, 1, pub) + amqp(2, 1, hdr) + amqp(3, 1, b"hello")),
        (0, amqp(1, 1, deliver) + amqp(2, 1, hdr) + amqp(3, 1, b"hello")),
        (1, amqp(8, 0, b"")), (0, amqp(8, 0, b"")),
    ], handshake=False)


# ---- MS-SMB2 2.1 direct TCP, 2.2.1 header, 2.2.41 transform header ----

def smb2(cmd, response, body, mid=1):
    flags = 1 if response else 0
    h = b"\xfeSMB" + struct.pack("<HHIHHIIQIIQ", 64, 1, 0, cmd, 1, flags, 0, mid, 0xfeff, 1, 0x44) + b"\0" * 16
    m = h + body
    return b"\0" + len(m).to_bytes(3, "big") + m


def smb3_enc(size):
    m = b"\xfdSMB" + rnd(32) + struct.pack("<IHHQ", size, 0, 1, 0x44) + rnd(size)
    return b"\0" + len(m).to_bytes(3, "big") + m


def smb2_mid(c):
    # A read and its response on a signed session, then encrypted SMB 3 traffic.
    c.tcp(50445, 445, [
        (1, smb2(8, False, rnd(49), mid=7)), (0, smb2(8, True, rnd(80), mid=7)),
        (1, smb3_enc(120)), (0, smb3_enc(200)),
    ], handshake=False)


# ---- PostgreSQL protocol, Message Formats ----

def pg(t, body):
    return t + struct.pack(">I", 4 + len(body)) + body


def postgresql_mid(c):
    # Simple queries on an established session: RowDescription, DataRow, CommandComplete, ReadyForQuery.
    rowdesc = struct.pack(">H", 1) + b"n\0" + struct.pack(">IHIhih", 0, 0, 23, 4, -1, 0)
    c.tcp(55432, 5432, [
        (1, pg(b"Q", b"SELECT 1 AS n\0")),
        (0, pg(b"T", rowdesc) + pg(b"D", struct.pack(">HI", 1, 1) + b"1") + pg(b"C", b"SELECT 1\0") + pg(b"Z", b"I")),
        (1, pg(b"Q", b"BEGIN\0")),
        (0, pg(b"C", b"BEGIN\0") + pg(b"Z", b"T")),
    ], handshake=False)


# ---- MySQL client/server protocol: packets, COM_QUERY, result set, OK ----

def my(seq, body):
    return struct.pack("<I", len(body))[:3] + bytes([seq]) + body


def mysql_mid(c):
    coldef = b"\x03def\x00\x00\x00\x011\x00\x0c\x3f\x00\x01\x00\x00\x00\x08\x81\x00\x00\x00\x00"
    c.tcp(53306, 3306, [
        (1, my(0, b"\x03SELECT 1")),
        (0, my(1, b"\x01") + my(2, coldef) + my(3, b"\x011") + my(4, b"\xfe\x00\x00\x02\x00")),
        (1, my(0, b"\x03COMMIT")),
        (0, my(1, b"\x00\x00\x00\x02\x00\x00\x00")),
    ], handshake=False)


# ---- RFC 6347 4.1: DTLS 1.2 application data, no handshake in the capture ----

def dtls_mid(c):
    msgs = []
    for i in range(3):
        msgs.append((1, dtls_record(23, 0xfefd, 1, 10 + i, rnd(60 + 20 * i))))
        msgs.append((0, dtls_record(23, 0xfefd, 1, 30 + i, rnd(80))))
    c.udp(54433, 40443, msgs)


# ---- near misses: each stays a port guess at most ----

def midstream_negative(c):
    # One well-formed frame alone per protocol (a single packet names nothing); then two
    # packets each with a length one off; a WebSocket frame masked from the server; MQTT
    # frames on a port that is not MQTT's; DTLS records of two epochs.
    c.tcp(52001, 1883, [(1, mqtt_publish(b"a/b", b"x"))], handshake=False)
    c.tcp(52002, 5432, [(1, pg(b"Q", b"SELECT 1\0"))], handshake=False)
    c.tcp(52003, 1433, [(1, tds(1, rnd(40)))], handshake=False)
    bad = bytearray(my(0, b"\x03SELECT 1"))
    bad[0] += 1
    c.tcp(52004, 3306, [(1, bytes(bad)), (0, bytes(bad))], handshake=False)
    badp = bytearray(pg(b"Q", b"SELECT 1\0"))
    badp[4] += 1
    c.tcp(52005, 5432, [(1, bytes(badp)), (1, bytes(badp))], handshake=False)
    c.tcp(52006, 80, [(0, ws(0x81, b"hello", mask=b"abcd")), (0, ws(0x81, b"hello", mask=b"abcd"))],
          handshake=False)
    c.tcp(52007, 41883, [(1, mqtt_publish(b"a/b", b"x")), (0, mqtt_publish(b"a/b", b"y"))], handshake=False)
    c.tcp(52008, 5672, [(1, amqp(8, 0, b"")[:-1] + b"\xcf"), (0, amqp(8, 0, b"")[:-1] + b"\xcf")],
          handshake=False)
    c.udp(52009, 40444, [(1, dtls_record(23, 0xfefd, 1, 5, rnd(50))), (0, dtls_record(23, 0xfefd, 3, 5, rnd(50)))])
    # Text lines (bpf/sig/midtext.h): one SMTP command alone; SMTP's transaction on FTP's
    # port and on a port nothing is guessed for (reply lines are one grammar); lines ending
    # in a bare LF; a reply from the client's side; IMAP lines with a bad tag and an
    # unknown command; IRC lines whose prefix holds a control byte.
    c.tcp(52010, 25, [(1, b"MAIL FROM:<a@example.org>\r\n")], handshake=False)
    c.tcp(52011, 21, [(1, b"MAIL FROM:<a@example.org>\r\n"), (0, b"250 2.1.0 Ok\r\n")], handshake=False)
    c.tcp(52012, 40025, [(1, b"RCPT TO:<b@example.org>\r\n"), (0, b"250 2.1.5 Ok\r\n"),
                         (1, b"DATA\r\n"), (0, b"354 End data with <CR><LF>.<CR><LF>\r\n")], handshake=False)
    c.tcp(52013, 110, [(1, b"STAT\n"), (0, b"+OK 2 320\n")], handshake=False)
    c.tcp(52014, 25, [(1, b"250 Ok\r\n"), (1, b"221 Bye\r\n")], handshake=False)
    c.tcp(52015, 143, [(1, b"a(1 SELECT INBOX\r\n"), (1, b"a2 FROB INBOX\r\n")], handshake=False)
    c.tcp(52016, 6667, [(0, b":irc\x01.example.net JOIN #x\r\n"), (0, b":irc\x01.example.net PART #x\r\n")],
          handshake=False)


CAPTURES = {f.__name__: f for f in (mqtt_mid, websocket_mid, mssql_mid, amqp_mid, smb2_mid, postgresql_mid,
                                     mysql_mid, dtls_mid, midstream_negative)}


def main():
    if len(sys.argv) < 2:
        print("usage: craft.py OUTDIR [NAME...]", file=sys.stderr)
        return 2
    out, names = sys.argv[1], sys.argv[2:] or sorted(CAPTURES)
    for n in names:
        if n not in CAPTURES:
            print(f"craft.py: unknown capture {n}", file=sys.stderr)
            return 2
        c = Cap()
        CAPTURES[n](c)
        c.write(os.path.join(out, n + ".pcap"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
