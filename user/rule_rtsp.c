// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * Rule 1, RTSP: the reply to SETUP carries the Transport header (RFC 2326
 * 12.39, RFC 7826 18.54) with the ports both sides chose:
 *     Transport: RTP/AVP;unicast;client_port=4588-4589;server_port=6256-6257
 * The RTP flow runs between client_port and server_port, RTCP between the
 * second ports (or each port + 1), over UDP; `source=` names another server
 * address, `destination=` another client address. Each gets an expectation
 * keyed on the client end with the server address as peer (any peer port, so
 * that either side may send first). Interleaved transport (RTP inside the
 * RTSP connection) announces no flow. Replies are read one per segment: the
 * Transport header sits in the first segment of a SETUP reply.
 */
#include <arpa/inet.h>
#include <string.h>

#include "pktspec.h"
#include "engine.h"
#include "ctx_parse.h"
#include "sdp_parse.h"

/* "name=a[-b]" in a Transport parameter list [s, e). */
static int port_pair(const char *s, const char *e, const char *name, uint16_t *a, uint16_t *b)
{
	size_t n = strlen(name);

	for (const char *p = s; p < e; p++) {
		unsigned long x, y;

		if ((p == s || p[-1] == ';') && (size_t)(e - p) > n && !strncasecmp(p, name, n) && p[n] == '=') {
			p += n + 1;
			if (pks_parse_dec(&p, e, 65535, &x) || !x)
				return -1;
			*a = (uint16_t)x;
			*b = x < 65535 ? (uint16_t)(x + 1) : 0;
			if (p < e && *p == '-') {
				p++;
				if (pks_parse_dec(&p, e, 65535, &y) || !y)
					return -1;
				*b = (uint16_t)y;
			}
			return 0;
		}
	}
	return -1;
}

/* "name=address" in a Transport parameter list. */
static int param_addr(const char *s, const char *e, const char *name, uint8_t addr[16])
{
	size_t n = strlen(name);

	for (const char *p = s; p < e; p++) {
		if ((p == s || p[-1] == ';') && (size_t)(e - p) > n && !strncasecmp(p, name, n) && p[n] == '=') {
			char buf[INET6_ADDRSTRLEN];
			const char *v = p + n + 1, *end = v;
			struct in_addr a4;

			while (end < e && *end != ';' && *end != ',')
				end++;
			if (end - v <= 0 || (size_t)(end - v) >= sizeof(buf))
				return -1;
			memcpy(buf, v, end - v);
			buf[end - v] = 0;
			if (inet_pton(AF_INET6, buf, addr) == 1)
				return 0;
			if (inet_pton(AF_INET, buf, &a4) != 1)
				return -1;
			pks_addr_v4mapped(addr, a4.s_addr);
			return 0;
		}
	}
	return -1;
}

static void rtsp_event(struct pks_engine *e, void *state, const struct pks_ctx_event *ev)
{
	const char *msg = (const char *)ev->data, *val, *vend, *end;
	size_t head, body;
	uint16_t crtp, crtcp, srtp, srtcp;
	uint8_t client[16], server[16];
	struct pks_expect_key k = { .l4 = IPPROTO_UDP };

	if (ev->hdr->type != PKS_EV_PAYLOAD || ev->hdr->proto != PKS_P_RTSP || ev->hdr->dir != PKS_DIR_S2C)
		return;
	if (!pks_has_prefix(msg, msg + ev->len, "RTSP/"))
		return;
	if (pks_msg_split(msg, ev->len, &head, &body) || pks_msg_header(msg, head, "Transport", NULL, &val, &vend))
		return;
	/* The first transport spec (RFC 2326 12.39: a reply carries the one chosen). */
	end = memchr(val, ',', vend - val);
	if (!end)
		end = vend;
	if (!pks_has_prefix(val, end, "RTP/AVP") || memmem(val, end - val, "interleaved=", 12) ||
	    memmem(val, end - val, "RTP/AVP/TCP", 11))
		return;
	if (port_pair(val, end, "client_port", &crtp, &crtcp) || port_pair(val, end, "server_port", &srtp, &srtcp)) {
		pks_engine_count_malformed(e);
		return;
	}
	memcpy(client, ev->client_addr, 16);
	memcpy(server, ev->server_addr, 16);
	param_addr(val, end, "destination", client);
	param_addr(val, end, "source", server);
	memcpy(k.listen_addr, client, 16);
	memcpy(k.peer_addr, server, 16);
	k.listen_port = crtp;
	pks_engine_expect(e, &ev->hdr->key, &k, PKS_P_RTP, PKS_R_RTSP_TRANSPORT, 0, 0);
	if (crtcp) {
		k.listen_port = crtcp;
		pks_engine_expect(e, &ev->hdr->key, &k, PKS_P_RTCP, PKS_R_RTSP_TRANSPORT, 0, 0);
	}
	(void)srtp;
	(void)srtcp;
}

PKS_CTX_RULE(rtsp, .event = rtsp_event)
