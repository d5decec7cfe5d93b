#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
# Rule 1, TFTP, with real traffic: dnsmasq's TFTP server and curl. The server
# answers the read request from a new port; that flow must be tftp, expected,
# from its first packet, with the requester as its client. Replayed too.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib.sh"

pks_topology
mkdir -p "$PKS_TMP/tftp"
head -c 3000 /dev/urandom >"$PKS_TMP/tftp/boot.img"
chmod -R a+rX "$PKS_TMP"
pks_bg "$PKS_SRV" "$PKS_TMP/dnsmasq.log" dnsmasq --no-daemon --port=0 --enable-tftp --tftp-root="$PKS_TMP/tftp" \
	--listen-address=198.18.0.2 --bind-interfaces --pid-file= --user=root
pks_wait_udp "$PKS_SRV" 69 || { pks_fail tftp_server "dnsmasq did not start: $(cat "$PKS_TMP/dnsmasq.log")"; pks_done; }
ctx_start || { pks_fail tftp_run "pktspec run did not start"; pks_done; }

pks_in "$PKS_CLI" curl -sS --max-time 20 -o "$PKS_TMP/got" tftp://198.18.0.2/boot.img 2>"$PKS_TMP/curl.err" &&
	cmp -s "$PKS_TMP/got" "$PKS_TMP/tftp/boot.img" && pks_pass tftp_transfer || pks_fail tftp_transfer "$(cat "$PKS_TMP/curl.err")"
ctx_flows "$PKS_TMP/flows.json"
ctx_stop || pks_fail tftp_run_stops "pktspec run did not exit 0: $(cat "$PKS_TMP/run.err")"

check() { # file name
	local n
	n=$(pks_jq 'select(.l4=="udp" and .server_port!=69 and .proto=="tftp" and .confidence=="expected"
		and .rule=="tftp-request" and .at_first_packet and .client=="198.18.0.1" and .packets_s2c >= 3)' "$1" | wc -l)
	[ "$n" -eq 1 ] && pks_pass "$2" || pks_fail "$2" "$(pks_jq -c 'select(.l4=="udp")' "$1" | tr '\n' ' ')"
}
check "$PKS_TMP/flows.json" tftp_data_expected_first_packet
"$PKTSPEC" replay --json "$PKS_TMP/live.pcap" >"$PKS_TMP/replay.json" 2>"$PKS_TMP/replay.err"
check "$PKS_TMP/replay.json" tftp_replay_same
[ -n "${PKS_SAVE_PCAP:-}" ] && cp "$PKS_TMP/live.pcap" "$PKS_SAVE_PCAP"
pks_done
