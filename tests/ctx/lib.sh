# SPDX-License-Identifier: MIT OR Apache-2.0
# Helpers for the context-rule tests (tests/ctx/test_*.sh); source after common.sh.

# ctx_start [RUN-OPTIONS...]: the classifier on both veth ends (XDP sees
# ingress only), `pktspec run` in the client namespace printing JSON events
# to $PKS_TMP/run.out, and tcpdump recording the client end to $PKS_TMP/live.pcap.
ctx_start() {
	pks_in "$PKS_SRV" "$PKTSPEC" attach "$PKS_SRV_IF" >/dev/null || return 1
	if [ -z "${CTX_NO_CAPTURE:-}" ]; then
		# Block-mode ring, not --immediate-mode (why: pks_tcpdump_start in lib/servers.sh).
		pks_bg "$PKS_CLI" "$PKS_TMP/tcpdump.err" tcpdump -i "$PKS_CLI_IF" -s 0 -U -w "$PKS_TMP/live.pcap"
		PKS_TCPDUMP_PID=${PKS_PIDS[-1]}
	else
		PKS_TCPDUMP_PID=
		echo "listening on (no capture)" >"$PKS_TMP/tcpdump.err"
	fi
	# These tests read the flow table after the traffic: no flow may end while they
	# run (the lifecycle has tests/unit/test_lifecycle.c and tests/e2e/test_export.sh).
	nsenter --net="/run/netns/$PKS_CLI" "$PKTSPEC" run -i "$PKS_CLI_IF" --json --linger 3600 --fin-timeout 3600 "$@" \
		>"$PKS_TMP/run.out" 2>"$PKS_TMP/run.err" &
	PKS_RUN_PID=$!
	PKS_PIDS+=("$PKS_RUN_PID")
	pks_wait_for 60 ctx_started
	ctx_running && return 0
	cat "$PKS_TMP/run.err" >&2
	return 1
}

# ctx_running: run says it runs and tcpdump that it listens. ctx_started: that, or run has exited.
ctx_running() {
	grep -q "running the context rules" "$PKS_TMP/run.err" 2>/dev/null &&
		grep -q "listening on" "$PKS_TMP/tcpdump.err" 2>/dev/null
}
ctx_started() {
	ctx_running || pks_gone "$PKS_RUN_PID"
}

# ctx_stop: stops tcpdump once it has written all it received (pks_tcpdump_finish;
# a recording missing packets is a FAIL) and `pktspec run` (SIGINT, as a user
# would); fails unless run exits 0 within 30 s.
ctx_stop() {
	local rc
	if [ -n "$PKS_TCPDUMP_PID" ]; then
		pks_tcpdump_finish "$PKS_TCPDUMP_PID" "$PKS_TMP/tcpdump.err" ||
			pks_fail "${PKS_TEST}_capture" "the recording misses packets: $(tail -n 1 "$PKS_TMP/tcpdump.err")"
	fi
	kill -INT "$PKS_RUN_PID" 2>/dev/null
	pks_wait_for 30 pks_gone "$PKS_RUN_PID" || return 1
	wait "$PKS_RUN_PID"
	rc=$?
	return $rc
}

# ctx_flows FILE: the pinned flow table as JSON lines.
ctx_flows() {
	pks_in "$PKS_CLI" "$PKTSPEC" flows --json >"$1"
}
