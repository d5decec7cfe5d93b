#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
# The documented recipes, run as written: every block fenced "```sh recipe=NAME"
# in README.md and doc/policy.md (the same marker and extraction, pks_recipe,
# as doc/export.md's recipes in e2e/test_export.sh), under `bash -e` in a
# network namespace whose interfaces carry the doc's names (eth0, lan0, wan0,
# veth pairs to a peer namespace). Proves: each recipe runs to its end with
# status 0 (the nftables recipe with nft 1.0.6 too), and leaves what it says:
# HTB classes and the tc program on wan0 with the four rules, the nftables
# chain with its two mark rules, the DSCP rules, the egress classifier, a
# `run --apps` that starts and stops. A recipe missing from its document fails.
. "$(dirname "$0")/../lib/common.sh"

README=$PKS_ROOT/README.md
POLICY=$PKS_ROOT/doc/policy.md
for r in "$README use" "$README bpftool" "$README egress" "$README run-apps" \
	"$POLICY attach-tc" "$POLICY htb" "$POLICY nft-mark" "$POLICY dscp"; do
	set -- $r
	[ -n "$(pks_recipe "$1" "$2")" ] || pks_fail "recipe_$2" "no recipe '$2' in ${1#"$PKS_ROOT/"}"
done
[ "$PKS_FAILED" -eq 0 ] || pks_done

NS="pks-r-$PKS_ID"
PEER="pks-p-$PKS_ID"
ip netns add "$NS" && PKS_NETNS+=("$NS")
ip netns add "$PEER" && PKS_NETNS+=("$PEER")
n=0
for dev in eth0 lan0 wan0; do
	n=$((n + 1))
	ip link add "$dev" netns "$NS" type veth peer name "pkp$n$PKS_ID" netns "$PEER"
	pks_in "$NS" ip link set "$dev" up
	pks_in "$PEER" ip link set "pkp$n$PKS_ID" up
	pks_in "$NS" ip addr add "198.18.$n.1/24" dev "$dev"
	pks_in "$PEER" ip addr add "198.18.$n.2/24" dev "pkp$n$PKS_ID"
done
pks_in "$NS" ip link set lo up

W=$PKS_TMP/work
mkdir -p "$W"
cd "$W" || exit 1
cp "$PKS_ROOT/tests/captures/demo.pcap" capture.pcap
printf '.youtube.com youtube\n' >apps.txt
export PATH="$(dirname "$PKTSPEC"):$PATH"

# recipe DOC NAME: the block as written, stopping at the first failing line.
recipe() {
	pks_in "$NS" bash -e -c "$(pks_recipe "$1" "$2")" >"$PKS_TMP/$2.out" 2>&1 && return 0
	pks_fail "recipe_$2" "exit $?: $(tail -n 3 "$PKS_TMP/$2.out" | tr '\n' ' ')"
	return 1
}
in_ns() { pks_in "$NS" "$@"; }
# reset: nothing attached, no policy, no qdisc, no nftables table left by a recipe.
reset() {
	for dev in eth0 lan0 wan0; do
		in_ns pktspec status | grep -q "^$dev " && in_ns pktspec detach "$dev" >/dev/null
		in_ns pktspec status | grep -q "^$dev " && in_ns pktspec detach "$dev" >/dev/null
		in_ns tc qdisc del dev "$dev" root 2>/dev/null
		in_ns tc qdisc del dev "$dev" clsact 2>/dev/null
	done
	in_ns pktspec policy clear >/dev/null 2>&1
	in_ns nft flush ruleset
	[ -z "$(in_ns pktspec status --json | jq -c '.attached[], .tc[]')" ]
}

# README: the "Use" block (attach, flows, top, status, detach, replay, protocols, probe).
if recipe "$README" use; then
	grep -q "attached to eth0" "$PKS_TMP/use.out" && grep -q "detached from eth0" "$PKS_TMP/use.out" &&
		grep -q "^2 *tls *TLS over TCP" "$PKS_TMP/use.out" && pks_pass recipe_use || pks_fail recipe_use "$(head -n 5 "$PKS_TMP/use.out" | tr '\n' ' ')"
fi
reset || pks_fail reset_use "$(in_ns pktspec status | head -3)"

# README: bpftool reads the pinned tables (an HTTP-looking flow in the IPv4 one).
in_ns pktspec attach eth0 >/dev/null
pks_in "$PEER" bash -c 'exec 3<>/dev/tcp/198.18.1.1/80' 2>/dev/null
if recipe "$README" bpftool; then
	grep -q '"proto": "PKS_P_HTTP"' "$PKS_TMP/bpftool.out" && pks_pass recipe_bpftool ||
		pks_fail recipe_bpftool "$(head -c 300 "$PKS_TMP/bpftool.out")"
fi
reset || pks_fail reset_bpftool "$(in_ns pktspec status | head -3)"

# README: the egress classifier.
if recipe "$README" egress; then
	in_ns pktspec status | grep -q "^eth0 " && in_ns tc filter show dev eth0 egress | grep -q 'direct-action' &&
		pks_pass recipe_egress || pks_fail recipe_egress "$(in_ns pktspec status | head -4 | tr '\n' ' ')"
fi
reset || pks_fail reset_egress "$(in_ns pktspec status | head -3)"

# README: run -i eth0 --apps apps.txt --json, a daemon: it starts, and stops on SIGTERM with status 0.
body=$(pks_recipe "$README" run-apps)
pks_bg "$NS" "$PKS_TMP/run-apps.out" bash -c "exec $body"
RUN=${PKS_PIDS[-1]}
if pks_wait_for 60 grep -q "running the context rules" "$PKS_TMP/run-apps.out"; then
	kill -TERM "$RUN"
	wait "$RUN" && pks_pass recipe_run-apps || pks_fail recipe_run-apps "exit: $(tail -n 2 "$PKS_TMP/run-apps.out")"
else
	pks_fail recipe_run-apps "$(tail -n 3 "$PKS_TMP/run-apps.out" | tr '\n' ' ')"
fi
reset || pks_fail reset_run-apps "$(in_ns pktspec status | head -3)"

# doc/policy.md: Attach (tc on both hooks, then one, then the other; status; detach).
if recipe "$POLICY" attach-tc; then
	grep -q "detached from eth0" "$PKS_TMP/attach-tc.out" && pks_pass recipe_attach-tc ||
		pks_fail recipe_attach-tc "$(tail -n 3 "$PKS_TMP/attach-tc.out" | tr '\n' ' ')"
fi
reset || pks_fail reset_attach-tc "$(in_ns pktspec status | head -3)"

# doc/policy.md: HTB classes per protocol.
if recipe "$POLICY" htb; then
	classes=$(in_ns tc class show dev wan0 | grep -o 'htb 1:[0-9]*' | sort | tr '\n' ' ')
	rules=$(in_ns pktspec policy list | grep -c 'classid 1:[12]0')
	[ "$classes" = "htb 1:1 htb 1:10 htb 1:20 htb 1:30 " ] && [ "$rules" -eq 4 ] &&
		in_ns tc filter show dev wan0 egress | grep -q pks_tc && pks_pass recipe_htb ||
		pks_fail recipe_htb "classes '$classes', $rules rules"
fi
reset || pks_fail reset_htb "$(in_ns pktspec status | head -3)"

# doc/policy.md: nftables meta mark.
if recipe "$POLICY" nft-mark; then
	chain=$(in_ns nft list chain inet qos forward 2>&1)
	[ "$(echo "$chain" | grep -c 'meta mark & 0x00000f00 == 0x00000[12]00 counter')" -eq 2 ] &&
		echo "$chain" | grep -q 'hook forward' && in_ns pktspec policy list | grep -q 'bittorrent.*mark 0x100/0xf00' &&
		pks_pass recipe_nft-mark || pks_fail recipe_nft-mark "$(echo "$chain" | tr '\n' ' ')"
fi
reset || pks_fail reset_nft-mark "$(in_ns pktspec status | head -3)"

# doc/policy.md: DSCP for a downstream QoS domain.
if recipe "$POLICY" dscp; then
	[ "$(in_ns pktspec policy list | grep -c dscp)" -eq 4 ] && in_ns tc filter show dev wan0 egress | grep -q pks_tc &&
		pks_pass recipe_dscp || pks_fail recipe_dscp "$(in_ns pktspec policy list | tr '\n' ' ')"
fi
reset || pks_fail reset_dscp "$(in_ns pktspec status | head -3)"
pks_done
