/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * STOMP 1.0, 1.1 and 1.2 (stomp.github.io STOMP 1.2 "Frames and Headers",
 * "Connecting", "CONNECTED Frame", "ERROR").
 *  - A frame is a command line, header lines "name:value", a blank line and
 *    a body ended by NUL. Lines end with LF or CRLF.
 *  - The client opens with CONNECT or STOMP; the line must end right after
 *    the command (an HTTP CONNECT has a space and a target) and be followed
 *    by a header name and ':' or by the blank line.
 *  - The server answers CONNECTED (or ERROR) in the same shape; taken only
 *    after a CONNECT of ours, it confirms.
 */
#ifndef PKTSPEC_BPF_SIG_STOMP_H
#define PKTSPEC_BPF_SIG_STOMP_H

#include "sig.h"
#include "bytes.h"

#define PKS_STOMP_HDR_NAME_MAX 20 /* accept-version, heart-beat, ... are shorter */

/* At off: end of the command line, then a "name:" header or the blank line. Branch-free loop (bytes.h). */
static __always_inline int pks_stomp_after_command(const struct pks_payload *p, __u32 off)
{
	__u64 alive = 1, found = 0;
	__u32 i;

	if (p->b[off & PKS_WIN_MASK] == '\r')
		off++;
	if (p->b[off & PKS_WIN_MASK] != '\n')
		return 0;
	off++;
	if (p->b[off & PKS_WIN_MASK] == '\n' || (p->b[off & PKS_WIN_MASK] == '\r' && p->b[(off + 1) & PKS_WIN_MASK] == '\n'))
		return 1;
	for (i = 0; i < PKS_STOMP_HDR_NAME_MAX; i++) {
		__u32 c = p->b[(off + i) & PKS_WIN_MASK];
		__u64 name = pks_in_range(c | 0x20, 'a', 'z') | pks_in_range(c, '0', '9') | pks_is(c, '-') | pks_is(c, '_');

		alive &= pks_lt(off + i, p->len);
		found |= alive & pks_is(c, ':') & pks_lt(0, i);
		alive &= name;
	}
	return found != 0;
}

static __always_inline int pks_sig_stomp(const struct pks_payload *p, struct pks_match *m)
{
	__u32 w;

	if (p->l4 != IPPROTO_TCP || p->len < 8)
		return 0;
	w = pks_be32(p, 0);
	if (w == PKS_C4('C', 'O', 'N', 'N') && pks_be16(p, 4) == ('E' << 8 | 'C') && p->b[6] == 'T') {
		if (p->b[7] == 'E' && p->b[8] == 'D') {
			if (PKS_COOKIE_TAG(p->cookie) == PKS_TAG_STOMP && pks_stomp_after_command(p, 9))
				return pks_match_set(m, PKS_P_STOMP, PKS_R_STOMP_CONNECTED, PKS_ROLE_SERVER);
			return 0;
		}
		if (!pks_stomp_after_command(p, 7))
			return 0;
	} else if (w == PKS_C4('S', 'T', 'O', 'M') && p->b[4] == 'P') {
		if (!pks_stomp_after_command(p, 5))
			return 0;
	} else if (w == PKS_C4('E', 'R', 'R', 'O') && p->b[4] == 'R') {
		if (PKS_COOKIE_TAG(p->cookie) == PKS_TAG_STOMP && pks_stomp_after_command(p, 5))
			return pks_match_set(m, PKS_P_STOMP, PKS_R_STOMP_CONNECTED, PKS_ROLE_SERVER);
		return 0;
	} else {
		return 0;
	}
	m->cookie = PKS_TAG_COOKIE(PKS_TAG_STOMP, 0);
	m->set_cookie = 1;
	return pks_match_set(m, PKS_P_STOMP, PKS_R_STOMP_CONNECT, PKS_ROLE_CLIENT);
}

#endif
