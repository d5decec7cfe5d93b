#!/bin/sh
# SPDX-License-Identifier: MIT OR Apache-2.0
# Regenerates the captures of the TCP database/messaging/management group.
# Not run by `make check`; needs the `capture_tcp_b` packages (tools/deps.sh).
#
# Every capture here is CRAFTED FROM THE SPECIFICATIONS with scapy (see
# craft.py for the section each message follows), not recorded from real
# servers: one TCP handshake, the client's opening message and the server's
# answer, so each is a few hundred bytes (the new captures: mongodb, redis,
# memcached, cassandra, zookeeper, stomp, ldap, modbus, dnp3, iec104, sip_tcp
# likewise). Recording real traffic from the
# Debian servers (postgresql, mariadb, mosquitto, slapd, krb5-kdc,
# zabbix-agent, bird2) is still to do.
set -eu
cd "$(dirname "$0")"
../../../tools/deps.sh capture_tcp_b
exec /usr/bin/python3 craft.py
