/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * Signature group: databases, messaging, directory, management and
 * industrial protocols over TCP. pks_classify() calls pks_classify_tcp_b()
 * after the core signatures; each protocol's signature lives in its own file
 * beside this one and cites its specification. sip.h is L4-agnostic and
 * shared with the UDP group.
 *
 * Everything here is inlined into pks_classify(), on purpose. The deepest
 * call chain may use 512 bytes of stack, each frame rounded up to 32:
 * pks_xdp (288) + pks_inspect (128) + pks_classify (96) leave nothing for a
 * further call, so neither this function nor a signature can be a global
 * function of its own (the verifier refuses: "combined stack size ... Too
 * large"). Inlined, a chain of signatures costs the verifier more than the
 * sum of its parts: this chain of ten processes about 128k instructions with
 * the core signatures (74k without it); adding MongoDB, Cassandra, ZooKeeper,
 * DNP3, IEC 104, SIP and Modbus pushed the load past five minutes on the
 * shared build machine. Those signatures need the classifier's call chain to
 * leave room for a global function per group before they can be wired.
 *
 * Order: fixed magic and nested lengths first; Kafka, which rests on a length
 * prefix and small ranges, last, so that a stronger reading of the same bytes
 * wins.
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

static __always_inline int pks_classify_tcp_b(const struct pks_payload *p, struct pks_match *m)
{
	if (p->l4 != IPPROTO_TCP || p->len == 0)
		return 0;
	return pks_sig_bgp(p, m) || pks_sig_zabbix(p, m) || pks_sig_amqp(p, m) || pks_sig_kerberos(p, m) ||
	       pks_sig_mqtt(p, m) || pks_sig_mssql(p, m) || pks_sig_mysql(p, m) || pks_sig_postgresql(p, m) ||
	       pks_sig_nats(p, m) || pks_sig_kafka(p, m);
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
