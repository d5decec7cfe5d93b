#!/usr/bin/python3
# SPDX-License-Identifier: MIT OR Apache-2.0
"""Writes spec-built captures (one pcap per protocol) for the TCP group b signatures.

Each exchange: SYN, SYN-ACK, ACK, then the opening message(s) and the answer,
with correct sequence numbers. Addresses are 198.18.0.0/15 only.
"""
import random
import struct

from scapy.all import IP, TCP, Ether, wrpcap

CLI, SRV = "198.18.0.1", "198.18.0.2"


def flow(cport, sport, msgs):
    """msgs: list of (from_client, bytes). Returns packets of one TCP connection."""
    c_mac, s_mac = "02:00:00:00:00:01", "02:00:00:00:00:02"
    cseq, sseq = 1000, 5000
    pk = [
        Ether(src=c_mac, dst=s_mac) / IP(src=CLI, dst=SRV) / TCP(sport=cport, dport=sport, flags="S", seq=cseq),
        Ether(src=s_mac, dst=c_mac) / IP(src=SRV, dst=CLI) / TCP(sport=sport, dport=cport, flags="SA", seq=sseq, ack=cseq + 1),
        Ether(src=c_mac, dst=s_mac) / IP(src=CLI, dst=SRV) / TCP(sport=cport, dport=sport, flags="A", seq=cseq + 1, ack=sseq + 1),
    ]
    cseq += 1
    sseq += 1
    for from_client, data in msgs:
        if from_client:
            pk.append(Ether(src=c_mac, dst=s_mac) / IP(src=CLI, dst=SRV) /
                      TCP(sport=cport, dport=sport, flags="PA", seq=cseq, ack=sseq) / data)
            cseq += len(data)
        else:
            pk.append(Ether(src=s_mac, dst=c_mac) / IP(src=SRV, dst=CLI) /
                      TCP(sport=sport, dport=cport, flags="PA", seq=sseq, ack=cseq) / data)
            sseq += len(data)
    t = 1700000000.0
    for p in pk:
        p.time = t
        t += 0.001
    return pk


# PostgreSQL protocol 55.7: StartupMessage, AuthenticationMD5Password.
def pg_startup():
    params = b"user\0postgres\0database\0postgres\0application_name\0psql\0\0"
    return struct.pack(">II", 8 + len(params), 0x00030000) + params


PG_MD5 = b"R" + struct.pack(">III", 12, 5, 0x1A2B3C4D)
PG_SSL = struct.pack(">II", 8, 80877103)


# MySQL Protocol::HandshakeV10 and HandshakeResponse41.
def mysql_packet(seq, payload):
    return struct.pack("<I", len(payload))[:3] + bytes([seq]) + payload


def mysql_greeting():
    p = b"\x0a" + b"10.11.6-MariaDB-0+deb12u1\0" + struct.pack("<I", 31) + b"abcdefgh" + b"\0"
    p += struct.pack("<H", 0xF7FE) + b"\x2d" + struct.pack("<H", 2) + struct.pack("<H", 0x81FF) + b"\x15"
    p += b"\0" * 10 + b"ijklmnopqrst\0" + b"mysql_native_password\0"
    return mysql_packet(0, p)


def mysql_login():
    p = struct.pack("<II", 0x000FA685, 16777216) + b"\x21" + b"\0" * 23 + b"root\0" + b"\x14" + bytes(range(20))
    p += b"mysql_native_password\0"
    return mysql_packet(1, p)


# [MS-TDS] 2.2.6.5 PRELOGIN and its response.
def tds_prelogin(ptype, options):
    toks, data = b"", b""
    off = 5 * len(options) + 1
    for tok, val in options:
        toks += struct.pack(">BHH", tok, off + len(data), len(val))
        data += val
    body = toks + b"\xff" + data
    return struct.pack(">BBHHBB", ptype, 1, 8 + len(body), 0, 1, 0) + body


TDS_REQ = tds_prelogin(0x12, [(0, b"\x10\x00\x07\xd0\x00\x00"), (1, b"\x02"), (2, b"\x00"),
                              (3, b"\x00\x00\x12\x34"), (4, b"\x00")])
TDS_RESP = tds_prelogin(0x04, [(0, b"\x0f\x00\x10\x68\x00\x00"), (1, b"\x02"), (2, b"\x00"), (4, b"\x00")])


# Kafka: ApiVersions v3 request header v2 and its response (correlation id 1).
def kafka_req():
    body = struct.pack(">hhi", 18, 3, 1) + struct.pack(">h", 7) + b"rdkafka" + b"\0"
    body += b"\x0alibrdkafka" + b"\x062.3.0" + b"\0"
    return struct.pack(">i", len(body)) + body


KAFKA_RESP = struct.pack(">ii", 10, 1) + struct.pack(">hi", 0, 0) + b"\0\0"


# RFC 4120 over TCP (7.2.2): AS-REQ and KRB-ERROR (PREAUTH_REQUIRED), DER.
def der(tag, content):
    n = len(content)
    if n < 128:
        return bytes([tag, n]) + content
    return bytes([tag, 0x82]) + struct.pack(">H", n) + content


def krb_msg(app, first_ctx, mtype, rest):
    seq = der(first_ctx, der(0x02, b"\x05")) + der(first_ctx + 1, der(0x02, bytes([mtype]))) + rest
    msg = der(app, der(0x30, seq))
    return struct.pack(">I", len(msg)) + msg


KRB_REQ = krb_msg(0x6A, 0xA1, 10, der(0xA4, der(0x30, der(0xA0, der(0x03, b"\x00\x50\x80\x00\x10")) +
                                              der(0xA2, der(0x1B, b"EXAMPLE.ORG")))))
KRB_ERR = krb_msg(0x7E, 0xA0, 30, der(0xA4, der(0x18, b"20261126090000Z")) + der(0xA6, der(0x02, b"\x19")))


def zabbix(data):
    return b"ZBXD\x01" + struct.pack("<II", len(data), 0) + data


# MQTT 3.1.1 CONNECT / CONNACK.
MQTT_CONNECT = bytes([0x10, 23]) + struct.pack(">H", 4) + b"MQTT" + b"\x04\x02\x00\x3c" + struct.pack(">H", 11) + b"mosq-sub-01"
MQTT_CONNACK = b"\x20\x02\x00\x00"


def bgp_open(asn, ident):
    return b"\xff" * 16 + struct.pack(">HBBHHIB", 29, 1, 4, asn, 90, ident, 0)


BGP_KEEPALIVE = b"\xff" * 16 + struct.pack(">HB", 19, 4)

AMQP_HDR = b"AMQP\x00\x00\x09\x01"
AMQP_START = (b"\x01\x00\x00" + struct.pack(">I", 28) + struct.pack(">HHBB", 10, 10, 0, 9) + struct.pack(">I", 0) +
              struct.pack(">I", 5) + b"PLAIN" + struct.pack(">I", 5) + b"en_US" + b"\xce")

NATS_INFO = b'INFO {"server_id":"NDJWE4","version":"2.9.20","proto":1,"max_payload":1048576}\r\n'
NATS_CONNECT = b'CONNECT {"verbose":false,"pedantic":false,"lang":"go","version":"1.31.0"}\r\nPING\r\n'

# MongoDB Wire Protocol: OP_MSG with an empty BSON body, and its reply (responseTo = requestID).
def mongo_msg(rid, to):
    return struct.pack("<iiii", 26, rid, to, 2013) + struct.pack("<I", 0) + b"\x00" + struct.pack("<i", 5) + b"\x00"


# RESP: a command as an array of bulk strings, and its simple-string reply.
REDIS_SET = b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n"
REDIS_OK = b"+OK\r\n"

# memcached protocol.txt (text get and its VALUE/END answer) and protocol-binary.txt (Version, opaque 0x1234).
MC_GET = b"get foo\r\n"
MC_VALUE = b"VALUE foo 0 3\r\nbar\r\nEND\r\n"
MC_BIN_REQ = struct.pack(">BBHBBHIIQ", 0x80, 0x0B, 0, 0, 0, 0, 0, 0x1234, 0)
MC_BIN_RESP = struct.pack(">BBHBBHIIQ", 0x81, 0x0B, 0, 0, 0, 0, 6, 0x1234, 0) + b"1.6.18"

# CQL native_protocol_v4.spec 4.1.3 OPTIONS and 4.2.4 SUPPORTED (an empty string multimap).
CQL_OPTIONS = struct.pack(">BBhBI", 4, 0, 1, 5, 0)
CQL_SUPPORTED = struct.pack(">BBhBIH", 0x84, 0, 1, 6, 2, 0)

# zookeeper.jute ConnectRequest (44 bytes after the length) and ConnectResponse (36).
ZK_CONNECT = struct.pack(">IIqIqI", 44, 0, 0, 30000, 0, 16) + bytes(16)
ZK_CONNECTED = struct.pack(">IIIqI", 36, 0, 30000, 0x0102030405060708, 16) + bytes(range(1, 17))

# STOMP 1.2 "Connecting": CONNECT and CONNECTED frames, NUL-terminated.
STOMP_CONNECT = b"CONNECT\naccept-version:1.2\nhost:broker\n\n\x00"
STOMP_CONNECTED = b"CONNECTED\nversion:1.2\n\n\x00"

# RFC 4511 4.2 simple BindRequest (v3, empty DN and password) and a success BindResponse.
LDAP_BIND = bytes([0x30, 0x0C, 0x02, 0x01, 0x01, 0x60, 0x07, 0x02, 0x01, 0x03, 0x04, 0x00, 0x80, 0x00])
LDAP_BIND_OK = bytes([0x30, 0x0C, 0x02, 0x01, 0x01, 0x61, 0x07, 0x0A, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00])

# Modbus MBAP 3.1.3 + function 3 (read holding registers), and its response.
MODBUS_REQ = struct.pack(">HHHBBHH", 0x2A, 0, 6, 1, 3, 0, 10)
MODBUS_RESP = struct.pack(">HHHBBB", 0x2A, 0, 23, 1, 3, 20) + bytes(range(20))

# IEC 60870-5-104 5.3: STARTDT act and con.
IEC104_STARTDT_ACT = bytes([0x68, 4, 0x07, 0, 0, 0])
IEC104_STARTDT_CON = bytes([0x68, 4, 0x0B, 0, 0, 0])

# RFC 3261 over TCP: OPTIONS and its 200 answer.
SIP_OPTIONS = (b"OPTIONS sip:bob@example.org SIP/2.0\r\nVia: SIP/2.0/TCP 198.18.0.1:5070\r\n"
               b"CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")
SIP_OK = (b"SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP 198.18.0.1:5070\r\nCSeq: 1 OPTIONS\r\n"
          b"Content-Length: 0\r\n\r\n")

# IEEE 1815-2012 9.2: link frames with the header CRC (CRC-16/DNP, 9.2.4.1.2). The master's
# REQUEST LINK STATUS (DIR, PRM, function 9) and the outstation's LINK STATUS (function 11).
def dnp3_crc(data):
    crc = 0
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA6BC if crc & 1 else crc >> 1
    return (~crc) & 0xFFFF


def dnp3_frame(ctrl, dst, src):
    h = bytes([0x05, 0x64, 5, ctrl]) + struct.pack("<HH", dst, src)
    return h + struct.pack("<H", dnp3_crc(h))


DNP3_REQ = dnp3_frame(0xC9, 1, 3)
DNP3_RESP = dnp3_frame(0x0B, 3, 1)

CAPTURES = {
    "postgresql": [flow(40001, 5432, [(1, pg_startup()), (0, PG_MD5)]),
                   flow(40002, 6543, [(1, PG_SSL), (0, b"N"), (1, pg_startup()), (0, PG_MD5)])],
    "mysql": [flow(40003, 3306, [(0, mysql_greeting()), (1, mysql_login())]),
              flow(40004, 13306, [(0, mysql_greeting()), (1, mysql_login())])],
    "mssql": [flow(40005, 1433, [(1, TDS_REQ), (0, TDS_RESP)])],
    "kafka": [flow(40006, 9092, [(1, kafka_req()), (0, KAFKA_RESP)])],
    "kerberos": [flow(40007, 88, [(1, KRB_REQ), (0, KRB_ERR)])],
    "zabbix": [flow(40008, 10050, [(0 + 1, zabbix(b"agent.ping")), (0, zabbix(b"1"))])],
    "mqtt": [flow(40009, 1883, [(1, MQTT_CONNECT), (0, MQTT_CONNACK)]),
             flow(40010, 7883, [(1, MQTT_CONNECT), (0, MQTT_CONNACK)])],
    "bgp": [flow(40011, 179, [(1, bgp_open(65001, 0xC6120001)), (0, bgp_open(65002, 0xC6120002)), (1, BGP_KEEPALIVE)])],
    "amqp": [flow(40012, 5672, [(1, AMQP_HDR), (0, AMQP_START)])],
    "nats": [flow(40013, 4222, [(0, NATS_INFO), (1, NATS_CONNECT)])],
    "mongodb": [flow(40014, 27017, [(1, mongo_msg(7, 0)), (0, mongo_msg(99, 7))]),
                flow(40015, 27117, [(1, mongo_msg(8, 0)), (0, mongo_msg(100, 8))])],
    "redis": [flow(40016, 6379, [(1, REDIS_SET), (0, REDIS_OK)]),
              flow(40017, 7000, [(1, REDIS_SET), (0, REDIS_OK)])],
    "memcached": [flow(40018, 11211, [(1, MC_GET), (0, MC_VALUE)]),
                  flow(40019, 11311, [(1, MC_BIN_REQ), (0, MC_BIN_RESP)])],
    "cassandra": [flow(40020, 9142, [(1, CQL_OPTIONS), (0, CQL_SUPPORTED)])],
    "zookeeper": [flow(40021, 2281, [(1, ZK_CONNECT), (0, ZK_CONNECTED)])],
    "stomp": [flow(40022, 61713, [(1, STOMP_CONNECT), (0, STOMP_CONNECTED)])],
    "ldap": [flow(40023, 1389, [(1, LDAP_BIND), (0, LDAP_BIND_OK)])],
    "modbus": [flow(40024, 5020, [(1, MODBUS_REQ), (0, MODBUS_RESP)])],
    "iec104": [flow(40025, 2504, [(1, IEC104_STARTDT_ACT), (0, IEC104_STARTDT_CON)])],
    "dnp3": [flow(40027, 20100, [(1, DNP3_REQ), (0, DNP3_RESP)])],
    "sip_tcp": [flow(40026, 5070, [(1, SIP_OPTIONS), (0, SIP_OK)])],
}

# Negative: random bytes both ways on every port above, and a truncated or
# corrupted copy of each opening message.
rng = random.Random(20261126)
neg = []
port = 41000
for sport in (5432, 3306, 1433, 9092, 88, 10050, 1883, 179, 5672, 4222, 6543):
    for n in (9, 40, 200):
        neg += flow(port, sport, [(1, bytes(rng.randrange(256) for _ in range(n))),
                                  (0, bytes(rng.randrange(256) for _ in range(n)))])
        port += 1
for sport, good in ((5432, pg_startup()), (1433, TDS_REQ), (9092, kafka_req()), (88, KRB_REQ), (1883, MQTT_CONNECT),
                    (179, bgp_open(1, 1)), (10050, zabbix(b"agent.ping"))):
    neg += flow(port, sport, [(1, good[: len(good) // 2 + 1])])  # truncated: lengths no longer fit
    port += 1
    bad = bytearray(good)
    bad[0] ^= 0x5A  # the first byte (magic, type or length) corrupted
    neg += flow(port, sport, [(1, bytes(bad))])
    port += 1
# The second half of the group's ports, after the first so its flows stay as they were.
for sport in (27017, 6379, 11211, 9042, 2181, 61613, 389, 502, 20000, 2404, 5060):
    for n in (9, 40, 200):
        neg += flow(port, sport, [(1, bytes(rng.randrange(256) for _ in range(n))),
                                  (0, bytes(rng.randrange(256) for _ in range(n)))])
        port += 1
# Here each message is cut inside a field its signature checks, and that field corrupted:
# a cut after a whole first element is only a split segment, and a changed
# transaction id or a longer length is still a valid message.
for sport, good, cut, at in ((27017, mongo_msg(7, 0), 14, 12), (6379, REDIS_SET, 10, 8), (11211, MC_BIN_REQ, 12, 0),
                             (9042, CQL_OPTIONS, 5, 4), (2181, ZK_CONNECT, 20, 7), (389, LDAP_BIND, 7, 5),
                             (502, MODBUS_REQ, 9, 2), (20000, DNP3_REQ, 9, 8)):
    neg += flow(port, sport, [(1, good[:cut])])
    port += 1
    bad = bytearray(good)
    bad[at] ^= 0x5A
    neg += flow(port, sport, [(1, bytes(bad))])
    port += 1
CAPTURES["negative"] = [neg]

for name, flows in CAPTURES.items():
    wrpcap(f"{name}.pcap", [p for f in flows for p in f])
