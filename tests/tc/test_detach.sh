#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
# attach --tc and detach leave the user's own tc setup as they found it:
# their root qdisc, classes and filters, their clsact qdisc and its filters;
# a clsact qdisc pktspec created goes with detach unless the user has put a
# filter of theirs on it meanwhile. Status lists the tc attachments. A policy
# program added to an attached classifier takes its tunnel ports.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib.sh"

pks_topology
dev=$PKS_SRV_IF
tcshow() { # everything tc shows for the device, without our filter
	{
		pks_in "$PKS_SRV" tc qdisc show dev "$dev"
		pks_in "$PKS_SRV" tc class show dev "$dev"
		pks_in "$PKS_SRV" tc filter show dev "$dev"
		pks_in "$PKS_SRV" tc filter show dev "$dev" parent 1:
		pks_in "$PKS_SRV" tc filter show dev "$dev" ingress
		pks_in "$PKS_SRV" tc filter show dev "$dev" egress
	} 2>&1 | grep -v 'pref 28787' | sed 's/ id [0-9]* / /; s/pks_tc:\[[0-9]*\]//'
}
ours() { # how many filters of ours tc shows on HOOK
	pks_in "$PKS_SRV" tc filter show dev "$dev" "$1" | grep -c 'handle 0x706b.*pks_tc'
}

# The user's setup: HTB with a class and a u32 filter, clsact with filters of
# their own on both hooks.
pks_check user_htb pks_htb "$dev" 10 30
pks_in "$PKS_SRV" tc filter add dev "$dev" parent 1: prio 5 protocol ip u32 match ip dport 22 0xffff flowid 1:10
pks_in "$PKS_SRV" tc qdisc add dev "$dev" clsact
pks_check user_ingress_filter pks_user_filter "$PKS_SRV" "$dev" ingress 1
pks_check user_egress_filter pks_user_filter "$PKS_SRV" "$dev" egress 49152
before=$(tcshow)
# The comparison below means something only if it sees the user's setup.
[ "$(echo "$before" | grep -c 'user_mark')" -eq 2 ] && echo "$before" | grep -q 'flowid 1:10' &&
	echo "$before" | grep -q 'qdisc htb 1:' && pks_pass user_setup_visible || pks_fail user_setup_visible "$before"

pks_check attach_tc_both pks_in "$PKS_SRV" "$PKTSPEC" attach "$dev" --mode generic --tc both
[ "$(ours ingress)" -eq 1 ] && [ "$(ours egress)" -eq 1 ] && pks_pass our_filters_present ||
	pks_fail our_filters_present "ingress $(ours ingress), egress $(ours egress)"
[ "$(tcshow)" = "$before" ] && pks_pass user_setup_untouched_while_attached ||
	pks_fail user_setup_untouched_while_attached "$(diff <(echo "$before") <(tcshow) | tr '\n' '|')"
st=$(pks_in "$PKS_SRV" "$PKTSPEC" status --json)
n=$(echo "$st" | jq --arg d "$dev" '[.tc[] | select(.ifname == $d)] | length')
[ "$n" -eq 2 ] && pks_pass status_lists_tc || pks_fail status_lists_tc "$st"
pks_in "$PKS_SRV" "$PKTSPEC" status | grep -q "^$dev .*egress" && pks_pass status_text_lists_tc ||
	pks_fail status_text_lists_tc "no egress line"

pks_check detach pks_in "$PKS_SRV" "$PKTSPEC" detach "$dev"
[ "$(ours ingress)" -eq 0 ] && [ "$(ours egress)" -eq 0 ] && pks_pass our_filters_gone ||
	pks_fail our_filters_gone "still there"
after=$(tcshow)
[ "$after" = "$before" ] && pks_pass user_setup_intact_after_detach ||
	pks_fail user_setup_intact_after_detach "$(diff <(echo "$before") <(echo "$after") | tr '\n' '|')"

# Interface without clsact: ours is created and removed again.
pks_in "$PKS_SRV" tc filter del dev "$dev" ingress
pks_in "$PKS_SRV" tc filter del dev "$dev" egress
pks_in "$PKS_SRV" tc qdisc del dev "$dev" clsact
pks_check attach_creates_clsact pks_in "$PKS_SRV" "$PKTSPEC" attach "$dev" --mode generic --tc egress
[ "$(ours egress)" -eq 1 ] && [ "$(ours ingress)" -eq 0 ] && pks_pass egress_only ||
	pks_fail egress_only "ingress $(ours ingress), egress $(ours egress)"
pks_check detach_again pks_in "$PKS_SRV" "$PKTSPEC" detach "$dev"
pks_in "$PKS_SRV" tc qdisc show dev "$dev" | grep -q clsact && pks_fail our_clsact_removed "still there" ||
	pks_pass our_clsact_removed

# Ours, but the user added a filter to it meanwhile: it stays, with theirs.
pks_check attach_3 pks_in "$PKS_SRV" "$PKTSPEC" attach "$dev" --mode generic
pks_check add_tc_to_attached pks_in "$PKS_SRV" "$PKTSPEC" attach "$dev" --tc=ingress
[ "$(ours ingress)" -eq 1 ] && pks_pass tc_added_to_xdp_attachment || pks_fail tc_added_to_xdp_attachment "missing"
pks_check user_filter_on_our_clsact pks_user_filter "$PKS_SRV" "$dev" ingress 2
pks_check detach_3 pks_in "$PKS_SRV" "$PKTSPEC" detach "$dev"
pks_in "$PKS_SRV" tc filter show dev "$dev" ingress | grep -q 'user_mark' && [ "$(ours ingress)" -eq 0 ] &&
	pks_pass shared_clsact_kept || pks_fail shared_clsact_kept "$(pks_in "$PKS_SRV" tc filter show dev "$dev" ingress)"

# The policy program added beside an attached classifier opens the tunnels it
# opens: its --tunnel-port, not the defaults; another port given is refused.
pks_check attach_4 pks_in "$PKS_SRV" "$PKTSPEC" attach "$dev" --mode generic --tunnel-port vxlan=4790
pks_in "$PKS_SRV" "$PKTSPEC" attach "$dev" --tc egress --tunnel-port vxlan=4789 2>"$PKS_TMP/port.err"
[ $? -eq 1 ] && grep -q "opens vxlan on port 4790, not 4789" "$PKS_TMP/port.err" && [ "$(ours egress)" -eq 0 ] &&
	pks_pass tc_other_tunnel_port_refused || pks_fail tc_other_tunnel_port_refused "$(cat "$PKS_TMP/port.err")"
pks_check add_tc_4 pks_in "$PKS_SRV" "$PKTSPEC" attach "$dev" --tc egress
# The policy program's .rodata (pks_cfg) as bpftool prints it.
tc_vxlan_port() {
	local id map
	id=$(pks_in "$PKS_SRV" tc -j filter show dev "$dev" egress | jq -r '[.[] | .options.prog.id // empty][0]')
	for map in $(bpftool -j prog show id "$id" | jq -r '.map_ids[]'); do
		bpftool -j map show id "$map" | jq -e '.name | endswith(".rodata")' >/dev/null || continue
		bpftool map dump id "$map" | jq -r '.[0].value[][] | .pks_cfg.vxlan_port // empty'
	done
}
[ "$(tc_vxlan_port)" = 4790 ] && pks_pass tc_takes_classifier_tunnel_ports ||
	pks_fail tc_takes_classifier_tunnel_ports "vxlan port $(tc_vxlan_port)"
pks_check detach_4 pks_in "$PKS_SRV" "$PKTSPEC" detach "$dev"
pks_done
