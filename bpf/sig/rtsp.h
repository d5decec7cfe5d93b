/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * RTSP, RFC 2326 (1.0) and RFC 7826 (2.0).
 *  - Request-Line (RFC 2326 6.1): Method SP Request-URI SP RTSP-Version.
 *    The method is an upper-case token (OPTIONS, DESCRIBE, SETUP, PLAY,
 *    GET_PARAMETER, ...) and the URI an absolute "rtsp://", "rtsps://" or
 *    "rtspu://" URL (3.2). "OPTIONS * RTSP/1.0" has an HTTP-like shape and is
 *    left to the HTTP signature, which runs first.
 *  - Status-Line (7.1): "RTSP/1.0 " or "RTSP/2.0 " and a three-digit code.
 * The response confirms the request (roles differ).
 */
#ifndef PKTSPEC_BPF_SIG_RTSP_H
#define PKTSPEC_BPF_SIG_RTSP_H

#include "text.h"

#define PKS_RTSP_METHOD_MAX 13 /* "SET_PARAMETER" */

static __always_inline int pks_sig_rtsp(const struct pks_payload *p, struct pks_match *m)
{
	__u32 i, n = 0, u;

	if (p->len < 13)
		return 0;
	if (pks_be32(p, 0) == PKS_C4('R', 'T', 'S', 'P') && p->b[4] == '/' && (p->b[5] == '1' || p->b[5] == '2') &&
	    p->b[6] == '.' && p->b[7] == '0' && p->b[8] == ' ' && p->b[9] >= '1' && p->b[9] <= '5' &&
	    pks_is_digit(p->b[10]) && pks_is_digit(p->b[11]) && (p->b[12] == ' ' || p->b[12] == '\r'))
		return pks_match_set(m, PKS_P_RTSP, PKS_R_RTSP_RESPONSE, PKS_ROLE_SERVER);

	for (i = 0; i <= PKS_RTSP_METHOD_MAX; i++) {
		__u8 c = p->b[i];

		if (c == ' ') {
			n = i;
			break;
		}
		if (!pks_is_upper(c) && c != '_')
			return 0;
	}
	if (n < 4)
		return 0;
	u = n + 1;
	if (pks_be32(p, u) != PKS_C4('r', 't', 's', 'p'))
		return 0;
	u += 4;
	if (p->b[u & PKS_WIN_MASK] == 's' || p->b[u & PKS_WIN_MASK] == 'u')
		u++;
	if (p->b[u & PKS_WIN_MASK] != ':' || p->b[(u + 1) & PKS_WIN_MASK] != '/' || p->b[(u + 2) & PKS_WIN_MASK] != '/')
		return 0;
	return pks_match_set(m, PKS_P_RTSP, PKS_R_RTSP_REQUEST, PKS_ROLE_CLIENT);
}

#endif
