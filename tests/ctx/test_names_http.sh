#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
# Rule 5 live: curl against python's http.server. `pktspec run` names each
# flow from its request: Host and User-Agent; the authority of an
# absolute-form request (a proxy request) wins over Host; a request head whose
# Host line comes after 3 KB of request line (MSS 536: six segments) is still
# found; the same over IPv6. The capture replayed gives the same names.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/names_lib.sh"

PORT=8080
names_start "tcp port $PORT"
for ns_if in "$PKS_CLI:$PKS_CLI_IF" "$PKS_SRV:$PKS_SRV_IF"; do
	pks_in "${ns_if%%:*}" ethtool -K "${ns_if#*:}" tso off gso off gro off >/dev/null 2>&1
done
pks_in "$PKS_SRV" ip route replace 198.18.0.0/24 dev "$PKS_SRV_IF" proto kernel scope link src 198.18.0.2 advmss 536

mkdir -p "$PKS_TMP/htdocs" && echo hello >"$PKS_TMP/htdocs/index.html"
# "::" listens on IPv4 and IPv6 both.
pks_bg "$PKS_SRV" "$PKS_TMP/server.log" /usr/bin/python3 -m http.server "$PORT" --bind :: \
	--directory "$PKS_TMP/htdocs"
pks_wait_tcp "$PKS_SRV" "$PORT" || { pks_fail "$PKS_TEST" "http.server did not listen"; pks_done; }

UA="pktspec-test/1.0 (names; +https://example.test/)"
# curl_get CLIENTPORT ARGS...: one request from a fixed client port, to find its flow.
curl_get() {
	local cport=$1
	shift
	pks_in "$PKS_CLI" timeout 20 curl -s -o /dev/null --local-port "$cport" -A "$UA" "$@"
}

curl_get 41001 --resolve "web.example.test:$PORT:198.18.0.2" "http://web.example.test:$PORT/index.html"
flow=$(names_flow "$PORT" ".client_port == 41001 and .host != null")
names_check http_live_host_and_agent "$flow" \
	".proto == \"http\" and .host == \"web.example.test\" and .host_source == \"http\" and .user_agent == \"$UA\""

# Through a "proxy" (the same server): absolute-form target names the host.
curl_get 41002 -x "http://198.18.0.2:$PORT" "http://proxied.example.test/x"
flow=$(names_flow "$PORT" ".client_port == 41002 and .host != null")
names_check http_live_absolute_form "$flow" ".host == \"proxied.example.test\""

# A 3000-byte path: the Host line starts in the request's sixth segment.
long=$(head -c 3000 /dev/zero | tr '\0' a)
curl_get 41003 --resolve "long.example.test:$PORT:198.18.0.2" "http://long.example.test:$PORT/$long"
flow=$(names_flow "$PORT" ".client_port == 41003 and .host != null")
names_check http_live_host_after_five_segments "$flow" ".host == \"long.example.test\" and .user_agent == \"$UA\""

# Over IPv6.
curl_get 41004 --resolve "v6.example.test:$PORT:[2001:db8::2]" "http://v6.example.test:$PORT/index.html"
flow=$(names_flow "$PORT" ".client_port == 41004 and .host != null")
names_check http_live_ipv6 "$flow" ".server == \"2001:db8::2\" and .host == \"v6.example.test\""

names_stop_capture
"$PKTSPEC" replay --json "$PKS_TMP/capture.pcap" >"$PKS_TMP/replay.json" 2>"$PKS_TMP/replay.err"
for c in "41001 web.example.test" "41002 proxied.example.test" "41003 long.example.test" "41004 v6.example.test"; do
	set -- $c
	if jq -e -s "map(select(.client_port == $1 and .host == \"$2\" and .user_agent == \"$UA\")) | length == 1" \
		"$PKS_TMP/replay.json" >/dev/null; then
		pks_pass "http_replay_same_names_$2"
	else
		pks_fail "http_replay_same_names_$2" "$(jq -c "select(.client_port == $1)" "$PKS_TMP/replay.json" | head -c 400)"
	fi
done
pks_done
