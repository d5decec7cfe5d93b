#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
# Hostile input for rules 3-5, live: 1500 flows each of ClientHellos that
# announce 16000 bytes and never complete (the rule holds their reassembly
# until its 1024-flow table evicts them), ClientHellos announcing 16 MiB, and
# QUIC Initials that never authenticate or are truncated (names_flood.py).
# `pktspec run` names none of them, still names a real TLS flow afterwards,
# and its resident memory stays under RSS_BOUND_KB.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/names_lib.sh"

FLOWS=1500
# The names rule holds at most 1024 flows of two 16 KiB windows (plus bitmaps)
# and the engine's own tables are bounded too: 96 MiB leaves room for libbpf,
# libcrypto and the allocator, and is far below what unbounded state would take.
RSS_BOUND_KB=$((96 * 1024))

names_start "tcp port 443"
kill "$NAMES_RUN_PID" && wait "$NAMES_RUN_PID" 2>/dev/null
# Like names_start: no flow may end (and leave the table) before it is read.
pks_bg "$PKS_CLI" "$PKS_TMP/run2.log" "$PKTSPEC" run -q -v --linger 3600 --fin-timeout 3600
RUN_PID=${PKS_PIDS[-1]}
names_wait_log "$PKS_TMP/run2.log" "running the context rules" || { pks_fail "$PKS_TEST" "run restart"; pks_done; }

rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$RUN_PID/status"; }
rss_start=$(rss)
src_mac=$(pks_in "$PKS_CLI" ip -o link show "$PKS_CLI_IF" 2>/dev/null | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
dst_mac=$(pks_in "$PKS_SRV" ip -o link show "$PKS_SRV_IF" 2>/dev/null | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
sent=$(pks_in "$PKS_CLI" /usr/bin/python3 "$(dirname "$0")/names_flood.py" "$PKS_CLI_IF" "$src_mac" "$dst_mac" "$FLOWS")
if [ "${sent:-0}" -eq $((FLOWS * 15)) ]; then
	pks_pass hostile_flood_sent
else
	pks_fail hostile_flood_sent "sent ${sent:-0} frames"
fi

# Then a real client, once the daemon has read the flood: it must still be named.
pks_wait_for 120 pks_daemon_mark "$PKS_CLI" "$PKS_CLI_IF" 1 && pks_pass hostile_flood_read ||
	pks_fail hostile_flood_read "the daemon did not get to the mark after the flood"
NAME=after.flood.example.test
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$NAME" -days 2 \
	-keyout "$PKS_TMP/key.pem" -out "$PKS_TMP/cert.pem" >/dev/null 2>&1
pks_bg "$PKS_SRV" "$PKS_TMP/server.log" openssl s_server -accept 443 -cert "$PKS_TMP/cert.pem" \
	-key "$PKS_TMP/key.pem" -www
pks_wait_tcp "$PKS_SRV" 443 || { pks_fail "$PKS_TEST" "s_server did not listen"; pks_done; }
pks_in "$PKS_CLI" timeout 20 openssl s_client -connect 198.18.0.2:443 -servername "$NAME" </dev/null \
	>"$PKS_TMP/client.log" 2>&1
flow=$(names_flow 443 ".host == \"$NAME\"")
names_check hostile_real_flow_still_named "$flow" ".host_source == \"sni\""

# Besides the real client, only the mark's own flow (pks_daemon_mark) has a name.
named=$("$PKTSPEC" flows --json | jq -s "[.[] | select(.host != null and .host != \"$NAME\"
	and (.host | endswith(\".pktspec.test\") | not))] | length")
if [ "$named" = 0 ]; then
	pks_pass hostile_flows_name_nothing
else
	pks_fail hostile_flows_name_nothing "$named hostile flows got a name"
fi

rss_end=$(rss)
if [ -n "$rss_end" ] && [ "$rss_end" -le "$RSS_BOUND_KB" ]; then
	pks_pass "hostile_rss_within_bound(${rss_start}KB->${rss_end}KB<=${RSS_BOUND_KB}KB)"
else
	pks_fail hostile_rss_within_bound "resident memory ${rss_end:-?} KB (started at $rss_start KB), bound $RSS_BOUND_KB KB"
fi

# The rule saw the flood: it refused the absurd hellos and the Initials, and
# its table evicted flows beyond its bound (its counters, printed on exit).
kill -TERM "$RUN_PID"
pks_wait_for 30 pks_gone "$RUN_PID"
line=$(grep '^names:' "$PKS_TMP/run2.log")
malformed=$(echo "$line" | sed -n 's/.* \([0-9]*\) malformed.*/\1/p')
evicted=$(echo "$line" | sed -n 's/.* \([0-9]*\) evicted.*/\1/p')
if [ "${malformed:-0}" -ge "$FLOWS" ] && [ "${evicted:-0}" -gt 0 ]; then
	pks_pass hostile_refused_and_evicted
else
	pks_fail hostile_refused_and_evicted "rule counters: ${line:-none}"
fi
pks_done
