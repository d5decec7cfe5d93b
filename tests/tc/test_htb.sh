#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
# HTB with one class per policy on the server's egress: the replies of a real
# ssh session and of a real HTTP download land in their classes, and the
# counters of each class grow only while its protocol runs.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib.sh"

pks_topology
dev=$PKS_SRV_IF
pks_check htb pks_htb "$dev" 10 20 30
pks_check attach_with_tc pks_tc_attach_both egress
pks_check policy_ssh "$PKTSPEC" policy set ssh classid 1:10
pks_check policy_http "$PKTSPEC" policy set http classid 1:20
pks_check start_sshd pks_start_sshd
pks_check start_http pks_start_http

s0=$(pks_class_bytes "$dev" 1:10) h0=$(pks_class_bytes "$dev" 1:20)
out=$(pks_ssh 198.18.0.2 'head -c 200000 /dev/zero' | wc -c)
# The server's last segments (its FIN) may leave after the client exits: the class
# counters are read once the connection is closed, so the next step counts none of it.
pks_wait_closed "$PKS_CLI" "$PKS_SSH_PORT"
[ "$out" = 200000 ] && pks_pass ssh_session || pks_fail ssh_session "received $out bytes"
s1=$(pks_class_bytes "$dev" 1:10) h1=$(pks_class_bytes "$dev" 1:20)
# The session's output (200000 bytes, more with SSH framing) went through 1:10.
[ $((s1 - s0)) -ge 200000 ] && pks_pass ssh_in_class_10 ||
	pks_fail ssh_in_class_10 "class 1:10 grew by $((s1 - s0)) bytes"
[ $((h1 - h0)) -eq 0 ] && pks_pass ssh_not_in_class_20 ||
	pks_fail ssh_not_in_class_20 "class 1:20 grew by $((h1 - h0)) bytes during ssh"

got=$(pks_curl "http://198.18.0.2/blob")
pks_wait_closed "$PKS_CLI" "$PKS_HTTP_PORT"
[ "$got" = 300000 ] && pks_pass http_download || pks_fail http_download "received $got bytes"
s2=$(pks_class_bytes "$dev" 1:10) h2=$(pks_class_bytes "$dev" 1:20)
[ $((h2 - h1)) -ge 300000 ] && pks_pass http_in_class_20 ||
	pks_fail http_in_class_20 "class 1:20 grew by $((h2 - h1)) bytes"
[ $((s2 - s1)) -eq 0 ] && pks_pass http_not_in_class_10 ||
	pks_fail http_not_in_class_10 "class 1:10 grew by $((s2 - s1)) bytes during http"

# IPv6 lands in the same classes.
got=$(pks_curl "http://[2001:db8::2]/blob")
pks_wait_closed "$PKS_CLI" "$PKS_HTTP_PORT"
h3=$(pks_class_bytes "$dev" 1:20)
[ "$got" = 300000 ] && [ $((h3 - h2)) -ge 300000 ] && pks_pass http_ipv6_in_class_20 ||
	pks_fail http_ipv6_in_class_20 "received $got bytes, class 1:20 grew by $((h3 - h2))"

# Flows the tc program saw before their verdict went to the default class.
d=$(pks_class_bytes "$dev" 1:30)
[ "$d" -gt 0 ] && pks_pass pending_in_default_class || pks_fail pending_in_default_class "class 1:30 saw nothing"
pks_in "$PKS_SRV" "$PKTSPEC" flows >"$PKS_TMP/flows"
grep -q ' ssh ' "$PKS_TMP/flows" && grep -q ' http ' "$PKS_TMP/flows" && pks_pass verdicts ||
	pks_fail verdicts "$(tr '\n' ' ' <"$PKS_TMP/flows")"
# Real traffic parses: nothing the tc program saw was malformed.
bpftool map dump pinned /sys/fs/bpf/pktspec/pks_tc_stats >"$PKS_TMP/stats.json"
m=$(jq '[.[].values[].value.malformed] | add' "$PKS_TMP/stats.json")
a=$(jq '[.[].values[].value.applied] | add' "$PKS_TMP/stats.json")
[ "$m" -eq 0 ] && [ "$a" -gt 10 ] && pks_pass tc_counters || pks_fail tc_counters "malformed=$m applied=$a"
pks_done
