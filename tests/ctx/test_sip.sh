#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
# Rule 1, SIP/SDP, with real traffic: sipp as UAS (echoing RTP, -rtp_echo) and
# as UAC playing audio (its uac_pcap scenario), over UDP and over TCP. The
# media flows announced in the INVITE's and the 200 OK's SDP must be rtp
# (and rtcp) with confidence "expected" from their first packet, and the
# capture replayed must say the same.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib.sh"

pks_topology
# uac_pcap plays pcap/*.pcap relative to the working directory.
mkdir -p "$PKS_TMP/uac/pcap"
ln -s /usr/share/sip-tester/*.pcap "$PKS_TMP/uac/pcap/"
ctx_start || { pks_fail sip_run "pktspec run did not start"; pks_done; }

# sip_offer_written PORT: the engine has written the expectation the INVITE's SDP
# announces (media at the UAC's PORT) into the pinned pks_expect.
sip_offer_written() {
	bpftool -j map dump pinned /sys/fs/bpf/pktspec/pks_expect |
		jq -e --argjson p "$1" 'any(.[]; ((.formatted // .).key | objects | .listen_port) == $p)'
}

call() {
	# transport (u1 or t1), SIP port (5060: SIP by port, as a classifier without a SIP signature must see it), UAC media port, UAS media port
	local t=$1 port=$2 cmp=$3 smp=$4
	pks_bg "$PKS_SRV" "$PKS_TMP/uas.$t.log" sipp -sn uas -i 198.18.0.2 -p "$port" -t "$t" -mp "$smp" \
		-rtp_echo -nostdin
	local uas=${PKS_PIDS[-1]}
	if [ "$t" = t1 ]; then pks_wait_tcp "$PKS_SRV" "$port"; else pks_wait_udp "$PKS_SRV" "$port"; fi || return 1
	# The UAS answers at once and the UAC starts its media right after, while the
	# daemon may not have read the INVITE yet on a loaded machine: the media flow's
	# first packet would then find no expectation (the race of a real call is the
	# ringing time). So the UAS is held (its socket still queues the INVITE, the
	# kernel still acknowledges it) until the engine has written the offer's
	# expectation, then let go.
	kill -STOP "$uas"
	(cd "$PKS_TMP/uac" && pks_in "$PKS_CLI" timeout 60 sipp -sn uac_pcap 198.18.0.2:"$port" -i 198.18.0.1 \
		-p $((port + 1)) -t "$t" -mp "$cmp" -m 1 -nostdin -timeout 50s -timeout_error \
		>"$PKS_TMP/uac.$t.log" 2>&1) &
	local uac=$!
	PKS_PIDS+=("$uac")
	if pks_wait_for 30 sip_offer_written "$cmp"; then
		pks_pass "sip_${t}_offer_expected"
	else
		pks_fail "sip_${t}_offer_expected" "no expectation for port $cmp: $(tail -2 "$PKS_TMP/run.err")"
	fi
	kill -CONT "$uas"
	wait "$uac"
	local rc=$?
	kill "$uas" 2>/dev/null
	return $rc
}

call u1 5060 6000 7000 && pks_pass sip_udp_call || pks_fail sip_udp_call "$(tail -3 "$PKS_TMP/uac.u1.log")"
call t1 5060 6100 7100 && pks_pass sip_tcp_call || pks_fail sip_tcp_call "$(tail -3 "$PKS_TMP/uac.t1.log")"
ctx_flows "$PKS_TMP/flows.json"
ctx_stop || pks_fail sip_run_stops "pktspec run did not exit 0 on SIGINT: $(cat "$PKS_TMP/run.err")"

# check FILE NAME SERVER-OR-CLIENT-PORT PROTO: a flow touching that media port is PROTO, expected, at its first packet.
check_media() {
	local file=$1 name=$2 port=$3 proto=$4 n
	n=$(pks_jq --argjson p "$port" --arg proto "$proto" 'select(.l4=="udp" and (.server_port==$p or .client_port==$p)
		and .proto==$proto and .confidence=="expected" and .rule=="sip-sdp" and .at_first_packet)' "$file" | wc -l)
	if [ "$n" -ge 1 ]; then
		pks_pass "$name"
	else
		pks_fail "$name" "table: $(pks_jq -c 'select(.l4=="udp") | [.client_port,.server_port,.proto,.confidence,.rule,.packets]' "$file" | tr '\n' ' ')"
	fi
}
check_media "$PKS_TMP/flows.json" sip_udp_rtp_expected 6000 rtp
check_media "$PKS_TMP/flows.json" sip_tcp_rtp_expected 6100 rtp
# Echoed audio made packets flow both ways on the RTP flow.
n=$(pks_jq 'select(.proto=="rtp" and .packets_c2s > 10 and .packets_s2c > 10)' "$PKS_TMP/flows.json" | wc -l)
[ "$n" -ge 2 ] && pks_pass sip_rtp_both_directions || pks_fail sip_rtp_both_directions "$n rtp flows with traffic both ways"
bad=$(pks_jq 'select(.l4=="udp" and .server_port!=5060 and .server_port!=5061 and .proto!="rtp" and .proto!="rtcp")' "$PKS_TMP/flows.json" | wc -l)
[ "$bad" -eq 0 ] && pks_pass sip_no_other_udp_flows || pks_fail sip_no_other_udp_flows "$bad"

"$PKTSPEC" replay --json "$PKS_TMP/live.pcap" >"$PKS_TMP/replay.json" 2>"$PKS_TMP/replay.err"
check_media "$PKS_TMP/replay.json" sip_replay_udp_rtp 6000 rtp
check_media "$PKS_TMP/replay.json" sip_replay_tcp_rtp 6100 rtp
[ -n "${PKS_SAVE_PCAP:-}" ] && cp "$PKS_TMP/live.pcap" "$PKS_SAVE_PCAP" && cp "$PKS_TMP/run.out" "$PKS_SAVE_PCAP.run"
pks_done
