/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * IPFIX export (RFC 7011) of flow records over UDP: `pktspec run --ipfix
 * HOST:PORT`. What goes where: doc/export.md.
 *
 * A flow gives two unidirectional Data Records sharing a flowId (client to
 * server, then server to client when that direction carried packets), with
 * delta counters since the flow's previous record. The verdict is an
 * applicationId (RFC 6759) of classification engine 13 (PANA-L7: the
 * exporter's own application registry) and a 3-byte selector, the stable
 * protocol ID of include/pktspec/protocols.def; an Options Template maps each
 * applicationId to its applicationName and applicationDescription.
 *
 * A flow inside a tunnel whose ID has an IANA element (VXLAN and gretap:
 * layer2SegmentId; GTP-U: gtpuTEid) uses a template of its own that adds it;
 * the bare templates never change.
 *
 * The socket is nonblocking and records wait in a bounded queue: a collector
 * that is down, unreachable or slow costs dropped records (counted), never a
 * stalled daemon.
 */
#ifndef PKTSPEC_IPFIX_H
#define PKTSPEC_IPFIX_H

#include <stdint.h>
#include <stddef.h>

#include "lifecycle.h"
#include "pktspec.h"

#define PKS_IPFIX_PORT 4739                     /* IANA: ipfix */
#define PKS_IPFIX_REFRESH_DEFAULT (60 * PKS_SEC) /* templates re-sent (UDP, RFC 7011 8.4) */
#define PKS_IPFIX_QUEUE_MAX 8192                /* records waiting for the socket */
#define PKS_IPFIX_MSG_MAX 1400                  /* one message per datagram, under a 1500 MTU */
#define PKS_IPFIX_ENGINE 13                     /* RFC 6759 classification engine PANA-L7 */

/* Template IDs (RFC 7011: data sets use 256 and up). */
enum {
	PKS_IPFIX_TPL_V4 = 256,
	PKS_IPFIX_TPL_V6 = 257,
	PKS_IPFIX_TPL_V4_HTTP = 258, /* + httpRequestHost */
	PKS_IPFIX_TPL_V6_HTTP = 259,
	PKS_IPFIX_TPL_APPS = 260,    /* options: applicationId -> name, description */
	/* Flows in a VXLAN or gretap tunnel: 256-259 + layer2SegmentId (doc/export.md). */
	PKS_IPFIX_TPL_V4_L2SEG = 261,
	PKS_IPFIX_TPL_V6_L2SEG = 262,
	PKS_IPFIX_TPL_V4_HTTP_L2SEG = 263,
	PKS_IPFIX_TPL_V6_HTTP_L2SEG = 264,
	/* Flows in a GTP-U tunnel: 256-259 + gtpuTEid. */
	PKS_IPFIX_TPL_V4_TEID = 265,
	PKS_IPFIX_TPL_V6_TEID = 266,
	PKS_IPFIX_TPL_V4_HTTP_TEID = 267,
	PKS_IPFIX_TPL_V6_HTTP_TEID = 268,
};

struct pks_ipfix_opts {
	const char *target;        /* HOST:PORT, [IPv6]:PORT */
	uint32_t domain;           /* observation domain ID */
	uint64_t refresh_ns;       /* template refresh (0: default) */
	enum pks_clock clock;      /* of the flow records' times */
};

struct pks_ipfix_stats {
	uint64_t records;          /* data records sent (flows, both directions) */
	uint64_t messages;         /* datagrams sent */
	uint64_t templates;        /* template messages sent */
	uint64_t dropped;          /* records lost: queue full, or the send failed */
	uint64_t send_errors;      /* sends the kernel refused (collector down, unreachable) */
	uint64_t bytes;            /* bytes sent */
};

struct pks_ipfix;

/* 0 when target has the form HOST:PORT or [IPv6]:PORT, else -EINVAL. */
int pks_ipfix_check_target(const char *target);
/* Resolves target and opens the socket; 0, or -errno with a message printed. */
int pks_ipfix_new(const struct pks_ipfix_opts *o, struct pks_ipfix **out);
/* Queues a flow record (ignores flow-start records). */
void pks_ipfix_add(struct pks_ipfix *x, const struct pks_flow_record *r);
/* Sends what is queued, and the templates when due; never blocks. */
void pks_ipfix_flush(struct pks_ipfix *x);
/* Flushes what it can and closes. */
void pks_ipfix_free(struct pks_ipfix *x);
const struct pks_ipfix_stats *pks_ipfix_stats(const struct pks_ipfix *x);

/*
 * The encoder alone (tests): a template message, and a data message holding
 * record r, written to buf; return their lengths (0 when buf is too small).
 */
size_t pks_ipfix_encode_templates(uint8_t *buf, size_t len, uint32_t export_time, uint32_t seq, uint32_t domain);
size_t pks_ipfix_encode_flow(uint8_t *buf, size_t len, const struct pks_flow_record *r, enum pks_clock clock,
			     uint32_t export_time, uint32_t seq, uint32_t domain, unsigned int *records);

#endif /* PKTSPEC_IPFIX_H */
