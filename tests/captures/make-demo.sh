#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
#
# Regenerates tests/captures/demo.pcap, the capture `make demo` replays: real
# clients against real servers from Debian packages (curl/nginx, openssl
# s_client/s_server, dig/dnsmasq over UDP and TCP, ssh/sshd on port 2222),
# over IPv4 then IPv6, between two network namespaces, recorded by tcpdump on
# the client's veth. Frames are cut to 192 bytes (headers plus more than the
# 64 payload bytes the classifier reads) so the file stays small.
# Usage (as root): tests/captures/make-demo.sh [OUTPUT.pcap]
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/servers.sh"

out=${1:-$PKS_ROOT/tests/captures/demo.pcap}
pks_topology
pks_servers_start || exit 1
pks_tcpdump_start "$PKS_CLI" "$PKS_CLI_IF" "$PKS_TMP/demo.pcap" -s 192 'tcp or udp' || exit 1
for addr in 198.18.0.2 2001:db8::2; do
	pks_clients_run "$addr" || { pks_tcpdump_stop "$PKS_TMP/demo.pcap"; exit 1; }
done
pks_tcpdump_stop "$PKS_TMP/demo.pcap"
cp "$PKS_TMP/demo.pcap" "$out"
echo "wrote $out: $(tcpdump -nr "$out" 2>/dev/null | wc -l) packets, $(stat -c %s "$out") bytes"
