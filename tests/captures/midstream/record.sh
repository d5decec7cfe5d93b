#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
#
# Records the RECORDED mid-session captures (craft.py makes the crafted ones):
# a real PostgreSQL server and psql, a real Mosquitto broker with
# mosquitto_sub and `mosquitto_pub -l`, across a veth pair between two network
# namespaces. Each session is connected and has talked BEFORE tcpdump starts,
# so the capture holds no handshake (checked: no SYN), only what a classifier
# attached to a busy server sees first: a few queries, a few publishes.
#
#   tools/deps.sh test && tests/captures/midstream/record.sh
#
# Writes postgresql_mid_recorded.pcap and mqtt_mid_recorded.pcap with their
# .expect files (whose header names the server and client versions) here.
# Not run by `make check`; the files it writes are checked in.
. "$(dirname "$0")/../../lib/common.sh"
. "$(dirname "$0")/../../lib/servers.sh"

OUT=$PKS_ROOT/tests/captures/midstream
die() { echo "record.sh: $*" >&2; exit 1; }

pks_topology
pks_pg_start && pks_mqtt_start || die "servers did not start"
pks_session pg "$PKS_TMP/pg.log" psql -X -A -t -h 198.18.0.2 -U postgres -d postgres
pks_session sub "$PKS_TMP/sub.log" mosquitto_sub -h 198.18.0.2 -t pktspec/test -q 0
pks_session pub "$PKS_TMP/pub.log" mosquitto_pub -h 198.18.0.2 -t pktspec/test -q 0 -l

logged() { grep -qxF -- "$2" "$1"; }
# The sessions up and answering before anything is recorded.
pks_say pg "SELECT 'before';"
pks_wait_for 30 logged "$PKS_TMP/pg.log" before || die "psql: $(cat "$PKS_TMP/pg.log")"
pks_wait_for 30 pks_connected 1883 2 || die "mqtt clients: $(cat "$PKS_TMP/sub.log" "$PKS_TMP/pub.log")"
# A subscriber gets nothing published before it subscribed: publish until it hears.
pub_heard() { pks_say pub "$1" && pks_wait_for 1 logged "$PKS_TMP/sub.log" "$1"; }
pks_wait_for 30 pub_heard before || die "mosquitto_sub heard nothing: $(cat "$PKS_TMP/sub.log")"

# record NAME PORT: tcpdump on the server's veth end for PORT while the caller's
# function talk_NAME runs; then the recording must hold no SYN and only the
# test prefixes.
record() {
	local f="$PKS_TMP/$1.pcap"
	pks_tcpdump_start "$PKS_SRV" "$PKS_SRV_IF" "$f" "tcp port $2" || die "tcpdump: $(cat "$f.log")"
	"talk_$1" || die "$1: no answer"
	pks_tcpdump_stop "$f" || die "$1: recording incomplete"
	[ "$(tcpdump -r "$f" -n 'tcp[tcpflags] & tcp-syn != 0' 2>/dev/null | wc -l)" -eq 0 ] || die "$1: a SYN was recorded"
	tcpdump -r "$f" -n 2>/dev/null | awk '{ print $3; print $5 }' | sed 's/[.:]*$//' |
		grep -Ev '^(198\.1[89]\.[0-9.]+|2001:db8:[0-9a-f:.]+)$' && die "$1: another address was recorded"
	cp "$f" "$OUT/$1.pcap"
}

talk_postgresql_mid_recorded() {
	local i
	for i in 1 2 3; do
		pks_say pg "SELECT 'pktspec-$i', $i * 7;"
		pks_wait_for 30 logged "$PKS_TMP/pg.log" "pktspec-$i|$((i * 7))" || return 1
	done
}
talk_mqtt_mid_recorded() {
	local i
	for i in 1 2 3; do
		pks_say pub "pktspec-$i"
		pks_wait_for 30 logged "$PKS_TMP/sub.log" "pktspec-$i" || return 1
	done
}

record postgresql_mid_recorded 5432
record mqtt_mid_recorded 1883

pg_v=$("$PKS_PG_BIN/postgres" --version)
psql_v=$(psql --version)
mq_v=$(/usr/sbin/mosquitto -h | sed -n 's/^mosquitto version /Mosquitto /p')
cli_v=$(dpkg-query -W -f='mosquitto-clients ${Version}' mosquitto-clients)
cat >"$OUT/postgresql_mid_recorded.expect" <<EXPECT
# SPDX-License-Identifier: MIT OR Apache-2.0
# RECORDED (record.sh): a real session picked up mid-session, no handshake in the capture:
# three simple queries over a connection open before tcpdump started.
#   server: $pg_v
#   client: $psql_v
# Named by a second fitting message, and never above signature (bpf/sig/midstream.h).
tcp 5432 postgresql signature
EXPECT
cat >"$OUT/mqtt_mid_recorded.expect" <<EXPECT
# SPDX-License-Identifier: MIT OR Apache-2.0
# RECORDED (record.sh): real sessions picked up mid-session, no handshake in the capture:
# three MQTT 3.1.1 QoS 0 publishes over connections open before tcpdump started, the
# publisher's flow and the subscriber's (the broker's copy of each message).
#   server: $mq_v
#   clients: mosquitto_sub and mosquitto_pub -l, $cli_v
# Named by a second fitting frame, and never above signature (bpf/sig/midstream.h).
tcp 1883 mqtt signature
EXPECT
echo "record.sh: wrote $OUT/postgresql_mid_recorded.pcap $OUT/mqtt_mid_recorded.pcap"
