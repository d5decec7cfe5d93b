/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * HTTP/2 over cleartext TCP with prior knowledge, RFC 9113.
 *  - Client connection preface (3.4): the 24 octets
 *    "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", compared whole.
 *  - Server connection preface (3.4): a SETTINGS frame (6.5) on stream 0
 *    without the ACK flag: 9-octet frame header (4.1) with a length that is a
 *    multiple of 6 and at most the initial SETTINGS_MAX_FRAME_SIZE (16384),
 *    type 0x4, flags 0, stream identifier 0 (six fixed octets). Servers send
 *    it at once, often before the client's preface arrives, so it is taken
 *    as the server's first payload; after the client's preface (cookie) a
 *    SETTINGS acknowledgement (flags 0x1, length 0) confirms as well.
 * The h2c upgrade (RFC 7540 3.2; RFC 9113 3.1 keeps the "h2c" token) ends
 * the same way: after "101 Switching Protocols" (http.h marks the flow) the
 * client sends this preface and the server its SETTINGS; whichever comes
 * first replaces the HTTP verdict (rule http2-upgrade), the other confirms.
 */
#ifndef PKTSPEC_BPF_SIG_HTTP2_H
#define PKTSPEC_BPF_SIG_HTTP2_H

#include "text.h"

#define PKS_H2_PREFACE_LEN 24
#define PKS_H2_FRAME_SETTINGS 0x4
#define PKS_H2_MAX_FRAME 16384

static __always_inline int pks_h2_is_preface(const struct pks_payload *p)
{
	return p->len >= PKS_H2_PREFACE_LEN && pks_be32(p, 0) == PKS_C4('P', 'R', 'I', ' ') &&
	       pks_be32(p, 4) == PKS_C4('*', ' ', 'H', 'T') && pks_be32(p, 8) == PKS_C4('T', 'P', '/', '2') &&
	       pks_be32(p, 12) == PKS_C4('.', '0', '\r', '\n') && pks_be32(p, 16) == PKS_C4('\r', '\n', 'S', 'M') &&
	       pks_be32(p, 20) == PKS_C4('\r', '\n', '\r', '\n');
}

static __always_inline int pks_sig_http2(const struct pks_payload *p, struct pks_match *m)
{
	__u32 len;

	if (pks_h2_is_preface(p)) {
		int upgraded = p->cookie == PKS_HTTP_UPGRADE_COOKIE;

		m->cookie = PKS_TA_COOKIE(PKS_P_HTTP2, 0);
		m->set_cookie = 1;
		m->upgrade = upgraded;
		return pks_match_set(m, PKS_P_HTTP2, upgraded ? PKS_R_HTTP2_UPGRADE : PKS_R_HTTP2_PREFACE,
				     PKS_ROLE_CLIENT);
	}
	if (p->len < 9 || p->b[3] != PKS_H2_FRAME_SETTINGS || pks_be32(p, 5) != 0)
		return 0;
	len = pks_be24(p, 0);
	if (len % 6 || len > PKS_H2_MAX_FRAME)
		return 0;
	if (PKS_TA_COOKIE_IS(p->cookie, PKS_P_HTTP2)) {
		if (p->b[4] != 0 && !(p->b[4] == 1 && len == 0))
			return 0;
	} else if (p->cookie == PKS_HTTP_UPGRADE_COOKIE && p->b[4] == 0) {
		/* h2c: the server's preface right after its 101 (RFC 7540 3.2). */
		m->cookie = PKS_TA_COOKIE(PKS_P_HTTP2, 0);
		m->set_cookie = 1;
		m->upgrade = 1;
		return pks_match_set(m, PKS_P_HTTP2, PKS_R_HTTP2_UPGRADE, PKS_ROLE_SERVER);
	} else if (p->nth != 0 || p->b[4] != 0) {
		return 0;
	}
	return pks_match_set(m, PKS_P_HTTP2, PKS_R_HTTP2_SETTINGS, PKS_ROLE_SERVER);
}

#endif
