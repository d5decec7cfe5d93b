#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
# pktspec run as a service: attaches with -i, stops cleanly on SIGTERM and
# detaches with --detach-on-exit; usage errors exit 2, a missing attachment 1.
. "$(dirname "$0")/../lib/common.sh"

pks_topology
"$PKTSPEC" run --bogus >/dev/null 2>&1
[ $? -eq 2 ] && pks_pass run_usage_exit_2 || pks_fail run_usage_exit_2 "wrong status"
"$PKTSPEC" run --detach-on-exit >/dev/null 2>&1
[ $? -eq 2 ] && pks_pass run_detach_needs_iface || pks_fail run_detach_needs_iface "wrong status"
pks_in "$PKS_CLI" "$PKTSPEC" run >/dev/null 2>"$PKS_TMP/noattach.err"
[ $? -eq 1 ] && grep -q "attach to an interface first" "$PKS_TMP/noattach.err" && pks_pass run_without_attachment_fails ||
	pks_fail run_without_attachment_fails "$(cat "$PKS_TMP/noattach.err")"

nsenter --net="/run/netns/$PKS_CLI" "$PKTSPEC" run -i "$PKS_CLI_IF" --mode generic --detach-on-exit --json \
	>"$PKS_TMP/run.out" 2>"$PKS_TMP/run.err" &
pid=$!
PKS_PIDS+=("$pid")
pks_wait_for 60 grep -q "running the context rules" "$PKS_TMP/run.err"
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
kill -TERM "$pid"
pks_wait_for 30 pks_gone "$pid"
wait "$pid"
[ $? -eq 0 ] && pks_pass run_sigterm_exit_0 || pks_fail run_sigterm_exit_0 "$(cat "$PKS_TMP/run.err")"
pks_in "$PKS_CLI" "$PKTSPEC" status | grep -q "not attached" && pks_pass run_detached_on_exit ||
	pks_fail run_detached_on_exit "$(pks_in "$PKS_CLI" "$PKTSPEC" status | head -3)"
pks_done
