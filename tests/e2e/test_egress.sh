#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
#
# An end host: pktspec attached ONLY on the server's veth, XDP for what it
# receives and --egress (tc clsact egress) for what it sends. Real clients
# (curl, openssl s_client, dig, ssh, curl ftp://) against real servers
# (nginx, s_server, dnsmasq, sshd, vsftpd) must give confirmed verdicts with
# both directions counted in one flow entry, a context rule that needs the
# server's direction (passive FTP: the 227/229 reply leaves through egress)
# must mark the data connection ftp-data "expected", and a tc policy on the
# same egress hook must act on the verdict the egress classifier just made.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/servers.sh"

T=egress

pks_topology
if ! pks_servers_start 2>"$PKS_TMP/servers.err"; then
	pks_fail "$T:servers" "$(head -c 400 "$PKS_TMP/servers.err")"
	pks_done
fi
BLOB=300000
head -c $BLOB /dev/urandom >"$PKS_TMP/srv/www/blob"
chmod 644 "$PKS_TMP/srv/www/blob"

# vsftpd for passive FTP (as tests/ctx/test_ftp.sh, passive modes only).
mkdir -p "$PKS_TMP/ftproot" "$PKS_TMP/empty"
head -c 50000 /dev/urandom >"$PKS_TMP/ftproot/blob.bin"
chmod 755 "$PKS_TMP" "$PKS_TMP/ftproot"
chmod 644 "$PKS_TMP/ftproot/blob.bin"
cat >"$PKS_TMP/vsftpd.conf" <<CONF
listen=YES
listen_address=198.18.0.2
listen_port=21
background=NO
anonymous_enable=YES
anon_root=$PKS_TMP/ftproot
no_anon_password=YES
local_enable=NO
write_enable=NO
pasv_enable=YES
pasv_min_port=40100
pasv_max_port=40200
port_enable=NO
seccomp_sandbox=NO
secure_chroot_dir=$PKS_TMP/empty
xferlog_enable=NO
CONF
pks_bg "$PKS_SRV" "$PKS_TMP/vsftpd.log" vsftpd "$PKS_TMP/vsftpd.conf"
pks_wait_tcp "$PKS_SRV" 21 || { pks_fail "$T:vsftpd" "vsftpd did not start: $(cat "$PKS_TMP/vsftpd.log")"; pks_done; }
pks_pass "$T:servers"

# Only the server end: the client's veth has nothing attached.
pks_check "$T:attach-server-egress" pks_in "$PKS_SRV" "$PKTSPEC" attach "$PKS_SRV_IF" --egress
if pks_in "$PKS_SRV" tc filter show dev "$PKS_SRV_IF" egress | grep -q pks_egress; then
	pks_pass "$T:filter-on-egress"
else
	pks_fail "$T:filter-on-egress" "$(pks_in "$PKS_SRV" tc filter show dev "$PKS_SRV_IF" egress | tr '\n' ' ')"
fi

n=$(pks_in "$PKS_SRV" "$PKTSPEC" status --json | jq '[.tc[] | select(.program=="classifier" and .hook=="egress")] | length')
[ "$n" = 1 ] && pks_pass "$T:status-lists-classifier" || pks_fail "$T:status-lists-classifier" "$n entries"

for addr in 198.18.0.2 2001:db8::2; do
	fam=ipv4
	case $addr in *:*) fam=ipv6 ;; esac
	if pks_clients_run "$addr" >"$PKS_TMP/clients.err"; then
		pks_pass "$T:clients-$fam"
	else
		pks_fail "$T:clients-$fam" "$(head -c 400 "$PKS_TMP/clients.err" | tr '\n' ' ')"
	fi
done
got=$(pks_in "$PKS_CLI" curl -sS --max-time 20 -o /dev/null -w '%{size_download}' http://198.18.0.2/blob)
[ "$got" = $BLOB ] && pks_pass "$T:http-blob" || pks_fail "$T:http-blob" "got $got bytes"
for mode in epsv pasv; do
	opt=
	[ $mode = pasv ] && opt=--disable-epsv
	# shellcheck disable=SC2086
	if pks_in "$PKS_CLI" curl -sS --max-time 20 $opt -o "$PKS_TMP/got.$mode" ftp://198.18.0.2/blob.bin \
		2>"$PKS_TMP/curl.$mode" && cmp -s "$PKS_TMP/got.$mode" "$PKS_TMP/ftproot/blob.bin"; then
		pks_pass "$T:ftp-$mode-transfer"
	else
		pks_fail "$T:ftp-$mode-transfer" "$(cat "$PKS_TMP/curl.$mode")"
	fi
done

pks_in "$PKS_SRV" "$PKTSPEC" flows --json >"$PKS_TMP/flows.json" 2>"$PKS_TMP/flows.err" ||
	pks_fail "$T:flows" "$(cat "$PKS_TMP/flows.err")"

# expect_flow FAMILY L4 PORT PROTO: every flow to that server port is PROTO,
# confirmed (which needs the server's reply: egress), with packets both ways.
expect_flow() {
	local fam=$1 l4=$2 port=$3 proto=$4 server=198.18.0.2 got n
	[ "$fam" = ipv6 ] && server=2001:db8::2
	local sel=".l4==\"$l4\" and .server==\"$server\" and .server_port==$port"
	n=$(pks_jq "select($sel)" "$PKS_TMP/flows.json" | wc -l)
	got=$(pks_jq "select($sel) | \"\(.proto)/\(.confidence)\"" "$PKS_TMP/flows.json" | sort -u | tr '\n' ' ')
	if [ "$n" -ge 1 ] && [ "$got" = "$proto/confirmed " ]; then
		pks_pass "$T:flows-$fam-$l4-$port-$proto"
	else
		pks_fail "$T:flows-$fam-$l4-$port-$proto" "$n flows, verdicts: ${got:-none}"
	fi
	got=$(pks_jq "select($sel and (.packets_c2s < 1 or .packets_s2c < 1))" "$PKS_TMP/flows.json" | wc -l)
	[ "$got" -eq 0 ] && pks_pass "$T:both-directions-$fam-$l4-$port" ||
		pks_fail "$T:both-directions-$fam-$l4-$port" "$got flows miss a direction"
}
for fam in ipv4 ipv6; do
	expect_flow $fam tcp 80 http
	expect_flow $fam tcp 443 tls
	expect_flow $fam udp 53 dns
	expect_flow $fam tcp 53 dns
	expect_flow $fam tcp $PKS_SSH_PORT ssh
done

# The download: one flow, its server bytes the file plus headers, and the
# server's packets counted as wire segments (a GSO skb is many), so no
# "packet" is larger than the MTU on average.
blob=$(pks_jq "select(.server_port==80 and .bytes_s2c > $BLOB)" "$PKS_TMP/flows.json")
n=$(echo "$blob" | grep -c .)
b=$(echo "$blob" | pks_jq .bytes_s2c)
p=$(echo "$blob" | pks_jq .packets_s2c)
pc=$(echo "$blob" | pks_jq .packets_c2s)
bc=$(echo "$blob" | pks_jq .bytes_c2s)
if [ "$n" -eq 1 ] && [ "$b" -lt $((BLOB + BLOB / 10)) ] && [ $((p * 1514)) -ge "$b" ] && [ "$p" -lt $((BLOB / 500)) ] &&
	[ "$pc" -ge 3 ] && [ "$bc" -lt 20000 ]; then
	pks_pass "$T:counters-per-direction (s2c $p pkts $b B, c2s $pc pkts $bc B)"
else
	pks_fail "$T:counters-per-direction" "$n flows; s2c $p pkts $b B, c2s $pc pkts $bc B"
fi

# Passive FTP: the data connection is ftp-data, expected from its first
# packet, announced by the server's reply that only egress saw.
for mode in epsv pasv; do
	n=$(pks_jq --arg r "ftp-$mode" 'select(.proto=="ftp-data" and .confidence=="expected" and .rule==$r and .at_first_packet)' \
		"$PKS_TMP/flows.json" | wc -l)
	[ "$n" -eq 1 ] && pks_pass "$T:ftp-$mode-data-expected" ||
		pks_fail "$T:ftp-$mode-data-expected" "$n flows; $(pks_jq -c 'select(.server_port>=40100) | [.server_port,.proto,.confidence,.rule]' "$PKS_TMP/flows.json" | tr '\n' ' ')"
done

bad=$(pks_in "$PKS_SRV" "$PKTSPEC" status --json |
	jq -r '.reasons | to_entries[] | select(.value > 0 and (.key | IN("new_flow","inspected","tracked","decided","non_ip","other_l4") | not)) | "\(.key)=\(.value)"')
[ -z "$bad" ] && pks_pass "$T:no-parse-errors" || pks_fail "$T:no-parse-errors" "$bad"

# The tc policy program on the same egress hook runs after the classifier: a
# policy that wants "confirmed" DNS dropped drops the very answer that
# confirms the flow (without the ordering that answer would still pass).
pks_check "$T:policy-set" pks_in "$PKS_SRV" "$PKTSPEC" policy set dns confidence confirmed drop
pks_check "$T:attach-tc-egress" pks_in "$PKS_SRV" "$PKTSPEC" attach "$PKS_SRV_IF" --tc egress
if pks_in "$PKS_CLI" dig +time=2 +tries=1 +short @198.18.0.2 example.test A >"$PKS_TMP/dig.out" 2>&1; then
	pks_fail "$T:policy-after-classifier" "the answer came through: $(cat "$PKS_TMP/dig.out")"
else
	dropped=$(bpftool map dump pinned /sys/fs/bpf/pktspec/pks_tc_stats | jq '[.[].values[].value.dropped] | add')
	[ "${dropped:-0}" -ge 1 ] && pks_pass "$T:policy-after-classifier" ||
		pks_fail "$T:policy-after-classifier" "no answer, but dropped=$dropped"
fi
pks_check "$T:policy-del" pks_in "$PKS_SRV" "$PKTSPEC" policy del dns

pks_check "$T:detach-server" pks_in "$PKS_SRV" "$PKTSPEC" detach "$PKS_SRV_IF"
left=$(pks_in "$PKS_SRV" tc qdisc show dev "$PKS_SRV_IF" | grep clsact)
[ -z "$left" ] && pks_pass "$T:clsact-removed" || pks_fail "$T:clsact-removed" "$left"
if [ -e /sys/fs/bpf/pktspec/pks_flows ]; then
	pks_fail "$T:nothing-left" "$(find /sys/fs/bpf/pktspec | tr '\n' ' ')"
else
	pks_pass "$T:nothing-left"
fi
pks_done
