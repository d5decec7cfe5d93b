#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
#
# End to end: pktspec attached (native XDP) on both ends of a veth pair, real
# servers (nginx, openssl s_server, dnsmasq, sshd on a spare port) and real
# clients (curl, openssl s_client, dig, dig +tcp, ssh), over IPv4 and IPv6.
# The verdicts must show in `pktspec flows --json` and in `bpftool map dump`
# of the pinned table, and a tcpdump recording of the same traffic replayed
# through `pktspec replay` must give the same verdict for every flow.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/servers.sh"

T=$PKS_TEST
FLOWS=/sys/fs/bpf/pktspec/pks_flows
MODE=${PKS_XDP_MODE:-native} # test_live_generic.sh runs the same in generic (skb) mode
[ "$MODE" = native ] || T="${T}_$MODE"
TABLE=${PKS_FLOW_TABLE:-lru} # test_live_array.sh: IPv4 flows in the array table (--flow-table array)
[ "$TABLE" = lru ] || T="${T}_$TABLE"

pks_topology
if ! pks_servers_start 2>"$PKS_TMP/servers.err"; then
	pks_fail "$T:servers" "$(head -c 400 "$PKS_TMP/servers.err")"
	pks_done
fi
pks_pass "$T:servers"

# The array table small, so that bpftool dumps its buckets quickly.
table_args=(--flow-table "$TABLE")
[ "$TABLE" = array ] && table_args+=(--max-flows 4096)
pks_check "$T:attach-client" pks_in "$PKS_CLI" "$PKTSPEC" attach --mode "$MODE" "${table_args[@]}" "$PKS_CLI_IF"
# An attachment that names the other kind is refused, says why, and leaves nothing attached.
other=array
[ "$TABLE" = array ] && other=lru
if pks_in "$PKS_SRV" "$PKTSPEC" attach --mode "$MODE" --flow-table $other "$PKS_SRV_IF" 2>"$PKS_TMP/other.err"; then
	pks_fail "$T:attach-other-kind-refused" "attached with --flow-table $other"
elif grep -q -- "--flow-table" "$PKS_TMP/other.err" &&
	[ -z "$(pks_in "$PKS_SRV" ip -j link show dev "$PKS_SRV_IF" | jq -r '.[0].xdp // empty')" ]; then
	pks_pass "$T:attach-other-kind-refused"
else
	pks_fail "$T:attach-other-kind-refused" "$(cat "$PKS_TMP/other.err")"
fi
# The second attachment names no table: it takes the pinned one, whatever its kind.
pks_check "$T:attach-server" pks_in "$PKS_SRV" "$PKTSPEC" attach --mode "$MODE" "$PKS_SRV_IF"

pks_tcpdump_start "$PKS_CLI" "$PKS_CLI_IF" "$PKS_TMP/live.pcap" 'tcp or udp' ||
	pks_fail "$T:tcpdump" "$(cat "$PKS_TMP/live.pcap.log")"
for addr in 198.18.0.2 2001:db8::2; do
	fam=ipv4
	case $addr in *:*) fam=ipv6 ;; esac
	if pks_clients_run "$addr" >"$PKS_TMP/clients.err"; then
		pks_pass "$T:clients-$fam"
	else
		pks_fail "$T:clients-$fam" "$(head -c 400 "$PKS_TMP/clients.err" | tr '\n' ' ')"
	fi
done
pks_tcpdump_stop "$PKS_TMP/live.pcap" 2>"$PKS_TMP/tcpdump.stop" || pks_fail "$T:capture" "$(cat "$PKS_TMP/tcpdump.stop")"

pks_in "$PKS_CLI" "$PKTSPEC" flows --json >"$PKS_TMP/live.json" 2>"$PKS_TMP/flows.err" ||
	pks_fail "$T:flows" "$(cat "$PKS_TMP/flows.err")"
# IPv4 flows live in pks_flows4 (a 16-byte key), the others in pks_flows.
bpftool -j map dump pinned "$FLOWS" >"$PKS_TMP/dump-ipv6.json" 2>"$PKS_TMP/dump.err" ||
	pks_fail "$T:bpftool-dump" "$(cat "$PKS_TMP/dump.err")"
bpftool -j map dump pinned "${FLOWS}4" >"$PKS_TMP/dump-lru4.json" 2>"$PKS_TMP/dump.err" ||
	pks_fail "$T:bpftool-dump4" "$(cat "$PKS_TMP/dump.err")"
if [ "$TABLE" = array ]; then
	# pks_ways4 dumps as buckets of ways: the ways in use, as key and value.
	bpftool -j map dump pinned /sys/fs/bpf/pktspec/pks_ways4 >"$PKS_TMP/dump-ways.json" 2>"$PKS_TMP/dump.err" ||
		pks_fail "$T:bpftool-dump-ways" "$(cat "$PKS_TMP/dump.err")"
	jq '[.[] | (.formatted // .) | .value.way[] | select(.used == 1) |
		{key: {addr_a, addr_b, port_a, port_b, l4}, value: .val}]' "$PKS_TMP/dump-ways.json" \
		>"$PKS_TMP/dump-ipv4.json"
	n=$(jq length "$PKS_TMP/dump-lru4.json")
	[ "$n" = 0 ] && pks_pass "$T:lru-table-unused" || pks_fail "$T:lru-table-unused" "$n entries in pks_flows4"
else
	cp "$PKS_TMP/dump-lru4.json" "$PKS_TMP/dump-ipv4.json"
fi

# expect_flow FAMILY L4 PORT PROTO: the live flow to that server port has
# PROTO, confirmed, in `pktspec flows --json` and in bpftool's BTF dump.
expect_flow() {
	local fam=$1 l4=$2 port=$3 proto=$4 server=198.18.0.2 got n
	[ "$fam" = ipv6 ] && server=2001:db8::2
	local sel=".l4==\"$l4\" and .server==\"$server\" and .server_port==$port"
	n=$(jq -c "select($sel)" "$PKS_TMP/live.json" | wc -l)
	got=$(jq -r "select($sel) | \"\(.proto)/\(.confidence)\"" "$PKS_TMP/live.json" | sort -u | tr '\n' ' ')
	if [ "$n" -ge 1 ] && [ "$got" = "$proto/confirmed " ]; then
		pks_pass "$T:flows-$fam-$l4-$port-$proto"
	else
		pks_fail "$T:flows-$fam-$l4-$port-$proto" "$n flows, verdicts: ${got:-none}"
	fi
	# bpftool prints the value with BTF names: "proto": "PKS_P_HTTP" and so on.
	local sym
	sym=$(echo "$proto" | tr 'a-z-' 'A-Z_')
	got=$(jq -r --argjson port "$port" --arg l4 "$l4" '
		.[] | (.formatted // .) | select(.key.l4 == (if $l4 == "tcp" then 6 else 17 end)) |
		select(.key.port_a == $port or .key.port_b == $port) |
		"\(.value.proto)/\(.value.confidence)"' "$PKS_TMP/dump-$fam.json" 2>&1 | sort -u | tr '\n' ' ')
	if [ "$got" = "PKS_P_$sym/PKS_C_CONFIRMED " ]; then
		pks_pass "$T:bpftool-$fam-$l4-$port-$proto"
	else
		pks_fail "$T:bpftool-$fam-$l4-$port-$proto" "bpftool shows: ${got:-nothing}"
	fi
}

for fam in ipv4 ipv6; do
	expect_flow $fam tcp 80 http
	expect_flow $fam tcp 443 tls
	expect_flow $fam udp 53 dns
	expect_flow $fam tcp 53 dns
	expect_flow $fam tcp $PKS_SSH_PORT ssh
done

# --proto keeps only that protocol's flows (two per family: none else is ssh).
n=$(pks_in "$PKS_CLI" "$PKTSPEC" flows --json --proto ssh | jq -r .proto | sort | uniq -c | tr -s ' ')
[ "$n" = " 2 ssh" ] && pks_pass "$T:flows-proto-filter" || pks_fail "$T:flows-proto-filter" "got: $n"
modes=$(pks_in "$PKS_CLI" "$PKTSPEC" status --json | jq -r '[.attached[].mode] | unique | join(",")')
[ "$modes" = "$MODE" ] && pks_pass "$T:status-mode-$MODE" || pks_fail "$T:status-mode-$MODE" "status says $modes"

# Nothing else was named: every other flow is unknown (there should be none).
others=$(jq -r 'select((.server_port|IN(80,443,53,'$PKS_SSH_PORT'))|not) | "\(.l4) \(.server_port) \(.proto)/\(.confidence)"' \
	"$PKS_TMP/live.json" | tr '\n' ';')
[ -z "$others" ] && pks_pass "$T:no-other-flows" || pks_fail "$T:no-other-flows" "$others"

# The recording, replayed, gives the same verdict per 5-tuple as live.
key='"\(.l4) \(.client)/\(.client_port) \(.server)/\(.server_port) \(.proto) \(.confidence)"'
jq -r "$key" "$PKS_TMP/live.json" | sort >"$PKS_TMP/live.verdicts"
if "$PKTSPEC" replay --json --flow-table "$TABLE" "$PKS_TMP/live.pcap" >"$PKS_TMP/replay.json" 2>"$PKS_TMP/replay.err"; then
	jq -r "$key" "$PKS_TMP/replay.json" | sort >"$PKS_TMP/replay.verdicts"
	if [ -s "$PKS_TMP/live.verdicts" ] && diff -u "$PKS_TMP/live.verdicts" "$PKS_TMP/replay.verdicts" >"$PKS_TMP/diff"; then
		pks_pass "$T:replay-matches-live ($(wc -l <"$PKS_TMP/live.verdicts") flows)"
	else
		pks_fail "$T:replay-matches-live" "$(grep '^[-+][^-+]' "$PKS_TMP/diff" | head -n 6 | tr '\n' ';')"
	fi
else
	pks_fail "$T:replay-matches-live" "replay failed: $(cat "$PKS_TMP/replay.err")"
fi

# Packets were counted under reasons, none as a parse error.
bad=$(pks_in "$PKS_CLI" "$PKTSPEC" status --json |
	jq -r '.reasons | to_entries[] | select(.value > 0 and (.key | IN("new_flow","inspected","tracked","decided","non_ip","other_l4") | not)) | "\(.key)=\(.value)"')
[ -z "$bad" ] && pks_pass "$T:no-parse-errors" || pks_fail "$T:no-parse-errors" "$bad"

pks_check "$T:detach-client" pks_in "$PKS_CLI" "$PKTSPEC" detach "$PKS_CLI_IF"
pks_check "$T:detach-server" pks_in "$PKS_SRV" "$PKTSPEC" detach "$PKS_SRV_IF"
if [ -e /sys/fs/bpf/pktspec ]; then
	pks_fail "$T:nothing-left" "$(find /sys/fs/bpf/pktspec | tr '\n' ' ')"
else
	pks_pass "$T:nothing-left"
fi
pks_done
