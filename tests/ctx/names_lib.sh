# SPDX-License-Identifier: MIT OR Apache-2.0
# Helpers for the name tests (test_names_*.sh), sourced after tests/lib/common.sh:
# the classifier on both veth ends, `pktspec run` consuming its events, a
# capture of the server side for the replay check, and polling of the flows.

# names_start PORTFILTER: topology, attach both ends, the engine, and tcpdump
# on the server's veth (both directions) with the given pcap filter.
names_start() {
	local filter=$1
	pks_topology
	pks_in "$PKS_CLI" "$PKTSPEC" attach "$PKS_CLI_IF" -m generic >"$PKS_TMP/attach.log" 2>&1 &&
		pks_in "$PKS_SRV" "$PKTSPEC" attach "$PKS_SRV_IF" -m generic >>"$PKS_TMP/attach.log" 2>&1 || {
		pks_fail "$PKS_TEST" "attach: $(tail -n 2 "$PKS_TMP/attach.log" | tr '\n' ' ')"
		pks_done
	}
	# The tests read the flow table afterwards: no flow may end while they run.
	pks_bg "$PKS_CLI" "$PKS_TMP/run.log" "$PKTSPEC" run --json --linger 3600 --fin-timeout 3600
	NAMES_RUN_PID=${PKS_PIDS[-1]}
	# Block-mode ring, not --immediate-mode (why: pks_tcpdump_start in lib/servers.sh).
	pks_bg "$PKS_SRV" "$PKS_TMP/tcpdump.log" tcpdump -i "$PKS_SRV_IF" -U -s 0 -w "$PKS_TMP/capture.pcap" $filter
	NAMES_DUMP_PID=${PKS_PIDS[-1]}
	names_wait_log "$PKS_TMP/run.log" "running the context rules" || {
		pks_fail "$PKS_TEST" "pktspec run did not start: $(tail -n 2 "$PKS_TMP/run.log" | tr '\n' ' ')"
		pks_done
	}
	names_wait_log "$PKS_TMP/tcpdump.log" "listening on" || {
		pks_fail "$PKS_TEST" "tcpdump did not start: $(tail -n 2 "$PKS_TMP/tcpdump.log" | tr '\n' ' ')"
		pks_done
	}
}

# names_wait_log FILE TEXT: wait up to 30 s for TEXT in FILE.
names_wait_log() {
	pks_wait_for 30 grep -q "$2" "$1"
}

# names_flow PORT FILTER: wait up to 30 s until `pktspec flows --json` has a flow
# to server port PORT for which the jq FILTER is true; prints that flow.
names_flow_found() {
	"$PKTSPEC" flows --json 2>/dev/null | jq -c "select(.server_port == $1) | select($2)" 2>/dev/null |
		head -n 1 >"$PKS_TMP/found-flow"
	[ -s "$PKS_TMP/found-flow" ]
}
names_flow() {
	local port=$1 filter=$2
	if pks_wait_for 30 names_flow_found "$port" "$filter"; then
		cat "$PKS_TMP/found-flow"
		return 0
	fi
	"$PKTSPEC" flows --json 2>/dev/null | jq -c "select(.server_port == $port)" >"$PKS_TMP/last-flows"
	return 1
}

# names_stop_capture: stop tcpdump once it has written all it received
# (pks_tcpdump_finish); a recording missing packets is a FAIL.
names_stop_capture() {
	pks_tcpdump_finish "$NAMES_DUMP_PID" "$PKS_TMP/tcpdump.log" 2>"$PKS_TMP/tcpdump.stop" ||
		pks_fail "${PKS_TEST}_capture" "the recording misses packets: $(tr '\n' ' ' <"$PKS_TMP/tcpdump.stop")"
}

# names_replay PCAP PORT FILTER [OPTION...]: the replayed flow to PORT satisfies FILTER.
names_replay() {
	local pcap=$1 port=$2 filter=$3
	shift 3
	"$PKTSPEC" replay --json "$@" "$pcap" >"$PKS_TMP/replay.json" 2>"$PKS_TMP/replay.err" || return 1
	pks_jq_any "select(.server_port == $port) | select($filter)" "$PKS_TMP/replay.json"
}

# names_check NAME FLOWJSON FILTER: PASS when the jq FILTER holds on the flow.
names_check() {
	local name=$1 flow=$2 filter=$3
	if [ -n "$flow" ] && echo "$flow" | jq -e "$filter" >/dev/null 2>&1; then
		pks_pass "$name"
	else
		pks_fail "$name" "flow ${flow:-$(head -c 400 "$PKS_TMP/last-flows" 2>/dev/null)} does not satisfy $filter"
	fi
}
