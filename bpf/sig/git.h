/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * The git daemon protocol, git's gitprotocol-pack(5) "Git Transport" and
 * gitprotocol-common(5) "pkt-line Format".
 *  - The client's request is one pkt-line: four lower-case hex digits giving
 *    the line length including themselves (the whole segment), then
 *    "git-upload-pack ", "git-receive-pack " or "git-upload-archive ", a
 *    path starting with "/" or "~", a NUL and "host=...".
 *  - The server answers with pkt-lines: a reference advertisement (40 hex
 *    digits of an object name then SP), "version 2" (gitprotocol-v2(5)),
 *    or "ERR ". Taken after the request (cookie), it confirms.
 */
#ifndef PKTSPEC_BPF_SIG_GIT_H
#define PKTSPEC_BPF_SIG_GIT_H

#include "text.h"

#define PKS_GIT_SHA_CHECK 16 /* hex digits of the first object name checked */

static __always_inline int pks_hex_val(__u8 c)
{
	if (pks_is_digit(c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* The 4-hex-digit pkt-line length at the start of the window, or -1. */
static __always_inline int pks_pkt_line_len(const struct pks_payload *p)
{
	int a = pks_hex_val(p->b[0]), b = pks_hex_val(p->b[1]), c = pks_hex_val(p->b[2]), d = pks_hex_val(p->b[3]);

	if (a < 0 || b < 0 || c < 0 || d < 0)
		return -1;
	return a << 12 | b << 8 | c << 4 | d;
}

static __always_inline int pks_sig_git(const struct pks_payload *p, struct pks_match *m)
{
	int len = pks_pkt_line_len(p);
	__u32 i, path;

	if (len < 0 || p->len < 8)
		return 0;
	if (pks_be32(p, 4) == PKS_C4('g', 'i', 't', '-')) {
		if ((__u32)len != p->total || p->len < 24)
			return 0;
		if (pks_be32(p, 8) == PKS_C4('u', 'p', 'l', 'o') && pks_be32(p, 12) == PKS_C4('a', 'd', '-', 'p') &&
		    pks_be32(p, 16) == PKS_C4('a', 'c', 'k', ' '))
			path = 20;
		else if (pks_be32(p, 8) == PKS_C4('r', 'e', 'c', 'e') && pks_be32(p, 12) == PKS_C4('i', 'v', 'e', '-') &&
			 pks_be32(p, 16) == PKS_C4('p', 'a', 'c', 'k') && p->b[20] == ' ')
			path = 21;
		else if (pks_be32(p, 8) == PKS_C4('u', 'p', 'l', 'o') && pks_be32(p, 12) == PKS_C4('a', 'd', '-', 'a') &&
			 pks_be32(p, 16) == PKS_C4('r', 'c', 'h', 'i') && pks_be24(p, 20) == PKS_C4(0, 'v', 'e', ' '))
			path = 23;
		else
			return 0;
		if (p->b[path] != '/' && p->b[path] != '~')
			return 0;
		m->cookie = PKS_TA_COOKIE(PKS_P_GIT, 0);
		m->set_cookie = 1;
		return pks_match_set(m, PKS_P_GIT, PKS_R_GIT_REQUEST, PKS_ROLE_CLIENT);
	}
	if (!PKS_TA_COOKIE_IS(p->cookie, PKS_P_GIT) || len < 8)
		return 0;
	if (pks_be32(p, 4) == PKS_C4('v', 'e', 'r', 's') || pks_be32(p, 4) == PKS_C4('E', 'R', 'R', ' '))
		return pks_match_set(m, PKS_P_GIT, PKS_R_GIT_ADVERTISEMENT, PKS_ROLE_SERVER);
	if (len < 4 + 40 + 1)
		return 0;
	for (i = 0; i < PKS_GIT_SHA_CHECK; i++)
		if (pks_hex_val(p->b[4 + i]) < 0)
			return 0;
	return pks_match_set(m, PKS_P_GIT, PKS_R_GIT_ADVERTISEMENT, PKS_ROLE_SERVER);
}

#endif
