#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
# `pktspec-bench rewrite`, which makes captures with public addresses fit to
# replay live on a test network (make bench's tcpreplay section): every
# address lands in 198.18.0.0/15 or 2001:db8::/32, distinct addresses stay
# distinct and equal ones equal (across captures), checksums and payloads are
# right, and what would carry other addresses on is left out under its reason.
. "$(dirname "$0")/../lib/common.sh"

BENCH=${PKTSPEC_BENCH:-$PKS_ROOT/.output/pktspec-bench}
PY=/usr/bin/python3

# Two captures: Ethernet (with a VLAN tag, tunnels, ICMP, ARP, a bad version)
# and Linux cooked (SLL), which the capture reader turns into Ethernet.
"$PY" - "$PKS_TMP/a.pcap" "$PKS_TMP/b.pcap" <<'EOF' || { pks_fail craft "cannot write the captures"; pks_done; }
import sys
from scapy.all import Ether, Dot1Q, IP, IPv6, TCP, UDP, ICMP, ARP, GRE, Raw, CookedLinux, wrpcap
from scapy.layers.vxlan import VXLAN
m = dict(src="00:11:22:33:44:55", dst="66:77:88:99:aa:bb")
a = [
    Ether(**m) / IP(src="10.0.1.1", dst="8.8.8.8") / TCP(sport=40000, dport=80) / Raw(b"GET / HTTP/1.1\r\n\r\n"),
    Ether(**m) / IP(src="8.8.8.8", dst="10.0.1.1") / TCP(sport=80, dport=40000) / Raw(b"HTTP/1.1 200 OK\r\n\r\n"),
    # The same low 17 bits as 10.0.1.1: must not merge with it.
    Ether(**m) / IP(src="192.168.1.1", dst="8.8.8.8") / TCP(sport=40000, dport=80) / Raw(b"GET / HTTP/1.1\r\n\r\n"),
    Ether(**m) / Dot1Q(vlan=7) / IP(src="172.16.5.9", dst="1.1.1.1") / UDP(sport=5353, dport=53) / Raw(b"\x12\x34" + b"\x00" * 10),
    Ether(**m) / IPv6(src="2a00:1450::1", dst="2600::2") / UDP(sport=1234, dport=443) / Raw(b"x" * 30),
    Ether(**m) / IP(src="10.0.1.1", dst="9.9.9.9") / ICMP(type=8) / Raw(b"ping"),
    Ether(**m) / IP(src="9.9.9.9", dst="10.0.1.1") / ICMP(type=3, code=3) / IP(src="10.0.1.1", dst="9.9.9.9") / UDP(),
    Ether(**m) / IP(src="203.0.113.1", dst="203.0.113.2") / GRE() / IP(src="10.9.9.9", dst="10.8.8.8") / UDP(),
    Ether(**m) / IP(src="203.0.113.1", dst="203.0.113.2") / UDP(sport=50000, dport=4789) / VXLAN(vni=5) /
        Ether() / IP(src="10.9.9.9", dst="10.8.8.8") / UDP(),
    Ether(**m) / ARP(psrc="10.0.1.1", pdst="10.0.1.2"),
    # EtherType IPv4, an IPv6 header behind it.
    Ether(src=m["src"], dst=m["dst"], type=0x0800) / IPv6(src="2a00::9", dst="2a00::8") / UDP(),
]
b = [
    CookedLinux(pkttype=0, lladdrtype=1, lladdrlen=6, src=b"\x00\x11\x22\x33\x44\x55\x00\x00", proto=0x0800) /
        IP(src="8.8.8.8", dst="100.64.0.1") / TCP(sport=443, dport=50000, flags="A") / Raw(b"\x17\x03\x03\x00\x05hello"),
]
wrpcap(sys.argv[1], a)
wrpcap(sys.argv[2], b)
EOF

OUT=$PKS_TMP/out.pcap
if "$BENCH" rewrite --src-mac 02:00:00:00:00:01 --dst-mac 02:00:00:00:00:99 --json "$PKS_TMP/rw.json" \
	"$OUT" "$PKS_TMP/a.pcap" "$PKS_TMP/b.pcap" 2>"$PKS_TMP/rw.err"; then
	pks_pass rewrite_runs
else
	pks_fail rewrite_runs "$(cat "$PKS_TMP/rw.err")"
	pks_done
fi
pks_check rewrite_counts jq -e '.captures == 2 and .records == 12 and .frames == 7
  and .left_out == {non_ip: 1, short: 0, ip_version: 1, tunnel: 2, icmp_error: 1, addresses_exhausted: 0}
  and .ipv4_addresses == 7 and .ipv6_addresses == 2' "$PKS_TMP/rw.json"

# Frame by frame against the originals (the kept ones, in order).
"$PY" - "$PKS_TMP/a.pcap" "$PKS_TMP/b.pcap" "$OUT" >"$PKS_TMP/check.out" 2>&1 <<'EOF'
import ipaddress, sys
from scapy.all import rdpcap, Ether, Dot1Q, IP, IPv6, Raw
src = [rdpcap(sys.argv[1])[i] for i in (0, 1, 2, 3, 4, 5)] + [rdpcap(sys.argv[2])[0]]
out = rdpcap(sys.argv[3])
bad = []
def say(what):
    bad.append(what)
if len(out) != len(src):
    say(f"{len(out)} frames, want {len(src)}")
net4, net6 = ipaddress.ip_network("198.18.0.0/15"), ipaddress.ip_network("2001:db8::/32")
seen = {}
for i, (o, n) in enumerate(zip(src, out)):
    if n[Ether].src != "02:00:00:00:00:01" or n[Ether].dst != "02:00:00:00:00:99":
        say(f"frame {i}: MACs {n[Ether].src} {n[Ether].dst}")
    l3o, l3n = (o[IP], n[IP]) if IP in o else (o[IPv6], n[IPv6])
    for a, b in ((l3o.src, l3n.src), (l3o.dst, l3n.dst)):
        if ipaddress.ip_address(b) not in (net4 if IP in o else net6):
            say(f"frame {i}: {b} outside the test ranges")
        if seen.setdefault(a, b) != b:
            say(f"frame {i}: {a} became {b}, earlier {seen[a]}")
    if IP in n:
        want = IP(bytes(n[IP]))
        del want.chksum
        if IP(bytes(want)).chksum != n[IP].chksum:
            say(f"frame {i}: IPv4 header checksum wrong")
    if bytes(l3o.payload) != bytes(l3n.payload):
        say(f"frame {i}: payload changed")
if len(set(seen.values())) != len(seen):
    say(f"two addresses merged: {seen}")
if len(out) > 3 and not out[3].haslayer(Dot1Q):
    say("the VLAN tag was dropped")
print("\n".join(bad) if bad else "ok")
EOF
if [ "$(cat "$PKS_TMP/check.out")" = ok ]; then
	pks_pass rewrite_frames
else
	pks_fail rewrite_frames "$(tr '\n' ';' <"$PKS_TMP/check.out")"
fi

# Bad input: a usage error or a clear failure, and no output left behind.
"$BENCH" rewrite --src-mac nonsense "$PKS_TMP/x.pcap" "$PKS_TMP/a.pcap" 2>"$PKS_TMP/e1"
rc=$?
if [ $rc -eq 2 ] && grep -q "not a MAC address" "$PKS_TMP/e1" && [ ! -e "$PKS_TMP/x.pcap" ]; then
	pks_pass rewrite_bad_mac
else
	pks_fail rewrite_bad_mac "exit $rc: $(cat "$PKS_TMP/e1")"
fi
"$BENCH" rewrite "$PKS_TMP/y.pcap" "$PKS_TMP/missing.pcap" 2>"$PKS_TMP/e2"
rc=$?
if [ $rc -eq 1 ] && grep -q "missing.pcap" "$PKS_TMP/e2" && [ ! -e "$PKS_TMP/y.pcap" ]; then
	pks_pass rewrite_missing_capture
else
	pks_fail rewrite_missing_capture "exit $rc: $(cat "$PKS_TMP/e2")"
fi

pks_done
