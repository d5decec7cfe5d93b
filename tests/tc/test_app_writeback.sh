#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
# What the daemon learns reaches policy. A policy by application (`any app
# video mark 0x44/0xff`) on the server's tc ingress, `pktspec run` with an
# app list that maps *.video.example to video, and no DNS seen anywhere:
#  - a TLS connection whose ClientHello names media.video.example has its
#    later packets marked within the same connection, once the daemon wrote
#    the app into the flow's entry (the client holds the connection open until
#    `pktspec flows` shows the app, then sends its request);
#  - a second connection to that server is marked from its SYN (server memory
#    keeps the app);
#  - the same for an HTTP flow named by its Host header;
#  - a flow to a server the client first looked up in DNS (dnsmasq answers
#    cdn.video.example) is marked from its SYN: the daemon wrote the answer's
#    address and app into pks_hosts, which the kernel reads at flow creation
#    (confidence dns, rule dns-named). Its port (8081) has no server memory.
# nftables in the server's input chain counts the marked packets.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib.sh"

TLS_PORT=8443
HTTP_PORT=8080
DNS_PORT=8081
NAME=media.video.example

pks_topology
cat >"$PKS_TMP/apps" <<'APPS'
# test list
.other.example other
.video.example video
APPS
pks_check attach_with_tc pks_tc_attach_both ingress
pks_check policy_app "$PKTSPEC" policy --apps "$PKS_TMP/apps" set any app video mark 0x44/0xff

pks_in "$PKS_SRV" nft -f - <<NFT
table inet pks_test {
	counter tls_marked {}
	counter tls_syn_marked {}
	counter http_marked {}
	counter http_syn_marked {}
	counter dns_syn_marked {}
	chain input {
		type filter hook input priority 0;
		meta mark & 0xff == 0x44 tcp dport $TLS_PORT tcp flags & (syn | ack) == syn counter name tls_syn_marked
		meta mark & 0xff == 0x44 tcp dport $TLS_PORT counter name tls_marked
		meta mark & 0xff == 0x44 tcp dport $HTTP_PORT tcp flags & (syn | ack) == syn counter name http_syn_marked
		meta mark & 0xff == 0x44 tcp dport $HTTP_PORT counter name http_marked
		meta mark & 0xff == 0x44 tcp dport $DNS_PORT tcp flags & (syn | ack) == syn counter name dns_syn_marked
	}
}
NFT
pks_check nft_rules [ $? -eq 0 ]

nft_packets() {
	pks_in "$PKS_SRV" nft -j list counter inet pks_test "$1" | jq '.nftables[] | select(.counter) | .counter.packets'
}

# The daemon, in the client's namespace, with the app list.
pks_bg "$PKS_CLI" "$PKS_TMP/run.log" "$PKTSPEC" run --apps "$PKS_TMP/apps" --json --linger 3600 --fin-timeout 3600
pks_wait_for 60 grep -q "running the context rules" "$PKS_TMP/run.log"
pks_check run_started grep -q "running the context rules" "$PKS_TMP/run.log"

# flow_app PORT CPORT: wait up to 30 s until the flow from client port CPORT to
# PORT has app "video" in `pktspec flows`.
flow_has_app() {
	"$PKTSPEC" flows --json 2>/dev/null | pks_jq_any "select(.server_port == $1 and .client_port == $2 and .app == \"video\")"
}
flow_app() {
	pks_wait_for 30 flow_has_app "$1" "$2" && return 0
	"$PKTSPEC" flows --json >"$PKS_TMP/last-flows" 2>&1
	return 1
}

# A client that connects from a chosen port and sends $1, waits for the file
# $2 to exist, then sends $3 and reads until the server closes or 5 s pass.
cat >"$PKS_TMP/client.py" <<'EOF'
import os, socket, ssl, sys, time
host, port, cport, tls, name, first, go, second = sys.argv[1:9]
s = socket.create_connection((host, int(port)), source_address=("198.18.0.1", int(cport)))
if tls == "1":
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    s = ctx.wrap_socket(s, server_hostname=name)
s.sendall(first.encode().decode("unicode_escape").encode())
while not os.path.exists(go):
    time.sleep(0.05)
s.sendall(second.encode().decode("unicode_escape").encode())
s.settimeout(5)
try:
    while s.recv(65536):
        pass
except (socket.timeout, ssl.SSLError, OSError):
    pass
s.close()
EOF

# one_conn PORT CPORT TLS FIRST SECOND: a connection held open until its flow has the app.
one_conn() {
	local go=$PKS_TMP/go-$2
	pks_bg "$PKS_CLI" "$PKS_TMP/client-$2.log" /usr/bin/python3 "$PKS_TMP/client.py" 198.18.0.2 "$1" "$2" "$3" \
		"$NAME" "$4" "$go" "$5"
	local pid=${PKS_PIDS[-1]} rc=0
	flow_app "$1" "$2" || rc=1
	touch "$go"
	pks_wait_for 30 pks_gone "$pid"
	return $rc
}

# --- TLS, named by its SNI only -------------------------------------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$NAME" -days 2 \
	-keyout "$PKS_TMP/key.pem" -out "$PKS_TMP/cert.pem" >/dev/null 2>&1
pks_bg "$PKS_SRV" "$PKS_TMP/s_server.log" openssl s_server -accept "$TLS_PORT" -cert "$PKS_TMP/cert.pem" \
	-key "$PKS_TMP/key.pem" -www
pks_wait_tcp "$PKS_SRV" "$TLS_PORT" || { pks_fail "$PKS_TEST" "s_server did not listen"; pks_done; }

before=$(nft_packets tls_marked)
if one_conn "$TLS_PORT" 41001 1 "" 'GET / HTTP/1.0\r\n\r\n'; then
	pks_pass tls_flow_gets_app_from_sni
else
	pks_fail tls_flow_gets_app_from_sni "$(head -c 400 "$PKS_TMP/last-flows")"
fi
pks_wait_closed "$PKS_CLI" "$TLS_PORT"
after=$(nft_packets tls_marked)
syn=$(nft_packets tls_syn_marked)
# The request and its ACKs were sent after the write-back; the SYN before it.
[ "$after" -gt "$before" ] && [ "$syn" -eq 0 ] && pks_pass tls_marked_within_connection ||
	pks_fail tls_marked_within_connection "tls_marked $before -> $after, syn_marked=$syn"

one_conn "$TLS_PORT" 41002 1 "" 'GET / HTTP/1.0\r\n\r\n' >/dev/null
pks_wait_closed "$PKS_CLI" "$TLS_PORT"
syn=$(nft_packets tls_syn_marked)
[ "$syn" -ge 1 ] && pks_pass tls_second_connection_marked_from_syn ||
	pks_fail tls_second_connection_marked_from_syn "tls_syn_marked=$syn; $("$PKTSPEC" flows --json | jq -c "select(.client_port == 41002)" | head -c 300)"

# --- HTTP, named by its Host header ---------------------------------------
cat >"$PKS_TMP/server.py" <<'EOF'
import socket, sys, threading
srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("198.18.0.2", int(sys.argv[1])))
srv.listen(8)
def serve(c):
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = c.recv(4096)
        if not d:
            return c.close()
        buf += d
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    while c.recv(4096):
        pass
    c.close()
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
EOF
pks_bg "$PKS_SRV" "$PKS_TMP/http.log" /usr/bin/python3 "$PKS_TMP/server.py" "$HTTP_PORT"
pks_wait_tcp "$PKS_SRV" "$HTTP_PORT" || { pks_fail "$PKS_TEST" "HTTP server did not listen"; pks_done; }

before=$(nft_packets http_marked)
if one_conn "$HTTP_PORT" 41003 0 'GET / HTTP/1.1\r\nHost: www.video.example\r\n\r\n' 'more bytes'; then
	pks_pass http_flow_gets_app_from_host
else
	pks_fail http_flow_gets_app_from_host "$(head -c 400 "$PKS_TMP/last-flows")"
fi
pks_wait_closed "$PKS_CLI" "$HTTP_PORT"
after=$(nft_packets http_marked)
syn=$(nft_packets http_syn_marked)
[ "$after" -gt "$before" ] && [ "$syn" -eq 0 ] && pks_pass http_marked_within_connection ||
	pks_fail http_marked_within_connection "http_marked $before -> $after, syn_marked=$syn"

one_conn "$HTTP_PORT" 41004 0 'GET / HTTP/1.1\r\nHost: www.video.example\r\n\r\n' 'more bytes' >/dev/null
pks_wait_closed "$PKS_CLI" "$HTTP_PORT"
syn=$(nft_packets http_syn_marked)
[ "$syn" -ge 1 ] && pks_pass http_second_connection_marked_from_syn ||
	pks_fail http_second_connection_marked_from_syn "http_syn_marked=$syn; $("$PKTSPEC" flows --json | jq -c "select(.client_port == 41004)" | head -c 300)"

# --- A flow named by DNS before its first packet ----------------------------
pks_bg "$PKS_SRV" "$PKS_TMP/dnsmasq.log" dnsmasq --no-daemon --no-resolv --no-hosts --port=53 \
	--listen-address=198.18.0.2 --bind-interfaces --host-record=cdn.video.example,198.18.0.2 --pid-file= --user=root
pks_bg "$PKS_SRV" "$PKS_TMP/http-dns.log" /usr/bin/python3 "$PKS_TMP/server.py" "$DNS_PORT"
pks_wait_udp "$PKS_SRV" 53 && pks_wait_tcp "$PKS_SRV" "$DNS_PORT" ||
	{ pks_fail "$PKS_TEST" "dnsmasq or the HTTP server did not start"; pks_done; }
a=$(pks_in "$PKS_CLI" dig +short +time=5 @198.18.0.2 cdn.video.example A)
[ "$a" = 198.18.0.2 ] && pks_pass dns_answer || pks_fail dns_answer "got '$a'"
# The daemon has read the answer when the kernel's host table holds it.
hosts_written() {
	bpftool -j map dump pinned /sys/fs/bpf/pktspec/pks_hosts 2>/dev/null | jq -e 'length > 0' >/dev/null
}
pks_wait_for 30 hosts_written && pks_pass dns_host_written ||
	pks_fail dns_host_written "$(bpftool -j map dump pinned /sys/fs/bpf/pktspec/pks_hosts 2>&1 | head -c 300)"
pks_in "$PKS_CLI" curl -sS --max-time 10 --local-port 41005 -o /dev/null \
	--resolve "cdn.video.example:$DNS_PORT:198.18.0.2" "http://cdn.video.example:$DNS_PORT/" || pks_fail dns_named_curl "curl failed"
pks_wait_closed "$PKS_CLI" "$DNS_PORT"
syn=$(nft_packets dns_syn_marked)
[ "$syn" -ge 1 ] && pks_pass dns_named_marked_from_syn ||
	pks_fail dns_named_marked_from_syn "dns_syn_marked=$syn; $("$PKTSPEC" flows --json | jq -c "select(.client_port == 41005)" | head -c 300)"
# The host is the daemon's to write (pks_names, on the flow's first event): awaited.
dns_named_flow() {
	fl=$("$PKTSPEC" flows --json | jq -c "select(.client_port == 41005)")
	echo "$fl" | pks_jq_any 'select(.app == "video" and .host == "cdn.video.example")'
}
pks_wait_for 60 dns_named_flow &&
	pks_pass dns_named_flow_app || pks_fail dns_named_flow_app "$(echo "$fl" | head -c 300)"
pks_done
