/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * RDP connection initiation, MS-RDPBCGR 2.2.1.1 and 2.2.1.2.
 *  - TPKT (RFC 1006 6): version 3, reserved 0, a 16-bit length covering the
 *    whole TPDU; the first message is one segment, so it equals the payload.
 *  - X.224 (ISO 8073 13.3, 13.4): length indicator = TPKT length - 5, then
 *    Connection Request 0xE0 (client) or Connection Confirm 0xD0 (server),
 *    a zero DST-REF in the request, and class 0.
 *  - What follows separates RDP from other ISO-over-TCP users (S7comm and
 *    other COTP peers carry TSAP parameters 0xC0..0xC2 there): nothing at all,
 *    the routing cookie "Cookie: mstshash=" or routing token "Cookie: msts="
 *    (2.2.1.1), or an RDP_NEG_REQ (type 1, length 8, 2.2.1.1.1) ending the
 *    TPDU. The confirm carries nothing, RDP_NEG_RSP (type 2) or
 *    RDP_NEG_FAILURE (type 3), each 8 bytes long (2.2.1.2.1, 2.2.1.2.2).
 */
#ifndef PKTSPEC_BPF_SIG_RDP_H
#define PKTSPEC_BPF_SIG_RDP_H

#include "text.h"

#define PKS_TPKT_HDR 4
#define PKS_X224_FIXED 7 /* LI, code, DST-REF, SRC-REF, class */
#define PKS_X224_CR 0xe0
#define PKS_X224_CC 0xd0
#define PKS_RDP_NEG_LEN 8

static __always_inline int pks_sig_rdp(const struct pks_payload *p, struct pks_match *m)
{
	__u32 len, rest, off = PKS_TPKT_HDR + PKS_X224_FIXED;
	__u8 code, t;

	if (p->len < off || p->b[0] != 3 || p->b[1] != 0)
		return 0;
	len = pks_be16(p, 2);
	if (len != p->total || p->b[4] != len - 5 || p->b[10] != 0)
		return 0;
	code = p->b[5];
	rest = len - off;
	t = p->b[off];

	if (code == PKS_X224_CR) {
		if (pks_be16(p, 6) != 0)
			return 0;
		if (rest == 0 ||
		    (rest >= 13 && pks_be32(p, off) == PKS_C4('C', 'o', 'o', 'k') &&
		     pks_be32(p, off + 4) == PKS_C4('i', 'e', ':', ' ') && pks_be32(p, off + 8) == PKS_C4('m', 's', 't', 's')) ||
		    (rest == PKS_RDP_NEG_LEN && t == 1 && p->b[off + 2] == PKS_RDP_NEG_LEN && p->b[off + 3] == 0)) {
			m->cookie = PKS_TA_COOKIE(PKS_P_RDP, 0);
			m->set_cookie = 1;
			return pks_match_set(m, PKS_P_RDP, PKS_R_RDP_CONNECTION_REQUEST, PKS_ROLE_CLIENT);
		}
		return 0;
	}
	if (code == PKS_X224_CC) {
		/* A bare confirm is RDP only after an RDP request (cookie). */
		if ((rest == 0 && PKS_TA_COOKIE_IS(p->cookie, PKS_P_RDP)) ||
		    (rest == PKS_RDP_NEG_LEN && (t == 2 || t == 3) && p->b[off + 2] == PKS_RDP_NEG_LEN &&
		     p->b[off + 3] == 0))
			return pks_match_set(m, PKS_P_RDP, PKS_R_RDP_CONNECTION_CONFIRM, PKS_ROLE_SERVER);
	}
	return 0;
}

#endif
