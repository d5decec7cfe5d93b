/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * Signature group: databases, messaging, directory, management and
 * industrial protocols over TCP. pks_classify() calls pks_classify_tcp_b()
 * after the core signatures; each protocol's signature lives in its own file
 * beside this one and cites its specification. sip.h is L4-agnostic and
 * shared with the UDP group.
 *
 * The first ten signatures are inlined into pks_classify(); the others are
 * global functions (below). The inlined ten predate the scratch map
 * (scratch.h) that made room in the 512-byte call chain for a global frame;
 * they cost the verifier about 128k instructions together and could become
 * globals too.
 *
 * Order: fixed magic and nested lengths first, then the text signatures
 * (Redis, STOMP, SIP, memcached text: memcached's grammar is the loosest of
 * them); Kafka, which rests on a length prefix and small ranges, last, so
 * that a stronger reading of the same bytes wins.
 */
#ifndef PKTSPEC_BPF_SIG_GROUP_TCP_B_H
#define PKTSPEC_BPF_SIG_GROUP_TCP_B_H

#include "sig.h"
#include "postgresql.h"
#include "mysql.h"
#include "mssql.h"
#include "kafka.h"
#include "mqtt.h"
#include "amqp.h"
#include "nats.h"
#include "kerberos.h"
#include "zabbix.h"
#include "bgp.h"
#include "mongodb.h"
#include "redis.h"
#include "memcached.h"
#include "cassandra.h"
#include "zookeeper.h"
#include "stomp.h"
#include "ldap.h"
#include "modbus.h"
#include "dnp3.h"
#include "iec104.h"
#include "sip.h"

/*
 * The later signatures are global functions, as in the tcp_a group: the
 * verifier checks each once, on its own, and its call costs the caller one
 * unknown scalar, so the group's cost is the sum of its parts, not their
 * product. This became possible when the payload window, the match and the
 * new flow entry moved off the stack (scratch.h): the chain pks_xdp ->
 * pks_inspect -> pks_classify -> signature now fits in 512 bytes.
 */
#define PKS_TCP_B_GLOBAL(name)                                                            \
	__noinline int pks_tcp_b_##name(const struct pks_payload *p, struct pks_match *m) \
	{                                                                                 \
		if (!p || !m)                                                             \
			return 0;                                                         \
		return pks_sig_##name(p, m);                                              \
	}

PKS_TCP_B_GLOBAL(mongodb)
PKS_TCP_B_GLOBAL(redis)
PKS_TCP_B_GLOBAL(memcached_binary)
PKS_TCP_B_GLOBAL(cassandra)
PKS_TCP_B_GLOBAL(zookeeper)
PKS_TCP_B_GLOBAL(stomp)
PKS_TCP_B_GLOBAL(ldap)
PKS_TCP_B_GLOBAL(modbus)
PKS_TCP_B_GLOBAL(dnp3)
PKS_TCP_B_GLOBAL(iec104)
PKS_TCP_B_GLOBAL(sip)

/* The text grammar's scan is a global of its own: its result is one scalar to the command check. */
__noinline int pks_tcp_b_memcached_scan(const struct pks_payload *p)
{
	if (!p)
		return 0;
	return pks_mc_scan(p);
}

/*
 * Whether the window holds " HTTP/" inside its valid bytes. "get / HTTP/1.1"
 * follows memcached's retrieval grammar (get <key>*, keys being any
 * printable bytes: protocol.txt "Keys"), but it is an HTTP request line with
 * its method in the wrong case (RFC 9112 3): an explicit separation, so that
 * a malformed HTTP request is not named memcached.
 */
static __always_inline __u64 pks_tcp_b_http_version_seen(const struct pks_payload *p)
{
	__u64 hit = 0;
	__u32 i;

	for (i = 0; i + 6 <= PKS_WIN; i++)
		hit |= pks_is(p->b[i], ' ') & pks_is(p->b[i + 1], 'H') & pks_is(p->b[i + 2], 'T') &
		       pks_is(p->b[i + 3], 'T') & pks_is(p->b[i + 4], 'P') & pks_is(p->b[i + 5], '/') &
		       pks_lt(i + 5, p->len);
	return hit;
}

__noinline int pks_tcp_b_memcached_text(const struct pks_payload *p, struct pks_match *m)
{
	if (!p || !m)
		return 0;
	if (p->from_client && pks_tcp_b_http_version_seen(p))
		return 0;
	return pks_sig_memcached_text(p, m, pks_tcp_b_memcached_scan(p));
}

static __always_inline int pks_classify_tcp_b(const struct pks_payload *p, struct pks_match *m)
{
	if (p->l4 != IPPROTO_TCP || p->len == 0)
		return 0;
	return pks_sig_bgp(p, m) || pks_sig_zabbix(p, m) || pks_sig_amqp(p, m) || pks_sig_kerberos(p, m) ||
	       pks_sig_mqtt(p, m) || pks_sig_mssql(p, m) || pks_sig_mysql(p, m) || pks_sig_postgresql(p, m) ||
	       pks_sig_nats(p, m) || pks_tcp_b_dnp3(p, m) || pks_tcp_b_iec104(p, m) || pks_tcp_b_modbus(p, m) ||
	       pks_tcp_b_mongodb(p, m) || pks_tcp_b_cassandra(p, m) || pks_tcp_b_zookeeper(p, m) ||
	       pks_tcp_b_ldap(p, m) || pks_tcp_b_memcached_binary(p, m) || pks_tcp_b_redis(p, m) ||
	       pks_tcp_b_stomp(p, m) || pks_tcp_b_sip(p, m) || pks_tcp_b_memcached_text(p, m) || pks_sig_kafka(p, m);
}

/*
 * Whether the first payload of a direction of proto is always recognised (see
 * pks_sig_covers): the client's opening message for the client-first
 * protocols, the server's greeting for MySQL and NATS, and both for the
 * symmetric ones (Zabbix, BGP). Not Kerberos: this answer cannot tell TCP
 * from UDP, and Kerberos has a UDP port that this group does not read.
 */
static __always_inline int pks_sig_covers_tcp_b(__u8 proto, int from_client)
{
	switch (proto) {
	case PKS_P_POSTGRESQL:
	case PKS_P_MSSQL:
	case PKS_P_KAFKA:
	case PKS_P_MQTT:
	case PKS_P_AMQP:
		return from_client;
	case PKS_P_MYSQL:
		return !from_client;
	case PKS_P_NATS:
	case PKS_P_ZABBIX:
	case PKS_P_BGP:
		return 1;
	}
	return 0;
}

#endif
