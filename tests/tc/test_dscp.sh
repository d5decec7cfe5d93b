#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
# DSCP rewrite on the client's egress, seen by tcpdump on the server's side of
# the link, for IPv4 and IPv6: the requests arrive marked EF with the ECN bits
# kept and a valid IPv4 header checksum, and the server's stack accepts them
# (the download completes). The SYN, sent before any verdict, is unmarked.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib.sh"

pks_topology
# ECN on the client's connections, so the rewrite has ECN bits to keep.
pks_in "$PKS_CLI" sysctl -qw net.ipv4.tcp_ecn=1
pks_check attach_server pks_in "$PKS_SRV" "$PKTSPEC" attach "$PKS_SRV_IF" --mode generic
pks_check attach_client_tc pks_in "$PKS_CLI" "$PKTSPEC" attach "$PKS_CLI_IF" --mode generic --tc egress
pks_check policy "$PKTSPEC" policy set http dscp ef
pks_check start_http pks_start_http

cap=$PKS_TMP/peer.pcap
pks_bg "$PKS_SRV" "$PKS_TMP/tcpdump.log" tcpdump -i "$PKS_SRV_IF" --immediate-mode -U -nn -s 128 -w "$cap" 'tcp dst port 80'
tcpdump_pid=${PKS_PIDS[-1]}
pks_wait_for 30 grep -q listening "$PKS_TMP/tcpdump.log"

got4=$(pks_curl "http://198.18.0.2/blob")
got6=$(pks_curl "http://[2001:db8::2]/blob")
count() { tcpdump -r "$cap" -nn "$1" 2>/dev/null | wc -l; }
# The capture is complete once both connections' FINs from the client are in it.
fins_captured() { [ "$(count 'tcp[tcpflags] & tcp-fin != 0')" -ge 2 ]; }
pks_wait_for 30 fins_captured
kill "$tcpdump_pid"
pks_wait_for 30 pks_gone "$tcpdump_pid"

[ "$got4" = 300000 ] && pks_pass ipv4_connection_completes || pks_fail ipv4_connection_completes "got $got4 bytes"
[ "$got6" = 300000 ] && pks_pass ipv6_connection_completes || pks_fail ipv6_connection_completes "got $got6 bytes"

# EF is DSCP 46: TOS/traffic class 0xb8 above the two ECN bits.
ef4=$(count 'ip and (ip[1] & 0xfc) = 0xb8')
syn4=$(count 'ip and tcp[tcpflags] & tcp-syn != 0 and (ip[1] & 0xfc) = 0')
all4=$(count 'ip')
[ "$ef4" -ge 3 ] && [ "$ef4" -eq $((all4 - 1)) ] && pks_pass ipv4_dscp_ef ||
	pks_fail ipv4_dscp_ef "$ef4 of $all4 IPv4 packets marked EF"
# ECT(0) under EF: 0xb8 | 0x02 (RFC 3168 5), on the packets that carry data.
ect4=$(count 'ip and ip[1] = 0xba')
[ "$ect4" -ge 1 ] && pks_pass ipv4_ecn_bits_kept || pks_fail ipv4_ecn_bits_kept "no EF packet with ECT(0)"
[ "$syn4" -eq 1 ] && pks_pass ipv4_syn_before_verdict_unmarked || pks_fail ipv4_syn_before_verdict_unmarked "$syn4"
ef6=$(count 'ip6 and (ip6[0:2] & 0x0fc0) = 0x0b80')
all6=$(count 'ip6')
[ "$ef6" -ge 3 ] && [ "$ef6" -eq $((all6 - 1)) ] && pks_pass ipv6_dscp_ef ||
	pks_fail ipv6_dscp_ef "$ef6 of $all6 IPv6 packets marked EF"
# tcpdump -v checks every IPv4 header checksum and says "bad cksum" otherwise.
tcpdump -r "$cap" -nn -v ip >"$PKS_TMP/v4.txt" 2>/dev/null
if grep -q 'tos 0xb8' "$PKS_TMP/v4.txt" && ! grep -q 'bad cksum' "$PKS_TMP/v4.txt"; then
	pks_pass ipv4_header_checksum
else
	pks_fail ipv4_header_checksum "$(grep -m1 'bad cksum' "$PKS_TMP/v4.txt")"
fi
pks_done
