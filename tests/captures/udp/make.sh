#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
#
# Regenerates the UDP captures in this directory (not run by `make check`;
# the captures are committed). Real clients and servers from Debian packages
# (tools/deps.sh group capture_udp) talk across a veth pair between two
# network namespaces while tcpdump records the client side; protocols with no
# implementation that runs here are built from their specifications by
# craft.py, which says why for each. Today only DTLS (openssl) and DHCP
# (dnsmasq + busybox udhcpc) are recorded from real implementations.
#
# Usage: tests/captures/udp/make.sh [NAME...]    (as root; default: all)
. "$(dirname "$0")/../../lib/common.sh"

OUT=$(cd "$(dirname "$0")" && pwd)
"$PKS_ROOT/tools/deps.sh" capture_udp || exit 1
pks_topology
C=198.18.0.1 S=198.18.0.2

# record NAME FILTER COMMAND...: capture on the client's veth while COMMAND runs.
record() {
	local name=$1 filter=$2 pid
	shift 2
	pks_in "$PKS_CLI" tcpdump -U -s 2048 -i "$PKS_CLI_IF" -w "$PKS_TMP/$name.pcap" "$filter" 2>/dev/null &
	pid=$!
	for _ in $(seq 50); do [ -s "$PKS_TMP/$name.pcap" ] && break; sleep 0.1; done
	"$@"
	sleep 0.5
	kill "$pid"; wait "$pid" 2>/dev/null
	if [ "$(stat -c %s "$PKS_TMP/$name.pcap")" -le 24 ]; then
		echo "make.sh: $name: nothing captured; server logs:" >&2
		tail -n 5 "$PKS_TMP"/*.log >&2
		return 1
	fi
	mv "$PKS_TMP/$name.pcap" "$OUT/$name.pcap"
	echo "wrote $name.pcap ($(stat -c %s "$OUT/$name.pcap") bytes)"
}

wanted() { [ ${#NAMES[@]} -eq 0 ] && return 0; local n; for n in "${NAMES[@]}"; do [ "$n" = "$1" ] && return 0; done; return 1; }
NAMES=("$@")

# DTLS 1.2 handshake: openssl s_server -dtls answers with HelloVerifyRequest.
if wanted dtls; then
	openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=dtls.test -days 2 -keyout "$PKS_TMP/k.pem" \
		-out "$PKS_TMP/c.pem" 2>/dev/null
	pks_bg "$PKS_SRV" "$PKS_TMP/dtls.log" openssl s_server -dtls -accept 4433 -cert "$PKS_TMP/c.pem" \
		-key "$PKS_TMP/k.pem" -quiet
	pks_wait_udp "$PKS_SRV" 4433
	record dtls "udp port 4433" sh -c "echo hello | timeout 5 nsenter --net=/run/netns/$PKS_CLI \
		openssl s_client -dtls -connect $S:4433 -quiet >/dev/null 2>&1; true"
fi

# DHCP: dnsmasq serves a range; busybox udhcpc gets a lease, then renews by unicast.
if wanted dhcp; then
	pks_bg "$PKS_SRV" "$PKS_TMP/dnsmasq.log" dnsmasq -d -C /dev/null -p 0 -i "$PKS_SRV_IF" \
		--dhcp-range=198.18.0.50,198.18.0.60,1h --dhcp-leasefile="$PKS_TMP/leases" --pid-file=
	pks_wait_udp "$PKS_SRV" 67
	record dhcp "udp port 67 or udp port 68" sh -c "timeout 10 nsenter --net=/run/netns/$PKS_CLI \
		udhcpc -f -q -n -i $PKS_CLI_IF -s /bin/true -t 3 -T 1 >/dev/null 2>&1; \
		timeout 10 nsenter --net=/run/netns/$PKS_CLI udhcpc -f -q -n -i $PKS_CLI_IF -s /bin/true \
		-r 198.18.0.50 -t 3 -T 1 >/dev/null 2>&1; true"
fi

# Built from the specifications (see craft.py for why each).
CRAFTED=(mdns mdns_unicast llmnr netbios ssdp ssdp_notify dhcpv6 nat_pmp l2tp ike bittorrent rtp_rtcp gquic openvpn ntp tftp snmp syslog sip
	stun coap memcached kerberos radius wireguard rpc negative)
for n in "${CRAFTED[@]}"; do
	wanted "$n" || continue
	/usr/bin/python3 "$OUT/craft.py" "$OUT" "$n" 2>/dev/null && echo "wrote $n.pcap (crafted)"
done

# Several protocols on one 5-tuple (WebRTC: STUN, DTLS, SRTP), built from the specifications.
if wanted webrtc; then
	/usr/bin/python3 "$OUT/make-webrtc.py" "$OUT" && echo "wrote webrtc.pcap (crafted)"
fi
