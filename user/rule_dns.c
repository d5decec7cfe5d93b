// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * Rule 2, DNS names. Every DNS response the kernel copies (UDP, and TCP
 * reassembled by its 2-byte length prefix, RFC 1035 4.2.2) names server
 * addresses: each A/AAAA record goes into pks_hosts as address -> the name
 * the client asked for, when the record's owner is on the question's CNAME
 * chain (else its own owner name), for the least TTL along the chain. The
 * application is the app list's answer for the first name on the chain that
 * has one (the question, then each CNAME target: ".googlevideo.com youtube"
 * catches what a YouTube name resolves through).
 *
 * XDP sets a new flow's app from pks_hosts and marks it named; on that
 * new-flow event this rule writes the flow's host into pks_names.
 *
 * Bounds: PKS_DNS_ANSWERS_MAX records per message, CNAME walks of at most as
 * many steps (loops end), names checked and at most 255 characters; DNS over
 * TCP through PKS_DNS_STREAMS streams of PKS_STREAM_BUF bytes (a longer
 * message is parsed as far as it fits).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pktspec.h"
#include "engine.h"
#include "ctx_stream.h"
#include "dns_parse.h"

#define PKS_DNS_STREAMS 256

struct dns_state {
	struct pks_dns_answer ans; /* 33 KB: not on the stack */
	struct pks_stream_table *streams;
};

static int dns_init(struct pks_engine *e, void **state)
{
	struct dns_state *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	if (pks_stream_table_new(PKS_DNS_STREAMS, &s->streams)) {
		free(s);
		return -ENOMEM;
	}
	*state = s;
	return 0;
}

static void dns_fini(struct pks_engine *e, void *state)
{
	struct dns_state *s = state;

	if (!s)
		return;
	pks_stream_table_free(s->streams);
	free(s);
}

/* The application of the first name on the question's CNAME chain that has one. */
static uint16_t chain_app(struct pks_engine *e, const struct pks_dns_answer *a, const char *owner)
{
	const char *name = a->qname;
	uint16_t app;

	for (unsigned int step = 0; step <= PKS_DNS_ANSWERS_MAX; step++) {
		const char *next = NULL;

		app = pks_engine_app(e, name, NULL);
		if (app || !strcmp(name, owner))
			return app;
		for (unsigned int i = 0; i < a->n && !next; i++)
			if (a->rr[i].type == PKS_DNS_CNAME && !strcmp(a->rr[i].owner, name))
				next = a->rr[i].target;
		if (!next)
			break;
		name = next;
	}
	return pks_engine_app(e, owner, NULL);
}

/* One DNS message of flow fk: its A and AAAA answers name servers in fk's tunnel. */
static void dns_message(struct pks_engine *e, struct dns_state *s, const struct pks_flow_key *fk, const uint8_t *msg,
			size_t len)
{
	struct pks_dns_answer *a = &s->ans;

	if (pks_dns_parse(msg, len, a)) {
		pks_engine_count_malformed(e);
		return;
	}
	for (unsigned int i = 0; i < a->n; i++) {
		const struct pks_dns_rr *rr = &a->rr[i];
		uint32_t ttl = rr->ttl;
		const char *name;

		if (rr->type != PKS_DNS_A && rr->type != PKS_DNS_AAAA)
			continue;
		name = pks_dns_chain_origin(a, rr->owner, &ttl);
		if (!name)
			name = rr->owner;
		pks_engine_host(e, fk, rr->addr, name, ttl, chain_app(e, a, rr->owner));
	}
}

static void dns_tcp(struct pks_engine *e, struct dns_state *s, const struct pks_ctx_event *ev)
{
	struct pks_stream *st = pks_stream_add(s->streams, ev);

	if (!st)
		return;
	if (st->gap) {
		/* Mid-stream: the length prefixes cannot be found again. */
		pks_stream_consume(st, st->len);
		return;
	}
	while (st->len >= 2) {
		uint32_t mlen = (uint32_t)st->buf[0] << 8 | st->buf[1];

		if (st->len >= mlen + 2) {
			dns_message(e, s, &ev->hdr->key, st->buf + 2, mlen);
		} else if (st->len == PKS_STREAM_BUF) {
			dns_message(e, s, &ev->hdr->key, st->buf + 2, st->len - 2); /* as far as it fits */
		} else {
			break;
		}
		pks_stream_consume(st, mlen + 2);
	}
}

static void dns_event(struct pks_engine *e, void *state, const struct pks_ctx_event *ev)
{
	struct dns_state *s = state;
	const struct pks_event *h = ev->hdr;

	if (h->type == PKS_EV_FLOW && (h->ctx & PKS_X_NAMED)) {
		struct pks_host host;

		if (pks_engine_host_get(e, &h->key, ev->server_addr, &host) == 0)
			pks_engine_flow_name_app(e, &h->key, host.name, PKS_NAME_DNS, host.app);
		return;
	}
	if (h->type != PKS_EV_PAYLOAD || h->proto != PKS_P_DNS || h->dir != PKS_DIR_S2C)
		return;
	if (h->key.l4 == IPPROTO_UDP)
		dns_message(e, s, &h->key, ev->data, ev->len);
	else
		dns_tcp(e, s, ev);
}

PKS_CTX_RULE(dns, .init = dns_init, .fini = dns_fini, .event = dns_event)
