/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * HTTP/1.x, RFC 9112.
 *  - request-line = method SP request-target SP HTTP-version (section 3). The
 *    method must be a registered one (RFC 9110 9.1, RFC 4918 for WebDAV) and
 *    the target must start like origin-form "/", asterisk-form "*" or
 *    absolute-form "http". CONNECT with authority-form is a proxy tunnel.
 *  - status-line = HTTP-version SP status-code SP (section 4), 3 digits.
 * Random bytes reach neither: a 4..9 byte token, a space and a target start.
 * A status line answering a CONNECT (cookie) is the proxy's: it confirms
 * "http-proxy" (RFC 9110 9.3.6: 2xx means the tunnel is up).
 * A 101 (Switching Protocols) announces an upgrade: the flow stays open so
 * that the explicit upgrade rules (http2.h for h2c, websocket.h) can replace
 * the HTTP verdict with what the connection switched to.
 */
#ifndef PKTSPEC_BPF_SIG_HTTP_H
#define PKTSPEC_BPF_SIG_HTTP_H

#include "sig.h"
#include "text.h"

/* Length of the method at the start of the window including its SP, or 0. */
static __always_inline __u32 pks_http_method_len(const struct pks_payload *p)
{
	__u32 w = pks_be32(p, 0);

	switch (w) {
	case PKS_C4('G', 'E', 'T', ' '):
	case PKS_C4('P', 'U', 'T', ' '):
		return 4;
	case PKS_C4('P', 'O', 'S', 'T'):
	case PKS_C4('H', 'E', 'A', 'D'):
	case PKS_C4('M', 'O', 'V', 'E'):
	case PKS_C4('C', 'O', 'P', 'Y'):
	case PKS_C4('L', 'O', 'C', 'K'):
		return p->b[4] == ' ' ? 5 : 0;
	case PKS_C4('P', 'A', 'T', 'C'): /* PATCH */
		return p->b[4] == 'H' && p->b[5] == ' ' ? 6 : 0;
	case PKS_C4('T', 'R', 'A', 'C'): /* TRACE */
		return p->b[4] == 'E' && p->b[5] == ' ' ? 6 : 0;
	case PKS_C4('M', 'K', 'C', 'O'): /* MKCOL */
		return p->b[4] == 'L' && p->b[5] == ' ' ? 6 : 0;
	case PKS_C4('D', 'E', 'L', 'E'): /* DELETE */
		return pks_be16(p, 4) == ('T' << 8 | 'E') && p->b[6] == ' ' ? 7 : 0;
	case PKS_C4('U', 'N', 'L', 'O'): /* UNLOCK */
		return pks_be16(p, 4) == ('C' << 8 | 'K') && p->b[6] == ' ' ? 7 : 0;
	case PKS_C4('R', 'E', 'P', 'O'): /* REPORT */
		return pks_be16(p, 4) == ('R' << 8 | 'T') && p->b[6] == ' ' ? 7 : 0;
	case PKS_C4('S', 'E', 'A', 'R'): /* SEARCH */
		return pks_be16(p, 4) == ('C' << 8 | 'H') && p->b[6] == ' ' ? 7 : 0;
	case PKS_C4('O', 'P', 'T', 'I'): /* OPTIONS */
		return pks_be32(p, 4) == PKS_C4('O', 'N', 'S', ' ') ? 8 : 0;
	case PKS_C4('C', 'O', 'N', 'N'): /* CONNECT */
		return pks_be32(p, 4) == PKS_C4('E', 'C', 'T', ' ') ? 8 : 0;
	case PKS_C4('P', 'R', 'O', 'P'): /* PROPFIND, PROPPATCH */
		if (pks_be32(p, 4) == PKS_C4('F', 'I', 'N', 'D') && p->b[8] == ' ')
			return 9;
		if (pks_be32(p, 4) == PKS_C4('P', 'A', 'T', 'C') && p->b[8] == 'H' && p->b[9] == ' ')
			return 10;
		return 0;
	}
	return 0;
}

static __always_inline int pks_sig_http(const struct pks_payload *p, struct pks_match *m)
{
	__u32 n;
	__u8 t;

	if (p->l4 != IPPROTO_TCP || p->len < 10)
		return 0;

	/* Status line: "HTTP/1.0 200 " or "HTTP/1.1 200 ". */
	if (pks_be32(p, 0) == PKS_C4('H', 'T', 'T', 'P') && p->b[4] == '/' && p->b[5] == '1' && p->b[6] == '.' &&
	    (p->b[7] == '0' || p->b[7] == '1') && p->b[8] == ' ' && p->b[9] >= '1' && p->b[9] <= '5' &&
	    pks_is_digit(p->b[10]) && pks_is_digit(p->b[11])) {
		if (PKS_TA_COOKIE_IS(p->cookie, PKS_P_HTTP_PROXY))
			return pks_match_set(m, PKS_P_HTTP_PROXY, PKS_R_HTTP_PROXY_RESPONSE, PKS_ROLE_SERVER);
		if (p->b[9] == '1' && p->b[10] == '0' && p->b[11] == '1') {
			/* 101 Switching Protocols (RFC 9110 15.2.2): h2c or WebSocket follows. */
			m->cookie = PKS_HTTP_UPGRADE_COOKIE;
			m->set_cookie = 1;
			m->await_upgrade = 1;
		}
		return pks_match_set(m, PKS_P_HTTP, PKS_R_HTTP_RESPONSE, PKS_ROLE_SERVER);
	}

	n = pks_http_method_len(p);
	if (!n || n + 1 > p->len)
		return 0;
	t = p->b[n & PKS_WIN_MASK];
	if (n == 8 && p->b[0] == 'C') {
		/* CONNECT host:port: authority-form (RFC 9110 9.3.6). */
		if (pks_is_digit(t) || (t >= 'a' && t <= 'z') || pks_is_upper(t) || t == '[') {
			m->cookie = PKS_TA_COOKIE(PKS_P_HTTP_PROXY, 0);
			m->set_cookie = 1;
			return pks_match_set(m, PKS_P_HTTP_PROXY, PKS_R_HTTP_REQUEST, PKS_ROLE_CLIENT);
		}
		return 0;
	}
	if (t == 'h') {
		/* absolute-form "http://" or "https://", as sent to proxies. */
		__u8 c = p->b[(n + 4) & PKS_WIN_MASK];

		if (pks_be32(p, n) == PKS_C4('h', 't', 't', 'p') && (c == ':' || c == 's'))
			return pks_match_set(m, PKS_P_HTTP, PKS_R_HTTP_REQUEST, PKS_ROLE_CLIENT);
		return 0;
	}
	if (t == '/' || t == '*')
		return pks_match_set(m, PKS_P_HTTP, PKS_R_HTTP_REQUEST, PKS_ROLE_CLIENT);
	return 0;
}

#endif
