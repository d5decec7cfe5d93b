// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * Rules 3, 4 and 5: the names a flow gives itself.
 *
 *   TLS over TCP   ClientHello server_name, ALPN and the highest version
 *                  offered, even when the hello spans several segments that
 *                  arrive out of order or twice (tcp_reasm.c, tls_hello.c);
 *                  then the ServerHello's selected version, when the server's
 *                  first segment shows it.
 *   QUIC           the client's Initial packets decrypted (quic_initial.c,
 *                  RFC 9001 5 / RFC 9369), CRYPTO frames reassembled, the
 *                  ClientHello parsed the same way.
 *   HTTP/1.x       Host (or the absolute-form target's authority) and
 *                  User-Agent of the first request (http_req.c).
 *
 * What a flow said goes into pks_names through the engine (host with source
 * sni / quic / http, ALPN, TLS version, user agent); the flow is then marked
 * done so the kernel stops copying its payload. The parsers' state lives
 * here, one entry per flow under inspection: at most NAMES_FLOWS_MAX entries,
 * the least recently used evicted first, and an entry idle for
 * NAMES_IDLE_NS dropped by the tick. Each entry holds at most two stream
 * windows of PKS_REASM_MAX bytes (client and server), so the rule's memory
 * is bounded by NAMES_FLOWS_MAX * 2 * (PKS_REASM_MAX * 9 / 8) whatever the
 * traffic: about 36 MiB at worst, a few KiB per flow in practice (buffers
 * grow with what arrived).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pktspec.h"
#include "engine.h"
#include "pktspec/flow_key.h"
#include "http_req.h"
#include "quic_initial.h"
#include "tcp_reasm.h"
#include "tls_hello.h"

#define NAMES_FLOWS_MAX 1024                  /* flows parsed at once */
#define NAMES_BUCKETS 2048                    /* hash buckets, a power of two */
#define NAMES_IDLE_NS (30ull * 1000000000ull) /* a first flight takes far less */

enum names_kind { K_TLS, K_QUIC, K_HTTP };

enum names_phase {
	PH_CLIENT, /* waiting for the client's first message */
	PH_SERVER, /* TLS: client named, waiting for the ServerHello's version */
	PH_DONE,   /* finished: copies still in the ring are ignored */
};

struct names_flow {
	struct pks_flow_key key;
	enum names_kind kind;
	enum names_phase phase;
	uint8_t first8; /* pks_event.first8: which flow of the key this is */
	uint8_t c2s_copies, s2c_copies;
	bool malformed_counted;
	bool refused;   /* the last parse said malformed, but it was not final yet */
	uint64_t last_ns;
	struct pks_reasm c2s, s2c;
	struct pks_quic_state *quic;
	struct names_flow *hnext;          /* hash chain */
	struct names_flow *older, *newer;  /* LRU list */
};

struct names_state {
	struct names_flow *buckets[NAMES_BUCKETS];
	struct names_flow *oldest, *newest;
	unsigned int n;
	/* Counters for -v. */
	uint64_t named, evicted, malformed, cut;
};

static uint32_t key_hash(const struct pks_flow_key *k)
{
	return (uint32_t)pks_key_hash(k, sizeof(*k) / 4) & (NAMES_BUCKETS - 1);
}

static void lru_unlink(struct names_state *s, struct names_flow *f)
{
	if (f->older)
		f->older->newer = f->newer;
	else
		s->oldest = f->newer;
	if (f->newer)
		f->newer->older = f->older;
	else
		s->newest = f->older;
	f->older = f->newer = NULL;
}

static void lru_push(struct names_state *s, struct names_flow *f)
{
	f->older = s->newest;
	f->newer = NULL;
	if (s->newest)
		s->newest->newer = f;
	else
		s->oldest = f;
	s->newest = f;
}

static void flow_drop(struct names_state *s, struct names_flow *f)
{
	struct names_flow **pp = &s->buckets[key_hash(&f->key)];

	while (*pp && *pp != f)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = f->hnext;
	lru_unlink(s, f);
	pks_reasm_free(&f->c2s);
	pks_reasm_free(&f->s2c);
	if (f->quic) {
		pks_quic_free(f->quic);
		free(f->quic);
	}
	free(f);
	s->n--;
}

static struct names_flow *flow_find(struct names_state *s, const struct pks_flow_key *k)
{
	for (struct names_flow *f = s->buckets[key_hash(k)]; f; f = f->hnext)
		if (!memcmp(&f->key, k, sizeof(*k)))
			return f;
	return NULL;
}

/*
 * Evicted or idle: a flow whose bytes last parsed as malformed (still waiting
 * in case an earlier segment was late) is counted malformed now.
 */
static void flow_retire(struct pks_engine *e, struct names_state *s, struct names_flow *f)
{
	if (f->refused && !f->malformed_counted && f->phase != PH_DONE) {
		s->malformed++;
		pks_engine_count_malformed(e);
	}
	flow_drop(s, f);
}

static struct names_flow *flow_new(struct pks_engine *e, struct names_state *s, const struct pks_flow_key *k,
				   enum names_kind kind)
{
	struct names_flow *f;
	uint32_t b = key_hash(k);

	if (s->n >= NAMES_FLOWS_MAX) {
		flow_retire(e, s, s->oldest);
		s->evicted++;
	}
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	if (kind == K_QUIC) {
		f->quic = malloc(sizeof(*f->quic));
		if (!f->quic) {
			free(f);
			return NULL;
		}
		pks_quic_init(f->quic);
	}
	f->key = *k;
	f->kind = kind;
	/* The SYN's sequence number is not in the events: byte 0 is the lowest
	 * sequence number seen, which moves down if an earlier segment is late. */
	pks_reasm_init(&f->c2s);
	pks_reasm_init(&f->s2c);
	f->hnext = s->buckets[b];
	s->buckets[b] = f;
	lru_push(s, f);
	s->n++;
	return f;
}

static void count_malformed(struct pks_engine *e, struct names_state *s, struct names_flow *f)
{
	if (f->malformed_counted)
		return;
	f->malformed_counted = true;
	s->malformed++;
	pks_engine_count_malformed(e);
}

/*
 * Finished with a flow: the kernel stops copying it and the buffers go. The
 * entry stays (a few dozen bytes) until evicted or idle, so that copies the
 * ring still holds are not taken for a new flow starting mid-stream.
 */
static void flow_finish(struct pks_engine *e, struct names_state *s, struct names_flow *f)
{
	pks_engine_done(e, &f->key, f->first8);
	pks_reasm_free(&f->c2s);
	pks_reasm_free(&f->s2c);
	if (f->quic) {
		pks_quic_free(f->quic);
		free(f->quic);
		f->quic = NULL;
	}
	f->phase = PH_DONE;
}

/* The first protocol ID of a comma-separated ALPN list (what pks_names keeps). */
static void first_alpn(const char *list, char *out, size_t len)
{
	size_t n = strcspn(list, ",");

	if (n >= len)
		n = len - 1;
	memcpy(out, list, n);
	out[n] = '\0';
}

/*
 * The DNS name of the server first, when pks_hosts has one: live, the engine
 * may write the answer's name after the client's SYN already passed XDP (the
 * connection follows the answer within microseconds), so the flow was not
 * marked named at creation. The flow's own name then takes host and keeps
 * the DNS one as dns_host.
 */
static void dns_name_first(struct pks_engine *e, const struct pks_ctx_event *ev)
{
	struct pks_host host;

	if (pks_engine_host_get(e, &ev->hdr->key, ev->server_addr, &host) == 0 && host.name[0])
		pks_engine_flow_name(e, &ev->hdr->key, host.name, PKS_NAME_DNS);
}

static void publish_hello(struct pks_engine *e, struct names_state *s, const struct pks_ctx_event *ev,
			  const struct pks_tls_hello *h, enum pks_name_source src)
{
	const struct pks_flow_key *k = &ev->hdr->key;
	char alpn[PKS_ALPN_LEN];

	dns_name_first(e, ev);
	/* An address literal (RFC 6066 forbids them in server_name) names no one. */
	if (h->sni[0] && !pks_host_is_ip(h->sni) && !pks_engine_flow_name(e, k, h->sni, src))
		s->named++;
	first_alpn(h->alpn, alpn, sizeof(alpn));
	pks_engine_flow_tls(e, k, alpn[0] ? alpn : NULL, h->version);
}

/*
 * A parse that fails may only look malformed because an earlier segment has
 * not arrived yet (byte 0 is a guess until then): it is final once the
 * client's copies are spent or the server has answered (the client's first
 * flight is then complete).
 */
static bool failure_is_final(const struct names_flow *f)
{
	return f->c2s_copies >= PKS_COPY_FIRST || f->s2c_copies > 0;
}

static void on_tls(struct pks_engine *e, struct names_state *s, struct names_flow *f, const struct pks_ctx_event *ev)
{
	struct pks_tls_hello h;
	int st;

	if (ev->hdr->dir == PKS_DIR_C2S && f->phase == PH_CLIENT) {
		pks_reasm_add(&f->c2s, ev->hdr->seq, ev->data, ev->len);
		st = pks_tls_parse_records(pks_reasm_data(&f->c2s), pks_reasm_len(&f->c2s), 0, &h);
		if (st == PKS_TLS_COMPLETE) {
			publish_hello(e, s, ev, &h, PKS_NAME_SNI);
			f->phase = PH_SERVER;
			/* The server may have answered already (reordered copies). */
			if (!pks_reasm_len(&f->s2c))
				return;
		} else if (st == PKS_TLS_MALFORMED && failure_is_final(f)) {
			count_malformed(e, s, f);
			flow_finish(e, s, f);
			return;
		} else {
			f->refused = st == PKS_TLS_MALFORMED;
			return;
		}
	} else if (ev->hdr->dir == PKS_DIR_S2C) {
		pks_reasm_add(&f->s2c, ev->hdr->seq, ev->data, ev->len);
		if (f->phase == PH_CLIENT) {
			if (failure_is_final(f) && f->c2s_copies) {
				/* Re-judge the client's bytes now that the server spoke. */
				st = pks_tls_parse_records(pks_reasm_data(&f->c2s), pks_reasm_len(&f->c2s), 0, &h);
				if (st != PKS_TLS_MALFORMED)
					return;
				count_malformed(e, s, f);
				flow_finish(e, s, f);
			}
			return;
		}
	} else {
		return;
	}
	/* PH_SERVER: the ServerHello's selected version (RFC 8446 4.2.1). */
	st = pks_tls_parse_records(pks_reasm_data(&f->s2c), pks_reasm_len(&f->s2c), 1, &h);
	if (st == PKS_TLS_NEED_MORE && f->s2c_copies < PKS_COPY_FIRST)
		return;
	if (st == PKS_TLS_COMPLETE)
		pks_engine_flow_tls(e, &f->key, NULL, h.version);
	flow_finish(e, s, f);
}

static void on_quic(struct pks_engine *e, struct names_state *s, struct names_flow *f,
		    const struct pks_ctx_event *ev)
{
	int st;

	if (ev->hdr->dir != PKS_DIR_C2S) {
		/* The server answered an Initial that never authenticated here. */
		if (f->quic->initials == 0) {
			count_malformed(e, s, f);
			flow_finish(e, s, f);
		}
		return;
	}
	if (ev->len < ev->hdr->payload_len) {
		/* A cut copy cannot authenticate; later datagrams still may. */
		s->cut++;
		return;
	}
	st = pks_quic_client_datagram(f->quic, ev->data, ev->len);
	f->refused = st == PKS_TLS_MALFORMED;
	if (st == PKS_TLS_COMPLETE) {
		publish_hello(e, s, ev, &f->quic->hello, PKS_NAME_QUIC);
		flow_finish(e, s, f);
	} else if (st == PKS_TLS_MALFORMED && (f->quic->fatal || f->c2s_copies >= PKS_COPY_FIRST)) {
		/* A datagram that does not authenticate may be anyone's: only the
		 * flow's own malformed Initial, or running out of copies, ends it. */
		count_malformed(e, s, f);
		flow_finish(e, s, f);
	}
}

static void on_http(struct pks_engine *e, struct names_state *s, struct names_flow *f,
		    const struct pks_ctx_event *ev)
{
	struct pks_http_req r;
	int st;

	if (ev->hdr->dir == PKS_DIR_C2S)
		pks_reasm_add(&f->c2s, ev->hdr->seq, ev->data, ev->len);
	st = pks_http_parse_request(pks_reasm_data(&f->c2s), pks_reasm_len(&f->c2s), &r);
	f->refused = st == PKS_TLS_MALFORMED;
	if (st == PKS_TLS_COMPLETE) {
		dns_name_first(e, ev);
		/* "Host: 198.18.0.2" names no one: a DNS name, if any, stays the host. */
		if (r.host[0] && !pks_host_is_ip(r.host) && !pks_engine_flow_name(e, &f->key, r.host, PKS_NAME_HTTP))
			s->named++;
		if (r.user_agent[0])
			pks_engine_flow_agent(e, &f->key, r.user_agent);
		flow_finish(e, s, f);
	} else if (st == PKS_TLS_MALFORMED && failure_is_final(f)) {
		count_malformed(e, s, f);
		flow_finish(e, s, f);
	}
}

static void names_event(struct pks_engine *e, void *state, const struct pks_ctx_event *ev)
{
	struct names_state *s = state;
	const struct pks_event *h = ev->hdr;
	struct names_flow *f;
	enum names_kind kind;

	if (h->type != PKS_EV_PAYLOAD || !ev->len)
		return;
	f = flow_find(s, &h->key);
	/* The state of an earlier flow of the same key (its entry stays after PH_DONE): a new flow starts. */
	if (f && f->first8 != h->first8) {
		flow_retire(e, s, f);
		f = NULL;
	}
	if (f && f->phase == PH_DONE)
		return;
	if (!f) {
		if (h->proto == PKS_P_TLS && h->key.l4 == IPPROTO_TCP)
			kind = K_TLS;
		else if (h->proto == PKS_P_QUIC && h->key.l4 == IPPROTO_UDP)
			kind = K_QUIC;
		else if (h->proto == PKS_P_HTTP && h->key.l4 == IPPROTO_TCP)
			kind = K_HTTP;
		else
			return;
		f = flow_new(e, s, &h->key, kind);
		if (!f)
			return;
		f->first8 = h->first8;
	} else {
		lru_unlink(s, f);
		lru_push(s, f);
	}
	f->last_ns = ev->now;
	if (h->dir == PKS_DIR_C2S) {
		if (f->c2s_copies < UINT8_MAX)
			f->c2s_copies++;
	} else if (f->s2c_copies < UINT8_MAX) {
		f->s2c_copies++;
	}
	if (f->kind != K_QUIC && ev->len < h->payload_len)
		s->cut++; /* the rest of the segment is a gap the stream cannot fill */
	switch (f->kind) {
	case K_TLS:
		on_tls(e, s, f, ev);
		break;
	case K_QUIC:
		on_quic(e, s, f, ev);
		break;
	case K_HTTP:
		on_http(e, s, f, ev);
		break;
	}
}

static void names_tick(struct pks_engine *e, void *state, uint64_t now)
{
	struct names_state *s = state;

	while (s->oldest && s->oldest->last_ns + NAMES_IDLE_NS < now)
		flow_retire(e, s, s->oldest);
}

static int names_init(struct pks_engine *e, void **state)
{
	*state = calloc(1, sizeof(struct names_state));
	return *state ? 0 : -ENOMEM;
}

static void names_fini(struct pks_engine *e, void *state)
{
	struct names_state *s = state;

	while (s->oldest)
		flow_retire(e, s, s->oldest);
	if (pks_verbose)
		fprintf(stderr, "names: %llu named, %llu malformed, %llu evicted, %llu cut copies\n",
			(unsigned long long)s->named, (unsigned long long)s->malformed,
			(unsigned long long)s->evicted, (unsigned long long)s->cut);
	free(s);
}

PKS_CTX_RULE(names, .init = names_init, .fini = names_fini, .event = names_event, .tick = names_tick)
