#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
# Marks set on tc ingress are what nftables sees: rules matching `meta mark`
# in the server's input chain count the packets of each protocol under its
# own mark, and the bits outside the policy's mask stay as another filter on
# the same hook set them.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib.sh"

pks_topology
pks_check attach_with_tc pks_tc_attach_both ingress
pks_check policy_http "$PKTSPEC" policy set http mark 0x42/0xff
pks_check policy_ssh "$PKTSPEC" policy set ssh mark 0x43/0xff
pks_check start_sshd pks_start_sshd
pks_check start_http pks_start_http

pks_in "$PKS_SRV" nft -f - <<'NFT'
table inet pks_test {
	counter http_marked {}
	counter ssh_marked {}
	chain input {
		type filter hook input priority 0;
		meta mark & 0xff == 0x42 tcp dport 80 counter name http_marked
		meta mark & 0xff == 0x43 tcp dport 2222 counter name ssh_marked
	}
}
NFT
pks_check nft_rules [ $? -eq 0 ]

nft_packets() {
	pks_in "$PKS_SRV" nft -j list counter inet pks_test "$1" | jq '.nftables[] | select(.counter) | .counter.packets'
}

got=$(pks_curl "http://198.18.0.2/blob")
[ "$got" = 300000 ] && pks_pass http_download || pks_fail http_download "got $got bytes"
pks_wait_closed "$PKS_CLI" 80
h=$(nft_packets http_marked) s=$(nft_packets ssh_marked)
# Every request packet after the SYN: the request and its ACKs (dozens).
[ "$h" -ge 10 ] && [ "$s" -eq 0 ] && pks_pass http_packets_marked ||
	pks_fail http_packets_marked "http_marked=$h ssh_marked=$s"

out=$(pks_ssh 198.18.0.2 echo hello)
[ "$out" = hello ] && pks_pass ssh_session || pks_fail ssh_session "got '$out'"
s=$(nft_packets ssh_marked) h2=$(nft_packets http_marked)
[ "$s" -ge 5 ] && [ "$h2" -eq "$h" ] && pks_pass ssh_packets_marked ||
	pks_fail ssh_packets_marked "ssh_marked=$s http_marked=$h2 (was $h)"

# Composition: a filter of the user's own, before ours on the same hook, sets
# mark bit 0x1000; our policy owns only the low byte, so both survive.
pks_check user_filter pks_user_filter "$PKS_SRV" "$PKS_SRV_IF" ingress 1
pks_in "$PKS_SRV" nft add counter inet pks_test http_both
pks_in "$PKS_SRV" nft insert rule inet pks_test input meta mark == 0x1042 tcp dport 80 counter name http_both
got=$(pks_curl "http://198.18.0.2/blob")
b=$(nft_packets http_both)
[ "$got" = 300000 ] && [ "$b" -ge 10 ] && pks_pass mark_composes_with_other_bits ||
	pks_fail mark_composes_with_other_bits "got $got bytes, http_both=$b"
pks_done
