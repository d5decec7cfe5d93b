#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
# Rule 6, server memory, with real traffic: once an HTTP exchange with a
# server endpoint is confirmed, the next connection to it is http with
# confidence "expected" (rule server-memory) from its first packet; when the
# endpoint then speaks another protocol, the signature wins. Replayed, the
# capture gives the same.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib.sh"

pks_topology
mkdir -p "$PKS_TMP/www"
echo hello >"$PKS_TMP/www/index.html"
pks_bg "$PKS_SRV" "$PKS_TMP/http.log" python3 -m http.server 8080 --bind 198.18.0.2 --directory "$PKS_TMP/www"
HTTP_PID=${PKS_PIDS[-1]}
pks_wait_tcp "$PKS_SRV" 8080 || { pks_fail memory_server "http server did not start"; pks_done; }
ctx_start || { pks_fail memory_run "pktspec run did not start"; pks_done; }

pks_in "$PKS_CLI" curl -sS --max-time 10 -o /dev/null http://198.18.0.2:8080/ || pks_fail memory_first "curl failed"
# The engine writes the memory when it sees the confirmed verdict: wait for that event.
pks_wait_for 60 pks_jq_any 'select(.event=="verdict" and .server_port==8080 and .confidence=="confirmed")' "$PKS_TMP/run.out" ||
	pks_fail memory_first_confirmed "no confirmed verdict for :8080 printed: $(tail -n 3 "$PKS_TMP/run.out" | tr '\n' ' ')"
pks_in "$PKS_CLI" curl -sS --max-time 10 -o /dev/null http://198.18.0.2:8080/ || pks_fail memory_second "curl failed"

# The endpoint changes protocol: an SSH-style banner exchange on the same port.
kill "$HTTP_PID"
pks_wait_for 30 pks_gone "$HTTP_PID"
pks_wait_for 30 eval '! pks_listening "$PKS_SRV" tcp 8080'
pks_bg "$PKS_SRV" "$PKS_TMP/ssh.log" python3 -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("198.18.0.2", 8080)); s.listen(1)
c, _ = s.accept(); c.sendall(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"); c.recv(100); c.close()'
pks_wait_tcp "$PKS_SRV" 8080
pks_in "$PKS_CLI" python3 -c '
import socket
s = socket.create_connection(("198.18.0.2", 8080), timeout=10)
s.sendall(b"SSH-2.0-OpenSSH_9.2p1\r\n"); s.recv(100); s.close()' || pks_fail memory_ssh "client failed"
ctx_flows "$PKS_TMP/flows.json"
ctx_stop || pks_fail memory_run_stops "pktspec run did not exit 0: $(cat "$PKS_TMP/run.err")"

check() { # file prefix
	local order
	order=$(pks_jq -r 'select(.server_port==8080) | "\(.proto)/\(.confidence)/\(.rule)/\(.at_first_packet)"' "$1" | tr '\n' ' ')
	case "$order" in
	"http/confirmed/http-response/false http/expected/server-memory/true ssh/"*)
		pks_pass "$2_expected_from_first_packet"
		pks_pass "$2_signature_overrules" ;;
	"http/confirmed/http-response/false http/expected/server-memory/true "*)
		pks_pass "$2_expected_from_first_packet"
		pks_fail "$2_signature_overrules" "$order" ;;
	*)
		pks_fail "$2_expected_from_first_packet" "$order"
		pks_fail "$2_signature_overrules" "$order" ;;
	esac
}
check "$PKS_TMP/flows.json" memory
"$PKTSPEC" replay --json "$PKS_TMP/live.pcap" >"$PKS_TMP/replay.json" 2>"$PKS_TMP/replay.err"
check "$PKS_TMP/replay.json" memory_replay
pks_done
