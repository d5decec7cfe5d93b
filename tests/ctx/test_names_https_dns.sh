#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
# Rules 2 and 3 together, live: dnsmasq answers web.example.test, curl
# fetches https://web.example.test/ from s_server. The TLS flow carries the
# name twice: from the DNS answer (dns_host, written when the flow started)
# and from its own ClientHello (host, source sni), with the application the
# name list gives it. The capture replayed gives the same.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/names_lib.sh"

NAME=web.example.test
printf '.example.test exampleapp\n' >"$PKS_TMP/apps"
names_start "udp port 53 or tcp port 443"
# pktspec run was started without the app list: restart it with one.
kill "$NAMES_RUN_PID" && wait "$NAMES_RUN_PID" 2>/dev/null
pks_bg "$PKS_CLI" "$PKS_TMP/run2.log" "$PKTSPEC" run --json -a "$PKS_TMP/apps"
names_wait_log "$PKS_TMP/run2.log" "running the context rules" || { pks_fail "$PKS_TEST" "run restart"; pks_done; }

pks_bg "$PKS_SRV" "$PKS_TMP/dnsmasq.log" dnsmasq -k -C /dev/null --no-resolv --no-hosts --user=root \
	--pid-file= --listen-address=198.18.0.2 --bind-interfaces --address="/$NAME/198.18.0.2" --log-facility=-
pks_wait_udp "$PKS_SRV" 53 || { pks_fail "$PKS_TEST" "dnsmasq did not listen"; pks_done; }
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$NAME" -days 2 \
	-keyout "$PKS_TMP/key.pem" -out "$PKS_TMP/cert.pem" >/dev/null 2>&1
pks_bg "$PKS_SRV" "$PKS_TMP/server.log" openssl s_server -accept 443 -cert "$PKS_TMP/cert.pem" \
	-key "$PKS_TMP/key.pem" -www
pks_wait_tcp "$PKS_SRV" 443 || { pks_fail "$PKS_TEST" "s_server did not listen"; pks_done; }

# The client resolves through dnsmasq; this mount namespace is the test's own.
echo "nameserver 198.18.0.2" >"$PKS_TMP/resolv.conf"
mount --bind "$PKS_TMP/resolv.conf" /etc/resolv.conf
printf '127.0.0.1 localhost\n' >"$PKS_TMP/hosts"
mount --bind "$PKS_TMP/hosts" /etc/hosts

# The name is looked up first (glibc, through dnsmasq, as curl does) and the
# connection made once the daemon has written the answer into pks_hosts: curl's
# own lookup and SYN follow each other at once, and on a loaded machine the SYN
# could otherwise come before the daemon read the answer (no dns_host).
pks_in "$PKS_CLI" getent ahostsv4 "$NAME" >"$PKS_TMP/getent.out" 2>&1
pks_wait_for 60 pks_host_known "$NAME" && pks_pass https_dns_name_written ||
	pks_fail https_dns_name_written "$NAME not in pks_hosts: $(head -c 200 "$PKS_TMP/getent.out")"
if pks_in "$PKS_CLI" timeout 20 curl -sk -4 -o /dev/null -w '%{http_code}' "https://$NAME/" >"$PKS_TMP/curl.out" 2>&1 &&
	grep -q 200 "$PKS_TMP/curl.out"; then
	pks_pass https_dns_fetch
else
	pks_fail https_dns_fetch "curl: $(cat "$PKS_TMP/curl.out")"
fi

want=".host == \"$NAME\" and .host_source == \"sni\" and .dns_host == \"$NAME\" and .app == \"exampleapp\""
flow=$(names_flow 443 ".host_source == \"sni\"")
names_check https_flow_has_dns_name_and_sni "$flow" "$want"

names_stop_capture
if names_replay "$PKS_TMP/capture.pcap" 443 "$want" -a "$PKS_TMP/apps"; then
	pks_pass https_dns_replay_same_names
else
	pks_fail https_dns_replay_same_names "$(jq -c "select(.server_port == 443)" "$PKS_TMP/replay.json" | head -c 500)"
fi
pks_done
