#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
# Operator rules live: `pktspec rules load` refuses a bad file with one line
# per error (file:line), exit 1, and changes nothing; a good file says that
# 198.18.0.0/24 TCP port 8443 is TLS, application 3. A connection to
# 198.18.0.2:8443 is then TLS with confidence user and rule user from its
# first packet: `pktspec flows` says at_first_packet, and a tc policy that
# asks for confidence user marks its SYN (nftables counts it on the server).
# `rules list` prints the rules back in loadable form; `rules clear` ends them.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib.sh"

PORT=8443
pks_topology
pks_check attach_with_tc pks_tc_attach_both ingress
pks_check policy_user "$PKTSPEC" policy set tls confidence user mark 0x55/0xff

# Usage errors: exit 2.
"$PKTSPEC" rules >/dev/null 2>&1
rc=$?
"$PKTSPEC" rules load >/dev/null 2>&1
rc2=$?
[ $rc -eq 2 ] && [ $rc2 -eq 2 ] && pks_pass usage_exit_2 || pks_fail usage_exit_2 "rules: $rc, rules load: $rc2"

cat >"$PKS_TMP/good" <<'RULES'
# my TLS service
addr 198.18.0.0/24 tcp port 8443 proto tls app 3
host .corp.example app 4
RULES
cat >"$PKS_TMP/bad" <<'RULES'
addr 198.18.0.0/24 tcp port 8443 proto ssh
addr 198.18.0.0/40 proto tls
port 70000 proto tls
RULES
pks_check load_good "$PKTSPEC" rules load "$PKS_TMP/good"
"$PKTSPEC" rules load "$PKS_TMP/bad" >"$PKS_TMP/bad.out" 2>"$PKS_TMP/bad.err"
rc=$?
if [ $rc -eq 1 ] && grep -q "bad:2: addr takes" "$PKS_TMP/bad.err" && grep -q "bad:3: port takes" "$PKS_TMP/bad.err" &&
	[ "$(grep -c "bad:" "$PKS_TMP/bad.err")" -eq 3 ] && grep -q "not changed" "$PKS_TMP/bad.err"; then
	pks_pass bad_file_refused_with_line_numbers
else
	pks_fail bad_file_refused_with_line_numbers "exit $rc: $(tr '\n' '|' <"$PKS_TMP/bad.err")"
fi
"$PKTSPEC" rules list >"$PKS_TMP/list" 2>&1
want=$'addr 198.18.0.0/24 tcp port 8443 proto tls app 3\nhost .corp.example app 4'
[ "$(cat "$PKS_TMP/list")" = "$want" ] && pks_pass list_prints_the_good_rules ||
	pks_fail list_prints_the_good_rules "$(tr '\n' '|' <"$PKS_TMP/list")"
# What list prints loads again, to the same list.
pks_check list_loads_again "$PKTSPEC" rules load "$PKS_TMP/list"
[ "$("$PKTSPEC" rules list)" = "$want" ] && pks_pass list_round_trip || pks_fail list_round_trip "$("$PKTSPEC" rules list | tr '\n' '|')"

pks_in "$PKS_SRV" nft -f - <<NFT
table inet pks_test {
	counter syn_marked {}
	chain input {
		type filter hook input priority 0;
		meta mark & 0xff == 0x55 tcp dport $PORT tcp flags & (syn | ack) == syn counter name syn_marked
	}
}
NFT
pks_check nft_rules [ $? -eq 0 ]

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=svc" -days 2 \
	-keyout "$PKS_TMP/key.pem" -out "$PKS_TMP/cert.pem" >/dev/null 2>&1
pks_bg "$PKS_SRV" "$PKS_TMP/s_server.log" openssl s_server -accept "$PORT" -cert "$PKS_TMP/cert.pem" \
	-key "$PKS_TMP/key.pem" -www
pks_wait_tcp "$PKS_SRV" "$PORT" || { pks_fail "$PKS_TEST" "s_server did not listen"; pks_done; }

pks_in "$PKS_CLI" timeout 20 openssl s_client -connect "198.18.0.2:$PORT" -servername svc </dev/null >"$PKS_TMP/c1.log" 2>&1
flow=$("$PKTSPEC" flows --json | jq -c "select(.server_port == $PORT)" | head -n 1)
if echo "$flow" | jq -e '.proto == "tls" and .confidence == "user" and .rule == "user" and .at_first_packet == true' >/dev/null 2>&1; then
	pks_pass flow_is_operators_protocol_from_first_packet
else
	pks_fail flow_is_operators_protocol_from_first_packet "$flow"
fi
syn=$(pks_in "$PKS_SRV" nft -j list counter inet pks_test syn_marked | jq '.nftables[] | select(.counter) | .counter.packets')
[ "${syn:-0}" -ge 1 ] && pks_pass syn_marked_by_user_policy || pks_fail syn_marked_by_user_policy "syn_marked=$syn"

pks_check clear "$PKTSPEC" rules clear
[ "$("$PKTSPEC" rules list)" = "no rules" ] && pks_pass list_after_clear || pks_fail list_after_clear "$("$PKTSPEC" rules list)"
pks_in "$PKS_CLI" timeout 20 openssl s_client -connect "198.18.0.2:$PORT" -servername svc </dev/null >"$PKS_TMP/c2.log" 2>&1
n=$("$PKTSPEC" flows --json | jq -c "select(.server_port == $PORT and .confidence == \"user\")" | wc -l)
total=$("$PKTSPEC" flows --json | jq -c "select(.server_port == $PORT)" | wc -l)
[ "$n" -eq 1 ] && [ "$total" -eq 2 ] && pks_pass cleared_rules_no_longer_apply ||
	pks_fail cleared_rules_no_longer_apply "$n of $total flows to $PORT are user"
pks_done
