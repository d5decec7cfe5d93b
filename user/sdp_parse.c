// SPDX-License-Identifier: MIT OR Apache-2.0
/* SDP media and SIP/RTSP message framing for the expected-flow rules. */
#include <arpa/inet.h>
#include <string.h>

#include "engine.h"
#include "ctx_parse.h"
#include "sdp_parse.h"

/* "IN IP4 a.b.c.d[/ttl[/n]]" or "IN IP6 addr[/n]" (RFC 4566 5.7). */
static int parse_conn(const char *s, const char *e, uint8_t addr[16])
{
	char buf[INET6_ADDRSTRLEN];
	const char *a;
	size_t n;
	int v6;

	if (pks_has_prefix(s, e, "IN IP4 "))
		v6 = 0;
	else if (pks_has_prefix(s, e, "IN IP6 "))
		v6 = 1;
	else
		return -1;
	a = pks_skip_space(s + 7, e);
	for (n = 0; a + n < e && a[n] != '/' && a[n] != ' '; n++)
		;
	if (!n || n >= sizeof(buf))
		return -1;
	memcpy(buf, a, n);
	buf[n] = 0;
	if (v6)
		return inet_pton(AF_INET6, buf, addr) == 1 ? 0 : -1;
	{
		struct in_addr a4;

		if (inet_pton(AF_INET, buf, &a4) != 1)
			return -1;
		pks_addr_v4mapped(addr, a4.s_addr);
	}
	return 0;
}

static int addr_unspecified(const uint8_t a[16])
{
	static const uint8_t zero[16], v4zero[16] = { [10] = 0xff, [11] = 0xff };

	return !memcmp(a, zero, 16) || !memcmp(a, v4zero, 16);
}

int pks_sdp_parse(const char *body, size_t len, struct pks_sdp *out)
{
	uint8_t session[16] = {};
	int have_session = 0, cur = -1, cur_has_c = 0;

	memset(out, 0, sizeof(*out));
	pks_for_each_line(body, len, s, e)
	{
		if (e - s < 2 || s[1] != '=')
			continue;
		if (s[0] == 'c') {
			uint8_t a[16];

			if (parse_conn(s + 2, e, a))
				continue;
			if (cur < 0) {
				memcpy(session, a, 16);
				have_session = 1;
			} else if (cur < out->n) {
				memcpy(out->m[cur].addr, a, 16);
				cur_has_c = 1;
			}
		} else if (s[0] == 'm') {
			/* m=<media> <port>[/<number of ports>] <proto> <fmt> ... */
			const char *p = memchr(s, ' ', e - s);
			unsigned long port;
			const char *proto;

			if (cur >= 0 && cur < out->n && !cur_has_c) {
				if (!have_session)
					out->n--; /* no address for the previous stream */
				else
					memcpy(out->m[cur].addr, session, 16);
			}
			cur = out->n;
			cur_has_c = 0;
			if (!p || pks_parse_dec(&(const char *){ p + 1 }, e, 65535, &port)) {
				out->skipped++;
				cur = PKS_SDP_MEDIA_MAX + 1;
				continue;
			}
			proto = memchr(p + 1, ' ', e - p - 1);
			/* RTP over UDP: RTP/AVP, RTP/SAVP, RTP/AVPF, RTP/SAVPF, UDP/TLS/RTP/SAVPF. */
			if (!port || !proto || out->n >= PKS_SDP_MEDIA_MAX ||
			    !(pks_has_prefix(proto + 1, e, "RTP/") || pks_has_prefix(proto + 1, e, "UDP/TLS/RTP/"))) {
				out->skipped++;
				cur = PKS_SDP_MEDIA_MAX + 1;
				continue;
			}
			out->m[out->n].rtp_port = (uint16_t)port;
			/* RFC 3550 11: RTCP on the next higher port, unless said otherwise. */
			out->m[out->n].rtcp_port = port < 65535 ? (uint16_t)(port + 1) : 0;
			out->n++;
		} else if (s[0] == 'a' && cur >= 0 && cur < out->n) {
			unsigned long port;
			const char *p = s + 2;

			if (pks_has_prefix(p, e, "rtcp-mux")) {
				out->m[cur].rtcp_port = 0;
			} else if (pks_has_prefix(p, e, "rtcp:")) {
				p += 5;
				if (!pks_parse_dec(&p, e, 65535, &port) && port)
					out->m[cur].rtcp_port = (uint16_t)port;
			}
		}
	}
	if (cur >= 0 && cur < out->n && !cur_has_c) {
		if (!have_session)
			out->n--;
		else
			memcpy(out->m[cur].addr, session, 16);
	}
	/* On hold (0.0.0.0, RFC 3264 8.4) announces nothing. */
	for (int i = 0; i < out->n; i++) {
		if (addr_unspecified(out->m[i].addr)) {
			out->m[i] = out->m[--out->n];
			out->skipped++;
			i--;
		}
	}
	return out->n ? 0 : -1;
}

int pks_msg_split(const char *buf, size_t len, size_t *head, size_t *body)
{
	const char *end = buf + len, *val, *vend;
	size_t h = 0;
	unsigned long cl = 0;

	/* The head ends at the first empty line (RFC 3261 7, RFC 2326 4). */
	for (const char *p = buf; p < end; p++) {
		if (*p != '\n')
			continue;
		if (p + 1 < end && p[1] == '\n') {
			h = p + 2 - buf;
			break;
		}
		if (p + 2 < end && p[1] == '\r' && p[2] == '\n') {
			h = p + 3 - buf;
			break;
		}
	}
	if (!h)
		return -1;
	if (!pks_msg_header(buf, h, "Content-Length", "l", &val, &vend)) {
		val = pks_skip_space(val, vend);
		if (pks_parse_dec(&val, vend, 1u << 20, &cl))
			return -2;
	}
	*head = h;
	*body = cl;
	return 0;
}

int pks_msg_header(const char *head, size_t len, const char *name, const char *compact, const char **val,
		   const char **vend)
{
	int first = 1;

	pks_for_each_line(head, len, s, e)
	{
		const char *colon;
		size_t n;

		if (first) { /* the start line */
			first = 0;
			continue;
		}
		colon = memchr(s, ':', e - s);
		if (!colon)
			continue;
		n = colon - s;
		while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
			n--;
		if ((n == strlen(name) && !strncasecmp(s, name, n)) ||
		    (compact && n == strlen(compact) && !strncasecmp(s, compact, n))) {
			*val = pks_skip_space(colon + 1, e);
			*vend = e;
			return 0;
		}
	}
	return -1;
}
