#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
# pktspec run as a service: attaches with -i, stops cleanly on SIGTERM and
# detaches with --detach-on-exit; usage errors exit 2, a missing attachment 1.
# When the detach takes the flow table with it, every flow ends with reason
# shutdown, one newer than the last scan too; while another attachment keeps
# the table, the flows go on in it and none is reported ended.
. "$(dirname "$0")/../lib/common.sh"

pks_topology
"$PKTSPEC" run --bogus >/dev/null 2>&1
[ $? -eq 2 ] && pks_pass run_usage_exit_2 || pks_fail run_usage_exit_2 "wrong status"
"$PKTSPEC" run --detach-on-exit >/dev/null 2>&1
[ $? -eq 2 ] && pks_pass run_detach_needs_iface || pks_fail run_detach_needs_iface "wrong status"
pks_in "$PKS_CLI" "$PKTSPEC" run >/dev/null 2>"$PKS_TMP/noattach.err"
[ $? -eq 1 ] && grep -q "attach to an interface first" "$PKS_TMP/noattach.err" && pks_pass run_without_attachment_fails ||
	pks_fail run_without_attachment_fails "$(cat "$PKS_TMP/noattach.err")"
# An attachment pinned by an older pktspec lacks a map this one reads: run says so, and how to mend it.
pks_in "$PKS_CLI" "$PKTSPEC" attach "$PKS_CLI_IF" --mode generic >/dev/null
rm -f /sys/fs/bpf/pktspec/pks_ctlevents
pks_in "$PKS_CLI" "$PKTSPEC" run >/dev/null 2>"$PKS_TMP/old.err"
st=$?
[ "$st" -eq 1 ] && grep -q "an older pktspec attached it; detach it" "$PKS_TMP/old.err" &&
	grep -q "pks_ctlevents" "$PKS_TMP/old.err" && pks_pass run_older_attachment_named ||
	pks_fail run_older_attachment_named "status $st: $(cat "$PKS_TMP/old.err")"
pks_in "$PKS_CLI" "$PKTSPEC" detach "$PKS_CLI_IF" >/dev/null

# start_run NAME: `run -i` on the client's end in the background (pid), output in NAME.out and NAME.err.
start_run() {
	nsenter --net="/run/netns/$PKS_CLI" "$PKTSPEC" run -i "$PKS_CLI_IF" --mode generic --detach-on-exit --json \
		>"$PKS_TMP/$1.out" 2>"$PKS_TMP/$1.err" &
	pid=$!
	PKS_PIDS+=("$pid")
	pks_wait_for 60 grep -q "running the context rules" "$PKS_TMP/$1.err"
}
# stop_run: SIGTERM, then its exit status.
stop_run() {
	kill -TERM "$pid"
	pks_wait_for 30 pks_gone "$pid"
	wait "$pid"
}

start_run run
pks_in "$PKS_CLI" "$PKTSPEC" status | grep -q "$PKS_CLI_IF" && pks_pass run_attached || pks_fail run_attached "$(cat "$PKS_TMP/run.err")"
# Traffic while it runs: printed as JSON lines.
pks_in "$PKS_SRV" ping -c 1 -W 2 198.18.0.1 >/dev/null 2>&1
pks_in "$PKS_SRV" bash -c 'exec 3<>/dev/udp/198.18.0.1/53; printf "\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x01x\x00\x00\x01\x00\x01" >&3' 2>/dev/null
dns_flow_printed() {
	grep '"event":"flow"' "$PKS_TMP/run.out" | pks_jq_any 'select(.server_port==53 and .proto=="dns")'
}
ok=
pks_wait_for 30 dns_flow_printed && ok=1
[ -n "$ok" ] && pks_pass run_prints_flow_events || pks_fail run_prints_flow_events "$(head -3 "$PKS_TMP/run.out")"
# A flow just before the stop, most likely newer than the daemon's last scan (one a second).
pks_in "$PKS_SRV" bash -c 'exec 3<>/dev/udp/198.18.0.1/4711; printf late >&3' 2>/dev/null
stop_run
[ $? -eq 0 ] && pks_pass run_sigterm_exit_0 || pks_fail run_sigterm_exit_0 "$(cat "$PKS_TMP/run.err")"
pks_in "$PKS_CLI" "$PKTSPEC" status | grep -q "not attached" && pks_pass run_detached_on_exit ||
	pks_fail run_detached_on_exit "$(pks_in "$PKS_CLI" "$PKTSPEC" status | head -3)"
shutdown_end() { # PORT: the flow with this port ended with reason shutdown, once
	[ "$(grep '"event":"end"' "$1" | jq -c "select(.reason==\"shutdown\" and (.server_port==$2 or .client_port==$2))" |
		wc -l)" -eq 1 ]
}
shutdown_end "$PKS_TMP/run.out" 53 && shutdown_end "$PKS_TMP/run.out" 4711 && pks_pass run_detach_ends_every_flow ||
	pks_fail run_detach_ends_every_flow "$(grep -v '"event":"flow"' "$PKS_TMP/run.out" | head -5)"

# The server side carries the classifier on the same pinned maps: stopping the
# daemon of the client side leaves the table, and its flows, to it.
pks_in "$PKS_SRV" "$PKTSPEC" attach --mode generic "$PKS_SRV_IF" >/dev/null 2>"$PKS_TMP/srv.err" ||
	pks_fail run_keeps_shared_table "attach: $(cat "$PKS_TMP/srv.err")"
start_run run2
pks_in "$PKS_SRV" bash -c 'exec 3<>/dev/udp/198.18.0.1/4712; printf shared >&3' 2>/dev/null
shared_flow_printed() {
	grep '"event":"flow"' "$PKS_TMP/run2.out" | pks_jq_any 'select(.server_port==4712 or .client_port==4712)'
}
pks_wait_for 30 shared_flow_printed
stop_run
rc=$?
if [ $rc -eq 0 ] && grep -q "another attachment keeps the flow table" "$PKS_TMP/run2.err" &&
	! grep -q '"reason":"shutdown"' "$PKS_TMP/run2.out" &&
	pks_in "$PKS_SRV" "$PKTSPEC" flows --json --port 4712 | grep -q .; then
	pks_pass run_keeps_shared_table
else
	pks_fail run_keeps_shared_table "rc $rc: $(cat "$PKS_TMP/run2.err"; grep -v '"event":"flow"' "$PKS_TMP/run2.out" | head -3)"
fi
pks_in "$PKS_SRV" "$PKTSPEC" detach "$PKS_SRV_IF" >/dev/null 2>&1
pks_in "$PKS_SRV" "$PKTSPEC" status | grep -q "not attached" && pks_pass run_shared_detached ||
	pks_fail run_shared_detached "$(pks_in "$PKS_SRV" "$PKTSPEC" status | head -3)"
pks_done
