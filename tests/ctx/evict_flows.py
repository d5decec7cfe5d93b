#!/usr/bin/python3
# SPDX-License-Identifier: MIT OR Apache-2.0
"""Long TCP flows held open across a flood of new flows (tests/ctx/test_evict.sh).

  evict_flows.py serve ADDR PORT[,PORT...] TRIGGER
      SSH-like server: on each connection, its banner, the client's banner,
      then nothing until the file TRIGGER exists; then 64 bytes from the
      server first (the flow's first packet after the flood), and an echo of
      what comes back, until the client closes.
  evict_flows.py connect ADDR PORT[,PORT...] COUNT READY
      COUNT connections per port; banners exchanged, the file READY is
      written; then each connection answers the server's bytes, and all stay
      open until the process is killed.
  evict_flows.py flood IFACE DSTMAC N [FIRST [FRAMES]]
      N new UDP flows as raw Ethernet frames on IFACE, FRAMES frames each
      (default 1), from 198.18.64.0/18 to 198.18.0.1 port 40999 (no protocol
      on either port); flow numbers FIRST..FIRST+N-1 (default 0), so rounds
      never repeat one.
"""
import os
import socket
import struct
import sys
import threading
import time

SERVER_BANNER = b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n"
CLIENT_BANNER = b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"


def recv_line(conn):
    data = b""
    while not data.endswith(b"\n"):
        chunk = conn.recv(1)
        if not chunk:
            break
        data += chunk
    return data


def serve_one(conn, trigger):
    try:
        conn.sendall(SERVER_BANNER)
        recv_line(conn)
        while not os.path.exists(trigger):
            time.sleep(0.05)
        conn.sendall(b"\x00\x00\x00\x3c" + os.urandom(60))
        while True:
            data = conn.recv(4096)
            if not data:
                break
    except OSError:
        pass
    finally:
        conn.close()


def listen(addr, port, trigger):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(64)
    while True:
        conn, _ = s.accept()
        threading.Thread(target=serve_one, args=(conn, trigger), daemon=True).start()


def serve(addr, ports, trigger):
    for p in ports[1:]:
        threading.Thread(target=listen, args=(addr, p, trigger), daemon=True).start()
    listen(addr, ports[0], trigger)


def answer(conn):
    try:
        data = conn.recv(4096)
        if data:
            conn.sendall(b"\x00\x00\x00\x3c" + os.urandom(60))
        while True:
            time.sleep(3600)
    except OSError:
        pass


def connect(addr, ports, count, ready):
    conns = []
    for p in ports:
        for _ in range(count):
            c = socket.create_connection((addr, p), timeout=10)
            recv_line(c)
            c.sendall(CLIENT_BANNER)
            c.settimeout(None)
            conns.append(c)
    with open(ready, "w") as f:
        f.write("%d\n" % len(conns))
    threads = [threading.Thread(target=answer, args=(c,), daemon=True) for c in conns]
    for t in threads:
        t.start()
    while True:
        time.sleep(3600)


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def flood(iface, dstmac, n, first, frames):
    dst = bytes.fromhex(dstmac.replace(":", ""))
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    sock.bind((iface, 0))
    src = sock.getsockname()[4][:6]
    payload = b"\x55" * 16
    daddr = socket.inet_aton("198.18.0.1")
    for i in range(first, first + n):
        saddr = bytes([198, 18, 64 + ((i >> 8) & 0x3F), i & 0xFF])
        sport = 20000 + (i >> 14)
        udp = struct.pack("!HHHH", sport, 40999, 8 + len(payload), 0) + payload
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i & 0xFFFF, 0, 64, 17, 0, saddr, daddr)
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        for _ in range(frames):
            sock.send(dst + src + b"\x08\x00" + ip + udp)
    sock.close()


def main():
    cmd = sys.argv[1]
    if cmd == "serve":
        serve(sys.argv[2], [int(p) for p in sys.argv[3].split(",")], sys.argv[4])
    elif cmd == "connect":
        connect(sys.argv[2], [int(p) for p in sys.argv[3].split(",")], int(sys.argv[4]), sys.argv[5])
    elif cmd == "flood":
        flood(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]) if len(sys.argv) > 5 else 0,
              int(sys.argv[6]) if len(sys.argv) > 6 else 1)
    else:
        sys.exit("usage: evict_flows.py serve|connect|flood ...")


if __name__ == "__main__":
    main()
