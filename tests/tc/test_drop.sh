#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
# A drop policy for ssh stops ssh sessions once the banner has classified
# them, while HTTP keeps flowing; without the policy ssh works again.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib.sh"

pks_topology
pks_check attach_with_tc pks_tc_attach_both both
pks_check start_sshd pks_start_sshd
pks_check start_http pks_start_http

out=$(pks_ssh 198.18.0.2 echo hello)
[ "$out" = hello ] && pks_pass ssh_before_policy || pks_fail ssh_before_policy "got '$out'"

pks_check policy_drop_ssh "$PKTSPEC" policy set ssh drop
# The session starts (the server's banner leaves before the client's names the
# protocol) and then stalls: ssh gives up through its keepalive timeout.
out=$(pks_ssh 198.18.0.2 echo hello 2>/dev/null)
rc=$?
[ $rc -ne 0 ] && [ -z "$out" ] && pks_pass ssh_dropped || pks_fail ssh_dropped "ssh exited $rc with '$out'"
got=$(pks_curl "http://198.18.0.2/blob")
[ "$got" = 300000 ] && pks_pass http_keeps_flowing || pks_fail http_keeps_flowing "got $got bytes"
got=$(pks_curl "http://[2001:db8::2]/blob")
[ "$got" = 300000 ] && pks_pass http_ipv6_keeps_flowing || pks_fail http_ipv6_keeps_flowing "got $got bytes"

dropped=$(bpftool map dump pinned /sys/fs/bpf/pktspec/pks_tc_stats | jq '[.[].values[].value.dropped] | add')
[ "${dropped:-0}" -gt 0 ] && pks_pass drops_counted || pks_fail drops_counted "dropped=$dropped"
pks_in "$PKS_SRV" "$PKTSPEC" flows --json --proto ssh >"$PKS_TMP/ssh.json"
[ -s "$PKS_TMP/ssh.json" ] && pks_pass dropped_flow_was_ssh || pks_fail dropped_flow_was_ssh "no ssh flow"

pks_check policy_del "$PKTSPEC" policy del ssh
out=$(pks_ssh 198.18.0.2 echo hello)
[ "$out" = hello ] && pks_pass ssh_after_policy_removed || pks_fail ssh_after_policy_removed "got '$out'"
pks_done
