#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
# Hostile input (tests/ctx/hostile.py): floods of FTP 227 replies naming
# random ports, DNS answers with hundreds of records, CNAME loops, absurd
# lengths, random bytes on every watched port. `pktspec run` must survive,
# keep its resident memory within PKS_RSS_MAX_KB and flat (growth from the
# first round to the last under PKS_RSS_GROWTH_KB), keep every table within
# its bound, and still name a flow from a good answer afterwards.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib.sh"

PKS_RSS_MAX_KB=65536     # the stated bound: 64 MiB (ring buffer 4 MiB, tables a few MiB)
PKS_RSS_GROWTH_KB=4096   # after the first round, at most 4 MiB more
ROUNDS=4

pks_topology
CTX_NO_CAPTURE=1 ctx_start --quiet || { pks_fail hostile_run "pktspec run did not start"; pks_done; }
rss() { awk '/^VmRSS/ {print $2}' "/proc/$PKS_RUN_PID/status"; }

pks_in "$PKS_CLI" /usr/bin/python3 "$PKS_ROOT/tests/ctx/hostile.py" "$PKS_CLI_IF" 1 >"$PKS_TMP/h1.log" 2>&1 ||
	pks_fail hostile_send "$(tail -2 "$PKS_TMP/h1.log")"
pks_wait_for 120 pks_daemon_mark "$PKS_CLI" "$PKS_CLI_IF" 1 && pks_pass hostile_round_1_read || pks_fail hostile_round_1_read "the daemon did not get to the mark"
first=$(rss)
pks_in "$PKS_CLI" /usr/bin/python3 "$PKS_ROOT/tests/ctx/hostile.py" "$PKS_CLI_IF" $((ROUNDS - 1)) >"$PKS_TMP/h2.log" 2>&1 ||
	pks_fail hostile_send "$(tail -2 "$PKS_TMP/h2.log")"
pks_wait_for 120 pks_daemon_mark "$PKS_CLI" "$PKS_CLI_IF" 2 && pks_pass hostile_rounds_read || pks_fail hostile_rounds_read "the daemon did not get to the mark"
last=$(rss)
kill -0 "$PKS_RUN_PID" 2>/dev/null && pks_pass hostile_run_survives || pks_fail hostile_run_survives "$(cat "$PKS_TMP/run.err")"
echo "# RSS of pktspec run: ${first} KiB after round 1, ${last} KiB after round $ROUNDS" >&2
[ "${last:-999999}" -le $PKS_RSS_MAX_KB ] && pks_pass hostile_rss_bounded ||
	pks_fail hostile_rss_bounded "${last} KiB > ${PKS_RSS_MAX_KB} KiB"
[ $((${last:-999999} - ${first:-0})) -le $PKS_RSS_GROWTH_KB ] && pks_pass hostile_rss_flat ||
	pks_fail hostile_rss_flat "grew from ${first} to ${last} KiB"

# Every kernel table within its bound.
n=$(bpftool -j map dump pinned /sys/fs/bpf/pktspec/pks_expect | jq length)
[ "$n" -le 8192 ] && [ "$n" -gt 100 ] && pks_pass hostile_expect_bounded || pks_fail hostile_expect_bounded "$n entries"
n=$(bpftool -j map dump pinned /sys/fs/bpf/pktspec/pks_hosts | jq length)
[ "$n" -le 16384 ] && pks_pass hostile_hosts_bounded || pks_fail hostile_hosts_bounded "$n entries"

# Still classifying: a good answer names a new flow (the SYN once the daemon has the answer).
pks_in "$PKS_CLI" /usr/bin/python3 "$PKS_ROOT/tests/lib/dns_answer.py" "$PKS_CLI_IF" ok.flood.test 198.18.0.77 >"$PKS_TMP/good.log" 2>&1 ||
	pks_fail hostile_good_send "$(tail -2 "$PKS_TMP/good.log")"
pks_wait_for 60 pks_host_known ok.flood.test
pks_in "$PKS_CLI" /usr/bin/python3 "$PKS_ROOT/tests/lib/dns_answer.py" "$PKS_CLI_IF" ok.flood.test 198.18.0.77 syn >>"$PKS_TMP/good.log" 2>&1 ||
	pks_fail hostile_good_send "$(tail -2 "$PKS_TMP/good.log")"
hostile_named() {
	pks_in "$PKS_CLI" "$PKTSPEC" flows --json >"$PKS_TMP/flows.json" &&
		pks_jq_any 'select(.server=="198.18.0.77" and .host=="ok.flood.test")' "$PKS_TMP/flows.json"
}
pks_wait_for 30 hostile_named &&
	pks_pass hostile_still_classifying || pks_fail hostile_still_classifying "no name on the new flow"
ctx_stop || pks_fail hostile_run_stops "pktspec run did not exit 0: $(cat "$PKS_TMP/run.err")"
pks_done
