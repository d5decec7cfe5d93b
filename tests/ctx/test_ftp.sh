#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
# Rule 1, FTP, with real traffic: vsftpd and curl, passive (EPSV, PASV) and
# active (EPRT, PORT). Every data connection must be ftp-data with confidence
# "expected" from its first packet (at_first_packet: the verdict was set when
# the flow was created, by the rule that announced it), and the capture of it
# all replayed must give the same verdicts.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib.sh"

pks_topology
mkdir -p "$PKS_TMP/root" "$PKS_TMP/empty"
FTP_BLOB=${FTP_BLOB:-200000} # bytes per transfer; tests/captures/ctx/ftp.pcap was made with 3000
head -c "$FTP_BLOB" /dev/urandom >"$PKS_TMP/root/blob.bin"
chmod 755 "$PKS_TMP" "$PKS_TMP/root"
chmod 644 "$PKS_TMP/root/blob.bin"
cat >"$PKS_TMP/vsftpd.conf" <<CONF
listen=YES
listen_address=198.18.0.2
listen_port=21
background=NO
anonymous_enable=YES
anon_root=$PKS_TMP/root
no_anon_password=YES
local_enable=NO
write_enable=NO
pasv_enable=YES
pasv_min_port=40100
pasv_max_port=40200
port_enable=YES
connect_from_port_20=YES
seccomp_sandbox=NO
secure_chroot_dir=$PKS_TMP/empty
xferlog_enable=NO
CONF
pks_bg "$PKS_SRV" "$PKS_TMP/vsftpd.log" vsftpd "$PKS_TMP/vsftpd.conf"
pks_wait_tcp "$PKS_SRV" 21 || { pks_fail ftp_server "vsftpd did not start: $(cat "$PKS_TMP/vsftpd.log")"; pks_done; }
ctx_start || { pks_fail ftp_run "pktspec run did not start"; pks_done; }

# One transfer per mode; the announcing command names the rule.
declare -A rule_of=([epsv]=ftp-epsv [pasv]=ftp-pasv [eprt]=ftp-eprt [port]=ftp-port)
declare -A opts_of=([epsv]="" [pasv]="--disable-epsv" [eprt]="-P 198.18.0.1" [port]="-P 198.18.0.1 --disable-eprt")
for mode in epsv pasv eprt port; do
	# shellcheck disable=SC2086
	if pks_in "$PKS_CLI" curl -sS --max-time 20 ${opts_of[$mode]} -o "$PKS_TMP/got.$mode" \
		ftp://198.18.0.2/blob.bin 2>"$PKS_TMP/curl.$mode" && cmp -s "$PKS_TMP/got.$mode" "$PKS_TMP/root/blob.bin"; then
		pks_pass "ftp_${mode}_transfer"
	else
		pks_fail "ftp_${mode}_transfer" "$(cat "$PKS_TMP/curl.$mode")"
	fi
done
ctx_flows "$PKS_TMP/flows.json"
ctx_stop || pks_fail ftp_run_stops "pktspec run did not exit 0 on SIGINT: $(cat "$PKS_TMP/run.err")"

for mode in epsv pasv eprt port; do
	rule=${rule_of[$mode]}
	# The data flow: ftp-data, expected, by this mode's rule, decided at its first packet,
	# and it carried the whole file (so the verdict covered all of its packets).
	n=$(pks_jq --arg r "$rule" --argjson blob "$FTP_BLOB" 'select(.proto=="ftp-data" and .confidence=="expected" and .rule==$r
		and .at_first_packet and .bytes > $blob)' "$PKS_TMP/flows.json" | wc -l)
	if [ "$n" -eq 1 ]; then
		pks_pass "ftp_${mode}_data_expected_first_packet"
	else
		pks_fail "ftp_${mode}_data_expected_first_packet" "$n flows; table: $(pks_jq -c '[.server_port,.proto,.confidence,.rule,.at_first_packet]' "$PKS_TMP/flows.json" | tr '\n' ' ')"
	fi
done
# No data flow was anything else, and run printed each as it appeared.
bad=$(pks_jq 'select(.server_port != 21 and .proto != "ftp-data")' "$PKS_TMP/flows.json" | wc -l)
[ "$bad" -eq 0 ] && pks_pass ftp_no_unexpected_flows || pks_fail ftp_no_unexpected_flows "$bad other flows"
n=$(pks_jq 'select(.event=="flow" and .proto=="ftp-data" and .confidence=="expected")' "$PKS_TMP/run.out" | wc -l)
[ "$n" -ge 4 ] && pks_pass ftp_run_printed_events || pks_fail ftp_run_printed_events "$n ftp-data flow events"

# The capture replayed: the same four expected data flows.
"$PKTSPEC" replay --json "$PKS_TMP/live.pcap" >"$PKS_TMP/replay.json" 2>"$PKS_TMP/replay.err"
n=$(pks_jq 'select(.proto=="ftp-data" and .confidence=="expected" and .at_first_packet)' "$PKS_TMP/replay.json" | wc -l)
[ "$n" -eq 4 ] && pks_pass ftp_replay_same || pks_fail ftp_replay_same "$n expected data flows in replay: $(cat "$PKS_TMP/replay.err")"
[ -n "${PKS_SAVE_PCAP:-}" ] && cp "$PKS_TMP/live.pcap" "$PKS_SAVE_PCAP"
pks_done
