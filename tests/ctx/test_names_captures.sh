#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
# Captures of the live name tests (tests/captures/names/), replayed: the same
# names come out, from fixed bytes, without namespaces.
cd "$(dirname "$0")/../.." || exit 1
PKTSPEC=${PKTSPEC:-$PWD/.output/pktspec}
DIR=tests/captures/names
UA="pktspec-test/1.0 (names; +https://example.test/)"
failed=0

# check NAME PCAP JQ-FILTER-OVER-ALL-FLOWS
check() {
	local name=$1 pcap=$2 filter=$3 out
	if ! out=$("$PKTSPEC" replay --json "$DIR/$pcap" 2>&1); then
		echo "FAIL: $name: replay: $(echo "$out" | tail -n 1)"
		failed=1
	elif echo "$out" | jq -e -s "$filter" >/dev/null 2>&1; then
		echo "PASS: $name"
	else
		echo "FAIL: $name: $(echo "$out" | jq -c '{server_port, proto, host, host_source, alpn, tls_version}' | tr '\n' ' ' | head -c 500)"
		failed=1
	fi
}

tls='map(select(.server_port == 4433))[0] | .proto == "tls" and .host == "big.example.test" and
	.host_source == "sni" and .alpn == "h2" and .tls_version == "0x0304"'
check names_capture_tls_three_segments tls-sni-3-segments.pcap "$tls"
check names_capture_tls_reordered tls-sni-reordered.pcap "$tls"
check names_capture_quic quic-sni.pcap 'map(select(.server_port == 4443 and .host_source == "quic" and
	.alpn == "h3") | .host) | sort == ["big.quic.example.test", "quic.example.test"]'
check names_capture_http http-host.pcap "map(select(.server_port == 8080 and .host_source == \"http\" and
	.user_agent == \"$UA\") | .host) | sort == [\"long.example.test\", \"proxied.example.test\", \"web.example.test\"]"
check names_capture_https_dns https-dns.pcap 'map(select(.server_port == 443))[0] | .host == "web.example.test" and
	.host_source == "sni" and .dns_host == "web.example.test"'
# Without the context rules nothing is named: the names come from the rules.
if "$PKTSPEC" replay --json --no-context "$DIR/tls-sni-3-segments.pcap" | jq -e -s 'map(select(.host)) | length == 0' >/dev/null; then
	echo "PASS: names_capture_no_context_no_names"
else
	echo "FAIL: names_capture_no_context_no_names: a name without the rules"
	failed=1
fi
exit $failed
