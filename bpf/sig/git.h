/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * The git daemon protocol, git's gitprotocol-pack(5) "Git Transport" and
 * gitprotocol-common(5) "pkt-line Format".
 *  - The client's request is one pkt-line: four lower-case hex digits giving
 *    the line length including themselves (the whole segment), then
 *    "git-upload-pack ", "git-receive-pack " or "git-upload-archive ", a
 *    path starting with "/" or "~", a NUL and "host=...".
 *    git's client writes the four length digits in a segment of their own
 *    and the rest in the next, so a later client segment that starts with
 *    the service name, SP and the path is the same request.
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

/* Offset of the path after a service name at off ("git-upload-pack " ...), or 0. */
static __always_inline __u32 pks_git_service(const struct pks_payload *p, __u32 off)
{
	if (pks_be32(p, off) != PKS_C4('g', 'i', 't', '-'))
		return 0;
	if (pks_be32(p, off + 4) == PKS_C4('u', 'p', 'l', 'o') && pks_be32(p, off + 8) == PKS_C4('a', 'd', '-', 'p') &&
	    pks_be32(p, off + 12) == PKS_C4('a', 'c', 'k', ' '))
		return off + 16;
	if (pks_be32(p, off + 4) == PKS_C4('r', 'e', 'c', 'e') && pks_be32(p, off + 8) == PKS_C4('i', 'v', 'e', '-') &&
	    pks_be32(p, off + 12) == PKS_C4('p', 'a', 'c', 'k') && p->b[(off + 16) & PKS_WIN_MASK] == ' ')
		return off + 17;
	if (pks_be32(p, off + 4) == PKS_C4('u', 'p', 'l', 'o') && pks_be32(p, off + 8) == PKS_C4('a', 'd', '-', 'a') &&
	    pks_be32(p, off + 12) == PKS_C4('r', 'c', 'h', 'i') && pks_be24(p, off + 16) == PKS_C4(0, 'v', 'e', ' '))
		return off + 19;
	return 0;
}

static __always_inline int pks_sig_git(const struct pks_payload *p, struct pks_match *m)
{
	int len = pks_pkt_line_len(p);
	__u32 i, path = 0;

	/* The request's body in a segment after its length digits. */
	if (p->nth > 0 && p->len >= 20)
		path = pks_git_service(p, 0);
	if (path) {
		if (p->b[path & PKS_WIN_MASK] != '/' && p->b[path & PKS_WIN_MASK] != '~')
			return 0;
		m->cookie = PKS_TA_COOKIE(PKS_P_GIT, 0);
		m->set_cookie = 1;
		return pks_match_set(m, PKS_P_GIT, PKS_R_GIT_REQUEST, PKS_ROLE_CLIENT);
	}

	if (len < 0 || p->len < 8)
		return 0;
	if (pks_be32(p, 4) == PKS_C4('g', 'i', 't', '-')) {
		if ((__u32)len != p->total || p->len < 24)
			return 0;
		path = pks_git_service(p, 4);
		if (!path || (p->b[path & PKS_WIN_MASK] != '/' && p->b[path & PKS_WIN_MASK] != '~'))
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
