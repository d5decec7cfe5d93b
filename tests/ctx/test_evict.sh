#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
# Evictions seen and survived (doc/design.md, "Evictions"), live: `pktspec
# run` on both ends of a veth pair with a 1,024-entry flow table; eight SSH
# flows (real TCP, banners both ways: confirmed, or "expected" from the
# server memory the first ones left), four on port 22 and four on
# 2222 (a port that names nothing), held open and idle while rounds of new UDP
# flows evict them; then the server speaks first on each. The flows must come
# back confirmed SSH with the client on the client's side, `status --json`
# must count the evictions and the restores, and run must report them.
# test-timeout: 300
. "$(dirname "$0")/../lib/common.sh"

PY=/usr/bin/python3
HELPER="$PKS_ROOT/tests/ctx/evict_flows.py"
FLOWS=8
FLOOD=${PKS_EVICT_FLOOD:-20000}
# test_evict_array.sh: the IPv4 flows in the array table (--flow-table array),
# where a flood evicts a flow when it fills the flow's bucket.
TABLE=${PKS_FLOW_TABLE:-lru}

pks_topology
for ifc in "$PKS_CLI_IF" "$PKS_SRV_IF"; do
	ns=$PKS_CLI
	[ "$ifc" = "$PKS_SRV_IF" ] && ns=$PKS_SRV
	if ! pks_in "$ns" "$PKTSPEC" attach "$ifc" --mode generic --max-flows 1024 --flow-table "$TABLE" \
		>"$PKS_TMP/attach.out" 2>&1; then
		pks_fail evict_attach "$(cat "$PKS_TMP/attach.out")"
		pks_done
	fi
done
pks_bg "$PKS_CLI" "$PKS_TMP/run.out" "$PKTSPEC" run --json
run_pid=${PKS_PIDS[-1]}
pks_wait_for 30 grep -q "running the context rules" "$PKS_TMP/run.out"

pks_bg "$PKS_SRV" "$PKS_TMP/serve.log" "$PY" "$HELPER" serve 198.18.0.2 22,2222 "$PKS_TMP/trigger"
pks_wait_tcp "$PKS_SRV" 2222 && pks_wait_tcp "$PKS_SRV" 22 || pks_fail evict_server "$(cat "$PKS_TMP/serve.log")"
pks_bg "$PKS_CLI" "$PKS_TMP/connect.log" "$PY" "$HELPER" connect 198.18.0.2 22,2222 4 "$PKS_TMP/ready"
pks_wait_for 30 test -s "$PKS_TMP/ready"

# ssh_flows: the held flows in the table, as JSON lines.
ssh_flows() {
	pks_in "$PKS_CLI" "$PKTSPEC" flows --json | pks_jq 'select(.l4=="tcp" and ([.client_port,.server_port] | any(. == 22 or . == 2222)))'
}
good_flows() { # the held flows that are confirmed SSH with the client on the client's side
	ssh_flows | pks_jq 'select(.proto=="ssh" and (.confidence=="confirmed" or .confidence=="expected") and .client=="198.18.0.1" and .server=="198.18.0.2" and (.server_port==22 or .server_port==2222))' | wc -l
}
all_good() { [ "$(good_flows)" -eq "$FLOWS" ]; }
pks_wait_for 30 all_good
n=$(good_flows)
[ "$n" -eq "$FLOWS" ] && pks_pass evict_flows_confirmed_before ||
	pks_fail evict_flows_confirmed_before "$n of $FLOWS: $(ssh_flows | head -3)"
ssh_flows >"$PKS_TMP/before.json"

mac=$(pks_in "$PKS_CLI" ip -j link show dev "$PKS_CLI_IF" | pks_jq '.[0].address')
# The LRU keeps entries that were used more than once a while longer (its
# active list); how long depends on which CPUs the flood lands on: rounds of
# new flows until every held flow is out, six at most. Two frames a flow: the
# LRU evicts first the entries no packet used after the first, so flows of
# one frame could evict one another instead (doc/design.md, "Evictions").
rounds=0 left=$FLOWS
while [ "$left" -gt 0 ] && [ "$rounds" -lt 6 ]; do
	pks_in "$PKS_SRV" "$PY" "$HELPER" flood "$PKS_SRV_IF" "$mac" "$FLOOD" $((rounds * FLOOD)) 2 2>"$PKS_TMP/flood.err" ||
		pks_fail evict_flood "$(cat "$PKS_TMP/flood.err")"
	rounds=$((rounds + 1))
	left=$(ssh_flows | wc -l)
done
echo "# $rounds rounds of $FLOOD new flows evicted $((FLOWS - left)) of the $FLOWS held flows"
[ "$left" -lt "$FLOWS" ] && pks_pass evict_flood_evicted_held_flows ||
	pks_fail evict_flood_evicted_held_flows "all $left held flows still in the table"

# The daemon's next scan sees them gone and says so: one "evicted" event per flow it expects back.
# The daemon also reads the flood's new-flow events first: wait for it, not for a time.
evicted_events() { grep '"event":"evicted"' "$PKS_TMP/run.out" | pks_jq 'select(.proto=="ssh")' | wc -l; }
evicted_all() { [ "$(evicted_events)" -ge $((FLOWS - left)) ]; }
pks_wait_for 60 evicted_all
ev=$(evicted_events)
[ "$ev" -ge $((FLOWS - left)) ] && pks_pass evict_run_reports_evicted_flows ||
	pks_fail evict_run_reports_evicted_flows "$ev evicted events for $((FLOWS - left)) flows"
grep -q '"event":"evictions"' "$PKS_TMP/run.out" && pks_pass evict_run_reports_eviction_count ||
	pks_fail evict_run_reports_eviction_count "no evictions event: $(tail -n 3 "$PKS_TMP/run.out")"

# The server speaks first on every held flow; the client answers.
before=$(pks_jq -s 'map(.packets) | add' <"$PKS_TMP/before.json")
touch "$PKS_TMP/trigger"
back_all() {
	[ "$(good_flows)" -eq "$FLOWS" ] && [ "$(ssh_flows | pks_jq -s 'map(.packets) | add // 0')" -ge $((before + 2 * FLOWS)) ]
}
pks_wait_for 30 back_all
n=$(good_flows)
ssh_flows >"$PKS_TMP/after.json"
[ "$n" -eq "$FLOWS" ] && pks_pass evict_flows_back_confirmed_same_sides ||
	pks_fail evict_flows_back_confirmed_same_sides "$n of $FLOWS: $(pks_jq -c '[.client,.client_port,.server,.server_port,.proto,.confidence]' <"$PKS_TMP/after.json" | tr '\n' ' ')"
# Counters go on: every flow has at least the packets it had before the flood,
# and the same first-seen tick (about 1.05 ms; the wall-clock time shown is
# rebuilt from boot time at each read, so its microseconds may move by one).
if pks_jq -s -e --slurpfile b "$PKS_TMP/before.json" \
	'[.[] as $a | $b[] | select(.client_port==$a.client_port) | ($a.packets >= .packets and
	  (($a.first_seen - .first_seen) | if . < 0 then -. else . end) < 0.001)] | length == '"$FLOWS"' and all' \
	"$PKS_TMP/after.json" >/dev/null 2>&1; then
	pks_pass evict_flows_back_counters_go_on
else
	pks_fail evict_flows_back_counters_go_on "before: $(pks_jq -c '[.client_port,.packets,.first_seen]' <"$PKS_TMP/before.json" | tr '\n' ' ') after: $(pks_jq -c '[.client_port,.packets,.first_seen]' <"$PKS_TMP/after.json" | tr '\n' ' ')"
fi

pks_in "$PKS_CLI" "$PKTSPEC" status --json >"$PKS_TMP/status.json"
echo "# status: $(pks_jq -c .flows "$PKS_TMP/status.json")"
if pks_jq -e '.flows.evicted > 0 and .flows.created >= '"$((rounds * FLOOD + FLOWS))"' and .flows.restored >= 1' "$PKS_TMP/status.json" >/dev/null; then
	pks_pass evict_status_counts_evictions
else
	pks_fail evict_status_counts_evictions "$(pks_jq -c .flows "$PKS_TMP/status.json")"
fi
pks_in "$PKS_CLI" "$PKTSPEC" status | grep -q "evicted by the LRU" && pks_pass evict_status_text ||
	pks_fail evict_status_text "$(pks_in "$PKS_CLI" "$PKTSPEC" status | head -12)"
restored_all() { [ "$(grep -c '"event":"restored"' "$PKS_TMP/run.out")" -ge $((FLOWS - left)) ]; }
pks_wait_for 30 restored_all
r=$(grep -c '"event":"restored"' "$PKS_TMP/run.out")
[ "$r" -ge $((FLOWS - left)) ] && pks_pass evict_run_reports_restored ||
	pks_fail evict_run_reports_restored "$r restored events for $((FLOWS - left)) evicted flows"

kill -TERM "$run_pid"
pks_wait_for 30 pks_gone "$run_pid"
for ifc in "$PKS_CLI_IF" "$PKS_SRV_IF"; do
	ns=$PKS_CLI
	[ "$ifc" = "$PKS_SRV_IF" ] && ns=$PKS_SRV
	pks_in "$ns" "$PKTSPEC" detach "$ifc" >/dev/null 2>&1
done
pks_done
