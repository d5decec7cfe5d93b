#!/usr/bin/env python3
# SPDX-License-Identifier: MIT OR Apache-2.0
"""A tunnel endpoint in user space, for test_tunnels.sh on kernels built
without the tunnel's driver (no ip_gre, ipip, sit, ip6_tunnel or geneve).

    tunnel.py KIND LOCAL REMOTE IFNAME [ID]

KIND is gre, gretap, geneve, or IP in IP: ipip (IPv4 inside, IP protocol 4),
sit (IPv6 inside, 41) or ip6tnl (both); over IPv4 or IPv6 as LOCAL and
REMOTE are. It creates the TUN device IFNAME
(a TAP device for gretap) in the current network namespace and moves packets
between it and the underlay: what the kernel routes into IFNAME leaves
encapsulated to REMOTE (a raw socket for GRE and IP in IP, a UDP socket on
port 6081 for Geneve), what arrives from REMOTE is decapsulated into IFNAME.
ID is the GRE key (a keyed GRE header when given) or the Geneve VNI.
The headers follow RFC 2784/2890 (GRE) and RFC 8926 (Geneve); the wire then
carries the same bytes a kernel endpoint would send. Prints "ready" once both
ends are open; runs until killed.
"""
import errno
import fcntl
import os
import select
import socket
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN, IFF_TAP, IFF_NO_PI = 0x0001, 0x0002, 0x1000
ETH_P_IP, ETH_P_IPV6, ETH_P_TEB = 0x0800, 0x86DD, 0x6558
GENEVE_PORT = 6081


def usage(msg):
    print(f"tunnel.py: {msg}", file=sys.stderr)
    print("usage: tunnel.py gre|gretap|ipip|sit|ip6tnl|geneve LOCAL REMOTE IFNAME [ID]", file=sys.stderr)
    sys.exit(2)


def open_tun(name, tap):
    fd = os.open("/dev/net/tun", os.O_RDWR)
    flags = (IFF_TAP if tap else IFF_TUN) | IFF_NO_PI
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), flags))
    return fd


def inner_type(pkt):
    """EtherType of an IP packet read from a TUN device, by its version nibble."""
    return ETH_P_IPV6 if pkt and pkt[0] >> 4 == 6 else ETH_P_IP


def tun_write(tun, pkt):
    """Hand a packet to the kernel; dropped while the device is down (EIO)."""
    try:
        os.write(tun, pkt)
    except OSError as e:
        if e.errno != errno.EIO:
            raise


def gre_header(ptype, key):
    if key is None:
        return struct.pack("!HH", 0, ptype)
    return struct.pack("!HHI", 0x2000, ptype, key)  # K bit: a key follows


def gre_payload(data, key):
    """The payload of a GRE packet (no IP header), or None when not ours."""
    if len(data) < 4:
        return None, None
    flags, ptype = struct.unpack("!HH", data[:4])
    off = 4
    if flags & 0x8000:
        off += 4  # checksum and reserved
    has_key = bool(flags & 0x2000)
    if has_key != (key is not None):
        return None, None
    if has_key:
        if len(data) < off + 4 or struct.unpack("!I", data[off:off + 4])[0] != key:
            return None, None
        off += 4
    if flags & 0x1000:
        off += 4  # sequence number
    return ptype, data[off:]


def main():
    if len(sys.argv) not in (5, 6):
        usage("wrong number of arguments")
    kind, local, remote, ifname = sys.argv[1:5]
    tid = int(sys.argv[5]) if len(sys.argv) == 6 else None
    ipip = {"ipip": (4,), "sit": (41,), "ip6tnl": (4, 41)}
    if kind not in ("gre", "gretap", "geneve", *ipip):
        usage(f"unknown kind {kind}")
    fam = socket.AF_INET6 if ":" in local else socket.AF_INET
    tun = open_tun(ifname, kind == "gretap")

    if kind == "geneve":
        sock = socket.socket(fam, socket.SOCK_DGRAM)
        sock.bind((local, GENEVE_PORT))
        rsocks = {sock: None}
    elif kind in ipip:
        # One raw socket per inner family: protocol 4 (IPv4) and 41 (IPv6).
        rsocks = {}
        for proto in ipip[kind]:
            s = socket.socket(fam, socket.SOCK_RAW, proto)
            s.bind((local, 0))
            rsocks[s] = proto
    else:
        sock = socket.socket(fam, socket.SOCK_RAW, 47)
        sock.bind((local, 0))
        rsocks = {sock: 47}
    by_proto = {p: s for s, p in rsocks.items()}
    print("ready", flush=True)

    while True:
        ready, _, _ = select.select([tun, *rsocks], [], [])
        for r in ready:
            if r == tun:
                try:
                    pkt = os.read(tun, 65535)
                except OSError as e:
                    if e.errno != errno.EIO:
                        raise
                    time.sleep(0.05)  # the device is not up yet
                    continue
                if kind == "geneve":
                    vni = tid or 0
                    hdr = struct.pack("!BBHI", 0, 0, inner_type(pkt), vni << 8)
                    sock.sendto(hdr + pkt, (remote, GENEVE_PORT))
                elif kind in ipip:
                    proto = 41 if inner_type(pkt) == ETH_P_IPV6 else 4
                    if proto in by_proto:
                        by_proto[proto].sendto(pkt, (remote, 0))
                else:
                    ptype = ETH_P_TEB if kind == "gretap" else inner_type(pkt)
                    sock.sendto(gre_header(ptype, tid) + pkt, (remote, 0))
                continue
            data, src = r.recvfrom(65535)
            if src[0] != remote:
                continue
            if fam == socket.AF_INET and rsocks[r] is not None:
                data = data[(data[0] & 0x0F) * 4:]  # an IPv4 raw socket gives the IP header
            if kind == "geneve":
                if len(data) < 8:
                    continue
                ver_opt, _, ptype, vni = struct.unpack("!BBHI", data[:8])
                off = 8 + (ver_opt & 0x3F) * 4
                if ver_opt >> 6 or vni >> 8 != (tid or 0) or ptype not in (ETH_P_IP, ETH_P_IPV6):
                    continue
                tun_write(tun, data[off:])
            elif kind in ipip:
                tun_write(tun, data)
            else:
                ptype, payload = gre_payload(data, tid)
                want = (ETH_P_TEB,) if kind == "gretap" else (ETH_P_IP, ETH_P_IPV6)
                if ptype in want and payload:
                    tun_write(tun, payload)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
    except OSError as e:
        print(f"tunnel.py: {e}", file=sys.stderr)
        sys.exit(1)
