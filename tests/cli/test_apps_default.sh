#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
# The application list ships: `make install` puts dist/apps in
# PREFIX/share/pktspec/apps, and the installed pktspec reads it when no
# --apps is given (`run -v` names it; `replay` of a TLS flow to
# www.youtube.com gives app youtube), --apps FILE replaces it, --no-apps
# turns it off. The capture is crafted: a ClientHello made by Python's ssl
# module, framed with scapy.
. "$(dirname "$0")/../lib/common.sh"

root=$PKS_TMP/root
make -s -C "$PKS_ROOT" install DESTDIR="$root" PREFIX=/usr SYSTEMD_UNIT_DIR=/lib/systemd/system >"$PKS_TMP/make.log" 2>&1
if [ -f "$root/usr/share/pktspec/apps" ] && cmp -s "$root/usr/share/pktspec/apps" "$PKS_ROOT/dist/apps"; then
	pks_pass install_ships_app_list
else
	pks_fail install_ships_app_list "$(tail -n 3 "$PKS_TMP/make.log" | tr '\n' ' ')"
fi
bin=$root/usr/sbin/pktspec

# run names the list it read (then stops: nothing is attached here).
"$bin" run -v -q >"$PKS_TMP/run.out" 2>&1
grep -q "application list: $root/usr/sbin/../share/pktspec/apps" "$PKS_TMP/run.out" && pks_pass run_reads_installed_list ||
	pks_fail run_reads_installed_list "$(head -n 3 "$PKS_TMP/run.out" | tr '\n' ' ')"
"$bin" run -v -q --no-apps >"$PKS_TMP/run2.out" 2>&1
grep -q "application list: none" "$PKS_TMP/run2.out" && pks_pass run_no_apps ||
	pks_fail run_no_apps "$(head -n 3 "$PKS_TMP/run2.out" | tr '\n' ' ')"

/usr/bin/python3 - "$PKS_TMP/yt.pcap" <<'PY'
import ssl, sys
from scapy.all import Ether, IP, TCP, wrpcap
# A real ClientHello for www.youtube.com, from Python's TLS stack.
ctx = ssl.create_default_context()
inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
obj = ctx.wrap_bio(inc, out, server_hostname="www.youtube.com")
try:
    obj.do_handshake()
except ssl.SSLWantReadError:
    pass
hello = out.read()
c, s = ("198.18.0.1", 40000), ("198.18.0.2", 443)
def pkt(src, dst, flags, seq, ack, data=b""):
    return Ether() / IP(src=src[0], dst=dst[0]) / TCP(sport=src[1], dport=dst[1], flags=flags, seq=seq, ack=ack) / data
p = [pkt(c, s, "S", 1000, 0), pkt(s, c, "SA", 5000, 1001), pkt(c, s, "A", 1001, 5001),
     pkt(c, s, "PA", 1001, 5001, hello)]
for i, x in enumerate(p):
    x.time = 1700000000 + i * 0.001
wrpcap(sys.argv[1], p)
PY
"$bin" replay --json "$PKS_TMP/yt.pcap" >"$PKS_TMP/r1.json" 2>"$PKS_TMP/r1.err"
pks_jq_any 'select(.server_port == 443) | select(.host == "www.youtube.com" and .app == "youtube")' "$PKS_TMP/r1.json" >/dev/null &&
	pks_pass replay_default_list_names_app || pks_fail replay_default_list_names_app "$(head -c 300 "$PKS_TMP/r1.json") $(head -c 200 "$PKS_TMP/r1.err")"
"$bin" replay --json --no-apps "$PKS_TMP/yt.pcap" >"$PKS_TMP/r2.json" 2>&1
pks_jq_any 'select(.server_port == 443) | select(.host == "www.youtube.com" and (.app // "") == "")' "$PKS_TMP/r2.json" >/dev/null &&
	pks_pass replay_no_apps || pks_fail replay_no_apps "$(head -c 300 "$PKS_TMP/r2.json")"
printf 'youtube.com video\n' >"$PKS_TMP/mine"
"$bin" replay --json --apps "$PKS_TMP/mine" "$PKS_TMP/yt.pcap" >"$PKS_TMP/r3.json" 2>&1
pks_jq_any 'select(.server_port == 443) | select(.app == "video")' "$PKS_TMP/r3.json" >/dev/null &&
	pks_pass replay_apps_overrides || pks_fail replay_apps_overrides "$(head -c 300 "$PKS_TMP/r3.json")"
pks_done
