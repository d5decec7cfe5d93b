#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
# Flow lifecycle and export, live, with the recipes of doc/export.md run
# verbatim in the server's namespace: nfcapd collects the IPFIX export,
# Prometheus scrapes the metrics, `pktspec run --json` writes the records.
# Real clients and servers (curl/nginx, openssl, dig/dnsmasq, ssh/sshd) over
# IPv4 and IPv6; pktspec on both ends of the veth pair.
# Proves: TCP flows end with "fin", a refused connection with "rst", UDP with
# "idle", and all are removed from pks_flows and pks_names; nfdump shows both
# directions of every flow with pktspec's application ID and packet counts;
# tshark decodes every message without an error; Prometheus answers a query
# per protocol with the records' packet counts; promtool accepts the metrics;
# with the collector gone, flows still end and the send errors are counted.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/servers.sh"

DOC=$PKS_ROOT/doc/export.md
recipe() { pks_recipe "$DOC" "$1"; }
for r in json-read ipfix-collector daemon ipfix-read prometheus-config prometheus-server prometheus-query; do
	[ -n "$(recipe "$r")" ] || { pks_fail doc_recipes "no recipe '$r' in doc/export.md"; pks_done; }
done
pks_pass doc_recipes

pks_topology
pks_servers_start >"$PKS_TMP/servers.err" 2>&1 || { pks_fail servers "$(cat "$PKS_TMP/servers.err")"; pks_done; }
pks_in "$PKS_CLI" "$PKTSPEC" attach "$PKS_CLI_IF" >/dev/null || { pks_fail attach_client "attach failed"; pks_done; }
pks_in "$PKS_SRV" ip link set lo up

W=$PKS_TMP/work
mkdir -p "$W"
cd "$W" || exit 1
export IFACE=$PKS_SRV_IF PATH="$(dirname "$PKTSPEC"):$PATH"

# A recipe whose last line is a daemon: the lines before it run first, the last one
# under pks_bg (exec'd, so its PID is the daemon's). Its stderr goes to LOG.
recipe_daemon() { # NAME LOG
	local body
	body=$(recipe "$1")
	[ "$(printf '%s\n' "$body" | wc -l)" -gt 1 ] && pks_in "$PKS_SRV" bash -c "$(printf '%s\n' "$body" | head -n -1)"
	pks_bg "$PKS_SRV" "$2" bash -c "exec $(printf '%s\n' "$body" | tail -n 1)"
}
# A recipe run to its end in the server's namespace.
recipe_run() { pks_in "$PKS_SRV" bash -c "$(recipe "$1")"; }

recipe_daemon ipfix-collector "$PKS_TMP/nfcapd.log"
NFCAPD=${PKS_PIDS[-1]}
pks_wait_udp "$PKS_SRV" 4739 || { pks_fail collector_start "$(cat "$PKS_TMP/nfcapd.log")"; pks_done; }
pks_tcpdump_start "$PKS_SRV" lo "$PKS_TMP/ipfix.pcap" udp port 4739 || { pks_fail tcpdump lo; pks_done; }
recipe_daemon daemon "$PKS_TMP/run.err"
RUN=${PKS_PIDS[-1]}
pks_wait_for 60 grep -q "running the context rules" "$PKS_TMP/run.err"
grep -q "running the context rules" "$PKS_TMP/run.err" && pks_pass daemon_start ||
	{ pks_fail daemon_start "$(cat "$PKS_TMP/run.err")"; pks_done; }
recipe_run prometheus-config
recipe_daemon prometheus-server "$PKS_TMP/prometheus.log"
pks_wait_for 120 pks_in "$PKS_SRV" curl -sf http://127.0.0.1:9090/-/ready && pks_pass prometheus_start || { pks_fail prometheus_start "$(tail -n 5 "$PKS_TMP/prometheus.log")"; pks_done; }

# Traffic: one exchange per protocol over both families, and a refused connection.
pks_clients_run 198.18.0.2 >"$PKS_TMP/clients.err" && pks_clients_run 2001:db8::2 >>"$PKS_TMP/clients.err" &&
	pks_pass clients || pks_fail clients "$(cat "$PKS_TMP/clients.err")"
pks_in "$PKS_CLI" curl -s --max-time 5 http://198.18.0.2:81/ >/dev/null 2>&1
pks_in "$PKS_SRV" "$PKTSPEC" flows --json >"$PKS_TMP/flows.json"

# Every flow ends (UDP after 5 s idle) and leaves the tables.
flows_gone() { [ "$(pks_in "$PKS_SRV" "$PKTSPEC" flows --json | wc -l)" -eq 0 ]; }
pks_wait_for 120 flows_gone && pks_pass flows_removed || pks_fail flows_removed "$(pks_in "$PKS_SRV" "$PKTSPEC" flows)"
# The daemon deletes a flow from pks_flows, then writes its record, then its name:
# an empty flow table does not mean the last records are out. Awaited: every name
# gone and the end records of all 11 flows (8 TCP, 2 UDP, the refused one) written.
E="$W/events.json"
end() { jq -c 'select(.event == "end")' "$E" 2>/dev/null; }
names_left() { pks_in "$PKS_SRV" bpftool -j map dump pinned /sys/fs/bpf/pktspec/pks_names | jq length; }
names_gone() { [ "$(names_left)" = 0 ]; }
pks_wait_for 60 names_gone && pks_pass names_removed || pks_fail names_removed "$(names_left) entries left in pks_names"
records_out() { [ "$(end | wc -l)" -ge 11 ]; }
pks_wait_for 60 records_out || pks_fail end_records_written "$(end | wc -l) of 11 end records"
n=$(end | jq -c 'select(.l4 == "tcp" and (.server_port | IN(80, 443, 53, 2222)) and .reason == "fin")' | wc -l)
[ "$n" -eq 8 ] && pks_pass tcp_ends_fin || pks_fail tcp_ends_fin "$n of 8: $(end | jq -c '[.server_port, .reason]' | tr '\n' ' ')"
n=$(end | jq -c 'select(.l4 == "udp" and .server_port == 53 and .reason == "idle" and .proto == "dns")' | wc -l)
[ "$n" -eq 2 ] && pks_pass udp_ends_idle || pks_fail udp_ends_idle "$n of 2"
n=$(end | jq -c 'select(.server_port == 81 and .reason == "rst")' | wc -l)
[ "$n" -eq 1 ] && pks_pass refused_ends_rst || pks_fail refused_ends_rst "$(end | jq -c 'select(.server_port == 81)')"
n=$(end | jq -c 'select(.proto == "http" and .packets_c2s >= 4 and .packets_s2c >= 3 and .bytes_s2c > 0
	and .delta_packets_c2s == .packets_c2s and .first_seen <= .last_seen and .flow_id > 0)' | wc -l)
[ "$n" -eq 2 ] && pks_pass end_record_counters ||
	pks_fail end_record_counters "$n of 2; every record of port 80: $(jq -c 'select(.server_port == 80)' "$E")"
n=$(end | jq -c 'select(.proto == "tls" and .host == "pktspec.test")' | wc -l)
[ "$n" -eq 2 ] && pks_pass end_record_names || pks_fail end_record_names "$(end | jq -c 'select(.proto == "tls")')"
recipe_run json-read >"$PKS_TMP/json-read.out" 2>&1 && [ "$(wc -l <"$PKS_TMP/json-read.out")" -eq "$(end | wc -l)" ] &&
	pks_pass doc_json_recipe || pks_fail doc_json_recipe "$(head -3 "$PKS_TMP/json-read.out")"

# Prometheus: the doc's query, and one per protocol, answer the records' packet sums.
# Packets are counted under the verdict a flow had when a scan saw them (doc/export.md):
# a scan may catch a flow before its verdict (on a loaded machine an SSH banner can come
# a scan later), so a protocol may have fewer than its records say and `unknown` those
# more; the totals are equal.
want=$(end | jq -rs 'group_by(.proto) | map("\(.[0].proto) \(map(.packets) | add)") | .[]' | sort)
# prom_consistent WANT GOT: "proto packets" lines as above.
prom_consistent() {
	jq -en --arg w "$1" --arg g "$2" '
		def tab(s): s | split("\n") | map(select(length > 0) | split(" ") | {(.[0]): (.[1] | tonumber)}) | add // {};
		tab($w) as $W | tab($g) as $G |
		([$W[]] | add) == ([$G[]] | add) and
		all($G | to_entries[]; .key == "unknown" or .value <= ($W[.key] // 0))' >/dev/null
}
prom_answers() {
	recipe_run prometheus-query 2>/dev/null | sort >"$PKS_TMP/prom.txt"
	prom_consistent "$want" "$(cat "$PKS_TMP/prom.txt")"
}
pks_wait_for 60 prom_answers && pks_pass prometheus_packets_by_proto ||
	pks_fail prometheus_packets_by_proto "want [$want] got [$(cat "$PKS_TMP/prom.txt")]"
# Prometheus answers from its last scrape: records ended after it show at a later one, so the
# per-protocol answers are awaited until they agree (or 60 s), not read once.
prom_per_proto() {
	bad=
	for p in http tls dns ssh; do
		w=$(end | jq -s --arg p "$p" 'map(select(.proto == $p) | .packets) | add')
		q=$(pks_in "$PKS_SRV" curl -s http://127.0.0.1:9090/api/v1/query \
			--data-urlencode "query=sum(pktspec_packets_total{proto=\"$p\"})" | jq -r '.data.result[0].value[1]')
		f=$(pks_in "$PKS_SRV" curl -s http://127.0.0.1:9090/api/v1/query \
			--data-urlencode "query=sum(pktspec_flow_records_total{proto=\"$p\"})" | jq -r '.data.result[0].value[1]')
		wf=$(end | jq -s --arg p "$p" 'map(select(.proto == $p)) | length')
		[ "${q:-x}" -le "${w:-0}" ] 2>/dev/null && [ "$q" -gt 0 ] && [ "$f" = "$wf" ] || bad="$bad $p:packets=$q/$w,records=$f/$wf"
	done
	[ -z "$bad" ]
}
pks_wait_for 60 prom_per_proto
[ -z "$bad" ] && pks_pass prometheus_query_per_proto || pks_fail prometheus_query_per_proto "$bad"
pks_in "$PKS_SRV" curl -s http://127.0.0.1:9465/metrics >"$PKS_TMP/metrics.txt"
promtool check metrics <"$PKS_TMP/metrics.txt" >"$PKS_TMP/promtool.out" 2>&1 &&
	grep -q '^pktspec_attached{interface="'"$PKS_SRV_IF"'"' "$PKS_TMP/metrics.txt" &&
	grep -q '^pktspec_expect_gate_slots_open{level="coarse"} [0-9]' "$PKS_TMP/metrics.txt" &&
	pks_pass promtool_check_metrics || pks_fail promtool_check_metrics "$(cat "$PKS_TMP/promtool.out")"

# nfcapd writes its file when it stops; nfdump shows both directions with the application ID.
kill -TERM "$NFCAPD"
pks_wait_for 30 pks_gone "$NFCAPD"
recipe_run ipfix-read >"$PKS_TMP/nfdump.out" 2>&1
bad=
while read -r rec; do
	eval "$(jq -r '@sh "c=\(.client) cp=\(.client_port) s=\(.server) sp=\(.server_port) id=\(.proto_id) pc=\(.packets_c2s) ps=\(.packets_s2c)"' <<<"$rec")"
	awk -v c="$c" -v cp="$cp" -v s="$s" -v sp="$sp" -v app="$id..13" -v pk="$pc" \
		'$1 == c && $2 == cp && $3 == s && $4 == sp && $6 == pk && $NF == app { f = 1 } END { exit !f }' \
		"$PKS_TMP/nfdump.out" || bad="$bad $c:$cp>$s:$sp"
	[ "$ps" -eq 0 ] || awk -v c="$c" -v cp="$cp" -v s="$s" -v sp="$sp" -v app="$id..13" -v pk="$ps" \
		'$1 == s && $2 == sp && $3 == c && $4 == cp && $6 == pk && $NF == app { f = 1 } END { exit !f }' \
		"$PKS_TMP/nfdump.out" || bad="$bad $s:$sp>$c:$cp"
done < <(end)
[ -z "$bad" ] && [ "$(end | wc -l)" -ge 11 ] && pks_pass nfdump_shows_flows_with_app_id ||
	pks_fail nfdump_shows_flows_with_app_id "missing:$bad; nfdump: $(head -5 "$PKS_TMP/nfdump.out" | tr '\n' '|')"
# The flows table snapshot taken while they lived: the same application IDs.
bad=
while read -r rec; do
	eval "$(jq -r '@sh "c=\(.client) cp=\(.client_port) id=\(.proto_id)"' <<<"$rec")"
	awk -v c="$c" -v cp="$cp" -v app="$id..13" '$1 == c && $2 == cp && $NF == app { f = 1 } END { exit !f }' \
		"$PKS_TMP/nfdump.out" || bad="$bad $c:$cp"
done <"$PKS_TMP/flows.json"
[ -z "$bad" ] && pks_pass nfdump_app_ids_match_flows || pks_fail nfdump_app_ids_match_flows "$bad"

# The collector is gone: flows still end, the errors are counted.
http_ends() { [ "$(end | jq -c 'select(.proto == "http")' | wc -l)" -ge "$1" ]; }
ok=1
for i in 1 2 3; do
	pks_in "$PKS_CLI" curl -s --max-time 5 -o /dev/null http://198.18.0.2/index.html
	# Its end record is out (a scan found it, a message was sent) before the next: one message each.
	pks_wait_for 60 http_ends $((2 + i)) || ok=
done
[ -n "$ok" ] && pks_pass ends_with_collector_down || pks_fail ends_with_collector_down "$(end | wc -l) end records"
send_errors() { pks_in "$PKS_SRV" curl -s http://127.0.0.1:9465/metrics | awk '$1 == "pktspec_ipfix_send_errors_total" { print $2 }'; }
send_errors_counted() { errs=$(send_errors); [ "${errs:-0}" -ge 1 ]; }
pks_wait_for 60 send_errors_counted
[ "${errs:-0}" -ge 1 ] && pks_pass collector_down_counted || pks_fail collector_down_counted "send errors: ${errs:-none}"

# tshark decodes every message the exporter sent, templates and data, without complaint.
pks_tcpdump_stop "$PKS_TMP/ipfix.pcap" 2>"$PKS_TMP/tcpdump.stop" || pks_fail ipfix_capture "$(cat "$PKS_TMP/tcpdump.stop")"
tshark -r "$PKS_TMP/ipfix.pcap" -d udp.port==4739,cflow -V >"$PKS_TMP/tshark.txt" 2>&1
msgs=$(tshark -r "$PKS_TMP/ipfix.pcap" -d udp.port==4739,cflow -Y cflow 2>/dev/null | wc -l)
if [ "$msgs" -ge 3 ] && ! grep -qiE 'malformed|expert info \((error|warning)' "$PKS_TMP/tshark.txt" &&
	grep -q 'APPLICATION_ID (95)' "$PKS_TMP/tshark.txt" && grep -q 'ApplicationName: http' "$PKS_TMP/tshark.txt"; then
	pks_pass tshark_decodes_ipfix
else
	pks_fail tshark_decodes_ipfix "$msgs messages; $(grep -iE 'malformed|expert' "$PKS_TMP/tshark.txt" | head -3)"
fi

kill -TERM "$RUN"
pks_wait_for 30 pks_gone "$RUN"
wait "$RUN"
[ $? -eq 0 ] && pks_pass daemon_sigterm_exit_0 || pks_fail daemon_sigterm_exit_0 "$(tail -n 3 "$PKS_TMP/run.err")"
pks_done
