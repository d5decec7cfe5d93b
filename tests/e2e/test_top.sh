#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
# The terminal views, live: `pktspec top` in a tmux pane (new-session, send-keys,
# capture-pane) shows the protocols of real traffic (curl/nginx, openssl,
# dig/dnsmasq, ssh/sshd) and their flows, re-sorts on p/f/b, filters on n,
# and quits on q; `top --once` prints one frame to a pipe; `flows --summary`
# (table and JSON) counts what `flows --json` lists; --sort, --addr, --port
# filter and order the listing, and IPv6 endpoints keep the columns aligned.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/servers.sh"

pks_topology
pks_servers_start >"$PKS_TMP/servers.err" 2>&1 || { pks_fail servers "$(cat "$PKS_TMP/servers.err")"; pks_done; }
pks_in "$PKS_CLI" "$PKTSPEC" attach "$PKS_CLI_IF" >/dev/null &&
	pks_in "$PKS_SRV" "$PKTSPEC" attach "$PKS_SRV_IF" >/dev/null || { pks_fail attach "attach failed"; pks_done; }
pks_clients_run 198.18.0.2 >"$PKS_TMP/clients.err" && pks_clients_run 2001:db8::2 >>"$PKS_TMP/clients.err" &&
	pks_pass clients || pks_fail clients "$(cat "$PKS_TMP/clients.err")"

# --- flows --summary and the listing's filters ---
# The clients' connections are closed (their last segments counted) before the
# table is read; flows and the summary are two reads, so they are compared until
# two reads agree (a late packet between them is not a wrong summary).
for port in 80 443 53 $PKS_SSH_PORT; do
	pks_wait_closed "$PKS_CLI" "$port"
done
summary_agrees() {
	pks_in "$PKS_SRV" "$PKTSPEC" flows --json >"$PKS_TMP/flows.json"
	pks_in "$PKS_SRV" "$PKTSPEC" flows --summary --json >"$PKS_TMP/summary.json"
	want=$(jq -rs 'group_by(.proto) | map("\(.[0].proto) \(length) \(map(.packets) | add) \(map(.bytes) | add)") | .[]' \
		"$PKS_TMP/flows.json" | sort)
	got=$(jq -r '"\(.proto) \(.flows) \(.packets) \(.bytes)"' "$PKS_TMP/summary.json" | sort)
	[ -n "$want" ] && [ "$want" = "$got" ]
}
pks_wait_for 30 summary_agrees && pks_pass summary_json_counts || pks_fail summary_json_counts "want [$want] got [$got]"
pks_in "$PKS_SRV" "$PKTSPEC" flows --summary >"$PKS_TMP/summary.txt"
total=$(jq -s 'length' "$PKS_TMP/flows.json")
awk -v n="$total" '$1 == "total" && $2 == n { f = 1 } END { exit !f }' "$PKS_TMP/summary.txt" &&
	grep -qE '^http +2 ' "$PKS_TMP/summary.txt" && pks_pass summary_table ||
	pks_fail summary_table "$(cat "$PKS_TMP/summary.txt")"
n=$(pks_in "$PKS_SRV" "$PKTSPEC" flows --json --port 2222 | jq -s 'map(select(.server_port == 2222)) | length')
m=$(pks_in "$PKS_SRV" "$PKTSPEC" flows --json --port 2222 | wc -l)
[ "$n" = 2 ] && [ "$m" = 2 ] && pks_pass flows_port_filter || pks_fail flows_port_filter "$n/$m"
n=$(pks_in "$PKS_SRV" "$PKTSPEC" flows --json --addr 2001:db8::1 | jq -s 'map(select(.client == "2001:db8::1")) | length')
m=$(jq -s 'map(select(.client == "2001:db8::1")) | length' "$PKS_TMP/flows.json")
[ "$n" = "$m" ] && [ "$m" -ge 5 ] && pks_pass flows_addr_filter || pks_fail flows_addr_filter "$n of $m"
pks_in "$PKS_SRV" "$PKTSPEC" flows --json --sort bytes | jq -r .bytes >"$PKS_TMP/bytes"
sort -rn "$PKS_TMP/bytes" | cmp -s - "$PKS_TMP/bytes" && pks_pass flows_sort_bytes || pks_fail flows_sort_bytes "not descending"
# Columns: every row's PROTO starts where the header's does, IPv6 or not.
pks_in "$PKS_SRV" "$PKTSPEC" flows >"$PKS_TMP/flows.txt"
col=$(head -1 "$PKS_TMP/flows.txt" | awk '{ print index($0, "PROTO") }')
bad=$(tail -n +2 "$PKS_TMP/flows.txt" | awk -v c="$col" 'substr($0, c - 1, 1) != " " || substr($0, c, 1) == " " { n++ } END { print n + 0 }')
[ "$bad" = 0 ] && grep -q '\[2001:db8::1\]' "$PKS_TMP/flows.txt" && head -1 "$PKS_TMP/flows.txt" | grep -q DURATION &&
	pks_pass flows_columns_aligned || pks_fail flows_columns_aligned "$(cat "$PKS_TMP/flows.txt")"
for bad_arg in "--sort nosuch" "--port 0" "--addr 300.1.1.1"; do
	# shellcheck disable=SC2086
	"$PKTSPEC" flows $bad_arg >/dev/null 2>&1
	[ $? -eq 2 ] || pks_fail flows_usage_errors "flows $bad_arg: not exit 2"
done
pks_pass flows_usage_errors

# --- top --once on a pipe ---
pks_in "$PKS_SRV" "$PKTSPEC" top --once --interval 1 >"$PKS_TMP/once.txt" 2>&1
grep -q '^pktspec top' "$PKS_TMP/once.txt" && grep -qE '^ssh +2 ' "$PKS_TMP/once.txt" &&
	! grep -q $'\033' "$PKS_TMP/once.txt" && pks_pass top_once_plain || pks_fail top_once_plain "$(cat "$PKS_TMP/once.txt")"

# --- top in tmux ---
T="pks-top-$PKS_ID"
tmx() { tmux -L "$T" "$@"; }
tmx new-session -d -s top -x 200 -y 50 "nsenter --net=/run/netns/$PKS_SRV $PKTSPEC top --interval 1; echo top-exited-\$?; sleep 30"
PKS_PIDS+=("$(tmx display-message -p '#{pid}')")
screen() { tmx capture-pane -p -t top; }
screen_has() { screen | grep -qE "$1"; }
wait_screen() { # REGEX: up to 30 s
	pks_wait_for 30 screen_has "$1"
}
wait_screen '^ssh +2 ' && screen | grep -qE '^http +2 ' && screen | grep -qE '^dns +4 ' && screen | grep -q 'sort: bytes' &&
	screen | grep -qE '\[2001:db8::1\]:[0-9]+ +\[2001:db8::2\]:2222 +ssh' && pks_pass top_renders ||
	pks_fail top_renders "$(screen | head -20 | tr '\n' '|')"
tmx send-keys -t top p
wait_screen 'sort: packets' && pks_pass top_sort_key || pks_fail top_sort_key "$(screen | head -2)"
tmx send-keys -t top n
wait_screen 'proto: [a-z]' && ! screen | grep -q 'proto: all' && pks_pass top_filter_key || pks_fail top_filter_key "$(screen | head -2)"
p=$(screen | sed -n 's/.*proto: \([a-z0-9_-]*\).*/\1/p' | head -1)
others=$(screen | awk -v p="$p" 'f && NF >= 9 && $4 != p { n++ } /^L4 / { f = 1 } END { print n + 0 }')
[ "$others" = 0 ] && pks_pass top_filter_shows_one_proto || pks_fail top_filter_shows_one_proto "$others other rows with filter $p"
tmx send-keys -t top q
wait_screen 'top-exited-0' && ! screen | grep -q 'pktspec top' && pks_pass top_quits_on_q ||
	pks_fail top_quits_on_q "$(screen | head -5 | tr '\n' '|')"
tmx kill-server 2>/dev/null
pks_done
