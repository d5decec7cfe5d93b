// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * Rule 1, SIP/SDP: an offer or answer (INVITE, 200 OK, ACK, UPDATE, PRACK...
 * any SIP message with an SDP body, RFC 3261 13 and RFC 3264) announces where
 * each party receives media: for every RTP m= line, the connection address
 * and port get an expected RTP flow, and port + 1 (or a=rtcp, RFC 3605;
 * none with a=rtcp-mux, RFC 5761) an expected RTCP flow. The sender is
 * unknown (any peer address and port). RTP is symmetric (RFC 4961), so XDP
 * also matches a first datagram sent *from* the announced endpoint.
 *
 * SIP over UDP is one message per datagram (RFC 3261 18.1.1); SIP over TCP
 * is reassembled (ctx_stream.h) and framed by Content-Length (RFC 3261
 * 18.3). Bounds: PKS_SDP_MEDIA_MAX streams per message, PKS_SIP_STREAMS TCP
 * streams of PKS_STREAM_BUF bytes; expectations live in the LRU pks_expect.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pktspec.h"
#include "engine.h"
#include "ctx_parse.h"
#include "ctx_stream.h"
#include "sdp_parse.h"

#define PKS_SIP_STREAMS 128

static int sip_init(struct pks_engine *e, void **state)
{
	struct pks_stream_table *t;
	int err = pks_stream_table_new(PKS_SIP_STREAMS, &t);

	*state = t;
	return err;
}

static void sip_fini(struct pks_engine *e, void *state)
{
	pks_stream_table_free(state);
}

static void expect_media(struct pks_engine *e, const struct pks_flow_key *fk, const struct pks_sdp *sdp, uint16_t rule)
{
	for (int i = 0; i < sdp->n; i++) {
		struct pks_expect_key k = { .l4 = IPPROTO_UDP };

		memcpy(k.listen_addr, sdp->m[i].addr, 16);
		k.listen_port = sdp->m[i].rtp_port;
		pks_engine_expect(e, fk, &k, PKS_P_RTP, rule, 0, 0);
		if (sdp->m[i].rtcp_port) {
			k.listen_port = sdp->m[i].rtcp_port;
			pks_engine_expect(e, fk, &k, PKS_P_RTCP, rule, 0, 0);
		}
	}
}

/* One whole SIP message of flow fk: when its body is SDP, announce the media. */
static void sip_message(struct pks_engine *e, const struct pks_flow_key *fk, const char *msg, size_t head,
			size_t body)
{
	const char *val, *vend;
	struct pks_sdp sdp;

	if (!body)
		return;
	/* Request "METHOD uri SIP/2.0" or status "SIP/2.0 code" (RFC 3261 7.1, 7.2). */
	if (!pks_has_prefix(msg, msg + head, "SIP/2.0 ") && !memmem(msg, pks_line_end(msg, msg + head) - msg, " SIP/2.0", 8))
		return;
	if (pks_msg_header(msg, head, "Content-Type", "c", &val, &vend) ||
	    !pks_has_prefix(val, vend, "application/sdp"))
		return;
	if (pks_sdp_parse(msg + head, body, &sdp) == 0)
		expect_media(e, fk, &sdp, PKS_R_SIP_SDP);
	else
		pks_engine_count_malformed(e);
}

static void sip_udp(struct pks_engine *e, const struct pks_ctx_event *ev)
{
	const char *msg = (const char *)ev->data;
	size_t head, body;

	if (pks_msg_split(msg, ev->len, &head, &body)) {
		pks_engine_count_malformed(e);
		return;
	}
	/* A datagram cut at PKS_SNAP_LEN keeps the part of the body that fits. */
	if (head + body > ev->len)
		body = ev->len - head;
	sip_message(e, &ev->hdr->key, msg, head, body);
}

static void sip_tcp(struct pks_engine *e, struct pks_stream_table *t, const struct pks_ctx_event *ev)
{
	struct pks_stream *st = pks_stream_add(t, ev);

	if (!st)
		return;
	while (st->len) {
		const char *buf = (const char *)st->buf;
		size_t head, body;
		int r;

		if (st->gap) {
			/* Resynchronise on a start line: drop up to the next line start. */
			const char *nl = memchr(buf, '\n', st->len);

			if (!nl) {
				pks_stream_consume(st, st->len);
				return;
			}
			pks_stream_consume(st, nl + 1 - buf);
			st->gap = false;
			continue;
		}
		r = pks_msg_split(buf, st->len, &head, &body);
		if (r == -1 && st->len < PKS_STREAM_BUF)
			return; /* wait for the rest of the head */
		if (r) {
			pks_engine_count_malformed(e);
			pks_stream_consume(st, st->len);
			st->gap = true;
			return;
		}
		if (head + body > st->len) {
			if (st->len < PKS_STREAM_BUF)
				return; /* wait for the body */
			body = st->len - head; /* what fits */
		}
		sip_message(e, &ev->hdr->key, buf, head, body);
		pks_stream_consume(st, head + body);
	}
}

static void sip_event(struct pks_engine *e, void *state, const struct pks_ctx_event *ev)
{
	if (ev->hdr->type != PKS_EV_PAYLOAD || ev->hdr->proto != PKS_P_SIP)
		return;
	if (ev->hdr->key.l4 == IPPROTO_UDP)
		sip_udp(e, ev);
	else
		sip_tcp(e, state, ev);
}

PKS_CTX_RULE(sip, .init = sip_init, .fini = sip_fini, .event = sip_event)
