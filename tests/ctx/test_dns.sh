#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
# Rule 2, DNS names, with real traffic: dnsmasq answers names (A over UDP,
# AAAA through a CNAME over TCP), then the client connects to the addresses.
# Each connection must carry the name the client asked for (host, from dns)
# and the application the list gives it, live and in the replayed capture.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib.sh"

pks_topology
cat >"$PKS_TMP/apps" <<APPS
# name suffix    application
.video.test      videoapp
APPS
mkdir -p "$PKS_TMP/www"
echo hello >"$PKS_TMP/www/index.html"
pks_bg "$PKS_SRV" "$PKS_TMP/dnsmasq.log" dnsmasq --no-daemon --no-resolv --no-hosts --port=53 \
	--listen-address=198.18.0.2 --bind-interfaces --host-record=www.video.test,198.18.0.2,2001:db8::2 \
	--cname=alias.test,www.video.test --pid-file= --user=root
pks_bg "$PKS_SRV" "$PKS_TMP/http.log" python3 -m http.server 8080 --bind :: --directory "$PKS_TMP/www"
pks_wait_udp "$PKS_SRV" 53 && pks_wait_tcp "$PKS_SRV" 8080 || { pks_fail dns_servers "dnsmasq or http did not start"; pks_done; }
ctx_start --apps "$PKS_TMP/apps" || { pks_fail dns_run "pktspec run did not start"; pks_done; }

a=$(pks_in "$PKS_CLI" dig +short +time=5 @198.18.0.2 www.video.test A)
[ "$a" = 198.18.0.2 ] && pks_pass dns_udp_answer || pks_fail dns_udp_answer "got '$a'"
# dig has its answer when the daemon may not have read it yet: the connection waits
# until the daemon has written the name into pks_hosts (what a flow's first packet reads).
pks_wait_for 60 pks_host_known www.video.test || pks_fail dns_udp_name_written "www.video.test not in pks_hosts"
pks_in "$PKS_CLI" curl -sS --max-time 10 -o /dev/null http://198.18.0.2:8080/ || pks_fail dns_http_v4 "curl failed"
aaaa=$(pks_in "$PKS_CLI" dig +tcp +short +time=5 @198.18.0.2 alias.test AAAA | tail -n 1)
[ "$aaaa" = 2001:db8::2 ] && pks_pass dns_tcp_cname_answer || pks_fail dns_tcp_cname_answer "got '$aaaa'"
pks_wait_for 60 pks_host_known alias.test || pks_fail dns_tcp_name_written "alias.test not in pks_hosts"
pks_in "$PKS_CLI" curl -sS --max-time 10 -o /dev/null "http://[2001:db8::2]:8080/" || pks_fail dns_http_v6 "curl failed"
# XDP gives a new flow its app from pks_hosts; the daemon writes its host into
# pks_names when it reads the flow's first event: awaited, then the table is read.
named() { # SERVER HOST
	pks_in "$PKS_CLI" "$PKTSPEC" flows --json | pks_jq_any --arg s "$1" --arg h "$2" \
		'select(.server==$s and .server_port==8080 and .host==$h)'
}
pks_wait_for 60 named 198.18.0.2 www.video.test
pks_wait_for 60 named 2001:db8::2 alias.test
ctx_flows "$PKS_TMP/flows.json"
ctx_stop || pks_fail dns_run_stops "pktspec run did not exit 0: $(cat "$PKS_TMP/run.err")"

check() { # file name server host
	local n
	n=$(pks_jq --arg s "$3" --arg h "$4" 'select(.server==$s and .server_port==8080 and .host==$h
		and .host_source=="dns" and .app=="videoapp")' "$1" | wc -l)
	[ "$n" -eq 1 ] && pks_pass "$2" || pks_fail "$2" "$(pks_jq -c 'select(.server_port==8080)' "$1" | tr '\n' ' ')"
}
check "$PKS_TMP/flows.json" dns_flow_v4_named 198.18.0.2 www.video.test
check "$PKS_TMP/flows.json" dns_flow_v6_named_through_cname 2001:db8::2 alias.test
# The table view shows it too.
pks_in "$PKS_CLI" "$PKTSPEC" flows | grep -q "www.video.test (videoapp)" && pks_pass dns_flows_table_host ||
	pks_fail dns_flows_table_host "no host column"

"$PKTSPEC" replay --json --apps "$PKS_TMP/apps" "$PKS_TMP/live.pcap" >"$PKS_TMP/replay.json" 2>"$PKS_TMP/replay.err"
check "$PKS_TMP/replay.json" dns_replay_v4_named 198.18.0.2 www.video.test
check "$PKS_TMP/replay.json" dns_replay_v6_named 2001:db8::2 alias.test
pks_done
