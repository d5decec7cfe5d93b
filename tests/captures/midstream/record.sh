#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
#
# Records the RECORDED mid-session captures (craft.py makes the crafted ones,
# record_text.sh those of the line-oriented protocols):
# a real PostgreSQL server and psql, a real Mosquitto broker with
# mosquitto_sub and `mosquitto_pub -l`, across a veth pair between two network
# namespaces. Each session is connected and has talked BEFORE tcpdump starts,
# so the capture holds no handshake (checked: no SYN), only what a classifier
# attached to a busy server sees first: a few queries, a few publishes (small
# ones, and ones longer than a segment).
#
#   tools/deps.sh test && tests/captures/midstream/record.sh
#
# Writes postgresql_mid_recorded.pcap, mqtt_mid_recorded.pcap and
# mqtt_mid_large_recorded.pcap (publishes longer than a segment) with their
# .expect files (whose header names the server and client versions) here.
# Not run by `make check`; the files it writes are checked in.
. "$(dirname "$0")/../../lib/common.sh"
. "$(dirname "$0")/../../lib/servers.sh"

OUT=$PKS_ROOT/tests/captures/midstream
die() { echo "record.sh: $*" >&2; exit 1; }

pks_topology
pks_offloads_off || die "ethtool -K failed"
pks_pg_start && pks_mqtt_start || die "servers did not start"
pks_session pg "$PKS_TMP/pg.log" psql -X -A -t -h 198.18.0.2 -U postgres -d postgres
pks_session sub "$PKS_TMP/sub.log" mosquitto_sub -h 198.18.0.2 -t pktspec/test -q 0
pks_session pub "$PKS_TMP/pub.log" mosquitto_pub -h 198.18.0.2 -t pktspec/test -q 0 -l

# The sessions up and answering before anything is recorded.
pks_ask pg "$PKS_TMP/pg.log" "SELECT 'before';" before || die "psql: $(cat "$PKS_TMP/pg.log")"
pks_mqtt_heard pub "$PKS_TMP/sub.log" before || die "mosquitto_sub heard nothing: $(cat "$PKS_TMP/sub.log" "$PKS_TMP/pub.log")"

# record NAME PORT SESSION LOG [LINE ANSWER]...: tcpdump on the server's veth end
# for PORT while each LINE goes to SESSION and its ANSWER shows in LOG; then the
# recording must hold no SYN and only the test prefixes.
record() {
	local name=$1 port=$2 session=$3 log=$4
	shift 4
	pks_record_start "$name" "$port" || die "$name: tcpdump did not start"
	while [ $# -ge 2 ]; do
		pks_ask "$session" "$log" "$1" "$2" || die "$name: no answer to $1"
		shift 2
	done
	pks_record_finish "$name" "$OUT" || die "$name: not recorded"
}

record postgresql_mid_recorded 5432 pg "$PKS_TMP/pg.log" \
	"SELECT 'pktspec-1', 1 * 7;" "pktspec-1|7" \
	"SELECT 'pktspec-2', 2 * 7;" "pktspec-2|14" \
	"SELECT 'pktspec-3', 3 * 7;" "pktspec-3|21"
record mqtt_mid_recorded 1883 pub "$PKS_TMP/sub.log" pktspec-1 pktspec-1 pktspec-2 pktspec-2 pktspec-3 pktspec-3

# Messages longer than a segment: each PUBLISH runs past its first segment,
# and nothing else of these flows fits (bpf/sig/midstream.h, the PUBLISH's
# variable header).
BIG=$(printf 'x%.0s' $(seq 3000))
record mqtt_mid_large_recorded 1883 pub "$PKS_TMP/sub.log" "${BIG}1" "${BIG}1" "${BIG}2" "${BIG}2"

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
cat >"$OUT/mqtt_mid_large_recorded.expect" <<EXPECT
# SPDX-License-Identifier: MIT OR Apache-2.0
# RECORDED (record.sh): as mqtt_mid_recorded.pcap, two QoS 0 publishes of 3,001 bytes each,
# longer than a segment: every PUBLISH runs past its first segment, no frame ends in one.
#   server: $mq_v
#   clients: mosquitto_sub and mosquitto_pub -l, $cli_v
# Named by the second PUBLISH head (topic name and all, bpf/sig/midstream.h), never above signature.
tcp 1883 mqtt signature
EXPECT
echo "record.sh: wrote $OUT/{postgresql_mid,mqtt_mid,mqtt_mid_large}_recorded.pcap"
