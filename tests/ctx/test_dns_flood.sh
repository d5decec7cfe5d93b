#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
# DNS names under a flood of new flows. trafgen sends new flows at full rate
# (HTTP requests, TLS ClientHellos, DNS queries, SSH banners, unknown UDP:
# each a flow event, the HTTP and TLS ones a first message's copy too) while
# `pktspec run` reads the event ring; the daemon cannot keep up, so the ring
# stays full and the kernel refuses events (lost_flow). Copies of control
# channels have a ring of their own (pks_ctlevents), read first and between
# the steps of the daemon's other work: each DNS answer asked for meanwhile
# must still be copied and its name written into pks_hosts, where a new flow
# reads it, within 2 s.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib.sh"

NAMES=8
pks_topology
records=()
for i in $(seq "$NAMES"); do
	records+=("--host-record=name$i.flood.test,198.18.3.$i")
done
pks_bg "$PKS_SRV" "$PKS_TMP/dnsmasq.log" dnsmasq --no-daemon --no-resolv --no-hosts --port=53 \
	--listen-address=198.18.0.2 --bind-interfaces "${records[@]}" --pid-file= --user=root
pks_wait_udp "$PKS_SRV" 53 || { pks_fail dns_flood_server "dnsmasq did not start"; pks_done; }
# No recording: tcpdump would lose the flood's frames and fail ctx_stop.
CTX_NO_CAPTURE=1 ctx_start || { pks_fail dns_flood_run "pktspec run did not start"; pks_done; }

# New flows to a MAC that is not the server's: XDP sees them, the stack drops them after.
smac=$(pks_in "$PKS_CLI" ip -j link show dev "$PKS_CLI_IF" | jq -r '.[0].address')
pks_newflows_cfg "$PKS_TMP/flood.cfg" "$smac" 02:00:00:00:00:99

# ctx_stat FIELD: the kernel's event counter, summed over CPUs.
ctx_stat() {
	bpftool -j map dump pinned /sys/fs/bpf/pktspec/pks_ctxstats |
		jq --arg f "$1" '[(.[0].formatted // .[0]).values[].value[$f]] | add'
}
lost_flow_grows() { [ "$(ctx_stat lost_flow)" -gt "$LOST0" ]; }

LOST0=$(ctx_stat lost_flow)
pks_bg_group "$PKS_CLI" "$PKS_TMP/trafgen.log" trafgen --dev "$PKS_CLI_IF" --conf "$PKS_TMP/flood.cfg" --cpus 1
TG=$PKS_GROUP
# The flood must overrun the daemon, or this test shows nothing.
if pks_wait_for 60 lost_flow_grows; then
	pks_pass dns_flood_overruns_the_reader
else
	pks_fail dns_flood_overruns_the_reader "no event refused: $(tail -n 2 "$PKS_TMP/trafgen.log" | tr '\n' ' ')"
fi

# A client connects as soon as it has the answer, so the name is wanted at
# once. Under this flood the daemon's scans take seconds; it reads the control
# ring between their steps, and names come within milliseconds (doc/context.md,
# "Events"). Within 2 s counts as named; later, as late; a copy the ring
# refused is lost for good, so a name not written within 5 s never will be.
named=0
late=0
for i in $(seq "$NAMES"); do
	a=$(pks_in "$PKS_CLI" dig +short +time=2 +tries=3 @198.18.0.2 "name$i.flood.test" A)
	if [ "$a" != "198.18.3.$i" ]; then
		pks_fail "dns_flood_answer_$i" "got '$a'"
		continue
	fi
	if pks_wait_for 2 pks_host_known "name$i.flood.test"; then
		named=$((named + 1))
	elif pks_wait_for 3 pks_host_known "name$i.flood.test"; then
		late=$((late + 1))
	fi
done
lost_during=$(( $(ctx_stat lost_flow) - LOST0 ))
pks_group_stop "$TG"
if [ "$named" -eq "$NAMES" ]; then
	pks_pass dns_flood_every_answer_named
else
	pks_fail dns_flood_every_answer_named "$named of $NAMES names written within 2 s, $late later, while the ring refused $lost_during flow events"
fi
ctx_stop || pks_fail dns_flood_run_stops "pktspec run did not exit 0: $(tail -n 3 "$PKS_TMP/run.err" | tr '\n' ' ')"
pks_done
