/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * SOCKS proxies.
 *  - SOCKS 5, RFC 1928 3: the client's first message is VER 5, NMETHODS
 *    1..255 and exactly NMETHODS method octets (the message is the whole
 *    segment). Methods are IANA-assigned 0x00..0x09 or private 0x80..0xFE;
 *    0xFF means "no acceptable method" and is only ever a server's answer.
 *    Three octets are little evidence (random segments of three octets
 *    passed once in a few hundred thousand), so the greeting must be the
 *    first payload its side sends (3: the client "connects ... and sends"
 *    it) and offer at least one IANA-assigned method: a client offering
 *    only private ones can speak to no standard server.
 *    The server answers VER 5 and one METHOD, two octets in all (3).
 *  - SOCKS 4 ("SOCKS: A protocol for TCP proxy across firewalls", Ying-Da
 *    Lee) and 4A: VN 4, CD 1 (CONNECT) or 2 (BIND), DSTPORT, DSTIP, a
 *    printable USERID and NUL; 4A puts 0.0.0.x (x != 0) in DSTIP and a
 *    host name and NUL after the USERID. The reply is 8 octets: VN 0 and
 *    CD 90..93.
 * A reply is taken only after the request (cookie), and confirms.
 */
#ifndef PKTSPEC_BPF_SIG_SOCKS_H
#define PKTSPEC_BPF_SIG_SOCKS_H

#include "text.h"

#define PKS_SOCKS4_USERID_MAX 40 /* the USERID bytes checked for printable, within the window */

static __always_inline int pks_socks5_method_ok(__u8 m)
{
	return m <= 0x09 || (m >= 0x80 && m != 0xff);
}

static __always_inline int pks_socks5_greeting(const struct pks_payload *p)
{
	__u32 n = p->b[1], i;

	__u32 iana = 0;

	if (p->b[0] != 5 || n == 0 || p->total != 2 + n || p->nth != 0)
		return 0;
	for (i = 0; i < PKS_WIN - 2; i++) {
		__u8 m;

		if (i >= n)
			break;
		m = p->b[(2 + i) & PKS_WIN_MASK];
		if (!pks_socks5_method_ok(m))
			return 0;
		iana |= m <= 0x09;
	}
	return iana;
}

static __always_inline int pks_socks4_request(const struct pks_payload *p)
{
	__u32 i, end = 0;

	if (p->b[0] != 4 || (p->b[1] != 1 && p->b[1] != 2) || p->total < 9 || pks_be16(p, 2) == 0)
		return 0;
	/* The request is one segment ending in NUL; the USERID before it is printable. */
	if (p->total > PKS_WIN || p->b[(p->total - 1) & PKS_WIN_MASK] != 0)
		return 0;
	for (i = 0; i < PKS_SOCKS4_USERID_MAX; i++) {
		__u8 c = p->b[(8 + i) & PKS_WIN_MASK];

		if (8 + i >= p->len)
			return 0;
		if (c == 0) {
			end = 8 + i;
			break;
		}
		if (!pks_is_print(c))
			return 0;
	}
	if (!end)
		return 0;
	if (pks_be32(p, 4) > 0 && pks_be32(p, 4) < 256) /* 4A: host name follows */
		return end + 2 < p->total && pks_is_print(p->b[(end + 1) & PKS_WIN_MASK]);
	return end + 1 == p->total && pks_be32(p, 4) != 0;
}

static __always_inline int pks_sig_socks(const struct pks_payload *p, struct pks_match *m)
{
	if (p->len < 2)
		return 0;
	if (pks_socks5_greeting(p)) {
		m->cookie = PKS_TA_COOKIE(PKS_P_SOCKS, 5);
		m->set_cookie = 1;
		return pks_match_set(m, PKS_P_SOCKS, PKS_R_SOCKS5_GREETING, PKS_ROLE_CLIENT);
	}
	if (pks_socks4_request(p)) {
		m->cookie = PKS_TA_COOKIE(PKS_P_SOCKS, 4);
		m->set_cookie = 1;
		return pks_match_set(m, PKS_P_SOCKS, PKS_R_SOCKS4_REQUEST, PKS_ROLE_CLIENT);
	}
	if (p->cookie == PKS_TA_COOKIE(PKS_P_SOCKS, 5) && p->total == 2 && p->b[0] == 5 &&
	    (pks_socks5_method_ok(p->b[1]) || p->b[1] == 0xff))
		return pks_match_set(m, PKS_P_SOCKS, PKS_R_SOCKS5_METHOD, PKS_ROLE_SERVER);
	if (p->cookie == PKS_TA_COOKIE(PKS_P_SOCKS, 4) && p->total == 8 && p->b[0] == 0 && p->b[1] >= 90 &&
	    p->b[1] <= 93)
		return pks_match_set(m, PKS_P_SOCKS, PKS_R_SOCKS4_REPLY, PKS_ROLE_SERVER);
	return 0;
}

#endif
