#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
#
# End to end, flows picked up mid-session: real PostgreSQL and Mosquitto
# servers in a namespace, real clients connected and talking BEFORE pktspec is
# attached, so no handshake is ever seen: psql over IPv4 and IPv6, a psql that
# only LISTENs, mosquitto_sub and `mosquitto_pub -l` (MQTT 3.1.1 QoS 0, and
# MQTT 5 QoS 2, and 3,000-byte QoS 0 messages, longer than a segment), a
# mosquitto_sub whose only traffic is its keepalive. Queries,
# notifications, publishes and pings over the open connections must then name
# each flow by its mid-session rule (bpf/sig/midstream.h): postgresql-mid /
# mqtt-mid, `signature`, client and server the right way round. A TCP
# connection carrying random bytes, open before the attach too, stays unnamed.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/servers.sh"

T=$(pks_mid_case)
NEG_PORT=17502 # a port no protocol is guessed for

pks_topology
if ! { pks_pg_start && pks_mqtt_start; } 2>"$PKS_TMP/servers.err"; then
	pks_fail "$T:servers" "$(head -c 400 "$PKS_TMP/servers.err")"
	pks_done
fi
# The negative's server: answers every chunk with as many seeded random bytes.
pks_bg "$PKS_SRV" "$PKS_TMP/noise-srv.log" /usr/bin/python3 -c '
import random, socket, sys
s = socket.create_server(("198.18.0.2", int(sys.argv[1])))
c, _ = s.accept()
r = random.Random(2)
while True:
    d = c.recv(4096)
    if not d:
        break
    c.sendall(r.randbytes(len(d)))
' $NEG_PORT
pks_wait_tcp "$PKS_SRV" $NEG_PORT || { pks_fail "$T:servers" "noise server: $(cat "$PKS_TMP/noise-srv.log")"; pks_done; }
pks_pass "$T:servers"

# The sessions, each confirmed working (an answer in its log) before the attach.
pks_session pg4 "$PKS_TMP/pg4.log" psql -X -A -t -h 198.18.0.2 -U postgres -d postgres
pks_session pg6 "$PKS_TMP/pg6.log" psql -X -A -t -h 2001:db8::2 -U postgres -d postgres
# LISTENs, then only hears the server: NotificationResponses for pg4's NOTIFYs.
pks_session listen "$PKS_TMP/listen.log" psql -X -A -t -h 198.18.0.2 -U postgres -d postgres
pks_session sub "$PKS_TMP/sub.log" mosquitto_sub -h 2001:db8::2 -t pktspec/test -q 0
pks_session pub "$PKS_TMP/pub.log" mosquitto_pub -h 198.18.0.2 -t pktspec/test -q 0 -l
# MQTT 5, QoS 2: PUBREC, PUBREL, PUBCOMP between the publishes.
pks_session sub5 "$PKS_TMP/sub5.log" mosquitto_sub -V 5 -h 198.18.0.2 -t pktspec/qos2 -q 2
pks_session pub5 "$PKS_TMP/pub5.log" mosquitto_pub -V 5 -h 2001:db8::2 -t pktspec/qos2 -q 2 -l
# Subscribed to a topic nobody publishes on: only its keepalive (PINGREQ,
# PINGRESP every 5 s, the shortest mosquitto_sub allows) is ever on the wire.
pks_session ping "$PKS_TMP/ping.log" mosquitto_sub -k 5 -h 198.18.0.2 -t pktspec/quiet
# QoS 0 messages of 3,000 bytes: every PUBLISH runs past its first segment and
# nothing else is sent, so only a PUBLISH's variable header can name the flow.
BIG=$(printf 'x%.0s' $(seq 3000))
pks_session subbig "$PKS_TMP/subbig.log" mosquitto_sub -h 2001:db8::2 -t pktspec/big
pks_session pubbig "$PKS_TMP/pubbig.log" mosquitto_pub -h 2001:db8::2 -t pktspec/big -l
# The client reads a line, sends 300 seeded random bytes and reads as many back.
pks_session noise "$PKS_TMP/noise.log" /usr/bin/python3 -c '
import random, socket, sys
c = socket.create_connection(("198.18.0.2", int(sys.argv[1])))
r = random.Random(1)
for line in sys.stdin:
    c.sendall(r.randbytes(300))
    n = 0
    while n < 300:
        n += len(c.recv(300 - n))
    print("ok", line.strip(), flush=True)
' $NEG_PORT

for s in pg4 pg6 listen; do
	pks_ask $s "$PKS_TMP/$s.log" "LISTEN pktspec; SELECT 'before-$s';" "before-$s" ||
		pks_fail "$T:session-$s" "$(tail -n 3 "$PKS_TMP/$s.log" | tr '\n' ' ')"
done
pks_mqtt_heard pub "$PKS_TMP/sub.log" before-mqtt || pks_fail "$T:session-mqtt" "$(cat "$PKS_TMP/sub.log" "$PKS_TMP/pub.log")"
pks_mqtt_heard pub5 "$PKS_TMP/sub5.log" before-qos2 || pks_fail "$T:session-qos2" "$(cat "$PKS_TMP/sub5.log" "$PKS_TMP/pub5.log")"
pks_mqtt_heard pubbig "$PKS_TMP/subbig.log" before-big || pks_fail "$T:session-big" "$(cat "$PKS_TMP/subbig.log" "$PKS_TMP/pubbig.log")"
pks_ask noise "$PKS_TMP/noise.log" 0 "ok 0" || pks_fail "$T:session-noise" "$(cat "$PKS_TMP/noise.log")"

# The client port of each session, from the client's own socket; without
# every session open before the attach the rest tests nothing.
pks_mid_attach "$T" pg4 pg6 listen sub pub sub5 pub5 ping subbig pubbig noise

# Now the same connections talk: two queries per psql (each notifying the
# listener), two publishes of each QoS, two random exchanges, each waited for
# at the other end.
for i in 1 2; do
	for s in pg4 pg6; do
		pks_say $s "NOTIFY pktspec, 'mid-$i'; SELECT 'mid-$s-$i', count(*) FROM pg_class;"
		pks_wait_for 30 grep -q "^mid-$s-$i|[0-9]" "$PKS_TMP/$s.log" ||
			pks_fail "$T:query-$s-$i" "$(tail -n 3 "$PKS_TMP/$s.log" | tr '\n' ' ')"
	done
	pks_ask pub "$PKS_TMP/sub.log" "mid-$i" "mid-$i" || pks_fail "$T:publish-$i" "$(tail -n 3 "$PKS_TMP/sub.log")"
	pks_ask pub5 "$PKS_TMP/sub5.log" "qos2-$i" "qos2-$i" || pks_fail "$T:publish-qos2-$i" "$(tail -n 3 "$PKS_TMP/sub5.log")"
	pks_ask pubbig "$PKS_TMP/subbig.log" "$BIG$i" "$BIG$i" || pks_fail "$T:publish-big-$i" "$(tail -c 200 "$PKS_TMP/subbig.log")"
	pks_ask noise "$PKS_TMP/noise.log" $i "ok $i" || pks_fail "$T:noise-$i" "$(tail -n 3 "$PKS_TMP/noise.log")"
done

pks_expect_mid "$T:postgresql-mid-ipv4" 198.18.0.1 "${PKS_PORT[pg4]}" 198.18.0.2 5432 postgresql postgresql-mid
pks_expect_mid "$T:postgresql-mid-ipv6" 2001:db8::1 "${PKS_PORT[pg6]}" 2001:db8::2 5432 postgresql postgresql-mid
pks_expect_mid "$T:postgresql-mid-notifications-only" 198.18.0.1 "${PKS_PORT[listen]}" 198.18.0.2 5432 postgresql postgresql-mid
pks_expect_mid "$T:mqtt-mid-subscriber-ipv6" 2001:db8::1 "${PKS_PORT[sub]}" 2001:db8::2 1883 mqtt mqtt-mid
pks_expect_mid "$T:mqtt-mid-publisher-ipv4" 198.18.0.1 "${PKS_PORT[pub]}" 198.18.0.2 1883 mqtt mqtt-mid
pks_expect_mid "$T:mqtt5-qos2-mid-subscriber-ipv4" 198.18.0.1 "${PKS_PORT[sub5]}" 198.18.0.2 1883 mqtt mqtt-mid
pks_expect_mid "$T:mqtt5-qos2-mid-publisher-ipv6" 2001:db8::1 "${PKS_PORT[pub5]}" 2001:db8::2 1883 mqtt mqtt-mid
pks_expect_mid "$T:mqtt-mid-keepalive-only" 198.18.0.1 "${PKS_PORT[ping]}" 198.18.0.2 1883 mqtt mqtt-mid
pks_expect_mid "$T:mqtt-mid-large-publishes-subscriber" 2001:db8::1 "${PKS_PORT[subbig]}" 2001:db8::2 1883 mqtt mqtt-mid
pks_expect_mid "$T:mqtt-mid-large-publishes-publisher" 2001:db8::1 "${PKS_PORT[pubbig]}" 2001:db8::2 1883 mqtt mqtt-mid

# The random bytes: once the table has counted both exchanges (two chunks each
# way), the flow is still unnamed.
pks_expect_unnamed "$T:random-bytes-unnamed" "${PKS_PORT[noise]}" $NEG_PORT 2
# Nothing else: every flow is one of the sessions.
pks_expect_no_other_flows "$T:no-other-flows" "${PKS_PORT[@]}"

pks_mid_detach "$T"
pks_done
